// SPDX-License-Identifier: BSD-2-Clause
// POST /control's body parser (control.h): a form or a flat JSON object,
// checked key by key. No allocation; bounded by the body's length.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#define VAL_MAX 128 /* a value longer than this is refused */

/* user text for a one-line message: at most 40 bytes, anything but
 * printable ASCII shown as '?' */
static const char *shown(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    for (; s[i] && i < 40 && i + 1 < n; i++)
        buf[i] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
    buf[i] = 0;
    return buf;
}

/* one key's value, as text; quoted 1 when it was a JSON string */
static int set_key(struct control_req *r, const char *key, const char *val, int quoted,
                   int is_json_bool, char *err, size_t en)
{
    char sv[48];
    if (!strcmp(key, "strength")) {
        if (r->has_strength)
            goto twice;
        char *end;
        double x = strtod(val, &end);
        if (!*val || *end || quoted || !isfinite(x) || x < 0 || x > CONTROL_MAX_STRENGTH) {
            snprintf(err, en, "strength must be a number from 0 to %g (got \"%s\")",
                     CONTROL_MAX_STRENGTH, shown(val, sv, sizeof(sv)));
            return -EINVAL;
        }
        r->strength = x;
        r->has_strength = 1;
        return 0;
    }
    if (!strcmp(key, "bypass")) {
        if (r->has_bypass)
            goto twice;
        static const char *const on[] = {"on", "true", "1", "yes"}, *const off[] = {"off", "false", "0", "no"};
        int b = -1;
        for (int i = 0; i < 4; i++) {
            if (!strcmp(val, on[i]))
                b = 1;
            if (!strcmp(val, off[i]))
                b = 0;
        }
        (void)is_json_bool;
        if (b < 0) {
            snprintf(err, en, "bypass must be on or off (got \"%s\")", shown(val, sv, sizeof(sv)));
            return -EINVAL;
        }
        r->bypass = b;
        r->has_bypass = 1;
        return 0;
    }
    if (!strcmp(key, "model")) {
        if (r->has_model)
            goto twice;
        size_t l = strlen(val);
        int ok = l > 0 && l < sizeof(r->model);
        for (size_t i = 0; ok && i < l; i++) {
            char c = val[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        }
        if (!ok) {
            snprintf(err, en, "model must be a model's name (letters, digits, . _ -; got \"%s\")",
                     shown(val, sv, sizeof(sv)));
            return -EINVAL;
        }
        memcpy(r->model, val, l + 1);
        r->has_model = 1;
        return 0;
    }
    snprintf(err, en, "unknown key \"%s\" (strength, bypass, model)", shown(key, sv, sizeof(sv)));
    return -EINVAL;
twice:
    snprintf(err, en, "key \"%s\" given twice", key);
    return -EINVAL;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* form: key=value&...; %XX and + decoded */
static int parse_form(const char *s, size_t n, struct control_req *r, char *err, size_t en)
{
    size_t i = 0;
    while (i < n) {
        char key[VAL_MAX + 1], val[VAL_MAX + 1], *dst = key;
        size_t k = 0;
        int in_val = 0;
        for (; i < n && s[i] != '&'; i++) {
            char c = s[i];
            if (c == '=' && !in_val) {
                dst[k] = 0;
                dst = val;
                k = 0;
                in_val = 1;
                continue;
            }
            if (c == '+')
                c = ' ';
            else if (c == '%') {
                int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = h >= 0 ? hexval(s[i + 2]) : -1;
                if (h < 0 || l < 0) {
                    snprintf(err, en, "bad form: a %% at byte %zu is not followed by two hex digits", i);
                    return -EINVAL;
                }
                c = (char)(h * 16 + l);
                i += 2;
            }
            if (!c || k >= VAL_MAX) {
                snprintf(err, en, "bad form: %s at byte %zu", c ? "a key or value too long" : "a NUL byte", i);
                return -EINVAL;
            }
            dst[k++] = c;
        }
        dst[k] = 0;
        i++; /* the & */
        if (!in_val) {
            if (!key[0])
                continue; /* "a=1&&b=2", a trailing & */
            char sk[48];
            snprintf(err, en, "bad form: key \"%s\" has no value", shown(key, sk, sizeof(sk)));
            return -EINVAL;
        }
        int ret = set_key(r, key, val, 0, 0, err, en);
        if (ret < 0)
            return ret;
    }
    return 0;
}

struct js {
    const char *s;
    size_t n, i;
    char *err;
    size_t en;
};

static void ws(struct js *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r'))
        j->i++;
}

static int bad(struct js *j, const char *what)
{
    snprintf(j->err, j->en, "bad JSON at byte %zu: %s", j->i, what);
    return -EINVAL;
}

/* a string into out (ASCII only, escapes decoded) */
static int jstring(struct js *j, char *out, size_t cap)
{
    if (j->i >= j->n || j->s[j->i] != '"')
        return bad(j, "a string expected");
    j->i++;
    size_t k = 0;
    while (j->i < j->n && j->s[j->i] != '"') {
        unsigned char c = (unsigned char)j->s[j->i++];
        if (c < 0x20 || c >= 0x80)
            return bad(j, "only printable ASCII in strings");
        if (c == '\\') {
            if (j->i >= j->n)
                return bad(j, "unfinished escape");
            char e = j->s[j->i++];
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *p = strchr(from, e);
            if (e == 'u') {
                int v = 0;
                for (int d = 0; d < 4; d++) {
                    int h = j->i < j->n ? hexval(j->s[j->i++]) : -1;
                    if (h < 0)
                        return bad(j, "bad \\u escape");
                    v = v * 16 + h;
                }
                if (v < 0x20 || v >= 0x80)
                    return bad(j, "only printable ASCII in strings");
                c = (unsigned char)v;
            } else if (e && p) {
                c = (unsigned char)to[p - from];
            } else {
                return bad(j, "bad escape");
            }
        }
        if (k + 1 >= cap)
            return bad(j, "string too long");
        out[k++] = (char)c;
    }
    if (j->i >= j->n)
        return bad(j, "unterminated string");
    j->i++;
    out[k] = 0;
    return 0;
}

static int parse_json(const char *s, size_t n, struct control_req *r, char *err, size_t en)
{
    struct js j = {s, n, 0, err, en};
    ws(&j);
    if (j.i >= n || s[j.i] != '{')
        return bad(&j, "an object expected");
    j.i++;
    ws(&j);
    int first = 1;
    for (;;) {
        if (j.i < n && s[j.i] == '}') {
            j.i++;
            break;
        }
        if (!first) {
            if (j.i >= n || s[j.i] != ',')
                return bad(&j, "',' or '}' expected");
            j.i++;
            ws(&j);
        }
        first = 0;
        char key[VAL_MAX + 1], val[VAL_MAX + 1];
        int ret = jstring(&j, key, sizeof(key));
        if (ret < 0)
            return ret;
        ws(&j);
        if (j.i >= n || s[j.i] != ':')
            return bad(&j, "':' expected");
        j.i++;
        ws(&j);
        int quoted = 0, is_bool = 0;
        if (j.i < n && s[j.i] == '"') {
            if ((ret = jstring(&j, val, sizeof(val))) < 0)
                return ret;
            quoted = 1;
        } else { /* a number, true or false */
            size_t k = 0;
            while (j.i < n && k < VAL_MAX && strchr("0123456789+-.eEtruefalsn", s[j.i]))
                val[k++] = s[j.i++];
            val[k] = 0;
            if (!k)
                return bad(&j, "a value expected");
            if (!strcmp(val, "true") || !strcmp(val, "false"))
                is_bool = 1;
            else if (!strchr("-0123456789", val[0]))
                return bad(&j, "a number, a string, true or false expected");
        }
        if ((ret = set_key(r, key, val, quoted, is_bool, err, en)) < 0)
            return ret;
        ws(&j);
    }
    ws(&j);
    if (j.i != n)
        return bad(&j, "text after the object");
    return 0;
}

int control_parse(const char *body, size_t n, int json, struct control_req *r, char *err,
                  size_t en)
{
    memset(r, 0, sizeof(*r));
    if (n > CONTROL_MAX_BODY) {
        snprintf(err, en, "body larger than %d bytes", CONTROL_MAX_BODY);
        return -EINVAL;
    }
    int ret = json ? parse_json(body, n, r, err, en) : parse_form(body, n, r, err, en);
    if (ret == 0 && !r->has_strength && !r->has_bypass && !r->has_model) {
        snprintf(err, en, "nothing to change: give strength, bypass or model");
        ret = -EINVAL;
    }
    if (ret < 0)
        memset(r, 0, sizeof(*r));
    return ret;
}
