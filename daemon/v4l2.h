// SPDX-License-Identifier: BSD-2-Clause
// V4L2 capture (v4l2:/dev/videoN) for crispd's capture thread: streaming
// I/O with mmap buffers, YUYV, NV12 or MJPEG (decoded with libavcodec),
// negotiating the wanted size and rate or the nearest the device offers.
// The pipeline uses it through crispd_source_v4l2 (source.h); the helpers
// at the end are shared with the v4l2loopback sink.
#ifndef CRISPD_V4L2_H
#define CRISPD_V4L2_H

#include <stddef.h>

#include <stdint.h>

struct AVFrame;
struct v4l2_src;
struct v4l2_capability;

/* Opens, negotiates and starts streaming. Errors name the device and the
 * problem: -ENOENT (no such device), -EBUSY (another program streams from
 * it), -EACCES, -ENOTTY (not a capture device), -EINVAL (none of our pixel
 * formats). */
int v4l2_src_open(struct v4l2_src **s, const char *dev, int want_w, int want_h, double want_fps,
                  char *err, size_t n);

/* Waits up to timeout_ms for the next frame. 0: *frame points to the picture
 * (valid until v4l2_src_release); -EAGAIN: nothing yet; -EBADMSG: a corrupt
 * or short frame was skipped; -ENODEV or another error: the device is gone. */
int v4l2_src_next(struct v4l2_src *s, int timeout_ms, const struct AVFrame **frame);
void v4l2_src_release(struct v4l2_src *s);
double v4l2_src_fps(const struct v4l2_src *s);
/* "YUYV 1280x720 @ 30 fps" */
const char *v4l2_src_describe(const struct v4l2_src *s);
void v4l2_src_close(struct v4l2_src **s);

/* ioctl, retried on EINTR */
int v4l2_xioctl(int fd, unsigned long req, void *arg);
/* Opens a V4L2 node for `what` ("input v4l2", "output v4l2loopback") and
 * queries it: the fd, the card name and the node's capabilities, or -errno /
 * -ENOTTY with err set. */
int v4l2_open_node(const char *path, const char *what, struct v4l2_capability *cap,
                   uint32_t *caps, char *err, size_t n);

#endif
