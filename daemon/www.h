// SPDX-License-Identifier: BSD-2-Clause
// The status page's files (daemon/www/), embedded at build time by
// daemon/embed_www.py into www.c: nothing is read from disk at run time.
#ifndef CRISPD_WWW_H
#define CRISPD_WWW_H

#include <stddef.h>

struct www_file {
    const char *path, *type;
    const unsigned char *data;
    size_t n;
};

/* the file served at `url` ("/" is index.html), or NULL */
const struct www_file *www_find(const char *url);

#endif
