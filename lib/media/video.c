// SPDX-License-Identifier: BSD-2-Clause
// Video decoding through libavformat/libavcodec.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavformat/avformat.h>

#include "internal.h"

struct crisp_video_reader {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;
    int eof;
};

int crisp_video_open(struct crisp_video_reader **out, const char *url, char *err, size_t errlen)
{
    *out = NULL;
    struct crisp_video_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    int ret = avformat_open_input(&r->fmt, url, NULL, NULL);
    const char *what = "cannot open";
    if (ret < 0)
        goto fail;
    what = "cannot read stream information from";
    if ((ret = avformat_find_stream_info(r->fmt, NULL)) < 0)
        goto fail;
    what = "no video stream in";
    const AVCodec *codec = NULL;
    if ((ret = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)) < 0)
        goto fail;
    r->stream = ret;
    what = "no decoder for";
    ret = AVERROR_DECODER_NOT_FOUND;
    if (!codec || !(r->dec = avcodec_alloc_context3(codec)))
        goto fail;
    if ((ret = avcodec_parameters_to_context(r->dec, r->fmt->streams[r->stream]->codecpar)) < 0 ||
        (ret = avcodec_open2(r->dec, codec, NULL)) < 0)
        goto fail;
    r->pkt = av_packet_alloc();
    r->frame = av_frame_alloc();
    ret = AVERROR(ENOMEM);
    if (!r->pkt || !r->frame)
        goto fail;
    *out = r;
    return 0;
fail:
    if (err) {
        char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
        av_strerror(ret, buf, sizeof(buf));
        snprintf(err, errlen, "%s %s: %s", what, url, buf);
    }
    crisp_video_close(&r);
    return ret == AVERROR(ENOENT) ? -ENOENT : ret == AVERROR(ENOMEM) ? -ENOMEM : CRISP_EAV;
}

int crisp_video_read(struct crisp_video_reader *r, struct crisp_image **img)
{
    *img = NULL;
    for (;;) {
        int ret = avcodec_receive_frame(r->dec, r->frame);
        if (ret == 0) {
            ret = crisp_media_frame_to_rgb(r->frame, img);
            av_frame_unref(r->frame);
            return ret < 0 ? ret : 1;
        }
        if (ret == AVERROR_EOF)
            return 0;
        if (ret != AVERROR(EAGAIN))
            return crisp_media_averr(ret, "decode video");
        if (r->eof)
            return 0;
        ret = av_read_frame(r->fmt, r->pkt);
        if (ret == AVERROR_EOF) {
            r->eof = 1;
            avcodec_send_packet(r->dec, NULL);
            continue;
        }
        if (ret < 0)
            return crisp_media_averr(ret, "read video");
        if (r->pkt->stream_index == r->stream)
            ret = avcodec_send_packet(r->dec, r->pkt);
        av_packet_unref(r->pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_INVALIDDATA)
            return crisp_media_averr(ret, "decode video");
    }
}

void crisp_video_info(const struct crisp_video_reader *r, int *w, int *h, double *fps)
{
    const AVStream *s = r->fmt->streams[r->stream];
    if (w)
        *w = r->dec->width;
    if (h)
        *h = r->dec->height;
    if (fps) {
        AVRational q = s->avg_frame_rate.num ? s->avg_frame_rate : s->r_frame_rate;
        *fps = q.den ? av_q2d(q) : 0.0;
    }
}

void crisp_video_close(struct crisp_video_reader **pr)
{
    if (!pr || !*pr)
        return;
    struct crisp_video_reader *r = *pr;
    av_frame_free(&r->frame);
    av_packet_free(&r->pkt);
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->fmt);
    free(r);
    *pr = NULL;
}

#include <libavutil/opt.h>

struct crisp_video_writer {
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *st;
    AVPacket *pkt;
    int64_t last_pts; /* in the encoder's 1/90000 time base; -1 before the first */
    int64_t interval; /* one nominal frame, in the same */
    struct crisp_colorimetry color;
    int error;
    int header_written;
};

static int drain(struct crisp_video_writer *w)
{
    for (;;) {
        int ret = avcodec_receive_packet(w->enc, w->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return crisp_media_averr(ret, "encode video");
        if (w->pkt->duration <= 0) /* else MP4's edit list ends before the last frame */
            w->pkt->duration = w->interval;
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        ret = av_interleaved_write_frame(w->fmt, w->pkt);
        if (ret < 0)
            return ret == AVERROR(ENOSPC) ? -ENOSPC : crisp_media_averr(ret, "write video");
    }
}

int crisp_video_writer_open(struct crisp_video_writer **out, const char *path,
                            const struct crisp_video_writer_params *p, char *err, size_t errlen)
{
    *out = NULL;
    if (p->width < 2 || p->height < 2 || (p->width & 1) || (p->height & 1)) {
        if (err)
            snprintf(err, errlen, "%s: video size %dx%d must be even", path, p->width, p->height);
        return CRISP_EFORMAT;
    }
    struct crisp_video_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    const char *what = "cannot choose a container for";
    int ret = avformat_alloc_output_context2(&w->fmt, NULL, p->format, path);
    if (ret < 0)
        goto fail;
    what = "no libx264 encoder for";
    ret = AVERROR_ENCODER_NOT_FOUND;
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec || !(w->st = avformat_new_stream(w->fmt, NULL)) ||
        !(w->enc = avcodec_alloc_context3(codec)) || !(w->pkt = av_packet_alloc()))
        goto fail;
    double fps = p->fps > 0 ? p->fps : 30.0;
    AVRational rate = av_d2q(fps, 100000);
    w->enc->width = p->width;
    w->enc->height = p->height;
    w->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    /* a fine clock rather than 1/fps: frames keep their times (VFR) */
    w->enc->time_base = (AVRational){1, 90000};
    w->enc->framerate = rate;
    w->interval = av_rescale_q(1, av_inv_q(rate), w->enc->time_base);
    w->last_pts = -1;
    w->color = p->color;
    if (!w->color.matrix)
        w->color.matrix = AVCOL_SPC_SMPTE170M;
    crisp_colorimetry_default(&w->color, p->width, p->height);
    w->enc->color_range = (enum AVColorRange)w->color.range;
    w->enc->colorspace = (enum AVColorSpace)w->color.matrix;
    w->enc->color_primaries = (enum AVColorPrimaries)w->color.primaries;
    w->enc->color_trc = (enum AVColorTransferCharacteristic)w->color.transfer;
    /* no B-frames: live video, and MP4 edit lists then drop nothing */
    w->enc->max_b_frames = 0;
    if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER)
        w->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    char crf[16];
    snprintf(crf, sizeof(crf), "%d", p->crf > 0 ? p->crf : 20);
    av_opt_set(w->enc->priv_data, "preset", p->preset ? p->preset : "veryfast", 0);
    if (p->live) {
        /* no lookahead or frame threading delay; receivers can join within a second */
        av_opt_set(w->enc->priv_data, "tune", "zerolatency", 0);
        w->enc->gop_size = (int)(fps + 0.5);
    }
    av_opt_set(w->enc->priv_data, "crf", crf, 0);
    what = "cannot open the H.264 encoder for";
    if ((ret = avcodec_open2(w->enc, codec, NULL)) < 0)
        goto fail;
    if ((ret = avcodec_parameters_from_context(w->st->codecpar, w->enc)) < 0)
        goto fail;
    w->st->time_base = w->enc->time_base;
    what = "cannot create";
    if (!(w->fmt->oformat->flags & AVFMT_NOFILE) &&
        (ret = avio_open(&w->fmt->pb, path, AVIO_FLAG_WRITE)) < 0)
        goto fail;
    what = "cannot write the header of";
    if ((ret = avformat_write_header(w->fmt, NULL)) < 0)
        goto fail;
    w->header_written = 1;
    *out = w;
    return 0;
fail:
    if (err) {
        char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
        av_strerror(ret, buf, sizeof(buf));
        snprintf(err, errlen, "%s %s: %s", what, path, buf);
    }
    crisp_video_writer_close(&w);
    return ret == AVERROR(ENOENT) ? -ENOENT : ret == AVERROR(EACCES) ? -EACCES : CRISP_EAV;
}

int crisp_video_writer_sdp(struct crisp_video_writer *w, char *buf, size_t len)
{
    AVFormatContext *ctx[1] = {w->fmt};
    int ret = av_sdp_create(ctx, 1, buf, (int)len);
    return ret < 0 ? crisp_media_averr(ret, "sdp") : 0;
}

/* Stamps (pts_us, or one interval on), encodes and frees `f`; the first
 * error sticks to the writer. */
static int send_frame(struct crisp_video_writer *w, AVFrame *f, int64_t pts_us)
{
    int64_t pts = pts_us >= 0 ? av_rescale(pts_us, 90000, 1000000) : w->last_pts + w->interval;
    if (w->last_pts >= 0 && pts <= w->last_pts)
        pts = w->last_pts + 1;
    if (pts < 0)
        pts = 0;
    f->pts = w->last_pts = pts;
    f->color_range = w->enc->color_range;
    f->colorspace = w->enc->colorspace;
    f->color_primaries = w->enc->color_primaries;
    f->color_trc = w->enc->color_trc;
    int ret = avcodec_send_frame(w->enc, f); /* the encoder copies what it keeps */
    av_frame_free(&f);
    ret = ret < 0 ? crisp_media_averr(ret, "encode video") : drain(w);
    if (ret < 0)
        w->error = ret;
    return ret;
}

int crisp_video_write(struct crisp_video_writer *w, const struct crisp_image *img)
{
    if (w->error)
        return w->error;
    if (img->w != w->enc->width || img->h != w->enc->height)
        return CRISP_EFORMAT;
    AVFrame *f;
    int ret = crisp_media_rgb_to_frame(img, AV_PIX_FMT_YUV420P, &f);
    return ret < 0 ? ret : send_frame(w, f, -1);
}

int crisp_video_write_yuv(struct crisp_video_writer *w, const uint8_t *const planes[3],
                          const int strides[3], int64_t pts_us)
{
    if (w->error)
        return w->error;
    AVFrame *f = av_frame_alloc();
    if (!f)
        return -ENOMEM;
    f->format = AV_PIX_FMT_YUV420P;
    f->width = w->enc->width;
    f->height = w->enc->height;
    for (int i = 0; i < 3; i++) {
        f->data[i] = (uint8_t *)planes[i];
        f->linesize[i] = strides[i];
    }
    return send_frame(w, f, pts_us);
}

int crisp_video_writer_close(struct crisp_video_writer **pw)
{
    if (!pw || !*pw)
        return 0;
    struct crisp_video_writer *w = *pw;
    int ret = w->error;
    if (w->header_written) {
        if (!ret && avcodec_send_frame(w->enc, NULL) >= 0)
            ret = drain(w);
        int r = av_write_trailer(w->fmt);
        if (!ret && r < 0)
            ret = crisp_media_averr(r, "write trailer");
    }
    if (w->fmt && !(w->fmt->oformat->flags & AVFMT_NOFILE))
        avio_closep(&w->fmt->pb);
    avcodec_free_context(&w->enc);
    av_packet_free(&w->pkt);
    avformat_free_context(w->fmt);
    free(w);
    *pw = NULL;
    return ret;
}
