// SPDX-License-Identifier: BSD-2-Clause
// crisp-train quantize: calibrates the int8 ranges of a model on training
// images and writes MODEL.q8 beside it (crisp/engine.h, struct crisp_quant).
//
// Each image (EXIF-oriented, area-downscaled to at most `max_side`) is
// degraded by the "vc" protocol, as frames reach crispd, and run through the
// C reference; the input of every conv layer is observed. A layer's range
// is [min, hi] where min is the smallest value seen (>= 0 makes the input
// u8) and hi the largest per-image 99.99th percentile (a few outliers
// saturate rather than stretch the scale for everything else).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/engine.h"
#include "crisp/log.h"
#include "crisp/media.h"
#include "crisp/model.h"
#include "crisp/util.h"
#include "quantize.h"

struct calib {
    const struct crisp_model *m;
    float *lo, *hi;
    float *sample;
    size_t cap;
};

static int cmpf(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static void observe(void *ctx, int layer, const float *in, int c, int h, int w)
{
    struct calib *k = ctx;
    if (k->m->layers[layer].type != CRISP_LAYER_CONV)
        return;
    const size_t n = (size_t)c * h * w;
    const size_t step = n / k->cap + 1;
    size_t ns = 0;
    float lo = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (in[i] < lo)
            lo = in[i];
        if (i % step == 0 && ns < k->cap)
            k->sample[ns++] = in[i];
    }
    qsort(k->sample, ns, sizeof(float), cmpf);
    float p = ns ? k->sample[(size_t)((ns - 1) * 0.9999)] : 0;
    float mx = ns ? k->sample[ns - 1] : 0;
    if (lo < k->lo[layer])
        k->lo[layer] = lo;
    /* the percentile, but never below a tenth of the true maximum */
    float hi = fmaxf(p, mx * 0.1f);
    if (hi > k->hi[layer])
        k->hi[layer] = hi;
}

/* One calibration image: read, area-downscaled to at most max_side (a
 * multiple of 4), degraded by "vc", run through the C reference while the
 * conv inputs are observed. 1 if it was used, 0 if it could not be run,
 * -1 if skipped (unreadable, or too small). */
static int observe_image(struct calib *k, const char *path, int max_side)
{
    const struct crisp_model *m = k->m;
    char err[512];
    int r = 0;
    struct crisp_image *img = NULL, *small = NULL, *deg = NULL;
    if (crisp_image_read(&img, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "skipping %s\n", err);
        return -1;
    }
    int w = img->w, h = img->h;
    if (w > max_side || h > max_side) {
        double s = (double)max_side / (w > h ? w : h);
        w = (int)(w * s) & ~3;
        h = (int)(h * s) & ~3;
    } else {
        w &= ~3;
        h &= ~3;
    }
    if (w < 32 || h < 32 || crisp_resize(&small, img, w, h, CRISP_SCALE_AREA) < 0 ||
        crisp_degrade_protocol(&deg, small, "vc", err, sizeof(err)) < 0) {
        crisp_image_destroy(&img);
        crisp_image_destroy(&small);
        return -1;
    }
    /* a frame-pair model sees the image as a still: the image twice; Y in
     * whole 8-bit levels, as crispd feeds it */
    const size_t np = (size_t)w * h, c = (size_t)m->color;
    float *y = malloc(sizeof(float) * np * c), *o = malloc(sizeof(float) * np * c);
    if (y && o) {
        crisp_image_luma_levels(deg, y);
        for (size_t i = 0; i < np; i++)
            y[i] *= m->range_max / 255.0f;
        for (size_t k2 = 1; k2 < c; k2++)
            memcpy(y + k2 * np, y, sizeof(float) * np);
        if (crisp_ref_run_observe(m, y, w, h, o, observe, k) == 0)
            r = 1;
    }
    free(y);
    free(o);
    crisp_image_destroy(&img);
    crisp_image_destroy(&small);
    crisp_image_destroy(&deg);
    return r;
}

/* The ranges into q: every conv u8 or s8; the first conv, which reads the
 * image, on the image's own range [0, 1] (luma / 255: u8 holds it without
 * loss), or kept in f32 with first_f32. Its s8 weights cost the round-3
 * crisp-rt 0.14 dB on Kodak24 vc, so until round 12 it was always kept in
 * f32; the round-11 ladder loses 0.001-0.022 dB in int8 against f32 with it
 * quantized and runs 16-35% faster (models/README.md, round 12). */
static void set_ranges(struct crisp_quant *q, const struct calib *k, int first_f32)
{
    const struct crisp_model *m = k->m;
    for (int i = 0, first = 1; i < m->n_layers; i++)
        if (m->layers[i].type == CRISP_LAYER_CONV && first) {
            first = 0;
            q->in_min[i] = 0;
            q->in_max[i] = first_f32 ? CRISP_QUANT_KEEP_F32 : 1.0f;
            printf("layer %2d conv %dx%d %4d->%-4d %s\n", i, m->layers[i].k, m->layers[i].k,
                   m->layers[i].cin, m->layers[i].cout,
                   first_f32 ? "kept in f32 (reads the image)" : "input range [0, 1] u8 (the image)");
        } else if (m->layers[i].type == CRISP_LAYER_CONV) {
            q->in_min[i] = k->lo[i] >= 0 ? 0.0f : k->lo[i];
            q->in_max[i] = k->hi[i] > 0 ? k->hi[i] : 1e-3f;
            printf("layer %2d conv %dx%d %4d->%-4d input range [%.4g, %.4g]%s\n", i, m->layers[i].k,
                   m->layers[i].k, m->layers[i].cin, m->layers[i].cout, q->in_min[i], q->in_max[i],
                   q->in_min[i] >= 0 ? " u8" : " s8");
        }
}

int quantize(const char *model_path, const char *data, const char *out, int max_images, int max_side,
             int first_f32)
{
    char err[512];
    struct crisp_model *m = NULL;
    if (crisp_weights_load(&m, model_path, err, sizeof(err)) < 0)
        return crisp_fail(1, "%s", err);
    if (m->color == CRISP_COLOR_RGB) {
        crisp_model_destroy(&m);
        return crisp_fail(1, "quantize: %s is an RGB model; int8 calibration is for luma and "
                             "frame-pair models", model_path);
    }
    char **names = NULL;
    int ni = 0, lr = crisp_image_list(data, &names, &ni);
    if (lr < 0) {
        crisp_model_destroy(&m);
        return crisp_fail(1, "quantize: %s: %s", data, strerror(-lr));
    }
    const size_t nn = (size_t)ni;
    struct crisp_quant *q = crisp_quant_new(m->n_layers);
    struct calib k = {.m = m, .cap = 1 << 18};
    k.sample = malloc(sizeof(float) * k.cap);
    k.lo = malloc(sizeof(float) * (size_t)m->n_layers);
    k.hi = calloc((size_t)m->n_layers, sizeof(float));
    int ret = 0, used = 0;
    if (!q || !k.sample || !k.lo || !k.hi) {
        ret = crisp_fail(1, "out of memory");
        goto done;
    }
    for (int i = 0; i < m->n_layers; i++)
        k.lo[i] = INFINITY;
    /* spread the calibration images over the folder */
    size_t stride = max_images > 0 && nn > (size_t)max_images ? nn / (size_t)max_images : 1;
    for (size_t f = 0; f < nn && used < max_images; f += stride) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", data, names[f]);
        int u = observe_image(&k, path, max_side);
        if (u < 0)
            continue;
        used += u;
        fprintf(stderr, "\rcalibrating: %d images", used);
    }
    fprintf(stderr, "\n");
    if (used == 0) {
        ret = crisp_fail(1, "quantize: no usable images in %s", data);
        goto done;
    }
    set_ranges(q, &k, first_f32);
    if ((ret = crisp_weights_file_crc(model_path, &q->model_crc)) < 0) {
        ret = crisp_fail(1, "%s: %s", model_path, crisp_strerror(ret));
        goto done;
    }
    char def[4096];
    if (!out) {
        snprintf(def, sizeof(def), "%s.q8", model_path);
        out = def;
    }
    if ((ret = crisp_quant_save(q, out)) < 0) {
        ret = crisp_fail(1, "%s: %s", out, crisp_strerror(ret));
        goto done;
    }
    printf("calibrated on %d images of %s; wrote %s\n", used, data, out);
done:
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    free(k.sample);
    free(k.lo);
    free(k.hi);
    crisp_quant_destroy(&q);
    crisp_model_destroy(&m);
    return ret;
}
