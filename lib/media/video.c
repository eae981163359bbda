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
