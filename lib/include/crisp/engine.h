// SPDX-License-Identifier: BSD-2-Clause
// The oneDNN inference engine: a model compiled once for one frame size.
//
// Built once (primitives created, weights reordered, BN folded, bias,
// activations and residual adds fused as post-ops, activation memory planned
// with buffer reuse), then run in a loop without allocating.
#ifndef CRISP_ENGINE_H
#define CRISP_ENGINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "crisp/model.h"

enum crisp_precision {
    CRISP_PRECISION_F32 = 0,  /* default */
    CRISP_PRECISION_INT8 = 1, /* u8/s8 activations, s8 weights; needs calibrated ranges */
};

/* Calibrated input ranges of every conv layer (crisp-train quantize), kept
 * in a small text file beside the model (MODEL.q8, docs/weights-format.md):
 * in_min[i], in_max[i] for layer i (conv layers only; others 0). A conv
 * whose in_max is CRISP_QUANT_KEEP_F32 runs in f32 (line "f32 I"). */
#define CRISP_QUANT_KEEP_F32 (-1.0f)
struct crisp_quant {
    int n_layers;
    float *in_min, *in_max;
    uint32_t model_crc; /* CRC-32 of the model file it was calibrated for */
};

struct crisp_engine_params {
    int width, height;   /* frame size (any size >= 1x1); required */
    int threads;         /* oneDNN (OpenMP) threads; 0 = leave the runtime's default.
                            Process-wide: OpenMP has one pool. */
    enum crisp_precision precision;
    const struct crisp_quant *quant; /* required for CRISP_PRECISION_INT8 */
    /* Stripe execution: > 0 cuts the frame into horizontal stripes of about
     * this many rows (rounded up to the model's alignment), each run through
     * all layers with a halo of the receptive field, by `threads` worker
     * threads (0: one per online CPU) with single-threaded oneDNN each; the
     * result equals whole-frame execution. 0: the whole frame at once on
     * OpenMP's pool. A frame that fits in one stripe runs whole. */
    int stripe_rows;
    /* 1: build the model's leading space-to-depth and trailing depth-to-space
     * and residual as oneDNN steps and copies even where the engine would fuse
     * them into passes of its own (crisp_engine_fused_io); for comparisons. */
    int plain_io;
    /* When set, crisp_engine_create and the runs of this engine give up
     * with -ECANCELED at their next step once *cancel is non-zero (a
     * signal handler or another thread sets it): a model that takes
     * seconds to build or warm up does not hold up a shutdown. NULL: never.
     * Must outlive the engine. */
    const atomic_int *cancel;
    /* 1: crisp_engine_run_luma8(_pair) keeps the previous frame's input and
     * output and runs the network only around 32x32 tiles whose input (with
     * the receptive field around them; a frame-pair model's previous frame
     * too) changed, copying the others from the previous output: the same
     * bytes as running the whole frame (lib/nn/reuse.c). Luma models on
     * frames larger than a reuse window; else it has no effect. A new
     * strength, and any frame where the changed tiles cost more than most of
     * the frame, runs whole. 0: every frame whole. */
    int reuse;
};

/* Starts oneDNN's OpenMP threads now (`threads`, 0: the runtime's default):
 * OpenMP's runtime ends the process when it cannot create a thread later,
 * e.g. under a memory limit, so a daemon starts them first, while memory is
 * there, after checking with pthreads that as many can start. They are
 * reused by every later run. 0, or -errno with err saying how many threads
 * could not start. Main thread, before any engine runs. */
CRISP_API int crisp_engine_threads_start(int threads, char *err, size_t errlen);

/* Whether this CPU runs oneDNN's int8 convolutions natively (AVX2 or
 * better; VNNI makes them faster). Callers fall back to f32 otherwise. */
CRISP_API int crisp_cpu_int8(void);
/* "avx512_core_vnni", "avx2", ...: oneDNN's ISA on this CPU */
CRISP_API const char *crisp_cpu_isa_name(void);

/* Reads MODEL.q8 for model `m` loaded from `model_path`: checks the format,
 * the layer count and the model file's CRC. Errors name the file and line. */
CRISP_API int crisp_quant_load(struct crisp_quant **q, const char *path, const char *model_path,
                               const struct crisp_model *m, char *err, size_t errlen);
CRISP_API int crisp_quant_save(const struct crisp_quant *q, const char *path);
CRISP_API struct crisp_quant *crisp_quant_new(int n_layers);
CRISP_API void crisp_quant_destroy(struct crisp_quant **q);

/* The usual way in: precision "int8", "fp32" or NULL (int8 when the CPU
 * runs it and MODEL.q8 exists, else f32). Loads the sibling file when int8
 * is wanted; *prec gets what will run and `why` (if not NULL) says why f32
 * was chosen when int8 was possible in principle. -1 with err on a bad
 * request (unknown name, int8 asked for without a usable MODEL.q8). */
CRISP_API int crisp_precision_choose(const char *want, const char *model_path,
                                     const struct crisp_model *m, enum crisp_precision *prec,
                                     struct crisp_quant **q, char *why, size_t whylen, char *err,
                                     size_t errlen);

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

/* crispd's inner loop: sharpens the 8-bit luma plane `plane` (the engine's
 * width x height, `stride` bytes per row) in place with a luma model:
 * out = in + strength * (model(in / 255) * 255 - in), rounded half up and
 * clamped to 0..255 — the same bytes as converting to floats, running
 * crisp_engine_run and converting back. Engines with fused I/O read the
 * bytes straight into the first convolution and write them from the last
 * in one pass each; others convert through two float frames they allocate
 * on the first call. CRISP_EUSAGE for a colour model; a frame-pair model
 * sees the plane as its own previous frame (a still). */
CRISP_API int crisp_engine_run_luma8(struct crisp_engine *e, uint8_t *plane, ptrdiff_t stride,
                                     float strength);
/* The same for a frame-pair model (CRISP_COLOR_LUMA_PAIR): `prev` is the
 * previous frame's luma as it came in (before sharpening; `pstride` bytes
 * per row), NULL for a first frame (the plane itself). Runs through floats.
 * For a luma model `prev` is ignored. */
CRISP_API int crisp_engine_run_luma8_pair(struct crisp_engine *e, uint8_t *plane,
                                          ptrdiff_t stride, const uint8_t *prev,
                                          ptrdiff_t pstride, float strength);
/* Reuse (crisp_engine_params.reuse): whether it is active on this engine
 * (0 no; 1 in windows run through the whole network; 2 layer by layer, the
 * int8 student ladder's engine keeping every layer's output), and the 32x32
 * output tiles seen and copied from the previous output instead of
 * computed, since the engine was built. */
CRISP_API int crisp_engine_reuse(const struct crisp_engine *e);
CRISP_API void crisp_engine_reuse_stats(const struct crisp_engine *e, long *tiles, long *reused);
/* Of the tiles compared with the previous frame (frames run unchecked by
 * the back-off are not compared), those whose input and the network's
 * reach around it did not change: what an exact reuse without overhead
 * could skip. The windows copy fewer (crisp_engine_reuse_stats). */
CRISP_API void crisp_engine_reuse_checked(const struct crisp_engine *e, long *checked,
                                          long *unchanged);
/* 1 for a frame-pair model's engine (crisp_engine_run_luma8_pair) */
CRISP_API int crisp_engine_pair(const struct crisp_engine *e);
/* 1 when the engine fuses its input and output passes (an int8 luma model
 * between space-to-depth and depth-to-space, even frame size, no border:
 * the student ladder; in stripes, when every window's engine does); 0
 * otherwise. */
CRISP_API int crisp_engine_fused_io(const struct crisp_engine *e);

/* Bytes of activation memory planned (after reuse) and the number of
 * primitives executed per frame. */
CRISP_API size_t crisp_engine_activation_bytes(const struct crisp_engine *e);
CRISP_API int crisp_engine_steps(const struct crisp_engine *e);
/* Convolutions that run in int8 (0 for an f32 engine). */
CRISP_API int crisp_engine_int8_convs(const struct crisp_engine *e);
/* Stripe execution: the number of stripes (1: whole frame), and through the
 * pointers (may be NULL) the worker threads and the halo rows. */
CRISP_API int crisp_engine_stripes(const struct crisp_engine *e, int *workers, int *halo);

/* The best throughput (GMAC/s) of single 3x3 convolution layers (16 to 128
 * channels at 640x360, f32 or u8 x s8, layouts chosen by oneDNN) on this machine with
 * `threads` threads (0: the default): the reference `crisp bench` divides
 * a model's throughput by. `desc` gets the winning layer. Not real-time safe. */
CRISP_API int crisp_engine_conv_peak(int threads, enum crisp_precision prec, double *gmacs,
                                     char *desc, size_t n);

/* Puts a conv layer's weights on the int8 grid the engine quantizes them to
 * (s8, one scale 127 / max |w| per output channel): the engine then runs
 * them exactly (crisp-train --first-conv-grid). 0, -EINVAL (not a conv) or
 * -ENOMEM (the weights unchanged). */
CRISP_API int crisp_quant_weights_grid(struct crisp_layer *l);

/* Frees everything; accepts NULL and clears the pointer. */
CRISP_API void crisp_engine_destroy(struct crisp_engine **e);

#endif
