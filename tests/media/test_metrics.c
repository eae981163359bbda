// SPDX-License-Identifier: BSD-2-Clause
// PSNR-Y / SSIM-Y against values scikit-image computed on the same files
// (tests/data/make_data.py wrote tests/data/metrics_expected.txt).
#include <math.h>
#include <string.h>

#include "../common.h"
#include "crisp/media.h"

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
    TEST_DONE();
}
