// SPDX-License-Identifier: BSD-2-Clause
// model_diff A B [TOL]: compares two model files of one architecture. The
// relative difference is max|a - b| / max|a| over all the weights; exits 0
// when it is at most TOL (default 1e-5), 1 when larger, 2 when the files
// cannot be compared. Also printed: the largest such ratio within one
// tensor (a lone output bias near zero shows rounding there first). Used by
// test_mpi.sh.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "crisp/model.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: model_diff A.crisp B.crisp [TOL]\n");
        return 2;
    }
    double tol = argc > 3 ? atof(argv[3]) : 1e-5;
    char err[512];
    struct crisp_model *a = NULL, *b = NULL;
    if (crisp_weights_load(&a, argv[1], err, sizeof(err)) < 0 ||
        crisp_weights_load(&b, argv[2], err, sizeof(err)) < 0) {
        fprintf(stderr, "model_diff: %s\n", err);
        crisp_model_destroy(&a);
        return 2;
    }
    if (a->n_layers != b->n_layers || a->data_floats != b->data_floats) {
        fprintf(stderr, "model_diff: different architectures\n");
        crisp_model_destroy(&a);
        crisp_model_destroy(&b);
        return 2;
    }
    double worst = 0, all_scale = 0, all_diff = 0;
    int wl = -1, wr = -1;
    for (int l = 0; l < a->n_layers; l++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t n = crisp_layer_tensor_size(&a->layers[l], a->layers[l].cin, r);
            if (!n || !a->layers[l].t[r])
                continue;
            double scale = 0, diff = 0;
            for (size_t i = 0; i < n; i++) {
                scale = fmax(scale, fabs(a->layers[l].t[r][i]));
                diff = fmax(diff, fabs((double)a->layers[l].t[r][i] - b->layers[l].t[r][i]));
            }
            all_scale = fmax(all_scale, scale);
            all_diff = fmax(all_diff, diff);
            double rel = diff / (scale > 0 ? scale : 1);
            if (rel > worst || wl < 0) {
                worst = rel;
                wl = l;
                wr = r;
            }
        }
    double rel = all_diff / (all_scale > 0 ? all_scale : 1);
    printf("relative difference %.3g (largest within one tensor %.3g, layer %d tensor %d)\n", rel,
           worst, wl, wr);
    crisp_model_destroy(&a);
    crisp_model_destroy(&b);
    return rel <= tol ? 0 : 1;
}
