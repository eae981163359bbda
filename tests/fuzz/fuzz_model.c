// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target for the model-description validator (crisp_model_create /
// crisp_model_validate): the input is read as a layer table, 12 bytes per
// layer. A description the validator accepts must be safe to use: shapes
// and MAC counts for small frames, and (when small) a run of the C
// reference on a 16x12 image, and the same for the frame-pair model made
// from it where its layout allows (crisp_model_pair_from; the corpus's
// ladder-pair is one), all without a sanitizer report.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/engine.h"
#include "crisp/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int i8(const uint8_t *p) { return (int)(int8_t)p[0]; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    const int color = data[0] & 1 ? CRISP_COLOR_RGB : data[0] & 8 ? CRISP_COLOR_LUMA_PAIR : CRISP_COLOR_LUMA;
    const int output = data[0] & 2 ? CRISP_OUTPUT_RESIDUAL : CRISP_OUTPUT_DIRECT;
    const float range = data[0] & 4 ? 255.0f : 1.0f;
    const int border = data[1] % 80;  /* beyond the 0..64 limit on purpose */
    int n = (int)((size - 4) / 12);
    if (n > 64)
        n = 64;
    struct crisp_layer L[64];
    memset(L, 0, sizeof(L));
    for (int i = 0; i < n; i++) {
        const uint8_t *p = data + 4 + 12 * i;
        L[i].type = (enum crisp_layer_type)(p[0] % 12);  /* 0 and 11 are invalid */
        L[i].skip = i8(p + 1);
        L[i].cout = p[2] % 40 == 39 ? 5000 : p[2] % 40;    /* 0 and too many included */
        L[i].k = p[3] % 14;
        L[i].stride = p[4] % 4;
        L[i].factor = p[5] % 10;
        L[i].alpha = (float)i8(p + 6) / 64.0f;
        L[i].lo = (float)i8(p + 7) / 32.0f;
        L[i].hi = (float)i8(p + 8) / 32.0f;
        L[i].eps = (float)p[9] / 1000.0f;
        L[i].cin = p[10];       /* derived fields: the validator must overwrite them */
        L[i].channels = p[11];
    }
    struct crisp_model *m = NULL;
    char err[256];
    if (crisp_model_create(&m, "fuzz", color, output, range, L, n, err, sizeof(err)) < 0)
        return 0;
    m->border = border > 64 ? 64 : border;
    int shapes[3 * 64];
    const int sizes[4][2] = {{16, 12}, {1, 1}, {7, 5}, {64, 32}};
    for (int s = 0; s < 4; s++) {
        int pw, ph;
        crisp_model_padded_size(m, sizes[s][0], sizes[s][1], &pw, &ph);
        if (crisp_model_shapes(m, pw, ph, shapes, err, sizeof(err)) == 0)
            (void)crisp_model_macs(m, sizes[s][0], sizes[s][1]);
    }
    if (crisp_model_params(m) < 20000 && crisp_model_macs(m, 16, 12) < 20000000) {
        const int c = color; /* channels: 1, 2 or 3 */
        float in[3 * 16 * 12], out[3 * 16 * 12];
        for (int i = 0; i < c * 16 * 12; i++)
            in[i] = (float)(i % 7) / 7.0f * range;
        crisp_ref_run(m, in, 16, 12, out);
    }
    struct crisp_model *pm = NULL; /* a pair model made from it, where the layout allows */
    if (crisp_model_pair_from(&pm, m, err, sizeof(err)) == 0 && crisp_model_params(pm) < 20000 &&
        crisp_model_macs(pm, 16, 12) < 20000000) {
        float in[2 * 16 * 12], out[2 * 16 * 12];
        for (int i = 0; i < 2 * 16 * 12; i++)
            in[i] = (float)(i % 5) / 5.0f * range;
        crisp_ref_run(pm, in, 16, 12, out);
    }
    crisp_model_destroy(&pm);
    crisp_model_destroy(&m);
    return 0;
}
