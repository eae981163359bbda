// SPDX-License-Identifier: BSD-2-Clause
// Stripe execution of the inference engine (crisp/engine.h, stripe_rows):
// the frame is cut into horizontal stripes, each run through every layer by
// an engine built for the stripe's window (its rows plus a halo of the
// network's receptive field above and below), so a stripe's activations stay
// in the cache instead of whole-frame activations streaming through memory;
// worker threads take stripes side by side, each with its own single-
// threaded oneDNN engines, with no barrier between layers.
//
// Exactness: a window starts on the model's alignment grid (space-to-depth
// groups the same pixels as the whole frame), ends at the image's edge or a
// halo below its rows, and only its central rows are kept; rows within the
// halo of a window's cut edge see that edge's padding, rows kept never do.
// The first and last windows touch the image's own edges and get the same
// edge padding the whole-frame engine applies. The arithmetic per pixel is
// the same kernels' (tests compare with whole-frame execution).
//
// Threads: create, run and destroy on the caller's thread (one at a time per
// engine, as crisp_engine_run); the workers only run stripes. Owns the
// workers, their engines and window buffers. run allocates nothing.
#include <errno.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisp/engine.h"
#include "crisp/util.h"
#include "internal.h"

#define MAX_SIZES 4 /* window heights: top, middle, bottom, and both edges at once */

struct stripe {
    int y0, y1; /* the rows kept */
    int t, b;   /* the window: rows t..b-1 */
};

struct worker {
    struct crisp_stripes *s;
    int index;
    pthread_t th;
    int started;
    struct crisp_engine *eng[MAX_SIZES];
    int eng_h[MAX_SIZES];
    float *win_in, *win_out; /* C x (largest window) x W */
    int status;
    char err[256];
};

struct crisp_stripes {
    const struct crisp_model *m;
    struct crisp_engine_params p;
    int c, w, h, halo, rows;
    struct stripe *st;
    int n_st;
    struct worker *wk;
    int n_wk;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int gen, pending, ready, quit, run_status;
    const float *in;
    float *out;
    /* crisp_engine_run_luma8: every window engine fuses its I/O; the workers
     * read the frame's copy `in8` (neighbours' halos overlap the rows
     * another worker writes) and write the plane */
    int fused, luma8;
    uint8_t *in8, *plane;
    ptrdiff_t stride;
    float strength;
};

/* input rows a kept output row may depend on, above and below: every conv
 * reaches k/2 rows at its resolution, space-to-depth and stride-2 convs
 * coarsen the grid (an upper bound: skips take shorter paths) */
int crisp_model_halo(const struct crisp_model *m)
{
    int scale = 1, reach = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const struct crisp_layer *l = &m->layers[i];
        if (l->type == CRISP_LAYER_CONV) {
            reach += (l->k / 2) * scale;
            if (l->stride == 2)
                scale *= 2;
        } else if (l->type == CRISP_LAYER_S2D) {
            scale *= l->factor;
        } else if (l->type == CRISP_LAYER_D2S && scale >= l->factor) {
            scale /= l->factor;
        }
    }
    const int a = crisp_model_alignment(m);
    return (reach + a + a - 1) / a * a; /* one grid cell more, rounded up to the grid */
}

/* The stripes of `rows` kept rows each and their windows; 0 or -ENOMEM.
 * A window reaches `halo` rows past its stripe or to the image's edge;
 * stripes whose window meets the top edge share the one that reaches
 * furthest down (and likewise at the bottom), so there are at most four
 * window heights: top, middle, bottom, and both edges. */
static int plan(struct crisp_stripes *s)
{
    const int a = crisp_model_alignment(s->m);
    s->n_st = (s->h + s->rows - 1) / s->rows;
    s->st = calloc((size_t)s->n_st, sizeof(*s->st));
    if (!s->st)
        return -ENOMEM;
    int top_b = 0, bottom_t = s->h;
    for (int i = 0; i < s->n_st; i++) {
        struct stripe *t = &s->st[i];
        t->y0 = i * s->rows;
        t->y1 = t->y0 + s->rows < s->h ? t->y0 + s->rows : s->h;
        t->t = t->y0 - s->halo > 0 ? (t->y0 - s->halo) / a * a : 0;
        t->b = t->y1 + s->halo < s->h ? t->y1 + s->halo : s->h;
        if (t->t == 0 && t->b < s->h && t->b > top_b)
            top_b = t->b;
        if (t->b == s->h && t->t > 0 && t->t < bottom_t)
            bottom_t = t->t;
    }
    for (int i = 0; i < s->n_st; i++) {
        struct stripe *t = &s->st[i];
        if (t->t == 0 && t->b < s->h)
            t->b = top_b;
        else if (t->b == s->h && t->t > 0)
            t->t = bottom_t;
    }
    return 0;
}

static int engine_slot(const struct worker *w, int height)
{
    for (int k = 0; k < MAX_SIZES; k++)
        if (w->eng[k] && w->eng_h[k] == height)
            return k;
    return -1;
}

/* one worker's engines, one per window height among its stripes */
static int worker_build(struct worker *w)
{
    struct crisp_stripes *s = w->s;
    size_t biggest = 0;
    for (int i = w->index; i < s->n_st; i += s->n_wk) {
        const int hh = s->st[i].b - s->st[i].t;
        biggest = (size_t)hh > biggest ? (size_t)hh : biggest;
        if (engine_slot(w, hh) >= 0)
            continue;
        int k = 0;
        while (k < MAX_SIZES && w->eng[k])
            k++;
        if (k == MAX_SIZES) {
            snprintf(w->err, sizeof(w->err), "stripes: more window sizes than planned");
            return CRISP_EUSAGE;
        }
        struct crisp_engine_params ep = s->p;
        ep.height = hh;
        ep.threads = 0;     /* this thread's OpenMP setting: one */
        ep.stripe_rows = 0; /* whole window */
        int ret = crisp_engine_create(&w->eng[k], s->m, &ep, w->err, sizeof(w->err));
        if (ret < 0)
            return ret;
        w->eng_h[k] = hh;
    }
    const size_t n = (size_t)s->c * biggest * s->w;
    if (n && (!(w->win_in = crisp_aalloc(n * sizeof(float))) ||
              !(w->win_out = crisp_aalloc(n * sizeof(float))))) {
        snprintf(w->err, sizeof(w->err), "out of memory for stripe windows");
        return -ENOMEM;
    }
    return 0;
}

/* this worker's stripes of the current frame */
static int worker_run(struct worker *w)
{
    struct crisp_stripes *s = w->s;
    if (s->luma8) {
        for (int i = w->index; i < s->n_st; i += s->n_wk) {
            const struct stripe *t = &s->st[i];
            int ret = crisp_engine_luma8_rows(w->eng[engine_slot(w, t->b - t->t)],
                                              s->in8 + (size_t)t->t * s->w, s->w,
                                              s->plane + (ptrdiff_t)t->t * s->stride, s->stride,
                                              t->y0 - t->t, t->y1 - t->t, s->strength);
            if (ret < 0)
                return ret;
        }
        return 0;
    }
    const size_t plane = (size_t)s->w * s->h;
    for (int i = w->index; i < s->n_st; i += s->n_wk) {
        const struct stripe *t = &s->st[i];
        const int hh = t->b - t->t;
        const size_t wplane = (size_t)s->w * hh;
        for (int c = 0; c < s->c; c++)
            memcpy(w->win_in + c * wplane, s->in + c * plane + (size_t)t->t * s->w,
                   wplane * sizeof(float));
        int ret = crisp_engine_run(w->eng[engine_slot(w, hh)], w->win_in, w->win_out);
        if (ret < 0)
            return ret;
        const size_t keep = (size_t)(t->y1 - t->y0) * s->w, skip = (size_t)(t->y0 - t->t) * s->w;
        for (int c = 0; c < s->c; c++)
            memcpy(s->out + c * plane + (size_t)t->y0 * s->w, w->win_out + c * wplane + skip,
                   keep * sizeof(float));
    }
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct crisp_stripes *s = w->s;
    omp_set_num_threads(1); /* the stripes are the parallelism */
    w->status = worker_build(w);
    pthread_mutex_lock(&s->mu);
    s->ready++;
    pthread_cond_broadcast(&s->done);
    int seen = 0;
    for (;;) {
        while (!s->quit && s->gen == seen)
            pthread_cond_wait(&s->go, &s->mu);
        if (s->quit)
            break;
        seen = s->gen;
        pthread_mutex_unlock(&s->mu);
        int ret = w->status < 0 ? w->status : worker_run(w);
        pthread_mutex_lock(&s->mu);
        if (ret < 0)
            s->run_status = ret;
        if (--s->pending == 0)
            pthread_cond_signal(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void crisp_stripes_destroy(struct crisp_stripes **ps)
{
    struct crisp_stripes *s = ps ? *ps : NULL;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->quit = 1;
    pthread_cond_broadcast(&s->go);
    pthread_mutex_unlock(&s->mu);
    for (int k = 0; k < s->n_wk; k++) {
        struct worker *w = &s->wk[k];
        if (w->started)
            pthread_join(w->th, NULL);
        for (int j = 0; j < MAX_SIZES; j++)
            crisp_engine_destroy(&w->eng[j]);
        crisp_afree(w->win_in);
        crisp_afree(w->win_out);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->go);
    pthread_cond_destroy(&s->done);
    free(s->wk);
    free(s->st);
    free(s->in8);
    free(s);
    *ps = NULL;
}

int crisp_stripes_create(struct crisp_stripes **out, const struct crisp_model *m,
                         const struct crisp_engine_params *p, char *err, size_t errlen)
{
    *out = NULL;
    const int a = crisp_model_alignment(m);
    struct crisp_stripes *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->m = m;
    s->p = *p;
    s->c = (int)m->color;
    s->w = p->width;
    s->h = p->height;
    s->halo = crisp_model_halo(m);
    s->rows = (p->stripe_rows + a - 1) / a * a;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s->n_wk = p->threads > 0 ? p->threads : cpus > 0 ? (int)cpus : 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->go, NULL);
    pthread_cond_init(&s->done, NULL);
    int ret = plan(s);
    if (ret == 0 && s->n_wk > s->n_st)
        s->n_wk = s->n_st;
    if (ret == 0 && !(s->wk = calloc((size_t)s->n_wk, sizeof(*s->wk))))
        ret = -ENOMEM;
    for (int k = 0; ret == 0 && k < s->n_wk; k++) {
        struct worker *w = &s->wk[k];
        w->s = s;
        w->index = k;
        if (pthread_create(&w->th, NULL, worker_main, w)) {
            ret = -EAGAIN;
            break;
        }
        w->started = 1;
    }
    /* wait until every started worker has built its engines */
    pthread_mutex_lock(&s->mu);
    int started = 0;
    for (int k = 0; s->wk && k < s->n_wk; k++)
        started += s->wk[k].started;
    while (s->ready < started)
        pthread_cond_wait(&s->done, &s->mu);
    pthread_mutex_unlock(&s->mu);
    const char *why = ret < 0 ? "cannot start the stripe workers" : NULL;
    for (int k = 0; ret == 0 && k < s->n_wk; k++)
        if (s->wk[k].status < 0) {
            ret = s->wk[k].status;
            why = s->wk[k].err;
        }
    if (ret == 0 && s->c == 1) { /* 8-bit luma straight through when every engine fuses */
        s->fused = 1;
        for (int k = 0; k < s->n_wk; k++)
            for (int j = 0; j < MAX_SIZES; j++)
                if (s->wk[k].eng[j] && !crisp_engine_fused_io(s->wk[k].eng[j]))
                    s->fused = 0;
        if (s->fused && !(s->in8 = malloc((size_t)s->w * s->h)))
            ret = -ENOMEM;
    }
    if (ret < 0) {
        if (err)
            snprintf(err, errlen, "%s", why ? why : "out of memory");
        crisp_stripes_destroy(&s);
        return ret;
    }
    *out = s;
    return 0;
}

/* wakes the workers for one frame and waits for them */
static int run_workers(struct crisp_stripes *s)
{
    pthread_mutex_lock(&s->mu);
    s->run_status = 0;
    s->pending = s->n_wk;
    s->gen++;
    pthread_cond_broadcast(&s->go);
    while (s->pending)
        pthread_cond_wait(&s->done, &s->mu);
    int ret = s->run_status;
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int crisp_stripes_run_luma8(struct crisp_stripes *s, uint8_t *plane, ptrdiff_t stride,
                            float strength)
{
    if (!s->fused)
        return 1;
    for (int y = 0; y < s->h; y++)
        memcpy(s->in8 + (size_t)y * s->w, plane + (ptrdiff_t)y * stride, (size_t)s->w);
    s->luma8 = 1;
    s->plane = plane;
    s->stride = stride;
    s->strength = strength;
    return run_workers(s);
}

int crisp_stripes_run(struct crisp_stripes *s, const float *in, float *out)
{
    s->luma8 = 0;
    s->in = in;
    s->out = out;
    return run_workers(s);
}

int crisp_stripes_count(const struct crisp_stripes *s) { return s->n_st; }
int crisp_stripes_workers(const struct crisp_stripes *s) { return s->n_wk; }
int crisp_stripes_halo(const struct crisp_stripes *s) { return s->halo; }
int crisp_stripes_fused(const struct crisp_stripes *s) { return s->fused; }

size_t crisp_stripes_activation_bytes(const struct crisp_stripes *s)
{
    size_t n = 0;
    for (int k = 0; k < s->n_wk; k++)
        for (int j = 0; j < MAX_SIZES; j++)
            if (s->wk[k].eng[j])
                n += crisp_engine_activation_bytes(s->wk[k].eng[j]);
    return n;
}

const struct crisp_engine *crisp_stripes_engine(const struct crisp_stripes *s)
{
    return s->wk[0].eng[0];
}
