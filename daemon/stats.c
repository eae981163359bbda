// SPDX-License-Identifier: BSD-2-Clause
// crispd's --stats-json (pipeline.h): frame counts, drops, output rate and
// the latency percentiles, written once on exit by the main thread after
// the pipeline's threads are joined. Owns nothing; sorts the pipeline's
// sample arrays in place.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

int stats_write_json(struct pipeline *p, const char *path)
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
            "\"source_lost\": %ld, \"frames_corrupt\": %ld, \"rtp_rejected\": %ld, \"reloads\": %ld, "
            "\"fps_out\": %.3f, "
            "\"latency_ms\": {\"p50\": %.3f, \"p95\": %.3f, \"p99\": %.3f}, "
            "\"infer_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
            "\"capture_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
            "\"sink_ms\": {\"p50\": %.3f, \"p99\": %.3f}, \"model\": \"%s\"}\n",
            atomic_load(&p->frames_in), out, atomic_load(&p->dropped_capture),
            atomic_load(&p->dropped_infer), atomic_load(&p->dropped_sink),
            atomic_load(&p->frames_repeated), atomic_load(&p->frames_no_signal),
            atomic_load(&p->source_reopens), atomic_load(&p->source_stalls),
            atomic_load(&p->source_lost), atomic_load(&p->frames_corrupt),
            atomic_load(&p->rtp_rejected), atomic_load(&p->reloads), fps,
            pct(p->lat_ms, p->n_lat, 0.5), pct(p->lat_ms, p->n_lat, 0.95),
            pct(p->lat_ms, p->n_lat, 0.99), pct(p->inf_ms, p->n_inf, 0.5),
            pct(p->inf_ms, p->n_inf, 0.99), pct(p->cap_ms, p->n_cap, 0.5),
            pct(p->cap_ms, p->n_cap, 0.99), pct(p->sink_ms, p->n_sink, 0.5),
            pct(p->sink_ms, p->n_sink, 0.99),
            p->model_path ? auto_model_name(p->model_path) : "none (bypass)");
    return fclose(f) ? -errno : 0;
}
