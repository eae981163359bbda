// SPDX-License-Identifier: BSD-2-Clause
// SDP parsing for the RTP gate (sdp.c). Main thread.
#ifndef CRISPD_SDP_H
#define CRISPD_SDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sdp_info {
    int port;                  /* the first video stream's port, 1..65535 */
    int have_c, line_c;        /* a connection address applies to it (and its line) */
    struct sockaddr_storage c; /* that address (port 0) */
};

/* Checks the SDP `text` (`len` bytes, from the file `name`) and writes
 * FFmpeg's version of it into `out` (NUL-terminated): the first video
 * stream only, on port `inner` of 127.0.0.1, with 127.0.0.1 as its only
 * allowed source; other streams and their attributes, a=rtcp and
 * a=source-filter lines are left out. Marks the payload types of the video
 * stream in pts[0..127]. 0, or -EINVAL with err naming the file, the line
 * and the problem (a port out of range, a bad address, no video stream,
 * lines over 1023 bytes, an `out` too small). */
int sdp_rewrite(const char *name, const char *text, size_t len, int inner, uint8_t *pts,
                struct sdp_info *si, char *out, size_t outlen, char *err, size_t n);

#endif
