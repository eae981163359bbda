// SPDX-License-Identifier: BSD-2-Clause
// Sinks file:PATH and rtp://ADDR:PORT (sink.h): H.264 through libavcodec
// and libavformat (crisp_video_writer, lib/media), into a container chosen
// by the file's extension, or as an RTP stream with its SDP written to
// --sdp-out.
//
// open() and close() run on the main thread, write() on the sink thread.
// Owns the video writer (encoder, muxer and their frames).
#include <string.h>

#include "crisp/error.h"
#include "crisp/media.h"
#include "crisp/util.h"
#include "sink.h"

static int file_open(struct sink *s, const char *a, const struct sink_params *sp, char *e, size_t n)
{
    struct crisp_video_writer_params p = {.width = sp->w, .height = sp->h, .fps = sp->fps, .crf = 20,
                                          .color = sp->color};
    return crisp_video_writer_open(&s->vw, a, &p, e, n);
}

static int rtp_open(struct sink *s, const char *a, const struct sink_params *sp, char *e, size_t n)
{
    const char *sdp_out = sp->sdp_out;
    char url[1024];
    snprintf(url, sizeof(url), "rtp:%s", a); /* the sink's argument is //ADDR:PORT */
    struct crisp_video_writer_params p = {.width = sp->w, .height = sp->h, .fps = sp->fps, .crf = 23,
                                          .format = "rtp", .live = 1, .color = sp->color};
    int ret = crisp_video_writer_open(&s->vw, url, &p, e, n);
    if (ret < 0 || !sdp_out)
        return ret;
    char sdp[4096];
    if ((ret = crisp_video_writer_sdp(s->vw, sdp, sizeof(sdp))) < 0 ||
        (ret = crisp_file_write(sdp_out, sdp, strlen(sdp))) < 0) {
        snprintf(e, n, "--sdp-out %s: %s", sdp_out, crisp_strerror(ret));
        crisp_video_writer_close(&s->vw);
        return ret;
    }
    return 0;
}

static int file_write(struct sink *s, const struct crisp_frame *f, int64_t pts_us)
{
    const uint8_t *planes[3] = {f->data[0], f->data[1], f->data[2]};
    return crisp_video_write_yuv(s->vw, planes, f->stride, pts_us);
}

static int file_close(struct sink *s) { return crisp_video_writer_close(&s->vw); }

const struct sink crispd_sink_file = {
    .name = "file", .open = file_open, .write = file_write, .close = file_close};
const struct sink crispd_sink_rtp = {
    .name = "rtp", .open = rtp_open, .write = file_write, .close = file_close};
