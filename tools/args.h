// SPDX-License-Identifier: BSD-2-Clause
// Command-line numbers for the crisp tool: one parse, one range check and
// one usage error (exit EXIT_USAGE, "WHAT must be ... (got "S")") for every
// subcommand.
#pragma once

/* the crisp tool's exit codes (crisp(1)) */
enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

/* an integer in lo..hi: 0, else crisp_fail's usage exit code */
int crisp_arg_int(const char *s, const char *what, long lo, long hi, long *out);
/* a finite number in lo..hi: 0, else crisp_fail's usage exit code */
int crisp_arg_num(const char *s, const char *what, double lo, double hi, double *out);
