// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "crisp/log.h"
#include "notify.h"

static int g_fd = -1;
static struct sockaddr_un g_addr;
static socklen_t g_len;
static int64_t g_watchdog_ns;

void notify_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    const char *wd = getenv("WATCHDOG_USEC");
    if (wd) {
        char *end;
        long long us = strtoll(wd, &end, 10);
        if (!*end && us > 0)
            g_watchdog_ns = us * 1000;
    }
    if (!path || !*path)
        return;
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(g_addr.sun_path)) {
        crisp_log(CRISP_LOG_WARN, "NOTIFY_SOCKET=%s is not a usable socket path; not notifying",
                  path);
        return;
    }
    memset(&g_addr, 0, sizeof(g_addr));
    g_addr.sun_family = AF_UNIX;
    memcpy(g_addr.sun_path, path, n);
    if (path[0] == '@')
        g_addr.sun_path[0] = 0; /* abstract namespace */
    g_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    g_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (g_fd < 0)
        crisp_log(CRISP_LOG_WARN, "cannot create the notify socket: %s", strerror(errno));
}

void notify_send(const char *msg)
{
    if (g_fd < 0)
        return;
    if (sendto(g_fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&g_addr, g_len) < 0)
        crisp_log(CRISP_LOG_DEBUG, "notify: %s", strerror(errno));
}

int64_t notify_watchdog_ns(void) { return g_watchdog_ns; }
