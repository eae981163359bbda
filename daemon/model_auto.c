// SPDX-License-Identifier: BSD-2-Clause
// --model auto (pipeline.h): the student ladder. At start every installed
// ladder model (crisp-rt-l, crisp-rt, crisp-rt-s, largest first) is built
// for the real frame size and thread count, warmed up and timed; the largest
// whose inference p99 fits the budget (--budget-ms, default half the frame
// interval) is used. While a live pipeline runs, a model whose inference
// falls behind (frames dropped at inference in most of a sliding window) is
// replaced by the next smaller one, handed to the inference thread as a
// SIGHUP reload is, without touching the sink.
//
// Main thread only (start-up and the housekeeping loop). Owns the ladder's
// paths and the window's counters; the engines it builds go to the pipeline.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisp/log.h"
#include "crisp/util.h"
#include "pipeline.h"

const char *const AUTO_LADDER[3] = {"crisp-rt-l", "crisp-rt", "crisp-rt-s"}; /* largest first */
#define LADDER AUTO_LADDER
#define RUNS 12 /* timed runs per model: p99 taken as the second slowest */

const char *auto_model_name(const char *path)
{
    static char name[256]; /* main thread only */
    const char *b = strrchr(path, '/');
    snprintf(name, sizeof(name), "%s", b ? b + 1 : path);
    size_t l = strlen(name);
    if (l > 6 && !strcmp(name + l - 6, ".crisp"))
        name[l - 6] = 0;
    return name;
}

/* inference p99 in ms of an engine on a textured frame, after a warm-up;
 * a model three times over the budget is not timed further */
static double time_engine(struct pipeline *p, struct crisp_engine *e, double budget)
{
    const size_t n = (size_t)p->o.w * p->o.h;
    for (size_t i = 0; i < n; i++)
        p->warm[i] = (uint8_t)((i * 2654435761u >> 24) & 255);
    float ms[RUNS];
    /* the frame is sharpened in place run after run: the timing does not
     * depend on the pixels */
    crisp_engine_run_luma8(e, p->warm, p->o.w, 1.0f); /* kernels generated, caches warm */
    crisp_engine_run_luma8(e, p->warm, p->o.w, 1.0f);
    int runs = 0;
    while (runs < RUNS) {
        int64_t t = crisp_now_ns();
        crisp_engine_run_luma8(e, p->warm, p->o.w, 1.0f);
        ms[runs] = (float)((crisp_now_ns() - t) / 1e6);
        if (ms[runs++] > 3 * budget && runs >= 2)
            break;
    }
    /* the nearest-rank p99 of a dozen samples is the largest: take the second
     * largest, so that one preemption does not decide */
    float a = 0, b = 0;
    for (int r = 0; r < runs; r++) {
        if (ms[r] > a) {
            b = a;
            a = ms[r];
        } else if (ms[r] > b) {
            b = ms[r];
        }
    }
    memset(p->warm, 0, n);
    return b;
}

int auto_model_choose(struct pipeline *p, const char *dir, char *err, size_t n)
{
    const double budget = p->o.budget_ms > 0 ? p->o.budget_ms : 500.0 / p->fps;
    struct crisp_engine *best = NULL;
    int found = 0;
    char log[512] = "";
    for (size_t i = 0; i < sizeof(LADDER) / sizeof(LADDER[0]); i++) {
        char *path = malloc(strlen(dir) + 32);
        if (!path)
            return -ENOMEM;
        sprintf(path, "%s/%s.crisp", dir, LADDER[i]);
        if (access(path, R_OK) < 0) {
            free(path);
            continue;
        }
        p->ladder[p->n_ladder++] = path;
        found++;
        if (best)
            continue; /* a larger model fits: the smaller ones are kept for stepping down */
        struct crisp_engine *e = NULL;
        int ret = pipeline_engine_build(p, path, 0, &e, err, n);
        if (ret < 0)
            return ret;
        double p99 = time_engine(p, e, budget);
        size_t l = strlen(log);
        snprintf(log + l, sizeof(log) - l, "%s%s %.1f ms", l ? ", " : "", LADDER[i], p99);
        p->ladder_at = p->n_ladder - 1;
        if (p99 <= budget) {
            best = e;
        } else if (i + 1 < sizeof(LADDER) / sizeof(LADDER[0])) {
            crisp_engine_destroy(&e);
        } else {
            best = e; /* the smallest, fitting or not */
        }
    }
    if (!found) {
        snprintf(err, n, "--model auto: no crisp-rt-l, crisp-rt or crisp-rt-s in %s", dir);
        return -ENOENT;
    }
    if (!best) { /* only larger models were installed and none fitted: the smallest of them */
        p->ladder_at = p->n_ladder - 1;
        int ret = pipeline_engine_build(p, p->ladder[p->ladder_at], 0, &best, err, n);
        if (ret < 0)
            return ret;
    }
    p->engine = best;
    pipeline_set_model_path(p, p->ladder[p->ladder_at]);
    crisp_log(CRISP_LOG_WARN, "model auto: inference p99 at %dx%d: %s; budget %.1f ms: using %s",
              p->o.w, p->o.h, log, budget, auto_model_name(p->model_path));
    return 0;
}

void auto_model_watch(struct pipeline *p, int64_t now)
{
    if (!p->n_ladder || !p->o.realtime || p->pinned)
        return;
    const int64_t window = 3000000000LL; /* three seconds */
    long in = atomic_load(&p->frames_in), dropped = atomic_load(&p->dropped_infer);
    if (!p->watch_t0) {
        p->watch_t0 = now;
        p->watch_in = in;
        p->watch_dropped = dropped;
        return;
    }
    if (now - p->watch_t0 < window)
        return;
    long fresh = in - p->watch_in, lost = dropped - p->watch_dropped;
    p->watch_t0 = now;
    p->watch_in = in;
    p->watch_dropped = dropped;
    /* behind: inference dropped more than a quarter of the frames that came */
    if (fresh < 10 || lost * 4 <= fresh || p->ladder_at + 1 >= p->n_ladder ||
        atomic_load(&p->pending_engine))
        return;
    const char *next = p->ladder[p->ladder_at + 1];
    char err[1024];
    if (pipeline_hand_over(p, next, NULL, err, sizeof(err)) < 0) {
        crisp_log(CRISP_LOG_ERROR, "model auto: cannot step down to %s: %s", next, err);
        p->n_ladder = p->ladder_at + 1; /* do not try again */
        return;
    }
    char from[256];
    snprintf(from, sizeof(from), "%s", auto_model_name(p->model_path));
    crisp_log(CRISP_LOG_WARN,
              "model auto: inference fell behind (%ld of %ld frames dropped in 3 s): stepping "
              "down from %s to %s",
              lost, fresh, from, auto_model_name(next));
    p->ladder_at++;
    pipeline_set_model_path(p, next);
}

void auto_model_free(struct pipeline *p)
{
    for (int i = 0; i < p->n_ladder; i++)
        free(p->ladder[i]);
    p->n_ladder = 0;
}
