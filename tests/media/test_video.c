// SPDX-License-Identifier: BSD-2-Clause
// Video encode (libx264 in MKV and MP4) and decode round trip.
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../common.h"
#include "crisp/media.h"

/* The protocols on a sequence (crisp eval --video): x2 frame by frame is
 * the still protocol, byte for byte; vc gives one frame per frame, each
 * close to the still vc degradation of the same picture (its first frame
 * is a keyframe like the still's, the later ones are P-frames); sizes that
 * do not suit a protocol and unknown protocols are refused. */
static void test_stream(const struct crisp_image *ref)
{
    char err[256] = "";
    struct crisp_image *gt = NULL, *still = NULL, *f = NULL;
    CHECK(crisp_image_crop(&gt, ref, ref->w / 4 * 4, ref->h / 4 * 4) == 0, "crop");
    if (!gt)
        return;
    struct crisp_degrade_stream *ds = NULL;
    CHECK(crisp_degrade_stream_open(&ds, "x2", gt->w, gt->h, 25, err, sizeof(err)) == 0, "%s", err);
    CHECK(crisp_degrade_protocol(&still, gt, "x2", err, sizeof(err)) == 0, "%s", err);
    for (int i = 0; ds && still && i < 3; i++) {
        CHECK(crisp_degrade_stream_frame(ds, gt, &f) == 0 && f, "x2 frame %d", i);
        CHECK(f && !memcmp(f->rgb, still->rgb, (size_t)gt->w * gt->h * 3), "x2 frame %d differs", i);
        crisp_image_destroy(&f);
    }
    crisp_degrade_stream_close(&ds);
    CHECK(!ds, "close clears the pointer");
    crisp_image_destroy(&still);
    CHECK(crisp_degrade_stream_open(&ds, "vc", gt->w, gt->h, 25, err, sizeof(err)) == 0, "%s", err);
    CHECK(crisp_degrade_protocol(&still, gt, "vc", err, sizeof(err)) == 0, "%s", err);
    for (int i = 0; ds && still && i < 8; i++) {
        CHECK(crisp_degrade_stream_frame(ds, gt, &f) == 0 && f, "vc frame %d", i);
        double p = 0;
        if (f)
            crisp_metrics_y(still, f, 0, &p, NULL);
        CHECK(p > 30, "vc frame %d: %.2f dB from the still vc degradation", i, p);
        crisp_image_destroy(&f);
    }
    crisp_degrade_stream_close(&ds);
    crisp_image_destroy(&still);
    CHECK(crisp_degrade_stream_open(&ds, "vc", 66, 48, 25, err, sizeof(err)) == CRISP_EFORMAT &&
              !ds && strstr(err, "divisible by 4"),
          "66x48 accepted for vc: %s", err);
    CHECK(crisp_degrade_stream_open(&ds, "blur", 64, 48, 25, err, sizeof(err)) == CRISP_EUSAGE &&
              !ds,
          "blur accepted on video: %s", err);
    crisp_degrade_stream_close(&ds); /* NULL is fine */
    crisp_image_destroy(&gt);
}

int main(int argc, char **argv)
{
    crisp_media_set_verbose(0);
    if (argc < 2)
        return 2;
    char path[4096], err[256] = "";
    snprintf(path, sizeof(path), "%s/ref.png", argv[1]);
    struct crisp_image *ref = NULL;
    CHECK(crisp_image_read(&ref, path, err, sizeof(err)) == 0, "%s", err);
    if (!ref)
        TEST_DONE();
    const char *files[] = {"test_video.tmp.mkv", "test_video.tmp.mp4"};
    for (int k = 0; k < 2; k++) {
        struct crisp_video_writer *w = NULL;
        struct crisp_video_writer_params p = {.width = ref->w, .height = ref->h, .fps = 25, .crf = 18};
        CHECK(crisp_video_writer_open(&w, files[k], &p, err, sizeof(err)) == 0, "%s", err);
        if (!w)
            continue;
        for (int i = 0; i < 12; i++)
            CHECK(crisp_video_write(w, ref) == 0, "write frame %d", i);
        CHECK(crisp_video_writer_close(&w) == 0 && !w, "close");
        struct crisp_video_reader *r = NULL;
        CHECK(crisp_video_open(&r, files[k], err, sizeof(err)) == 0, "%s", err);
        if (!r)
            continue;
        int vw, vh;
        double fps;
        crisp_video_info(r, &vw, &vh, &fps);
        CHECK(vw == ref->w && vh == ref->h && fps > 24.9 && fps < 25.1, "%s: %dx%d at %f fps",
              files[k], vw, vh, fps);
        int frames = 0;
        struct crisp_image *img;
        while (crisp_video_read(r, &img) == 1) {
            double psnr = 0;
            crisp_metrics_y(ref, img, 0, &psnr, NULL);
            CHECK(psnr > 35.0, "%s frame %d psnr %.2f", files[k], frames, psnr);
            crisp_image_destroy(&img);
            frames++;
        }
        CHECK(frames == 12, "%s: read %d frames, wrote 12", files[k], frames);
        crisp_video_close(&r);
        unlink(files[k]);
    }
    struct crisp_video_writer *w = NULL;
    struct crisp_video_writer_params odd = {.width = 45, .height = 29};
    CHECK(crisp_video_writer_open(&w, "x.mkv", &odd, err, sizeof(err)) == CRISP_EFORMAT,
          "odd size accepted");
    struct crisp_video_writer_params ok = {.width = 64, .height = 48};
    CHECK(crisp_video_writer_open(&w, "/nonexistent/dir/x.mkv", &ok, err, sizeof(err)) < 0 &&
              strstr(err, "/nonexistent/dir/x.mkv"),
          "unwritable path: %s", err);
    struct crisp_video_reader *r = NULL;
    CHECK(crisp_video_open(&r, "/nonexistent.mp4", err, sizeof(err)) == -ENOENT, "missing: %s", err);
    snprintf(path, sizeof(path), "%s/ref.png", argv[1]);
    test_stream(ref);
    crisp_image_destroy(&ref);
    TEST_DONE();
}
