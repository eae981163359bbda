// SPDX-License-Identifier: BSD-2-Clause
// systemd's notification protocol, spoken directly: datagrams to the
// AF_UNIX socket named by $NOTIFY_SOCKET. Housekeeping thread only.
#ifndef CRISP_DAEMON_NOTIFY_H
#define CRISP_DAEMON_NOTIFY_H

#include <stdint.h>

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC; harmless without them. */
void notify_init(void);
/* Sends one message ("READY=1", "STATUS=...", ...); no-op without a socket. */
void notify_send(const char *msg);
/* The watchdog interval in nanoseconds (0 = no watchdog requested). */
int64_t notify_watchdog_ns(void);

#endif
