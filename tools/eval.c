// SPDX-License-Identifier: BSD-2-Clause
// crisp eval: degrade every image of a folder by a protocol, restore it with
// each model, and report mean PSNR-Y / SSIM-Y beside the degraded input and
// the classic unsharp mask (docs/evaluation.md).
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval.h"
#include "sharpen.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

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

int eval_run(const struct eval_params *p, char *err, size_t errlen)
{
    DIR *dir = opendir(p->data);
    if (!dir) {
        snprintf(err, errlen, "%s: %s", p->data, strerror(errno));
        return 1;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        const char *d = strrchr(e->d_name, '.');
        if (e->d_name[0] == '.' || !d ||
            (strcasecmp(d, ".png") && strcasecmp(d, ".jpg") && strcasecmp(d, ".jpeg") &&
             strcasecmp(d, ".bmp")))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, sizeof(char *) * (size_t)cap);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(dir);
    if (n == 0) {
        snprintf(err, errlen, "%s: no PNG/JPEG/BMP images", p->data);
        free(names);
        return 1;
    }
    qsort(names, (size_t)n, sizeof(char *), cmp_str);
    const int rows = p->n_models + 2;
    double *ps = calloc((size_t)rows, sizeof(double)), *ss = calloc((size_t)rows, sizeof(double));
    char (*row_names)[64] = calloc((size_t)rows, 64);
    struct crisp_model **models = calloc((size_t)rows, sizeof(*models));
    struct crisp_quant **quants = calloc((size_t)rows, sizeof(*quants));
    int *ensemble = calloc((size_t)rows, sizeof(int));
    int ret = 1, count = 0;
    snprintf(row_names[0], 64, "degraded");
    snprintf(row_names[1], 64, "unsharp");
    if (crisp_model_unsharp(&models[1], 0.8f, 1.0f) < 0) {
        snprintf(err, errlen, "cannot build the unsharp-mask model");
        goto done;
    }
    for (int m = 0; m < p->n_models; m++) {
        /* MODEL@int8 / MODEL@fp32 choose the precision; plain MODEL: int8 when MODEL.q8 exists;
         * a final "+x8" runs the geometric self-ensemble */
        char path[4096];
        snprintf(path, sizeof(path), "%s", p->models[m]);
        size_t pl = strlen(path);
        if (pl > 3 && !strcmp(path + pl - 3, "+x8")) {
            path[pl - 3] = 0;
            ensemble[m + 2] = 8;
        }
        char *at = strrchr(path, '@');
        const char *want = NULL;
        if (at && (!strcmp(at, "@int8") || !strcmp(at, "@fp32"))) {
            want = at + 1;
            *at = 0;
        }
        if (crisp_weights_load(&models[m + 2], path, err, errlen) < 0)
            goto done;
        stem(path, row_names[m + 2], 64);
        enum crisp_precision prec;
        char why[256];
        if (crisp_precision_choose(want, path, models[m + 2], &prec, &quants[m + 2], why, sizeof(why),
                                   err, errlen) < 0)
            goto done;
        if (prec == CRISP_PRECISION_INT8 || want) {
            size_t l = strlen(row_names[m + 2]);
            snprintf(row_names[m + 2] + l, 64 - l, "@%s", prec == CRISP_PRECISION_INT8 ? "int8" : "fp32");
        }
        if (ensemble[m + 2] > 1) {
            size_t l = strlen(row_names[m + 2]);
            snprintf(row_names[m + 2] + l, 64 - l, "+x8");
        }
    }
    int mult = !strcmp(p->protocol, "vc") ? 4 : !strcmp(p->protocol, "x2") ? 2 : 1;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", p->data, names[i]);
        struct crisp_image *img = NULL, *gt = NULL, *deg = NULL;
        if (crisp_image_read(&img, path, err, errlen) < 0)
            goto done;
        /* modcrop: the largest top-left window whose size suits the protocol */
        int cw = img->w / mult * mult, ch = img->h / mult * mult;
        if (crisp_image_create(&gt, cw, ch) < 0) {
            crisp_image_destroy(&img);
            snprintf(err, errlen, "%s: too small", path);
            goto done;
        }
        for (int y = 0; y < ch; y++)
            memcpy(gt->rgb + (size_t)y * cw * 3, img->rgb + (size_t)y * img->w * 3, (size_t)cw * 3);
        crisp_image_destroy(&img);
        char why[256];
        if (crisp_degrade_protocol(&deg, gt, p->protocol, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: %s", path, why);
            crisp_image_destroy(&gt);
            goto done;
        }
        for (int r = 0; r < rows; r++) {
            struct crisp_image *out = NULL;
            const struct crisp_image *test = deg;
            if (r > 0) {
                if (sharpen_image(models[r], BACKEND_DNNL, p->threads, quants[r], 1.0f, ensemble[r], deg, &out, why,
                                  sizeof(why)) < 0) {
                    snprintf(err, errlen, "%s with %s: %s", path, row_names[r], why);
                    crisp_image_destroy(&gt);
                    crisp_image_destroy(&deg);
                    goto done;
                }
                test = out;
            }
            double psnr, ssim;
            if (crisp_metrics_y(gt, test, p->crop, &psnr, &ssim) < 0) {
                snprintf(err, errlen, "%s: too small for crop %d", path, p->crop);
                crisp_image_destroy(&out);
                crisp_image_destroy(&gt);
                crisp_image_destroy(&deg);
                goto done;
            }
            ps[r] += psnr;
            ss[r] += ssim;
            if (p->verbose)
                fprintf(stderr, "%s %s psnr_y=%.4f ssim_y=%.6f\n", names[i], row_names[r], psnr,
                        ssim);
            crisp_image_destroy(&out);
        }
        count++;
        crisp_image_destroy(&gt);
        crisp_image_destroy(&deg);
    }
    printf("protocol %s, %d images of %s, Y channel (BT.601), border crop %d\n", p->protocol, count,
           p->data, p->crop);
    printf("%-24s %10s %10s %10s\n", "model", "PSNR-Y", "SSIM-Y", "dPSNR");
    for (int r = 0; r < rows; r++)
        printf("%-24s %10.4f %10.6f %+10.4f\n", row_names[r], ps[r] / count, ss[r] / count,
               (ps[r] - ps[0]) / count);
    if (p->json) {
        FILE *f = fopen(p->json, "w");
        if (!f) {
            snprintf(err, errlen, "%s: %s", p->json, strerror(errno));
            goto done;
        }
        fprintf(f, "{\"protocol\": \"%s\", \"images\": %d, \"crop\": %d, \"results\": {", p->protocol,
                count, p->crop);
        for (int r = 0; r < rows; r++)
            fprintf(f, "%s\"%s\": {\"psnr_y\": %.6f, \"ssim_y\": %.8f}", r ? ", " : "", row_names[r],
                    ps[r] / count, ss[r] / count);
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
    for (int r = 0; r < rows; r++) {
        crisp_model_destroy(&models[r]);
        if (quants)
            crisp_quant_destroy(&quants[r]);
    }
    free(models);
    free(quants);
    free(ensemble);
    free(ps);
    free(ss);
    free(row_names);
    return ret;
}
