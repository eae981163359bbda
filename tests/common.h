// SPDX-License-Identifier: BSD-2-Clause
// Minimal test helpers: CHECK counts failures and keeps going; main returns
// the failure count (0 = pass, 77 = skip as meson expects).
#ifndef CRISP_TESTS_COMMON_H
#define CRISP_TESTS_COMMON_H

#include <stdio.h>
#include <stdlib.h>

static int g_failures;
static int g_checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        g_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            g_failures++;                                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define TEST_DONE()                                                                                \
    do {                                                                                           \
        printf("%d checks, %d failed\n", g_checks, g_failures);                                    \
        return g_failures ? 1 : 0;                                                                 \
    } while (0)

#endif
