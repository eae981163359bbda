// SPDX-License-Identifier: BSD-2-Clause
// The patch bank (bank.c): a fixed set of patches, and the teacher outputs
// and features for distillation, made once.
/* Distilling with a live teacher runs the teacher's forward pass every step,
 * which costs several student steps. The bank draws `n` patches from the
 * sampler once, runs the teacher once per bank batch, and then serves random
 * batches of bank patches, each in one of the 8 flips/rotations (the same one
 * for input, ground truth and teacher output). Deterministic: the bank is
 * sampler batches 0.. of the seed, and batch k of training is drawn from an
 * RNG seeded by (seed, k), so a resumed run sees the same batches.
 * With feature distillation the bank also keeps the teacher's activations at
 * each --feat layer (from its pass on the patch as drawn); a network's
 * features are not equivariant to flips, so such a bank is served without
 * flips/rotations (--bank-augment 0). */
#ifndef CRISP_TRAINER_BANK_H
#define CRISP_TRAINER_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "crisp/train.h"
#include "data.h"
#include "dist.h"

struct bank {
    long n;
    int p;
    float *x, *y, *t; /* n x p x p each; t NULL without a teacher */
    int nf;
    int f_layer[8];
    size_t f_len[8]; /* floats per patch of feature map k (c x h x w) */
    float *f[8];     /* n x f_len[k] */
    int input8;      /* the inputs x in whole 8-bit levels (sampler_create) */
};

/* Draws n patches (rounded up to whole global batches of `batch`) from
 * sampler batches 0.. of `seed`; with a teacher, runs it once per bank
 * batch (ensemble 8: the mean over the 8 flips/rotations) and keeps its
 * outputs and, for the bk->nf layers bk->f_layer set by the caller, its
 * activations (bk->input8, also the caller's: 8-bit inputs). Across ranks
 * each rank makes its rank-strided share (the teacher net `tnet` is built
 * for that share) and every rank ends with the whole bank, the same as one
 * process builds. 0, -ENOMEM or -EIO; on
 * failure the bank is freed. */
int bank_build(struct bank *bk, long n, const struct dataset *d, int batch, int p, uint64_t seed,
               struct crisp_train_net *tnet, int ensemble, int workers, const struct dist *ds);
/* this rank's share of global batch k of training into x, y, t (and the
 * stored features into f[0..nf)) */
void bank_batch(const struct bank *bk, int batch, uint64_t seed, int64_t k, int augment, float *x,
                float *y, float *t, float **f, const struct dist *ds);
void bank_free(struct bank *bk);

#endif
