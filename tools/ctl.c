// SPDX-License-Identifier: BSD-2-Clause
// crisp ctl: steers a running crispd through its control surface (crispd
// --http; docs/operations.md) with libcurl: status, metrics, strength,
// bypass, model. Prints the answer (the new status for changes) on stdout;
// a refusal prints crispd's one-line message and exits 1.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "crisp/log.h"
#include "ctl.h"
#include "args.h"


#define fail crisp_fail

static const char CTL_USAGE[] =
    "usage: crisp ctl [--http ADDR:PORT] [--token-file FILE] COMMAND\n"
    "  status | metrics | strength S | bypass on|off | model NAME|auto\n"
    "  set KEY VALUE [KEY VALUE ...]   (keys: strength, bypass, model)\n"
    "  --http: crispd's --http address [$CRISPD_HTTP, else 127.0.0.1:8642]\n"
    "  --token-file: the file of crispd's --http-token-file, when it has one\n";

struct body {
    char *s;
    size_t n;
};

static size_t on_data(char *p, size_t sz, size_t nm, void *u)
{
    struct body *b = u;
    size_t k = sz * nm;
    if (b->n + k > (1u << 22))
        return 0; /* more than 4 MiB: not crispd */
    char *s = realloc(b->s, b->n + k + 1);
    if (!s)
        return 0;
    memcpy(s + b->n, p, k);
    b->s = s;
    b->n += k;
    s[b->n] = 0;
    return k;
}

/* the "error" string of crispd's {"error": "..."} answer, unescaped */
static void error_text(const char *js, char *out, size_t n)
{
    const char *e = js ? strstr(js, "\"error\": \"") : NULL;
    size_t o = 0;
    if (e) {
        for (e += 10; *e && *e != '"' && o + 1 < n; e++) {
            if (*e == '\\' && e[1])
                e++;
            out[o++] = *e;
        }
    }
    out[o] = 0;
}

static int read_token(const char *path, char *tok, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t k = fread(tok, 1, n - 1, f);
    fclose(f);
    while (k && (tok[k - 1] == '\n' || tok[k - 1] == '\r' || tok[k - 1] == ' '))
        k--;
    tok[k] = 0;
    return 0;
}

/* appends key=value (URL-encoded) to a form */
static int form_add(CURL *c, char *form, size_t n, const char *key, const char *val)
{
    char *v = curl_easy_escape(c, val, 0);
    if (!v)
        return -1;
    size_t l = strlen(form);
    int k = snprintf(form + l, n - l, "%s%s=%s", l ? "&" : "", key, v);
    curl_free(v);
    return k < 0 || (size_t)k >= n - l ? -1 : 0;
}

int cmd_ctl(int argc, char **argv)
{
    static const struct option lo[] = {{"http", 1, 0, 'a'}, {"token-file", 1, 0, 't'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *addr = getenv("CRISPD_HTTP"), *token_file = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
        if (c == 'a')
            addr = optarg;
        else if (c == 't')
            token_file = optarg;
        else if (c == 'h') {
            fputs(CTL_USAGE, stdout);
            return EXIT_OK;
        } else
            return fail(EXIT_USAGE, "ctl: unknown option %s (see crisp ctl -h)", argv[optind - 1]);
    }
    if (!addr || !*addr)
        addr = "127.0.0.1:8642";
    if (optind >= argc)
        return fail(EXIT_USAGE, "ctl: a command is required (status, metrics, strength, bypass, "
                                "model, set)");
    const char *cmd = argv[optind++];
    int nargs = argc - optind;
    char **args = argv + optind;
    const char *path = NULL;
    if (!strcmp(cmd, "status") || !strcmp(cmd, "metrics")) {
        if (nargs)
            return fail(EXIT_USAGE, "ctl %s takes no argument", cmd);
        path = !strcmp(cmd, "status") ? "/status" : "/metrics";
    } else if (!strcmp(cmd, "strength") || !strcmp(cmd, "bypass") || !strcmp(cmd, "model")) {
        if (nargs != 1)
            return fail(EXIT_USAGE, "ctl %s needs one value", cmd);
    } else if (!strcmp(cmd, "set")) {
        if (!nargs || nargs % 2)
            return fail(EXIT_USAGE, "ctl set needs KEY VALUE pairs (strength, bypass, model)");
    } else {
        return fail(EXIT_USAGE, "ctl: unknown command \"%s\" (see crisp ctl -h)", cmd);
    }
    char token[300] = "";
    if (token_file && read_token(token_file, token, sizeof(token)) < 0)
        return fail(EXIT_INPUT, "ctl: cannot read --token-file %s", token_file);
    if (curl_global_init(CURL_GLOBAL_DEFAULT))
        return fail(EXIT_INPUT, "ctl: libcurl failed to start");
    CURL *cu = curl_easy_init();
    struct curl_slist *hdr = NULL;
    struct body b = {0};
    char url[600], form[1024] = "", auth[400];
    int ret = EXIT_INPUT;
    if (!cu)
        goto done;
    if (!path) {
        if (!strcmp(cmd, "set")) {
            for (int i = 0; i < nargs; i += 2)
                if (form_add(cu, form, sizeof(form), args[i], args[i + 1]) < 0) {
                    fail(EXIT_USAGE, "ctl set: arguments too long");
                    ret = EXIT_USAGE;
                    goto done;
                }
        } else if (form_add(cu, form, sizeof(form), cmd, args[0]) < 0) {
            fail(EXIT_USAGE, "ctl %s: value too long", cmd);
            ret = EXIT_USAGE;
            goto done;
        }
        path = "/control";
        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, form);
    }
    snprintf(url, sizeof(url), "http://%s%s", addr, path);
    if (token[0]) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, 60L); /* a model change builds a network */
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    CURLcode cr = curl_easy_perform(cu);
    if (cr != CURLE_OK) {
        fail(EXIT_INPUT, "ctl: cannot reach crispd at %s: %s (is it running with --http %s?)", addr,
             curl_easy_strerror(cr), addr);
        goto done;
    }
    long code = 0;
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        char msg[600];
        error_text(b.s, msg, sizeof(msg));
        fail(EXIT_INPUT, "ctl: crispd refused (HTTP %ld): %s", code, msg[0] ? msg : "no message");
        goto done;
    }
    if (b.s)
        fputs(b.s, stdout);
    ret = EXIT_OK;
done:
    curl_slist_free_all(hdr);
    if (cu)
        curl_easy_cleanup(cu);
    curl_global_cleanup();
    free(b.s);
    return ret;
}
