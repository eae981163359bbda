// SPDX-License-Identifier: BSD-2-Clause
// Quantization parameters beside a model (MODEL.q8): the calibrated input
// range of every conv layer, as text:
//
//   crisp-q8 1
//   model_crc 1a2b3c4d
//   layers 11
//   in 0 0.000000 1.000000
//   in 2 0.000000 3.125000
//   ...
//
// One "in LAYER MIN MAX" line per conv layer. Parsed defensively: every
// error names the file and the line.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisp/engine.h"
#include "crisp/util.h"
#include "internal.h"

struct crisp_quant *crisp_quant_new(int n_layers)
{
    if (n_layers < 1 || n_layers > CRISP_MAX_LAYERS)
        return NULL;
    struct crisp_quant *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->n_layers = n_layers;
    q->in_min = calloc((size_t)n_layers, sizeof(float));
    q->in_max = calloc((size_t)n_layers, sizeof(float));
    if (!q->in_min || !q->in_max)
        crisp_quant_destroy(&q);
    return q;
}

void crisp_quant_destroy(struct crisp_quant **q)
{
    if (!q || !*q)
        return;
    free((*q)->in_min);
    free((*q)->in_max);
    free(*q);
    *q = NULL;
}

int crisp_quant_save(const struct crisp_quant *q, const char *path)
{
    size_t cap = 64 + 64 * (size_t)q->n_layers, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    n += (size_t)snprintf(buf + n, cap - n, "crisp-q8 1\nmodel_crc %08x\nlayers %d\n", q->model_crc,
                          q->n_layers);
    for (int i = 0; i < q->n_layers; i++)
        if (q->in_max[i] > 0)
            n += (size_t)snprintf(buf + n, cap - n, "in %d %.9g %.9g\n", i, q->in_min[i], q->in_max[i]);
        else if (q->in_max[i] == CRISP_QUANT_KEEP_F32)
            n += (size_t)snprintf(buf + n, cap - n, "f32 %d\n", i);
    int r = crisp_file_write(path, buf, n);
    free(buf);
    return r;
}

int crisp_quant_load(struct crisp_quant **out, const char *path, const char *model_path,
                     const struct crisp_model *m, char *err, size_t errlen)
{
    *out = NULL;
    uint8_t *raw;
    size_t len;
    int r = crisp_file_read(path, &raw, &len);
    if (r < 0) {
        crisp_seterr(err, errlen, "%s: %s", path, crisp_strerror(r));
        return r;
    }
    struct crisp_quant *q = crisp_quant_new(m->n_layers);
    char *text = malloc(len + 1);
    if (!q || !text) {
        free(raw);
        free(text);
        crisp_quant_destroy(&q);
        return -ENOMEM;
    }
    memcpy(text, raw, len);
    text[len] = 0;
    free(raw);
    int ret = 0, line = 0, have_magic = 0, have_crc = 0, have_layers = 0, n_in = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        if (strlen(l) != strcspn(l, "\r")) /* CRLF tolerated */
            l[strcspn(l, "\r")] = 0;
        if (!*l || *l == '#')
            continue;
        int a, v, c = 0;
        unsigned crc;
        float lo, hi;
        if (!have_magic) {
            if (sscanf(l, "crisp-q8 %d%n", &v, &c) != 1 || l[c]) {
                crisp_seterr(err, errlen, "%s:%d: not a crisp-q8 file", path, line);
                ret = CRISP_EBADFILE;
                break;
            }
            if (v != 1) {
                crisp_seterr(err, errlen, "%s:%d: version %d, this build reads version 1", path, line, v);
                ret = CRISP_EVERSION;
                break;
            }
            have_magic = 1;
        } else if (sscanf(l, "model_crc %x%n", &crc, &c) == 1 && !l[c]) {
            q->model_crc = crc;
            have_crc = 1;
        } else if (sscanf(l, "layers %d%n", &v, &c) == 1 && !l[c]) {
            if (v != m->n_layers) {
                crisp_seterr(err, errlen, "%s:%d: %d layers, but the model has %d", path, line, v,
                             m->n_layers);
                ret = CRISP_EMODEL;
                break;
            }
            have_layers = 1;
        } else if (sscanf(l, "in %d %f %f%n", &a, &lo, &hi, &c) == 3 && !l[c]) {
            if (a < 0 || a >= m->n_layers || m->layers[a].type != CRISP_LAYER_CONV || !isfinite(lo) ||
                !isfinite(hi) || !(hi > lo) || !(hi > 0) || hi > 1e6f || lo < -1e6f) {
                crisp_seterr(err, errlen, "%s:%d: bad range for layer %d", path, line, a);
                ret = CRISP_EBADFILE;
                break;
            }
            q->in_min[a] = lo;
            q->in_max[a] = hi;
            n_in++;
        } else if (sscanf(l, "f32 %d%n", &a, &c) == 1 && !l[c]) {
            if (a < 0 || a >= m->n_layers || m->layers[a].type != CRISP_LAYER_CONV) {
                crisp_seterr(err, errlen, "%s:%d: f32 names layer %d, not a conv", path, line, a);
                ret = CRISP_EBADFILE;
                break;
            }
            q->in_min[a] = 0;
            q->in_max[a] = CRISP_QUANT_KEEP_F32;
            n_in++;
        } else {
            crisp_seterr(err, errlen, "%s:%d: unexpected line", path, line);
            ret = CRISP_EBADFILE;
            break;
        }
    }
    free(text);
    if (!ret && (!have_magic || !have_crc || !have_layers)) {
        crisp_seterr(err, errlen, "%s: %s missing", path,
                     !have_magic ? "crisp-q8 header" : !have_crc ? "model_crc" : "layers");
        ret = CRISP_EBADFILE;
    }
    for (int i = 0; !ret && i < m->n_layers; i++)
        if (m->layers[i].type == CRISP_LAYER_CONV && !(q->in_max[i] > 0) &&
            q->in_max[i] != CRISP_QUANT_KEEP_F32) {
            crisp_seterr(err, errlen, "%s: no range for conv layer %d", path, i);
            ret = CRISP_EBADFILE;
        }
    uint32_t crc = 0;
    if (!ret && model_path && (ret = crisp_weights_file_crc(model_path, &crc)) == 0 && crc != q->model_crc) {
        crisp_seterr(err, errlen, "%s was calibrated for another model file (crc %08x, %s has %08x)",
                     path, q->model_crc, model_path, crc);
        ret = CRISP_ECHECKSUM;
    }
    if (ret) {
        crisp_quant_destroy(&q);
        return ret;
    }
    *out = q;
    return 0;
}

int crisp_precision_choose(const char *want, const char *model_path, const struct crisp_model *m,
                           enum crisp_precision *prec, struct crisp_quant **q, char *why,
                           size_t whylen, char *err, size_t errlen)
{
    *prec = CRISP_PRECISION_F32;
    *q = NULL;
    if (why && whylen)
        why[0] = 0;
    if (want && !strcmp(want, "fp32"))
        return 0;
    if (want && strcmp(want, "int8")) {
        crisp_seterr(err, errlen, "--precision must be int8 or fp32 (got \"%s\")", want);
        return -1;
    }
    char qpath[4096];
    if (!model_path || snprintf(qpath, sizeof(qpath), "%s.q8", model_path) >= (int)sizeof(qpath)) {
        crisp_seterr(err, errlen, "model path too long");
        return -1;
    }
    if (!crisp_cpu_int8()) {
        crisp_seterr(why, whylen, "this CPU (%s) has no int8 convolutions in oneDNN; running f32",
                     crisp_cpu_isa_name());
        return 0; /* a logged fallback, never SIGILL, even when int8 was asked for */
    }
    if (access(qpath, F_OK) != 0) {
        if (want) {
            crisp_seterr(err, errlen, "--precision int8: %s: no calibration (crisp-train quantize)",
                         qpath);
            return -1;
        }
        crisp_seterr(why, whylen, "%s not found (crisp-train quantize makes it); running f32", qpath);
        return 0;
    }
    char e2[512];
    if (crisp_quant_load(q, qpath, model_path, m, e2, sizeof(e2)) < 0) {
        if (want) {
            crisp_seterr(err, errlen, "%s", e2);
            return -1;
        }
        crisp_seterr(why, whylen, "%s; running f32", e2);
        return 0;
    }
    *prec = CRISP_PRECISION_INT8;
    return 0;
}
