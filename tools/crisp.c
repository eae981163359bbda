// SPDX-License-Identifier: BSD-2-Clause
// crisp: the offline tool. Exit status: 0 success, 1 bad input, 2 bad usage;
// every failure prints one line on stderr.
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/engine.h"
#include "crisp/log.h"
#include "crisp/media.h"
#include "crisp/model.h"
#include "ab.h"
#include "bench.h"
#include "ctl.h"
#include "eval.h"
#include "sharpen.h"
#include "args.h"


#define fail crisp_fail

static const char USAGE[] =
    "usage: crisp COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  sharpen --model M [--strength S] [--threads N] [--reference] [--precision int8|fp32]\n"
    "          [--self-ensemble] IN OUT\n"
    "                 sharpen an image (PNG/JPEG in, .png/.jpg out); --self-ensemble: mean\n"
    "                 over the 8 flips/rotations of IN (8x the time)\n"
    "  compare [--crop N] REF TEST\n"
    "                 print psnr_y=... ssim_y=... (BT.601 Y, N border pixels cropped)\n"
    "  compare --video [--crop N] REF TEST\n"
    "                 the same averaged over two clips' frames, and TEST's flicker against REF\n"
    "  degrade --protocol P IN OUT\n"
    "                 degrade an image by an evaluation protocol (x2, vc, blur)\n"
    "  info [--json] M\n"
    "                 architecture, parameters and MACs per 1280x720 frame\n"
    "  make-unsharp [--amount A] [--sigma S] [--rgb] OUT\n"
    "                 write the classic unsharp mask as a model file\n"
    "  make-pair IN OUT\n"
    "                 a frame-pair model (current and previous frame in, both out) that\n"
    "                 starts as the ladder model IN: the start of pair training\n"
    "  eval --data DIR --protocol P --model M [--model M2 ...] [--json FILE] [--crop N]\n"
    "                 mean PSNR-Y/SSIM-Y over a folder: degraded, unsharp, each model\n"
    "  eval --video CLIP [--frames N] --protocol vc|x2 --model M ... [--json FILE]\n"
    "                 the same on a clip degraded as a call (vc: inter-coded H.264), with\n"
    "                 the flicker metric (temporal-difference error, 8-bit units)\n"
    "                 (M@int8 or M@fp32 picks the precision; plain M: int8 when M.q8 exists;\n"
    "                 a final +x8, as in M@fp32+x8, adds the 8-way self-ensemble)\n"
    "                 luma models are fed whole 8-bit levels of Y, as crispd is; --float-luma:\n"
    "                 the unrounded Y computed from RGB (the protocol before round 17);\n"
    "                 --strength S [1]: the model rows blended with their input as crispd's\n"
    "  bench [--input CLIP] [--model M] [--frames N] [--threads T] [--json FILE]\n"
    "                 crispd on a 720p clip, fast and paced: fps, stage and capture-to-sink\n"
    "                 latency, CPU per frame, peak RSS, GMAC/s against the best oneDNN conv\n"
    "  ctl [--http ADDR:PORT] [--token-file F] status|metrics|strength S|bypass on|off|model M\n"
    "                 steer a running crispd --http (crisp ctl -h)\n"
    "  ab make --video CLIP ... [--protocol vc|x2] --model M ... [--unsharp] [--cas]\n"
    "          [--original] [--acr] [--seconds S] --out DIR\n"
    "                 a blind side-by-side test in a static folder (DIR/site)\n"
    "  ab serve [--listen 127.0.0.1:PORT] DIR   the test's page on loopback; answers to DIR/votes\n"
    "  ab tally [--json FILE] DIR [ANSWERS.json ...]\n"
    "                 preference shares (Wilson), Bradley-Terry ranking (bootstrap), MOS\n"
    "\n"
    "options common to all commands: -v (verbose), -h (help)\n";

static int parse_int(const char *s, const char *what, int lo, int hi, int *out)
{
    long v;
    int ret = crisp_arg_int(s, what, lo, hi, &v);
    if (!ret)
        *out = (int)v;
    return ret;
}

static int parse_float(const char *s, const char *what, float lo, float hi, float *out)
{
    double v;
    int ret = crisp_arg_num(s, what, lo, hi, &v);
    if (!ret)
        *out = (float)v;
    return ret;
}

static int load_model(const char *path, struct crisp_model **m)
{
    char err[512];
    if (crisp_weights_load(m, path, err, sizeof(err)) < 0)
        return fail(EXIT_INPUT, "%s", err);
    return 0;
}

static int load_image(const char *path, struct crisp_image **img)
{
    char err[512];
    if (crisp_image_read(img, path, err, sizeof(err)) < 0)
        return fail(EXIT_INPUT, "%s", err);
    return 0;
}

static int save_image(const struct crisp_image *img, const char *path)
{
    char err[512];
    int ret = crisp_image_write(img, path, 0, err, sizeof(err));
    if (ret < 0)
        return fail(ret == CRISP_EUSAGE ? EXIT_USAGE : EXIT_INPUT, "%s", err);
    return 0;
}

static int cmd_sharpen(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"strength", required_argument, 0, 's'},
                                         {"threads", required_argument, 0, 't'},
                                         {"reference", no_argument, 0, 'r'},
                                         {"precision", required_argument, 0, 'P'},
                                         {"self-ensemble", no_argument, 0, 'E'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *precision = NULL;
    float strength = 1.0f;
    int threads = 0, reference = 0, ensemble = 1, c, ret;
    while ((c = getopt_long(argc, argv, "m:s:t:r", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 's':
            if ((ret = parse_float(optarg, "--strength", 0.0f, 2.0f, &strength)))
                return ret;
            break;
        case 't':
            if ((ret = parse_int(optarg, "--threads", 0, 256, &threads)))
                return ret;
            break;
        case 'r': reference = 1; break;
        case 'P': precision = optarg; break;
        case 'E': ensemble = 8; break;
        default: return fail(EXIT_USAGE, "sharpen: unknown option (see crisp -h)");
        }
    }
    if (!model)
        return fail(EXIT_USAGE, "sharpen: --model is required");
    if (argc - optind != 2)
        return fail(EXIT_USAGE, "sharpen: expected IN and OUT");
    struct crisp_model *m = NULL;
    struct crisp_image *in = NULL, *out = NULL;
    if ((ret = load_model(model, &m)) || (ret = load_image(argv[optind], &in)))
        goto done;
    char err[512] = "", why[512];
    enum crisp_precision prec;
    struct crisp_quant *q = NULL;
    if (!reference && crisp_precision_choose(precision, model, m, &prec, &q, why, sizeof(why), err,
                                             sizeof(err)) < 0) {
        ret = fail(precision && strcmp(precision, "int8") ? EXIT_USAGE : EXIT_INPUT, "%s", err);
        goto done;
    }
    if (precision && *why)
        crisp_log(CRISP_LOG_WARN, "%s", why);
    int sr = sharpen_image(m, reference ? BACKEND_REF : BACKEND_DNNL, threads, q, strength, ensemble,
                           in, &out, err, sizeof(err));
    crisp_quant_destroy(&q);
    if (sr < 0) {
        ret = fail(EXIT_INPUT, "%s: %s", argv[optind], err);
        goto done;
    }
    ret = save_image(out, argv[optind + 1]);
done:
    crisp_image_destroy(&in);
    crisp_image_destroy(&out);
    crisp_model_destroy(&m);
    return ret;
}

static int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"crop", required_argument, 0, 'c'},
                                         {"video", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int crop = 0, c, ret, video = 0;
    while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        if (c == 'V') {
            video = 1;
            continue;
        }
        if (c != 'c')
            return fail(EXIT_USAGE, "compare: unknown option (see crisp -h)");
        if ((ret = parse_int(optarg, "--crop", 0, 1000, &crop)))
            return ret;
    }
    if (argc - optind != 2)
        return fail(EXIT_USAGE, "compare: expected REF and TEST");
    if (video) {
        char err[1024] = "";
        if (video_compare(argv[optind], argv[optind + 1], crop, err, sizeof(err)))
            return fail(EXIT_INPUT, "compare: %s", err);
        return 0;
    }
    struct crisp_image *a = NULL, *b = NULL;
    if ((ret = load_image(argv[optind], &a)) || (ret = load_image(argv[optind + 1], &b)))
        goto done;
    if (a->w != b->w || a->h != b->h) {
        ret = fail(EXIT_INPUT, "compare: sizes differ (%dx%d vs %dx%d)", a->w, a->h, b->w, b->h);
        goto done;
    }
    double psnr, ssim;
    if (crisp_metrics_y(a, b, crop, &psnr, &ssim) < 0) {
        ret = fail(EXIT_INPUT, "compare: %dx%d with crop %d leaves less than an 11x11 window",
                   a->w, a->h, crop);
        goto done;
    }
    printf("psnr_y=%.4f ssim_y=%.6f\n", psnr, ssim);
done:
    crisp_image_destroy(&a);
    crisp_image_destroy(&b);
    return ret;
}

static int cmd_degrade(int argc, char **argv)
{
    static const struct option opts[] = {{"protocol", required_argument, 0, 'p'},
                                         {0, 0, 0, 0}};
    const char *protocol = NULL;
    int c, ret;
    while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
        if (c != 'p')
            return fail(EXIT_USAGE, "degrade: unknown option (see crisp -h)");
        protocol = optarg;
    }
    if (!protocol)
        return fail(EXIT_USAGE, "degrade: --protocol is required (%s)", crisp_degrade_protocols());
    if (argc - optind != 2)
        return fail(EXIT_USAGE, "degrade: expected IN and OUT");
    struct crisp_image *in = NULL, *out = NULL;
    if ((ret = load_image(argv[optind], &in)))
        goto done;
    char err[512] = "";
    int r = crisp_degrade_protocol(&out, in, protocol, err, sizeof(err));
    if (r < 0) {
        ret = fail(r == CRISP_EUSAGE ? EXIT_USAGE : EXIT_INPUT, "%s: %s", argv[optind], err);
        goto done;
    }
    ret = save_image(out, argv[optind + 1]);
done:
    crisp_image_destroy(&in);
    crisp_image_destroy(&out);
    return ret;
}

static const char *color_name(int c)
{
    return c == CRISP_COLOR_LUMA ? "luma" : c == CRISP_COLOR_LUMA_PAIR ? "luma-pair" : "rgb";
}

static int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'j'}, {0, 0, 0, 0}};
    int json = 0, c, ret;
    while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
        if (c != 'j')
            return fail(EXIT_USAGE, "info: unknown option (see crisp -h)");
        json = 1;
    }
    if (argc - optind != 1)
        return fail(EXIT_USAGE, "info: expected one model file");
    struct crisp_model *m;
    if ((ret = load_model(argv[optind], &m)))
        return ret;
    int64_t params = crisp_model_params(m), macs = crisp_model_macs(m, 1280, 720);
    int convs = 0;
    for (int i = 0; i < m->n_layers; i++)
        convs += m->layers[i].type == CRISP_LAYER_CONV;
    if (json) {
        printf("{\"name\": \"%s\", \"color\": \"%s\", \"output\": \"%s\", \"range_max\": %g, "
               "\"border\": %d, \"alignment\": %d, \"layers\": %d, \"convolutions\": %d, "
               "\"params\": %lld, \"macs_1280x720\": %lld, \"gmacs_1280x720\": %.3f}\n",
               m->name, color_name(m->color),
               m->output == CRISP_OUTPUT_RESIDUAL ? "residual" : "direct", (double)m->range_max,
               m->border, crisp_model_alignment(m), m->n_layers, convs, (long long)params,
               (long long)macs, (double)macs / 1e9);
    } else {
        printf("name:        %s\n", m->name);
        printf("input:       %s, range [0, %g], output %s, border %d, alignment %d\n",
               color_name(m->color), (double)m->range_max,
               m->output == CRISP_OUTPUT_RESIDUAL ? "residual (added to the input)" : "direct",
               m->border, crisp_model_alignment(m));
        printf("layers:      %d (%d convolutions)\n", m->n_layers, convs);
        for (int i = 0; i < m->n_layers; i++) {
            const struct crisp_layer *l = &m->layers[i];
            printf("  %3d %-7s", i, crisp_layer_type_name(l->type));
            switch (l->type) {
            case CRISP_LAYER_CONV:
                printf(" %dx%d %d->%d stride %d", l->k, l->k, l->cin, l->cout, l->stride);
                break;
            case CRISP_LAYER_LRELU: printf(" alpha %g", (double)l->alpha); break;
            case CRISP_LAYER_BN: printf(" eps %g", (double)l->eps); break;
            case CRISP_LAYER_S2D:
            case CRISP_LAYER_D2S: printf(" x%d -> %d channels", l->factor, l->channels); break;
            case CRISP_LAYER_ADD:
            case CRISP_LAYER_CONCAT:
                if (l->skip < 0)
                    printf(" with input");
                else
                    printf(" with layer %d", l->skip);
                break;
            case CRISP_LAYER_CLAMP: printf(" [%g, %g]", (double)l->lo, (double)l->hi); break;
            default: break;
            }
            printf("\n");
        }
        printf("parameters:  %lld\n", (long long)params);
        printf("MACs/frame:  %.3f G at 1280x720\n", (double)macs / 1e9);
    }
    crisp_model_destroy(&m);
    return 0;
}

static int cmd_make_unsharp(int argc, char **argv)
{
    static const struct option opts[] = {{"amount", required_argument, 0, 'a'},
                                         {"sigma", required_argument, 0, 's'},
                                         {"rgb", no_argument, 0, 'r'},
                                         {0, 0, 0, 0}};
    float amount = 0.8f, sigma = 1.0f;
    int c, ret, rgb = 0;
    while ((c = getopt_long(argc, argv, "a:s:r", opts, NULL)) != -1) {
        if (c == 'r') {
            rgb = 1;
        } else if (c == 'a') {
            if ((ret = parse_float(optarg, "--amount", 0.0f, 10.0f, &amount)))
                return ret;
        } else if (c == 's') {
            if ((ret = parse_float(optarg, "--sigma", 0.2f, 1.66f, &sigma)))
                return ret;
        } else {
            return fail(EXIT_USAGE, "make-unsharp: unknown option (see crisp -h)");
        }
    }
    if (argc - optind != 1)
        return fail(EXIT_USAGE, "make-unsharp: expected OUT");
    struct crisp_model *m;
    if ((ret = (rgb ? crisp_model_unsharp_rgb : crisp_model_unsharp)(&m, amount, sigma)) < 0)
        return fail(EXIT_USAGE, "make-unsharp: %s", crisp_strerror(ret));
    ret = crisp_weights_save(m, argv[optind]);
    crisp_model_destroy(&m);
    if (ret < 0)
        return fail(EXIT_INPUT, "%s: %s", argv[optind], crisp_strerror(ret));
    return 0;
}

static int cmd_make_pair(int argc, char **argv)
{
    if (argc != 3)
        return fail(EXIT_USAGE, "make-pair: expected IN OUT");
    struct crisp_model *m, *pm;
    int ret;
    if ((ret = load_model(argv[1], &m)))
        return ret;
    char err[256];
    ret = crisp_model_pair_from(&pm, m, err, sizeof(err));
    crisp_model_destroy(&m);
    if (ret < 0)
        return fail(EXIT_INPUT, "make-pair: %s", err);
    ret = crisp_weights_save(pm, argv[2]);
    crisp_model_destroy(&pm);
    if (ret < 0)
        return fail(EXIT_INPUT, "%s: %s", argv[2], crisp_strerror(ret));
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"protocol", required_argument, 0, 'p'},
                                         {"model", required_argument, 0, 'm'},
                                         {"json", required_argument, 0, 'j'},
                                         {"crop", required_argument, 0, 'c'},
                                         {"threads", required_argument, 0, 't'},
                                         {"per-image", no_argument, 0, 'v'},
                                         {"video", required_argument, 0, 'V'},
                                         {"frames", required_argument, 0, 'n'},
                                         {"float-luma", no_argument, 0, 'F'},
                                         {"strength", required_argument, 0, 's'},
                                         {0, 0, 0, 0}};
    struct eval_params p = {.crop = 2, .strength = 1.0f};
    int frames = 0;
    int c, ret;
    while ((c = getopt_long(argc, argv, "d:p:m:j:c:t:v", opts, NULL)) != -1) {
        switch (c) {
        case 'd': p.data = optarg; break;
        case 'p': p.protocol = optarg; break;
        case 'm':
            if (p.n_models == 16)
                return fail(EXIT_USAGE, "eval: at most 16 models");
            p.models[p.n_models++] = optarg;
            break;
        case 'j': p.json = optarg; break;
        case 'c':
            if ((ret = parse_int(optarg, "--crop", 0, 1000, &p.crop)))
                return ret;
            break;
        case 't':
            if ((ret = parse_int(optarg, "--threads", 0, 256, &p.threads)))
                return ret;
            break;
        case 'v': p.verbose = 1; break;
        case 'V': p.video = optarg; break;
        case 'F': p.float_luma = 1; break;
        case 's':
            if ((ret = parse_float(optarg, "--strength", 0, 2, &p.strength)))
                return ret;
            break;
        case 'n':
            if ((ret = parse_int(optarg, "--frames", 2, 100000000, &frames)))
                return ret;
            break;
        default: return fail(EXIT_USAGE, "eval: unknown option (see crisp -h)");
        }
    }
    p.frames = frames;
    if (!p.data == !p.video || !p.protocol)
        return fail(EXIT_USAGE, "eval: --protocol and one of --data and --video are required");
    if (p.video && strcmp(p.protocol, "x2") && strcmp(p.protocol, "vc"))
        return fail(EXIT_USAGE, "eval: --video takes --protocol vc or x2 (got \"%s\")", p.protocol);
    if (frames && !p.video)
        return fail(EXIT_USAGE, "eval: --frames belongs to --video");
    if (strcmp(p.protocol, "x2") && strcmp(p.protocol, "vc") && strcmp(p.protocol, "blur"))
        return fail(EXIT_USAGE, "eval: unknown protocol \"%s\" (known: %s)", p.protocol,
                    crisp_degrade_protocols());
    if (optind < argc)
        return fail(EXIT_USAGE, "eval: unexpected argument \"%s\"", argv[optind]);
    char err[512] = "";
    if (eval_run(&p, err, sizeof(err)))
        return fail(EXIT_INPUT, "%s", err);
    return 0;
}

int main(int argc, char **argv)
{
    crisp_set_progname("crisp");
    crisp_media_set_verbose(0);
    crisp_log_set_level(CRISP_LOG_WARN);
    if (argc < 2)
        return fail(EXIT_USAGE, "missing command (sharpen, compare, degrade, info, eval, bench, ctl, ab, make-unsharp, make-pair; "
                                "see crisp -h)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(USAGE, stdout);
        return 0;
    }
    /* global -v before or after the command */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-v")) {
            crisp_media_set_verbose(1);
            crisp_log_set_level(CRISP_LOG_DEBUG);
            memmove(&argv[i], &argv[i + 1], sizeof(char *) * (size_t)(argc - i));
            argc--;
            i--;
        }
    cmd = argv[1];
    argc--;
    argv++;
    opterr = 0;
    if (!strcmp(cmd, "sharpen"))
        return cmd_sharpen(argc, argv);
    if (!strcmp(cmd, "compare"))
        return cmd_compare(argc, argv);
    if (!strcmp(cmd, "degrade"))
        return cmd_degrade(argc, argv);
    if (!strcmp(cmd, "info"))
        return cmd_info(argc, argv);
    if (!strcmp(cmd, "make-unsharp"))
        return cmd_make_unsharp(argc, argv);
    if (!strcmp(cmd, "make-pair"))
        return cmd_make_pair(argc, argv);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc, argv);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc, argv);
    if (!strcmp(cmd, "ctl"))
        return cmd_ctl(argc, argv);
    if (!strcmp(cmd, "ab"))
        return cmd_ab(argc, argv);
    return fail(EXIT_USAGE, "unknown command \"%s\" (see crisp -h)", cmd);
}
