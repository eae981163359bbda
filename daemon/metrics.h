// SPDX-License-Identifier: BSD-2-Clause
// GET /metrics (http.c): crispd's counters, timing histograms and gauges in
// Prometheus' text exposition format 0.0.4 (docs/operations.md lists them).
// Reads the pipeline's atomics and series and /proc/self; any thread.
#ifndef CRISPD_METRICS_H
#define CRISPD_METRICS_H

struct pipeline;

/* the exposition as a malloc'd string, NULL without memory; `refused` is
 * the HTTP requests refused so far */
char *metrics_text(struct pipeline *p, long refused);

#endif
