// SPDX-License-Identifier: BSD-2-Clause
// crisp ab: a blind side-by-side test of sharpening methods, offline, in one
// static folder (docs/evaluation.md, "Judging by eye").
//   make   cuts segments of clips, degrades them as a call (as crisp eval
//          --video), runs each method, encodes every version alike under a
//          random id into DIR/site/media/, writes DIR/site/index.html (the
//          rater's page: P.910 pair comparisons, optionally ACR ratings) and
//          DIR/key.json (which id is which method: never served)
//   serve  serves DIR/site on a loopback address and stores the votes the
//          page posts in DIR/votes/
//   tally  preference shares with Wilson intervals, a Bradley-Terry ranking
//          with bootstrap intervals and MOS with t intervals
// Main thread (serve: libmicrohttpd's threads too).
#ifndef CRISP_TOOLS_AB_H
#define CRISP_TOOLS_AB_H

#include <stddef.h>

int cmd_ab(int argc, char **argv);
int ab_make(int argc, char **argv);
int ab_serve(int argc, char **argv);
int ab_tally(int argc, char **argv);

/* n random bytes as 2n lowercase hex digits into out (2n + 1 bytes); 0 or -1 */
int ab_random_hex(char *out, int nbytes);
/* 1 when s is exactly `len` lowercase hex digits (the ids crisp ab makes) */
int ab_is_hex(const char *s, size_t len);

/* the rater's page (tools/ab/index.html), embedded at build time */
extern const char AB_PAGE[];

#endif
