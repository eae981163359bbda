// SPDX-License-Identifier: BSD-2-Clause
// Sink v4l2loopback:/dev/videoN (sink.h): a virtual webcam that Zoom, Meet,
// OBS and browsers open like a camera (docs/desktop.md).
//
// open() and close() run on the main thread, write() on the sink thread.
// Owns the device fd and one packed frame buffer. The producer sets the
// format (YUYV or I420 at the pool's size), starts streaming, and writes
// whole frames without blocking: a device that takes nothing for a whole
// frame interval costs that frame (counted, logged at close), never the
// pipeline.
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/pixfmt.h>
#include <linux/videodev2.h>

#include "crisp/frame.h"
#include "crisp/log.h"
#include "crisp/util.h"
#include "sink.h"
#include "v4l2.h"

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
    if ((s->fd = v4l2_open_node(arg, "output v4l2loopback", &cap, &caps, err, n)) < 0) {
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
    /* the frames' colorimetry (limited range; the 601/709/2020 transfer is 709's) */
    const int m = sp->color.matrix;
    f.fmt.pix.colorspace = m == AVCOL_SPC_BT709        ? V4L2_COLORSPACE_REC709
                           : m == AVCOL_SPC_BT2020_NCL ? V4L2_COLORSPACE_BT2020
                           : m == AVCOL_SPC_BT470BG    ? V4L2_COLORSPACE_470_SYSTEM_BG
                                                       : V4L2_COLORSPACE_SMPTE170M;
    f.fmt.pix.ycbcr_enc = m == AVCOL_SPC_BT709        ? V4L2_YCBCR_ENC_709
                          : m == AVCOL_SPC_BT2020_NCL ? V4L2_YCBCR_ENC_BT2020
                                                      : V4L2_YCBCR_ENC_601;
    f.fmt.pix.quantization = sp->color.range == AVCOL_RANGE_JPEG ? V4L2_QUANTIZATION_FULL_RANGE
                                                                 : V4L2_QUANTIZATION_LIM_RANGE;
    f.fmt.pix.xfer_func = V4L2_XFER_FUNC_709;
    /* without the magic the kernel zeroes the fields after `priv`; and
     * v4l2loopback 0.12 sets colorspace to sRGB whatever we say, so the
     * matrix reaches readers through ycbcr_enc */
    f.fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
    if (v4l2_xioctl(s->fd, VIDIOC_S_FMT, &f) < 0) {
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
    v4l2_xioctl(s->fd, VIDIOC_S_PARM, &parm); /* advisory: the rate readers see */
    if (!(s->buf = malloc(s->size))) {
        ret = -ENOMEM;
        snprintf(err, n, "out of memory");
        goto fail;
    }
    /* v4l2loopback 0.12 needs STREAMON from the producer, and STREAMOFF
     * before close, or the next producer finds the device unusable */
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    if (v4l2_xioctl(s->fd, VIDIOC_STREAMON, &type) < 0) {
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

static int loop_write(struct sink *sk, const struct crisp_frame *f, int64_t pts_us)
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
        v4l2_xioctl(s->fd, VIDIOC_STREAMOFF, &type);
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
