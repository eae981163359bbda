// SPDX-License-Identifier: BSD-2-Clause
// SDP for the RTP gate (sdp.h): checks a session description and rewrites
// it for FFmpeg. Untrusted input: every line is bounded and every number
// checked; fuzzed by tests/fuzz/fuzz_sdp.c. Main thread; owns nothing.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

static int parse_addr(const char *line, struct sockaddr_storage *ss)
{
    /* c=IN IP4 ADDR[/ttl[/n]] or c=IN IP6 ADDR */
    char fam[8], a[64];
    if (sscanf(line, "c=IN %7s %63s", fam, a) != 2)
        return -1;
    char *slash = strchr(a, '/');
    if (slash)
        *slash = 0;
    memset(ss, 0, sizeof(*ss));
    if (!strcmp(fam, "IP4")) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        return inet_pton(AF_INET, a, &s4->sin_addr) == 1 ? 0 : -1;
    }
    if (!strcmp(fam, "IP6")) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        return inet_pton(AF_INET6, a, &s6->sin6_addr) == 1 ? 0 : -1;
    }
    return -1;
}

int sdp_rewrite(const char *name, const char *text, size_t len, int inner, uint8_t *pts,
                       struct sdp_info *si, char *out, size_t outlen, char *err, size_t n)
{
    size_t o = 0;
    int lineno = 0, media = 0; /* 0 session, 1 our video, 2 another stream */
    int have_video = 0;
    struct sockaddr_storage sess_c;
    int have_sess_c = 0;
    si->have_c = 0;
#define EMIT(...)                                                                                  \
    do {                                                                                           \
        int k_ = snprintf(out + o, outlen - o, __VA_ARGS__);                                       \
        if (k_ < 0 || (size_t)k_ >= outlen - o) {                                                  \
            snprintf(err, n, "SDP %s: too long", name);                                            \
            return -EINVAL;                                                                        \
        }                                                                                          \
        o += (size_t)k_;                                                                           \
    } while (0)
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        char line[1024];
        size_t l = e - i;
        if (l && text[i + l - 1] == '\r')
            l--;
        lineno++;
        if (l >= sizeof(line)) {
            snprintf(err, n, "SDP %s:%d: line too long", name, lineno);
            return -EINVAL;
        }
        memcpy(line, text + i, l);
        line[l] = 0;
        i = e + 1;
        if (!l)
            continue;
        if (l < 2 || line[1] != '=' || memchr(line, 0, l)) {
            snprintf(err, n, "SDP %s:%d: not a \"x=value\" line", name, lineno);
            return -EINVAL;
        }
        if (line[0] == 'm') {
            media = 2;
            if (have_video || strncmp(line, "m=video ", 8))
                continue;
            char *end;
            long port = strtol(line + 8, &end, 10);
            if (end == line + 8 || (*end != ' ' && *end != '/') || port < 1 || port > 65535) {
                snprintf(err, n, "SDP %s:%d: video port \"%.*s\" out of range (1..65535)", name,
                         lineno, (int)strcspn(line + 8, " /"), line + 8);
                return -EINVAL;
            }
            char *rest = strchr(end, ' ');
            if (*end == '/' || !rest || strncmp(rest, " RTP/AVP", 8)) {
                snprintf(err, n, "SDP %s:%d: only one RTP/AVP video stream per port is supported",
                         name, lineno);
                return -EINVAL;
            }
            char *fmts = strchr(rest + 1, ' ');
            int npt = 0;
            for (char *t = fmts; t && *t;) {
                long pt = strtol(t, &end, 10);
                if (end == t || pt < 0 || pt > 127) {
                    snprintf(err, n, "SDP %s:%d: bad payload type", name, lineno);
                    return -EINVAL;
                }
                pts[pt] = 1;
                npt++;
                t = end;
                while (*t == ' ')
                    t++;
            }
            if (!npt) {
                snprintf(err, n, "SDP %s:%d: no payload type", name, lineno);
                return -EINVAL;
            }
            media = 1;
            have_video = 1;
            si->port = (int)port;
            EMIT("m=video %d%s\r\n", inner, rest);
            /* FFmpeg reads only what comes from the gate */
            EMIT("c=IN IP4 127.0.0.1\r\na=source-filter: incl IN IP4 * 127.0.0.1\r\n");
            continue;
        }
        if (line[0] == 'c') {
            struct sockaddr_storage a;
            if (parse_addr(line, &a) < 0) {
                snprintf(err, n, "SDP %s:%d: bad connection line \"%s\"", name, lineno, line);
                return -EINVAL;
            }
            if (media == 0) {
                sess_c = a;
                have_sess_c = 1;
            } else if (media == 1) {
                si->c = a;
                si->have_c = 1;
                si->line_c = lineno;
            }
            continue;
        }
        if (media == 2 || (line[0] == 'a' && (!strncmp(line, "a=source-filter", 15) ||
                                              !strncmp(line, "a=rtcp:", 7))))
            continue;
        EMIT("%s\r\n", line);
    }
#undef EMIT
    if (!have_video) {
        snprintf(err, n, "SDP %s: no m=video line", name);
        return -EINVAL;
    }
    if (!si->have_c && have_sess_c) {
        si->c = sess_c;
        si->have_c = 1;
    }
    return 0;
}

