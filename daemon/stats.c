// SPDX-License-Identifier: BSD-2-Clause
// crispd's stats (pipeline.h): frame counts, drops, output rate, the
// latency percentiles and what runs, as one JSON object: written to
// --stats-json on exit by the main thread and served as GET /status by the
// HTTP thread while running. Owns nothing; copies the timing series.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "crisp/frame.h"
#include "crisp/util.h"
#include "pipeline.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* the q-quantile of n sorted samples (nearest rank), 0 without samples */
static double pct(float *v, long n, double q)
{
    if (n <= 0)
        return 0;
    long i = (long)ceil(q * n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* the percentiles of one series: a sorted copy */
struct pcts {
    double p50, p95, p99;
};

static struct pcts series_pcts(struct series *s, float *tmp)
{
    long k = series_copy(s, tmp);
    qsort(tmp, (size_t)k, sizeof(float), cmp_float);
    return (struct pcts){pct(tmp, k, 0.5), pct(tmp, k, 0.95), pct(tmp, k, 0.99)};
}

char *stats_json(struct pipeline *p)
{
    float *tmp = malloc(sizeof(float) * PIPELINE_SAMPLES);
    char *out = malloc(4096);
    if (!tmp || !out) {
        free(tmp);
        free(out);
        return NULL;
    }
    struct pcts lat = series_pcts(&p->lat, tmp), inf = series_pcts(&p->inf, tmp),
                cap = series_pcts(&p->cap, tmp), snk = series_pcts(&p->snk, tmp);
    free(tmp);
    long out_n = atomic_load(&p->frames_out);
    /* t_first_out/t_last_out belong to the sink thread: the rate is taken
     * from the main thread's one-second window while running */
    double fps = atomic_load(&p->fps_milli) / 1000.0;
    if (!p->started && p->t_last_out) { /* after the join */
        double secs = (p->t_last_out - p->t_first_out) / 1e9;
        fps = out_n > 1 && secs > 0 ? (out_n - 1) / secs : 0;
    }
    /* the process's cores since the first output frame: what the call costs,
     * without the start-up (model auto's timing, kernels generated) */
    double cores = 0;
    const int64_t c0 = atomic_load(&p->cpu_first_out), t0 = atomic_load(&p->cpu_first_t);
    if (t0) {
        const int done = !p->started && p->t_last_out;
        const int64_t c1 = done ? p->cpu_last_out : pipeline_cpu_ns();
        const int64_t t1 = done ? p->t_last_out : crisp_now_ns();
        cores = t1 > t0 ? (double)(c1 - c0) / (double)(t1 - t0) : 0;
    }
    char model[64], src[1024], sink[1024];
    pipeline_model_name(p, model, sizeof(model));
    const long tiles = atomic_load(&p->tiles_total), reused = atomic_load(&p->tiles_reused);
    const long checked = atomic_load(&p->tiles_checked), same = atomic_load(&p->tiles_unchanged);
    crisp_json_escape(src, sizeof(src), p->o.input ? p->o.input : "");
    crisp_json_escape(sink, sizeof(sink), p->o.output ? p->o.output : "");
    snprintf(out, 4096,
             "{\"frames_in\": %ld, \"frames_out\": %ld, \"dropped_capture\": %ld, "
             "\"dropped_infer\": %ld, \"dropped_sink\": %ld, \"frames_repeated\": %ld, "
             "\"frames_no_signal\": %ld, \"source_reopens\": %ld, \"source_stalls\": %ld, "
             "\"source_lost\": %ld, \"frames_corrupt\": %ld, \"rtp_rejected\": %ld, \"reloads\": %ld, "
             "\"reloads_failed\": %ld, \"fps_out\": %.3f, \"cpu_cores\": %.4f, "
             "\"latency_ms\": {\"p50\": %.3f, \"p95\": %.3f, \"p99\": %.3f}, "
             "\"infer_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
             "\"capture_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
             "\"sink_ms\": {\"p50\": %.3f, \"p99\": %.3f}, \"reuse\": %s, \"tiles\": %ld, "
             "\"tiles_reused\": %ld, \"tiles_reused_share\": %.4f, \"tiles_unchanged_share\": %.4f, "
             "\"reuse_mode\": \"%s\", "
             "\"auto_rule\": \"%s\", "
             "\"cpu_budget\": %.3f, \"model\": \"%s\", "
             "\"strength\": %.3f, \"bypass\": %s, \"source\": \"%s\", \"source_state\": \"%s\", "
             "\"sink\": \"%s\", \"size\": \"%dx%d\", \"uptime_s\": %.1f}\n",
             atomic_load(&p->frames_in), out_n, atomic_load(&p->dropped_capture),
             atomic_load(&p->dropped_infer), atomic_load(&p->dropped_sink),
             atomic_load(&p->frames_repeated), atomic_load(&p->frames_no_signal),
             atomic_load(&p->source_reopens), atomic_load(&p->source_stalls),
             atomic_load(&p->source_lost), atomic_load(&p->frames_corrupt),
             atomic_load(&p->rtp_rejected), atomic_load(&p->reloads),
             atomic_load(&p->reloads_failed), fps, cores, lat.p50, lat.p95, lat.p99, inf.p50, inf.p99,
             cap.p50, cap.p99, snk.p50, snk.p99, p->o.reuse ? "true" : "false", tiles, reused,
             tiles ? (double)reused / (double)tiles : 0.0,
             checked ? (double)same / (double)checked : 0.0,
             (const char *[]){"off", "windows", "layers"}[atomic_load(&p->reuse_mode) % 3], AUTO_RULE_NAMES[p->auto_rule % 9],
             p->o.cpu_budget, model, (double)atomic_load(&p->strength),
             p->o.bypass || atomic_load(&p->bypass) ? "true" : "false", src,
             SOURCE_STATE_NAMES[atomic_load(&p->source_state) % 5], sink, p->o.w, p->o.h,
             (crisp_now_ns() - p->t_start) / 1e9);
    return out;
}

int stats_write_json(struct pipeline *p, const char *path)
{
    char *js = stats_json(p);
    if (!js)
        return -ENOMEM;
    FILE *f = fopen(path, "w");
    if (!f) {
        free(js);
        return -errno;
    }
    fputs(js, f);
    free(js);
    return fclose(f) ? -errno : 0;
}
