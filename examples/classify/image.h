/*
 * image.h — JPEG decoding and preprocessing for the classify example.
 *
 * This is a self-contained copy of the project's libjpeg shim (Sources/CJPEG/acj.c), so that
 * the example builds from an installed libacnet alone.  The arithmetic is identical; the
 * project's Tests/JPEGHarness checks that both give the same pixels and tensors.
 * See Sources/CJPEG/include/acj.h for the full contract; in short:
 *
 *  - image_decode_file: baseline/progressive JPEG, grayscale/YCbCr/RGB/CMYK/YCCK → 8-bit
 *    interleaved pixels, 1 channel (libjpeg's own grayscale conversion) or 3 (RGB).
 *    Truncated files are errors; images above max_pixels (0: IMAGE_DEFAULT_MAX_PIXELS) are
 *    refused from the header, before anything is allocated; libjpeg never calls exit().
 *  - image_preprocess: stretch to out_w × out_h (per axis: area averaging when shrinking,
 *    bilinear with half-pixel centres when enlarging), then
 *        out[c][y][x] = (v[c][y][x] / 255 − mean[c]) / std[c],  planar (NCHW, N = 1).
 */
#ifndef CLASSIFY_IMAGE_H
#define CLASSIFY_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/** Default pixel limit: 64 Mi pixels (67 108 864, e.g. 8192 × 8192). */
#define IMAGE_DEFAULT_MAX_PIXELS 67108864ULL /* 64 × 1024 × 1024 */
#define IMAGE_BYTES_PER_PIXEL_CAP 8
#define IMAGE_MAX_SCANS 1000

#define IMAGE_OK 0
#define IMAGE_ERROR_ARGUMENT 1
#define IMAGE_ERROR_IO 2
#define IMAGE_ERROR_FORMAT 3
#define IMAGE_ERROR_UNSUPPORTED 4
#define IMAGE_ERROR_TOO_LARGE 5
#define IMAGE_ERROR_NO_MEMORY 6

typedef struct image {
    uint8_t *pixels;   /* width × height × channels bytes, interleaved, row-major */
    uint32_t width;
    uint32_t height;
    uint32_t channels; /* 1 or 3 */
} image;

/** Decodes a JPEG file; returns IMAGE_OK or an IMAGE_ERROR_ code with a message in err. */
int image_decode_file(const char *path, int want_channels, uint64_t max_pixels, image *out,
                      char *err, size_t err_size);

/** Frees img->pixels and zeroes *img; NULL is a no-op. */
void image_free(image *img);

/** Resamples and normalises into channels × out_h × out_w floats; no allocation. */
int image_preprocess(const uint8_t *pixels, uint32_t w, uint32_t h, uint32_t channels,
                     uint32_t out_w, uint32_t out_h, const float *mean, const float *std,
                     float *out_nchw);

#endif /* CLASSIFY_IMAGE_H */
