// SPDX-License-Identifier: BSD-2-Clause
// crispd: options, the config file merge, start-up and shutdown. The work
// itself happens in the pipeline's threads (pipeline.c); this file picks
// the source and the sink, loads the model, opens everything in order,
// then runs the housekeeping loop on the main thread: signals, SIGHUP
// reloads, systemd notifications and the periodic status line (the
// real-time threads never log). Owns the config file's strings.
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/pixfmt.h>

#include "crisp/config.h"
#include "crisp/error.h"
#include "crisp/log.h"
#include "crisp/media.h"
#include "crisp/util.h"
#include "http.h"
#include "notify.h"
#include "pipeline.h"

#define DEFAULT_CONFIG "/etc/crisp/crispd.conf"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

#define fail crisp_fail

static atomic_int g_signal, g_hup, g_starting = 1;
static atomic_int g_interruptible; /* the main thread waits in a call only a signal ends */
static pthread_t g_main_thread;
static struct pipeline g_pipeline;

/* Signals are taken by one thread of their own (signal_thread), never by the
 * threads that run oneDNN: SIGINT, SIGTERM, SIGHUP and SIGALRM are blocked
 * before any other thread starts, so every thread inherits the mask. A
 * signal delivered to a thread inside an AVX-512 oneDNN kernel corrupted the
 * heap (glibc: "corrupted size vs. prev_size", 3 to 5 of 50 SIGTERMs during
 * the teacher's warm-up on a Sapphire Rapids; none under AVX2), even with a
 * handler that only set a flag. */
static void on_wake(int sig)
{
    (void)sig; /* SIGUSR1 from signal_thread: only makes a waiting call return EINTR */
}

/* SIGTERM/SIGINT: sets the pipeline's stop flag (a lock-free atomic), which
 * every blocking call checks: FFmpeg's interrupt callback (opening, probing,
 * reading, reconnecting), the engine's build and runs, the threads' loops.
 * A main thread waiting in a system call (opening a FIFO) is woken by
 * SIGUSR1, installed without SA_RESTART, so the call returns EINTR. During
 * start-up SIGALRM 5 s later ends whatever still does not return. SIGHUP
 * asks for a reload. */
static int g_sig_fd = -1, g_sig_quit = -1; /* the signalfd; an eventfd that ends the thread */
static pthread_t g_sig_thread;

static void *signal_thread(void *arg)
{
    (void)arg;
    static const char msg[] = "crispd: stopping: a start-up step did not return within 5 s of "
                              "the signal; exiting\n";
    for (;;) {
        struct pollfd pf[2] = {{.fd = g_sig_fd, .events = POLLIN}, {.fd = g_sig_quit, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0)
            continue;
        if (pf[1].revents)
            return NULL; /* crispd exits (signals_stop) */
        struct signalfd_siginfo si;
        if (!pf[0].revents || read(g_sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
            continue;
        const int sig = (int)si.ssi_signo;
        if (sig == SIGHUP) {
            atomic_store(&g_hup, 1);
        } else if (sig == SIGALRM) {
            if (write(2, msg, sizeof(msg) - 1) < 0) {
            }
            _exit(EXIT_OK);
        } else {
            atomic_store(&g_signal, sig);
            atomic_store(&g_pipeline.stop, 1);
            if (atomic_load(&g_starting)) {
                alarm(5);
                if (atomic_load(&g_interruptible))
                    pthread_kill(g_main_thread, SIGUSR1);
            }
        }
    }
    return NULL;
}

/* Before any other thread exists. 0, or -1 when the signal thread cannot
 * start (signals then stay blocked: crispd is stopped with SIGKILL). */
static int install_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    g_sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
    g_sig_quit = eventfd(0, EFD_CLOEXEC);
    if (g_sig_fd < 0 || g_sig_quit < 0)
        return -1;
    struct sigaction sa = {.sa_handler = on_wake}; /* no SA_RESTART: the call returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    g_main_thread = pthread_self();
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 64 * 1024);
    int r = pthread_create(&g_sig_thread, &at, signal_thread, NULL);
    pthread_attr_destroy(&at);
    if (r) {
        close(g_sig_fd);
        close(g_sig_quit);
        g_sig_fd = g_sig_quit = -1;
    }
    return r ? -1 : 0;
}

/* Ends and joins the signal thread, if it runs (no thread outlives main). */
static void signals_stop(void)
{
    if (g_sig_quit < 0)
        return;
    uint64_t one = 1;
    if (write(g_sig_quit, &one, sizeof(one)) == (ssize_t)sizeof(one))
        pthread_join(g_sig_thread, NULL);
    close(g_sig_fd);
    close(g_sig_quit);
    g_sig_fd = g_sig_quit = -1;
}

/* The installed crisp-rt next to this binary (BINDIR/../share/crisp/models),
 * so an installed tree works wherever it was copied (meson install --destdir) */
static int default_model(char *buf, size_t n)
{
    char dir[4096];
    if (crisp_exe_dir(dir, sizeof(dir)) < 0 ||
        snprintf(buf, n, "%s/../share/crisp/models/crisp-rt.crisp", dir) >= (int)n)
        return -1;
    return access(buf, R_OK);
}

static const char USAGE[] =
    "usage: crispd --input URI --output URI [options]\n"
    "  --input v4l2:/dev/videoN | file:PATH | sdp:FILE | rtp://ADDR:PORT | any FFmpeg URL\n"
    "                      cameras: YUYV, NV12 or MJPEG at --size and --fps or the nearest offered\n"
    "                      network sources are live and reopened with backoff when they stall\n"
    "  --output null: | hash:FILE | file:PATH.mp4|.mkv | rtp://ADDR:PORT (H.264, --sdp-out FILE)\n"
    "           | pipewire[:NAME]  a PipeWire camera node (Video/Source, role Camera) [crisp]\n"
    "           | v4l2loopback:/dev/videoN  a virtual webcam (--pixfmt yuyv|i420 [yuyv])\n"
    "                      cameras run live: the last frame repeats while the source stalls\n"
    "  --model FILE|auto[:DIR]  luma model; auto (the default): the largest installed ladder\n"
    "                      model (crisp-rt-l, crisp-rt, crisp-rt-s, crisp-rt-xs; in DIR if\n"
    "                      given) whose inference p99 and CPU, timed at start at the\n"
    "                      frame rate, fit --budget-ms and\n"
    "                      --cpu-budget; live, it steps down while running when inference\n"
    "                      falls behind or crispd uses more CPU than the budget\n"
    "  --budget-ms MS      inference budget for --model auto [half the frame interval]\n"
    "  --cpu-budget CORES  CPU budget for --model auto at the frame rate [0.5]\n"
    "  --reuse 0|1         1: compute only tiles whose input changed, copy the rest from\n"
    "                      the previous output (the same bytes) [0]\n"
    "  --size WxH [1280x720]   --strength S (0..2: 0 the input, 1 the model,\n"
    "                      2 its correction doubled) [1.0]   --bypass   --realtime\n"
    "  --precision int8|fp32   [int8 when the CPU runs it and MODEL.q8 exists, else fp32]\n"
    "  --frames N          stop after N output frames\n"
    "  --stats-json FILE   write frame counts, drops, fps and latency percentiles on exit\n"
    "  --threads N         oneDNN threads [all cores]   -v  verbose\n"
    "  --stripe-rows N     run the network in horizontal stripes of about N rows, one\n"
    "                      worker per --threads, in cache (docs/architecture.md) [0: whole frame]\n"
    "  --fps F             output rate of live sources [30]\n"
    "  --no-signal S       live: seconds without frames before a no-signal frame [2]\n"
    "  --reorder N         RTP reorder queue in packets [0: lowest latency]\n"
    "  --http ADDR:PORT    serve the control surface: /metrics (Prometheus), /status,\n"
    "                      / (live preview and controls), POST /control; loopback only\n"
    "                      unless --http-token-file FILE holds a token (docs/operations.md)\n"
    "  --config FILE       INI file of the same keys (default " DEFAULT_CONFIG " when present);\n"
    "                      command-line options win\n";

/* One option, from the command line or the config file; -1 with err set. */
static int set_opt(struct crispd_opts *o, const char *key, const char *v, char *err, size_t n)
{
    char *end = NULL;
    int is_bool = !strcmp(key, "bypass") || !strcmp(key, "realtime") || !strcmp(key, "verbose");
    int b = 1;
    if (is_bool && v) {
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
            b = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
            b = 0;
        else {
            snprintf(err, n, "\"%s\" is not a boolean (true/false)", v);
            return -1;
        }
    }
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(err, n, __VA_ARGS__);                                                             \
        return -1;                                                                                 \
    } while (0)
    if (!strcmp(key, "input"))
        o->input = v;
    else if (!strcmp(key, "output"))
        o->output = v;
    else if (!strcmp(key, "model"))
        o->model = v;
    else if (!strcmp(key, "stats-json"))
        o->stats_json = v;
    else if (!strcmp(key, "sdp-out"))
        o->sdp_out = v;
    else if (!strcmp(key, "pixfmt"))
        o->pixfmt = v;
    else if (!strcmp(key, "http"))
        o->http = *v ? v : NULL;
    else if (!strcmp(key, "http-token-file"))
        o->http_token_file = *v ? v : NULL;
    else if (!strcmp(key, "precision")) {
        if (strcmp(v, "int8") && strcmp(v, "fp32"))
            BAD("must be int8 or fp32 (got \"%s\")", v);
        o->precision = v;
    }
    else if (!strcmp(key, "bypass"))
        o->bypass = b;
    else if (!strcmp(key, "realtime"))
        o->realtime = b;
    else if (!strcmp(key, "verbose"))
        o->verbose = b;
    else if (!strcmp(key, "size")) {
        int w, h;
        if (sscanf(v, "%dx%d", &w, &h) != 2 || w < 16 || h < 16 || w > 7680 || h > 4320 ||
            (w & 1) || (h & 1))
            BAD("must be WxH, even, 16x16..7680x4320 (got \"%s\")", v);
        o->w = w;
        o->h = h;
    } else if (!strcmp(key, "strength")) {
        float x = strtof(v, &end);
        if (*end || end == v || !(x >= 0 && x <= 2))
            BAD("must be in 0..2 (got \"%s\")", v);
        o->strength = x;
    } else if (!strcmp(key, "frames")) {
        long x = strtol(v, &end, 10);
        if (*end || end == v || x < 1)
            BAD("must be a positive integer (got \"%s\")", v);
        o->frames = x;
    } else if (!strcmp(key, "threads")) {
        long x = strtol(v, &end, 10);
        if (*end || end == v || x < 0 || x > 256)
            BAD("must be 0..256 (got \"%s\")", v);
        o->threads = (int)x;
    } else if (!strcmp(key, "fps")) {
        double x = strtod(v, &end);
        if (*end || end == v || !(x >= 1 && x <= 240))
            BAD("must be in 1..240 (got \"%s\")", v);
        o->fps = x;
    } else if (!strcmp(key, "no-signal")) {
        double x = strtod(v, &end);
        if (*end || end == v || !(x >= 0.1 && x <= 3600))
            BAD("must be 0.1..3600 seconds (got \"%s\")", v);
        o->no_signal_s = x;
    } else if (!strcmp(key, "budget-ms")) {
        double x = strtod(v, &end);
        if (*end || end == v || !(x > 0 && x <= 10000))
            BAD("must be 0..10000 ms (got \"%s\")", v);
        o->budget_ms = x;
    } else if (!strcmp(key, "reuse")) {
        if (strcmp(v, "0") && strcmp(v, "1"))
            BAD("must be 0 or 1 (got \"%s\")", v);
        o->reuse = v[0] == '1';
    } else if (!strcmp(key, "cpu-budget")) {
        double x = strtod(v, &end);
        if (*end || end == v || !(x > 0 && x <= 1024))
            BAD("must be more than 0 and at most 1024 cores (got \"%s\")", v);
        o->cpu_budget = x;
    } else if (!strcmp(key, "stripe-rows")) {
        long x = strtol(v, &end, 10);
        if (*end || end == v || x < 0 || x > 4320)
            BAD("must be 0..4320 rows (got \"%s\")", v);
        o->stripe_rows = (int)x;
    } else if (!strcmp(key, "reorder")) {
        long x = strtol(v, &end, 10);
        if (*end || end == v || x < 0 || x > 10000)
            BAD("must be 0..10000 packets (got \"%s\")", v);
        o->reorder = (int)x;
    } else {
        BAD("unknown key");
    }
#undef BAD
    return 0;
}

static char *g_config_vals[256]; /* the config file's values, which options point into */
static int g_n_config_vals;

static int config_cb(void *ctx, const char *section, const char *key, const char *value,
                     char *err, size_t n)
{
    if (*section && strcmp(section, "crispd")) {
        snprintf(err, n, "in unknown section [%s]", section);
        return -1;
    }
    char *v = strdup(value); /* options point into it: freed at exit (config_free) */
    if (!v || g_n_config_vals == (int)(sizeof(g_config_vals) / sizeof(g_config_vals[0]))) {
        snprintf(err, n, v ? "too many keys (256 at most)" : "out of memory");
        free(v);
        return -1;
    }
    if (set_opt(ctx, key, v, err, n) < 0) {
        free(v);
        return -1;
    }
    g_config_vals[g_n_config_vals++] = v;
    return 0;
}

static void config_free(void)
{
    for (int i = 0; i < g_n_config_vals; i++)
        free(g_config_vals[i]);
    g_n_config_vals = 0;
}


/* The config file first (--config, else the default when present), then the
 * command line, which wins. -1 to go on, else the exit code (0: --help). */
static int parse_options(struct crispd_opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        {"input", 1, 0, 0},     {"output", 1, 0, 0},    {"model", 1, 0, 0},
        {"size", 1, 0, 0},      {"strength", 1, 0, 0},  {"bypass", 0, 0, 0},
        {"realtime", 0, 0, 0},  {"frames", 1, 0, 0},    {"stats-json", 1, 0, 0},
        {"threads", 1, 0, 0},   {"fps", 1, 0, 0},       {"no-signal", 1, 0, 0},
        {"reorder", 1, 0, 0},   {"config", 1, 0, 'c'},  {"help", 0, 0, 'h'},
        {"sdp-out", 1, 0, 0},   {"pixfmt", 1, 0, 0},    {"precision", 1, 0, 0},
        {"verbose", 0, 0, 'v'}, {"stripe-rows", 1, 0, 0}, {"budget-ms", 1, 0, 0},
        {"http", 1, 0, 0},      {"http-token-file", 1, 0, 0}, {"reuse", 1, 0, 0},
        {"cpu-budget", 1, 0, 0},
        {0, 0, 0, 0}};
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            config = argv[i] + 9;
    }
    if (!config && access(DEFAULT_CONFIG, F_OK) == 0)
        config = DEFAULT_CONFIG;
    char err[512] = "";
    if (config) {
        uint8_t *buf;
        size_t len;
        int r = crisp_file_read(config, &buf, &len);
        if (r < 0)
            return fail(EXIT_INPUT, "config %s: %s", config, crisp_strerror(r));
        r = crisp_config_parse((const char *)buf, len, config, config_cb, o, err, sizeof(err));
        free(buf);
        if (r < 0)
            return fail(EXIT_USAGE, "%s", err);
    }
    int c, li;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "vhc:", lo, &li)) != -1) {
        switch (c) {
        case 0:
            if (set_opt(o, lo[li].name, optarg, err, sizeof(err)) < 0)
                return fail(EXIT_USAGE, "--%s %s", lo[li].name, err);
            break;
        case 'c': break; /* read above */
        case 'v': o->verbose = 1; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: return fail(EXIT_USAGE, "unknown option %s (see crispd --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
    if (!o->input || !o->output)
        return fail(EXIT_USAGE, "--input and --output are required (see crispd --help)");
    return -1;
}

/* The source for --input: a camera, else FFmpeg (network URLs are live).
 * -1 to go on, else the exit code. */
static int select_source(struct pipeline *p)
{
    struct crispd_opts *o = &p->o;
    if (!strncmp(o->input, "rtp://", 6) || !strncmp(o->input, "sdp:", 4) ||
        !strncmp(o->input, "udp://", 6)) {
        o->live_source = 1;
        o->realtime = 1; /* a network source is live: latest frame wins */
    }
    p->src = crispd_source_ffmpeg;
    p->src.live = o->live_source;
    p->src.params.arg = o->input;
    if (!strncmp(o->input, "v4l2:", 5)) {
        o->v4l2_dev = o->input + 5;
        o->realtime = 1; /* a camera is live: latest frame wins */
        if (!*o->v4l2_dev)
            return fail(EXIT_USAGE, "input v4l2: needs a device, e.g. v4l2:/dev/video0");
        p->src = crispd_source_v4l2;
        p->src.params.arg = o->v4l2_dev;
    }
    return -1;
}

/* The sink for --output by its scheme; *arg is what follows the colon.
 * -1 to go on, else the exit code. */
static int select_sink(struct pipeline *p, const char **arg)
{
    static const struct sink *const SINKS[] = {&crispd_sink_null, &crispd_sink_hash,
                                               &crispd_sink_file, &crispd_sink_rtp,
                                               &crispd_sink_pipewire, &crispd_sink_v4l2loopback};
    struct crispd_opts *o = &p->o;
    const char *colon = strchr(o->output, ':');
    size_t scheme_len = colon ? (size_t)(colon - o->output) : strlen(o->output);
    const struct sink *proto = NULL;
    for (size_t i = 0; i < sizeof(SINKS) / sizeof(SINKS[0]); i++)
        if ((colon || SINKS[i]->live) && strlen(SINKS[i]->name) == scheme_len &&
            !strncmp(o->output, SINKS[i]->name, scheme_len))
            proto = SINKS[i];
    if (!proto)
        return fail(EXIT_USAGE,
                    "unknown output \"%s\" (null:, hash:FILE, file:PATH, rtp://ADDR:PORT, "
                    "pipewire[:NAME], v4l2loopback:/dev/videoN)",
                    o->output);
    p->sink = *proto;
    *arg = colon ? colon + 1 : "";
    if (proto != &crispd_sink_null && strcmp(proto->name, "pipewire") && !**arg)
        return fail(EXIT_USAGE, "output %s needs a path", o->output);
    if (o->pixfmt && strcmp(o->pixfmt, "yuyv") && strcmp(o->pixfmt, "i420"))
        return fail(EXIT_USAGE, "--pixfmt must be yuyv or i420 (got \"%s\")", o->pixfmt);
    if (proto->live) /* a camera publishes at the output rate: the pipeline runs live */
        o->realtime = 1;
    return -1;
}

static int is_auto(const struct crispd_opts *o)
{
    return !o->model || !strcmp(o->model, "auto") || !strncmp(o->model, "auto:", 5);
}

/* --model, else the installed crisp-rt, else the one in the source tree */
static const char *model_path(const struct crispd_opts *o)
{
    static char rel[4096];
    if (!is_auto(o))
        return o->model;
    if (default_model(rel, sizeof(rel)) == 0)
        return rel;
    return access(CRISP_INSTALLED_MODEL, R_OK) == 0 ? CRISP_INSTALLED_MODEL : CRISP_SOURCE_MODEL;
}

/* Opens the source on the main thread; a live network source that is not
 * there yet is reopened by the capture thread. Sets the output rate. */
static int open_input(struct pipeline *p)
{
    const struct crispd_opts *o = &p->o;
    char err[512] = "";
    struct source_params *sp = &p->src.params;
    sp->uri = o->input;
    sp->w = o->w;
    sp->h = o->h;
    sp->fps = o->fps;
    sp->realtime = o->realtime;
    sp->reorder = o->reorder;
    sp->stop = &p->stop;
    p->fps = o->fps;
    if (!strncmp(o->input, "sdp:", 4)) {
        struct rtp_gate_params gp = {.sdp_path = o->input + 4, .input = o->input,
                                     .rejected = &p->rtp_rejected};
        if (rtp_gate_create(&p->gate, &gp, err, sizeof(err)) < 0)
            return fail(EXIT_INPUT, "%s", err);
        sp->sdp = rtp_gate_sdp(p->gate);
    }
    atomic_store(&g_interruptible, 1); /* a FIFO or a listening socket may wait here */
    int r = p->src.open(&p->src, err, sizeof(err));
    atomic_store(&g_interruptible, 0);
    if (r < 0 && atomic_load(&p->stop))
        return EXIT_INPUT; /* a signal interrupted the open: not an input error */
    if (r < 0 && !(p->src.live && r == -EAGAIN))
        return fail(EXIT_INPUT, "%s", err);
    if (r < 0)
        crisp_log(CRISP_LOG_WARN, "%s; publishing \"no signal\" until it comes", err);
    if (r == 0 && p->src.desc)
        crisp_log(CRISP_LOG_INFO, "input %s: %s", o->input, p->src.desc);
    if (!p->fps)
        p->fps = p->src.fps;
    if (!p->fps)
        p->fps = 30.0;
    sp->fps = p->fps; /* a camera is reopened at the rate the pipeline runs at */
    return 0;
}

/* The main thread while the pipeline runs: signals, SIGHUP reloads, the
 * systemd watchdog (fed only while fresh frames flow, so a stalled
 * pipeline lets it fire) and a status line every 5 s. */
static void housekeeping(struct pipeline *p)
{
    const int64_t wd = notify_watchdog_ns();
    int64_t last_report = crisp_now_ns(), last_wd = last_report;
    long last_out = 0, last_fresh = 0, fps_n = atomic_load(&p->frames_out);
    int64_t fps_t = last_report;
    while (!atomic_load(&p->stop)) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
        if (atomic_load(&g_signal) || atomic_load(&p->failed))
            atomic_store(&p->stop, 1);
        pipeline_collect(p);
        http_control_poll(p);
        if (atomic_exchange(&g_hup, 0)) {
            pipeline_reload(p);
        }
        auto_model_watch(p, crisp_now_ns());
        if (atomic_load(&p->infer_done) && !crisp_ring_count(&p->inf2sink))
            break; /* source drained; the sink thread finishes the queue */
        int64_t now = crisp_now_ns();
        if (now - fps_t >= 1000000000LL) { /* the output rate over the last second */
            long o = atomic_load(&p->frames_out);
            atomic_store(&p->fps_milli, (long)((o - fps_n) * 1e12 / (double)(now - fps_t)));
            fps_n = o;
            fps_t = now;
        }
        long fresh = atomic_load(&p->frames_out) - atomic_load(&p->frames_repeated) -
                     atomic_load(&p->frames_no_signal);
        if (wd && now - last_wd >= wd / 2) {
            if (fresh > last_fresh)
                notify_send("WATCHDOG=1");
            last_fresh = fresh;
            last_wd = now;
        }
        if (now - last_report > 5000000000LL) {
            long out = atomic_load(&p->frames_out);
            char status[256];
            double fps = (out - last_out) / ((now - last_report) / 1e9);
            snprintf(status, sizeof(status),
                     "STATUS=%.1f fps out, %ld in, drops capture %ld infer %ld sink %ld, "
                     "repeated %ld, no-signal %ld, model %s",
                     fps, atomic_load(&p->frames_in), atomic_load(&p->dropped_capture),
                     atomic_load(&p->dropped_infer), atomic_load(&p->dropped_sink),
                     atomic_load(&p->frames_repeated), atomic_load(&p->frames_no_signal),
                     p->model_path ? auto_model_name(p->model_path) : "none (bypass)");
            if (p->o.bypass || atomic_load(&p->bypass) || atomic_load(&p->strength) != p->o.strength) {
                size_t l = strlen(status);
                snprintf(status + l, sizeof(status) - l, ", %s strength %.2f",
                         p->o.bypass || atomic_load(&p->bypass) ? "bypass," : "",
                         (double)atomic_load(&p->strength));
            }
            notify_send(status);
            crisp_log(CRISP_LOG_INFO, "%s", status + 7);
            last_out = out;
            last_report = now;
        }
    }
}

/* After the threads are joined: the sink's close, the threads' failures
 * and the stats decide the exit code. */
static int finish(struct pipeline *p, int ret, int sink_open)
{
    const struct crispd_opts *o = &p->o;
    int cr = sink_open ? p->sink.close(&p->sink) : 0;
    if (cr < 0 && ret == EXIT_OK && !atomic_load(&p->failed))
        ret = fail(EXIT_INPUT, "output %s: write failed (%s)", o->output, crisp_strerror(cr));
    int f = atomic_load(&p->failed);
    if (ret == EXIT_OK && f) {
        ret = EXIT_INPUT;
        if (f == 1)
            fail(EXIT_INPUT, "%s", p->err);
        else if (f == 2)
            fail(EXIT_INPUT, "inference failed");
        else if (f == 4)
            fail(EXIT_INPUT, "%s", p->infer_err);
        else
            fail(EXIT_INPUT, "output %s: write failed (%s)", o->output, crisp_strerror(p->sink_err));
    }
    if (ret == EXIT_OK && o->stats_json && stats_write_json(p, o->stats_json) < 0)
        ret = fail(EXIT_INPUT, "%s: cannot write stats", o->stats_json);
    if (atomic_load(&g_signal))
        crisp_log(CRISP_LOG_INFO, "stopped by signal %d", atomic_load(&g_signal));
    return ret;
}

static int crispd_main(int argc, char **argv)
{
    crisp_set_progname("crispd");
    struct pipeline *p = &g_pipeline;
    p->o = (struct crispd_opts){.w = 1280, .h = 720, .strength = 1.0f, .no_signal_s = 2.0,
                                .reuse = 0, .cpu_budget = 0.5};
    p->t_start = crisp_now_ns();
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    p->start_wall = wall.tv_sec + wall.tv_nsec / 1e9;
    pthread_mutex_init(&p->ctl_lock, NULL);
    pthread_cond_init(&p->ctl_cond, NULL);
    int r = parse_options(&p->o, argc, argv);
    if (r >= 0 || (r = select_source(p)) >= 0)
        return r;
    atomic_store(&p->strength, p->o.strength);
    if (p->o.http_token_file && !p->o.http)
        return fail(EXIT_USAGE, "--http-token-file needs --http ADDR:PORT");
    crisp_media_set_verbose(p->o.verbose);
    crisp_log_set_level(p->o.verbose ? CRISP_LOG_DEBUG : CRISP_LOG_WARN);
    const char *sink_arg = "";
    if ((r = select_sink(p, &sink_arg)) >= 0)
        return r;
    /* from here on a signal is noted, never fatal: a SIGTERM during start-up
     * makes the step in progress give up (stop flag) and crispd exits 0 at
     * once; a SIGHUP (systemctl reload) is acted on once the pipeline runs */
    if (install_signals() < 0)
        return fail(EXIT_INPUT, "cannot start crispd's signal thread: %s", strerror(EAGAIN));

    int ret = EXIT_INPUT, sink_open = 0;
    char err[1024] = "";
    /* the control surface's socket first: a port in use is an error now,
     * not after the model is built */
    if (p->o.http &&
        (r = http_create(&p->http, p, p->o.http, p->o.http_token_file, err, sizeof(err))) < 0)
        return fail(r == -EINVAL || r == -EPERM ? EXIT_USAGE : EXIT_INPUT, "%s", err);
    const int autom = !p->o.bypass && is_auto(&p->o);
    if (!p->o.bypass && crisp_engine_threads_start(p->o.threads, err, sizeof(err)) < 0) {
        fail(EXIT_INPUT, "%s", err);
        goto done;
    }
/* a step that failed or gave up because a signal asked crispd to stop */
#define STOPPING() (atomic_load(&p->stop) ? (ret = EXIT_OK, 1) : 0)
    if (!p->o.bypass && !autom) {
        pipeline_set_model_path(p, model_path(&p->o));
        if (pipeline_engine_build(p, p->model_path, 0, &p->engine, err, sizeof(err)) < 0) {
            if (!STOPPING())
                fail(EXIT_INPUT, "%s", err);
            goto done;
        }
    }
    if (STOPPING())
        goto done;
    if (pipeline_prepare(p, err, sizeof(err)) < 0) {
        if (!STOPPING())
            fail(EXIT_INPUT, "%s", err);
        goto done;
    }
    if (STOPPING())
        goto done;
    r = open_input(p);
    if (STOPPING() || r != 0)
        goto done;
    if (autom) { /* the ladder in auto:DIR, else beside the default model */
        char dir[4096];
        const int given = p->o.model && p->o.model[4] == ':';
        snprintf(dir, sizeof(dir), "%s", given ? p->o.model + 5 : model_path(&p->o));
        char *slash = given ? NULL : strrchr(dir, '/');
        if (slash)
            *slash = 0;
        if (auto_model_choose(p, dir, err, sizeof(err)) < 0) {
            if (!STOPPING())
                fail(EXIT_INPUT, "%s", err);
            goto done;
        }
        if (STOPPING())
            goto done;
    }
    p->color = p->src.color; /* the source's, else by its size (the output's before it comes) */
    crisp_colorimetry_default(&p->color, p->src.w ? p->src.w : p->o.w,
                              p->src.h ? p->src.h : p->o.h);
    p->color.range = AVCOL_RANGE_MPEG; /* convert() makes full range limited */
    crisp_log(CRISP_LOG_INFO, "output colorimetry: %s, limited range",
              crisp_colorimetry_matrix_name(p->color.matrix));
    struct sink_params sp = {.w = p->o.w, .h = p->o.h, .fps = p->fps, .pixfmt = p->o.pixfmt,
                             .sdp_out = p->o.sdp_out, .color = p->color};
    atomic_store(&g_interruptible, 1);
    r = p->sink.open(&p->sink, sink_arg, &sp, err, sizeof(err));
    atomic_store(&g_interruptible, 0);
    if (r < 0) {
        fail(EXIT_INPUT, "%s", err[0] ? err : "cannot open the output");
        goto done;
    }
    sink_open = 1;
    if (STOPPING())
        goto done;
    if (pipeline_start(p) < 0) {
        fail(EXIT_INPUT, "cannot start crispd's threads: %s (too little memory?)", strerror(EAGAIN));
        goto done;
    }
    atomic_store(&g_starting, 0);
    alarm(0);
#undef STOPPING
    if (p->http && http_start(p->http, err, sizeof(err)) < 0) {
        fail(EXIT_INPUT, "%s", err);
        goto done;
    }
    /* systemd: ready once the network is built, warmed up and the threads run */
    notify_init();
    notify_send("READY=1\nSTATUS=running");
    housekeeping(p);
    ret = EXIT_OK;
done:
    if (ret != EXIT_OK)
        atomic_store(&p->stop, 1);
    if (p->started)
        notify_send("STOPPING=1");
    http_destroy(&p->http); /* before the join: no request reads a torn-down pipeline */
    pipeline_join(p);
    ret = finish(p, ret, sink_open);
    pipeline_destroy(p);
    auto_model_free(p);
    return ret;
}

int main(int argc, char **argv)
{
    int r = crispd_main(argc, argv);
    signals_stop();
    config_free();
    return r;
}
