// SPDX-License-Identifier: BSD-2-Clause
// crisp-train's commands and their options, shared by main.c (commands and
// options only) and the files that run them: loop.c (teacher and distill),
// bench.c (bench), export.c (export-degraded); quantize.h has quantize.
// Every entry point returns the process's exit status.
#ifndef CRISP_TRAINER_TRAINER_H
#define CRISP_TRAINER_TRAINER_H

#include <stdint.h>
#include <time.h>

#include "crisp/log.h"
#include "crisp/train.h"
#include "dist.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

#define fail crisp_fail

struct train_opts {
    int distill;
    const char *data, *arch, *out, *teacher, *teacher_dir, *checkpoint, *log, *init;
    double minutes;
    long steps;
    int batch, patch, threads, data_threads, max_side, max_images, val_every, resume, val_crop;
    double ckpt_minutes, progress_s;
    float lr, wd, clip;
    int warmup;
    uint64_t seed;
    enum crisp_loss gt_loss;
    float w_gt, w_ssim, w_soft, w_res, w_feat;
    float w_temporal;   /* --w-temporal: each sample's shifted twin must restore the same */
    int temporal_shift; /* --temporal-shift T: the twin moves up to T pixels each way */
    float temporal_flat; /* --temporal-flat G: the term weighs a pixel by G^2 / (G^2 + g^2),
                            g the ground truth's local gradient there (0: all alike) */
    float temporal_noise; /* --temporal-noise N: and by min(1, |x - x'| / N), x and x' the
                             two degraded inputs there: only where the codec's noise
                             differs between the twins (0: all alike) */
    int temporal_codec; /* --temporal-twin codec: the twin unmoved, its codec grid moved and
                           its sensor noise drawn afresh (data.h, degrade_random_twin) */
    int feat_s[8], feat_t[8], n_feat;
    long bank; /* patches in the fixed patch bank; 0 = fresh patches every step */
    int t_ensemble; /* 8: bank targets are the teacher's geometric self-ensemble */
    int bank_augment; /* 1: bank patches are served in a random flip/rotation */
    unsigned net_flags; /* CRISP_TRAIN_BF16 with --precision bf16 */
    int collapse;       /* --collapse E: train every conv as a collapsible block; 0 off */
    int collapse_identity; /* --collapse-identity 0|1 */
    int first_grid;     /* --first-conv-grid: the first conv's weights on the int8 grid, frozen */
    int first_f32;      /* quantize --first-conv f32 */
    int input8;         /* --input-8bit: the degraded inputs' Y in whole 8-bit levels */
    int check_every;    /* --check-every K: compare the ranks' weights every K steps */
    const struct dist *dist; /* the MPI job (rank 0 of 1 without one) */
    int stopped_together; /* set by train_run: every rank stopped on a signal at the same step */
};

/* seconds on the monotonic clock */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* loop.c: teacher training or distillation, as the options say; SIGINT and
 * SIGTERM stop it after a checkpoint. */
int train_run(struct train_opts *o);
/* bench.c: seconds per training step of a preset */
int bench_run(const char *arch, int batch, int patch, int steps, int threads, unsigned flags);
/* export.c: the fixed degraded inputs an external teacher restores */
int export_degraded(const char *data, const char *outdir, int max_side, uint64_t seed);

#endif
