// SPDX-License-Identifier: BSD-2-Clause
// The oneDNN inference engine: a model compiled once for one frame size.
//
// Built once (primitives created, weights reordered, BN folded, bias,
// activations and residual adds fused as post-ops, activation memory planned
// with buffer reuse), then run in a loop without allocating.
#ifndef CRISP_ENGINE_H
#define CRISP_ENGINE_H

#include <stddef.h>

#include "crisp/model.h"

enum crisp_precision {
    CRISP_PRECISION_F32 = 0, /* default; int8 arrives with quantized models */
};

struct crisp_engine_params {
    int width, height;   /* frame size (any size >= 1x1); required */
    int threads;         /* oneDNN (OpenMP) threads; 0 = leave the runtime's default.
                            Process-wide: OpenMP has one pool. */
    enum crisp_precision precision;
};

struct crisp_engine;

/* Compiles `m` for the given size. The model must outlive nothing: weights
 * are copied. On failure *out stays NULL, nothing leaks, and `err` names the
 * layer and the oneDNN status. Not real-time safe. */
CRISP_API int crisp_engine_create(struct crisp_engine **out, const struct crisp_model *m,
                                  const struct crisp_engine_params *p, char *err, size_t errlen);

/* Runs one frame: `in` and `out` are planar C x height x width floats in the
 * model's range (C = colour mode channels); they may not alias. Allocates
 * nothing; real-time safe apart from oneDNN's own thread pool. One thread at
 * a time per engine. Returns CRISP_EDNNL if oneDNN fails (logged). */
CRISP_API int crisp_engine_run(struct crisp_engine *e, const float *in, float *out);

/* Bytes of activation memory planned (after reuse) and the number of
 * primitives executed per frame. */
CRISP_API size_t crisp_engine_activation_bytes(const struct crisp_engine *e);
CRISP_API int crisp_engine_steps(const struct crisp_engine *e);

/* The best throughput (GMAC/s) of single 3x3 convolution layers (16 to 128
 * channels at 640x360, f32, layouts chosen by oneDNN) on this machine with
 * `threads` threads (0: the default): the reference `crisp bench` divides
 * a model's throughput by. `desc` gets the winning layer. Not real-time safe. */
CRISP_API int crisp_engine_conv_peak(int threads, double *gmacs, char *desc, size_t n);

/* Frees everything; accepts NULL and clears the pointer. */
CRISP_API void crisp_engine_destroy(struct crisp_engine **e);

#endif
