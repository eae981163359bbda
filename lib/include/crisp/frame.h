// SPDX-License-Identifier: BSD-2-Clause
// Video frames (8-bit planar 4:2:0, BT.601 limited range) and the fixed pool
// they live in. Pools are allocated once at start; frames move between
// threads by index (crisp/ring.h), never copied or allocated per frame.
#ifndef CRISP_FRAME_H
#define CRISP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "crisp/error.h"

struct crisp_frame {
    int w, h;             /* even */
    int stride[3];        /* bytes per row: Y, U, V; multiples of 64 */
    uint8_t *data[3];     /* 64-byte aligned planes, rows padded to the stride */
    int64_t capture_ns;   /* CLOCK_MONOTONIC when the source produced it */
    int64_t pts;          /* source timestamp in microseconds, or -1 */
    uint64_t seq;         /* source frame counter */
};

struct crisp_frame_pool {
    int n;
    struct crisp_frame *frames;
    void *mem;
};

/* n frames of w x h (both even, 2..16384). Not real-time safe. */
CRISP_API int crisp_frame_pool_init(struct crisp_frame_pool *p, int n, int w, int h);
CRISP_API void crisp_frame_pool_destroy(struct crisp_frame_pool *p);

/* CLOCK_MONOTONIC in nanoseconds. Real-time safe. */
CRISP_API int64_t crisp_now_ns(void);

#endif
