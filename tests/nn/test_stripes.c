// SPDX-License-Identifier: BSD-2-Clause
// Stripe execution (crisp_engine_params.stripe_rows) equals whole-frame
// execution bit for bit, in f32 and in int8, for every layer kind the model
// format has (space-to-depth, depth-to-space, stride-2 convs, concat and
// add skips, BN, PReLU, LReLU, clamp, a model border), odd frame sizes,
// stripes thinner than the halo, one and several worker threads. The one
// exception measured: an RGB model's f32 3-channel output convolution runs
// as oneDNN's gemm convolution, whose summation blocking follows the
// problem's height, so a window and the whole frame can round the last bit
// differently (7e-7 seen): RGB f32 is held to 2e-6, everything else to 0.
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
    int color, output, n, border;
    struct crisp_layer l[24];
};

static const struct net_def nets[] = {
    {"rt-s2d", 1, 1, 7, 0,
     {S2D(2), CONV(24, 3, 1), RELU, CONV(24, 3, 1), RELU, CONV(4, 3, 1), D2S(2)}},
    {"unet", 1, 1, 19, 0,
     {CONV(16, 3, 1), RELU, CONV(16, 3, 1), RELU, CONV(32, 3, 2), RELU, CONV(32, 3, 1), RELU,
      CONV(64, 3, 2), RELU, CONV(128, 3, 1), D2S(2), CAT(7), CONV(32, 3, 1), RELU, CONV(64, 3, 1),
      D2S(2), CAT(3), CONV(1, 3, 1)}},
    {"bn-add-prelu", 1, 0, 7, 0,
     {CONV(16, 3, 1), BN, RELU, CONV(16, 3, 1), ADD(2), PRELU, CONV(1, 3, 1)}},
    {"lrelu-clamp-border", 1, 1, 5, 6,
     {CONV(8, 5, 1), LRELU(0.1f), CONV(8, 3, 1), CLAMP(-0.5f, 0.5f), CONV(1, 3, 1)}},
    {"rgb", 3, 1, 3, 0, {CONV(8, 3, 1), PRELU, CONV(3, 3, 1)}},
};

static float draw(const struct crisp_layer *l, int role)
{
    return role == CRISP_ROLE_VAR || role == CRISP_ROLE_GAMMA ? uni(0.5f, 1.5f)
           : role == CRISP_ROLE_SLOPE                         ? uni(0.05f, 0.4f)
                                                              : uni(-0.3f, 0.3f);
}

static struct crisp_model *make(const struct net_def *d)
{
    struct crisp_model *m = NULL;
    char err[256] = "";
    CHECK(crisp_model_create(&m, d->name, (enum crisp_color_mode)d->color,
                             (enum crisp_output_mode)d->output, 1.0f, d->l, d->n, err,
                             sizeof(err)) == 0,
          "%s: %s", d->name, err);
    if (!m)
        return NULL;
    m->border = d->border;
    fill_tensors(m, draw);
    return m;
}

/* ranges for int8: the first conv in f32 (as quantize keeps it), the
 * others u8 after a ReLU-like layer, else s8 */
static struct crisp_quant *quant_for(const struct crisp_model *m)
{
    struct crisp_quant *q = crisp_quant_new(m->n_layers);
    if (!q)
        return NULL;
    for (int i = 0, first = 1; i < m->n_layers; i++) {
        if (m->layers[i].type != CRISP_LAYER_CONV)
            continue;
        q->in_min[i] = first ? 0.0f : i > 0 && m->layers[i - 1].type == CRISP_LAYER_RELU ? 0.0f : -2.0f;
        q->in_max[i] = first ? CRISP_QUANT_KEEP_F32 : 2.0f;
        first = 0;
    }
    return q;
}

static int run(const struct crisp_model *m, const struct crisp_engine_params *p, const float *in,
               float *out)
{
    struct crisp_engine *e = NULL;
    char err[256] = "";
    int ret = crisp_engine_create(&e, m, p, err, sizeof(err));
    CHECK(ret == 0, "%s %dx%d stripes %d: %s", m->name, p->width, p->height, p->stripe_rows, err);
    if (ret == 0) {
        ret = crisp_engine_run(e, in, out);
        CHECK(ret == 0, "%s: run", m->name);
        if (p->stripe_rows > 0 && p->stripe_rows < p->height / 2) {
            int workers = 0, halo = 0, n = crisp_engine_stripes(e, &workers, &halo);
            CHECK(n > 1 && workers >= 1 && halo > 0, "%s: %d stripes, %d workers, halo %d",
                  m->name, n, workers, halo);
        }
        /* a second frame through the same engine gives the same output */
        float *again = malloc(sizeof(float) * (size_t)m->color * p->width * p->height);
        crisp_engine_run(e, in, again);
        CHECK(!memcmp(again, out, sizeof(float) * (size_t)m->color * p->width * p->height),
              "%s: second run differs", m->name);
        free(again);
    }
    crisp_engine_destroy(&e);
    return ret;
}

static void check_net(const struct net_def *d, enum crisp_precision prec)
{
    struct crisp_model *m = make(d);
    struct crisp_quant *q = prec == CRISP_PRECISION_INT8 && m ? quant_for(m) : NULL;
    if (!m)
        return;
    const int sizes[][2] = {{97, 61}, {64, 130}};
    const int stripes[] = {1, 3, 8, 20};
    const int threads[] = {1, 2, 3};
    int compared = 0, differ = 0;
    const double tol = d->color == 3 && prec == CRISP_PRECISION_F32 ? 2e-6 : 0;
    for (int s = 0; s < 2; s++) {
        const int w = sizes[s][0], h = sizes[s][1];
        const size_t n = (size_t)d->color * w * h;
        float *in = malloc(n * sizeof(float)), *whole = malloc(n * sizeof(float)),
              *str = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++)
            in[i] = uni(0.0f, 1.0f);
        struct crisp_engine_params p = {.width = w, .height = h, .threads = 2, .precision = prec,
                                        .quant = q};
        if (run(m, &p, in, whole) == 0)
            for (int k = 0; k < 4; k++) {
                p.stripe_rows = stripes[k];
                p.threads = threads[k % 3];
                if (run(m, &p, in, str) < 0)
                    continue;
                compared++;
                double worst = 0;
                for (size_t i = 0; i < n; i++)
                    worst = fmax(worst, fabs((double)whole[i] - str[i]));
                if (worst > tol || (tol == 0 && memcmp(whole, str, n * sizeof(float)))) {
                    differ++;
                    fprintf(stderr, "%s %s %dx%d stripes %d threads %d: max diff %g\n", d->name,
                            prec == CRISP_PRECISION_INT8 ? "int8" : "f32", w, h, stripes[k],
                            p.threads, worst);
                }
            }
        free(in);
        free(whole);
        free(str);
    }
    CHECK(compared == 8 && differ == 0, "%s: %d of %d striped runs differ from the whole frame",
          d->name, differ, compared);
    printf("%-20s %s: %d striped runs %s whole-frame\n", d->name,
           prec == CRISP_PRECISION_INT8 ? "int8" : "f32 ", compared - differ,
           tol > 0 ? "within 2e-6 of" : "bit-identical to");
    crisp_quant_destroy(&q);
    crisp_model_destroy(&m);
}

int main(void)
{
    crisp_rng_seed(&g_rng, 5);
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        check_net(&nets[i], CRISP_PRECISION_F32);
        if (crisp_cpu_int8())
            check_net(&nets[i], CRISP_PRECISION_INT8);
    }
    TEST_DONE();
}
