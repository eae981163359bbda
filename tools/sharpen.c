// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sharpen.h"

int sharpen_image(const struct crisp_model *m, enum sharpen_backend backend, int threads,
                  const struct crisp_quant *q, float strength, const struct crisp_image *in, struct crisp_image **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    const size_t n = (size_t)in->w * in->h;
    const int c = (int)m->color;
    const float to_model = m->range_max / 255.0f, from_model = 255.0f / m->range_max;
    float *planes = malloc(sizeof(float) * n * 3), *res = malloc(sizeof(float) * n * (size_t)c);
    struct crisp_engine *eng = NULL;
    struct crisp_image *o = NULL;
    int ret;
    if (!planes || !res) {
        ret = -ENOMEM;
        goto done;
    }
    float *y = planes, *cb = planes + n, *cr = planes + 2 * n;
    if (c == 1) {
        crisp_image_to_ycbcr(in, y, cb, cr);
    } else {
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < 3; k++)
                planes[k * n + i] = in->rgb[3 * i + (size_t)k];
    }
    for (size_t i = 0; i < n * (size_t)c; i++)
        planes[i] *= to_model;
    if (backend == BACKEND_REF) {
        if ((ret = crisp_ref_run(m, planes, in->w, in->h, res)) < 0) {
            snprintf(err, errlen, "reference run failed: %s", crisp_strerror(ret));
            goto done;
        }
    } else {
        struct crisp_engine_params p = {.width = in->w, .height = in->h, .threads = threads,
                                        .precision = q ? CRISP_PRECISION_INT8 : CRISP_PRECISION_F32,
                                        .quant = q};
        if ((ret = crisp_engine_create(&eng, m, &p, err, errlen)) < 0)
            goto done;
        if ((ret = crisp_engine_run(eng, planes, res)) < 0) {
            snprintf(err, errlen, "oneDNN run failed: %s", crisp_strerror(ret));
            goto done;
        }
    }
    for (size_t i = 0; i < n * (size_t)c; i++) {
        float in_v = planes[i] * from_model, out_v = res[i] * from_model;
        res[i] = in_v + strength * (out_v - in_v);
    }
    if ((ret = crisp_image_create(&o, in->w, in->h)) < 0)
        goto done;
    if (c == 1) {
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
    crisp_engine_destroy(&eng);
    free(planes);
    free(res);
    return ret;
}
