// SPDX-License-Identifier: BSD-2-Clause
// Forward-training and backward passes. Activations are plain NCHW batches,
// one buffer per layer output (no fusion: backward needs every input).
// Convolutions run as oneDNN forward_training / backward_data /
// backward_weights primitives hinted by the forward one; everything else is
// plain C over OpenMP loops, checked against finite differences in
// tests/nn/test_train.c.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "../internal.h"
#include "crisp/log.h"
#include "crisp/train.h"
#include "crisp/util.h"

struct conv_prims {
    dnnl_primitive_t fwd, bwd_data, bwd_w;
    dnnl_memory_t src, w, b, dst, diff_dst, diff_src, diff_w, diff_b;
};

struct tlayer {
    int c, h, w;        /* output shape per sample */
    size_t n;           /* elements of the batch output */
    float *y, *dy;
    float *grad[CRISP_ROLE_COUNT];
    float *bn_mean, *bn_istd; /* per channel, saved by the forward pass */
    struct conv_prims *conv;
};

struct crisp_train_net {
    struct crisp_model *m;
    int batch, w, h, c0, training;
    size_t n_in;
    float *x, *out, *scratch;
    struct tlayer *L;
    dnnl_engine_t eng;
    dnnl_stream_t stream;
};

int crisp_role_trainable(int role) { return role != CRISP_ROLE_MEAN && role != CRISP_ROLE_VAR; }

/* input activation of layer i (and its gradient buffer, NULL for the model input) */
static float *in_y(struct crisp_train_net *n, int i) { return i ? n->L[i - 1].y : n->x; }
static float *in_dy(struct crisp_train_net *n, int i) { return i ? n->L[i - 1].dy : NULL; }
static float *val_y(struct crisp_train_net *n, int v) { return v < 0 ? n->x : n->L[v].y; }
static float *val_dy(struct crisp_train_net *n, int v) { return v < 0 ? NULL : n->L[v].dy; }

static void md4(dnnl_memory_desc_t *md, int a, int b, int c, int d, dnnl_format_tag_t tag)
{
    dnnl_dims_t dims = {a, b, c, d};
    dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag);
}

static int build_conv(struct crisp_train_net *n, int i, int need_bwd_data, char *err,
                      size_t errlen)
{
    const struct crisp_layer *l = &n->m->layers[i];
    struct tlayer *t = &n->L[i];
    int ih = i ? n->L[i - 1].h : n->h, iw = i ? n->L[i - 1].w : n->w;
    struct conv_prims *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    t->conv = p;
    dnnl_memory_desc_t src, wt, b, dst;
    md4(&src, n->batch, l->cin, ih, iw, dnnl_nchw);
    md4(&wt, l->cout, l->cin, l->k, l->k, dnnl_oihw);
    dnnl_dims_t bd = {l->cout};
    dnnl_memory_desc_init_by_tag(&b, 1, bd, dnnl_f32, dnnl_a);
    md4(&dst, n->batch, l->cout, t->h, t->w, dnnl_nchw);
    int pad = (l->k - 1) / 2;
    dnnl_dims_t st = {l->stride, l->stride}, pd = {pad, pad};
    dnnl_convolution_desc_t fd, dd, wd;
    dnnl_primitive_desc_t fpd = NULL, dpd = NULL, wpd = NULL;
    int ret = CRISP_EDNNL;
    if (dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                           &src, &wt, &b, &dst, st, pd, pd) ||
        dnnl_primitive_desc_create(&fpd, &fd, NULL, n->eng, NULL) ||
        dnnl_primitive_create(&p->fwd, fpd))
        goto fail;
    if (need_bwd_data &&
        (dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &src, &wt, &dst, st,
                                                  pd, pd) ||
         dnnl_primitive_desc_create(&dpd, &dd, NULL, n->eng, fpd) ||
         dnnl_primitive_create(&p->bwd_data, dpd)))
        goto fail;
    if (dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &src, &wt, &b,
                                                    &dst, st, pd, pd) ||
        dnnl_primitive_desc_create(&wpd, &wd, NULL, n->eng, fpd) ||
        dnnl_primitive_create(&p->bwd_w, wpd))
        goto fail;
    if (dnnl_memory_create(&p->src, &src, n->eng, in_y(n, i)) ||
        dnnl_memory_create(&p->w, &wt, n->eng, l->t[CRISP_ROLE_WEIGHT]) ||
        dnnl_memory_create(&p->b, &b, n->eng, l->t[CRISP_ROLE_BIAS]) ||
        dnnl_memory_create(&p->dst, &dst, n->eng, t->y) ||
        dnnl_memory_create(&p->diff_dst, &dst, n->eng, t->dy) ||
        dnnl_memory_create(&p->diff_src, &src, n->eng, n->scratch) ||
        dnnl_memory_create(&p->diff_w, &wt, n->eng, t->grad[CRISP_ROLE_WEIGHT]) ||
        dnnl_memory_create(&p->diff_b, &b, n->eng, t->grad[CRISP_ROLE_BIAS]))
        goto fail;
    ret = 0;
fail:
    if (ret)
        crisp_seterr(err, errlen, "layer %d (conv %dx%d %d->%d): oneDNN has no training primitive",
                     i, l->k, l->k, l->cin, l->cout);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(dpd);
    dnnl_primitive_desc_destroy(wpd);
    return ret;
}

static void free_conv(struct conv_prims *p)
{
    if (!p)
        return;
    dnnl_primitive_destroy(p->fwd);
    dnnl_primitive_destroy(p->bwd_data);
    dnnl_primitive_destroy(p->bwd_w);
    dnnl_memory_t *mems[] = {&p->src, &p->w, &p->b, &p->dst, &p->diff_dst, &p->diff_src,
                             &p->diff_w, &p->diff_b};
    for (size_t k = 0; k < sizeof(mems) / sizeof(mems[0]); k++)
        dnnl_memory_destroy(*mems[k]);
    free(p);
}

void crisp_train_net_destroy(struct crisp_train_net **pn)
{
    if (!pn || !*pn)
        return;
    struct crisp_train_net *n = *pn;
    if (n->L)
        for (int i = 0; i < n->m->n_layers; i++) {
            struct tlayer *t = &n->L[i];
            free_conv(t->conv);
            crisp_afree(t->y);
            crisp_afree(t->dy);
            for (int r = 0; r < CRISP_ROLE_COUNT; r++)
                crisp_afree(t->grad[r]);
            free(t->bn_mean);
            free(t->bn_istd);
        }
    free(n->L);
    crisp_afree(n->x);
    crisp_afree(n->out);
    crisp_afree(n->scratch);
    if (n->stream)
        dnnl_stream_destroy(n->stream);
    if (n->eng)
        dnnl_engine_destroy(n->eng);
    free(n);
    *pn = NULL;
}

int crisp_train_net_create(struct crisp_train_net **out, struct crisp_model *m, int batch, int w,
                           int h, char *err, size_t errlen)
{
    *out = NULL;
    if (batch < 1 || batch > 4096 || w < 1 || h < 1 || w > 8192 || h > 8192) {
        crisp_seterr(err, errlen, "batch %d of %dx%d out of range", batch, w, h);
        return CRISP_EUSAGE;
    }
    struct crisp_train_net *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    int ret = -ENOMEM, nl = m->n_layers;
    int *shapes = malloc(sizeof(int) * 3 * (size_t)nl);
    n->m = m;
    n->batch = batch;
    n->w = w;
    n->h = h;
    n->c0 = (int)m->color;
    n->training = 1;
    n->n_in = (size_t)batch * n->c0 * w * h;
    n->L = calloc((size_t)nl, sizeof(*n->L));
    if (!shapes || !n->L)
        goto fail;
    if ((ret = crisp_model_shapes(m, w, h, shapes, err, errlen)) < 0)
        goto fail;
    ret = -ENOMEM;
    size_t max_n = n->n_in;
    n->x = crisp_aalloc(n->n_in * sizeof(float));
    n->out = crisp_aalloc(n->n_in * sizeof(float));
    if (!n->x || !n->out)
        goto fail;
    for (int i = 0; i < nl; i++) {
        struct tlayer *t = &n->L[i];
        const struct crisp_layer *l = &m->layers[i];
        t->c = shapes[3 * i];
        t->h = shapes[3 * i + 1];
        t->w = shapes[3 * i + 2];
        t->n = (size_t)batch * t->c * t->h * t->w;
        max_n = t->n > max_n ? t->n : max_n;
        if (!(t->y = crisp_aalloc(t->n * sizeof(float))) ||
            !(t->dy = crisp_aalloc(t->n * sizeof(float))))
            goto fail;
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t sz = crisp_layer_tensor_size(l, l->cin, r);
            if (sz && crisp_role_trainable(r) && !(t->grad[r] = crisp_aalloc(sz * sizeof(float))))
                goto fail;
        }
        if (l->type == CRISP_LAYER_BN &&
            (!(t->bn_mean = calloc((size_t)t->c, sizeof(float))) ||
             !(t->bn_istd = calloc((size_t)t->c, sizeof(float)))))
            goto fail;
    }
    if (!(n->scratch = crisp_aalloc(max_n * sizeof(float))))
        goto fail;
    if (dnnl_engine_create(&n->eng, dnnl_cpu, 0) ||
        dnnl_stream_create(&n->stream, n->eng, dnnl_stream_default_flags)) {
        crisp_seterr(err, errlen, "cannot create the oneDNN CPU engine");
        ret = CRISP_EDNNL;
        goto fail;
    }
    for (int i = 0; i < nl; i++)
        if (m->layers[i].type == CRISP_LAYER_CONV &&
            (ret = build_conv(n, i, i > 0, err, errlen)) < 0)
            goto fail;
    free(shapes);
    *out = n;
    return 0;
fail:
    free(shapes);
    crisp_train_net_destroy(&n);
    return ret;
}

void crisp_train_net_set_training(struct crisp_train_net *n, int training) { n->training = training; }
float *crisp_train_net_input(struct crisp_train_net *n) { return n->x; }
const float *crisp_train_net_output(const struct crisp_train_net *n) { return n->out; }

const float *crisp_train_net_activation(const struct crisp_train_net *n, int layer, int *c, int *h,
                                        int *w)
{
    if (layer < 0 || layer >= n->m->n_layers)
        return NULL;
    const struct tlayer *t = &n->L[layer];
    if (c)
        *c = t->c;
    if (h)
        *h = t->h;
    if (w)
        *w = t->w;
    return t->y;
}

float *crisp_train_net_grad(struct crisp_train_net *n, int layer, int role)
{
    if (layer < 0 || layer >= n->m->n_layers || role < 0 || role >= CRISP_ROLE_COUNT)
        return NULL;
    return n->L[layer].grad[role];
}

static int exec(struct crisp_train_net *n, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *a)
{
    if (dnnl_primitive_execute(p, n->stream, nargs, a) != dnnl_success ||
        dnnl_stream_wait(n->stream) != dnnl_success)
        return CRISP_EDNNL;
    return 0;
}

/* ---- per-layer forward ---- */

static void bn_forward(struct crisp_train_net *n, const struct crisp_layer *l, struct tlayer *t,
                       const float *x)
{
    const int C = t->c;
    const size_t hw = (size_t)t->h * t->w, M = hw * (size_t)n->batch;
    float *g = l->t[CRISP_ROLE_GAMMA], *be = l->t[CRISP_ROLE_BETA];
    float *rm = l->t[CRISP_ROLE_MEAN], *rv = l->t[CRISP_ROLE_VAR];
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double mean, var;
        if (n->training) {
            double s = 0, s2 = 0;
            for (int b = 0; b < n->batch; b++) {
                const float *p = x + ((size_t)b * C + c) * hw;
                for (size_t j = 0; j < hw; j++) {
                    s += p[j];
                    s2 += (double)p[j] * p[j];
                }
            }
            mean = s / (double)M;
            var = s2 / (double)M - mean * mean;
            if (var < 0)
                var = 0;
            /* running statistics as PyTorch keeps them: momentum 0.1, unbiased variance */
            rm[c] = (float)(0.9 * rm[c] + 0.1 * mean);
            rv[c] = (float)(0.9 * rv[c] + 0.1 * (M > 1 ? var * (double)M / (double)(M - 1) : var));
        } else {
            mean = rm[c];
            var = rv[c];
        }
        double istd = 1.0 / sqrt(var + l->eps);
        t->bn_mean[c] = (float)mean;
        t->bn_istd[c] = (float)istd;
        for (int b = 0; b < n->batch; b++) {
            const float *p = x + ((size_t)b * C + c) * hw;
            float *q = t->y + ((size_t)b * C + c) * hw;
            for (size_t j = 0; j < hw; j++)
                q[j] = (float)((p[j] - mean) * istd * g[c] + be[c]);
        }
    }
}

/* pixel (un)shuffle of a whole batch; `add` accumulates into dst */
static void shuffle(const float *src, float *dst, int batch, int c_small, int h_small, int w_small,
                    int f, int to_depth, int add)
{
    /* big tensor: c_small x (h_small f) x (w_small f); small: c_small f f x h_small x w_small */
    const size_t per = (size_t)c_small * f * f * h_small * w_small;
    const int H = h_small * f, W = w_small * f;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < c_small; c++)
            for (int dy = 0; dy < f; dy++)
                for (int dx = 0; dx < f; dx++)
                    for (int y = 0; y < h_small; y++)
                        for (int x = 0; x < w_small; x++) {
                            size_t big = (size_t)b * per + ((size_t)c * H + (size_t)y * f + dy) * W +
                                         (size_t)x * f + dx;
                            size_t small = (size_t)b * per +
                                           (((size_t)(c * f + dy) * f + dx) * h_small + y) * w_small + x;
                            size_t si = to_depth ? big : small, di = to_depth ? small : big;
                            dst[di] = add ? dst[di] + src[si] : src[si];
                        }
}

int crisp_train_net_forward(struct crisp_train_net *n)
{
    const struct crisp_model *m = n->m;
    for (int i = 0; i < m->n_layers; i++) {
        const struct crisp_layer *l = &m->layers[i];
        struct tlayer *t = &n->L[i];
        const float *x = in_y(n, i);
        const size_t N = t->n;
        float *y = t->y;
        switch (l->type) {
        case CRISP_LAYER_CONV: {
            dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->conv->src},
                                   {DNNL_ARG_WEIGHTS, t->conv->w},
                                   {DNNL_ARG_BIAS, t->conv->b},
                                   {DNNL_ARG_DST, t->conv->dst}};
            if (exec(n, t->conv->fwd, 4, a))
                return CRISP_EDNNL;
            break;
        }
        case CRISP_LAYER_RELU:
#pragma omp parallel for simd schedule(static)
            for (size_t j = 0; j < N; j++)
                y[j] = x[j] > 0.0f ? x[j] : 0.0f;
            break;
        case CRISP_LAYER_LRELU: {
            const float a = l->alpha;
#pragma omp parallel for simd schedule(static)
            for (size_t j = 0; j < N; j++)
                y[j] = x[j] > 0.0f ? x[j] : a * x[j];
            break;
        }
        case CRISP_LAYER_CLAMP: {
            const float lo = l->lo, hi = l->hi;
#pragma omp parallel for simd schedule(static)
            for (size_t j = 0; j < N; j++)
                y[j] = fminf(fmaxf(x[j], lo), hi);
            break;
        }
        case CRISP_LAYER_PRELU: {
            const size_t hw = (size_t)t->h * t->w;
            const float *s = l->t[CRISP_ROLE_SLOPE];
#pragma omp parallel for schedule(static)
            for (size_t j = 0; j < N; j++) {
                float a = s[(j / hw) % (size_t)t->c];
                y[j] = x[j] > 0.0f ? x[j] : a * x[j];
            }
            break;
        }
        case CRISP_LAYER_BN: bn_forward(n, l, t, x); break;
        case CRISP_LAYER_S2D:
            shuffle(x, y, n->batch, l->cin, t->h, t->w, l->factor, 1, 0);
            break;
        case CRISP_LAYER_D2S:
            shuffle(x, y, n->batch, t->c, n->L[i - 1].h, n->L[i - 1].w, l->factor, 0, 0);
            break;
        case CRISP_LAYER_ADD: {
            const float *s = val_y(n, l->skip);
#pragma omp parallel for simd schedule(static)
            for (size_t j = 0; j < N; j++)
                y[j] = x[j] + s[j];
            break;
        }
        case CRISP_LAYER_CONCAT: {
            const float *s = val_y(n, l->skip);
            const size_t hw = (size_t)t->h * t->w, c1 = (size_t)l->cin, c2 = (size_t)t->c - c1;
            for (int b = 0; b < n->batch; b++) {
                memcpy(y + (size_t)b * t->c * hw, x + (size_t)b * c1 * hw, c1 * hw * sizeof(float));
                memcpy(y + ((size_t)b * t->c + c1) * hw, s + (size_t)b * c2 * hw,
                       c2 * hw * sizeof(float));
            }
            break;
        }
        }
    }
    const float *last = n->L[m->n_layers - 1].y;
    if (m->output == CRISP_OUTPUT_RESIDUAL) {
#pragma omp parallel for simd schedule(static)
        for (size_t j = 0; j < n->n_in; j++)
            n->out[j] = last[j] + n->x[j];
    } else {
        memcpy(n->out, last, n->n_in * sizeof(float));
    }
    return 0;
}

/* ---- backward ---- */

static void add_into(float *dst, const float *src, size_t N)
{
#pragma omp parallel for simd schedule(static)
    for (size_t j = 0; j < N; j++)
        dst[j] += src[j];
}

static void bn_backward(struct crisp_train_net *n, const struct crisp_layer *l, struct tlayer *t,
                        const float *x, float *dx)
{
    const int C = t->c;
    const size_t hw = (size_t)t->h * t->w, M = hw * (size_t)n->batch;
    const float *g = l->t[CRISP_ROLE_GAMMA];
    float *dg = t->grad[CRISP_ROLE_GAMMA], *db = t->grad[CRISP_ROLE_BETA];
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const double mean = t->bn_mean[c], istd = t->bn_istd[c];
        double sdy = 0, sdyx = 0;
        for (int b = 0; b < n->batch; b++) {
            const float *p = x + ((size_t)b * C + c) * hw, *d = t->dy + ((size_t)b * C + c) * hw;
            for (size_t j = 0; j < hw; j++) {
                sdy += d[j];
                sdyx += d[j] * (p[j] - mean) * istd;
            }
        }
        dg[c] = (float)sdyx;
        db[c] = (float)sdy;
        if (!dx)
            continue;
        for (int b = 0; b < n->batch; b++) {
            const float *p = x + ((size_t)b * C + c) * hw, *d = t->dy + ((size_t)b * C + c) * hw;
            float *q = dx + ((size_t)b * C + c) * hw;
            for (size_t j = 0; j < hw; j++) {
                double v;
                if (n->training) {
                    double xh = (p[j] - mean) * istd;
                    v = g[c] * istd / (double)M * ((double)M * d[j] - sdy - xh * sdyx);
                } else {
                    v = g[c] * istd * d[j]; /* statistics are constants in eval mode */
                }
                q[j] += (float)v;
            }
        }
    }
}

int crisp_train_net_backward(struct crisp_train_net *n, const float *dout,
                             const struct crisp_train_extra_grad *extra, int n_extra)
{
    const struct crisp_model *m = n->m;
    const int nl = m->n_layers;
    for (int i = 0; i < nl - 1; i++)
        memset(n->L[i].dy, 0, n->L[i].n * sizeof(float));
    memcpy(n->L[nl - 1].dy, dout, n->n_in * sizeof(float));
    for (int e = 0; e < n_extra; e++) {
        if (extra[e].layer < 0 || extra[e].layer >= nl)
            return CRISP_EUSAGE;
        add_into(n->L[extra[e].layer].dy, extra[e].grad, n->L[extra[e].layer].n);
    }
    for (int i = nl - 1; i >= 0; i--) {
        const struct crisp_layer *l = &m->layers[i];
        struct tlayer *t = &n->L[i];
        const float *x = in_y(n, i), *dy = t->dy;
        float *dx = in_dy(n, i);
        const size_t N = t->n;
        switch (l->type) {
        case CRISP_LAYER_CONV: {
            struct conv_prims *p = t->conv;
            dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, p->src},
                                    {DNNL_ARG_DIFF_DST, p->diff_dst},
                                    {DNNL_ARG_DIFF_WEIGHTS, p->diff_w},
                                    {DNNL_ARG_DIFF_BIAS, p->diff_b}};
            if (exec(n, p->bwd_w, 4, wa))
                return CRISP_EDNNL;
            if (dx) {
                dnnl_exec_arg_t da[] = {{DNNL_ARG_DIFF_DST, p->diff_dst},
                                        {DNNL_ARG_WEIGHTS, p->w},
                                        {DNNL_ARG_DIFF_SRC, p->diff_src}};
                if (exec(n, p->bwd_data, 3, da))
                    return CRISP_EDNNL;
                add_into(dx, n->scratch, n->L[i - 1].n);
            }
            break;
        }
        case CRISP_LAYER_RELU:
            if (dx) {
#pragma omp parallel for simd schedule(static)
                for (size_t j = 0; j < N; j++)
                    dx[j] += x[j] > 0.0f ? dy[j] : 0.0f;
            }
            break;
        case CRISP_LAYER_LRELU:
            if (dx) {
                const float a = l->alpha;
#pragma omp parallel for simd schedule(static)
                for (size_t j = 0; j < N; j++)
                    dx[j] += x[j] > 0.0f ? dy[j] : a * dy[j];
            }
            break;
        case CRISP_LAYER_CLAMP:
            if (dx) {
                const float lo = l->lo, hi = l->hi;
#pragma omp parallel for simd schedule(static)
                for (size_t j = 0; j < N; j++)
                    dx[j] += (x[j] > lo && x[j] < hi) ? dy[j] : 0.0f;
            }
            break;
        case CRISP_LAYER_PRELU: {
            const size_t hw = (size_t)t->h * t->w;
            const float *s = l->t[CRISP_ROLE_SLOPE];
            float *ds = t->grad[CRISP_ROLE_SLOPE];
#pragma omp parallel for schedule(static)
            for (int c = 0; c < t->c; c++) {
                double acc = 0;
                for (int b = 0; b < n->batch; b++) {
                    size_t o = ((size_t)b * t->c + c) * hw;
                    for (size_t j = 0; j < hw; j++) {
                        float v = x[o + j];
                        if (v <= 0.0f)
                            acc += (double)dy[o + j] * v;
                        if (dx)
                            dx[o + j] += v > 0.0f ? dy[o + j] : s[c] * dy[o + j];
                    }
                }
                ds[c] = (float)acc;
            }
            break;
        }
        case CRISP_LAYER_BN: bn_backward(n, l, t, x, dx); break;
        case CRISP_LAYER_S2D:
            if (dx)
                shuffle(dy, dx, n->batch, l->cin, t->h, t->w, l->factor, 0, 1);
            break;
        case CRISP_LAYER_D2S:
            if (dx)
                shuffle(dy, dx, n->batch, t->c, n->L[i - 1].h, n->L[i - 1].w, l->factor, 1, 1);
            break;
        case CRISP_LAYER_ADD: {
            float *ds = val_dy(n, l->skip);
            if (dx)
                add_into(dx, dy, N);
            if (ds)
                add_into(ds, dy, N);
            break;
        }
        case CRISP_LAYER_CONCAT: {
            float *ds = val_dy(n, l->skip);
            const size_t hw = (size_t)t->h * t->w, c1 = (size_t)l->cin, c2 = (size_t)t->c - c1;
            for (int b = 0; b < n->batch; b++) {
                if (dx)
                    add_into(dx + (size_t)b * c1 * hw, dy + (size_t)b * t->c * hw, c1 * hw);
                if (ds)
                    add_into(ds + (size_t)b * c2 * hw, dy + ((size_t)b * t->c + c1) * hw, c2 * hw);
            }
            break;
        }
        }
    }
    return 0;
}
