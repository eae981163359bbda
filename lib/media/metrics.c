// SPDX-License-Identifier: BSD-2-Clause
// PSNR and SSIM on the Y channel. SSIM follows scikit-image's
// structural_similarity(gaussian_weights=True, sigma=1.5, truncate=3.5,
// use_sample_covariance=False, data_range=255): an 11-tap Gaussian
// (radius int(3.5*1.5+0.5) = 5), local statistics by filtering, and the mean
// of the SSIM map with (win_size-1)/2 = 5 pixels cropped from every side, so
// the filter's border mode never matters.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/media.h"

#define RADIUS 5

static void gauss_kernel(double *k)
{
    double sum = 0.0;
    for (int i = -RADIUS; i <= RADIUS; i++) {
        k[i + RADIUS] = exp(-0.5 * i * i / (1.5 * 1.5));
        sum += k[i + RADIUS];
    }
    for (int i = 0; i < 2 * RADIUS + 1; i++)
        k[i] /= sum;
}

/* Mean SSIM over the valid region (w-2R) x (h-2R) of two double planes. */
static double ssim_plane(const double *x, const double *y, int w, int h)
{
    double k[2 * RADIUS + 1];
    gauss_kernel(k);
    const double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);
    int ow = w - 2 * RADIUS;
    /* horizontal pass on the five products, then vertical per output pixel */
    size_t n = (size_t)ow * h;
    double *hx = malloc(sizeof(double) * n * 5);
    if (!hx)
        return NAN;
    double *hy = hx + n, *hxx = hy + n, *hyy = hxx + n, *hxy = hyy + n;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < ow; c++) {
            double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (int t = 0; t <= 2 * RADIUS; t++) {
                double a = x[(size_t)r * w + c + t], b = y[(size_t)r * w + c + t];
                sx += k[t] * a;
                sy += k[t] * b;
                sxx += k[t] * a * a;
                syy += k[t] * b * b;
                sxy += k[t] * a * b;
            }
            size_t o = (size_t)r * ow + c;
            hx[o] = sx;
            hy[o] = sy;
            hxx[o] = sxx;
            hyy[o] = syy;
            hxy[o] = sxy;
        }
    double total = 0.0;
    for (int r = 0; r < h - 2 * RADIUS; r++)
        for (int c = 0; c < ow; c++) {
            double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
            for (int t = 0; t <= 2 * RADIUS; t++) {
                size_t o = (size_t)(r + t) * ow + c;
                ux += k[t] * hx[o];
                uy += k[t] * hy[o];
                uxx += k[t] * hxx[o];
                uyy += k[t] * hyy[o];
                uxy += k[t] * hxy[o];
            }
            double vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy;
            double s = ((2 * ux * uy + C1) * (2 * vxy + C2)) /
                       ((ux * ux + uy * uy + C1) * (vx + vy + C2));
            total += s;
        }
    free(hx);
    return total / ((double)(h - 2 * RADIUS) * ow);
}

int crisp_metrics_plane(const uint8_t *a, const uint8_t *b, int w, int h, int crop, double *psnr,
                        double *ssim)
{
    if (crop < 0 || w - 2 * crop < 2 * RADIUS + 1 || h - 2 * crop < 2 * RADIUS + 1)
        return CRISP_EFORMAT; /* SSIM needs at least an 11x11 window after cropping */
    int cw = w - 2 * crop, ch = h - 2 * crop;
    size_t n = (size_t)cw * ch;
    double *x = malloc(sizeof(double) * n * 2);
    if (!x)
        return -ENOMEM;
    double *y = x + n, se = 0.0;
    for (int r = 0; r < ch; r++)
        for (int c = 0; c < cw; c++) {
            size_t i = (size_t)r * cw + c, j = (size_t)(r + crop) * w + c + crop;
            x[i] = a[j];
            y[i] = b[j];
            se += (x[i] - y[i]) * (x[i] - y[i]);
        }
    double mse = se / (double)n;
    if (psnr)
        *psnr = mse > 0 ? 10.0 * log10(255.0 * 255.0 / mse) : 100.0;
    if (ssim)
        *ssim = ssim_plane(x, y, cw, ch);
    free(x);
    return (ssim && isnan(*ssim)) ? -ENOMEM : 0;
}

int crisp_metrics_y(const struct crisp_image *ref, const struct crisp_image *test, int crop,
                    double *psnr, double *ssim)
{
    if (ref->w != test->w || ref->h != test->h)
        return CRISP_EFORMAT;
    size_t n = (size_t)ref->w * ref->h;
    uint8_t *ya = malloc(n * 2);
    if (!ya)
        return -ENOMEM;
    crisp_image_luma_u8(ref, ya);
    crisp_image_luma_u8(test, ya + n);
    int ret = crisp_metrics_plane(ya, ya + n, ref->w, ref->h, crop, psnr, ssim);
    free(ya);
    return ret;
}

double crisp_metrics_tde(const uint8_t *o0, const uint8_t *o1, const uint8_t *g0,
                         const uint8_t *g1, int w, int h, int crop)
{
    if (crop < 0 || w - 2 * crop <= 0 || h - 2 * crop <= 0)
        return -1;
    double sum = 0;
    for (int y = crop; y < h - crop; y++) {
        long row = 0; /* at most 255 * 2 * 7680 per row: fits */
        for (int x = crop; x < w - crop; x++) {
            size_t i = (size_t)y * w + x;
            int d = ((int)o1[i] - o0[i]) - ((int)g1[i] - g0[i]);
            row += d < 0 ? -d : d;
        }
        sum += (double)row;
    }
    return sum / ((double)(w - 2 * crop) * (h - 2 * crop));
}
