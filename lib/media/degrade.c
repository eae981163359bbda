// SPDX-License-Identifier: BSD-2-Clause
// Degradation operators: what a weak video call does to a frame.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "crisp/util.h"
#include "internal.h"

int crisp_resize(struct crisp_image **out, const struct crisp_image *in, int w, int h,
                 enum crisp_scaler scaler)
{
    *out = NULL;
    int flags = scaler == CRISP_SCALE_BILINEAR ? SWS_BILINEAR
                : scaler == CRISP_SCALE_AREA   ? SWS_AREA
                                               : SWS_BICUBIC;
    struct crisp_image *o;
    int ret = crisp_image_create(&o, w, h);
    if (ret < 0)
        return ret;
    /* planar RGB on both sides keeps swscale away from any YUV detour */
    size_t ni = (size_t)in->w * in->h, no = (size_t)w * h;
    uint8_t *pi = malloc(3 * (ni + no));
    struct SwsContext *s = sws_getContext(in->w, in->h, AV_PIX_FMT_GBRP, w, h, AV_PIX_FMT_GBRP,
                                          flags | SWS_ACCURATE_RND | SWS_BITEXACT, NULL, NULL, NULL);
    if (!pi || !s) {
        free(pi);
        sws_freeContext(s);
        crisp_image_destroy(&o);
        return pi ? CRISP_EAV : -ENOMEM;
    }
    uint8_t *po = pi + 3 * ni;
    /* GBRP plane order: G, B, R */
    static const int order[3] = {1, 2, 0};
    for (size_t i = 0; i < ni; i++)
        for (int p = 0; p < 3; p++)
            pi[p * ni + i] = in->rgb[3 * i + order[p]];
    const uint8_t *src[4] = {pi, pi + ni, pi + 2 * ni, NULL};
    int sls[4] = {in->w, in->w, in->w, 0};
    uint8_t *dst[4] = {po, po + no, po + 2 * no, NULL};
    int dls[4] = {w, w, w, 0};
    sws_scale(s, src, sls, 0, in->h, dst, dls);
    for (size_t i = 0; i < no; i++)
        for (int p = 0; p < 3; p++)
            o->rgb[3 * i + order[p]] = po[p * no + i];
    sws_freeContext(s);
    free(pi);
    *out = o;
    return 0;
}

static int mirror(int i, int n)
{
    /* half-sample symmetric (d c b a | a b c d), repeated for tiny images */
    while (i < 0 || i >= n) {
        if (i < 0)
            i = -i - 1;
        if (i >= n)
            i = 2 * n - i - 1;
    }
    return i;
}

int crisp_blur(struct crisp_image **out, const struct crisp_image *in, float sigma)
{
    *out = NULL;
    if (!(sigma >= 0.0f) || sigma > 20.0f)
        return CRISP_EUSAGE;
    int ret = crisp_image_clone(out, in);
    if (ret < 0 || sigma == 0.0f)
        return ret;
    int r = (int)ceilf(3.0f * sigma), kn = 2 * r + 1;
    double *k = malloc(sizeof(double) * (size_t)kn);
    float *tmp = malloc(sizeof(float) * (size_t)in->w * in->h * 3);
    if (!k || !tmp) {
        free(k);
        free(tmp);
        crisp_image_destroy(out);
        return -ENOMEM;
    }
    double sum = 0;
    for (int i = 0; i < kn; i++) {
        double x = i - r;
        k[i] = exp(-0.5 * x * x / ((double)sigma * sigma));
        sum += k[i];
    }
    for (int i = 0; i < kn; i++)
        k[i] /= sum;
    const int w = in->w, h = in->h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                double acc = 0;
                for (int t = 0; t < kn; t++)
                    acc += k[t] * in->rgb[((size_t)y * w + mirror(x + t - r, w)) * 3 + c];
                tmp[((size_t)y * w + x) * 3 + c] = (float)acc;
            }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                double acc = 0;
                for (int t = 0; t < kn; t++)
                    acc += k[t] * tmp[((size_t)mirror(y + t - r, h) * w + x) * 3 + c];
                double v = floor(acc + 0.5);
                (*out)->rgb[((size_t)y * w + x) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    free(k);
    free(tmp);
    return 0;
}

int crisp_add_noise(struct crisp_image **out, const struct crisp_image *in, float sigma,
                    uint64_t seed)
{
    *out = NULL;
    if (!(sigma >= 0.0f) || sigma > 255.0f)
        return CRISP_EUSAGE;
    int ret = crisp_image_clone(out, in);
    if (ret < 0)
        return ret;
    struct crisp_rng rng;
    crisp_rng_seed(&rng, seed);
    size_t n = (size_t)in->w * in->h * 3;
    for (size_t i = 0; i < n; i++) {
        double v = floor(in->rgb[i] + sigma * crisp_rng_normal(&rng) + 0.5);
        (*out)->rgb[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    return 0;
}

int crisp_h264_roundtrip(struct crisp_image **out, const struct crisp_image *in, int crf)
{
    *out = NULL;
    if ((in->w & 1) || (in->h & 1))
        return CRISP_EFORMAT;
    if (crf < 0 || crf > 51)
        return CRISP_EUSAGE;
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
        return CRISP_EAV;
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    AVFrame *f = NULL, *dec = NULL;
    AVPacket *pkt = NULL;
    int ret;
    if (!ctx)
        return -ENOMEM;
    ctx->width = in->w;
    ctx->height = in->h;
    ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    ctx->time_base = (AVRational){1, 30};
    ctx->gop_size = 1;
    ctx->max_b_frames = 0;
    ctx->thread_count = 1; /* one thread: bit-exact for a given input */
    ctx->color_range = AVCOL_RANGE_MPEG;
    ctx->colorspace = AVCOL_SPC_SMPTE170M;
    char crfs[16];
    snprintf(crfs, sizeof(crfs), "%d", crf);
    av_opt_set(ctx->priv_data, "preset", "veryfast", 0);
    av_opt_set(ctx->priv_data, "crf", crfs, 0);
    if ((ret = avcodec_open2(ctx, codec, NULL)) < 0) {
        ret = crisp_media_averr(ret, "open libx264");
        goto done;
    }
    if ((ret = crisp_media_rgb_to_frame(in, AV_PIX_FMT_YUV420P, &f)) < 0)
        goto done;
    f->pict_type = AV_PICTURE_TYPE_I;
    if ((ret = crisp_media_encode_one(ctx, f, &pkt)) < 0)
        goto done;
    if ((ret = crisp_media_decode_one(AV_CODEC_ID_H264, pkt->data, (size_t)pkt->size, &dec)) < 0)
        goto done;
    dec->color_range = AVCOL_RANGE_MPEG;
    ret = crisp_media_frame_to_rgb(dec, out);
done:
    av_frame_free(&dec);
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return ret;
}

static const char *const PROTOCOLS = "x2, vc, blur";
const char *crisp_degrade_protocols(void) { return PROTOCOLS; }

int crisp_degrade_protocol(struct crisp_image **out, const struct crisp_image *in,
                           const char *protocol, char *err, size_t errlen)
{
    *out = NULL;
    struct crisp_image *a = NULL, *b = NULL;
    int ret;
    if (!strcmp(protocol, "blur")) {
        ret = crisp_blur(out, in, 1.0f);
    } else if (!strcmp(protocol, "x2") || !strcmp(protocol, "vc")) {
        int vc = protocol[0] == 'v', m = vc ? 4 : 2;
        if (in->w % m || in->h % m || in->w < 4 * m || in->h < 4 * m) {
            if (err)
                snprintf(err, errlen,
                         "protocol %s needs width and height divisible by %d and at least %d "
                         "(image is %dx%d; crop it first)",
                         protocol, m, 4 * m, in->w, in->h);
            return CRISP_EFORMAT;
        }
        if ((ret = crisp_resize(&a, in, in->w / 2, in->h / 2, CRISP_SCALE_BICUBIC)) < 0)
            goto done;
        if (vc) {
            if ((ret = crisp_h264_roundtrip(&b, a, 32)) < 0)
                goto done;
            crisp_image_destroy(&a);
            a = b;
            b = NULL;
        }
        ret = crisp_resize(out, a, in->w, in->h, CRISP_SCALE_BICUBIC);
    } else {
        if (err)
            snprintf(err, errlen, "unknown protocol \"%s\" (known: %s)", protocol, PROTOCOLS);
        return CRISP_EUSAGE;
    }
done:
    if (ret < 0 && err && !*out)
        snprintf(err, errlen, "protocol %s failed: %s", protocol, crisp_strerror(ret));
    crisp_image_destroy(&a);
    crisp_image_destroy(&b);
    return ret;
}

/* ---- a protocol on a whole sequence ---- */

struct crisp_degrade_stream {
    int vc, w, h;
    int64_t pts;
    AVCodecContext *enc, *dec;
    AVPacket *pkt;
    AVFrame *frame;
};

void crisp_degrade_stream_close(struct crisp_degrade_stream **sp)
{
    struct crisp_degrade_stream *s = sp ? *sp : NULL;
    if (!s)
        return;
    avcodec_free_context(&s->enc);
    avcodec_free_context(&s->dec);
    av_packet_free(&s->pkt);
    av_frame_free(&s->frame);
    free(s);
    *sp = NULL;
}

/* libx264 as a real-time sender runs it, and FFmpeg's decoder */
static int stream_codecs(struct crisp_degrade_stream *s, double fps)
{
    const AVCodec *ec = avcodec_find_encoder_by_name("libx264");
    const AVCodec *dc = avcodec_find_decoder(AV_CODEC_ID_H264);
    if (!ec || !dc)
        return CRISP_EAV;
    if (!(s->enc = avcodec_alloc_context3(ec)) || !(s->dec = avcodec_alloc_context3(dc)) ||
        !(s->pkt = av_packet_alloc()) || !(s->frame = av_frame_alloc()))
        return -ENOMEM;
    const int rate = (int)(fps * 1000 + 0.5);
    s->enc->width = s->w / 2;
    s->enc->height = s->h / 2;
    s->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    s->enc->time_base = (AVRational){1000, rate};
    s->enc->framerate = (AVRational){rate, 1000};
    s->enc->gop_size = (int)(3 * fps + 0.5); /* a keyframe every 3 seconds */
    s->enc->max_b_frames = 0;
    s->enc->thread_count = 1; /* one thread: bit-exact for a given input */
    s->enc->color_range = AVCOL_RANGE_MPEG;
    s->enc->colorspace = AVCOL_SPC_SMPTE170M;
    av_opt_set(s->enc->priv_data, "preset", "veryfast", 0);
    av_opt_set(s->enc->priv_data, "tune", "zerolatency", 0);
    av_opt_set(s->enc->priv_data, "crf", "32", 0);
    int ret = avcodec_open2(s->enc, ec, NULL);
    if (ret < 0)
        return crisp_media_averr(ret, "open libx264");
    s->dec->thread_count = 1;
    s->dec->flags |= AV_CODEC_FLAG_LOW_DELAY;
    if ((ret = avcodec_open2(s->dec, dc, NULL)) < 0)
        return crisp_media_averr(ret, "open the H.264 decoder");
    return 0;
}

int crisp_degrade_stream_open(struct crisp_degrade_stream **out, const char *protocol, int w,
                              int h, double fps, char *err, size_t errlen)
{
    *out = NULL;
    int vc = !strcmp(protocol, "vc");
    if (!vc && strcmp(protocol, "x2")) {
        snprintf(err, errlen, "protocol \"%s\" has no video form (video: x2, vc)", protocol);
        return CRISP_EUSAGE;
    }
    int m = vc ? 4 : 2;
    if (w % m || h % m || w < 4 * m || h < 4 * m) {
        snprintf(err, errlen,
                 "protocol %s needs width and height divisible by %d and at least %d (frames are "
                 "%dx%d; crop them first)", protocol, m, 4 * m, w, h);
        return CRISP_EFORMAT;
    }
    struct crisp_degrade_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->vc = vc;
    s->w = w;
    s->h = h;
    int ret = vc ? stream_codecs(s, fps > 0 ? fps : 30.0) : 0;
    if (ret < 0) {
        snprintf(err, errlen, "protocol %s: %s", protocol, crisp_strerror(ret));
        crisp_degrade_stream_close(&s);
        return ret;
    }
    *out = s;
    return 0;
}

/* one frame through the encoder and the decoder: 1:1 with zerolatency */
static int stream_h264(struct crisp_degrade_stream *s, const struct crisp_image *in,
                       struct crisp_image **out)
{
    AVFrame *f = NULL;
    int ret = crisp_media_rgb_to_frame(in, AV_PIX_FMT_YUV420P, &f);
    if (ret < 0)
        return ret;
    f->pts = s->pts++;
    ret = avcodec_send_frame(s->enc, f);
    av_frame_free(&f);
    if (ret < 0)
        return crisp_media_averr(ret, "encode video");
    while ((ret = avcodec_receive_packet(s->enc, s->pkt)) == 0) {
        ret = avcodec_send_packet(s->dec, s->pkt);
        av_packet_unref(s->pkt);
        if (ret < 0)
            return crisp_media_averr(ret, "decode video");
    }
    if (ret != AVERROR(EAGAIN))
        return crisp_media_averr(ret, "encode video");
    if ((ret = avcodec_receive_frame(s->dec, s->frame)) < 0)
        return crisp_media_averr(ret, "decode video (the codec held a frame back)");
    s->frame->color_range = AVCOL_RANGE_MPEG;
    ret = crisp_media_frame_to_rgb(s->frame, out);
    av_frame_unref(s->frame);
    return ret;
}

int crisp_degrade_stream_frame(struct crisp_degrade_stream *s, const struct crisp_image *in,
                               struct crisp_image **out)
{
    *out = NULL;
    if (in->w != s->w || in->h != s->h)
        return CRISP_EFORMAT;
    struct crisp_image *a = NULL, *b = NULL;
    int ret = crisp_resize(&a, in, s->w / 2, s->h / 2, CRISP_SCALE_BICUBIC);
    if (ret == 0 && s->vc && (ret = stream_h264(s, a, &b)) == 0) {
        crisp_image_destroy(&a);
        a = b;
    }
    if (ret == 0)
        ret = crisp_resize(out, a, s->w, s->h, CRISP_SCALE_BICUBIC);
    crisp_image_destroy(&a);
    return ret;
}
