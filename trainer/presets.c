// SPDX-License-Identifier: BSD-2-Clause
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "crisp/util.h"
#include "presets.h"

#define CONV(co, kk) ((struct crisp_layer){.type = CRISP_LAYER_CONV, .cout = (co), .k = (kk), .stride = 1})
#define CONV2(co, kk) ((struct crisp_layer){.type = CRISP_LAYER_CONV, .cout = (co), .k = (kk), .stride = 2})
#define RELU ((struct crisp_layer){.type = CRISP_LAYER_RELU})
#define BN ((struct crisp_layer){.type = CRISP_LAYER_BN, .eps = 1e-5f})
#define S2D(f) ((struct crisp_layer){.type = CRISP_LAYER_S2D, .factor = (f)})
#define D2S(f) ((struct crisp_layer){.type = CRISP_LAYER_D2S, .factor = (f)})
#define ADD(s) ((struct crisp_layer){.type = CRISP_LAYER_ADD, .skip = (s)})
#define CAT(s) ((struct crisp_layer){.type = CRISP_LAYER_CONCAT, .skip = (s)})

struct preset {
    const char *name, *what;
    int output;
    int (*build)(struct crisp_layer *l);
};

/* DnCNN-17: conv+ReLU, 15 x (conv+BN+ReLU), conv; 64 filters; residual */
static int b_dncnn17(struct crisp_layer *l)
{
    int n = 0;
    l[n++] = CONV(64, 3);
    l[n++] = RELU;
    for (int i = 0; i < 15; i++) {
        l[n++] = CONV(64, 3);
        l[n++] = BN;
        l[n++] = RELU;
    }
    l[n++] = CONV(1, 3);
    return n;
}

/* the reports' "lite" student: 8 convs x 32 filters, BN after convs 3 and 6 */
static int b_dncnn_lite(struct crisp_layer *l)
{
    int n = 0;
    for (int i = 1; i <= 7; i++) {
        l[n++] = CONV(32, 3);
        if (i == 3 || i == 6)
            l[n++] = BN;
        l[n++] = RELU;
    }
    l[n++] = CONV(1, 3);
    return n;
}

/* 4 convs, 64 filters, direct output */
static int b_studentcnn4(struct crisp_layer *l)
{
    int n = 0;
    for (int i = 0; i < 3; i++) {
        l[n++] = CONV(64, 3);
        l[n++] = RELU;
    }
    l[n++] = CONV(1, 3);
    return n;
}

/* small residual U-Net: two stride-2 levels, pixel-shuffle up, concat skips */
static int b_resunet(struct crisp_layer *l)
{
    int n = 0;
    l[n++] = CONV(16, 3);
    l[n++] = RELU;
    l[n++] = CONV(16, 3);
    l[n++] = RELU;
    int e1 = n - 1;
    l[n++] = CONV2(32, 3);
    l[n++] = RELU;
    l[n++] = CONV(32, 3);
    l[n++] = RELU;
    int e2 = n - 1;
    l[n++] = CONV2(64, 3);
    l[n++] = RELU;
    l[n++] = CONV(64, 3);
    l[n++] = RELU;
    l[n++] = CONV(128, 3);
    l[n++] = D2S(2);
    l[n++] = CAT(e2);
    l[n++] = CONV(32, 3);
    l[n++] = RELU;
    l[n++] = CONV(64, 3);
    l[n++] = D2S(2);
    l[n++] = CAT(e1);
    l[n++] = CONV(16, 3);
    l[n++] = RELU;
    l[n++] = CONV(1, 3);
    return n;
}

/* 3 convs, about 13K parameters */
static int b_tiny3(struct crisp_layer *l)
{
    int n = 0;
    l[n++] = CONV(32, 5);
    l[n++] = RELU;
    l[n++] = CONV(40, 3);
    l[n++] = RELU;
    l[n++] = CONV(1, 5);
    return n;
}

/* our teacher: space-to-depth by 2, 64 channels, 6 residual blocks, global residual */
static int b_teacher(struct crisp_layer *l)
{
    int n = 0;
    l[n++] = S2D(2);
    l[n++] = CONV(64, 3);
    l[n++] = RELU;
    for (int b = 0; b < 6; b++) {
        int in = n - 1;
        l[n++] = CONV(64, 3);
        l[n++] = RELU;
        l[n++] = CONV(64, 3);
        l[n++] = ADD(in);
    }
    l[n++] = CONV(64, 3);
    l[n++] = RELU;
    l[n++] = CONV(4, 3);
    l[n++] = D2S(2);
    return n;
}

/* the real-time student: half resolution through space-to-depth, 24 channels */
static int b_rt(struct crisp_layer *l)
{
    int n = 0;
    l[n++] = S2D(2);
    l[n++] = CONV(24, 3);
    l[n++] = RELU;
    for (int i = 0; i < 3; i++) {
        l[n++] = CONV(24, 3);
        l[n++] = RELU;
    }
    l[n++] = CONV(4, 3);
    l[n++] = D2S(2);
    return n;
}

/* The student ladder (docs/training.md): half resolution through
 * space-to-depth, 16 channels, a 5x5 first conv, `mid` 3x3 convs, a 3x3
 * last conv, global residual: crisp-rt-s 1.03 GMAC per 1280x720 frame
 * (mid 1), crisp-rt-m 2.09 (mid 3) */
static int b_rt16(struct crisp_layer *l, int mid)
{
    int n = 0;
    l[n++] = S2D(2);
    l[n++] = CONV(16, 5);
    l[n++] = RELU;
    for (int i = 0; i < mid; i++) {
        l[n++] = CONV(16, 3);
        l[n++] = RELU;
    }
    l[n++] = CONV(4, 3);
    l[n++] = D2S(2);
    return n;
}
static int b_rt_xs(struct crisp_layer *l) { return b_rt16(l, 0); }
static int b_rt_s(struct crisp_layer *l) { return b_rt16(l, 1); }
static int b_rt_m(struct crisp_layer *l) { return b_rt16(l, 3); }

static const struct preset presets[] = {
    {"crisp-teacher", "s2d x2, 64 ch, 6 residual blocks (14 convs), global residual",
     CRISP_OUTPUT_RESIDUAL, b_teacher},
    {"crisp-rt", "s2d x2, 24 ch, 5 convs, global residual (real-time student; ladder: crisp-rt-l)",
     CRISP_OUTPUT_RESIDUAL, b_rt},
    {"crisp-rt-l", "the crisp-rt architecture: s2d x2, 24 ch, 5 convs (3x3), global residual",
     CRISP_OUTPUT_RESIDUAL, b_rt},
    {"crisp-rt-m", "s2d x2, 16 ch, 5x5 then 4 convs 3x3, global residual (ladder, 2 GMAC)",
     CRISP_OUTPUT_RESIDUAL, b_rt_m},
    {"crisp-rt-s", "s2d x2, 16 ch, 5x5 then 2 convs 3x3, global residual (ladder, 1 GMAC)",
     CRISP_OUTPUT_RESIDUAL, b_rt_s},
    {"crisp-rt-xs", "s2d x2, 16 ch, 5x5 then one conv 3x3, global residual (ladder, 0.5 GMAC)",
     CRISP_OUTPUT_RESIDUAL, b_rt_xs},
    {"dncnn17", "DnCNN: 17 convs x 64, BN, residual", CRISP_OUTPUT_RESIDUAL, b_dncnn17},
    {"dncnn-lite", "8 convs x 32, BN after 3 and 6, residual", CRISP_OUTPUT_RESIDUAL,
     b_dncnn_lite},
    {"studentcnn4", "4 convs x 64, direct output", CRISP_OUTPUT_DIRECT, b_studentcnn4},
    {"resunet-small", "residual U-Net, 2 levels, concat skips", CRISP_OUTPUT_RESIDUAL,
     b_resunet},
    {"tiny3", "3 convs (5x5, 3x3, 5x5), about 13K parameters, residual",
     CRISP_OUTPUT_RESIDUAL, b_tiny3},
};

int preset_build(const char *name, struct crisp_model **out, char *err, size_t errlen)
{
    *out = NULL;
    for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
        if (strcmp(name, presets[i].name))
            continue;
        struct crisp_layer l[128];
        memset(l, 0, sizeof(l));
        int n = presets[i].build(l);
        return crisp_model_create(out, name, CRISP_COLOR_LUMA,
                                  (enum crisp_output_mode)presets[i].output, 1.0f, l, n, err,
                                  errlen);
    }
    snprintf(err, errlen, "unknown architecture \"%s\" (crisp-train presets lists them)", name);
    return CRISP_EUSAGE;
}

void preset_init(struct crisp_model *m, uint64_t seed)
{
    struct crisp_rng r;
    crisp_rng_seed(&r, seed);
    int last_conv = -1;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].type == CRISP_LAYER_CONV)
            last_conv = i;
    for (int i = 0; i < m->n_layers; i++) {
        struct crisp_layer *l = &m->layers[i];
        if (l->type == CRISP_LAYER_CONV) {
            size_t n = crisp_layer_tensor_size(l, l->cin, CRISP_ROLE_WEIGHT);
            double sd = sqrt(2.0 / (l->cin * l->k * l->k));
            if (i == last_conv && m->output == CRISP_OUTPUT_RESIDUAL)
                sd = 0; /* residual models start as the identity */
            for (size_t j = 0; j < n; j++)
                l->t[CRISP_ROLE_WEIGHT][j] = (float)(sd * crisp_rng_normal(&r));
            memset(l->t[CRISP_ROLE_BIAS], 0, sizeof(float) * (size_t)l->cout);
        } else if (l->type == CRISP_LAYER_PRELU) {
            for (int c = 0; c < l->channels; c++)
                l->t[CRISP_ROLE_SLOPE][c] = 0.25f;
        }
    }
    /* ResNet-style: the second conv of each residual block starts small */
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].type == CRISP_LAYER_ADD && i > 0 &&
            m->layers[i - 1].type == CRISP_LAYER_CONV) {
            struct crisp_layer *c = &m->layers[i - 1];
            size_t n = crisp_layer_tensor_size(c, c->cin, CRISP_ROLE_WEIGHT);
            for (size_t j = 0; j < n; j++)
                c->t[CRISP_ROLE_WEIGHT][j] *= 0.1f;
        }
}

void preset_list(void)
{
    printf("%-14s %10s %12s  %s\n", "name", "params", "GMAC@720p", "architecture");
    for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
        struct crisp_model *m;
        char err[128];
        if (preset_build(presets[i].name, &m, err, sizeof(err)) < 0)
            continue;
        printf("%-14s %10lld %12.2f  %s\n", presets[i].name, (long long)crisp_model_params(m),
               (double)crisp_model_macs(m, 1280, 720) / 1e9, presets[i].what);
        crisp_model_destroy(&m);
    }
}
