// SPDX-License-Identifier: BSD-2-Clause
// crispd's timing series (pipeline.h): the last PIPELINE_SAMPLES samples of
// one stage's time in ms, for the percentiles of the stats file and
// GET /status, and cumulative histogram buckets in seconds for /metrics.
//
// One writer (the stage's thread) appends with series_add: relaxed atomic
// stores of the sample and the bucket, then a release store of the count;
// readers on other threads (the HTTP thread, the main thread) copy with
// series_copy. Nothing allocates or locks after series_init; RT-safe.
#ifndef CRISPD_SERIES_H
#define CRISPD_SERIES_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define PIPELINE_SAMPLES 65536 /* samples kept for the percentiles: the last ones */
#define SERIES_BUCKETS 11      /* upper bounds below, +Inf last */

/* bucket upper bounds in seconds (Prometheus `le`), shared by every series */
static const double SERIES_LE[SERIES_BUCKETS - 1] = {0.002, 0.005, 0.01, 0.015, 0.02,
                                                     0.025, 0.033, 0.05, 0.1, 0.25};

struct series {
    _Atomic float *v; /* PIPELINE_SAMPLES samples in ms, a ring */
    atomic_long n;    /* samples ever added */
    atomic_long bucket[SERIES_BUCKETS]; /* per bucket, not cumulative */
    atomic_llong sum_ns;
};

static inline int series_init(struct series *s)
{
    s->v = calloc(PIPELINE_SAMPLES, sizeof(*s->v));
    return s->v ? 0 : -1;
}

static inline void series_free(struct series *s)
{
    free((void *)s->v);
    s->v = NULL;
}

/* one sample of `ns` nanoseconds; the series' only writer thread. RT-safe. */
static inline void series_add(struct series *s, int64_t ns)
{
    long n = atomic_load_explicit(&s->n, memory_order_relaxed);
    atomic_store_explicit(&s->v[n % PIPELINE_SAMPLES], (float)(ns / 1e6), memory_order_relaxed);
    int b = 0;
    while (b < SERIES_BUCKETS - 1 && ns > (int64_t)(SERIES_LE[b] * 1e9))
        b++;
    atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_ns, ns, memory_order_relaxed);
    atomic_store_explicit(&s->n, n + 1, memory_order_release);
}

/* Copies the kept samples (at most PIPELINE_SAMPLES) into out; their count.
 * Any thread. Samples overwritten during the copy may mix two frames'. */
static inline long series_copy(struct series *s, float *out)
{
    long n = atomic_load_explicit(&s->n, memory_order_acquire);
    long k = n < PIPELINE_SAMPLES ? n : PIPELINE_SAMPLES;
    for (long i = 0; i < k; i++)
        out[i] = atomic_load_explicit(&s->v[i], memory_order_relaxed);
    return k;
}

#endif
