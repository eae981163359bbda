// SPDX-License-Identifier: BSD-2-Clause
// Sink pipewire[:NAME]: a PipeWire Video/Source node with media.role=Camera,
// what the camera portal offers to browsers (docs/desktop.md).
//
// The node offers YUY2, I420 and NV12, each at one size and frame rate, and
// drives the graph: every write() from the sink thread (which runs at the
// output rate, repeating the last frame when the source stalls) converts
// the frame into a back buffer without any lock, swaps it in under the
// thread-loop lock and triggers one graph cycle. process() only copies the
// front buffer into a PipeWire buffer: the PipeWire thread never waits on
// the pipeline. Consumers that come and go and a PipeWire daemon that
// restarts are logged, not errors: frames are dropped until somebody
// listens, and the connection is retried every two seconds.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/pixfmt.h>
#include <pipewire/pipewire.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>
#include <spa/utils/result.h>

#include "crisp/log.h"
#include "sink.h"

#define RETRY_NS 2000000000LL

struct pw_sink {
    struct pw_thread_loop *loop;
    struct pw_context *ctx;
    struct pw_core *core;
    struct pw_stream *stream;
    struct spa_hook core_listener, stream_listener;
    char name[128];
    int w, h, fps_num, fps_den;
    struct crisp_colorimetry color;
    /* negotiated format (loop thread writes, under the lock) */
    uint32_t format; /* SPA_VIDEO_FORMAT_*, 0 while nothing is linked */
    int stride;
    size_t size;
    /* double buffer: the sink thread fills stage[back] without the lock */
    unsigned char *stage[2];
    uint32_t stage_format[2];
    int front, have;
    int broken;           /* the daemon went away: reconnect later */
    int64_t retry_at;
    long frames_sent;
    enum pw_stream_state state;
};

static void frame_layout(uint32_t fmt, int w, int h, int *stride, size_t *size)
{
    switch (fmt) {
    case SPA_VIDEO_FORMAT_YUY2: *stride = 2 * w; *size = (size_t)*stride * h; break;
    default: *stride = w; *size = (size_t)w * h * 3 / 2; break; /* I420, NV12 */
    }
}

static void on_process(void *data)
{
    struct pw_sink *s = data;
    /* nothing staged in the negotiated format yet (a consumer just linked,
     * or switched formats): send nothing rather than a made-up picture */
    if (!s->format || !s->have || s->stage_format[s->front] != s->format)
        return;
    struct pw_buffer *b = pw_stream_dequeue_buffer(s->stream);
    if (!b)
        return;
    struct spa_data *d = &b->buffer->datas[0];
    if (!d->data || !d->chunk || d->maxsize < s->size) {
        if (d->chunk)
            d->chunk->size = 0;
        pw_stream_queue_buffer(s->stream, b);
        return;
    }
    memcpy(d->data, s->stage[s->front], s->size);
    d->chunk->offset = 0;
    d->chunk->size = (uint32_t)s->size;
    d->chunk->stride = s->stride;
    d->chunk->flags = 0;
    s->frames_sent++;
    pw_stream_queue_buffer(s->stream, b);
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
    struct pw_sink *s = data;
    if (id != SPA_PARAM_Format)
        return;
    if (!param) { /* unlinked */
        s->format = 0;
        crisp_log(CRISP_LOG_INFO, "pipewire %s: consumer gone", s->name);
        return;
    }
    struct spa_video_info_raw info;
    memset(&info, 0, sizeof(info));
    if (spa_format_video_raw_parse(param, &info) < 0 || info.size.width != (uint32_t)s->w ||
        info.size.height != (uint32_t)s->h) {
        crisp_log(CRISP_LOG_WARN, "pipewire %s: consumer asked for a format we do not offer",
                  s->name);
        pw_stream_set_error(s->stream, -EINVAL, "unsupported format");
        return;
    }
    int stride;
    size_t size;
    frame_layout(info.format, s->w, s->h, &stride, &size);
    uint8_t buf[512];
    struct spa_pod_builder bld = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *params[1];
    params[0] = spa_pod_builder_add_object(
        &bld, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers, SPA_PARAM_BUFFERS_buffers,
        SPA_POD_CHOICE_RANGE_Int(4, 2, 8), SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(1),
        SPA_PARAM_BUFFERS_size, SPA_POD_Int((int)size), SPA_PARAM_BUFFERS_stride,
        SPA_POD_Int(stride), SPA_PARAM_BUFFERS_dataType,
        SPA_POD_CHOICE_FLAGS_Int((1 << SPA_DATA_MemPtr) | (1 << SPA_DATA_MemFd)));
    s->stride = stride;
    s->size = size;
    s->format = info.format;
    pw_stream_update_params(s->stream, params, 1);
    crisp_log(CRISP_LOG_INFO, "pipewire %s: streaming %s %dx%d", s->name,
              info.format == SPA_VIDEO_FORMAT_YUY2   ? "YUY2"
              : info.format == SPA_VIDEO_FORMAT_NV12 ? "NV12"
                                                      : "I420",
              s->w, s->h);
}

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state,
                             const char *error)
{
    struct pw_sink *s = data;
    s->state = state;
    if (state == PW_STREAM_STATE_ERROR) {
        crisp_log(CRISP_LOG_WARN, "pipewire %s: %s; retrying", s->name, error ? error : "error");
        s->broken = 1;
    } else {
        crisp_log(CRISP_LOG_INFO, "pipewire %s: %s", s->name, pw_stream_state_as_string(state));
    }
}

static const struct pw_stream_events stream_events = {
    PW_VERSION_STREAM_EVENTS,
    .state_changed = on_state_changed,
    .param_changed = on_param_changed,
    .process = on_process,
};

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
    struct pw_sink *s = data;
    if (id == PW_ID_CORE) { /* the daemon went away (EPIPE) or refused us */
        crisp_log(CRISP_LOG_WARN, "pipewire %s: %s; retrying", s->name,
                  message ? message : spa_strerror(res));
        s->broken = 1;
    }
}

static const struct pw_core_events core_events = {
    PW_VERSION_CORE_EVENTS,
    .error = on_core_error,
};

/* loop locked or stopped */
static void disconnect_locked(struct pw_sink *s)
{
    if (s->stream) {
        spa_hook_remove(&s->stream_listener);
        pw_stream_destroy(s->stream);
        s->stream = NULL;
    }
    if (s->core) {
        spa_hook_remove(&s->core_listener);
        pw_core_disconnect(s->core);
        s->core = NULL;
    }
    s->format = 0;
}

/* the frames' colorimetry in PipeWire's terms (H.273 code points in) */
static void spa_colorimetry(const struct crisp_colorimetry *c, struct spa_video_info_raw *info)
{
    info->color_range = c->range == AVCOL_RANGE_JPEG ? SPA_VIDEO_COLOR_RANGE_0_255
                                                     : SPA_VIDEO_COLOR_RANGE_16_235;
    info->color_matrix = c->matrix == AVCOL_SPC_BT709        ? SPA_VIDEO_COLOR_MATRIX_BT709
                         : c->matrix == AVCOL_SPC_BT2020_NCL ? SPA_VIDEO_COLOR_MATRIX_BT2020
                         : c->matrix == AVCOL_SPC_SMPTE240M  ? SPA_VIDEO_COLOR_MATRIX_SMPTE240M
                         : c->matrix == AVCOL_SPC_FCC        ? SPA_VIDEO_COLOR_MATRIX_FCC
                                                             : SPA_VIDEO_COLOR_MATRIX_BT601;
    info->transfer_function = c->transfer == AVCOL_TRC_BT709 || c->transfer == AVCOL_TRC_SMPTE170M ||
                                      c->transfer == AVCOL_TRC_BT2020_10
                                  ? SPA_VIDEO_TRANSFER_BT709
                              : c->transfer == AVCOL_TRC_IEC61966_2_1 ? SPA_VIDEO_TRANSFER_SRGB
                                                                      : SPA_VIDEO_TRANSFER_UNKNOWN;
    info->color_primaries = c->primaries == AVCOL_PRI_BT709       ? SPA_VIDEO_COLOR_PRIMARIES_BT709
                            : c->primaries == AVCOL_PRI_BT470BG   ? SPA_VIDEO_COLOR_PRIMARIES_BT470BG
                            : c->primaries == AVCOL_PRI_SMPTE170M ? SPA_VIDEO_COLOR_PRIMARIES_SMPTE170M
                            : c->primaries == AVCOL_PRI_BT2020    ? SPA_VIDEO_COLOR_PRIMARIES_BT2020
                                                                  : SPA_VIDEO_COLOR_PRIMARIES_UNKNOWN;
}

/* loop locked or stopped */
static int connect_locked(struct pw_sink *s, char *err, size_t n)
{
    s->broken = 0;
    s->core = pw_context_connect(s->ctx, NULL, 0);
    if (!s->core) {
        snprintf(err, n, "output pipewire:%s: cannot connect to PipeWire: %s", s->name,
                 strerror(errno));
        return -ENOTCONN;
    }
    pw_core_add_listener(s->core, &s->core_listener, &core_events, s);
    char rate[32];
    snprintf(rate, sizeof(rate), "%d/%d", s->fps_den, s->fps_num);
    struct pw_properties *props = pw_properties_new(
        PW_KEY_MEDIA_CLASS, "Video/Source", PW_KEY_MEDIA_TYPE, "Video", PW_KEY_MEDIA_CATEGORY,
        "Capture", PW_KEY_MEDIA_ROLE, "Camera", PW_KEY_NODE_NAME, s->name,
        PW_KEY_NODE_DESCRIPTION, s->name, PW_KEY_NODE_NICK, s->name, PW_KEY_NODE_RATE, rate,
        PW_KEY_NODE_DRIVER, "true", "media.software", "crispd", NULL);
    s->stream = pw_stream_new(s->core, s->name, props);
    if (!s->stream) {
        snprintf(err, n, "output pipewire:%s: cannot create the stream: %s", s->name,
                 strerror(errno));
        return -ENOMEM;
    }
    pw_stream_add_listener(s->stream, &s->stream_listener, &stream_events, s);
    uint8_t buf[1536];
    struct spa_pod_builder bld = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const uint32_t formats[3] = {SPA_VIDEO_FORMAT_YUY2, SPA_VIDEO_FORMAT_I420,
                                 SPA_VIDEO_FORMAT_NV12};
    const struct spa_pod *params[3];
    for (int i = 0; i < 3; i++) {
        struct spa_video_info_raw info;
        memset(&info, 0, sizeof(info));
        info.format = formats[i];
        info.size = SPA_RECTANGLE((uint32_t)s->w, (uint32_t)s->h);
        info.framerate = SPA_FRACTION((uint32_t)s->fps_num, (uint32_t)s->fps_den);
        spa_colorimetry(&s->color, &info);
        params[i] = spa_format_video_raw_build(&bld, SPA_PARAM_EnumFormat, &info);
    }
    int r = pw_stream_connect(s->stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
                              PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_MAP_BUFFERS, params, 3);
    if (r < 0) {
        snprintf(err, n, "output pipewire:%s: cannot connect the stream: %s", s->name,
                 spa_strerror(r));
        return r;
    }
    return 0;
}

static int pw_sink_close(struct sink *sk);


static int pw_sink_open(struct sink *sk, const char *arg, const struct sink_params *sp,
                        char *err, size_t n)
{
    pw_init(NULL, NULL);
    struct pw_sink *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    sk->priv = s;
    snprintf(s->name, sizeof(s->name), "%s", arg && *arg ? arg : "crisp");
    s->w = sp->w;
    s->h = sp->h;
    s->color = sp->color;
    s->fps_num = (int)(sp->fps * 1000 + 0.5);
    s->fps_den = 1000;
    if (s->fps_num % 1000 == 0) {
        s->fps_num /= 1000;
        s->fps_den = 1;
    }
    for (int i = 0; i < 2; i++)
        if (!(s->stage[i] = malloc((size_t)s->w * s->h * 2))) {
            snprintf(err, n, "out of memory");
            pw_sink_close(sk);
            return -ENOMEM;
        }
    s->loop = pw_thread_loop_new("crispd-pw", NULL);
    if (!s->loop || !(s->ctx = pw_context_new(pw_thread_loop_get_loop(s->loop), NULL, 0))) {
        snprintf(err, n, "output pipewire:%s: cannot create a PipeWire context", s->name);
        pw_sink_close(sk);
        return -ENOMEM;
    }
    if (pw_thread_loop_start(s->loop) < 0) {
        snprintf(err, n, "output pipewire:%s: cannot start the PipeWire thread", s->name);
        pw_sink_close(sk);
        return -EAGAIN;
    }
    pw_thread_loop_lock(s->loop);
    int r = connect_locked(s, err, n);
    if (r < 0)
        disconnect_locked(s);
    pw_thread_loop_unlock(s->loop);
    if (r < 0) {
        pw_sink_close(sk);
        return r;
    }
    return 0;
}

static int pw_sink_write(struct sink *sk, const struct crisp_frame *f, int64_t pts_us)
{
    struct pw_sink *s = sk->priv;
    pw_thread_loop_lock(s->loop);
    int reconnect = s->broken && crisp_now_ns() >= s->retry_at;
    pw_thread_loop_unlock(s->loop);
    if (reconnect) {
        /* objects are torn down with the loop stopped: events it still had
         * queued for them must not run after they are freed */
        char err[256];
        pw_thread_loop_stop(s->loop);
        disconnect_locked(s);
        if (connect_locked(s, err, sizeof(err)) < 0) {
            crisp_log(CRISP_LOG_WARN, "%s; retrying", err);
            disconnect_locked(s);
            s->broken = 1;
        }
        s->retry_at = crisp_now_ns() + RETRY_NS;
        pw_thread_loop_start(s->loop);
    }
    pw_thread_loop_lock(s->loop);
    uint32_t fmt = s->format;
    int back = !s->front, stride = s->stride;
    pw_thread_loop_unlock(s->loop);
    if (!fmt)
        return 0; /* nobody watches */
    switch (fmt) { /* without the lock: the loop thread reads only the front buffer */
    case SPA_VIDEO_FORMAT_YUY2: pix_i420_to_yuyv(f, s->stage[back], stride); break;
    case SPA_VIDEO_FORMAT_NV12: pix_i420_to_nv12(f, s->stage[back], stride); break;
    default: pix_i420_pack(f, s->stage[back], stride); break;
    }
    pw_thread_loop_lock(s->loop);
    s->stage_format[back] = fmt;
    s->front = back;
    s->have = 1;
    if (s->stream && !s->broken && pw_stream_is_driving(s->stream))
        pw_stream_trigger_process(s->stream);
    pw_thread_loop_unlock(s->loop);
    return 0;
}

static int pw_sink_close(struct sink *sk)
{
    struct pw_sink *s = sk->priv;
    if (!s)
        return 0;
    if (s->loop) {
        /* stop the loop first, then free what its queued events point to */
        pw_thread_loop_stop(s->loop);
        disconnect_locked(s);
    }
    if (s->ctx)
        pw_context_destroy(s->ctx);
    if (s->loop)
        pw_thread_loop_destroy(s->loop);
    crisp_log(CRISP_LOG_INFO, "pipewire %s: %ld buffers sent", s->name, s->frames_sent);
    free(s->stage[0]);
    free(s->stage[1]);
    free(s);
    sk->priv = NULL;
    pw_deinit();
    return 0;
}

const struct sink crispd_sink_pipewire = {
    .name = "pipewire",
    .live = 1,
    .open = pw_sink_open,
    .write = pw_sink_write,
    .close = pw_sink_close,
};
