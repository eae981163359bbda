// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data.h"

static uint64_t hash_name(const char *s, uint64_t seed)
{
    uint64_t h = 1469598103934665603ull ^ seed;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int load_one(const char *dir, const char *name, int max_side, struct crisp_image **out,
                    char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct crisp_image *img;
    int ret = crisp_image_read(&img, path, err, errlen);
    if (ret < 0)
        return ret;
    int side = img->w > img->h ? img->w : img->h;
    if (max_side > 0 && side > max_side) {
        /* area averaging removes the JPEG noise of large photos */
        double f = (double)max_side / side;
        int w = (int)(img->w * f + 0.5), h = (int)(img->h * f + 0.5);
        struct crisp_image *s;
        ret = crisp_resize(&s, img, w < 1 ? 1 : w, h < 1 ? 1 : h, CRISP_SCALE_AREA);
        crisp_image_destroy(&img);
        if (ret < 0) {
            snprintf(err, errlen, "%s: cannot downscale", path);
            return ret;
        }
        img = s;
    }
    *out = img;
    return 0;
}

static char *stem_png(const char *name)
{
    char *s = malloc(strlen(name) + 8);
    if (!s)
        return NULL;
    strcpy(s, name);
    char *d = strrchr(s, '.');
    if (d)
        *d = 0;
    strcat(s, ".png");
    return s;
}

int dataset_load(struct dataset **out, const struct dataset_params *p, char *err, size_t errlen)
{
    *out = NULL;
    char **names = NULL;
    int n = 0, ret = crisp_image_list(p->dir, &names, &n);
    if (ret < 0) {
        snprintf(err, errlen, "%s: %s", p->dir, strerror(-ret));
        return ret;
    }
    struct dataset *d = calloc(1, sizeof(*d));
    if (!d) {
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return -ENOMEM;
    }
    if (p->max_images > 0 && n > p->max_images) {
        for (int i = p->max_images; i < n; i++)
            free(names[i]);
        n = p->max_images;
    }
    int every = p->val_every > 0 ? p->val_every : 20;
    if (n < 2) {
        snprintf(err, errlen, "%s: need at least 2 PNG/JPEG/BMP images, found %d", p->dir, n);
        ret = CRISP_EUSAGE;
        goto fail;
    }
    d->train = calloc((size_t)n, sizeof(*d->train));
    d->val = calloc((size_t)n, sizeof(*d->val));
    d->train_names = calloc((size_t)n, sizeof(char *));
    d->val_names = calloc((size_t)n, sizeof(char *));
    if (p->teacher_dir) {
        d->train_degraded = calloc((size_t)n, sizeof(*d->train_degraded));
        d->train_teacher = calloc((size_t)n, sizeof(*d->train_teacher));
    }
    if (!d->train || !d->val || !d->train_names || !d->val_names ||
        (p->teacher_dir && (!d->train_degraded || !d->train_teacher))) {
        ret = -ENOMEM;
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        /* hold out every k-th image, starting in the middle of the first block */
        int is_val = (i % every) == every / 2 || (n < every && i == n - 1);
        struct crisp_image *img;
        if ((ret = load_one(p->dir, names[i], p->max_side, &img, err, errlen)) < 0)
            goto fail;
        if (is_val) {
            d->val[d->n_val] = img;
            d->val_names[d->n_val++] = names[i];
        } else {
            int k = d->n_train;
            d->train[k] = img;
            d->train_names[d->n_train++] = names[i];
            if (p->teacher_dir) {
                char *tn = stem_png(names[i]);
                if (!tn) {
                    ret = -ENOMEM;
                    goto fail;
                }
                ret = load_one(p->teacher_dir, tn, 0, &d->train_teacher[k], err, errlen);
                free(tn);
                if (ret < 0)
                    goto fail;
                if (d->train_teacher[k]->w != img->w || d->train_teacher[k]->h != img->h) {
                    snprintf(err, errlen,
                             "%s: teacher output for %s is %dx%d, the prepared image is %dx%d "
                             "(make inputs with crisp-train export-degraded)",
                             p->teacher_dir, names[i], d->train_teacher[k]->w,
                             d->train_teacher[k]->h, img->w, img->h);
                    ret = CRISP_EFORMAT;
                    goto fail;
                }
                if ((ret = degrade_fixed(&d->train_degraded[k], img, names[i], p->seed)) < 0) {
                    snprintf(err, errlen, "%s: cannot degrade", names[i]);
                    goto fail;
                }
            }
        }
        names[i] = NULL;
    }
    free(names);
    *out = d;
    return 0;
fail:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    dataset_free(&d);
    return ret;
}

void dataset_free(struct dataset **pd)
{
    if (!pd || !*pd)
        return;
    struct dataset *d = *pd;
    for (int i = 0; i < d->n_train; i++) {
        crisp_image_destroy(&d->train[i]);
        free(d->train_names[i]);
        if (d->train_degraded)
            crisp_image_destroy(&d->train_degraded[i]);
        if (d->train_teacher)
            crisp_image_destroy(&d->train_teacher[i]);
    }
    for (int i = 0; i < d->n_val; i++) {
        crisp_image_destroy(&d->val[i]);
        free(d->val_names[i]);
    }
    free(d->train);
    free(d->val);
    free(d->train_names);
    free(d->val_names);
    free(d->train_degraded);
    free(d->train_teacher);
    free(d);
    *pd = NULL;
}

struct degrade_profile {
    const char *name;
    double noise, blur, h264, jpeg; /* probabilities; jpeg only when not h264 */
    double down, f_lo, f_hi;        /* downscale probability and factor range */
    double bicubic;                 /* probability of bicubic (else bilinear) per scaling */
};
static const struct degrade_profile PROFILES[] = {
    {"mixed", 0.15, 0.3, 0.35, 0.15, 0.9, 1.5, 3.0, 0.5},
    {"call", 0.25, 0.5, 0.6, 0.25, 0.9, 1.5, 3.0, 0.5},
    /* a call received at about half resolution (720p sent as 360p-540p) */
    {"half", 0.05, 0.1, 0.45, 0.05, 0.95, 1.8, 2.2, 0.9},
    /* the same call, always compressed: H.264 on 85% of patches (JPEG 5%) */
    {"half-h264", 0.05, 0.1, 0.85, 0.05, 0.95, 1.8, 2.2, 0.9},
    /* the super-resolution literature's setting: clean bicubic x2 only */
    {"x2", 0, 0, 0, 0, 1.0, 2.0, 2.0, 1.0},
};
static const struct degrade_profile *g_profile = &PROFILES[0];

int degrade_set_profile(const char *name)
{
    for (size_t i = 0; i < sizeof(PROFILES) / sizeof(PROFILES[0]); i++)
        if (!strcmp(name, PROFILES[i].name)) {
            g_profile = &PROFILES[i];
            return 0;
        }
    return -1;
}

static double urange(struct crisp_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * crisp_rng_uniform(r);
}

static void replace(struct crisp_image **img, struct crisp_image *n)
{
    crisp_image_destroy(img);
    *img = n;
}

/* img mirrored by gx columns on the left and gy rows on the top (gx < w, gy < h) */
static int pad_mirror(struct crisp_image **out, const struct crisp_image *img, int gx, int gy)
{
    const int w = img->w + gx, h = img->h + gy;
    int ret = crisp_image_create(out, w, h);
    if (ret < 0)
        return ret;
    for (int y = 0; y < h; y++) {
        const int sy = y < gy ? gy - 1 - y : y - gy;
        for (int x = 0; x < w; x++) {
            const int sx = x < gx ? gx - 1 - x : x - gx;
            memcpy((*out)->rgb + ((size_t)y * w + x) * 3, img->rgb + ((size_t)sy * img->w + sx) * 3, 3);
        }
    }
    return 0;
}

/* the w x h window of img at (x, y) */
static int cut(struct crisp_image **out, const struct crisp_image *img, int x, int y, int w, int h)
{
    int ret = crisp_image_create(out, w, h);
    if (ret < 0)
        return ret;
    for (int j = 0; j < h; j++)
        memcpy((*out)->rgb + (size_t)j * w * 3, img->rgb + ((size_t)(y + j) * img->w + x) * 3,
               (size_t)w * 3);
    return 0;
}

/* a codec round trip (h264 CRF q, or JPEG quality q) with the block grid moved
 * by (gx, gy): the picture mirrored into a margin, coded, and cut back */
static int codec_moved(struct crisp_image **out, const struct crisp_image *img, int h264, int q,
                       int gx, int gy)
{
    struct crisp_image *pad = NULL, *coded = NULL;
    int ret = gx || gy ? pad_mirror(&pad, img, gx, gy) : 0;
    const struct crisp_image *src = pad ? pad : img;
    if (!ret)
        ret = h264 ? crisp_h264_roundtrip(&coded, src, q) : crisp_jpeg_roundtrip(&coded, src, q);
    if (!ret && pad)
        ret = cut(out, coded, gx, gy, img->w, img->h);
    else if (!ret) {
        *out = coded;
        coded = NULL;
    }
    crisp_image_destroy(&pad);
    crisp_image_destroy(&coded);
    return ret;
}

int degrade_random(struct crisp_image **out, const struct crisp_image *gt, struct crisp_rng *r,
                   char *desc)
{
    return degrade_random_twin(out, gt, r, desc, NULL);
}

int degrade_random_twin(struct crisp_image **out, const struct crisp_image *gt, struct crisp_rng *r,
                        char *desc, const struct degrade_twin *tw)
{
    const int gx = tw ? tw->grid_x : 0, gy = tw ? tw->grid_y : 0;
    *out = NULL;
    struct crisp_image *img, *t;
    int ret = crisp_image_clone(&img, gt);
    if (ret < 0)
        return ret;
    char buf[160] = "";
    size_t used = 0;
#define NOTE(...) used += (size_t)snprintf(buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0, __VA_ARGS__)
    /* camera: mild sensor noise, optical blur */
    if (crisp_rng_uniform(r) < g_profile->noise) {
        double s = urange(r, 0.5, 3.0);
        if ((ret = crisp_add_noise(&t, img, (float)s, crisp_rng_u64(r) ^ (tw ? tw->noise_salt : 0))) < 0)
            goto fail;
        replace(&img, t);
        NOTE("noise %.1f ", s);
    }
    if (crisp_rng_uniform(r) < g_profile->blur) {
        double s = urange(r, 0.2, 1.5);
        if ((ret = crisp_blur(&t, img, (float)s)) < 0)
            goto fail;
        replace(&img, t);
        NOTE("blur %.2f ", s);
    }
    /* sender: downscale, compress; receiver: upscale */
    int dw = img->w, dh = img->h;
    if (crisp_rng_uniform(r) < g_profile->down) {
        double f = urange(r, g_profile->f_lo, g_profile->f_hi);
        dw = ((int)(img->w / f) + 1) & ~1;
        dh = ((int)(img->h / f) + 1) & ~1;
        dw = dw < 16 ? 16 : dw;
        dh = dh < 16 ? 16 : dh;
        enum crisp_scaler sc = crisp_rng_uniform(r) < g_profile->bicubic ? CRISP_SCALE_BICUBIC : CRISP_SCALE_BILINEAR;
        if ((ret = crisp_resize(&t, img, dw, dh, sc)) < 0)
            goto fail;
        replace(&img, t);
        NOTE("down %.2f %s ", f, sc == CRISP_SCALE_BICUBIC ? "bicubic" : "bilinear");
    }
    double c = crisp_rng_uniform(r);
    if (c < g_profile->h264 && !(img->w & 1) && !(img->h & 1)) {
        int crf = 23 + (int)(crisp_rng_u64(r) % 16);
        if ((ret = codec_moved(&t, img, 1, crf, gx, gy)) < 0)
            goto fail;
        replace(&img, t);
        NOTE("h264 crf %d ", crf);
    } else if (c < g_profile->h264 + g_profile->jpeg) {
        int q = 30 + (int)(crisp_rng_u64(r) % 61);
        if ((ret = codec_moved(&t, img, 0, q, gx, gy)) < 0)
            goto fail;
        replace(&img, t);
        NOTE("jpeg q%d ", q);
    }
    if (img->w != gt->w || img->h != gt->h) {
        enum crisp_scaler sc = crisp_rng_uniform(r) < g_profile->bicubic ? CRISP_SCALE_BICUBIC : CRISP_SCALE_BILINEAR;
        if ((ret = crisp_resize(&t, img, gt->w, gt->h, sc)) < 0)
            goto fail;
        replace(&img, t);
        NOTE("up %s", sc == CRISP_SCALE_BICUBIC ? "bicubic" : "bilinear");
    }
#undef NOTE
    if (desc)
        snprintf(desc, 160, "%s", buf);
    *out = img;
    return 0;
fail:
    crisp_image_destroy(&img);
    return ret;
}

int degrade_fixed(struct crisp_image **out, const struct crisp_image *gt, const char *name,
                  uint64_t seed)
{
    struct crisp_rng r;
    crisp_rng_seed(&r, hash_name(name, seed));
    return degrade_random(out, gt, &r, NULL);
}

/* ---- sampler ---- */

#define MAX_WORKERS 16
#define MAX_SLOTS (MAX_WORKERS + 2)

/* Slot states: FREE, BUILDING (a worker owns it), READY, HELD (handed to the
 * caller until its next sampler_next). Workers claim batch indices in order;
 * index k always goes to slot k % nslots, so the caller sees 0, 1, 2, ...
 * whatever the number of workers. */
enum { FREE, BUILDING, READY, HELD };

struct sampler {
    const struct dataset *d;
    int batch, patch; /* the global batch */
    int part, parts;  /* this sampler's samples: k % parts == part */
    int local;        /* how many that is */
    int twin;         /* > 0: each sample also has a twin shifted by up to this many pixels */
    int twin_codec;   /* the twin unmoved, with the codec's grid moved instead */
    int input8;       /* the degraded input's Y in whole 8-bit levels */
    uint64_t seed;
    struct batch slots[MAX_SLOTS];
    int ready[MAX_SLOTS];
    int nslots, nthreads;
    int64_t claim, consume;
    int stop, error, inited;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t threads[MAX_WORKERS];
};

/* the s x s window of src at (x, y) */
static int crop(struct crisp_image **out, const struct crisp_image *src, int x, int y, int s)
{
    return cut(out, src, x, y, s, s);
}

/* Y of the centre p x p window, scaled to [0, 1]; `levels`: in whole 8-bit
 * levels (the model's input with --input-8bit, as crispd receives it) */
static int to_luma(const struct crisp_image *img, int off, int p, float *dst, int levels)
{
    const int s = img->w;
    float *y = malloc(sizeof(float) * (size_t)s * s);
    if (!y)
        return -ENOMEM;
    if (levels)
        crisp_image_luma_levels(img, y);
    else
        crisp_image_to_ycbcr(img, y, NULL, NULL);
    for (int j = 0; j < p; j++)
        for (int i = 0; i < p; i++)
            dst[(size_t)j * p + i] = y[(size_t)(j + off) * s + i + off] / 255.0f;
    free(y);
    return 0;
}

/* The twin of a sample (--w-temporal): the same oriented crop `co` (S + 2T
 * square) cut T + dx, T + dy instead of T, T, degraded with the same
 * parameters as the sample (a copy of its random state, taken before the
 * sample's own degradation: the next frame of the same call), written at
 * row local + j with its shift. Draws dx and dy from r. */
static int make_twin(struct sampler *s, struct crisp_rng *r, const struct crisp_image *co,
                     struct batch *b, int j)
{
    const int P = s->patch, M = 8, S = P + 2 * M, T = s->twin_codec == 1 ? 0 : s->twin;
    const size_t pp = (size_t)P * P, row = (size_t)s->local + j;
    int dx = 0, dy = 0;
    struct degrade_twin tw = {0, 0, 0};
    /* frame pairs: a quarter the same frame, 3/8 codec twins, 3/8 moved with fresh noise */
    const int kind = s->twin_codec == 2 ? (int)(crisp_rng_u64(r) % 8) : s->twin_codec ? 2 : 5;
    b->shift[2 * j] = b->shift[2 * j + 1] = 0;
    if (kind < 2)
        return 1; /* make_batch copies the sample */
    if (kind < 5) { /* the grid moved by 0, 2, ..., 14 each way, not both 0 */
        const int k = 1 + (int)(crisp_rng_u64(r) % 63);
        tw.grid_x = 2 * (k % 8);
        tw.grid_y = 2 * (k / 8);
        tw.noise_salt = crisp_rng_u64(r) | 1;
    } else {
        dx = (int)(crisp_rng_u64(r) % (uint64_t)(2 * T + 1)) - T;
        dy = (int)(crisp_rng_u64(r) % (uint64_t)(2 * T + 1)) - T;
        if (s->twin_codec == 2)
            tw.noise_salt = crisp_rng_u64(r) | 1;
    }
    struct crisp_rng r2 = *r;
    struct crisp_image *ct = NULL, *dt = NULL;
    int ret = crop(&ct, co, T + dx, T + dy, S);
    if (!ret)
        ret = degrade_random_twin(&dt, ct, &r2, NULL, &tw);
    if (!ret)
        ret = to_luma(ct, M, P, b->y + pp * row, 0);
    if (!ret)
        ret = to_luma(dt, M, P, b->x + pp * row, s->input8);
    if (!ret) {
        b->shift[2 * j] = dx;
        b->shift[2 * j + 1] = dy;
    }
    crisp_image_destroy(&ct);
    crisp_image_destroy(&dt);
    return ret;
}

static int make_batch(struct sampler *s, int64_t index, struct batch *b)
{
    const int P = s->patch, M = 8, S = P + 2 * M, T = s->twin_codec == 1 ? 0 : s->twin, S2 = S + 2 * T;
    const size_t pp = (size_t)P * P;
    const struct dataset *d = s->d;
    b->index = index;
    for (int k = s->part, j = 0; k < s->batch; k += s->parts, j++) {
        /* sample k of batch `index` has its own draw, so that a rank makes
         * its samples without the others' (data-parallel training) */
        struct crisp_rng r;
        crisp_rng_seed(&r, s->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(index + 1)) ^
                               (0xD1B54A32D192ED03ull * (uint64_t)(k + 1)));
        int idx, tries = 0;
        do {
            idx = (int)(crisp_rng_u64(&r) % (uint64_t)d->n_train);
        } while ((d->train[idx]->w < S2 || d->train[idx]->h < S2) && ++tries < 100);
        const struct crisp_image *gt = d->train[idx];
        if (gt->w < S2 || gt->h < S2)
            return CRISP_EFORMAT;
        int x = (int)(crisp_rng_u64(&r) % (uint64_t)(gt->w - S2 + 1));
        int y = (int)(crisp_rng_u64(&r) % (uint64_t)(gt->h - S2 + 1));
        int orient = 1 + (int)(crisp_rng_u64(&r) % 8); /* flips and 90-degree rotations */
        struct crisp_image *c = NULL, *co = NULL, *dg = NULL, *tc = NULL, *tco = NULL;
        int ret = crop(&c, gt, x, y, S2);
        if (!ret)
            ret = crisp_image_orient(&co, c, orient);
        int same = 0; /* the twin is the sample itself (frame pairs) */
        if (!ret && s->twin) { /* the sample and its twin, cut from one oriented crop */
            ret = make_twin(s, &r, co, b, j);
            same = ret == 1;
            ret = ret == 1 ? 0 : ret;
        }
        if (!ret && T) {
            struct crisp_image *inner = NULL;
            ret = crop(&inner, co, T, T, S);
            replace(&co, inner);
        }
        if (!ret) {
            if (d->train_degraded) {
                struct crisp_image *dc = NULL;
                ret = crop(&dc, d->train_degraded[idx], x, y, S);
                if (!ret)
                    ret = crisp_image_orient(&dg, dc, orient);
                crisp_image_destroy(&dc);
                if (!ret)
                    ret = crop(&tc, d->train_teacher[idx], x, y, S);
                if (!ret)
                    ret = crisp_image_orient(&tco, tc, orient);
            } else {
                ret = degrade_random(&dg, co, &r, NULL);
            }
        }
        if (!ret)
            ret = to_luma(co, M, P, b->y + pp * (size_t)j, 0);
        if (!ret)
            ret = to_luma(dg, M, P, b->x + pp * (size_t)j, s->input8);
        if (!ret && tco && b->t)
            ret = to_luma(tco, M, P, b->t + pp * (size_t)j, 0);
        if (!ret && same) {
            const size_t tj = pp * ((size_t)s->local + j);
            memcpy(b->x + tj, b->x + pp * (size_t)j, sizeof(float) * pp);
            memcpy(b->y + tj, b->y + pp * (size_t)j, sizeof(float) * pp);
        }
        crisp_image_destroy(&c);
        crisp_image_destroy(&co);
        crisp_image_destroy(&dg);
        crisp_image_destroy(&tc);
        crisp_image_destroy(&tco);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static void *worker(void *arg)
{
    struct sampler *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop && !s->error) {
        int64_t index = s->claim;
        int slot = (int)(index % s->nslots);
        if (s->ready[slot] != FREE || index >= s->consume + s->nslots) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        s->claim++;
        s->ready[slot] = BUILDING;
        pthread_mutex_unlock(&s->mu);
        int ret = make_batch(s, index, &s->slots[slot]);
        pthread_mutex_lock(&s->mu);
        if (ret < 0 && !s->error)
            s->error = ret;
        s->ready[slot] = ret < 0 ? FREE : READY;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int sampler_create(struct sampler **out, const struct dataset *d, int batch, int patch,
                   uint64_t seed, int64_t first_index, int workers, int part, int parts, int twin,
                   int twin_codec, int input8)
{
    *out = NULL;
    if (parts < 1 || part < 0 || part >= parts || batch <= part || twin < 0 ||
        (twin && d->train_degraded))
        return -EINVAL;
    if (workers < 1)
        workers = 1;
    if (workers > MAX_WORKERS)
        workers = MAX_WORKERS;
    struct sampler *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->d = d;
    s->batch = batch;
    s->patch = patch;
    s->seed = seed;
    s->part = part;
    s->parts = parts;
    s->local = (batch - part + parts - 1) / parts;
    s->twin = twin;
    s->twin_codec = twin ? twin_codec : 0;
    s->input8 = input8;
    s->nslots = workers + 2;
    s->claim = s->consume = first_index;
    size_t n = (size_t)s->local * (twin ? 2 : 1) * patch * patch;
    for (int i = 0; i < s->nslots; i++) {
        s->slots[i].x = crisp_aalloc(n * sizeof(float));
        s->slots[i].y = crisp_aalloc(n * sizeof(float));
        s->slots[i].t = d->train_teacher ? crisp_aalloc(n * sizeof(float)) : NULL;
        s->slots[i].shift = twin ? calloc((size_t)s->local * 2, sizeof(int)) : NULL;
        if (!s->slots[i].x || !s->slots[i].y || (d->train_teacher && !s->slots[i].t) ||
            (twin && !s->slots[i].shift)) {
            sampler_destroy(&s);
            return -ENOMEM;
        }
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->inited = 1;
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&s->threads[i], NULL, worker, s)) {
            sampler_destroy(&s); /* joins the ones started */
            return -EAGAIN;
        }
        s->nthreads++;
    }
    *out = s;
    return 0;
}

const struct batch *sampler_next(struct sampler *s)
{
    pthread_mutex_lock(&s->mu);
    /* release the slot handed out last time */
    if (s->consume > 0 && s->ready[(s->consume - 1) % s->nslots] == HELD) {
        s->ready[(s->consume - 1) % s->nslots] = FREE;
        pthread_cond_broadcast(&s->cv);
    }
    int slot = (int)(s->consume % s->nslots);
    while (s->ready[slot] != READY && !s->error)
        pthread_cond_wait(&s->cv, &s->mu);
    const struct batch *b = NULL;
    if (!s->error) {
        s->ready[slot] = HELD;
        s->consume++;
        b = &s->slots[slot];
    }
    pthread_mutex_unlock(&s->mu);
    return b;
}

void sampler_destroy(struct sampler **ps)
{
    if (!ps || !*ps)
        return;
    struct sampler *s = *ps;
    if (s->nthreads) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < s->nthreads; i++)
            pthread_join(s->threads[i], NULL);
    }
    if (s->inited) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
    }
    for (int i = 0; i < s->nslots; i++) {
        crisp_afree(s->slots[i].x);
        crisp_afree(s->slots[i].y);
        crisp_afree(s->slots[i].t);
        free(s->slots[i].shift);
    }
    free(s);
    *ps = NULL;
}
