// SPDX-License-Identifier: BSD-2-Clause
// Validation during training (validate.c): central crops of the held-out
// images under their fixed degradation, scored by PSNR-Y (crop 2) through
// the oneDNN inference engine, as crisp eval scores models. Training loop
// thread only.
#ifndef CRISP_TRAINER_VALIDATE_H
#define CRISP_TRAINER_VALIDATE_H

#include <stdint.h>

#include "crisp/model.h"
#include "data.h"

struct val_set {
    int n;
    uint8_t **gt, **deg; /* Y planes, rounded */
    float **in;          /* degraded Y in [0, 1] */
    int *w, *h;
    int untouched; /* held-out crops the degradation draw left unchanged (skipped) */
    double deg_psnr;
};

/* crops of at most crop x crop (multiples of 4, at least 32) of d's held-out
 * images, degraded once; crops the draw left unchanged are skipped and
 * counted; `input8`: the model input in whole 8-bit levels of Y. 0 or
 * -ENOMEM (free with val_free either way). */
int val_prepare(struct val_set *v, const struct dataset *d, int crop, uint64_t seed, int input8);
void val_free(struct val_set *v);
/* mean PSNR-Y (crop 2) of the model on the validation crops */
double val_psnr(const struct val_set *v, const struct crisp_model *m);

#endif
