/*
 * fixtures.h — synthetic JPEG writers for the JPEG tests (all colour spaces, progressive).
 */
#ifndef JPEG_FIXTURES_H
#define JPEG_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

enum fixture_kind {
    FIXTURE_GRAY,       /* pixels: 1 byte/pixel */
    FIXTURE_RGB,        /* pixels: 3 bytes/pixel RGB → YCbCr JPEG */
    FIXTURE_RGB_PLAIN,  /* pixels: RGB → an RGB JPEG (no colour transform, Adobe marker) */
    FIXTURE_CMYK_ADOBE, /* pixels: 4 bytes/pixel ink CMYK (0 = no ink) → inverted, Adobe marker */
    FIXTURE_CMYK_PLAIN, /* ink CMYK stored as is, no Adobe marker */
    FIXTURE_YCCK        /* ink CMYK → YCCK with an Adobe marker (Photoshop style) */
};

/* The test pattern as RGB (w × h × 3): gradients in R and G, a checkerboard in B. */
void fixture_rgb_pattern(uint8_t *rgb, uint32_t w, uint32_t h);

/* The test pattern as ink CMYK (w × h × 4): C, M, Y = 255 − R, G, B of the RGB pattern and
   K = 0 in the top half, K = 100 in the bottom half. */
void fixture_cmyk_pattern(uint8_t *cmyk, uint32_t w, uint32_t h);

/* Writes `pixels` as a JPEG of the given kind; returns 0 or non-zero with a message. */
int fixture_write(const char *path, const uint8_t *pixels, uint32_t w, uint32_t h,
                  enum fixture_kind kind, int quality, int progressive, char *err, size_t err_size);

/* Parses "gray", "rgb", "rgb-plain", "cmyk-adobe", "cmyk-plain", "ycck"; -1 if unknown. */
int fixture_kind_from_name(const char *name);

#endif
