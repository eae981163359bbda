// SPDX-License-Identifier: BSD-2-Clause
// Images and video through FFmpeg's libraries, colour conversion, the
// degradation operators used for evaluation and training, and metrics.
//
// Thread safety: every function may be called from any thread on distinct
// objects. None is real-time safe (they allocate and call FFmpeg).
#ifndef CRISP_MEDIA_H
#define CRISP_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "crisp/error.h"

/* An 8-bit sRGB image, packed R,G,B, rows `3 * w` bytes apart. */
struct crisp_image {
    int w, h;
    uint8_t *rgb;
};

#define CRISP_IMAGE_MAX_DIM 32768

/* FFmpeg's own log output: off (default) or at AV_LOG_WARNING when verbose.
 * Call before starting threads. */
CRISP_API void crisp_media_set_verbose(int verbose);

/* Allocates a zeroed w x h image (1..CRISP_IMAGE_MAX_DIM). */
CRISP_API int crisp_image_create(struct crisp_image **out, int w, int h);
CRISP_API void crisp_image_destroy(struct crisp_image **img);
CRISP_API int crisp_image_clone(struct crisp_image **out, const struct crisp_image *src);
/* The top-left w x h window of src as a new image; CRISP_EFORMAT when it
 * does not fit (w or h below 1 or beyond src). */
CRISP_API int crisp_image_crop(struct crisp_image **out, const struct crisp_image *src, int w,
                               int h);

/* Decodes a PNG or JPEG (any format FFmpeg's image2 demuxer reads; the first
 * frame of anything else). Greyscale, palette and 16-bit inputs are converted
 * to RGB24. On failure *out stays NULL and err names the file and problem. */
CRISP_API int crisp_image_read(struct crisp_image **out, const char *path, char *err,
                               size_t errlen);
/* Applies an EXIF orientation (1..8: 2 mirror, 3 rotate 180, 4 flip, 5
 * transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
 * counter-clockwise) into a new image. Decoding applies the file's own. */
CRISP_API int crisp_image_orient(struct crisp_image **out, const struct crisp_image *in,
                                 int orientation);
/* Decodes an image held in memory (same rules). */
CRISP_API int crisp_image_decode(struct crisp_image **out, const uint8_t *buf, size_t len,
                                 char *err, size_t errlen);
/* Encodes by extension: .png (lossless RGB24) or .jpg/.jpeg (4:2:0 at JPEG
 * quality `quality` 1..100, 0 = 95). Written atomically. */
CRISP_API int crisp_image_write(const struct crisp_image *img, const char *path, int quality,
                                char *err, size_t errlen);

/* The image files of folder `dir` (names ending .png, .jpg, .jpeg or .bmp,
 * any case; hidden files skipped), sorted by strcmp: *names gets *n
 * malloc'd names in a malloc'd array (the caller frees both; NULL when 0).
 * 0, or a negative errno (opendir's, or -ENOMEM). */
CRISP_API int crisp_image_list(const char *dir, char ***names, int *n);

/* ---- Colour (BT.601 studio range, as MATLAB's rgb2ycbcr) ---- */

/* Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, rounded to 8 bits: the
 * super-resolution literature's evaluation channel. `y` has w*h bytes. */
CRISP_API void crisp_image_luma_u8(const struct crisp_image *img, uint8_t *y);
/* The same whole 8-bit levels as floats (0..255 scale): the Y plane a
 * camera or a decoder hands crispd, which luma models are fed. */
CRISP_API void crisp_image_luma_levels(const struct crisp_image *img, float *y);
/* Unrounded Y, Cb, Cr planes (0..255 scale); any plane pointer may be NULL. */
CRISP_API void crisp_image_to_ycbcr(const struct crisp_image *img, float *y, float *cb, float *cr);
/* Inverse of crisp_image_to_ycbcr (exact in float), rounded and clamped. */
CRISP_API void crisp_image_from_ycbcr(struct crisp_image *img, const float *y, const float *cb,
                                      const float *cr);

/* ---- Degradations ---- */

enum crisp_scaler { CRISP_SCALE_BICUBIC = 0, CRISP_SCALE_BILINEAR = 1, CRISP_SCALE_AREA = 2 };

/* Resizes to w x h with libswscale on planar RGB (no chroma subsampling). */
CRISP_API int crisp_resize(struct crisp_image **out, const struct crisp_image *in, int w, int h,
                           enum crisp_scaler scaler);
/* Gaussian blur (separable, kernel radius ceil(3 sigma), mirrored borders). sigma 0 copies. */
CRISP_API int crisp_blur(struct crisp_image **out, const struct crisp_image *in, float sigma);
/* JPEG round trip through FFmpeg's mjpeg at libjpeg-style quality 1..100
 * (mapped to a quantizer scale, see docs). */
CRISP_API int crisp_jpeg_roundtrip(struct crisp_image **out, const struct crisp_image *in,
                                   int quality);
/* H.264 round trip: one intra frame through libx264 (preset veryfast, CRF
 * `crf`, yuv420p, one thread: deterministic) and FFmpeg's decoder. Needs even
 * width and height. */
CRISP_API int crisp_h264_roundtrip(struct crisp_image **out, const struct crisp_image *in,
                                   int crf);
/* Adds Gaussian noise of standard deviation `sigma` (0..255 scale), seeded. */
CRISP_API int crisp_add_noise(struct crisp_image **out, const struct crisp_image *in, float sigma,
                              uint64_t seed);

/* Named evaluation protocols: "x2", "vc", "blur" (see docs/evaluation.md).
 * Inputs whose size does not suit the protocol get CRISP_EFORMAT and a message. */
CRISP_API int crisp_degrade_protocol(struct crisp_image **out, const struct crisp_image *in,
                                     const char *protocol, char *err, size_t errlen);
/* A protocol applied to a whole sequence, as a real call degrades it (for
 * crisp eval --video, docs/evaluation.md): "x2" is the still protocol on
 * every frame; "vc" scales each frame down x2 (bicubic), encodes the
 * sequence with libx264 as a real-time sender runs it (CRF 32, preset
 * veryfast, tune zerolatency, P-frames, a keyframe every 3 seconds, one
 * thread: deterministic), decodes it and scales it back up. Frames go
 * through one at a time (bounded memory). w, h and fps are the sequence's;
 * sizes that do not suit the protocol get CRISP_EFORMAT with a message. */
struct crisp_degrade_stream;
CRISP_API int crisp_degrade_stream_open(struct crisp_degrade_stream **out, const char *protocol,
                                        int w, int h, double fps, char *err, size_t errlen);
/* The next frame (w x h) in, its degraded version out as a new image. */
CRISP_API int crisp_degrade_stream_frame(struct crisp_degrade_stream *s,
                                         const struct crisp_image *in, struct crisp_image **out);
/* Accepts NULL and clears the pointer. */
CRISP_API void crisp_degrade_stream_close(struct crisp_degrade_stream **s);
/* Comma-separated list of protocol names, for usage messages. */
CRISP_API const char *crisp_degrade_protocols(void);

/* ---- Metrics ---- */

/* PSNR and SSIM of the rounded BT.601 Y channels, `crop` pixels removed from
 * every border first. SSIM matches scikit-image's structural_similarity with
 * gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
 * data_range=255. PSNR of identical images is reported as 100 (dB). */
CRISP_API int crisp_metrics_y(const struct crisp_image *ref, const struct crisp_image *test,
                              int crop, double *psnr, double *ssim);
/* The same on raw 8-bit planes of w x h. */
CRISP_API int crisp_metrics_plane(const uint8_t *a, const uint8_t *b, int w, int h, int crop,
                                  double *psnr, double *ssim);

/* Temporal-difference error of one frame pair, the flicker metric
 * (docs/evaluation.md): mean over the pixels of w x h planes, `crop`
 * removed from every border, of |(o1 - o0) - (g1 - g0)|, where o is the
 * restored and g the reference plane at the previous (0) and current (1)
 * frame, in 8-bit units. 0 when the restored sequence changes exactly as
 * the reference does. Returns -1 when the crop leaves nothing. */
CRISP_API double crisp_metrics_tde(const uint8_t *o0, const uint8_t *o1, const uint8_t *g0,
                                   const uint8_t *g1, int w, int h, int crop);

/* ---- Video ---- */

struct crisp_video_reader;
/* Opens any FFmpeg-readable video file or URL and decodes its best video stream. */
CRISP_API int crisp_video_open(struct crisp_video_reader **out, const char *url, char *err,
                               size_t errlen);
/* Decodes the next frame into a new RGB image (*img, destroy it); returns 1
 * on a frame, 0 at end of stream, negative on error. */
CRISP_API int crisp_video_read(struct crisp_video_reader *r, struct crisp_image **img);
CRISP_API void crisp_video_info(const struct crisp_video_reader *r, int *w, int *h, double *fps);
CRISP_API void crisp_video_close(struct crisp_video_reader **r);

/* How Y'CbCr video maps to colour: ITU-T H.273 code points, the values of
 * FFmpeg's AVColorSpace (matrix: 1 BT.709, 6 BT.601 525-line/SMPTE 170M,
 * 5 BT.601 625-line, 9 BT.2020), AVColorPrimaries, AVColorTransferCharacteristic
 * and AVColorRange (1 limited, 2 full); 0 = unspecified. crisp's network
 * sees only Y and treats the luma of every matrix alike (docs/reliability.md). */
struct crisp_colorimetry {
    int matrix, primaries, transfer, range;
};

/* What players assume of video that does not say: BT.709 for HD (wider
 * than 1024 or taller than 576), BT.601 (SMPTE 170M) below; limited range.
 * Fills the unspecified fields of *c accordingly (the matrix decides the
 * primaries and transfer it implies). */
CRISP_API void crisp_colorimetry_default(struct crisp_colorimetry *c, int w, int h);

/* "bt709", "smpte170m", ...: FFmpeg's name of a matrix code point */
CRISP_API const char *crisp_colorimetry_matrix_name(int matrix);

struct crisp_video_writer_params {
    int width, height;   /* even, required */
    double fps;          /* 0 = 30 */
    int crf;             /* libx264 CRF, 0 = 20 */
    const char *preset;  /* libx264 preset, NULL = "veryfast" */
    const char *format;  /* container or protocol ("rtp"); NULL = from the path's extension */
    int live;            /* tune zerolatency, a keyframe every second: for RTP */
    struct crisp_colorimetry color; /* tagged on the stream; all 0 = BT.601 limited */
};
struct crisp_video_writer;
/* Opens an H.264 (libx264, yuv420p, tagged with params.color) writer; the
 * container follows the extension (.mp4, .mkv, ...). Timestamps are kept at
 * 1/90000 s: frames may come at any rate (variable frame rate). */
CRISP_API int crisp_video_writer_open(struct crisp_video_writer **out, const char *path,
                                      const struct crisp_video_writer_params *p, char *err,
                                      size_t errlen);
/* The SDP describing an RTP writer's stream (NUL-terminated in buf). */
CRISP_API int crisp_video_writer_sdp(struct crisp_video_writer *w, char *buf, size_t len);
/* Encodes one frame of the writer's size. */
CRISP_API int crisp_video_write(struct crisp_video_writer *w, const struct crisp_image *img);
/* Encodes one 8-bit 4:2:0 frame (of the writer's colorimetry) given as
 * planes, shown at `pts_us` microseconds from the stream's start; -1: one
 * nominal frame interval after the previous frame. Times that do not
 * increase are moved to just after the previous frame. */
CRISP_API int crisp_video_write_yuv(struct crisp_video_writer *w, const uint8_t *const planes[3],
                                    const int strides[3], int64_t pts_us);
/* Flushes, writes the trailer and frees; returns the first error seen, if
 * any. Accepts NULL and clears the pointer. */
CRISP_API int crisp_video_writer_close(struct crisp_video_writer **w);

#endif
