// SPDX-License-Identifier: BSD-2-Clause
// Plain-C reference implementation of every layer: slow, obvious, and the
// ground truth the oneDNN engine and the trainer are tested against.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define AT(t, c, y, x) ((t)->d[((size_t)(c) * (t)->h + (size_t)(y)) * (t)->w + (size_t)(x)])

void crisp_ref_conv(const struct crisp_layer *l, const struct crisp_tensor *in,
                    const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    const int k = l->k, p = (k - 1) / 2, s = l->stride;
    const float *w = l->t[CRISP_ROLE_WEIGHT], *b = l->t[CRISP_ROLE_BIAS];
    for (int o = 0; o < out->c; o++)
        for (int y = 0; y < out->h; y++)
            for (int x = 0; x < out->w; x++) {
                double acc = b[o];
                for (int i = 0; i < in->c; i++)
                    for (int ky = 0; ky < k; ky++) {
                        int iy = y * s + ky - p;
                        if (iy < 0 || iy >= in->h)
                            continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = x * s + kx - p;
                            if (ix < 0 || ix >= in->w)
                                continue;
                            acc += (double)w[(((size_t)o * in->c + i) * k + ky) * k + kx] *
                                   AT(in, i, iy, ix);
                        }
                    }
                AT(out, o, y, x) = (float)acc;
            }
}

static size_t numel(const struct crisp_tensor *t) { return (size_t)t->c * t->h * t->w; }

void crisp_ref_relu(const struct crisp_layer *l, const struct crisp_tensor *in,
                    const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    for (size_t i = 0; i < numel(in); i++)
        out->d[i] = in->d[i] > 0.0f ? in->d[i] : 0.0f;
}

void crisp_ref_lrelu(const struct crisp_layer *l, const struct crisp_tensor *in,
                     const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    for (size_t i = 0; i < numel(in); i++)
        out->d[i] = in->d[i] > 0.0f ? in->d[i] : l->alpha * in->d[i];
}

void crisp_ref_prelu(const struct crisp_layer *l, const struct crisp_tensor *in,
                     const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    const float *a = l->t[CRISP_ROLE_SLOPE];
    for (int c = 0; c < in->c; c++)
        for (int y = 0; y < in->h; y++)
            for (int x = 0; x < in->w; x++) {
                float v = AT(in, c, y, x);
                AT(out, c, y, x) = v > 0.0f ? v : a[c] * v;
            }
}

void crisp_ref_bn(const struct crisp_layer *l, const struct crisp_tensor *in,
                  const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    const float *g = l->t[CRISP_ROLE_GAMMA], *be = l->t[CRISP_ROLE_BETA];
    const float *mu = l->t[CRISP_ROLE_MEAN], *var = l->t[CRISP_ROLE_VAR];
    for (int c = 0; c < in->c; c++) {
        double inv = 1.0 / sqrt((double)var[c] + l->eps);
        for (int y = 0; y < in->h; y++)
            for (int x = 0; x < in->w; x++)
                AT(out, c, y, x) = (float)((AT(in, c, y, x) - mu[c]) * inv * g[c] + be[c]);
    }
}

/* space-to-depth: out[c*f*f + dy*f + dx][y][x] = in[c][y*f+dy][x*f+dx] (PyTorch pixel_unshuffle) */
void crisp_ref_s2d(const struct crisp_layer *l, const struct crisp_tensor *in,
                   const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    const int f = l->factor;
    for (int c = 0; c < in->c; c++)
        for (int dy = 0; dy < f; dy++)
            for (int dx = 0; dx < f; dx++)
                for (int y = 0; y < out->h; y++)
                    for (int x = 0; x < out->w; x++)
                        AT(out, (c * f + dy) * f + dx, y, x) = AT(in, c, y * f + dy, x * f + dx);
}

/* depth-to-space: the exact inverse (PyTorch pixel_shuffle) */
void crisp_ref_d2s(const struct crisp_layer *l, const struct crisp_tensor *in,
                   const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    const int f = l->factor;
    for (int c = 0; c < out->c; c++)
        for (int dy = 0; dy < f; dy++)
            for (int dx = 0; dx < f; dx++)
                for (int y = 0; y < in->h; y++)
                    for (int x = 0; x < in->w; x++)
                        AT(out, c, y * f + dy, x * f + dx) = AT(in, (c * f + dy) * f + dx, y, x);
}

void crisp_ref_add(const struct crisp_layer *l, const struct crisp_tensor *in,
                   const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    for (size_t i = 0; i < numel(in); i++)
        out->d[i] = in->d[i] + skip->d[i];
}

void crisp_ref_concat(const struct crisp_layer *l, const struct crisp_tensor *in,
                      const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    memcpy(out->d, in->d, numel(in) * sizeof(float));
    memcpy(out->d + numel(in), skip->d, numel(skip) * sizeof(float));
}

void crisp_ref_clamp(const struct crisp_layer *l, const struct crisp_tensor *in,
                     const struct crisp_tensor *skip, struct crisp_tensor *out)
{
    for (size_t i = 0; i < numel(in); i++)
        out->d[i] = fminf(fmaxf(in->d[i], l->lo), l->hi);
}

void crisp_pad_edge(const float *in, int c, int h, int w, float *out, int ph, int pw, int border)
{
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < ph; y++) {
            int sy = y - border;
            sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
            const float *src = in + ((size_t)ch * h + sy) * w;
            float *dst = out + ((size_t)ch * ph + y) * pw;
            for (int x = 0; x < pw; x++) {
                int sx = x - border;
                sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
                dst[x] = src[sx];
            }
        }
}

void crisp_crop(const float *in, int c, int ph, int pw, int border, float *out, int h, int w)
{
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            memcpy(out + ((size_t)ch * h + y) * w, in + ((size_t)ch * ph + y + border) * pw + border,
                   sizeof(float) * (size_t)w);
}

int crisp_ref_run(const struct crisp_model *m, const float *in, int w, int h, float *out)
{
    return crisp_ref_run_observe(m, in, w, h, out, NULL, NULL);
}

int crisp_ref_run_observe(const struct crisp_model *m, const float *in, int w, int h, float *out,
                          crisp_ref_observer cb, void *ctx)
{
    if (w < 1 || h < 1 || w > 65536 || h > 65536)
        return CRISP_EFORMAT;
    int pw, ph, ret = 0;
    crisp_model_padded_size(m, w, h, &pw, &ph);
    const int n = m->n_layers, c0 = (int)m->color;
    int *shapes = malloc(sizeof(int) * 3 * (size_t)n);
    struct crisp_tensor *t = calloc((size_t)n + 1, sizeof(*t)); /* t[0] input, t[i+1] layer i */
    if (!shapes || !t) {
        ret = -ENOMEM;
        goto done;
    }
    if ((ret = crisp_model_shapes(m, pw, ph, shapes, NULL, 0)) < 0)
        goto done;
    t[0] = (struct crisp_tensor){c0, ph, pw, malloc(sizeof(float) * (size_t)c0 * ph * pw)};
    if (!t[0].d) {
        ret = -ENOMEM;
        goto done;
    }
    crisp_pad_edge(in, c0, h, w, t[0].d, ph, pw, m->border);
    for (int i = 0; i < n; i++) {
        const struct crisp_layer *l = &m->layers[i];
        struct crisp_tensor *o = &t[i + 1];
        *o = (struct crisp_tensor){shapes[3 * i], shapes[3 * i + 1], shapes[3 * i + 2], NULL};
        o->d = malloc(sizeof(float) * (size_t)o->c * o->h * o->w);
        if (!o->d) {
            ret = -ENOMEM;
            goto done;
        }
        if (cb)
            cb(ctx, i, t[i].d, t[i].c, t[i].h, t[i].w);
        const struct crisp_tensor *skip = NULL;
        if (l->type == CRISP_LAYER_ADD || l->type == CRISP_LAYER_CONCAT)
            skip = &t[l->skip + 1];
        crisp_layer_row(l->type)->ref(l, &t[i], skip, o);
    }
    struct crisp_tensor *res = &t[n];
    if (m->output == CRISP_OUTPUT_RESIDUAL)
        for (size_t i = 0; i < (size_t)c0 * ph * pw; i++)
            res->d[i] += t[0].d[i];
    crisp_crop(res->d, c0, ph, pw, m->border, out, h, w);
done:
    if (t)
        for (int i = 0; i <= n; i++)
            free(t[i].d);
    free(t);
    free(shapes);
    return ret;
}
