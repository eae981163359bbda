// SPDX-License-Identifier: BSD-2-Clause
// Losses and their gradients. SSIM follows the metric of lib/media (11-tap
// Gaussian, sigma 1.5, mean over the valid region) so that 1 - SSIM trains
// exactly what evaluation measures. Its gradient: with S_p a function of the
// local statistics (mu_x, mu_y, s_yy, s_xy) at pixel p, and mu_y = G*y,
// s_yy = G*(y^2) - mu_y^2, s_xy = G*(xy) - mu_x mu_y,
//   dS/dy_q = (G^T * A)_q + 2 y_q (G^T * B)_q + x_q (G^T * C)_q
// where A = dS/dmu_y - 2 mu_y dS/ds_yy - mu_x dS/ds_xy, B = dS/ds_yy,
// C = dS/ds_xy; G^T scatters the valid-region maps back (zero outside).
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/train.h"

static const char *const NAMES[] = {"l1", "mse", "charbonnier", "ssim"};

const char *crisp_loss_name(enum crisp_loss l)
{
    return (unsigned)l < 4 ? NAMES[l] : "?";
}

int crisp_loss_parse(const char *name, enum crisp_loss *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, NAMES[i])) {
            *out = (enum crisp_loss)i;
            return 0;
        }
    return CRISP_EUSAGE;
}

#define R 5
#define K (2 * R + 1)

static void kernel(double *k)
{
    double s = 0;
    for (int i = -R; i <= R; i++)
        s += (k[i + R] = exp(-0.5 * i * i / 2.25));
    for (int i = 0; i < K; i++)
        k[i] /= s;
}

/* valid-region separable filter: in w x h -> out (w-2R) x (h-2R) */
static void filt_valid(const double *in, int w, int h, double *tmp, double *out, const double *k)
{
    int ow = w - 2 * R, oh = h - 2 * R;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < ow; x++) {
            double s = 0;
            for (int t = 0; t < K; t++)
                s += k[t] * in[(size_t)y * w + x + t];
            tmp[(size_t)y * ow + x] = s;
        }
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            double s = 0;
            for (int t = 0; t < K; t++)
                s += k[t] * tmp[(size_t)(y + t) * ow + x];
            out[(size_t)y * ow + x] = s;
        }
}

/* transpose of filt_valid: (w-2R) x (h-2R) -> w x h (full, zero outside) */
static void filt_full(const double *in, int w, int h, double *tmp, double *out, const double *k)
{
    int ow = w - 2 * R, oh = h - 2 * R;
    memset(tmp, 0, sizeof(double) * (size_t)ow * h);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int t = 0; t < K; t++)
                tmp[(size_t)(y + t) * ow + x] += k[t] * in[(size_t)y * ow + x];
    memset(out, 0, sizeof(double) * (size_t)w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < ow; x++)
            for (int t = 0; t < K; t++)
                out[(size_t)y * w + x + t] += k[t] * tmp[(size_t)y * ow + x];
}

/* 1 - mean SSIM of one plane; grad += weight * d/dy / planes */
static double ssim_plane(const float *yo, const float *xt, int w, int h, float range,
                         double scale, float *grad)
{
    double k[K];
    kernel(k);
    const size_t n = (size_t)w * h;
    const int ow = w - 2 * R, oh = h - 2 * R;
    const size_t no = (size_t)ow * oh;
    double *buf = malloc(sizeof(double) * (n * 5 + (size_t)ow * h + no * 8));
    if (!buf)
        return NAN;
    double *X = buf, *Y = X + n, *XX = Y + n, *YY = XX + n, *XY = YY + n, *tmp = XY + n;
    double *mx = tmp + (size_t)ow * h, *my = mx + no, *sxx = my + no, *syy = sxx + no,
           *sxy = syy + no, *A = sxy + no, *B = A + no, *Cm = B + no;
    for (size_t i = 0; i < n; i++) {
        X[i] = xt[i];
        Y[i] = yo[i];
        XX[i] = X[i] * X[i];
        YY[i] = Y[i] * Y[i];
        XY[i] = X[i] * Y[i];
    }
    filt_valid(X, w, h, tmp, mx, k);
    filt_valid(Y, w, h, tmp, my, k);
    filt_valid(XX, w, h, tmp, sxx, k);
    filt_valid(YY, w, h, tmp, syy, k);
    filt_valid(XY, w, h, tmp, sxy, k);
    const double C1 = (0.01 * range) * (0.01 * range), C2 = (0.03 * range) * (0.03 * range);
    double total = 0;
    for (size_t i = 0; i < no; i++) {
        double ux = mx[i], uy = my[i];
        double vx = sxx[i] - ux * ux, vy = syy[i] - uy * uy, vxy = sxy[i] - ux * uy;
        double a1 = 2 * ux * uy + C1, a2 = 2 * vxy + C2;
        double b1 = ux * ux + uy * uy + C1, b2 = vx + vy + C2;
        double s = a1 * a2 / (b1 * b2);
        total += s;
        /* partial derivatives of s */
        double ds_duy = (2 * ux * a2) / (b1 * b2) - s * (2 * uy) / b1;
        double ds_dvy = -s / b2;
        double ds_dvxy = 2 * a1 / (b1 * b2);
        A[i] = ds_duy - 2 * uy * ds_dvy - ux * ds_dvxy;
        B[i] = ds_dvy;
        Cm[i] = ds_dvxy;
    }
    if (grad) {
        double *fa = X, *fb = XX, *fc = XY; /* reuse: X/XX/XY are no longer needed, keep Y */
        double *xs = YY;
        for (size_t i = 0; i < n; i++)
            xs[i] = xt[i];
        filt_full(A, w, h, tmp, fa, k);
        filt_full(B, w, h, tmp, fb, k);
        filt_full(Cm, w, h, tmp, fc, k);
        /* loss = 1 - mean(S): d/dy = -(1/no) dS/dy */
        const double g = -scale / (double)no;
        for (size_t i = 0; i < n; i++)
            grad[i] += (float)(g * (fa[i] + 2 * Y[i] * fb[i] + xs[i] * fc[i]));
    }
    free(buf);
    return 1.0 - total / (double)no;
}

double crisp_loss(enum crisp_loss kind, const float *out, const float *target, size_t planes,
                  int w, int h, float range, float weight, float *grad)
{
    const size_t n = planes * (size_t)w * h;
    double sum = 0;
    switch (kind) {
    case CRISP_LOSS_L1: {
        const float g = weight / (float)n;
#pragma omp parallel for simd reduction(+ : sum) schedule(static)
        for (size_t i = 0; i < n; i++) {
            float d = out[i] - target[i];
            sum += fabsf(d);
            if (grad)
                grad[i] += d > 0 ? g : d < 0 ? -g : 0.0f;
        }
        return sum / (double)n;
    }
    case CRISP_LOSS_MSE: {
        const float g = 2.0f * weight / (float)n;
#pragma omp parallel for simd reduction(+ : sum) schedule(static)
        for (size_t i = 0; i < n; i++) {
            float d = out[i] - target[i];
            sum += (double)d * d;
            if (grad)
                grad[i] += g * d;
        }
        return sum / (double)n;
    }
    case CRISP_LOSS_CHARBONNIER: {
        const float eps2 = (1e-3f * range) * (1e-3f * range), g = weight / (float)n;
#pragma omp parallel for simd reduction(+ : sum) schedule(static)
        for (size_t i = 0; i < n; i++) {
            float d = out[i] - target[i];
            float r = sqrtf(d * d + eps2);
            sum += r;
            if (grad)
                grad[i] += g * d / r;
        }
        return sum / (double)n;
    }
    case CRISP_LOSS_SSIM: {
        if (w < K || h < K)
            return NAN;
        const size_t pl = (size_t)w * h;
#pragma omp parallel for reduction(+ : sum) schedule(dynamic)
        for (size_t p = 0; p < planes; p++)
            sum += ssim_plane(out + p * pl, target + p * pl, w, h, range,
                              (double)weight / (double)planes, grad ? grad + p * pl : NULL);
        return sum / (double)planes;
    }
    }
    return NAN;
}
