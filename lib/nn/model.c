// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/util.h"
#include "internal.h"

#define R(role) (1u << CRISP_ROLE_##role)

static int check_conv(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    if (l->k < 1 || l->k > CRISP_MAX_KERNEL || !(l->k & 1)) {
        crisp_seterr(err, n, "k=%d (must be odd, 1..%d)", l->k, CRISP_MAX_KERNEL);
        return -1;
    }
    if (l->stride != 1 && l->stride != 2) {
        crisp_seterr(err, n, "stride=%d (must be 1 or 2)", l->stride);
        return -1;
    }
    if (l->cout < 1 || l->cout > CRISP_MAX_CHANNELS) {
        crisp_seterr(err, n, "cout=%d (must be 1..%d)", l->cout, CRISP_MAX_CHANNELS);
        return -1;
    }
    return l->cout;
}

static int check_same(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    return cin;
}

static int check_lrelu(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    if (!isfinite(l->alpha)) {
        crisp_seterr(err, n, "alpha is not finite");
        return -1;
    }
    return cin;
}

static int check_bn(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    if (!(l->eps > 0.0f) || !isfinite(l->eps)) {
        crisp_seterr(err, n, "eps=%g (must be > 0)", (double)l->eps);
        return -1;
    }
    return cin;
}

static int check_factor(const struct crisp_layer *l, int *f, char *err, size_t n)
{
    if (l->factor < 2 || l->factor > CRISP_MAX_FACTOR) {
        crisp_seterr(err, n, "factor=%d (must be 2..%d)", l->factor, CRISP_MAX_FACTOR);
        return -1;
    }
    *f = l->factor;
    return 0;
}

static int check_s2d(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    int f;
    if (check_factor(l, &f, err, n) < 0)
        return -1;
    if ((long)cin * f * f > CRISP_MAX_CHANNELS) {
        crisp_seterr(err, n, "factor=%d gives %ld channels (max %d)", f, (long)cin * f * f,
                     CRISP_MAX_CHANNELS);
        return -1;
    }
    return cin * f * f;
}

static int check_d2s(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    int f;
    if (check_factor(l, &f, err, n) < 0)
        return -1;
    if (cin % (f * f)) {
        crisp_seterr(err, n, "factor=%d does not divide %d input channels", f, cin);
        return -1;
    }
    return cin / (f * f);
}

static int check_add(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    if (skip_c != cin) {
        crisp_seterr(err, n, "skip has %d channels, input has %d", skip_c, cin);
        return -1;
    }
    return cin;
}

static int check_concat(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    if (cin + skip_c > CRISP_MAX_CHANNELS) {
        crisp_seterr(err, n, "concat gives %d channels (max %d)", cin + skip_c, CRISP_MAX_CHANNELS);
        return -1;
    }
    return cin + skip_c;
}

static int check_clamp(const struct crisp_layer *l, int cin, int skip_c, char *err, size_t n)
{
    if (!isfinite(l->lo) || !isfinite(l->hi) || !(l->lo < l->hi)) {
        crisp_seterr(err, n, "lo=%g hi=%g (need finite lo < hi)", (double)l->lo, (double)l->hi);
        return -1;
    }
    return cin;
}

static int shape_same(const struct crisp_layer *l, int h, int w, const int *s, int *oh, int *ow)
{
    *oh = h;
    *ow = w;
    return 0;
}

static int shape_conv(const struct crisp_layer *l, int h, int w, const int *s, int *oh, int *ow)
{
    if (l->stride == 2 && ((h & 1) || (w & 1)))
        return -1;
    *oh = h / l->stride;
    *ow = w / l->stride;
    return 0;
}

static int shape_s2d(const struct crisp_layer *l, int h, int w, const int *s, int *oh, int *ow)
{
    if (h % l->factor || w % l->factor)
        return -1;
    *oh = h / l->factor;
    *ow = w / l->factor;
    return 0;
}

static int shape_d2s(const struct crisp_layer *l, int h, int w, const int *s, int *oh, int *ow)
{
    *oh = h * l->factor;
    *ow = w * l->factor;
    return 0;
}

static int shape_skip(const struct crisp_layer *l, int h, int w, const int *s, int *oh, int *ow)
{
    if (s[0] != h || s[1] != w)
        return -1;
    *oh = h;
    *ow = w;
    return 0;
}

static const struct crisp_layer_row rows[CRISP_LAYER_TYPE_MAX + 1] = {
    [CRISP_LAYER_CONV] = {"conv", R(WEIGHT) | R(BIAS), check_conv, shape_conv, crisp_ref_conv, 0},
    [CRISP_LAYER_RELU] = {"relu", 0, check_same, shape_same, crisp_ref_relu, 1},
    [CRISP_LAYER_LRELU] = {"lrelu", 0, check_lrelu, shape_same, crisp_ref_lrelu, 1},
    [CRISP_LAYER_PRELU] = {"prelu", R(SLOPE), check_same, shape_same, crisp_ref_prelu, 1},
    [CRISP_LAYER_BN] = {"bn", R(GAMMA) | R(BETA) | R(MEAN) | R(VAR), check_bn, shape_same,
                        crisp_ref_bn, 1},
    [CRISP_LAYER_S2D] = {"s2d", 0, check_s2d, shape_s2d, crisp_ref_s2d, 0},
    [CRISP_LAYER_D2S] = {"d2s", 0, check_d2s, shape_d2s, crisp_ref_d2s, 0},
    [CRISP_LAYER_ADD] = {"add", 0, check_add, shape_skip, crisp_ref_add, 1},
    [CRISP_LAYER_CONCAT] = {"concat", 0, check_concat, shape_skip, crisp_ref_concat, 0},
    [CRISP_LAYER_CLAMP] = {"clamp", 0, check_clamp, shape_same, crisp_ref_clamp, 1},
};

const struct crisp_layer_row *crisp_layer_row(int type)
{
    if (type < 1 || type > CRISP_LAYER_TYPE_MAX || !rows[type].name)
        return NULL;
    return &rows[type];
}

const char *crisp_layer_type_name(int type)
{
    const struct crisp_layer_row *r = crisp_layer_row(type);
    return r ? r->name : NULL;
}

size_t crisp_layer_tensor_size(const struct crisp_layer *l, int cin, int role)
{
    const struct crisp_layer_row *r = crisp_layer_row(l->type);
    if (!r || role < 0 || role >= CRISP_ROLE_COUNT || !(r->roles & (1u << role)))
        return 0;
    switch (role) {
    case CRISP_ROLE_WEIGHT: return (size_t)l->cout * (size_t)cin * (size_t)l->k * (size_t)l->k;
    case CRISP_ROLE_BIAS: return (size_t)l->cout;
    default: return (size_t)cin; /* per-channel tensors of BN and PReLU */
    }
}

static int is_skip_type(int type) { return type == CRISP_LAYER_ADD || type == CRISP_LAYER_CONCAT; }

int crisp_model_validate(struct crisp_model *m, char *err, size_t errlen)
{
    char why[160];
    if (m->color != CRISP_COLOR_LUMA && m->color != CRISP_COLOR_LUMA_PAIR &&
        m->color != CRISP_COLOR_RGB) {
        crisp_seterr(err, errlen, "color mode %d (must be 1 = luma, 2 = luma pair or 3 = rgb)",
                     (int)m->color);
        return CRISP_EMODEL;
    }
    if (m->output != CRISP_OUTPUT_DIRECT && m->output != CRISP_OUTPUT_RESIDUAL) {
        crisp_seterr(err, errlen, "output mode %d (must be 0 = direct or 1 = residual)",
                     (int)m->output);
        return CRISP_EMODEL;
    }
    if (!(m->range_max == 1.0f || m->range_max == 255.0f)) {
        crisp_seterr(err, errlen, "range_max %g (must be 1 or 255)", (double)m->range_max);
        return CRISP_EMODEL;
    }
    if (m->border < 0 || m->border > 64) {
        crisp_seterr(err, errlen, "border %d (must be 0..64)", m->border);
        return CRISP_EMODEL;
    }
    if (m->n_layers < 1 || m->n_layers > CRISP_MAX_LAYERS) {
        crisp_seterr(err, errlen, "layer count %d (must be 1..%d)", m->n_layers, CRISP_MAX_LAYERS);
        return CRISP_EMODEL;
    }
    for (int i = 0; i < m->n_layers; i++) {
        struct crisp_layer *l = &m->layers[i];
        const struct crisp_layer_row *r = crisp_layer_row(l->type);
        if (!r) {
            crisp_seterr(err, errlen, "layer %d: unknown type %d", i, (int)l->type);
            return CRISP_EMODEL;
        }
        int cin = i == 0 ? (int)m->color : m->layers[i - 1].channels;
        int skip_c = 0;
        if (is_skip_type(l->type)) {
            if (l->skip < -1 || l->skip >= i) {
                crisp_seterr(err, errlen, "layer %d (%s): skip=%d (must be -1..%d)", i, r->name,
                             l->skip, i - 1);
                return CRISP_EMODEL;
            }
            skip_c = l->skip < 0 ? (int)m->color : m->layers[l->skip].channels;
        } else if (l->skip != 0) {
            crisp_seterr(err, errlen, "layer %d (%s): skip=%d on a layer without a skip input", i,
                         r->name, l->skip);
            return CRISP_EMODEL;
        }
        if (l->type == CRISP_LAYER_BN) {
            if (i == 0 || m->layers[i - 1].type != CRISP_LAYER_CONV) {
                crisp_seterr(err, errlen, "layer %d (bn): must directly follow a conv", i);
                return CRISP_EMODEL;
            }
            for (int j = i + 1; j < m->n_layers; j++) {
                if (is_skip_type(m->layers[j].type) && m->layers[j].skip == i - 1) {
                    crisp_seterr(err, errlen,
                                 "layer %d (bn): the conv before it is a skip source of layer %d",
                                 i, j);
                    return CRISP_EMODEL;
                }
            }
        }
        int c = r->check(l, cin, skip_c, why, sizeof(why));
        if (c < 0) {
            crisp_seterr(err, errlen, "layer %d (%s): %s", i, r->name, why);
            return CRISP_EMODEL;
        }
        l->cin = cin;
        l->channels = c;
    }
    int outc = m->layers[m->n_layers - 1].channels;
    if (outc != (int)m->color) {
        crisp_seterr(err, errlen, "last layer gives %d channels, colour mode needs %d", outc,
                     (int)m->color);
        return CRISP_EMODEL;
    }
    /* the spatial path must come back to the input size */
    int align = crisp_model_alignment(m);
    int *shapes = malloc(sizeof(int) * 3 * (size_t)m->n_layers);
    if (!shapes)
        return -ENOMEM;
    int ret = crisp_model_shapes(m, align * 2, align * 2, shapes, err, errlen);
    free(shapes);
    return ret;
}

int crisp_model_alignment(const struct crisp_model *m)
{
    long a = 1;
    for (int i = 0; i < m->n_layers; i++) {
        const struct crisp_layer *l = &m->layers[i];
        if (l->type == CRISP_LAYER_CONV && l->stride == 2)
            a *= 2;
        else if (l->type == CRISP_LAYER_S2D)
            a *= l->factor;
        if (a > 4096)
            return 4096;
    }
    return (int)a;
}

void crisp_model_padded_size(const struct crisp_model *m, int w, int h, int *pw, int *ph)
{
    int a = crisp_model_alignment(m);
    *pw = (w + 2 * m->border + a - 1) / a * a;
    *ph = (h + 2 * m->border + a - 1) / a * a;
}

int crisp_model_shapes(const struct crisp_model *m, int w, int h, int *shapes, char *err,
                       size_t errlen)
{
    int c = (int)m->color, ch = h, cw = w;
    for (int i = 0; i < m->n_layers; i++) {
        const struct crisp_layer *l = &m->layers[i];
        const struct crisp_layer_row *r = crisp_layer_row(l->type);
        if (!r)
            return CRISP_EMODEL;
        int skip_hw[2] = {0, 0};
        if (is_skip_type(l->type)) {
            skip_hw[0] = l->skip < 0 ? h : shapes[3 * l->skip + 1];
            skip_hw[1] = l->skip < 0 ? w : shapes[3 * l->skip + 2];
        }
        int oh, ow;
        if (r->shape(l, ch, cw, skip_hw, &oh, &ow) < 0) {
            crisp_seterr(err, errlen, "layer %d (%s): input %dx%d does not fit (skip %dx%d)", i,
                         r->name, cw, ch, skip_hw[1], skip_hw[0]);
            return CRISP_EMODEL;
        }
        if (oh < 1 || ow < 1 || oh > 65536 || ow > 65536) {
            crisp_seterr(err, errlen, "layer %d (%s): output %dx%d out of range", i, r->name, ow,
                         oh);
            return CRISP_EMODEL;
        }
        c = l->channels;
        ch = oh;
        cw = ow;
        shapes[3 * i] = c;
        shapes[3 * i + 1] = ch;
        shapes[3 * i + 2] = cw;
    }
    if (ch != h || cw != w) {
        crisp_seterr(err, errlen, "output is %dx%d for a %dx%d input (must be the same size)", cw,
                     ch, w, h);
        return CRISP_EMODEL;
    }
    return 0;
}

int64_t crisp_model_params(const struct crisp_model *m)
{
    int64_t n = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++)
            n += (int64_t)crisp_layer_tensor_size(&m->layers[i], m->layers[i].cin, r);
    return n;
}

int64_t crisp_model_macs(const struct crisp_model *m, int w, int h)
{
    int pw, ph;
    crisp_model_padded_size(m, w, h, &pw, &ph);
    int *shapes = malloc(sizeof(int) * 3 * (size_t)m->n_layers);
    if (!shapes)
        return -1;
    int64_t macs = -1;
    if (crisp_model_shapes(m, pw, ph, shapes, NULL, 0) == 0) {
        macs = 0;
        for (int i = 0; i < m->n_layers; i++) {
            const struct crisp_layer *l = &m->layers[i];
            if (l->type == CRISP_LAYER_CONV)
                macs += (int64_t)shapes[3 * i + 1] * shapes[3 * i + 2] * l->cout * l->cin * l->k *
                        l->k;
        }
    }
    free(shapes);
    return macs;
}

/* Assigns tensor pointers into one aligned blob, each tensor 64-byte aligned. */
int crisp_model_alloc_tensors(struct crisp_model *m)
{
    size_t total = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t n = crisp_layer_tensor_size(&m->layers[i], m->layers[i].cin, r);
            total += (n + 15) & ~(size_t)15;
        }
    m->data = crisp_aalloc(total * sizeof(float));
    if (!m->data)
        return -ENOMEM;
    m->data_floats = total;
    size_t off = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t n = crisp_layer_tensor_size(&m->layers[i], m->layers[i].cin, r);
            m->layers[i].t[r] = n ? m->data + off : NULL;
            off += (n + 15) & ~(size_t)15;
        }
    return 0;
}

int crisp_model_create(struct crisp_model **out, const char *name, enum crisp_color_mode color,
                       enum crisp_output_mode output, float range_max,
                       const struct crisp_layer *layers, int n_layers, char *err, size_t errlen)
{
    *out = NULL;
    int ret;
    if (n_layers < 1 || n_layers > CRISP_MAX_LAYERS) {
        crisp_seterr(err, errlen, "layer count %d (must be 1..%d)", n_layers, CRISP_MAX_LAYERS);
        return CRISP_EMODEL;
    }
    struct crisp_model *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    snprintf(m->name, sizeof(m->name), "%s", name ? name : "");
    m->color = color;
    m->output = output;
    m->range_max = range_max;
    m->n_layers = n_layers;
    m->layers = calloc((size_t)n_layers, sizeof(*m->layers));
    if (!m->layers) {
        ret = -ENOMEM;
        goto fail;
    }
    memcpy(m->layers, layers, sizeof(*layers) * (size_t)n_layers);
    for (int i = 0; i < n_layers; i++)
        memset(m->layers[i].t, 0, sizeof(m->layers[i].t));
    if ((ret = crisp_model_validate(m, err, errlen)) < 0)
        goto fail;
    if ((ret = crisp_model_alloc_tensors(m)) < 0)
        goto fail;
    for (int i = 0; i < n_layers; i++) /* neutral BN statistics until trained */
        if (m->layers[i].type == CRISP_LAYER_BN)
            for (int c = 0; c < m->layers[i].channels; c++) {
                m->layers[i].t[CRISP_ROLE_GAMMA][c] = 1.0f;
                m->layers[i].t[CRISP_ROLE_VAR][c] = 1.0f;
            }
    *out = m;
    return 0;
fail:
    crisp_model_destroy(&m);
    return ret;
}

void crisp_model_destroy(struct crisp_model **pm)
{
    if (!pm || !*pm)
        return;
    struct crisp_model *m = *pm;
    crisp_afree(m->data);
    free(m->layers);
    free(m);
    *pm = NULL;
}

static int make_unsharp(struct crisp_model **out, float amount, float sigma, int channels)
{
    *out = NULL;
    if (!(sigma > 0.1f) || !(sigma <= 5.0f / 3.0f) || !(amount >= 0.0f) || !(amount <= 10.0f))
        return CRISP_EUSAGE;
    int radius = (int)ceilf(3.0f * sigma);
    int k = 2 * radius + 1;
    struct crisp_layer l = {.type = CRISP_LAYER_CONV, .cout = channels, .k = k, .stride = 1};
    char name[32];
    snprintf(name, sizeof(name), "unsharp-mask%s a%.2f s%.2f", channels == 3 ? "-rgb" : "",
             (double)amount, (double)sigma);
    struct crisp_model *m;
    int ret = crisp_model_create(&m, name,
                                 channels == 3 ? CRISP_COLOR_RGB : CRISP_COLOR_LUMA,
                                 CRISP_OUTPUT_DIRECT, 1.0f, &l, 1, NULL, 0);
    if (ret < 0)
        return ret;
    /* separable Gaussian, normalized in double so the kernel sums to 1 */
    double g[CRISP_MAX_KERNEL], sum = 0.0;
    for (int i = 0; i < k; i++) {
        double x = i - radius;
        g[i] = exp(-0.5 * x * x / ((double)sigma * sigma));
        sum += g[i];
    }
    float *w = m->layers[0].t[CRISP_ROLE_WEIGHT]; /* zeroed: no cross-channel terms */
    for (int c = 0; c < channels; c++) {
        float *wc = w + ((size_t)c * channels + c) * k * k;
        for (int y = 0; y < k; y++)
            for (int x = 0; x < k; x++) {
                double gauss = g[y] * g[x] / (sum * sum);
                double id = (x == radius && y == radius) ? 1.0 : 0.0;
                wc[y * k + x] = (float)(id + amount * (id - gauss));
            }
    }
    m->border = radius; /* replicate edges instead of the conv's zero padding */
    *out = m;
    return 0;
}

int crisp_model_unsharp(struct crisp_model **out, float amount, float sigma)
{
    return make_unsharp(out, amount, sigma, 1);
}

int crisp_model_unsharp_rgb(struct crisp_model **out, float amount, float sigma)
{
    return make_unsharp(out, amount, sigma, 3);
}

int crisp_model_pair_from(struct crisp_model **out, const struct crisp_model *luma, char *err,
                          size_t errlen)
{
    *out = NULL;
    const int n = luma->n_layers;
    const struct crisp_layer *L = luma->layers;
    if (luma->color != CRISP_COLOR_LUMA || luma->output != CRISP_OUTPUT_RESIDUAL ||
        luma->border || n < 4 || L[0].type != CRISP_LAYER_S2D || L[1].type != CRISP_LAYER_CONV ||
        L[n - 1].type != CRISP_LAYER_D2S || L[n - 2].type != CRISP_LAYER_CONV ||
        L[n - 1].factor != L[0].factor) {
        crisp_seterr(err, errlen,
                     "%s: a pair model is made from a residual luma model without border that "
                     "starts with s2d and a conv and ends with a conv and d2s",
                     luma->name);
        return CRISP_EMODEL;
    }
    for (int i = 0; i < n; i++)
        if (is_skip_type(L[i].type) && L[i].skip < 0) {
            crisp_seterr(err, errlen, "%s: layer %d reads the model input", luma->name, i);
            return CRISP_EMODEL;
        }
    const int ff = L[0].factor * L[0].factor, last = n - 2;
    struct crisp_layer *pl = malloc(sizeof(*pl) * (size_t)n);
    if (!pl)
        return -ENOMEM;
    memcpy(pl, L, sizeof(*pl) * (size_t)n);
    pl[last].cout = 2 * ff;
    char name[32];
    snprintf(name, sizeof(name), "%.26s-pair", luma->name);
    struct crisp_model *m;
    int ret = crisp_model_create(&m, name, CRISP_COLOR_LUMA_PAIR, CRISP_OUTPUT_RESIDUAL,
                                 luma->range_max, pl, n, err, errlen);
    free(pl);
    if (ret < 0)
        return ret;
    for (int i = 0; i < n; i++) /* everything else as it was (zeroed: the new weights) */
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            const float *src = L[i].t[r];
            float *dst = m->layers[i].t[r];
            if (!src || !dst)
                continue;
            const int k2 = L[i].k * L[i].k;
            if (i == 1 && r == CRISP_ROLE_WEIGHT) /* [cout][cin][k][k]: the first ff inputs */
                for (int co = 0; co < L[i].cout; co++)
                    memcpy(dst + (size_t)co * 2 * ff * k2, src + (size_t)co * ff * k2,
                           sizeof(float) * (size_t)ff * k2);
            else /* the last conv's new outputs come after the old ones */
                memcpy(dst, src, sizeof(float) * crisp_layer_tensor_size(&L[i], L[i].cin, r));
        }
    *out = m;
    return 0;
}
