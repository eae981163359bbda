// SPDX-License-Identifier: BSD-2-Clause
// Still images through libavcodec (PNG, JPEG, BMP, PNM) and libswscale.
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libavutil/imgutils.h>
#include <libavutil/dict.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

#include "crisp/log.h"
#include "crisp/util.h"
#include "internal.h"

static void seterr(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

void crisp_media_set_verbose(int verbose) { av_log_set_level(verbose ? AV_LOG_WARNING : AV_LOG_QUIET); }

int crisp_media_averr(int averr, const char *what)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(averr, buf, sizeof(buf));
    crisp_log(CRISP_LOG_DEBUG, "FFmpeg: %s: %s", what, buf);
    /* AVERROR(errno) is -errno: keep it, so "No space left on device" and
     * its kin reach the user by name; FFmpeg's own codes become CRISP_EAV */
    return averr < 0 && averr > -4096 ? averr : CRISP_EAV;
}

int crisp_image_create(struct crisp_image **out, int w, int h)
{
    *out = NULL;
    if (w < 1 || h < 1 || w > CRISP_IMAGE_MAX_DIM || h > CRISP_IMAGE_MAX_DIM)
        return CRISP_EFORMAT;
    struct crisp_image *img = calloc(1, sizeof(*img));
    if (!img)
        return -ENOMEM;
    img->w = w;
    img->h = h;
    img->rgb = crisp_aalloc((size_t)w * h * 3);
    if (!img->rgb) {
        free(img);
        return -ENOMEM;
    }
    *out = img;
    return 0;
}

int crisp_image_crop(struct crisp_image **out, const struct crisp_image *src, int w, int h)
{
    *out = NULL;
    if (w > src->w || h > src->h)
        return CRISP_EFORMAT;
    int ret = crisp_image_create(out, w, h);
    if (ret < 0)
        return ret;
    for (int y = 0; y < h; y++)
        memcpy((*out)->rgb + (size_t)y * w * 3, src->rgb + (size_t)y * src->w * 3, (size_t)w * 3);
    return 0;
}

void crisp_image_destroy(struct crisp_image **pimg)
{
    if (!pimg || !*pimg)
        return;
    crisp_afree((*pimg)->rgb);
    free(*pimg);
    *pimg = NULL;
}

int crisp_image_clone(struct crisp_image **out, const struct crisp_image *src)
{
    int ret = crisp_image_create(out, src->w, src->h);
    if (ret == 0)
        memcpy((*out)->rgb, src->rgb, (size_t)src->w * src->h * 3);
    return ret;
}

static int is_full_range(enum AVPixelFormat f)
{
    return f == AV_PIX_FMT_YUVJ420P || f == AV_PIX_FMT_YUVJ422P || f == AV_PIX_FMT_YUVJ444P ||
           f == AV_PIX_FMT_YUVJ440P || f == AV_PIX_FMT_YUVJ411P;
}

/* swscale with BT.601 matrices; full range where the format says so */
static struct SwsContext *make_sws(int sw, int sh, enum AVPixelFormat sf, int dw, int dh,
                                   enum AVPixelFormat df, int flags, int src_full)
{
    struct SwsContext *s =
        sws_getContext(sw, sh, sf, dw, dh, df,
                       flags | SWS_ACCURATE_RND | SWS_BITEXACT | SWS_FULL_CHR_H_INT |
                           SWS_FULL_CHR_H_INP,
                       NULL, NULL, NULL);
    if (!s)
        return NULL;
    const int *coef = sws_getCoefficients(SWS_CS_ITU601);
    int dst_full = is_full_range(df) || df == AV_PIX_FMT_RGB24 || df == AV_PIX_FMT_GBRP;
    sws_setColorspaceDetails(s, coef, src_full, coef, dst_full, 0, 1 << 16, 1 << 16);
    return s;
}

int crisp_media_rgb_to_frame(const struct crisp_image *img, enum AVPixelFormat fmt, AVFrame **out)
{
    *out = NULL;
    AVFrame *f = av_frame_alloc();
    if (!f)
        return -ENOMEM;
    f->format = fmt;
    f->width = img->w;
    f->height = img->h;
    int ret = av_frame_get_buffer(f, 64);
    if (ret < 0) {
        av_frame_free(&f);
        return crisp_media_averr(ret, "frame buffer");
    }
    if (fmt == AV_PIX_FMT_RGB24) {
        for (int y = 0; y < img->h; y++)
            memcpy(f->data[0] + (size_t)y * f->linesize[0], img->rgb + (size_t)y * img->w * 3,
                   (size_t)img->w * 3);
    } else {
        struct SwsContext *s =
            make_sws(img->w, img->h, AV_PIX_FMT_RGB24, img->w, img->h, fmt, SWS_BICUBIC, 1);
        if (!s) {
            av_frame_free(&f);
            return CRISP_EAV;
        }
        const uint8_t *src[4] = {img->rgb, NULL, NULL, NULL};
        int sls[4] = {img->w * 3, 0, 0, 0};
        sws_scale(s, src, sls, 0, img->h, f->data, f->linesize);
        sws_freeContext(s);
        if (is_full_range(fmt))
            f->color_range = AVCOL_RANGE_JPEG;
        else {
            f->color_range = AVCOL_RANGE_MPEG;
            f->colorspace = AVCOL_SPC_SMPTE170M;
        }
    }
    *out = f;
    return 0;
}

int crisp_media_frame_to_rgb(const AVFrame *f, struct crisp_image **out)
{
    *out = NULL;
    struct crisp_image *img;
    int ret = crisp_image_create(&img, f->width, f->height);
    if (ret < 0)
        return ret;
    int full = is_full_range((enum AVPixelFormat)f->format) || f->color_range == AVCOL_RANGE_JPEG;
    struct SwsContext *s = make_sws(f->width, f->height, (enum AVPixelFormat)f->format, f->width,
                                    f->height, AV_PIX_FMT_RGB24, SWS_BICUBIC, full);
    if (!s) {
        crisp_image_destroy(&img);
        return CRISP_EFORMAT;
    }
    uint8_t *dst[4] = {img->rgb, NULL, NULL, NULL};
    int dls[4] = {img->w * 3, 0, 0, 0};
    sws_scale(s, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dls);
    sws_freeContext(s);
    *out = img;
    return 0;
}

int crisp_media_decode_one(enum AVCodecID id, const uint8_t *data, size_t len, AVFrame **out)
{
    *out = NULL;
    const AVCodec *codec = avcodec_find_decoder(id);
    if (!codec)
        return CRISP_EAV;
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int ret = -ENOMEM;
    if (!ctx || !pkt || !f || len > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        goto done;
    ctx->thread_count = 1;
    ctx->err_recognition = AV_EF_EXPLODE | AV_EF_CRCCHECK;
    if ((ret = avcodec_open2(ctx, codec, NULL)) < 0) {
        ret = crisp_media_averr(ret, "open decoder");
        goto done;
    }
    if ((ret = av_new_packet(pkt, (int)len)) < 0) {
        ret = crisp_media_averr(ret, "packet");
        goto done;
    }
    memcpy(pkt->data, data, len);
    ret = avcodec_send_packet(ctx, pkt);
    if (ret < 0) {
        ret = crisp_media_averr(ret, "decode");
        goto done;
    }
    avcodec_send_packet(ctx, NULL); /* flush: a delayed decoder returns the frame now */
    ret = avcodec_receive_frame(ctx, f);
    if (ret < 0) {
        ret = crisp_media_averr(ret, "decode");
        goto done;
    }
    if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
        ret = CRISP_EBADFILE;
        goto done;
    }
    *out = f;
    f = NULL;
    ret = 0;
done:
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return ret;
}

int crisp_media_encode_one(AVCodecContext *ctx, const AVFrame *f, AVPacket **out)
{
    *out = NULL;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return -ENOMEM;
    int ret = avcodec_send_frame(ctx, f);
    if (ret >= 0)
        ret = avcodec_send_frame(ctx, NULL);
    if (ret >= 0)
        ret = avcodec_receive_packet(ctx, pkt);
    if (ret < 0) {
        av_packet_free(&pkt);
        return crisp_media_averr(ret, "encode");
    }
    *out = pkt;
    return 0;
}

/* A decoder may conceal a truncated stream; check the container's end marker. */
static int png_complete(const uint8_t *b, size_t n)
{
    static const uint8_t iend[8] = {0, 0, 0, 0, 'I', 'E', 'N', 'D'};
    for (size_t i = n >= 12 ? n - 12 : 0; i + 8 <= n && n >= 12; i++)
        if (!memcmp(b + i, iend, 8))
            return 1;
    return 0;
}

static int jpeg_complete(const uint8_t *b, size_t n)
{
    /* the end-of-image marker, allowing padding some writers leave after it;
     * 0xFF in entropy-coded data is always byte-stuffed, so FF D9 near the
     * end cannot come from an image cut short */
    size_t from = n > 4096 ? n - 4096 : 2;
    for (size_t i = n; i-- > from + 1;)
        if (b[i - 1] == 0xFF && b[i] == 0xD9)
            return 1;
    return 0;
}

int crisp_image_decode(struct crisp_image **out, const uint8_t *buf, size_t len, char *err,
                       size_t errlen)
{
    *out = NULL;
    enum AVCodecID id;
    const char *kind;
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 8 && !memcmp(buf, png_sig, 8)) {
        id = AV_CODEC_ID_PNG;
        kind = "PNG";
        if (!png_complete(buf, len)) {
            seterr(err, errlen, "truncated PNG (no IEND chunk)");
            return CRISP_EBADFILE;
        }
    } else if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF) {
        id = AV_CODEC_ID_MJPEG;
        kind = "JPEG";
        if (!jpeg_complete(buf, len)) {
            seterr(err, errlen, "truncated JPEG (no end-of-image marker)");
            return CRISP_EBADFILE;
        }
    } else if (len >= 2 && buf[0] == 'B' && buf[1] == 'M') {
        id = AV_CODEC_ID_BMP;
        kind = "BMP";
    } else if (len >= 2 && buf[0] == 'P' && (buf[1] == '5' || buf[1] == '6')) {
        id = buf[1] == '5' ? AV_CODEC_ID_PGM : AV_CODEC_ID_PPM;
        kind = "PNM";
    } else {
        seterr(err, errlen, "not a PNG, JPEG, BMP or PNM image (%zu bytes)", len);
        return CRISP_EBADFILE;
    }
    AVFrame *f;
    int ret = crisp_media_decode_one(id, buf, len, &f);
    if (ret < 0) {
        seterr(err, errlen, "cannot decode %s data (corrupt or truncated)", kind);
        return ret == -ENOMEM ? ret : CRISP_EBADFILE;
    }
    if (f->width < 1 || f->height < 1 || f->width > CRISP_IMAGE_MAX_DIM ||
        f->height > CRISP_IMAGE_MAX_DIM) {
        seterr(err, errlen, "%s size %dx%d out of range", kind, f->width, f->height);
        av_frame_free(&f);
        return CRISP_EFORMAT;
    }
    ret = crisp_media_frame_to_rgb(f, out);
    if (ret < 0)
        seterr(err, errlen, "cannot convert %s pixel format %s to RGB", kind,
               av_get_pix_fmt_name((enum AVPixelFormat)f->format) ?: "?");
    /* EXIF orientation (FFmpeg's JPEG decoder exports it as frame metadata) */
    const AVDictionaryEntry *o = av_dict_get(f->metadata, "Orientation", NULL, 0);
    if (ret == 0 && o) {
        int v = atoi(o->value);
        struct crisp_image *r;
        if (v >= 2 && v <= 8 && crisp_image_orient(&r, *out, v) == 0) {
            crisp_image_destroy(out);
            *out = r;
        }
    }
    av_frame_free(&f);
    return ret;
}

int crisp_image_orient(struct crisp_image **out, const struct crisp_image *in, int orientation)
{
    *out = NULL;
    if (orientation < 1 || orientation > 8)
        return CRISP_EUSAGE;
    const int W = in->w, H = in->h, swap = orientation >= 5;
    int ret = crisp_image_create(out, swap ? H : W, swap ? W : H);
    if (ret < 0)
        return ret;
    struct crisp_image *o = *out;
    for (int y = 0; y < o->h; y++)
        for (int x = 0; x < o->w; x++) {
            int sx, sy;
            switch (orientation) {
            case 2: sx = W - 1 - x; sy = y; break;
            case 3: sx = W - 1 - x; sy = H - 1 - y; break;
            case 4: sx = x; sy = H - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = H - 1 - x; break;
            case 7: sx = W - 1 - y; sy = H - 1 - x; break;
            case 8: sx = W - 1 - y; sy = x; break;
            default: sx = x; sy = y; break;
            }
            memcpy(o->rgb + ((size_t)y * o->w + x) * 3, in->rgb + ((size_t)sy * W + sx) * 3, 3);
        }
    return 0;
}

int crisp_image_read(struct crisp_image **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    uint8_t *buf;
    size_t len;
    int ret = crisp_file_read(path, &buf, &len);
    if (ret < 0) {
        seterr(err, errlen, "%s: %s", path, crisp_strerror(ret));
        return ret;
    }
    char why[200] = "";
    ret = crisp_image_decode(out, buf, len, why, sizeof(why));
    free(buf);
    if (ret < 0)
        seterr(err, errlen, "%s: %s", path, why);
    return ret;
}

static int jpeg_qscale(int quality)
{
    /* libjpeg scales its tables by 5000/q % below 50 and 200-2q % above;
     * FFmpeg's mjpeg scales the same tables by qscale/2 */
    if (quality < 1)
        quality = 1;
    if (quality > 100)
        quality = 100;
    double pct = quality < 50 ? 5000.0 / quality : 200.0 - 2.0 * quality;
    int q = (int)(pct / 50.0 + 0.5);
    return q < 1 ? 1 : q > 31 ? 31 : q;
}

static int encode_image(const struct crisp_image *img, int jpeg, int quality, AVPacket **pkt)
{
    *pkt = NULL;
    const AVCodec *codec = avcodec_find_encoder(jpeg ? AV_CODEC_ID_MJPEG : AV_CODEC_ID_PNG);
    if (!codec)
        return CRISP_EAV;
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    AVFrame *f = NULL;
    int ret;
    if (!ctx)
        return -ENOMEM;
    enum AVPixelFormat fmt = jpeg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_RGB24;
    ctx->width = img->w;
    ctx->height = img->h;
    ctx->pix_fmt = fmt;
    ctx->time_base = (AVRational){1, 25};
    ctx->thread_count = 1;
    if (jpeg) {
        int qs = jpeg_qscale(quality ? quality : 95);
        ctx->flags |= AV_CODEC_FLAG_QSCALE;
        ctx->global_quality = FF_QP2LAMBDA * qs;
        ctx->qmin = ctx->qmax = qs;
        ctx->color_range = AVCOL_RANGE_JPEG;
    }
    if ((ret = avcodec_open2(ctx, codec, NULL)) < 0) {
        ret = crisp_media_averr(ret, "open image encoder");
        goto done;
    }
    if ((ret = crisp_media_rgb_to_frame(img, fmt, &f)) < 0)
        goto done;
    if (jpeg)
        f->quality = ctx->global_quality;
    ret = crisp_media_encode_one(ctx, f, pkt);
done:
    av_frame_free(&f);
    avcodec_free_context(&ctx);
    return ret;
}

int crisp_image_write(const struct crisp_image *img, const char *path, int quality, char *err,
                      size_t errlen)
{
    const char *dot = strrchr(path, '.');
    int jpeg;
    if (dot && !strcasecmp(dot, ".png"))
        jpeg = 0;
    else if (dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg")))
        jpeg = 1;
    else {
        seterr(err, errlen, "%s: unknown image extension (use .png, .jpg or .jpeg)", path);
        return CRISP_EUSAGE;
    }
    AVPacket *pkt;
    int ret = encode_image(img, jpeg, quality, &pkt);
    if (ret < 0) {
        seterr(err, errlen, "%s: cannot encode %s", path, jpeg ? "JPEG" : "PNG");
        return ret;
    }
    ret = crisp_file_write(path, pkt->data, (size_t)pkt->size);
    av_packet_free(&pkt);
    if (ret < 0)
        seterr(err, errlen, "%s: %s", path, crisp_strerror(ret));
    return ret;
}

int crisp_jpeg_roundtrip(struct crisp_image **out, const struct crisp_image *in, int quality)
{
    *out = NULL;
    AVPacket *pkt;
    int ret = encode_image(in, 1, quality, &pkt);
    if (ret < 0)
        return ret;
    char why[128];
    ret = crisp_image_decode(out, pkt->data, (size_t)pkt->size, why, sizeof(why));
    av_packet_free(&pkt);
    return ret;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int crisp_image_list(const char *dir_path, char ***names_out, int *n_out)
{
    *names_out = NULL;
    *n_out = 0;
    DIR *dir = opendir(dir_path);
    if (!dir)
        return -errno;
    char **names = NULL;
    int n = 0, cap = 0, ret = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        const char *d = strrchr(e->d_name, '.');
        if (e->d_name[0] == '.' || !d ||
            (strcasecmp(d, ".png") && strcasecmp(d, ".jpg") && strcasecmp(d, ".jpeg") &&
             strcasecmp(d, ".bmp")))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, sizeof(char *) * (size_t)cap);
            if (!nn) {
                ret = -ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            ret = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(dir);
    if (ret < 0) {
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return ret;
    }
    if (n > 1)
        qsort(names, (size_t)n, sizeof(char *), cmp_name);
    *names_out = names;
    *n_out = n;
    return 0;
}
