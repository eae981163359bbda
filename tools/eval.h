// SPDX-License-Identifier: BSD-2-Clause
#ifndef CRISP_TOOLS_EVAL_H
#define CRISP_TOOLS_EVAL_H

#include <stddef.h>

struct eval_params {
    const char *data, *protocol, *json;
    const char *models[16];
    int n_models, crop, threads, verbose;
};

/* Prints the table to stdout; returns 0, or 1 with err filled (bad input). */
int eval_run(const struct eval_params *p, char *err, size_t errlen);

#endif
