// SPDX-License-Identifier: BSD-2-Clause
// crispd's live preview for GET /preview.jpg (http.c): a reduced copy of the
// input and the output of the same frame, made only while someone watches
// (a preview asked in the last 2 s) and at most 10 times a second, encoded
// as JPEG by libavcodec's mjpeg encoder on the HTTP thread.
//
// Threads: preview_before runs on the inference thread (the frame's luma
// before the model, box-filtered), preview_after on the sink thread (the
// output, published under a trylock: the sink never waits; when the HTTP
// thread holds the lock that frame is not previewed), preview_jpeg on HTTP
// threads. Owns its planes and the last JPEG of each view.
#ifndef CRISPD_PREVIEW_H
#define CRISPD_PREVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "crisp/frame.h"

struct preview;

enum preview_side { PREVIEW_IN, PREVIEW_OUT, PREVIEW_SPLIT };

/* For frames of w x h in a pool of pool_n frames; the preview is at most
 * 640 pixels wide. 0 or -ENOMEM. Main thread, before the threads start. */
int preview_create(struct preview **out, int w, int h, int pool_n);
void preview_destroy(struct preview **pv);

/* Inference thread, before the model runs on pool frame idx. RT-safe. */
void preview_before(struct preview *pv, uint32_t idx, const struct crisp_frame *f);
/* Sink thread, when pool frame idx is written fresh. RT-safe (trylock). */
void preview_after(struct preview *pv, uint32_t idx, const struct crisp_frame *f);

/* A JPEG of the newest previewed frame: the input, the output, or both
 * split at `at` (0..1 of the width: input left, output right). Waits up to
 * 1 s for a first preview (-EAGAIN when none came: no frames). *jpeg is
 * malloc'd. 0 or < 0 with err set. HTTP threads. */
int preview_jpeg(struct preview *pv, enum preview_side side, double at, uint8_t **jpeg, size_t *n,
                 char *err, size_t en);

/* previews published so far (a test and the status page see it move) */
long preview_count(struct preview *pv);

#endif
