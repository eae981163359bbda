// SPDX-License-Identifier: BSD-2-Clause
// crisp bench: the real pipeline (crispd: decode -> sharpen -> null sink) on
// a real 720p clip, once as fast as possible and once paced at the clip's
// frame rate (--realtime), each as a child process measured from outside
// (CPU time and peak RSS from wait4), plus the best single-layer oneDNN
// convolution measured here in the same run, which the model's throughput
// is compared with.
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "crisp/engine.h"
#include "crisp/log.h"
#include "crisp/model.h"
#include "crisp/util.h"
#include "args.h"

#define fail crisp_fail

struct run_result {
    double cpu_s, rss_mb;
    /* from crispd's stats JSON */
    double fps, lat50, lat99, inf50, inf99, cap50, cap99, sink50, sink99;
    long frames_out, frames_in, drops;
};

/* value of "key": NUMBER, or of "outer": {... "key": NUMBER} */
static double json_num(const char *js, const char *outer, const char *key)
{
    const char *p = js;
    char pat[64];
    if (outer) {
        snprintf(pat, sizeof(pat), "\"%s\":", outer);
        p = strstr(js, pat);
        if (!p)
            return -1;
    }
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(p, pat);
    return p ? strtod(p + strlen(pat), NULL) : -1;
}

static int run_crispd(const char *crispd, char *const argv[], const char *stats,
                      struct run_result *r, char *err, size_t n)
{
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, n, "fork: %s", strerror(errno));
        return -errno;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        execv(crispd, argv);
        fprintf(stderr, "crisp: bench: cannot run %s: %s\n", crispd, strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        snprintf(err, n, "wait: %s", strerror(errno));
        return -errno;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        snprintf(err, n, "crispd failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return CRISP_EUSAGE;
    }
    r->cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec * 1e-6;
    r->rss_mb = ru.ru_maxrss / 1024.0;
    uint8_t *buf;
    size_t len;
    int ret = crisp_file_read(stats, &buf, &len);
    if (ret < 0) {
        if (snprintf(err, n, "%s: %s", stats, crisp_strerror(ret)) >= (int)n)
            err[n - 1] = 0;
        return ret;
    }
    char *js = realloc(buf, len + 1);
    if (!js) {
        free(buf);
        return -ENOMEM;
    }
    js[len] = 0;
    r->fps = json_num(js, NULL, "fps_out");
    r->frames_out = (long)json_num(js, NULL, "frames_out");
    r->frames_in = (long)json_num(js, NULL, "frames_in");
    r->drops = (long)(json_num(js, NULL, "dropped_capture") + json_num(js, NULL, "dropped_infer") +
                      json_num(js, NULL, "dropped_sink"));
    r->lat50 = json_num(js, "latency_ms", "p50");
    r->lat99 = json_num(js, "latency_ms", "p99");
    r->inf50 = json_num(js, "infer_ms", "p50");
    r->inf99 = json_num(js, "infer_ms", "p99");
    r->cap50 = json_num(js, "capture_ms", "p50");
    r->cap99 = json_num(js, "capture_ms", "p99");
    r->sink50 = json_num(js, "sink_ms", "p50");
    r->sink99 = json_num(js, "sink_ms", "p99");
    free(js);
    return 0;
}

/* crispd next to this binary (installed), in the build tree, or on PATH */
static int find_crispd(char *out, size_t n)
{
    char exe[4096];
    if (crisp_exe_dir(exe, sizeof(exe)) == 0) {
        const char *cands[] = {"%s/crispd", "%s/../daemon/crispd"};
        for (int i = 0; i < 2; i++) {
            if (snprintf(out, n, cands[i], exe) >= (int)n)
                continue;
            if (access(out, X_OK) == 0)
                return 0;
        }
    }
    const char *path = getenv("PATH");
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path ? path : "/usr/bin:/bin");
    for (char *d = strtok(tmp, ":"); d; d = strtok(NULL, ":")) {
        if (snprintf(out, n, "%s/crispd", d) >= (int)n)
            continue;
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -ENOENT;
}

static const char BENCH_USAGE[] =
    "usage: crisp bench [--input CLIP] [--model M] [--frames N] [--size WxH] [--threads T]\n"
    "                   [--json FILE] [--crispd PATH] [--no-paced] [--precision int8|fp32]\n"
    "                   [--stripe-rows N]  (crispd's stripe execution, 0: whole frame)\n"
    "                   [--ladder]  each installed ladder model (crisp-rt-s, crisp-rt,\n"
    "                   crisp-rt-l) in turn, one row each, fast (not paced)\n"
    "  CLIP defaults to ../shared/data/video/talking-720p-a.mp4, else demo/cockatoo.mp4\n";

struct bench_opts {
    const char *input, *model, *json, *crispd_opt, *size, *precision, *stripe_rows;
    int frames, threads, paced, w, h, ladder;
};

/* the options and the default clip; -1 to go on, else the exit code */
static int bench_options(struct bench_opts *b, int argc, char **argv)
{
    static const struct option lo[] = {{"input", 1, 0, 'i'},  {"model", 1, 0, 'm'},
                                       {"frames", 1, 0, 'n'}, {"size", 1, 0, 's'},
                                       {"threads", 1, 0, 't'}, {"json", 1, 0, 'j'},
                                       {"crispd", 1, 0, 'c'}, {"no-paced", 0, 0, 'P'},
                                       {"precision", 1, 0, 'p'},
                                       {"stripe-rows", 1, 0, 'r'}, {"ladder", 0, 0, 'L'},
                                       {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'i': b->input = optarg; break;
        case 'm': b->model = optarg; break;
        case 'n': b->frames = atoi(optarg); break;
        case 's': b->size = optarg; break;
        case 't': b->threads = atoi(optarg); break;
        case 'j': b->json = optarg; break;
        case 'c': b->crispd_opt = optarg; break;
        case 'P': b->paced = 0; break;
        case 'r': b->stripe_rows = optarg; break;
        case 'L': b->ladder = 1; break;
        case 'p':
            if (strcmp(optarg, "int8") && strcmp(optarg, "fp32"))
                return fail(EXIT_USAGE, "bench: --precision must be int8 or fp32");
            b->precision = optarg;
            break;
        case 'h': fputs(BENCH_USAGE, stdout); return 0;
        default: return fail(EXIT_USAGE, "bench: unknown option %s (see crisp bench --help)", argv[optind - 1]);
        }
    }
    if (b->frames < 2 || b->frames > 1000000)
        return fail(EXIT_USAGE, "bench: --frames must be 2..1000000");
    if (sscanf(b->size, "%dx%d", &b->w, &b->h) != 2 || b->w < 16 || b->h < 16)
        return fail(EXIT_USAGE, "bench: --size must be WxH");
    if (!b->input) {
        const char *cands[] = {"../shared/data/video/talking-720p-a.mp4",
#ifdef CRISP_SOURCE_ROOT /* a developer build: the source tree's clips too */
                               CRISP_SOURCE_ROOT "/../shared/data/video/talking-720p-a.mp4",
#endif
                               "demo/cockatoo.mp4",
#ifdef CRISP_SOURCE_ROOT
                               CRISP_SOURCE_ROOT "/demo/cockatoo.mp4"
#endif
        };
        for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]) && !b->input; i++)
            if (access(cands[i], R_OK) == 0)
                b->input = cands[i];
        if (!b->input)
            return fail(EXIT_INPUT, "bench: no clip found (../shared/data/video/talking-720p-a.mp4 "
                                    "or demo/cockatoo.mp4 from scripts/demo.sh): pass --input");
    }
    if (access(b->input, R_OK) < 0)
        return fail(EXIT_INPUT, "bench: %s: %s", b->input, strerror(errno));
    return -1;
}

/* crispd on the clip to the null sink, fast and (with paced) at the clip's
 * rate, results in r[0] and r[1]; 0 or the exit code */
static int bench_runs(const struct bench_opts *b, const char *crispd, const char *mp,
                      struct run_result r[2])
{
    char tmpl[] = "/tmp/crisp-bench-XXXXXX";
    if (!mkdtemp(tmpl))
        return fail(EXIT_INPUT, "bench: mkdtemp: %s", strerror(errno));
    char stats[2][4200] = {"", ""}, in_arg[4200], frames_arg[32], threads_arg[32], err[512];
    snprintf(in_arg, sizeof(in_arg), "file:%s", b->input);
    snprintf(frames_arg, sizeof(frames_arg), "%d", b->frames);
    snprintf(threads_arg, sizeof(threads_arg), "%d", b->threads);
    memset(r, 0, 2 * sizeof(*r));
    int ret = EXIT_OK;
    for (int k = 0; k < 1 + b->paced; k++) {
        snprintf(stats[k], sizeof(stats[k]), "%s/stats-%d.json", tmpl, k);
        char *args[24];
        int a = 0;
        args[a++] = (char *)crispd;
        args[a++] = "--input";
        args[a++] = in_arg;
        args[a++] = "--output";
        args[a++] = "null:";
        args[a++] = "--model";
        args[a++] = (char *)mp;
        args[a++] = "--size";
        args[a++] = (char *)b->size;
        args[a++] = "--frames";
        args[a++] = frames_arg;
        args[a++] = "--threads";
        args[a++] = threads_arg;
        args[a++] = "--stats-json";
        args[a++] = stats[k];
        if (k == 1)
            args[a++] = "--realtime";
        if (b->precision) {
            args[a++] = "--precision";
            args[a++] = (char *)b->precision;
        }
        if (b->stripe_rows) {
            args[a++] = "--stripe-rows";
            args[a++] = (char *)b->stripe_rows;
        }
        args[a] = NULL;
        if (run_crispd(crispd, args, stats[k], &r[k], err, sizeof(err)) < 0) {
            ret = fail(EXIT_INPUT, "bench: %s", err);
            break;
        }
    }
    for (int k = 0; k < 2; k++) {
        unlink(stats[k]);
    }
    rmdir(tmpl);
    return ret;
}

/* what the table and the JSON report beside the runs */
struct bench_cost {
    const char *mp, *prec_name;
    double gmac_frame, peak;
    char why[512], peak_desc[128];
};

static void bench_print(const struct bench_opts *b, const struct bench_cost *k,
                        const struct run_result *r)
{
    const double gmacs = r[0].inf50 > 0 ? k->gmac_frame / (r[0].inf50 / 1000.0) : 0;
    const double cpu_frame = r[0].frames_out > 0 ? r[0].cpu_s / r[0].frames_out : 0;
    char threads_arg[32];
    snprintf(threads_arg, sizeof(threads_arg), "%d", b->threads);
    printf("clip %s, model %s in %s (%.2f GMAC per %dx%d frame), %d frames, threads %s, %s, "
           "CPU %s\n",
           b->input, k->mp, k->prec_name, k->gmac_frame, b->w, b->h, b->frames,
           b->threads ? threads_arg : "default",
           b->stripe_rows && atoi(b->stripe_rows) > 0 ? "stripes" : "whole frame",
           crisp_cpu_isa_name());
    if (*k->why)
        printf("(%s)\n", k->why);
    printf("%-26s %10s %10s\n", "", "fast", b->paced ? "paced" : "");
    printf("%-26s %10.1f %10.1f\n", "fps", r[0].fps, r[1].fps);
    printf("%-26s %5.1f/%-5.1f %5.1f/%-5.1f\n", "decode+convert ms p50/p99", r[0].cap50, r[0].cap99,
           r[1].cap50, r[1].cap99);
    printf("%-26s %5.1f/%-5.1f %5.1f/%-5.1f\n", "inference ms p50/p99", r[0].inf50, r[0].inf99,
           r[1].inf50, r[1].inf99);
    printf("%-26s %5.2f/%-5.2f %5.2f/%-5.2f\n", "sink ms p50/p99", r[0].sink50, r[0].sink99,
           r[1].sink50, r[1].sink99);
    printf("%-26s %5.1f/%-5.1f %5.1f/%-5.1f\n", "latency ms p50/p99", r[0].lat50, r[0].lat99,
           r[1].lat50, r[1].lat99);
    printf("%-26s %10.4f %10.4f\n", "CPU s per frame", cpu_frame,
           r[1].frames_out > 0 ? r[1].cpu_s / r[1].frames_out : 0);
    printf("%-26s %10.1f %10.1f\n", "peak RSS MB", r[0].rss_mb, r[1].rss_mb);
    printf("%-26s %10ld %10ld\n", "frames dropped", r[0].drops, r[1].drops);
    printf("inference %.1f GMAC/s = %.0f%% of the best single conv layer here (%.1f GMAC/s, %s)\n",
           gmacs, 100 * gmacs / k->peak, k->peak, k->peak_desc);
}

static int bench_json(const struct bench_opts *b, const struct bench_cost *k,
                      const struct run_result *r)
{
    const double gmacs = r[0].inf50 > 0 ? k->gmac_frame / (r[0].inf50 / 1000.0) : 0;
    const double cpu_frame = r[0].frames_out > 0 ? r[0].cpu_s / r[0].frames_out : 0;
    FILE *f = fopen(b->json, "w");
    if (!f)
        return fail(EXIT_INPUT, "bench: %s: %s", b->json, strerror(errno));
    fprintf(f,
            "{\"clip\": \"%s\", \"precision\": \"%s\", \"isa\": \"%s\", \"frames\": %d, "
            "\"stripe_rows\": %d, "
            "\"width\": %d, \"height\": %d, "
            "\"gmac_per_frame\": %.4f, "
            "\"fps\": %.3f, \"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
            "\"stage_ms\": {\"capture\": {\"p50\": %.3f, \"p99\": %.3f}, "
            "\"infer\": {\"p50\": %.3f, \"p99\": %.3f}, \"sink\": {\"p50\": %.3f, \"p99\": %.3f}}, "
            "\"cpu_s_per_frame\": %.5f, \"peak_rss_mb\": %.1f, \"gmacs_per_s\": %.2f, "
            "\"peak_gmacs_per_s\": %.2f, \"peak_fraction\": %.4f, "
            "\"paced\": {\"fps\": %.3f, \"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
            "\"cpu_s_per_frame\": %.5f, \"dropped\": %ld}}\n",
            b->input, k->prec_name, crisp_cpu_isa_name(), b->frames,
            b->stripe_rows ? atoi(b->stripe_rows) : 0, b->w, b->h, k->gmac_frame,
            r[0].fps, r[0].lat50, r[0].lat99, r[0].cap50, r[0].cap99, r[0].inf50, r[0].inf99,
            r[0].sink50, r[0].sink99, cpu_frame, r[0].rss_mb, gmacs, k->peak, gmacs / k->peak,
            r[1].fps, r[1].lat50, r[1].lat99,
            r[1].frames_out > 0 ? r[1].cpu_s / r[1].frames_out : 0, r[1].drops);
    if (fclose(f))
        return fail(EXIT_INPUT, "bench: %s: write failed", b->json);
    return EXIT_OK;
}

/* the model's GMAC per frame and precision, and the best single convolution
 * layer measured in the same run; 0 or the exit code */
static int bench_cost(const struct bench_opts *b, struct bench_cost *k)
{
    struct crisp_model *m = NULL;
    char err[512];
    if (crisp_weights_load(&m, k->mp, err, sizeof(err)) < 0)
        return fail(EXIT_INPUT, "%s", err);
    k->gmac_frame = crisp_model_macs(m, b->w, b->h) / 1e9;
    enum crisp_precision prec;
    struct crisp_quant *qq = NULL;
    if (crisp_precision_choose(b->precision, k->mp, m, &prec, &qq, k->why, sizeof(k->why), err,
                               sizeof(err)) < 0) {
        crisp_model_destroy(&m);
        return fail(EXIT_INPUT, "bench: %s", err);
    }
    crisp_quant_destroy(&qq);
    crisp_model_destroy(&m);
    k->prec_name = prec == CRISP_PRECISION_INT8 ? "int8" : "fp32";
    /* the reference: the best single convolution layer, same machine, same run */
    if (crisp_engine_conv_peak(b->threads, prec, &k->peak, k->peak_desc, sizeof(k->peak_desc)) < 0 ||
        k->peak <= 0)
        return fail(EXIT_INPUT, "bench: oneDNN convolution benchmark failed");
    return 0;
}

/* --ladder: each ladder model found beside crisp-rt.crisp, fast runs only */
static int bench_ladder(struct bench_opts *b, const char *crispd)
{
    static const char *const names[] = {"crisp-rt-s", "crisp-rt", "crisp-rt-l"};
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", b->model ? b->model : CRISP_DEFAULT_MODEL);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof(dir), ".");
    b->paced = 0;
    printf("clip %s, %d frames at %dx%d, threads %s, %s, CPU %s\n", b->input, b->frames, b->w,
           b->h, b->threads ? "set" : "default",
           b->stripe_rows && atoi(b->stripe_rows) > 0 ? "stripes" : "whole frame",
           crisp_cpu_isa_name());
    printf("%-12s %6s %6s %8s %14s %10s %8s\n", "model", "GMAC", "prec", "fps", "infer p50/p99",
           "CPU s/fr", "peak");
    int found = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s.crisp", dir, names[i]);
        if (access(path, R_OK) < 0)
            continue;
        found++;
        struct bench_cost k = {.mp = path};
        struct run_result r[2];
        int ret;
        if ((ret = bench_cost(b, &k)) || (ret = bench_runs(b, crispd, k.mp, r)))
            return ret;
        const double gmacs = r[0].inf50 > 0 ? k.gmac_frame / (r[0].inf50 / 1000.0) : 0;
        printf("%-12s %6.2f %6s %8.1f %6.1f/%-7.1f %10.4f %7.0f%%\n", names[i], k.gmac_frame,
               k.prec_name, r[0].fps, r[0].inf50, r[0].inf99,
               r[0].frames_out > 0 ? r[0].cpu_s / r[0].frames_out : 0, 100 * gmacs / k.peak);
    }
    if (!found)
        return fail(EXIT_INPUT, "bench --ladder: no crisp-rt-s, crisp-rt or crisp-rt-l in %s", dir);
    return EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
    struct bench_opts b = {.size = "1280x720", .frames = 300, .paced = 1};
    int ret = bench_options(&b, argc, argv);
    if (ret >= 0)
        return ret;
    char crispd[4096];
    if (b.crispd_opt)
        snprintf(crispd, sizeof(crispd), "%s", b.crispd_opt);
    else if (find_crispd(crispd, sizeof(crispd)) < 0)
        return fail(EXIT_INPUT, "bench: crispd not found next to crisp or on PATH (--crispd PATH)");
    if (b.ladder)
        return bench_ladder(&b, crispd);
    struct bench_cost k = {.mp = b.model ? b.model : CRISP_DEFAULT_MODEL};
    struct run_result r[2];
    if ((ret = bench_cost(&b, &k)) || (ret = bench_runs(&b, crispd, k.mp, r)))
        return ret;
    bench_print(&b, &k, r);
    return b.json ? bench_json(&b, &k, r) : EXIT_OK;
}
