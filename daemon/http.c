// SPDX-License-Identifier: BSD-2-Clause
// crispd's control surface (http.h): libmicrohttpd, one thread per
// connection. This file does the security checks, the routing, /status,
// /preview.jpg, /control and the page; metrics.c writes /metrics. Owns the
// listening socket, the token, the installed models' names and paths.
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/base64.h>
#include <microhttpd.h>

#include "control.h"
#include "crisp/log.h"
#include "crisp/util.h"
#include "http.h"
#include "metrics.h"
#include "pipeline.h"
#include "preview.h"
#include "www.h"

#define HTTP_NICE 10 /* the connection threads' nice value: below the frame path */
#define RATE_PER_S 100.0 /* requests a second, sustained */
#define RATE_BURST 200.0
#define MODEL_WAIT_NS 30000000000LL /* a model change answered within 30 s */

struct http {
    struct pipeline *p;
    struct MHD_Daemon *d;
    int fd, port, wildcard, is_auto;
    char token[256];
    size_t token_len;
    char hosts[8][96]; /* Host headers accepted */
    int n_hosts;
    /* the installed models model= may name (constant once serving) */
    char names[AUTO_LADDER_N + 1][64], paths[AUTO_LADDER_N + 1][4096];
    int n_models;
    pthread_mutex_t rate_lock;
    double tokens;
    int64_t rate_t;
    atomic_long refused;
};

/* per request: the body as it arrives */
struct req {
    char body[CONTROL_MAX_BODY + 1];
    size_t n;
    int too_big;
};

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 0;
}

static int read_token(struct http *h, const char *path, char *err, size_t en)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, en, "--http-token-file %s: %s", path, strerror(errno));
        return -EINVAL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        crisp_log(CRISP_LOG_WARN, "--http-token-file %s can be read by other users (chmod 600)", path);
    size_t n = fread(h->token, 1, sizeof(h->token) - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    while (n && (h->token[n - 1] == '\n' || h->token[n - 1] == '\r' || h->token[n - 1] == ' '))
        n--;
    h->token[n] = 0;
    if (more) {
        snprintf(err, en, "--http-token-file %s: longer than %zu bytes", path, sizeof(h->token) - 1);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (h->token[i] <= ' ' || h->token[i] > '~' || h->token[i] == ':') {
            snprintf(err, en, "--http-token-file %s: the token must be one line of printable "
                              "characters without spaces or ':'", path);
            return -EINVAL;
        }
    if (n < 16) {
        snprintf(err, en, "--http-token-file %s: the token must have at least 16 characters "
                          "(e.g. head -c 24 /dev/urandom | base64)", path);
        return -EINVAL;
    }
    h->token_len = n;
    return 0;
}

int http_create(struct http **out, struct pipeline *p, const char *addr, const char *token_file,
                char *err, size_t en)
{
    *out = NULL;
    char host[256];
    const char *colon = strrchr(addr, ':');
    const char *port_s = colon ? colon + 1 : "";
    char *end;
    long port = strtol(port_s, &end, 10);
    if (!colon || !*port_s || *end || port < 0 || port > 65535 ||
        (size_t)(colon - addr) >= sizeof(host) || colon == addr) {
        snprintf(err, en, "--http \"%s\": expected ADDR:PORT, e.g. 127.0.0.1:8642", addr);
        return -EINVAL;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    if (host[0] == '[') { /* [::1] */
        size_t l = strlen(host);
        if (l < 3 || host[l - 1] != ']') {
            snprintf(err, en, "--http \"%s\": an IPv6 address goes in brackets, e.g. [::1]:8642", addr);
            return -EINVAL;
        }
        memmove(host, host + 1, l - 2);
        host[l - 2] = 0;
    }
    struct http *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, en, "out of memory");
        return -ENOMEM;
    }
    h->p = p;
    h->fd = -1;
    pthread_mutex_init(&h->rate_lock, NULL);
    h->tokens = RATE_BURST;
    int ret = -EINVAL;
    if (token_file && (ret = read_token(h, token_file, err, en)) < 0)
        goto fail;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE},
                    *ai = NULL;
    int gr = getaddrinfo(host, port_s, &hints, &ai);
    if (gr) {
        snprintf(err, en, "--http \"%s\": %s", addr, gai_strerror(gr));
        ret = -EINVAL;
        goto fail;
    }
    const int loop = is_loopback(ai->ai_addr);
    if (ai->ai_family == AF_INET)
        h->wildcard = ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr == htonl(INADDR_ANY);
    else if (ai->ai_family == AF_INET6)
        h->wildcard = IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
    if (!loop && !h->token_len) {
        snprintf(err, en, "--http %s is not a loopback address: serving other hosts needs "
                          "--http-token-file FILE (docs/operations.md)", addr);
        freeaddrinfo(ai);
        ret = -EPERM;
        goto fail;
    }
    h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(h->fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(h->fd, 32) < 0) {
        snprintf(err, en, "--http %s: cannot listen: %s", addr, strerror(errno));
        ret = -errno;
        freeaddrinfo(ai);
        goto fail;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(h->fd, (struct sockaddr *)&ss, &sl);
    h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    /* the Host headers that name this server: the address given and localhost */
    const int v6 = strchr(host, ':') != NULL;
    const char *names[] = {"localhost", "127.0.0.1", "[::1]", NULL};
    char given[100];
    snprintf(given, sizeof(given), v6 ? "[%s]" : "%s", host);
    names[3] = given;
    for (int i = 0; i < 4; i++) {
        snprintf(h->hosts[h->n_hosts++], sizeof(h->hosts[0]), "%s", names[i]);
        snprintf(h->hosts[h->n_hosts++], sizeof(h->hosts[0]), "%s:%d", names[i], h->port);
    }
    *out = h;
    return 0;
fail:
    http_destroy(&h);
    return ret;
}

int http_port(const struct http *h)
{
    return h->port;
}

/* ---- responses ---- */

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned code, const char *type,
                                void *buf, size_t n, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, buf, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
                            "base-uri 'none'; form-action 'none'");
    if (code == 401) {
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"crispd\"");
        MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"crispd\", charset=\"UTF-8\"");
    }
    if (code == 405)
        MHD_add_response_header(r, "Allow", "GET, HEAD, POST");
    if (code == 429)
        MHD_add_response_header(r, "Retry-After", "1");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* {"error": "..."} with the message escaped */
static enum MHD_Result send_error(struct http *h, struct MHD_Connection *c, unsigned code,
                                  const char *msg)
{
    char esc[680], js[700];
    crisp_json_escape(esc, sizeof(esc), msg);
    snprintf(js, sizeof(js), "{\"error\": \"%s\"}\n", esc);
    if (code >= 400 && code != 404)
        atomic_fetch_add(&h->refused, 1);
    return send_buf(c, code, "application/json", js, strlen(js), MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result send_status(struct http *h, struct MHD_Connection *c)
{
    char *js = stats_json(h->p);
    if (!js)
        return send_error(h, c, 500, "out of memory");
    return send_buf(c, 200, "application/json", js, strlen(js), MHD_RESPMEM_MUST_FREE);
}

/* ---- checks ---- */

static int rate_ok(struct http *h)
{
    pthread_mutex_lock(&h->rate_lock);
    int64_t now = crisp_now_ns();
    if (h->rate_t)
        h->tokens += (now - h->rate_t) / 1e9 * RATE_PER_S;
    if (h->tokens > RATE_BURST)
        h->tokens = RATE_BURST;
    h->rate_t = now;
    int ok = h->tokens >= 1;
    if (ok)
        h->tokens -= 1;
    pthread_mutex_unlock(&h->rate_lock);
    return ok;
}

static int same(const char *a, size_t na, const char *b, size_t nb)
{
    unsigned char d = na != nb; /* constant time in the token's length */
    for (size_t i = 0; i < nb; i++)
        d |= (unsigned char)(a[i < na ? i : 0] ^ b[i]);
    return !d;
}

static int auth_ok(struct http *h, struct MHD_Connection *c)
{
    if (!h->token_len)
        return 1;
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!a)
        return 0;
    if (!strncasecmp(a, "Bearer ", 7)) {
        const char *t = a + 7;
        return same(t, strlen(t), h->token, h->token_len);
    }
    if (!strncasecmp(a, "Basic ", 6)) { /* a browser: any user name, the token as password */
        uint8_t dec[400];
        const char *b64 = a + 6;
        if (strlen(b64) > 500)
            return 0;
        int n = av_base64_decode(dec, b64, sizeof(dec) - 1);
        if (n <= 0)
            return 0;
        dec[n] = 0;
        char *colon = memchr(dec, ':', (size_t)n);
        if (!colon)
            return 0;
        const char *t = colon + 1;
        return same(t, (size_t)n - (size_t)(t - (char *)dec), h->token, h->token_len);
    }
    return 0;
}

static int host_ok(struct http *h, const char *host)
{
    if (!host)
        return 0;
    if (h->wildcard) /* bound to every address (a token is required): any name */
        return 1;
    for (int i = 0; i < h->n_hosts; i++)
        if (!strcasecmp(host, h->hosts[i]))
            return 1;
    return 0;
}

/* a browser's POST must come from this page: Origin http://<Host> */
static int origin_ok(struct MHD_Connection *c, const char *host)
{
    const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
        return 0;
    if (!o)
        return 1; /* not a browser (curl, crisp ctl, Prometheus) */
    return !strncmp(o, "http://", 7) && !strcasecmp(o + 7, host);
}

/* ---- endpoints ---- */

static enum MHD_Result do_preview(struct http *h, struct MHD_Connection *c)
{
    const char *side_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "side");
    const char *at_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "at");
    enum preview_side side = PREVIEW_OUT;
    if (side_s && !strcmp(side_s, "in"))
        side = PREVIEW_IN;
    else if (side_s && !strcmp(side_s, "split"))
        side = PREVIEW_SPLIT;
    else if (side_s && strcmp(side_s, "out"))
        return send_error(h, c, 400, "side must be in, out or split");
    double at = 0.5;
    if (at_s) {
        char *end;
        at = strtod(at_s, &end);
        if (!*at_s || *end || !(at >= 0 && at <= 1))
            return send_error(h, c, 400, "at must be a number from 0 to 1");
    }
    if (!h->p->pv)
        return send_error(h, c, 503, "no preview");
    uint8_t *jpeg;
    size_t n;
    char err[256];
    int r = preview_jpeg(h->p->pv, side, at, &jpeg, &n, err, sizeof(err));
    if (r < 0)
        return send_error(h, c, r == -EAGAIN ? 503 : 500, err);
    return send_buf(c, 200, "image/jpeg", jpeg, n, MHD_RESPMEM_MUST_FREE);
}

/* the model change on the main thread; 0 or < 0 with msg set */
static int ask_model(struct http *h, const char *name, char *msg, size_t n)
{
    struct pipeline *p = h->p;
    int ret;
    pthread_mutex_lock(&p->ctl_lock);
    if (p->ctl_state) {
        pthread_mutex_unlock(&p->ctl_lock);
        snprintf(msg, n, "another model change is in progress");
        return -EBUSY;
    }
    snprintf(p->ctl_model, sizeof(p->ctl_model), "%s", name);
    p->ctl_state = 1;
    const int64_t t0 = crisp_now_ns();
    while (p->ctl_state == 1) {
        if (atomic_load(&p->stop) || crisp_now_ns() - t0 > MODEL_WAIT_NS) {
            pthread_mutex_unlock(&p->ctl_lock);
            snprintf(msg, n, "crispd is stopping or busy; the model change may still apply");
            return -ETIMEDOUT;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&p->ctl_cond, &p->ctl_lock, &ts);
    }
    ret = p->ctl_ret;
    snprintf(msg, n, "%s", p->ctl_err);
    p->ctl_state = 0;
    pthread_mutex_unlock(&p->ctl_lock);
    return ret;
}

static enum MHD_Result do_control(struct http *h, struct MHD_Connection *c, struct req *rq)
{
    struct pipeline *p = h->p;
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    int json = type && !strncasecmp(type, "application/json", 16);
    if (!json && (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33)))
        return send_error(h, c, 415,
                          "Content-Type must be application/x-www-form-urlencoded or application/json");
    if (rq->too_big) {
        char m[96];
        snprintf(m, sizeof(m), "body larger than %d bytes", CONTROL_MAX_BODY);
        return send_error(h, c, 413, m);
    }
    struct control_req cr;
    char msg[300];
    if (control_parse(rq->body, rq->n, json, &cr, msg, sizeof(msg)) < 0)
        return send_error(h, c, 400, msg);
    if (p->o.bypass && (cr.has_model || cr.has_strength || (cr.has_bypass && !cr.bypass)))
        return send_error(h, c, 409, "crispd runs with --bypass and no model: restart it without "
                                     "--bypass to sharpen");
    if (cr.has_model) {
        int known = !strcmp(cr.model, "auto") && h->is_auto;
        for (int i = 0; i < h->n_models; i++)
            known |= !strcmp(cr.model, h->names[i]);
        if (!known) {
            char list[300] = "";
            for (int i = 0; i < h->n_models; i++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                         h->names[i]);
            snprintf(msg, sizeof(msg), "model \"%s\" is not installed (installed: %s%s)", cr.model,
                     list, h->is_auto ? "; or auto" : "");
            return send_error(h, c, 400, msg);
        }
        int r = ask_model(h, cr.model, msg, sizeof(msg));
        if (r < 0)
            return send_error(h, c, r == -EBUSY ? 409 : r == -ETIMEDOUT ? 503 : 500, msg);
    }
    if (cr.has_strength)
        atomic_store(&p->strength, (float)cr.strength);
    if (cr.has_bypass)
        atomic_store(&p->bypass, cr.bypass);
    crisp_log(CRISP_LOG_INFO, "control:%s%s%s%s%s", cr.has_strength ? " strength" : "",
              cr.has_bypass ? (cr.bypass ? " bypass on" : " bypass off") : "",
              cr.has_model ? " model " : "", cr.has_model ? cr.model : "", "");
    return send_status(h, c);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_n, void **con_cls)
{
    struct http *h = cls;
    struct req *rq = *con_cls;
    (void)version;
    const int post = !strcmp(method, "POST");
    static __thread int niced;
    if (!niced) { /* this connection's thread never competes with the frame path */
        niced = 1;
        if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HTTP_NICE) < 0)
            crisp_log(CRISP_LOG_DEBUG, "http: cannot lower this thread's priority: %s", strerror(errno));
    }
    if (!rq) { /* the headers: every check before the body is read */
        if (!(rq = calloc(1, sizeof(*rq))))
            return MHD_NO;
        *con_cls = rq;
        if (!rate_ok(h))
            return send_error(h, c, 429, "too many requests");
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
        if (!host_ok(h, host))
            return send_error(h, c, 421, "the Host header must name this server "
                                         "(localhost or the --http address)");
        if (!auth_ok(h, c))
            return send_error(h, c, 401, "a valid token is required "
                                         "(Authorization: Bearer TOKEN)");
        if (post && !origin_ok(c, host))
            return send_error(h, c, 403, "cross-site request refused (Origin)");
        const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (len && strtoll(len, NULL, 10) > CONTROL_MAX_BODY)
            rq->too_big = 1;
        if (post || *upload_n == 0)
            return MHD_YES; /* a body may follow (read in the next calls) */
    }
    if (*upload_n) { /* the body, in pieces */
        if (rq->n + *upload_n > CONTROL_MAX_BODY)
            rq->too_big = 1;
        else
            memcpy(rq->body + rq->n, upload, *upload_n);
        if (!rq->too_big)
            rq->n += *upload_n;
        *upload_n = 0;
        return MHD_YES;
    }
    if (post) {
        if (strcmp(url, "/control"))
            return send_error(h, c, strcmp(url, "/") && !www_find(url) && strcmp(url, "/metrics") &&
                                            strcmp(url, "/status") && strcmp(url, "/preview.jpg")
                                        ? 404
                                        : 405,
                              "POST goes to /control");
        if (rq->too_big) {
            char m[96];
            snprintf(m, sizeof(m), "body larger than %d bytes", CONTROL_MAX_BODY);
            return send_error(h, c, 413, m);
        }
        return do_control(h, c, rq);
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return send_error(h, c, 405, "only GET, HEAD and POST (to /control)");
    if (rq->n || rq->too_big)
        return send_error(h, c, 400, "a GET carries no body");
    if (!strcmp(url, "/metrics")) {
        char *txt = metrics_text(h->p, h->refused);
        if (!txt)
            return send_error(h, c, 500, "out of memory");
        return send_buf(c, 200, "text/plain; version=0.0.4; charset=utf-8", txt, strlen(txt),
                        MHD_RESPMEM_MUST_FREE);
    }
    if (!strcmp(url, "/status"))
        return send_status(h, c);
    if (!strcmp(url, "/preview.jpg"))
        return do_preview(h, c);
    if (!strcmp(url, "/control"))
        return send_error(h, c, 405, "/control takes a POST");
    if (!strcmp(url, "/models")) {
        char js[1200];
        size_t o = (size_t)snprintf(js, sizeof(js), "{\"models\": [");
        for (int i = 0; i < h->n_models; i++)
            o += (size_t)snprintf(js + o, sizeof(js) - o, "%s\"%s\"", i ? ", " : "", h->names[i]);
        snprintf(js + o, sizeof(js) - o, "], \"auto\": %s}\n", h->is_auto ? "true" : "false");
        return send_buf(c, 200, "application/json", js, strlen(js), MHD_RESPMEM_MUST_COPY);
    }
    const struct www_file *f = www_find(url);
    if (f)
        return send_buf(c, 200, f->type, (void *)f->data, f->n, MHD_RESPMEM_PERSISTENT);
    return send_error(h, c, 404, "no such page (/, /status, /metrics, /preview.jpg, /control)");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fm, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fm, ap);
    size_t l = strlen(msg);
    while (l && msg[l - 1] == '\n')
        msg[--l] = 0;
    crisp_log(CRISP_LOG_DEBUG, "http: %s", msg);
}

/* the models model= may name: the ladder (--model auto), else the ladder's
 * models beside the one in use, and the one in use */
static void note_models(struct http *h)
{
    struct pipeline *p = h->p;
    if (p->n_ladder) {
        h->is_auto = 1;
        for (int i = 0; i < p->n_ladder && i < AUTO_LADDER_N; i++) {
            snprintf(h->names[i], sizeof(h->names[i]), "%s", auto_model_name(p->ladder[i]));
            snprintf(h->paths[i], sizeof(h->paths[i]), "%s", p->ladder[i]);
        }
        h->n_models = p->n_ladder < AUTO_LADDER_N ? p->n_ladder : AUTO_LADDER_N;
        return;
    }
    if (!p->model_path)
        return;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", p->model_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof(dir), ".");
    for (int i = 0; i < AUTO_LADDER_N; i++) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%.4000s/%s.crisp", dir, AUTO_LADDER[i]) >= (int)sizeof(path))
            continue;
        if (access(path, R_OK) == 0) {
            snprintf(h->names[h->n_models], sizeof(h->names[0]), "%s", AUTO_LADDER[i]);
            snprintf(h->paths[h->n_models++], sizeof(h->paths[0]), "%s", path);
        }
    }
    const char *cur = auto_model_name(p->model_path);
    for (int i = 0; i < h->n_models; i++)
        if (!strcmp(h->names[i], cur))
            return;
    snprintf(h->names[h->n_models], sizeof(h->names[0]), "%s", cur);
    snprintf(h->paths[h->n_models++], sizeof(h->paths[0]), "%s", p->model_path);
}

int http_start(struct http *h, char *err, size_t en)
{
    note_models(h);
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, handle, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONN,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, en, "--http: cannot start the HTTP server (libmicrohttpd)");
        return -EIO;
    }
    h->fd = -1; /* libmicrohttpd owns it now */
    crisp_log(CRISP_LOG_INFO, "http: serving on port %d%s", h->port,
              h->token_len ? " (token required)" : "");
    return 0;
}

void http_destroy(struct http **ph)
{
    struct http *h = *ph;
    if (!h)
        return;
    struct pipeline *p = h->p;
    if (h->d) {
        pthread_mutex_lock(&p->ctl_lock); /* a model change nobody will do */
        if (p->ctl_state == 1) {
            p->ctl_ret = -ECANCELED;
            snprintf(p->ctl_err, sizeof(p->ctl_err), "crispd is stopping");
            p->ctl_state = 2;
            pthread_cond_broadcast(&p->ctl_cond);
        }
        pthread_mutex_unlock(&p->ctl_lock);
        MHD_stop_daemon(h->d);
    }
    if (h->fd >= 0)
        close(h->fd);
    pthread_mutex_destroy(&h->rate_lock);
    free(h);
    *ph = NULL;
}

void http_control_poll(struct pipeline *p)
{
    struct http *h = p->http;
    if (!h)
        return;
    char name[64];
    pthread_mutex_lock(&p->ctl_lock);
    int asked = p->ctl_state == 1;
    snprintf(name, sizeof(name), "%s", p->ctl_model);
    pthread_mutex_unlock(&p->ctl_lock);
    if (!asked)
        return;
    int ret = 0;
    char err[1024] = "";
    if (!strcmp(name, "auto")) {
        if (p->pinned)
            p->auto_rule = p->auto_rule_pinned;
        p->pinned = 0; /* the step-down watches again, from the model in use */
    } else {
        int i = 0;
        while (i < h->n_models && strcmp(h->names[i], name))
            i++;
        const char *path = i < h->n_models ? h->paths[i] : NULL;
        if (!path) {
            ret = -ENOENT;
            snprintf(err, sizeof(err), "model \"%s\" is not installed", name);
        } else if (p->model_path && !strcmp(path, p->model_path)) {
            ret = 0; /* already in use */
        } else if ((ret = pipeline_hand_over(p, path, NULL, err, sizeof(err))) == 0) {
            pipeline_set_model_path(p, path);
            for (int k = 0; k < p->n_ladder; k++)
                if (!strcmp(p->ladder[k], path))
                    p->ladder_at = k;
            if (p->n_ladder > 0 && !p->pinned) {
                p->auto_rule_pinned = p->auto_rule;
                p->auto_rule = AUTO_RULE_PINNED;
            }
            p->pinned = p->n_ladder > 0;
            crisp_log(CRISP_LOG_WARN, "control: model %s (at the next frame)%s", name,
                      p->pinned ? "; --model auto's step-down waits for model=auto" : "");
        }
    }
    pthread_mutex_lock(&p->ctl_lock);
    p->ctl_ret = ret;
    snprintf(p->ctl_err, sizeof(p->ctl_err), "%s", err);
    p->ctl_state = 2;
    pthread_cond_broadcast(&p->ctl_cond);
    pthread_mutex_unlock(&p->ctl_lock);
}
