// SPDX-License-Identifier: BSD-2-Clause
// crisp ab make (ab.h): the test folder. Per clip: a segment is decoded,
// cropped to suit the protocol, degraded as crisp eval --video does
// (crisp_degrade_stream), restored by each method (eval.h's rows; FFmpeg's
// cas through libavfilter), and every version is encoded alike (libx264,
// one CRF and preset for all) under a random id. Main thread.
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>

#include "crisp/log.h"
#include "crisp/util.h"
#include "ab.h"
#include "eval.h"
#include "args.h"

#define fail crisp_fail
enum { MAX_CLIPS = 8, MAX_METHODS = 12 };
/* a method's source: an eval row (0 the received video, 1 unsharp, 2.. the
 * models), FFmpeg's cas on the received video, or the original */
enum { SRC_CAS = -1, SRC_ORIGINAL = -2 };

int ab_random_hex(char *out, int nbytes)
{
    unsigned char b[64];
    if (nbytes > (int)sizeof(b) || getrandom(b, (size_t)nbytes, 0) != nbytes)
        return -1;
    for (int i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

int ab_is_hex(const char *s, size_t len)
{
    if (!s || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

struct method {
    char name[64];
    int src;
};

struct make_params {
    const char *clips[MAX_CLIPS], *models[16], *out, *protocol;
    int n_clips, n_models, unsharp, cas, original, acr, crf, threads;
    float seconds, start, cas_strength;
};

/* FFmpeg's cas filter on RGB frames: rgb24 -> yuv420p -> cas -> rgb24 */
struct cas {
    AVFilterGraph *g;
    AVFilterContext *src, *sink;
    AVFrame *in, *out;
};

static void cas_close(struct cas *c)
{
    avfilter_graph_free(&c->g);
    av_frame_free(&c->in);
    av_frame_free(&c->out);
}

static int cas_open(struct cas *c, int w, int h, float strength, char *err, size_t errlen)
{
    char args[256], chain[128];
    AVFilterInOut *ins = avfilter_inout_alloc(), *outs = avfilter_inout_alloc();
    c->g = avfilter_graph_alloc();
    c->in = av_frame_alloc();
    c->out = av_frame_alloc();
    int ret = -1;
    if (!ins || !outs || !c->g || !c->in || !c->out)
        goto done;
    snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=1/1000:pixel_aspect=1/1",
             w, h, AV_PIX_FMT_RGB24);
    snprintf(chain, sizeof(chain), "format=yuv420p,cas=strength=%g,format=rgb24", (double)strength);
    if (avfilter_graph_create_filter(&c->src, avfilter_get_by_name("buffer"), "in", args, NULL,
                                     c->g) < 0 ||
        avfilter_graph_create_filter(&c->sink, avfilter_get_by_name("buffersink"), "out", NULL,
                                     NULL, c->g) < 0)
        goto done;
    outs->name = av_strdup("in");
    outs->filter_ctx = c->src;
    ins->name = av_strdup("out");
    ins->filter_ctx = c->sink;
    if (avfilter_graph_parse_ptr(c->g, chain, &ins, &outs, NULL) < 0 ||
        avfilter_graph_config(c->g, NULL) < 0)
        goto done;
    c->in->format = AV_PIX_FMT_RGB24;
    c->in->width = w;
    c->in->height = h;
    if (av_frame_get_buffer(c->in, 0) < 0)
        goto done;
    ret = 0;
done:
    avfilter_inout_free(&ins);
    avfilter_inout_free(&outs);
    if (ret < 0)
        snprintf(err, errlen, "cannot set up FFmpeg's cas filter (libavfilter: \"%s\")", chain);
    return ret;
}

static int cas_run(struct cas *c, const struct crisp_image *img, long t, struct crisp_image **out)
{
    if (av_frame_make_writable(c->in) < 0)
        return -1;
    for (int y = 0; y < img->h; y++)
        memcpy(c->in->data[0] + (size_t)y * (size_t)c->in->linesize[0],
               img->rgb + (size_t)y * 3 * (size_t)img->w, 3 * (size_t)img->w);
    c->in->pts = t;
    if (av_buffersrc_add_frame_flags(c->src, c->in, AV_BUFFERSRC_FLAG_KEEP_REF) < 0 ||
        av_buffersink_get_frame(c->sink, c->out) < 0)
        return -1;
    int ret = crisp_image_create(out, img->w, img->h);
    if (ret == 0)
        for (int y = 0; y < img->h; y++)
            memcpy((*out)->rgb + (size_t)y * 3 * (size_t)img->w,
                   c->out->data[0] + (size_t)y * (size_t)c->out->linesize[0], 3 * (size_t)img->w);
    av_frame_unref(c->out);
    return ret;
}

/* the test's description of one clip, as the key and the page get it */
struct clip_out {
    int w, h, frames;
    double fps;
    char ids[MAX_METHODS][16];
};

/* one clip: every method's version under its id; 0 or 1 with err */
static int make_clip(const struct make_params *mp, struct eval_rows *rows,
                     const struct method *ms, int nm, const char *clip, struct clip_out *co,
                     char *err, size_t errlen)
{
    struct crisp_video_reader *rd = NULL;
    struct crisp_degrade_stream *ds = NULL;
    struct crisp_video_writer *wr[MAX_METHODS] = {0};
    struct crisp_image *img = NULL, *gt = NULL, *deg = NULL, *prev = NULL, *o = NULL;
    struct cas cas = {0};
    int ret = 1, w0, h0;
    double fps;
    if (crisp_video_open(&rd, clip, err, errlen) < 0)
        return 1;
    crisp_video_info(rd, &w0, &h0, &fps);
    if (!(fps > 0) || fps > 240)
        fps = 30;
    const int mult = !strcmp(mp->protocol, "vc") ? 4 : 2;
    const int w = w0 / mult * mult, h = h0 / mult * mult;
    const long skip = lround(mp->start * fps), want = lround(mp->seconds * fps);
    char why[256];
    if (crisp_degrade_stream_open(&ds, mp->protocol, w, h, fps, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s (%dx%d): %s", clip, w0, h0, why);
        goto done;
    }
    if (mp->cas && cas_open(&cas, w, h, mp->cas_strength, err, errlen) < 0)
        goto done;
    for (int m = 0; m < nm; m++) {
        char path[4096];
        if (ab_random_hex(co->ids[m], 6) < 0) {
            snprintf(err, errlen, "getrandom failed");
            goto done;
        }
        snprintf(path, sizeof(path), "%s/site/media/%s.mp4", mp->out, co->ids[m]);
        struct crisp_video_writer_params wp = {
            .width = w, .height = h, .fps = fps, .crf = mp->crf, .preset = "medium"};
        if (crisp_video_writer_open(&wr[m], path, &wp, err, errlen) < 0)
            goto done;
    }
    co->w = w;
    co->h = h;
    co->fps = fps;
    for (long t = 0; t < skip + want; t++) {
        int r = crisp_video_read(rd, &img);
        if (r <= 0) {
            if (r == 0)
                snprintf(err, errlen,
                         "%s has %ld frames (%.2f s at %.3g fps); --start %g --seconds %g ask "
                         "for %ld",
                         clip, t, t / fps, fps, (double)mp->start, (double)mp->seconds,
                         skip + want);
            else
                snprintf(err, errlen, "%s: frame %ld cannot be decoded: %s", clip, t,
                         crisp_strerror(r));
            goto done;
        }
        if (img->w != w0 || img->h != h0) {
            snprintf(err, errlen, "%s: frame %ld is %dx%d, the clip started at %dx%d", clip, t,
                     img->w, img->h, w0, h0);
            goto done;
        }
        if (t < skip) {
            crisp_image_destroy(&img);
            continue;
        }
        if (crisp_image_crop(&gt, img, w, h) < 0 || crisp_degrade_stream_frame(ds, gt, &deg) < 0) {
            snprintf(err, errlen, "%s: frame %ld: the %s degradation failed", clip, t,
                     mp->protocol);
            goto done;
        }
        for (int m = 0; m < nm; m++) {
            const struct crisp_image *v = NULL;
            if (ms[m].src == SRC_ORIGINAL) {
                v = gt;
            } else if (ms[m].src == SRC_CAS) {
                if (cas_run(&cas, deg, t - skip, &o) < 0) {
                    snprintf(err, errlen, "%s: frame %ld: FFmpeg's cas failed", clip, t);
                    goto done;
                }
                v = o;
            } else {
                rows->sh[ms[m].src].prev = prev; /* frame-pair models; NULL: a still */
                if (eval_rows_restore(rows, ms[m].src, deg, &o, err, errlen) < 0)
                    goto done;
                rows->sh[ms[m].src].prev = NULL;
                v = o ? o : deg;
            }
            int wret = crisp_video_write(wr[m], v);
            crisp_image_destroy(&o);
            if (wret < 0) {
                snprintf(err, errlen, "%s/site/media/%s.mp4: encoding failed: %s", mp->out,
                         co->ids[m], crisp_strerror(wret));
                goto done;
            }
        }
        crisp_image_destroy(&prev);
        prev = deg;
        deg = NULL;
        crisp_image_destroy(&gt);
        crisp_image_destroy(&img);
    }
    co->frames = (int)want;
    ret = 0;
done:
    for (int m = 0; m < nm; m++) {
        int cret = crisp_video_writer_close(&wr[m]);
        if (!ret && cret < 0) {
            snprintf(err, errlen, "%s/site/media/%s.mp4: %s", mp->out, co->ids[m],
                     crisp_strerror(cret));
            ret = 1;
        }
    }
    cas_close(&cas);
    crisp_image_destroy(&o);
    crisp_image_destroy(&img);
    crisp_image_destroy(&gt);
    crisp_image_destroy(&deg);
    crisp_image_destroy(&prev);
    crisp_degrade_stream_close(&ds);
    crisp_video_close(&rd);
    return ret;
}

/* writes `text` to path atomically; 0 or 1 with err */
static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

/* a JSON string literal of s (names and paths) */
static void jstr(char *out, size_t n, const char *s)
{
    if (n < 3)
        return;
    out[0] = '"';
    crisp_json_escape(out + 1, n - 2, s);
    strcat(out, "\"");
}

/* appends printf output to a growing buffer */
struct buf {
    char *s;
    size_t len, cap;
    int oom;
};

__attribute__((format(printf, 2, 3))) static void bprintf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap + (size_t)n + 1) * 2;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
}

/* the page: the template with its config (ids only: no method names) */
static int write_page(const struct make_params *mp, const char *test_id, const struct clip_out *co,
                      int nm, char *err, size_t errlen)
{
    struct buf cfg = {0}, page = {0};
    bprintf(&cfg, "{\"test\": \"%s\", \"acr\": %s, \"clips\": [", test_id,
            mp->acr ? "true" : "false");
    for (int c = 0; c < mp->n_clips; c++) {
        /* the ids in an order of their own, not the methods' */
        int order[MAX_METHODS];
        for (int m = 0; m < nm; m++)
            order[m] = m;
        for (int m = nm - 1; m > 0; m--) {
            unsigned r;
            if (getrandom(&r, sizeof(r), 0) != sizeof(r))
                r = (unsigned)rand();
            int k = (int)(r % (unsigned)(m + 1)), x = order[m];
            order[m] = order[k];
            order[k] = x;
        }
        bprintf(&cfg, "%s{\"label\": \"Clip %d\", \"width\": %d, \"height\": %d, \"fps\": %.6g, "
                      "\"frames\": %d, \"videos\": [",
                c ? ", " : "", c + 1, co[c].w, co[c].h, co[c].fps, co[c].frames);
        for (int m = 0; m < nm; m++)
            bprintf(&cfg, "%s\"%s\"", m ? ", " : "", co[c].ids[order[m]]);
        bprintf(&cfg, "]}");
    }
    bprintf(&cfg, "]}");
    static const char MARK[] = "null/*TEST*/";
    const char *at = cfg.oom ? NULL : strstr(AB_PAGE, MARK);
    int ret = 1;
    if (!at) {
        snprintf(err, errlen, cfg.oom ? "out of memory" : "the page template has no %s", MARK);
        goto done;
    }
    bprintf(&page, "%.*s%s%s", (int)(at - AB_PAGE), AB_PAGE, cfg.s, at + strlen(MARK));
    if (page.oom) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/site/index.html", mp->out);
    ret = write_file(path, page.s, err, errlen);
done:
    free(cfg.s);
    free(page.s);
    return ret;
}

static int write_key(const struct make_params *mp, const char *test_id, const struct clip_out *co,
                     const struct method *ms, int nm, char *err, size_t errlen)
{
    struct buf b = {0};
    char s[8400];
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    bprintf(&b,
            "{\"crisp_ab\": 1, \"test\": \"%s\", \"created\": \"%s\", \"protocol\": \"%s\", "
            "\"start_s\": %g, \"seconds\": %g, \"encoder\": \"libx264 crf %d preset medium "
            "yuv420p\", \"acr\": %s,\n \"methods\": [",
            test_id, when, mp->protocol, (double)mp->start, (double)mp->seconds, mp->crf,
            mp->acr ? "true" : "false");
    for (int m = 0; m < nm; m++) {
        jstr(s, sizeof(s), ms[m].name);
        bprintf(&b, "%s%s", m ? ", " : "", s);
    }
    bprintf(&b, "],\n \"clips\": [");
    for (int c = 0; c < mp->n_clips; c++) {
        jstr(s, sizeof(s), mp->clips[c]);
        bprintf(&b, "%s\n  {\"label\": \"Clip %d\", \"source\": %s, \"width\": %d, \"height\": %d, "
                    "\"fps\": %.6g, \"frames\": %d, \"videos\": {",
                c ? "," : "", c + 1, s, co[c].w, co[c].h, co[c].fps, co[c].frames);
        for (int m = 0; m < nm; m++) {
            jstr(s, sizeof(s), ms[m].name);
            bprintf(&b, "%s\"%s\": %s", m ? ", " : "", co[c].ids[m], s);
        }
        bprintf(&b, "}}");
    }
    bprintf(&b, "]}\n");
    char path[4200];
    snprintf(path, sizeof(path), "%s/key.json", mp->out);
    int ret = b.oom ? (snprintf(err, errlen, "out of memory"), 1) : write_file(path, b.s, err, errlen);
    free(b.s);
    return ret;
}

static int mkdir_p(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return 1;
    }
    return 0;
}

static const char MAKE_USAGE[] =
    "usage: crisp ab make --video CLIP [--video CLIP2 ...] [--protocol vc|x2] [--model M ...]\n"
    "           [--unsharp] [--cas] [--cas-strength S] [--original] [--acr] [--seconds S]\n"
    "           [--start S] [--crf N] [--threads N] --out DIR\n";

int ab_make(int argc, char **argv)
{
    static const struct option opts[] = {
        {"video", required_argument, 0, 'V'},   {"protocol", required_argument, 0, 'p'},
        {"model", required_argument, 0, 'm'},   {"unsharp", no_argument, 0, 'u'},
        {"cas", no_argument, 0, 'c'},           {"cas-strength", required_argument, 0, 'C'},
        {"original", no_argument, 0, 'o'},      {"acr", no_argument, 0, 'a'},
        {"seconds", required_argument, 0, 's'}, {"start", required_argument, 0, 'S'},
        {"crf", required_argument, 0, 'q'},     {"threads", required_argument, 0, 't'},
        {"out", required_argument, 0, 'O'},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    struct make_params mp = {.protocol = "vc", .crf = 14, .seconds = 5};
    double v = 0;
    long n = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'V':
            if (mp.n_clips == MAX_CLIPS)
                return fail(EXIT_USAGE, "ab make: at most %d clips", MAX_CLIPS);
            mp.clips[mp.n_clips++] = optarg;
            break;
        case 'p': mp.protocol = optarg; break;
        case 'm':
            if (mp.n_models == 8)
                return fail(EXIT_USAGE, "ab make: at most 8 models");
            mp.models[mp.n_models++] = optarg;
            break;
        case 'u': mp.unsharp = 1; break;
        case 'c': mp.cas = 1; break;
        case 'C':
            if (crisp_arg_num(optarg, "ab make: --cas-strength", 0, 1, &v))
                return EXIT_USAGE;
            mp.cas_strength = (float)v;
            mp.cas = 1;
            break;
        case 'o': mp.original = 1; break;
        case 'a': mp.acr = 1; break;
        case 's':
            if (crisp_arg_num(optarg, "ab make: --seconds", 0.5, 60, &v))
                return EXIT_USAGE;
            mp.seconds = (float)v;
            break;
        case 'S':
            if (crisp_arg_num(optarg, "ab make: --start", 0, 86400, &v))
                return EXIT_USAGE;
            mp.start = (float)v;
            break;
        case 'q':
            if (crisp_arg_int(optarg, "ab make: --crf", 0, 51, &n))
                return EXIT_USAGE;
            mp.crf = (int)n;
            break;
        case 't':
            if (crisp_arg_int(optarg, "ab make: --threads", 0, 256, &n))
                return EXIT_USAGE;
            mp.threads = (int)n;
            break;
        case 'O': mp.out = optarg; break;
        case 'h': fputs(MAKE_USAGE, stdout); return 0;
        default: return fail(EXIT_USAGE, "ab make: unknown option %s (see crisp ab -h)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(EXIT_USAGE, "ab make: unexpected argument \"%s\"", argv[optind]);
    if (!mp.n_clips || !mp.out)
        return fail(EXIT_USAGE, "ab make: --video and --out are required (see crisp ab -h)");
    if (strcmp(mp.protocol, "vc") && strcmp(mp.protocol, "x2"))
        return fail(EXIT_USAGE, "ab make: --protocol must be vc or x2 (got \"%s\")", mp.protocol);
    if (!mp.n_models && !mp.unsharp && !mp.cas && !mp.original)
        return fail(EXIT_USAGE, "ab make: nothing to compare with the received video: give "
                                "--model, --unsharp, --cas or --original");
    char err[4700] = "", path[4200];
    snprintf(path, sizeof(path), "%s/key.json", mp.out);
    if (access(path, F_OK) == 0)
        return fail(EXIT_USAGE, "ab make: %s already holds a test (key.json): give a new --out",
                    mp.out);

    struct eval_params ep = {.protocol = mp.protocol, .crop = 0, .strength = 1.0f,
                             .threads = mp.threads, .n_models = mp.n_models};
    for (int m = 0; m < mp.n_models; m++)
        ep.models[m] = mp.models[m];
    struct eval_rows rows;
    struct method ms[MAX_METHODS];
    int nm = 0, ret = EXIT_INPUT;
    struct clip_out co[MAX_CLIPS];
    memset(co, 0, sizeof(co));
    if (eval_rows_load(&ep, &rows, err, sizeof(err))) {
        fail(EXIT_INPUT, "ab make: %s", err);
        goto done;
    }
    ms[nm++] = (struct method){"received", 0};
    if (mp.unsharp)
        ms[nm++] = (struct method){"unsharp", 1};
    if (mp.cas) {
        ms[nm] = (struct method){"", SRC_CAS};
        snprintf(ms[nm++].name, 64, "cas@%g", (double)mp.cas_strength);
    }
    for (int m = 0; m < mp.n_models; m++) {
        ms[nm] = (struct method){"", m + 2};
        snprintf(ms[nm++].name, 64, "%s", rows.names[m + 2]);
    }
    if (mp.original)
        ms[nm++] = (struct method){"original", SRC_ORIGINAL};
    for (int a = 0; a < nm; a++)
        for (int b = a + 1; b < nm; b++)
            if (!strcmp(ms[a].name, ms[b].name)) {
                fail(EXIT_USAGE, "ab make: two methods are both called %s", ms[a].name);
                ret = EXIT_USAGE;
                goto done;
            }
    char test_id[17];
    if (ab_random_hex(test_id, 8) < 0) {
        fail(EXIT_INPUT, "ab make: getrandom failed");
        goto done;
    }
    snprintf(path, sizeof(path), "%s/site", mp.out);
    char media[4200];
    snprintf(media, sizeof(media), "%s/site/media", mp.out);
    if (mkdir_p(mp.out, err, sizeof(err)) || mkdir_p(path, err, sizeof(err)) ||
        mkdir_p(media, err, sizeof(err))) {
        fail(EXIT_INPUT, "ab make: %s", err);
        goto done;
    }
    for (int k = 0; k < mp.n_clips; k++) { /* every clip opens, before the long work */
        struct crisp_video_reader *rd = NULL;
        if (crisp_video_open(&rd, mp.clips[k], err, sizeof(err)) < 0) {
            fail(EXIT_INPUT, "ab make: %s", err);
            goto done;
        }
        crisp_video_close(&rd);
    }
    for (int k = 0; k < mp.n_clips; k++) {
        printf("ab make: %s: %g s from %g s, %d versions\n", mp.clips[k], (double)mp.seconds,
               (double)mp.start, nm);
        fflush(stdout);
        if (make_clip(&mp, &rows, ms, nm, mp.clips[k], &co[k], err, sizeof(err))) {
            fail(EXIT_INPUT, "ab make: %s", err);
            goto done;
        }
    }
    if (write_page(&mp, test_id, co, nm, err, sizeof(err)) ||
        write_key(&mp, test_id, co, ms, nm, err, sizeof(err))) {
        fail(EXIT_INPUT, "ab make: %s", err);
        goto done;
    }
    int pairs = nm * (nm - 1) / 2 * mp.n_clips;
    printf("test %s: %d clips x %d versions; %d pairs to judge%s\n"
           "rater's page: %s/site/index.html (open it, or: crisp ab serve %s)\n"
           "key (which id is which method; keep it from raters): %s/key.json\n",
           test_id, mp.n_clips, nm, pairs, mp.acr ? " and every version rated (ACR)" : "",
           mp.out, mp.out, mp.out);
    ret = 0;
done:
    if (ret) /* no half-made test left behind: the videos written so far go */
        for (int k = 0; k < MAX_CLIPS; k++)
            for (int m = 0; m < MAX_METHODS; m++)
                if (co[k].ids[m][0]) {
                    snprintf(path, sizeof(path), "%s/site/media/%s.mp4", mp.out, co[k].ids[m]);
                    unlink(path);
                }
    eval_rows_free(&rows);
    return ret;
}
