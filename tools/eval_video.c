// SPDX-License-Identifier: BSD-2-Clause
// crisp eval --video (eval.h): a clip's decoded frames are the reference;
// the whole sequence is degraded as a real call degrades it
// (crisp_degrade_stream: x2, or vc with inter-coded H.264), restored by each
// row, and scored per frame (PSNR-Y, SSIM-Y) and per frame pair (the
// flicker metric, crisp_metrics_tde), averaged over the clip.
//
// Frames stream through: the reference, the degraded frame and each row's
// output exist for one frame at a time, plus each row's previous Y plane
// for the flicker metric, so memory does not grow with the clip's length.
// Main thread; owns the reader, the degrader and the Y planes.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

/* the clip's state while it streams through */
struct video_run {
    struct crisp_video_reader *rd;
    struct crisp_degrade_stream *ds;
    int w0, h0, w, h; /* the clip's size, and the size scored (cropped to the protocol) */
    double fps;
    long frames;
    uint8_t *y; /* (rows + 1) x 2 planes of w x h: [row][previous/current]; the last row is g */
    struct crisp_image *prev; /* the previous degraded frame: frame-pair models read it */
};

static uint8_t *yplane(struct video_run *v, int row, long t)
{
    return v->y + ((size_t)row * 2 + (size_t)(t & 1)) * (size_t)v->w * v->h;
}

static int video_open(const struct eval_params *p, struct video_run *v, int rows, char *err,
                      size_t errlen)
{
    if (crisp_video_open(&v->rd, p->video, err, errlen) < 0)
        return 1;
    crisp_video_info(v->rd, &v->w0, &v->h0, &v->fps);
    /* as stills: the largest top-left window whose size suits the protocol */
    const int mult = !strcmp(p->protocol, "vc") ? 4 : 2;
    v->w = v->w0 / mult * mult;
    v->h = v->h0 / mult * mult;
    char why[256];
    if (crisp_degrade_stream_open(&v->ds, p->protocol, v->w, v->h, v->fps, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s (%dx%d): %s", p->video, v->w0, v->h0, why);
        return 1;
    }
    v->y = malloc((size_t)(rows + 1) * 2 * (size_t)v->w * v->h);
    if (!v->y) {
        snprintf(err, errlen, "out of memory for %dx%d frames", v->w, v->h);
        return 1;
    }
    return 0;
}

/* one reference frame: degrade, restore by every row, score; 0 or 1 */
static int video_frame(const struct eval_params *p, struct eval_rows *rows, struct video_run *v,
                       const struct crisp_image *img, char *err, size_t errlen)
{
    const long t = v->frames;
    struct crisp_image *gt = NULL, *deg = NULL, *out = NULL;
    int ret = 1;
    if (img->w != v->w0 || img->h != v->h0) {
        snprintf(err, errlen, "%s: frame %ld is %dx%d, the clip started at %dx%d", p->video, t,
                 img->w, img->h, v->w0, v->h0);
        return 1;
    }
    if (crisp_image_crop(&gt, img, v->w, v->h) < 0 ||
        crisp_degrade_stream_frame(v->ds, gt, &deg) < 0) {
        snprintf(err, errlen, "%s: frame %ld: the %s degradation failed", p->video, t, p->protocol);
        goto done;
    }
    uint8_t *g = yplane(v, rows->n, t);
    crisp_image_luma_u8(gt, g);
    for (int r = 0; r < rows->n; r++) {
        rows->sh[r].prev = v->prev; /* NULL on the first frame: a still */
        if (eval_rows_restore(rows, r, deg, &out, err, errlen) < 0)
            goto done;
        const struct crisp_image *o = out ? out : deg;
        uint8_t *y = yplane(v, r, t);
        crisp_image_luma_u8(o, y);
        double psnr, ssim; /* crisp_metrics_y, on the Y planes made once */
        if (crisp_metrics_plane(g, y, v->w, v->h, p->crop, &psnr, &ssim) < 0) {
            snprintf(err, errlen, "%s: %dx%d frames are too small for crop %d", p->video, v->w,
                     v->h, p->crop);
            goto done;
        }
        double fl = t ? crisp_metrics_tde(yplane(v, r, t - 1), y, yplane(v, rows->n, t - 1), g,
                                          v->w, v->h, p->crop)
                      : 0;
        rows->psnr[r] += psnr;
        rows->ssim[r] += ssim;
        rows->flicker[r] += fl;
        if (p->verbose)
            fprintf(stderr, "frame %ld %s psnr_y=%.4f ssim_y=%.6f flicker=%.4f\n", t,
                    rows->names[r], psnr, ssim, fl);
        crisp_image_destroy(&out);
    }
    for (int r = 0; r < rows->n; r++)
        rows->sh[r].prev = NULL;
    crisp_image_destroy(&v->prev);
    v->prev = deg;
    deg = NULL;
    v->frames++;
    ret = 0;
done:
    crisp_image_destroy(&out);
    crisp_image_destroy(&gt);
    crisp_image_destroy(&deg);
    return ret;
}

static void video_report(const struct eval_params *p, const struct eval_rows *rows,
                         const struct video_run *v)
{
    const long n = v->frames, pairs = n - 1;
    printf("protocol %s on video, %ld frames of %s (%dx%d at %.3g fps, scored %dx%d), Y channel "
           "(BT.601), border crop %d; luma models fed %s Y\n",
           p->protocol, n, p->video, v->w0, v->h0, v->fps, v->w, v->h, p->crop,
           p->float_luma ? "unrounded" : "8-bit");
    if (p->strength != 1.0f)
        printf("models at strength %g\n", p->strength);
    printf("flicker: mean |(o_t - o_t-1) - (g_t - g_t-1)| over %ld frame pairs, 8-bit units; the "
           "degraded input's is %.4f\n",
           pairs, rows->flicker[0] / pairs);
    printf("%-24s %10s %10s %10s %10s\n", "model", "PSNR-Y", "SSIM-Y", "dPSNR", "flicker");
    for (int r = 0; r < rows->n; r++)
        printf("%-24s %10.4f %10.6f %+10.4f %10.4f\n", rows->names[r], rows->psnr[r] / n,
               rows->ssim[r] / n, (rows->psnr[r] - rows->psnr[0]) / n, rows->flicker[r] / pairs);
}

static int video_json(const struct eval_params *p, const struct eval_rows *rows,
                      const struct video_run *v, char *err, size_t errlen)
{
    const long n = v->frames, pairs = n - 1;
    FILE *f = fopen(p->json, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", p->json, strerror(errno));
        return 1;
    }
    fprintf(f,
            "{\"video\": \"%s\", \"protocol\": \"%s\", \"frames\": %ld, \"width\": %d, "
            "\"height\": %d, \"fps\": %.4f, \"crop\": %d, \"luma_input\": \"%s\", \"strength\": %g, "
            "\"results\": {",
            p->video, p->protocol, n, v->w, v->h, v->fps, p->crop, p->float_luma ? "float" : "8bit",
            p->strength);
    for (int r = 0; r < rows->n; r++)
        fprintf(f, "%s\"%s\": {\"psnr_y\": %.6f, \"ssim_y\": %.8f, \"flicker\": %.6f}",
                r ? ", " : "", rows->names[r], rows->psnr[r] / n, rows->ssim[r] / n,
                rows->flicker[r] / pairs);
    fprintf(f, "}}\n");
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write failed", p->json);
        return 1;
    }
    return 0;
}

int eval_video(const struct eval_params *p, struct eval_rows *rows, char *err, size_t errlen)
{
    struct video_run v = {0};
    int ret = video_open(p, &v, rows->n, err, errlen);
    while (!ret && (p->frames <= 0 || v.frames < p->frames)) {
        struct crisp_image *img = NULL;
        int r = crisp_video_read(v.rd, &img);
        if (r == 0)
            break;
        if (r < 0) {
            snprintf(err, errlen, "%s: frame %ld cannot be decoded: %s", p->video, v.frames,
                     crisp_strerror(r));
            ret = 1;
        } else {
            ret = video_frame(p, rows, &v, img, err, errlen);
        }
        crisp_image_destroy(&img);
    }
    if (!ret && p->frames > 0 && v.frames < p->frames) {
        snprintf(err, errlen, "%s has %ld frames; --frames %ld asks for more", p->video, v.frames,
                 p->frames);
        ret = 1;
    }
    if (!ret && v.frames < 2) {
        snprintf(err, errlen, "%s: %ld frame%s; the flicker metric needs at least 2", p->video,
                 v.frames, v.frames == 1 ? "" : "s");
        ret = 1;
    }
    if (!ret) {
        video_report(p, rows, &v);
        if (p->json)
            ret = video_json(p, rows, &v, err, errlen);
    }
    crisp_degrade_stream_close(&v.ds);
    crisp_video_close(&v.rd);
    crisp_image_destroy(&v.prev);
    free(v.y);
    return ret;
}

/* crisp compare --video: the sums over frames of TEST against REF */
struct compare_run {
    int w, h, crop;
    long t;
    uint8_t *y; /* [ref, test] x [previous, current] planes of w x h */
    double psnr, ssim, flicker;
};

/* one frame pair; 0, or 1 with err */
static int compare_frame(struct compare_run *c, const struct crisp_image *g,
                         const struct crisp_image *o, char *err, size_t errlen)
{
    if (o->w != g->w || o->h != g->h || (c->t && (g->w != c->w || g->h != c->h))) {
        snprintf(err, errlen, "frame %ld: sizes differ (%dx%d and %dx%d%s)", c->t, g->w, g->h,
                 o->w, o->h, c->t ? ", or not as the clips started" : "");
        return 1;
    }
    c->w = g->w;
    c->h = g->h;
    const size_t np = (size_t)c->w * c->h, cur = (size_t)(c->t & 1), prev = cur ^ 1;
    if (!c->y && !(c->y = malloc(4 * np))) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    crisp_image_luma_u8(g, c->y + cur * np);
    crisp_image_luma_u8(o, c->y + (2 + cur) * np);
    double psnr, ssim; /* crisp_metrics_y, on the Y planes made once */
    if (crisp_metrics_plane(c->y + cur * np, c->y + (2 + cur) * np, c->w, c->h, c->crop, &psnr,
                            &ssim) < 0) {
        snprintf(err, errlen, "%dx%d with crop %d leaves less than an 11x11 window", c->w, c->h,
                 c->crop);
        return 1;
    }
    if (c->t)
        c->flicker += crisp_metrics_tde(c->y + (2 + prev) * np, c->y + (2 + cur) * np,
                                        c->y + prev * np, c->y + cur * np, c->w, c->h, c->crop);
    c->psnr += psnr;
    c->ssim += ssim;
    c->t++;
    return 0;
}

int video_compare(const char *ref, const char *test, int crop, char *err, size_t errlen)
{
    struct crisp_video_reader *rd[2] = {NULL, NULL};
    const char *paths[2] = {ref, test};
    struct compare_run c = {.crop = crop};
    int ret = 1;
    for (int k = 0; k < 2; k++)
        if (crisp_video_open(&rd[k], paths[k], err, errlen) < 0)
            goto done;
    for (;;) {
        struct crisp_image *img[2] = {NULL, NULL};
        int r[2] = {crisp_video_read(rd[0], &img[0]), crisp_video_read(rd[1], &img[1])};
        int bad = 1;
        if (r[0] < 0 || r[1] < 0)
            snprintf(err, errlen, "%s: frame %ld cannot be decoded", paths[r[0] < 0 ? 0 : 1], c.t);
        else if (r[0] != r[1])
            snprintf(err, errlen, "%s ends after %ld frames, %s goes on", paths[r[0] ? 1 : 0],
                     c.t, paths[r[0] ? 0 : 1]);
        else
            bad = r[0] && compare_frame(&c, img[0], img[1], err, errlen);
        crisp_image_destroy(&img[0]);
        crisp_image_destroy(&img[1]);
        if (bad)
            goto done;
        if (!r[0])
            break;
    }
    if (c.t < 2) {
        snprintf(err, errlen, "%s: %ld frame%s; the flicker metric needs at least 2", ref, c.t,
                 c.t == 1 ? "" : "s");
        goto done;
    }
    printf("frames=%ld psnr_y=%.4f ssim_y=%.6f flicker=%.4f\n", c.t, c.psnr / c.t, c.ssim / c.t,
           c.flicker / (c.t - 1));
    ret = 0;
done:
    crisp_video_close(&rd[0]);
    crisp_video_close(&rd[1]);
    free(c.y);
    return ret;
}
