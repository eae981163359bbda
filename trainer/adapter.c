// SPDX-License-Identifier: BSD-2-Clause
// Feature adapters (adapter.h): plain C, one 1x1 convolution each, run on
// the training loop's thread. Owns each adapter's weights, gradients, Adam
// moments and work buffers.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

int adapter_init(struct adapter *a, int cs, int ct, size_t hw_batch, struct crisp_rng *r)
{
    a->cs = cs;
    a->ct = ct;
    size_t np = (size_t)cs * ct + (size_t)ct;
    a->w = calloc(np * 5, sizeof(float));
    a->pred = crisp_aalloc(sizeof(float) * hw_batch * (size_t)ct);
    a->grad_s = crisp_aalloc(sizeof(float) * hw_batch * (size_t)cs);
    if (!a->w || !a->pred || !a->grad_s)
        return -ENOMEM;
    a->b = a->w + (size_t)cs * ct;
    a->gw = a->w + np;
    a->gb = a->gw + (size_t)cs * ct;
    a->m = a->w + 2 * np;
    a->v = a->w + 3 * np;
    for (size_t i = 0; i < (size_t)cs * ct; i++)
        a->w[i] = (float)(crisp_rng_normal(r) / sqrt((double)cs));
    return 0;
}

void adapter_free(struct adapter *a)
{
    free(a->w);
    crisp_afree(a->pred);
    crisp_afree(a->grad_s);
}

/* MSE between adapter(student features) and teacher features; fills grad_s
 * (weight * dL/dF_s) and the adapter's own gradients. Returns the loss. */
double adapter_loss(struct adapter *a, const float *fs, const float *ft, int batch,
                           size_t hw, float weight)
{
    const int cs = a->cs, ct = a->ct;
    const size_t n = (size_t)batch * ct * hw;
    double loss = 0;
    memset(a->gw, 0, sizeof(float) * ((size_t)cs * ct + (size_t)ct));
    memset(a->grad_s, 0, sizeof(float) * (size_t)batch * cs * hw);
    for (int b = 0; b < batch; b++) {
        const float *s = fs + (size_t)b * cs * hw;
        const float *t = ft + (size_t)b * ct * hw;
        float *gs = a->grad_s + (size_t)b * cs * hw;
        for (int o = 0; o < ct; o++) {
            float *p = a->pred + ((size_t)b * ct + o) * hw;
            for (size_t j = 0; j < hw; j++)
                p[j] = a->b[o];
            for (int i = 0; i < cs; i++) {
                float w = a->w[(size_t)o * cs + i];
                const float *si = s + (size_t)i * hw;
                for (size_t j = 0; j < hw; j++)
                    p[j] += w * si[j];
            }
            const float *to = t + (size_t)o * hw;
            const float g = 2.0f / (float)n;
            for (size_t j = 0; j < hw; j++) {
                float d = p[j] - to[j];
                loss += (double)d * d;
                p[j] = g * d; /* p now holds dL/dpred */
            }
            double gb = 0;
            for (size_t j = 0; j < hw; j++)
                gb += p[j];
            a->gb[o] += (float)gb;
            for (int i = 0; i < cs; i++) {
                const float *si = s + (size_t)i * hw;
                float *gsi = gs + (size_t)i * hw;
                const float w = a->w[(size_t)o * cs + i] * weight;
                double gw = 0;
                for (size_t j = 0; j < hw; j++) {
                    gw += (double)p[j] * si[j];
                    gsi[j] += w * p[j];
                }
                a->gw[(size_t)o * cs + i] += (float)gw;
            }
        }
    }
    return loss / (double)n;
}

void adapter_step(struct adapter *a, float lr, int step)
{
    size_t np = (size_t)a->cs * a->ct + (size_t)a->ct;
    const float b1 = 0.9f, b2 = 0.999f;
    float c1 = 1.0f / (1.0f - powf(b1, (float)step)), c2 = 1.0f / (1.0f - powf(b2, (float)step));
    for (size_t i = 0; i < np; i++) {
        float g = a->gw[i];
        a->m[i] = b1 * a->m[i] + (1 - b1) * g;
        a->v[i] = b2 * a->v[i] + (1 - b2) * g * g;
        a->w[i] -= lr * a->m[i] * c1 / (sqrtf(a->v[i] * c2) + 1e-8f);
    }
}
