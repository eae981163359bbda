// SPDX-License-Identifier: BSD-2-Clause
// crisp eval: degrade images or a video clip by a protocol, restore them
// with each model, and report PSNR-Y / SSIM-Y (and, on video, the flicker
// metric) beside the degraded input and the classic unsharp mask
// (docs/evaluation.md). Main thread.
#ifndef CRISP_TOOLS_EVAL_H
#define CRISP_TOOLS_EVAL_H

#include <stddef.h>

#include "sharpen.h"

struct eval_params {
    const char *data, *video, *protocol, *json;
    const char *models[16];
    int n_models, crop, threads, verbose;
    int float_luma; /* --float-luma: luma models fed unrounded Y (sharpener.float_luma) */
    float strength; /* --strength: the model rows' blend with their input, as crispd's */
    long frames; /* video: 0 = the whole clip */
};

/* The rows of the table: "degraded", "unsharp", then one per model with its
 * precision and ensemble (MODEL@int8, MODEL@fp32, a final +x8), each with
 * a sharpener; the sums of its scores. */
struct eval_rows {
    int n;
    float strength; /* of the model rows (2..n-1); the unsharp row runs at 1 */
    char (*names)[64];
    struct crisp_model **models;
    struct crisp_quant **quants;
    struct sharpener *sh;
    double *psnr, *ssim, *flicker; /* sums over images or frames (flicker: frame pairs) */
};

/* Loads the models of p into the rows; 0, or 1 with err filled. Free with
 * eval_rows_free either way. */
int eval_rows_load(const struct eval_params *p, struct eval_rows *rows, char *err, size_t errlen);
void eval_rows_free(struct eval_rows *rows);
/* restores `deg` with row r (r 0: the degraded input itself, *out NULL) */
int eval_rows_restore(struct eval_rows *rows, int r, const struct crisp_image *deg,
                      struct crisp_image **out, char *err, size_t errlen);

/* Stills (p->data) or a clip (p->video, eval_video.c): prints the table to
 * stdout and writes p->json; returns 0, or 1 with err filled (bad input). */
int eval_run(const struct eval_params *p, char *err, size_t errlen);
int eval_video(const struct eval_params *p, struct eval_rows *rows, char *err, size_t errlen);
/* crisp compare --video REF TEST: mean PSNR-Y and SSIM-Y over the frames and
 * the flicker of TEST against REF, printed as one line; the clips must have
 * the same size and number of frames (2 at least). 0, or 1 with err. */
int video_compare(const char *ref, const char *test, int crop, char *err, size_t errlen);

#endif
