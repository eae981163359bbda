// SPDX-License-Identifier: BSD-2-Clause
// V4L2 capture for crispd (v4l2.h) and the v4l2loopback sink (sink.h).
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
#include "sink.h"
#include "v4l2.h"

#define NBUF 4

static int xioctl(int fd, unsigned long req, void *arg)
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

/* Opens a V4L2 node for `what` ("input v4l2", "output v4l2loopback") and
 * queries it: the fd, the card name and the node's capabilities, or -errno /
 * -ENOTTY with err set. */
static int open_node(const char *path, const char *what, struct v4l2_capability *cap,
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
    if (xioctl(fd, VIDIOC_QUERYCAP, cap) < 0) {
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
};

/* Our formats in order of preference at equal size and rate: raw first. */
static const uint32_t FORMATS[] = {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_MJPEG};
#define NFORMATS 3

/* best frame rate the device offers for fmt at w x h, 0 if it cannot say */
static double best_rate(int fd, uint32_t fmt, int w, int h, double want)
{
    struct v4l2_frmivalenum fi = {.pixel_format = fmt, .width = (uint32_t)w, .height = (uint32_t)h};
    double best = 0;
    for (fi.index = 0; xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) == 0; fi.index++) {
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
    for (fd.index = 0; xioctl(s->fd, VIDIOC_ENUM_FMT, &fd) == 0; fd.index++) {
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
        for (fs.index = 0; xioctl(s->fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0; fs.index++) {
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
    if (xioctl(s->fd, VIDIOC_S_FMT, &f) < 0) {
        int e = errno;
        snprintf(err, n, "input v4l2:%s: %s", s->dev,
                 e == EBUSY ? "device busy (another program is streaming from it)" : strerror(e));
        return -e;
    }
    s->pixfmt = f.fmt.pix.pixelformat;
    s->w = (int)f.fmt.pix.width;
    s->h = (int)f.fmt.pix.height;
    s->bytesperline = (int)f.fmt.pix.bytesperline;
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
    if (xioctl(s->fd, VIDIOC_S_PARM, &parm) == 0 && parm.parm.capture.timeperframe.numerator &&
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
    if ((s->fd = open_node(dev, "input v4l2", &cap, &caps, err, n)) < 0) {
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
    if (xioctl(s->fd, VIDIOC_REQBUFS, &rb) < 0 || rb.count < 2) {
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
        if (xioctl(s->fd, VIDIOC_QUERYBUF, &b) < 0) {
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
        if (xioctl(s->fd, VIDIOC_QBUF, &b) < 0) {
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
    if (xioctl(s->fd, VIDIOC_STREAMON, &type) < 0) {
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
    if (xioctl(s->fd, VIDIOC_DQBUF, &b) < 0)
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
    xioctl(s->fd, VIDIOC_QBUF, &b);
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
        xioctl(s->fd, VIDIOC_STREAMOFF, &type);
    }
    for (int i = 0; i < NBUF; i++)
        if (s->buf[i].p)
            munmap(s->buf[i].p, s->buf[i].len);
    if (s->fd >= 0) {
        struct v4l2_requestbuffers rb = {.count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                         .memory = V4L2_MEMORY_MMAP};
        xioctl(s->fd, VIDIOC_REQBUFS, &rb);
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

/* ---- the v4l2loopback sink ---- */

struct loop_sink {
    int fd, streaming;
    uint32_t pixfmt;
    size_t size;
    int stride;
    unsigned char *buf;
    int64_t interval_ns;
    long short_writes, dropped;
    char dev[256];
};

static int loop_close(struct sink *sk);

static int loop_open(struct sink *sk, const char *arg, const struct sink_params *sp, char *err,
                     size_t n)
{
    struct loop_sink *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    sk->priv = s;
    snprintf(s->dev, sizeof(s->dev), "%s", arg);
    s->pixfmt = sp->pixfmt && !strcmp(sp->pixfmt, "i420") ? V4L2_PIX_FMT_YUV420 : V4L2_PIX_FMT_YUYV;
    s->stride = s->pixfmt == V4L2_PIX_FMT_YUYV ? 2 * sp->w : sp->w;
    s->size = s->pixfmt == V4L2_PIX_FMT_YUYV ? (size_t)s->stride * sp->h
                                             : (size_t)sp->w * sp->h * 3 / 2;
    s->interval_ns = (int64_t)(1e9 / (sp->fps > 0 ? sp->fps : 30));
    int ret;
    struct v4l2_capability cap;
    uint32_t caps;
    if ((s->fd = open_node(arg, "output v4l2loopback", &cap, &caps, err, n)) < 0) {
        ret = s->fd;
        goto fail;
    }
    if (!(caps & V4L2_CAP_VIDEO_OUTPUT) && !(cap.capabilities & V4L2_CAP_VIDEO_OUTPUT)) {
        ret = -ENOTTY;
        snprintf(err, n,
                 "output v4l2loopback:%s: %s is not a video output device (or another program "
                 "already writes to it)",
                 arg, (const char *)cap.card);
        goto fail;
    }
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_OUTPUT};
    f.fmt.pix.width = (uint32_t)sp->w;
    f.fmt.pix.height = (uint32_t)sp->h;
    f.fmt.pix.pixelformat = s->pixfmt;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    f.fmt.pix.bytesperline = (uint32_t)s->stride;
    f.fmt.pix.sizeimage = (uint32_t)s->size;
    f.fmt.pix.colorspace = V4L2_COLORSPACE_SMPTE170M;
    if (xioctl(s->fd, VIDIOC_S_FMT, &f) < 0) {
        ret = -errno;
        snprintf(err, n, "output v4l2loopback:%s: cannot set %s %dx%d: %s", arg,
                 s->pixfmt == V4L2_PIX_FMT_YUYV ? "YUYV" : "I420", sp->w, sp->h,
                 errno == EBUSY ? "device busy (another producer or a reader holds another format)"
                                : strerror(errno));
        goto fail;
    }
    if (f.fmt.pix.width != (uint32_t)sp->w || f.fmt.pix.height != (uint32_t)sp->h ||
        f.fmt.pix.pixelformat != s->pixfmt) {
        ret = -EINVAL;
        snprintf(err, n, "output v4l2loopback:%s: the device keeps %ux%u; crispd writes %dx%d", arg,
                 f.fmt.pix.width, f.fmt.pix.height, sp->w, sp->h);
        goto fail;
    }
    if (f.fmt.pix.sizeimage && f.fmt.pix.sizeimage != s->size)
        crisp_log(CRISP_LOG_INFO, "v4l2loopback %s: frame size %u, writing %zu", arg,
                  f.fmt.pix.sizeimage, s->size);
    struct v4l2_streamparm parm = {.type = V4L2_BUF_TYPE_VIDEO_OUTPUT};
    parm.parm.output.timeperframe.numerator = 1000;
    parm.parm.output.timeperframe.denominator = (uint32_t)((sp->fps > 0 ? sp->fps : 30) * 1000 + 0.5);
    xioctl(s->fd, VIDIOC_S_PARM, &parm); /* advisory: the rate readers see */
    if (!(s->buf = malloc(s->size))) {
        ret = -ENOMEM;
        snprintf(err, n, "out of memory");
        goto fail;
    }
    /* v4l2loopback 0.12 needs STREAMON from the producer, and STREAMOFF
     * before close, or the next producer finds the device unusable */
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    if (xioctl(s->fd, VIDIOC_STREAMON, &type) < 0) {
        ret = -errno;
        snprintf(err, n, "output v4l2loopback:%s: VIDIOC_STREAMON: %s", arg, strerror(errno));
        goto fail;
    }
    s->streaming = 1;
    return 0;
fail:
    loop_close(sk);
    return ret;
}

static int loop_write(struct sink *sk, const struct crisp_frame *f)
{
    struct loop_sink *s = sk->priv;
    if (s->pixfmt == V4L2_PIX_FMT_YUYV)
        pix_i420_to_yuyv(f, s->buf, s->stride);
    else
        pix_i420_pack(f, s->buf, s->stride);
    /* non-blocking: a partial write goes on where it stopped; a device that
     * takes nothing for a whole frame interval costs this frame, not the pipeline */
    size_t done = 0;
    int64_t give_up = crisp_now_ns() + s->interval_ns;
    while (done < s->size) {
        ssize_t w = write(s->fd, s->buf + done, s->size - done);
        if (w > 0) {
            done += (size_t)w;
            if (done < s->size)
                s->short_writes++;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN) {
            crisp_log(CRISP_LOG_ERROR, "v4l2loopback %s: write: %s", s->dev, strerror(errno));
            return -errno;
        }
        int64_t left = give_up - crisp_now_ns();
        if (left <= 0) {
            s->dropped++;
            return 0;
        }
        struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
        poll(&pfd, 1, (int)(left / 1000000) + 1);
    }
    return 0;
}

static int loop_close(struct sink *sk)
{
    struct loop_sink *s = sk->priv;
    if (!s)
        return 0;
    if (s->streaming) {
        enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
        xioctl(s->fd, VIDIOC_STREAMOFF, &type);
    }
    if (s->fd >= 0)
        close(s->fd);
    if (s->short_writes || s->dropped)
        crisp_log(CRISP_LOG_INFO, "v4l2loopback %s: %ld partial writes, %ld frames not taken",
                  s->dev, s->short_writes, s->dropped);
    free(s->buf);
    free(s);
    sk->priv = NULL;
    return 0;
}

const struct sink crispd_sink_v4l2loopback = {
    .name = "v4l2loopback",
    .live = 1,
    .open = loop_open,
    .write = loop_write,
    .close = loop_close,
};
