// SPDX-License-Identifier: BSD-2-Clause
// Exact reuse of unchanged tiles (crisp_engine_params.reuse): a received
// call is mostly unchanged from frame to frame (a codec's skipped blocks
// decode to the very same bytes), and where a tile's input, with the
// network's receptive field around it, is bit-identical to the previous
// frame's, so is the network's output there. Per stream (per engine) the
// previous input and output planes are kept; each frame:
//
//  1. changed 4x4 blocks are found (the current plane against the previous
//     input; for a frame-pair model the previous-frame plane too), and a
//     32x32 output tile is dirty when a changed block lies within the
//     model's halo (crisp_model_halo) of it;
//  2. dirty tiles are covered by windows of a few fixed sizes (4x4 to 16x8
//     tiles of exact output), placed on the model's alignment grid and
//     clamped into the frame, chosen greedily by pixels computed per dirty
//     tile newly covered (the set-cover greedy); a window's output is exact
//     inside it but for a halo along every edge that is not the frame's own
//     (the argument of stripe execution, lib/nn/stripes.c, in two
//     dimensions), and every tile inside that exact region is taken from it;
//  3. when the windows would cover more than a limit share of the frame's
//     pixels (REUSE_MAX_COST to start with, then following the stream's
//     measured costs: adapt_limit), the whole frame runs as without reuse
//     (a camera's noise, a cut, a new strength, the first frame), and a
//     stream that keeps needing the whole frame is checked less often;
//  4. the other tiles are copied from the previous output.
//
// The window engines are the same model built for the windows' sizes (same
// precision and fused I/O rules), so every pixel kept is computed by the
// same kernels on the same inputs as in the whole frame: the output is
// bit-identical to running the whole frame (tests/nn/test_reuse.c).
//
// Threads: one at a time per engine, as crisp_engine_run_luma8. The windows
// of a frame run side by side on the caller's OpenMP threads, each thread
// with window engines and buffers of its own; oneDNN runs single-threaded
// inside that parallel region (small windows do not pay for a fork and join
// per layer). Every window writes only the tiles assigned to it, so no two
// threads write the same bytes. Allocates at creation only.
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/engine.h"
#include "crisp/frame.h"
#include "crisp/util.h"
#include "internal.h"

#define TILE 32
#define BLOCK 4 /* find_changed reads 8 bytes as two blocks */
#define NSIZES 4
/* windows costing more than this share of the whole frame's pixels: run the
 * whole frame (a window's pixel costs more than the whole frame's: halo
 * columns, small convolutions; measured on talking-head calls) */
#define REUSE_MAX_COST 0.7
/* layer reuse: its windows cost their pixels plus copies between the kept
 * outputs (8-13% natively, one thread, on a 2-core Xeon) and the plan: above
 * 0.6 of the frame's pixels (desk-webcam's call, windows over 0.78) they
 * saved nothing natively (2026-12-06). The share a stream's frames start
 * with; then it follows the measured costs (adapt_limit) between these: */
#define REUSE_LR_MAX_COST 0.6
#define LIMIT_MIN 0.3
#define LIMIT_MAX 0.95

struct crisp_reuse {
    int w, h, halo, align;
    int reach; /* the model's halo: a change this near makes a tile dirty */
    /* layer reuse: the engine is a chain of convolutions whose outputs it
     * keeps (crisp_engine_chain); the windows then run layer by layer
     * between those kept outputs, with margins of the largest kernel reach
     * instead of the whole network's halo */
    int lr;
    struct crisp_chain ch, *wch; /* the engine's, and [thread][size] the windows' */
    /* two slices per planned window (its input and output of a layer, in
     * turn: a window keeps its own layer's output as the next one's input)
     * and the bytes per pixel at 1 / factor a slice holds */
    uint8_t *arena;
    size_t arena_half, arena_bpp;
    size_t *off; /* per planned window: its slices' offset in each half */
    int ww[NSIZES], wh[NSIZES]; /* window sizes */
    int n_sizes;
    int tx, ty;                /* tiles across and down */
    int bx, by;                /* blocks across and down */
    int nthr;                  /* OpenMP threads the windows run on */
    struct crisp_engine **win; /* [thread][size]: the model at the windows' sizes */
    uint8_t *prev_in, *prev_out, *prev_pair; /* w x h: the last frame's input, output, pair plane */
    uint8_t **buf, **buf_pair; /* per thread (windows mode): a window's input (and pair plane) */
    int *owner;                /* per tile: the window that writes it, -1 none */
    uint8_t *changed, *dirty, *covered;
    struct cand {
        float score; /* tiles to cover per window pixel */
        int k, wx, wy;
    } *heap; /* the plan's candidates: size, origin (tx x ty x sizes at most) */
    int *wins;                 /* planned windows: size, origin x and y */
    int valid, pair;
    int skip, wholes; /* frames to run whole unchecked; whole decisions in a row */
    float strength;
    /* the windows' limit (share of the frame's pixels) and what sets it:
     * the time of a whole frame and of a window pixel share, smoothed */
    double limit, t_whole, t_share;
    double plan_px; /* pixels of the windows planned */
    long tiles, reused, frames, whole;
    long checked, unchanged; /* tiles compared, and of them found unchanged (not dirty) */
};

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void crisp_reuse_destroy(struct crisp_reuse **pr)
{
    struct crisp_reuse *r = pr ? *pr : NULL;
    if (!r)
        return;
    for (int t = 0; r->win && t < r->nthr * NSIZES; t++)
        crisp_engine_destroy(&r->win[t]);
    for (int t = 0; t < r->nthr; t++) {
        if (r->buf)
            free(r->buf[t]);
        if (r->buf_pair)
            free(r->buf_pair[t]);
    }
    free(r->win);
    free(r->owner);
    free(r->prev_in);
    free(r->prev_out);
    free(r->prev_pair);
    free(r->buf);
    free(r->buf_pair);
    free(r->changed);
    free(r->dirty);
    free(r->covered);
    free(r->wins);
    free(r->heap);
    free(r->arena);
    free(r->off);
    free(r->wch);
    free(r);
    *pr = NULL;
}

/* a window of `kx` by `ky` tiles of exact output, plus a halo on each side
 * and one alignment step; kept when it fits the frame and is at most half
 * of it (else windows cannot pay) */
static void add_size(struct crisp_reuse *r, int kx, int ky)
{
    const int a = r->align;
    const int ww = (kx * TILE + 2 * r->halo + a + a - 1) / a * a;
    const int wh = (ky * TILE + 2 * r->halo + a + a - 1) / a * a;
    if (r->n_sizes == NSIZES || ww > r->w || wh > r->h || (double)ww * wh > 0.5 * (double)r->w * r->h)
        return;
    r->ww[r->n_sizes] = ww;
    r->wh[r->n_sizes++] = wh;
}

int crisp_reuse_create(struct crisp_reuse **out, struct crisp_engine *e,
                       const struct crisp_model *m, const struct crisp_engine_params *p, char *err,
                       size_t errlen)
{
    *out = NULL;
    if (m->color != CRISP_COLOR_LUMA && m->color != CRISP_COLOR_LUMA_PAIR)
        return 0; /* crispd's 8-bit luma path only */
    struct crisp_reuse *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->w = p->width;
    r->h = p->height;
    r->halo = r->reach = crisp_model_halo(m);
    r->align = crisp_model_alignment(m);
    if (crisp_engine_chain(e, &r->ch) && r->ch.persist) {
        /* windows need a margin of the largest reach of one layer, in
         * pixels of the frame (the chain runs at 1 / factor) */
        int mr = 1;
        for (int s = 0; s < r->ch.n; s++)
            mr = r->ch.s[s].reach > mr ? r->ch.s[s].reach : mr;
        r->lr = 1;
        r->halo = mr * r->ch.factor;
        r->align = r->ch.factor;
    }
    r->limit = r->lr ? REUSE_LR_MAX_COST : REUSE_MAX_COST;
    r->pair = m->color == CRISP_COLOR_LUMA_PAIR;
    /* layer reuse's margins are small: smaller windows fit scattered tiles */
    static const int SIZES[NSIZES][2] = {{4, 4}, {8, 4}, {8, 8}, {16, 8}};
    static const int LR_SIZES[NSIZES][2] = {{2, 2}, {4, 2}, {4, 4}, {8, 4}};
    for (int k = 0; k < NSIZES; k++)
        add_size(r, (r->lr ? LR_SIZES : SIZES)[k][0], (r->lr ? LR_SIZES : SIZES)[k][1]);
    /* the frame's size on the grid (else a clamped window leaves the grid) */
    if (r->w % r->align || r->h % r->align || !r->n_sizes) {
        free(r);
        return 0;
    }
    r->tx = (r->w + TILE - 1) / TILE;
    r->ty = (r->h + TILE - 1) / TILE;
    r->bx = (r->w + BLOCK - 1) / BLOCK;
    r->by = (r->h + BLOCK - 1) / BLOCK;
    size_t nw = 0;
    for (int k = 0; k < r->n_sizes; k++)
        nw = (size_t)r->ww[k] * r->wh[k] > nw ? (size_t)r->ww[k] * r->wh[k] : nw;
    const size_t n = (size_t)r->w * r->h, nt = (size_t)r->tx * r->ty;
    r->nthr = p->threads > 0 ? p->threads : omp_get_max_threads();
    if (r->nthr < 1 || r->nthr > 256)
        r->nthr = 1;
    r->prev_in = malloc(n);
    r->prev_out = malloc(n);
    r->win = calloc((size_t)r->nthr * NSIZES, sizeof(*r->win));
    r->wch = r->lr ? calloc((size_t)r->nthr * NSIZES, sizeof(*r->wch)) : NULL;
    r->buf = calloc((size_t)r->nthr, sizeof(*r->buf));
    r->buf_pair = calloc((size_t)r->nthr, sizeof(*r->buf_pair));
    r->owner = malloc(sizeof(int) * nt);
    for (int t = 0; !r->lr && r->buf && r->buf_pair && t < r->nthr; t++) {
        r->buf[t] = malloc(nw); /* windows mode only: layer reuse has its arena */
        r->buf_pair[t] = r->pair ? malloc(nw) : NULL;
    }
    r->changed = malloc((size_t)r->bx * r->by);
    r->dirty = malloc(nt);
    r->covered = malloc(nt);
    r->wins = malloc(sizeof(int) * 3 * nt);
    r->heap = malloc(sizeof(*r->heap) * (size_t)r->tx * (size_t)r->ty * NSIZES);
    if (r->pair)
        r->prev_pair = malloc(n);
    if (r->lr) {
        /* the windows of a frame cover at most LIMIT_MAX of its pixels */
        for (int s = 0; s < r->ch.n; s++) {
            const size_t b1 = (size_t)r->ch.s[s].cin,
                         b2 = (size_t)r->ch.s[s].cout * r->ch.s[s].dst_bytes;
            r->arena_bpp = b1 > r->arena_bpp ? b1 : r->arena_bpp;
            r->arena_bpp = b2 > r->arena_bpp ? b2 : r->arena_bpp;
        }
        const int f = r->ch.factor;
        r->arena_half = (size_t)(LIMIT_MAX * (r->w / f) * (r->h / f) + 1) * r->arena_bpp;
        r->arena = malloc(2 * r->arena_half);
        r->off = malloc(sizeof(*r->off) * nt);
    }
    int ret = -ENOMEM, bufs_ok = r->buf && r->buf_pair;
    for (int t = 0; !r->lr && bufs_ok && t < r->nthr; t++)
        bufs_ok = r->buf[t] && (!r->pair || r->buf_pair[t]);
    if (!r->prev_in || !r->prev_out || !bufs_ok || !r->changed || !r->dirty || !r->covered ||
        !r->wins || !r->heap || !r->win || !r->owner || (r->pair && !r->prev_pair) ||
        (r->lr && (!r->wch || !r->arena || !r->off))) {
        if (err)
            snprintf(err, errlen, "out of memory for tile reuse");
        goto fail;
    }
    for (int t = 0; t < r->nthr; t++)
        for (int k = 0; k < r->n_sizes; k++) {
            struct crisp_engine_params wp = *p;
            wp.width = r->ww[k];
            wp.height = r->wh[k];
            wp.stripe_rows = 0;
            wp.reuse = 0;
            wp.threads = 0; /* leaves the caller's OpenMP setting alone */
            if ((ret = crisp_engine_create(&r->win[t * NSIZES + k], m, &wp, err, errlen)) < 0)
                goto fail;
            if (!r->lr)
                continue;
            /* the same chain at the window's size, or no reuse */
            struct crisp_chain *wc = &r->wch[t * NSIZES + k];
            int same = crisp_engine_chain(r->win[t * NSIZES + k], wc) && wc->n == r->ch.n;
            for (int s = 0; same && s < wc->n; s++)
                same = wc->s[s].cin == r->ch.s[s].cin && wc->s[s].cout == r->ch.s[s].cout &&
                       wc->s[s].dst_bytes == r->ch.s[s].dst_bytes &&
                       wc->s[s].reach == r->ch.s[s].reach;
            if (!same) {
                crisp_reuse_destroy(&r);
                return 0;
            }
        }
    *out = r;
    return 0;
fail:
    crisp_reuse_destroy(&r);
    return ret;
}

/* changed 4x4 blocks of a against b (w x h, strides sa and w) */
static void find_changed(struct crisp_reuse *r, const uint8_t *a, ptrdiff_t sa, const uint8_t *b,
                         int first)
{
    for (int by = 0; by < r->by; by++) {
        const int y0 = by * BLOCK, y1 = y0 + BLOCK < r->h ? y0 + BLOCK : r->h;
        uint8_t *ch = r->changed + (size_t)by * r->bx;
        if (first)
            memset(ch, 0, (size_t)r->bx);
        for (int y = y0; y < y1; y++) {
            const uint8_t *pa = a + (ptrdiff_t)y * sa, *pb = b + (size_t)y * r->w;
            if (!memcmp(pa, pb, (size_t)r->w))
                continue;
            /* 8 bytes at a time: two blocks of 4 (little-endian: the low half first) */
            int x = 0;
            for (; x + 8 <= r->w; x += 8) {
                uint64_t va, vb;
                memcpy(&va, pa + x, 8);
                memcpy(&vb, pb + x, 8);
                const uint64_t d = va ^ vb;
                if (d) {
                    ch[x / BLOCK] |= (uint8_t)((d & 0xffffffffu) != 0);
                    ch[x / BLOCK + 1] |= (uint8_t)((d >> 32) != 0);
                }
            }
            for (; x < r->w; x++)
                if (pa[x] != pb[x])
                    ch[x / BLOCK] = 1;
        }
    }
}

/* dirty tiles: a changed block within the halo of the tile; their count */
static int find_dirty(struct crisp_reuse *r)
{
    int n = 0;
    for (int ty = 0; ty < r->ty; ty++)
        for (int tx = 0; tx < r->tx; tx++) {
            const int x0 = tx * TILE - r->reach, x1 = (tx + 1) * TILE + r->reach;
            const int y0 = ty * TILE - r->reach, y1 = (ty + 1) * TILE + r->reach;
            const int b0 = clampi(x0 / BLOCK, 0, r->bx), b1 = clampi((x1 + BLOCK - 1) / BLOCK, 0, r->bx);
            const int c0 = clampi(y0 / BLOCK, 0, r->by), c1 = clampi((y1 + BLOCK - 1) / BLOCK, 0, r->by);
            int d = 0;
            for (int by = c0; by < c1 && !d; by++)
                d = memchr(r->changed + (size_t)by * r->bx + b0, 1, (size_t)(b1 - b0)) != NULL;
            r->dirty[(size_t)ty * r->tx + tx] = (uint8_t)d;
            n += d;
        }
    return n;
}

/* a window's exact output region: its rows and columns but a halo along
 * every edge that is not the frame's */
static void exact_region(const struct crisp_reuse *r, int k, int wx, int wy, int *x0, int *x1,
                         int *y0, int *y1)
{
    *x0 = wx > 0 ? wx + r->halo : 0;
    *x1 = wx + r->ww[k] < r->w ? wx + r->ww[k] - r->halo : r->w;
    *y0 = wy > 0 ? wy + r->halo : 0;
    *y1 = wy + r->wh[k] < r->h ? wy + r->wh[k] - r->halo : r->h;
}

/* the tiles wholly inside an exact region: [*u0, *u1) across, [*v0, *v1) down */
static void tiles_inside(const struct crisp_reuse *r, int x0, int x1, int y0, int y1, int *u0,
                         int *u1, int *v0, int *v1)
{
    *u0 = (x0 + TILE - 1) / TILE;
    *v0 = (y0 + TILE - 1) / TILE;
    *u1 = x1 == r->w ? r->tx : x1 / TILE;
    *v1 = y1 == r->h ? r->ty : y1 / TILE;
}

/* window k placed for its exact region to start at tile (tx, ty) */
static void place(const struct crisp_reuse *r, int k, int tx, int ty, int *wx, int *wy)
{
    const int a = r->align;
    *wx = clampi(tx * TILE - r->halo, 0, r->w - r->ww[k]) / a * a;
    *wy = clampi(ty * TILE - r->halo, 0, r->h - r->wh[k]) / a * a;
}

/* tiles still to cover (r->covered 1) inside window k at (wx, wy)'s exact
 * region, and that region's tiles */
static int still_inside(const struct crisp_reuse *r, int k, int wx, int wy, int *u0, int *u1,
                        int *v0, int *v1)
{
    int x0, x1, y0, y1, c = 0;
    exact_region(r, k, wx, wy, &x0, &x1, &y0, &y1);
    tiles_inside(r, x0, x1, y0, y1, u0, u1, v0, v1);
    for (int v = *v0; v < *v1; v++)
        for (int u = *u0; u < *u1; u++)
            c += r->covered[(size_t)v * r->tx + u];
    return c;
}

/* the candidates' max-heap on score */
static void heap_push(struct crisp_reuse *r, int *n, float score, int k, int wx, int wy)
{
    int i = (*n)++;
    while (i > 0 && r->heap[(i - 1) / 2].score < score) {
        r->heap[i] = r->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    r->heap[i] = (struct cand){score, k, wx, wy};
}

static struct cand heap_pop(struct crisp_reuse *r, int *n)
{
    const struct cand top = r->heap[0], last = r->heap[--*n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && r->heap[c + 1].score > r->heap[c].score)
            c++;
        if (r->heap[c].score <= last.score)
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (*n > 0)
        r->heap[i] = last;
    return top;
}

/* covers the dirty tiles with windows: greedily the placement and size
 * with the fewest pixels per dirty tile not yet covered (each size placed
 * with its exact region starting at each dirty tile); the number of
 * windows, or -1 once they cost more than `limit` pixels. Lazily: a
 * candidate's count of tiles to cover only falls as windows are taken, so
 * the best one is the top of a heap whose score, counted again, still
 * beats the next (the set-cover greedy without scoring every candidate
 * after every pick). */
static int plan_windows(struct crisp_reuse *r, int n_dirty, double limit)
{
    int n = 0, nh = 0;
    double pixels = 0;
    memcpy(r->covered, r->dirty, (size_t)r->tx * r->ty); /* 1: dirty, not covered yet */
    for (int ty = 0; ty < r->ty; ty++)
        for (int tx = 0; tx < r->tx; tx++) {
            if (!r->dirty[(size_t)ty * r->tx + tx])
                continue;
            for (int k = 0; k < r->n_sizes; k++) {
                int wx, wy, u0, u1, v0, v1;
                place(r, k, tx, ty, &wx, &wy);
                const int c = still_inside(r, k, wx, wy, &u0, &u1, &v0, &v1);
                if (c)
                    heap_push(r, &nh, (float)(c / ((double)r->ww[k] * r->wh[k])), k, wx, wy);
            }
        }
    while (n_dirty > 0) {
        if (!nh)
            return -1; /* cannot happen: every dirty tile anchors a candidate */
        const struct cand b = heap_pop(r, &nh);
        int u0, u1, v0, v1;
        const int c = still_inside(r, b.k, b.wx, b.wy, &u0, &u1, &v0, &v1);
        if (!c)
            continue;
        const float score = (float)(c / ((double)r->ww[b.k] * r->wh[b.k]));
        if (nh && score < r->heap[0].score) { /* no longer the best: back in */
            heap_push(r, &nh, score, b.k, b.wx, b.wy);
            continue;
        }
        for (int v = v0; v < v1; v++)
            memset(r->covered + (size_t)v * r->tx + u0, 0, (size_t)(u1 - u0));
        n_dirty -= c;
        pixels += (double)r->ww[b.k] * r->wh[b.k];
        r->plan_px = pixels;
        if (pixels > limit)
            return -1;
        r->wins[3 * n] = b.k;
        r->wins[3 * n + 1] = b.wx;
        r->wins[3 * n + 2] = b.wy;
        n++;
    }
    return n;
}

/* the frame's tiles whose r->covered is `want`, from src into dst, a run
 * of such tiles in a row at a time */
static void copy_tiles(const struct crisp_reuse *r, int want, uint8_t *dst, ptrdiff_t ds,
                       const uint8_t *src, ptrdiff_t ss)
{
    for (int y = 0; y < r->h; y++) {
        const uint8_t *c = r->covered + (size_t)(y / TILE) * r->tx;
        for (int u = 0; u < r->tx;) {
            if (c[u] != want) {
                u++;
                continue;
            }
            int u1 = u + 1;
            while (u1 < r->tx && c[u1] == want)
                u1++;
            const int x0 = u * TILE, x1 = u1 * TILE < r->w ? u1 * TILE : r->w;
            memcpy(dst + (ptrdiff_t)y * ds + x0, src + (ptrdiff_t)y * ss + x0, (size_t)(x1 - x0));
            u = u1;
        }
    }
}

/* the tiles window i (size k at wx, wy) owns, from its output `src` (row
 * stride ss bytes) into `dst` (row stride ds bytes); the buffers hold one
 * pixel per `scale` frame pixels across and down (the chain's factor, or
 * 1) of `bpp` bytes */
static void copy_owned(const struct crisp_reuse *r, int i, int k, int wx, int wy, int scale,
                       int bpp, uint8_t *dst, size_t ds, const uint8_t *src, size_t ss)
{
    const int t = TILE / scale, w = r->w / scale, h = r->h / scale;
    const int ox = wx / scale, oy = wy / scale;
    int x0, x1, y0, y1, u0, u1, v0, v1;
    exact_region(r, k, wx, wy, &x0, &x1, &y0, &y1);
    tiles_inside(r, x0, x1, y0, y1, &u0, &u1, &v0, &v1);
    for (int v = v0; v < v1; v++)
        for (int u = u0; u < u1; u++) {
            if (r->owner[v * r->tx + u] != i)
                continue;
            const int px0 = u * t, px1 = (u + 1) * t < w ? (u + 1) * t : w;
            const int py0 = v * t, py1 = (v + 1) * t < h ? (v + 1) * t : h;
            for (int y = py0; y < py1; y++)
                memcpy(dst + (size_t)y * ds + (size_t)px0 * bpp,
                       src + (size_t)(y - oy) * ss + (size_t)(px0 - ox) * bpp,
                       (size_t)(px1 - px0) * bpp);
        }
}

/* layer reuse: each convolution in the planned windows only, then the
 * tail over the covered tiles (over the whole frame when the strength
 * changed) and last frame's output on the others. The first layer's input
 * is made by the head from the frame; each later layer's is the window's
 * own output of the layer before (kept in the arena), which is exact but
 * within that layer's reach of an edge that is not the frame's: that ring,
 * the margin (r->halo, the largest reach), is copied in from the kept
 * output of the layer before, which every window of that layer has written
 * by then. Each tile a window owns goes into this layer's kept output (the
 * rest of it is last frame's and unchanged). */
static int run_layers(struct crisp_reuse *r, struct crisp_engine *e, uint8_t *plane,
                      ptrdiff_t stride, int n_win, float strength, int keep)
{
    const int f = r->ch.factor, w2 = r->ch.w2, m = r->halo / f;
    int failed = 0;
    /* each window's slices in the arena */
    size_t *off = r->off;
    size_t o = 0;
    for (int i = 0; i < n_win; i++) {
        const int k = r->wins[3 * i];
        off[i] = o;
        o += (size_t)(r->ww[k] / f) * (size_t)(r->wh[k] / f) * r->arena_bpp;
    }
    if (o > r->arena_half)
        return CRISP_EUSAGE; /* cannot happen: the plan stays under LIMIT_MAX */
    for (int s = 0; s < r->ch.n && !failed; s++) {
        const int cin = r->ch.s[s].cin, ob = r->ch.s[s].cout * r->ch.s[s].dst_bytes;
        const uint8_t *src = r->ch.s[s].src;
        uint8_t *dst = r->ch.s[s].dst;
#pragma omp parallel for num_threads(r->nthr) schedule(dynamic, 1)
        for (int i = 0; i < n_win; i++) {
            const int t = omp_get_thread_num() < r->nthr ? omp_get_thread_num() : 0;
            const int k = r->wins[3 * i], wx = r->wins[3 * i + 1], wy = r->wins[3 * i + 2];
            const int x2 = wx / f, y2 = wy / f, ww = r->ww[k] / f, wh = r->wh[k] / f;
            uint8_t *a = r->arena + off[i], *b = r->arena + r->arena_half + off[i];
            uint8_t *in = s % 2 ? b : a, *out = s % 2 ? a : b;
            const size_t rs = (size_t)ww * cin;
            if (s == 0) {
                crisp_engine_chain_head_rect(e, plane, stride, x2, y2, ww, wh, in);
            } else {
                /* `in` holds this window's own output of the layer before:
                 * exact but within that layer's reach of an edge that is
                 * not the frame's; that ring (the margin) from the kept
                 * output, which every window of that layer has written */
                const int top = wy > 0 ? m : 0, bot = wy + r->wh[k] < r->h ? m : 0;
                const int lft = wx > 0 ? m : 0, rgt = wx + r->ww[k] < r->w ? m : 0;
                for (int y = 0; y < wh; y++) {
                    const uint8_t *sr = src + ((size_t)(y2 + y) * w2 + x2) * cin;
                    uint8_t *dr = in + (size_t)y * rs;
                    if (y < top || y >= wh - bot) {
                        memcpy(dr, sr, rs);
                        continue;
                    }
                    if (lft)
                        memcpy(dr, sr, (size_t)lft * cin);
                    if (rgt)
                        memcpy(dr + rs - (size_t)rgt * cin, sr + rs - (size_t)rgt * cin,
                               (size_t)rgt * cin);
                }
            }
            int rr = crisp_engine_chain_step_at(r->win[t * NSIZES + k], s, in, out);
            if (rr < 0) {
#pragma omp atomic write
                failed = rr;
                continue;
            }
            copy_owned(r, i, k, wx, wy, f, ob, dst, (size_t)w2 * ob, out, (size_t)ww * ob);
        }
    }
    if (failed < 0)
        return failed;
    const int whole_tail = strength != r->strength;
    crisp_engine_chain_tail(e, plane, stride, strength, whole_tail ? NULL : r->covered, TILE,
                            r->tx);
    if (!whole_tail) /* the tiles no window covered: last frame's output */
        copy_tiles(r, 0, plane, stride, r->prev_out, r->w);
    if (keep) /* and what the next frame reuses */
        copy_tiles(r, 1, r->prev_out, r->w, plane, stride);
    if (keep && whole_tail)
        copy_tiles(r, 0, r->prev_out, r->w, plane, stride);
    return 0;
}

/* The windows' limit follows this stream's measured costs: the time of a
 * whole frame and the time per share of the frame's pixels in windows
 * (frames whose windows cover at least SHARE_MIN of it, so that the check,
 * plan and copies that every frame pays weigh little), each smoothed over
 * about ten frames; windows pay while their share stays under the ratio of
 * the two. Natively the copies between layers weigh more than with AVX2
 * kernels, whose convolutions cost three times as much: one constant
 * cannot fit both. The output does not depend on it (exact either way). */
#define SHARE_MIN 0.15
static void adapt_limit(struct crisp_reuse *r, int n_win, double ns)
{
    const double a = r->plan_px / ((double)r->w * r->h);
    if (r->frames <= 2)
        return; /* first runs: caches and pages still cold */
    if (n_win < 0)
        r->t_whole = r->t_whole > 0 ? 0.9 * r->t_whole + 0.1 * ns : ns;
    else if (n_win > 0 && a >= SHARE_MIN)
        r->t_share = r->t_share > 0 ? 0.9 * r->t_share + 0.1 * ns / a : ns / a;
    if (r->t_whole > 0 && r->t_share > 0) {
        const double l = r->t_whole / r->t_share;
        r->limit = l < LIMIT_MIN ? LIMIT_MIN : l > LIMIT_MAX ? LIMIT_MAX : l;
    }
}

int crisp_reuse_run(struct crisp_reuse *r, struct crisp_engine *e, uint8_t *plane,
                    ptrdiff_t stride, const uint8_t *prev, ptrdiff_t pstride, float strength)
{
    const int w = r->w, h = r->h;
    const int nt = r->tx * r->ty;
    if (!prev) { /* a still or a first frame: the frame is its own previous one */
        prev = plane;
        pstride = stride;
    }
    int n_win = -1;
    const int64_t t0 = crisp_now_ns();
    /* layer reuse: the strength only enters the tail */
    const double limit = r->limit * w * h;
    r->plan_px = 0;
    if (r->skip > 0) {
        r->skip--;
    } else if (r->valid && (strength == r->strength || r->lr)) {
        find_changed(r, plane, stride, r->prev_in, 1);
        if (r->pair)
            find_changed(r, prev, pstride, r->prev_pair, 0);
        const int nd = find_dirty(r);
        r->checked += nt;
        r->unchanged += nt - nd;
        /* the windows cost at least the dirty tiles' own pixels */
        n_win = !nd ? 0 : (double)nd * TILE * TILE > limit ? -1 : plan_windows(r, nd, limit);
        /* a picture that changes everywhere (a moving camera, noise): after
         * two whole frames in a row the next one, after three the next three
         * run whole unchecked, so that such a stream pays for the checks and
         * copies on a quarter of its frames */
        r->wholes = n_win < 0 ? r->wholes + 1 : 0;
        r->skip = r->wholes >= 3 ? 3 : r->wholes == 2 ? 1 : 0;
    }
    /* the state the next frame compares with: kept unless it runs unchecked */
    const int keep = r->skip == 0;
    r->valid = keep;
    /* the input as it came: the next frame compares with it, windows read it */
    for (int y = 0; keep && y < h; y++)
        memcpy(r->prev_in + (size_t)y * w, plane + (ptrdiff_t)y * stride, (size_t)w);
    for (int y = 0; keep && r->pair && y < h; y++)
        memcpy(r->prev_pair + (size_t)y * w, prev + (ptrdiff_t)y * pstride, (size_t)w);
    r->frames++;
    r->tiles += nt;
    int ret;
    if (n_win < 0) { /* the whole frame */
        r->whole++;
        ret = crisp_engine_run_luma8_whole(e, plane, stride,
                                           !r->pair ? NULL : keep ? r->prev_pair : prev,
                                           keep ? w : pstride, strength);
        if (ret < 0) {
            r->valid = 0;
            return ret;
        }
    } else {
        /* each tile inside a window's exact region is written by the first
         * such window (covered 1), the others from the last output */
        memset(r->covered, 0, (size_t)nt);
        for (int i = 0; i < nt; i++)
            r->owner[i] = -1;
        for (int i = 0; i < n_win; i++) {
            const int k = r->wins[3 * i];
            int x0, x1, y0, y1, u0, u1, v0, v1;
            exact_region(r, k, r->wins[3 * i + 1], r->wins[3 * i + 2], &x0, &x1, &y0, &y1);
            tiles_inside(r, x0, x1, y0, y1, &u0, &u1, &v0, &v1);
            for (int v = v0; v < v1; v++)
                for (int u = u0; u < u1; u++)
                    if (r->owner[v * r->tx + u] < 0) {
                        r->owner[v * r->tx + u] = i;
                        r->covered[v * r->tx + u] = 1;
                    }
        }
        int failed = 0;
        if (r->lr) {
            failed = run_layers(r, e, plane, stride, n_win, strength, keep);
        } else {
#pragma omp parallel for num_threads(r->nthr) schedule(dynamic, 1)
            for (int i = 0; i < n_win; i++) {
                const int t = omp_get_thread_num() < r->nthr ? omp_get_thread_num() : 0;
                const int k = r->wins[3 * i], wx = r->wins[3 * i + 1], wy = r->wins[3 * i + 2];
                const int ww = r->ww[k], wh = r->wh[k];
                uint8_t *buf = r->buf[t], *bp = r->buf_pair[t];
                for (int y = 0; y < wh; y++) {
                    memcpy(buf + (size_t)y * ww, r->prev_in + (size_t)(wy + y) * w + wx,
                           (size_t)ww);
                    if (r->pair)
                        memcpy(bp + (size_t)y * ww, r->prev_pair + (size_t)(wy + y) * w + wx,
                               (size_t)ww);
                }
                int rr = crisp_engine_run_luma8_pair(r->win[t * NSIZES + k], buf, ww,
                                                     r->pair ? bp : NULL, ww, strength);
                if (rr < 0) {
#pragma omp atomic write
                    failed = rr;
                    continue;
                }
                copy_owned(r, i, k, wx, wy, 1, 1, plane, (size_t)stride, buf, (size_t)ww);
            }
        }
        if (failed < 0) {
            r->valid = 0;
            return failed;
        }
        /* every tile no window covered: last frame's output (layer reuse
         * has written them) */
        int reused = 0;
        for (int i = 0; i < nt; i++)
            reused += !r->covered[i];
        r->reused += reused;
        if (!r->lr)
            copy_tiles(r, 0, plane, stride, r->prev_out, w);
    }
    /* the output the next frame reuses (layer reuse: kept by run_layers) */
    for (int y = 0; keep && (!r->lr || n_win < 0) && y < h; y++)
        memcpy(r->prev_out + (size_t)y * w, plane + (ptrdiff_t)y * stride, (size_t)w);
    r->strength = strength;
    adapt_limit(r, n_win, (double)(crisp_now_ns() - t0));
    return 0;
}

int crisp_reuse_layers(const struct crisp_reuse *r) { return r && r->lr; }

void crisp_reuse_stats(const struct crisp_reuse *r, long *tiles, long *reused, long *frames,
                       long *whole, long *checked, long *unchanged)
{
    if (checked)
        *checked = r ? r->checked : 0;
    if (unchanged)
        *unchanged = r ? r->unchanged : 0;
    *tiles = r ? r->tiles : 0;
    *reused = r ? r->reused : 0;
    if (frames)
        *frames = r ? r->frames : 0;
    if (whole)
        *whole = r ? r->whole : 0;
}
