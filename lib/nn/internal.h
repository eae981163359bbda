// SPDX-License-Identifier: BSD-2-Clause
// lib/nn internals: the layer table. Adding a layer type is one row here, one
// reference function, one inference builder and one golden test.
#ifndef CRISP_NN_INTERNAL_H
#define CRISP_NN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crisp/model.h"

/* One activation tensor, batch 1, NCHW. */
struct crisp_tensor {
    int c, h, w;
    float *d;
};

struct crisp_dnnl_net;

struct crisp_layer_row {
    const char *name;
    unsigned roles; /* bitmask of (1u << CRISP_ROLE_*) this layer owns */
    /* Checks parameters; returns output channels or -1 with err filled. `skip_c`
     * is the skip operand's channels (ADD/CONCAT) or 0. */
    int (*check)(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t errlen);
    /* Spatial output size; -1 when the input does not fit. */
    int (*shape)(const struct crisp_layer *l, int h, int w, const int *skip_hw, int *oh, int *ow);
    /* C reference: out is allocated by the caller with the shape above. */
    void (*ref)(const struct crisp_layer *l, const struct crisp_tensor *in,
                const struct crisp_tensor *skip, struct crisp_tensor *out);
    /* Whether the oneDNN builder may fuse this layer as a post-op of a conv. */
    int fusable;
};

/* Row for a layer type, or NULL for an unknown type (bounds-checked). */
const struct crisp_layer_row *crisp_layer_row(int type);

/* Allocates one aligned blob for every tensor of a validated model (zeroed). */
int crisp_model_alloc_tensors(struct crisp_model *m);

/* Reference kernels (reference.c). */
void crisp_ref_conv(const struct crisp_layer *l, const struct crisp_tensor *in,
                    const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_relu(const struct crisp_layer *l, const struct crisp_tensor *in,
                    const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_lrelu(const struct crisp_layer *l, const struct crisp_tensor *in,
                     const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_prelu(const struct crisp_layer *l, const struct crisp_tensor *in,
                     const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_bn(const struct crisp_layer *l, const struct crisp_tensor *in,
                  const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_s2d(const struct crisp_layer *l, const struct crisp_tensor *in,
                   const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_d2s(const struct crisp_layer *l, const struct crisp_tensor *in,
                   const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_add(const struct crisp_layer *l, const struct crisp_tensor *in,
                   const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_concat(const struct crisp_layer *l, const struct crisp_tensor *in,
                      const struct crisp_tensor *skip, struct crisp_tensor *out);
void crisp_ref_clamp(const struct crisp_layer *l, const struct crisp_tensor *in,
                     const struct crisp_tensor *skip, struct crisp_tensor *out);

/* Copies planar c x h x w into c x ph x pw at offset (border, border), replicating edges. */
/* stripes.c: stripe execution behind crisp_engine (stripe_rows > 0) */
struct crisp_engine;
struct crisp_engine_params;
/* reuse.c: exact reuse of unchanged tiles (crisp_engine_params.reuse) */
struct crisp_reuse;
/* 0 with *out NULL when the model or the frame size does not suit reuse */
int crisp_reuse_create(struct crisp_reuse **out, struct crisp_engine *e,
                       const struct crisp_model *m, const struct crisp_engine_params *p, char *err,
                       size_t errlen);
int crisp_reuse_run(struct crisp_reuse *r, struct crisp_engine *e, uint8_t *plane,
                    ptrdiff_t stride, const uint8_t *prev, ptrdiff_t pstride, float strength);
void crisp_reuse_stats(const struct crisp_reuse *r, long *tiles, long *reused, long *frames,
                       long *whole, long *checked, long *unchanged);
void crisp_reuse_destroy(struct crisp_reuse **r);
/* 1 when the reuse runs layer by layer (the engine is a chain) */
int crisp_reuse_layers(const struct crisp_reuse *r);
/* Layer reuse (reuse.c) on the fused int8 ladder: the engine's steps as a
 * chain of stride-1 convolutions, each reading the previous one's dense
 * nhwc output (the first reads the head's u8 space-to-depth input, the
 * last writes the tail's f32 input), at the frame's size / factor. */
#define CRISP_CHAIN_MAX 32
struct crisp_chain {
    int n, factor, w2, h2;
    int persist; /* every step's output is a buffer of its own, kept across frames */
    struct {
        uint8_t *src, *dst; /* the step's input (u8) and output (u8 or f32) buffers */
        int cin, cout, dst_bytes, reach;
    } s[CRISP_CHAIN_MAX];
};
/* 1 and *c filled when the engine is such a chain, else 0 */
int crisp_engine_chain(struct crisp_engine *e, struct crisp_chain *c);
/* runs step s alone, from `src` into `dst` (dense nhwc at the engine's
 * size, of the step's input and output types) instead of the engine's
 * buffers, and waits */
int crisp_engine_chain_step_at(struct crisp_engine *e, int s, void *src, void *dst);
/* the tail pass (from the last step's output, in place: over the whole
 * plane, or with `tiles` over the tile x tile squares marked nonzero in it,
 * tx a row) */
void crisp_engine_chain_tail(struct crisp_engine *e, uint8_t *plane, ptrdiff_t stride,
                             float strength, const uint8_t *tiles, int tile, int tx);
/* the head of grid columns x2 .. x2+nx-1 and rows y2 .. y2+ny-1 (the first
 * step's input at 1/factor of the frame) into dst, dense nhwc: one thread */
void crisp_engine_chain_head_rect(const struct crisp_engine *e, const uint8_t *plane,
                                  ptrdiff_t stride, int x2, int y2, int nx, int ny, uint8_t *dst);
/* crisp_engine_run_luma8_pair without reuse: the whole frame */
int crisp_engine_run_luma8_whole(struct crisp_engine *e, uint8_t *plane, ptrdiff_t stride,
                                 const uint8_t *prev, ptrdiff_t pstride, float strength);

struct crisp_stripes;
int crisp_model_halo(const struct crisp_model *m);
int crisp_stripes_create(struct crisp_stripes **out, const struct crisp_model *m,
                         const struct crisp_engine_params *p, char *err, size_t errlen);
int crisp_stripes_run(struct crisp_stripes *s, const float *in, float *out);
/* crisp_engine_run_luma8 in stripes: 1 when a worker's engine does not fuse
 * its I/O (the caller converts through floats instead) */
int crisp_stripes_run_luma8(struct crisp_stripes *s, uint8_t *plane, ptrdiff_t stride,
                            float strength);
/* a fused engine (crisp_engine_fused_io) on 8-bit luma: reads the window's
 * rows from src, writes the blended rows r0..r1-1 to dst (which may be src) */
int crisp_engine_luma8_rows(struct crisp_engine *e, const uint8_t *src, ptrdiff_t sstride,
                            uint8_t *dst, ptrdiff_t dstride, int r0, int r1, float strength);
void crisp_stripes_destroy(struct crisp_stripes **s);
int crisp_stripes_count(const struct crisp_stripes *s);
int crisp_stripes_workers(const struct crisp_stripes *s);
int crisp_stripes_halo(const struct crisp_stripes *s);
int crisp_stripes_fused(const struct crisp_stripes *s); /* every window engine fuses its I/O */
size_t crisp_stripes_activation_bytes(const struct crisp_stripes *s);
const struct crisp_engine *crisp_stripes_engine(const struct crisp_stripes *s);

void crisp_pad_edge(const float *in, int c, int h, int w, float *out, int ph, int pw, int border);
/* The inverse: copies the w x h window at (border, border) of c x ph x pw. */
void crisp_crop(const float *in, int c, int ph, int pw, int border, float *out, int h, int w);

__attribute__((format(printf, 3, 4))) static inline void crisp_seterr(char *err, size_t errlen,
                                                                      const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#endif
