// SPDX-License-Identifier: BSD-2-Clause
// POST /control's body (http.c): a form (strength=0.6&bypass=on&model=NAME)
// or a flat JSON object ({"strength": 0.6, "bypass": true, "model": "NAME"}).
// Strict: unknown or repeated keys, values out of range and anything that
// is not one of the two shapes are refused with a message naming the key.
// Pure functions: no state, any thread; fuzzed (tests/fuzz/fuzz_control.c).
#ifndef CRISPD_CONTROL_H
#define CRISPD_CONTROL_H

#include <stddef.h>

#define CONTROL_MAX_BODY 4096   /* larger bodies are refused (413) */
#define CONTROL_MAX_STRENGTH 2.0 /* as crispd's --strength */

struct control_req {
    int has_strength, has_bypass, has_model;
    double strength; /* 0..CONTROL_MAX_STRENGTH */
    int bypass;      /* 0 or 1 */
    char model[64];  /* a ladder name or "auto": [A-Za-z0-9._-], 1..63 bytes */
};

/* Parses n bytes of body (not NUL-terminated); json 1 for a JSON object,
 * 0 for a form. 0, or -EINVAL with err set ("strength must be ...",
 * "unknown key \"x\"", "bad JSON at byte 12: ..."). */
int control_parse(const char *body, size_t n, int json, struct control_req *r, char *err,
                  size_t en);

#endif
