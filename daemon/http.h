// SPDX-License-Identifier: BSD-2-Clause
// crispd's local control surface (--http ADDR:PORT): GET /metrics
// (Prometheus), GET /status (the stats JSON), GET / (a page with a live
// preview and controls, daemon/www/), GET /preview.jpg and POST /control,
// served by libmicrohttpd. docs/operations.md has the API and the security
// rules: loopback only unless a token file is given, then every request
// carries the token; the Host header must name the bound address or
// localhost; POSTs from a browser must come from the page's own origin;
// bodies, headers, connections and the request rate are bounded.
//
// Threads: http_create and http_destroy on the main thread; libmicrohttpd
// runs one thread per connection (at most HTTP_MAX_CONN). Handlers read the
// pipeline's atomics and series, copy the preview, set strength and bypass
// (atomics the inference thread reads at the next frame) and hand a model
// change to the main thread (ctl_lock, ctl_cond) and wait for it: they
// never touch the frame path's rings, frames or engines.
#ifndef CRISPD_HTTP_H
#define CRISPD_HTTP_H

#include <stddef.h>

struct pipeline;
struct http;

#define HTTP_MAX_CONN 16

/* Parses ADDR:PORT ("127.0.0.1:8642", "[::1]:8642", "localhost:8642"; port 0
 * picks a free one), reads the token file (if any), refuses a non-loopback
 * address without one, and binds the socket (so that a port in use is an
 * error at start, before the model is built). 0 or < 0 with err set.
 * Main thread. */
int http_create(struct http **out, struct pipeline *p, const char *addr, const char *token_file,
                char *err, size_t en);

/* Starts serving (after the pipeline's threads run). Notes the installed
 * models for model=. 0 or < 0 with err set. Main thread. */
int http_start(struct http *h, char *err, size_t en);

/* the bound port (port 0 given: the one the kernel chose) */
int http_port(const struct http *h);

/* Stops serving: answers a model change still waiting, closes every
 * connection, joins libmicrohttpd's threads, closes the socket. NULL ok.
 * Main thread, before the pipeline's threads are joined. */
void http_destroy(struct http **h);

/* The main thread's side of POST /control model=: does a model change an
 * HTTP thread asked for, if any (builds, warms up and hands over the
 * engine as a reload does). Housekeeping loop. */
void http_control_poll(struct pipeline *p);

#endif
