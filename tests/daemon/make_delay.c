// SPDX-License-Identifier: BSD-2-Clause
// Writes a frame-pair model that shows the previous frame: space-to-depth,
// a 1x1 conv copying the previous frame's channels to both outputs, direct
// output, depth-to-space. crispd's test runs it to see that the previous
// frame reaches the model (the frame before, as it came in).
//   make_delay OUT.crisp
#include <stdio.h>

#include "../layers.h"
#include "crisp/model.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_delay OUT.crisp\n");
        return 2;
    }
    const struct crisp_layer l[] = {S2D(2), LCONV(8, 1, 1), D2S(2)};
    struct crisp_model *m = NULL;
    char err[256];
    if (crisp_model_create(&m, "delay", CRISP_COLOR_LUMA_PAIR, CRISP_OUTPUT_DIRECT, 1.0f, l, 3,
                           err, sizeof(err)) < 0) {
        fprintf(stderr, "make_delay: %s\n", err);
        return 1;
    }
    float *w = m->layers[1].t[CRISP_ROLE_WEIGHT]; /* [8][8]: output o reads input 4 + o % 4 */
    for (int o = 0; o < 8; o++)
        w[o * 8 + 4 + o % 4] = 1.0f;
    int ret = crisp_weights_save(m, argv[1]);
    crisp_model_destroy(&m);
    if (ret < 0) {
        fprintf(stderr, "make_delay: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}
