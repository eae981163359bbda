// SPDX-License-Identifier: BSD-2-Clause
// oneDNN engine == C reference, within 1e-4 (max absolute difference on data
// in [0, 1]), for every layer type, fused and standalone, and for random
// small networks at odd sizes and at 1280x720.
#include <math.h>
#include <string.h>

#include "../common.h"
#include "../layers.h"
#include "crisp/engine.h"
#include "crisp/model.h"
#include "crisp/util.h"

#define TOL 1e-4

static struct crisp_rng g_rng;

static float uni(float lo, float hi) { return lo + (hi - lo) * (float)crisp_rng_uniform(&g_rng); }

/* Random but well-scaled weights: activations stay O(1) through deep nets. */
static float draw_scaled(const struct crisp_layer *l, int role)
{
    switch (role) {
    case CRISP_ROLE_WEIGHT: {
        float a = 1.2f / sqrtf((float)(l->cin * l->k * l->k));
        return uni(-a, a);
    }
    case CRISP_ROLE_BIAS: return uni(-0.1f, 0.1f);
    case CRISP_ROLE_GAMMA: return uni(0.5f, 1.5f);
    case CRISP_ROLE_BETA: return uni(-0.2f, 0.2f);
    case CRISP_ROLE_MEAN: return uni(-0.2f, 0.2f);
    case CRISP_ROLE_VAR: return uni(0.5f, 2.0f);
    default: return uni(0.0f, 0.5f); /* CRISP_ROLE_SLOPE */
    }
}

static double compare(const struct crisp_model *m, int w, int h, const char *name)
{
    size_t n = (size_t)m->color * w * h;
    float *in = malloc(n * sizeof(float)), *a = malloc(n * sizeof(float)),
          *b = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        in[i] = uni(0.0f, 1.0f) * m->range_max;
    struct crisp_engine *e = NULL;
    char err[256] = "";
    struct crisp_engine_params p = {.width = w, .height = h, .threads = 2};
    double worst = INFINITY;
    int ret = crisp_engine_create(&e, m, &p, err, sizeof(err));
    CHECK(ret == 0, "%s: engine create at %dx%d: %s", name, w, h, err);
    if (ret == 0) {
        CHECK(crisp_ref_run(m, in, w, h, a) == 0, "%s: reference run", name);
        /* run twice: the second run must not depend on state left by the first */
        CHECK(crisp_engine_run(e, in, b) == 0, "%s: engine run", name);
        CHECK(crisp_engine_run(e, in, b) == 0, "%s: engine run 2", name);
        worst = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)a[i] - b[i]) / m->range_max;
            if (!(d <= worst))
                worst = isnan(d) ? INFINITY : d;
        }
        CHECK(worst <= TOL, "%s at %dx%d: max |oneDNN - reference| = %g", name, w, h, worst);
        printf("%-28s %5dx%-5d steps=%-3d act=%7.1f KiB  max diff %.2e\n", name, w, h,
               crisp_engine_steps(e), (double)crisp_engine_activation_bytes(e) / 1024.0, worst);
    }
    crisp_engine_destroy(&e);
    free(in);
    free(a);
    free(b);
    return worst;
}

#define CONV(ci, co, kk, s) LCONV(co, kk, s) /* ci documents the input channels */

struct golden {
    const char *name;
    int color, output;
    float range;
    int n;
    struct crisp_layer l[12];
};

static const struct golden goldens[] = {
    {"conv1x1", 1, 0, 1, 2, {CONV(1, 4, 1, 1), CONV(4, 1, 1, 1)}},
    {"conv3x3", 1, 0, 1, 2, {CONV(1, 8, 3, 1), CONV(8, 1, 3, 1)}},
    {"conv5x5+7x7", 1, 0, 1, 2, {CONV(1, 5, 5, 1), CONV(5, 1, 7, 1)}},
    {"conv-stride2+d2s", 1, 0, 1, 2, {CONV(1, 4, 3, 2), D2S(2)}},
    {"relu-fused", 1, 0, 1, 3, {CONV(1, 8, 3, 1), RELU, CONV(8, 1, 3, 1)}},
    {"relu-standalone", 1, 0, 1, 3, {S2D(2), RELU, D2S(2)}},
    {"lrelu-fused", 1, 0, 1, 3, {CONV(1, 8, 3, 1), LRELU(0.1f), CONV(8, 1, 3, 1)}},
    {"lrelu-standalone", 1, 0, 1, 4, {S2D(2), CONV(4, 4, 3, 1), D2S(2), LRELU(0.2f)}},
    {"prelu-fused", 1, 0, 1, 3, {CONV(1, 8, 3, 1), PRELU, CONV(8, 1, 3, 1)}},
    {"prelu-standalone", 1, 0, 1, 3, {S2D(2), PRELU, D2S(2)}},
    {"bn-folded", 1, 0, 1, 4, {CONV(1, 8, 3, 1), BN, RELU, CONV(8, 1, 3, 1)}},
    {"s2d-d2s-x2", 1, 0, 1, 4, {S2D(2), CONV(4, 8, 3, 1), CONV(8, 4, 3, 1), D2S(2)}},
    {"s2d-d2s-x3", 1, 0, 1, 3, {S2D(3), CONV(9, 9, 3, 1), D2S(3)}},
    {"add-fused", 1, 0, 1, 5, {CONV(1, 8, 3, 1), RELU, CONV(8, 8, 3, 1), ADD(1), CONV(8, 1, 3, 1)}},
    {"add-standalone", 1, 0, 1, 4, {S2D(2), RELU, ADD(0), D2S(2)}},
    {"add-input", 1, 0, 1, 2, {CONV(1, 1, 3, 1), ADD(-1)}},
    {"concat", 1, 0, 1, 5, {CONV(1, 4, 3, 1), RELU, CONV(4, 4, 3, 1), CAT(1), CONV(8, 1, 3, 1)}},
    {"concat-input", 1, 0, 1, 3, {CONV(1, 4, 3, 1), CAT(-1), CONV(5, 1, 3, 1)}},
    {"clamp-fused", 1, 0, 1, 2, {CONV(1, 1, 3, 1), CLAMP(0.2f, 0.7f)}},
    {"clamp-standalone", 1, 0, 1, 3, {S2D(2), CLAMP(0.1f, 0.6f), D2S(2)}},
    {"residual-fused", 1, 1, 1, 3, {CONV(1, 8, 3, 1), RELU, CONV(8, 1, 3, 1)}},
    {"residual-standalone", 1, 1, 1, 3, {S2D(2), CONV(4, 4, 3, 1), D2S(2)}},
    {"rgb-prelu-residual", 3, 1, 1, 3, {CONV(3, 8, 3, 1), PRELU, CONV(8, 3, 3, 1)}},
    {"range-255", 3, 1, 255, 3, {CONV(3, 8, 3, 1), RELU, CONV(8, 3, 3, 1)}},
    {"unet",
     1,
     1,
     1,
     8,
     {CONV(1, 8, 3, 1), RELU, CONV(8, 16, 3, 2), RELU, CONV(16, 32, 3, 1), D2S(2), CAT(1),
      CONV(16, 1, 3, 1)}},
};

static struct crisp_model *build(const char *name, int color, int output, float range,
                                 const struct crisp_layer *l, int n)
{
    struct crisp_model *m = NULL;
    char err[256] = "";
    int ret = crisp_model_create(&m, name, (enum crisp_color_mode)color,
                                 (enum crisp_output_mode)output, range, l, n, err, sizeof(err));
    CHECK(ret == 0, "%s: model create: %s", name, err);
    if (m)
        fill_tensors(m, draw_scaled);
    return m;
}

/* A random chain: optional s2d, blocks of conv (+bn) (+activation) (+add back
 * to an earlier same-shape output), final conv (+d2s). */
static struct crisp_model *random_net(int idx, int max_ch)
{
    struct crisp_layer l[64];
    int n = 0, color = crisp_rng_u64(&g_rng) % 2 ? 3 : 1;
    int f = crisp_rng_u64(&g_rng) % 2 ? 2 : 1;
    int ch = color;
    int same[64], n_same = 0; /* layer indices whose output has `ch` channels */
    if (f > 1) {
        l[n++] = (struct crisp_layer)S2D(f);
        ch *= f * f;
    }
    int blocks = 2 + (int)(crisp_rng_u64(&g_rng) % 4);
    int width = 2 + (int)(crisp_rng_u64(&g_rng) % (uint64_t)(max_ch - 1));
    for (int b = 0; b < blocks; b++) {
        static const int ks[3] = {1, 3, 5};
        l[n++] = (struct crisp_layer)CONV(ch, width, ks[crisp_rng_u64(&g_rng) % 3], 1);
        ch = width;
        if (crisp_rng_u64(&g_rng) % 3 == 0)
            l[n++] = (struct crisp_layer)BN;
        switch (crisp_rng_u64(&g_rng) % 5) {
        case 0: l[n++] = (struct crisp_layer)RELU; break;
        case 1: l[n++] = (struct crisp_layer)LRELU(0.1f); break;
        case 2: l[n++] = (struct crisp_layer)PRELU; break;
        case 3: l[n++] = (struct crisp_layer)CLAMP(-1.0f, 1.0f); break;
        default: break;
        }
        if (n_same && crisp_rng_u64(&g_rng) % 2)
            l[n++] = (struct crisp_layer)ADD(same[crisp_rng_u64(&g_rng) % (uint64_t)n_same]);
        same[n_same++] = n - 1;
    }
    l[n++] = (struct crisp_layer)CONV(ch, color * f * f, 3, 1);
    if (f > 1)
        l[n++] = (struct crisp_layer)D2S(f);
    char name[32];
    snprintf(name, sizeof(name), "random-%d", idx);
    /* BN must directly follow a conv whose output is not a skip source: the
     * generator only adds skips to block ends, which BN never is */
    return build(name, color, (int)(crisp_rng_u64(&g_rng) % 2), 1.0f, l, n);
}

int main(void)
{
    crisp_rng_seed(&g_rng, 20261123);
    static const int sizes[][2] = {{37, 23}, {1, 1}, {5, 3}, {64, 48}};
    for (size_t g = 0; g < sizeof(goldens) / sizeof(goldens[0]); g++) {
        const struct golden *gd = &goldens[g];
        struct crisp_model *m = build(gd->name, gd->color, gd->output, gd->range, gd->l, gd->n);
        if (!m)
            continue;
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
            compare(m, sizes[s][0], sizes[s][1], gd->name);
        crisp_model_destroy(&m);
    }
    for (int i = 0; i < 30; i++) {
        struct crisp_model *m = random_net(i, 12);
        if (!m)
            continue;
        compare(m, 37, 23, m->name);
        compare(m, 19, 41, m->name);
        crisp_model_destroy(&m);
    }
    /* full-size frames: small enough that the double-precision reference is quick */
    for (int i = 0; i < 2; i++) {
        struct crisp_model *m = random_net(100 + i, 6);
        if (m)
            compare(m, 1280, 720, m->name);
        crisp_model_destroy(&m);
    }
    struct crisp_model *m = build("s2d-student-720p", 1, 1, 1.0f,
                                  (struct crisp_layer[]){S2D(2), CONV(4, 16, 3, 1), RELU,
                                                         CONV(16, 16, 3, 1), RELU,
                                                         CONV(16, 4, 3, 1), D2S(2)},
                                  7);
    if (m)
        compare(m, 1280, 720, m->name);
    crisp_model_destroy(&m);
    TEST_DONE();
}
