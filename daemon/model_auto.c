// SPDX-License-Identifier: BSD-2-Clause
// --model auto (pipeline.h): the student ladder. At start every installed
// ladder model (crisp-rt-l, crisp-rt, crisp-rt-s, crisp-rt-xs, largest first) is built
// for the real frame size and thread count, warmed up and timed on frames
// that change everywhere (no tile reuse: the worst case); the largest whose
// inference p99 fits the latency budget (--budget-ms, default half the
// frame interval) and whose CPU time per frame at the frame rate fits the
// CPU budget (--cpu-budget cores, default 0.5) is used; the stats say which
// rule decided (auto_rule). While a live pipeline runs, the next smaller
// model replaces the one in use when inference falls behind (frames dropped
// at inference in most of a sliding window) or when crispd's whole process
// uses more CPU than the budget in two windows in a row; it is handed to the
// inference thread as a SIGHUP reload is, without touching the sink.
//
// Main thread only (start-up and the housekeeping loop). Owns the ladder's
// paths and the window's counters; the engines it builds go to the pipeline.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crisp/log.h"
#include "crisp/util.h"
#include "pipeline.h"

const char *const AUTO_LADDER[AUTO_LADDER_N] = {"crisp-rt-l", "crisp-rt", "crisp-rt-s",
                                                "crisp-rt-xs"}; /* largest first */
#define LADDER AUTO_LADDER
#define RUNS 12 /* timed runs per model: p99 taken as the second slowest */

const char *const AUTO_RULE_NAMES[] = {"none", "fits", "latency", "cpu", "latency+cpu",
                                       "smallest", "step-down:latency", "step-down:cpu",
                                       "pinned"};

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

/* inference p99 in ms of an engine on a textured frame, after a warm-up,
 * and (*cpu) the process's CPU seconds per frame meanwhile, the runs paced
 * at the output rate as they will be (an engine run back to back, its
 * threads awake and its caches warm, costs a fifth to a third less CPU than
 * one run every frame interval); a model three times over the budget is not
 * timed further */
static double time_engine(struct pipeline *p, struct crisp_engine *e, double budget, double *cpu)
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
    int64_t cpu_total = 0;
    const int64_t interval = (int64_t)(1e9 / (p->fps > 0 ? p->fps : 30));
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (runs < RUNS) {
        next.tv_nsec += interval % 1000000000;
        next.tv_sec += interval / 1000000000 + next.tv_nsec / 1000000000;
        next.tv_nsec %= 1000000000;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
        /* every pixel changed: with --reuse the engine may not copy a tile */
        for (size_t i = 0; i < n; i++)
            p->warm[i] ^= 0x55;
        int64_t c = pipeline_cpu_ns(), t = crisp_now_ns();
        crisp_engine_run_luma8(e, p->warm, p->o.w, 1.0f);
        ms[runs] = (float)((crisp_now_ns() - t) / 1e6);
        cpu_total += pipeline_cpu_ns() - c;
        if (ms[runs++] > 3 * budget && runs >= 2)
            break;
    }
    *cpu = cpu_total / 1e9 / runs;
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
    const double cores = p->o.cpu_budget > 0 ? p->o.cpu_budget : 0.5;
    struct crisp_engine *best = NULL;
    int found = 0, over_lat = 0, over_cpu = 0;
    char log[768] = "";
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
        /* timed on frames that change everywhere: built without reuse's
         * window engines, which only the rung kept needs */
        int ret = pipeline_engine_build(p, path, PIPELINE_BUILD_TIMING, &e, err, n);
        if (ret < 0)
            return ret;
        double cpu = 0, p99 = time_engine(p, e, budget, &cpu);
        const int lat_ok = p99 <= budget, cpu_ok = cpu * p->fps <= cores;
        size_t l = strlen(log);
        snprintf(log + l, sizeof(log) - l, "%s%s %.1f ms %.2f cores", l ? ", " : "", LADDER[i],
                 p99, cpu * p->fps);
        p->ladder_at = p->n_ladder - 1;
        if (lat_ok && cpu_ok) {
            best = e;
            p->auto_rule = over_lat && over_cpu ? AUTO_RULE_BOTH
                           : over_lat           ? AUTO_RULE_LATENCY
                           : over_cpu           ? AUTO_RULE_CPU
                                                : AUTO_RULE_FITS;
            continue;
        }
        over_lat |= !lat_ok;
        over_cpu |= !cpu_ok;
        if (i + 1 < sizeof(LADDER) / sizeof(LADDER[0])) {
            crisp_engine_destroy(&e);
        } else {
            best = e; /* the smallest, fitting or not */
            p->auto_rule = AUTO_RULE_SMALLEST;
        }
    }
    if (!found) {
        snprintf(err, n, "--model auto: no crisp-rt-l, crisp-rt, crisp-rt-s or crisp-rt-xs in %s", dir);
        return -ENOENT;
    }
    if (!best) { /* only larger models were installed and none fitted: the smallest of them */
        p->ladder_at = p->n_ladder - 1;
        p->auto_rule = AUTO_RULE_SMALLEST;
        int ret = pipeline_engine_build(p, p->ladder[p->ladder_at], 0, &best, err, n);
        if (ret < 0)
            return ret;
    }
    if (p->o.reuse && !crisp_engine_reuse(best)) { /* the rung kept, now with reuse */
        crisp_engine_destroy(&best);
        int ret = pipeline_engine_build(p, p->ladder[p->ladder_at], 0, &best, err, n);
        if (ret < 0)
            return ret;
    }
    p->engine = best;
    pipeline_set_model_path(p, p->ladder[p->ladder_at]);
    crisp_log(CRISP_LOG_WARN,
              "model auto: inference p99 and CPU at %dx%d, %.3g fps, every tile changed: %s; "
              "budgets %.1f ms and %.2f cores: using %s (%s)",
              p->o.w, p->o.h, p->fps, log, budget, cores, auto_model_name(p->model_path),
              AUTO_RULE_NAMES[p->auto_rule]);
    return 0;
}

void auto_model_watch(struct pipeline *p, int64_t now)
{
    if (!p->n_ladder || !p->o.realtime || p->pinned)
        return;
    const int64_t window = 3000000000LL; /* three seconds */
    long in = atomic_load(&p->frames_in), dropped = atomic_load(&p->dropped_infer);
    const int64_t cpu = pipeline_cpu_ns();
    if (!p->watch_t0) {
        p->watch_t0 = now;
        p->watch_in = in;
        p->watch_dropped = dropped;
        p->watch_cpu_ns = cpu;
        return;
    }
    if (now - p->watch_t0 < window)
        return;
    long fresh = in - p->watch_in, lost = dropped - p->watch_dropped;
    const double cores = (double)(cpu - p->watch_cpu_ns) / (double)(now - p->watch_t0);
    p->watch_t0 = now;
    p->watch_in = in;
    p->watch_dropped = dropped;
    p->watch_cpu_ns = cpu;
    /* over the CPU budget in two windows in a row (the whole process) */
    p->cpu_over = fresh >= 10 && cores > p->o.cpu_budget ? p->cpu_over + 1 : 0;
    /* behind: inference dropped more than a quarter of the frames that came */
    const int behind = fresh >= 10 && lost * 4 > fresh, costly = p->cpu_over >= 2;
    if ((!behind && !costly) || p->ladder_at + 1 >= p->n_ladder ||
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
    if (behind)
        crisp_log(CRISP_LOG_WARN,
                  "model auto: inference fell behind (%ld of %ld frames dropped in 3 s): stepping "
                  "down from %s to %s",
                  lost, fresh, from, auto_model_name(next));
    else
        crisp_log(CRISP_LOG_WARN,
                  "model auto: crispd used %.2f cores in 3 s, over --cpu-budget %.2f twice: "
                  "stepping down from %s to %s",
                  cores, p->o.cpu_budget, from, auto_model_name(next));
    p->auto_rule = behind ? AUTO_RULE_STEP_LATENCY : AUTO_RULE_STEP_CPU;
    p->cpu_over = 0;
    p->ladder_at++;
    pipeline_set_model_path(p, next);
}

void auto_model_free(struct pipeline *p)
{
    for (int i = 0; i < p->n_ladder; i++)
        free(p->ladder[i]);
    p->n_ladder = 0;
}
