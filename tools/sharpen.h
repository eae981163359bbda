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
 * kept exactly); RGB models change all three channels. `strength` in [0, 1]
 * blends the model output with the input. `q` (calibrated ranges) runs it
 * in int8, NULL in f32. `ensemble` 8 averages the outputs over the 8
 * flips/rotations of the input (the geometric self-ensemble, 8x the cost);
 * 1 runs the model once. */
int sharpen_image(const struct crisp_model *m, enum sharpen_backend backend, int threads,
                  const struct crisp_quant *q, float strength, int ensemble,
                  const struct crisp_image *in, struct crisp_image **out, char *err, size_t errlen);

#endif
