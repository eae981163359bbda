// SPDX-License-Identifier: BSD-2-Clause
// Training checkpoints (checkpoint.h): a header, the model file, the
// optimizer's floats, then the adapters' floats. Owns nothing past a call.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "crisp/util.h"

static const char CKPT_MAGIC[8] = {'C', 'R', 'I', 'S', 'P', 'C', 'K', '1'};

struct ckpt_hdr {
    char magic[8];
    int64_t step;
    double elapsed;
    uint64_t model_len, opt_floats, extra_floats; /* extra: the adapters, then the blocks */
    int32_t opt_step, n_adapters;
};

static size_t extra_floats(const struct ckpt_extra *x)
{
    size_t af = x->n_extra;
    for (int i = 0; i < x->n_ad; i++)
        af += ((size_t)x->ad[i].cs * x->ad[i].ct + (size_t)x->ad[i].ct) * 5;
    return af;
}

int ckpt_save(const char *path, const struct crisp_model *m, const struct crisp_adamw *o,
              const struct ckpt_extra *x, int64_t step, double elapsed)
{
    const struct adapter *ad = x->ad;
    const int n_ad = x->n_ad;
    uint8_t *mb;
    size_t ml;
    int ret = crisp_weights_serialize(m, &mb, &ml);
    if (ret < 0)
        return ret;
    size_t of = crisp_adamw_state_size(o), af = extra_floats(x);
    size_t len = sizeof(struct ckpt_hdr) + ml + (of + af) * sizeof(float);
    uint8_t *buf = malloc(len);
    if (!buf) {
        free(mb);
        return -ENOMEM;
    }
    struct ckpt_hdr h = {.step = step, .elapsed = elapsed, .model_len = ml, .opt_floats = of,
                         .extra_floats = af, .n_adapters = n_ad};
    memcpy(h.magic, CKPT_MAGIC, 8);
    int ostep;
    crisp_adamw_state_save(o, (float *)(buf + sizeof(h) + ml), &ostep);
    h.opt_step = ostep;
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), mb, ml);
    float *ap = (float *)(buf + sizeof(h) + ml) + of;
    for (int i = 0; i < n_ad; i++) {
        size_t np = ((size_t)ad[i].cs * ad[i].ct + (size_t)ad[i].ct) * 5;
        memcpy(ap, ad[i].w, np * sizeof(float));
        ap += np;
    }
    if (x->n_extra)
        memcpy(ap, x->extra, x->n_extra * sizeof(float));
    ret = crisp_file_write(path, buf, len);
    free(buf);
    free(mb);
    return ret;
}

int ckpt_load(const char *path, struct crisp_model *m, struct crisp_adamw *o,
              const struct ckpt_extra *x, int64_t *step, double *elapsed, char *err,
              size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int ret = crisp_file_read(path, &buf, &len);
    if (ret < 0) {
        snprintf(err, errlen, "%s: %s", path, crisp_strerror(ret));
        return ret;
    }
    ret = ckpt_parse(buf, len, path, m, o, x, step, elapsed, err, errlen);
    free(buf);
    return ret;
}

int ckpt_parse(const uint8_t *buf, size_t len, const char *path, struct crisp_model *m,
               struct crisp_adamw *o, const struct ckpt_extra *x, int64_t *step, double *elapsed,
               char *err, size_t errlen)
{
    struct adapter *ad = x->ad;
    const int n_ad = x->n_ad;
    int ret;
    struct ckpt_hdr h;
    struct crisp_model *cm = NULL;
    ret = CRISP_EBADFILE;
    if (len < sizeof(h)) {
        snprintf(err, errlen, "%s: truncated checkpoint", path);
        goto done;
    }
    memcpy(&h, buf, sizeof(h));
    if (memcmp(h.magic, CKPT_MAGIC, 8) || h.model_len > len - sizeof(h) ||
        h.opt_floats != crisp_adamw_state_size(o) || h.n_adapters != n_ad ||
        h.extra_floats != extra_floats(x) ||
        (h.opt_floats + h.extra_floats) > (len - sizeof(h) - h.model_len) / sizeof(float)) {
        snprintf(err, errlen, "%s: not a checkpoint of this architecture and options", path);
        goto done;
    }
    char why[256];
    if ((ret = crisp_weights_parse(&cm, buf + sizeof(h), h.model_len, why, sizeof(why))) < 0) {
        snprintf(err, errlen, "%s: model: %s", path, why);
        goto done;
    }
    if (cm->n_layers != m->n_layers || cm->data_floats != m->data_floats) {
        snprintf(err, errlen, "%s: checkpoint holds a different architecture", path);
        ret = CRISP_EMODEL;
        goto done;
    }
    memcpy(m->data, cm->data, sizeof(float) * m->data_floats);
    const float *of = (const float *)(buf + sizeof(h) + h.model_len);
    crisp_adamw_state_load(o, of, h.opt_step);
    const float *ap = of + h.opt_floats;
    for (int i = 0; i < n_ad; i++) {
        size_t np = ((size_t)ad[i].cs * ad[i].ct + (size_t)ad[i].ct) * 5;
        memcpy(ad[i].w, ap, np * sizeof(float));
        ap += np;
    }
    if (x->n_extra)
        memcpy(x->extra, ap, x->n_extra * sizeof(float));
    *step = h.step;
    *elapsed = h.elapsed;
    ret = 0;
done:
    crisp_model_destroy(&cm);
    return ret;
}
