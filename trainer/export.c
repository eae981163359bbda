// SPDX-License-Identifier: BSD-2-Clause
// crisp-train export-degraded (trainer.h): writes the fixed degradation of
// every training image (validation images excluded) as PNG, the inputs a
// teacher run elsewhere restores for --teacher-dir. Main thread only.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "crisp/media.h"
#include "data.h"
#include "trainer.h"

int export_degraded(const char *data, const char *outdir, int max_side, uint64_t seed)
{
    char err[512];
    struct dataset *d;
    struct dataset_params dp = {.dir = data, .max_side = max_side, .seed = seed};
    if (dataset_load(&d, &dp, err, sizeof(err)) < 0)
        return fail(EXIT_INPUT, "%s", err);
    if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
        dataset_free(&d);
        return fail(EXIT_INPUT, "%s: %s", outdir, strerror(errno));
    }
    int ret = EXIT_OK;
    for (int i = 0; i < d->n_train && ret == EXIT_OK; i++) {
        struct crisp_image *dg;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", outdir, d->train_names[i]);
        char *dot = strrchr(path, '.');
        if (dot)
            strcpy(dot, ".png");
        if (degrade_fixed(&dg, d->train[i], d->train_names[i], seed) < 0 ||
            crisp_image_write(dg, path, 0, err, sizeof(err)) < 0)
            ret = fail(EXIT_INPUT, "%s: cannot write", path);
        crisp_image_destroy(&dg);
    }
    fprintf(stderr, "wrote %d degraded training images to %s (validation images excluded)\n",
            d->n_train, outdir);
    dataset_free(&d);
    return ret;
}
