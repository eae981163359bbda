// SPDX-License-Identifier: BSD-2-Clause
#ifndef CRISP_TRAINER_QUANTIZE_H
#define CRISP_TRAINER_QUANTIZE_H
/* crisp-train quantize: writes MODEL.q8 (or `out`); returns an exit status */
/* first_f32: keep the first conv (the one reading the image) in f32 */
int quantize(const char *model_path, const char *data, const char *out, int max_images, int max_side,
             int first_f32);
#endif
