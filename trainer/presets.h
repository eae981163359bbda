// SPDX-License-Identifier: BSD-2-Clause
// Architecture presets: the systems of the reference reports, rebuilt on the
// shared model description so they are trained and compared by one code path.
#ifndef CRISP_TRAINER_PRESETS_H
#define CRISP_TRAINER_PRESETS_H

#include "crisp/model.h"

/* Builds preset `name` with zero weights (init with preset_init). */
int preset_build(const char *name, struct crisp_model **out, char *err, size_t errlen);
/* He-style initialization, seeded; residual models' last conv starts at
 * zero so they start as the identity. */
void preset_init(struct crisp_model *m, uint64_t seed);
/* Prints the preset table (name, params, GMAC per 1280x720) to stdout. */
void preset_list(void);

#endif
