// SPDX-License-Identifier: BSD-2-Clause
// Feature adapters for feature distillation (adapter.c): a learned 1x1
// convolution from a student layer's channels to a teacher layer's, trained
// with its own Adam beside the student. Training loop thread only.
#ifndef CRISP_TRAINER_ADAPTER_H
#define CRISP_TRAINER_ADAPTER_H

#include <stddef.h>

#include "crisp/util.h"

struct adapter {
    int s_layer, t_layer, cs, ct;
    float *w, *b, *gw, *gb, *m, *v; /* w: ct x cs; m, v: Adam moments for w then b */
    float *pred, *grad_s;
};

/* weights drawn from N(0, 1/cs); buffers for hw_batch pixels. 0 or -ENOMEM */
int adapter_init(struct adapter *a, int cs, int ct, size_t hw_batch, struct crisp_rng *r);
void adapter_free(struct adapter *a);
/* MSE between adapter(student features) and teacher features; fills grad_s
 * (weight * dL/dF_s) and the adapter's own gradients. Returns the loss. */
double adapter_loss(struct adapter *a, const float *fs, const float *ft, int batch, size_t hw,
                    float weight);
/* one Adam step (bias-corrected for `step`) on the adapter's weights */
void adapter_step(struct adapter *a, float lr, int step);

#endif
