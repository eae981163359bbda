// SPDX-License-Identifier: BSD-2-Clause
// Training engine: every layer's parameter gradients match central finite
// differences on tiny networks; the loss gradients match too; training
// forward (evaluation mode) equals the oneDNN inference output; a tiny
// network overfits one patch. Mixed precision (CRISP_TRAIN_BF16), where
// the CPU has it: outputs and gradients stay within bf16 rounding of the
// f32 ones and the tiny network still overfits; elsewhere the flag is
// ignored and the results are bit-identical.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"
#include "../layers.h"
#include "crisp/engine.h"
#include "crisp/media.h"
#include "crisp/model.h"
#include "crisp/train.h"
#include "crisp/util.h"

static struct crisp_rng g_rng;
static float uni(float lo, float hi) { return lo + (hi - lo) * (float)crisp_rng_uniform(&g_rng); }

#define CONV(co, kk, s) LCONV(co, kk, s)

struct net_def {
    const char *name;
    int color, output, n;
    struct crisp_layer l[10];
};

static const struct net_def nets[] = {
    {"conv", 1, 0, 2, {CONV(3, 3, 1), CONV(1, 1, 1)}},
    {"conv-stride2", 1, 0, 2, {CONV(4, 3, 2), D2S(2)}},
    {"relu", 1, 0, 3, {CONV(4, 3, 1), RELU, CONV(1, 3, 1)}},
    {"lrelu", 1, 0, 3, {CONV(4, 3, 1), LRELU(0.1f), CONV(1, 3, 1)}},
    {"prelu", 1, 0, 3, {CONV(4, 3, 1), PRELU, CONV(1, 3, 1)}},
    {"bn", 1, 0, 4, {CONV(4, 3, 1), BN, RELU, CONV(1, 3, 1)}},
    {"s2d-d2s", 1, 1, 3, {S2D(2), CONV(4, 3, 1), D2S(2)}},
    {"add", 1, 0, 5, {CONV(3, 3, 1), RELU, CONV(3, 3, 1), ADD(1), CONV(1, 1, 1)}},
    {"add-input", 1, 0, 2, {CONV(1, 3, 1), ADD(-1)}},
    {"concat", 1, 0, 4, {CONV(3, 3, 1), CONV(2, 3, 1), CAT(0), CONV(1, 3, 1)}},
    {"clamp", 1, 0, 3, {CONV(3, 3, 1), CLAMP(-0.3f, 0.3f), CONV(1, 3, 1)}},
    {"rgb-residual", 3, 1, 3, {CONV(4, 3, 1), PRELU, CONV(3, 3, 1)}},
    /* 16 channels: nChw16c activations, per-channel layers on blocks, the
     * conv copy paths at layout boundaries */
    {"blocked-bn-add", 1, 1, 7,
     {CONV(16, 3, 1), BN, RELU, CONV(16, 3, 1), ADD(2), PRELU, CONV(1, 3, 1)}},
    {"blocked-s2d", 1, 0, 7,
     {S2D(2), CONV(16, 3, 1), PRELU, CONV(16, 3, 1), LRELU(0.1f), CONV(4, 3, 1), D2S(2)}},
};

/* one value per draw as before the shared fill: gamma, var and slope take a
 * second draw over the first */
static float draw(const struct crisp_layer *l, int role)
{
    float v = uni(-0.6f, 0.6f);
    if (role == CRISP_ROLE_GAMMA || role == CRISP_ROLE_VAR)
        v = uni(0.5f, 1.5f);
    if (role == CRISP_ROLE_SLOPE)
        v = uni(0.05f, 0.4f);
    return v;
}

static struct crisp_model *make(const struct net_def *d)
{
    struct crisp_model *m = NULL;
    char err[256] = "";
    int ret = crisp_model_create(&m, d->name, (enum crisp_color_mode)d->color,
                                 (enum crisp_output_mode)d->output, 1.0f, d->l, d->n, err,
                                 sizeof(err));
    CHECK(ret == 0, "%s: %s", d->name, err);
    if (!m)
        return NULL;
    fill_tensors(m, draw);
    return m;
}

/* L = sum(out * R): dL/dout = R */
static double objective(struct crisp_train_net *net, const float *R, size_t n)
{
    crisp_train_net_forward(net);
    const float *o = crisp_train_net_output(net);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)o[i] * R[i];
    return s;
}

static void grad_check(const struct net_def *d)
{
    struct crisp_model *m = make(d);
    if (!m)
        return;
    const int B = 2, W = 6, H = 4;
    struct crisp_train_net *net = NULL;
    char err[256] = "";
    CHECK(crisp_train_net_create(&net, m, B, W, H, err, sizeof(err)) == 0, "%s: %s", d->name, err);
    if (!net) {
        crisp_model_destroy(&m);
        return;
    }
    size_t n = (size_t)B * d->color * W * H;
    float *x = crisp_train_net_input(net), *R = malloc(n * sizeof(float));
    /* finite differences are meaningless across a kink (ReLU at 0, clamp at
     * its bounds): draw inputs until every kinked layer's input is at least
     * 1e-3 away from its kinks */
    int tries = 0;
    for (;; tries++) {
        for (size_t i = 0; i < n; i++) {
            x[i] = uni(0.0f, 1.0f);
            R[i] = uni(-1.0f, 1.0f);
        }
        objective(net, R, n);
        double margin = INFINITY;
        for (int i = 1; i < m->n_layers; i++) {
            const struct crisp_layer *l = &m->layers[i];
            if (l->type != CRISP_LAYER_RELU && l->type != CRISP_LAYER_LRELU &&
                l->type != CRISP_LAYER_PRELU && l->type != CRISP_LAYER_CLAMP)
                continue;
            int c, h, w;
            const float *a = crisp_train_net_activation(net, i - 1, &c, &h, &w);
            for (size_t j = 0; j < (size_t)B * c * h * w; j++) {
                double k = l->type == CRISP_LAYER_CLAMP
                               ? fmin(fabs(a[j] - l->lo), fabs(a[j] - l->hi))
                               : fabs(a[j]);
                margin = k < margin ? k : margin;
            }
        }
        if (margin > 1e-3 || tries == 500)
            break;
    }
    CHECK(tries < 500, "%s: no input without near-kink activations", d->name);
    CHECK(crisp_train_net_backward(net, R, NULL, 0) == 0, "%s: backward", d->name);
    int checked = 0, kinks = 0, bad = 0;
    double worst = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            float *g = crisp_train_net_grad(net, i, r);
            size_t cnt = crisp_layer_tensor_size(&m->layers[i], m->layers[i].cin, r);
            if (!g || !cnt)
                continue;
            float *gc = malloc(cnt * sizeof(float));
            memcpy(gc, g, cnt * sizeof(float)); /* forward passes below must not matter */
            /* small tensors element by element; large ones along random
             * directions, where the objective's float rounding is small next
             * to the change */
            const int per_elem = cnt <= 64;
            const int probes = per_elem ? (int)cnt : 6;
            float *dir = malloc(cnt * sizeof(float)), *w0 = malloc(cnt * sizeof(float));
            memcpy(w0, m->layers[i].t[r], cnt * sizeof(float));
            for (int q = 0; q < probes; q++) {
                double analytic = 0;
                for (size_t j = 0; j < cnt; j++) {
                    dir[j] = per_elem ? (j == (size_t)q) : uni(-1.0f, 1.0f);
                    analytic += (double)dir[j] * gc[j];
                }
                double num[2];
                const float eps[2] = {2e-3f, 1e-3f};
                for (int e = 0; e < 2; e++) {
                    double lpm[2];
                    for (int sgn = 0; sgn < 2; sgn++) {
                        for (size_t j = 0; j < cnt; j++)
                            m->layers[i].t[r][j] = w0[j] + (sgn ? -eps[e] : eps[e]) * dir[j];
                        lpm[sgn] = objective(net, R, n);
                    }
                    num[e] = (lpm[0] - lpm[1]) / (2.0 * eps[e]);
                }
                memcpy(m->layers[i].t[r], w0, cnt * sizeof(float));
                checked++;
                if (fabs(num[0] - num[1]) > 1e-2 * (1 + fabs(num[1]))) {
                    kinks++; /* a ReLU/clamp kink lies within eps: the estimate is unreliable */
                    continue;
                }
                /* relative 2e-2, plus 2e-3 absolute, plus the disagreement of the two
                 * step sizes: float rounding in the objective (which BN amplifies, as
                 * it divides by a small batch deviation) shows up there */
                double diff = fabs(num[1] - analytic) / (0.1 + fabs(num[1]));
                worst = diff > worst ? diff : worst;
                if (fabs(num[1] - analytic) > 2e-2 * fmax(fabs(num[1]), fabs(analytic)) + 2e-3 +
                                                  2 * fabs(num[0] - num[1])) {
                    bad++;
                    if (bad < 4)
                        fprintf(stderr, "%s layer %d role %d probe %d: analytic %g numeric %g\n",
                                d->name, i, r, q, analytic, num[1]);
                }
            }
            free(dir);
            free(w0);
            free(gc);
        }
    CHECK(bad == 0, "%s: %d of %d gradients differ from finite differences", d->name, bad, checked);
    CHECK(kinks * 10 <= checked, "%s: %d of %d checks hit kinks", d->name, kinks, checked);
    printf("%-14s %4d probes (%d input draws), %d at kinks, worst error %.2e\n",
           d->name, checked, tries + 1, kinks, worst);
    free(R);
    crisp_train_net_destroy(&net);
    crisp_model_destroy(&m);
}

/* training forward in evaluation mode == oneDNN inference, per sample */
static void parity_with_inference(const struct net_def *d)
{
    struct crisp_model *m = make(d);
    if (!m)
        return;
    for (int i = 0; i < m->n_layers; i++) /* non-trivial running statistics */
        if (m->layers[i].type == CRISP_LAYER_BN)
            for (int c = 0; c < m->layers[i].channels; c++) {
                m->layers[i].t[CRISP_ROLE_MEAN][c] = uni(-0.2f, 0.2f);
                m->layers[i].t[CRISP_ROLE_VAR][c] = uni(0.5f, 2.0f);
            }
    const int B = 3, W = 24, H = 16;
    struct crisp_train_net *net = NULL;
    struct crisp_engine *e = NULL;
    char err[256] = "";
    struct crisp_engine_params p = {.width = W, .height = H};
    CHECK(crisp_train_net_create(&net, m, B, W, H, err, sizeof(err)) == 0, "%s", err);
    CHECK(crisp_engine_create(&e, m, &p, err, sizeof(err)) == 0, "%s", err);
    if (net && e) {
        crisp_train_net_set_training(net, 0);
        size_t per = (size_t)d->color * W * H;
        float *x = crisp_train_net_input(net);
        for (size_t i = 0; i < per * B; i++)
            x[i] = uni(0.0f, 1.0f);
        crisp_train_net_forward(net);
        const float *o = crisp_train_net_output(net);
        float *inf = malloc(per * sizeof(float));
        double worst = 0;
        for (int b = 0; b < B; b++) {
            crisp_engine_run(e, x + per * (size_t)b, inf);
            for (size_t i = 0; i < per; i++) {
                double dd = fabs((double)inf[i] - o[per * (size_t)b + i]);
                worst = dd > worst ? dd : worst;
            }
        }
        CHECK(worst < 1e-4, "%s: training forward vs inference max diff %g", d->name, worst);
        free(inf);
    }
    crisp_engine_destroy(&e);
    crisp_train_net_destroy(&net);
    crisp_model_destroy(&m);
}

static void loss_grad_check(enum crisp_loss kind)
{
    const int W = 16, H = 13, P = 2;
    const size_t n = (size_t)W * H * P;
    float *o = malloc(n * sizeof(float)), *t = malloc(n * sizeof(float)),
          *g = calloc(n, sizeof(float));
    for (size_t i = 0; i < n; i++) {
        /* differences well away from 0, where L1 and Charbonnier bend sharply */
        t[i] = uni(0.0f, 1.0f);
        o[i] = t[i] + (crisp_rng_u64(&g_rng) % 2 ? 1.0f : -1.0f) * uni(0.05f, 0.2f);
    }
    crisp_loss(kind, o, t, P, W, H, 1.0f, 1.0f, g);
    int bad = 0;
    for (size_t i = 0; i < n; i += 7) {
        float o0 = o[i];
        const float eps = 1e-3f;
        o[i] = o0 + eps;
        double lp = crisp_loss(kind, o, t, P, W, H, 1.0f, 1.0f, NULL);
        o[i] = o0 - eps;
        double lm = crisp_loss(kind, o, t, P, W, H, 1.0f, 1.0f, NULL);
        o[i] = o0;
        double num = (lp - lm) / (2 * eps);
        if (fabs(num - g[i]) > 2e-2 * fabs(num) + 1e-6) {
            if (bad++ < 3)
                fprintf(stderr, "%s [%zu]: analytic %g numeric %g\n", crisp_loss_name(kind), i,
                        g[i], num);
        }
    }
    CHECK(bad == 0, "%s loss: %d gradients differ from finite differences", crisp_loss_name(kind),
          bad);
    free(o);
    free(t);
    free(g);
}

/* the SSIM loss is 1 - the evaluation metric on the same data */
static void ssim_loss_matches_metric(void)
{
    const int W = 40, H = 30;
    uint8_t a[40 * 30], b[40 * 30];
    float fa[40 * 30], fb[40 * 30];
    for (int i = 0; i < W * H; i++) {
        a[i] = (uint8_t)(128 + 60 * sin(i * 0.13) + uni(-20, 20));
        b[i] = (uint8_t)(a[i] + uni(-15, 15) > 255 ? 255 : a[i] + uni(-15, 15) < 0 ? 0 : a[i] + uni(-15, 15));
        fa[i] = a[i];
        fb[i] = b[i];
    }
    double psnr, ssim;
    crisp_metrics_plane(a, b, W, H, 0, &psnr, &ssim);
    double l = crisp_loss(CRISP_LOSS_SSIM, fb, fa, 1, W, H, 255.0f, 1.0f, NULL);
    CHECK(fabs((1.0 - l) - ssim) < 1e-9, "SSIM loss %f vs metric %f", 1.0 - l, ssim);
}

/* bf16 convolutions against f32 on the same weights and input */
static void bf16_vs_f32(const struct net_def *d)
{
    struct crisp_model *m = make(d);
    if (!m)
        return;
    const int B = 4, W = 32, H = 32;
    struct crisp_train_net *a = NULL, *b = NULL;
    char err[256] = "";
    CHECK(crisp_train_net_create(&a, m, B, W, H, err, sizeof(err)) == 0, "%s", err);
    CHECK(crisp_train_net_create_flags(&b, m, B, W, H, CRISP_TRAIN_BF16, err, sizeof(err)) == 0,
          "%s", err);
    if (!a || !b) {
        crisp_train_net_destroy(&a);
        crisp_train_net_destroy(&b);
        crisp_model_destroy(&m);
        return;
    }
    const int nb = crisp_train_net_bf16_convs(b), avail = crisp_train_bf16_available();
    CHECK(avail ? nb > 0 : nb == 0, "%s: %d bf16 convolutions with bf16 %savailable", d->name, nb,
          avail ? "" : "not ");
    size_t n = (size_t)B * d->color * W * H;
    float *R = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        crisp_train_net_input(a)[i] = crisp_train_net_input(b)[i] = uni(0.0f, 1.0f);
        R[i] = uni(-1.0f, 1.0f);
    }
    crisp_train_net_forward(a);
    crisp_train_net_forward(b);
    const float *oa = crisp_train_net_output(a), *ob = crisp_train_net_output(b);
    double worst = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)oa[i] - ob[i]));
        ref = fmax(ref, fabs((double)oa[i]));
    }
    crisp_train_net_backward(a, R, NULL, 0);
    crisp_train_net_backward(b, R, NULL, 0);
    /* per tensor: relative L2 error, against at least 5% of the largest
     * gradient norm (a conv bias before BN has a gradient of exactly 0 in
     * exact arithmetic: only rounding is left, relative to nothing) */
    double norms[64] = {0}, errs[64] = {0}, gmax = 0, gworst = 0;
    int nt = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int r = 0; r < CRISP_ROLE_COUNT && nt < 64; r++) {
            const float *ga = crisp_train_net_grad(a, i, r), *gb = crisp_train_net_grad(b, i, r);
            size_t cnt = crisp_layer_tensor_size(&m->layers[i], m->layers[i].cin, r);
            if (!ga || !cnt)
                continue;
            double num = 0, den = 0;
            for (size_t j = 0; j < cnt; j++) {
                num += ((double)ga[j] - gb[j]) * ((double)ga[j] - gb[j]);
                den += (double)ga[j] * ga[j];
            }
            norms[nt] = sqrt(den);
            errs[nt++] = sqrt(num);
            gmax = fmax(gmax, sqrt(den));
        }
    for (int k = 0; k < nt; k++)
        gworst = fmax(gworst, errs[k] / fmax(norms[k], 5e-2 * gmax + 1e-30));
    printf("%-14s bf16 (%d convs): output max diff %.2e of %.2e, worst gradient rel. L2 %.3f\n",
           d->name, nb, worst, ref, gworst);
    if (nb) {
        /* bf16 keeps 8 significant bits: rounding of about 0.4% per tensor */
        CHECK(worst < 3e-2 * ref, "%s: bf16 output differs by %g (max |out| %g)", d->name, worst, ref);
        CHECK(gworst < 0.15, "%s: bf16 gradient relative L2 error %g", d->name, gworst);
    } else {
        CHECK(worst == 0 && gworst == 0, "%s: bf16 unavailable but results differ", d->name);
    }
    free(R);
    crisp_train_net_destroy(&a);
    crisp_train_net_destroy(&b);
    crisp_model_destroy(&m);
}

/* Collapsible linear blocks: the expanded tensors' gradients match finite
 * differences (through apply, forward and the loss); after training steps
 * the exported (collapsed) model computes what the training net computes,
 * and what the expanded network itself computes (k x k C -> E, 1 x 1
 * E -> C', the identity as a residual add); factoring a model reproduces
 * it exactly. */
static void collapse_check(void)
{
    const struct crisp_layer l[] = {CONV(3, 3, 1), RELU, CONV(3, 3, 1), RELU, CONV(1, 3, 1)};
    struct crisp_model *m = NULL, *x = NULL;
    char err[256] = "";
    CHECK(crisp_model_create(&m, "collapse", CRISP_COLOR_LUMA, CRISP_OUTPUT_RESIDUAL, 1.0f, l, 5,
                             err, sizeof(err)) == 0, "%s", err);
    if (!m)
        return;
    const int B = 2, W = 8, H = 6, E = 5;
    struct crisp_collapse *c = NULL;
    struct crisp_collapse_params cp = {.expansion = E, .identity = 1};
    CHECK(crisp_collapse_create(&c, m, &cp, 7) == 0, "create");
    struct crisp_train_net *net = NULL;
    CHECK(crisp_train_net_create(&net, m, B, W, H, err, sizeof(err)) == 0, "%s", err);
    if (!c || !net)
        goto done;
    const size_t n = (size_t)B * W * H, nf = crisp_collapse_floats(c);
    float *in = crisp_train_net_input(net), *R = malloc(n * sizeof(float));
    float *p = crisp_collapse_data(c), *g = malloc(nf * sizeof(float));
    float *p0 = malloc(nf * sizeof(float)), *dir = malloc(nf * sizeof(float));
    /* a few AdamW steps first, so that no tensor (the last B) is still zero */
    struct crisp_adamw *opt = NULL;
    struct crisp_adamw_params ap = {.lr = 1e-2f, .total_steps = 10};
    CHECK(crisp_adamw_create(&opt, m, &ap) == 0 && crisp_collapse_attach(c, opt) == 0, "attach");
    for (int s = 0; s < 6; s++) {
        for (size_t i = 0; i < n; i++) {
            in[i] = uni(0.0f, 1.0f);
            R[i] = uni(-1.0f, 1.0f);
        }
        crisp_train_net_forward(net);
        CHECK(crisp_train_net_backward(net, R, NULL, 0) == 0 && crisp_collapse_backward(c, net) == 0,
              "backward");
        CHECK(crisp_adamw_step(opt, net, NULL) == 0, "step %d", s);
        crisp_collapse_apply(c);
    }
    objective(net, R, n);
    crisp_train_net_backward(net, R, NULL, 0);
    crisp_collapse_backward(c, net);
    memcpy(g, crisp_collapse_grad(c), nf * sizeof(float));
    memcpy(p0, p, nf * sizeof(float));
    int bad = 0;
    for (int q = 0; q < 8; q++) {
        double analytic = 0, lpm[2];
        for (size_t j = 0; j < nf; j++) {
            dir[j] = uni(-1.0f, 1.0f);
            analytic += (double)dir[j] * g[j];
        }
        for (int sgn = 0; sgn < 2; sgn++) {
            for (size_t j = 0; j < nf; j++)
                p[j] = p0[j] + (sgn ? -1e-3f : 1e-3f) * dir[j];
            crisp_collapse_apply(c);
            lpm[sgn] = objective(net, R, n);
        }
        double num = (lpm[0] - lpm[1]) / 2e-3;
        if (fabs(num - analytic) > 2e-2 * fmax(fabs(num), fabs(analytic)) + 2e-3) {
            bad++;
            fprintf(stderr, "collapse probe %d: analytic %g numeric %g\n", q, analytic, num);
        }
    }
    CHECK(bad == 0, "collapse: %d of 8 expanded gradients differ from finite differences", bad);
    memcpy(p, p0, nf * sizeof(float));
    crisp_collapse_apply(c);
    /* the exported model = the training forward = the expanded network */
    const struct crisp_layer lx[] = {CONV(E, 3, 1), CONV(3, 1, 1), RELU, CONV(E, 3, 1),
                                     CONV(3, 1, 1), ADD(2),        RELU, CONV(E, 3, 1),
                                     CONV(1, 1, 1)};
    CHECK(crisp_model_create(&x, "expanded", CRISP_COLOR_LUMA, CRISP_OUTPUT_RESIDUAL, 1.0f, lx, 9,
                             err, sizeof(err)) == 0, "%s", err);
    uint8_t *buf = NULL;
    size_t len = 0;
    struct crisp_model *back = NULL;
    CHECK(crisp_weights_serialize(m, &buf, &len) == 0 &&
              crisp_weights_parse(&back, buf, len, err, sizeof(err)) == 0, "export: %s", err);
    if (x && back) {
        const int xl[3] = {0, 3, 7}; /* the expanded convs: A then B of each block */
        size_t off = 0;
        for (int k = 0; k < 3; k++)
            for (int t = 0; t < 2; t++) /* A, a into conv xl[k]; B, beta into conv xl[k] + 1 */
                for (int r = CRISP_ROLE_WEIGHT; r <= CRISP_ROLE_BIAS; r++) {
                    struct crisp_layer *L = &x->layers[xl[k] + t];
                    size_t cnt = crisp_layer_tensor_size(L, L->cin, r);
                    memcpy(L->t[r], p + off, cnt * sizeof(float));
                    off += cnt;
                }
        CHECK(off == nf, "expanded tensors: %zu of %zu floats placed", off, nf);
        crisp_train_net_forward(net);
        const float *o = crisp_train_net_output(net);
        float *ro = malloc((size_t)W * H * sizeof(float)), *rx = malloc((size_t)W * H * sizeof(float));
        double worst_t = 0, worst_x = 0;
        for (int b = 0; b < B; b++) {
            crisp_ref_run(back, in + (size_t)b * W * H, W, H, ro);
            crisp_ref_run(x, in + (size_t)b * W * H, W, H, rx);
            for (int i = 0; i < W * H; i++) {
                worst_t = fmax(worst_t, fabs((double)ro[i] - o[(size_t)b * W * H + i]));
                worst_x = fmax(worst_x, fabs((double)ro[i] - rx[i]));
            }
        }
        CHECK(worst_t < 1e-5, "collapsed export vs training forward: max diff %g", worst_t);
        CHECK(worst_x < 1e-5, "collapsed export vs the expanded network: max diff %g", worst_x);
        printf("collapse       8 probes, export = training forward (%.1e) = expanded net (%.1e)\n",
               worst_t, worst_x);
        free(ro);
        free(rx);
    }
    /* factoring a trained model reproduces it exactly */
    struct crisp_collapse *f = NULL;
    float *w0 = malloc(m->data_floats * sizeof(float));
    memcpy(w0, m->data, m->data_floats * sizeof(float));
    struct crisp_collapse_params fp = {.expansion = 4, .identity = 1, .from_model = 1};
    CHECK(crisp_collapse_create(&f, m, &fp, 9) == 0, "factor");
    double worst_f = 0;
    for (size_t i = 0; i < m->data_floats; i++)
        worst_f = fmax(worst_f, fabs((double)m->data[i] - w0[i]));
    CHECK(worst_f < 1e-6, "factored model differs by %g", worst_f);
    crisp_collapse_destroy(&f);
    CHECK(!f, "destroy clears");
    free(w0);
    free(buf);
    crisp_model_destroy(&back);
    crisp_adamw_destroy(&opt);
    free(R);
    free(g);
    free(p0);
    free(dir);
done:
    crisp_collapse_destroy(&c);
    crisp_train_net_destroy(&net);
    crisp_model_destroy(&m);
    crisp_model_destroy(&x);
}

static void overfit(unsigned flags)
{
    /* target: the unsharp mask of the input with zero padding, a linear 7x7
     * filter that a 7x7 conv + LReLU + 1x1 conv network can represent exactly */
    struct crisp_model *usm = NULL, *m = NULL;
    crisp_model_unsharp(&usm, 0.8f, 1.0f);
    const struct crisp_layer l[] = {CONV(8, 7, 1), LRELU(0.1f), CONV(1, 1, 1)};
    char err[256] = "";
    CHECK(crisp_model_create(&m, "overfit", CRISP_COLOR_LUMA, CRISP_OUTPUT_RESIDUAL, 1.0f, l, 3,
                             err, sizeof(err)) == 0,
          "%s", err);
    if (!m || !usm)
        return;
    for (size_t i = 0; i < m->data_floats; i++)
        m->data[i] = uni(-0.1f, 0.1f);
    const int W = 24, H = 24;
    struct crisp_train_net *net = NULL;
    CHECK(crisp_train_net_create_flags(&net, m, 1, W, H, flags, err, sizeof(err)) == 0, "%s", err);
    if (!net) {
        crisp_model_destroy(&m);
        crisp_model_destroy(&usm);
        return;
    }
    float *x = crisp_train_net_input(net), tgt[24 * 24], grad[24 * 24];
    for (int i = 0; i < W * H; i++)
        x[i] = 0.5f + 0.3f * sinf((float)(i % W) * 0.7f) * cosf((float)(i / W) * 0.5f) + uni(-0.1f, 0.1f);
    usm->border = 0;
    crisp_ref_run(usm, x, W, H, tgt);
    struct crisp_adamw *opt = NULL;
    struct crisp_adamw_params ap = {.lr = 3e-3f, .total_steps = 1500, .warmup_steps = 20};
    crisp_adamw_create(&opt, m, &ap);
    double first = 0, last = 0;
    for (int s = 0; s < 1500; s++) {
        crisp_train_net_forward(net);
        memset(grad, 0, sizeof(grad));
        double loss = crisp_loss(CRISP_LOSS_MSE, crisp_train_net_output(net), tgt, 1, W, H, 1.0f,
                                 1.0f, grad);
        if (s == 0)
            first = loss;
        last = loss;
        crisp_train_net_backward(net, grad, NULL, 0);
        crisp_adamw_step(opt, net, NULL);
    }
    printf("overfit (%d bf16 convs): MSE %.3g -> %.3g after 1500 steps\n",
           crisp_train_net_bf16_convs(net), first, last);
    CHECK(last < first * 0.01 && last < 2e-4, "overfit: MSE %g -> %g", first, last);
    crisp_adamw_destroy(&opt);
    crisp_train_net_destroy(&net);
    crisp_model_destroy(&m);
    crisp_model_destroy(&usm);
}

int main(void)
{
    crisp_rng_seed(&g_rng, 99);
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        grad_check(&nets[i]);
        parity_with_inference(&nets[i]);
    }
    /* the same 16-channel nets with every activation forced to nchw */
    setenv("CRISP_TRAIN_PLAIN", "1", 1);
    for (size_t i = sizeof(nets) / sizeof(nets[0]) - 2; i < sizeof(nets) / sizeof(nets[0]); i++) {
        grad_check(&nets[i]);
        parity_with_inference(&nets[i]);
    }
    unsetenv("CRISP_TRAIN_PLAIN");
    loss_grad_check(CRISP_LOSS_L1);
    loss_grad_check(CRISP_LOSS_MSE);
    loss_grad_check(CRISP_LOSS_CHARBONNIER);
    loss_grad_check(CRISP_LOSS_SSIM);
    ssim_loss_matches_metric();
    collapse_check();
    overfit(0);
    for (size_t i = sizeof(nets) / sizeof(nets[0]) - 2; i < sizeof(nets) / sizeof(nets[0]); i++)
        bf16_vs_f32(&nets[i]);
    overfit(CRISP_TRAIN_BF16);
    TEST_DONE();
}
