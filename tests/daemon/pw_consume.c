// SPDX-License-Identifier: BSD-2-Clause
// A real PipeWire video consumer for tests/daemon/test_pipewire.sh: an input
// stream node that accepts one raw format at one size, prints the format it
// negotiated, and writes one MD5 per received frame, computed over the frame
// converted back to I420 (the same digest crispd's hash: sink writes). YUY2
// is turned back into I420 by taking the chroma of even rows, which is exact
// for what crispd sends. Exits 0 after --frames frames, 1 on timeout or a
// frame of the wrong size.
//
// usage: pw_consume --name NODE --format yuy2|i420|nv12 --size WxH --frames N
//                   --timeout S --out HASHES
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/md5.h>
#include <pipewire/pipewire.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>

struct consumer {
    struct pw_main_loop *loop;
    struct pw_stream *stream;
    struct spa_hook listener;
    uint32_t want;
    int w, h, frames, got, bad, negotiated;
    FILE *out;
    struct AVMD5 *md5;
    unsigned char *i420;
};

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
    struct consumer *c = data;
    if (id != SPA_PARAM_Format || !param)
        return;
    struct spa_video_info_raw info;
    memset(&info, 0, sizeof(info));
    if (spa_format_video_raw_parse(param, &info) < 0)
        return;
    printf("format %s %ux%u %u/%u matrix %s range %s\n",
           info.format == SPA_VIDEO_FORMAT_YUY2   ? "YUY2"
           : info.format == SPA_VIDEO_FORMAT_I420 ? "I420"
           : info.format == SPA_VIDEO_FORMAT_NV12 ? "NV12"
                                                   : "other",
           info.size.width, info.size.height, info.framerate.num, info.framerate.denom,
           info.color_matrix == SPA_VIDEO_COLOR_MATRIX_BT709   ? "bt709"
           : info.color_matrix == SPA_VIDEO_COLOR_MATRIX_BT601 ? "bt601"
                                                               : "other",
           info.color_range == SPA_VIDEO_COLOR_RANGE_16_235 ? "16-235"
           : info.color_range == SPA_VIDEO_COLOR_RANGE_0_255 ? "0-255"
                                                             : "unknown");
    fflush(stdout);
    if (info.format != c->want || info.size.width != (uint32_t)c->w ||
        info.size.height != (uint32_t)c->h)
        c->bad++;
    c->negotiated = 1;
}

static void on_process(void *data)
{
    struct consumer *c = data;
    struct pw_buffer *b = pw_stream_dequeue_buffer(c->stream);
    if (!b)
        return;
    struct spa_data *d = &b->buffer->datas[0];
    const int w = c->w, h = c->h;
    const size_t want = c->want == SPA_VIDEO_FORMAT_YUY2 ? (size_t)w * h * 2 : (size_t)w * h * 3 / 2;
    if (!d->data || !d->chunk || d->chunk->size == 0) {
        pw_stream_queue_buffer(c->stream, b);
        return;
    }
    if (d->chunk->size != want) {
        fprintf(stderr, "pw_consume: frame of %u bytes, expected %zu\n", d->chunk->size, want);
        c->bad++;
        pw_stream_queue_buffer(c->stream, b);
        pw_main_loop_quit(c->loop);
        return;
    }
    const unsigned char *src = (const unsigned char *)d->data + d->chunk->offset;
    unsigned char *y = c->i420, *u = y + (size_t)w * h, *v = u + (size_t)w * h / 4;
    if (c->want == SPA_VIDEO_FORMAT_I420) {
        memcpy(c->i420, src, want);
    } else if (c->want == SPA_VIDEO_FORMAT_NV12) {
        memcpy(y, src, (size_t)w * h);
        const unsigned char *uv = src + (size_t)w * h;
        for (size_t i = 0; i < (size_t)w * h / 4; i++) {
            u[i] = uv[2 * i];
            v[i] = uv[2 * i + 1];
        }
    } else {
        for (int r = 0; r < h; r++) {
            const unsigned char *s = src + (size_t)r * w * 2;
            for (int x = 0; x < w; x++)
                y[(size_t)r * w + x] = s[2 * x];
            if (r % 2 == 0)
                for (int x = 0; x < w / 2; x++) {
                    u[(size_t)(r / 2) * (w / 2) + x] = s[4 * x + 1];
                    v[(size_t)(r / 2) * (w / 2) + x] = s[4 * x + 3];
                }
        }
    }
    pw_stream_queue_buffer(c->stream, b);
    uint8_t dig[16];
    av_md5_sum(dig, c->i420, (int)((size_t)w * h * 3 / 2));
    for (int i = 0; i < 16; i++)
        fprintf(c->out, "%02x", dig[i]);
    fputc('\n', c->out);
    if (++c->got >= c->frames)
        pw_main_loop_quit(c->loop);
}

static const struct pw_stream_events events = {
    PW_VERSION_STREAM_EVENTS,
    .param_changed = on_param_changed,
    .process = on_process,
};

static void on_timeout(void *data, uint64_t expirations)
{
    struct consumer *c = data;
    fprintf(stderr, "pw_consume: timed out with %d of %d frames\n", c->got, c->frames);
    c->bad++;
    pw_main_loop_quit(c->loop);
}

int main(int argc, char **argv)
{
    const char *name = "crisp-test-consumer", *fmt = "i420", *out = NULL;
    int w = 0, h = 0, frames = 60, timeout = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--name"))
            name = argv[i + 1];
        else if (!strcmp(argv[i], "--format"))
            fmt = argv[i + 1];
        else if (!strcmp(argv[i], "--size"))
            sscanf(argv[i + 1], "%dx%d", &w, &h);
        else if (!strcmp(argv[i], "--frames"))
            frames = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--timeout"))
            timeout = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
    }
    struct consumer c = {.w = w, .h = h, .frames = frames};
    c.want = !strcmp(fmt, "yuy2")   ? SPA_VIDEO_FORMAT_YUY2
             : !strcmp(fmt, "nv12") ? SPA_VIDEO_FORMAT_NV12
                                    : SPA_VIDEO_FORMAT_I420;
    if (w <= 0 || h <= 0 || !out || !(c.out = fopen(out, "w"))) {
        fprintf(stderr, "usage: pw_consume --name N --format F --size WxH --frames N --out FILE\n");
        return 2;
    }
    c.i420 = malloc((size_t)w * h * 3 / 2);
    pw_init(&argc, &argv);
    c.loop = pw_main_loop_new(NULL);
    struct pw_loop *l = pw_main_loop_get_loop(c.loop);
    struct spa_source *timer = pw_loop_add_timer(l, on_timeout, &c);
    struct timespec ts = {timeout, 0};
    pw_loop_update_timer(l, timer, &ts, NULL, false);
    c.stream = pw_stream_new_simple(
        l, name,
        pw_properties_new(PW_KEY_MEDIA_TYPE, "Video", PW_KEY_MEDIA_CATEGORY, "Capture",
                          PW_KEY_MEDIA_ROLE, "Camera", PW_KEY_NODE_NAME, name, NULL),
        &events, &c);
    uint8_t buf[1024];
    struct spa_pod_builder bld = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *params[1];
    params[0] = spa_pod_builder_add_object(
        &bld, SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat, SPA_FORMAT_mediaType,
        SPA_POD_Id(SPA_MEDIA_TYPE_video), SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
        SPA_FORMAT_VIDEO_format, SPA_POD_Id(c.want), SPA_FORMAT_VIDEO_size,
        SPA_POD_CHOICE_RANGE_Rectangle(&SPA_RECTANGLE((uint32_t)w, (uint32_t)h),
                                       &SPA_RECTANGLE(1, 1), &SPA_RECTANGLE(8192, 8192)),
        SPA_FORMAT_VIDEO_framerate,
        SPA_POD_CHOICE_RANGE_Fraction(&SPA_FRACTION(30, 1), &SPA_FRACTION(0, 1),
                                      &SPA_FRACTION(240, 1)));
    if (pw_stream_connect(c.stream, PW_DIRECTION_INPUT, PW_ID_ANY, PW_STREAM_FLAG_MAP_BUFFERS,
                          params, 1) < 0) {
        fprintf(stderr, "pw_consume: cannot connect\n");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    pw_main_loop_run(c.loop);
    printf("frames %d bad %d\n", c.got, c.bad);
    pw_stream_destroy(c.stream);
    pw_main_loop_destroy(c.loop);
    fclose(c.out);
    free(c.i420);
    pw_deinit();
    return c.bad || c.got < c.frames ? 1 : 0;
}
