// SPDX-License-Identifier: BSD-2-Clause
// The distillation patch bank (bank.h): built once on the main thread
// before training, then read by the training loop. Owns the bank's patch,
// target and feature arrays.
#include <errno.h>
#include <string.h>

#include "bank.h"
#include "crisp/util.h"

void bank_free(struct bank *bk)
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
            crisp_orient(in + k * pp, tmp + k * pp, p, p, o, 0);
        if (crisp_train_net_forward(tnet) < 0)
            return -EIO;
        if (o == 0 && bank_store_features(bk, tnet, row, batch) < 0) /* the patch as drawn */
            return -ENOMEM;
        const float *out = crisp_train_net_output(tnet);
        for (int k = 0; k < batch; k++) {
            crisp_orient(back, out + k * pp, p, p, o, 1);
            for (size_t i = 0; i < pp; i++)
                t[k * pp + i] += 0.125f * back[i];
        }
    }
    return 0;
}

/* allocates the bank's arrays for n rows (features sized from tnet); 0 or -ENOMEM */
static int bank_alloc(struct bank *bk, long n, int p, int with_t, struct crisp_train_net *tnet)
{
    const size_t pp = (size_t)p * p;
    bk->n = n;
    bk->p = p;
    bk->x = crisp_aalloc((size_t)n * pp * sizeof(float));
    bk->y = crisp_aalloc((size_t)n * pp * sizeof(float));
    bk->t = with_t ? crisp_aalloc((size_t)n * pp * sizeof(float)) : NULL;
    int ok = bk->x && bk->y && (!with_t || bk->t);
    for (int k = 0; k < bk->nf; k++) {
        int c, h, w;
        crisp_train_net_activation(tnet, bk->f_layer[k], &c, &h, &w);
        bk->f_len[k] = (size_t)c * h * w;
        bk->f[k] = crisp_aalloc((size_t)n * bk->f_len[k] * sizeof(float));
        ok = ok && bk->f[k];
    }
    return ok ? 0 : -ENOMEM;
}

/* This rank's rows: its share (k % parts == part) of each of the `nbatch`
 * global bank batches, in order, with the teacher run on them. */
static int bank_fill(struct bank *loc, const struct dataset *d, int batch, int lb, long nbatch,
                     uint64_t seed, struct crisp_train_net *tnet, int ensemble, int workers,
                     const struct dist *ds)
{
    struct sampler *smp = NULL;
    const int p = loc->p;
    const size_t pp = (size_t)p * p, nb = (size_t)lb * pp;
    float *tmp = tnet && ensemble > 1 ? crisp_aalloc((nb + pp) * sizeof(float)) : NULL;
    if ((tnet && ensemble > 1 && !tmp) ||
        sampler_create(&smp, d, batch, p, seed ^ 0xBA4C, 0, workers, ds->rank, ds->size, 0, 0,
                       loc->input8) < 0) {
        crisp_afree(tmp);
        return -ENOMEM;
    }
    int ret = 0;
    for (long i = 0; i < nbatch * lb && !ret; i += lb) {
        const struct batch *b = sampler_next(smp);
        if (!b) {
            ret = -EIO;
            break;
        }
        memcpy(loc->x + (size_t)i * pp, b->x, nb * sizeof(float));
        memcpy(loc->y + (size_t)i * pp, b->y, nb * sizeof(float));
        if (tnet) {
            memcpy(crisp_train_net_input(tnet), b->x, nb * sizeof(float));
            if (teacher_targets(tnet, lb, p, ensemble, loc->t + (size_t)i * pp, tmp, loc, i) < 0)
                ret = -EIO;
        } else if (loc->t) {
            memcpy(loc->t + (size_t)i * pp, b->t, nb * sizeof(float));
        }
    }
    sampler_destroy(&smp);
    crisp_afree(tmp);
    return ret;
}

/* Every rank's rows into every rank's bank: rank q broadcasts its rows,
 * which land at batch * `batch` + q + j * size (rank-strided). */
static int bank_exchange(float *all, float *mine, size_t row, int batch, long nbatch,
                         const struct dist *ds)
{
    const int lmax = dist_share(batch, 0, ds->size); /* rank 0's share is the largest */
    float *tmp = crisp_aalloc((size_t)nbatch * lmax * row * sizeof(float));
    if (!tmp)
        return -ENOMEM;
    for (int q = 0; q < ds->size; q++) {
        const int lq = dist_share(batch, q, ds->size);
        const size_t rows = (size_t)nbatch * lq;
        float *src = q == ds->rank ? mine : tmp;
        if (dist_bcast(ds, src, rows * row * sizeof(float), q) < 0) {
            crisp_afree(tmp);
            return -EIO;
        }
        for (size_t i = 0; i < rows; i++) {
            size_t dst = (i / lq) * batch + q + (i % lq) * ds->size;
            memcpy(all + dst * row, src + i * row, row * sizeof(float));
        }
    }
    crisp_afree(tmp);
    return 0;
}

/* `bk->nf`, `bk->f_layer` (0 for no features) and `bk->input8` are set by the caller */
int bank_build(struct bank *bk, long n, const struct dataset *d, int batch, int p, uint64_t seed,
               struct crisp_train_net *tnet, int ensemble, int workers, const struct dist *ds)
{
    const long nbatch = (n + batch - 1) / batch;
    const int lb = dist_local_batch(ds, batch);
    const int with_t = tnet || d->train_teacher;
    if (bank_alloc(bk, nbatch * batch, p, with_t, tnet) < 0) {
        bank_free(bk);
        return -ENOMEM;
    }
    if (ds->size == 1) { /* the whole bank is this process's share */
        int ret = bank_fill(bk, d, batch, lb, nbatch, seed, tnet, ensemble, workers, ds);
        if (ret < 0)
            bank_free(bk);
        return ret;
    }
    struct bank loc = {.nf = bk->nf, .input8 = bk->input8};
    memcpy(loc.f_layer, bk->f_layer, sizeof(loc.f_layer));
    int ret = bank_alloc(&loc, nbatch * lb, p, with_t, tnet);
    if (!ret)
        ret = bank_fill(&loc, d, batch, lb, nbatch, seed, tnet, ensemble, workers, ds);
    /* a rank whose share failed skips the exchange: the others wait in a
     * broadcast until the caller's MPI_Abort (dist_finish) ends the job */
    const size_t pp = (size_t)p * p;
    if (!ret)
        ret = bank_exchange(bk->x, loc.x, pp, batch, nbatch, ds);
    if (!ret)
        ret = bank_exchange(bk->y, loc.y, pp, batch, nbatch, ds);
    if (!ret && with_t)
        ret = bank_exchange(bk->t, loc.t, pp, batch, nbatch, ds);
    for (int k = 0; k < bk->nf && !ret; k++)
        ret = bank_exchange(bk->f[k], loc.f[k], bk->f_len[k], batch, nbatch, ds);
    bank_free(&loc);
    if (ret < 0)
        bank_free(bk);
    return ret;
}

/* batch k of training: random bank patches, each in a random flip/rotation
 * when `augment` (the orientation is drawn either way, so the patches picked
 * do not depend on it); their stored features into f[0..nf) */
void bank_batch(const struct bank *bk, int batch, uint64_t seed, int64_t k, int augment,
                float *x, float *y, float *t, float **f, const struct dist *ds)
{
    struct crisp_rng r;
    crisp_rng_seed(&r, seed * 0x9E3779B97F4A7C15ull + (uint64_t)k + 1);
    const size_t pp = (size_t)bk->p * bk->p;
    for (int g = 0, i = 0; g < batch; g++) {
        size_t j = (size_t)(crisp_rng_u64(&r) % (uint64_t)bk->n), src = j * pp;
        int o = (int)(crisp_rng_u64(&r) % 8);
        if (!augment)
            o = 0;
        if (g % ds->size != ds->rank) /* another rank's sample: its draws are made all the same */
            continue;
        crisp_orient(x + i * pp, bk->x + src, bk->p, bk->p, o, 0);
        crisp_orient(y + i * pp, bk->y + src, bk->p, bk->p, o, 0);
        if (t && bk->t)
            crisp_orient(t + i * pp, bk->t + src, bk->p, bk->p, o, 0);
        for (int q = 0; q < bk->nf; q++)
            memcpy(f[q] + i * bk->f_len[q], bk->f[q] + j * bk->f_len[q],
                   bk->f_len[q] * sizeof(float));
        i++;
    }
}
