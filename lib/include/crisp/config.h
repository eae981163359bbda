// SPDX-License-Identifier: BSD-2-Clause
// INI-style configuration files: "key = value" lines, optional [section]
// headers, '#' or ';' comments, values optionally in double quotes.
// Thread-safe; not real-time safe.
#ifndef CRISP_CONFIG_H
#define CRISP_CONFIG_H

#include <stddef.h>

#include "crisp/error.h"

/* Called for every key; returns 0, or -1 with `err` describing what is
 * wrong with the value (the parser prefixes file, line and key). */
typedef int (*crisp_config_cb)(void *ctx, const char *section, const char *key,
                               const char *value, char *err, size_t errlen);

/* Parses `len` bytes of untrusted text. On the first error returns
 * CRISP_EBADFILE (syntax) or CRISP_EUSAGE (the callback refused a value) and
 * writes "NAME:LINE: ..." to err. */
CRISP_API int crisp_config_parse(const char *buf, size_t len, const char *name,
                                 crisp_config_cb cb, void *ctx, char *err, size_t errlen);

#endif
