// SPDX-License-Identifier: BSD-2-Clause
// crisp-train's training loop (trainer.h): teacher training on ground truth
// and distillation from a teacher (live, from the patch bank, or from a
// folder of its outputs), with validation, progress lines, a CSV log and
// checkpoints.
//
// Runs on the main thread; oneDNN runs the network on its OpenMP pool, and
// the sampler's workers (data.c) prepare batches ahead. Owns the model, the
// training networks, the optimizer, the adapters, the bank and the batch
// buffers for the length of train_run.
//
// Data-parallel over MPI (dist.h): every rank holds the same model and
// optimizer; of each global batch of --batch samples a rank runs its
// rank-strided share, its loss terms weighted by share/--batch, and the
// gradients are summed over the ranks before every optimizer step, so each
// rank takes the step one process takes on the whole batch. The stopping
// decision and the schedule's progress are agreed (the maximum over ranks)
// at the top of every step; rank 0 alone validates, logs and writes
// checkpoints and the model; a weight checksum is compared every
// --check-every steps and at the end.
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "bank.h"
#include "checkpoint.h"
#include "crisp/engine.h"
#include "crisp/model.h"
#include "crisp/util.h"
#include "data.h"
#include "dist.h"
#include "presets.h"
#include "trainer.h"
#include "validate.h"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

/* everything a run holds; freed by run_free */
struct run {
    struct train_opts *o;
    const struct dist *ds;
    int lb;      /* this rank's share of the global batch */
    int nb;      /* patches a step runs here: lb, twice that with --w-temporal's twins */
    int pair;    /* a frame-pair model: nb = lb pairs of 2 channels, made from the sampler's twins
                    (2 lb with --w-temporal: each twin also as the current frame) */
    const struct batch *raw; /* pair models: the sampler's batch behind this step's pairs */
    float share; /* lb / global batch: the weight of this rank's loss terms */
    float *gsum; /* the gradients packed for the sum over ranks */
    size_t gsum_n;
    double t_sync; /* seconds spent summing gradients (pack, allreduce, unpack) */
    int64_t n_sync;
    struct crisp_model *m, *tm;
    struct dataset *d;
    struct sampler *smp;
    struct crisp_train_net *net, *tnet;
    struct crisp_adamw *opt;
    struct crisp_collapse *coll; /* --collapse: the expanded tensors behind every conv */
    struct adapter ad[8];
    int n_ad;
    float *grad, *rs, *rt, *bx, *by, *bt;
    float *bf[8];
    struct bank bk;
    FILE *csv;
    struct val_set val;
    size_t n; /* floats in a batch */
    int64_t step;
    double elapsed0; /* minutes trained before this process, in seconds */
};

/* the student (fresh preset or --init) and the teacher; 0 or an exit code */
static int run_models(struct run *r)
{
    struct train_opts *o = r->o;
    char err[512] = "";
    if (o->init) {
        if (crisp_weights_load(&r->m, o->init, err, sizeof(err)) < 0)
            return fail(EXIT_INPUT, "%s", err);
    } else if (preset_build(o->arch, &r->m, err, sizeof(err)) < 0) {
        return fail(EXIT_USAGE, "%s", err);
    } else {
        preset_init(r->m, o->seed);
    }
    if (r->m->color != CRISP_COLOR_LUMA && r->m->color != CRISP_COLOR_LUMA_PAIR)
        return fail(EXIT_USAGE, "only luma and frame-pair models are trained for now");
    r->pair = r->m->color == CRISP_COLOR_LUMA_PAIR;
    if (r->pair && (o->distill || o->bank > 0 || o->w_feat > 0))
        return fail(EXIT_USAGE, "%s is a frame-pair model: it trains on ground truth (teacher, "
                                "not with distill, --bank or --w-feat)", r->m->name);
    if (r->pair && o->temporal_codec)
        return fail(EXIT_USAGE, "%s is a frame-pair model: its pairs mix stills, codec and "
                                "moved twins (--temporal-twin is for luma models)", r->m->name);
    for (int i = 0; i < r->m->n_layers && r->ds->size > 1; i++)
        if (r->m->layers[i].type == CRISP_LAYER_BN)
            return fail(EXIT_USAGE,
                        "%s has batch normalization: its batch statistics would differ "
                        "between ranks; train it in one process",
                        r->m->name);
    int align = crisp_model_alignment(r->m);
    if (o->patch % align || o->patch < 16)
        return fail(EXIT_USAGE, "--patch %d must be >= 16 and a multiple of %d for %s", o->patch,
                    align, r->m->name);
    if (o->distill && o->teacher) {
        if (crisp_weights_load(&r->tm, o->teacher, err, sizeof(err)) < 0)
            return fail(EXIT_INPUT, "%s", err);
        if (r->tm->color != r->m->color || o->patch % crisp_model_alignment(r->tm))
            return fail(EXIT_INPUT, "teacher %s does not suit the student (colour or alignment)",
                        o->teacher);
    }
    return 0;
}

/* the images and the validation crops */
static int run_data(struct run *r)
{
    struct train_opts *o = r->o;
    char err[512] = "";
    struct dataset_params dp = {.dir = o->data, .max_side = o->max_side, .val_every = o->val_every,
                                .max_images = o->max_images,
                                .teacher_dir = o->distill ? o->teacher_dir : NULL,
                                .seed = o->seed};
    if (r->ds->rank == 0)
        fprintf(stderr, "loading %s ...\n", o->data);
    if (dataset_load(&r->d, &dp, err, sizeof(err)) < 0)
        return fail(EXIT_INPUT, "%s", err);
    if (r->ds->rank) /* validation is rank 0's */
        return 0;
    if (val_prepare(&r->val, r->d, o->val_crop, o->seed, o->input8) < 0)
        return fail(EXIT_INPUT, "cannot prepare validation images");
    fprintf(stderr, "%d training images, %d held out for validation (degraded PSNR-Y %.3f dB",
            r->d->n_train, r->val.n + r->val.untouched, r->val.deg_psnr);
    if (r->val.untouched)
        fprintf(stderr, "; %d left undegraded by the draw, not counted", r->val.untouched);
    fprintf(stderr, ")\n");
    return 0;
}

/* the training networks, the feature adapters and the optimizer */
static int run_nets(struct run *r)
{
    struct train_opts *o = r->o;
    char err[512] = "";
    if (crisp_train_net_create_flags(&r->net, r->m, r->nb, o->patch, o->patch, o->net_flags,
                                     err, sizeof(err)) < 0)
        return fail(EXIT_INPUT, "%s", err);
    if ((o->net_flags & CRISP_TRAIN_BF16) && r->ds->rank == 0)
        fprintf(stderr, "precision bf16: %d convolutions in bf16 (the rest, weights and optimizer f32)\n",
                crisp_train_net_bf16_convs(r->net));
    if (r->tm) {
        if (crisp_train_net_create(&r->tnet, r->tm, r->nb, o->patch, o->patch, err,
                                   sizeof(err)) < 0)
            return fail(EXIT_INPUT, "teacher: %s", err);
        crisp_train_net_set_training(r->tnet, 0);
    }
    struct crisp_rng arng;
    crisp_rng_seed(&arng, o->seed ^ 0xADA9);
    for (int i = 0; i < o->n_feat && o->w_feat > 0; i++) {
        int cs, hs, ws, ct, ht, wt;
        if (!r->tnet || !crisp_train_net_activation(r->net, o->feat_s[i], &cs, &hs, &ws) ||
            !crisp_train_net_activation(r->tnet, o->feat_t[i], &ct, &ht, &wt) || hs != ht ||
            ws != wt)
            return fail(EXIT_USAGE, "--feat %d:%d: layers missing or of different spatial sizes",
                        o->feat_s[i], o->feat_t[i]);
        struct adapter *a = &r->ad[r->n_ad++]; /* freed by run_free even if half made */
        a->s_layer = o->feat_s[i];
        a->t_layer = o->feat_t[i];
        if (adapter_init(a, cs, ct, (size_t)r->nb * hs * ws, &arng) < 0)
            return fail(EXIT_INPUT, "out of memory");
    }
    struct crisp_adamw_params ap = {.lr = o->lr, .weight_decay = o->wd, .clip_norm = o->clip,
                                    .warmup_steps = o->warmup,
                                    .total_steps = o->steps > 0 ? (int)o->steps : 1000000};
    if (crisp_adamw_create(&r->opt, r->m, &ap) < 0)
        return fail(EXIT_INPUT, "out of memory");
    if (o->first_grid) { /* the first conv as the int8 engine will run it, then frozen */
        int l = 0;
        while (l < r->m->n_layers && r->m->layers[l].type != CRISP_LAYER_CONV)
            l++;
        if (l == r->m->n_layers)
            return fail(EXIT_USAGE, "--first-conv-grid: %s has no conv", r->m->name);
        if (crisp_quant_weights_grid(&r->m->layers[l]) < 0)
            return fail(EXIT_INPUT, "--first-conv-grid: out of memory");
        crisp_adamw_freeze(r->opt, l, CRISP_ROLE_WEIGHT);
    }
    if (o->collapse > 0) {
        /* --init: the loaded model factored exactly; else fresh draws */
        struct crisp_collapse_params cp = {.expansion = o->collapse,
                                           .identity = o->collapse_identity,
                                           .from_model = o->init != NULL};
        if (crisp_collapse_create(&r->coll, r->m, &cp, o->seed) < 0 ||
            crisp_collapse_attach(r->coll, r->opt) < 0)
            return fail(EXIT_INPUT, "--collapse: cannot build the collapsible blocks");
        if (r->ds->rank == 0)
            fprintf(stderr, "collapsible blocks: expansion %d%s, %zu expanded parameters\n",
                o->collapse, o->collapse_identity ? ", identity branches" : "",
                crisp_collapse_floats(r->coll));
    }
    return 0;
}

/* The trainable gradients (the model's, then the adapters') packed into one
 * buffer for the sum over ranks; prepared after run_nets. 0 or an exit code. */
static int sync_prepare(struct run *r)
{
    if (r->ds->size < 2)
        return 0;
    size_t n = 0;
    for (int l = 0; l < r->m->n_layers; l++)
        for (int q = 0; q < CRISP_ROLE_COUNT; q++)
            if (crisp_role_trainable(q) && crisp_train_net_grad(r->net, l, q))
                n += crisp_layer_tensor_size(&r->m->layers[l], r->m->layers[l].cin, q);
    for (int i = 0; i < r->n_ad; i++)
        n += (size_t)r->ad[i].cs * r->ad[i].ct + r->ad[i].ct;
    r->gsum_n = n;
    r->gsum = crisp_aalloc((n ? n : 1) * sizeof(float));
    return r->gsum ? 0 : fail(EXIT_INPUT, "out of memory");
}

/* packs (dir 0) or unpacks (dir 1) the gradients */
static void sync_pack(struct run *r, int dir)
{
    float *p = r->gsum;
#define MOVE(g, len)                                                                             \
    do {                                                                                       \
        size_t n_ = (len);                                                                     \
        if (dir)                                                                               \
            memcpy((g), p, n_ * sizeof(float));                                                \
        else                                                                                   \
            memcpy(p, (g), n_ * sizeof(float));                                                \
        p += n_;                                                                               \
    } while (0)
    for (int l = 0; l < r->m->n_layers; l++)
        for (int q = 0; q < CRISP_ROLE_COUNT; q++) {
            float *g = crisp_role_trainable(q) ? crisp_train_net_grad(r->net, l, q) : NULL;
            if (g)
                MOVE(g, crisp_layer_tensor_size(&r->m->layers[l], r->m->layers[l].cin, q));
        }
    for (int i = 0; i < r->n_ad; i++) {
        MOVE(r->ad[i].gw, (size_t)r->ad[i].cs * r->ad[i].ct);
        MOVE(r->ad[i].gb, (size_t)r->ad[i].ct);
    }
#undef MOVE
}

/* every rank's gradients summed, on every rank (one in-place allreduce) */
static int sync_grads(struct run *r)
{
    if (r->ds->size < 2)
        return 0;
    double t = now_s();
    sync_pack(r, 0);
    if (dist_sum_f32(r->ds, r->gsum, r->gsum_n) < 0)
        return -1;
    sync_pack(r, 1);
    r->t_sync += now_s() - t;
    r->n_sync++;
    return 0;
}

/* a checksum of everything trained: the model, the expanded tensors, the
 * adapters' weights */
static uint64_t run_checksum(struct run *r)
{
    uint64_t h = dist_hash(0, r->m->data, r->m->data_floats);
    if (r->coll)
        h = dist_hash(h, crisp_collapse_data(r->coll), crisp_collapse_floats(r->coll));
    for (int i = 0; i < r->n_ad; i++)
        h = dist_hash(h, r->ad[i].w, ((size_t)r->ad[i].cs * r->ad[i].ct + r->ad[i].ct));
    return h;
}

/* all ranks' weights compared at `step`; 0, or an exit code when they differ */
static int sync_check(struct run *r)
{
    if (r->ds->size < 2)
        return 0;
    /* a test hook: CRISP_TRAIN_PERTURB=STEP changes one weight on the last
     * rank at that step, which the next comparison must catch */
    const char *pe = getenv("CRISP_TRAIN_PERTURB");
    if (pe && r->ds->rank == r->ds->size - 1 && atoll(pe) == r->step)
        r->m->data[0] += 1e-3f;
    uint64_t mine = run_checksum(r), other = 0;
    int q = dist_compare(r->ds, mine, &other);
    if (q < 0)
        return fail(EXIT_INPUT, "cannot compare the weights across ranks");
    if (q == 0)
        return 0;
    /* every rank saw the same comparison: rank 0 says so, and all end together */
    r->o->stopped_together = 1;
    if (r->ds->rank)
        return EXIT_INPUT;
    return fail(EXIT_INPUT,
                "weights differ between ranks at step %lld (rank %d checksum %016llx, rank 0 "
                "%016llx): the ranks diverged",
                (long long)r->step, q, (unsigned long long)other, (unsigned long long)mine);
}

static struct ckpt_extra run_extra(struct run *r)
{
    return (struct ckpt_extra){r->ad, r->n_ad, r->coll ? crisp_collapse_data(r->coll) : NULL,
                               r->coll ? crisp_collapse_floats(r->coll) : 0};
}

/* --resume from the checkpoint, and the CSV log (appended to when resumed) */
static int run_resume(struct run *r)
{
    struct train_opts *o = r->o;
    char err[512] = "";
    /* rank 0 reads the checkpoint and sends its bytes to every rank: the
     * others need not see the file, and any rank count resumes it */
    uint64_t len = 0;
    uint8_t *buf = NULL;
    if (r->ds->rank == 0 && o->resume && o->checkpoint && access(o->checkpoint, F_OK) == 0) {
        size_t l;
        int ret = crisp_file_read(o->checkpoint, &buf, &l);
        if (ret < 0)
            return fail(EXIT_INPUT, "%s: %s", o->checkpoint, crisp_strerror(ret));
        len = l;
    }
    if (dist_bcast(r->ds, &len, sizeof(len), 0) < 0)
        return fail(EXIT_INPUT, "cannot share the checkpoint between ranks");
    if (len) {
        if (!buf && !(buf = malloc(len)))
            return fail(EXIT_INPUT, "out of memory");
        struct ckpt_extra x = run_extra(r);
        int ret = dist_bcast(r->ds, buf, len, 0) < 0 ? -1
                  : ckpt_parse(buf, len, o->checkpoint, r->m, r->opt, &x, &r->step, &r->elapsed0,
                               err, sizeof(err));
        free(buf);
        if (ret < 0)
            return fail(EXIT_INPUT, "%s", err[0] ? err : "cannot share the checkpoint");
        if (r->coll)
            crisp_collapse_apply(r->coll);
        if (r->ds->rank == 0)
            fprintf(stderr, "resumed from %s at step %lld (%.1f min trained)\n", o->checkpoint,
                    (long long)r->step, r->elapsed0 / 60);
    }
    if (o->log && r->ds->rank == 0) {
        r->csv = fopen(o->log, r->step > 0 ? "a" : "w");
        if (!r->csv)
            return fail(EXIT_INPUT, "%s: %s", o->log, strerror(errno));
        if (r->step == 0)
            fprintf(r->csv,
                    "step,minutes,lr,loss,gt,ssim,soft,res,feat,grad_norm,val_psnr_y,temporal\n");
    }
    return 0;
}

/* The patch bank (teacher outputs and features included), built once, or
 * the sampler's workers; then the loss buffers. */
static int run_batches(struct run *r)
{
    struct train_opts *o = r->o;
    const size_t n = r->n;
    if (o->bank > 0) {
        double tb = now_s();
        r->bk.nf = r->n_ad;
        r->bk.input8 = o->input8;
        for (int i = 0; i < r->n_ad; i++)
            r->bk.f_layer[i] = r->ad[i].t_layer;
        if (r->ds->rank == 0)
            fprintf(stderr, "building a bank of %ld patches%s%s ...\n", o->bank,
                !r->tnet ? ""
                : o->t_ensemble > 1 ? " with teacher outputs (8-way self-ensemble)"
                                    : " with teacher outputs",
                r->n_ad ? " and features" : "");
        int bret = bank_build(&r->bk, o->bank, r->d, o->batch, o->patch, o->seed, r->tnet,
                              o->t_ensemble, o->data_threads, r->ds);
        if (bret < 0)
            return fail(EXIT_INPUT, "cannot build the patch bank: %s", crisp_strerror(bret));
        r->bx = crisp_aalloc(n * sizeof(float));
        r->by = crisp_aalloc(n * sizeof(float));
        r->bt = crisp_aalloc(n * sizeof(float));
        int bf_ok = 1;
        for (int i = 0; i < r->bk.nf; i++)
            bf_ok = bf_ok &&
                    (r->bf[i] = crisp_aalloc((size_t)r->lb * r->bk.f_len[i] * sizeof(float)));
        if (!r->bx || !r->by || !r->bt || !bf_ok)
            return fail(EXIT_INPUT, "out of memory");
        /* building the bank (the teacher's passes included) counts against
         * --minutes, once: a resumed run rebuilds the same bank, and the first
         * build is already in the checkpoint's elapsed time */
        if (r->step == 0)
            r->elapsed0 += now_s() - tb;
        if (r->ds->rank == 0)
            fprintf(stderr, "bank of %ld patches built in %.1f s\n", r->bk.n, now_s() - tb);
        /* only the bank's teacher outputs are used from here on */
        crisp_train_net_destroy(&r->tnet);
    } else if (sampler_create(&r->smp, r->d, o->batch, o->patch, o->seed, r->step,
                              o->data_threads, r->ds->rank, r->ds->size,
                              o->w_temporal > 0 || r->pair ? o->temporal_shift : 0,
                              r->pair ? 2 : o->temporal_codec, o->input8) < 0) {
        return fail(EXIT_INPUT, "cannot start the data worker");
    } else if (r->pair && (!(r->bx = crisp_aalloc(n * sizeof(float))) ||
                           !(r->by = crisp_aalloc(n * sizeof(float))))) {
        return fail(EXIT_INPUT, "out of memory");
    }
    r->grad = crisp_aalloc(n * sizeof(float));
    r->rs = crisp_aalloc(n * sizeof(float));
    r->rt = crisp_aalloc(n * sizeof(float));
    if (!r->grad || !r->rs || !r->rt)
        return fail(EXIT_INPUT, "out of memory");
    return 0;
}

/* The temporal consistency loss (--w-temporal): each sample j and its twin
 * lb + j (the same picture moved by shift, degraded with independent codec
 * noise, as the next frame of a call) must restore to the same picture:
 * the mean absolute difference of the two outputs where they overlap,
 * averaged over the pairs. Adds weight * its gradient to grad. */
static double temporal_loss(const float *out, const float *truth, const float *x, const int *shift,
                            int lb, int p, float weight, float flat, float noise, float *grad)
{
    const float f2 = flat * flat;
    const size_t pp = (size_t)p * p;
    double total = 0;
    for (int j = 0; j < lb; j++) {
        const int dx = shift[2 * j], dy = shift[2 * j + 1];
        const int i0 = dy < 0 ? -dy : 0, i1 = dy > 0 ? p - dy : p;
        const int k0 = dx < 0 ? -dx : 0, k1 = dx > 0 ? p - dx : p;
        const float *a = out + pp * j, *t = out + pp * ((size_t)lb + j), *y = truth + pp * j,
                    *xa = x + pp * j, *xt = x + pp * ((size_t)lb + j);
        float *ga = grad + pp * j, *gt = grad + pp * ((size_t)lb + j);
        const double n = (double)(i1 - i0) * (k1 - k0);
        const float g = (float)(weight / (n * lb));
        double s = 0;
        for (int i = i0; i < i1; i++)
            for (int k = k0; k < k1; k++) {
                /* twin pixel (i, k) is the sample's (i + dy, k + dx) */
                const size_t ia = (size_t)(i + dy) * p + (k + dx), it = (size_t)i * p + k;
                const float d = a[ia] - t[it];
                float m = 1.0f; /* --temporal-flat: held still where the picture is flat */
                if (f2 > 0) {
                    const int yy = i + dy, xx = k + dx;
                    const float gx = y[(size_t)yy * p + (xx + 1 < p ? xx + 1 : xx)] -
                                     y[(size_t)yy * p + (xx > 0 ? xx - 1 : xx)];
                    const float gy = y[(size_t)(yy + 1 < p ? yy + 1 : yy) * p + xx] -
                                     y[(size_t)(yy > 0 ? yy - 1 : yy) * p + xx];
                    const float g2 = 0.25f * (gx * gx + gy * gy);
                    m = f2 / (f2 + g2);
                }
                if (noise > 0) { /* --temporal-noise: where the twins' inputs differ */
                    const float dn = fabsf(xa[ia] - xt[it]) / noise;
                    m *= dn < 1.0f ? dn : 1.0f;
                }
                s += m * fabsf(d);
                const float sg = d > 0 ? m * g : d < 0 ? -m * g : 0;
                ga[ia] += sg;
                gt[it] -= sg;
            }
        total += s / n;
    }
    return total / lb;
}

/* The losses of the student's output `out` on this rank's share of batch
 * b, weighted by the share, their gradients summed into r->grad;
 * terms[1..6] get gt, ssim, soft, res, feat and temporal (summed over the ranks by the
 * caller, they are the whole batch's means). 0, or -1 when MPI fails. */
static int step_losses(struct run *r, const struct batch *b, const float *out, double *terms,
                       struct crisp_train_extra_grad *extra)
{
    struct train_opts *o = r->o;
    const size_t n = r->n, lb = (size_t)r->nb * (r->pair ? 2 : 1); /* one-channel patches */
    const float sh = r->share;
    double lg = 0, lss = 0, lsoft = 0, lres = 0, lfeat = 0;
    const float *target_t = b->t;
    if (r->tnet && !r->bk.n) {
        memcpy(crisp_train_net_input(r->tnet), b->x, n * sizeof(float));
        crisp_train_net_forward(r->tnet);
        target_t = crisp_train_net_output(r->tnet);
    }
    /* frame pairs score channel 0, this frame, only: channel 1's targets are
     * its outputs (no loss, no gradient), and the means count channel 0 */
    const float pc = r->pair ? 2.0f : 1.0f;
    if (r->pair)
        for (int j = 0; j < r->nb; j++) {
            const size_t pp = (size_t)o->patch * o->patch, c1 = pp * (2 * (size_t)j + 1);
            memcpy(b->y + c1, out + c1, sizeof(float) * pp);
        }
    if (o->w_gt > 0)
        lg = pc * sh * crisp_loss(o->gt_loss, out, b->y, lb, o->patch, o->patch, 1.0f,
                                  pc * o->w_gt * sh, r->grad);
    if (o->w_ssim > 0)
        lss = pc * sh * crisp_loss(CRISP_LOSS_SSIM, out, b->y, lb, o->patch, o->patch, 1.0f,
                                   pc * o->w_ssim * sh, r->grad);
    if (target_t && o->w_soft > 0)
        lsoft = sh * crisp_loss(o->gt_loss, out, target_t, lb, o->patch, o->patch, 1.0f,
                                o->w_soft * sh, r->grad);
    if (target_t && o->w_res > 0) {
        /* residual matching, normalized by the teacher residual's energy
         * over the whole batch (summed over the ranks) */
        double e = 0, s = 0;
        for (size_t j = 0; j < n; j++) {
            r->rs[j] = out[j] - b->x[j];
            r->rt[j] = target_t[j] - b->x[j];
            e += (double)r->rt[j] * r->rt[j];
        }
        if (dist_sum_f64(r->ds, &e, 1) < 0)
            return -1;
        e += 1e-6 * (double)o->batch * (r->nb / r->lb) * o->patch * o->patch;
        for (size_t j = 0; j < n; j++) {
            double dd = r->rs[j] - r->rt[j];
            s += dd * dd;
            r->grad[j] += (float)(o->w_res * 2 * dd / e);
        }
        lres = s / e;
    }
    if (o->w_temporal > 0 && r->pair) {
        /* the two frames' restorations (each the current frame of its pair)
         * must agree: channel 0 gathered as samples then twins, the term's
         * gradient put back */
        const size_t pp = (size_t)o->patch * o->patch;
        for (int j = 0; j < r->nb; j++)
            memcpy(r->rs + pp * j, out + pp * 2 * j, sizeof(float) * pp);
        memset(r->rt, 0, sizeof(float) * pp * r->nb);
        terms[6] = sh * temporal_loss(r->rs, r->raw->y, r->raw->x, r->raw->shift, r->lb,
                                      o->patch, o->w_temporal * sh, o->temporal_flat,
                                      o->temporal_noise, r->rt);
        for (int j = 0; j < r->nb; j++)
            for (size_t i = 0; i < pp; i++)
                r->grad[pp * 2 * j + i] += r->rt[pp * j + i];
    } else if (o->w_temporal > 0 && b->shift) {
        terms[6] = sh * temporal_loss(out, b->y, b->x, b->shift, r->lb, o->patch,
                                      o->w_temporal * sh, o->temporal_flat, o->temporal_noise,
                                      r->grad);
    }
    for (int i = 0; i < r->n_ad; i++) {
        struct adapter *a = &r->ad[i];
        int c, h, w;
        const float *fs = crisp_train_net_activation(r->net, a->s_layer, &c, &h, &w);
        const float *ft = r->bk.nf ? r->bf[i]
                                   : crisp_train_net_activation(r->tnet, a->t_layer, NULL, NULL, NULL);
        lfeat += sh * adapter_loss(a, fs, ft, r->nb, (size_t)h * w, o->w_feat * sh / r->n_ad);
        extra[i] = (struct crisp_train_extra_grad){a->s_layer, a->grad_s};
    }
    terms[0] = o->w_gt * lg + o->w_ssim * lss + o->w_soft * lsoft + o->w_res * lres +
               o->w_feat * lfeat + o->w_temporal * terms[6];
    terms[1] = lg;
    terms[2] = lss;
    terms[3] = lsoft;
    terms[4] = lres;
    terms[5] = lfeat;
    return 0;
}

/* One optimizer step: the batch, forward, losses, backward, AdamW and the
 * adapters' steps. 0, or an exit code. */
static int train_step(struct run *r, double *terms, double *gnorm)
{
    struct train_opts *o = r->o;
    const size_t n = r->n;
    struct batch banked = {r->bx, r->by, r->bk.t ? r->bt : NULL, NULL, r->step};
    if (r->bk.n)
        bank_batch(&r->bk, o->batch, o->seed, r->step, o->bank_augment, r->bx, r->by, r->bt, r->bf,
                   r->ds);
    const struct batch *b = r->bk.n ? &banked : sampler_next(r->smp);
    if (!b)
        return fail(EXIT_INPUT, "data worker failed");
    struct batch paired = {r->bx, r->by, NULL, NULL, b->index};
    if (r->pair) { /* pair j: sample j (this frame), then its twin (the previous one); with
                      --w-temporal pair lb + j is the twin, then the sample */
        const size_t pp = (size_t)o->patch * o->patch;
        for (int j = 0; j < r->nb; j++)
            for (int k = 0; k < 2; k++) {
                const size_t from = pp * ((size_t)((k + (j >= r->lb)) % 2) * r->lb + j % r->lb);
                const size_t to = pp * (2 * (size_t)j + k);
                memcpy(r->bx + to, b->x + from, sizeof(float) * pp);
                memcpy(r->by + to, b->y + from, sizeof(float) * pp);
            }
        r->raw = b;
        b = &paired;
    }
    memcpy(crisp_train_net_input(r->net), b->x, n * sizeof(float));
    if (crisp_train_net_forward(r->net) < 0)
        return fail(EXIT_INPUT, "forward pass failed");
    const float *out = crisp_train_net_output(r->net);
    memset(r->grad, 0, n * sizeof(float));
    struct crisp_train_extra_grad extra[8];
    if (step_losses(r, b, out, terms, extra) < 0)
        return fail(EXIT_INPUT, "cannot sum the loss over the ranks");
    if (crisp_train_net_backward(r->net, r->grad, extra, r->n_ad) < 0)
        return fail(EXIT_INPUT, "backward pass failed");
    /* the sum over ranks; the expanded tensors' gradients are linear in the
     * collapsed kernel's, so they follow from the summed one */
    if (sync_grads(r) < 0 || dist_sum_f64(r->ds, terms, 7) < 0)
        return fail(EXIT_INPUT, "cannot sum the gradients over the ranks");
    if (r->coll && crisp_collapse_backward(r->coll, r->net) < 0)
        return fail(EXIT_INPUT, "backward pass failed");
    *gnorm = 0;
    int sret = crisp_adamw_step(r->opt, r->net, gnorm);
    if (sret < 0 && r->ds->rank == 0)
        fprintf(stderr, "step %lld: non-finite gradient, step skipped\n", (long long)r->step);
    if (r->coll) /* the model's convolutions follow the expanded tensors */
        crisp_collapse_apply(r->coll);
    for (int i = 0; i < r->n_ad; i++)
        adapter_step(&r->ad[i], crisp_adamw_lr(r->opt), crisp_adamw_steps(r->opt));
    return 0;
}

/* progress between two reports: loss terms summed over acc_n steps */
struct progress {
    double acc[7];
    int acc_n, steps_since;
    double last_print;
};

/* " temp X" for the progress line (a static buffer: the loop thread's) */
static const char *temporal_note(double v)
{
    static char buf[32];
    snprintf(buf, sizeof(buf), " temp %.5f", v);
    return buf;
}

/* the progress line (stderr) and the CSV row, with validation */
static void report(struct run *r, struct progress *pg, double tn, double el, double budget,
                   double gnorm)
{
    struct train_opts *o = r->o;
    const double *acc = pg->acc;
    const int an = pg->acc_n;
    double vpsnr = val_psnr(&r->val, r->m);
    double ips = pg->steps_since / (tn - pg->last_print + 1e-9);
    double eta = o->steps > 0 ? (o->steps - r->step) / (ips + 1e-9) : 0;
    if (budget > 0)
        eta = fmax(0, budget - el);
    fprintf(stderr,
            "step %6lld  %.2f it/s  %5.1f min  ETA %5.1f min  lr %.2e  loss %.5f "
            "[gt %.5f ssim %.4f soft %.5f res %.4f feat %.5f%s]  |g| %.3f  val PSNR-Y "
            "%.3f dB (degraded %.3f)\n",
            (long long)r->step, ips, el / 60, eta / 60, crisp_adamw_lr(r->opt), acc[0] / an,
            acc[1] / an, acc[2] / an, acc[3] / an, acc[4] / an, acc[5] / an,
            o->w_temporal > 0 ? temporal_note(acc[6] / an) : "", gnorm, vpsnr, r->val.deg_psnr);
    if (r->csv) {
        fprintf(r->csv, "%lld,%.3f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g,%.4f,%.6g\n",
                (long long)r->step, el / 60, crisp_adamw_lr(r->opt), acc[0] / an, acc[1] / an,
                acc[2] / an, acc[3] / an, acc[4] / an, acc[5] / an, gnorm, vpsnr, acc[6] / an);
        fflush(r->csv);
    }
    memset(pg->acc, 0, sizeof(pg->acc));
    pg->acc_n = 0;
    pg->steps_since = 0;
    pg->last_print = tn;
}

/* Steps until the step or time budget (whichever ends first) or a signal;
 * progress every --progress seconds, a checkpoint every
 * --checkpoint-minutes and at the end. 0, or an exit code. */
static int train_loop(struct run *r)
{
    struct train_opts *o = r->o;
    const double budget = o->minutes > 0 ? o->minutes * 60 : 0;
    const double t0 = now_s();
    double last_ckpt = t0;
    struct progress pg = {.last_print = t0};
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int cr = sync_check(r); /* the same start on every rank */
    if (cr)
        return cr;
    for (;;) {
        double elapsed = r->elapsed0 + (now_s() - t0);
        double ctl[2] = {0, g_stop};
        if (o->steps > 0)
            ctl[0] = (double)r->step / o->steps;
        if (budget > 0)
            ctl[0] = fmax(ctl[0], elapsed / budget);
        /* every rank stops at the same step and follows the same schedule:
         * the slowest clock's progress and any rank's signal */
        if (dist_max_f64(r->ds, ctl, 2) < 0)
            return fail(EXIT_INPUT, "cannot agree on the progress across ranks");
        const double frac = ctl[0];
        if (ctl[1])
            g_stop = (sig_atomic_t)ctl[1];
        if (frac >= 1 || g_stop)
            break;
        /* the cosine schedule follows whichever budget ends first */
        int est_total =
            frac > 0.01 ? (int)(r->step / frac) : (o->steps > 0 ? (int)o->steps : 1000000);
        crisp_adamw_set_total(r->opt, est_total);
        double terms[7] = {0}, gnorm = 0;
        int sr = train_step(r, terms, &gnorm);
        if (sr)
            return sr;
        for (int k = 0; k < 7; k++)
            pg.acc[k] += terms[k];
        pg.acc_n++;
        pg.steps_since++;
        r->step++;
        if (o->check_every > 0 && r->step % o->check_every == 0 && (cr = sync_check(r)))
            return cr;
        double tn = now_s();
        int final_step = (o->steps > 0 && r->step >= o->steps) ||
                         (budget > 0 && r->elapsed0 + (tn - t0) >= budget);
        if (r->ds->rank == 0 && (tn - pg.last_print >= o->progress_s || final_step || r->step == 1))
            report(r, &pg, tn, r->elapsed0 + (tn - t0), budget, gnorm);
        struct ckpt_extra x = run_extra(r);
        if (r->ds->rank == 0 && o->checkpoint && tn - last_ckpt >= o->ckpt_minutes * 60) {
            if (ckpt_save(o->checkpoint, r->m, r->opt, &x, r->step, r->elapsed0 + (tn - t0)) < 0)
                fprintf(stderr, "warning: cannot write checkpoint %s\n", o->checkpoint);
            last_ckpt = tn;
        }
    }
    if ((cr = sync_check(r)))
        return cr;
    struct ckpt_extra x = run_extra(r);
    if (r->ds->rank == 0 && o->checkpoint &&
        ckpt_save(o->checkpoint, r->m, r->opt, &x, r->step, r->elapsed0 + (now_s() - t0)) < 0)
        fprintf(stderr, "warning: cannot write checkpoint %s\n", o->checkpoint);
    if (g_stop) {
        if (r->ds->rank == 0)
            fprintf(stderr, "interrupted at step %lld; resume with --resume\n",
                    (long long)r->step);
        o->stopped_together = 1;
        return EXIT_INPUT;
    }
    r->elapsed0 += now_s() - t0;
    return 0;
}

static void run_free(struct run *r)
{
    crisp_afree(r->rs);
    crisp_afree(r->rt);
    crisp_afree(r->bx);
    crisp_afree(r->by);
    crisp_afree(r->bt);
    for (int i = 0; i < 8; i++)
        crisp_afree(r->bf[i]);
    bank_free(&r->bk);
    if (r->csv)
        fclose(r->csv);
    sampler_destroy(&r->smp);
    crisp_afree(r->grad);
    crisp_afree(r->gsum);
    for (int i = 0; i < r->n_ad; i++)
        adapter_free(&r->ad[i]);
    crisp_collapse_destroy(&r->coll);
    crisp_adamw_destroy(&r->opt);
    crisp_train_net_destroy(&r->net);
    crisp_train_net_destroy(&r->tnet);
    val_free(&r->val);
    dataset_free(&r->d);
    crisp_model_destroy(&r->m);
    crisp_model_destroy(&r->tm);
}

int train_run(struct train_opts *o)
{
    const struct dist *ds = o->dist;
    struct run r = {.o = o, .ds = ds, .lb = dist_local_batch(ds, o->batch)};
    if (r.lb < 1)
        return fail(EXIT_USAGE, "--batch %d is smaller than the %d ranks", o->batch, ds->size);
    r.share = (float)r.lb / (float)o->batch;
    if (o->threads > 0)
        omp_set_num_threads(o->threads);
    if (ds->size > 1 && ds->rank == 0)
        fprintf(stderr, "%d ranks (%d on this machine), %d threads each: global batch %d, %d on rank 0\n",
                ds->size, ds->local_size, omp_get_max_threads(), o->batch, r.lb);
    int ret = run_models(&r);
    /* the sizes follow the model: pairs have two channels */
    r.nb = o->w_temporal > 0 ? 2 * r.lb : r.lb;
    r.n = (size_t)r.nb * (r.pair ? 2 : 1) * o->patch * o->patch;
    if (!ret)
        ret = run_data(&r);
    if (!ret)
        ret = run_nets(&r);
    if (!ret)
        ret = sync_prepare(&r);
    if (!ret)
        ret = run_resume(&r);
    if (!ret)
        ret = run_batches(&r);
    if (!ret)
        ret = train_loop(&r);
    int wr = 0;
    if (!ret && ds->rank == 0 && (wr = crisp_weights_save(r.m, o->out)) < 0)
        ret = fail(EXIT_INPUT, "%s: cannot write the model (%s)", o->out, crisp_strerror(wr));
    if (!ret && ds->rank == 0)
        fprintf(stderr,
                "wrote %s after %lld steps (%.1f min); validation PSNR-Y %.3f dB (degraded %.3f)\n",
                o->out, (long long)r.step, r.elapsed0 / 60, val_psnr(&r.val, r.m),
                r.val.deg_psnr);
    if (!ret && ds->rank == 0 && r.n_sync)
        fprintf(stderr,
                "gradient sums over %d ranks: %.2f ms per step (%.3f MB each; includes waiting "
                "for the slowest rank)\n",
                ds->size, 1e3 * r.t_sync / r.n_sync, r.gsum_n * 4e-6);
    run_free(&r);
    return ret;
}
