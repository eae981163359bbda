// SPDX-License-Identifier: BSD-2-Clause
// crispd's pipeline: a frame pool, four SPSC rings of pool indices and three
// threads (capture -> inference -> sink), plus the model's engine and its
// hot swap. docs/architecture.md has the thread plan.
//
// Live sources (--realtime, cameras, network streams, camera sinks) never
// block: capture drops a frame when no pool frame is free, inference and
// the sink take the newest frame and hand stale ones back, counting each
// drop. Offline runs (a file read as fast as possible) apply back-pressure
// instead, so every frame is processed.
//
// Ownership: at any moment exactly one thread owns a pool index. The main
// thread creates and destroys everything, opens the source and the sink
// before the threads start and closes them after they are joined; the
// real-time threads only bump atomic counters and fill preallocated sample
// arrays, and the main thread reports them.
#ifndef CRISPD_PIPELINE_H
#define CRISPD_PIPELINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "crisp/engine.h"
#include "crisp/frame.h"
#include "crisp/ring.h"
#include "rtp_gate.h"
#include "sink.h"
#include "source.h"

/* crispd's options, from the command line and the config file (main.c) */
struct crispd_opts {
    const char *input, *output, *model, *stats_json, *sdp_out, *pixfmt, *precision;
    int w, h, bypass, realtime, threads, verbose, reorder, stripe_rows;
    long frames;
    float strength;
    double fps, no_signal_s, budget_ms;
    int live_source; /* rtp://, sdp:, udp:// — reopened with backoff when they stall */
    const char *v4l2_dev; /* v4l2:/dev/videoN — live, reopened with backoff when it vanishes */
};

#define PIPELINE_SAMPLES 65536 /* latency samples kept for the percentiles */

struct pipeline {
    struct crispd_opts o;
    struct crisp_frame_pool pool;
    struct crisp_ring cap2inf, inf2sink, inf2cap, sink2cap;
    struct crisp_engine *engine;
    uint8_t *warm; /* a luma plane that warms up and times models off the inference thread */
    /* inference thread: a frame-pair model's previous input luma (before
     * sharpening) and the copy of the current one; have_prev 0 at the start */
    uint8_t *prev_y, *cur_y;
    int have_prev;
    struct sink sink;
    struct source src;
    struct rtp_gate *gate; /* sdp: inputs: the only socket on the stream's port */
    struct SwsContext *sws; /* capture thread: source pictures into pool frames */
    int sws_fmt, sws_full; /* capture thread: what sws's colour details were set for */
    /* the frames' colorimetry, fixed when the output opens: the source's,
     * else what players assume for its size (crisp_colorimetry_default) */
    struct crisp_colorimetry color;
    int64_t pts0; /* sink thread: the first output frame's input time (offline) */
    double fps;             /* the output rate: --fps, else the source's, else 30 */
    /* state */
    atomic_int stop, source_done, infer_done, failed;
    atomic_long frames_in, frames_out, dropped_capture, dropped_infer, dropped_sink;
    atomic_long frames_repeated, frames_no_signal, source_reopens, source_stalls;
    atomic_long frames_corrupt, source_lost, reloads, rtp_rejected;
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
    int sink_err;   /* the sink's error code, reported by the main thread */
    long n_lat, n_inf;
    char err[512];       /* capture thread's failure (failed 1) */
    char infer_err[256]; /* inference thread's failure to start (failed 4) */
    pthread_t th[3];
    int started; /* threads running */
    /* --model auto (model_auto.c, main thread): the installed ladder, largest
     * first, the rung in use, and the sliding window of inference drops */
    char *ladder[3];
    int n_ladder, ladder_at;
    int64_t watch_t0;
    long watch_in, watch_dropped;
};

/* Loads the model at `path`, checks that it is a luma model, chooses its
 * precision (--precision, else int8 where the CPU and MODEL.q8 allow it)
 * and builds its engine for the pipeline's frame size. At start (`hup` 0)
 * it logs the precision and why int8 is not used; on SIGHUP (`hup` 1) the
 * messages say the current model is kept. 0, or < 0 with err set to the
 * whole message. Main thread. */
int pipeline_engine_build(const struct pipeline *p, const char *path, int hup,
                          struct crisp_engine **out, char *err, size_t n);

/* Allocates the pool, the rings, the float planes and the sample arrays,
 * draws the "no signal" frame and warms the engine up (if any). 0, or < 0
 * with err set. Main thread, before pipeline_start. */
int pipeline_prepare(struct pipeline *p, char *err, size_t n);

/* Starts the sink, inference and capture threads (the source and the sink
 * are open). 0, or < 0 after stopping the ones that did start. */
int pipeline_start(struct pipeline *p);

/* Sets stop and joins the threads that run. Main thread. */
void pipeline_join(struct pipeline *p);

/* SIGHUP: loads, checks and warms up the model again and hands the engine
 * to the inference thread; on any failure the current model stays. Frees
 * an engine the inference thread retired. Main thread. */
void pipeline_reload(struct pipeline *p);
void pipeline_collect(struct pipeline *p);

/* Frees everything pipeline_prepare and pipeline_engine_build made, and
 * closes the source. Main thread, after pipeline_join. */
void pipeline_destroy(struct pipeline *p);

/* model_auto.c: --model auto. Builds and times every ladder model found in
 * `dir` (the pipeline is prepared and the output rate known) and keeps the
 * largest that fits the budget in p->engine; 0 or < 0 with err set. */
int auto_model_choose(struct pipeline *p, const char *dir, char *err, size_t n);
/* Housekeeping: steps down one model when inference falls behind. */
void auto_model_watch(struct pipeline *p, int64_t now);
void auto_model_free(struct pipeline *p);
/* "crisp-rt" for ".../crisp-rt.crisp" (a static buffer: main thread) */
const char *auto_model_name(const char *path);

/* stats.c: writes the counters and latency percentiles as one JSON object
 * (docs/operations.md lists the keys). Sorts the sample arrays in place.
 * Main thread, after pipeline_join. 0 or -errno. */
int stats_write_json(struct pipeline *p, const char *path);

#endif
