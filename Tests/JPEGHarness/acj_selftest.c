/*
 * acj_selftest — tests of the libjpeg shim (Sources/CJPEG/acj.c) and of its copy in the classify
 * example (examples/classify/image.c): the preprocessing formulas, decoding of every colour
 * space, baseline and progressive, hostile input (every truncation, random bytes, bit flips,
 * huge headers), and agreement of the two copies.
 *
 *     acj_selftest WORKDIR [IMAGE.jpg...]
 *
 * WORKDIR receives the fixture files.  Extra images (e.g. the sample images) are decoded by
 * both copies, which must agree.  Prints one line per failed check and `N passed, N failed`.
 * Build it with -fsanitize=address,undefined to check memory safety too (scripts/test_classify.sh).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acj.h"
#include "fixtures.h"
#include "image.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

/* Runs both preprocess copies; checks they agree exactly; returns acj's status. */
static int preprocess_both(const uint8_t *p, uint32_t w, uint32_t h, uint32_t c, uint32_t ow,
                           uint32_t oh, const float *mean, const float *std, float *out) {
    size_t n = (size_t)c * ow * oh;
    float *other = malloc(n * sizeof *other);
    int s1 = acj_preprocess(p, w, h, c, ow, oh, mean, std, out);
    int s2 = image_preprocess(p, w, h, c, ow, oh, mean, std, other);
    CHECK(s1 == s2, "preprocess status %d vs %d", s1, s2);
    if (s1 == ACJ_OK && s2 == IMAGE_OK) {
        double worst = 0;
        for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)out[i] - other[i]));
        CHECK(worst <= 1e-5, "acj_preprocess and image_preprocess differ by %g (%ux%u->%ux%u)",
              worst, w, h, ow, oh);
    }
    free(other);
    return s1;
}

static void test_preprocess_formulas(void) {
    const float zero[4] = {0, 0, 0, 0}, one[4] = {1, 1, 1, 1};
    float out[128];
    /* identity */
    const uint8_t id[6] = {0, 51, 102, 153, 204, 255};
    CHECK(preprocess_both(id, 3, 2, 1, 3, 2, zero, one, out) == ACJ_OK, "identity status");
    for (int i = 0; i < 6; i++) CHECK(near(out[i], id[i] / 255.0, 1e-7), "identity %d: %g", i, out[i]);
    /* area 4 → 2 */
    const uint8_t a4[4] = {0, 100, 200, 255};
    preprocess_both(a4, 4, 1, 1, 2, 1, zero, one, out);
    CHECK(near(out[0] * 255, 50, 1e-4) && near(out[1] * 255, 227.5, 1e-4), "area 4->2: %g %g",
          out[0] * 255, out[1] * 255);
    /* area 3 → 2: weights (1, 1/2) / 1.5 and (1/2, 1) / 1.5 */
    const uint8_t a3[3] = {0, 90, 180};
    preprocess_both(a3, 3, 1, 1, 2, 1, zero, one, out);
    CHECK(near(out[0] * 255, 30, 1e-4) && near(out[1] * 255, 150, 1e-4), "area 3->2: %g %g",
          out[0] * 255, out[1] * 255);
    /* same along y */
    preprocess_both(a3, 1, 3, 1, 1, 2, zero, one, out);
    CHECK(near(out[0] * 255, 30, 1e-4) && near(out[1] * 255, 150, 1e-4), "area y 3->2");
    /* bilinear 2 → 4, half-pixel centres, clamped: 0, 25, 75, 100 */
    const uint8_t b2[2] = {0, 100};
    preprocess_both(b2, 2, 1, 1, 4, 1, zero, one, out);
    CHECK(near(out[0] * 255, 0, 1e-4) && near(out[1] * 255, 25, 1e-4) &&
              near(out[2] * 255, 75, 1e-4) && near(out[3] * 255, 100, 1e-4),
          "bilinear 2->4: %g %g %g %g", out[0] * 255, out[1] * 255, out[2] * 255, out[3] * 255);
    /* 1 pixel → 3×2: constant */
    const uint8_t single[1] = {77};
    preprocess_both(single, 1, 1, 1, 3, 2, zero, one, out);
    for (int i = 0; i < 6; i++) CHECK(near(out[i] * 255, 77, 1e-4), "1x1 enlarge %d", i);
    /* mixed: x 2 → 4 bilinear, y 2 → 1 area */
    const uint8_t m[4] = {0, 100, 100, 200};
    preprocess_both(m, 2, 2, 1, 4, 1, zero, one, out);
    CHECK(near(out[0] * 255, 50, 1e-4) && near(out[1] * 255, 75, 1e-4) &&
              near(out[2] * 255, 125, 1e-4) && near(out[3] * 255, 150, 1e-4),
          "mixed: %g %g %g %g", out[0] * 255, out[1] * 255, out[2] * 255, out[3] * 255);
    /* normalisation and planar layout: 2×1 RGB */
    const uint8_t rgb[6] = {255, 0, 51, 0, 255, 102};
    const float mean[3] = {0.5f, 0.25f, 0.0f}, std[3] = {0.5f, 0.25f, 2.0f};
    preprocess_both(rgb, 2, 1, 3, 2, 1, mean, std, out);
    CHECK(near(out[0], 1.0, 1e-6) && near(out[1], -1.0, 1e-6), "R plane %g %g", out[0], out[1]);
    CHECK(near(out[2], -1.0, 1e-6) && near(out[3], 3.0, 1e-6), "G plane %g %g", out[2], out[3]);
    CHECK(near(out[4], 0.1, 1e-6) && near(out[5], 0.2, 1e-6), "B plane %g %g", out[4], out[5]);
    /* area averaging of a constant stays constant over awkward ratios (weights sum to 1) */
    uint8_t flat[97 * 31];
    memset(flat, 201, sizeof flat);
    preprocess_both(flat, 97, 31, 1, 13, 7, zero, one, out);
    for (int i = 0; i < 13 * 7; i++) CHECK(near(out[i] * 255, 201, 1e-4), "flat %d: %g", i, out[i] * 255);
    /* invalid arguments */
    const float bad_std[1] = {0};
    CHECK(preprocess_both(id, 3, 2, 1, 3, 2, zero, bad_std, out) == ACJ_ERROR_ARGUMENT, "std 0");
    CHECK(acj_preprocess(id, 3, 2, 0, 3, 2, zero, one, out) == ACJ_ERROR_ARGUMENT, "channels 0");
    CHECK(acj_preprocess(id, 0, 2, 1, 3, 2, zero, one, out) == ACJ_ERROR_ARGUMENT, "width 0");
    CHECK(acj_preprocess(NULL, 3, 2, 1, 3, 2, zero, one, out) == ACJ_ERROR_ARGUMENT, "NULL");
}

static uint8_t *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(data, 1, (size_t)n, f);
    fclose(f);
    return data;
}

static void write_all(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data, 1, size, f);
    fclose(f);
}

/* Decodes `path` with acj (file and memory) and image.c; checks all three agree exactly. */
static int decode_all_agree(const char *path, int want, acj_image *out) {
    char err[256], err2[256];
    int s = acj_decode_file(path, want, 0, out, err, sizeof err);
    size_t size = 0;
    uint8_t *data = read_all(path, &size);
    acj_image mem;
    int sm = acj_decode_memory(data, size, want, 0, &mem, err2, sizeof err2);
    image img;
    int si = image_decode_file(path, want, 0, &img, err2, sizeof err2);
    CHECK(s == sm && s == si, "%s: statuses file %d memory %d example %d", path, s, sm, si);
    if (s == ACJ_OK && sm == ACJ_OK && si == IMAGE_OK) {
        size_t n = (size_t)out->width * out->height * out->channels;
        CHECK(mem.width == out->width && mem.height == out->height &&
                  memcmp(mem.pixels, out->pixels, n) == 0,
              "%s: file and memory decoding differ", path);
        CHECK(img.width == out->width && img.height == out->height && img.channels == out->channels &&
                  memcmp(img.pixels, out->pixels, n) == 0,
              "%s: acj and example decoding differ", path);
    }
    acj_image_free(&mem);
    image_free(&img);
    free(data);
    return s;
}

/* Mean absolute difference between a decoded image and the expected pixels. */
static double mad(const uint8_t *a, const uint8_t *b, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += abs((int)a[i] - (int)b[i]);
    return sum / (double)n;
}

static void test_colour_spaces(const char *dir) {
    const uint32_t w = 41, h = 29;
    uint8_t rgb[41 * 29 * 3], expect_rgb[41 * 29 * 3], expect_gray[41 * 29], cmyk[41 * 29 * 4];
    fixture_rgb_pattern(rgb, w, h);
    fixture_cmyk_pattern(cmyk, w, h);
    const char *names[] = {"gray", "rgb", "rgb-plain", "cmyk-adobe", "cmyk-plain", "ycck"};
    for (int kind = 0; kind < 6; kind++) {
        for (int progressive = 0; progressive < 2; progressive++) {
            char path[1024], err[256];
            snprintf(path, sizeof path, "%s/%s%s.jpg", dir, names[kind], progressive ? "-prog" : "");
            const uint8_t *src = kind == FIXTURE_RGB || kind == FIXTURE_RGB_PLAIN ? rgb : cmyk;
            uint8_t gray_src[41 * 29];
            if (kind == FIXTURE_GRAY) {
                for (size_t i = 0; i < (size_t)w * h; i++) gray_src[i] = rgb[3 * i + 1];
                src = gray_src;
            }
            CHECK(fixture_write(path, src, w, h, (enum fixture_kind)kind, 95, progressive, err,
                                sizeof err) == 0, "write %s: %s", path, err);
            /* expected RGB: the pattern; CMYK with K = 100 ink scales by 155/255 */
            for (size_t i = 0; i < (size_t)w * h; i++) {
                for (int c = 0; c < 3; c++) {
                    int v = kind == FIXTURE_GRAY ? rgb[3 * i + 1] : rgb[3 * i + c];
                    if (kind >= FIXTURE_CMYK_ADOBE && (i / w) >= h / 2) v = (v * 155 + 127) / 255;
                    expect_rgb[3 * i + c] = (uint8_t)v;
                }
                expect_gray[i] = (uint8_t)((19595u * expect_rgb[3 * i] + 38470u * expect_rgb[3 * i + 1] +
                                            7471u * expect_rgb[3 * i + 2] + 32768u) >> 16);
            }
            acj_image img;
            CHECK(decode_all_agree(path, 3, &img) == ACJ_OK, "decode %s as RGB", path);
            if (img.pixels) {
                CHECK(img.width == w && img.height == h && img.channels == 3, "%s dims", path);
                double e = mad(img.pixels, expect_rgb, (size_t)w * h * 3);
                /* 4:2:0 chroma subsampling blurs the 8-pixel checkerboard in B; a wrong colour
                   conversion (e.g. CMYK inversion) gives errors near 100. */
                double tol = kind == FIXTURE_RGB || kind == FIXTURE_YCCK ? 10.0 : 4.0;
                CHECK(e < tol, "%s RGB mean abs error %.2f", path, e);
            }
            acj_image_free(&img);
            CHECK(decode_all_agree(path, 1, &img) == ACJ_OK, "decode %s as gray", path);
            if (img.pixels) {
                CHECK(img.width == w && img.height == h && img.channels == 1, "%s gray dims", path);
                double e = mad(img.pixels, expect_gray, (size_t)w * h);
                CHECK(e < 4.0, "%s gray mean abs error %.2f", path, e);
            }
            acj_image_free(&img);
        }
    }
}

/* Every strict prefix of a valid file must be rejected; random damage must not crash. */
static void test_hostile(const char *dir) {
    char path[1024], err[256];
    const char *files[] = {"rgb.jpg", "rgb-prog.jpg", "gray.jpg", "ycck-prog.jpg"};
    for (int f = 0; f < 4; f++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        size_t size = 0;
        uint8_t *data = read_all(path, &size);
        CHECK(data != NULL && size > 100, "read %s", path);
        if (!data) continue;
        int accepted = 0;
        for (size_t n = 0; n < size; n++) {
            acj_image img;
            int s = acj_decode_memory(data, n, 3, 0, &img, err, sizeof err);
            if (s == ACJ_OK) accepted++;
            CHECK(s != ACJ_OK || img.pixels != NULL, "ok without pixels");
            CHECK(s == ACJ_OK || img.pixels == NULL, "error with pixels");
            acj_image_free(&img);
        }
        CHECK(accepted == 0, "%s: %d truncated prefixes were accepted", files[f], accepted);
        /* truncated files on disk, through both copies */
        size_t cuts[] = {1, 2, 3, 20, size / 3, size / 2, size - 10, size - 2, size - 1};
        for (int c = 0; c < 9; c++) {
            snprintf(path, sizeof path, "%s/cut.jpg", dir);
            write_all(path, data, cuts[c]);
            acj_image img;
            image other;
            int s1 = acj_decode_file(path, 1, 0, &img, err, sizeof err);
            int s2 = image_decode_file(path, 1, 0, &other, err, sizeof err);
            CHECK(s1 != ACJ_OK && s2 != IMAGE_OK, "%s cut at %zu accepted (%d %d)", files[f], cuts[c], s1, s2);
            acj_image_free(&img);
            image_free(&other);
        }
        /* bit flips: must not crash or leak (the statuses are free) */
        srand(1234 + f);
        uint8_t *copy = malloc(size);
        for (int trial = 0; trial < 400; trial++) {
            memcpy(copy, data, size);
            int flips = 1 + rand() % 4;
            for (int k = 0; k < flips; k++) copy[rand() % size] ^= (uint8_t)(1u << (rand() % 8));
            acj_image img;
            int s = acj_decode_memory(copy, size, trial % 2 ? 1 : 3, 1u << 20, &img, err, sizeof err);
            CHECK(s == ACJ_OK ? img.pixels != NULL : img.pixels == NULL, "bit flip state");
            acj_image_free(&img);
        }
        free(copy);
        free(data);
    }
    /* random bytes, and random bytes after an SOI marker */
    srand(99);
    for (int trial = 0; trial < 300; trial++) {
        uint8_t buf[512];
        size_t n = 1 + (size_t)(rand() % (int)sizeof buf);
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rand();
        if (trial % 2 && n > 2) buf[0] = 0xFF, buf[1] = 0xD8;
        acj_image img;
        CHECK(acj_decode_memory(buf, n, 3, 0, &img, err, sizeof err) != ACJ_OK, "random bytes accepted");
        acj_image_free(&img);
    }
    /* empty input, a PNG signature, a directory, a missing file */
    acj_image img;
    const uint8_t png[16] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    CHECK(acj_decode_memory(png, 0, 3, 0, &img, err, sizeof err) == ACJ_ERROR_FORMAT, "empty");
    CHECK(acj_decode_memory(png, sizeof png, 3, 0, &img, err, sizeof err) == ACJ_ERROR_FORMAT &&
              strstr(err, "PNG") != NULL, "png: %s", err);
    CHECK(acj_decode_file(dir, 3, 0, &img, err, sizeof err) == ACJ_ERROR_IO, "directory: %s", err);
    snprintf(path, sizeof path, "%s/does-not-exist.jpg", dir);
    CHECK(acj_decode_file(path, 3, 0, &img, err, sizeof err) == ACJ_ERROR_IO, "missing: %s", err);
    snprintf(path, sizeof path, "%s/empty.jpg", dir);
    write_all(path, png, 0);
    CHECK(acj_decode_file(path, 3, 0, &img, err, sizeof err) == ACJ_ERROR_FORMAT, "empty file: %s", err);
    CHECK(acj_decode_file(path, 2, 0, &img, err, sizeof err) == ACJ_ERROR_ARGUMENT, "want 2");
    /* the pixel limit: a huge SOF, and a small limit */
    snprintf(path, sizeof path, "%s/rgb.jpg", dir);
    size_t size = 0;
    uint8_t *data = read_all(path, &size);
    CHECK(acj_decode_memory(data, size, 3, 41 * 29 - 1, &img, err, sizeof err) == ACJ_ERROR_TOO_LARGE,
          "small limit: %s", err);
    CHECK(acj_decode_memory(data, size, 3, 41 * 29, &img, err, sizeof err) == ACJ_OK, "exact limit");
    acj_image_free(&img);
    for (size_t i = 0; i + 9 < size; i++) {
        if (data[i] == 0xFF && data[i + 1] == 0xC0) { /* SOF0: FF C0 len(2) P(1) Y(2) X(2) */
            data[i + 5] = 0xFF, data[i + 6] = 0xDC, data[i + 7] = 0xFF, data[i + 8] = 0xDC;
            break;
        }
    }
    CHECK(acj_decode_memory(data, size, 3, 0, &img, err, sizeof err) == ACJ_ERROR_TOO_LARGE &&
              strstr(err, "65500") != NULL, "65500x65500: %s", err);
    free(data);
    /* encode argument checks and a round trip */
    uint8_t px[12] = {0};
    snprintf(path, sizeof path, "%s/enc.jpg", dir);
    CHECK(acj_encode_file(path, px, 2, 2, 2, 90, err, sizeof err) == ACJ_ERROR_ARGUMENT, "enc channels");
    CHECK(acj_encode_file(path, px, 2, 2, 3, 0, err, sizeof err) == ACJ_ERROR_ARGUMENT, "enc quality");
    CHECK(acj_encode_file("/nonexistent-dir/x.jpg", px, 2, 2, 3, 90, err, sizeof err) == ACJ_ERROR_IO,
          "enc io");
    uint8_t grad[16 * 16];
    for (int i = 0; i < 256; i++) grad[i] = (uint8_t)i;
    CHECK(acj_encode_file(path, grad, 16, 16, 1, 100, err, sizeof err) == ACJ_OK, "enc gray");
    CHECK(acj_decode_file(path, 1, 0, &img, err, sizeof err) == ACJ_OK && img.width == 16 &&
              mad(img.pixels, grad, 256) < 1.5, "enc/dec gray round trip");
    acj_image_free(&img);
    acj_image_free(NULL);
}

/* Extra images: both copies decode identically, and preprocess identically at several sizes. */
static void test_images(int count, char **paths) {
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    const uint32_t sizes[][2] = {{28, 28}, {224, 224}, {13, 57}, {1, 1}, {300, 9}};
    for (int i = 0; i < count; i++) {
        for (int want = 1; want <= 3; want += 2) {
            acj_image img;
            if (decode_all_agree(paths[i], want, &img) != ACJ_OK) continue;
            for (int s = 0; s < 5; s++) {
                size_t n = (size_t)want * sizes[s][0] * sizes[s][1];
                float *out = malloc(n * sizeof *out);
                CHECK(preprocess_both(img.pixels, img.width, img.height, img.channels, sizes[s][0],
                                      sizes[s][1], mean, std, out) == ACJ_OK, "%s preprocess", paths[i]);
                free(out);
            }
            acj_image_free(&img);
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: acj_selftest WORKDIR [IMAGE.jpg...]\n");
        return 2;
    }
    test_preprocess_formulas();
    test_colour_spaces(argv[1]);
    test_hostile(argv[1]);
    test_images(argc - 2, argv + 2);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
