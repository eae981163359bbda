// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisp/util.h"

uint32_t crisp_crc32(uint32_t crc, const void *buf, size_t len)
{
    static uint32_t table[256];
    static int init; /* benign race: every thread computes the same table */
    if (!__atomic_load_n(&init, __ATOMIC_ACQUIRE)) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        __atomic_store_n(&init, 1, __ATOMIC_RELEASE);
    }
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

void *crisp_aalloc(size_t size)
{
    if (size > SIZE_MAX - 128)
        return NULL;
    size_t rounded = (size + 63) & ~(size_t)63;
    if (rounded == 0)
        rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p)
        memset(p, 0, rounded);
    return p;
}

void crisp_afree(void *p) { free(p); }

int crisp_file_read(const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int err = 0;
    uint8_t *b = NULL;
    if (fstat(fd, &st) < 0) {
        err = -errno;
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        err = -EISDIR;
        goto fail;
    }
    if (st.st_size > (1 << 30)) {
        err = CRISP_EBADFILE;
        goto fail;
    }
    size_t size = (size_t)st.st_size;
    b = malloc(size ? size : 1);
    if (!b) {
        err = -ENOMEM;
        goto fail;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, b + got, size - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = -errno;
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = got;
    return 0;
fail:
    free(b);
    close(fd);
    return err;
}

int crisp_file_write(const char *path, const void *buf, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int err = -errno;
            close(fd);
            unlink(tmp);
            return err;
        }
        done += (size_t)w;
    }
    if (fsync(fd) < 0 && errno != EINVAL) {
        int err = -errno;
        close(fd);
        unlink(tmp);
        return err;
    }
    if (close(fd) < 0) {
        int err = -errno;
        unlink(tmp);
        return err;
    }
    if (rename(tmp, path) < 0) {
        int err = -errno;
        unlink(tmp);
        return err;
    }
    return 0;
}

void crisp_rng_seed(struct crisp_rng *r, uint64_t seed) { r->s = seed; }

uint64_t crisp_rng_u64(struct crisp_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double crisp_rng_uniform(struct crisp_rng *r) { return (double)(crisp_rng_u64(r) >> 11) * 0x1.0p-53; }

double crisp_rng_normal(struct crisp_rng *r)
{
    double u1 = crisp_rng_uniform(r);
    double u2 = crisp_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int crisp_exe_dir(char *buf, size_t n)
{
    if (n < 2)
        return -EINVAL;
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0)
        return len < 0 ? -errno : -ENOENT;
    buf[len] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -ENOENT;
    *slash = 0;
    return 0;
}

void crisp_orient(float *dst, const float *src, int w, int h, int o, int inverse)
{
    const int ow = (o & 4) ? h : w, oh = (o & 4) ? w : h;
    for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++) {
            int a = i, b = j;
            if (o & 4) {
                int t = a;
                a = b;
                b = t;
            }
            if (o & 1)
                a = h - 1 - a;
            if (o & 2)
                b = w - 1 - b;
            if (inverse)
                dst[(size_t)a * w + b] = src[(size_t)i * ow + j];
            else
                dst[(size_t)i * ow + j] = src[(size_t)a * w + b];
        }
}

void crisp_json_escape(char *out, size_t n, const char *s)
{
    size_t o = 0;
    if (!n)
        return;
    for (; *s && o + 7 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, n - o, "\\%c", c);
        else if (c < 0x20)
            o += (size_t)snprintf(out + o, n - o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = 0;
}
