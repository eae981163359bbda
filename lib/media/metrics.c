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

/* the five horizontally filtered products of source row r (u8, stride w
 * apart) into the ring slot h[0..4] */
static void ssim_hrow(const uint8_t *x, const uint8_t *y, int ow, const double *k, double *const h[5])
{
    for (int c = 0; c < ow; c++) {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int t = 0; t <= 2 * RADIUS; t++) {
            double a = x[c + t], b = y[c + t];
            sx += k[t] * a;
            sy += k[t] * b;
            sxx += k[t] * a * a;
            syy += k[t] * b * b;
            sxy += k[t] * a * b;
        }
        h[0][c] = sx;
        h[1][c] = sy;
        h[2][c] = sxx;
        h[3][c] = syy;
        h[4][c] = sxy;
    }
}

/* Mean SSIM over the valid region (w-2R) x (h-2R) of two u8 planes whose
 * rows are `stride` apart. Rows stream through a ring of 2R+1 horizontally
 * filtered rows (a few hundred KB at 720p, in cache), each output pixel
 * summed in the same order as a whole-plane pass would. */
static double ssim_plane(const uint8_t *x, const uint8_t *y, int stride, int w, int h)
{
    double k[2 * RADIUS + 1];
    gauss_kernel(k);
    const double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);
    const int ow = w - 2 * RADIUS, rows = 2 * RADIUS + 1;
    double *ring = malloc(sizeof(double) * 5 * (size_t)rows * ow);
    if (!ring)
        return NAN;
    double total = 0.0;
    for (int r = 0; r < h; r++) {
        double *slot[5];
        for (int q = 0; q < 5; q++)
            slot[q] = ring + ((size_t)q * rows + (size_t)(r % rows)) * ow;
        ssim_hrow(x + (size_t)r * stride, y + (size_t)r * stride, ow, k, slot);
        if (r < 2 * RADIUS)
            continue;
        const int top = r - 2 * RADIUS; /* the output row: source rows top..r */
        for (int c = 0; c < ow; c++) {
            double u[5] = {0, 0, 0, 0, 0};
            for (int t = 0; t <= 2 * RADIUS; t++) {
                size_t o = (size_t)((top + t) % rows) * ow + c;
                for (int q = 0; q < 5; q++)
                    u[q] += k[t] * ring[(size_t)q * rows * ow + o];
            }
            double ux = u[0], uy = u[1], uxx = u[2], uyy = u[3], uxy = u[4];
            double vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy;
            double s = ((2 * ux * uy + C1) * (2 * vxy + C2)) /
                       ((ux * ux + uy * uy + C1) * (vx + vy + C2));
            total += s;
        }
    }
    free(ring);
    return total / ((double)(h - 2 * RADIUS) * ow);
}

int crisp_metrics_plane(const uint8_t *a, const uint8_t *b, int w, int h, int crop, double *psnr,
                        double *ssim)
{
    if (crop < 0 || w - 2 * crop < 2 * RADIUS + 1 || h - 2 * crop < 2 * RADIUS + 1)
        return CRISP_EFORMAT; /* SSIM needs at least an 11x11 window after cropping */
    int cw = w - 2 * crop, ch = h - 2 * crop;
    size_t n = (size_t)cw * ch;
    double se = 0.0;
    for (int r = 0; r < ch; r++)
        for (int c = 0; c < cw; c++) {
            size_t j = (size_t)(r + crop) * w + c + crop;
            double d = (double)a[j] - (double)b[j];
            se += d * d;
        }
    double mse = se / (double)n;
    if (psnr)
        *psnr = mse > 0 ? 10.0 * log10(255.0 * 255.0 / mse) : 100.0;
    const size_t origin = (size_t)crop * w + crop;
    if (ssim)
        *ssim = ssim_plane(a + origin, b + origin, w, cw, ch);
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
