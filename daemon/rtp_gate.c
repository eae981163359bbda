// SPDX-License-Identifier: BSD-2-Clause
// The RTP gate (rtp_gate.h): SDP parsing, the public socket and the thread
// that filters what reaches FFmpeg's RTP demuxer.
//
// Why a gate of our own: FFmpeg's SDP demuxer binds the port itself and
// feeds every datagram with a valid-looking header into its depacketizer,
// whatever its source address, port or SSRC; a flood of garbage beside a
// live sender then breaks the sender's frames, and read errors made crispd
// reopen the source. libavformat offers no hook between socket and
// depacketizer, so crispd owns the socket and hands FFmpeg only the locked
// sender's packets over a loopback port pair. FFmpeg's side accepts
// 127.0.0.1 as its only source (a=source-filter), and Linux drops packets
// from the network that claim a loopback source, so only local processes
// can reach it.
//
// Threads: create/destroy on the main thread; gate_thread owns the sockets'
// reading side and the lock state. Owns the sockets, the SDP text, the
// packet buffers of the senders on probation.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crisp/frame.h"
#include "crisp/util.h"
#include "rtp_gate.h"
#include "sdp.h"

#define MAX_PKT 2048
#define CANDIDATES 8 /* senders on probation at once */
#define HELD 24      /* packets held per candidate until it is locked */
#define PROBATION 3  /* packets in sequence that lock a sender */
#define BATCH 32

struct held {
    uint16_t len;
    uint8_t data[MAX_PKT];
};

struct sender {
    struct sockaddr_storage addr;
    uint32_t ssrc;
    uint16_t seq;
    int n_seq;    /* packets in sequence so far */
    int n_held;
    int64_t last; /* ns */
    struct held *held;
};

struct rtp_gate {
    int fd;       /* the public video port */
    int out;      /* connected to FFmpeg's loopback port */
    int wake[2];  /* destroy wakes the thread */
    int port, inner_port;
    uint8_t pts[128]; /* payload types the SDP announces */
    int have_from;
    struct sockaddr_storage from; /* the SDP names the sender: only it */
    struct sender locked;
    int is_locked;
    struct sender cand[CANDIDATES];
    int64_t relock_ns;
    atomic_long *rejected;
    char *sdp;
    uint8_t (*rx)[MAX_PKT + 1]; /* the thread's receive buffers, BATCH of them */
    pthread_t th;
    int started;
};

/* ---- addresses ---- */

static int same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port
                                   : ((const struct sockaddr_in6 *)a)->sin6_port;
}

static void set_port(struct sockaddr_storage *a, int port)
{
    if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
}

/* ---- sockets ---- */

static int is_multicast(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return IN_MULTICAST(ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr));
    return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

static int is_any(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

/* Binds the public port: to the SDP's address when it is ours; to every
 * address, accepting only that host, when it names a remote sender; to the
 * group's port and joined for IPv4 multicast. */
static int bind_public(struct rtp_gate *g, const struct sdp_info *si, const char *input, char *err,
                       size_t n)
{
    struct sockaddr_storage a;
    if (si->have_c)
        a = si->c;
    else {
        memset(&a, 0, sizeof(a));
        a.ss_family = AF_INET;
    }
    set_port(&a, si->port);
    if ((g->fd = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        goto sys;
    int big = 4 << 20; /* rides out bursts and floods while the thread is scheduled out */
    setsockopt(g->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    struct sockaddr_storage any = a;
    if (a.ss_family == AF_INET)
        ((struct sockaddr_in *)&any)->sin_addr.s_addr = htonl(INADDR_ANY);
    else
        ((struct sockaddr_in6 *)&any)->sin6_addr = in6addr_any;
    socklen_t sl = a.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (is_multicast(&a)) {
        int one = 1;
        setsockopt(g->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(g->fd, (struct sockaddr *)&any, sl) < 0)
            goto sys;
        if (a.ss_family != AF_INET) {
            snprintf(err, n, "input %s: IPv6 multicast is not supported", input);
            return -EINVAL;
        }
        struct ip_mreq mr = {.imr_multiaddr = ((struct sockaddr_in *)&a)->sin_addr,
                             .imr_interface.s_addr = htonl(INADDR_ANY)};
        if (setsockopt(g->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
            goto sys;
        return 0;
    }
    if (is_any(&a) || bind(g->fd, (struct sockaddr *)&a, sl) < 0) {
        if (!is_any(&a) && errno != EADDRNOTAVAIL)
            goto sys;
        if (!is_any(&a)) { /* not ours: the address of the sender */
            g->from = a;
            g->have_from = 1;
        }
        if (bind(g->fd, (struct sockaddr *)&any, sl) < 0)
            goto sys;
    }
    return 0;
sys:;
    int e = errno;
    snprintf(err, n, "input %s: UDP port %d: %s%s", input, si->port, strerror(e),
             e == EADDRINUSE ? " (another program receives on it)" : "");
    return -e;
}

/* A loopback port pair (even RTP port, RTCP one above) free for FFmpeg, and
 * our socket connected to it. */
static int inner_pair(struct rtp_gate *g)
{
    for (int tries = 0; tries < 50; tries++) {
        int a = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), b = -1;
        struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(s);
        if (a < 0)
            return -errno;
        int ok = bind(a, (struct sockaddr *)&s, sizeof(s)) == 0 &&
                 getsockname(a, (struct sockaddr *)&s, &sl) == 0 && ntohs(s.sin_port) % 2 == 0 &&
                 ntohs(s.sin_port) < 65535;
        if (ok) { /* the RTCP port above it must be free too */
            struct sockaddr_in s1 = s;
            s1.sin_port = htons((uint16_t)(ntohs(s.sin_port) + 1));
            b = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            ok = b >= 0 && bind(b, (struct sockaddr *)&s1, sizeof(s1)) == 0;
        }
        close(a);
        if (b >= 0)
            close(b);
        if (!ok)
            continue;
        g->inner_port = ntohs(s.sin_port);
        if ((g->out = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
            connect(g->out, (struct sockaddr *)&s, sizeof(s)) < 0)
            return -errno;
        int big = 4 << 20;
        setsockopt(g->out, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
        return 0;
    }
    return -EADDRINUSE;
}

/* ---- the thread ---- */

static void forward(struct rtp_gate *g, const uint8_t *buf, size_t len)
{
    /* FFmpeg not reading yet (opening, reopening): the datagram is dropped
     * by the kernel, as it would be on the public port */
    if (send(g->out, buf, len, MSG_DONTWAIT) < 0) {
    }
}

static void drop_candidate(struct rtp_gate *g, struct sender *c)
{
    atomic_fetch_add_explicit(g->rejected, c->n_held, memory_order_relaxed);
    c->n_held = 0;
    c->n_seq = 0;
    c->last = 0;
}

/* A sender on probation: held until PROBATION of its packets came in
 * sequence, then locked and its packets forwarded in order. */
static void probation(struct rtp_gate *g, const struct sockaddr_storage *from, uint32_t ssrc,
                      uint16_t seq, const uint8_t *buf, size_t len, int64_t now)
{
    struct sender *c = NULL, *oldest = &g->cand[0];
    for (int i = 0; i < CANDIDATES; i++) {
        struct sender *s = &g->cand[i];
        if (s->last && s->ssrc == ssrc && same_host(&s->addr, from) &&
            port_of(&s->addr) == port_of(from)) {
            c = s;
            break;
        }
        if (s->last < oldest->last)
            oldest = s;
    }
    if (!c) {
        c = oldest;
        drop_candidate(g, c);
        c->addr = *from;
        c->ssrc = ssrc;
    } else if ((uint16_t)(c->seq + 1) != seq) {
        atomic_fetch_add_explicit(g->rejected, c->n_held, memory_order_relaxed);
        c->n_held = 0; /* out of sequence: probation starts again */
        c->n_seq = 0;
    }
    c->seq = seq;
    c->n_seq++;
    c->last = now;
    if (c->n_held < HELD) {
        c->held[c->n_held].len = (uint16_t)len;
        memcpy(c->held[c->n_held++].data, buf, len);
    } else {
        atomic_fetch_add_explicit(g->rejected, 1, memory_order_relaxed);
    }
    if (c->n_seq < PROBATION)
        return;
    g->locked = *c;
    g->is_locked = 1;
    for (int k = 0; k < c->n_held; k++)
        forward(g, c->held[k].data, c->held[k].len);
    c->n_held = 0;
    for (int i = 0; i < CANDIDATES; i++)
        drop_candidate(g, &g->cand[i]);
}

static void gate_packet(struct rtp_gate *g, const uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, int64_t now)
{
    if (len < 12 || len > MAX_PKT || (buf[0] >> 6) != 2 || !g->pts[buf[1] & 0x7f] ||
        (g->have_from && !same_host(from, &g->from))) {
        atomic_fetch_add_explicit(g->rejected, 1, memory_order_relaxed);
        return;
    }
    const uint32_t ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | buf[10] << 8 | buf[11];
    const uint16_t seq = (uint16_t)(buf[2] << 8 | buf[3]);
    if (g->is_locked && now - g->locked.last > g->relock_ns)
        g->is_locked = 0; /* the sender went silent: another may take over */
    if (g->is_locked) {
        if (ssrc == g->locked.ssrc && same_host(from, &g->locked.addr) &&
            port_of(from) == port_of(&g->locked.addr)) {
            g->locked.last = now;
            forward(g, buf, len);
        } else {
            atomic_fetch_add_explicit(g->rejected, 1, memory_order_relaxed);
        }
        return;
    }
    probation(g, from, ssrc, seq, buf, len, now);
}

static void *gate_thread(void *arg)
{
    struct rtp_gate *g = arg;
    uint8_t(*bufs)[MAX_PKT + 1] = g->rx;
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage from[BATCH];
    struct pollfd pf[2] = {{.fd = g->fd, .events = POLLIN}, {.fd = g->wake[0], .events = POLLIN}};
    for (;;) {
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            break;
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
                                              .msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int k = recvmmsg(g->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        const int64_t now = crisp_now_ns();
        for (int i = 0; i < k; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) { /* larger than any RTP packet */
                atomic_fetch_add_explicit(g->rejected, 1, memory_order_relaxed);
                continue;
            }
            gate_packet(g, bufs[i], msgs[i].msg_len, &from[i], now);
        }
    }
    return NULL;
}

/* ---- life cycle ---- */

int rtp_gate_create(struct rtp_gate **out, const struct rtp_gate_params *p, char *err, size_t n)
{
    *out = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    int ret = crisp_file_read(p->sdp_path, &text, &len);
    if (ret < 0) {
        snprintf(err, n, "input %s: %s", p->input, strerror(-ret));
        return ret;
    }
    struct rtp_gate *g = calloc(1, sizeof(*g));
    const size_t sdp_cap = len + 256;
    if (!g || !(g->sdp = malloc(sdp_cap))) {
        free(g);
        free(text);
        snprintf(err, n, "input %s: out of memory", p->input);
        return -ENOMEM;
    }
    g->fd = g->out = g->wake[0] = g->wake[1] = -1;
    g->rejected = p->rejected;
    g->relock_ns = (int64_t)(p->relock_ms > 0 ? p->relock_ms : 1000) * 1000000;
    struct sdp_info si;
    if (!(g->rx = malloc(sizeof(*g->rx) * BATCH))) {
        snprintf(err, n, "input %s: out of memory", p->input);
        ret = -ENOMEM;
        goto fail;
    }
    for (int i = 0; i < CANDIDATES; i++)
        if (!(g->cand[i].held = malloc(sizeof(struct held) * HELD))) {
            snprintf(err, n, "input %s: out of memory", p->input);
            ret = -ENOMEM;
            goto fail;
        }
    if ((ret = inner_pair(g)) < 0) {
        snprintf(err, n, "input %s: no free loopback UDP port pair (%s)", p->input,
                 strerror(-ret));
        goto fail;
    }
    if ((ret = sdp_rewrite(p->sdp_path, (const char *)text, len, g->inner_port, g->pts, &si,
                           g->sdp, sdp_cap, err, n)) < 0 ||
        (ret = bind_public(g, &si, p->input, err, n)) < 0)
        goto fail;
    g->port = si.port;
    if (pipe2(g->wake, O_CLOEXEC) < 0 || pthread_create(&g->th, NULL, gate_thread, g)) {
        snprintf(err, n, "input %s: cannot start the RTP gate's thread", p->input);
        ret = -EAGAIN;
        goto fail;
    }
    g->started = 1;
    free(text);
    *out = g;
    return 0;
fail:
    free(text);
    rtp_gate_destroy(&g);
    return ret;
}

const char *rtp_gate_sdp(const struct rtp_gate *g) { return g->sdp; }

int rtp_gate_port(const struct rtp_gate *g) { return g->port; }

void rtp_gate_destroy(struct rtp_gate **pg)
{
    struct rtp_gate *g = pg ? *pg : NULL;
    if (!g)
        return;
    if (g->started) {
        if (write(g->wake[1], "x", 1) < 0) {
        }
        pthread_join(g->th, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (g->wake[i] >= 0)
            close(g->wake[i]);
    if (g->fd >= 0)
        close(g->fd);
    if (g->out >= 0)
        close(g->out);
    for (int i = 0; i < CANDIDATES; i++)
        free(g->cand[i].held);
    free(g->rx);
    free(g->sdp);
    free(g);
    *pg = NULL;
}
