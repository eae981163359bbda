// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "crisp/ring.h"

int crisp_ring_init(struct crisp_ring *r, uint32_t capacity)
{
    memset(r, 0, sizeof(*r));
    r->efd = -1;
    if (capacity < 2 || capacity > 65536 || (capacity & (capacity - 1)))
        return CRISP_EUSAGE;
    r->slot = calloc(capacity, sizeof(uint32_t));
    if (!r->slot)
        return -ENOMEM;
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->efd < 0) {
        int err = -errno;
        free(r->slot);
        r->slot = NULL;
        return err;
    }
    r->mask = capacity - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void crisp_ring_destroy(struct crisp_ring *r)
{
    if (r->efd >= 0)
        close(r->efd);
    r->efd = -1;
    free(r->slot);
    r->slot = NULL;
}

int crisp_ring_push(struct crisp_ring *r, uint32_t v)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail > r->mask)
        return -EAGAIN;
    r->slot[head & r->mask] = v;
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    uint64_t one = 1;
    ssize_t w = write(r->efd, &one, sizeof(one)); /* EAGAIN only at 2^64-2: harmless */
    (void)w;
    return 0;
}

int crisp_ring_pop(struct crisp_ring *r, uint32_t *v)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head == tail)
        return -EAGAIN;
    *v = r->slot[tail & r->mask];
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return 0;
}

int crisp_ring_wait(struct crisp_ring *r, int timeout_ms)
{
    if (crisp_ring_count(r))
        return 0;
    struct pollfd p = {.fd = r->efd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    if (n == 0)
        return -ETIMEDOUT;
    uint64_t cnt;
    ssize_t rd = read(r->efd, &cnt, sizeof(cnt));
    (void)rd;
    return 0;
}

uint32_t crisp_ring_count(const struct crisp_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) -
           atomic_load_explicit(&r->tail, memory_order_acquire);
}
