// SPDX-License-Identifier: BSD-2-Clause
// crispd's pipeline (pipeline.h): the capture, inference and sink threads,
// the pool and rings that join them, and the model's engine with its hot
// swap on SIGHUP.
//
// Threads: capture_thread, infer_thread and sink_thread run here; the
// other functions run on the main thread. Owns the frame pool, the rings,
// the float planes, the sample arrays and the engines; the source and the
// sink are opened and closed by main.c but driven only by their threads.
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "crisp/error.h"
#include "crisp/log.h"
#include "crisp/model.h"
#include "crisp/util.h"
#include "pipeline.h"
#include "preview.h"

#define POOL 8

/* ---- the model ---- */

int pipeline_engine_build(struct pipeline *p, const char *path, int flags,
                          struct crisp_engine **out, char *err, size_t n)
{
    const int hup = flags & PIPELINE_BUILD_HUP, timing = flags & PIPELINE_BUILD_TIMING;
    const struct crispd_opts *o = &p->o;
    struct crisp_model *m = NULL;
    struct crisp_quant *q = NULL;
    enum crisp_precision prec;
    char why[512] = "", msg[512] = "";
    int ret;
    *out = NULL;
    if ((ret = crisp_weights_load(&m, path, msg, sizeof(msg))) < 0) {
        snprintf(err, n, hup ? "SIGHUP: %s; keeping the current model" : "%s", msg);
        goto done;
    }
    if (m->color == CRISP_COLOR_RGB) {
        ret = CRISP_EMODEL;
        snprintf(err, n,
                 hup ? "SIGHUP: %s is not a luma model; keeping the current one"
                     : "model %s works on RGB; crispd sharpens luma and needs a luma (or "
                       "frame-pair) model",
                 path);
        goto done;
    }
    if ((ret = crisp_precision_choose(o->precision, path, m, &prec, &q, why, sizeof(why), msg,
                                      sizeof(msg))) < 0) {
        if (hup)
            snprintf(err, n, "SIGHUP: %s; keeping the current model", msg);
        else
            snprintf(err, n, "model %s: %s", path, msg);
        goto done;
    }
    if (*why) { /* int8 was possible in principle: say why it is not used, loudly when
                 * asked for or when a MODEL.q8 is there but refused (corrupt, another model) */
        char q8[4096];
        const int refused = snprintf(q8, sizeof(q8), "%s.q8", path) < (int)sizeof(q8) &&
                            access(q8, F_OK) == 0 && crisp_cpu_int8();
        if (!hup || refused)
            crisp_log(o->precision || refused ? CRISP_LOG_WARN : CRISP_LOG_INFO, "%s%s",
                      hup ? "SIGHUP: " : "", why);
    }
    struct crisp_engine_params ep = {.width = o->w, .height = o->h, .threads = o->threads,
                                     .precision = prec, .quant = q,
                                     .stripe_rows = o->stripe_rows, .cancel = &p->stop,
                                     .reuse = o->reuse && !timing};
    if ((ret = crisp_engine_create(out, m, &ep, msg, sizeof(msg))) < 0) {
        snprintf(err, n, hup ? "SIGHUP: %s: %s; keeping the current model" : "model %s: %s", path,
                 msg);
        goto done;
    }
    p->built_gmac = crisp_model_macs(m, o->w, o->h) / 1e9;
    p->built_int8 = crisp_engine_int8_convs(*out) > 0;
    if (!hup)
        crisp_log(CRISP_LOG_INFO, "model %s: %s, %d of its convolutions in int8", path,
                  prec == CRISP_PRECISION_INT8 ? "int8" : "f32", crisp_engine_int8_convs(*out));
done:
    crisp_quant_destroy(&q);
    crisp_model_destroy(&m);
    return ret;
}

void pipeline_reload(struct pipeline *p)
{
    if (p->o.bypass) {
        crisp_log(CRISP_LOG_WARN, "SIGHUP: --bypass runs no model; nothing to reload");
        return;
    }
    char err[1024];
    int replaced;
    if (pipeline_hand_over(p, p->model_path, &replaced, err, sizeof(err)) < 0)
        crisp_log(CRISP_LOG_ERROR, "%s", err);
    else
        crisp_log(CRISP_LOG_WARN, "SIGHUP: reloaded %s%s", p->model_path,
                  replaced ? " (replacing a reload not applied yet: no frame since)" : "");
}

int pipeline_hand_over(struct pipeline *p, const char *path, int *replaced, char *err, size_t n)
{
    /* a new model: loaded, checked and warmed up before it replaces the old one */
    struct crisp_engine *ne = NULL;
    int ret = pipeline_engine_build(p, path, PIPELINE_BUILD_HUP, &ne, err, n);
    if (ret == 0 && (ret = crisp_engine_run_luma8(ne, p->warm, p->o.w, 1.0f)) < 0)
        snprintf(err, n, "%s: warm-up failed; keeping the current model", auto_model_name(path));
    if (ret < 0) {
        atomic_fetch_add(&p->reloads_failed, 1);
        crisp_engine_destroy(&ne);
        return ret;
    }
    /* the newest wins: an engine that the inference thread has not taken yet
     * (no frame since: the source is stalled) is replaced, and the new one
     * applies with the next frame */
    struct crisp_engine *old = atomic_exchange(&p->pending_engine, ne);
    if (replaced)
        *replaced = old != NULL;
    crisp_engine_destroy(&old);
    atomic_fetch_add(&p->reloads, 1);
    return 0;
}

void pipeline_collect(struct pipeline *p)
{
    struct crisp_engine *old = atomic_exchange(&p->retired_engine, NULL);
    crisp_engine_destroy(&old);
}

/* ---- capture ---- */

int64_t pipeline_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Scales/converts a decoded frame into pool frame f: 4:2:0, limited range,
 * the pipeline's matrix. Y'CbCr keeps its matrix (the network treats every
 * matrix's luma alike; the sinks tag the source's); RGB is converted with
 * the pipeline's; full range is brought to limited. */
static int convert(struct pipeline *p, const AVFrame *src, struct crisp_frame *f)
{
    struct SwsContext *old = p->sws;
    const enum AVPixelFormat fmt = (enum AVPixelFormat)src->format;
    p->sws = sws_getCachedContext(p->sws, src->width, src->height, fmt, f->w, f->h,
                                  AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
    if (!p->sws)
        return CRISP_EFORMAT;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    const int rgb = d && (d->flags & AV_PIX_FMT_FLAG_RGB);
    /* yuvj formats are full range by name: swscale knows */
    const int full = !rgb && src->color_range == AVCOL_RANGE_JPEG && strncmp(d->name, "yuvj", 4);
    if (p->sws != old || (int)fmt != p->sws_fmt || full != p->sws_full) {
        /* one matrix on both sides: Y'CbCr keeps its own, RGB gets ours */
        const int *m = sws_getCoefficients(p->color.matrix);
        if (rgb || full) /* else the defaults pass Y'CbCr through untouched */
            sws_setColorspaceDetails(p->sws, m, rgb || full, m, 0, 0, 1 << 16, 1 << 16);
        p->sws_fmt = fmt;
        p->sws_full = full;
    }
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
        const char *fmt = av_get_pix_fmt_name((enum AVPixelFormat)fr->format) ?: "?";
        if (sws_isSupportedInput((enum AVPixelFormat)fr->format))
            snprintf(p->err, sizeof(p->err),
                     "input %s: out of memory for the %dx%d %s to %dx%d scaler", p->o.input,
                     fr->width, fr->height, fmt, f->w, f->h);
        else
            snprintf(p->err, sizeof(p->err), "input %s: cannot convert pixel format %s",
                     p->o.input, fmt);
        atomic_store(&p->failed, 1);
        crisp_ring_push(&p->sink2cap, idx);
        return -1;
    }
    f->capture_ns = crisp_now_ns();
    series_add(&p->cap, f->capture_ns - t_conv + p->dec_ns); /* decode (or dequeue) + conversion */
    p->dec_ns = 0;
    f->pts = pts_us;
    f->seq = seq;
    atomic_fetch_add(&p->frames_in, 1);
    crisp_ring_push(&p->cap2inf, idx); /* cannot fail: the ring holds the whole pool */
    return 0;
}

/* Reads the source until it ends or crispd stops. A live source that is
 * closed (it vanished, or was not there at start) is reopened with backoff
 * (0.1 s doubling to 2 s) while the sink keeps publishing. A source with
 * nothing for a second counts one stall until its next frame. */
static void *capture_thread(void *arg)
{
    struct pipeline *p = arg;
    struct source *src = &p->src;
    const int live = p->o.realtime;
    uint64_t seq = 0;
    int backoff_ms = 100, stalled = 0;
    int64_t last_frame = crisp_now_ns();
    while (!atomic_load(&p->stop)) {
        if (!src->priv) {
            char err[256];
            if (src->open(src, err, sizeof(err)) < 0) {
                atomic_store(&p->source_state, SOURCE_LOST);
                for (int t = 0; t < backoff_ms && !atomic_load(&p->stop); t += 20)
                    sleep_ms(20);
                backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
                continue;
            }
            atomic_fetch_add(&p->source_reopens, 1);
            last_frame = crisp_now_ns();
        }
        struct source_frame sf;
        int r = src->next(src, &sf);
        if (r == -EAGAIN) {
            if (!stalled && crisp_now_ns() - last_frame > 1000000000LL) {
                stalled = 1;
                atomic_fetch_add(&p->source_stalls, 1);
                atomic_store(&p->source_state, SOURCE_STALLED);
            }
            continue;
        }
        if (r == -EBADMSG) {
            atomic_fetch_add(&p->frames_corrupt, 1);
            continue;
        }
        if (r == -ENODEV) { /* gone: the sink keeps publishing meanwhile */
            src->close(src);
            atomic_fetch_add(&p->source_lost, 1);
            atomic_store(&p->source_state, SOURCE_LOST);
            continue;
        }
        if (r < 0)
            break; /* end of stream */
        backoff_ms = 100;
        stalled = 0;
        atomic_store(&p->source_state, SOURCE_LIVE);
        last_frame = crisp_now_ns();
        p->dec_ns += sf.decode_ns;
        int d = deliver(p, sf.frame, sf.pts_us, seq++, live);
        src->release(src);
        if (d < 0)
            break;
    }
    atomic_store(&p->source_state, SOURCE_ENDED);
    atomic_store(&p->source_done, 1);
    return NULL;
}

/* ---- inference ---- */

/* 0, -ECANCELED when crispd is stopping (the frame is not finished), or
 * another error (failed set, reported by the main thread) */
/* the engine's reuse counts since the last frame into the pipeline's */
static void count_tiles(struct pipeline *p)
{
    long t, r, c, u;
    crisp_engine_reuse_stats(p->engine, &t, &r);
    crisp_engine_reuse_checked(p->engine, &c, &u);
    atomic_store_explicit(&p->reuse_mode, crisp_engine_reuse(p->engine), memory_order_relaxed);
    if (p->tiles_engine != p->engine) { /* a new engine counts from 0 */
        p->tiles_engine = p->engine;
        p->tiles_seen = p->reused_seen = p->checked_seen = p->unchanged_seen = 0;
    }
    atomic_fetch_add_explicit(&p->tiles_checked, c - p->checked_seen, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->tiles_unchanged, u - p->unchanged_seen, memory_order_relaxed);
    p->checked_seen = c;
    p->unchanged_seen = u;
    atomic_fetch_add_explicit(&p->tiles_total, t - p->tiles_seen, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->tiles_reused, r - p->reused_seen, memory_order_relaxed);
    p->tiles_seen = t;
    p->reused_seen = r;
}

static int sharpen_luma(struct pipeline *p, struct crisp_frame *f)
{
    /* u8 in and out: fused engines (the ladder in int8) read and write the
     * plane in one pass each */
    const int w = p->o.w, h = p->o.h;
    const float strength = atomic_load_explicit(&p->strength, memory_order_relaxed);
    int r;
    if (!crisp_engine_pair(p->engine)) {
        p->have_prev = 0;
        r = crisp_engine_run_luma8(p->engine, f->data[0], f->stride[0], strength);
        if (r < 0 && r != -ECANCELED)
            atomic_store(&p->failed, 2);
        count_tiles(p);
        return r;
    }
    /* a frame-pair model also reads the previous frame as it came in */
    for (int y = 0; y < h; y++)
        memcpy(p->cur_y + (size_t)y * w, f->data[0] + (ptrdiff_t)y * f->stride[0], (size_t)w);
    r = crisp_engine_run_luma8_pair(p->engine, f->data[0], f->stride[0],
                                    p->have_prev ? p->prev_y : NULL, w, strength);
    if (r < 0 && r != -ECANCELED)
        atomic_store(&p->failed, 2);
    uint8_t *t = p->prev_y;
    p->prev_y = p->cur_y;
    p->cur_y = t;
    p->have_prev = 1;
    count_tiles(p);
    return r;
}

static void *infer_thread(void *arg)
{
    struct pipeline *p = arg;
    const int live = p->o.realtime;
    /* OpenMP keeps a thread pool per calling thread: this thread's is
     * started here, where a failure can still be reported (OpenMP's runtime
     * would end the process at the first frame instead) */
    if (!p->o.bypass &&
        crisp_engine_threads_start(p->o.threads, p->infer_err, sizeof(p->infer_err)) < 0) {
        atomic_store(&p->failed, 4);
        atomic_store(&p->infer_done, 1);
        return NULL;
    }
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
        if (p->pv)
            preview_before(p->pv, idx, f);
        if (atomic_load_explicit(&p->bypass, memory_order_relaxed)) {
            p->have_prev = 0; /* switched off: a frame-pair model starts again */
        } else if (!p->o.bypass) {
            int64_t t = crisp_now_ns();
            if (sharpen_luma(p, f) == -ECANCELED) { /* stopping: an unfinished frame is not shown */
                crisp_ring_push(&p->inf2cap, idx);
                break;
            }
            series_add(&p->inf, crisp_now_ns() - t);
        }
        crisp_ring_push(&p->inf2sink, idx);
    }
    atomic_store(&p->infer_done, 1);
    return NULL;
}

/* ---- sink ---- */

static int emit(struct pipeline *p, const struct crisp_frame *f, int fresh)
{
    long limit = p->o.frames;
    if (limit > 0 && atomic_load(&p->frames_out) >= limit)
        return 0;
    int64_t ts = crisp_now_ns();
    /* live: the clock since the first output frame (repeats have no input
     * time); offline: the input's frame times, from its first frame */
    int64_t pts_us = -1;
    if (p->o.realtime)
        pts_us = p->t_first_out ? (ts - p->t_first_out) / 1000 : 0;
    else if (f->pts >= 0) {
        if (!p->t_first_out)
            p->pts0 = f->pts;
        pts_us = f->pts - p->pts0;
    }
    int wr = p->sink.write(&p->sink, f, pts_us);
    series_add(&p->snk, crisp_now_ns() - ts);
    if (wr < 0) {
        p->sink_err = wr;
        atomic_store(&p->failed, 3);
        return -1;
    }
    int64_t now = crisp_now_ns();
    p->cpu_last_out = pipeline_cpu_ns();
    if (!p->t_first_out) {
        p->t_first_out = now;
        atomic_store(&p->cpu_first_out, p->cpu_last_out);
        atomic_store(&p->cpu_first_t, now);
    }
    p->t_last_out = now;
    if (fresh)
        series_add(&p->lat, now - f->capture_ns);
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
        if (p->pv)
            preview_after(p->pv, idx, &p->pool.frames[idx]);
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

/* ---- set-up and tear-down (main thread) ---- */

int pipeline_prepare(struct pipeline *p, char *err, size_t n)
{
    const int w = p->o.w, h = p->o.h;
    const size_t np = (size_t)w * h;
    if (crisp_frame_pool_init(&p->pool, POOL, w, h) < 0 ||
        crisp_ring_init(&p->cap2inf, POOL) < 0 || crisp_ring_init(&p->inf2sink, POOL) < 0 ||
        crisp_ring_init(&p->inf2cap, POOL) < 0 || crisp_ring_init(&p->sink2cap, POOL) < 0 ||
        !(p->warm = calloc(np, 1)) || !(p->prev_y = calloc(np, 1)) ||
        !(p->cur_y = calloc(np, 1)) ||
        series_init(&p->lat) < 0 || series_init(&p->inf) < 0 || series_init(&p->cap) < 0 ||
        series_init(&p->snk) < 0) {
        snprintf(err, n, "out of memory for %dx%d frames", w, h);
        return -ENOMEM;
    }
    if (p->o.http && preview_create(&p->pv, w, h, POOL) < 0) {
        snprintf(err, n, "out of memory for the preview");
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < POOL; i++)
        crisp_ring_push(&p->sink2cap, i);
    if (p->engine) { /* warm-up: oneDNN generates its kernels on the first run */
        if (crisp_engine_run_luma8(p->engine, p->warm, w, 1.0f) < 0) {
            snprintf(err, n, "warm-up inference failed");
            return -EIO;
        }
    }
    if (crisp_frame_pool_init(&p->no_signal, 1, w, h) < 0) {
        snprintf(err, n, "out of memory for the %dx%d \"no signal\" frame", w, h);
        return -ENOMEM;
    }
    /* "no signal": dark grey with lighter diagonal bands */
    struct crisp_frame *f = &p->no_signal.frames[0];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            f->data[0][(size_t)y * f->stride[0] + x] = ((x + y) / 64) % 2 ? 60 : 40;
    for (int pl = 1; pl < 3; pl++)
        memset(f->data[pl], 128, (size_t)f->stride[pl] * (h / 2));
    return 0;
}

int pipeline_start(struct pipeline *p)
{
    void *(*fns[3])(void *) = {sink_thread, infer_thread, capture_thread};
    for (int i = 0; i < 3; i++) {
        if (pthread_create(&p->th[i], NULL, fns[i], p)) {
            atomic_store(&p->stop, 1);
            return -EAGAIN;
        }
        p->started++;
    }
    return 0;
}

void pipeline_join(struct pipeline *p)
{
    for (int i = 0; i < p->started; i++)
        pthread_join(p->th[i], NULL);
    p->started = 0;
}

void pipeline_destroy(struct pipeline *p)
{
    sws_freeContext(p->sws);
    p->sws = NULL;
    if (p->src.close)
        p->src.close(&p->src);
    rtp_gate_destroy(&p->gate);
    crisp_engine_destroy(&p->engine);
    struct crisp_engine *pe = atomic_exchange(&p->pending_engine, NULL),
                        *re = atomic_exchange(&p->retired_engine, NULL);
    crisp_engine_destroy(&pe);
    crisp_engine_destroy(&re);
    crisp_ring_destroy(&p->cap2inf);
    crisp_ring_destroy(&p->inf2sink);
    crisp_ring_destroy(&p->inf2cap);
    crisp_ring_destroy(&p->sink2cap);
    crisp_frame_pool_destroy(&p->pool);
    crisp_frame_pool_destroy(&p->no_signal);
    free(p->warm);
    free(p->prev_y);
    free(p->cur_y);
    series_free(&p->lat);
    series_free(&p->inf);
    series_free(&p->cap);
    series_free(&p->snk);
    preview_destroy(&p->pv);
}

const char *const SOURCE_STATE_NAMES[5] = {"opening", "live", "stalled", "lost", "ended"};

void pipeline_model_name(struct pipeline *p, char *out, size_t n)
{
    pipeline_model_info(p, out, n, NULL, NULL);
}

void pipeline_model_info(struct pipeline *p, char *name, size_t n, double *gmac, int *int8)
{
    pthread_mutex_lock(&p->ctl_lock);
    snprintf(name, n, "%s", p->model_name[0] ? p->model_name : "none (bypass)");
    if (gmac)
        *gmac = p->model_gmac;
    if (int8)
        *int8 = p->model_int8;
    pthread_mutex_unlock(&p->ctl_lock);
}

void pipeline_set_model_path(struct pipeline *p, const char *path)
{
    p->model_path = path;
    pthread_mutex_lock(&p->ctl_lock);
    snprintf(p->model_name, sizeof(p->model_name), "%s", path ? auto_model_name(path) : "");
    p->model_gmac = p->built_gmac;
    p->model_int8 = p->built_int8;
    pthread_mutex_unlock(&p->ctl_lock);
}
