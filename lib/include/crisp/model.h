// SPDX-License-Identifier: BSD-2-Clause
// The model description shared by crispd, crisp-train and the crisp tool, and
// its weights file format (docs/weights-format.md).
//
// A model is an ordered list of layers. Layer i reads the output of layer i-1
// (layer 0 reads the model input); ADD and CONCAT also read a second operand,
// `skip`: -1 for the model input or the index of an earlier layer. All
// tensors are NCHW float in the model's value range [0, range_max].
//
// Thread safety: a model is immutable once created; any number of threads may
// read it concurrently. Creation and destruction are not real-time safe.
#ifndef CRISP_MODEL_H
#define CRISP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "crisp/error.h"

enum crisp_layer_type {
    CRISP_LAYER_CONV = 1,    /* k x k (odd k), stride 1 or 2, zero padding (k-1)/2, bias */
    CRISP_LAYER_RELU = 2,
    CRISP_LAYER_LRELU = 3,   /* alpha: negative slope */
    CRISP_LAYER_PRELU = 4,   /* per-channel slope tensor */
    CRISP_LAYER_BN = 5,      /* batch norm (inference statistics); eps */
    CRISP_LAYER_S2D = 6,     /* space-to-depth (pixel unshuffle) by `factor` */
    CRISP_LAYER_D2S = 7,     /* depth-to-space (pixel shuffle) by `factor` */
    CRISP_LAYER_ADD = 8,     /* prev + skip */
    CRISP_LAYER_CONCAT = 9,  /* channels of prev, then channels of skip */
    CRISP_LAYER_CLAMP = 10,  /* clamp to [lo, hi] */
    CRISP_LAYER_TYPE_MAX = 10,
};

/* Roles of the tensors a layer owns. */
enum crisp_tensor_role {
    CRISP_ROLE_WEIGHT = 0, /* conv: [cout][cin][k][k] */
    CRISP_ROLE_BIAS = 1,   /* conv: [cout] */
    CRISP_ROLE_GAMMA = 2,  /* bn: [c] */
    CRISP_ROLE_BETA = 3,   /* bn: [c] */
    CRISP_ROLE_MEAN = 4,   /* bn: [c] */
    CRISP_ROLE_VAR = 5,    /* bn: [c] */
    CRISP_ROLE_SLOPE = 6,  /* prelu: [c] */
    CRISP_ROLE_COUNT = 7,
};

enum crisp_color_mode {
    CRISP_COLOR_LUMA = 1, /* one channel: Y of BT.601 studio-range YCbCr, scaled to the range */
    /* a frame pair: two luma channels, the current frame's Y then the previous
     * frame's (the same frame twice for a still or a first frame); the output
     * is both frames restored, and callers show channel 0 */
    CRISP_COLOR_LUMA_PAIR = 2,
    CRISP_COLOR_RGB = 3,  /* three channels R, G, B */
};

enum crisp_output_mode {
    CRISP_OUTPUT_DIRECT = 0,   /* the network output is the image */
    CRISP_OUTPUT_RESIDUAL = 1, /* the network output is added to the input */
};

struct crisp_layer {
    enum crisp_layer_type type;
    int skip;              /* ADD/CONCAT: -1 = model input, else an earlier layer; others 0 */
    int cout;              /* CONV: output channels */
    int k;                 /* CONV: kernel size (odd) */
    int stride;            /* CONV: 1 or 2 */
    int factor;            /* S2D/D2S */
    float alpha;           /* LRELU slope */
    float lo, hi;          /* CLAMP */
    float eps;             /* BN */
    /* Derived when the model is validated: */
    int cin;               /* input channels (first operand) */
    int channels;          /* output channels */
    float *t[CRISP_ROLE_COUNT]; /* tensors, NULL where the layer has none */
};

struct crisp_model {
    char name[32];                     /* NUL-terminated */
    enum crisp_color_mode color;
    enum crisp_output_mode output;
    float range_max;                   /* 1.0 or 255.0 */
    int border;                        /* edge-replicated margin added before running, 0..64 */
    int n_layers;
    struct crisp_layer *layers;
    float *data;                       /* owns every tensor (64-byte aligned) */
    size_t data_floats;
};

#define CRISP_MAX_LAYERS 1024
#define CRISP_MAX_CHANNELS 4096
#define CRISP_MAX_KERNEL 11
#define CRISP_MAX_FACTOR 8

/* Name of a layer type ("conv", "relu", ...), or NULL for an unknown value. */
CRISP_API const char *crisp_layer_type_name(int type);

/* Number of floats of tensor `role` for `layer` whose input has `cin`
 * channels (0 when the layer has no such tensor). */
CRISP_API size_t crisp_layer_tensor_size(const struct crisp_layer *layer, int cin, int role);

/* Builds a model from a description: copies `layers` (their tensor pointers
 * are ignored), validates it (see crisp_model_validate) and allocates
 * zeroed tensors. On failure *out stays NULL and `err` (if not NULL, size
 * `errlen`) names the problem. Not real-time safe. */
CRISP_API int crisp_model_create(struct crisp_model **out, const char *name,
                                 enum crisp_color_mode color, enum crisp_output_mode output,
                                 float range_max, const struct crisp_layer *layers, int n_layers,
                                 char *err, size_t errlen);
/* Frees a model; accepts NULL and clears the pointer. */
CRISP_API void crisp_model_destroy(struct crisp_model **m);

/* Checks layer types, parameters, skip indices and channel counts, and fills
 * each layer's cin/channels. The final output must have as many channels as
 * the colour mode. Errors name the layer and field. */
CRISP_API int crisp_model_validate(struct crisp_model *m, char *err, size_t errlen);

/* Spatial alignment the model needs: inputs are padded (edge replication) to
 * a multiple of this. */
CRISP_API int crisp_model_alignment(const struct crisp_model *m);

/* Size the network actually runs at for a w x h image: the image plus
 * `border` pixels on each side, rounded up to the alignment; the image sits
 * at (border, border) and everything around it replicates its edges. */
CRISP_API void crisp_model_padded_size(const struct crisp_model *m, int w, int h, int *pw,
                                       int *ph);

/* Shape of every layer output for an aligned input of w x h. Fills
 * shapes[3*i+0..2] = (c, h, w) for layer i. Returns CRISP_EMODEL with a
 * message when sizes do not fit (e.g. stride-2 on odd height). */
CRISP_API int crisp_model_shapes(const struct crisp_model *m, int w, int h, int *shapes,
                                 char *err, size_t errlen);

/* Parameter count and multiply-accumulates for one w x h frame. */
CRISP_API int64_t crisp_model_params(const struct crisp_model *m);
CRISP_API int64_t crisp_model_macs(const struct crisp_model *m, int w, int h);

/* ---- Weights file (docs/weights-format.md) ---- */

#define CRISP_WEIGHTS_VERSION 1

/* Parses a weights file held in memory. Defensive: every count, offset and
 * size is bounded before use; on failure *out stays NULL, nothing leaks and
 * `err` names the field and byte offset. The buffer is not retained. */
CRISP_API int crisp_weights_parse(struct crisp_model **out, const uint8_t *buf, size_t len,
                                  char *err, size_t errlen);
/* Reads and parses a file; errors are prefixed with the path. */
/* The identity of a weights file for MODEL.q8: the CRC-32 of everything
 * before its trailing checksum (the CRC of a whole file that ends with its
 * own CRC is the same constant, 2144df1c, for every file). 0 or -errno. */
CRISP_API int crisp_weights_file_crc(const char *path, uint32_t *crc);
CRISP_API int crisp_weights_load(struct crisp_model **out, const char *path, char *err,
                                 size_t errlen);
/* Serializes a valid model. *buf is malloc'd (free()). */
CRISP_API int crisp_weights_serialize(const struct crisp_model *m, uint8_t **buf, size_t *len);
/* Serializes and writes atomically. */
CRISP_API int crisp_weights_save(const struct crisp_model *m, const char *path);

/* ---- Plain-C reference implementation ---- */

/* Runs the model on planar input `in` (C x h x w, C = colour mode channels,
 * values in [0, range_max]) of any size >= 1x1, writing `out` (same shape).
 * The input is padded to the model's alignment by edge replication and the
 * output cropped; the output is not clamped unless the model clamps.
 * Slow and obviously correct; allocates. Thread-safe. */
CRISP_API int crisp_ref_run(const struct crisp_model *m, const float *in, int w, int h,
                            float *out);
/* The same, calling cb(ctx, i, input, c, h, w) with the input tensor of each
 * layer i before it runs (calibration of int8 ranges). */
typedef void (*crisp_ref_observer)(void *ctx, int layer, const float *in, int c, int h, int w);
CRISP_API int crisp_ref_run_observe(const struct crisp_model *m, const float *in, int w, int h,
                                    float *out, crisp_ref_observer cb, void *ctx);

/* ---- Models built in code ---- */

/* A frame-pair model (CRISP_COLOR_LUMA_PAIR) made from a residual luma model
 * that starts with space-to-depth and a conv and ends with a conv and
 * depth-to-space (the student ladder): the first conv also reads the
 * previous frame's channels, with zero weights, and the last conv also
 * writes the previous frame's, with zero weights and bias. Its channel 0 is
 * exactly the luma model's output and its channel 1 the previous frame
 * unchanged, whatever that frame is: the starting point for training with
 * frame pairs. CRISP_EMODEL with a message for another layout. */
CRISP_API int crisp_model_pair_from(struct crisp_model **out, const struct crisp_model *luma,
                                    char *err, size_t errlen);

/* The classic unsharp mask as a one-layer luma model:
 * out = in + amount * (in - gaussian_sigma(in)), kernel size 2*ceil(3 sigma)+1 (<= 11). */
CRISP_API int crisp_model_unsharp(struct crisp_model **out, float amount, float sigma);
/* The same filter applied to R, G and B separately: an RGB model (3->3 conv
 * whose cross-channel weights are zero). */
CRISP_API int crisp_model_unsharp_rgb(struct crisp_model **out, float amount, float sigma);

#endif
