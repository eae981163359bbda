// SPDX-License-Identifier: BSD-2-Clause
// Logging to stderr with syslog-style "<N>" priority prefixes when asked.
// Not real-time safe: threads with frame deadlines must not log.
#ifndef CRISP_LOG_H
#define CRISP_LOG_H

#include "crisp/error.h"

enum crisp_log_level {
    CRISP_LOG_ERROR = 3,
    CRISP_LOG_WARN = 4,
    CRISP_LOG_INFO = 6,
    CRISP_LOG_DEBUG = 7,
};

/* Messages above `level` are discarded. Default CRISP_LOG_WARN. Call before
 * starting threads. */
CRISP_API void crisp_log_set_level(enum crisp_log_level level);
/* Prefix each line with "<N>" (journald priority). */
CRISP_API void crisp_log_set_prefix(int on);
/* Writes one line to stderr (a newline is added). Thread-safe (one write(2)). */
CRISP_API void crisp_log(enum crisp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Program name used by crisp_fail (default "crisp"). Call once from main. */
CRISP_API void crisp_set_progname(const char *name);
/* Prints "PROGNAME: message" as one line on stderr and returns `code`: the
 * command-line tools' way to report a failure and pick their exit status. */
CRISP_API int crisp_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
