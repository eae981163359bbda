// SPDX-License-Identifier: BSD-2-Clause
// Temporal steadying of a restoration (media.h, crisp_steady_*): a
// single-frame network treats the codec's and the sensor's frame-to-frame
// noise as detail and sharpens it differently on every frame, so a still
// picture shimmers. Where the input is still, the correction the network
// adds (its output minus its input) is averaged over time, recursively;
// where the input moves the new correction is taken as it is. The input's
// own changes pass untouched: the output is always this frame's input plus
// the steadied correction, so nothing lags behind a moving picture.
//
// Per pixel, m = |in_t - in_t-1| (8-bit levels), k = blend * max(0, 1 - m / motion),
// s_t = k s_t-1 + (1 - k) (out_t - in_t), and out_t := clamp(in_t + s_t).
// s is kept in 1/64 levels (int16), k in 1/256 (a table over m): integer
// arithmetic, so crispd and crisp eval give the same bytes on any CPU.
// One caller at a time per object.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/media.h"
#include "crisp/util.h"

struct crisp_steady {
    int w, h, primed;
    uint8_t *prev;   /* last input, w x h */
    int16_t *res;    /* the steadied correction, 1/64 levels */
    uint16_t k[256]; /* the previous correction's weight by input change, 1/256 */
};

int crisp_steady_create(struct crisp_steady **out, int w, int h, float blend, float motion)
{
    *out = NULL;
    if (w < 1 || h < 1 || w > CRISP_IMAGE_MAX_DIM || h > CRISP_IMAGE_MAX_DIM || !(blend >= 0) ||
        !(blend <= 0.95f) || !(motion >= 1) || !(motion <= 255))
        return CRISP_EUSAGE;
    struct crisp_steady *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->w = w;
    s->h = h;
    s->prev = malloc((size_t)w * h);
    s->res = malloc(sizeof(int16_t) * (size_t)w * h);
    if (!s->prev || !s->res) {
        crisp_steady_destroy(&s);
        return -ENOMEM;
    }
    for (int m = 0; m < 256; m++) {
        float f = 1.0f - (float)m / motion;
        s->k[m] = (uint16_t)(f > 0 ? blend * f * 256.0f + 0.5f : 0);
    }
    *out = s;
    return 0;
}

void crisp_steady_reset(struct crisp_steady *s)
{
    if (s)
        s->primed = 0;
}

void crisp_steady_apply(struct crisp_steady *s, const uint8_t *in, ptrdiff_t istride, uint8_t *out,
                        ptrdiff_t ostride)
{
    const int w = s->w;
    for (int y = 0; y < s->h; y++) {
        const uint8_t *a = in + y * istride;
        uint8_t *o = out + y * ostride, *p = s->prev + (size_t)y * w;
        int16_t *r = s->res + (size_t)y * w;
        if (!s->primed) { /* the first frame passes; its correction starts the average */
            for (int x = 0; x < w; x++)
                r[x] = (int16_t)(((int)o[x] - a[x]) * 64);
        } else {
            for (int x = 0; x < w; x++) {
                const int m = a[x] > p[x] ? a[x] - p[x] : p[x] - a[x];
                const int k = s->k[m];
                const int d = ((int)o[x] - a[x]) * 64;
                const int v = (k * r[x] + (256 - k) * d + 128) >> 8;
                r[x] = (int16_t)v;
                int q = a[x] + ((v + 32) >> 6);
                o[x] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        }
        memcpy(p, a, (size_t)w);
    }
    s->primed = 1;
}

void crisp_steady_destroy(struct crisp_steady **s)
{
    if (!*s)
        return;
    free((*s)->prev);
    free((*s)->res);
    free(*s);
    *s = NULL;
}
