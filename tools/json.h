// SPDX-License-Identifier: BSD-2-Clause
// A small JSON reader for the files the crisp tool reads back (crisp ab's
// key and vote files): the whole text parsed into a tree. Main thread.
#ifndef CRISP_TOOLS_JSON_H
#define CRISP_TOOLS_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
    enum json_type type;
    double num;          /* JSON_NUM; JSON_BOOL: 0 or 1 */
    char *str;           /* JSON_STR: UTF-8, NUL-terminated (an embedded \u0000 is refused) */
    char *key;           /* a member of an object: its name */
    struct json *kids;   /* JSON_ARR, JSON_OBJ: n elements or members */
    int n;
};

/* Parses len bytes (nesting at most 64 deep); NULL with err filled
 * ("line L column C: what") on bad JSON or when memory runs out. */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* Reads and parses a file of at most max_bytes; NULL with err naming the file. */
struct json *json_read_file(const char *path, size_t max_bytes, char *err, size_t errlen);
void json_free(struct json *j);
/* An object's member, or NULL (not an object, or no such key). */
const struct json *json_get(const struct json *obj, const char *key);
/* The member's string, or NULL when absent or not a string. */
const char *json_str(const struct json *obj, const char *key);

#endif
