// SPDX-License-Identifier: BSD-2-Clause
// Validation during training (validate.h). Owns the validation crops.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/engine.h"
#include "crisp/media.h"
#include "validate.h"

int val_prepare(struct val_set *v, const struct dataset *d, int crop, uint64_t seed, int input8)
{
    memset(v, 0, sizeof(*v));
    v->gt = calloc((size_t)d->n_val + 1, sizeof(*v->gt));
    v->deg = calloc((size_t)d->n_val + 1, sizeof(*v->deg));
    v->in = calloc((size_t)d->n_val + 1, sizeof(*v->in));
    v->w = calloc((size_t)d->n_val + 1, sizeof(int));
    v->h = calloc((size_t)d->n_val + 1, sizeof(int));
    if (!v->gt || !v->deg || !v->in || !v->w || !v->h)
        return -ENOMEM;
    double sum = 0;
    for (int i = 0; i < d->n_val; i++) {
        const struct crisp_image *img = d->val[i];
        int cw = (img->w < crop ? img->w : crop) & ~3, ch = (img->h < crop ? img->h : crop) & ~3;
        if (cw < 32 || ch < 32)
            continue;
        struct crisp_image *c, *dg;
        if (crisp_image_create(&c, cw, ch) < 0)
            return -ENOMEM;
        int x0 = (img->w - cw) / 2, y0 = (img->h - ch) / 2;
        for (int y = 0; y < ch; y++)
            memcpy(c->rgb + (size_t)y * cw * 3, img->rgb + ((size_t)(y + y0) * img->w + x0) * 3,
                   (size_t)cw * 3);
        int ret = degrade_fixed(&dg, c, d->val_names[i], seed);
        if (ret < 0) {
            crisp_image_destroy(&c);
            return ret;
        }
        int k = v->n++;
        size_t n = (size_t)cw * ch;
        v->w[k] = cw;
        v->h[k] = ch;
        v->gt[k] = malloc(n);
        v->deg[k] = malloc(n);
        v->in[k] = malloc(n * sizeof(float));
        if (!v->gt[k] || !v->deg[k] || !v->in[k])
            return -ENOMEM;
        crisp_image_luma_u8(c, v->gt[k]);
        crisp_image_luma_u8(dg, v->deg[k]);
        if (!input8) /* else the 8-bit levels of deg */
            crisp_image_to_ycbcr(dg, v->in[k], NULL, NULL);
        for (size_t j = 0; j < n; j++)
            v->in[k][j] = (input8 ? v->deg[k][j] : v->in[k][j]) / 255.0f;
        double p;
        crisp_image_destroy(&c);
        crisp_image_destroy(&dg);
        if (!memcmp(v->gt[k], v->deg[k], n)) {
            /* the draw left this crop untouched: its PSNR would be the 100 dB
             * cap, which swamps the mean and measures no restoration */
            free(v->gt[k]);
            free(v->deg[k]);
            free(v->in[k]);
            v->n--;
            v->untouched++;
            continue;
        }
        crisp_metrics_plane(v->gt[k], v->deg[k], cw, ch, 2, &p, NULL);
        sum += p;
    }
    v->deg_psnr = v->n ? sum / v->n : 0;
    return 0;
}

void val_free(struct val_set *v)
{
    for (int i = 0; i < v->n; i++) {
        free(v->gt[i]);
        free(v->deg[i]);
        free(v->in[i]);
    }
    free(v->gt);
    free(v->deg);
    free(v->in);
    free(v->w);
    free(v->h);
}

double val_psnr(const struct val_set *v, const struct crisp_model *m)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < v->n; i++) {
        struct crisp_engine *e;
        struct crisp_engine_params p = {.width = v->w[i], .height = v->h[i]};
        if (crisp_engine_create(&e, m, &p, NULL, 0) < 0)
            continue;
        /* a frame-pair model sees each image as a still: the image twice */
        const size_t np = (size_t)v->w[i] * v->h[i], c = (size_t)m->color;
        float *o = malloc(np * c * sizeof(float)), *in = malloc(np * c * sizeof(float));
        uint8_t *y = malloc(np);
        for (size_t k = 0; in && k < c; k++)
            memcpy(in + k * np, v->in[i], np * sizeof(float));
        if (o && in && y && crisp_engine_run(e, in, o) == 0) {
            for (size_t j = 0; j < np; j++) {
                float q = o[j] * 255.0f + 0.5f;
                y[j] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
            double ps;
            if (crisp_metrics_plane(v->gt[i], y, v->w[i], v->h[i], 2, &ps, NULL) == 0) {
                sum += ps;
                n++;
            }
        }
        free(o);
        free(in);
        free(y);
        crisp_engine_destroy(&e);
    }
    return n ? sum / n : 0;
}
