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
#include "series.h"
#include "sink.h"
#include "source.h"

/* crispd's options, from the command line and the config file (main.c) */
struct crispd_opts {
    const char *input, *output, *model, *stats_json, *sdp_out, *pixfmt, *precision;
    int w, h, bypass, realtime, threads, verbose, reorder, stripe_rows;
    int reuse; /* reuse unchanged tiles (crisp_engine_params.reuse): --reuse 1 */
    long frames;
    float strength;
    double fps, no_signal_s, budget_ms;
    double cpu_budget; /* --model auto: CPU cores the network may use at the frame rate */
    int live_source; /* rtp://, sdp:, udp:// — reopened with backoff when they stall */
    const char *v4l2_dev; /* v4l2:/dev/videoN — live, reopened with backoff when it vanishes */
    const char *http, *http_token_file; /* the control surface: ADDR:PORT, and its token */
};

/* the CPU time of the whole process, ns */
int64_t pipeline_cpu_ns(void);

/* the --model auto ladder's rungs (model_auto.c) */
#define AUTO_LADDER_N 4

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
    atomic_long frames_corrupt, source_lost, reloads, reloads_failed, rtp_rejected;
    /* 32x32 output tiles the network ran for, and of them copied from the
     * previous output (--reuse); the inference thread adds its engine's */
    atomic_long tiles_total, tiles_reused, tiles_checked, tiles_unchanged;
    atomic_int reuse_mode; /* crisp_engine_reuse of the engine running: 0 off, 1 windows, 2 layers */
    const struct crisp_engine *tiles_engine; /* inference thread: the engine last counted */
    long tiles_seen, reused_seen, checked_seen, unchanged_seen;            /* and its counts then */
    /* what the capture thread is doing (enum source_state), for /metrics */
    atomic_int source_state;
    /* steered while running (POST /control): read by the inference thread
     * at every frame; `bypass` here is the live switch, o.bypass means that
     * crispd runs no model at all */
    _Atomic float strength;
    atomic_int bypass;
    atomic_long fps_milli; /* output rate over the last second, x1000 (main thread) */
    /* SIGHUP: the main thread builds a new engine and hands it over here; the
     * inference thread swaps it in between frames and hands the old one back
     * for the main thread to free (nothing is allocated or freed in the loop) */
    _Atomic(struct crisp_engine *) pending_engine, retired_engine;
    const char *model_path;
    struct crisp_frame_pool no_signal;
    int64_t t_first_out, t_last_out;
    /* the process's CPU time at the first output frame, and when that was
     * (the sink thread stores them once; "cpu_cores" in the stats is the
     * CPU since then: the call's, without start-up), and at the last one */
    _Atomic int64_t cpu_first_out, cpu_first_t;
    int64_t cpu_last_out;
    /* timing series (series.h): capture to output, inference, capture
     * (decode and conversion), the sink's write; each has one writer thread */
    struct series lat, inf, cap, snk;
    int64_t dec_ns; /* capture thread: decoding time spent on the frame being made */
    int sink_err;   /* the sink's error code, reported by the main thread */
    char err[512];       /* capture thread's failure (failed 1) */
    char infer_err[256]; /* inference thread's failure to start (failed 4) */
    pthread_t th[3];
    int started; /* threads running */
    /* --model auto (model_auto.c, main thread): the installed ladder, largest
     * first, the rung in use, and the sliding window of inference drops */
    char *ladder[AUTO_LADDER_N];
    int n_ladder, ladder_at;
    int64_t watch_t0;
    long watch_in, watch_dropped;
    int pinned; /* a model chosen over HTTP: the step-down waits for model=auto */
    /* --model auto's choice: the rule that decided (AUTO_RULE_*), and its
     * CPU window: process CPU time at the window's start */
    atomic_int auto_rule; /* read by the HTTP thread */
    int auto_rule_pinned; /* main thread: the rule before a model was pinned */
    int64_t watch_cpu_ns;
    int cpu_over; /* consecutive windows over --cpu-budget */
    /* the control surface (http.c, preview.c), NULL without --http */
    struct http *http;
    struct preview *pv;
    int64_t t_start; /* crisp_now_ns() at start, and the wall clock then */
    double start_wall;
    /* the model's name and the ladder's, for the HTTP thread (ctl_lock) */
    pthread_mutex_t ctl_lock;
    pthread_cond_t ctl_cond;
    char model_name[64];
    double model_gmac, built_gmac; /* the model's (ctl_lock), the last one built (main) */
    int model_int8, built_int8;
    /* a model change asked over HTTP, done by the main thread (ctl_lock):
     * ctl_state 1 asked, 2 done with ctl_ret (0, or < 0 and ctl_err) */
    char ctl_model[64];
    int ctl_state, ctl_ret;
    char ctl_err[256];
};

enum source_state { SOURCE_OPENING, SOURCE_LIVE, SOURCE_STALLED, SOURCE_LOST, SOURCE_ENDED };
extern const char *const SOURCE_STATE_NAMES[5];

/* Loads the model at `path`, checks that it is a luma model, chooses its
 * precision (--precision, else int8 where the CPU and MODEL.q8 allow it)
 * and builds its engine for the pipeline's frame size. At start (`flags` 0)
 * it logs the precision and why int8 is not used; on SIGHUP (PIPELINE_BUILD_HUP) the
 * messages say the current model is kept; with PIPELINE_BUILD_TIMING
 * (--model auto's rungs under test) the engine has no tile reuse. 0, or
 * < 0 with err set to the whole message; notes its GMAC and precision in
 * built_*. Main thread. */
enum { PIPELINE_BUILD_HUP = 1, PIPELINE_BUILD_TIMING = 2 };
int pipeline_engine_build(struct pipeline *p, const char *path, int flags,
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
/* What a reload, a model change over HTTP and --model auto's step-down share:
 * builds and warms up the model at `path` and hands its engine to the
 * inference thread (replacing one not taken yet: *replaced 1), counting
 * reloads or reloads_failed. 0, or < 0 with err set and the current model
 * kept. Main thread. */
int pipeline_hand_over(struct pipeline *p, const char *path, int *replaced, char *err, size_t n);
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
/* the ladder's names, largest first */
extern const char *const AUTO_LADDER[AUTO_LADDER_N];
/* why --model auto runs the model it runs (stats "auto_rule") */
enum { AUTO_RULE_NONE, AUTO_RULE_FITS, AUTO_RULE_LATENCY, AUTO_RULE_CPU, AUTO_RULE_BOTH,
       AUTO_RULE_SMALLEST, AUTO_RULE_STEP_LATENCY, AUTO_RULE_STEP_CPU, AUTO_RULE_PINNED };
extern const char *const AUTO_RULE_NAMES[];
/* "crisp-rt" for ".../crisp-rt.crisp" (a static buffer: main thread) */
const char *auto_model_name(const char *path);

/* stats.c: the counters, latency percentiles and what runs, as one JSON
 * object (docs/operations.md lists the keys), into a malloc'd string (NULL
 * without memory). Any thread: it copies the series. */
char *stats_json(struct pipeline *p);
/* writes stats_json to `path`; 0 or -errno. Main thread. */
int stats_write_json(struct pipeline *p, const char *path);
/* the model in use ("none (bypass)" without one), under ctl_lock; and
 * setting it from a path (main thread) */
void pipeline_model_name(struct pipeline *p, char *out, size_t n);
void pipeline_model_info(struct pipeline *p, char *name, size_t n, double *gmac, int *int8);
void pipeline_set_model_path(struct pipeline *p, const char *path);

#endif
