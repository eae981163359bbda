// SPDX-License-Identifier: BSD-2-Clause
// Training engine (lib/nn/train): forward-training and backward for every
// layer of the model description, losses, AdamW. Linked by crisp-train and
// the tests only; crispd never links it.
//
// Thread safety: a training net is used by one thread at a time; its
// convolutions run on oneDNN's OpenMP pool and its other layers on OpenMP
// loops. Nothing here is real-time safe.
#ifndef CRISP_TRAIN_H
#define CRISP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "crisp/model.h"

struct crisp_train_net;

/* Builds a training net for batches of `batch` samples of w x h (already
 * aligned: w and h multiples of crisp_model_alignment, border ignored). The
 * model's tensors are the master weights: forward reads them, the optimizer
 * updates them in place, training-mode BN updates the running statistics.
 * The model must outlive the net. */
CRISP_API int crisp_train_net_create(struct crisp_train_net **out, struct crisp_model *m,
                                     int batch, int w, int h, char *err, size_t errlen);
CRISP_API void crisp_train_net_destroy(struct crisp_train_net **net);

/* Flags for crisp_train_net_create_flags. CRISP_TRAIN_BF16: convolutions
 * run in bf16 (inputs, outputs and their gradients rounded to bf16 around
 * each convolution; master weights, weight gradients and everything else
 * f32) where the CPU has AVX-512 BF16 or AMX; ignored elsewhere. */
#define CRISP_TRAIN_BF16 1u
CRISP_API int crisp_train_net_create_flags(struct crisp_train_net **out, struct crisp_model *m,
                                           int batch, int w, int h, unsigned flags, char *err,
                                           size_t errlen);
/* Whether this CPU runs bf16 convolutions natively (oneDNN's ISA check). */
CRISP_API int crisp_train_bf16_available(void);
/* How many of the net's convolutions run in bf16 (0 without CRISP_TRAIN_BF16). */
CRISP_API int crisp_train_net_bf16_convs(const struct crisp_train_net *net);

/* Training mode (BN uses batch statistics and updates running ones) or
 * evaluation mode (BN uses running statistics, as inference does). */
CRISP_API void crisp_train_net_set_training(struct crisp_train_net *net, int training);

/* Input buffer: batch x C x h x w floats in the model's range. */
CRISP_API float *crisp_train_net_input(struct crisp_train_net *net);
/* Runs the forward pass; output (with the model's residual applied) in
 * crisp_train_net_output (batch x C x h x w). */
CRISP_API int crisp_train_net_forward(struct crisp_train_net *net);
CRISP_API const float *crisp_train_net_output(const struct crisp_train_net *net);

/* Output of layer `layer` as plain NCHW (batch x c x lh x lw) and its
 * shape, for feature distillation; valid until the next call for that layer
 * or the next forward pass. */
CRISP_API const float *crisp_train_net_activation(struct crisp_train_net *net, int layer, int *c,
                                                  int *h, int *w);

/* Extra gradient injected at a layer's output (feature losses). */
struct crisp_train_extra_grad {
    int layer;
    const float *grad; /* same shape as the layer's activation */
};

/* Backward pass from dL/d(output) plus optional extra gradients; writes the
 * parameter gradients (overwriting the previous step's). */
CRISP_API int crisp_train_net_backward(struct crisp_train_net *net, const float *dout,
                                       const struct crisp_train_extra_grad *extra, int n_extra);

/* Gradient of tensor `role` of layer `layer` (NULL when there is none). */
CRISP_API float *crisp_train_net_grad(struct crisp_train_net *net, int layer, int role);

/* Whether a tensor role is learned by gradient descent (BN mean/var are not). */
CRISP_API int crisp_role_trainable(int role);

/* ---- Losses: value, and dL/d(out) written to `grad` (may be NULL) ----
 * Means over all n elements; SSIM per plane (planes of w x h), 11-tap
 * Gaussian, sigma 1.5, data range `range`. */
enum crisp_loss { CRISP_LOSS_L1, CRISP_LOSS_MSE, CRISP_LOSS_CHARBONNIER, CRISP_LOSS_SSIM };
CRISP_API const char *crisp_loss_name(enum crisp_loss l);
CRISP_API int crisp_loss_parse(const char *name, enum crisp_loss *out);
/* grad (if not NULL) receives weight * dL/dout added to what it holds. */
CRISP_API double crisp_loss(enum crisp_loss kind, const float *out, const float *target,
                            size_t planes, int w, int h, float range, float weight, float *grad);

/* ---- AdamW ---- */
struct crisp_adamw_params {
    float lr;            /* peak learning rate */
    float beta1, beta2;  /* 0 = 0.9, 0.999 */
    float eps;           /* 0 = 1e-8 */
    float weight_decay;  /* decoupled, conv weights only */
    float clip_norm;     /* global gradient norm clip; 0 = off */
    int warmup_steps;
    int total_steps;     /* for the cosine schedule */
    int schedule;        /* 0 cosine to 1% of lr, 1 step: x0.5 at 50%, 75%, 90% */
};
struct crisp_adamw;
CRISP_API int crisp_adamw_create(struct crisp_adamw **out, struct crisp_model *m,
                                 const struct crisp_adamw_params *p);
CRISP_API void crisp_adamw_destroy(struct crisp_adamw **o);
/* One step with the gradients of `net` (built on the same model). Returns the
 * global gradient norm before clipping through *norm. */
CRISP_API int crisp_adamw_step(struct crisp_adamw *o, struct crisp_train_net *net, double *norm);
/* Parameters beyond the model's tensors (the expanded weights of
 * collapsible blocks): n floats at w, whose gradient the caller writes to
 * g before each step; `decay`: weight decay applies. Before the first step
 * only (CRISP_EUSAGE after); 0 or -ENOMEM. */
CRISP_API int crisp_adamw_add(struct crisp_adamw *o, float *w, const float *g, size_t n,
                              int decay);
/* Leaves a model tensor out of the updates and of the gradient norm: its
 * values are derived from other parameters (a collapsed convolution). */
CRISP_API void crisp_adamw_freeze(struct crisp_adamw *o, int layer, int role);
/* Updates the schedule's total step count (time-budgeted runs estimate it). */
CRISP_API void crisp_adamw_set_total(struct crisp_adamw *o, int total_steps);
CRISP_API float crisp_adamw_lr(const struct crisp_adamw *o);
CRISP_API int crisp_adamw_steps(const struct crisp_adamw *o);
/* Optimizer state for checkpoints: step count and the m, v moments. */
CRISP_API size_t crisp_adamw_state_size(const struct crisp_adamw *o);
CRISP_API void crisp_adamw_state_save(const struct crisp_adamw *o, float *buf, int *step);
CRISP_API void crisp_adamw_state_load(struct crisp_adamw *o, const float *buf, int step);

/* ---- Collapsible linear blocks (lib/nn/train/collapse.c) ----
 * Every convolution of a model trained as a k x k convolution C -> E and a
 * 1 x 1 convolution E -> C' with no activation between (plus an identity
 * branch where C == C', stride 1, if asked), collapsed into the model's own
 * k x k convolution before each forward pass: forward and backward run at
 * the collapsed size, and the model file (export, int8, inference) is the
 * plain network. Use: create (the model's convolutions are then derived
 * values), attach to the optimizer, and per step: forward, backward,
 * crisp_collapse_backward, crisp_adamw_step, crisp_collapse_apply. */
struct crisp_collapse_params {
    int expansion;  /* E; 0 = 128; at least each conv's C' */
    int identity;   /* 1: identity branch in blocks with C == C' */
    int from_model; /* 1: factor the model's current weights exactly (continue a
                       trained model); 0: fresh He-style draws */
};
struct crisp_collapse;
CRISP_API int crisp_collapse_create(struct crisp_collapse **out, struct crisp_model *m,
                                    const struct crisp_collapse_params *p, uint64_t seed);
CRISP_API void crisp_collapse_destroy(struct crisp_collapse **c);
/* Writes every collapsed weight and bias into the model. */
CRISP_API void crisp_collapse_apply(struct crisp_collapse *c);
/* The expanded gradients from the net's conv weight and bias gradients
 * (after crisp_train_net_backward). 0 or CRISP_EUSAGE. */
CRISP_API int crisp_collapse_backward(struct crisp_collapse *c, struct crisp_train_net *net);
/* Freezes the collapsed tensors in the optimizer and adds the expanded
 * ones (weight decay on A and B, not on biases). Before the first step. */
CRISP_API int crisp_collapse_attach(struct crisp_collapse *c, struct crisp_adamw *o);
/* The expanded tensors as one array (checkpoints; apply after loading),
 * and their gradients in the same order. */
CRISP_API size_t crisp_collapse_floats(const struct crisp_collapse *c);
CRISP_API float *crisp_collapse_data(struct crisp_collapse *c);
CRISP_API float *crisp_collapse_grad(struct crisp_collapse *c);

#endif
