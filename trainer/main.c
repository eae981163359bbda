// SPDX-License-Identifier: BSD-2-Clause
// crisp-train: commands and options only (docs/training.md). Parses the
// command line, checks that the options fit the command, and hands over to
// the file that runs it: loop.c (teacher, distill), bench.c, export.c,
// quantize.c. Main thread.
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisp/engine.h"
#include "crisp/media.h"
#include "data.h"
#include "presets.h"
#include "quantize.h"
#include "trainer.h"

static int parse_feat(struct train_opts *o, const char *s)
{
    while (*s && o->n_feat < 8) {
        int a, b, used;
        if (sscanf(s, "%d:%d%n", &a, &b, &used) != 2)
            return -1;
        o->feat_s[o->n_feat] = a;
        o->feat_t[o->n_feat++] = b;
        s += used;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

static const char USAGE[] =
    "usage: crisp-train COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  teacher  --data DIR --arch NAME --out FILE [options]   train on ground truth\n"
    "  distill  --data DIR --arch NAME --out FILE (--teacher FILE | --teacher-dir DIR) [options]\n"
    "  export-degraded --data DIR --out DIR   write the fixed degraded inputs for an\n"
    "                                         external teacher (--teacher-dir mode)\n"
    "  presets                                list the architectures\n"
    "  bench --arch NAME [--batch B --patch P --steps N --threads T --precision P]\n"
    "                                         time a training step\n"
    "  quantize --model FILE --data DIR [--out FILE.q8] [--max-images N [32]] [--max-side N]\n"
    "           [--first-conv int8|f32 [int8]]  f32 keeps the conv reading the image in f32\n"
    "                                         calibrate int8 ranges on training images (vc\n"
    "                                         degradation); writes FILE.q8 beside the model\n"
    "\n"
    "training options (defaults in brackets):\n"
    "  --minutes M      time budget [0: none]        --steps N       step budget [0: none]\n"
    "  --batch B [16]   --patch P [96]   --lr LR [5e-4]   --wd W [0]   --clip C [1.0]\n"
    "  --warmup N [200]  --seed S [1]    --threads T [all cores]\n"
    "  --precision f32|bf16 [f32]  bf16: convolutions of the trained net in bf16 (mixed\n"
    "                   precision; CPUs with AVX-512 BF16 or AMX; docs/training.md)\n"
    "  --loss l1|mse|charbonnier [l1]    ground-truth (and soft-target) loss\n"
    "  --w-gt W [1]     --w-ssim W [0]  (1 - SSIM on ground truth)\n"
    "  distill only: --w-soft W [1]  teacher output as target   --w-res W [0]  teacher residual\n"
    "                --w-feat W [0] --feat S:T[,S:T]  student layer S to teacher layer T (1x1 adapter)\n"
    "  --w-temporal W [0]  temporal consistency: each patch gets a twin moved by up to\n"
    "                   --temporal-shift T [2] pixels and degraded with the same draw (the\n"
    "                   next frame of a call); the two outputs must agree where they overlap\n"
    "                   (L1); doubles the patches per step; not with --bank or --teacher-dir\n"
    "  --temporal-flat G [0]  weigh that term by G^2/(G^2+g^2), g the ground truth's\n"
    "                   local gradient (0..1 units): flat areas held still, edges free\n"
    "  --temporal-noise N [0]  weigh it by min(1, |x-x'|/N), x, x' the twins' degraded\n"
    "                   inputs: held still only where their noise differs\n"
    "  --temporal-twin shift|codec [shift]  codec: the twin is the same picture unmoved,\n"
    "                   the codec's block grid moved (0..14 px) and fresh sensor noise:\n"
    "                   only the noise differs, clean twins are equal\n"
    "  --checkpoint FILE  --checkpoint-minutes M [3]  --resume   --log FILE.csv\n"
    "  --init FILE      start from a model file instead of a fresh preset\n"
    "  --max-side N [1024]  area-downscale larger training images\n"
    "  --data-threads N [1]  threads preparing batches (1..16; the batches are the same for any N)\n"
    "  --val-every K [20]   hold out every K-th image for validation   --val-crop N [256]\n"
    "  --max-images N   use only the first N images (smoke runs)   --progress S [30] seconds\n"
    "  --profile mixed|call|half|half-h264|x2 [mixed]  degradation stage probabilities (docs/training.md)\n"
    "  --bank N [0]     draw N patches once (with the teacher's outputs when distilling) and\n"
    "                   train on random flips/rotations of them; the teacher then runs once\n"
    "                   per bank patch instead of every step\n"
    "  --bank-augment 0|1 [1]  serve bank patches in random flips/rotations; 0 (as drawn)\n"
    "                   is required with --w-feat, whose teacher features the bank keeps\n"
    "  --teacher-ensemble 1|8 [1]  with --bank: the teacher's targets are the mean of its\n"
    "                   outputs on the 8 flips/rotations of each patch (8x the bank's cost)\n"
    "  --collapse E [0]  train every conv as a collapsible linear block: k x k to E channels,\n"
    "                   1 x 1 back, collapsed every step (docs/training.md); with --init the\n"
    "                   model is factored exactly; the written model is the plain network\n"
    "  --collapse-identity 0|1 [1]  an identity branch in blocks of equal in/out channels\n"
    "  --first-conv-grid 0|1 [0]  1: the first conv's weights put on the int8 engine's grid\n"
    "                   (s8, one scale per output channel) and kept there; the rest trains\n"
    "                   around them (not with --collapse)\n"
    "  --input-8bit 0|1 [0]  1: the degraded inputs' Y in whole 8-bit levels, as crispd\n"
    "                   receives it from a camera or a decoder (training, bank and\n"
    "                   validation alike); targets stay unrounded\n";

static const char USAGE_MPI[] =
    "\n"
    "Data-parallel over MPI (built with Open MPI): mpirun -np N crisp-train teacher|distill ...\n"
    "  each rank runs --batch/N of every batch, gradients are summed before each step,\n"
    "  rank 0 writes logs, checkpoints and the model (docs/training.md)\n"
    "  --check-every K [100]  compare the ranks' weight checksums every K steps (0: only\n"
    "                   at the start and the end)\n";

/* --precision f32|bf16; -1 to go on, else the exit code */
static int parse_precision(struct train_opts *o, const char *v)
{
    if (!strcmp(v, "f32")) {
        o->net_flags &= ~CRISP_TRAIN_BF16;
    } else if (!strcmp(v, "bf16")) {
        if (!crisp_train_bf16_available())
            return fail(EXIT_USAGE, "--precision bf16: this CPU has no AVX-512 BF16 or AMX "
                                    "(oneDNN sees %s)", crisp_cpu_isa_name());
        o->net_flags |= CRISP_TRAIN_BF16;
    } else {
        return fail(EXIT_USAGE, "--precision must be f32 or bf16 (got \"%s\")", v);
    }
    return -1;
}

/* The options after the command; -1 to go on, else the exit code. One
 * switch over the option table, so it is one piece. */
static int parse_options(struct train_opts *o, const char *cmd, int argc, char **argv)
{
    enum { O_DATA = 256, O_ARCH, O_OUT, O_TEACHER, O_TDIR, O_MIN, O_STEPS, O_BATCH, O_PATCH,
           O_LR, O_WD, O_CLIP, O_WARM, O_SEED, O_THREADS, O_LOSS, O_WGT, O_WSSIM, O_WSOFT,
           O_WRES, O_WFEAT, O_FEAT, O_CKPT, O_CKPTMIN, O_RESUME, O_LOG, O_INIT, O_MAXSIDE,
           O_VALEVERY, O_VALCROP, O_MAXIMG, O_PROGRESS, O_PROFILE, O_BANK,
           O_TENS, O_BANKAUG, O_PREC, O_DTHREADS, O_COLLAPSE, O_COLLID, O_CHECK, O_WTEMP, O_TSHIFT, O_TFLAT, O_TNOISE, O_TTWIN, O_FIRST, O_GRID, O_IN8 };
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA}, {"arch", 1, 0, O_ARCH}, {"out", 1, 0, O_OUT},
        {"teacher", 1, 0, O_TEACHER}, {"teacher-dir", 1, 0, O_TDIR}, {"minutes", 1, 0, O_MIN},
        {"steps", 1, 0, O_STEPS}, {"batch", 1, 0, O_BATCH}, {"patch", 1, 0, O_PATCH},
        {"lr", 1, 0, O_LR}, {"wd", 1, 0, O_WD}, {"clip", 1, 0, O_CLIP},
        {"warmup", 1, 0, O_WARM}, {"seed", 1, 0, O_SEED}, {"threads", 1, 0, O_THREADS},
        {"loss", 1, 0, O_LOSS}, {"w-gt", 1, 0, O_WGT}, {"w-ssim", 1, 0, O_WSSIM},
        {"w-soft", 1, 0, O_WSOFT}, {"w-res", 1, 0, O_WRES}, {"w-feat", 1, 0, O_WFEAT},
        {"feat", 1, 0, O_FEAT}, {"checkpoint", 1, 0, O_CKPT},
        {"checkpoint-minutes", 1, 0, O_CKPTMIN}, {"resume", 0, 0, O_RESUME},
        {"log", 1, 0, O_LOG}, {"init", 1, 0, O_INIT}, {"model", 1, 0, O_INIT},
        {"max-side", 1, 0, O_MAXSIDE}, {"data-threads", 1, 0, O_DTHREADS},
        {"val-every", 1, 0, O_VALEVERY}, {"val-crop", 1, 0, O_VALCROP},
        {"max-images", 1, 0, O_MAXIMG}, {"progress", 1, 0, O_PROGRESS},
        {"profile", 1, 0, O_PROFILE}, {"bank", 1, 0, O_BANK},
        {"teacher-ensemble", 1, 0, O_TENS}, {"bank-augment", 1, 0, O_BANKAUG},
        {"precision", 1, 0, O_PREC}, {"collapse", 1, 0, O_COLLAPSE},
        {"collapse-identity", 1, 0, O_COLLID}, {"check-every", 1, 0, O_CHECK},
        {"w-temporal", 1, 0, O_WTEMP}, {"temporal-shift", 1, 0, O_TSHIFT},
        {"temporal-flat", 1, 0, O_TFLAT}, {"temporal-noise", 1, 0, O_TNOISE},
        {"temporal-twin", 1, 0, O_TTWIN},
        {"first-conv", 1, 0, O_FIRST}, {"first-conv-grid", 1, 0, O_GRID},
        {"input-8bit", 1, 0, O_IN8}, {0, 0, 0, 0}};
    opterr = 0;
    int c, r;
    char *end;
#define NUM(dst, conv, lo_, hi_)                                                                   \
    do {                                                                                           \
        errno = 0;                                                                                 \
        double v_ = strtod(optarg, &end);                                                          \
        if (errno || end == optarg || *end || !(v_ >= (lo_) && v_ <= (hi_)))                       \
            return fail(EXIT_USAGE, "--%s must be a number in %g..%g (got \"%s\")",                \
                        lo[optind_opt].name, (double)(lo_), (double)(hi_), optarg);                \
        dst = (conv)v_;                                                                            \
    } while (0)
    int optind_opt = 0;
    while ((c = getopt_long(argc, argv, "", lo, &optind_opt)) != -1) {
        switch (c) {
        case O_DATA: o->data = optarg; break;
        case O_ARCH: o->arch = optarg; break;
        case O_OUT: o->out = optarg; break;
        case O_TEACHER: o->teacher = optarg; break;
        case O_TDIR: o->teacher_dir = optarg; break;
        case O_MIN: NUM(o->minutes, double, 0, 100000); break;
        case O_STEPS: NUM(o->steps, long, 0, 1e9); break;
        case O_BANK: NUM(o->bank, long, 0, 1e6); break;
        case O_TENS:
            if (strcmp(optarg, "1") && strcmp(optarg, "8"))
                return fail(EXIT_USAGE, "--teacher-ensemble must be 1 or 8 (got \"%s\")", optarg);
            o->t_ensemble = atoi(optarg);
            break;
        case O_BANKAUG:
            if (strcmp(optarg, "0") && strcmp(optarg, "1"))
                return fail(EXIT_USAGE, "--bank-augment must be 0 or 1 (got \"%s\")", optarg);
            o->bank_augment = atoi(optarg);
            break;
        case O_PREC:
            if ((r = parse_precision(o, optarg)) >= 0)
                return r;
            break;
        case O_COLLAPSE: NUM(o->collapse, int, 0, 4096); break;
        case O_COLLID: NUM(o->collapse_identity, int, 0, 1); break;
        case O_GRID: NUM(o->first_grid, int, 0, 1); break;
        case O_IN8: NUM(o->input8, int, 0, 1); break;
        case O_BATCH: NUM(o->batch, int, 1, 1024); break;
        case O_PATCH: NUM(o->patch, int, 16, 1024); break;
        case O_LR: NUM(o->lr, float, 0, 1); break;
        case O_WD: NUM(o->wd, float, 0, 1); break;
        case O_CLIP: NUM(o->clip, float, 0, 1e6); break;
        case O_WARM: NUM(o->warmup, int, 0, 1e7); break;
        case O_SEED: NUM(o->seed, uint64_t, 0, 1e15); break;
        case O_THREADS: NUM(o->threads, int, 0, 256); break;
        case O_LOSS:
            if (crisp_loss_parse(optarg, &o->gt_loss) < 0 || o->gt_loss == CRISP_LOSS_SSIM)
                return fail(EXIT_USAGE, "--loss must be l1, mse or charbonnier (got \"%s\")",
                            optarg);
            break;
        case O_WGT: NUM(o->w_gt, float, 0, 1000); break;
        case O_WSSIM: NUM(o->w_ssim, float, 0, 1000); break;
        case O_WSOFT: NUM(o->w_soft, float, 0, 1000); break;
        case O_WRES: NUM(o->w_res, float, 0, 1000); break;
        case O_WFEAT: NUM(o->w_feat, float, 0, 1000); break;
        case O_FEAT:
            if (parse_feat(o, optarg) < 0)
                return fail(EXIT_USAGE, "--feat wants S:T[,S:T...] layer indices (got \"%s\")",
                            optarg);
            break;
        case O_CKPT: o->checkpoint = optarg; break;
        case O_CKPTMIN: NUM(o->ckpt_minutes, double, 0, 1e6); break;
        case O_RESUME: o->resume = 1; break;
        case O_LOG: o->log = optarg; break;
        case O_INIT: o->init = optarg; break;
        case O_MAXSIDE: NUM(o->max_side, int, 64, 100000); break;
        case O_DTHREADS: NUM(o->data_threads, int, 1, 16); break;
        case O_VALEVERY: NUM(o->val_every, int, 2, 100000); break;
        case O_VALCROP: NUM(o->val_crop, int, 32, 4096); break;
        case O_MAXIMG: NUM(o->max_images, int, 0, 1e7); break;
        case O_PROGRESS: NUM(o->progress_s, double, 0, 1e6); break;
        case O_CHECK: NUM(o->check_every, int, 0, 1e9); break;
        case O_WTEMP: NUM(o->w_temporal, float, 0, 1000); break;
        case O_TSHIFT: NUM(o->temporal_shift, int, 1, 8); break;
        case O_TFLAT: NUM(o->temporal_flat, float, 0, 1); break;
        case O_TNOISE: NUM(o->temporal_noise, float, 0, 1); break;
        case O_TTWIN:
            if (strcmp(optarg, "shift") && strcmp(optarg, "codec"))
                return fail(EXIT_USAGE, "--temporal-twin must be shift or codec (got \"%s\")", optarg);
            o->temporal_codec = !strcmp(optarg, "codec");
            break;
        case O_FIRST:
            if (strcmp(optarg, "int8") && strcmp(optarg, "f32"))
                return fail(EXIT_USAGE, "--first-conv must be int8 or f32 (got \"%s\")", optarg);
            o->first_f32 = !strcmp(optarg, "f32");
            break;
        case O_PROFILE:
            if (degrade_set_profile(optarg) < 0)
                return fail(EXIT_USAGE, "--profile must be mixed, call, half, half-h264 or x2 (got \"%s\")", optarg);
            break;
        default: return fail(EXIT_USAGE, "%s: unknown option (see crisp-train -h)", cmd);
        }
    }
#undef NUM
    if (optind < argc)
        return fail(EXIT_USAGE, "%s: unexpected argument \"%s\"", cmd, argv[optind]);
    return -1;
}

/* 0 when a file can be written at `path` (tried beside it, then removed),
 * else -errno: an unwritable --out is found before training, not after */
static int check_writable(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    close(fd);
    unlink(tmp);
    return 0;
}

/* teacher and distill: the options must fit together; -1 or the exit code */
static int check_train(struct train_opts *o, const char *cmd)
{
    if (!o->data || !o->out || (!o->arch && !o->init))
        return fail(EXIT_USAGE, "%s: --data, --arch (or --init) and --out are required", cmd);
    if (o->minutes <= 0 && o->steps <= 0)
        return fail(EXIT_USAGE, "%s: give a budget with --minutes or --steps", cmd);
    if (o->distill && !o->teacher == !o->teacher_dir)
        return fail(EXIT_USAGE, "distill: give exactly one of --teacher and --teacher-dir");
    if (o->first_grid && o->collapse > 0)
        return fail(EXIT_USAGE, "--first-conv-grid does not go with --collapse");
    if (o->distill && o->teacher_dir && o->w_feat > 0)
        return fail(EXIT_USAGE, "distill: --w-feat needs a runnable --teacher, not --teacher-dir");
    if (!o->distill) {
        o->w_soft = o->w_res = o->w_feat = 0;
        if (o->teacher || o->teacher_dir)
            return fail(EXIT_USAGE, "teacher: --teacher and --teacher-dir belong to distill");
    }
    if (o->bank > 0 && o->w_feat > 0 && o->bank_augment)
        return fail(EXIT_USAGE, "distill: --w-feat with --bank stores the teacher's features of "
                                "each patch as drawn: add --bank-augment 0");
    if (o->bank > 0 && o->w_feat > 0 && !o->teacher)
        return fail(EXIT_USAGE, "distill: --w-feat needs a runnable --teacher");
    if (o->bank <= 0 && !o->bank_augment)
        return fail(EXIT_USAGE, "%s: --bank-augment belongs to --bank", cmd);
    if (o->t_ensemble > 1 && (!o->teacher || o->bank <= 0))
        return fail(EXIT_USAGE, "distill: --teacher-ensemble 8 needs --teacher and --bank");
    if (o->w_feat > 0 && o->n_feat == 0)
        return fail(EXIT_USAGE, "distill: --w-feat needs --feat S:T");
    if (o->w_temporal > 0 && (o->bank > 0 || o->teacher_dir))
        return fail(EXIT_USAGE, "%s: --w-temporal needs fresh patches: not with --bank or --teacher-dir",
                    cmd);
    int w = check_writable(o->out);
    if (w < 0)
        return fail(EXIT_INPUT, "%s: cannot write the model there (%s)", o->out, strerror(-w));
    return -1;
}

int main(int argc, char **argv)
{
    crisp_set_progname("crisp-train");
    crisp_media_set_verbose(0);
    if (argc < 2)
        return fail(EXIT_USAGE, "missing command (teacher, distill, quantize, export-degraded, "
                                "presets, bench; see crisp-train -h)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        fputs(USAGE, stdout);
        fputs(dist_available() ? USAGE_MPI : "\nThis crisp-train was built without MPI (-Dmpi).\n",
              stdout);
        return 0;
    }
    if (!strcmp(cmd, "presets")) {
        preset_list();
        return 0;
    }
    struct train_opts o = {.batch = 16, .patch = 96, .lr = 5e-4f, .clip = 1.0f, .warmup = 200,
                           .seed = 1, .gt_loss = CRISP_LOSS_L1, .w_gt = 1.0f, .w_soft = 1.0f,
                           .max_side = 1024, .data_threads = 1, .val_every = 20, .val_crop = 256,
                           .ckpt_minutes = 3, .progress_s = 30, .bank_augment = 1,
                           .collapse_identity = 1, .check_every = 100,
                           .temporal_shift = 2};
    o.distill = !strcmp(cmd, "distill");
    int r = parse_options(&o, cmd, argc - 1, argv + 1);
    if (r >= 0)
        return r;
    if (!strcmp(cmd, "bench")) {
        if (!o.arch)
            return fail(EXIT_USAGE, "bench: --arch is required");
        return bench_run(o.arch, o.batch, o.patch, o.steps > 0 ? (int)o.steps : 5, o.threads,
                         o.net_flags);
    }
    if (!strcmp(cmd, "quantize")) {
        if (!o.init || !o.data)
            return fail(EXIT_USAGE, "quantize: --model and --data are required");
        return quantize(o.init, o.data, o.out, o.max_images > 0 ? o.max_images : 32,
                        o.max_side < 640 ? o.max_side : 640, o.first_f32);
    }
    if (!strcmp(cmd, "export-degraded")) {
        if (!o.data || !o.out)
            return fail(EXIT_USAGE, "export-degraded: --data and --out are required");
        return export_degraded(o.data, o.out, o.max_side, o.seed);
    }
    if (strcmp(cmd, "teacher") && strcmp(cmd, "distill"))
        return fail(EXIT_USAGE, "unknown command \"%s\" (see crisp-train -h)", cmd);
    if ((r = check_train(&o, cmd)) >= 0)
        return r;
    struct dist d;
    dist_init(&d, &argc, &argv);
    o.dist = &d;
    char prog[48];
    if (d.rank) { /* messages name the rank that writes them */
        snprintf(prog, sizeof(prog), "crisp-train[rank %d]", d.rank);
        crisp_set_progname(prog);
    }
    if (!o.threads && d.local_size > 1 && !getenv("OMP_NUM_THREADS")) {
        /* ranks sharing a machine share its cores */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = cpus > d.local_size ? (int)(cpus / d.local_size) : 1;
    }
    r = train_run(&o);
    return dist_finish(&d, r, o.stopped_together);
}
