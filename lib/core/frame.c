// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crisp/frame.h"
#include "crisp/util.h"

int crisp_frame_pool_init(struct crisp_frame_pool *p, int n, int w, int h)
{
    memset(p, 0, sizeof(*p));
    if (n < 1 || n > 1024 || w < 2 || h < 2 || w > 16384 || h > 16384 || (w & 1) || (h & 1))
        return CRISP_EFORMAT;
    const int sy = (w + 63) & ~63, sc = (w / 2 + 63) & ~63;
    const size_t per = (size_t)sy * h + 2 * (size_t)sc * (h / 2);
    p->frames = calloc((size_t)n, sizeof(*p->frames));
    p->mem = crisp_aalloc(per * (size_t)n);
    if (!p->frames || !p->mem) {
        free(p->frames);
        crisp_afree(p->mem);
        memset(p, 0, sizeof(*p));
        return -ENOMEM;
    }
    p->n = n;
    for (int i = 0; i < n; i++) {
        struct crisp_frame *f = &p->frames[i];
        uint8_t *base = (uint8_t *)p->mem + per * (size_t)i;
        f->w = w;
        f->h = h;
        f->stride[0] = sy;
        f->stride[1] = f->stride[2] = sc;
        f->data[0] = base;
        f->data[1] = base + (size_t)sy * h;
        f->data[2] = f->data[1] + (size_t)sc * (h / 2);
        f->pts = -1;
    }
    return 0;
}

void crisp_frame_pool_destroy(struct crisp_frame_pool *p)
{
    free(p->frames);
    crisp_afree(p->mem);
    memset(p, 0, sizeof(*p));
}

int64_t crisp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
