// SPDX-License-Identifier: BSD-2-Clause
// Image I/O, colour conversion and degradations: determinism for a seed,
// sizes, errors for bad input, and a folder's image list.
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../common.h"
#include "crisp/media.h"
#include "crisp/util.h"

static int same(const struct crisp_image *a, const struct crisp_image *b)
{
    return a && b && a->w == b->w && a->h == b->h &&
           !memcmp(a->rgb, b->rgb, (size_t)a->w * a->h * 3);
}

static double psnr(const struct crisp_image *a, const struct crisp_image *b)
{
    double p = 0;
    crisp_metrics_y(a, b, 0, &p, NULL);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    crisp_media_set_verbose(0);
    char path[4096], err[256] = "";
    snprintf(path, sizeof(path), "%s/ref.png", argv[1]);
    struct crisp_image *ref = NULL;
    CHECK(crisp_image_read(&ref, path, err, sizeof(err)) == 0, "%s", err);
    if (!ref)
        TEST_DONE();
    CHECK(ref->w == 128 && ref->h == 96, "ref.png is %dx%d", ref->w, ref->h);

    /* colour: Y/Cb/Cr and back is exact */
    size_t n = (size_t)ref->w * ref->h;
    float *ycc = malloc(sizeof(float) * n * 3);
    crisp_image_to_ycbcr(ref, ycc, ycc + n, ycc + 2 * n);
    struct crisp_image *back = NULL;
    crisp_image_create(&back, ref->w, ref->h);
    crisp_image_from_ycbcr(back, ycc, ycc + n, ycc + 2 * n);
    CHECK(same(ref, back), "YCbCr round trip is not exact");
    uint8_t *y8 = malloc(n);
    crisp_image_luma_u8(ref, y8);
    int maxd = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)y8[i] - (int)(ycc[i] + 0.5f));
        maxd = d > maxd ? d : maxd;
    }
    CHECK(maxd == 0, "rounded Y differs from float Y by %d", maxd);
    /* the 8-bit levels luma models are fed are the rounded Y, as floats */
    float *lv = malloc(sizeof(float) * n);
    crisp_image_luma_levels(ref, lv);
    size_t off_level = 0;
    for (size_t i = 0; i < n; i++)
        off_level += lv[i] != (float)y8[i];
    CHECK(off_level == 0, "%zu of %zu luma levels differ from crisp_image_luma_u8", off_level, n);
    free(lv);
    free(y8);
    free(ycc);
    crisp_image_destroy(&back);

    /* EXIF orientations: 6 (rotate 90 clockwise) then 8 (counter-clockwise) is
     * the identity, 2 twice too, and 6 moves the top-left pixel to the top right */
    {
        struct crisp_image *r6 = NULL, *r68 = NULL, *m2 = NULL, *m22 = NULL;
        CHECK(crisp_image_orient(&r6, ref, 6) == 0 && r6->w == ref->h && r6->h == ref->w,
              "orientation 6 size");
        CHECK(r6 && !memcmp(r6->rgb + (size_t)(r6->w - 1) * 3, ref->rgb, 3),
              "orientation 6 puts the top-left pixel top right");
        CHECK(r6 && crisp_image_orient(&r68, r6, 8) == 0 && same(r68, ref), "6 then 8 is not identity");
        CHECK(crisp_image_orient(&m2, ref, 2) == 0 && crisp_image_orient(&m22, m2, 2) == 0 &&
                  same(m22, ref) && !same(m2, ref),
              "mirror twice is not identity");
        for (int o = 1; o <= 8; o++) {
            struct crisp_image *t = NULL;
            CHECK(crisp_image_orient(&t, ref, o) == 0, "orientation %d", o);
            crisp_image_destroy(&t);
        }
        struct crisp_image *bad = NULL;
        CHECK(crisp_image_orient(&bad, ref, 9) == CRISP_EUSAGE && !bad, "orientation 9 accepted");
        crisp_image_destroy(&r6);
        crisp_image_destroy(&r68);
        crisp_image_destroy(&m2);
        crisp_image_destroy(&m22);
    }

    /* PNG write/read is lossless; JPEG is close */
    const char *tmp_png = "test_media.tmp.png", *tmp_jpg = "test_media.tmp.jpg";
    struct crisp_image *rd = NULL;
    CHECK(crisp_image_write(ref, tmp_png, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(crisp_image_read(&rd, tmp_png, err, sizeof(err)) == 0 && same(ref, rd), "PNG round trip");
    crisp_image_destroy(&rd);
    CHECK(crisp_image_write(ref, tmp_jpg, 95, err, sizeof(err)) == 0, "%s", err);
    CHECK(crisp_image_read(&rd, tmp_jpg, err, sizeof(err)) == 0, "%s", err);
    CHECK(rd && psnr(ref, rd) > 33.0, "JPEG q95 psnr %.2f", rd ? psnr(ref, rd) : 0.0);
    crisp_image_destroy(&rd);
    CHECK(crisp_image_write(ref, "x.tiff", 0, err, sizeof(err)) == CRISP_EUSAGE,
          "unknown extension accepted");

    /* truncated and corrupt images are rejected with a message */
    uint8_t *buf;
    size_t len;
    CHECK(crisp_file_read(tmp_png, &buf, &len) == 0, "read back");
    for (size_t cut = 0; cut < len; cut += len / 7 + 1) {
        CHECK(crisp_image_decode(&rd, buf, cut, err, sizeof(err)) < 0 && !rd,
              "PNG truncated to %zu accepted", cut);
        crisp_image_destroy(&rd);
    }
    CHECK(crisp_image_decode(&rd, buf, len - 20, err, sizeof(err)) < 0 && strstr(err, "truncated"),
          "truncated PNG message: %s", err);
    memset(buf + 100, 0x55, 200);
    CHECK(crisp_image_decode(&rd, buf, len, err, sizeof(err)) < 0 && !rd, "corrupt PNG accepted");
    free(buf);
    CHECK(crisp_file_read(tmp_jpg, &buf, &len) == 0, "read back jpg");
    CHECK(crisp_image_decode(&rd, buf, len / 2, err, sizeof(err)) < 0 && strstr(err, "truncated"),
          "truncated JPEG message: %s", err);
    free(buf);
    CHECK(crisp_image_decode(&rd, (const uint8_t *)"hello world", 11, err, sizeof(err)) ==
                  CRISP_EBADFILE &&
              strstr(err, "not a PNG"),
          "text accepted as an image: %s", err);
    CHECK(crisp_image_read(&rd, "/nonexistent.png", err, sizeof(err)) == -ENOENT, "missing file");
    unlink(tmp_png);
    unlink(tmp_jpg);

    /* degradations: deterministic, right sizes, sensible damage */
    struct crisp_image *a = NULL, *b = NULL;
    CHECK(crisp_add_noise(&a, ref, 5.0f, 42) == 0 && crisp_add_noise(&b, ref, 5.0f, 42) == 0,
          "noise");
    CHECK(same(a, b), "noise with one seed differs between runs");
    crisp_image_destroy(&b);
    CHECK(crisp_add_noise(&b, ref, 5.0f, 43) == 0 && !same(a, b), "noise ignores the seed");
    CHECK(psnr(ref, a) > 30.0 && psnr(ref, a) < 40.0, "noise sigma 5 psnr %.2f", psnr(ref, a));
    crisp_image_destroy(&a);
    crisp_image_destroy(&b);

    const char *protos[] = {"x2", "vc", "blur"};
    for (int i = 0; i < 3; i++) {
        CHECK(crisp_degrade_protocol(&a, ref, protos[i], err, sizeof(err)) == 0, "%s: %s",
              protos[i], err);
        CHECK(crisp_degrade_protocol(&b, ref, protos[i], err, sizeof(err)) == 0, "%s: %s",
              protos[i], err);
        CHECK(same(a, b), "protocol %s is not deterministic", protos[i]);
        CHECK(a && a->w == ref->w && a->h == ref->h, "protocol %s changes the size", protos[i]);
        double p = a ? psnr(ref, a) : 0;
        CHECK(p > 20.0 && p < 40.0, "protocol %s psnr %.2f", protos[i], p);
        crisp_image_destroy(&a);
        crisp_image_destroy(&b);
    }
    CHECK(crisp_h264_roundtrip(&a, ref, 18) == 0 && crisp_h264_roundtrip(&b, ref, 40) == 0, "h264");
    CHECK(a && b && psnr(ref, a) > psnr(ref, b) + 3.0, "CRF 18 not better than CRF 40");
    crisp_image_destroy(&a);
    crisp_image_destroy(&b);
    CHECK(crisp_jpeg_roundtrip(&a, ref, 90) == 0 && crisp_jpeg_roundtrip(&b, ref, 10) == 0, "jpeg");
    CHECK(a && b && psnr(ref, a) > psnr(ref, b) + 3.0, "JPEG q90 not better than q10");
    crisp_image_destroy(&a);
    crisp_image_destroy(&b);
    CHECK(crisp_blur(&a, ref, 0.0f) == 0 && same(a, ref), "blur sigma 0 is not a copy");
    crisp_image_destroy(&a);
    CHECK(crisp_resize(&a, ref, 64, 48, CRISP_SCALE_BICUBIC) == 0 && a->w == 64 && a->h == 48,
          "resize");
    crisp_image_destroy(&a);
    CHECK(crisp_resize(&a, ref, 128, 96, CRISP_SCALE_BICUBIC) == 0 && same(a, ref),
          "same-size bicubic resize is not the identity");
    crisp_image_destroy(&a);

    /* sizes that do not suit a protocol */
    struct crisp_image *odd = NULL;
    crisp_image_create(&odd, 37, 23);
    CHECK(crisp_degrade_protocol(&a, odd, "x2", err, sizeof(err)) == CRISP_EFORMAT &&
              strstr(err, "divisible by 2"),
          "x2 on 37x23: %s", err);
    crisp_image_destroy(&odd);
    crisp_image_create(&odd, 66, 50);
    CHECK(crisp_degrade_protocol(&a, odd, "vc", err, sizeof(err)) == CRISP_EFORMAT &&
              strstr(err, "divisible by 4"),
          "vc on 66x50: %s", err);
    CHECK(crisp_degrade_protocol(&a, odd, "nope", err, sizeof(err)) == CRISP_EUSAGE &&
              strstr(err, "unknown protocol"),
          "unknown protocol: %s", err);
    CHECK(crisp_h264_roundtrip(&a, odd, 60) == CRISP_EUSAGE, "CRF 60 accepted");
    crisp_image_destroy(&odd);
    crisp_image_destroy(&ref);

    /* a folder's image files: by extension in any case, hidden ones and
     * other files skipped, sorted; a missing folder gives its errno */
    {
        char dir[] = "/tmp/crisp-list-XXXXXX", f[4200];
        CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
        const char *files[] = {"b.png", "A.JPG", ".hidden.png", "notes.txt", "c.jpeg", "d.bmp", "png"};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            snprintf(f, sizeof(f), "%s/%s", dir, files[i]);
            FILE *fp = fopen(f, "w");
            if (fp)
                fclose(fp);
        }
        char **names = NULL;
        int nn = -1;
        CHECK(crisp_image_list(dir, &names, &nn) == 0 && nn == 4 && !strcmp(names[0], "A.JPG") &&
                  !strcmp(names[1], "b.png") && !strcmp(names[2], "c.jpeg") && !strcmp(names[3], "d.bmp"),
              "image list of %s: %d names", dir, nn);
        for (int i = 0; i < nn; i++)
            free(names[i]);
        free(names);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            snprintf(f, sizeof(f), "%s/%s", dir, files[i]);
            unlink(f);
        }
        rmdir(dir);
        CHECK(crisp_image_list(dir, &names, &nn) == -ENOENT && nn == 0 && !names,
              "a missing folder listed");
    }
    TEST_DONE();
}
