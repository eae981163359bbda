// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target for the INI config parser (crisp/config.h): any bytes, with a
// callback that checks what the parser hands over (NUL-terminated, no line
// breaks in keys, sections well formed) and refuses some values, so both
// error paths run. A refused or malformed file must leave one message
// naming the file and line.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cb(void *ctx, const char *section, const char *key, const char *value, char *err,
              size_t n)
{
    int *count = ctx;
    (*count)++;
    if (!section || !key || !value || !*key || strpbrk(key, "\n\r=") || strpbrk(section, "\n\r[]"))
        abort(); /* the parser must never hand over such a key */
    if (strlen(key) > 4096 || strlen(value) > 1 << 20)
        abort();
    if (!strcmp(key, "refuse") || (value[0] == '!' && value[1] == 0)) {
        strncpy(err, "refused", n);
        err[n - 1] = 0;
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    int count = 0;
    err[0] = 0;
    int r = crisp_config_parse((const char *)data, size, "fuzz.conf", cb, &count, err, sizeof(err));
    if (r < 0 && strncmp(err, "fuzz.conf:", 10))
        abort(); /* every error names the file and the line */
    if (r < 0 && strchr(err, '\n'))
        abort(); /* and is one line */
    return 0;
}
