// SPDX-License-Identifier: BSD-2-Clause
// Collapsible linear blocks (crisp/train.h; Bhardwaj et al., "Collapsible
// Linear Blocks for Super-Efficient Super Resolution", MLSys 2022): each
// convolution of the model is trained as a k x k convolution C -> E and a
// 1 x 1 convolution E -> C' with nothing between them (plus an identity
// branch where C == C'), and collapsed into the model's k x k C -> C'
// convolution before every forward pass, so forward and backward run at
// the collapsed size:
//
//   W = B A (+ I),  b = B a + beta
//   dA = B^T dW,  dB = dW A^T + db a^T,  da = B^T db,  dbeta = db
//
// with A: E x K (K = C k k), B: C' x E. The model's own convolution
// tensors are then derived values (the optimizer skips them) and the
// expanded tensors are the learned ones. Training thread only; owns the
// expanded tensors and their gradients.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/train.h"
#include "crisp/util.h"

struct cblock {
    int layer, cout, k2, K, E, identity;
    float *A, *a, *B, *beta;     /* learned: E x K, E, C' x E, C' */
    float *dA, *da, *dB, *dbeta; /* their gradients */
};

struct crisp_collapse {
    struct crisp_model *m;
    struct cblock *b;
    int n;
    float *data, *grad; /* every block's tensors, contiguous (checkpoints copy them) */
    size_t floats;
};

static size_t block_floats(const struct cblock *b)
{
    return (size_t)b->E * b->K + (size_t)b->E + (size_t)b->cout * b->E + (size_t)b->cout;
}

static void block_bind(struct cblock *b, float *p, float *g)
{
    b->A = p;
    b->a = b->A + (size_t)b->E * b->K;
    b->B = b->a + b->E;
    b->beta = b->B + (size_t)b->cout * b->E;
    b->dA = g;
    b->da = b->dA + (size_t)b->E * b->K;
    b->dB = b->da + b->E;
    b->dbeta = b->dB + (size_t)b->cout * b->E;
}

/* A and B drawn so that B A has the He variance of a plain k x k conv
 * (var(A) = 2/K, var(B) = 1/E), scaled as preset_init scales the plain
 * convolution (`scale`: 0 for a residual model's last conv, 0.1 before a
 * residual add); biases zero. */
static void block_init_random(struct cblock *b, struct crisp_rng *r, double scale)
{
    const double sa = sqrt(2.0 / b->K), sb = scale / sqrt((double)b->E);
    for (size_t j = 0; j < (size_t)b->E * b->K; j++)
        b->A[j] = (float)(sa * crisp_rng_normal(r));
    for (size_t j = 0; j < (size_t)b->cout * b->E; j++)
        b->B[j] = (float)(sb * crisp_rng_normal(r));
}

/* The model's current convolution, factored exactly: the first C' rows of A
 * hold W (less the identity), the others are drawn as above; B = [I 0],
 * a = [b 0]: B A (+ I) = W and B a = b. */
static void block_init_from(struct cblock *b, const struct crisp_layer *l, struct crisp_rng *r)
{
    block_init_random(b, r, 1.0);
    memcpy(b->A, l->t[CRISP_ROLE_WEIGHT], sizeof(float) * (size_t)b->cout * b->K);
    if (b->identity)
        for (int o = 0; o < b->cout; o++)
            b->A[(size_t)o * b->K + (size_t)o * b->k2 + (size_t)b->k2 / 2] -= 1.0f;
    memset(b->B, 0, sizeof(float) * (size_t)b->cout * b->E);
    for (int o = 0; o < b->cout; o++)
        b->B[(size_t)o * b->E + o] = 1.0f;
    memset(b->a, 0, sizeof(float) * (size_t)b->E);
    memcpy(b->a, l->t[CRISP_ROLE_BIAS], sizeof(float) * (size_t)b->cout);
}

void crisp_collapse_destroy(struct crisp_collapse **pc)
{
    if (!pc || !*pc)
        return;
    crisp_afree((*pc)->data);
    crisp_afree((*pc)->grad);
    free((*pc)->b);
    free(*pc);
    *pc = NULL;
}

/* the blocks' shapes: every convolution, the identity where C == C' */
static int plan_blocks(struct crisp_collapse *c, const struct crisp_collapse_params *p)
{
    const struct crisp_model *m = c->m;
    const int E = p->expansion > 0 ? p->expansion : 128;
    c->b = calloc((size_t)m->n_layers, sizeof(*c->b));
    if (!c->b)
        return -ENOMEM;
    for (int i = 0; i < m->n_layers; i++) {
        const struct crisp_layer *l = &m->layers[i];
        if (l->type != CRISP_LAYER_CONV)
            continue;
        struct cblock *b = &c->b[c->n++];
        b->layer = i;
        b->cout = l->cout;
        b->k2 = l->k * l->k;
        b->K = l->cin * b->k2;
        b->E = E < l->cout ? l->cout : E; /* exact factoring needs E >= C' */
        b->identity = p->identity && l->cin == l->cout && l->stride == 1;
        c->floats += block_floats(b);
    }
    return c->n ? 0 : CRISP_EMODEL;
}

int crisp_collapse_create(struct crisp_collapse **out, struct crisp_model *m,
                          const struct crisp_collapse_params *p, uint64_t seed)
{
    *out = NULL;
    struct crisp_collapse *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->m = m;
    int ret = plan_blocks(c, p);
    if (ret == 0 && (!(c->data = crisp_aalloc(sizeof(float) * c->floats)) ||
                     !(c->grad = crisp_aalloc(sizeof(float) * c->floats))))
        ret = -ENOMEM;
    if (ret < 0) {
        crisp_collapse_destroy(&c);
        return ret;
    }
    int last_conv = c->b[c->n - 1].layer;
    struct crisp_rng r;
    crisp_rng_seed(&r, seed ^ 0xC011A95Eull);
    size_t off = 0;
    for (int k = 0; k < c->n; k++) {
        struct cblock *b = &c->b[k];
        block_bind(b, c->data + off, c->grad + off);
        off += block_floats(b);
        const struct crisp_layer *l = &m->layers[b->layer];
        int before_add = b->layer + 1 < m->n_layers &&
                         m->layers[b->layer + 1].type == CRISP_LAYER_ADD;
        if (p->from_model)
            block_init_from(b, l, &r);
        else
            block_init_random(b, &r, b->layer == last_conv && m->output == CRISP_OUTPUT_RESIDUAL
                                         ? 0.0
                                     : before_add ? 0.1
                                                  : 1.0);
    }
    crisp_collapse_apply(c);
    *out = c;
    return 0;
}

void crisp_collapse_apply(struct crisp_collapse *c)
{
    for (int k = 0; k < c->n; k++) {
        const struct cblock *b = &c->b[k];
        struct crisp_layer *l = &c->m->layers[b->layer];
        float *W = l->t[CRISP_ROLE_WEIGHT], *bias = l->t[CRISP_ROLE_BIAS];
        for (int o = 0; o < b->cout; o++) {
            float *w = W + (size_t)o * b->K;
            const float *bo = b->B + (size_t)o * b->E;
            for (int j = 0; j < b->K; j++)
                w[j] = 0.0f;
            double acc = b->beta[o];
            for (int e = 0; e < b->E; e++) {
                const float s = bo[e];
                const float *ae = b->A + (size_t)e * b->K;
                for (int j = 0; j < b->K; j++)
                    w[j] += s * ae[j];
                acc += (double)s * b->a[e];
            }
            if (b->identity)
                w[(size_t)o * b->k2 + (size_t)b->k2 / 2] += 1.0f;
            bias[o] = (float)acc;
        }
    }
}

int crisp_collapse_backward(struct crisp_collapse *c, struct crisp_train_net *net)
{
    for (int k = 0; k < c->n; k++) {
        const struct cblock *b = &c->b[k];
        const float *dW = crisp_train_net_grad(net, b->layer, CRISP_ROLE_WEIGHT);
        const float *db = crisp_train_net_grad(net, b->layer, CRISP_ROLE_BIAS);
        if (!dW || !db)
            return CRISP_EUSAGE;
        /* dA = B^T dW, da = B^T db */
        for (int e = 0; e < b->E; e++) {
            float *dae = b->dA + (size_t)e * b->K;
            double dav = 0;
            for (int j = 0; j < b->K; j++)
                dae[j] = 0.0f;
            for (int o = 0; o < b->cout; o++) {
                const float s = b->B[(size_t)o * b->E + e];
                const float *dwo = dW + (size_t)o * b->K;
                for (int j = 0; j < b->K; j++)
                    dae[j] += s * dwo[j];
                dav += (double)s * db[o];
            }
            b->da[e] = (float)dav;
        }
        /* dB = dW A^T + db a^T, dbeta = db */
        for (int o = 0; o < b->cout; o++) {
            const float *dwo = dW + (size_t)o * b->K;
            for (int e = 0; e < b->E; e++) {
                const float *ae = b->A + (size_t)e * b->K;
                double s = (double)db[o] * b->a[e];
                for (int j = 0; j < b->K; j++)
                    s += (double)dwo[j] * ae[j];
                b->dB[(size_t)o * b->E + e] = (float)s;
            }
            b->dbeta[o] = db[o];
        }
    }
    return 0;
}

int crisp_collapse_attach(struct crisp_collapse *c, struct crisp_adamw *o)
{
    int ret = 0;
    for (int k = 0; k < c->n && ret == 0; k++) {
        const struct cblock *b = &c->b[k];
        crisp_adamw_freeze(o, b->layer, CRISP_ROLE_WEIGHT);
        crisp_adamw_freeze(o, b->layer, CRISP_ROLE_BIAS);
        if ((ret = crisp_adamw_add(o, b->A, b->dA, (size_t)b->E * b->K, 1)) == 0 &&
            (ret = crisp_adamw_add(o, b->a, b->da, (size_t)b->E, 0)) == 0 &&
            (ret = crisp_adamw_add(o, b->B, b->dB, (size_t)b->cout * b->E, 1)) == 0)
            ret = crisp_adamw_add(o, b->beta, b->dbeta, (size_t)b->cout, 0);
    }
    return ret;
}

size_t crisp_collapse_floats(const struct crisp_collapse *c) { return c->floats; }
float *crisp_collapse_data(struct crisp_collapse *c) { return c->data; }
float *crisp_collapse_grad(struct crisp_collapse *c) { return c->grad; }
