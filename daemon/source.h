// SPDX-License-Identifier: BSD-2-Clause
// crispd's sources: small vtables, like the sinks (sink.h). A source hands
// the capture thread decoded pictures; the capture thread (pipeline.c)
// converts them into pool frames and owns the policy around them: it counts
// stalls, corrupt frames and losses, and reopens a live source with backoff.
//
// Threads: open() runs once on the main thread before the pipeline starts
// and again on the capture thread to reopen a live source; next() and
// release() only on the capture thread; close() on the capture thread (a
// lost source) and on the main thread after the threads are joined.
#ifndef CRISPD_SOURCE_H
#define CRISPD_SOURCE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "crisp/media.h"

struct AVFrame;

struct source_params {
    const char *uri; /* --input as given, for messages */
    const char *arg; /* what follows the scheme (v4l2:/dev/video0 -> /dev/video0) */
    int w, h;        /* wanted size: cameras negotiate it, decoders are scaled to the pool */
    double fps;      /* wanted rate (cameras); 0: the source's own */
    int realtime;    /* --realtime on a file: decoded frames are paced at the stream's rate */
    int reorder;     /* RTP reorder queue in packets */
    atomic_int *stop; /* set when crispd stops: blocking calls give up */
    const char *sdp;  /* sdp: inputs: the RTP gate's SDP (rtp_gate.h), opened instead of the file */
};

struct source_frame {
    const struct AVFrame *frame; /* valid until release() */
    int64_t pts_us;              /* microseconds, or -1 */
    int64_t decode_ns;           /* time spent decoding since the previous frame */
};

struct source {
    const char *name;
    /* 1: a live source that is reopened with backoff when it vanishes */
    int live;
    /* 0; -EAGAIN: nothing there yet (timed out), worth retrying while the
     * sink publishes "no signal"; other < 0: err names the input and the
     * problem. Sets fps (0 when unknown) and desc (or NULL). */
    int (*open)(struct source *s, char *err, size_t n);
    /* 0: a picture in *out; -EAGAIN: nothing yet (the capture thread counts
     * a stall after 1 s of these, in source_stalls); -EBADMSG: a corrupt frame was
     * skipped; -ENODEV: the source is gone (closed and reopened when live);
     * -ENODATA: end of the stream. */
    int (*next)(struct source *s, struct source_frame *out);
    void (*release)(struct source *s);
    /* safe to call on a closed source */
    void (*close)(struct source *s);
    struct source_params params;
    double fps;       /* set by open() */
    /* set by open() where the stream says (0 where it does not): the
     * picture size and colorimetry of the stream */
    int w, h;
    struct crisp_colorimetry color;
    const char *desc; /* set by open(): "YUYV 1280x720 @ 30 fps", or NULL */
    void *priv;       /* non-NULL while open */
};

extern const struct source crispd_source_ffmpeg; /* source_ffmpeg.c: files, sdp:, rtp://, any URL */
extern const struct source crispd_source_v4l2;   /* v4l2.c: v4l2:/dev/videoN */

#endif
