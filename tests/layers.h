// SPDX-License-Identifier: BSD-2-Clause
// Layer initializers for tests that build networks by hand.
#ifndef CRISP_TESTS_LAYERS_H
#define CRISP_TESTS_LAYERS_H

#include "crisp/model.h"

#define LCONV(co, kk, s) {.type = CRISP_LAYER_CONV, .cout = (co), .k = (kk), .stride = (s)}
#define RELU {.type = CRISP_LAYER_RELU}
#define LRELU(a) {.type = CRISP_LAYER_LRELU, .alpha = (a)}
#define PRELU {.type = CRISP_LAYER_PRELU}
#define BN {.type = CRISP_LAYER_BN, .eps = 1e-5f}
#define S2D(f) {.type = CRISP_LAYER_S2D, .factor = (f)}
#define D2S(f) {.type = CRISP_LAYER_D2S, .factor = (f)}
#define ADD(s) {.type = CRISP_LAYER_ADD, .skip = (s)}
#define CAT(s) {.type = CRISP_LAYER_CONCAT, .skip = (s)}
#define CLAMP(a, b) {.type = CRISP_LAYER_CLAMP, .lo = (a), .hi = (b)}

/* Fills every tensor of `m`, layer by layer, role by role and value by
 * value, with draw(layer, role) (the tests' random weights). */
static inline void fill_tensors(struct crisp_model *m, float (*draw)(const struct crisp_layer *l, int role))
{
    for (int i = 0; i < m->n_layers; i++) {
        struct crisp_layer *l = &m->layers[i];
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t n = crisp_layer_tensor_size(l, l->cin, r);
            for (size_t j = 0; j < n; j++)
                l->t[r][j] = draw(l, r);
        }
    }
}

#endif
