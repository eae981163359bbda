// SPDX-License-Identifier: BSD-2-Clause
// Fused input/output passes of the engine (crisp_engine_fused_io): an int8
// luma model between space-to-depth and depth-to-space reads the first
// conv's u8 input straight from the frame and writes the output in one pass.
// Checked against the same model built with plain_io = 1 (oneDNN reorders,
// our copies, a oneDNN residual add): crisp_engine_run bit for bit, and
// crisp_engine_run_luma8 byte for byte against converting to floats, running
// the plain engine and blending as crispd did (strengths 1, 0.6, 1.5 and 2, a
// row stride wider than the frame, whose padding must stay untouched), and
// the same model in stripes (crisp_engine_run_luma8 through floats there). Models
// that cannot fuse (odd sizes, a first conv kept in f32, a skip reading the
// space-to-depth output, f32 precision) report 0 and still match. With the
// repository's models/ present, the shipped ladder at 1280x720 too. A first
// conv put on the int8 grid (crisp_quant_weights_grid) runs in int8 exactly.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"
#include "../layers.h"
#include "crisp/engine.h"
#include "crisp/model.h"
#include "crisp/util.h"

#define CONV(co, kk, s) LCONV(co, kk, s)

static struct crisp_rng g_rng;
static float uni(float lo, float hi) { return lo + (hi - lo) * (float)crisp_rng_uniform(&g_rng); }

struct net_def {
    const char *name;
    int output, n;
    struct crisp_layer l[16];
};

static const struct net_def nets[] = {
    {"ladder-residual", 1, 9,
     {S2D(2), CONV(16, 5, 1), RELU, CONV(16, 3, 1), RELU, CONV(16, 3, 1), RELU, CONV(4, 3, 1),
      D2S(2)}},
    {"direct-prelu", 0, 7, {S2D(2), CONV(8, 3, 1), PRELU, CONV(8, 3, 1), RELU, CONV(4, 3, 1), D2S(2)}},
    {"s2d4", 1, 6, {S2D(4), CONV(16, 3, 1), RELU, CONV(16, 3, 1), CONV(16, 3, 1), D2S(4)}},
    {"tail-clamp", 1, 6, {S2D(2), CONV(8, 3, 1), RELU, CONV(4, 3, 1), CLAMP(-0.5f, 0.5f), D2S(2)}},
    /* a skip reads the space-to-depth output: not fusable */
    {"skip-s2d", 1, 6, {S2D(2), CONV(4, 3, 1), RELU, CONV(4, 3, 1), ADD(0), D2S(2)}},
};

static float draw(const struct crisp_layer *l, int role) { return role == CRISP_ROLE_SLOPE ? uni(0.05f, 0.4f) : uni(-0.3f, 0.3f); }

static struct crisp_model *make(const struct net_def *d)
{
    struct crisp_model *m = NULL;
    char err[256] = "";
    CHECK(crisp_model_create(&m, d->name, CRISP_COLOR_LUMA, (enum crisp_output_mode)d->output, 1.0f,
                             d->l, d->n, err, sizeof(err)) == 0,
          "%s: %s", d->name, err);
    if (m)
        fill_tensors(m, draw);
    return m;
}

/* the first conv on the image's range [0, 1] (crisp-train quantize's default),
 * or kept in f32; the others u8 after a ReLU, else s8 */
static struct crisp_quant *quant_for(const struct crisp_model *m, int first_f32)
{
    struct crisp_quant *q = crisp_quant_new(m->n_layers);
    for (int i = 0, first = 1; q && i < m->n_layers; i++) {
        if (m->layers[i].type != CRISP_LAYER_CONV)
            continue;
        const int after_relu = m->layers[i - 1].type == CRISP_LAYER_RELU;
        q->in_min[i] = first || after_relu ? 0.0f : -2.0f;
        q->in_max[i] = first ? (first_f32 ? CRISP_QUANT_KEEP_F32 : 1.0f) : 2.0f;
        first = 0;
    }
    return q;
}

static uint8_t blend(uint8_t in, float model, float s)
{
    const float v = in + s * (model * 255.0f - in) + 0.5f;
    return (uint8_t)(v < 0.0f ? 0 : v >= 255.0f ? 255 : (int)v);
}

/* Compares a model's default engine with its plain_io twin on one size;
 * returns whether the default one fused. */
static int compare(const struct crisp_model *m, const struct crisp_quant *q, int w, int h,
                   int threads, const char *what)
{
    char err[512] = "";
    struct crisp_engine_params p = {.width = w, .height = h, .threads = threads,
                                    .precision = q ? CRISP_PRECISION_INT8 : CRISP_PRECISION_F32,
                                    .quant = q};
    struct crisp_engine *ef = NULL, *ep = NULL, *es = NULL;
    CHECK(crisp_engine_create(&ef, m, &p, err, sizeof(err)) == 0, "%s: %s", what, err);
    p.stripe_rows = h / 3; /* stripes: crisp_engine_run_luma8 goes through floats */
    CHECK(crisp_engine_create(&es, m, &p, err, sizeof(err)) == 0, "%s stripes: %s", what, err);
    p.stripe_rows = 0;
    p.plain_io = 1;
    CHECK(crisp_engine_create(&ep, m, &p, err, sizeof(err)) == 0, "%s plain: %s", what, err);
    if (!ef || !ep || !es) {
        crisp_engine_destroy(&es);
        crisp_engine_destroy(&ef);
        crisp_engine_destroy(&ep);
        return -1;
    }
    CHECK(!crisp_engine_fused_io(ep), "%s: plain_io engine fused", what);
    const int fused = crisp_engine_fused_io(ef);
    CHECK(crisp_engine_fused_io(es) == fused, "%s: stripes fused %d, whole frame %d", what,
          crisp_engine_fused_io(es), fused);
    const size_t n = (size_t)w * h;
    const int stride = w + 13;
    float *in = malloc(n * sizeof(float)), *of = malloc(n * sizeof(float)),
          *op = malloc(n * sizeof(float));
    uint8_t *plane = malloc((size_t)stride * h), *ref = malloc((size_t)stride * h),
            *str = malloc((size_t)stride * h);
    /* every byte value, then texture; floats slightly outside [0, 1] too */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < stride; x++) {
            const size_t i = (size_t)y * w + x;
            uint8_t v = i < 256 ? (uint8_t)i : (uint8_t)(crisp_rng_u64(&g_rng) & 255);
            plane[(size_t)y * stride + x] = x < w ? v : (uint8_t)(0xA5 ^ x);
            if (x < w)
                in[i] = i % 97 == 0 ? uni(-0.05f, 1.05f) : v * (1.0f / 255.0f);
        }
    CHECK(crisp_engine_run(ef, in, of) == 0 && crisp_engine_run(ep, in, op) == 0, "%s: run",
          what);
    size_t bad = 0, changed = 0;
    for (size_t i = 0; i < n; i++) {
        bad += memcmp(&of[i], &op[i], sizeof(float)) != 0;
        changed += of[i] != in[i];
    }
    CHECK(changed > n / 2, "%s: the model changed only %zu of %zu pixels", what, changed, n);
    CHECK(bad == 0, "%s: crisp_engine_run: %zu of %zu outputs differ from plain I/O", what, bad, n);
    const float strengths[] = {1.0f, 0.6f, 1.5f, 2.0f};
    for (int k = 0; k < (int)(sizeof(strengths) / sizeof(strengths[0])); k++) {
        const float s = strengths[k];
        /* the reference: floats, the plain engine, crispd's blend */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                in[(size_t)y * w + x] = plane[(size_t)y * stride + x] * (1.0f / 255.0f);
        memcpy(ref, plane, (size_t)stride * h);
        CHECK(crisp_engine_run(ep, in, op) == 0, "%s: plain run", what);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                ref[(size_t)y * stride + x] = blend(ref[(size_t)y * stride + x], op[(size_t)y * w + x], s);
        memcpy(str, plane, (size_t)stride * h);
        CHECK(crisp_engine_run_luma8(ef, plane, stride, s) == 0, "%s: luma8", what);
        CHECK(crisp_engine_run_luma8(es, str, stride, s) == 0, "%s: luma8 in stripes", what);
        CHECK(!memcmp(str, ref, (size_t)stride * h), "%s strength %.1f: striped luma8 differs",
              what, s);
        bad = 0;
        for (size_t i = 0; i < (size_t)stride * h; i++)
            bad += plane[i] != ref[i];
        CHECK(bad == 0, "%s strength %.1f: crisp_engine_run_luma8: %zu of %zu bytes differ", what,
              s, bad, (size_t)stride * h);
    }
    free(in);
    free(of);
    free(op);
    free(plane);
    free(ref);
    free(str);
    crisp_engine_destroy(&es);
    crisp_engine_destroy(&ef);
    crisp_engine_destroy(&ep);
    return fused;
}

static void check_net(const struct net_def *d)
{
    struct crisp_model *m = make(d);
    if (!m)
        return;
    struct crisp_quant *q = quant_for(m, 0), *qf = quant_for(m, 1);
    const int can = strcmp(d->name, "skip-s2d") != 0;
    const int f = m->layers[0].factor;
    char what[128];
    const int sizes[][2] = {{128, 72}, {66, 38}, {97, 61}, {1032, 20}}; /* the last: rows in chunks */
    for (int s = 0; s < 4; s++) {
        const int w = sizes[s][0], h = sizes[s][1];
        const int even = w % f == 0 && h % f == 0;
        snprintf(what, sizeof(what), "%s int8 %dx%d", d->name, w, h);
        int fused = compare(m, q, w, h, s == 1 ? 1 : 2, what);
        CHECK(fused == (can && even), "%s: fused %d, expected %d", what, fused, can && even);
        printf("%-24s %s\n", what, fused ? "fused, identical to plain I/O" : "not fused, identical");
    }
    snprintf(what, sizeof(what), "%s int8 first conv f32", d->name);
    CHECK(compare(m, qf, 128, 72, 2, what) == 0, "%s: fused", what);
    snprintf(what, sizeof(what), "%s f32", d->name);
    CHECK(compare(m, NULL, 128, 72, 2, what) == 0, "%s: fused", what);
    crisp_quant_destroy(&q);
    crisp_quant_destroy(&qf);
    crisp_model_destroy(&m);
}

/* the shipped ladder, as crispd runs it */
static void check_shipped(const char *root)
{
    const char *names[] = {"crisp-rt-xs", "crisp-rt-s", "crisp-rt", "crisp-rt-l"};
    for (int i = 0; i < 4; i++) {
        char path[1024], err[512] = "";
        snprintf(path, sizeof(path), "%s/models/%s.crisp", root, names[i]);
        struct crisp_model *m = NULL;
        struct crisp_quant *q = NULL;
        enum crisp_precision prec;
        CHECK(crisp_weights_load(&m, path, err, sizeof(err)) == 0, "%s: %s", path, err);
        if (!m)
            continue;
        CHECK(crisp_precision_choose("int8", path, m, &prec, &q, NULL, 0, err, sizeof(err)) == 0,
              "%s: %s", path, err);
        if (q) {
            char what[64];
            snprintf(what, sizeof(what), "%s 1280x720", names[i]);
            CHECK(compare(m, q, 1280, 720, 2, what) == 1, "%s: not fused", what);
            printf("%-24s fused, identical to plain I/O\n", what);
        }
        crisp_quant_destroy(&q);
        crisp_model_destroy(&m);
    }
}

/* crisp_quant_weights_grid (crisp-train --first-conv-grid): a first conv
 * whose weights are on the int8 grid runs in int8 as in f32 on an image of
 * whole 8-bit levels (the s8 weights and the u8 input are then exact), where
 * the same conv off the grid does not */
static void check_grid(void)
{
    const struct crisp_layer l[] = {S2D(2), CONV(8, 5, 1), CONV(4, 3, 1), D2S(2)};
    struct crisp_model *m = NULL;
    CHECK(crisp_model_create(&m, "grid", CRISP_COLOR_LUMA, CRISP_OUTPUT_RESIDUAL, 1.0f, l, 4,
                             NULL, 0) == 0, "grid model");
    if (!m)
        return;
    fill_tensors(m, draw);
    struct crisp_quant *q = crisp_quant_new(4);
    q->in_max[1] = 1.0f;
    q->in_max[2] = CRISP_QUANT_KEEP_F32;
    const int w = 40, h = 24;
    float *in = malloc(sizeof(float) * w * h), *a = malloc(sizeof(float) * w * h),
          *b = malloc(sizeof(float) * w * h);
    for (int i = 0; i < w * h; i++)
        in[i] = (float)(crisp_rng_u64(&g_rng) % 256) / 255.0f;
    double d[2] = {0, 0};
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            CHECK(crisp_quant_weights_grid(&m->layers[1]) == 0, "weights put on the grid");
        struct crisp_engine *e8 = NULL, *ef = NULL;
        struct crisp_engine_params p8 = {.width = w, .height = h, .threads = 1,
                                         .precision = CRISP_PRECISION_INT8, .quant = q, .plain_io = 1};
        struct crisp_engine_params pf = {.width = w, .height = h, .threads = 1};
        CHECK(crisp_engine_create(&e8, m, &p8, NULL, 0) == 0 &&
                  crisp_engine_create(&ef, m, &pf, NULL, 0) == 0,
              "grid engines");
        if (e8 && ef && crisp_engine_run(e8, in, a) == 0 && crisp_engine_run(ef, in, b) == 0)
            for (int i = 0; i < w * h; i++)
                d[pass] = fmax(d[pass], fabs((double)a[i] - b[i]));
        crisp_engine_destroy(&e8);
        crisp_engine_destroy(&ef);
    }
    CHECK(d[1] < 1e-5 && d[0] > 10 * d[1] && d[0] > 1e-5,
          "int8 vs f32: %.3g off the grid, %.3g on it", d[0], d[1]);
    free(in);
    free(a);
    free(b);
    crisp_quant_destroy(&q);
    crisp_model_destroy(&m);
}

int main(void)
{
    if (!crisp_cpu_int8()) {
        printf("SKIP: this CPU has no int8 convolutions in oneDNN (needs AVX2)\n");
        return 77;
    }
    crisp_rng_seed(&g_rng, 11);
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
        check_net(&nets[i]);
    check_grid();
    const char *root = getenv("CRISP_SOURCE_ROOT");
    if (root)
        check_shipped(root);
    TEST_DONE();
}
