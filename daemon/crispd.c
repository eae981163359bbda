// SPDX-License-Identifier: BSD-2-Clause
// crispd: capture -> sharpen -> sink, three threads joined by SPSC rings of
// frame-pool indices (docs/architecture.md has the thread plan).
//
// Live sources (--realtime) never block: capture drops a frame when no pool
// frame is free, inference and the sink take the newest frame and hand stale
// ones back, counting each drop. Offline runs (a file read as fast as
// possible) apply back-pressure instead, so every frame is processed.
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libavutil/md5.h>
#include <libswscale/swscale.h>

#include "crisp/config.h"
#include "crisp/engine.h"
#include "crisp/frame.h"
#include "crisp/log.h"
#include "crisp/media.h"
#include "crisp/model.h"
#include "crisp/ring.h"
#include "crisp/util.h"
#include "notify.h"
#include "sink.h"
#include "v4l2.h"

#define POOL 8
#define DEFAULT_CONFIG "/etc/crisp/crispd.conf"
#define SAMPLES 65536

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

#define fail crisp_fail

struct opts {
    const char *input, *output, *model, *stats_json, *sdp_out, *pixfmt, *precision;
    int w, h, bypass, realtime, threads, verbose, reorder;
    long frames;
    float strength;
    double fps, no_signal_s;
    int live_source; /* rtp://, sdp: — reopened with backoff when they stall */
    const char *v4l2_dev; /* v4l2:/dev/videoN — live, reopened with backoff when it vanishes */
};

/* ---- sinks (sink.h) ---- */

static int null_open(struct sink *s, const char *a, const struct sink_params *sp, char *e, size_t n)
{
    return 0;
}
static int null_write(struct sink *s, const struct crisp_frame *f) { return 0; }
static int null_close(struct sink *s) { return 0; }

static int hash_open(struct sink *s, const char *a, const struct sink_params *sp, char *e, size_t n)
{
    s->fp = fopen(a, "w");
    s->md5 = av_md5_alloc();
    if (!s->fp || !s->md5) {
        snprintf(e, n, "%s: %s", a, strerror(errno));
        if (s->fp)
            fclose(s->fp);
        s->fp = NULL;
        av_free(s->md5);
        s->md5 = NULL;
        return -errno;
    }
    return 0;
}

/* MD5 of the packed planes: the same digest ffmpeg's framemd5 muxer prints
 * for rawvideo yuv420p, so tests can compare with the ffmpeg CLI */
static int hash_write(struct sink *s, const struct crisp_frame *f)
{
    uint8_t d[16];
    av_md5_init(s->md5);
    for (int p = 0; p < 3; p++) {
        int pw = p ? f->w / 2 : f->w, ph = p ? f->h / 2 : f->h;
        for (int y = 0; y < ph; y++)
            av_md5_update(s->md5, f->data[p] + (size_t)y * f->stride[p], pw);
    }
    av_md5_final(s->md5, d);
    for (int i = 0; i < 16; i++)
        fprintf(s->fp, "%02x", d[i]);
    return fputc('\n', s->fp) == EOF ? -EIO : 0;
}

static int hash_close(struct sink *s)
{
    av_free(s->md5);
    int r = s->fp && fclose(s->fp) != 0 ? -errno : 0;
    s->fp = NULL;
    return r;
}

static int file_open(struct sink *s, const char *a, const struct sink_params *sp, char *e, size_t n)
{
    struct crisp_video_writer_params p = {.width = sp->w, .height = sp->h, .fps = sp->fps, .crf = 20};
    return crisp_video_writer_open(&s->vw, a, &p, e, n);
}

static int rtp_open(struct sink *s, const char *a, const struct sink_params *sp, char *e, size_t n)
{
    const char *g_sdp_out = sp->sdp_out;
    char url[1024];
    snprintf(url, sizeof(url), "rtp:%s", a); /* the sink's argument is //ADDR:PORT */
    struct crisp_video_writer_params p = {.width = sp->w, .height = sp->h, .fps = sp->fps, .crf = 23,
                                          .format = "rtp", .live = 1};
    int ret = crisp_video_writer_open(&s->vw, url, &p, e, n);
    if (ret < 0 || !g_sdp_out)
        return ret;
    char sdp[4096];
    if ((ret = crisp_video_writer_sdp(s->vw, sdp, sizeof(sdp))) < 0 ||
        (ret = crisp_file_write(g_sdp_out, sdp, strlen(sdp))) < 0) {
        snprintf(e, n, "--sdp-out %s: %s", g_sdp_out, crisp_strerror(ret));
        crisp_video_writer_close(&s->vw);
        return ret;
    }
    return 0;
}

static int file_write(struct sink *s, const struct crisp_frame *f)
{
    const uint8_t *planes[3] = {f->data[0], f->data[1], f->data[2]};
    return crisp_video_write_yuv(s->vw, planes, f->stride);
}

static int file_close(struct sink *s) { return crisp_video_writer_close(&s->vw); }

static const struct sink SINKS[] = {
    {.name = "null", .open = null_open, .write = null_write, .close = null_close},
    {.name = "hash", .open = hash_open, .write = hash_write, .close = hash_close},
    {.name = "file", .open = file_open, .write = file_write, .close = file_close},
    {.name = "rtp", .open = rtp_open, .write = file_write, .close = file_close},
};

static const struct sink *const CAMERA_SINKS[] = {&crispd_sink_pipewire,
                                                  &crispd_sink_v4l2loopback};

/* ---- the pipeline ---- */

struct pipeline {
    struct opts o;
    struct crisp_frame_pool pool;
    struct crisp_ring cap2inf, inf2sink, inf2cap, sink2cap;
    struct crisp_model *model;
    struct crisp_engine *engine;
    float *fin, *fout, *fin_hup, *fout_hup; /* the _hup pair warms up reloaded models */
    struct sink sink;
    /* source */
    AVFormatContext *fmt;
    AVCodecContext *dec;
    struct v4l2_src *v4l2;
    struct SwsContext *sws;
    int stream;
    double fps;
    /* state */
    atomic_int stop, source_done, infer_done, failed;
    atomic_long frames_in, frames_out, dropped_capture, dropped_infer, dropped_sink;
    atomic_long frames_repeated, frames_no_signal, source_reopens, source_stalls;
    atomic_long frames_corrupt, source_lost;
    _Atomic int64_t deadline_ns; /* blocking FFmpeg calls give up after it (0: never) */
    /* SIGHUP: the main thread builds a new engine and hands it over here; the
     * inference thread swaps it in between frames and hands the old one back
     * for the main thread to free (nothing is allocated or freed in the loop) */
    _Atomic(struct crisp_engine *) pending_engine, retired_engine;
    const char *model_path;
    struct crisp_frame_pool no_signal;
    int64_t t_first_out, t_last_out;
    float *lat_ms, *inf_ms; /* preallocated samples */
    float *cap_ms, *sink_ms;
    long n_cap, n_sink;
    int64_t dec_ns; /* capture thread: decoding time spent on the frame being made */
    int sink_err;           /* the sink's error code, reported by the main thread */
    long n_lat, n_inf;
    char err[512];
};

static volatile sig_atomic_t g_signal, g_hup;
static void on_signal(int sig) { g_signal = sig; }
static void on_hup(int sig) { g_hup = 1; }

static int interrupt_cb(void *opaque)
{
    struct pipeline *p = opaque;
    int64_t d = atomic_load(&p->deadline_ns);
    return atomic_load(&p->stop) || (d && crisp_now_ns() > d);
}

static void close_source(struct pipeline *p)
{
    avcodec_free_context(&p->dec);
    avformat_close_input(&p->fmt);
}

/* Opens the input with low-latency settings for network sources. Returns 0,
 * -ENOENT, -EAGAIN (timed out: worth retrying) or CRISP_EAV. */
static int open_source(struct pipeline *p, char *err, size_t n)
{
    const char *url = p->o.input;
    AVDictionary *opt = NULL;
    if (!strncmp(url, "file:", 5))
        url += 5;
    if (!strncmp(url, "sdp:", 4)) {
        url += 4;
        if (access(url, R_OK) < 0) {
            snprintf(err, n, "input %s: %s", p->o.input, strerror(errno));
            return -errno;
        }
        av_dict_set(&opt, "protocol_whitelist", "file,udp,rtp", 0);
    }
    if (p->o.live_source) {
        /* no input buffering, small probe, codec parameters from the SDP */
        av_dict_set(&opt, "fflags", "nobuffer", 0);
        av_dict_set(&opt, "probesize", "32768", 0);
        av_dict_set(&opt, "analyzeduration", "0", 0);
        av_dict_set_int(&opt, "reorder_queue_size", p->o.reorder, 0);
        atomic_store(&p->deadline_ns, crisp_now_ns() + 2000000000LL);
    }
    int ret = AVERROR(ENOMEM);
    if (!(p->fmt = avformat_alloc_context()))
        goto fail;
    p->fmt->interrupt_callback = (AVIOInterruptCB){interrupt_cb, p};
    ret = avformat_open_input(&p->fmt, url, NULL, &opt);
    if (ret < 0)
        goto fail;
    if ((ret = avformat_find_stream_info(p->fmt, NULL)) < 0)
        goto fail;
    const AVCodec *codec = NULL;
    if ((ret = av_find_best_stream(p->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)) < 0)
        goto fail;
    p->stream = ret;
    if (!(p->dec = avcodec_alloc_context3(codec))) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    if ((ret = avcodec_parameters_to_context(p->dec, p->fmt->streams[p->stream]->codecpar)) < 0)
        goto fail;
    p->dec->thread_count = 1; /* leave the cores to inference; no frame-threading delay */
    p->dec->flags |= AV_CODEC_FLAG_LOW_DELAY;
    if ((ret = avcodec_open2(p->dec, codec, NULL)) < 0)
        goto fail;
    AVRational r = p->fmt->streams[p->stream]->avg_frame_rate;
    if (!p->fps)
        p->fps = r.num && r.den ? av_q2d(r) : 30.0;
    atomic_store(&p->deadline_ns, 0);
    av_dict_free(&opt);
    return 0;
fail:;
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(ret, buf, sizeof(buf));
    int timed_out = ret == AVERROR_EXIT && !atomic_load(&p->stop);
    snprintf(err, n, "input %s: %s", p->o.input, timed_out ? "no data (timed out)" : buf);
    atomic_store(&p->deadline_ns, 0);
    av_dict_free(&opt);
    close_source(p);
    return ret == AVERROR(ENOENT) ? -ENOENT : timed_out ? -EAGAIN : CRISP_EAV;
}

/* scale/convert a decoded frame into pool frame f (BT.601 limited range) */
static int convert(struct pipeline *p, const AVFrame *src, struct crisp_frame *f)
{
    p->sws = sws_getCachedContext(p->sws, src->width, src->height, (enum AVPixelFormat)src->format,
                                  f->w, f->h, AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
    if (!p->sws)
        return CRISP_EFORMAT;
    int dst_stride[4] = {f->stride[0], f->stride[1], f->stride[2], 0};
    uint8_t *dst[4] = {f->data[0], f->data[1], f->data[2], NULL};
    sws_scale(p->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dst,
              dst_stride);
    return 0;
}

static int get_free(struct pipeline *p, uint32_t *idx, int live)
{
    for (;;) {
        if (crisp_ring_pop(&p->sink2cap, idx) == 0 || crisp_ring_pop(&p->inf2cap, idx) == 0)
            return 0;
        if (live || atomic_load(&p->stop))
            return -EAGAIN;
        /* offline: wait for the sink to hand a frame back */
        crisp_ring_wait(&p->sink2cap, 20);
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* a decoded picture into the pipeline: 0, or -1 when it cannot be converted */
static int deliver(struct pipeline *p, const AVFrame *fr, int64_t pts_us, uint64_t seq, int live)
{
    uint32_t idx;
    if (get_free(p, &idx, live) < 0) {
        atomic_fetch_add(&p->dropped_capture, 1);
        return 0;
    }
    struct crisp_frame *f = &p->pool.frames[idx];
    int64_t t_conv = crisp_now_ns();
    if (convert(p, fr, f) < 0) {
        snprintf(p->err, sizeof(p->err), "input %s: cannot convert pixel format %s", p->o.input,
                 av_get_pix_fmt_name((enum AVPixelFormat)fr->format) ?: "?");
        atomic_store(&p->failed, 1);
        crisp_ring_push(&p->sink2cap, idx);
        return -1;
    }
    f->capture_ns = crisp_now_ns();
    if (p->n_cap < SAMPLES) /* decode (or camera dequeue) + conversion */
        p->cap_ms[p->n_cap++] = (float)((f->capture_ns - t_conv + p->dec_ns) / 1e6);
    p->dec_ns = 0;
    f->pts = pts_us;
    f->seq = seq;
    atomic_fetch_add(&p->frames_in, 1);
    crisp_ring_push(&p->cap2inf, idx); /* cannot fail: the ring holds the whole pool */
    return 0;
}

/* V4L2: always live. A camera that vanishes (unplugged, driver reset) is
 * closed and reopened with backoff while the sink keeps publishing. */
static void capture_v4l2(struct pipeline *p)
{
    uint64_t seq = 0;
    int backoff_ms = 100;
    int64_t last_frame = crisp_now_ns();
    int stalled = 0;
    while (!atomic_load(&p->stop)) {
        if (!p->v4l2) {
            char err[256];
            if (v4l2_src_open(&p->v4l2, p->o.v4l2_dev, p->o.w, p->o.h, p->fps, err, sizeof(err)) < 0) {
                for (int t = 0; t < backoff_ms && !atomic_load(&p->stop); t += 20)
                    sleep_ms(20);
                backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
                continue;
            }
            atomic_fetch_add(&p->source_reopens, 1);
            last_frame = crisp_now_ns();
        }
        const AVFrame *fr = NULL;
        int r = v4l2_src_next(p->v4l2, 100, &fr);
        if (r == -EAGAIN) {
            if (!stalled && crisp_now_ns() - last_frame > 1000000000LL) {
                stalled = 1;
                atomic_fetch_add(&p->source_stalls, 1);
            }
            continue;
        }
        if (r == -EBADMSG) {
            atomic_fetch_add(&p->frames_corrupt, 1);
            continue;
        }
        if (r < 0) { /* gone: the sink keeps publishing meanwhile */
            v4l2_src_close(&p->v4l2);
            atomic_fetch_add(&p->source_lost, 1);
            continue;
        }
        backoff_ms = 100;
        stalled = 0;
        last_frame = crisp_now_ns();
        int d = deliver(p, fr, fr->best_effort_timestamp, seq++, 1);
        v4l2_src_release(p->v4l2);
        if (d < 0)
            break;
    }
    atomic_store(&p->source_done, 1);
}

static void *capture_thread(void *arg)
{
    struct pipeline *p = arg;
    if (p->o.v4l2_dev) {
        capture_v4l2(p);
        return NULL;
    }
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    const int live = p->o.realtime;
    uint64_t seq = 0;
    int backoff_ms = 100;
    while (!atomic_load(&p->stop) && pkt && fr) {
        if (!p->fmt) { /* a live source that stalled or vanished: reopen with backoff */
            char err[256];
            if (open_source(p, err, sizeof(err)) < 0) {
                for (int t = 0; t < backoff_ms && !atomic_load(&p->stop); t += 20)
                    sleep_ms(20);
                backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
                continue;
            }
            atomic_fetch_add(&p->source_reopens, 1);
        }
        AVRational tb = p->fmt->streams[p->stream]->time_base;
        int64_t t0 = 0, pts0 = AV_NOPTS_VALUE;
        int eof = 0, lost = 0;
        while (!atomic_load(&p->stop)) {
            int64_t td = crisp_now_ns();
            int ret = avcodec_receive_frame(p->dec, fr);
            p->dec_ns += crisp_now_ns() - td;
            if (ret == AVERROR(EAGAIN) && !eof) {
                if (p->o.live_source) /* a stalled sender must not block us forever */
                    atomic_store(&p->deadline_ns, crisp_now_ns() + 1000000000LL);
                ret = av_read_frame(p->fmt, pkt);
                atomic_store(&p->deadline_ns, 0);
                if (ret == AVERROR_EXIT && p->o.live_source && !atomic_load(&p->stop)) {
                    /* a stall, not an error: the socket stays bound, so a
                     * sender that comes back is picked up at its next keyframe */
                    atomic_fetch_add(&p->source_stalls, 1);
                    continue;
                }
                if (ret < 0) {
                    eof = 1;
                    lost = p->o.live_source;
                    avcodec_send_packet(p->dec, NULL);
                } else {
                    if (pkt->stream_index == p->stream) {
                        td = crisp_now_ns();
                        avcodec_send_packet(p->dec, pkt); /* corrupt data: the decoder skips it */
                        p->dec_ns += crisp_now_ns() - td;
                    }
                    av_packet_unref(pkt);
                }
                continue;
            }
            if (ret < 0)
                break; /* end of stream, or the source is gone */
            backoff_ms = 100;
            if (live && !p->o.live_source) { /* pace a file at the stream's rate */
                int64_t pts = fr->best_effort_timestamp;
                if (pts != AV_NOPTS_VALUE) {
                    if (pts0 == AV_NOPTS_VALUE) {
                        pts0 = pts;
                        t0 = crisp_now_ns();
                    }
                    int64_t due = t0 + av_rescale_q(pts - pts0, tb, (AVRational){1, 1000000000});
                    int64_t now = crisp_now_ns();
                    if (due > now && due - now < 2000000000LL) {
                        struct timespec ts = {(due - now) / 1000000000, (due - now) % 1000000000};
                        nanosleep(&ts, NULL);
                    }
                }
            }
            int64_t pts_us = fr->best_effort_timestamp == AV_NOPTS_VALUE
                                 ? -1
                                 : av_rescale_q(fr->best_effort_timestamp, tb, (AVRational){1, 1000000});
            int d = deliver(p, fr, pts_us, seq++, live);
            av_frame_unref(fr);
            if (d < 0)
                break;
        }
        if (!lost || atomic_load(&p->failed))
            break;
        close_source(p); /* the sink keeps publishing meanwhile */
    }
    av_frame_free(&fr);
    av_packet_free(&pkt);
    atomic_store(&p->source_done, 1);
    return NULL;
}

static void sharpen_luma(struct pipeline *p, struct crisp_frame *f)
{
    const int w = f->w, h = f->h;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = f->data[0] + (size_t)y * f->stride[0];
        float *d = p->fin + (size_t)y * w;
        for (int x = 0; x < w; x++)
            d[x] = row[x] * (1.0f / 255.0f);
    }
    if (crisp_engine_run(p->engine, p->fin, p->fout) < 0) {
        atomic_store(&p->failed, 2); /* reported by the main thread */
        return;
    }
    const float s = p->o.strength;
    for (int y = 0; y < h; y++) {
        uint8_t *row = f->data[0] + (size_t)y * f->stride[0];
        const float *o = p->fout + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            float v = row[x] + s * (o[x] * 255.0f - row[x]) + 0.5f;
            row[x] = (uint8_t)(v < 0.0f ? 0 : v >= 255.0f ? 255 : (int)v);
        }
    }
}

static void *infer_thread(void *arg)
{
    struct pipeline *p = arg;
    const int live = p->o.realtime;
    for (;;) {
        uint32_t idx, newer;
        if (crisp_ring_pop(&p->cap2inf, &idx) < 0) {
            if (atomic_load(&p->stop) || (atomic_load(&p->source_done) && !crisp_ring_count(&p->cap2inf)))
                break;
            crisp_ring_wait(&p->cap2inf, 20);
            continue;
        }
        /* latest frame wins on live sources */
        while (live && crisp_ring_pop(&p->cap2inf, &newer) == 0) {
            crisp_ring_push(&p->inf2cap, idx);
            atomic_fetch_add(&p->dropped_infer, 1);
            idx = newer;
        }
        struct crisp_engine *ne = atomic_exchange(&p->pending_engine, NULL);
        if (ne) {
            atomic_store(&p->retired_engine, p->engine);
            p->engine = ne;
        }
        struct crisp_frame *f = &p->pool.frames[idx];
        if (!p->o.bypass) {
            int64_t t = crisp_now_ns();
            sharpen_luma(p, f);
            if (p->n_inf < SAMPLES)
                p->inf_ms[p->n_inf++] = (float)((crisp_now_ns() - t) / 1e6);
        }
        crisp_ring_push(&p->inf2sink, idx);
    }
    atomic_store(&p->infer_done, 1);
    return NULL;
}

static int emit(struct pipeline *p, const struct crisp_frame *f, int fresh)
{
    long limit = p->o.frames;
    if (limit > 0 && atomic_load(&p->frames_out) >= limit)
        return 0;
    int64_t ts = crisp_now_ns();
    int wr = p->sink.write(&p->sink, f);
    if (p->n_sink < SAMPLES)
        p->sink_ms[p->n_sink++] = (float)((crisp_now_ns() - ts) / 1e6);
    if (wr < 0) {
        p->sink_err = wr;
        atomic_store(&p->failed, 3);
        return -1;
    }
    int64_t now = crisp_now_ns();
    if (!p->t_first_out)
        p->t_first_out = now;
    p->t_last_out = now;
    if (fresh && p->n_lat < SAMPLES)
        p->lat_ms[p->n_lat++] = (float)((now - f->capture_ns) / 1e6);
    if (atomic_fetch_add(&p->frames_out, 1) + 1 == limit)
        atomic_store(&p->stop, 1);
    return 0;
}

/* Offline: every frame in order. Live: the newest frame as soon as it comes;
 * with nothing new for one frame interval the last frame again, and after
 * --no-signal seconds a "no signal" frame, so consumers keep the device. */
static void *sink_thread(void *arg)
{
    struct pipeline *p = arg;
    const int live = p->o.realtime;
    const int64_t interval = (int64_t)(1e9 / (p->fps > 0 ? p->fps : 30.0));
    const int64_t no_signal = (int64_t)(p->o.no_signal_s * 1e9);
    int64_t last_write = crisp_now_ns(), last_fresh = last_write;
    int64_t hold = -1; /* live: the frame kept for repeats */
    int repeating = 0; /* a late frame is not a stall: wait 1.5 intervals before repeating */
    for (;;) {
        uint32_t idx, newer;
        if (crisp_ring_pop(&p->inf2sink, &idx) < 0) {
            if (atomic_load(&p->stop) ||
                (atomic_load(&p->infer_done) && !crisp_ring_count(&p->inf2sink)))
                break;
            if (!live) {
                crisp_ring_wait(&p->inf2sink, 20);
                continue;
            }
            int64_t now = crisp_now_ns();
            int64_t wait = last_write + (repeating ? interval : interval * 3 / 2) - now;
            if (wait > 0) {
                crisp_ring_wait(&p->inf2sink, (int)(wait / 1000000) + 1);
                continue;
            }
            const struct crisp_frame *f = NULL;
            if (now - last_fresh >= no_signal) {
                f = &p->no_signal.frames[0];
                atomic_fetch_add(&p->frames_no_signal, 1);
            } else if (hold >= 0) {
                f = &p->pool.frames[hold];
                atomic_fetch_add(&p->frames_repeated, 1);
            }
            if (f && emit(p, f, 0) < 0)
                break;
            last_write = now;
            repeating = 1;
            continue;
        }
        while (live && crisp_ring_pop(&p->inf2sink, &newer) == 0) {
            crisp_ring_push(&p->sink2cap, idx);
            atomic_fetch_add(&p->dropped_sink, 1);
            idx = newer;
        }
        int r = emit(p, &p->pool.frames[idx], 1);
        last_write = last_fresh = crisp_now_ns();
        repeating = 0;
        if (live) {
            if (hold >= 0)
                crisp_ring_push(&p->sink2cap, (uint32_t)hold);
            hold = idx;
        } else {
            crisp_ring_push(&p->sink2cap, idx);
        }
        if (r < 0)
            break;
    }
    if (hold >= 0)
        crisp_ring_push(&p->sink2cap, (uint32_t)hold);
    return NULL;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static double pct(float *v, long n, double q)
{
    if (n <= 0)
        return 0;
    long i = (long)ceil(q * n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static int write_stats(struct pipeline *p, const char *path)
{
    qsort(p->lat_ms, (size_t)p->n_lat, sizeof(float), cmp_float);
    qsort(p->inf_ms, (size_t)p->n_inf, sizeof(float), cmp_float);
    qsort(p->cap_ms, (size_t)p->n_cap, sizeof(float), cmp_float);
    qsort(p->sink_ms, (size_t)p->n_sink, sizeof(float), cmp_float);
    long out = atomic_load(&p->frames_out);
    double secs = (p->t_last_out - p->t_first_out) / 1e9;
    double fps = out > 1 && secs > 0 ? (out - 1) / secs : 0;
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f,
            "{\"frames_in\": %ld, \"frames_out\": %ld, \"dropped_capture\": %ld, "
            "\"dropped_infer\": %ld, \"dropped_sink\": %ld, \"frames_repeated\": %ld, "
            "\"frames_no_signal\": %ld, \"source_reopens\": %ld, \"source_stalls\": %ld, "
            "\"source_lost\": %ld, \"frames_corrupt\": %ld, "
            "\"fps_out\": %.3f, "
            "\"latency_ms\": {\"p50\": %.3f, \"p95\": %.3f, \"p99\": %.3f}, "
            "\"infer_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
            "\"capture_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
            "\"sink_ms\": {\"p50\": %.3f, \"p99\": %.3f}}\n",
            atomic_load(&p->frames_in), out, atomic_load(&p->dropped_capture),
            atomic_load(&p->dropped_infer), atomic_load(&p->dropped_sink),
            atomic_load(&p->frames_repeated), atomic_load(&p->frames_no_signal),
            atomic_load(&p->source_reopens), atomic_load(&p->source_stalls),
            atomic_load(&p->source_lost), atomic_load(&p->frames_corrupt), fps,
            pct(p->lat_ms, p->n_lat, 0.5), pct(p->lat_ms, p->n_lat, 0.95),
            pct(p->lat_ms, p->n_lat, 0.99), pct(p->inf_ms, p->n_inf, 0.5),
            pct(p->inf_ms, p->n_inf, 0.99), pct(p->cap_ms, p->n_cap, 0.5),
            pct(p->cap_ms, p->n_cap, 0.99), pct(p->sink_ms, p->n_sink, 0.5),
            pct(p->sink_ms, p->n_sink, 0.99));
    return fclose(f) ? -errno : 0;
}

/* The installed crisp-rt next to this binary (BINDIR/../share/crisp/models),
 * so an installed tree works wherever it was copied (meson install --destdir) */
static int default_model(char *buf, size_t n)
{
    char dir[4096];
    if (crisp_exe_dir(dir, sizeof(dir)) < 0 ||
        snprintf(buf, n, "%s/../share/crisp/models/crisp-rt.crisp", dir) >= (int)n)
        return -1;
    return access(buf, R_OK);
}

static const char USAGE[] =
    "usage: crispd --input URI --output URI [options]\n"
    "  --input v4l2:/dev/videoN | file:PATH | sdp:FILE | rtp://ADDR:PORT | any FFmpeg URL\n"
    "                      cameras: YUYV, NV12 or MJPEG at --size and --fps or the nearest offered\n"
    "                      network sources are live and reopened with backoff when they stall\n"
    "  --output null: | hash:FILE | file:PATH.mp4|.mkv | rtp://ADDR:PORT (H.264, --sdp-out FILE)\n"
    "           | pipewire[:NAME]  a PipeWire camera node (Video/Source, role Camera) [crisp]\n"
    "           | v4l2loopback:/dev/videoN  a virtual webcam (--pixfmt yuyv|i420 [yuyv])\n"
    "                      cameras run live: the last frame repeats while the source stalls\n"
    "  --model FILE        luma model (default: the installed crisp-rt.crisp)\n"
    "  --size WxH [1280x720]   --strength S [1.0]   --bypass   --realtime\n"
    "  --precision int8|fp32   [int8 when the CPU runs it and MODEL.q8 exists, else fp32]\n"
    "  --frames N          stop after N output frames\n"
    "  --stats-json FILE   write frame counts, drops, fps and latency percentiles on exit\n"
    "  --threads N         oneDNN threads [all cores]   -v  verbose\n"
    "  --fps F             output rate of live sources [30]\n"
    "  --no-signal S       live: seconds without frames before a no-signal frame [2]\n"
    "  --reorder N         RTP reorder queue in packets [0: lowest latency]\n"
    "  --config FILE       INI file of the same keys (default " DEFAULT_CONFIG " when present);\n"
    "                      command-line options win\n";

/* One option, from the command line or the config file; -1 with err set. */
static int set_opt(struct opts *o, const char *key, const char *v, char *err, size_t n)
{
    char *end = NULL;
    int is_bool = !strcmp(key, "bypass") || !strcmp(key, "realtime") || !strcmp(key, "verbose");
    int b = 1;
    if (is_bool && v) {
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
            b = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
            b = 0;
        else {
            snprintf(err, n, "\"%s\" is not a boolean (true/false)", v);
            return -1;
        }
    }
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(err, n, __VA_ARGS__);                                                             \
        return -1;                                                                                 \
    } while (0)
    if (!strcmp(key, "input"))
        o->input = v;
    else if (!strcmp(key, "output"))
        o->output = v;
    else if (!strcmp(key, "model"))
        o->model = v;
    else if (!strcmp(key, "stats-json"))
        o->stats_json = v;
    else if (!strcmp(key, "sdp-out"))
        o->sdp_out = v;
    else if (!strcmp(key, "pixfmt"))
        o->pixfmt = v;
    else if (!strcmp(key, "precision")) {
        if (strcmp(v, "int8") && strcmp(v, "fp32"))
            BAD("must be int8 or fp32 (got \"%s\")", v);
        o->precision = v;
    }
    else if (!strcmp(key, "bypass"))
        o->bypass = b;
    else if (!strcmp(key, "realtime"))
        o->realtime = b;
    else if (!strcmp(key, "verbose"))
        o->verbose = b;
    else if (!strcmp(key, "size")) {
        int w, h;
        if (sscanf(v, "%dx%d", &w, &h) != 2 || w < 16 || h < 16 || w > 7680 || h > 4320 ||
            (w & 1) || (h & 1))
            BAD("must be WxH, even, 16x16..7680x4320 (got \"%s\")", v);
        o->w = w;
        o->h = h;
    } else if (!strcmp(key, "strength")) {
        float x = strtof(v, &end);
        if (*end || end == v || !(x >= 0 && x <= 1))
            BAD("must be in 0..1 (got \"%s\")", v);
        o->strength = x;
    } else if (!strcmp(key, "frames")) {
        long x = strtol(v, &end, 10);
        if (*end || end == v || x < 1)
            BAD("must be a positive integer (got \"%s\")", v);
        o->frames = x;
    } else if (!strcmp(key, "threads")) {
        long x = strtol(v, &end, 10);
        if (*end || end == v || x < 0 || x > 256)
            BAD("must be 0..256 (got \"%s\")", v);
        o->threads = (int)x;
    } else if (!strcmp(key, "fps")) {
        double x = strtod(v, &end);
        if (*end || end == v || !(x >= 1 && x <= 240))
            BAD("must be in 1..240 (got \"%s\")", v);
        o->fps = x;
    } else if (!strcmp(key, "no-signal")) {
        double x = strtod(v, &end);
        if (*end || end == v || !(x >= 0.1 && x <= 3600))
            BAD("must be 0.1..3600 seconds (got \"%s\")", v);
        o->no_signal_s = x;
    } else if (!strcmp(key, "reorder")) {
        long x = strtol(v, &end, 10);
        if (*end || end == v || x < 0 || x > 10000)
            BAD("must be 0..10000 packets (got \"%s\")", v);
        o->reorder = (int)x;
    } else {
        BAD("unknown key");
    }
#undef BAD
    return 0;
}

static char *g_config_vals[256]; /* the config file's values, which options point into */
static int g_n_config_vals;

static int config_cb(void *ctx, const char *section, const char *key, const char *value,
                     char *err, size_t n)
{
    if (*section && strcmp(section, "crispd")) {
        snprintf(err, n, "in unknown section [%s]", section);
        return -1;
    }
    char *v = strdup(value); /* options point into it: freed at exit (config_free) */
    if (!v || g_n_config_vals == (int)(sizeof(g_config_vals) / sizeof(g_config_vals[0]))) {
        snprintf(err, n, v ? "too many keys (256 at most)" : "out of memory");
        free(v);
        return -1;
    }
    if (set_opt(ctx, key, v, err, n) < 0) {
        free(v);
        return -1;
    }
    g_config_vals[g_n_config_vals++] = v;
    return 0;
}

static void config_free(void)
{
    for (int i = 0; i < g_n_config_vals; i++)
        free(g_config_vals[i]);
    g_n_config_vals = 0;
}

static int crispd_main(int argc, char **argv);

int main(int argc, char **argv)
{
    int r = crispd_main(argc, argv);
    config_free();
    return r;
}

static int crispd_main(int argc, char **argv)
{
    crisp_set_progname("crispd");
    struct opts o = {.w = 1280, .h = 720, .strength = 1.0f, .no_signal_s = 2.0};
    static const struct option lo[] = {
        {"input", 1, 0, 0},     {"output", 1, 0, 0},    {"model", 1, 0, 0},
        {"size", 1, 0, 0},      {"strength", 1, 0, 0},  {"bypass", 0, 0, 0},
        {"realtime", 0, 0, 0},  {"frames", 1, 0, 0},    {"stats-json", 1, 0, 0},
        {"threads", 1, 0, 0},   {"fps", 1, 0, 0},       {"no-signal", 1, 0, 0},
        {"reorder", 1, 0, 0},   {"config", 1, 0, 'c'},  {"help", 0, 0, 'h'},
        {"sdp-out", 1, 0, 0},   {"pixfmt", 1, 0, 0},    {"precision", 1, 0, 0},
        {"verbose", 0, 0, 'v'}, {0, 0, 0, 0}};
    /* the config file first (--config, else the default when present), then
     * the command line, which wins */
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            config = argv[i] + 9;
    }
    if (!config && access(DEFAULT_CONFIG, F_OK) == 0)
        config = DEFAULT_CONFIG;
    char err[512] = "";
    if (config) {
        uint8_t *buf;
        size_t len;
        int r = crisp_file_read(config, &buf, &len);
        if (r < 0)
            return fail(EXIT_INPUT, "config %s: %s", config, crisp_strerror(r));
        r = crisp_config_parse((const char *)buf, len, config, config_cb, &o, err, sizeof(err));
        free(buf);
        if (r < 0)
            return fail(EXIT_USAGE, "%s", err);
    }
    int c, li;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "vhc:", lo, &li)) != -1) {
        switch (c) {
        case 0:
            if (set_opt(&o, lo[li].name, optarg, err, sizeof(err)) < 0)
                return fail(EXIT_USAGE, "--%s %s", lo[li].name, err);
            break;
        case 'c': break; /* read above */
        case 'v': o.verbose = 1; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: return fail(EXIT_USAGE, "unknown option %s (see crispd --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
    if (!o.input || !o.output)
        return fail(EXIT_USAGE, "--input and --output are required (see crispd --help)");
    if (!strncmp(o.input, "rtp://", 6) || !strncmp(o.input, "sdp:", 4) ||
        !strncmp(o.input, "udp://", 6)) {
        o.live_source = 1;
        o.realtime = 1; /* a network source is live: latest frame wins */
    }
    if (!strncmp(o.input, "v4l2:", 5)) {
        o.v4l2_dev = o.input + 5;
        o.realtime = 1; /* a camera is live: latest frame wins */
        if (!*o.v4l2_dev)
            return fail(EXIT_USAGE, "input v4l2: needs a device, e.g. v4l2:/dev/video0");
    }
    crisp_media_set_verbose(o.verbose);
    crisp_log_set_level(o.verbose ? CRISP_LOG_DEBUG : CRISP_LOG_WARN);

    static struct pipeline P;
    struct pipeline *p = &P;
    p->o = o;
    const char *colon = strchr(o.output, ':');
    size_t scheme_len = colon ? (size_t)(colon - o.output) : strlen(o.output);
    const struct sink *proto = NULL;
    for (size_t i = 0; i < sizeof(SINKS) / sizeof(SINKS[0]) && colon; i++)
        if (strlen(SINKS[i].name) == scheme_len && !strncmp(o.output, SINKS[i].name, scheme_len))
            proto = &SINKS[i];
    for (size_t i = 0; i < sizeof(CAMERA_SINKS) / sizeof(CAMERA_SINKS[0]); i++)
        if (strlen(CAMERA_SINKS[i]->name) == scheme_len &&
            !strncmp(o.output, CAMERA_SINKS[i]->name, scheme_len))
            proto = CAMERA_SINKS[i];
    if (!proto)
        return fail(EXIT_USAGE,
                    "unknown output \"%s\" (null:, hash:FILE, file:PATH, rtp://ADDR:PORT, "
                    "pipewire[:NAME], v4l2loopback:/dev/videoN)",
                    o.output);
    p->sink = *proto;
    const char *sink_arg = colon ? colon + 1 : "";
    if (proto != &SINKS[0] && strcmp(proto->name, "pipewire") && !*sink_arg)
        return fail(EXIT_USAGE, "output %s needs a path", o.output);
    if (o.pixfmt && strcmp(o.pixfmt, "yuyv") && strcmp(o.pixfmt, "i420"))
        return fail(EXIT_USAGE, "--pixfmt must be yuyv or i420 (got \"%s\")", o.pixfmt);
    if (proto->live) /* a camera publishes at the output rate: the pipeline runs live */
        p->o.realtime = o.realtime = 1;

    int ret = EXIT_INPUT;
    int sink_open = 0;
    pthread_t th[3];
    int started = 0;
    if (!o.bypass) {
        /* default: the installed crisp-rt, else the one in the source tree */
        const char *mp = o.model;
        static char rel[4096];
        if (!mp && default_model(rel, sizeof(rel)) == 0)
            mp = rel;
        if (!mp)
            mp = access(CRISP_INSTALLED_MODEL, R_OK) == 0 ? CRISP_INSTALLED_MODEL
                                                           : CRISP_SOURCE_MODEL;
        p->model_path = mp;
        if (crisp_weights_load(&p->model, mp, err, sizeof(err)) < 0) {
            fail(EXIT_INPUT, "%s", err);
            goto done;
        }
        if (p->model->color != CRISP_COLOR_LUMA) {
            fail(EXIT_INPUT, "model %s works on RGB; crispd sharpens luma and needs a luma model",
                 mp);
            goto done;
        }
        enum crisp_precision prec;
        struct crisp_quant *q = NULL;
        char why[512];
        if (crisp_precision_choose(o.precision, mp, p->model, &prec, &q, why, sizeof(why), err,
                                   sizeof(err)) < 0) {
            fail(EXIT_INPUT, "model %s: %s", mp, err);
            goto done;
        }
        if (*why) /* int8 was possible in principle: say why it is not used */
            crisp_log(o.precision ? CRISP_LOG_WARN : CRISP_LOG_INFO, "%s", why);
        struct crisp_engine_params ep = {.width = o.w, .height = o.h, .threads = o.threads,
                                         .precision = prec, .quant = q};
        int er = crisp_engine_create(&p->engine, p->model, &ep, err, sizeof(err));
        crisp_quant_destroy(&q);
        if (er < 0) {
            fail(EXIT_INPUT, "model %s: %s", mp, err);
            goto done;
        }
        crisp_log(CRISP_LOG_INFO, "model %s: %s, %d of its convolutions in int8", mp,
                  prec == CRISP_PRECISION_INT8 ? "int8" : "f32",
                  crisp_engine_int8_convs(p->engine));
    }
    if (crisp_frame_pool_init(&p->pool, POOL, o.w, o.h) < 0 ||
        crisp_ring_init(&p->cap2inf, POOL) < 0 || crisp_ring_init(&p->inf2sink, POOL) < 0 ||
        crisp_ring_init(&p->inf2cap, POOL) < 0 || crisp_ring_init(&p->sink2cap, POOL) < 0 ||
        !(p->fin = malloc(sizeof(float) * (size_t)o.w * o.h)) ||
        !(p->fout = malloc(sizeof(float) * (size_t)o.w * o.h)) ||
        !(p->fin_hup = calloc((size_t)o.w * o.h, sizeof(float))) ||
        !(p->fout_hup = malloc(sizeof(float) * (size_t)o.w * o.h)) ||
        !(p->lat_ms = malloc(sizeof(float) * SAMPLES)) ||
        !(p->inf_ms = malloc(sizeof(float) * SAMPLES)) ||
        !(p->cap_ms = malloc(sizeof(float) * SAMPLES)) ||
        !(p->sink_ms = malloc(sizeof(float) * SAMPLES))) {
        fail(EXIT_INPUT, "out of memory for %dx%d frames", o.w, o.h);
        goto done;
    }
    for (uint32_t i = 0; i < POOL; i++)
        crisp_ring_push(&p->sink2cap, i);
    if (p->engine) { /* warm-up: oneDNN generates its kernels on the first run */
        memset(p->fin, 0, sizeof(float) * (size_t)o.w * o.h);
        if (crisp_engine_run(p->engine, p->fin, p->fout) < 0) {
            fail(EXIT_INPUT, "warm-up inference failed");
            goto done;
        }
    }
    if (crisp_frame_pool_init(&p->no_signal, 1, o.w, o.h) < 0) {
        fail(EXIT_INPUT, "out of memory");
        goto done;
    }
    { /* "no signal": dark grey with lighter diagonal bands */
        struct crisp_frame *f = &p->no_signal.frames[0];
        for (int y = 0; y < o.h; y++)
            for (int x = 0; x < o.w; x++)
                f->data[0][(size_t)y * f->stride[0] + x] = ((x + y) / 64) % 2 ? 60 : 40;
        for (int pl = 1; pl < 3; pl++)
            memset(f->data[pl], 128, (size_t)f->stride[pl] * (o.h / 2));
    }
    p->fps = o.fps;
    int sret;
    if (o.v4l2_dev) {
        sret = v4l2_src_open(&p->v4l2, o.v4l2_dev, o.w, o.h, o.fps ? o.fps : 30, err, sizeof(err));
        if (sret == 0) {
            crisp_log(CRISP_LOG_INFO, "input %s: %s", o.input, v4l2_src_describe(p->v4l2));
            if (!p->fps)
                p->fps = v4l2_src_fps(p->v4l2);
        }
    } else {
        sret = open_source(p, err, sizeof(err));
    }
    if (sret < 0 && !(o.live_source && sret == -EAGAIN)) {
        fail(EXIT_INPUT, "%s", err);
        goto done;
    }
    if (sret < 0)
        crisp_log(CRISP_LOG_WARN, "%s; publishing \"no signal\" until it comes", err);
    if (!p->fps)
        p->fps = 30.0;
    struct sink_params sp = {.w = o.w, .h = o.h, .fps = p->fps, .pixfmt = o.pixfmt,
                             .sdp_out = o.sdp_out};
    if (p->sink.open(&p->sink, sink_arg, &sp, err, sizeof(err)) < 0) {
        fail(EXIT_INPUT, "%s", err[0] ? err : "cannot open the output");
        goto done;
    }
    sink_open = 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_hup);
    void *(*fns[3])(void *) = {sink_thread, infer_thread, capture_thread};
    for (int i = 0; i < 3; i++) {
        if (pthread_create(&th[i], NULL, fns[i], p)) {
            atomic_store(&p->stop, 1);
            fail(EXIT_INPUT, "cannot start threads");
            goto done;
        }
        started++;
    }
    /* systemd: ready once the network is built, warmed up and the threads run;
     * the watchdog is fed only while fresh frames flow, so a stalled pipeline
     * lets it fire */
    notify_init();
    notify_send("READY=1\nSTATUS=running");
    const int64_t wd = notify_watchdog_ns();
    int64_t last_report = crisp_now_ns(), last_wd = last_report;
    long last_out = 0, last_fresh = 0;
    while (!atomic_load(&p->stop)) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
        if (g_signal || atomic_load(&p->failed))
            atomic_store(&p->stop, 1);
        struct crisp_engine *old = atomic_exchange(&p->retired_engine, NULL);
        crisp_engine_destroy(&old);
        if (g_hup) {
            g_hup = 0;
            if (p->o.bypass || atomic_load(&p->pending_engine)) {
                crisp_log(CRISP_LOG_WARN, "SIGHUP: nothing to reload");
            } else {
                /* a new model: loaded, checked and warmed up before it replaces the old one */
                struct crisp_model *nm = NULL;
                struct crisp_engine *ne = NULL;
                struct crisp_engine_params ep = {.width = o.w, .height = o.h, .threads = o.threads};
                struct crisp_quant *nq = NULL;
                char why[512];
                if (crisp_weights_load(&nm, p->model_path, err, sizeof(err)) < 0)
                    crisp_log(CRISP_LOG_ERROR, "SIGHUP: %s; keeping the current model", err);
                else if (nm->color != CRISP_COLOR_LUMA)
                    crisp_log(CRISP_LOG_ERROR, "SIGHUP: %s is not a luma model; keeping the current one",
                              p->model_path);
                else if (crisp_precision_choose(o.precision, p->model_path, nm, &ep.precision, &nq,
                                                why, sizeof(why), err, sizeof(err)) < 0)
                    crisp_log(CRISP_LOG_ERROR, "SIGHUP: %s; keeping the current model", err);
                else if ((ep.quant = nq), crisp_engine_create(&ne, nm, &ep, err, sizeof(err)) < 0)
                    crisp_log(CRISP_LOG_ERROR, "SIGHUP: %s: %s; keeping the current model",
                              p->model_path, err);
                else if (crisp_engine_run(ne, p->fin_hup, p->fout_hup) < 0)
                    crisp_log(CRISP_LOG_ERROR, "SIGHUP: warm-up failed; keeping the current model");
                else {
                    atomic_store(&p->pending_engine, ne);
                    ne = NULL;
                    crisp_log(CRISP_LOG_WARN, "SIGHUP: reloaded %s", p->model_path);
                }
                crisp_engine_destroy(&ne);
                crisp_model_destroy(&nm);
                crisp_quant_destroy(&nq);
            }
        }
        if (atomic_load(&p->infer_done) && !crisp_ring_count(&p->inf2sink))
            break; /* source drained; the sink thread finishes the queue */
        int64_t now = crisp_now_ns();
        long fresh = atomic_load(&p->frames_out) - atomic_load(&p->frames_repeated) -
                     atomic_load(&p->frames_no_signal);
        if (wd && now - last_wd >= wd / 2) {
            if (fresh > last_fresh)
                notify_send("WATCHDOG=1");
            last_fresh = fresh;
            last_wd = now;
        }
        if (now - last_report > 5000000000LL) { /* housekeeping: real-time threads never log */
            long out = atomic_load(&p->frames_out);
            char status[256];
            double fps = (out - last_out) / ((now - last_report) / 1e9);
            snprintf(status, sizeof(status),
                     "STATUS=%.1f fps out, %ld in, drops capture %ld infer %ld sink %ld, "
                     "repeated %ld, no-signal %ld",
                     fps, atomic_load(&p->frames_in), atomic_load(&p->dropped_capture),
                     atomic_load(&p->dropped_infer), atomic_load(&p->dropped_sink),
                     atomic_load(&p->frames_repeated), atomic_load(&p->frames_no_signal));
            notify_send(status);
            crisp_log(CRISP_LOG_INFO, "%s", status + 7);
            last_out = out;
            last_report = now;
        }
    }
    ret = EXIT_OK;
done:
    if (ret != EXIT_OK)
        atomic_store(&p->stop, 1);
    if (started)
        notify_send("STOPPING=1");
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    int cr = sink_open ? p->sink.close(&p->sink) : 0;
    if (cr < 0 && ret == EXIT_OK && !atomic_load(&p->failed))
        ret = fail(EXIT_INPUT, "output %s: write failed (%s)", o.output, crisp_strerror(cr));
    int f = atomic_load(&p->failed);
    if (ret == EXIT_OK && f) {
        ret = EXIT_INPUT;
        if (f == 1)
            fail(EXIT_INPUT, "%s", p->err);
        else if (f == 2)
            fail(EXIT_INPUT, "inference failed");
        else
            fail(EXIT_INPUT, "output %s: write failed (%s)", o.output, crisp_strerror(p->sink_err));
    }
    if (ret == EXIT_OK && o.stats_json && write_stats(p, o.stats_json) < 0)
        ret = fail(EXIT_INPUT, "%s: cannot write stats", o.stats_json);
    if (g_signal)
        crisp_log(CRISP_LOG_INFO, "stopped by signal %d", (int)g_signal);
    sws_freeContext(p->sws);
    close_source(p);
    v4l2_src_close(&p->v4l2);
    crisp_engine_destroy(&p->engine);
    struct crisp_engine *pe = atomic_exchange(&p->pending_engine, NULL),
                        *re = atomic_exchange(&p->retired_engine, NULL);
    crisp_engine_destroy(&pe);
    crisp_engine_destroy(&re);
    crisp_model_destroy(&p->model);
    crisp_ring_destroy(&p->cap2inf);
    crisp_ring_destroy(&p->inf2sink);
    crisp_ring_destroy(&p->inf2cap);
    crisp_ring_destroy(&p->sink2cap);
    crisp_frame_pool_destroy(&p->pool);
    crisp_frame_pool_destroy(&p->no_signal);
    free(p->fin);
    free(p->fout);
    free(p->fin_hup);
    free(p->fout_hup);
    free(p->lat_ms);
    free(p->inf_ms);
    free(p->cap_ms);
    free(p->sink_ms);
    return ret;
}
