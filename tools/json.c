// SPDX-License-Identifier: BSD-2-Clause
// json.h: a recursive-descent parser (RFC 8259) into a tree. Main thread.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
    const char *s, *end, *start;
    char *err;
    size_t errlen;
    int failed;
};

static void perr(struct parser *p, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    int line = 1, col = 1;
    for (const char *c = p->start; c < p->s && c < p->end; c++) {
        if (*c == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "line %d column %d: %s", line, col, what);
}

static void skip_ws(struct parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static int hex4(struct parser *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (p->s >= p->end) {
            perr(p, "a \\u escape is cut short");
            return -1;
        }
        char c = *p->s++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else {
            perr(p, "a \\u escape has a non-hex digit");
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* a string after its opening quote, into a malloc'd UTF-8 copy */
static char *parse_string(struct parser *p)
{
    /* the decoded text is never longer than the source */
    const char *q = p->s;
    size_t cap = 1;
    while (q < p->end && *q != '"') {
        if (*q == '\\' && q + 1 < p->end)
            q++;
        q++;
        cap++;
    }
    char *out = malloc(cap + 8), *o = out;
    if (!out) {
        perr(p, "out of memory");
        return NULL;
    }
    for (;;) {
        if (p->s >= p->end) {
            perr(p, "a string is not closed");
            break;
        }
        unsigned char c = (unsigned char)*p->s++;
        if (c == '"') {
            *o = 0;
            return out;
        }
        if (c < 0x20) {
            perr(p, "a control character inside a string");
            break;
        }
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        if (p->s >= p->end) {
            perr(p, "a string is not closed");
            break;
        }
        char e = *p->s++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (simple && e) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            *o++ = map[simple - "\"\\/bfnrt"];
            continue;
        }
        if (e != 'u') {
            if (e > 0x20 && e < 0x7f)
                perr(p, "unknown escape \\%c", e);
            else
                perr(p, "unknown escape: backslash and byte 0x%02x", (unsigned char)e);
            break;
        }
        unsigned cp;
        if (hex4(p, &cp) < 0)
            break;
        if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
            unsigned lo;
            if (p->end - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u') {
                perr(p, "a lone surrogate in a \\u escape");
                break;
            }
            p->s += 2;
            if (hex4(p, &lo) < 0)
                break;
            if (lo < 0xdc00 || lo > 0xdfff) {
                perr(p, "a lone surrogate in a \\u escape");
                break;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            perr(p, "a lone surrogate in a \\u escape");
            break;
        }
        if (cp == 0) {
            perr(p, "\\u0000 inside a string");
            break;
        }
        if (cp < 0x80) {
            *o++ = (char)cp;
        } else if (cp < 0x800) {
            *o++ = (char)(0xc0 | (cp >> 6));
            *o++ = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            *o++ = (char)(0xe0 | (cp >> 12));
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
            *o++ = (char)(0x80 | (cp & 0x3f));
        } else {
            *o++ = (char)(0xf0 | (cp >> 18));
            *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
            *o++ = (char)(0x80 | (cp & 0x3f));
        }
    }
    free(out);
    return NULL;
}

static int parse_value(struct parser *p, struct json *v, int depth);

static int add_kid(struct parser *p, struct json *v, int *cap)
{
    if (v->n == *cap) {
        int nc = *cap ? *cap * 2 : 4;
        struct json *k = realloc(v->kids, sizeof(*k) * (size_t)nc);
        if (!k) {
            perr(p, "out of memory");
            return -1;
        }
        v->kids = k;
        *cap = nc;
    }
    memset(&v->kids[v->n], 0, sizeof(v->kids[0]));
    v->n++;
    return 0;
}

static int parse_container(struct parser *p, struct json *v, int depth, char close)
{
    int cap = 0;
    skip_ws(p);
    if (p->s < p->end && *p->s == close) {
        p->s++;
        return 0;
    }
    for (;;) {
        if (add_kid(p, v, &cap) < 0)
            return -1;
        struct json *k = &v->kids[v->n - 1];
        skip_ws(p);
        if (close == '}') {
            if (p->s >= p->end || *p->s != '"') {
                perr(p, "an object member's name must be a string");
                return -1;
            }
            p->s++;
            if (!(k->key = parse_string(p)))
                return -1;
            skip_ws(p);
            if (p->s >= p->end || *p->s != ':') {
                perr(p, "':' expected after a member's name");
                return -1;
            }
            p->s++;
        }
        if (parse_value(p, k, depth + 1) < 0)
            return -1;
        skip_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == close) {
            p->s++;
            return 0;
        }
        perr(p, "',' or '%c' expected", close);
        return -1;
    }
}

static int parse_number(struct parser *p, struct json *v)
{
    const char *b = p->s;
    if (p->s < p->end && *p->s == '-')
        p->s++;
    if (p->s >= p->end || *p->s < '0' || *p->s > '9') {
        perr(p, "a value expected");
        return -1;
    }
    if (*p->s == '0')
        p->s++;
    else
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    if (p->s < p->end && *p->s == '.') {
        p->s++;
        if (p->s >= p->end || *p->s < '0' || *p->s > '9') {
            perr(p, "a digit expected after '.'");
            return -1;
        }
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
        p->s++;
        if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
            p->s++;
        if (p->s >= p->end || *p->s < '0' || *p->s > '9') {
            perr(p, "a digit expected in an exponent");
            return -1;
        }
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    char buf[64];
    size_t l = (size_t)(p->s - b);
    if (l >= sizeof(buf)) {
        perr(p, "a number of more than 63 characters");
        return -1;
    }
    memcpy(buf, b, l);
    buf[l] = 0;
    v->type = JSON_NUM;
    v->num = strtod(buf, NULL);
    if (!isfinite(v->num)) {
        perr(p, "a number out of range");
        return -1;
    }
    return 0;
}

static int word(struct parser *p, const char *w)
{
    size_t l = strlen(w);
    if ((size_t)(p->end - p->s) >= l && !memcmp(p->s, w, l)) {
        p->s += l;
        return 1;
    }
    return 0;
}

static int parse_value(struct parser *p, struct json *v, int depth)
{
    if (depth > 64) {
        perr(p, "nested more than 64 deep");
        return -1;
    }
    skip_ws(p);
    if (p->s >= p->end) {
        perr(p, "a value expected, the text ends");
        return -1;
    }
    switch (*p->s) {
    case '{': p->s++; v->type = JSON_OBJ; return parse_container(p, v, depth, '}');
    case '[': p->s++; v->type = JSON_ARR; return parse_container(p, v, depth, ']');
    case '"':
        p->s++;
        v->type = JSON_STR;
        return (v->str = parse_string(p)) ? 0 : -1;
    default: break;
    }
    if (word(p, "true") || word(p, "false")) {
        v->type = JSON_BOOL;
        v->num = p->s[-1] == 'e' && p->s[-2] == 'u';
        return 0;
    }
    if (word(p, "null")) {
        v->type = JSON_NULL;
        return 0;
    }
    return parse_number(p, v);
}

static void free_kids(struct json *j)
{
    for (int i = 0; i < j->n; i++)
        free_kids(&j->kids[i]);
    free(j->kids);
    free(j->str);
    free(j->key);
}

void json_free(struct json *j)
{
    if (!j)
        return;
    free_kids(j);
    free(j);
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct parser p = {.s = text, .end = text + len, .start = text, .err = err, .errlen = errlen};
    struct json *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (parse_value(&p, v, 0) == 0) {
        skip_ws(&p);
        if (p.s != p.end)
            perr(&p, "text after the value");
    }
    if (p.failed) {
        json_free(v);
        return NULL;
    }
    return v;
}

struct json *json_read_file(const char *path, size_t max_bytes, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max_bytes + 1);
    size_t n = buf ? fread(buf, 1, max_bytes + 1, f) : 0;
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr || n > max_bytes) {
        snprintf(err, errlen, "%s: %s", path,
                 !buf ? "out of memory" : rerr ? "read error" : "larger than the limit for this file");
        free(buf);
        return NULL;
    }
    char why[256];
    struct json *j = json_parse(buf, n, why, sizeof(why));
    free(buf);
    if (!j)
        snprintf(err, errlen, "%s: not valid JSON: %s", path, why);
    return j;
}

const struct json *json_get(const struct json *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJ)
        return NULL;
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->kids[i].key, key))
            return &obj->kids[i];
    return NULL;
}

const char *json_str(const struct json *obj, const char *key)
{
    const struct json *v = json_get(obj, key);
    return v && v->type == JSON_STR ? v->str : NULL;
}
