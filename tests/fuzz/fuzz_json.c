// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target for the JSON reader of crisp ab (tools/json.h): answer files
// come from raters' browsers and from anyone who reaches `crisp ab serve`.
// A parsed text gives a well-formed tree (objects' members named, strings
// NUL-terminated without an embedded NUL, numbers finite); a refused one a
// one-line message.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct json *j, int in_obj, int depth)
{
    if (depth > 70 || (in_obj && !j->key))
        abort();
    size_t n = 1;
    switch (j->type) {
    case JSON_NUM:
        if (!isfinite(j->num))
            abort();
        break;
    case JSON_STR:
        if (!j->str)
            abort();
        (void)strlen(j->str);
        break;
    case JSON_ARR:
    case JSON_OBJ:
        if (j->n < 0 || (j->n && !j->kids))
            abort();
        for (int i = 0; i < j->n; i++)
            n += walk(&j->kids[i], j->type == JSON_OBJ, depth + 1);
        break;
    case JSON_BOOL:
        if (j->num != 0 && j->num != 1)
            abort();
        break;
    case JSON_NULL: break;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    struct json *j = json_parse((const char *)data, size, err, sizeof(err));
    if (!j) {
        if (!err[0] || strchr(err, '\n'))
            abort();
        return 0;
    }
    if (walk(j, 0, 0) > size + 1)
        abort();
    (void)json_get(j, "test");
    (void)json_str(j, "rater");
    json_free(j);
    return 0;
}
