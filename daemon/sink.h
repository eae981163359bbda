// SPDX-License-Identifier: BSD-2-Clause
// crispd's sinks: small vtables, like FFmpeg's muxers. open() runs on the
// main thread before the pipeline starts; write() only ever on the sink
// thread; close() on the main thread after the threads are joined.
#ifndef CRISPD_SINK_H
#define CRISPD_SINK_H

#include <stddef.h>
#include <stdio.h>

#include "crisp/frame.h"
#include "crisp/media.h"

struct sink_params {
    int w, h;
    double fps;
    const char *pixfmt;  /* --pixfmt: yuyv or i420 (v4l2loopback), NULL = default */
    const char *sdp_out; /* --sdp-out, for the RTP sink */
    struct crisp_colorimetry color; /* of the frames: announced or tagged by every sink */
};

struct sink {
    const char *name;
    int live; /* a camera: publishes at the output rate, so the pipeline runs live */
    int (*open)(struct sink *s, const char *arg, const struct sink_params *sp, char *err,
                size_t n);
    /* < 0: the output is broken and crispd stops; a camera that nobody
     * watches, or a consumer that went away, is not an error. pts_us: the
     * frame's time from the start of the output (the input's frame times
     * offline, the clock on live pipelines) */
    int (*write)(struct sink *s, const struct crisp_frame *f, int64_t pts_us);
    int (*close)(struct sink *s);
    FILE *fp;
    struct crisp_video_writer *vw;
    struct AVMD5 *md5;
    void *priv;
};

extern const struct sink crispd_sink_null, crispd_sink_hash; /* sink_basic.c */
extern const struct sink crispd_sink_file, crispd_sink_rtp;  /* sink_av.c */
extern const struct sink crispd_sink_pipewire;   /* sink_pipewire.c, or a stub without PipeWire */
extern const struct sink crispd_sink_v4l2loopback; /* sink_v4l2loopback.c */

/* I420 (the pool's format) to the packed/semi-planar formats cameras use.
 * YUYV repeats each chroma row for two luma rows, so converting back by
 * taking the even rows gives the I420 frame bit for bit. */
void pix_i420_to_yuyv(const struct crisp_frame *f, unsigned char *dst, int dst_stride);
void pix_i420_to_nv12(const struct crisp_frame *f, unsigned char *dst, int dst_stride);
void pix_i420_pack(const struct crisp_frame *f, unsigned char *dst, int dst_stride);

#endif
