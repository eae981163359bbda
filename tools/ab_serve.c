// SPDX-License-Identifier: BSD-2-Clause
// crisp ab serve (ab.h): DIR/site over HTTP on a loopback address (the
// page, and its videos with byte ranges so players can seek), and POST
// /votes: a rater's answers, checked (JSON, this test's id, at most 256 KiB)
// and stored as DIR/votes/votes-RATER-N.json. Nothing else of DIR is served
// (key.json stays private). libmicrohttpd runs the connections (a thread
// each); the main thread waits for SIGINT/SIGTERM.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "crisp/log.h"
#include "ab.h"
#include "json.h"
#include "args.h"

#define fail crisp_fail
enum { MAX_VOTES_BYTES = 256 * 1024 };

struct server {
    const char *dir;
    char test[17];
    pthread_mutex_t lock; /* saving votes */
};

/* a POST body being received */
struct upload {
    char *buf;
    size_t len;
    int too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* a file of DIR/site, whole or one byte range */
static enum MHD_Result send_file(struct server *s, struct MHD_Connection *c, const char *rel,
                                 const char *type)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/site/%s", s->dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
    }
    uint64_t size = (uint64_t)st.st_size, from = 0, to = size ? size - 1 : 0;
    unsigned code = MHD_HTTP_OK;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    if (range && size) {
        unsigned long long a = 0, b = to;
        int n = 0;
        if (sscanf(range, "bytes=%llu-%n", &a, &n) == 1 && n > 0) {
            const char *rest = range + n;
            if (*rest && sscanf(rest, "%llu", &b) != 1)
                b = to;
            if (b > to)
                b = to;
            if (a > b) {
                close(fd);
                char cr[64];
                snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
                struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
                                                                         MHD_RESPMEM_PERSISTENT);
                MHD_add_response_header(r, "Content-Range", cr);
                enum MHD_Result ret = MHD_queue_response(c, 416, r);
                MHD_destroy_response(r);
                return ret;
            }
            from = a;
            to = b;
            code = MHD_HTTP_PARTIAL_CONTENT;
        }
    }
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(
        size ? to - from + 1 : 0, fd, (int64_t)from);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (code == MHD_HTTP_PARTIAL_CONTENT) {
        char cr[96];
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)from,
                 (unsigned long long)to, (unsigned long long)size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* checks and stores one rater's answers; the reply's status and text */
static unsigned save_votes(struct server *s, const char *body, size_t len, char *msg, size_t n)
{
    char err[256];
    struct json *j = json_parse(body, len, err, sizeof(err));
    if (!j) {
        snprintf(msg, n, "not valid JSON: %s\n", err);
        return MHD_HTTP_BAD_REQUEST;
    }
    const char *test = json_str(j, "test"), *rater = json_str(j, "rater");
    unsigned code = MHD_HTTP_BAD_REQUEST;
    if (!test || strcmp(test, s->test)) {
        snprintf(msg, n, "these answers are not for test %s\n", s->test);
        code = MHD_HTTP_CONFLICT;
    } else if (!rater || !ab_is_hex(rater, 16)) {
        snprintf(msg, n, "the answers have no rater id (16 hex digits)\n");
    } else {
        pthread_mutex_lock(&s->lock);
        char path[4400];
        int fd = -1;
        for (int k = 1; k < 1000 && fd < 0; k++) {
            snprintf(path, sizeof(path), "%s/votes/votes-%s-%d.json", s->dir, rater, k);
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0 && errno != EEXIST)
                break;
        }
        if (fd >= 0 && write(fd, body, len) == (ssize_t)len && close(fd) == 0) {
            snprintf(msg, n, "{\"saved\": \"%s\"}\n", strrchr(path, '/') + 1);
            code = MHD_HTTP_OK;
            fprintf(stderr, "ab serve: answers of rater %s saved in %s\n", rater, path);
        } else {
            if (fd >= 0)
                unlink(path);
            snprintf(msg, n, "cannot store the answers\n");
            code = MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
        pthread_mutex_unlock(&s->lock);
    }
    json_free(j);
    return code;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *data_size, void **ctx)
{
    (void)version;
    struct server *s = cls;
    /* DNS rebinding: only loopback names */
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!*ctx) {
        size_t hl = host ? strcspn(host, host[0] == '[' ? "]" : ":") + (host[0] == '[') : 0;
        int ok = host && ((hl == 9 && !strncmp(host, "127.0.0.1", 9)) ||
                          (hl == 9 && !strncmp(host, "localhost", 9)) ||
                          (hl == 5 && !strncmp(host, "[::1]", 5)));
        if (!ok || (host[hl] && host[hl] != ':'))
            return reply(c, MHD_HTTP_MISDIRECTED_REQUEST, "text/plain",
                         "this server answers only to localhost, 127.0.0.1 or [::1]\n");
    }
    if (!strcmp(method, "POST") && !strcmp(url, "/votes")) {
        struct upload *u = *ctx;
        if (!u) {
            const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
            if (!type || strncmp(type, "application/json", 16))
                return reply(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "text/plain",
                             "send the answers as application/json\n");
            if (!(u = calloc(1, sizeof(*u))))
                return MHD_NO;
            *ctx = u;
            return MHD_YES;
        }
        if (*data_size) {
            if (u->too_big || u->len + *data_size > MAX_VOTES_BYTES) {
                u->too_big = 1;
            } else {
                char *nb = realloc(u->buf, u->len + *data_size + 1);
                if (!nb)
                    return MHD_NO;
                u->buf = nb;
                memcpy(u->buf + u->len, data, *data_size);
                u->len += *data_size;
            }
            *data_size = 0;
            return MHD_YES;
        }
        if (u->too_big)
            return reply(c, 413, "text/plain",
                         "the answers are larger than 256 KiB\n");
        char msg[512];
        unsigned code = save_votes(s, u->buf ? u->buf : "", u->len, msg, sizeof(msg));
        return reply(c, code, code == MHD_HTTP_OK ? "application/json" : "text/plain", msg);
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET, HEAD or POST /votes\n");
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        return send_file(s, c, "index.html", "text/html; charset=utf-8");
    /* /media/ID.mp4: 12 hex digits, nothing else */
    if (!strncmp(url, "/media/", 7) && strlen(url) == 7 + 12 + 4 && !strcmp(url + 19, ".mp4")) {
        char id[13];
        memcpy(id, url + 7, 12);
        id[12] = 0;
        if (ab_is_hex(id, 12)) {
            char rel[64];
            snprintf(rel, sizeof(rel), "media/%s.mp4", id);
            return send_file(s, c, rel, "video/mp4");
        }
    }
    return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
}

static void completed(void *cls, struct MHD_Connection *c, void **ctx,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct upload *u = *ctx;
    if (u) {
        free(u->buf);
        free(u);
    }
    *ctx = NULL;
}

int ab_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *listen_at = "127.0.0.1:8643";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen_at = optarg; break;
        case 'h': fputs("usage: crisp ab serve [--listen 127.0.0.1:PORT] DIR\n", stdout); return 0;
        default: return fail(EXIT_USAGE, "ab serve: unknown option %s", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return fail(EXIT_USAGE, "ab serve: one test folder is needed (usage: crisp ab serve "
                                "[--listen 127.0.0.1:PORT] DIR)");
    struct server s = {.dir = argv[optind]};
    char path[4400], err[512];
    snprintf(path, sizeof(path), "%s/key.json", s.dir);
    struct json *key = json_read_file(path, 1 << 20, err, sizeof(err));
    if (!key)
        return fail(EXIT_INPUT, "ab serve: %s (made by crisp ab make?)", err);
    const char *test = json_str(key, "test");
    if (!test || !ab_is_hex(test, 16)) {
        json_free(key);
        return fail(EXIT_INPUT, "ab serve: %s has no test id", path);
    }
    snprintf(s.test, sizeof(s.test), "%s", test);
    json_free(key);
    snprintf(path, sizeof(path), "%s/votes", s.dir);
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return fail(EXIT_INPUT, "ab serve: %s: %s", path, strerror(errno));

    /* ADDR:PORT, loopback only: raters elsewhere get the folder as files */
    char addr[64];
    int port = -1;
    const char *colon = strrchr(listen_at, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (!colon || colon - listen_at >= (long)sizeof(addr) ||
        sscanf(colon + 1, "%d", &port) != 1 || port < 0 || port > 65535)
        return fail(EXIT_USAGE, "ab serve: --listen must be ADDR:PORT (got \"%s\")", listen_at);
    snprintf(addr, sizeof(addr), "%.*s", (int)(colon - listen_at), listen_at);
    if (!strcmp(addr, "localhost"))
        snprintf(addr, sizeof(addr), "127.0.0.1");
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
        return fail(EXIT_USAGE, "ab serve: --listen takes a loopback IPv4 address (127.x.x.x); "
                                "to reach raters elsewhere, give them the folder %s/site",
                    s.dir);
    sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    socklen_t sl = sizeof(sa);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fail(EXIT_INPUT, "ab serve: cannot listen on %s: %s", listen_at, strerror(e));
    }
    /* SIGINT/SIGTERM are waited for here, blocked everywhere else */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&s.lock, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handle, &s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 32u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_END);
    if (!d) {
        close(fd);
        pthread_mutex_destroy(&s.lock);
        return fail(EXIT_INPUT, "ab serve: cannot start the HTTP server (libmicrohttpd)");
    }
    printf("serving test %s at http://127.0.0.1:%d/ (answers go to %s/votes/; Ctrl-C stops)\n",
           s.test, ntohs(sa.sin_port), s.dir);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    pthread_mutex_destroy(&s.lock);
    fprintf(stderr, "ab serve: stopped (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
}
