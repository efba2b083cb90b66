#include "fixtures.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

void fixture_rgb_pattern(uint8_t *rgb, uint32_t w, uint32_t h) {
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(w > 1 ? x * 255u / (w - 1) : 128);
            p[1] = (uint8_t)(h > 1 ? y * 255u / (h - 1) : 64);
            p[2] = (((x / 8) + (y / 8)) % 2) ? 220 : 30;
        }
}

void fixture_cmyk_pattern(uint8_t *cmyk, uint32_t w, uint32_t h) {
    uint8_t *rgb = malloc((size_t)w * h * 3);
    if (rgb == NULL) abort();
    fixture_rgb_pattern(rgb, w, h);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        cmyk[4 * i] = (uint8_t)(255 - rgb[3 * i]);
        cmyk[4 * i + 1] = (uint8_t)(255 - rgb[3 * i + 1]);
        cmyk[4 * i + 2] = (uint8_t)(255 - rgb[3 * i + 2]);
        cmyk[4 * i + 3] = (uint8_t)((i / w) >= h / 2 ? 100 : 0);
    }
    free(rgb);
}

int fixture_kind_from_name(const char *name) {
    static const char *names[] = {"gray", "rgb", "rgb-plain", "cmyk-adobe", "cmyk-plain", "ycck"};
    for (int i = 0; i < 6; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

typedef struct fixture_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
} fixture_error;

static void fixture_error_exit(j_common_ptr cinfo) {
    longjmp(((fixture_error *)cinfo->err)->jump, 1);
}

int fixture_write(const char *path, const uint8_t *pixels, uint32_t w, uint32_t h,
                  enum fixture_kind kind, int quality, int progressive, char *err, size_t err_size) {
    int channels = kind == FIXTURE_GRAY ? 1 : (kind == FIXTURE_RGB || kind == FIXTURE_RGB_PLAIN) ? 3 : 4;
    size_t count = (size_t)w * h * channels;
    uint8_t *stored = malloc(count);
    FILE *file = fopen(path, "wb");
    if (stored == NULL || file == NULL) {
        snprintf(err, err_size, "cannot create %s", path);
        free(stored);
        if (file) fclose(file);
        return 1;
    }
    memcpy(stored, pixels, count);
    if (kind == FIXTURE_CMYK_ADOBE || kind == FIXTURE_YCCK)
        for (size_t i = 0; i < count; i++) stored[i] = (uint8_t)(255 - stored[i]);

    struct jpeg_compress_struct *cinfo = calloc(1, sizeof *cinfo);
    fixture_error *jerr = calloc(1, sizeof *jerr);
    if (cinfo == NULL || jerr == NULL) abort();
    cinfo->err = jpeg_std_error(&jerr->pub);
    jerr->pub.error_exit = fixture_error_exit;
    if (setjmp(jerr->jump)) {
        char text[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)((j_common_ptr)cinfo, text);
        snprintf(err, err_size, "libjpeg: %s", text);
        jpeg_destroy_compress(cinfo);
        fclose(file);
        free(stored);
        free(cinfo);
        free(jerr);
        return 1;
    }
    jpeg_create_compress(cinfo);
    jpeg_stdio_dest(cinfo, file);
    cinfo->image_width = w;
    cinfo->image_height = h;
    cinfo->input_components = channels;
    cinfo->in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(cinfo);
    if (kind == FIXTURE_RGB_PLAIN) jpeg_set_colorspace(cinfo, JCS_RGB);
    if (kind == FIXTURE_YCCK) jpeg_set_colorspace(cinfo, JCS_YCCK);
    if (kind == FIXTURE_CMYK_PLAIN) cinfo->write_Adobe_marker = FALSE;
    jpeg_set_quality(cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(cinfo);
    jpeg_start_compress(cinfo, TRUE);
    while (cinfo->next_scanline < h) {
        JSAMPROW row = stored + (size_t)cinfo->next_scanline * w * channels;
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    jpeg_destroy_compress(cinfo);
    fclose(file);
    free(stored);
    free(cinfo);
    free(jerr);
    return 0;
}
