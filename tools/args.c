// SPDX-License-Identifier: BSD-2-Clause
#include "args.h"
#include <errno.h>
#include <stdlib.h>
#include "crisp/log.h"

int crisp_arg_int(const char *s, const char *what, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return crisp_fail(EXIT_USAGE, "%s must be an integer in %ld..%ld (got \"%s\")", what, lo,
                          hi, s);
    *out = v;
    return 0;
}

int crisp_arg_num(const char *s, const char *what, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return crisp_fail(EXIT_USAGE, "%s must be a number in %g..%g (got \"%s\")", what, lo, hi,
                          s);
    *out = v;
    return 0;
}
