// SPDX-License-Identifier: BSD-2-Clause
// AdamW (decoupled weight decay) in plain C over the model's master weights,
// with linear warm-up, cosine or step decay, and global-norm clipping.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/train.h"
#include "crisp/util.h"

struct param {
    int layer, role; /* a model tensor; layer -1: added by crisp_adamw_add */
    float *w;
    size_t n;
    float *m, *v;
    const float *g; /* added parameters: their gradient */
    int decay;      /* weight decay applies */
    int frozen;     /* derived from other parameters: not updated */
};

struct crisp_adamw {
    struct crisp_adamw_params p;
    struct param *ps;
    int n_ps;
    size_t total;
    float *state; /* m and v for every parameter, contiguous */
    int step;
    float lr_now;
};

static int bind_state(struct crisp_adamw *o);

int crisp_adamw_create(struct crisp_adamw **out, struct crisp_model *m,
                       const struct crisp_adamw_params *p)
{
    *out = NULL;
    struct crisp_adamw *o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    o->p = *p;
    if (!o->p.beta1)
        o->p.beta1 = 0.9f;
    if (!o->p.beta2)
        o->p.beta2 = 0.999f;
    if (!o->p.eps)
        o->p.eps = 1e-8f;
    o->ps = calloc((size_t)m->n_layers * CRISP_ROLE_COUNT, sizeof(*o->ps));
    if (!o->ps) {
        free(o);
        return -ENOMEM;
    }
    for (int i = 0; i < m->n_layers; i++)
        for (int r = 0; r < CRISP_ROLE_COUNT; r++) {
            size_t n = crisp_layer_tensor_size(&m->layers[i], m->layers[i].cin, r);
            if (!n || !crisp_role_trainable(r))
                continue;
            o->ps[o->n_ps++] = (struct param){.layer = i, .role = r, .w = m->layers[i].t[r],
                                              .n = n, .decay = r == CRISP_ROLE_WEIGHT};
            o->total += n;
        }
    if (bind_state(o) < 0) {
        free(o->ps);
        free(o);
        return -ENOMEM;
    }
    *out = o;
    return 0;
}

/* (re)allocates the zeroed m and v of every parameter */
static int bind_state(struct crisp_adamw *o)
{
    float *st = crisp_aalloc(sizeof(float) * o->total * 2 + 64);
    if (!st)
        return -ENOMEM;
    crisp_afree(o->state);
    o->state = st;
    size_t off = 0;
    for (int k = 0; k < o->n_ps; k++) {
        o->ps[k].m = o->state + off;
        o->ps[k].v = o->state + o->total + off;
        off += o->ps[k].n;
    }
    return 0;
}

int crisp_adamw_add(struct crisp_adamw *o, float *w, const float *g, size_t n, int decay)
{
    if (o->step)
        return CRISP_EUSAGE;
    struct param *ps = realloc(o->ps, sizeof(*ps) * (size_t)(o->n_ps + 1));
    if (!ps)
        return -ENOMEM;
    o->ps = ps;
    o->ps[o->n_ps++] = (struct param){.layer = -1, .w = w, .n = n, .g = g, .decay = decay};
    o->total += n;
    return bind_state(o);
}

void crisp_adamw_freeze(struct crisp_adamw *o, int layer, int role)
{
    for (int k = 0; k < o->n_ps; k++)
        if (o->ps[k].layer == layer && o->ps[k].role == role)
            o->ps[k].frozen = 1;
}

static const float *param_grad(const struct param *p, struct crisp_train_net *net)
{
    return p->layer < 0 ? p->g : crisp_train_net_grad(net, p->layer, p->role);
}

void crisp_adamw_destroy(struct crisp_adamw **po)
{
    if (!po || !*po)
        return;
    crisp_afree((*po)->state);
    free((*po)->ps);
    free(*po);
    *po = NULL;
}

static float schedule(const struct crisp_adamw_params *p, int step)
{
    if (p->warmup_steps > 0 && step < p->warmup_steps)
        return p->lr * (float)(step + 1) / (float)p->warmup_steps;
    int total = p->total_steps > p->warmup_steps ? p->total_steps - p->warmup_steps : 1;
    double t = (double)(step - p->warmup_steps) / total;
    if (t > 1)
        t = 1;
    if (p->schedule == 1)
        return p->lr * (float)(t >= 0.9 ? 0.125 : t >= 0.75 ? 0.25 : t >= 0.5 ? 0.5 : 1.0);
    const double floor_ = 0.01;
    return p->lr * (float)(floor_ + (1 - floor_) * 0.5 * (1 + cos(M_PI * t)));
}

int crisp_adamw_step(struct crisp_adamw *o, struct crisp_train_net *net, double *norm)
{
    double sq = 0;
    for (int k = 0; k < o->n_ps; k++) {
        if (o->ps[k].frozen)
            continue;
        const float *g = param_grad(&o->ps[k], net);
        if (!g)
            return CRISP_EUSAGE;
        for (size_t j = 0; j < o->ps[k].n; j++)
            sq += (double)g[j] * g[j];
    }
    double gn = sqrt(sq);
    if (norm)
        *norm = gn;
    if (!isfinite(gn))
        return CRISP_EMODEL; /* skip the step: never write NaN into the weights */
    float clip = 1.0f;
    if (o->p.clip_norm > 0 && gn > o->p.clip_norm)
        clip = (float)(o->p.clip_norm / gn);
    float lr = schedule(&o->p, o->step);
    o->lr_now = lr;
    o->step++;
    const float b1 = o->p.beta1, b2 = o->p.beta2, eps = o->p.eps;
    const float c1 = 1.0f / (1.0f - powf(b1, (float)o->step));
    const float c2 = 1.0f / (1.0f - powf(b2, (float)o->step));
    for (int k = 0; k < o->n_ps; k++) {
        struct param *p = &o->ps[k];
        if (p->frozen)
            continue;
        const float *g = param_grad(p, net);
        const float wd = p->decay ? o->p.weight_decay : 0.0f;
        float *w = p->w, *m = p->m, *v = p->v;
        const size_t n = p->n;
#pragma omp parallel for simd schedule(static)
        for (size_t j = 0; j < n; j++) {
            float gj = g[j] * clip;
            m[j] = b1 * m[j] + (1 - b1) * gj;
            v[j] = b2 * v[j] + (1 - b2) * gj * gj;
            w[j] -= lr * (m[j] * c1 / (sqrtf(v[j] * c2) + eps) + wd * w[j]);
        }
    }
    return 0;
}

void crisp_adamw_set_total(struct crisp_adamw *o, int total_steps)
{
    o->p.total_steps = total_steps;
}
float crisp_adamw_lr(const struct crisp_adamw *o) { return o->lr_now; }
int crisp_adamw_steps(const struct crisp_adamw *o) { return o->step; }
size_t crisp_adamw_state_size(const struct crisp_adamw *o) { return o->total * 2; }

void crisp_adamw_state_save(const struct crisp_adamw *o, float *buf, int *step)
{
    memcpy(buf, o->state, sizeof(float) * o->total * 2);
    *step = o->step;
}

void crisp_adamw_state_load(struct crisp_adamw *o, const float *buf, int step)
{
    memcpy(o->state, buf, sizeof(float) * o->total * 2);
    o->step = step;
}
