// SPDX-License-Identifier: BSD-2-Clause
// GET /metrics (metrics.h): Prometheus text exposition, built in a growing
// buffer on the HTTP thread that asks. Metric names follow Prometheus'
// conventions: base units (seconds, bytes), counters end in _total,
// process_* as the official client libraries name them.
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisp/frame.h"
#include "metrics.h"
#include "pipeline.h"
#include "preview.h"

struct buf {
    char *s;
    size_t n, cap;
    int oom;
};

static void put(struct buf *b, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !b->oom; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)k + 1;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct buf *b, const char *name, const char *help, long v)
{
    head(b, name, "counter", help);
    put(b, "%s %ld\n", name, v);
}

static void gauge(struct buf *b, const char *name, const char *help, double v)
{
    head(b, name, "gauge", help);
    put(b, "%s %.17g\n", name, v);
}

static void histogram(struct buf *b, const char *name, const char *help, struct series *s)
{
    head(b, name, "histogram", help);
    long cum = 0;
    for (int i = 0; i < SERIES_BUCKETS; i++) {
        cum += atomic_load_explicit(&s->bucket[i], memory_order_relaxed);
        if (i < SERIES_BUCKETS - 1)
            put(b, "%s_bucket{le=\"%g\"} %ld\n", name, SERIES_LE[i], cum);
        else
            put(b, "%s_bucket{le=\"+Inf\"} %ld\n", name, cum);
    }
    put(b, "%s_sum %.9f\n%s_count %ld\n", name,
        atomic_load_explicit(&s->sum_ns, memory_order_relaxed) / 1e9, name, cum);
}

/* a label value: backslash, quote and newline escaped */
static void label(char *out, size_t n, const char *s)
{
    size_t o = 0;
    for (; *s && o + 3 < n; s++) {
        if (*s == '\\' || *s == '"')
            out[o++] = '\\', out[o++] = *s;
        else if (*s == '\n')
            out[o++] = '\\', out[o++] = 'n';
        else
            out[o++] = *s;
    }
    out[o] = 0;
}

/* utime+stime in seconds, RSS and virtual size in bytes, open fds */
static void process(struct buf *b, struct pipeline *p)
{
    double cpu = 0, rss = 0, vsz = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char line[2048];
        if (fgets(line, sizeof(line), f)) {
            char *r = strrchr(line, ')'); /* after the command's name */
            unsigned long ut = 0, st = 0, vs = 0;
            long rs = 0;
            if (r && sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d "
                                   "%*d %*d %*d %*u %lu %ld", &ut, &st, &vs, &rs) == 4) {
                cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
                vsz = (double)vs;
                rss = (double)rs * (double)sysconf(_SC_PAGESIZE);
            }
        }
        fclose(f);
    }
    head(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
    put(b, "process_cpu_seconds_total %.2f\n", cpu);
    gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.", rss);
    gauge(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.", vsz);
    gauge(b, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          p->start_wall);
}

char *metrics_text(struct pipeline *p, long refused)
{
    struct buf b = {malloc(8192), 0, 8192, 0};
    if (!b.s)
        return NULL;
    counter(&b, "crisp_frames_in_total", "Frames read from the source.", atomic_load(&p->frames_in));
    counter(&b, "crisp_frames_out_total", "Frames written to the output (fresh, repeated and no-signal).",
            atomic_load(&p->frames_out));
    head(&b, "crisp_frames_dropped_total", "counter",
         "Frames dropped to keep up, by the stage that dropped them.");
    put(&b, "crisp_frames_dropped_total{stage=\"capture\"} %ld\n", atomic_load(&p->dropped_capture));
    put(&b, "crisp_frames_dropped_total{stage=\"inference\"} %ld\n", atomic_load(&p->dropped_infer));
    put(&b, "crisp_frames_dropped_total{stage=\"sink\"} %ld\n", atomic_load(&p->dropped_sink));
    counter(&b, "crisp_frames_repeated_total", "Frames written again while the source had nothing new.",
            atomic_load(&p->frames_repeated));
    counter(&b, "crisp_frames_no_signal_total", "\"No signal\" frames written.",
            atomic_load(&p->frames_no_signal));
    counter(&b, "crisp_frames_corrupt_total", "Pictures not shown: decoder errors or no call's size.",
            atomic_load(&p->frames_corrupt));
    counter(&b, "crisp_tiles_total", "32x32 output tiles of the frames the network ran for.",
            atomic_load(&p->tiles_total));
    counter(&b, "crisp_tiles_reused_total",
            "Of them, tiles whose input did not change, copied from the previous output (--reuse).",
            atomic_load(&p->tiles_reused));
    counter(&b, "crisp_source_reopens_total", "Times a live source was opened again.",
            atomic_load(&p->source_reopens));
    counter(&b, "crisp_source_stalls_total", "Times the source sent nothing for a second.",
            atomic_load(&p->source_stalls));
    counter(&b, "crisp_source_lost_total", "Times the source vanished.", atomic_load(&p->source_lost));
    counter(&b, "crisp_rtp_rejected_total", "RTP datagrams the gate refused.",
            atomic_load(&p->rtp_rejected));
    head(&b, "crisp_reloads_total", "counter", "Engines handed over at run time (SIGHUP, model changes, auto step-downs), by result.");
    put(&b, "crisp_reloads_total{result=\"ok\"} %ld\n", atomic_load(&p->reloads));
    put(&b, "crisp_reloads_total{result=\"failed\"} %ld\n", atomic_load(&p->reloads_failed));
    counter(&b, "crisp_http_refused_total", "HTTP requests refused (4xx and 5xx but 404).", refused);
    counter(&b, "crisp_preview_frames_total", "Preview pictures made for watchers of the page.",
            p->pv ? preview_count(p->pv) : 0);
    histogram(&b, "crisp_latency_seconds", "Time from capture to output of fresh frames.", &p->lat);
    histogram(&b, "crisp_inference_seconds", "Time the model takes per frame.", &p->inf);
    char name[64], esc[160];
    double gmac = 0;
    int int8 = 0;
    pipeline_model_info(p, name, sizeof(name), &gmac, &int8);
    label(esc, sizeof(esc), name);
    head(&b, "crisp_model_info", "gauge", "The model in use (labels), always 1.");
    put(&b, "crisp_model_info{name=\"%s\",gmac=\"%.3f\",precision=\"%s\"} 1\n", esc, gmac,
        strcmp(name, "none (bypass)") ? (int8 ? "int8" : "f32") : "none");
    gauge(&b, "crisp_strength", "Sharpening strength (0 the input, 1 the model, 2 doubled).",
          (double)atomic_load(&p->strength));
    gauge(&b, "crisp_bypass", "1 while frames pass through unsharpened.",
          p->o.bypass || atomic_load(&p->bypass) ? 1 : 0);
    gauge(&b, "crisp_output_frames_per_second", "Output frame rate over the last second.",
          atomic_load(&p->fps_milli) / 1000.0);
    head(&b, "crisp_source_state", "gauge", "What the source does: 1 for the current state.");
    int st = atomic_load(&p->source_state);
    for (int i = 0; i < 5; i++)
        put(&b, "crisp_source_state{state=\"%s\"} %d\n", SOURCE_STATE_NAMES[i], i == st);
    gauge(&b, "crisp_uptime_seconds", "Seconds since crispd started.",
          (crisp_now_ns() - p->t_start) / 1e9);
    process(&b, p);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
