/*
 * image.c — JPEG decoding (libjpeg) and preprocessing for the classify example.
 *
 * A copy of the project's Sources/CJPEG/acj.c (decoding from a file and acj_preprocess), with
 * the acj_ prefix renamed to image_; keep the arithmetic identical.  See image.h.
 *
 * Error handling: libjpeg reports fatal errors through cinfo->err->error_exit, which by default
 * prints and calls exit().  Here it formats the message and longjmp()s back to the setjmp() in
 * image_decode, which destroys the libjpeg object and frees everything it allocated.  All state
 * that changes after setjmp() lives in a heap-allocated context reached through a pointer that
 * is never modified (C99 7.13.2.1).
 */
#define _POSIX_C_SOURCE 200809L /* fileno() in strict C99 builds */

#include "image.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jerror.h>
#include <jpeglib.h>

/* ------------------------------------------------------------------------------------------ */
/* Messages                                                                                   */

static void image_set_error(char *err, size_t err_size, const char *format, ...) {
    if (err == NULL || err_size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(err, err_size, format, args);
    va_end(args);
}

/* ------------------------------------------------------------------------------------------ */
/* libjpeg error manager                                                                      */

typedef struct image_error_mgr {
    struct jpeg_error_mgr pub; /* must be first: libjpeg sees only this part */
    jmp_buf jump;
    int code;                  /* IMAGE_ERROR_ code reported after the longjmp */
    char message[JMSG_LENGTH_MAX + 96];
} image_error_mgr;

/* A name for the format a file that is not a JPEG probably is, from its first two bytes. */
static const char *image_guess_format(int b0, int b1) {
    if (b0 == 0x89 && b1 == 'P') return "a PNG image";
    if (b0 == 'G' && b1 == 'I') return "a GIF image";
    if (b0 == 'B' && b1 == 'M') return "a BMP image";
    if (b0 == 'R' && b1 == 'I') return "a RIFF file, e.g. WebP";
    if ((b0 == 'I' && b1 == 'I') || (b0 == 'M' && b1 == 'M')) return "a TIFF image";
    if (b0 == 'P' && b1 >= '1' && b1 <= '7') return "a PNM image";
    if (b0 == 0x1f && b1 == 0x8b) return "gzip data";
    return NULL;
}

/* Replaces libjpeg's error_exit (which would call exit()): record the message, jump back. */
static void image_error_exit(j_common_ptr cinfo) {
    image_error_mgr *mgr = (image_error_mgr *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    int msg_code = cinfo->err->msg_code;
    switch (msg_code) {
    case JERR_OUT_OF_MEMORY:
        mgr->code = IMAGE_ERROR_NO_MEMORY;
        snprintf(mgr->message, sizeof mgr->message, "out of memory (libjpeg: %s)", text);
        break;
    case JERR_NO_BACKING_STORE:
        /* Only reached when a coefficient buffer exceeds max_memory_to_use. */
        mgr->code = IMAGE_ERROR_TOO_LARGE;
        snprintf(mgr->message, sizeof mgr->message,
                 "image needs more decoder memory than its pixel limit allows");
        break;
    case JERR_INPUT_EMPTY:
        mgr->code = IMAGE_ERROR_FORMAT;
        snprintf(mgr->message, sizeof mgr->message, "empty file (0 bytes), not a JPEG");
        break;
    case JERR_NO_SOI: {
        const char *guess = image_guess_format(cinfo->err->msg_parm.i[0], cinfo->err->msg_parm.i[1]);
        mgr->code = IMAGE_ERROR_FORMAT;
        snprintf(mgr->message, sizeof mgr->message, "not a JPEG file (starts with 0x%02x 0x%02x%s%s)",
                 cinfo->err->msg_parm.i[0], cinfo->err->msg_parm.i[1], guess ? ": looks like " : "",
                 guess ? guess : "");
        break;
    }
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
        mgr->code = IMAGE_ERROR_FORMAT;
        snprintf(mgr->message, sizeof mgr->message, "truncated or corrupt JPEG (libjpeg: %s)", text);
        break;
    case JERR_BAD_PRECISION: /* 12-bit data */
    case JERR_SOF_UNSUPPORTED: /* lossless, hierarchical */
    case JERR_ARITH_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_CONVERSION_NOTIMPL:
        mgr->code = IMAGE_ERROR_UNSUPPORTED;
        snprintf(mgr->message, sizeof mgr->message, "unsupported JPEG variant (libjpeg: %s)", text);
        break;
    case JERR_FILE_READ:
    case JERR_FILE_WRITE:
        mgr->code = IMAGE_ERROR_IO;
        snprintf(mgr->message, sizeof mgr->message, "%s", text);
        break;
    default:
        mgr->code = IMAGE_ERROR_FORMAT;
        snprintf(mgr->message, sizeof mgr->message, "invalid JPEG (libjpeg: %s)", text);
        break;
    }
    longjmp(mgr->jump, 1);
}

/* Replaces emit_message: warnings that mean missing image data become errors; libjpeg's other
   warnings and trace messages are ignored (never printed). */
static void image_emit_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level < 0) {
        int msg_code = cinfo->err->msg_code;
        if (msg_code == JWRN_JPEG_EOF || msg_code == JWRN_HIT_MARKER) image_error_exit(cinfo);
        cinfo->err->num_warnings++;
    }
}

/* Progress hook: refuses progressive files with absurdly many scans (each scan re-walks the
   whole coefficient buffer, so a tiny file could otherwise take minutes). */
static void image_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->input_scan_number > IMAGE_MAX_SCANS) {
        image_error_mgr *mgr = (image_error_mgr *)cinfo->err;
        mgr->code = IMAGE_ERROR_FORMAT;
        snprintf(mgr->message, sizeof mgr->message,
                 "invalid JPEG: more than %d progressive scans", IMAGE_MAX_SCANS);
        longjmp(mgr->jump, 1);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Decoding                                                                                   */

/* round(a * b / 255) for a, b in 0...255, exactly. */
static uint8_t image_mul255(unsigned a, unsigned b) {
    unsigned t = a * b + 128u;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

/* libjpeg's RGB → Y weights (jccolor.c / jdcolor.c: FIX(0.29900), FIX(0.58700), FIX(0.11400)
   with 16 fraction bits and rounding). */
static uint8_t image_rgb_to_gray(unsigned r, unsigned g, unsigned b) {
    return (uint8_t)((19595u * r + 38470u * g + 7471u * b + 32768u) >> 16);
}

/* One CMYK row (4 bytes per pixel, as libjpeg returns it) → `channels` (1 or 3) bytes/pixel. */
static void image_convert_cmyk_row(const uint8_t *cmyk, uint8_t *dst, uint32_t width,
                                 uint32_t channels, int inverted) {
    for (uint32_t x = 0; x < width; x++) {
        unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) {
            c = 255u - c;
            m = 255u - m;
            y = 255u - y;
            k = 255u - k;
        }
        uint8_t r = image_mul255(c, k), g = image_mul255(m, k), b = image_mul255(y, k);
        if (channels == 1) {
            dst[x] = image_rgb_to_gray(r, g, b);
        } else {
            dst[3 * x] = r;
            dst[3 * x + 1] = g;
            dst[3 * x + 2] = b;
        }
    }
}

/* Everything that changes after setjmp(), on the heap (see the file comment). */
typedef struct image_decoder {
    struct jpeg_decompress_struct cinfo;
    image_error_mgr err;
    struct jpeg_progress_mgr progress;
    uint8_t *pixels; /* the result, handed to the caller on success */
    uint8_t *row;    /* one CMYK row */
    FILE *file;
} image_decoder;

static void image_decoder_free(image_decoder *d) {
    jpeg_destroy_decompress(&d->cinfo); /* a no-op if jpeg_create_decompress never ran */
    free(d->pixels);
    free(d->row);
    if (d->file != NULL) fclose(d->file);
    free(d);
}

/* Decodes from d->file. Takes ownership of d. */
static int image_decode(image_decoder *d, int want_channels, uint64_t max_pixels, image *out,
                        char *err, size_t err_size) {
    d->cinfo.err = jpeg_std_error(&d->err.pub);
    d->err.pub.error_exit = image_error_exit;
    d->err.pub.emit_message = image_emit_message;
    d->err.code = IMAGE_OK;
    d->err.message[0] = '\0';
    if (setjmp(d->err.jump)) {
        int code = d->err.code != IMAGE_OK ? d->err.code : IMAGE_ERROR_FORMAT;
        if (d->file != NULL && ferror(d->file)) {
            code = IMAGE_ERROR_IO;
            snprintf(d->err.message, sizeof d->err.message, "read error");
        }
        image_set_error(err, err_size, "%s", d->err.message);
        image_decoder_free(d);
        return code;
    }
    jpeg_create_decompress(&d->cinfo);
    d->progress.progress_monitor = image_progress;
    d->cinfo.progress = &d->progress;
    jpeg_stdio_src(&d->cinfo, d->file);
    jpeg_read_header(&d->cinfo, TRUE);

    uint32_t width = d->cinfo.image_width, height = d->cinfo.image_height;
    uint64_t limit = max_pixels != 0 ? max_pixels : IMAGE_DEFAULT_MAX_PIXELS;
    uint64_t pixel_count = (uint64_t)width * height;
    if (width == 0 || height == 0 || pixel_count > limit) {
        image_set_error(err, err_size,
                      "image is %u x %u = %llu pixels, above the limit of %llu pixels", width,
                      height, (unsigned long long)pixel_count, (unsigned long long)limit);
        image_decoder_free(d);
        return IMAGE_ERROR_TOO_LARGE;
    }
    /* Cap libjpeg's large buffers (progressive coefficient arrays) in proportion to the limit;
       over the cap libjpeg fails with JERR_NO_BACKING_STORE instead of allocating. */
    uint64_t memory_cap = limit * IMAGE_BYTES_PER_PIXEL_CAP + ((uint64_t)16 << 20);
    if (memory_cap / IMAGE_BYTES_PER_PIXEL_CAP < limit || memory_cap > (uint64_t)LONG_MAX)
        memory_cap = (uint64_t)LONG_MAX;
    d->cinfo.mem->max_memory_to_use = (long)memory_cap;

    int cmyk = 0, inverted = 0;
    switch (d->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        d->cinfo.out_color_space = want_channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        d->cinfo.out_color_space = JCS_CMYK; /* libjpeg converts YCCK → CMYK itself */
        cmyk = 1;
        inverted = d->cinfo.saw_Adobe_marker;
        break;
    default:
        image_set_error(err, err_size, "unsupported JPEG colour space (%d components)",
                      d->cinfo.num_components);
        image_decoder_free(d);
        return IMAGE_ERROR_UNSUPPORTED;
    }

    jpeg_start_decompress(&d->cinfo);
    uint32_t channels = (uint32_t)want_channels;
    if (d->cinfo.output_width != width || d->cinfo.output_height != height ||
        d->cinfo.output_components != (cmyk ? 4 : want_channels)) {
        image_set_error(err, err_size, "unexpected libjpeg output format");
        image_decoder_free(d);
        return IMAGE_ERROR_UNSUPPORTED;
    }
    size_t stride = (size_t)width * channels;
    if (pixel_count > SIZE_MAX / channels) {
        image_set_error(err, err_size, "image too large for this platform");
        image_decoder_free(d);
        return IMAGE_ERROR_TOO_LARGE;
    }
    d->pixels = malloc((size_t)pixel_count * channels);
    if (cmyk) d->row = malloc((size_t)width * 4);
    if (d->pixels == NULL || (cmyk && d->row == NULL)) {
        image_set_error(err, err_size, "out of memory for a %u x %u image", width, height);
        image_decoder_free(d);
        return IMAGE_ERROR_NO_MEMORY;
    }
    while (d->cinfo.output_scanline < height) {
        uint32_t y = d->cinfo.output_scanline;
        JSAMPROW row = cmyk ? d->row : d->pixels + (size_t)y * stride;
        if (jpeg_read_scanlines(&d->cinfo, &row, 1) != 1) {
            /* Only a suspending data source returns 0 rows; ours never suspend. */
            image_set_error(err, err_size, "truncated JPEG (decoder returned no data)");
            image_decoder_free(d);
            return IMAGE_ERROR_FORMAT;
        }
        if (cmyk) image_convert_cmyk_row(d->row, d->pixels + (size_t)y * stride, width, channels, inverted);
    }
    jpeg_finish_decompress(&d->cinfo); /* reads up to EOI: catches truncation after the pixels */

    out->pixels = d->pixels;
    out->width = width;
    out->height = height;
    out->channels = channels;
    d->pixels = NULL;
    image_decoder_free(d);
    return IMAGE_OK;
}

static int image_check_decode_args(int want_channels, image *out, char *err, size_t err_size) {
    if (out == NULL) {
        image_set_error(err, err_size, "out is NULL");
        return IMAGE_ERROR_ARGUMENT;
    }
    memset(out, 0, sizeof *out);
    if (want_channels != 1 && want_channels != 3) {
        image_set_error(err, err_size, "want_channels must be 1 or 3, not %d", want_channels);
        return IMAGE_ERROR_ARGUMENT;
    }
    return IMAGE_OK;
}

int image_decode_file(const char *path, int want_channels, uint64_t max_pixels, image *out,
                      char *err, size_t err_size) {
    int status = image_check_decode_args(want_channels, out, err, err_size);
    if (status != IMAGE_OK) return status;
    if (path == NULL) {
        image_set_error(err, err_size, "path is NULL");
        return IMAGE_ERROR_ARGUMENT;
    }
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        image_set_error(err, err_size, "cannot open: %s", strerror(errno));
        return IMAGE_ERROR_IO;
    }
    struct stat info;
    if (fstat(fileno(file), &info) != 0) {
        image_set_error(err, err_size, "cannot stat: %s", strerror(errno));
        fclose(file);
        return IMAGE_ERROR_IO;
    }
    if (S_ISDIR(info.st_mode)) {
        image_set_error(err, err_size, "is a directory");
        fclose(file);
        return IMAGE_ERROR_IO;
    }
    image_decoder *d = calloc(1, sizeof *d);
    if (d == NULL) {
        fclose(file);
        image_set_error(err, err_size, "out of memory");
        return IMAGE_ERROR_NO_MEMORY;
    }
    d->file = file;
    return image_decode(d, want_channels, max_pixels, out, err, err_size);
}

void image_free(image *img) {
    if (img == NULL) return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* ------------------------------------------------------------------------------------------ */
/* Preprocessing                                                                              */

/* The input indices first...last contributing to output index o along one axis (input length
   n, output length m) and their weights; see image.h (and acj.h) for the formulas. */
typedef struct image_taps {
    uint32_t first, last;
    uint32_t n, m;
    int mode;    /* 0 identity, 1 area averaging (m < n), 2 bilinear (m > n) */
    uint64_t lo; /* area: the interval [lo, hi) in units of 1/m input pixel */
    uint64_t hi;
    double f;    /* bilinear: weight of `last` */
} image_taps;

static void image_taps_init(image_taps *t, uint32_t o, uint32_t n, uint32_t m) {
    t->n = n;
    t->m = m;
    t->lo = t->hi = 0;
    t->f = 0.0;
    if (m == n) {
        t->mode = 0;
        t->first = t->last = o;
    } else if (m < n) {
        t->mode = 1;
        t->lo = (uint64_t)o * n;
        t->hi = (uint64_t)(o + 1) * n;
        t->first = (uint32_t)(t->lo / m);
        t->last = (uint32_t)((t->hi - 1) / m);
    } else {
        t->mode = 2;
        double s = ((2.0 * o + 1.0) * n - m) / (2.0 * m);
        if (s < 0.0) s = 0.0;
        if (s > (double)(n - 1)) s = (double)(n - 1);
        t->first = (uint32_t)s; /* s >= 0: truncation is floor, and needs no libm */
        t->last = t->first + 1 < n ? t->first + 1 : t->first;
        t->f = t->last == t->first ? 0.0 : s - t->first;
    }
}

static double image_taps_weight(const image_taps *t, uint32_t i) {
    switch (t->mode) {
    case 1: {
        uint64_t a = (uint64_t)i * t->m, b = a + t->m;
        uint64_t lo = a > t->lo ? a : t->lo, hi = b < t->hi ? b : t->hi;
        return (double)(hi - lo) / (double)t->n;
    }
    case 2:
        if (t->first == t->last) return 1.0;
        return i == t->first ? 1.0 - t->f : t->f;
    default:
        return 1.0;
    }
}

int image_preprocess(const uint8_t *pixels, uint32_t w, uint32_t h, uint32_t channels,
                     uint32_t out_w, uint32_t out_h, const float *mean, const float *std,
                     float *out_nchw) {
    if (pixels == NULL || mean == NULL || std == NULL || out_nchw == NULL || w == 0 || h == 0 ||
        out_w == 0 || out_h == 0 || channels == 0 || channels > 4)
        return IMAGE_ERROR_ARGUMENT;
    for (uint32_t c = 0; c < channels; c++)
        if (!(std[c] > 0.0f) || mean[c] != mean[c] || isinf(std[c])) return IMAGE_ERROR_ARGUMENT;

    size_t plane = (size_t)out_w * out_h;
    for (uint32_t oy = 0; oy < out_h; oy++) {
        image_taps ty;
        image_taps_init(&ty, oy, h, out_h);
        for (uint32_t ox = 0; ox < out_w; ox++) {
            image_taps tx;
            image_taps_init(&tx, ox, w, out_w);
            double acc[4] = {0.0, 0.0, 0.0, 0.0};
            for (uint32_t iy = ty.first; iy <= ty.last; iy++) {
                double wy = image_taps_weight(&ty, iy);
                double row[4] = {0.0, 0.0, 0.0, 0.0};
                const uint8_t *p = pixels + ((size_t)iy * w + tx.first) * channels;
                for (uint32_t ix = tx.first; ix <= tx.last; ix++, p += channels) {
                    double wx = image_taps_weight(&tx, ix);
                    for (uint32_t c = 0; c < channels; c++) row[c] += wx * p[c];
                }
                for (uint32_t c = 0; c < channels; c++) acc[c] += wy * row[c];
            }
            for (uint32_t c = 0; c < channels; c++)
                out_nchw[c * plane + (size_t)oy * out_w + ox] =
                    (float)((acc[c] / 255.0 - (double)mean[c]) / (double)std[c]);
        }
    }
    return IMAGE_OK;
}
