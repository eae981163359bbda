// SPDX-License-Identifier: BSD-2-Clause
// The FFmpeg source (source.h): files, sdp:FILE, rtp://, udp:// and any URL
// libavformat opens, decoded with libavcodec on one thread.
//
// Runs on the capture thread (its first open on the main thread). Owns the
// demuxer, the decoder, one packet and one frame. Network sources (live)
// open with low-latency settings and a 2 s deadline; a read that waits
// longer than 0.1 s gives up (-EAGAIN: the capture thread counts a stall
// after 1 s of nothing) with the socket kept bound, so a sender that comes
// back is picked up at its next keyframe; a
// read error on a live source drains the decoder and then reports the
// source gone (-ENODEV), and the capture thread reopens it. A file read with
// --realtime is paced at its stream's rate.
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/base64.h>

#include "crisp/error.h"
#include "crisp/frame.h"
#include "crisp/util.h"
#include "source.h"

struct ff_src {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *fr;
    int stream;
    AVRational tb;
    int eof, lost;
    /* pictures that failed to decode, and what follows them: a picture is
     * shown only after a clean keyframe (key_w, key_h: its size; 0 before)
     * and SUSPECT_RUN clean pictures after an error (see suspect()) */
    int taint, key_w, key_h;
    int64_t t0, pts0; /* pacing: the first frame's clock and timestamp */
    int64_t dec_ns;   /* decoding time since the last frame handed out */
    _Atomic int64_t deadline_ns; /* blocking FFmpeg calls give up after it (0: never) */
    atomic_int *stop;
};

static int interrupt_cb(void *opaque)
{
    struct ff_src *f = opaque;
    int64_t d = atomic_load(&f->deadline_ns);
    return atomic_load(f->stop) || (d && crisp_now_ns() > d);
}

/* Live sources: whether a decoded picture must not be shown. Not until the
 * stream has given a keyframe that decoded cleanly, at its start and after
 * a change of picture size (encoders change size only at an IDR); not when
 * the decoder reported errors in it (concealment, missing references,
 * invalid bitstream); and not until SUSPECT_RUN clean pictures followed a
 * picture with errors. Pictures smaller than 64 pixels a side or wider
 * than 4:1 count as errors. Garbage that passes as H.264 decodes into pictures
 * with errors or random sizes, and now and then into a clean-looking one
 * (a slice that skips every macroblock copies the last, concealed picture):
 * without a clean keyframe none of it is painted; it is counted as corrupt
 * and the sink repeats the last good frame meanwhile. A real stream starts
 * at its first keyframe, as players do, and loses SUSPECT_RUN pictures
 * after each loss the decoder had to conceal. Files are shown as decoded. */
#define SUSPECT_RUN 3
static int suspect(struct ff_src *f, const AVFrame *fr)
{
    /* no call sends pictures under 64 pixels a side or wider than 4:1;
     * random parameter sets decode cleanly mostly at such sizes */
    const int odd = fr->width < 64 || fr->height < 64 || fr->width > 4 * fr->height ||
                    fr->height > 4 * fr->width;
    if (odd || fr->decode_error_flags || (fr->flags & AV_FRAME_FLAG_CORRUPT)) {
        f->taint = SUSPECT_RUN;
        return 1;
    }
    if (fr->key_frame) { /* a clean keyframe: the stream (re)starts, at its size */
        f->key_w = fr->width;
        f->key_h = fr->height;
    } else if (fr->width != f->key_w || fr->height != f->key_h) {
        f->key_w = f->key_h = 0; /* a new size without a keyframe: wait for one */
        return 1;
    }
    if (!f->key_w)
        return 1;
    if (f->taint > 0) {
        f->taint--;
        return 1;
    }
    return 0;
}

static void ff_close(struct source *s)
{
    struct ff_src *f = s->priv;
    if (!f)
        return;
    avcodec_free_context(&f->dec);
    avformat_close_input(&f->fmt);
    av_frame_free(&f->fr);
    av_packet_free(&f->pkt);
    free(f);
    s->priv = NULL;
}

/* the demuxer's and decoder's options: low latency for network sources */
static AVDictionary *open_options(const struct source *s, struct ff_src *f)
{
    AVDictionary *opt = NULL;
    if (!strncmp(s->params.uri, "sdp:", 4))
        av_dict_set(&opt, "protocol_whitelist", "file,udp,rtp,data", 0);
    if (s->live) {
        /* small probe, codec parameters from the SDP; the packets probed are
         * kept ("nobuffer" dropped them, and with them a sender's first
         * keyframe: a second of picture lost at every start) */
        av_dict_set(&opt, "probesize", "32768", 0);
        av_dict_set(&opt, "analyzeduration", "0", 0);
        av_dict_set_int(&opt, "reorder_queue_size", s->params.reorder, 0);
        atomic_store(&f->deadline_ns, crisp_now_ns() + 2000000000LL);
    }
    return opt;
}

static int open_decoder(struct ff_src *f)
{
    const AVCodec *codec = NULL;
    int ret = av_find_best_stream(f->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (ret < 0)
        return ret;
    f->stream = ret;
    if (!(f->dec = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    if ((ret = avcodec_parameters_to_context(f->dec, f->fmt->streams[f->stream]->codecpar)) < 0)
        return ret;
    f->dec->thread_count = 1; /* leave the cores to inference; no frame-threading delay */
    f->dec->flags |= AV_CODEC_FLAG_LOW_DELAY;
    return avcodec_open2(f->dec, codec, NULL);
}

/* Returns 0, -ENOENT, -EAGAIN (timed out: worth retrying) or CRISP_EAV. */
static int ff_open(struct source *s, char *err, size_t n)
{
    const char *url = s->params.uri;
    s->fps = 0;
    s->desc = NULL;
    s->w = s->h = 0;
    s->color = (struct crisp_colorimetry){0};
    if (!strncmp(url, "file:", 5))
        url += 5;
    char *data_url = NULL; /* the RTP gate's SDP as a data: URL */
    const AVInputFormat *ifmt = NULL;
    if (!strncmp(url, "sdp:", 4)) {
        url += 4;
        if (s->params.sdp) {
            const size_t len = strlen(s->params.sdp), pre = 29;
            if (!(data_url = malloc(pre + AV_BASE64_SIZE(len)))) {
                snprintf(err, n, "input %s: out of memory", s->params.uri);
                return -ENOMEM;
            }
            memcpy(data_url, "data:application/sdp;base64,", pre);
            av_base64_encode(data_url + pre - 1, AV_BASE64_SIZE(len), (const uint8_t *)s->params.sdp,
                             (int)len);
            url = data_url;
            ifmt = av_find_input_format("sdp");
        } else if (access(url, R_OK) < 0) {
            snprintf(err, n, "input %s: %s", s->params.uri, strerror(errno));
            return -errno;
        }
    }
    struct ff_src *f = calloc(1, sizeof(*f));
    if (!f) {
        free(data_url);
        snprintf(err, n, "input %s: out of memory", s->params.uri);
        return -ENOMEM;
    }
    s->priv = f;
    f->stop = s->params.stop;
    f->pts0 = AV_NOPTS_VALUE;
    f->taint = SUSPECT_RUN;
    AVDictionary *opt = open_options(s, f);
    int ret = AVERROR(ENOMEM);
    if (!(f->pkt = av_packet_alloc()) || !(f->fr = av_frame_alloc()) ||
        !(f->fmt = avformat_alloc_context()))
        goto fail;
    f->fmt->interrupt_callback = (AVIOInterruptCB){interrupt_cb, f};
    ret = avformat_open_input(&f->fmt, url, ifmt, &opt);
    free(data_url);
    data_url = NULL;
    if (ret < 0 ||
        (ret = avformat_find_stream_info(f->fmt, NULL)) < 0 || (ret = open_decoder(f)) < 0)
        goto fail;
    const AVCodecParameters *cp = f->fmt->streams[f->stream]->codecpar;
    s->w = cp->width;
    s->h = cp->height;
    s->color = (struct crisp_colorimetry){cp->color_space, cp->color_primaries, cp->color_trc,
                                          cp->color_range};
    AVRational r = f->fmt->streams[f->stream]->avg_frame_rate;
    s->fps = r.num && r.den ? av_q2d(r) : 30.0;
    f->tb = f->fmt->streams[f->stream]->time_base;
    atomic_store(&f->deadline_ns, 0);
    av_dict_free(&opt);
    return 0;
fail:;
    free(data_url);
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(ret, buf, sizeof(buf));
    int timed_out = ret == AVERROR_EXIT && !atomic_load(f->stop);
    snprintf(err, n, "input %s: %s", s->params.uri, timed_out ? "no data (timed out)" : buf);
    av_dict_free(&opt);
    ff_close(s);
    return ret == AVERROR(ENOENT) ? -ENOENT : timed_out ? -EAGAIN : CRISP_EAV;
}

/* --realtime on a file: sleep until the frame's time on the stream's clock */
static void pace(struct ff_src *f, int64_t pts)
{
    if (pts == AV_NOPTS_VALUE)
        return;
    if (f->pts0 == AV_NOPTS_VALUE) {
        f->pts0 = pts;
        f->t0 = crisp_now_ns();
    }
    int64_t due = f->t0 + av_rescale_q(pts - f->pts0, f->tb, (AVRational){1, 1000000000});
    int64_t now = crisp_now_ns();
    if (due > now && due - now < 2000000000LL) {
        struct timespec ts = {(due - now) / 1000000000, (due - now) % 1000000000};
        nanosleep(&ts, NULL);
    }
}

/* one packet into the decoder; -EAGAIN: a live source had nothing for
 * LIVE_WAIT_NS. The wait is short on purpose: libavformat's parser holds a
 * picture until the next one starts and hands it out when a read gives up,
 * so a sender's last picture comes LIVE_WAIT_NS after it, not a second
 * later (which also held "no signal" back by a second). */
#define LIVE_WAIT_NS 100000000LL
static int feed(struct source *s, struct ff_src *f)
{
    if (s->live) /* a stalled sender must not block us */
        atomic_store(&f->deadline_ns, crisp_now_ns() + LIVE_WAIT_NS);
    int ret = av_read_frame(f->fmt, f->pkt);
    atomic_store(&f->deadline_ns, 0);
    if (ret == AVERROR_EXIT && s->live && !atomic_load(f->stop))
        return -EAGAIN;
    if (ret < 0) {
        f->eof = 1;
        f->lost = s->live;
        avcodec_send_packet(f->dec, NULL);
        return 0;
    }
    if (f->pkt->stream_index == f->stream) {
        int64_t td = crisp_now_ns();
        avcodec_send_packet(f->dec, f->pkt); /* corrupt data: the decoder skips it */
        f->dec_ns += crisp_now_ns() - td;
    }
    av_packet_unref(f->pkt);
    return 0;
}

static int ff_next(struct source *s, struct source_frame *out)
{
    struct ff_src *f = s->priv;
    while (!atomic_load(f->stop)) {
        int64_t td = crisp_now_ns();
        int ret = avcodec_receive_frame(f->dec, f->fr);
        f->dec_ns += crisp_now_ns() - td;
        if (ret == AVERROR(EAGAIN) && !f->eof) {
            if (feed(s, f) < 0)
                return -EAGAIN; /* the capture thread counts a stall after 1 s of these */
            continue;
        }
        if (ret < 0) /* end of stream, or the source is gone */
            return f->lost ? -ENODEV : -ENODATA;
        if (s->live && suspect(f, f->fr)) {
            av_frame_unref(f->fr);
            return -EBADMSG;
        }
        int64_t pts = f->fr->best_effort_timestamp;
        if (s->params.realtime && !s->live)
            pace(f, pts);
        out->frame = f->fr;
        out->pts_us = pts == AV_NOPTS_VALUE ? -1 : av_rescale_q(pts, f->tb, (AVRational){1, 1000000});
        out->decode_ns = f->dec_ns;
        f->dec_ns = 0;
        return 0;
    }
    return -ENODATA;
}

static void ff_release(struct source *s)
{
    struct ff_src *f = s->priv;
    av_frame_unref(f->fr);
}

const struct source crispd_source_ffmpeg = {
    .name = "ffmpeg", .open = ff_open, .next = ff_next, .release = ff_release, .close = ff_close};
