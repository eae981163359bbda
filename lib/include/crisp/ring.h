// SPDX-License-Identifier: BSD-2-Clause
// Single-producer, single-consumer lock-free ring of 32-bit indices, with an
// eventfd that wakes the consumer. Frames move between pipeline threads as
// pool indices through these rings; at any moment exactly one stage owns an
// index.
//
// Memory ordering: the producer writes slot[head & mask] and then publishes
// head with release; the consumer reads head with acquire before reading the
// slot, then publishes tail with release so the producer (acquire) may
// reuse the slot. head and tail live on separate cache lines.
#ifndef CRISP_RING_H
#define CRISP_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "crisp/error.h"

struct crisp_ring {
    alignas(64) _Atomic uint32_t head; /* written by the producer only */
    alignas(64) _Atomic uint32_t tail; /* written by the consumer only */
    alignas(64) uint32_t mask;
    int efd;                           /* eventfd: counts pushes, read by the consumer to sleep */
    uint32_t *slot;
};

/* capacity: a power of two, 2..65536. Not real-time safe. */
CRISP_API int crisp_ring_init(struct crisp_ring *r, uint32_t capacity);
CRISP_API void crisp_ring_destroy(struct crisp_ring *r);

/* Producer thread only. Returns 0, or -EAGAIN when full (nothing written).
 * Real-time safe: one atomic store and one eventfd write, never blocks. */
CRISP_API int crisp_ring_push(struct crisp_ring *r, uint32_t v);
/* Consumer thread only. Returns 0 with *v, or -EAGAIN when empty. Real-time safe. */
CRISP_API int crisp_ring_pop(struct crisp_ring *r, uint32_t *v);
/* Consumer thread only: sleeps until something was pushed since the last
 * wait or `timeout_ms` passes (-1 = forever). Returns 0, -ETIMEDOUT or -errno.
 * Not real-time safe (it blocks). */
CRISP_API int crisp_ring_wait(struct crisp_ring *r, int timeout_ms);
/* Entries currently queued (approximate when called from a third thread). */
CRISP_API uint32_t crisp_ring_count(const struct crisp_ring *r);

#endif
