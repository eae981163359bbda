// SPDX-License-Identifier: BSD-2-Clause
// Running a model on a whole RGB image: colour handling shared by the crisp
// tool's subcommands.
#ifndef CRISP_TOOLS_SHARPEN_H
#define CRISP_TOOLS_SHARPEN_H

#include "crisp/engine.h"
#include "crisp/media.h"
#include "crisp/model.h"

enum sharpen_backend { BACKEND_DNNL = 0, BACKEND_REF = 1 };

/* Runs `m` on `in` into a new image. Luma models change Y only (Cb, Cr are
 * kept exactly) and are fed Y in whole 8-bit levels, the plane crispd gets
 * from a camera or a decoder (the model's correction is added to it); RGB
 * models change all three channels. `strength` in [0, 1]
 * blends the model output with the input. `q` (calibrated ranges) runs it
 * in int8, NULL in f32. `ensemble` 8 averages the outputs over the 8
 * flips/rotations of the input (the geometric self-ensemble, 8x the cost);
 * 1 runs the model once. */
/* A model ready to run on many images: it keeps the oneDNN engines of the
 * last two image sizes, so frames of one video build them once. Set the
 * fields with a designated initializer (the rest zero); free with
 * sharpener_free. */
struct sharpener {
    const struct crisp_model *m;
    const struct crisp_quant *q; /* int8 ranges, or NULL: f32 */
    enum sharpen_backend backend;
    int threads, ensemble;
    /* 1: luma models are fed the unrounded Y computed from RGB (the input of
     * crisp eval before round 17, --float-luma), not whole 8-bit levels */
    int float_luma;
    /* a frame-pair model's previous frame (the degraded input before this
     * one, same size), or NULL: the frame is its own previous one (a still) */
    const struct crisp_image *prev;
    struct crisp_engine *eng[2];
    int ew[2], eh[2], last;
};
/* sharpen_image with the sharpener's model, precision and ensemble */
int sharpener_run(struct sharpener *s, float strength, const struct crisp_image *in,
                  struct crisp_image **out, char *err, size_t errlen);
void sharpener_free(struct sharpener *s);

int sharpen_image(const struct crisp_model *m, enum sharpen_backend backend, int threads,
                  const struct crisp_quant *q, float strength, int ensemble,
                  const struct crisp_image *in, struct crisp_image **out, char *err, size_t errlen);

#endif
