// SPDX-License-Identifier: BSD-2-Clause
// Frame-pair models (CRISP_COLOR_LUMA_PAIR): the current and the previous
// frame's luma in, both frames out, callers show channel 0.
// crisp_model_pair_from: channel 0 equals the luma model it was made from
// (reference), channel 1 is the previous frame bit for bit; other layouts
// are refused with a message. The weights file keeps the colour mode. The
// oneDNN engine matches the reference in f32 and int8, in stripes too, and
// crisp_engine_run_luma8_pair blends channel 0 as crispd does, reads the
// previous plane (and treats NULL as the frame itself).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"
#include "../layers.h"
#include "crisp/engine.h"
#include "crisp/model.h"
#include "crisp/util.h"

static struct crisp_rng g_rng;
static float uni(float lo, float hi) { return lo + (hi - lo) * (float)crisp_rng_uniform(&g_rng); }
static float draw(const struct crisp_layer *l, int role)
{
    (void)l;
    return role == CRISP_ROLE_SLOPE ? uni(0.05f, 0.4f) : uni(-0.3f, 0.3f);
}

static uint8_t blend(uint8_t in, float model, float s)
{
    const float v = in + s * (model * 255.0f - in) + 0.5f;
    return (uint8_t)(v < 0.0f ? 0 : v >= 255.0f ? 255 : (int)v);
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

/* the engine on [cur, prev] against the reference */
static void check_engine(const struct crisp_model *pm, const float *in, const float *ref, int w,
                         int h, enum crisp_precision prec, const struct crisp_quant *q,
                         int stripe_rows, double tol, const char *what)
{
    struct crisp_engine *e = NULL;
    char err[256] = "";
    struct crisp_engine_params p = {.width = w, .height = h, .threads = 1, .precision = prec,
                                    .quant = q, .stripe_rows = stripe_rows};
    CHECK(crisp_engine_create(&e, pm, &p, err, sizeof(err)) == 0, "%s: %s", what, err);
    if (!e)
        return;
    CHECK(crisp_engine_pair(e) == 1, "%s: not a pair engine", what);
    float *out = malloc(sizeof(float) * 2 * (size_t)w * h);
    CHECK(crisp_engine_run(e, in, out) == 0, "%s: run", what);
    double d = max_diff(out, ref, 2 * (size_t)w * h), mean = 0;
    for (size_t i = 0; i < 2 * (size_t)w * h; i++)
        mean += fabs((double)out[i] - ref[i]) / (2.0 * w * h);
    CHECK(d < tol && mean < tol / 10, "%s: engine vs reference max %.3g, mean %.3g (tolerance %.3g)",
          what, d, mean, tol);
    free(out);
    crisp_engine_destroy(&e);
}

int main(void)
{
    crisp_rng_seed(&g_rng, 7);
    const struct crisp_layer ladder[] = {S2D(2), LCONV(8, 5, 1), RELU, LCONV(8, 3, 1), PRELU,
                                         LCONV(4, 3, 1), D2S(2)};
    struct crisp_model *m = NULL, *pm = NULL, *bad = NULL;
    char err[256] = "";
    CHECK(crisp_model_create(&m, "ladder", CRISP_COLOR_LUMA, CRISP_OUTPUT_RESIDUAL, 1.0f, ladder,
                             7, err, sizeof(err)) == 0,
          "%s", err);
    if (!m)
        TEST_DONE();
    fill_tensors(m, draw);
    CHECK(crisp_model_pair_from(&pm, m, err, sizeof(err)) == 0, "pair_from: %s", err);
    if (!pm)
        TEST_DONE();
    CHECK(pm->color == CRISP_COLOR_LUMA_PAIR && pm->layers[1].cin == 8 &&
              pm->layers[5].cout == 8 && pm->layers[6].channels == 2,
          "pair layout: color %d, first conv %d inputs, last conv %d outputs", (int)pm->color,
          pm->layers[1].cin, pm->layers[5].cout);
    CHECK(!strcmp(pm->name, "ladder-pair"), "name %s", pm->name);

    /* channel 0: the luma model; channel 1: the previous frame, exactly */
    const int w = 26, h = 18;
    const size_t n = (size_t)w * h;
    float *in = malloc(sizeof(float) * 2 * n), *ref = malloc(sizeof(float) * 2 * n);
    float *luma = malloc(sizeof(float) * n);
    for (size_t i = 0; i < 2 * n; i++)
        in[i] = uni(0.0f, 1.0f);
    CHECK(crisp_ref_run(m, in, w, h, luma) == 0, "reference luma");
    CHECK(crisp_ref_run(pm, in, w, h, ref) == 0, "reference pair");
    CHECK(max_diff(ref, luma, n) < 1e-5, "channel 0 vs the luma model: %.3g",
          max_diff(ref, luma, n));
    CHECK(memcmp(ref + n, in + n, sizeof(float) * n) == 0, "channel 1 is not the previous frame");

    /* the previous frame's weights start at zero; give them some so that the
     * engines below see a real pair model */
    float *w1 = pm->layers[1].t[CRISP_ROLE_WEIGHT];
    for (int co = 0; co < 8; co++)
        for (int k = 4 * 25; k < 8 * 25; k++)
            w1[co * 8 * 25 + k] = uni(-0.2f, 0.2f);
    float *w5 = pm->layers[5].t[CRISP_ROLE_WEIGHT];
    for (size_t k = 4 * 8 * 9; k < 8 * 8 * 9; k++)
        w5[k] = uni(-0.2f, 0.2f);
    CHECK(crisp_ref_run(pm, in, w, h, ref) == 0, "reference pair (trained)");
    CHECK(max_diff(ref, luma, n) > 1e-3, "the previous frame changes nothing");

    /* the weights file keeps the colour mode and every value */
    uint8_t *buf = NULL;
    size_t len = 0;
    struct crisp_model *back = NULL;
    CHECK(crisp_weights_serialize(pm, &buf, &len) == 0, "serialize");
    CHECK(buf && crisp_weights_parse(&back, buf, len, err, sizeof(err)) == 0, "parse: %s", err);
    CHECK(back && back->color == CRISP_COLOR_LUMA_PAIR && back->data_floats == pm->data_floats &&
              !memcmp(back->data, pm->data, sizeof(float) * pm->data_floats),
          "round trip");
    free(buf);
    crisp_model_destroy(&back);

    /* other layouts are refused, with a message */
    const struct crisp_layer plain[] = {LCONV(4, 3, 1), RELU, LCONV(1, 3, 1)};
    CHECK(crisp_model_create(&bad, "plain", CRISP_COLOR_LUMA, CRISP_OUTPUT_RESIDUAL, 1.0f, plain,
                             3, err, sizeof(err)) == 0,
          "%s", err);
    struct crisp_model *none = NULL;
    err[0] = 0;
    CHECK(bad && crisp_model_pair_from(&none, bad, err, sizeof(err)) == CRISP_EMODEL && !none &&
              strstr(err, "s2d"),
          "a model without s2d: \"%s\"", err);
    crisp_model_destroy(&bad);
    err[0] = 0;
    CHECK(crisp_model_pair_from(&none, pm, err, sizeof(err)) == CRISP_EMODEL && !none && err[0],
          "a pair model made again: \"%s\"", err);

    /* engines: f32, f32 in stripes, int8 */
    check_engine(pm, in, ref, w, h, CRISP_PRECISION_F32, NULL, 0, 1e-4, "f32");
    check_engine(pm, in, ref, w, h, CRISP_PRECISION_F32, NULL, 6, 1e-4, "f32 stripes");
    struct crisp_quant *q = crisp_quant_new(pm->n_layers);
    if (q) {
        q->in_max[1] = 1.0f;
        q->in_max[3] = 3.0f;
        q->in_min[5] = -3.0f;
        q->in_max[5] = 3.0f;
        check_engine(pm, in, ref, w, h, CRISP_PRECISION_INT8, q, 0, 0.2, "int8");
    }
    crisp_quant_destroy(&q);

    /* crispd's call: bytes in, channel 0 blended back, the previous plane read */
    struct crisp_engine *e = NULL;
    struct crisp_engine_params p = {.width = w, .height = h, .threads = 1};
    CHECK(crisp_engine_create(&e, pm, &p, err, sizeof(err)) == 0, "%s", err);
    uint8_t *cur = malloc(n), *prev = malloc(n), *a = malloc(n), *b = malloc(n);
    for (size_t i = 0; i < n; i++) {
        cur[i] = (uint8_t)(crisp_rng_u64(&g_rng) & 255);
        prev[i] = (uint8_t)(crisp_rng_u64(&g_rng) & 255);
        in[i] = cur[i] / 255.0f;
        in[n + i] = prev[i] / 255.0f;
    }
    float *out = malloc(sizeof(float) * 2 * n);
    if (e) {
        CHECK(crisp_engine_run(e, in, out) == 0, "run");
        memcpy(a, cur, n);
        CHECK(crisp_engine_run_luma8_pair(e, a, w, prev, w, 0.7f) == 0, "luma8 pair");
        int wrong = 0;
        for (size_t i = 0; i < n; i++)
            wrong += a[i] != blend(cur[i], out[i], 0.7f);
        CHECK(wrong == 0, "%d of %zu bytes differ from the float path's blend", wrong, n);
        /* NULL: the frame is its own previous one */
        memcpy(a, cur, n);
        memcpy(b, cur, n);
        CHECK(crisp_engine_run_luma8_pair(e, a, w, NULL, 0, 1.0f) == 0 &&
                  crisp_engine_run_luma8_pair(e, b, w, cur, w, 1.0f) == 0 &&
                  !memcmp(a, b, n),
              "NULL previous frame differs from the frame itself");
        memcpy(b, cur, n);
        CHECK(crisp_engine_run_luma8(e, b, w, 1.0f) == 0 && !memcmp(a, b, n),
              "crisp_engine_run_luma8 on a pair engine is not the still case");
        memcpy(b, cur, n);
        CHECK(crisp_engine_run_luma8_pair(e, b, w, prev, w, 1.0f) == 0 && memcmp(a, b, n),
              "the previous plane is not read");
    }
    crisp_engine_destroy(&e);
    /* a luma engine is not a pair engine and ignores prev */
    CHECK(crisp_engine_create(&e, m, &p, err, sizeof(err)) == 0, "%s", err);
    if (e) {
        CHECK(crisp_engine_pair(e) == 0, "a luma engine says pair");
        memcpy(a, cur, n);
        memcpy(b, cur, n);
        CHECK(crisp_engine_run_luma8(e, a, w, 1.0f) == 0 &&
                  crisp_engine_run_luma8_pair(e, b, w, prev, w, 1.0f) == 0 && !memcmp(a, b, n),
              "a luma engine reads prev");
    }
    crisp_engine_destroy(&e);
    free(cur);
    free(prev);
    free(a);
    free(b);
    free(out);
    free(in);
    free(ref);
    free(luma);
    crisp_model_destroy(&m);
    crisp_model_destroy(&pm);
    TEST_DONE();
}
