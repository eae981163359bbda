// SPDX-License-Identifier: BSD-2-Clause
// lib/media internals: FFmpeg frame <-> crisp_image helpers.
#ifndef CRISP_MEDIA_INTERNAL_H
#define CRISP_MEDIA_INTERNAL_H

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

#include "crisp/media.h"

/* Converts an image to a new frame of `fmt` (BT.601; full range for yuvj*). */
int crisp_media_rgb_to_frame(const struct crisp_image *img, enum AVPixelFormat fmt,
                             AVFrame **out);
/* Converts any decoded frame to a new RGB24 image. */
int crisp_media_frame_to_rgb(const AVFrame *f, struct crisp_image **out);
/* Encodes one frame with an opened encoder context and returns the packet
 * (caller frees with av_packet_free). */
int crisp_media_encode_one(AVCodecContext *ctx, const AVFrame *f, AVPacket **out);
/* Decodes one complete coded picture with a fresh decoder. */
int crisp_media_decode_one(enum AVCodecID id, const uint8_t *data, size_t len, AVFrame **out);
/* Logs an FFmpeg error code with context and returns CRISP_EAV. */
int crisp_media_averr(int averr, const char *what);

#endif
