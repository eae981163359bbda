// SPDX-License-Identifier: BSD-2-Clause
// crisp eval (eval.h): the rows shared by stills and video, and the still
// images of a folder: every image degraded by a protocol, restored by each
// row, scored on Y; means printed and written as JSON. Main thread.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval.h"

static void stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    if (snprintf(out, n, "%s", b) >= (int)n)
        out[n - 1] = 0; /* a long name is shortened */
    char *d = strrchr(out, '.');
    if (d)
        *d = 0;
}

/* row r from "MODEL[@int8|@fp32][+x8]"; 0 or < 0 with err filled */
static int load_row(struct eval_rows *rows, int r, const char *spec, char *err, size_t errlen)
{
    /* MODEL@int8 / MODEL@fp32 choose the precision; plain MODEL: int8 when MODEL.q8 exists;
     * a final "+x8" runs the geometric self-ensemble */
    char path[4096];
    snprintf(path, sizeof(path), "%s", spec);
    size_t pl = strlen(path);
    int ensemble = 1;
    if (pl > 3 && !strcmp(path + pl - 3, "+x8")) {
        path[pl - 3] = 0;
        ensemble = 8;
    }
    char *at = strrchr(path, '@');
    const char *want = NULL;
    if (at && (!strcmp(at, "@int8") || !strcmp(at, "@fp32"))) {
        want = at + 1;
        *at = 0;
    }
    int ret;
    if ((ret = crisp_weights_load(&rows->models[r], path, err, errlen)) < 0)
        return ret;
    char *name = rows->names[r];
    stem(path, name, 64);
    enum crisp_precision prec;
    char why[256];
    if ((ret = crisp_precision_choose(want, path, rows->models[r], &prec, &rows->quants[r], why,
                                      sizeof(why), err, errlen)) < 0)
        return ret;
    if (prec == CRISP_PRECISION_INT8 || want) {
        size_t l = strlen(name);
        snprintf(name + l, 64 - l, "@%s", prec == CRISP_PRECISION_INT8 ? "int8" : "fp32");
    }
    if (ensemble > 1) {
        size_t l = strlen(name);
        snprintf(name + l, 64 - l, "+x8");
    }
    rows->sh[r].ensemble = ensemble;
    return 0;
}

int eval_rows_load(const struct eval_params *p, struct eval_rows *rows, char *err, size_t errlen)
{
    const int n = p->n_models + 2;
    memset(rows, 0, sizeof(*rows));
    rows->names = calloc((size_t)n, 64);
    rows->models = calloc((size_t)n, sizeof(*rows->models));
    rows->quants = calloc((size_t)n, sizeof(*rows->quants));
    rows->sh = calloc((size_t)n, sizeof(*rows->sh));
    rows->psnr = calloc((size_t)n, sizeof(double));
    rows->ssim = calloc((size_t)n, sizeof(double));
    rows->flicker = calloc((size_t)n, sizeof(double));
    if (!rows->names || !rows->models || !rows->quants || !rows->sh || !rows->psnr ||
        !rows->ssim || !rows->flicker) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    rows->n = n;
    rows->strength = p->strength;
    snprintf(rows->names[0], 64, "degraded");
    snprintf(rows->names[1], 64, "unsharp");
    if (crisp_model_unsharp(&rows->models[1], 0.8f, 1.0f) < 0) {
        snprintf(err, errlen, "cannot build the unsharp-mask model");
        return 1;
    }
    rows->sh[1].ensemble = 1;
    for (int m = 0; m < p->n_models; m++)
        if (load_row(rows, m + 2, p->models[m], err, errlen) < 0)
            return 1;
    for (int r = 1; r < n; r++) {
        rows->sh[r].m = rows->models[r];
        rows->sh[r].q = rows->quants[r];
        rows->sh[r].threads = p->threads;
        rows->sh[r].backend = BACKEND_DNNL;
        rows->sh[r].float_luma = p->float_luma;
    }
    return 0;
}

void eval_rows_free(struct eval_rows *rows)
{
    for (int r = 0; r < rows->n; r++) {
        sharpener_free(&rows->sh[r]);
        crisp_model_destroy(&rows->models[r]);
        crisp_quant_destroy(&rows->quants[r]);
    }
    free(rows->names);
    free(rows->models);
    free(rows->quants);
    free(rows->sh);
    free(rows->psnr);
    free(rows->ssim);
    free(rows->flicker);
    memset(rows, 0, sizeof(*rows));
}

int eval_rows_restore(struct eval_rows *rows, int r, const struct crisp_image *deg,
                      struct crisp_image **out, char *err, size_t errlen)
{
    *out = NULL;
    if (r == 0)
        return 0;
    char why[256];
    int ret = sharpener_run(&rows->sh[r], r >= 2 ? rows->strength : 1.0f, deg, out, why, sizeof(why));
    if (ret < 0)
        snprintf(err, errlen, "%s: %s", rows->names[r], why);
    return ret;
}

/* the image files of a folder, sorted; n 0 with err filled when none */
static char **list_images(const char *dir_path, int *n_out, char *err, size_t errlen)
{
    char **names = NULL;
    int ret = crisp_image_list(dir_path, &names, n_out);
    if (ret < 0)
        snprintf(err, errlen, "%s: %s", dir_path, strerror(-ret));
    else if (*n_out == 0)
        snprintf(err, errlen, "%s: no PNG/JPEG/BMP images", dir_path);
    return names;
}

/* one image: modcrop, degrade, every row; 0 or 1 with err filled */
static int eval_image(const struct eval_params *p, struct eval_rows *rows, const char *name,
                      char *err, size_t errlen)
{
    const int mult = !strcmp(p->protocol, "vc") ? 4 : !strcmp(p->protocol, "x2") ? 2 : 1;
    char path[4096], why[256];
    snprintf(path, sizeof(path), "%s/%s", p->data, name);
    struct crisp_image *img = NULL, *gt = NULL, *deg = NULL, *out = NULL;
    int ret = 1;
    if (crisp_image_read(&img, path, err, errlen) < 0)
        return 1;
    /* modcrop: the largest top-left window whose size suits the protocol */
    int cw = img->w / mult * mult, ch = img->h / mult * mult;
    if (crisp_image_crop(&gt, img, cw, ch) < 0) {
        snprintf(err, errlen, "%s: too small", path);
        goto done;
    }
    if (crisp_degrade_protocol(&deg, gt, p->protocol, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto done;
    }
    for (int r = 0; r < rows->n; r++) {
        char msg[1024];
        if (eval_rows_restore(rows, r, deg, &out, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s with %s", path, msg);
            goto done;
        }
        double psnr, ssim;
        if (crisp_metrics_y(gt, out ? out : deg, p->crop, &psnr, &ssim) < 0) {
            snprintf(err, errlen, "%s: too small for crop %d", path, p->crop);
            goto done;
        }
        rows->psnr[r] += psnr;
        rows->ssim[r] += ssim;
        if (p->verbose)
            fprintf(stderr, "%s %s psnr_y=%.4f ssim_y=%.6f\n", name, rows->names[r], psnr, ssim);
        crisp_image_destroy(&out);
    }
    ret = 0;
done:
    crisp_image_destroy(&out);
    crisp_image_destroy(&img);
    crisp_image_destroy(&gt);
    crisp_image_destroy(&deg);
    return ret;
}

static int eval_stills(const struct eval_params *p, struct eval_rows *rows, char *err,
                       size_t errlen)
{
    int n, ret = 1, count = 0;
    char **names = list_images(p->data, &n, err, errlen);
    for (int i = 0; i < n; i++) {
        if (eval_image(p, rows, names[i], err, errlen))
            goto done;
        count++;
    }
    if (n == 0)
        goto done;
    printf("protocol %s, %d images of %s, Y channel (BT.601), border crop %d; luma models fed %s Y",
           p->protocol, count, p->data, p->crop, p->float_luma ? "unrounded" : "8-bit");
    if (p->strength != 1.0f)
        printf("; models at strength %g", p->strength);
    printf("\n");
    printf("%-24s %10s %10s %10s\n", "model", "PSNR-Y", "SSIM-Y", "dPSNR");
    for (int r = 0; r < rows->n; r++)
        printf("%-24s %10.4f %10.6f %+10.4f\n", rows->names[r], rows->psnr[r] / count,
               rows->ssim[r] / count, (rows->psnr[r] - rows->psnr[0]) / count);
    if (p->json) {
        FILE *f = fopen(p->json, "w");
        if (!f) {
            snprintf(err, errlen, "%s: %s", p->json, strerror(errno));
            goto done;
        }
        fprintf(f, "{\"protocol\": \"%s\", \"images\": %d, \"crop\": %d, \"luma_input\": \"%s\", "
                   "\"strength\": %g, \"results\": {",
                p->protocol, count, p->crop, p->float_luma ? "float" : "8bit", p->strength);
        for (int r = 0; r < rows->n; r++)
            fprintf(f, "%s\"%s\": {\"psnr_y\": %.6f, \"ssim_y\": %.8f}", r ? ", " : "",
                    rows->names[r], rows->psnr[r] / count, rows->ssim[r] / count);
        fprintf(f, "}}\n");
        if (fclose(f) != 0) {
            snprintf(err, errlen, "%s: write failed", p->json);
            goto done;
        }
    }
    ret = 0;
done:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ret;
}

int eval_run(const struct eval_params *p, char *err, size_t errlen)
{
    struct eval_rows rows;
    int ret = eval_rows_load(p, &rows, err, errlen);
    if (!ret)
        ret = p->video ? eval_video(p, &rows, err, errlen) : eval_stills(p, &rows, err, errlen);
    eval_rows_free(&rows);
    return ret;
}
