// SPDX-License-Identifier: BSD-2-Clause
// The weights file: writer and defensive parser (docs/weights-format.md).
// The parser trusts nothing: every count and offset is bounded before it is
// used, and every error names the field and its byte offset.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/util.h"
#include "internal.h"

static const char MAGIC[8] = {'C', 'R', 'I', 'S', 'P', 'W', 'T', 0};
enum {
    HDR_SIZE = 112,
    LAYER_SIZE = 48,
    TENSOR_SIZE = 32,
    DTYPE_F32 = 1,
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static float rdf(const uint8_t *p)
{
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}
static void wrf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    wr32(p, u);
}

static size_t align64(size_t v) { return (v + 63) & ~(size_t)63; }

struct entry {
    uint32_t layer, role;
    uint64_t count, offset;
    size_t at; /* byte offset of the table entry, for messages */
};

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        crisp_seterr(err, errlen, __VA_ARGS__);                                                    \
        ret = (code);                                                                              \
        goto fail;                                                                                 \
    } while (0)

int crisp_weights_parse(struct crisp_model **out, const uint8_t *buf, size_t len, char *err,
                        size_t errlen)
{
    *out = NULL;
    int ret;
    struct crisp_model *m = NULL;
    struct entry *ents = NULL;
    char why[192];

    if (len < HDR_SIZE + 4)
        FAIL(CRISP_EBADFILE, "file is %zu bytes, shorter than the %d-byte header and checksum", len,
             HDR_SIZE + 4);
    if (memcmp(buf, MAGIC, 8))
        FAIL(CRISP_EBADFILE, "magic at offset 0 is not \"CRISPWT\" (not a crisp weights file)");
    uint32_t version = rd32(buf + 8);
    if (version != CRISP_WEIGHTS_VERSION)
        FAIL(CRISP_EVERSION, "version at offset 8 is %u, this build reads version %d", version,
             CRISP_WEIGHTS_VERSION);
    uint32_t hsize = rd32(buf + 12);
    if (hsize != HDR_SIZE)
        FAIL(CRISP_EBADFILE, "header_size at offset 12 is %u (expected %d)", hsize, HDR_SIZE);
    uint32_t n_layers = rd32(buf + 32), n_tensors = rd32(buf + 36);
    if (n_layers < 1 || n_layers > CRISP_MAX_LAYERS)
        FAIL(CRISP_EBADFILE, "n_layers at offset 32 is %u (must be 1..%d)", n_layers,
             CRISP_MAX_LAYERS);
    if (n_tensors > n_layers * (uint32_t)CRISP_ROLE_COUNT)
        FAIL(CRISP_EBADFILE, "n_tensors at offset 36 is %u (at most %u for %u layers)", n_tensors,
             n_layers * (uint32_t)CRISP_ROLE_COUNT, n_layers);
    uint64_t layers_off = rd64(buf + 40), tensors_off = rd64(buf + 48);
    uint64_t data_off = rd64(buf + 56), data_size = rd64(buf + 64);
    if (layers_off != HDR_SIZE)
        FAIL(CRISP_EBADFILE, "layers_offset at offset 40 is %llu (expected %d)",
             (unsigned long long)layers_off, HDR_SIZE);
    uint64_t want_t = layers_off + (uint64_t)n_layers * LAYER_SIZE;
    if (tensors_off != want_t)
        FAIL(CRISP_EBADFILE, "tensors_offset at offset 48 is %llu (expected %llu)",
             (unsigned long long)tensors_off, (unsigned long long)want_t);
    uint64_t want_d = align64(want_t + (uint64_t)n_tensors * TENSOR_SIZE);
    if (data_off != want_d)
        FAIL(CRISP_EBADFILE, "data_offset at offset 56 is %llu (expected %llu)",
             (unsigned long long)data_off, (unsigned long long)want_d);
    if (data_size > len || data_off > len - 4 - data_size || data_off + data_size + 4 != len) {
        int fits = data_size <= len && data_off <= len - 4 - data_size;
        FAIL(CRISP_EBADFILE,
             "data_size at offset 64 is %llu, so the file should end at byte %llu, but it has %zu "
             "bytes (%s)",
             (unsigned long long)data_size,
             data_size > UINT64_MAX - data_off - 4 ? 0ull
                                                   : (unsigned long long)(data_off + data_size + 4),
             len, fits ? "trailing bytes" : "truncated");
    }
    if (rd32(buf + 72) != 0 || rd32(buf + 76) != 0)
        FAIL(CRISP_EBADFILE, "reserved fields at offset 72 must be zero");
    if (!memchr(buf + 80, 0, 32))
        FAIL(CRISP_EBADFILE, "name at offset 80 is not NUL-terminated within 32 bytes");

    m = calloc(1, sizeof(*m));
    if (!m)
        FAIL(-ENOMEM, "out of memory");
    memcpy(m->name, buf + 80, 32);
    m->color = (enum crisp_color_mode)rd32(buf + 16);
    m->output = (enum crisp_output_mode)rd32(buf + 20);
    m->range_max = rdf(buf + 24);
    uint32_t border = rd32(buf + 28);
    if (border > 64)
        FAIL(CRISP_EBADFILE, "border at offset 28 is %u (must be 0..64)", border);
    m->border = (int)border;
    m->n_layers = (int)n_layers;
    m->layers = calloc(n_layers, sizeof(*m->layers));
    if (!m->layers)
        FAIL(-ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n_layers; i++) {
        const uint8_t *p = buf + layers_off + (size_t)i * LAYER_SIZE;
        size_t at = (size_t)(p - buf);
        struct crisp_layer *l = &m->layers[i];
        uint32_t type = rd32(p);
        if (!crisp_layer_row((int)type))
            FAIL(CRISP_EBADFILE, "layer %u: unknown type %u at offset %zu", i, type, at);
        l->type = (enum crisp_layer_type)type;
        l->skip = (int32_t)rd32(p + 4);
        uint32_t cout = rd32(p + 8), k = rd32(p + 12), stride = rd32(p + 16),
                 factor = rd32(p + 20);
        if (cout > CRISP_MAX_CHANNELS || k > CRISP_MAX_KERNEL || stride > 2 ||
            factor > CRISP_MAX_FACTOR)
            FAIL(CRISP_EBADFILE,
                 "layer %u (%s) at offset %zu: cout=%u k=%u stride=%u factor=%u out of range", i,
                 crisp_layer_type_name((int)type), at, cout, k, stride, factor);
        l->cout = (int)cout;
        l->k = (int)k;
        l->stride = (int)stride;
        l->factor = (int)factor;
        l->alpha = rdf(p + 24);
        l->lo = rdf(p + 28);
        l->hi = rdf(p + 32);
        l->eps = rdf(p + 36);
        if (rd32(p + 40) || rd32(p + 44))
            FAIL(CRISP_EBADFILE, "layer %u: reserved fields at offset %zu must be zero", i,
                 at + 40);
    }
    if ((ret = crisp_model_validate(m, why, sizeof(why))) < 0)
        FAIL(ret, "model description (offset %d): %s", HDR_SIZE, why);

    ents = calloc(n_tensors ? n_tensors : 1, sizeof(*ents));
    if (!ents)
        FAIL(-ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n_tensors; i++) {
        const uint8_t *p = buf + tensors_off + (size_t)i * TENSOR_SIZE;
        struct entry *e = &ents[i];
        e->at = (size_t)(p - buf);
        e->layer = rd32(p);
        e->role = rd32(p + 4);
        uint32_t dtype = rd32(p + 8);
        e->count = rd64(p + 16);
        e->offset = rd64(p + 24);
        if (e->layer >= n_layers)
            FAIL(CRISP_EBADFILE, "tensor %u at offset %zu: layer %u (file has %u layers)", i,
                 e->at, e->layer, n_layers);
        if (e->role >= CRISP_ROLE_COUNT)
            FAIL(CRISP_EBADFILE, "tensor %u at offset %zu: unknown role %u", i, e->at + 4, e->role);
        for (uint32_t j = 0; j < i; j++)
            if (ents[j].layer == e->layer && ents[j].role == e->role)
                FAIL(CRISP_EBADFILE, "tensor %u at offset %zu duplicates tensor %u", i, e->at + 4, j);
        const struct crisp_layer *l = &m->layers[e->layer];
        size_t want = crisp_layer_tensor_size(l, l->cin, (int)e->role);
        if (!want)
            FAIL(CRISP_EBADFILE, "tensor %u at offset %zu: layer %u (%s) has no role %u", i,
                 e->at + 4, e->layer, crisp_layer_type_name(l->type), e->role);
        if (dtype != DTYPE_F32 || rd32(p + 12))
            FAIL(CRISP_EBADFILE, "tensor %u at offset %zu: dtype %u (only 1 = f32 is known)", i,
                 e->at + 8, dtype);
        if (e->count != want)
            FAIL(CRISP_EBADFILE,
                 "tensor %u at offset %zu: count %llu, layer %u (%s) role %u needs %zu (shape "
                 "mismatch)",
                 i, e->at + 16, (unsigned long long)e->count, e->layer,
                 crisp_layer_type_name(l->type), e->role, want);
        if (e->offset % 64 || e->offset > data_size || e->count * 4 > data_size - e->offset)
            FAIL(CRISP_EBADFILE,
                 "tensor %u at offset %zu: data offset %llu + %llu bytes out of the %llu-byte "
                 "data section or not 64-byte aligned",
                 i, e->at + 24, (unsigned long long)e->offset, (unsigned long long)e->count * 4,
                 (unsigned long long)data_size);
    }
    /* every tensor the description needs must be present */
    for (uint32_t li = 0; li < n_layers; li++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            const struct crisp_layer *l = &m->layers[li];
            if (!crisp_layer_tensor_size(l, l->cin, r))
                continue;
            int found = 0;
            for (uint32_t j = 0; j < n_tensors && !found; j++)
                found = ents[j].layer == li && ents[j].role == (uint32_t)r;
            if (!found)
                FAIL(CRISP_EBADFILE, "tensor table at offset %llu: layer %u (%s) lacks role %d",
                     (unsigned long long)tensors_off, li, crisp_layer_type_name(l->type), r);
        }
    if ((ret = crisp_model_alloc_tensors(m)) < 0)
        FAIL(ret, "out of memory for %u tensors", n_tensors);
    /* overlapping tensors: sort by offset and compare neighbours */
    if (n_tensors > 1) {
        struct entry *sorted = malloc(sizeof(*sorted) * n_tensors);
        if (!sorted)
            FAIL(-ENOMEM, "out of memory");
        memcpy(sorted, ents, sizeof(*sorted) * n_tensors);
        qsort(sorted, n_tensors, sizeof(*sorted), cmp_entry);
        for (uint32_t i = 1; i < n_tensors; i++)
            if (sorted[i - 1].offset + sorted[i - 1].count * 4 > sorted[i].offset) {
                size_t at = sorted[i].at;
                free(sorted);
                FAIL(CRISP_EBADFILE, "tensor at offset %zu overlaps another tensor's data", at);
            }
        free(sorted);
    }
    for (uint32_t i = 0; i < n_tensors; i++) {
        const struct entry *e = &ents[i];
        float *dst = m->layers[e->layer].t[e->role];
        const uint8_t *src = buf + data_off + e->offset;
        for (uint64_t j = 0; j < e->count; j++) {
            dst[j] = rdf(src + 4 * j);
            if (!isfinite(dst[j]))
                FAIL(CRISP_EBADFILE, "tensor %u: value %llu at offset %llu is not finite", i,
                     (unsigned long long)j, (unsigned long long)(data_off + e->offset + 4 * j));
        }
    }
    uint32_t want_crc = rd32(buf + len - 4), crc = crisp_crc32(0, buf, len - 4);
    if (crc != want_crc)
        FAIL(CRISP_ECHECKSUM, "checksum at offset %zu is %08x, contents give %08x", len - 4,
             want_crc, crc);
    free(ents);
    *out = m;
    return 0;
fail:
    free(ents);
    crisp_model_destroy(&m);
    return ret;
}

int crisp_weights_load(struct crisp_model **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    uint8_t *buf;
    size_t len;
    int ret = crisp_file_read(path, &buf, &len);
    if (ret < 0) {
        crisp_seterr(err, errlen, "%s: %s", path, crisp_strerror(ret));
        return ret;
    }
    char why[256];
    ret = crisp_weights_parse(out, buf, len, why, sizeof(why));
    free(buf);
    if (ret < 0)
        crisp_seterr(err, errlen, "%s: %s", path, why);
    return ret;
}

int crisp_weights_serialize(const struct crisp_model *m, uint8_t **pbuf, size_t *plen)
{
    *pbuf = NULL;
    *plen = 0;
    uint32_t n_tensors = 0;
    uint64_t data_size = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t n = crisp_layer_tensor_size(&m->layers[i], m->layers[i].cin, r);
            if (n) {
                n_tensors++;
                data_size = align64(data_size) + n * 4;
            }
        }
    size_t tensors_off = HDR_SIZE + (size_t)m->n_layers * LAYER_SIZE;
    size_t data_off = align64(tensors_off + (size_t)n_tensors * TENSOR_SIZE);
    size_t len = data_off + data_size + 4;
    uint8_t *b = calloc(1, len);
    if (!b)
        return -ENOMEM;
    memcpy(b, MAGIC, 8);
    wr32(b + 8, CRISP_WEIGHTS_VERSION);
    wr32(b + 12, HDR_SIZE);
    wr32(b + 16, (uint32_t)m->color);
    wr32(b + 20, (uint32_t)m->output);
    wrf(b + 24, m->range_max);
    wr32(b + 28, (uint32_t)m->border);
    wr32(b + 32, (uint32_t)m->n_layers);
    wr32(b + 36, n_tensors);
    wr64(b + 40, HDR_SIZE);
    wr64(b + 48, tensors_off);
    wr64(b + 56, data_off);
    wr64(b + 64, data_size);
    snprintf((char *)b + 80, 32, "%s", m->name);
    uint8_t *t = b + tensors_off;
    uint64_t off = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const struct crisp_layer *l = &m->layers[i];
        uint8_t *p = b + HDR_SIZE + (size_t)i * LAYER_SIZE;
        wr32(p, (uint32_t)l->type);
        wr32(p + 4, (uint32_t)l->skip);
        wr32(p + 8, (uint32_t)l->cout);
        wr32(p + 12, (uint32_t)l->k);
        wr32(p + 16, (uint32_t)l->stride);
        wr32(p + 20, (uint32_t)l->factor);
        wrf(p + 24, l->alpha);
        wrf(p + 28, l->lo);
        wrf(p + 32, l->hi);
        wrf(p + 36, l->eps);
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t n = crisp_layer_tensor_size(l, l->cin, r);
            if (!n)
                continue;
            off = align64(off);
            wr32(t, (uint32_t)i);
            wr32(t + 4, (uint32_t)r);
            wr32(t + 8, DTYPE_F32);
            wr64(t + 16, n);
            wr64(t + 24, off);
            t += TENSOR_SIZE;
            for (size_t j = 0; j < n; j++)
                wrf(b + data_off + off + 4 * j, l->t[r][j]);
            off += n * 4;
        }
    }
    wr32(b + len - 4, crisp_crc32(0, b, len - 4));
    *pbuf = b;
    *plen = len;
    return 0;
}

int crisp_weights_save(const struct crisp_model *m, const char *path)
{
    uint8_t *buf;
    size_t len;
    int ret = crisp_weights_serialize(m, &buf, &len);
    if (ret < 0)
        return ret;
    ret = crisp_file_write(path, buf, len);
    free(buf);
    return ret;
}

int crisp_weights_file_crc(const char *path, uint32_t *crc)
{
    uint8_t *buf;
    size_t len;
    int r = crisp_file_read(path, &buf, &len);
    if (r < 0)
        return r;
    *crc = crisp_crc32(0, buf, len >= 4 ? len - 4 : len);
    free(buf);
    return 0;
}
