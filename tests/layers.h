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

#endif
