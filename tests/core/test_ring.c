// SPDX-License-Identifier: BSD-2-Clause
// SPSC ring stress: a producer and a consumer thread pass millions of
// indices; every one arrives, in order, exactly once. Also built with
// ThreadSanitizer by the sanitizer job.
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "../common.h"
#include "crisp/ring.h"

#define N 4000000u

static struct crisp_ring ring;

static void *producer(void *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < N;) {
        if (crisp_ring_push(&ring, i) == 0)
            i++;
    }
    return NULL;
}

int main(void)
{
    CHECK(crisp_ring_init(&ring, 3) == CRISP_EUSAGE, "capacity 3 accepted");
    CHECK(crisp_ring_init(&ring, 0) == CRISP_EUSAGE, "capacity 0 accepted");
    CHECK(crisp_ring_init(&ring, 4) == 0, "init");
    uint32_t v;
    CHECK(crisp_ring_pop(&ring, &v) == -EAGAIN, "pop from empty");
    for (uint32_t i = 0; i < 4; i++)
        CHECK(crisp_ring_push(&ring, i) == 0, "push %u", i);
    CHECK(crisp_ring_push(&ring, 9) == -EAGAIN, "push into full ring");
    CHECK(crisp_ring_count(&ring) == 4, "count");
    for (uint32_t i = 0; i < 4; i++)
        CHECK(crisp_ring_pop(&ring, &v) == 0 && v == i, "pop %u got %u", i, v);
    crisp_ring_wait(&ring, 10); /* consumes the wake-ups the pushes above left */
    CHECK(crisp_ring_wait(&ring, 10) == -ETIMEDOUT, "wait on empty ring does not time out");
    crisp_ring_destroy(&ring);

    CHECK(crisp_ring_init(&ring, 64) == 0, "init 64");
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL);
    uint32_t expect = 0, bad = 0;
    while (expect < N) {
        if (crisp_ring_pop(&ring, &v) < 0) {
            crisp_ring_wait(&ring, 100);
            continue;
        }
        if (v != expect)
            bad++;
        expect = v + 1;
    }
    pthread_join(t, NULL);
    CHECK(bad == 0, "%u indices out of order", bad);
    CHECK(crisp_ring_pop(&ring, &v) == -EAGAIN, "extra index after the last");
    printf("passed %u indices through a 64-slot ring\n", N);
    crisp_ring_destroy(&ring);
    TEST_DONE();
}
