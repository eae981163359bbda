// SPDX-License-Identifier: BSD-2-Clause
// Training checkpoints (checkpoint.c): the model file's bytes, the AdamW
// state, the feature adapters, the collapsible blocks and the progress (step, minutes trained), so
// --resume continues a run exactly. Training loop thread only.
#ifndef CRISP_TRAINER_CHECKPOINT_H
#define CRISP_TRAINER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "crisp/model.h"
#include "crisp/train.h"

/* what a checkpoint holds besides the model and the optimizer: the feature
 * adapters and the collapsible blocks' expanded tensors (n_extra floats) */
struct ckpt_extra {
    struct adapter *ad;
    int n_ad;
    float *extra;
    size_t n_extra;
};

/* writes the checkpoint atomically; 0 or < 0 */
int ckpt_save(const char *path, const struct crisp_model *m, const struct crisp_adamw *o,
              const struct ckpt_extra *x, int64_t step, double elapsed);
/* Loads a checkpoint into `m` (same architecture), the optimizer, the
 * adapters and the expanded tensors. */
int ckpt_load(const char *path, struct crisp_model *m, struct crisp_adamw *o,
              const struct ckpt_extra *x, int64_t *step, double *elapsed, char *err,
              size_t errlen);
/* the same from a checkpoint's bytes (`path` names it in errors) */
int ckpt_parse(const uint8_t *buf, size_t len, const char *path, struct crisp_model *m,
               struct crisp_adamw *o, const struct ckpt_extra *x, int64_t *step, double *elapsed,
               char *err, size_t errlen);

#endif
