// SPDX-License-Identifier: BSD-2-Clause
// Weights file: round trip, and every class of corrupt file rejected with an
// error that names the field and offset (run under valgrind in the suite for
// leaks and invalid reads).
#include <errno.h>
#include <string.h>

#include "../common.h"
#include "crisp/model.h"
#include "crisp/util.h"

#define CONV(co, kk, s) {.type = CRISP_LAYER_CONV, .cout = (co), .k = (kk), .stride = (s)}

static struct crisp_model *small_model(void)
{
    const struct crisp_layer l[] = {
        CONV(4, 3, 1),
        {.type = CRISP_LAYER_BN, .eps = 1e-5f},
        {.type = CRISP_LAYER_PRELU},
        CONV(4, 3, 1),
        {.type = CRISP_LAYER_ADD, .skip = 2},
        {.type = CRISP_LAYER_CLAMP, .lo = -2.0f, .hi = 2.0f},
        CONV(1, 1, 1),
    };
    struct crisp_model *m = NULL;
    char err[256] = "";
    int ret = crisp_model_create(&m, "test-small", CRISP_COLOR_LUMA, CRISP_OUTPUT_RESIDUAL, 1.0f,
                                 l, (int)(sizeof(l) / sizeof(l[0])), err, sizeof(err));
    CHECK(ret == 0, "create: %s", err);
    if (!m)
        return NULL;
    struct crisp_rng r;
    crisp_rng_seed(&r, 7);
    for (size_t i = 0; i < m->data_floats; i++)
        m->data[i] = (float)crisp_rng_uniform(&r) + 0.25f; /* positive: valid BN variances */
    return m;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static void fix_crc(uint8_t *b, size_t len) { put32(b + len - 4, crisp_crc32(0, b, len - 4)); }

/* Parses a modified copy and expects failure with `code` (0 = any error) and
 * a message containing `needle`. */
static void expect_reject(const uint8_t *b, size_t len, int code, const char *needle,
                          const char *what)
{
    struct crisp_model *m = NULL;
    char err[256] = "";
    int ret = crisp_weights_parse(&m, b, len, err, sizeof(err));
    CHECK(ret < 0, "%s: accepted", what);
    CHECK(m == NULL, "%s: model returned on failure", what);
    if (code)
        CHECK(ret == code, "%s: returned %d (%s), expected %d: %s", what, ret, crisp_strerror(ret),
              code, err);
    CHECK(!needle || strstr(err, needle), "%s: message \"%s\" lacks \"%s\"", what, err,
          needle ? needle : "");
    crisp_model_destroy(&m);
}

int main(void)
{
    struct crisp_model *m = small_model();
    if (!m)
        TEST_DONE();
    uint8_t *buf;
    size_t len;
    CHECK(crisp_weights_serialize(m, &buf, &len) == 0, "serialize");

    /* round trip: same description, same values, same bytes */
    struct crisp_model *back = NULL;
    char err[256] = "";
    CHECK(crisp_weights_parse(&back, buf, len, err, sizeof(err)) == 0, "parse: %s", err);
    if (back) {
        CHECK(back->n_layers == m->n_layers && back->color == m->color &&
                  back->output == m->output && back->range_max == m->range_max &&
                  !strcmp(back->name, m->name),
              "header fields differ");
        for (int i = 0; i < m->n_layers; i++)
            for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
                size_t n = crisp_layer_tensor_size(&m->layers[i], m->layers[i].cin, r);
                CHECK(!n || !memcmp(m->layers[i].t[r], back->layers[i].t[r], n * 4),
                      "layer %d role %d differs", i, r);
            }
        uint8_t *buf2;
        size_t len2;
        CHECK(crisp_weights_serialize(back, &buf2, &len2) == 0, "serialize again");
        CHECK(len2 == len && !memcmp(buf, buf2, len), "round trip is not byte-identical");
        free(buf2);
        crisp_model_destroy(&back);
    }

    /* truncated at every byte */
    for (size_t n = 0; n < len; n++) {
        struct crisp_model *t = NULL;
        int ret = crisp_weights_parse(&t, buf, n, err, sizeof(err));
        CHECK(ret < 0 && !t, "truncated to %zu bytes: accepted", n);
        crisp_model_destroy(&t);
    }
    /* every byte flipped: the structure or the checksum must catch it */
    uint8_t *c = malloc(len);
    for (size_t i = 0; i < len; i++) {
        memcpy(c, buf, len);
        c[i] ^= 0xFF;
        struct crisp_model *t = NULL;
        int ret = crisp_weights_parse(&t, c, len, err, sizeof(err));
        CHECK(ret < 0 && !t, "byte %zu flipped: accepted", i);
        crisp_model_destroy(&t);
    }

    /* targeted corruptions with a valid checksum: the structural check must
     * name the field */
    const uint64_t tensors_off = get64(buf + 48), data_off = get64(buf + 56);
    struct {
        size_t off;
        int width; /* 4 or 8 */
        uint64_t value;
        int code;
        const char *needle;
        const char *what;
    } cases[] = {
        {0, 4, 0x4e475089, CRISP_EBADFILE, "magic", "bad magic"},
        {8, 4, 2, CRISP_EVERSION, "version at offset 8", "future version"},
        {8, 4, 0, CRISP_EVERSION, "version", "version 0"},
        {12, 4, 64, CRISP_EBADFILE, "header_size", "header size"},
        {32, 4, 0xFFFFFFFFu, CRISP_EBADFILE, "n_layers at offset 32", "absurd layer count"},
        {32, 4, 0, CRISP_EBADFILE, "n_layers", "zero layers"},
        {36, 4, 0x7FFFFFFFu, CRISP_EBADFILE, "n_tensors at offset 36", "absurd tensor count"},
        {64, 8, UINT64_MAX, CRISP_EBADFILE, "data_size at offset 64", "absurd data size"},
        {64, 8, 4, CRISP_EBADFILE, "data_size", "short data size"},
        {56, 8, UINT64_MAX - 3, CRISP_EBADFILE, "data_offset", "absurd data offset"},
        {48, 8, 0, CRISP_EBADFILE, "tensors_offset", "bad tensor table offset"},
        {16, 4, 4, CRISP_EMODEL, "color mode", "unknown colour mode"},
        {16, 4, 2, CRISP_EMODEL, "colour mode needs 2", "a luma model marked as a pair"},
        {24, 4, 0x40000000u, CRISP_EMODEL, "range_max", "bad range (2.0)"},
        {112, 4, 99, CRISP_EBADFILE, "unknown type 99 at offset 112", "unknown layer type"},
        {112, 4, 0, CRISP_EBADFILE, "unknown type 0", "layer type 0"},
        {112 + 8, 4, 0xFFFFFFu, CRISP_EBADFILE, "cout=", "absurd channel count"},
        {112 + 12, 4, 4, CRISP_EMODEL, "k=4", "even kernel"},
        {112 + 4 * 48 + 4, 4, 5, CRISP_EMODEL, "skip=5", "forward skip"},
        {112 + 4 * 48 + 4, 4, (uint32_t)-7, CRISP_EMODEL, "skip=-7", "negative skip"},
        {112 + 3 * 48 + 8, 4, 5, CRISP_EMODEL, "channels", "shape mismatch in description"},
        {tensors_off + 0, 4, 1000, CRISP_EBADFILE, "layer 1000", "tensor of a missing layer"},
        {tensors_off + 4, 4, 99, CRISP_EBADFILE, "unknown role", "unknown tensor role"},
        {tensors_off + 4, 4, CRISP_ROLE_SLOPE, CRISP_EBADFILE, "has no role",
         "role the layer lacks"},
        {tensors_off + 8, 4, 2, CRISP_EBADFILE, "dtype", "unknown dtype"},
        {tensors_off + 16, 8, 35, CRISP_EBADFILE, "shape mismatch", "tensor count mismatch"},
        {tensors_off + 16, 8, UINT64_MAX / 2, CRISP_EBADFILE, "count", "absurd tensor count"},
        {tensors_off + 24, 8, 1u << 20, CRISP_EBADFILE, "out of the", "tensor out of range"},
        {tensors_off + 24, 8, UINT64_MAX - 63, CRISP_EBADFILE, "out of the", "tensor offset wrap"},
        {tensors_off + 24, 8, 4, CRISP_EBADFILE, "aligned", "unaligned tensor"},
        {tensors_off + 32 + 24, 8, 0, CRISP_EBADFILE, "overlaps", "overlapping tensors"},
        {tensors_off + 32 + 4, 4, 0, CRISP_EBADFILE, "duplicates", "duplicate tensor"},
        {data_off, 4, 0x7FC00000u, CRISP_EBADFILE, "not finite", "NaN weight"},
        {72, 4, 1, CRISP_EBADFILE, "reserved", "reserved header field"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        memcpy(c, buf, len);
        if (cases[k].width == 4)
            put32(c + cases[k].off, (uint32_t)cases[k].value);
        else
            put64(c + cases[k].off, cases[k].value);
        fix_crc(c, len);
        expect_reject(c, len, cases[k].code, cases[k].needle, cases[k].what);
    }
    /* bad checksum alone */
    memcpy(c, buf, len);
    c[len - 1] ^= 1;
    expect_reject(c, len, CRISP_ECHECKSUM, "checksum at offset", "bad checksum");
    /* a flipped weight byte is caught by the checksum */
    memcpy(c, buf, len);
    c[data_off + 5] ^= 0x10;
    expect_reject(c, len, CRISP_ECHECKSUM, "checksum", "flipped weight");
    /* trailing garbage changes the size the header promises */
    uint8_t *longer = malloc(len + 8);
    memcpy(longer, buf, len);
    memset(longer + len, 0, 8);
    expect_reject(longer, len + 8, CRISP_EBADFILE, "(trailing bytes)", "trailing bytes");
    free(longer);
    /* a tensor table entry dropped: the layer lacks a role */
    memcpy(c, buf, len);
    put32(c + 36, (uint32_t)get64(c + 36) - 1); /* n_tensors-1 moves data_offset too */
    fix_crc(c, len);
    expect_reject(c, len, CRISP_EBADFILE, NULL, "missing tensor");

    /* file I/O: save/load and missing file */
    const char *path = "test_weights.tmp.crisp";
    CHECK(crisp_weights_save(m, path) == 0, "save");
    struct crisp_model *loaded = NULL;
    CHECK(crisp_weights_load(&loaded, path, err, sizeof(err)) == 0, "load: %s", err);
    crisp_model_destroy(&loaded);
    remove(path);
    CHECK(crisp_weights_load(&loaded, "/nonexistent/x.crisp", err, sizeof(err)) == -ENOENT,
          "missing file");
    CHECK(strstr(err, "/nonexistent/x.crisp") != NULL, "message lacks path: %s", err);
    crisp_model_destroy(NULL);
    crisp_model_destroy(&loaded);

    free(c);
    free(buf);
    crisp_model_destroy(&m);
    TEST_DONE();
}
