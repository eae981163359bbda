// SPDX-License-Identifier: BSD-2-Clause
// BT.601 studio-range YCbCr exactly as MATLAB's rgb2ycbcr on 8-bit input.
// Also: the colorimetry tags video carries and what players assume without them.
#include <math.h>

#include <libavutil/pixfmt.h>
#include <libavutil/pixdesc.h>

#include "crisp/media.h"

static const double T[3][3] = {
    {65.481, 128.553, 24.966},
    {-37.797, -74.203, 112.0},
    {112.0, -93.786, -18.214},
};
static const double OFF[3] = {16.0, 128.0, 128.0};

static inline double luma_level(const uint8_t *p)
{
    const double v = OFF[0] + (T[0][0] * p[0] + T[0][1] * p[1] + T[0][2] * p[2]) / 255.0;
    return floor(v + 0.5); /* MATLAB rounds half away from zero; v > 0 */
}

void crisp_image_luma_u8(const struct crisp_image *img, uint8_t *y)
{
    size_t n = (size_t)img->w * img->h;
    for (size_t i = 0; i < n; i++)
        y[i] = (uint8_t)luma_level(img->rgb + 3 * i);
}

void crisp_image_luma_levels(const struct crisp_image *img, float *y)
{
    size_t n = (size_t)img->w * img->h;
    for (size_t i = 0; i < n; i++)
        y[i] = (float)luma_level(img->rgb + 3 * i);
}

void crisp_image_to_ycbcr(const struct crisp_image *img, float *y, float *cb, float *cr)
{
    float *planes[3] = {y, cb, cr};
    size_t n = (size_t)img->w * img->h;
    for (int c = 0; c < 3; c++) {
        if (!planes[c])
            continue;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p = img->rgb + 3 * i;
            planes[c][i] = (float)(OFF[c] + (T[c][0] * p[0] + T[c][1] * p[1] + T[c][2] * p[2]) / 255.0);
        }
    }
}

void crisp_image_from_ycbcr(struct crisp_image *img, const float *y, const float *cb, const float *cr)
{
    /* inverse of T/255, computed once in double */
    double a[3][3];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            a[r][c] = T[r][c] / 255.0;
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    double inv[3][3];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            int r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3;
            inv[r][c] = (a[r1][c1] * a[r2][c2] - a[r1][c2] * a[r2][c1]) / det;
        }
    size_t n = (size_t)img->w * img->h;
    for (size_t i = 0; i < n; i++) {
        double v[3] = {y[i] - OFF[0], cb[i] - OFF[1], cr[i] - OFF[2]};
        for (int c = 0; c < 3; c++) {
            double x = inv[c][0] * v[0] + inv[c][1] * v[1] + inv[c][2] * v[2];
            x = floor(x + 0.5);
            img->rgb[3 * i + c] = (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : x);
        }
    }
}

/* ---- colorimetry tags (crisp_colorimetry) ---- */

void crisp_colorimetry_default(struct crisp_colorimetry *c, int w, int h)
{
    if (!c->matrix || c->matrix == AVCOL_SPC_UNSPECIFIED || c->matrix == AVCOL_SPC_RGB ||
        c->matrix == AVCOL_SPC_RESERVED)
        c->matrix = w > 1024 || h > 576 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
    const int hd = c->matrix == AVCOL_SPC_BT709;
    const int uhd = c->matrix == AVCOL_SPC_BT2020_NCL || c->matrix == AVCOL_SPC_BT2020_CL;
    const int pal = c->matrix == AVCOL_SPC_BT470BG;
    if (!c->primaries || c->primaries == AVCOL_PRI_UNSPECIFIED || c->primaries == AVCOL_PRI_RESERVED)
        c->primaries = hd ? AVCOL_PRI_BT709 : uhd ? AVCOL_PRI_BT2020 : pal ? AVCOL_PRI_BT470BG
                                                                           : AVCOL_PRI_SMPTE170M;
    if (!c->transfer || c->transfer == AVCOL_TRC_UNSPECIFIED || c->transfer == AVCOL_TRC_RESERVED)
        c->transfer = hd ? AVCOL_TRC_BT709 : uhd ? AVCOL_TRC_BT2020_10 : AVCOL_TRC_SMPTE170M;
    if (!c->range || c->range == AVCOL_RANGE_UNSPECIFIED)
        c->range = AVCOL_RANGE_MPEG;
}

const char *crisp_colorimetry_matrix_name(int matrix)
{
    return av_color_space_name((enum AVColorSpace)matrix) ?: "unknown";
}
