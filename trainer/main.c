// SPDX-License-Identifier: BSD-2-Clause
// crisp-train: trains teachers, distils students (docs/training.md).
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crisp/engine.h"
#include "crisp/log.h"
#include "crisp/media.h"
#include "crisp/model.h"
#include "crisp/train.h"
#include "crisp/util.h"
#include "data.h"
#include "presets.h"
#include "quantize.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

#define fail crisp_fail

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

struct opts {
    int distill;
    const char *data, *arch, *out, *teacher, *teacher_dir, *checkpoint, *log, *init;
    double minutes;
    long steps;
    int batch, patch, threads, data_threads, max_side, max_images, val_every, resume, val_crop;
    double ckpt_minutes, progress_s;
    float lr, wd, clip;
    int warmup;
    uint64_t seed;
    enum crisp_loss gt_loss;
    float w_gt, w_ssim, w_soft, w_res, w_feat;
    int feat_s[8], feat_t[8], n_feat;
    long bank; /* patches in the fixed patch bank; 0 = fresh patches every step */
    int t_ensemble; /* 8: bank targets are the teacher's geometric self-ensemble */
    int bank_augment; /* 1: bank patches are served in a random flip/rotation */
    unsigned net_flags; /* CRISP_TRAIN_BF16 with --precision bf16 */
};

/* ---- patch bank: a fixed set of patches (and teacher outputs) made once ----
 * Distilling with a live teacher runs the teacher's forward pass every step,
 * which costs several student steps. The bank draws `n` patches from the
 * sampler once, runs the teacher once per bank batch, and then serves random
 * batches of bank patches, each in one of the 8 flips/rotations (the same one
 * for input, ground truth and teacher output). Deterministic: the bank is
 * sampler batches 0.. of the seed, and batch k of training is drawn from an
 * RNG seeded by (seed, k), so a resumed run sees the same batches.
 * With feature distillation the bank also keeps the teacher's activations at
 * each --feat layer (from its pass on the patch as drawn); a network's
 * features are not equivariant to flips, so such a bank is served without
 * flips/rotations (--bank-augment 0). */

struct bank {
    long n;
    int p;
    float *x, *y, *t; /* n x p x p each; t NULL without a teacher */
    int nf;
    int f_layer[8];
    size_t f_len[8]; /* floats per patch of feature map k (c x h x w) */
    float *f[8];     /* n x f_len[k] */
};

static void bank_free(struct bank *bk)
{
    crisp_afree(bk->x);
    crisp_afree(bk->y);
    crisp_afree(bk->t);
    for (int k = 0; k < bk->nf; k++)
        crisp_afree(bk->f[k]);
    memset(bk, 0, sizeof(*bk));
}

/* copies the teacher's activations at the bank's feature layers for the
 * batch just run into bank rows i.. */
static int bank_store_features(struct bank *bk, struct crisp_train_net *tnet, long i, int batch)
{
    for (int k = 0; k < bk->nf; k++) {
        const float *a = crisp_train_net_activation(tnet, bk->f_layer[k], NULL, NULL, NULL);
        if (!a)
            return -ENOMEM;
        memcpy(bk->f[k] + (size_t)i * bk->f_len[k], a, (size_t)batch * bk->f_len[k] * sizeof(float));
    }
    return 0;
}

static void dihedral(float *dst, const float *src, int p, int o);
static void dihedral_back(float *dst, const float *src, int p, int o);

/* The teacher's output for the batch in its input buffer, written to `t`:
 * one forward pass, or with `ensemble` 8 the mean of its outputs on the 8
 * flips/rotations of each patch, each turned back (`tmp`: one batch and
 * one patch). */
static int teacher_targets(struct crisp_train_net *tnet, int batch, int p, int ensemble, float *t,
                           float *tmp, struct bank *bk, long row)
{
    const size_t pp = (size_t)p * p, nb = (size_t)batch * pp;
    float *in = crisp_train_net_input(tnet);
    if (ensemble <= 1) {
        if (crisp_train_net_forward(tnet) < 0)
            return -EIO;
        memcpy(t, crisp_train_net_output(tnet), nb * sizeof(float));
        return bank_store_features(bk, tnet, row, batch);
    }
    memcpy(tmp, in, nb * sizeof(float));
    memset(t, 0, nb * sizeof(float));
    float *back = tmp + nb;
    for (int o = 0; o < 8; o++) {
        for (int k = 0; k < batch; k++)
            dihedral(in + k * pp, tmp + k * pp, p, o);
        if (crisp_train_net_forward(tnet) < 0)
            return -EIO;
        if (o == 0 && bank_store_features(bk, tnet, row, batch) < 0) /* the patch as drawn */
            return -ENOMEM;
        const float *out = crisp_train_net_output(tnet);
        for (int k = 0; k < batch; k++) {
            dihedral_back(back, out + k * pp, p, o);
            for (size_t i = 0; i < pp; i++)
                t[k * pp + i] += 0.125f * back[i];
        }
    }
    return 0;
}

/* `bk->nf` and `bk->f_layer` are set by the caller (0 for no features) */
static int bank_build(struct bank *bk, long n, const struct dataset *d, int batch, int p,
                      uint64_t seed, struct crisp_train_net *tnet, int ensemble, int workers)
{
    struct sampler *smp = NULL;
    const size_t pp = (size_t)p * p, nb = (size_t)batch * pp;
    n = (n + batch - 1) / batch * batch;
    bk->n = n;
    bk->p = p;
    bk->x = crisp_aalloc((size_t)n * pp * sizeof(float));
    bk->y = crisp_aalloc((size_t)n * pp * sizeof(float));
    bk->t = NULL;
    int with_t = tnet || d->train_teacher, f_ok = 1;
    if (with_t)
        bk->t = crisp_aalloc((size_t)n * pp * sizeof(float));
    for (int k = 0; k < bk->nf; k++) {
        int c, h, w;
        crisp_train_net_activation(tnet, bk->f_layer[k], &c, &h, &w);
        bk->f_len[k] = (size_t)c * h * w;
        bk->f[k] = crisp_aalloc((size_t)n * bk->f_len[k] * sizeof(float));
        f_ok = f_ok && bk->f[k];
    }
    float *tmp = tnet && ensemble > 1 ? crisp_aalloc((nb + pp) * sizeof(float)) : NULL;
    if (!bk->x || !bk->y || (with_t && !bk->t) || !f_ok || (tnet && ensemble > 1 && !tmp) ||
        sampler_create(&smp, d, batch, p, seed ^ 0xBA4C, 0, workers) < 0) {
        crisp_afree(tmp);
        bank_free(bk);
        return -ENOMEM;
    }
    for (long i = 0; i < n; i += batch) {
        const struct batch *b = sampler_next(smp);
        if (!b) {
            sampler_destroy(&smp);
            crisp_afree(tmp);
            bank_free(bk);
            return -EIO;
        }
        memcpy(bk->x + (size_t)i * pp, b->x, nb * sizeof(float));
        memcpy(bk->y + (size_t)i * pp, b->y, nb * sizeof(float));
        if (tnet) {
            memcpy(crisp_train_net_input(tnet), b->x, nb * sizeof(float));
            if (teacher_targets(tnet, batch, p, ensemble, bk->t + (size_t)i * pp, tmp, bk, i) < 0) {
                sampler_destroy(&smp);
                crisp_afree(tmp);
                bank_free(bk);
                return -EIO;
            }
        } else if (bk->t) {
            memcpy(bk->t + (size_t)i * pp, b->t, nb * sizeof(float));
        }
    }
    sampler_destroy(&smp);
    crisp_afree(tmp);
    return 0;
}

/* dst = src under flip/rotation `o` (0..7) of a p x p patch; dihedral_back
 * undoes it (dst = the patch that `o` turns into src) */
static void dihedral_any(float *dst, const float *src, int p, int o, int back)
{
    for (int i = 0; i < p; i++)
        for (int j = 0; j < p; j++) {
            int a = i, b = j;
            if (o & 4) {
                int t = a;
                a = b;
                b = t;
            }
            if (o & 1)
                a = p - 1 - a;
            if (o & 2)
                b = p - 1 - b;
            if (back)
                dst[(size_t)a * p + b] = src[(size_t)i * p + j];
            else
                dst[(size_t)i * p + j] = src[(size_t)a * p + b];
        }
}

static void dihedral(float *dst, const float *src, int p, int o)
{
    dihedral_any(dst, src, p, o, 0);
}

static void dihedral_back(float *dst, const float *src, int p, int o)
{
    dihedral_any(dst, src, p, o, 1);
}

/* batch k of training: random bank patches, each in a random flip/rotation
 * when `augment` (the orientation is drawn either way, so the patches picked
 * do not depend on it); their stored features into f[0..nf) */
static void bank_batch(const struct bank *bk, int batch, uint64_t seed, int64_t k, int augment,
                       float *x, float *y, float *t, float **f)
{
    struct crisp_rng r;
    crisp_rng_seed(&r, seed * 0x9E3779B97F4A7C15ull + (uint64_t)k + 1);
    const size_t pp = (size_t)bk->p * bk->p;
    for (int i = 0; i < batch; i++) {
        size_t j = (size_t)(crisp_rng_u64(&r) % (uint64_t)bk->n), src = j * pp;
        int o = (int)(crisp_rng_u64(&r) % 8);
        if (!augment)
            o = 0;
        dihedral(x + i * pp, bk->x + src, bk->p, o);
        dihedral(y + i * pp, bk->y + src, bk->p, o);
        if (t && bk->t)
            dihedral(t + i * pp, bk->t + src, bk->p, o);
        for (int q = 0; q < bk->nf; q++)
            memcpy(f[q] + i * bk->f_len[q], bk->f[q] + j * bk->f_len[q],
                   bk->f_len[q] * sizeof(float));
    }
}

/* ---- feature adapters: learned 1x1 convs from student to teacher channels ---- */

struct adapter {
    int s_layer, t_layer, cs, ct;
    float *w, *b, *gw, *gb, *m, *v; /* w: ct x cs; m, v: Adam moments for w then b */
    float *pred, *grad_s;
};

static int adapter_init(struct adapter *a, int cs, int ct, size_t hw_batch, struct crisp_rng *r)
{
    a->cs = cs;
    a->ct = ct;
    size_t np = (size_t)cs * ct + (size_t)ct;
    a->w = calloc(np * 5, sizeof(float));
    a->pred = crisp_aalloc(sizeof(float) * hw_batch * (size_t)ct);
    a->grad_s = crisp_aalloc(sizeof(float) * hw_batch * (size_t)cs);
    if (!a->w || !a->pred || !a->grad_s)
        return -ENOMEM;
    a->b = a->w + (size_t)cs * ct;
    a->gw = a->w + np;
    a->gb = a->gw + (size_t)cs * ct;
    a->m = a->w + 2 * np;
    a->v = a->w + 3 * np;
    for (size_t i = 0; i < (size_t)cs * ct; i++)
        a->w[i] = (float)(crisp_rng_normal(r) / sqrt((double)cs));
    return 0;
}

static void adapter_free(struct adapter *a)
{
    free(a->w);
    crisp_afree(a->pred);
    crisp_afree(a->grad_s);
}

/* MSE between adapter(student features) and teacher features; fills grad_s
 * (weight * dL/dF_s) and the adapter's own gradients. Returns the loss. */
static double adapter_loss(struct adapter *a, const float *fs, const float *ft, int batch,
                           size_t hw, float weight)
{
    const int cs = a->cs, ct = a->ct;
    const size_t n = (size_t)batch * ct * hw;
    double loss = 0;
    memset(a->gw, 0, sizeof(float) * ((size_t)cs * ct + (size_t)ct));
    memset(a->grad_s, 0, sizeof(float) * (size_t)batch * cs * hw);
    for (int b = 0; b < batch; b++) {
        const float *s = fs + (size_t)b * cs * hw;
        const float *t = ft + (size_t)b * ct * hw;
        float *gs = a->grad_s + (size_t)b * cs * hw;
        for (int o = 0; o < ct; o++) {
            float *p = a->pred + ((size_t)b * ct + o) * hw;
            for (size_t j = 0; j < hw; j++)
                p[j] = a->b[o];
            for (int i = 0; i < cs; i++) {
                float w = a->w[(size_t)o * cs + i];
                const float *si = s + (size_t)i * hw;
                for (size_t j = 0; j < hw; j++)
                    p[j] += w * si[j];
            }
            const float *to = t + (size_t)o * hw;
            const float g = 2.0f / (float)n;
            for (size_t j = 0; j < hw; j++) {
                float d = p[j] - to[j];
                loss += (double)d * d;
                p[j] = g * d; /* p now holds dL/dpred */
            }
            double gb = 0;
            for (size_t j = 0; j < hw; j++)
                gb += p[j];
            a->gb[o] += (float)gb;
            for (int i = 0; i < cs; i++) {
                const float *si = s + (size_t)i * hw;
                float *gsi = gs + (size_t)i * hw;
                const float w = a->w[(size_t)o * cs + i] * weight;
                double gw = 0;
                for (size_t j = 0; j < hw; j++) {
                    gw += (double)p[j] * si[j];
                    gsi[j] += w * p[j];
                }
                a->gw[(size_t)o * cs + i] += (float)gw;
            }
        }
    }
    return loss / (double)n;
}

static void adapter_step(struct adapter *a, float lr, int step)
{
    size_t np = (size_t)a->cs * a->ct + (size_t)a->ct;
    const float b1 = 0.9f, b2 = 0.999f;
    float c1 = 1.0f / (1.0f - powf(b1, (float)step)), c2 = 1.0f / (1.0f - powf(b2, (float)step));
    for (size_t i = 0; i < np; i++) {
        float g = a->gw[i];
        a->m[i] = b1 * a->m[i] + (1 - b1) * g;
        a->v[i] = b2 * a->v[i] + (1 - b2) * g * g;
        a->w[i] -= lr * a->m[i] * c1 / (sqrtf(a->v[i] * c2) + 1e-8f);
    }
}

/* ---- checkpoints: model file bytes + optimizer state + adapters + progress ---- */

static const char CKPT_MAGIC[8] = {'C', 'R', 'I', 'S', 'P', 'C', 'K', '1'};

struct ckpt_hdr {
    char magic[8];
    int64_t step;
    double elapsed;
    uint64_t model_len, opt_floats, adapter_floats;
    int32_t opt_step, n_adapters;
};

static int ckpt_save(const char *path, const struct crisp_model *m, const struct crisp_adamw *o,
                     const struct adapter *ad, int n_ad, int64_t step, double elapsed)
{
    uint8_t *mb;
    size_t ml;
    int ret = crisp_weights_serialize(m, &mb, &ml);
    if (ret < 0)
        return ret;
    size_t of = crisp_adamw_state_size(o), af = 0;
    for (int i = 0; i < n_ad; i++)
        af += ((size_t)ad[i].cs * ad[i].ct + (size_t)ad[i].ct) * 5;
    size_t len = sizeof(struct ckpt_hdr) + ml + (of + af) * sizeof(float);
    uint8_t *buf = malloc(len);
    if (!buf) {
        free(mb);
        return -ENOMEM;
    }
    struct ckpt_hdr h = {.step = step, .elapsed = elapsed, .model_len = ml, .opt_floats = of,
                         .adapter_floats = af, .n_adapters = n_ad};
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
    ret = crisp_file_write(path, buf, len);
    free(buf);
    free(mb);
    return ret;
}

/* Loads a checkpoint into `m` (same architecture), the optimizer and adapters. */
static int ckpt_load(const char *path, struct crisp_model *m, struct crisp_adamw *o,
                     struct adapter *ad, int n_ad, int64_t *step, double *elapsed, char *err,
                     size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int ret = crisp_file_read(path, &buf, &len);
    if (ret < 0) {
        snprintf(err, errlen, "%s: %s", path, crisp_strerror(ret));
        return ret;
    }
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
        (h.opt_floats + h.adapter_floats) > (len - sizeof(h) - h.model_len) / sizeof(float)) {
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
    *step = h.step;
    *elapsed = h.elapsed;
    ret = 0;
done:
    crisp_model_destroy(&cm);
    free(buf);
    return ret;
}

/* ---- validation: fixed degradations of held-out images, through oneDNN ---- */

struct val_set {
    int n;
    uint8_t **gt, **deg; /* Y planes, rounded */
    float **in;          /* degraded Y in [0, 1] */
    int *w, *h;
    int untouched; /* held-out crops the degradation draw left unchanged (skipped) */
    double deg_psnr;
};

static int val_prepare(struct val_set *v, const struct dataset *d, int crop, uint64_t seed)
{
    memset(v, 0, sizeof(*v));
    v->gt = calloc((size_t)d->n_val + 1, sizeof(*v->gt));
    v->deg = calloc((size_t)d->n_val + 1, sizeof(*v->deg));
    v->in = calloc((size_t)d->n_val + 1, sizeof(*v->in));
    v->w = calloc((size_t)d->n_val + 1, sizeof(int));
    v->h = calloc((size_t)d->n_val + 1, sizeof(int));
    if (!v->gt || !v->deg || !v->in || !v->w || !v->h)
        return -ENOMEM;
    double sum = 0;
    for (int i = 0; i < d->n_val; i++) {
        const struct crisp_image *img = d->val[i];
        int cw = (img->w < crop ? img->w : crop) & ~3, ch = (img->h < crop ? img->h : crop) & ~3;
        if (cw < 32 || ch < 32)
            continue;
        struct crisp_image *c, *dg;
        if (crisp_image_create(&c, cw, ch) < 0)
            return -ENOMEM;
        int x0 = (img->w - cw) / 2, y0 = (img->h - ch) / 2;
        for (int y = 0; y < ch; y++)
            memcpy(c->rgb + (size_t)y * cw * 3, img->rgb + ((size_t)(y + y0) * img->w + x0) * 3,
                   (size_t)cw * 3);
        int ret = degrade_fixed(&dg, c, d->val_names[i], seed);
        if (ret < 0) {
            crisp_image_destroy(&c);
            return ret;
        }
        int k = v->n++;
        size_t n = (size_t)cw * ch;
        v->w[k] = cw;
        v->h[k] = ch;
        v->gt[k] = malloc(n);
        v->deg[k] = malloc(n);
        v->in[k] = malloc(n * sizeof(float));
        if (!v->gt[k] || !v->deg[k] || !v->in[k])
            return -ENOMEM;
        crisp_image_luma_u8(c, v->gt[k]);
        crisp_image_luma_u8(dg, v->deg[k]);
        crisp_image_to_ycbcr(dg, v->in[k], NULL, NULL);
        for (size_t j = 0; j < n; j++)
            v->in[k][j] /= 255.0f;
        double p;
        crisp_image_destroy(&c);
        crisp_image_destroy(&dg);
        if (!memcmp(v->gt[k], v->deg[k], n)) {
            /* the draw left this crop untouched: its PSNR would be the 100 dB
             * cap, which swamps the mean and measures no restoration */
            free(v->gt[k]);
            free(v->deg[k]);
            free(v->in[k]);
            v->n--;
            v->untouched++;
            continue;
        }
        crisp_metrics_plane(v->gt[k], v->deg[k], cw, ch, 2, &p, NULL);
        sum += p;
    }
    v->deg_psnr = v->n ? sum / v->n : 0;
    return 0;
}

static void val_free(struct val_set *v)
{
    for (int i = 0; i < v->n; i++) {
        free(v->gt[i]);
        free(v->deg[i]);
        free(v->in[i]);
    }
    free(v->gt);
    free(v->deg);
    free(v->in);
    free(v->w);
    free(v->h);
}

/* mean PSNR-Y (crop 2) of the model on the validation crops */
static double val_psnr(const struct val_set *v, const struct crisp_model *m)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < v->n; i++) {
        struct crisp_engine *e;
        struct crisp_engine_params p = {.width = v->w[i], .height = v->h[i]};
        if (crisp_engine_create(&e, m, &p, NULL, 0) < 0)
            continue;
        size_t np = (size_t)v->w[i] * v->h[i];
        float *o = malloc(np * sizeof(float));
        uint8_t *y = malloc(np);
        if (o && y && crisp_engine_run(e, v->in[i], o) == 0) {
            for (size_t j = 0; j < np; j++) {
                float q = o[j] * 255.0f + 0.5f;
                y[j] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
            double ps;
            if (crisp_metrics_plane(v->gt[i], y, v->w[i], v->h[i], 2, &ps, NULL) == 0) {
                sum += ps;
                n++;
            }
        }
        free(o);
        free(y);
        crisp_engine_destroy(&e);
    }
    return n ? sum / n : 0;
}

/* ---- the training loop (teacher and distill) ---- */

static int parse_feat(struct opts *o, const char *s)
{
    while (*s && o->n_feat < 8) {
        int a, b, used;
        if (sscanf(s, "%d:%d%n", &a, &b, &used) != 2)
            return -1;
        o->feat_s[o->n_feat] = a;
        o->feat_t[o->n_feat++] = b;
        s += used;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

static int train(struct opts *o)
{
    char err[512] = "";
    int ret = EXIT_INPUT;
    struct crisp_model *m = NULL, *tm = NULL;
    struct dataset *d = NULL;
    struct sampler *smp = NULL;
    struct crisp_train_net *net = NULL, *tnet = NULL;
    struct crisp_adamw *opt = NULL;
    struct adapter ad[8];
    int n_ad = 0;
    float *grad = NULL, *rs = NULL, *rt = NULL, *bx = NULL, *by = NULL, *bt = NULL;
    float *bf[8] = {0};
    struct bank bk = {0};
    FILE *csv = NULL;
    struct val_set val;
    memset(&val, 0, sizeof(val));
    memset(ad, 0, sizeof(ad));

    if (o->threads > 0)
        omp_set_num_threads(o->threads);
    if (o->init) {
        if (crisp_weights_load(&m, o->init, err, sizeof(err)) < 0)
            return fail(EXIT_INPUT, "%s", err);
    } else if (preset_build(o->arch, &m, err, sizeof(err)) < 0) {
        return fail(EXIT_USAGE, "%s", err);
    } else {
        preset_init(m, o->seed);
    }
    if (m->color != CRISP_COLOR_LUMA) {
        ret = fail(EXIT_USAGE, "only luma models are trained for now");
        goto done;
    }
    int align = crisp_model_alignment(m);
    if (o->patch % align || o->patch < 16) {
        ret = fail(EXIT_USAGE, "--patch %d must be >= 16 and a multiple of %d for %s", o->patch,
                   align, m->name);
        goto done;
    }
    if (o->distill && o->teacher) {
        if (crisp_weights_load(&tm, o->teacher, err, sizeof(err)) < 0) {
            ret = fail(EXIT_INPUT, "%s", err);
            goto done;
        }
        if (tm->color != m->color || o->patch % crisp_model_alignment(tm)) {
            ret = fail(EXIT_INPUT, "teacher %s does not suit the student (colour or alignment)",
                       o->teacher);
            goto done;
        }
    }
    struct dataset_params dp = {.dir = o->data, .max_side = o->max_side, .val_every = o->val_every,
                                .max_images = o->max_images,
                                .teacher_dir = o->distill ? o->teacher_dir : NULL,
                                .seed = o->seed};
    fprintf(stderr, "loading %s ...\n", o->data);
    if (dataset_load(&d, &dp, err, sizeof(err)) < 0) {
        ret = fail(EXIT_INPUT, "%s", err);
        goto done;
    }
    if (val_prepare(&val, d, o->val_crop, o->seed) < 0) {
        ret = fail(EXIT_INPUT, "cannot prepare validation images");
        goto done;
    }
    fprintf(stderr, "%d training images, %d held out for validation (degraded PSNR-Y %.3f dB",
            d->n_train, val.n + val.untouched, val.deg_psnr);
    if (val.untouched)
        fprintf(stderr, "; %d left undegraded by the draw, not counted", val.untouched);
    fprintf(stderr, ")\n");
    if (crisp_train_net_create_flags(&net, m, o->batch, o->patch, o->patch, o->net_flags, err,
                                     sizeof(err)) < 0) {
        ret = fail(EXIT_INPUT, "%s", err);
        goto done;
    }
    if (o->net_flags & CRISP_TRAIN_BF16)
        fprintf(stderr, "precision bf16: %d convolutions in bf16 (the rest, weights and optimizer f32)\n",
                crisp_train_net_bf16_convs(net));
    if (tm) {
        if (crisp_train_net_create(&tnet, tm, o->batch, o->patch, o->patch, err, sizeof(err)) < 0) {
            ret = fail(EXIT_INPUT, "teacher: %s", err);
            goto done;
        }
        crisp_train_net_set_training(tnet, 0);
    }
    struct crisp_rng arng;
    crisp_rng_seed(&arng, o->seed ^ 0xADA9);
    for (int i = 0; i < o->n_feat && o->w_feat > 0; i++) {
        int cs, hs, ws, ct, ht, wt;
        if (!tnet || !crisp_train_net_activation(net, o->feat_s[i], &cs, &hs, &ws) ||
            !crisp_train_net_activation(tnet, o->feat_t[i], &ct, &ht, &wt) || hs != ht || ws != wt) {
            ret = fail(EXIT_USAGE, "--feat %d:%d: layers missing or of different spatial sizes",
                       o->feat_s[i], o->feat_t[i]);
            goto done;
        }
        ad[n_ad].s_layer = o->feat_s[i];
        ad[n_ad].t_layer = o->feat_t[i];
        if (adapter_init(&ad[n_ad], cs, ct, (size_t)o->batch * hs * ws, &arng) < 0) {
            ret = fail(EXIT_INPUT, "out of memory");
            goto done;
        }
        n_ad++;
    }
    struct crisp_adamw_params ap = {.lr = o->lr, .weight_decay = o->wd, .clip_norm = o->clip,
                                    .warmup_steps = o->warmup,
                                    .total_steps = o->steps > 0 ? (int)o->steps : 1000000};
    if (crisp_adamw_create(&opt, m, &ap) < 0) {
        ret = fail(EXIT_INPUT, "out of memory");
        goto done;
    }
    int64_t step = 0;
    double elapsed0 = 0;
    if (o->resume && o->checkpoint && access(o->checkpoint, F_OK) == 0) {
        if (ckpt_load(o->checkpoint, m, opt, ad, n_ad, &step, &elapsed0, err, sizeof(err)) < 0) {
            ret = fail(EXIT_INPUT, "%s", err);
            goto done;
        }
        fprintf(stderr, "resumed from %s at step %lld (%.1f min trained)\n", o->checkpoint,
                (long long)step, elapsed0 / 60);
    }
    if (o->log) {
        csv = fopen(o->log, step > 0 ? "a" : "w");
        if (!csv) {
            ret = fail(EXIT_INPUT, "%s: %s", o->log, strerror(errno));
            goto done;
        }
        if (step == 0)
            fprintf(csv, "step,minutes,lr,loss,gt,ssim,soft,res,feat,grad_norm,val_psnr_y\n");
    }
    const size_t n = (size_t)o->batch * o->patch * o->patch;
    if (o->bank > 0) {
        double tb = now_s();
        bk.nf = n_ad;
        for (int i = 0; i < n_ad; i++)
            bk.f_layer[i] = ad[i].t_layer;
        fprintf(stderr, "building a bank of %ld patches%s%s ...\n", o->bank,
                !tnet ? ""
                : o->t_ensemble > 1 ? " with teacher outputs (8-way self-ensemble)"
                                    : " with teacher outputs",
                n_ad ? " and features" : "");
        int bret = bank_build(&bk, o->bank, d, o->batch, o->patch, o->seed, tnet, o->t_ensemble,
                               o->data_threads);
        if (bret < 0) {
            ret = fail(EXIT_INPUT, "cannot build the patch bank: %s", crisp_strerror(bret));
            goto done;
        }
        bx = crisp_aalloc(n * sizeof(float));
        by = crisp_aalloc(n * sizeof(float));
        bt = crisp_aalloc(n * sizeof(float));
        int bf_ok = 1;
        for (int i = 0; i < bk.nf; i++)
            bf_ok = bf_ok && (bf[i] = crisp_aalloc((size_t)o->batch * bk.f_len[i] * sizeof(float)));
        if (!bx || !by || !bt || !bf_ok) {
            ret = fail(EXIT_INPUT, "out of memory");
            goto done;
        }
        /* building the bank (the teacher's passes included) counts against
         * --minutes, once: a resumed run rebuilds the same bank, and the first
         * build is already in the checkpoint's elapsed time */
        if (step == 0)
            elapsed0 += now_s() - tb;
        fprintf(stderr, "bank of %ld patches built in %.1f s\n", bk.n, now_s() - tb);
        /* only the bank's teacher outputs are used from here on */
        crisp_train_net_destroy(&tnet);
    } else if (sampler_create(&smp, d, o->batch, o->patch, o->seed, step, o->data_threads) < 0) {
        ret = fail(EXIT_INPUT, "cannot start the data worker");
        goto done;
    }
    grad = crisp_aalloc(n * sizeof(float));
    rs = crisp_aalloc(n * sizeof(float));
    rt = crisp_aalloc(n * sizeof(float));
    if (!grad || !rs || !rt) {
        ret = fail(EXIT_INPUT, "out of memory");
        goto done;
    }
    const double budget = o->minutes > 0 ? o->minutes * 60 : 0;
    const double t0 = now_s();
    double last_print = t0, last_ckpt = t0, vpsnr = NAN;
    double acc[6] = {0};
    int acc_n = 0, steps_since = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (;;) {
        double elapsed = elapsed0 + (now_s() - t0);
        double frac = 0;
        if (o->steps > 0)
            frac = (double)step / o->steps;
        if (budget > 0)
            frac = fmax(frac, elapsed / budget);
        if (frac >= 1 || g_stop)
            break;
        /* the cosine schedule follows whichever budget ends first */
        int est_total = frac > 0.01 ? (int)(step / frac) : (o->steps > 0 ? (int)o->steps : 1000000);
        crisp_adamw_set_total(opt, est_total);
        struct batch banked = {bx, by, bk.t ? bt : NULL, step};
        if (bk.n)
            bank_batch(&bk, o->batch, o->seed, step, o->bank_augment, bx, by, bt, bf);
        const struct batch *b = bk.n ? &banked : sampler_next(smp);
        if (!b) {
            ret = fail(EXIT_INPUT, "data worker failed");
            goto done;
        }
        memcpy(crisp_train_net_input(net), b->x, n * sizeof(float));
        if (crisp_train_net_forward(net) < 0) {
            ret = fail(EXIT_INPUT, "forward pass failed");
            goto done;
        }
        const float *out = crisp_train_net_output(net);
        memset(grad, 0, n * sizeof(float));
        double lg = 0, lss = 0, lsoft = 0, lres = 0, lfeat = 0;
        const float *target_t = b->t;
        if (tnet && !bk.n) {
            memcpy(crisp_train_net_input(tnet), b->x, n * sizeof(float));
            crisp_train_net_forward(tnet);
            target_t = crisp_train_net_output(tnet);
        }
        if (o->w_gt > 0)
            lg = crisp_loss(o->gt_loss, out, b->y, (size_t)o->batch, o->patch, o->patch, 1.0f,
                            o->w_gt, grad);
        if (o->w_ssim > 0)
            lss = crisp_loss(CRISP_LOSS_SSIM, out, b->y, (size_t)o->batch, o->patch, o->patch, 1.0f,
                             o->w_ssim, grad);
        if (target_t && o->w_soft > 0)
            lsoft = crisp_loss(o->gt_loss, out, target_t, (size_t)o->batch, o->patch, o->patch,
                               1.0f, o->w_soft, grad);
        if (target_t && o->w_res > 0) {
            /* residual matching, normalized by the teacher residual's energy */
            double e = 0, s = 0;
            for (size_t j = 0; j < n; j++) {
                rs[j] = out[j] - b->x[j];
                rt[j] = target_t[j] - b->x[j];
                e += (double)rt[j] * rt[j];
            }
            e += 1e-6 * (double)n;
            for (size_t j = 0; j < n; j++) {
                double dd = rs[j] - rt[j];
                s += dd * dd;
                grad[j] += (float)(o->w_res * 2 * dd / e);
            }
            lres = s / e;
        }
        struct crisp_train_extra_grad extra[8];
        for (int i = 0; i < n_ad; i++) {
            int c, h, w;
            const float *fs = crisp_train_net_activation(net, ad[i].s_layer, &c, &h, &w);
            const float *ft =
                bk.nf ? bf[i] : crisp_train_net_activation(tnet, ad[i].t_layer, NULL, NULL, NULL);
            lfeat += adapter_loss(&ad[i], fs, ft, o->batch, (size_t)h * w, o->w_feat / n_ad);
            extra[i] = (struct crisp_train_extra_grad){ad[i].s_layer, ad[i].grad_s};
        }
        if (crisp_train_net_backward(net, grad, extra, n_ad) < 0) {
            ret = fail(EXIT_INPUT, "backward pass failed");
            goto done;
        }
        double gnorm = 0;
        int sret = crisp_adamw_step(opt, net, &gnorm);
        if (sret < 0)
            fprintf(stderr, "step %lld: non-finite gradient, step skipped\n", (long long)step);
        for (int i = 0; i < n_ad; i++)
            adapter_step(&ad[i], crisp_adamw_lr(opt), crisp_adamw_steps(opt));
        double total = o->w_gt * lg + o->w_ssim * lss + o->w_soft * lsoft + o->w_res * lres +
                       o->w_feat * lfeat;
        double terms[6] = {total, lg, lss, lsoft, lres, lfeat};
        for (int k = 0; k < 6; k++)
            acc[k] += terms[k];
        acc_n++;
        steps_since++;
        step++;
        double tn = now_s();
        int final_step = (o->steps > 0 && step >= o->steps) ||
                         (budget > 0 && elapsed0 + (tn - t0) >= budget);
        if (tn - last_print >= o->progress_s || final_step || step == 1) {
            vpsnr = val_psnr(&val, m);
            double el = elapsed0 + (tn - t0);
            double ips = steps_since / (tn - last_print + 1e-9);
            double eta = o->steps > 0 ? (o->steps - step) / (ips + 1e-9) : 0;
            if (budget > 0)
                eta = fmax(0, budget - el);
            fprintf(stderr,
                    "step %6lld  %.2f it/s  %5.1f min  ETA %5.1f min  lr %.2e  loss %.5f "
                    "[gt %.5f ssim %.4f soft %.5f res %.4f feat %.5f]  |g| %.3f  val PSNR-Y "
                    "%.3f dB (degraded %.3f)\n",
                    (long long)step, ips, el / 60, eta / 60, crisp_adamw_lr(opt), acc[0] / acc_n,
                    acc[1] / acc_n, acc[2] / acc_n, acc[3] / acc_n, acc[4] / acc_n,
                    acc[5] / acc_n, gnorm, vpsnr, val.deg_psnr);
            if (csv) {
                fprintf(csv, "%lld,%.3f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g,%.4f\n",
                        (long long)step, el / 60, crisp_adamw_lr(opt), acc[0] / acc_n,
                        acc[1] / acc_n, acc[2] / acc_n, acc[3] / acc_n, acc[4] / acc_n,
                        acc[5] / acc_n, gnorm, vpsnr);
                fflush(csv);
            }
            memset(acc, 0, sizeof(acc));
            acc_n = 0;
            steps_since = 0;
            last_print = tn;
        }
        if (o->checkpoint && tn - last_ckpt >= o->ckpt_minutes * 60) {
            if (ckpt_save(o->checkpoint, m, opt, ad, n_ad, step, elapsed0 + (tn - t0)) < 0)
                fprintf(stderr, "warning: cannot write checkpoint %s\n", o->checkpoint);
            last_ckpt = tn;
        }
    }
    if (o->checkpoint &&
        ckpt_save(o->checkpoint, m, opt, ad, n_ad, step, elapsed0 + (now_s() - t0)) < 0)
        fprintf(stderr, "warning: cannot write checkpoint %s\n", o->checkpoint);
    if (g_stop) {
        fprintf(stderr, "interrupted at step %lld; resume with --resume\n", (long long)step);
        ret = EXIT_INPUT;
        goto done;
    }
    if (crisp_weights_save(m, o->out) < 0) {
        ret = fail(EXIT_INPUT, "%s: cannot write the model", o->out);
        goto done;
    }
    fprintf(stderr, "wrote %s after %lld steps (%.1f min); validation PSNR-Y %.3f dB (degraded %.3f)\n",
            o->out, (long long)step, (elapsed0 + now_s() - t0) / 60, val_psnr(&val, m),
            val.deg_psnr);
    ret = EXIT_OK;
done:
    crisp_afree(rs);
    crisp_afree(rt);
    crisp_afree(bx);
    crisp_afree(by);
    crisp_afree(bt);
    for (int i = 0; i < 8; i++)
        crisp_afree(bf[i]);
    bank_free(&bk);
    if (csv)
        fclose(csv);
    sampler_destroy(&smp);
    crisp_afree(grad);
    for (int i = 0; i < n_ad; i++)
        adapter_free(&ad[i]);
    crisp_adamw_destroy(&opt);
    crisp_train_net_destroy(&net);
    crisp_train_net_destroy(&tnet);
    val_free(&val);
    dataset_free(&d);
    crisp_model_destroy(&m);
    crisp_model_destroy(&tm);
    return ret;
}

/* ---- export-degraded: the fixed inputs an external teacher restores ---- */

static int export_degraded(const char *data, const char *outdir, int max_side, uint64_t seed)
{
    char err[512];
    struct dataset *d;
    struct dataset_params dp = {.dir = data, .max_side = max_side, .seed = seed};
    if (dataset_load(&d, &dp, err, sizeof(err)) < 0)
        return fail(EXIT_INPUT, "%s", err);
    if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
        dataset_free(&d);
        return fail(EXIT_INPUT, "%s: %s", outdir, strerror(errno));
    }
    int ret = EXIT_OK;
    for (int i = 0; i < d->n_train && ret == EXIT_OK; i++) {
        struct crisp_image *dg;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", outdir, d->train_names[i]);
        char *dot = strrchr(path, '.');
        if (dot)
            strcpy(dot, ".png");
        if (degrade_fixed(&dg, d->train[i], d->train_names[i], seed) < 0 ||
            crisp_image_write(dg, path, 0, err, sizeof(err)) < 0)
            ret = fail(EXIT_INPUT, "%s: cannot write", path);
        crisp_image_destroy(&dg);
    }
    fprintf(stderr, "wrote %d degraded training images to %s (validation images excluded)\n",
            d->n_train, outdir);
    dataset_free(&d);
    return ret;
}

/* ---- bench: seconds per training step ---- */

static int bench(const char *arch, int batch, int patch, int steps, int threads, unsigned flags)
{
    char err[512];
    struct crisp_model *m;
    if (preset_build(arch, &m, err, sizeof(err)) < 0)
        return fail(EXIT_USAGE, "%s", err);
    preset_init(m, 1);
    if (threads > 0)
        omp_set_num_threads(threads);
    struct crisp_train_net *net;
    if (crisp_train_net_create_flags(&net, m, batch, patch, patch, flags, err, sizeof(err)) < 0) {
        crisp_model_destroy(&m);
        return fail(EXIT_INPUT, "%s", err);
    }
    struct crisp_adamw *opt;
    struct crisp_adamw_params ap = {.lr = 1e-4f, .total_steps = steps};
    crisp_adamw_create(&opt, m, &ap);
    size_t n = (size_t)batch * patch * patch;
    float *x = crisp_train_net_input(net), *g = calloc(n, sizeof(float)), *t = calloc(n, sizeof(float));
    struct crisp_rng r;
    crisp_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++)
        t[i] = x[i] = (float)crisp_rng_uniform(&r);
    double best = 1e9, sum = 0;
    for (int s = 0; s < steps + 1; s++) {
        double a = now_s();
        crisp_train_net_forward(net);
        memset(g, 0, n * sizeof(float));
        crisp_loss(CRISP_LOSS_L1, crisp_train_net_output(net), t, (size_t)batch, patch, patch,
                   1.0f, 1.0f, g);
        crisp_train_net_backward(net, g, NULL, 0);
        crisp_adamw_step(opt, net, NULL);
        double dt = now_s() - a;
        if (s > 0) { /* the first step includes oneDNN's kernel generation */
            sum += dt;
            best = dt < best ? dt : best;
        }
    }
    printf("%s: batch %d of %dx%d, %d threads, %s: %.3f s/step mean, %.3f best, %.2f it/s\n", arch,
           batch, patch, patch, omp_get_max_threads(),
           crisp_train_net_bf16_convs(net) ? "bf16 convolutions" : "f32", sum / steps, best,
           steps / sum);
    free(g);
    free(t);
    crisp_adamw_destroy(&opt);
    crisp_train_net_destroy(&net);
    crisp_model_destroy(&m);
    return 0;
}

static const char USAGE[] =
    "usage: crisp-train COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  teacher  --data DIR --arch NAME --out FILE [options]   train on ground truth\n"
    "  distill  --data DIR --arch NAME --out FILE (--teacher FILE | --teacher-dir DIR) [options]\n"
    "  export-degraded --data DIR --out DIR   write the fixed degraded inputs for an\n"
    "                                         external teacher (--teacher-dir mode)\n"
    "  presets                                list the architectures\n"
    "  bench --arch NAME [--batch B --patch P --steps N --threads T --precision P]\n"
    "                                         time a training step\n"
    "  quantize --model FILE --data DIR [--out FILE.q8] [--max-images N [32]] [--max-side N]\n"
    "                                         calibrate int8 ranges on training images (vc\n"
    "                                         degradation); writes FILE.q8 beside the model\n"
    "\n"
    "training options (defaults in brackets):\n"
    "  --minutes M      time budget [0: none]        --steps N       step budget [0: none]\n"
    "  --batch B [16]   --patch P [96]   --lr LR [5e-4]   --wd W [0]   --clip C [1.0]\n"
    "  --warmup N [200]  --seed S [1]    --threads T [all cores]\n"
    "  --precision f32|bf16 [f32]  bf16: convolutions of the trained net in bf16 (mixed\n"
    "                   precision; CPUs with AVX-512 BF16 or AMX; docs/training.md)\n"
    "  --loss l1|mse|charbonnier [l1]    ground-truth (and soft-target) loss\n"
    "  --w-gt W [1]     --w-ssim W [0]  (1 - SSIM on ground truth)\n"
    "  distill only: --w-soft W [1]  teacher output as target   --w-res W [0]  teacher residual\n"
    "                --w-feat W [0] --feat S:T[,S:T]  student layer S to teacher layer T (1x1 adapter)\n"
    "  --checkpoint FILE  --checkpoint-minutes M [3]  --resume   --log FILE.csv\n"
    "  --init FILE      start from a model file instead of a fresh preset\n"
    "  --max-side N [1024]  area-downscale larger training images\n"
    "  --data-threads N [1]  threads preparing batches (1..16; the batches are the same for any N)\n"
    "  --val-every K [20]   hold out every K-th image for validation   --val-crop N [256]\n"
    "  --max-images N   use only the first N images (smoke runs)   --progress S [30] seconds\n"
    "  --profile mixed|call|half|half-h264|x2 [mixed]  degradation stage probabilities (docs/training.md)\n"
    "  --bank N [0]     draw N patches once (with the teacher's outputs when distilling) and\n"
    "                   train on random flips/rotations of them; the teacher then runs once\n"
    "                   per bank patch instead of every step\n"
    "  --bank-augment 0|1 [1]  serve bank patches in random flips/rotations; 0 (as drawn)\n"
    "                   is required with --w-feat, whose teacher features the bank keeps\n"
    "  --teacher-ensemble 1|8 [1]  with --bank: the teacher's targets are the mean of its\n"
    "                   outputs on the 8 flips/rotations of each patch (8x the bank's cost)\n";

int main(int argc, char **argv)
{
    crisp_set_progname("crisp-train");
    crisp_media_set_verbose(0);
    if (argc < 2)
        return fail(EXIT_USAGE, "missing command (teacher, distill, quantize, export-degraded, "
                                "presets, bench; see crisp-train -h)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (!strcmp(cmd, "presets")) {
        preset_list();
        return 0;
    }
    struct opts o = {.batch = 16, .patch = 96, .lr = 5e-4f, .clip = 1.0f, .warmup = 200,
                     .seed = 1, .gt_loss = CRISP_LOSS_L1, .w_gt = 1.0f, .w_soft = 1.0f,
                     .max_side = 1024, .data_threads = 1, .val_every = 20, .val_crop = 256, .ckpt_minutes = 3,
                     .progress_s = 30, .bank_augment = 1};
    o.distill = !strcmp(cmd, "distill");
    enum { O_DATA = 256, O_ARCH, O_OUT, O_TEACHER, O_TDIR, O_MIN, O_STEPS, O_BATCH, O_PATCH,
           O_LR, O_WD, O_CLIP, O_WARM, O_SEED, O_THREADS, O_LOSS, O_WGT, O_WSSIM, O_WSOFT,
           O_WRES, O_WFEAT, O_FEAT, O_CKPT, O_CKPTMIN, O_RESUME, O_LOG, O_INIT, O_MAXSIDE,
           O_VALEVERY, O_VALCROP, O_MAXIMG, O_PROGRESS, O_PROFILE, O_BANK,
           O_TENS, O_BANKAUG, O_PREC, O_DTHREADS };
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA}, {"arch", 1, 0, O_ARCH}, {"out", 1, 0, O_OUT},
        {"teacher", 1, 0, O_TEACHER}, {"teacher-dir", 1, 0, O_TDIR}, {"minutes", 1, 0, O_MIN},
        {"steps", 1, 0, O_STEPS}, {"batch", 1, 0, O_BATCH}, {"patch", 1, 0, O_PATCH},
        {"lr", 1, 0, O_LR}, {"wd", 1, 0, O_WD}, {"clip", 1, 0, O_CLIP},
        {"warmup", 1, 0, O_WARM}, {"seed", 1, 0, O_SEED}, {"threads", 1, 0, O_THREADS},
        {"loss", 1, 0, O_LOSS}, {"w-gt", 1, 0, O_WGT}, {"w-ssim", 1, 0, O_WSSIM},
        {"w-soft", 1, 0, O_WSOFT}, {"w-res", 1, 0, O_WRES}, {"w-feat", 1, 0, O_WFEAT},
        {"feat", 1, 0, O_FEAT}, {"checkpoint", 1, 0, O_CKPT},
        {"checkpoint-minutes", 1, 0, O_CKPTMIN}, {"resume", 0, 0, O_RESUME},
        {"log", 1, 0, O_LOG}, {"init", 1, 0, O_INIT}, {"model", 1, 0, O_INIT},
        {"max-side", 1, 0, O_MAXSIDE}, {"data-threads", 1, 0, O_DTHREADS},
        {"val-every", 1, 0, O_VALEVERY}, {"val-crop", 1, 0, O_VALCROP},
        {"max-images", 1, 0, O_MAXIMG}, {"progress", 1, 0, O_PROGRESS},
        {"profile", 1, 0, O_PROFILE}, {"bank", 1, 0, O_BANK},
        {"teacher-ensemble", 1, 0, O_TENS}, {"bank-augment", 1, 0, O_BANKAUG},
        {"precision", 1, 0, O_PREC}, {0, 0, 0, 0}};
    argc--;
    argv++;
    opterr = 0;
    int c;
    char *end;
#define NUM(dst, conv, lo_, hi_)                                                                   \
    do {                                                                                           \
        errno = 0;                                                                                 \
        double v_ = strtod(optarg, &end);                                                          \
        if (errno || end == optarg || *end || !(v_ >= (lo_) && v_ <= (hi_)))                       \
            return fail(EXIT_USAGE, "--%s must be a number in %g..%g (got \"%s\")",                \
                        lo[optind_opt].name, (double)(lo_), (double)(hi_), optarg);                \
        dst = (conv)v_;                                                                            \
    } while (0)
    int optind_opt = 0;
    while ((c = getopt_long(argc, argv, "", lo, &optind_opt)) != -1) {
        switch (c) {
        case O_DATA: o.data = optarg; break;
        case O_ARCH: o.arch = optarg; break;
        case O_OUT: o.out = optarg; break;
        case O_TEACHER: o.teacher = optarg; break;
        case O_TDIR: o.teacher_dir = optarg; break;
        case O_MIN: NUM(o.minutes, double, 0, 100000); break;
        case O_STEPS: NUM(o.steps, long, 0, 1e9); break;
        case O_BANK: NUM(o.bank, long, 0, 1e6); break;
        case O_TENS:
            if (strcmp(optarg, "1") && strcmp(optarg, "8"))
                return fail(EXIT_USAGE, "--teacher-ensemble must be 1 or 8 (got \"%s\")", optarg);
            o.t_ensemble = atoi(optarg);
            break;
        case O_BANKAUG:
            if (strcmp(optarg, "0") && strcmp(optarg, "1"))
                return fail(EXIT_USAGE, "--bank-augment must be 0 or 1 (got \"%s\")", optarg);
            o.bank_augment = atoi(optarg);
            break;
        case O_PREC:
            if (!strcmp(optarg, "f32")) {
                o.net_flags &= ~CRISP_TRAIN_BF16;
            } else if (!strcmp(optarg, "bf16")) {
                if (!crisp_train_bf16_available())
                    return fail(EXIT_USAGE, "--precision bf16: this CPU has no AVX-512 BF16 or AMX "
                                            "(oneDNN sees %s)", crisp_cpu_isa_name());
                o.net_flags |= CRISP_TRAIN_BF16;
            } else {
                return fail(EXIT_USAGE, "--precision must be f32 or bf16 (got \"%s\")", optarg);
            }
            break;
        case O_BATCH: NUM(o.batch, int, 1, 1024); break;
        case O_PATCH: NUM(o.patch, int, 16, 1024); break;
        case O_LR: NUM(o.lr, float, 0, 1); break;
        case O_WD: NUM(o.wd, float, 0, 1); break;
        case O_CLIP: NUM(o.clip, float, 0, 1e6); break;
        case O_WARM: NUM(o.warmup, int, 0, 1e7); break;
        case O_SEED: NUM(o.seed, uint64_t, 0, 1e15); break;
        case O_THREADS: NUM(o.threads, int, 0, 256); break;
        case O_LOSS:
            if (crisp_loss_parse(optarg, &o.gt_loss) < 0 || o.gt_loss == CRISP_LOSS_SSIM)
                return fail(EXIT_USAGE, "--loss must be l1, mse or charbonnier (got \"%s\")",
                            optarg);
            break;
        case O_WGT: NUM(o.w_gt, float, 0, 1000); break;
        case O_WSSIM: NUM(o.w_ssim, float, 0, 1000); break;
        case O_WSOFT: NUM(o.w_soft, float, 0, 1000); break;
        case O_WRES: NUM(o.w_res, float, 0, 1000); break;
        case O_WFEAT: NUM(o.w_feat, float, 0, 1000); break;
        case O_FEAT:
            if (parse_feat(&o, optarg) < 0)
                return fail(EXIT_USAGE, "--feat wants S:T[,S:T...] layer indices (got \"%s\")",
                            optarg);
            break;
        case O_CKPT: o.checkpoint = optarg; break;
        case O_CKPTMIN: NUM(o.ckpt_minutes, double, 0, 1e6); break;
        case O_RESUME: o.resume = 1; break;
        case O_LOG: o.log = optarg; break;
        case O_INIT: o.init = optarg; break;
        case O_MAXSIDE: NUM(o.max_side, int, 64, 100000); break;
        case O_DTHREADS: NUM(o.data_threads, int, 1, 16); break;
        case O_VALEVERY: NUM(o.val_every, int, 2, 100000); break;
        case O_VALCROP: NUM(o.val_crop, int, 32, 4096); break;
        case O_MAXIMG: NUM(o.max_images, int, 0, 1e7); break;
        case O_PROGRESS: NUM(o.progress_s, double, 0, 1e6); break;
        case O_PROFILE:
            if (degrade_set_profile(optarg) < 0)
                return fail(EXIT_USAGE, "--profile must be mixed, call, half, half-h264 or x2 (got \"%s\")", optarg);
            break;
        default: return fail(EXIT_USAGE, "%s: unknown option (see crisp-train -h)", cmd);
        }
    }
#undef NUM
    if (optind < argc)
        return fail(EXIT_USAGE, "%s: unexpected argument \"%s\"", cmd, argv[optind]);
    if (!strcmp(cmd, "bench")) {
        if (!o.arch)
            return fail(EXIT_USAGE, "bench: --arch is required");
        return bench(o.arch, o.batch, o.patch, o.steps > 0 ? (int)o.steps : 5, o.threads,
                     o.net_flags);
    }
    if (!strcmp(cmd, "quantize")) {
        if (!o.init || !o.data)
            return fail(EXIT_USAGE, "quantize: --model and --data are required");
        return quantize(o.init, o.data, o.out, o.max_images > 0 ? o.max_images : 32,
                        o.max_side < 640 ? o.max_side : 640);
    }
    if (!strcmp(cmd, "export-degraded")) {
        if (!o.data || !o.out)
            return fail(EXIT_USAGE, "export-degraded: --data and --out are required");
        return export_degraded(o.data, o.out, o.max_side, o.seed);
    }
    if (strcmp(cmd, "teacher") && strcmp(cmd, "distill"))
        return fail(EXIT_USAGE, "unknown command \"%s\" (see crisp-train -h)", cmd);
    if (!o.data || !o.out || (!o.arch && !o.init))
        return fail(EXIT_USAGE, "%s: --data, --arch (or --init) and --out are required", cmd);
    if (o.minutes <= 0 && o.steps <= 0)
        return fail(EXIT_USAGE, "%s: give a budget with --minutes or --steps", cmd);
    if (o.distill && !o.teacher == !o.teacher_dir)
        return fail(EXIT_USAGE, "distill: give exactly one of --teacher and --teacher-dir");
    if (o.distill && o.teacher_dir && o.w_feat > 0)
        return fail(EXIT_USAGE, "distill: --w-feat needs a runnable --teacher, not --teacher-dir");
    if (!o.distill) {
        o.w_soft = o.w_res = o.w_feat = 0;
        if (o.teacher || o.teacher_dir)
            return fail(EXIT_USAGE, "teacher: --teacher and --teacher-dir belong to distill");
    }
    if (o.bank > 0 && o.w_feat > 0 && o.bank_augment)
        return fail(EXIT_USAGE, "distill: --w-feat with --bank stores the teacher's features of "
                                "each patch as drawn: add --bank-augment 0");
    if (o.bank > 0 && o.w_feat > 0 && !o.teacher)
        return fail(EXIT_USAGE, "distill: --w-feat needs a runnable --teacher");
    if (o.bank <= 0 && !o.bank_augment)
        return fail(EXIT_USAGE, "%s: --bank-augment belongs to --bank", cmd);
    if (o.t_ensemble > 1 && (!o.teacher || o.bank <= 0))
        return fail(EXIT_USAGE, "distill: --teacher-ensemble 8 needs --teacher and --bank");
    if (o.w_feat > 0 && o.n_feat == 0)
        return fail(EXIT_USAGE, "distill: --w-feat needs --feat S:T");
    return train(&o);
}
