// SPDX-License-Identifier: BSD-2-Clause
// Training data: image folders, the random video-call degradation pipeline,
// and a prefetching patch sampler that runs ahead of the optimizer.
#ifndef CRISP_TRAINER_DATA_H
#define CRISP_TRAINER_DATA_H

#include <stdint.h>

#include "crisp/media.h"
#include "crisp/util.h"

struct dataset {
    int n_train, n_val;
    struct crisp_image **train, **val;
    char **train_names, **val_names;
    /* teacher-dir mode: fixed degraded inputs and the external teacher's outputs */
    struct crisp_image **train_degraded, **train_teacher;
};

struct dataset_params {
    const char *dir;
    int max_side;      /* area-downscale larger images so the long side is at most this */
    int val_every;     /* every val_every-th image (sorted by name) is held out; 0 = 20 */
    int max_images;    /* 0 = all (a smoke run uses a few) */
    const char *teacher_dir; /* NULL, or outputs of an external teacher */
    uint64_t seed;
};

int dataset_load(struct dataset **out, const struct dataset_params *p, char *err, size_t errlen);
void dataset_free(struct dataset **d);

/* Selects the stage probabilities and scaling ranges: "mixed" (default),
 * "call", "half" or "x2" (table in docs/training.md). Returns -1 for an
 * unknown name. Call before sampling starts. */
int degrade_set_profile(const char *name);

/* One random degradation of a weak video call (see docs/training.md). `desc`
 * (if not NULL, 160 bytes) describes the draw. */
int degrade_random(struct crisp_image **out, const struct crisp_image *gt, struct crisp_rng *r,
                   char *desc);
/* The same draw for the "codec twin" of a sample (--temporal-twin codec): the
 * same picture, scaling and codec quality, but the codec's block grid moved
 * by (grid_x, grid_y) pixels of the coded (downscaled) image (even, so the
 * chroma grid moves with it; the picture is mirrored into the margin and
 * cut back after decoding) and the sensor noise drawn afresh (its seed xor
 * noise_salt), as the next frame of a still scene gets them. tw NULL or all
 * zero: exactly degrade_random. */
struct degrade_twin {
    int grid_x, grid_y;
    uint64_t noise_salt;
};
int degrade_random_twin(struct crisp_image **out, const struct crisp_image *gt, struct crisp_rng *r,
                        char *desc, const struct degrade_twin *tw);
/* The degradation fixed for one named image (seeded by its name). */
int degrade_fixed(struct crisp_image **out, const struct crisp_image *gt, const char *name,
                  uint64_t seed);

/* A batch of luma patches, values in [0, 1]: degraded input x, ground truth
 * y, and in teacher-dir mode the teacher's output t. local x 1 x P x P;
 * with twins, 2 local: the samples, then their twins in the same order,
 * twin j shifted by (shift[2j], shift[2j+1]) pixels: its pixel (i, k) is
 * sample j's pixel (i + shift[2j+1], k + shift[2j]). */
struct batch {
    float *x, *y, *t;
    int *shift; /* NULL without twins */
    int64_t index;
};

struct sampler;
/* Starts `workers` threads (1..16) preparing batches first_index, +1, ...
 * ahead of the caller. Sample k of batch i depends only on seed, i and k, so
 * a resumed run sees the same data, and so does a run with another number of
 * workers. Of each global batch of `batch` samples this sampler makes those
 * with k % parts == part, in order (one rank's share in data-parallel
 * training; part 0 of 1 is the whole batch). `twin` > 0 gives each sample a
 * twin (temporal consistency): the same crop moved by up to `twin` pixels
 * each way, degraded with the same parameters, as the next frame of a call
 * is (not with teacher-dir data). With `twin_codec` the twin is instead the
 * same crop unmoved (shift 0, 0) with the codec's grid moved and fresh
 * sensor noise (degrade_random_twin), so that only the noise differs. With
 * `twin_codec` 2 (frame pairs) each twin is one of: the sample itself (a
 * quarter), a codec twin (3/8), or moved by up to `twin` pixels with fresh
 * sensor noise (3/8). With twin 0 the draws are as without. `input8`: the
 * degraded inputs (x) in whole 8-bit levels of Y, as a camera or a decoder
 * hands them to crispd (crisp_image_luma_levels); targets stay unrounded. */
int sampler_create(struct sampler **out, const struct dataset *d, int batch, int patch,
                   uint64_t seed, int64_t first_index, int workers, int part, int parts,
                   int twin, int twin_codec, int input8);
/* Blocks until batch `next` is ready; valid until the next call. */
const struct batch *sampler_next(struct sampler *s);
void sampler_destroy(struct sampler **s);

#endif
