// SPDX-License-Identifier: BSD-2-Clause
// Pixel-format packing for the camera sinks (sink.h).
#include <string.h>

#include "sink.h"

void pix_i420_to_yuyv(const struct crisp_frame *f, unsigned char *dst, int dst_stride)
{
    for (int y = 0; y < f->h; y++) {
        const unsigned char *py = f->data[0] + (size_t)y * f->stride[0];
        const unsigned char *pu = f->data[1] + (size_t)(y / 2) * f->stride[1];
        const unsigned char *pv = f->data[2] + (size_t)(y / 2) * f->stride[2];
        unsigned char *d = dst + (size_t)y * dst_stride;
        for (int x = 0; x < f->w / 2; x++) {
            d[4 * x + 0] = py[2 * x];
            d[4 * x + 1] = pu[x];
            d[4 * x + 2] = py[2 * x + 1];
            d[4 * x + 3] = pv[x];
        }
    }
}

void pix_i420_to_nv12(const struct crisp_frame *f, unsigned char *dst, int dst_stride)
{
    for (int y = 0; y < f->h; y++)
        memcpy(dst + (size_t)y * dst_stride, f->data[0] + (size_t)y * f->stride[0], (size_t)f->w);
    unsigned char *uv = dst + (size_t)f->h * dst_stride;
    for (int y = 0; y < f->h / 2; y++) {
        const unsigned char *pu = f->data[1] + (size_t)y * f->stride[1];
        const unsigned char *pv = f->data[2] + (size_t)y * f->stride[2];
        unsigned char *d = uv + (size_t)y * dst_stride;
        for (int x = 0; x < f->w / 2; x++) {
            d[2 * x] = pu[x];
            d[2 * x + 1] = pv[x];
        }
    }
}

/* planes back to back: Y (dst_stride per row), then U and V (dst_stride / 2) */
void pix_i420_pack(const struct crisp_frame *f, unsigned char *dst, int dst_stride)
{
    for (int y = 0; y < f->h; y++)
        memcpy(dst + (size_t)y * dst_stride, f->data[0] + (size_t)y * f->stride[0], (size_t)f->w);
    unsigned char *d = dst + (size_t)f->h * dst_stride;
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < f->h / 2; y++, d += dst_stride / 2)
            memcpy(d, f->data[p] + (size_t)y * f->stride[p], (size_t)f->w / 2);
}
