// SPDX-License-Identifier: BSD-2-Clause
// The temporal-consistency twins of crisp-train's sampler (trainer/data.c):
// each twin's ground truth is its sample's moved by the recorded shift
// (equal pixel for pixel where they overlap), shifts stay within the
// bound, the degraded twin differs from the moved degraded sample (its own
// codec noise) while keeping its degradation, and a rank's share of a
// twin batch is the whole batch's rows for its samples. Codec twins
// (--temporal-twin codec) are unmoved, equal to clean samples, and carry
// their own, small, codec noise. Frame pairs (frame-pair models) mix the
// three: the sample itself, codec twins and moved twins. With 8-bit inputs
// (--input-8bit) every input is a whole level of Y and the targets are as
// without.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"
#include "data.h"

static int check_batch(const struct batch *b, int n, int p, int T, int *moved, double *xdiff)
{
    const size_t pp = (size_t)p * p;
    int bad = 0;
    for (int j = 0; j < n; j++) {
        int dx = b->shift[2 * j], dy = b->shift[2 * j + 1];
        if (dx < -T || dx > T || dy < -T || dy > T)
            bad++;
        *moved += dx || dy;
        const float *ys = b->y + pp * j, *yt = b->y + pp * ((size_t)n + j);
        const float *xs = b->x + pp * j, *xt = b->x + pp * ((size_t)n + j);
        for (int i = 0; i < p; i++)
            for (int k = 0; k < p; k++) {
                int si = i + dy, sk = k + dx;
                if (si < 0 || sk < 0 || si >= p || sk >= p)
                    continue;
                if (yt[(size_t)i * p + k] != ys[(size_t)si * p + sk])
                    bad++;
                *xdiff += (double)(xt[(size_t)i * p + k] - xs[(size_t)si * p + sk]) *
                          (xt[(size_t)i * p + k] - xs[(size_t)si * p + sk]);
            }
    }
    return bad;
}

int main(void)
{
    const char *root = getenv("CRISP_SOURCE_ROOT");
    char dir[4096], err[512];
    snprintf(dir, sizeof(dir), "%s/tests/data", root ? root : ".");
    struct dataset *d = NULL;
    struct dataset_params dp = {.dir = dir, .max_side = 1024, .val_every = 20, .seed = 3};
    int ret = dataset_load(&d, &dp, err, sizeof(err));
    CHECK(ret == 0, "dataset: %s", err);
    if (ret)
        TEST_DONE();
    degrade_set_profile("half");
    const int B = 6, P = 32, T = 2;
    struct sampler *s = NULL, *s0 = NULL, *s1 = NULL;
    CHECK(sampler_create(&s, d, B, P, 11, 0, 2, 0, 1, T, 0, 0) == 0, "sampler with twins");
    int moved = 0, bad = 0;
    double xdiff = 0;
    for (int k = 0; k < 4 && s; k++) {
        const struct batch *b = sampler_next(s);
        CHECK(b && b->shift, "batch %d with shifts", k);
        if (b && b->shift)
            bad += check_batch(b, B, P, T, &moved, &xdiff);
    }
    CHECK(bad == 0, "%d twin pixels or shifts wrong", bad);
    CHECK(moved > 12, "only %d of 24 twins moved", moved);
    CHECK(xdiff > 0, "degraded twins equal the moved samples: no noise of their own");
    /* two ranks' shares of batch 0 are the rows of the whole batch */
    sampler_destroy(&s);
    CHECK(sampler_create(&s, d, B, P, 11, 0, 1, 0, 1, T, 0, 0) == 0 &&
              sampler_create(&s0, d, B, P, 11, 0, 1, 0, 2, T, 0, 0) == 0 &&
              sampler_create(&s1, d, B, P, 11, 0, 1, 1, 2, T, 0, 0) == 0,
          "rank samplers");
    if (s && s0 && s1) {
        const struct batch *a = sampler_next(s), *r0 = sampler_next(s0), *r1 = sampler_next(s1);
        const size_t pp = (size_t)P * P;
        int same = 1;
        for (int k = 0; k < B; k++) {
            const struct batch *r = k % 2 ? r1 : r0;
            int j = k / 2, lb = 3;
            same = same && !memcmp(a->y + pp * k, r->y + pp * j, pp * 4) &&
                   !memcmp(a->x + pp * (B + k), r->x + pp * (lb + j), pp * 4) &&
                   a->shift[2 * k] == r->shift[2 * j];
        }
        CHECK(same, "rank shares differ from the whole batch");
    }
    sampler_destroy(&s);
    sampler_destroy(&s0);
    CHECK(sampler_create(&s0, d, B, P, 11, 0, 1, 0, 1, -1, 0, 0) < 0, "negative twin shift accepted");
    sampler_destroy(&s1);
    /* codec twins: unmoved; without a codec or noise (the clean x2 profile)
     * equal to their samples bit for bit; with H.264 on most patches their
     * own codec noise, small beside the picture */
    for (int pass = 0; pass < 2; pass++) {
        degrade_set_profile(pass ? "half-h264" : "x2");
        CHECK(sampler_create(&s, d, B, P, 11, 0, 1, 0, 1, T, 1, 0) == 0, "codec twin sampler");
        int differ = 0, bad2 = 0;
        double mad = 0;
        for (int k = 0; k < 4 && s; k++) {
            const struct batch *b = sampler_next(s);
            const size_t pp = (size_t)P * P;
            for (int j = 0; b && j < B; j++) {
                bad2 += b->shift[2 * j] != 0 || b->shift[2 * j + 1] != 0;
                bad2 += memcmp(b->y + pp * j, b->y + pp * (B + j), pp * 4) != 0;
                differ += memcmp(b->x + pp * j, b->x + pp * (B + j), pp * 4) != 0;
                for (size_t i = 0; i < pp; i++) {
                    float e = b->x[pp * j + i] - b->x[pp * (B + j) + i];
                    mad += e < 0 ? -e : e;
                }
            }
        }
        mad /= 4.0 * B * P * P;
        CHECK(bad2 == 0, "%s: %d codec twins moved or with another ground truth", pass ? "half-h264" : "x2", bad2);
        if (pass) {
            CHECK(differ >= 12, "half-h264: only %d of 24 codec twins carry their own noise", differ);
            CHECK(mad > 0 && mad < 0.02, "half-h264: codec twins differ by %.4f on average", mad);
        } else {
            CHECK(differ == 0, "x2: %d codec twins differ from their clean samples", differ);
        }
        sampler_destroy(&s);
    }
    /* frame pairs (twin_codec 2): a quarter of the twins are their samples,
     * the rest codec twins (unmoved, their own noise) or moved within the
     * bound; ground truths agree as for any twin */
    degrade_set_profile("half-h264");
    CHECK(sampler_create(&s, d, B, P, 11, 0, 2, 0, 1, T, 2, 0) == 0, "frame-pair sampler");
    int same = 0, codec = 0, moved2 = 0, bad3 = 0;
    double xd = 0;
    for (int k = 0; k < 8 && s; k++) {
        const struct batch *b = sampler_next(s);
        const size_t pp = (size_t)P * P;
        int mv = 0;
        if (!b)
            break;
        bad3 += check_batch(b, B, P, T, &mv, &xd);
        moved2 += mv;
        for (int j = 0; j < B; j++) {
            const int still = !b->shift[2 * j] && !b->shift[2 * j + 1];
            const int eq = !memcmp(b->x + pp * j, b->x + pp * (B + j), pp * 4);
            same += still && eq;
            codec += still && !eq;
        }
    }
    CHECK(bad3 == 0, "frame pairs: %d twin pixels or shifts wrong", bad3);
    CHECK(same >= 5 && same <= 22, "frame pairs: %d of 48 twins are their samples (a quarter expected)", same);
    CHECK(codec >= 8 && moved2 >= 8, "frame pairs: %d codec twins and %d moved ones of 48", codec, moved2);
    sampler_destroy(&s);
    /* --input-8bit: the same draws with every input (twins too) in whole
     * 8-bit levels of Y, each within half a level of the unrounded one;
     * the targets are untouched */
    degrade_set_profile("half");
    CHECK(sampler_create(&s, d, B, P, 11, 0, 1, 0, 1, T, 0, 0) == 0 &&
              sampler_create(&s0, d, B, P, 11, 0, 1, 0, 1, T, 0, 1) == 0,
          "samplers with and without 8-bit inputs");
    if (s && s0) {
        const struct batch *b = sampler_next(s), *b8 = sampler_next(s0);
        const size_t m = (size_t)2 * B * P * P;
        size_t off_level = 0, far = 0, moved_y = 0, rounded = 0;
        for (size_t i = 0; b && b8 && i < m; i++) {
            const float v = b8->x[i] * 255.0f, u = b->x[i] * 255.0f;
            off_level += fabsf(v - nearbyintf(v)) > 1e-3f;
            far += fabsf(v - u) > 0.5f + 1e-3f;
            rounded += v != u;
            moved_y += b8->y[i] != b->y[i];
        }
        CHECK(b && b8, "batches with and without 8-bit inputs");
        CHECK(off_level == 0 && far == 0, "8-bit inputs: %zu not on a level, %zu more than half a level off",
              off_level, far);
        CHECK(rounded > m / 2, "8-bit inputs: only %zu of %zu inputs changed", rounded, m);
        CHECK(moved_y == 0, "8-bit inputs: %zu targets changed", moved_y);
    }
    sampler_destroy(&s);
    sampler_destroy(&s0);
    dataset_free(&d);
    TEST_DONE();
}
