// SPDX-License-Identifier: BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "crisp/log.h"

static enum crisp_log_level g_level = CRISP_LOG_WARN;
static int g_prefix;

void crisp_log_set_level(enum crisp_log_level level) { g_level = level; }
void crisp_log_set_prefix(int on) { g_prefix = on; }

void crisp_log(enum crisp_log_level level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    char line[1024];
    int n = 0;
    if (g_prefix)
        n = snprintf(line, sizeof(line), "<%d>", (int)level);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    n += m;
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    /* one write(2) so lines from different threads never interleave */
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

static const char *g_prog = "crisp";

void crisp_set_progname(const char *name) { g_prog = name; }

int crisp_fail(int code, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", g_prog, line);
    return code;
}
