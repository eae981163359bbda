// SPDX-License-Identifier: BSD-2-Clause
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "crisp/config.h"

#define MAX_LINE 4096

static void trim(char **s, char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

int crisp_config_parse(const char *buf, size_t len, const char *name, crisp_config_cb cb,
                       void *ctx, char *err, size_t errlen)
{
    char section[128] = "";
    char line[MAX_LINE + 1];
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        lineno++;
        size_t start = pos;
        while (pos < len && buf[pos] != '\n')
            pos++;
        size_t n = pos - start;
        pos++; /* past the newline */
        if (n > MAX_LINE) {
            snprintf(err, errlen, "%s:%d: line longer than %d bytes", name, lineno, MAX_LINE);
            return CRISP_EBADFILE;
        }
        if (memchr(buf + start, 0, n)) {
            snprintf(err, errlen, "%s:%d: NUL byte in a text file", name, lineno);
            return CRISP_EBADFILE;
        }
        memcpy(line, buf + start, n);
        line[n] = 0;
        char *s = line, *e = line + n;
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            if (e[-1] != ']' || e - s < 3 || (size_t)(e - s - 2) >= sizeof(section)) {
                snprintf(err, errlen, "%s:%d: malformed section header", name, lineno);
                return CRISP_EBADFILE;
            }
            memcpy(section, s + 1, (size_t)(e - s - 2));
            section[e - s - 2] = 0;
            /* found by fuzzing: "[a]junk[b]" was taken as section "a]junk[b" */
            for (const char *c = section; *c; c++)
                if (!isalnum((unsigned char)*c) && !strchr("-_.@", *c)) {
                    snprintf(err, errlen, "%s:%d: invalid character in section name", name, lineno);
                    return CRISP_EBADFILE;
                }
            continue;
        }
        char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected \"key = value\"", name, lineno);
            return CRISP_EBADFILE;
        }
        char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        if (ks == ke) {
            snprintf(err, errlen, "%s:%d: missing key before '='", name, lineno);
            return CRISP_EBADFILE;
        }
        for (char *k = ks; k < ke; k++)
            if (!isalnum((unsigned char)*k) && *k != '-' && *k != '_') {
                snprintf(err, errlen, "%s:%d: invalid character in key", name, lineno);
                return CRISP_EBADFILE;
            }
        if (ve - vs >= 2 && *vs == '"') {
            if (ve[-1] != '"') {
                snprintf(err, errlen, "%s:%d: unterminated quote", name, lineno);
                return CRISP_EBADFILE;
            }
            vs++;
            ve--;
        }
        *ke = 0;
        *ve = 0;
        char why[256] = "";
        if (cb(ctx, section, ks, vs, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s:%d: %s: %s", name, lineno, ks, why);
            return CRISP_EUSAGE;
        }
    }
    return 0;
}
