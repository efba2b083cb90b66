/*
 * jpegtool — writes synthetic test JPEGs of every colour space for scripts/test_classify.sh.
 *
 *     jpegtool KIND WIDTH HEIGHT OUT.jpg [--progressive] [--quality Q]
 *
 * KIND: gray, rgb, rgb-plain, cmyk-adobe, cmyk-plain, ycck (see fixtures.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: jpegtool KIND WIDTH HEIGHT OUT.jpg [--progressive] [--quality Q]\n");
        return 2;
    }
    int kind = fixture_kind_from_name(argv[1]);
    long w = strtol(argv[2], NULL, 10), h = strtol(argv[3], NULL, 10);
    int progressive = 0, quality = 90;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--progressive") == 0) progressive = 1;
        else if (strcmp(argv[i], "--quality") == 0 && i + 1 < argc) quality = atoi(argv[++i]);
        else {
            fprintf(stderr, "jpegtool: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (kind < 0 || w < 1 || h < 1 || w > 65500 || h > 65500) {
        fprintf(stderr, "jpegtool: bad kind or size\n");
        return 2;
    }
    uint8_t *pixels = malloc((size_t)w * h * 4);
    if (pixels == NULL) return 1;
    if (kind == FIXTURE_GRAY) {
        uint8_t *rgb = malloc((size_t)w * h * 3);
        if (rgb == NULL) return 1;
        fixture_rgb_pattern(rgb, (uint32_t)w, (uint32_t)h);
        for (size_t i = 0; i < (size_t)w * h; i++) pixels[i] = rgb[3 * i + 1];
        free(rgb);
    } else if (kind == FIXTURE_RGB || kind == FIXTURE_RGB_PLAIN) {
        fixture_rgb_pattern(pixels, (uint32_t)w, (uint32_t)h);
    } else {
        fixture_cmyk_pattern(pixels, (uint32_t)w, (uint32_t)h);
    }
    char err[256];
    int status = fixture_write(argv[4], pixels, (uint32_t)w, (uint32_t)h, (enum fixture_kind)kind,
                               quality, progressive, err, sizeof err);
    free(pixels);
    if (status != 0) {
        fprintf(stderr, "jpegtool: %s\n", err);
        return 1;
    }
    return 0;
}
