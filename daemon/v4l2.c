// SPDX-License-Identifier: BSD-2-Clause
// V4L2 cameras for crispd (v4l2.h): the capture source v4l2:/dev/videoN
// (source.h) and the device helpers the v4l2loopback sink shares.
//
// Runs on the capture thread (the first open on the main thread). Owns the
// device fd, its mmap buffers (one dequeued at a time, handed back by
// release) and, for MJPEG, a libavcodec decoder. Streaming I/O with YUYV,
// NV12 or MJPEG, negotiating the wanted size and rate or the nearest the
// device offers. A camera that is unplugged or whose driver resets reports
// -ENODEV; the capture thread closes it and reopens it with backoff.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

#include "crisp/frame.h"
#include "crisp/log.h"
#include "crisp/util.h"
#include "source.h"
#include "v4l2.h"

#define NBUF 4

int v4l2_xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r;
}

static const char *fourcc(uint32_t f, char buf[8])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((f >> (8 * i)) & 0xff);
        buf[i] = c >= 32 && c < 127 ? c : '?';
    }
    buf[4] = 0;
    return buf;
}

int v4l2_open_node(const char *path, const char *what, struct v4l2_capability *cap,
                   uint32_t *caps, char *err, size_t n)
{
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, n, "%s:%s: %s", what, path,
                 e == EACCES ? "permission denied (is the user in the video group?)" : strerror(e));
        return -e;
    }
    memset(cap, 0, sizeof(*cap));
    if (v4l2_xioctl(fd, VIDIOC_QUERYCAP, cap) < 0) {
        snprintf(err, n, "%s:%s: not a V4L2 device", what, path);
        close(fd);
        return -ENOTTY;
    }
    *caps = cap->capabilities & V4L2_CAP_DEVICE_CAPS ? cap->device_caps : cap->capabilities;
    return fd;
}

/* ---- capture ---- */

struct v4l2_src {
    int fd;
    char dev[256];
    uint32_t pixfmt;
    int w, h, bytesperline;
    double fps;
    struct {
        void *p;
        size_t len;
    } buf[NBUF];
    int nbuf, streaming, held; /* held: index of the dequeued buffer, or -1 */
    AVFrame *frame;            /* raw formats: points into the mmap buffer */
    AVCodecContext *mjpeg;
    AVPacket *pkt;
    char desc[96];
    struct crisp_colorimetry color; /* what the driver says of its pictures (0: nothing) */
};

/* The driver's colorspace fields as H.273 code points; 0 where it says
 * nothing (crispd then assumes by size, as players do). MJPEG is decoded
 * to full-range formats that say so themselves. */
static struct crisp_colorimetry colorimetry(const struct v4l2_pix_format *p)
{
    struct crisp_colorimetry c = {0};
    const unsigned enc = p->ycbcr_enc, cs = p->colorspace;
    if (enc == V4L2_YCBCR_ENC_709 || (enc == V4L2_YCBCR_ENC_DEFAULT && cs == V4L2_COLORSPACE_REC709))
        c.matrix = AVCOL_SPC_BT709;
    else if (enc == V4L2_YCBCR_ENC_BT2020 ||
             (enc == V4L2_YCBCR_ENC_DEFAULT && cs == V4L2_COLORSPACE_BT2020))
        c.matrix = AVCOL_SPC_BT2020_NCL;
    else if (enc == V4L2_YCBCR_ENC_601 ||
             (enc == V4L2_YCBCR_ENC_DEFAULT &&
              (cs == V4L2_COLORSPACE_SMPTE170M || cs == V4L2_COLORSPACE_470_SYSTEM_BG ||
               cs == V4L2_COLORSPACE_SRGB || cs == V4L2_COLORSPACE_JPEG)))
        c.matrix = AVCOL_SPC_SMPTE170M;
    c.primaries = cs == V4L2_COLORSPACE_REC709 || cs == V4L2_COLORSPACE_SRGB ? AVCOL_PRI_BT709
                  : cs == V4L2_COLORSPACE_SMPTE170M ? AVCOL_PRI_SMPTE170M
                  : cs == V4L2_COLORSPACE_470_SYSTEM_BG ? AVCOL_PRI_BT470BG
                  : cs == V4L2_COLORSPACE_BT2020 ? AVCOL_PRI_BT2020 : 0;
    if (p->quantization == V4L2_QUANTIZATION_FULL_RANGE)
        c.range = AVCOL_RANGE_JPEG;
    else if (p->quantization == V4L2_QUANTIZATION_LIM_RANGE)
        c.range = AVCOL_RANGE_MPEG;
    return c;
}

/* Our formats in order of preference at equal size and rate: raw first. */
static const uint32_t FORMATS[] = {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_MJPEG};
#define NFORMATS 3

/* best frame rate the device offers for fmt at w x h, 0 if it cannot say */
static double best_rate(int fd, uint32_t fmt, int w, int h, double want)
{
    struct v4l2_frmivalenum fi = {.pixel_format = fmt, .width = (uint32_t)w, .height = (uint32_t)h};
    double best = 0;
    for (fi.index = 0; v4l2_xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) == 0; fi.index++) {
        struct v4l2_fract t = fi.type == V4L2_FRMIVAL_TYPE_DISCRETE ? fi.discrete : fi.stepwise.min;
        if (!t.numerator)
            continue;
        double r = (double)t.denominator / t.numerator;
        /* the rate closest to the wanted one, preferring at least the wanted */
        if (!best || (best < want && r > best) || (r >= want && r < best))
            best = r;
        if (fi.type != V4L2_FRMIVAL_TYPE_DISCRETE)
            break;
    }
    return best;
}

struct cand {
    uint32_t fmt;
    int w, h;
    double fps, cost;
};

static void consider(int fd, struct cand *best, uint32_t fmt, int rank, int w, int h, int ww, int wh,
                     double wfps)
{
    double fps = best_rate(fd, fmt, w, h, wfps);
    double size_cost = fabs(log((double)w * h / ((double)ww * wh)));
    double fps_cost = fps > 0 && fps < wfps ? log(wfps / fps) : 0;
    double cost = size_cost * 10 + fps_cost * 4 + rank * 0.01;
    if (!best->fmt || cost < best->cost)
        *best = (struct cand){fmt, w, h, fps, cost};
}

/* Picks the format and size nearest to the wanted ones from what the device
 * enumerates; 0, or -EINVAL when it offers none of our formats. */
static int negotiate(struct v4l2_src *s, int ww, int wh, double wfps, char *err, size_t n)
{
    struct cand best = {0};
    char offered[256] = "";
    struct v4l2_fmtdesc fd = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    for (fd.index = 0; v4l2_xioctl(s->fd, VIDIOC_ENUM_FMT, &fd) == 0; fd.index++) {
        char cc[8];
        size_t l = strlen(offered);
        snprintf(offered + l, sizeof(offered) - l, "%s%s", l ? " " : "", fourcc(fd.pixelformat, cc));
        int rank = -1;
        for (int i = 0; i < NFORMATS; i++)
            if (FORMATS[i] == fd.pixelformat)
                rank = i;
        if (rank < 0)
            continue;
        struct v4l2_frmsizeenum fs = {.pixel_format = fd.pixelformat};
        int any = 0;
        for (fs.index = 0; v4l2_xioctl(s->fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0; fs.index++) {
            any = 1;
            if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
                consider(s->fd, &best, fd.pixelformat, rank, (int)fs.discrete.width,
                         (int)fs.discrete.height, ww, wh, wfps);
            } else { /* stepwise or continuous: the wanted size, clamped and aligned */
                struct v4l2_frmsize_stepwise *st = &fs.stepwise;
                int w = ww, h = wh;
                w = w < (int)st->min_width ? (int)st->min_width : w > (int)st->max_width ? (int)st->max_width : w;
                h = h < (int)st->min_height ? (int)st->min_height : h > (int)st->max_height ? (int)st->max_height : h;
                if (st->step_width > 1)
                    w -= (w - (int)st->min_width) % (int)st->step_width;
                if (st->step_height > 1)
                    h -= (h - (int)st->min_height) % (int)st->step_height;
                consider(s->fd, &best, fd.pixelformat, rank, w, h, ww, wh, wfps);
                break;
            }
        }
        if (!any) /* the driver does not enumerate sizes: ask for the wanted one */
            consider(s->fd, &best, fd.pixelformat, rank, ww, wh, ww, wh, wfps);
    }
    if (!best.fmt) {
        snprintf(err, n, "input v4l2:%s: offers none of YUYV, NV12, MJPEG (it has: %s)", s->dev,
                 *offered ? offered : "no formats");
        return -EINVAL;
    }
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    f.fmt.pix.width = (uint32_t)best.w;
    f.fmt.pix.height = (uint32_t)best.h;
    f.fmt.pix.pixelformat = best.fmt;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    if (v4l2_xioctl(s->fd, VIDIOC_S_FMT, &f) < 0) {
        int e = errno;
        snprintf(err, n, "input v4l2:%s: %s", s->dev,
                 e == EBUSY ? "device busy (another program is streaming from it)" : strerror(e));
        return -e;
    }
    s->pixfmt = f.fmt.pix.pixelformat;
    s->w = (int)f.fmt.pix.width;
    s->h = (int)f.fmt.pix.height;
    s->bytesperline = (int)f.fmt.pix.bytesperline;
    s->color = colorimetry(&f.fmt.pix);
    int known = 0;
    for (int i = 0; i < NFORMATS; i++)
        known |= FORMATS[i] == s->pixfmt;
    if (!known || s->w < 2 || s->h < 2 || s->w > 16384 || s->h > 16384) {
        char cc[8];
        snprintf(err, n, "input v4l2:%s: the driver chose %s %dx%d, which crispd cannot read", s->dev,
                 fourcc(s->pixfmt, cc), s->w, s->h);
        return -EINVAL;
    }
    if (s->pixfmt == V4L2_PIX_FMT_YUYV && s->bytesperline < 2 * s->w)
        s->bytesperline = 2 * s->w;
    if (s->pixfmt == V4L2_PIX_FMT_NV12 && s->bytesperline < s->w)
        s->bytesperline = s->w;
    struct v4l2_streamparm parm = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    double rate = best.fps > 0 ? best.fps : wfps;
    parm.parm.capture.timeperframe.numerator = 1000;
    parm.parm.capture.timeperframe.denominator = (uint32_t)(rate * 1000 + 0.5);
    s->fps = rate;
    if (v4l2_xioctl(s->fd, VIDIOC_S_PARM, &parm) == 0 && parm.parm.capture.timeperframe.numerator &&
        parm.parm.capture.timeperframe.denominator)
        s->fps = (double)parm.parm.capture.timeperframe.denominator /
                 parm.parm.capture.timeperframe.numerator;
    char cc[8];
    snprintf(s->desc, sizeof(s->desc), "%s %dx%d @ %.3g fps", fourcc(s->pixfmt, cc), s->w, s->h,
             s->fps);
    return 0;
}

int v4l2_src_open(struct v4l2_src **out, const char *dev, int want_w, int want_h, double want_fps,
                  char *err, size_t n)
{
    *out = NULL;
    struct v4l2_src *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    s->fd = -1;
    s->held = -1;
    snprintf(s->dev, sizeof(s->dev), "%s", dev);
    int ret;
    struct v4l2_capability cap;
    uint32_t caps;
    if ((s->fd = v4l2_open_node(dev, "input v4l2", &cap, &caps, err, n)) < 0) {
        ret = s->fd;
        goto fail;
    }
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
        ret = -ENOTTY;
        snprintf(err, n, "input v4l2:%s: %s is not a streaming video capture device", dev,
                 (const char *)cap.card);
        goto fail;
    }
    if (want_fps <= 0)
        want_fps = 30;
    if ((ret = negotiate(s, want_w, want_h, want_fps, err, n)) < 0)
        goto fail;
    struct v4l2_requestbuffers rb = {.count = NBUF, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                     .memory = V4L2_MEMORY_MMAP};
    if (v4l2_xioctl(s->fd, VIDIOC_REQBUFS, &rb) < 0 || rb.count < 2) {
        ret = rb.count < 2 && errno != EBUSY ? -ENOMEM : -errno;
        snprintf(err, n, "input v4l2:%s: %s", dev,
                 errno == EBUSY ? "device busy (another program is streaming from it)"
                                : "cannot get streaming buffers");
        goto fail;
    }
    s->nbuf = rb.count > NBUF ? NBUF : (int)rb.count;
    for (int i = 0; i < s->nbuf; i++) {
        struct v4l2_buffer b = {.index = (uint32_t)i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                .memory = V4L2_MEMORY_MMAP};
        if (v4l2_xioctl(s->fd, VIDIOC_QUERYBUF, &b) < 0) {
            ret = -errno;
            snprintf(err, n, "input v4l2:%s: VIDIOC_QUERYBUF: %s", dev, strerror(errno));
            goto fail;
        }
        s->buf[i].len = b.length;
        s->buf[i].p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, b.m.offset);
        if (s->buf[i].p == MAP_FAILED) {
            s->buf[i].p = NULL;
            ret = -errno;
            snprintf(err, n, "input v4l2:%s: mmap: %s", dev, strerror(errno));
            goto fail;
        }
        if (v4l2_xioctl(s->fd, VIDIOC_QBUF, &b) < 0) {
            ret = -errno;
            snprintf(err, n, "input v4l2:%s: VIDIOC_QBUF: %s", dev, strerror(errno));
            goto fail;
        }
    }
    if (!(s->frame = av_frame_alloc()) || !(s->pkt = av_packet_alloc())) {
        ret = -ENOMEM;
        snprintf(err, n, "out of memory");
        goto fail;
    }
    if (s->pixfmt == V4L2_PIX_FMT_MJPEG) {
        const AVCodec *c = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
        if (!c || !(s->mjpeg = avcodec_alloc_context3(c)) || avcodec_open2(s->mjpeg, c, NULL) < 0) {
            ret = -ENOSYS;
            snprintf(err, n, "input v4l2:%s: no MJPEG decoder in libavcodec", dev);
            goto fail;
        }
    }
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (v4l2_xioctl(s->fd, VIDIOC_STREAMON, &type) < 0) {
        ret = -errno;
        snprintf(err, n, "input v4l2:%s: VIDIOC_STREAMON: %s", dev,
                 errno == EBUSY ? "device busy" : strerror(errno));
        goto fail;
    }
    s->streaming = 1;
    *out = s;
    return 0;
fail:
    v4l2_src_close(&s);
    return ret;
}

int v4l2_src_next(struct v4l2_src *s, int timeout_ms, const struct AVFrame **frame)
{
    v4l2_src_release(s);
    struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0)
        return errno == EINTR ? -EAGAIN : -errno;
    if (r == 0)
        return -EAGAIN;
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL) && !(pfd.revents & POLLIN))
        return -ENODEV;
    struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    if (v4l2_xioctl(s->fd, VIDIOC_DQBUF, &b) < 0)
        return errno == EAGAIN ? -EAGAIN : errno == EIO ? -EBADMSG : -ENODEV;
    if (b.index >= (uint32_t)s->nbuf)
        return -EBADMSG;
    s->held = (int)b.index;
    uint8_t *p = s->buf[b.index].p;
    size_t used = b.bytesused ? b.bytesused : s->buf[b.index].len;
    if (b.flags & V4L2_BUF_FLAG_ERROR)
        return -EBADMSG;
    AVFrame *f = s->frame;
    if (s->pixfmt == V4L2_PIX_FMT_MJPEG) {
        av_frame_unref(f);
        s->pkt->data = p;
        s->pkt->size = (int)used;
        if (avcodec_send_packet(s->mjpeg, s->pkt) < 0 || avcodec_receive_frame(s->mjpeg, f) < 0 ||
            f->width != s->w || f->height != s->h)
            return -EBADMSG;
    } else {
        size_t need = s->pixfmt == V4L2_PIX_FMT_YUYV ? (size_t)s->bytesperline * s->h
                                                     : (size_t)s->bytesperline * s->h * 3 / 2;
        if (used < need)
            return -EBADMSG; /* a short frame: the driver dropped data */
        f->width = s->w;
        f->height = s->h;
        f->data[0] = p;
        f->linesize[0] = s->bytesperline;
        if (s->pixfmt == V4L2_PIX_FMT_YUYV) {
            f->format = AV_PIX_FMT_YUYV422;
            f->data[1] = NULL;
            f->linesize[1] = 0;
        } else {
            f->format = AV_PIX_FMT_NV12;
            f->data[1] = p + (size_t)s->bytesperline * s->h;
            f->linesize[1] = s->bytesperline;
        }
        f->data[2] = NULL;
        f->linesize[2] = 0;
    }
    f->best_effort_timestamp =
        (int64_t)b.timestamp.tv_sec * 1000000 + b.timestamp.tv_usec; /* microseconds */
    *frame = f;
    return 0;
}

void v4l2_src_release(struct v4l2_src *s)
{
    if (!s || s->held < 0)
        return;
    struct v4l2_buffer b = {.index = (uint32_t)s->held, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                            .memory = V4L2_MEMORY_MMAP};
    v4l2_xioctl(s->fd, VIDIOC_QBUF, &b);
    s->held = -1;
}

double v4l2_src_fps(const struct v4l2_src *s) { return s->fps; }
const char *v4l2_src_describe(const struct v4l2_src *s) { return s->desc; }

void v4l2_src_close(struct v4l2_src **sp)
{
    struct v4l2_src *s = *sp;
    if (!s)
        return;
    if (s->streaming) {
        enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        v4l2_xioctl(s->fd, VIDIOC_STREAMOFF, &type);
    }
    for (int i = 0; i < NBUF; i++)
        if (s->buf[i].p)
            munmap(s->buf[i].p, s->buf[i].len);
    if (s->fd >= 0) {
        struct v4l2_requestbuffers rb = {.count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                         .memory = V4L2_MEMORY_MMAP};
        v4l2_xioctl(s->fd, VIDIOC_REQBUFS, &rb);
        close(s->fd);
    }
    if (s->frame && s->pixfmt != V4L2_PIX_FMT_MJPEG)
        memset(s->frame->data, 0, sizeof(s->frame->data)); /* not ours to free */
    av_frame_free(&s->frame);
    if (s->pkt) {
        s->pkt->data = NULL;
        s->pkt->size = 0;
    }
    av_packet_free(&s->pkt);
    avcodec_free_context(&s->mjpeg);
    free(s);
    *sp = NULL;
}

/* ---- the source vtable (source.h) ---- */

static int src_open(struct source *s, char *err, size_t n)
{
    struct v4l2_src *v = NULL;
    const struct source_params *sp = &s->params;
    int r = v4l2_src_open(&v, sp->arg, sp->w, sp->h, sp->fps ? sp->fps : 30, err, n);
    s->priv = v;
    s->fps = r < 0 ? 0 : v->fps;
    s->desc = r < 0 ? NULL : v->desc;
    s->w = r < 0 ? 0 : v->w;
    s->h = r < 0 ? 0 : v->h;
    s->color = r < 0 ? (struct crisp_colorimetry){0} : v->color;
    return r;
}

static int src_next(struct source *s, struct source_frame *out)
{
    const AVFrame *fr = NULL;
    int r = v4l2_src_next(s->priv, 100, &fr);
    if (r == -EAGAIN || r == -EBADMSG)
        return r;
    if (r < 0)
        return -ENODEV;
    out->frame = fr;
    out->pts_us = fr->best_effort_timestamp; /* already microseconds */
    out->decode_ns = 0;
    return 0;
}

static void src_release(struct source *s) { v4l2_src_release(s->priv); }

static void src_close(struct source *s)
{
    struct v4l2_src *v = s->priv;
    v4l2_src_close(&v);
    s->priv = NULL;
}

const struct source crispd_source_v4l2 = {.name = "v4l2", .live = 1, .open = src_open,
                                          .next = src_next, .release = src_release,
                                          .close = src_close};
