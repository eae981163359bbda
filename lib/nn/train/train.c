// SPDX-License-Identifier: BSD-2-Clause
// Forward-training and backward passes. Activations are NCHW batches, one
// buffer per layer output (no fusion: backward needs every input), each in
// one of two layouts: plain nchw or oneDNN's blocked nChw16c / nChw8c
// (blk = 16 with AVX-512, 8 with AVX2: cpu_block()), chosen once
// so that every convolution gets a layout its fast kernels take while C code
// (element-wise layers, BN, PReLU) runs on the same buffers: element-wise
// layers see flat arrays, per-channel layers index through elem_off().
// Convolutions run as oneDNN forward_training / backward_data /
// backward_weights primitives hinted by the forward one; everything else is
// plain C over OpenMP loops, checked against finite differences in
// tests/nn/test_train.c.
// With CRISP_TRAIN_BF16 (CPUs with AVX-512 BF16 or AMX) each convolution
// runs its three primitives on bf16 copies of its input, output and output
// gradient (in the layouts oneDNN picks), made by reorders around it; the
// master weights, their gradients (f32 from oneDNN), biases, every other
// layer, the losses and AdamW stay f32 (mixed precision). Convolutions for
// which oneDNN offers only reference bf16 code stay f32.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "../dnnl_guard.h"
#include "../internal.h"
#include "crisp/log.h"
#include "crisp/train.h"
#include "crisp/util.h"

/* Master weights stay plain oihw in the model; each convolution keeps its
 * own copies in the layouts its primitives chose, refreshed by reorders. */
struct conv_prims {
    dnnl_primitive_t fwd, bwd_data, bwd_w;
    dnnl_primitive_t r_wf, r_wd, r_dw; /* oihw -> fwd weights, oihw -> bwd-data weights, diff -> oihw */
    dnnl_memory_t src, w, wd, b, dst, diff_dst, diff_src, diff_w, diff_b;
    dnnl_memory_t w_plain, dw_plain;
    void *buf[3];
    /* oneDNN 2.6 has fast kernels for nchw->nchw, nchw->nChw16c(fwd) and
     * nChw16c->nChw16c; where the neighbours' layouts disagree the conv runs
     * plain on private copies */
    int src_copy, dst_copy;
    float *src_buf, *dst_buf, *ddst_buf;
    /* bf16 mode: bf16 twins of src, dst, diff_dst, diff_src and their reorders */
    int bf16;
    dnnl_memory_t src16, dst16, ddst16, dsrc16;
    dnnl_primitive_t r_src, r_dst, r_ddst, r_dsrc;
};

struct tlayer {
    int blk;            /* 1: nchw, 8 or 16: nChw8c / nChw16c */
    float *plain;       /* plain copy handed out by crisp_train_net_activation */
    int c, h, w;        /* output shape per sample */
    size_t n;           /* elements of the batch output */
    float *y, *dy;
    float *grad[CRISP_ROLE_COUNT];
    float *bn_mean, *bn_istd; /* per channel, saved by the forward pass */
    struct conv_prims *conv;
};

struct crisp_train_net {
    struct crisp_model *m;
    int batch, w, h, c0, training, first_param;
    unsigned flags;
    int n_bf16;
    size_t n_in;
    float *x, *out, *scratch;
    struct tlayer *L;
    dnnl_engine_t eng;
    dnnl_stream_t stream;
};

int crisp_role_trainable(int role) { return role != CRISP_ROLE_MEAN && role != CRISP_ROLE_VAR; }

/* input activation of layer i (and its gradient buffer, NULL for the model input) */
static float *in_y(struct crisp_train_net *n, int i) { return i ? n->L[i - 1].y : n->x; }
static float *in_dy(struct crisp_train_net *n, int i) { return i ? n->L[i - 1].dy : NULL; }
static float *val_y(struct crisp_train_net *n, int v) { return v < 0 ? n->x : n->L[v].y; }
static float *val_dy(struct crisp_train_net *n, int v) { return v < 0 ? NULL : n->L[v].dy; }

static void md4(dnnl_memory_desc_t *md, int a, int b, int c, int d, dnnl_format_tag_t tag)
{
    dnnl_dims_t dims = {a, b, c, d};
    dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag);
}

/* The channel block of oneDNN's fast blocked layout on this CPU: 16
 * (nChw16c) with AVX-512, 8 (nChw8c) with AVX2, else 1 (nchw only).
 * oneDNN 2.6 has no jit convolutions for nChw16c on AVX2: they fall back to
 * its reference code, a thousand times slower. */
static int cpu_block(void)
{
    static int blk = 0;
    if (!blk) {
        dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
        blk = (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core ? 16
              : (isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2            ? 8
                                                                            : 1;
    }
    return blk;
}

static dnnl_format_tag_t blk_tag(int blk)
{
    return blk == 16 ? dnnl_nChw16c : blk == 8 ? dnnl_nChw8c : dnnl_nchw;
}

/* nChw{blk}c <-> nchw for one batch tensor */
static void relayout(const float *src, float *dst, int batch, int C, size_t hw, int blk,
                     int to_plain, int add)
{
    const int nb = C / blk;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < batch; b++)
        for (int cb = 0; cb < nb; cb++)
            for (size_t p = 0; p < hw; p++)
                for (int k = 0; k < blk; k++) {
                    size_t bo = (((size_t)b * nb + cb) * hw + p) * blk + k;
                    size_t po = ((size_t)b * C + cb * blk + k) * hw + p;
                    if (to_plain)
                        dst[po] = src[bo];
                    else if (add)
                        dst[bo] += src[po];
                    else
                        dst[bo] = src[po];
                }
}

static int make_mem(struct crisp_train_net *n, struct conv_prims *p, int slot,
                    const dnnl_memory_desc_t *md, dnnl_memory_t *mem)
{
    p->buf[slot] = crisp_aalloc(dnnl_memory_desc_get_size(md));
    if (!p->buf[slot])
        return -ENOMEM;
    return dnnl_memory_create(mem, md, n->eng, p->buf[slot]) ? CRISP_EDNNL : 0;
}

static int make_reorder(struct crisp_train_net *n, dnnl_memory_t from, dnnl_memory_t to,
                        dnnl_primitive_t *out)
{
    const dnnl_memory_desc_t *a, *b;
    dnnl_memory_get_memory_desc(from, &a);
    dnnl_memory_get_memory_desc(to, &b);
    dnnl_primitive_desc_t pd;
    if (dnnl_reorder_primitive_desc_create(&pd, a, n->eng, b, n->eng, NULL))
        return CRISP_EDNNL;
    dnnl_status_t st = dnnl_primitive_create(out, pd);
    dnnl_primitive_desc_destroy(pd);
    return st ? CRISP_EDNNL : 0;
}

/* whether oneDNN fell back to its (slow) reference implementation */
static int uses_ref(const_dnnl_primitive_desc_t pd)
{
    const char *impl = NULL;
    if (!pd)
        return 0;
    return dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success ||
           !impl || strstr(impl, "ref") != NULL;
}

/* forward_training, backward_data (when asked) and backward_weights
 * primitive descriptors for one convolution. f32: on the given f32 layouts;
 * bf16: data and weights bf16 in layouts oneDNN picks, weight gradients f32,
 * refused (CRISP_EDNNL) where oneDNN has only reference code for them. */
static int conv_pds(struct crisp_train_net *n, const struct crisp_layer *l,
                    const dnnl_memory_desc_t *src32, const dnnl_memory_desc_t *dst32,
                    const dnnl_memory_desc_t *b, dnnl_data_type_t dt, int need_bwd_data,
                    dnnl_primitive_desc_t *fpd, dnnl_primitive_desc_t *dpd,
                    dnnl_primitive_desc_t *wpd)
{
    dnnl_memory_desc_t src = *src32, dst = *dst32, wany, dwany;
    if (dt != dnnl_f32) {
        dnnl_memory_desc_init_by_tag(&src, 4, src32->dims, dt, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&dst, 4, dst32->dims, dt, dnnl_format_tag_any);
    }
    dnnl_dims_t wd4 = {l->cout, l->cin, l->k, l->k};
    dnnl_memory_desc_init_by_tag(&wany, 4, wd4, dt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&dwany, 4, wd4, dnnl_f32, dnnl_format_tag_any);
    int pad = (l->k - 1) / 2;
    dnnl_dims_t st = {l->stride, l->stride}, pd = {pad, pad};
    dnnl_convolution_desc_t fd, dd, wd;
    *fpd = *dpd = *wpd = NULL;
    if (dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                           &src, &wany, b, &dst, st, pd, pd) ||
        dnnl_primitive_desc_create(fpd, &fd, NULL, n->eng, NULL))
        goto fail;
    if (need_bwd_data &&
        (dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &src, &wany, &dst,
                                                  st, pd, pd) ||
         dnnl_primitive_desc_create(dpd, &dd, NULL, n->eng, *fpd)))
        goto fail;
    if (dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &src, &dwany, b,
                                                    &dst, st, pd, pd) ||
        dnnl_primitive_desc_create(wpd, &wd, NULL, n->eng, *fpd))
        goto fail;
    if (dt != dnnl_f32 && (uses_ref(*fpd) || uses_ref(*dpd) || uses_ref(*wpd)))
        goto fail;
    return 0;
fail:
    dnnl_primitive_desc_destroy(*fpd);
    dnnl_primitive_desc_destroy(*dpd);
    dnnl_primitive_desc_destroy(*wpd);
    *fpd = *dpd = *wpd = NULL;
    return CRISP_EDNNL;
}

static int build_conv(struct crisp_train_net *n, int i, int need_bwd_data, char *err,
                      size_t errlen)
{
    const struct crisp_layer *l = &n->m->layers[i];
    struct tlayer *t = &n->L[i];
    int ih = i ? n->L[i - 1].h : n->h, iw = i ? n->L[i - 1].w : n->w;
    int iblk = i ? n->L[i - 1].blk : 1;
    struct conv_prims *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    t->conv = p;
    const int cl = iblk > 1 && t->blk == iblk ? iblk : 1;
    const size_t in_n = (size_t)n->batch * l->cin * ih * iw;
    p->src_copy = iblk != cl;
    p->dst_copy = t->blk != cl;
    if ((p->src_copy && !(p->src_buf = crisp_aalloc(in_n * sizeof(float)))) ||
        (p->dst_copy && (!(p->dst_buf = crisp_aalloc(t->n * sizeof(float))) ||
                         !(p->ddst_buf = crisp_aalloc(t->n * sizeof(float))))))
        return -ENOMEM;
    dnnl_memory_desc_t src, wt, b, dst;
    md4(&src, n->batch, l->cin, ih, iw, blk_tag(cl));
    md4(&wt, l->cout, l->cin, l->k, l->k, dnnl_oihw);
    dnnl_dims_t bd = {l->cout};
    dnnl_memory_desc_init_by_tag(&b, 1, bd, dnnl_f32, dnnl_a);
    md4(&dst, n->batch, l->cout, t->h, t->w, blk_tag(cl));
    dnnl_primitive_desc_t fpd = NULL, dpd = NULL, wpd = NULL;
    int ret = CRISP_EDNNL;
    p->bf16 = (n->flags & CRISP_TRAIN_BF16) &&
              conv_pds(n, l, &src, &dst, &b, dnnl_bf16, need_bwd_data, &fpd, &dpd, &wpd) == 0;
    if (!p->bf16 && conv_pds(n, l, &src, &dst, &b, dnnl_f32, need_bwd_data, &fpd, &dpd, &wpd))
        goto fail;
    if (dnnl_primitive_create(&p->fwd, fpd) ||
        (dpd && dnnl_primitive_create(&p->bwd_data, dpd)) || dnnl_primitive_create(&p->bwd_w, wpd))
        goto fail;
    const dnnl_memory_desc_t *wf = dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dwm = dnnl_primitive_desc_query_md(wpd, dnnl_query_diff_weights_md, 0);
    if (dnnl_memory_create(&p->src, &src, n->eng, p->src_copy ? p->src_buf : in_y(n, i)) ||
        dnnl_memory_create(&p->w_plain, &wt, n->eng, l->t[CRISP_ROLE_WEIGHT]) ||
        dnnl_memory_create(&p->dw_plain, &wt, n->eng, t->grad[CRISP_ROLE_WEIGHT]) ||
        dnnl_memory_create(&p->b, &b, n->eng, l->t[CRISP_ROLE_BIAS]) ||
        dnnl_memory_create(&p->dst, &dst, n->eng, p->dst_copy ? p->dst_buf : t->y) ||
        dnnl_memory_create(&p->diff_dst, &dst, n->eng, p->dst_copy ? p->ddst_buf : t->dy) ||
        dnnl_memory_create(&p->diff_src, &src, n->eng, n->scratch) ||
        dnnl_memory_create(&p->diff_b, &b, n->eng, t->grad[CRISP_ROLE_BIAS]))
        goto fail;
    if (make_mem(n, p, 0, wf, &p->w) || make_reorder(n, p->w_plain, p->w, &p->r_wf))
        goto fail;
    if (dpd) {
        const dnnl_memory_desc_t *wdm = dnnl_primitive_desc_query_md(dpd, dnnl_query_weights_md, 0);
        if (make_mem(n, p, 1, wdm, &p->wd) || make_reorder(n, p->w_plain, p->wd, &p->r_wd))
            goto fail;
    }
    if (make_mem(n, p, 2, dwm, &p->diff_w) || make_reorder(n, p->diff_w, p->dw_plain, &p->r_dw))
        goto fail;
    if (p->bf16) {
        /* the bf16 twins, in the layouts the primitives chose; fwd and
         * bwd-weights share src, bwd-data and bwd-weights share diff_dst */
        const dnnl_memory_desc_t *s16 = dnnl_primitive_desc_query_md(fpd, dnnl_query_src_md, 0);
        const dnnl_memory_desc_t *d16 = dnnl_primitive_desc_query_md(fpd, dnnl_query_dst_md, 0);
        const dnnl_memory_desc_t *dd16 =
            dnnl_primitive_desc_query_md(wpd, dnnl_query_diff_dst_md, 0);
        if (!dnnl_memory_desc_equal(s16, dnnl_primitive_desc_query_md(wpd, dnnl_query_src_md, 0)) ||
            (dpd && !dnnl_memory_desc_equal(
                        dd16, dnnl_primitive_desc_query_md(dpd, dnnl_query_diff_dst_md, 0))))
            goto fail;
        if (dnnl_memory_create(&p->src16, s16, n->eng, DNNL_MEMORY_ALLOCATE) ||
            dnnl_memory_create(&p->dst16, d16, n->eng, DNNL_MEMORY_ALLOCATE) ||
            dnnl_memory_create(&p->ddst16, dd16, n->eng, DNNL_MEMORY_ALLOCATE) ||
            make_reorder(n, p->src, p->src16, &p->r_src) ||
            make_reorder(n, p->dst16, p->dst, &p->r_dst) ||
            make_reorder(n, p->diff_dst, p->ddst16, &p->r_ddst))
            goto fail;
        if (dpd &&
            (dnnl_memory_create(&p->dsrc16,
                                dnnl_primitive_desc_query_md(dpd, dnnl_query_diff_src_md, 0),
                                n->eng, DNNL_MEMORY_ALLOCATE) ||
             make_reorder(n, p->dsrc16, p->diff_src, &p->r_dsrc)))
            goto fail;
        n->n_bf16++;
    }
    ret = 0;
fail:
    if (ret)
        crisp_seterr(err, errlen, "layer %d (conv %dx%d %d->%d): oneDNN has no training primitive",
                     i, l->k, l->k, l->cin, l->cout);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(dpd);
    dnnl_primitive_desc_destroy(wpd);
    return ret;
}

static void free_conv(struct conv_prims *p)
{
    if (!p)
        return;
    dnnl_primitive_t prims[] = {p->fwd,  p->bwd_data, p->bwd_w, p->r_wf,   p->r_wd,
                                p->r_dw, p->r_src,    p->r_dst, p->r_ddst, p->r_dsrc};
    for (size_t k = 0; k < sizeof(prims) / sizeof(prims[0]); k++)
        dnnl_primitive_destroy(prims[k]);
    dnnl_memory_t mems[] = {p->src, p->w, p->wd, p->b, p->dst, p->diff_dst, p->diff_src,
                            p->diff_w, p->diff_b, p->w_plain, p->dw_plain,
                            p->src16, p->dst16, p->ddst16, p->dsrc16};
    for (size_t k = 0; k < sizeof(mems) / sizeof(mems[0]); k++)
        dnnl_memory_destroy(mems[k]);
    for (int k = 0; k < 3; k++)
        crisp_afree(p->buf[k]);
    crisp_afree(p->src_buf);
    crisp_afree(p->dst_buf);
    crisp_afree(p->ddst_buf);
    free(p);
}

void crisp_train_net_destroy(struct crisp_train_net **pn)
{
    if (!pn || !*pn)
        return;
    struct crisp_train_net *n = *pn;
    if (n->L)
        for (int i = 0; i < n->m->n_layers; i++) {
            struct tlayer *t = &n->L[i];
            free_conv(t->conv);
            crisp_afree(t->y);
            crisp_afree(t->dy);
            crisp_afree(t->plain);
            for (int r = 0; r < CRISP_ROLE_COUNT; r++)
                crisp_afree(t->grad[r]);
            free(t->bn_mean);
            free(t->bn_istd);
        }
    free(n->L);
    crisp_afree(n->x);
    crisp_afree(n->out);
    crisp_afree(n->scratch);
    if (n->stream)
        dnnl_stream_destroy(n->stream);
    if (n->eng)
        dnnl_engine_destroy(n->eng);
    free(n);
    *pn = NULL;
}

static int uf_find(int *par, int v)
{
    while (par[v] != v)
        v = par[v] = par[par[v]];
    return v;
}

/* Tensors joined by element-wise layers (and add's skip) share a layout; a
 * class is nChw16c unless a member has channels not divisible by 16, is the
 * model input or output, or meets s2d/d2s/concat (which want nchw).
 * CRISP_TRAIN_PLAIN=1 forces nchw everywhere (tests compare both). */
static int choose_layouts(struct crisp_train_net *n)
{
    const struct crisp_model *m = n->m;
    const int nl = m->n_layers;
    int *par = malloc(sizeof(int) * ((size_t)nl + 1));
    char *plain = calloc((size_t)nl + 1, 1), *root_plain = calloc((size_t)nl + 1, 1);
    if (!par || !plain || !root_plain) {
        free(par);
        free(plain);
        free(root_plain);
        return -ENOMEM;
    }
    for (int v = 0; v <= nl; v++)
        par[v] = v;
    plain[0] = plain[nl] = 1; /* value 0 is the model input, value i+1 layer i's output */
    const char *force = getenv("CRISP_TRAIN_PLAIN");
    for (int i = 0; i < nl; i++) {
        const struct crisp_layer *l = &m->layers[i];
        int v = i + 1;
        switch (l->type) {
        case CRISP_LAYER_ADD:
            par[uf_find(par, l->skip + 1)] = uf_find(par, v);
            /* fall through */
        case CRISP_LAYER_RELU:
        case CRISP_LAYER_LRELU:
        case CRISP_LAYER_PRELU:
        case CRISP_LAYER_BN:
        case CRISP_LAYER_CLAMP: par[uf_find(par, i)] = uf_find(par, v); break;
        case CRISP_LAYER_CONCAT: plain[l->skip + 1] = 1; /* fall through */
        case CRISP_LAYER_S2D:
        case CRISP_LAYER_D2S:
            plain[v] = 1;
            plain[i] = 1;
            break;
        case CRISP_LAYER_CONV: break;
        }
        if (cpu_block() == 1 || n->L[i].c % cpu_block() || (force && *force == '1'))
            plain[v] = 1;
    }
    for (int v = 0; v <= nl; v++)
        if (plain[v])
            root_plain[uf_find(par, v)] = 1;
    for (int i = 0; i < nl; i++)
        n->L[i].blk = root_plain[uf_find(par, i + 1)] ? 1 : cpu_block();
    free(par);
    free(plain);
    free(root_plain);
    return 0;
}

int crisp_train_net_create(struct crisp_train_net **out, struct crisp_model *m, int batch, int w,
                           int h, char *err, size_t errlen)
{
    return crisp_train_net_create_flags(out, m, batch, w, h, 0, err, errlen);
}

int crisp_train_bf16_available(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
}

int crisp_train_net_bf16_convs(const struct crisp_train_net *n) { return n->n_bf16; }

int crisp_train_net_create_flags(struct crisp_train_net **out, struct crisp_model *m, int batch,
                                 int w, int h, unsigned flags, char *err, size_t errlen)
{
    *out = NULL;
    if (batch < 1 || batch > 4096 || w < 1 || h < 1 || w > 8192 || h > 8192) {
        crisp_seterr(err, errlen, "batch %d of %dx%d out of range", batch, w, h);
        return CRISP_EUSAGE;
    }
    struct crisp_train_net *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    int ret = -ENOMEM, nl = m->n_layers;
    int *shapes = malloc(sizeof(int) * 3 * (size_t)nl);
    n->m = m;
    n->flags = flags & CRISP_TRAIN_BF16 && crisp_train_bf16_available() ? flags : flags & ~CRISP_TRAIN_BF16;
    n->batch = batch;
    n->w = w;
    n->h = h;
    n->c0 = (int)m->color;
    n->training = 1;
    n->n_in = (size_t)batch * n->c0 * w * h;
    n->L = calloc((size_t)nl, sizeof(*n->L));
    if (!shapes || !n->L)
        goto fail;
    if ((ret = crisp_model_shapes(m, w, h, shapes, err, errlen)) < 0)
        goto fail;
    ret = -ENOMEM;
    size_t max_n = n->n_in;
    n->x = crisp_aalloc(n->n_in * sizeof(float));
    n->out = crisp_aalloc(n->n_in * sizeof(float));
    if (!n->x || !n->out)
        goto fail;
    for (int i = 0; i < nl; i++) {
        struct tlayer *t = &n->L[i];
        const struct crisp_layer *l = &m->layers[i];
        t->c = shapes[3 * i];
        t->h = shapes[3 * i + 1];
        t->w = shapes[3 * i + 2];
        t->n = (size_t)batch * t->c * t->h * t->w;
        max_n = t->n > max_n ? t->n : max_n;
        if (!(t->y = crisp_aalloc(t->n * sizeof(float))) ||
            !(t->dy = crisp_aalloc(t->n * sizeof(float))))
            goto fail;
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t sz = crisp_layer_tensor_size(l, l->cin, r);
            if (sz && crisp_role_trainable(r) && !(t->grad[r] = crisp_aalloc(sz * sizeof(float))))
                goto fail;
        }
        if (l->type == CRISP_LAYER_BN &&
            (!(t->bn_mean = calloc((size_t)t->c, sizeof(float))) ||
             !(t->bn_istd = calloc((size_t)t->c, sizeof(float)))))
            goto fail;
    }
    if (!(n->scratch = crisp_aalloc(max_n * sizeof(float))))
        goto fail;
    if ((ret = choose_layouts(n)) < 0)
        goto fail;
    ret = -ENOMEM;
    if (dnnl_engine_create(&n->eng, dnnl_cpu, 0) ||
        dnnl_stream_create(&n->stream, n->eng, dnnl_stream_default_flags)) {
        crisp_seterr(err, errlen, "cannot create the oneDNN CPU engine");
        ret = CRISP_EDNNL;
        goto fail;
    }
    /* a layer's input gradient is needed only if some earlier layer learns */
    int first_param = nl;
    for (int i = 0; i < nl && first_param == nl; i++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++)
            if (n->L[i].grad[r])
                first_param = i;
    n->first_param = first_param;
    for (int i = 0; i < nl; i++)
        if (m->layers[i].type == CRISP_LAYER_CONV &&
            (ret = build_conv(n, i, i > first_param, err, errlen)) < 0)
            goto fail;
    free(shapes);
    *out = n;
    return 0;
fail:
    free(shapes);
    crisp_train_net_destroy(&n);
    return ret;
}

void crisp_train_net_set_training(struct crisp_train_net *n, int training) { n->training = training; }
float *crisp_train_net_input(struct crisp_train_net *n) { return n->x; }
const float *crisp_train_net_output(const struct crisp_train_net *n) { return n->out; }

const float *crisp_train_net_activation(struct crisp_train_net *n, int layer, int *c, int *h,
                                        int *w)
{
    if (layer < 0 || layer >= n->m->n_layers)
        return NULL;
    struct tlayer *t = &n->L[layer];
    if (c)
        *c = t->c;
    if (h)
        *h = t->h;
    if (w)
        *w = t->w;
    if (t->blk == 1)
        return t->y;
    if (!t->plain && !(t->plain = crisp_aalloc(t->n * sizeof(float))))
        return NULL;
    relayout(t->y, t->plain, n->batch, t->c, (size_t)t->h * t->w, t->blk, 1, 0);
    return t->plain;
}

float *crisp_train_net_grad(struct crisp_train_net *n, int layer, int role)
{
    if (layer < 0 || layer >= n->m->n_layers || role < 0 || role >= CRISP_ROLE_COUNT)
        return NULL;
    return n->L[layer].grad[role];
}

static int exec(struct crisp_train_net *n, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *a)
{
    if (dnnl_primitive_execute(p, n->stream, nargs, a) != dnnl_success ||
        dnnl_stream_wait(n->stream) != dnnl_success)
        return CRISP_EDNNL;
    return 0;
}

/* ---- per-layer forward ---- */

/* Per-channel layers walk channel blocks: blk lanes share a spatial position
 * (blk = 1 for nchw, 16 for nChw16c); channel c = cb * blk + lane. */
static inline size_t blk_off(int b, int cb, size_t p, int nb, size_t hw, int blk)
{
    return (((size_t)b * nb + cb) * hw + p) * blk;
}

static void bn_forward(struct crisp_train_net *n, const struct crisp_layer *l, struct tlayer *t,
                       const float *x)
{
    const int C = t->c, blk = t->blk, nb = C / blk;
    const size_t hw = (size_t)t->h * t->w, M = hw * (size_t)n->batch;
    float *g = l->t[CRISP_ROLE_GAMMA], *be = l->t[CRISP_ROLE_BETA];
    float *rm = l->t[CRISP_ROLE_MEAN], *rv = l->t[CRISP_ROLE_VAR];
#pragma omp parallel for schedule(static)
    for (int cb = 0; cb < nb; cb++) {
        double s[16] = {0}, s2[16] = {0};
        if (n->training) {
            for (int b = 0; b < n->batch; b++)
                for (size_t p = 0; p < hw; p++) {
                    const float *v = x + blk_off(b, cb, p, nb, hw, blk);
                    for (int k = 0; k < blk; k++) {
                        s[k] += v[k];
                        s2[k] += (double)v[k] * v[k];
                    }
                }
        }
        for (int k = 0; k < blk; k++) {
            int c = cb * blk + k;
            double mean, var;
            if (n->training) {
                mean = s[k] / (double)M;
                var = s2[k] / (double)M - mean * mean;
                if (var < 0)
                    var = 0;
                /* running statistics as PyTorch keeps them: momentum 0.1, unbiased variance */
                rm[c] = (float)(0.9 * rm[c] + 0.1 * mean);
                rv[c] = (float)(0.9 * rv[c] +
                                0.1 * (M > 1 ? var * (double)M / (double)(M - 1) : var));
            } else {
                mean = rm[c];
                var = rv[c];
            }
            t->bn_mean[c] = (float)mean;
            t->bn_istd[c] = (float)(1.0 / sqrt(var + l->eps));
        }
        float sc[16], sh[16];
        for (int k = 0; k < blk; k++) {
            int c = cb * blk + k;
            sc[k] = t->bn_istd[c] * g[c];
            sh[k] = be[c] - t->bn_mean[c] * sc[k];
        }
        for (int b = 0; b < n->batch; b++)
            for (size_t p = 0; p < hw; p++) {
                size_t o = blk_off(b, cb, p, nb, hw, blk);
                for (int k = 0; k < blk; k++)
                    t->y[o + k] = x[o + k] * sc[k] + sh[k];
            }
    }
}

/* pixel (un)shuffle of a whole batch; `add` accumulates into dst */
static void shuffle(const float *src, float *dst, int batch, int c_small, int h_small, int w_small,
                    int f, int to_depth, int add)
{
    /* big tensor: c_small x (h_small f) x (w_small f); small: c_small f f x h_small x w_small */
    const size_t per = (size_t)c_small * f * f * h_small * w_small;
    const int H = h_small * f, W = w_small * f;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < c_small; c++)
            for (int dy = 0; dy < f; dy++)
                for (int dx = 0; dx < f; dx++)
                    for (int y = 0; y < h_small; y++)
                        for (int x = 0; x < w_small; x++) {
                            size_t big = (size_t)b * per + ((size_t)c * H + (size_t)y * f + dy) * W +
                                         (size_t)x * f + dx;
                            size_t small = (size_t)b * per +
                                           (((size_t)(c * f + dy) * f + dx) * h_small + y) * w_small + x;
                            size_t si = to_depth ? big : small, di = to_depth ? small : big;
                            dst[di] = add ? dst[di] + src[si] : src[si];
                        }
}

int crisp_train_net_forward(struct crisp_train_net *n)
{
    const struct crisp_model *m = n->m;
    for (int i = 0; i < m->n_layers; i++) {
        const struct crisp_layer *l = &m->layers[i];
        struct tlayer *t = &n->L[i];
        const float *x = in_y(n, i);
        const size_t N = t->n;
        float *y = t->y;
        switch (l->type) {
        case CRISP_LAYER_CONV: {
            dnnl_exec_arg_t r[] = {{DNNL_ARG_FROM, t->conv->w_plain}, {DNNL_ARG_TO, t->conv->w}};
            if (exec(n, t->conv->r_wf, 2, r))
                return CRISP_EDNNL;
            if (t->conv->src_copy)
                relayout(x, t->conv->src_buf, n->batch, l->cin, (size_t)n->L[i - 1].h * n->L[i - 1].w,
                         n->L[i - 1].blk, 1, 0);
            struct conv_prims *p = t->conv;
            if (p->bf16) {
                dnnl_exec_arg_t rs[] = {{DNNL_ARG_FROM, p->src}, {DNNL_ARG_TO, p->src16}};
                dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, p->src16},
                                       {DNNL_ARG_WEIGHTS, p->w},
                                       {DNNL_ARG_BIAS, p->b},
                                       {DNNL_ARG_DST, p->dst16}};
                dnnl_exec_arg_t rd[] = {{DNNL_ARG_FROM, p->dst16}, {DNNL_ARG_TO, p->dst}};
                if (exec(n, p->r_src, 2, rs) || exec(n, p->fwd, 4, a) || exec(n, p->r_dst, 2, rd))
                    return CRISP_EDNNL;
            } else {
                dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, p->src},
                                       {DNNL_ARG_WEIGHTS, p->w},
                                       {DNNL_ARG_BIAS, p->b},
                                       {DNNL_ARG_DST, p->dst}};
                if (exec(n, p->fwd, 4, a))
                    return CRISP_EDNNL;
            }
            if (t->conv->dst_copy)
                relayout(t->conv->dst_buf, t->y, n->batch, t->c, (size_t)t->h * t->w, t->blk, 0, 0);
            break;
        }
        case CRISP_LAYER_RELU:
#pragma omp parallel for simd schedule(static)
            for (size_t j = 0; j < N; j++)
                y[j] = x[j] > 0.0f ? x[j] : 0.0f;
            break;
        case CRISP_LAYER_LRELU: {
            const float a = l->alpha;
#pragma omp parallel for simd schedule(static)
            for (size_t j = 0; j < N; j++)
                y[j] = x[j] > 0.0f ? x[j] : a * x[j];
            break;
        }
        case CRISP_LAYER_CLAMP: {
            const float lo = l->lo, hi = l->hi;
#pragma omp parallel for simd schedule(static)
            for (size_t j = 0; j < N; j++)
                y[j] = fminf(fmaxf(x[j], lo), hi);
            break;
        }
        case CRISP_LAYER_PRELU: {
            const size_t hw = (size_t)t->h * t->w;
            const float *s = l->t[CRISP_ROLE_SLOPE];
            const int blk = t->blk, nb = t->c / blk;
#pragma omp parallel for collapse(2) schedule(static)
            for (int b = 0; b < n->batch; b++)
                for (int cb = 0; cb < nb; cb++)
                    for (size_t p = 0; p < hw; p++) {
                        size_t o = blk_off(b, cb, p, nb, hw, blk);
                        for (int k = 0; k < blk; k++) {
                            float v = x[o + k], a = s[cb * blk + k];
                            y[o + k] = v > 0.0f ? v : a * v;
                        }
                    }
            break;
        }
        case CRISP_LAYER_BN: bn_forward(n, l, t, x); break;
        case CRISP_LAYER_S2D:
            shuffle(x, y, n->batch, l->cin, t->h, t->w, l->factor, 1, 0);
            break;
        case CRISP_LAYER_D2S:
            shuffle(x, y, n->batch, t->c, n->L[i - 1].h, n->L[i - 1].w, l->factor, 0, 0);
            break;
        case CRISP_LAYER_ADD: {
            const float *s = val_y(n, l->skip);
#pragma omp parallel for simd schedule(static)
            for (size_t j = 0; j < N; j++)
                y[j] = x[j] + s[j];
            break;
        }
        case CRISP_LAYER_CONCAT: {
            const float *s = val_y(n, l->skip);
            const size_t hw = (size_t)t->h * t->w, c1 = (size_t)l->cin, c2 = (size_t)t->c - c1;
            for (int b = 0; b < n->batch; b++) {
                memcpy(y + (size_t)b * t->c * hw, x + (size_t)b * c1 * hw, c1 * hw * sizeof(float));
                memcpy(y + ((size_t)b * t->c + c1) * hw, s + (size_t)b * c2 * hw,
                       c2 * hw * sizeof(float));
            }
            break;
        }
        }
    }
    const float *last = n->L[m->n_layers - 1].y;
    if (m->output == CRISP_OUTPUT_RESIDUAL) {
#pragma omp parallel for simd schedule(static)
        for (size_t j = 0; j < n->n_in; j++)
            n->out[j] = last[j] + n->x[j];
    } else {
        memcpy(n->out, last, n->n_in * sizeof(float));
    }
    return 0;
}

/* ---- backward ---- */

static void add_into(float *dst, const float *src, size_t N)
{
#pragma omp parallel for simd schedule(static)
    for (size_t j = 0; j < N; j++)
        dst[j] += src[j];
}

static void bn_backward(struct crisp_train_net *n, const struct crisp_layer *l, struct tlayer *t,
                        const float *x, float *dx)
{
    const int C = t->c, blk = t->blk, nb = C / blk;
    const size_t hw = (size_t)t->h * t->w, M = hw * (size_t)n->batch;
    const float *g = l->t[CRISP_ROLE_GAMMA];
    float *dg = t->grad[CRISP_ROLE_GAMMA], *db = t->grad[CRISP_ROLE_BETA];
#pragma omp parallel for schedule(static)
    for (int cb = 0; cb < nb; cb++) {
        double sdy[16] = {0}, sdyx[16] = {0}, mean[16], istd[16];
        for (int k = 0; k < blk; k++) {
            mean[k] = t->bn_mean[cb * blk + k];
            istd[k] = t->bn_istd[cb * blk + k];
        }
        for (int b = 0; b < n->batch; b++)
            for (size_t p = 0; p < hw; p++) {
                size_t o = blk_off(b, cb, p, nb, hw, blk);
                for (int k = 0; k < blk; k++) {
                    sdy[k] += t->dy[o + k];
                    sdyx[k] += t->dy[o + k] * (x[o + k] - mean[k]) * istd[k];
                }
            }
        for (int k = 0; k < blk; k++) {
            dg[cb * blk + k] = (float)sdyx[k];
            db[cb * blk + k] = (float)sdy[k];
        }
        if (!dx)
            continue;
        for (int b = 0; b < n->batch; b++)
            for (size_t p = 0; p < hw; p++) {
                size_t o = blk_off(b, cb, p, nb, hw, blk);
                for (int k = 0; k < blk; k++) {
                    double gi = g[cb * blk + k] * istd[k], v;
                    if (n->training) {
                        double xh = (x[o + k] - mean[k]) * istd[k];
                        v = gi / (double)M * ((double)M * t->dy[o + k] - sdy[k] - xh * sdyx[k]);
                    } else {
                        v = gi * t->dy[o + k]; /* statistics are constants in eval mode */
                    }
                    dx[o + k] += (float)v;
                }
            }
    }
}

int crisp_train_net_backward(struct crisp_train_net *n, const float *dout,
                             const struct crisp_train_extra_grad *extra, int n_extra)
{
    const struct crisp_model *m = n->m;
    const int nl = m->n_layers;
    for (int i = 0; i < nl - 1; i++)
        memset(n->L[i].dy, 0, n->L[i].n * sizeof(float));
    memcpy(n->L[nl - 1].dy, dout, n->n_in * sizeof(float));
    for (int e = 0; e < n_extra; e++) {
        if (extra[e].layer < 0 || extra[e].layer >= nl)
            return CRISP_EUSAGE;
        struct tlayer *t = &n->L[extra[e].layer];
        if (t->blk == 1)
            add_into(t->dy, extra[e].grad, t->n);
        else
            relayout(extra[e].grad, t->dy, n->batch, t->c, (size_t)t->h * t->w, t->blk, 0, 1);
    }
    for (int i = nl - 1; i >= 0; i--) {
        const struct crisp_layer *l = &m->layers[i];
        struct tlayer *t = &n->L[i];
        const float *x = in_y(n, i), *dy = t->dy;
        float *dx = i > n->first_param ? in_dy(n, i) : NULL;
        const size_t N = t->n;
        switch (l->type) {
        case CRISP_LAYER_CONV: {
            struct conv_prims *p = t->conv;
            if (p->dst_copy)
                relayout(t->dy, p->ddst_buf, n->batch, t->c, (size_t)t->h * t->w, t->blk, 1, 0);
            dnnl_memory_t xs = p->bf16 ? p->src16 : p->src, dd = p->bf16 ? p->ddst16 : p->diff_dst;
            dnnl_exec_arg_t rg[] = {{DNNL_ARG_FROM, p->diff_dst}, {DNNL_ARG_TO, p->ddst16}};
            if (p->bf16 && exec(n, p->r_ddst, 2, rg))
                return CRISP_EDNNL;
            dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, xs},
                                    {DNNL_ARG_DIFF_DST, dd},
                                    {DNNL_ARG_DIFF_WEIGHTS, p->diff_w},
                                    {DNNL_ARG_DIFF_BIAS, p->diff_b}};
            dnnl_exec_arg_t ra[] = {{DNNL_ARG_FROM, p->diff_w}, {DNNL_ARG_TO, p->dw_plain}};
            if (exec(n, p->bwd_w, 4, wa) || exec(n, p->r_dw, 2, ra))
                return CRISP_EDNNL;
            if (dx) {
                dnnl_exec_arg_t rd[] = {{DNNL_ARG_FROM, p->w_plain}, {DNNL_ARG_TO, p->wd}};
                dnnl_exec_arg_t da[] = {{DNNL_ARG_DIFF_DST, dd},
                                        {DNNL_ARG_WEIGHTS, p->wd},
                                        {DNNL_ARG_DIFF_SRC, p->bf16 ? p->dsrc16 : p->diff_src}};
                dnnl_exec_arg_t rs[] = {{DNNL_ARG_FROM, p->dsrc16}, {DNNL_ARG_TO, p->diff_src}};
                if (exec(n, p->r_wd, 2, rd) || exec(n, p->bwd_data, 3, da) ||
                    (p->bf16 && exec(n, p->r_dsrc, 2, rs)))
                    return CRISP_EDNNL;
                if (p->src_copy)
                    relayout(n->scratch, dx, n->batch, l->cin,
                             (size_t)n->L[i - 1].h * n->L[i - 1].w, n->L[i - 1].blk, 0, 1);
                else
                    add_into(dx, n->scratch, n->L[i - 1].n);
            }
            break;
        }
        case CRISP_LAYER_RELU:
            if (dx) {
#pragma omp parallel for simd schedule(static)
                for (size_t j = 0; j < N; j++)
                    dx[j] += x[j] > 0.0f ? dy[j] : 0.0f;
            }
            break;
        case CRISP_LAYER_LRELU:
            if (dx) {
                const float a = l->alpha;
#pragma omp parallel for simd schedule(static)
                for (size_t j = 0; j < N; j++)
                    dx[j] += x[j] > 0.0f ? dy[j] : a * dy[j];
            }
            break;
        case CRISP_LAYER_CLAMP:
            if (dx) {
                const float lo = l->lo, hi = l->hi;
#pragma omp parallel for simd schedule(static)
                for (size_t j = 0; j < N; j++)
                    dx[j] += (x[j] > lo && x[j] < hi) ? dy[j] : 0.0f;
            }
            break;
        case CRISP_LAYER_PRELU: {
            const size_t hw = (size_t)t->h * t->w;
            const float *s = l->t[CRISP_ROLE_SLOPE];
            float *ds = t->grad[CRISP_ROLE_SLOPE];
            const int blk = t->blk, nb = t->c / blk;
#pragma omp parallel for schedule(static)
            for (int cb = 0; cb < nb; cb++) {
                double acc[16] = {0};
                for (int b = 0; b < n->batch; b++)
                    for (size_t p = 0; p < hw; p++) {
                        size_t o = blk_off(b, cb, p, nb, hw, blk);
                        for (int k = 0; k < blk; k++) {
                            float v = x[o + k];
                            if (v <= 0.0f)
                                acc[k] += (double)dy[o + k] * v;
                            if (dx)
                                dx[o + k] += v > 0.0f ? dy[o + k] : s[cb * blk + k] * dy[o + k];
                        }
                    }
                for (int k = 0; k < blk; k++)
                    ds[cb * blk + k] = (float)acc[k];
            }
            break;
        }
        case CRISP_LAYER_BN: bn_backward(n, l, t, x, dx); break;
        case CRISP_LAYER_S2D:
            if (dx)
                shuffle(dy, dx, n->batch, l->cin, t->h, t->w, l->factor, 0, 1);
            break;
        case CRISP_LAYER_D2S:
            if (dx)
                shuffle(dy, dx, n->batch, t->c, n->L[i - 1].h, n->L[i - 1].w, l->factor, 1, 1);
            break;
        case CRISP_LAYER_ADD: {
            float *ds = val_dy(n, l->skip);
            if (dx)
                add_into(dx, dy, N);
            if (ds)
                add_into(ds, dy, N);
            break;
        }
        case CRISP_LAYER_CONCAT: {
            float *ds = val_dy(n, l->skip);
            const size_t hw = (size_t)t->h * t->w, c1 = (size_t)l->cin, c2 = (size_t)t->c - c1;
            for (int b = 0; b < n->batch; b++) {
                if (dx)
                    add_into(dx + (size_t)b * c1 * hw, dy + (size_t)b * t->c * hw, c1 * hw);
                if (ds)
                    add_into(ds + (size_t)b * c2 * hw, dy + ((size_t)b * t->c + c1) * hw, c2 * hw);
            }
            break;
        }
        }
    }
    return 0;
}
