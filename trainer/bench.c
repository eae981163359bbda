// SPDX-License-Identifier: BSD-2-Clause
// crisp-train bench (trainer.h): seconds per training step of a preset on
// random data, forward + L1 loss + backward + AdamW, the first step (which
// includes oneDNN's kernel generation) left out. Main thread only.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/model.h"
#include "crisp/util.h"
#include "presets.h"
#include "trainer.h"

int bench_run(const char *arch, int batch, int patch, int steps, int threads, unsigned flags)
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
