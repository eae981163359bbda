// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target for POST /control's body parser (daemon/control.h): bytes
// from whoever reaches crispd's control surface. Every input is parsed as
// a form and as JSON; an accepted body sets at least one key, each within
// its range (strength 0..2, bypass 0/1, model a plain name); a refused one
// leaves one line and an empty request.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int json = 0; json < 2; json++) {
        struct control_req r;
        char err[300] = "";
        if (control_parse((const char *)data, size, json, &r, err, sizeof(err)) < 0) {
            if (!err[0] || strchr(err, '\n') || r.has_strength || r.has_bypass || r.has_model)
                abort();
            continue;
        }
        if (!r.has_strength && !r.has_bypass && !r.has_model)
            abort();
        if (r.has_strength && !(r.strength >= 0 && r.strength <= CONTROL_MAX_STRENGTH))
            abort();
        if (r.has_bypass && r.bypass != 0 && r.bypass != 1)
            abort();
        if (r.has_model) {
            size_t l = strnlen(r.model, sizeof(r.model));
            if (!l || l >= sizeof(r.model) || strspn(r.model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != l)
                abort();
        }
    }
    return 0;
}
