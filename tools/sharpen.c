// SPDX-License-Identifier: BSD-2-Clause
// Running a model on a whole RGB image (sharpen.h), for crisp's sharpen and
// eval commands: colour handling, the self-ensemble, and oneDNN engines kept
// between calls of the same frame size (video frames reuse them). Main
// thread; owns the sharpener's engines.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/util.h"
#include "sharpen.h"

/* the engine for w x h: one of the two kept (the self-ensemble needs w x h
 * and h x w), else a new one in the slot used least recently */
static int engine_for(struct sharpener *s, int w, int h, struct crisp_engine **out, char *err,
                      size_t errlen)
{
    for (int i = 0; i < 2; i++)
        if (s->eng[i] && s->ew[i] == w && s->eh[i] == h) {
            s->last = i;
            *out = s->eng[i];
            return 0;
        }
    int i = s->eng[0] && !s->eng[1] ? 1 : s->eng[0] ? !s->last : 0;
    crisp_engine_destroy(&s->eng[i]);
    struct crisp_engine_params p = {.width = w,
                                    .height = h,
                                    .threads = s->threads,
                                    .precision = s->q ? CRISP_PRECISION_INT8 : CRISP_PRECISION_F32,
                                    .quant = s->q};
    int ret = crisp_engine_create(&s->eng[i], s->m, &p, err, errlen);
    if (ret < 0)
        return ret;
    s->ew[i] = w;
    s->eh[i] = h;
    s->last = i;
    *out = s->eng[i];
    return 0;
}

/* Runs the model on `c` planes of w x h (model range) into `res`. */
static int run_planes(struct sharpener *s, const float *planes, int w, int h, float *res,
                      char *err, size_t errlen)
{
    int ret;
    if (s->backend == BACKEND_REF) {
        if ((ret = crisp_ref_run(s->m, planes, w, h, res)) < 0)
            snprintf(err, errlen, "reference run failed: %s", crisp_strerror(ret));
        return ret;
    }
    struct crisp_engine *eng = NULL;
    if ((ret = engine_for(s, w, h, &eng, err, errlen)) < 0)
        return ret;
    if ((ret = crisp_engine_run(eng, planes, res)) < 0)
        snprintf(err, errlen, "oneDNN run failed: %s", crisp_strerror(ret));
    return ret;
}

void sharpener_free(struct sharpener *s)
{
    crisp_engine_destroy(&s->eng[0]);
    crisp_engine_destroy(&s->eng[1]);
}

/* The geometric self-ensemble: the mean of the model's outputs on the 8
 * flips/rotations of the input, each turned back (Lim et al. 2017, "EDSR+"). */
static int run_ensemble(struct sharpener *s, const float *planes, int c, int w, int h,
                        float *res, char *err, size_t errlen)
{
    const size_t n = (size_t)w * h;
    float *ti = malloc(sizeof(float) * n * (size_t)c), *to = malloc(sizeof(float) * n * (size_t)c);
    float *back = malloc(sizeof(float) * n);
    int ret = 0;
    if (!ti || !to || !back) {
        ret = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n * (size_t)c; i++)
        res[i] = 0.0f;
    for (int o = 0; o < 8 && ret == 0; o++) {
        const int ow = (o & 4) ? h : w, oh = (o & 4) ? w : h;
        for (int k = 0; k < c; k++)
            crisp_orient(ti + (size_t)k * n, planes + (size_t)k * n, w, h, o, 0);
        if ((ret = run_planes(s, ti, ow, oh, to, err, errlen)) < 0)
            break;
        for (int k = 0; k < c; k++) {
            crisp_orient(back, to + (size_t)k * n, w, h, o, 1);
            for (size_t i = 0; i < n; i++)
                res[(size_t)k * n + i] += back[i] * 0.125f;
        }
    }
done:
    free(ti);
    free(to);
    free(back);
    return ret;
}

int sharpener_run(struct sharpener *s, float strength, const struct crisp_image *in,
                  struct crisp_image **out, char *err, size_t errlen)
{
    const struct crisp_model *m = s->m;
    *out = NULL;
    const size_t n = (size_t)in->w * in->h;
    const int c = (int)m->color;
    const float to_model = m->range_max / 255.0f, from_model = 255.0f / m->range_max;
    /* luma: Y, Cb, Cr; a pair: Y, the previous frame's Y, Cb, Cr; RGB: R, G,
     * B; then the unrounded Y (the model's correction is added to it) */
    float *planes = malloc(sizeof(float) * n * 5), *res = malloc(sizeof(float) * n * (size_t)c);
    struct crisp_image *o = NULL;
    int ret;
    if (!planes || !res) {
        ret = -ENOMEM;
        goto done;
    }
    const int pair = c == CRISP_COLOR_LUMA_PAIR;
    float *y = planes, *cb = planes + (pair ? 2 : 1) * n, *cr = cb + n, *yf = planes + 4 * n;
    if (c != CRISP_COLOR_RGB) {
        crisp_image_to_ycbcr(in, yf, cb, cr);
        if (s->float_luma)
            memcpy(y, yf, sizeof(float) * n);
        else
            crisp_image_luma_levels(in, y);
        if (pair && s->prev && (s->prev->w != in->w || s->prev->h != in->h)) {
            snprintf(err, errlen, "the previous frame is %dx%d, this one %dx%d", s->prev->w,
                     s->prev->h, in->w, in->h);
            ret = CRISP_EUSAGE;
            goto done;
        }
        if (pair && s->prev && s->float_luma)
            crisp_image_to_ycbcr(s->prev, y + n, NULL, NULL);
        else if (pair && s->prev)
            crisp_image_luma_levels(s->prev, y + n);
        else if (pair)
            memcpy(y + n, y, sizeof(float) * n);
    } else {
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < 3; k++)
                planes[k * n + i] = in->rgb[3 * i + (size_t)k];
    }
    for (size_t i = 0; i < n * (size_t)c; i++)
        planes[i] *= to_model;
    ret = s->ensemble > 1 ? run_ensemble(s, planes, c, in->w, in->h, res, err, errlen)
                          : run_planes(s, planes, in->w, in->h, res, err, errlen);
    if (ret < 0)
        goto done;
    for (size_t i = 0; i < n * (size_t)c; i++) {
        /* the model's correction, on Y added to the unrounded Y: strength 0
         * gives the image back */
        float in_v = planes[i] * from_model, out_v = res[i] * from_model;
        res[i] = (c != CRISP_COLOR_RGB && i < n ? yf[i] : in_v) + strength * (out_v - in_v);
    }
    if ((ret = crisp_image_create(&o, in->w, in->h)) < 0)
        goto done;
    if (c != CRISP_COLOR_RGB) { /* a pair's channel 0: this frame */
        crisp_image_from_ycbcr(o, res, cb, cr);
    } else {
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < 3; k++) {
                float v = res[(size_t)k * n + i] + 0.5f;
                o->rgb[3 * i + (size_t)k] = (uint8_t)(v < 0.0f ? 0 : v >= 255.0f ? 255 : (int)v);
            }
    }
    *out = o;
    o = NULL;
    ret = 0;
done:
    crisp_image_destroy(&o);
    free(planes);
    free(res);
    return ret;
}

int sharpen_image(const struct crisp_model *m, enum sharpen_backend backend, int threads,
                  const struct crisp_quant *q, float strength, int ensemble,
                  const struct crisp_image *in, struct crisp_image **out, char *err, size_t errlen)
{
    struct sharpener s = {.m = m, .q = q, .backend = backend, .threads = threads,
                          .ensemble = ensemble};
    int ret = sharpener_run(&s, strength, in, out, err, errlen);
    sharpener_free(&s);
    return ret;
}
