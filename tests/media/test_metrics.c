// SPDX-License-Identifier: BSD-2-Clause
// PSNR-Y / SSIM-Y against values scikit-image computed on the same files
// (tests/data/make_data.py wrote tests/data/metrics_expected.txt).
#include <math.h>
#include <string.h>

#include "../common.h"
#include "crisp/media.h"
#include "crisp/util.h"

/* The flicker metric on synthetic sequences with known answers
 * (docs/evaluation.md): g_t is a moving ramp; a perfect restoration scores
 * 0 on it and on a static sequence; adding noise of amplitude a (+a or -a
 * per pixel) on every other frame scores a; a constant offset scores 0;
 * the border crop is left out. */
static void test_flicker(void)
{
    enum { W = 48, H = 32, T = 9 };
    static uint8_t g[T][W * H], o[T][W * H];
    struct crisp_rng r;
    crisp_rng_seed(&r, 3);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < W * H; i++)
            g[t][i] = (uint8_t)(60 + (i % W + 3 * t) % 100);
    const int crop = 2;
    double sum_perfect = 0, sum_static = 0, sum_offset = 0;
    for (int t = 1; t < T; t++) {
        sum_perfect += crisp_metrics_tde(g[t - 1], g[t], g[t - 1], g[t], W, H, crop);
        sum_static += crisp_metrics_tde(g[0], g[0], g[0], g[0], W, H, crop);
        for (int i = 0; i < W * H; i++)
            o[t][i] = (uint8_t)(g[t][i] + 7);
        if (t > 1)
            sum_offset += crisp_metrics_tde(o[t - 1], o[t], g[t - 1], g[t], W, H, crop);
    }
    CHECK(sum_perfect == 0 && sum_static == 0, "perfect %g static %g", sum_perfect, sum_static);
    CHECK(sum_offset == 0, "a constant offset scored %g", sum_offset);
    const int amps[] = {1, 5, 20};
    for (int k = 0; k < 3; k++) {
        const int a = amps[k];
        for (int t = 0; t < T; t++)
            for (int i = 0; i < W * H; i++)
                o[t][i] = (uint8_t)(g[t][i] + (t & 1 ? (crisp_rng_u64(&r) & 1 ? a : -a) : 0));
        double sum = 0;
        for (int t = 1; t < T; t++)
            sum += crisp_metrics_tde(o[t - 1], o[t], g[t - 1], g[t], W, H, crop);
        CHECK(fabs(sum / (T - 1) - a) < 1e-12, "noise of amplitude %d on every other frame: %.6f",
              a, sum / (T - 1));
    }
    /* only the border differs: the crop leaves it out */
    memcpy(o[0], g[0], sizeof(o[0]));
    o[0][0] = (uint8_t)(o[0][0] + 50);
    CHECK(crisp_metrics_tde(o[0], g[1], g[0], g[1], W, H, crop) == 0, "border counted");
    CHECK(crisp_metrics_tde(o[0], g[1], g[0], g[1], W, H, 0) > 0, "crop 0 misses the border");
    CHECK(crisp_metrics_tde(g[0], g[1], g[0], g[1], 4, 4, 2) < 0, "crop larger than the plane");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_metrics DATA_DIR\n");
        return 2;
    }
    crisp_media_set_verbose(0);
    char path[4096];
    snprintf(path, sizeof(path), "%s/metrics_expected.txt", argv[1]);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        TEST_DONE();
    char line[512];
    int rows = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        char ref[128], test[128];
        int crop;
        double want_psnr, want_ssim;
        if (sscanf(line, "%127s %127s %d %lf %lf", ref, test, &crop, &want_psnr, &want_ssim) != 5)
            continue;
        char pa[4096], pb[4096], err[256];
        snprintf(pa, sizeof(pa), "%s/%s", argv[1], ref);
        snprintf(pb, sizeof(pb), "%s/%s", argv[1], test);
        struct crisp_image *a = NULL, *b = NULL;
        CHECK(crisp_image_read(&a, pa, err, sizeof(err)) == 0, "%s", err);
        CHECK(crisp_image_read(&b, pb, err, sizeof(err)) == 0, "%s", err);
        if (a && b) {
            double psnr = 0, ssim = 0;
            CHECK(crisp_metrics_y(a, b, crop, &psnr, &ssim) == 0, "metrics %s %s", ref, test);
            CHECK(fabs(psnr - want_psnr) < 1e-6, "%s vs %s crop %d: psnr %.10f, scikit-image %.10f",
                  ref, test, crop, psnr, want_psnr);
            CHECK(fabs(ssim - want_ssim) < 1e-4, "%s vs %s crop %d: ssim %.10f, scikit-image %.10f",
                  ref, test, crop, ssim, want_ssim);
            printf("%-8s %-13s crop %d  psnr %.6f (%.6f)  ssim %.8f (%.8f)\n", ref, test, crop,
                   psnr, want_psnr, ssim, want_ssim);
            /* identical images */
            CHECK(crisp_metrics_y(a, a, crop, &psnr, &ssim) == 0 && psnr == 100.0 &&
                      fabs(ssim - 1.0) < 1e-12,
                  "self-comparison gives psnr %f ssim %f", psnr, ssim);
            rows++;
        }
        crisp_image_destroy(&a);
        crisp_image_destroy(&b);
    }
    fclose(f);
    CHECK(rows >= 12, "only %d reference rows", rows);

    /* size mismatch and windows smaller than 11x11 are errors, not crashes */
    struct crisp_image *x = NULL, *y = NULL;
    crisp_image_create(&x, 20, 20);
    crisp_image_create(&y, 21, 20);
    double p, s;
    CHECK(crisp_metrics_y(x, y, 0, &p, &s) == CRISP_EFORMAT, "size mismatch accepted");
    CHECK(crisp_metrics_y(x, x, 5, &p, &s) == CRISP_EFORMAT, "10x10 window accepted");
    CHECK(crisp_metrics_y(x, x, -1, &p, &s) == CRISP_EFORMAT, "negative crop accepted");
    crisp_image_destroy(&x);
    crisp_image_destroy(&y);
    test_flicker();
    TEST_DONE();
}
