// SPDX-License-Identifier: BSD-2-Clause
// Reuse of unchanged tiles (crisp_engine_params.reuse, lib/nn/reuse.c)
// gives the same bytes as running every frame whole, frame after frame of
// a sequence: unchanged frames, small changes inside and at every edge and
// corner, scattered changes, a cut (everything new), a strength change,
// in f32 and int8, with fused I/O (the ladder's layout), with a model
// border (edge-replicated padding), with a U-Net (alignment 4), a
// frame-pair model (the previous frame changes the output too), in stripes,
// at two frame sizes. Each case must also have reused tiles and run
// windows (partial frames), so it cannot pass by computing everything.
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
static int irand(int n) { return (int)(crisp_rng_uniform(&g_rng) * n) % n; }

struct net_def {
    const char *name;
    int output, n, border, pair;
    struct crisp_layer l[24];
};

static const struct net_def nets[] = {
    {"ladder", 1, 7, 0, 0,
     {S2D(2), CONV(16, 5, 1), RELU, CONV(16, 3, 1), RELU, CONV(4, 3, 1), D2S(2)}},
    {"ladder-pair", 1, 7, 0, 1,
     {S2D(2), CONV(8, 5, 1), RELU, CONV(8, 3, 1), PRELU, CONV(4, 3, 1), D2S(2)}},
    {"bn-add-prelu", 0, 7, 0, 0,
     {CONV(16, 3, 1), BN, RELU, CONV(16, 3, 1), ADD(2), PRELU, CONV(1, 3, 1)}},
    {"lrelu-clamp-border", 1, 5, 6, 0,
     {CONV(8, 5, 1), LRELU(0.1f), CONV(8, 3, 1), CLAMP(-0.5f, 0.5f), CONV(1, 3, 1)}},
    {"unet", 1, 19, 0, 0,
     {CONV(8, 3, 1), RELU, CONV(8, 3, 1), RELU, CONV(16, 3, 2), RELU, CONV(16, 3, 1), RELU,
      CONV(32, 3, 2), RELU, CONV(64, 3, 1), D2S(2), CAT(7), CONV(16, 3, 1), RELU, CONV(32, 3, 1),
      D2S(2), CAT(3), CONV(1, 3, 1)}},
};

static float draw(const struct crisp_layer *l, int role)
{
    return role == CRISP_ROLE_VAR || role == CRISP_ROLE_GAMMA ? uni(0.5f, 1.5f)
           : role == CRISP_ROLE_SLOPE                         ? uni(0.05f, 0.4f)
                                                              : uni(-0.2f, 0.2f);
}

static struct crisp_model *make(const struct net_def *d)
{
    struct crisp_model *m = NULL, *pm = NULL;
    char err[256] = "";
    CHECK(crisp_model_create(&m, d->name, CRISP_COLOR_LUMA, (enum crisp_output_mode)d->output,
                             1.0f, d->l, d->n, err, sizeof(err)) == 0,
          "%s: %s", d->name, err);
    if (!m)
        return NULL;
    m->border = d->border;
    fill_tensors(m, draw);
    if (!d->pair)
        return m;
    CHECK(crisp_model_pair_from(&pm, m, err, sizeof(err)) == 0, "%s: %s", d->name, err);
    crisp_model_destroy(&m);
    return pm;
}

static struct crisp_quant *quant_for(const struct crisp_model *m)
{
    struct crisp_quant *q = crisp_quant_new(m->n_layers);
    for (int i = 0, first = 1; q && i < m->n_layers; i++) {
        if (m->layers[i].type != CRISP_LAYER_CONV)
            continue;
        /* the first conv in u8 over [0, 1] (fused I/O where the layout allows) */
        q->in_min[i] = first ? 0.0f : i > 0 && m->layers[i - 1].type == CRISP_LAYER_RELU ? 0.0f : -2.0f;
        q->in_max[i] = first ? 1.0f : 2.0f;
        first = 0;
    }
    return q;
}

/* the next frame of the sequence, from the previous one: kind 0 unchanged,
 * 1 a small rectangle somewhere (edges and corners included), 2 a few
 * scattered dots, 3 everything new */
static void next_frame(uint8_t *f, int w, int h, int kind)
{
    if (kind == 3) {
        for (int i = 0; i < w * h; i++)
            f[i] = (uint8_t)irand(256);
        return;
    }
    const int n = kind == 1 ? 1 : kind == 2 ? 3 : 0;
    for (int k = 0; k < n; k++) {
        const int rw = kind == 1 ? 1 + irand(40) : 1, rh = kind == 1 ? 1 + irand(30) : 1;
        /* a third of the rectangles touch an edge */
        int x = irand(w - rw + 1), y = irand(h - rh + 1);
        switch (irand(6)) {
        case 0: x = 0; break;
        case 1: x = w - rw; break;
        case 2: y = 0; break;
        case 3: y = h - rh; break;
        default: break;
        }
        for (int yy = y; yy < y + rh; yy++)
            for (int xx = x; xx < x + rw; xx++)
                f[yy * w + xx] = (uint8_t)irand(256);
    }
}

static int layered_runs; /* cases run by layer reuse (the int8 ladder) */

static void check(const struct net_def *d, enum crisp_precision prec, int w, int h, int stripes)
{
    struct crisp_model *m = make(d);
    struct crisp_quant *q = prec == CRISP_PRECISION_INT8 && m ? quant_for(m) : NULL;
    struct crisp_engine *ref = NULL, *ru = NULL;
    char err[256] = "";
    struct crisp_engine_params p = {.width = w, .height = h, .threads = 2, .precision = prec,
                                    .quant = q, .stripe_rows = stripes};
    if (!m)
        return;
    int ret = crisp_engine_create(&ref, m, &p, err, sizeof(err));
    CHECK(ret == 0, "%s: %s", d->name, err);
    p.reuse = 1;
    ret |= crisp_engine_create(&ru, m, &p, err, sizeof(err));
    CHECK(ret == 0, "%s reuse: %s", d->name, err);
    const char *what = prec == CRISP_PRECISION_INT8 ? "int8" : "f32";
    if (ret == 0) {
        CHECK(crisp_engine_reuse(ru) && !crisp_engine_reuse(ref), "%s %s %dx%d: reuse not active",
              d->name, what, w, h);
        /* layer by layer only where the engine keeps int8 layer outputs */
        const int mode = crisp_engine_reuse(ru);
        CHECK(mode == 1 || (mode == 2 && prec == CRISP_PRECISION_INT8 && crisp_engine_fused_io(ru)),
              "%s %s %dx%d: reuse mode %d", d->name, what, w, h, mode);
        layered_runs += mode == 2;
        const size_t n = (size_t)w * h;
        uint8_t *cur = malloc(n), *prev = malloc(n), *a = malloc(n), *b = malloc(n);
        for (size_t i = 0; i < n; i++) /* a smooth picture with texture */
            cur[i] = (uint8_t)(128 + 60 * sinf((float)(i % (size_t)w) / 17.0f) +
                               30 * cosf((float)(i / (size_t)w) / 11.0f) + irand(20));
        memcpy(prev, cur, n);
        static const int kinds[] = {0, 1, 1, 0, 2, 1, 1, 3, 1, 0, 2, 1, 1, 1, 2, 1};
        int frames = 0, differ = 0, partial = 0;
        long t0 = 0, r0 = 0;
        for (int f = 0; f < 2 * (int)(sizeof(kinds) / sizeof(kinds[0])); f++) {
            const int kind = f == 0 ? 0 : kinds[f % 16];
            if (f)
                next_frame(cur, w, h, kind);
            const float strength = f < 20 ? 1.0f : 1.5f; /* a change of strength at 20 */
            memcpy(a, cur, n);
            memcpy(b, cur, n);
            const uint8_t *pp = d->pair && f ? prev : NULL;
            int r1 = crisp_engine_run_luma8_pair(ref, a, w, pp, w, strength);
            int r2 = crisp_engine_run_luma8_pair(ru, b, w, pp, w, strength);
            CHECK(r1 == 0 && r2 == 0, "%s: run %d %d", d->name, r1, r2);
            frames++;
            if (memcmp(a, b, n)) {
                size_t i = 0;
                while (a[i] == b[i])
                    i++;
                if (differ++ == 0)
                    fprintf(stderr, "%s %s %dx%d stripes %d frame %d (kind %d): first differing "
                                    "pixel (%zu, %zu): %d against %d\n",
                            d->name, what, w, h, stripes, f, kind, i % (size_t)w, i / (size_t)w,
                            a[i], b[i]);
            }
            long t1, r1s;
            crisp_engine_reuse_stats(ru, &t1, &r1s);
            if (r1s - r0 > 0 && r1s - r0 < t1 - t0)
                partial++;
            t0 = t1;
            r0 = r1s;
            memcpy(prev, cur, n);
        }
        long tiles, reused, checked, unchanged;
        crisp_engine_reuse_stats(ru, &tiles, &reused);
        crisp_engine_reuse_checked(ru, &checked, &unchanged);
        /* a copied tile is an unchanged one: the windows copy at most them */
        CHECK(checked > 0 && checked <= tiles && unchanged >= reused && unchanged <= checked,
              "%s %s %dx%d: %ld tiles checked, %ld unchanged, %ld reused of %ld", d->name, what, w,
              h, checked, unchanged, reused, tiles);
        CHECK(differ == 0, "%s %s %dx%d stripes %d: %d of %d frames differ from whole-frame runs",
              d->name, what, w, h, stripes, differ, frames);
        CHECK(reused > 0 && partial >= 6, "%s %s %dx%d: %ld of %ld tiles reused, %d partial frames",
              d->name, what, w, h, reused, tiles, partial);
        printf("%-20s %-4s %4dx%-4d stripes %2d: %d frames bit-identical, %ld of %ld tiles reused, "
               "%d frames partly computed, %ld of %ld checked unchanged%s\n",
               d->name, what, w, h, stripes, frames, reused, tiles, partial, unchanged, checked,
               crisp_engine_reuse(ru) == 2 ? " (layer by layer)" : "");
        free(cur);
        free(prev);
        free(a);
        free(b);
    }
    crisp_engine_destroy(&ref);
    crisp_engine_destroy(&ru);
    crisp_quant_destroy(&q);
    crisp_model_destroy(&m);
}

int main(void)
{
    crisp_rng_seed(&g_rng, 36);
    /* every net at 448x256 (two window sizes fit; oneDNN runs some of
     * these random layouts in its slow reference kernels), the ladder's
     * layout also at 640x360 and at a size that is no multiple of the tile */
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        check(&nets[i], CRISP_PRECISION_F32, 448, 256, 0);
        if (crisp_cpu_int8())
            check(&nets[i], CRISP_PRECISION_INT8, 448, 256, 0);
    }
    check(&nets[0], CRISP_PRECISION_F32, 702, 398, 0);
    if (crisp_cpu_int8()) {
        check(&nets[0], CRISP_PRECISION_INT8, 640, 360, 0);
        check(&nets[0], CRISP_PRECISION_INT8, 702, 398, 0);
        check(&nets[0], CRISP_PRECISION_INT8, 640, 360, 64); /* stripes */
        /* the int8 ladder without stripes: layer by layer, at all three sizes */
        CHECK(layered_runs >= 3, "layer reuse ran in %d cases, not the int8 ladder's 3",
              layered_runs);
    }
    check(&nets[3], CRISP_PRECISION_F32, 448, 256, 96);
    /* too small for a window: reuse stays off, runs as before */
    struct crisp_model *m = make(&nets[0]);
    struct crisp_engine *e = NULL;
    char err[256];
    struct crisp_engine_params p = {.width = 128, .height = 96, .threads = 1, .reuse = 1};
    if (m) {
        CHECK(crisp_engine_create(&e, m, &p, err, sizeof(err)) == 0 && !crisp_engine_reuse(e),
              "128x96: reuse should be off");
        crisp_engine_destroy(&e);
        crisp_model_destroy(&m);
    }
    TEST_DONE();
}
