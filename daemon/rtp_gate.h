// SPDX-License-Identifier: BSD-2-Clause
// crispd's RTP gate (rtp_gate.c): the only socket on an sdp: input's port.
// It reads the SDP, binds the video port itself and passes on to FFmpeg
// (through a loopback hop that only this process can feed) the packets of
// one sender: RTP version 2, a payload type the SDP announces, from the
// SDP's connection address when that names a remote host, and from the one
// address, port and SSRC it has locked onto. It locks onto a sender once
// three of its packets came in sequence (RFC 3550's probation), forwards
// the packets it held meanwhile, and re-locks only after the locked sender
// has been silent for `relock_ms`. Everything else is dropped and counted
// (stats "rtp_rejected").
//
// Threads: create and destroy on the main thread; the gate's own thread
// does the rest. It allocates nothing after create.
#ifndef CRISPD_RTP_GATE_H
#define CRISPD_RTP_GATE_H

#include <stdatomic.h>
#include <stddef.h>

struct rtp_gate;

struct rtp_gate_params {
    const char *sdp_path;   /* the SDP file (read at create) */
    const char *input;      /* --input as given, for messages */
    atomic_long *rejected;  /* bumped for each packet dropped */
    int relock_ms;          /* silence before another sender may take over [1000] */
};

/* Reads and checks the SDP, binds its video port (and joins its group when
 * it is IPv4 multicast), finds a free loopback port pair for FFmpeg and
 * starts the gate's thread. 0, or < 0 with err naming the file, the line or
 * the port and the problem; *out stays NULL then. */
int rtp_gate_create(struct rtp_gate **out, const struct rtp_gate_params *p, char *err, size_t n);

/* The SDP FFmpeg opens instead of the file: the same stream on the loopback
 * port pair, accepting 127.0.0.1 as its only source. Valid until destroy. */
const char *rtp_gate_sdp(const struct rtp_gate *g);

/* The video port the gate listens on. */
int rtp_gate_port(const struct rtp_gate *g);

/* Stops the thread, closes the sockets, frees everything; NULL is fine. */
void rtp_gate_destroy(struct rtp_gate **g);

#endif
