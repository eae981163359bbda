// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target for the weights parser (scripts/fuzz.sh builds it for
// libFuzzer; replay.c replays its corpus in the ordinary test suite).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/engine.h"
#include "crisp/model.h"
#include "crisp/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct crisp_model *m = NULL;
    char err[256];
    if (crisp_weights_parse(&m, data, size, err, sizeof(err)) == 0) {
        /* an accepted model must be fully usable by the reference path */
        int64_t macs = crisp_model_macs(m, 17, 9);
        (void)macs;
        float in[3 * 17 * 9], out[3 * 17 * 9];
        for (int i = 0; i < 3 * 17 * 9; i++)
            in[i] = (float)(i % 13) / 13.0f * m->range_max;
        if (crisp_model_params(m) < 100000)
            crisp_ref_run(m, in, 17, 9, out);
        uint8_t *buf;
        size_t len;
        if (crisp_weights_serialize(m, &buf, &len) == 0) {
            if (len != size || memcmp(buf, data, size))
                abort(); /* accepted files re-serialize to the same bytes */
            free(buf);
        }
        crisp_model_destroy(&m);
    }
    return 0;
}
