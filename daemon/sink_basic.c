// SPDX-License-Identifier: BSD-2-Clause
// Sinks null: and hash:FILE (sink.h): the outputs that let tests run the
// whole pipeline without a device. null: discards every frame; hash: writes
// one MD5 line per frame, the digest ffmpeg's framemd5 muxer prints for
// rawvideo yuv420p, so tests compare crispd with the ffmpeg CLI.
//
// open() and close() run on the main thread, write() on the sink thread.
// hash: owns its FILE and its MD5 context.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/md5.h>
#include <libavutil/mem.h>

#include "sink.h"

static int null_open(struct sink *s, const char *a, const struct sink_params *sp, char *e, size_t n)
{
    return 0;
}
static int null_write(struct sink *s, const struct crisp_frame *f, int64_t pts_us) { return 0; }
static int null_close(struct sink *s) { return 0; }

static int hash_open(struct sink *s, const char *a, const struct sink_params *sp, char *e, size_t n)
{
    s->fp = fopen(a, "w");
    s->md5 = av_md5_alloc();
    if (!s->fp || !s->md5) {
        snprintf(e, n, "%s: %s", a, strerror(errno));
        if (s->fp)
            fclose(s->fp);
        s->fp = NULL;
        av_free(s->md5);
        s->md5 = NULL;
        return -errno;
    }
    return 0;
}

/* MD5 of the packed planes */
static int hash_write(struct sink *s, const struct crisp_frame *f, int64_t pts_us)
{
    uint8_t d[16];
    av_md5_init(s->md5);
    for (int p = 0; p < 3; p++) {
        int pw = p ? f->w / 2 : f->w, ph = p ? f->h / 2 : f->h;
        for (int y = 0; y < ph; y++)
            av_md5_update(s->md5, f->data[p] + (size_t)y * f->stride[p], pw);
    }
    av_md5_final(s->md5, d);
    for (int i = 0; i < 16; i++)
        fprintf(s->fp, "%02x", d[i]);
    /* a line per frame, flushed: tests read the hashes while crispd runs */
    return fputc('\n', s->fp) == EOF || fflush(s->fp) ? -EIO : 0;
}

static int hash_close(struct sink *s)
{
    av_free(s->md5);
    int r = s->fp && fclose(s->fp) != 0 ? -errno : 0;
    s->fp = NULL;
    return r;
}

const struct sink crispd_sink_null = {
    .name = "null", .open = null_open, .write = null_write, .close = null_close};
const struct sink crispd_sink_hash = {
    .name = "hash", .open = hash_open, .write = hash_write, .close = hash_close};
