// SPDX-License-Identifier: BSD-2-Clause
// crispd's live preview (preview.h): reduced input/output planes of one
// frame, published by the sink thread under a trylock, JPEG-encoded on the
// HTTP threads. Inference and sink threads do a box filter and a copy,
// only while someone watches; they never wait and never allocate.
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

#include "crisp/frame.h"
#include "preview.h"

#define MAX_W 640
#define INTERVAL_NS 100000000LL /* at most 10 previews a second */
#define WATCH_NS 2000000000LL   /* "someone watches": a request in the last 2 s */

struct view_cache {
    long seq;
    int at_milli;
    uint8_t *jpeg;
    size_t n;
};

struct preview {
    int w, h, s, pw, ph; /* frame size, reduction, preview size (even) */
    int pool_n;
    atomic_llong want_ns;    /* the last request's time */
    int64_t last_before;     /* inference thread */
    uint8_t *before;         /* pool_n reduced lumas, inference -> sink with the frame */
    int *has_before;         /* per pool frame, owned with the frame */
    pthread_mutex_t lock;    /* the published planes, seq and the cache */
    uint8_t *in_y, *out_y, *u, *v; /* published (reduced) */
    long seq;
    atomic_long count;
    struct view_cache cache[3];
};

int preview_create(struct preview **out, int w, int h, int pool_n)
{
    *out = NULL;
    struct preview *pv = calloc(1, sizeof(*pv));
    if (!pv)
        return -ENOMEM;
    pv->w = w;
    pv->h = h;
    pv->s = (w + MAX_W - 1) / MAX_W;
    pv->pw = (w / pv->s) & ~1;
    pv->ph = (h / pv->s) & ~1;
    pv->pool_n = pool_n;
    const size_t ny = (size_t)pv->pw * pv->ph, nc = ny / 4;
    pthread_mutex_init(&pv->lock, NULL);
    if (!(pv->before = malloc(ny * (size_t)pool_n)) ||
        !(pv->has_before = calloc((size_t)pool_n, sizeof(int))) || !(pv->in_y = malloc(ny)) ||
        !(pv->out_y = malloc(ny)) || !(pv->u = malloc(nc)) || !(pv->v = malloc(nc))) {
        preview_destroy(&pv);
        return -ENOMEM;
    }
    *out = pv;
    return 0;
}

void preview_destroy(struct preview **ppv)
{
    struct preview *pv = *ppv;
    if (!pv)
        return;
    free(pv->before);
    free(pv->has_before);
    free(pv->in_y);
    free(pv->out_y);
    free(pv->u);
    free(pv->v);
    for (int i = 0; i < 3; i++)
        free(pv->cache[i].jpeg);
    pthread_mutex_destroy(&pv->lock);
    free(pv);
    *ppv = NULL;
}

/* an s x s box filter of a plane into dw x dh */
static void reduce(const uint8_t *src, int stride, int s, uint8_t *dst, int dw, int dh)
{
    const int area = s * s;
    for (int y = 0; y < dh; y++) {
        uint8_t *d = dst + (size_t)y * dw;
        const uint8_t *r0 = src + (ptrdiff_t)y * s * stride;
        if (s == 1) {
            memcpy(d, r0, (size_t)dw);
            continue;
        }
        for (int x = 0; x < dw; x++) {
            int acc = 0;
            for (int j = 0; j < s; j++)
                for (int i = 0; i < s; i++)
                    acc += r0[(ptrdiff_t)j * stride + x * s + i];
            d[x] = (uint8_t)((acc + area / 2) / area);
        }
    }
}

void preview_before(struct preview *pv, uint32_t idx, const struct crisp_frame *f)
{
    if ((int)idx >= pv->pool_n)
        return;
    pv->has_before[idx] = 0;
    if (f->w != pv->w || f->h != pv->h)
        return;
    int64_t now = f->capture_ns;
    if (now - atomic_load_explicit(&pv->want_ns, memory_order_relaxed) > WATCH_NS ||
        now - pv->last_before < INTERVAL_NS)
        return;
    pv->last_before = now;
    reduce(f->data[0], f->stride[0], pv->s, pv->before + (size_t)idx * pv->pw * pv->ph, pv->pw,
           pv->ph);
    pv->has_before[idx] = 1;
}

void preview_after(struct preview *pv, uint32_t idx, const struct crisp_frame *f)
{
    if ((int)idx >= pv->pool_n || !pv->has_before[idx])
        return;
    pv->has_before[idx] = 0;
    if (pthread_mutex_trylock(&pv->lock))
        return; /* an HTTP thread copies the last one: this frame is not previewed */
    const size_t ny = (size_t)pv->pw * pv->ph;
    memcpy(pv->in_y, pv->before + (size_t)idx * ny, ny);
    reduce(f->data[0], f->stride[0], pv->s, pv->out_y, pv->pw, pv->ph);
    reduce(f->data[1], f->stride[1], pv->s, pv->u, pv->pw / 2, pv->ph / 2);
    reduce(f->data[2], f->stride[2], pv->s, pv->v, pv->pw / 2, pv->ph / 2);
    pv->seq++;
    pthread_mutex_unlock(&pv->lock);
    atomic_fetch_add(&pv->count, 1);
}

long preview_count(struct preview *pv)
{
    return atomic_load(&pv->count);
}

/* limited range (the pipeline's) to the full range JPEG (JFIF) means */
static void to_full(AVFrame *fr, const uint8_t *y, const uint8_t *u, const uint8_t *v, int w,
                    int h)
{
    uint8_t ly[256], lc[256];
    for (int i = 0; i < 256; i++) {
        int a = ((i - 16) * 255 + 109) / 219, c = ((i - 128) * 255 + (i >= 128 ? 112 : -112)) / 224 + 128;
        ly[i] = (uint8_t)(a < 0 ? 0 : a > 255 ? 255 : a);
        lc[i] = (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : c);
    }
    for (int r = 0; r < h; r++)
        for (int x = 0; x < w; x++)
            fr->data[0][(ptrdiff_t)r * fr->linesize[0] + x] = ly[y[(size_t)r * w + x]];
    for (int r = 0; r < h / 2; r++)
        for (int x = 0; x < w / 2; x++) {
            fr->data[1][(ptrdiff_t)r * fr->linesize[1] + x] = lc[u[(size_t)r * (w / 2) + x]];
            fr->data[2][(ptrdiff_t)r * fr->linesize[2] + x] = lc[v[(size_t)r * (w / 2) + x]];
        }
}

static int encode(AVFrame *fr, uint8_t **jpeg, size_t *n, char *err, size_t en)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *c = codec ? avcodec_alloc_context3(codec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    int ret = -ENOMEM;
    if (!codec) {
        snprintf(err, en, "preview: this FFmpeg has no mjpeg encoder");
        ret = -ENOSYS;
        goto done;
    }
    if (!c || !pkt) {
        snprintf(err, en, "preview: out of memory");
        goto done;
    }
    c->width = fr->width;
    c->height = fr->height;
    c->pix_fmt = AV_PIX_FMT_YUVJ420P;
    c->color_range = AVCOL_RANGE_JPEG;
    c->time_base = (AVRational){1, 30};
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * 3;
    fr->quality = c->global_quality;
    c->thread_count = 1;
    if (avcodec_open2(c, codec, NULL) < 0 || avcodec_send_frame(c, fr) < 0 ||
        avcodec_receive_packet(c, pkt) < 0) {
        snprintf(err, en, "preview: JPEG encoding failed");
        ret = -EIO;
        goto done;
    }
    if (!(*jpeg = malloc((size_t)pkt->size))) {
        snprintf(err, en, "preview: out of memory");
        goto done;
    }
    memcpy(*jpeg, pkt->data, (size_t)pkt->size);
    *n = (size_t)pkt->size;
    ret = 0;
done:
    av_packet_free(&pkt);
    avcodec_free_context(&c);
    return ret;
}

int preview_jpeg(struct preview *pv, enum preview_side side, double at, uint8_t **jpeg, size_t *n,
                 char *err, size_t en)
{
    *jpeg = NULL;
    *n = 0;
    const int64_t t0 = crisp_now_ns();
    atomic_store(&pv->want_ns, t0);
    const int w = pv->pw, h = pv->ph;
    const size_t ny = (size_t)w * h, nc = ny / 4;
    const int at_milli = side == PREVIEW_SPLIT ? (int)(at * 1000 + 0.5) : 0;
    for (;;) { /* the first preview after a while: the pipeline makes one within 100 ms */
        pthread_mutex_lock(&pv->lock);
        long seq = pv->seq;
        pthread_mutex_unlock(&pv->lock);
        if (seq)
            break;
        if (crisp_now_ns() - t0 > 1000000000LL) {
            snprintf(err, en, "no frame to preview yet");
            return -EAGAIN;
        }
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        atomic_store(&pv->want_ns, crisp_now_ns());
    }
    uint8_t *planes = malloc(2 * ny + 2 * nc);
    AVFrame *fr = av_frame_alloc();
    int ret = -ENOMEM;
    if (!planes || !fr) {
        snprintf(err, en, "preview: out of memory");
        goto done;
    }
    struct view_cache *vc = &pv->cache[side];
    pthread_mutex_lock(&pv->lock);
    long seq = pv->seq;
    if (vc->jpeg && vc->seq == seq && vc->at_milli == at_milli && (*jpeg = malloc(vc->n))) {
        memcpy(*jpeg, vc->jpeg, vc->n);
        *n = vc->n;
        pthread_mutex_unlock(&pv->lock);
        ret = 0;
        goto done;
    }
    memcpy(planes, pv->in_y, ny);
    memcpy(planes + ny, pv->out_y, ny);
    memcpy(planes + 2 * ny, pv->u, nc);
    memcpy(planes + 2 * ny + nc, pv->v, nc);
    pthread_mutex_unlock(&pv->lock);
    uint8_t *in = planes, *out = planes + ny, *y = side == PREVIEW_IN ? in : out;
    if (side == PREVIEW_SPLIT) { /* input left of the divider, output right, a white line */
        int cut = (int)(at * w + 0.5);
        cut = cut < 0 ? 0 : cut > w ? w : cut;
        for (int r = 0; r < h; r++) {
            memcpy(out + (size_t)r * w, in + (size_t)r * w, (size_t)cut);
            for (int x = cut - 1; x <= cut; x++)
                if (x >= 0 && x < w)
                    out[(size_t)r * w + x] = 235;
        }
    }
    fr->width = w;
    fr->height = h;
    fr->format = AV_PIX_FMT_YUVJ420P;
    if (av_frame_get_buffer(fr, 0) < 0) {
        snprintf(err, en, "preview: out of memory");
        goto done;
    }
    to_full(fr, y, planes + 2 * ny, planes + 2 * ny + nc, w, h);
    if ((ret = encode(fr, jpeg, n, err, en)) < 0)
        goto done;
    pthread_mutex_lock(&pv->lock); /* kept for the other viewers of this frame */
    uint8_t *keep = malloc(*n);
    if (keep) {
        memcpy(keep, *jpeg, *n);
        free(vc->jpeg);
        vc->jpeg = keep;
        vc->n = *n;
        vc->seq = seq;
        vc->at_milli = at_milli;
    }
    pthread_mutex_unlock(&pv->lock);
done:
    free(planes);
    av_frame_free(&fr);
    return ret;
}
