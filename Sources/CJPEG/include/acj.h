/*
 * acj.h — the libjpeg shim shared by the `acnet` CLI and the training side, and the ONE
 * canonical definition of how an 8-bit image becomes a model's input tensor.
 *
 * examples/classify/image.c carries a copy of this code (an example must build on its own);
 * Tests/JPEGHarness checks that both produce identical pixels and tensors.
 *
 * ---------------------------------------------------------------------------------------------
 * Decoding (acj_decode_file, acj_decode_memory)
 *
 *  - Baseline, extended and progressive JPEGs; colour spaces grayscale, YCbCr, RGB, CMYK and
 *    YCCK.  Output is interleaved 8-bit pixels, row-major, top row first, no padding:
 *    pixels[(y * width + x) * channels + c].
 *  - want_channels 1: libjpeg's own grayscale output (out_color_space = JCS_GRAYSCALE, i.e. the
 *    Y channel of YCbCr, or Y = 0.299 R + 0.587 G + 0.114 B for RGB JPEGs).
 *    want_channels 3: RGB (libjpeg's YCbCr→RGB; grayscale is replicated into R = G = B).
 *  - CMYK and YCCK have no libjpeg conversion to RGB; they are decoded to CMYK and converted
 *    here with the naive ink formula, rounding to nearest:
 *        R = round((255 − C) · (255 − K) / 255),  G: M,  B: Y.
 *    A file carrying an Adobe APP14 marker (Photoshop and libjpeg's own CMYK output) stores
 *    *inverted* CMYK (255 = no ink), so there R = round(C' · K' / 255) with the stored C', K'.
 *    For want_channels 1 the RGB result is then reduced with libjpeg's own fixed-point weights:
 *        Y = (19595 R + 38470 G + 7471 B + 32768) >> 16.
 *  - Strictness: a truncated file is an error, never a partly gray image.  libjpeg's warnings
 *    "Premature end of JPEG file" (JWRN_JPEG_EOF; also raised for a file missing only its final
 *    EOI marker) and "premature end of data segment" (JWRN_HIT_MARKER) are treated as errors.
 *    Other warnings (e.g. extraneous bytes before a marker) are ignored, as libjpeg does.
 *  - Bounded memory: the pixel count width × height from the frame header is checked against
 *    max_pixels before anything is allocated; max_pixels == 0 means ACJ_DEFAULT_MAX_PIXELS.
 *    libjpeg's own large buffers (the whole-image coefficient buffer of a progressive file) are
 *    capped at ACJ_BYTES_PER_PIXEL_CAP bytes per allowed pixel, and a progressive file may have
 *    at most ACJ_MAX_SCANS scans (a classic denial-of-service vector).
 *  - Not supported (ACJ_ERROR_UNSUPPORTED): 12-bit, lossless and hierarchical JPEGs.  Pixels are
 *    returned in stored order: an EXIF orientation tag is not applied.
 *  - Errors are caught with libjpeg's error-manager hook (setjmp/longjmp): no function here
 *    ever calls exit() or abort(), and every error path frees what it allocated.
 *
 * Threading: every function is reentrant; distinct calls may run on different threads.
 *
 * ---------------------------------------------------------------------------------------------
 * Preprocessing (acj_preprocess) — see its comment; docs/DESIGN.md §4 defines the normalisation.
 */
#ifndef ACJ_H
#define ACJ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default pixel limit: 64 Mi pixels (67 108 864, e.g. 8192 × 8192). */
#define ACJ_DEFAULT_MAX_PIXELS 67108864ULL /* 64 × 1024 × 1024 */
/** libjpeg's internal large buffers may use at most this many bytes per allowed pixel
    (plus 16 MiB): enough for 4-component progressive 4:4:4 files (4 × 2-byte coefficients). */
#define ACJ_BYTES_PER_PIXEL_CAP 8
/** Most scans a progressive file may have (a legitimate encoder writes about 10). */
#define ACJ_MAX_SCANS 1000

/** Return codes of the acj_ functions (0 is success). */
#define ACJ_OK 0
#define ACJ_ERROR_ARGUMENT 1    /**< NULL pointer, unsupported want_channels, bad size ... */
#define ACJ_ERROR_IO 2          /**< the file could not be opened, read or written */
#define ACJ_ERROR_FORMAT 3      /**< not a JPEG, corrupt or truncated data */
#define ACJ_ERROR_UNSUPPORTED 4 /**< a valid JPEG this shim does not decode (colour space) */
#define ACJ_ERROR_TOO_LARGE 5   /**< more pixels than max_pixels */
#define ACJ_ERROR_NO_MEMORY 6   /**< an allocation failed */

/** A decoded image.  pixels is malloc'ed; free it with acj_image_free(). */
typedef struct acj_image {
    uint8_t *pixels;   /**< width × height × channels bytes, interleaved (HWC), row-major */
    uint32_t width;    /**< in pixels, ≥ 1 */
    uint32_t height;   /**< in pixels, ≥ 1 */
    uint32_t channels; /**< 1 (gray) or 3 (RGB), equal to want_channels */
} acj_image;

/**
 * Decodes the JPEG file at `path` (see "Decoding" above).
 *
 * @param want_channels  1 (grayscale) or 3 (RGB).
 * @param max_pixels     Largest accepted width × height; 0 means ACJ_DEFAULT_MAX_PIXELS.
 * @param out            Receives the image on success; zeroed on failure.
 * @param err            Receives a NUL-terminated message on failure (may be NULL).
 * @param err_size       Size of err in bytes (messages are truncated to fit).
 * @return ACJ_OK or one of the ACJ_ERROR_ codes.
 */
int acj_decode_file(const char *path, int want_channels, uint64_t max_pixels,
                    acj_image *out, char *err, size_t err_size);

/** Like acj_decode_file(), from `size` bytes at `data` (borrowed for the call only). */
int acj_decode_memory(const uint8_t *data, size_t size, int want_channels,
                      uint64_t max_pixels, acj_image *out, char *err, size_t err_size);

/** Frees img->pixels and zeroes *img.  NULL and an already freed/zeroed image are no-ops. */
void acj_image_free(acj_image *img);

/**
 * Writes a baseline JPEG (libjpeg defaults, 4:2:0 chroma subsampling for colour) to `path`.
 *
 * @param pixels    width × height × channels bytes, interleaved, row-major.
 * @param channels  1: grayscale JPEG.  3: RGB input, YCbCr JPEG.  4: CMYK written verbatim with
 *                  an Adobe marker, so in Adobe's inverted convention (255 = no ink).
 * @param quality   1 … 100 (libjpeg's quality scale; 90 is used for the test images).
 * @return ACJ_OK, ACJ_ERROR_ARGUMENT or ACJ_ERROR_IO (a partly written file is removed).
 */
int acj_encode_file(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                    uint32_t channels, int quality, char *err, size_t err_size);

/**
 * Turns an 8-bit image into a model input tensor — the project's one preprocessing definition
 * (docs/DESIGN.md §4).  Performs no allocation.
 *
 * 1. Stretch (no aspect-preserving crop) from w × h to out_w × out_h, separably per axis, with
 *    each axis resampled on its own rule (n = input length, m = output length on that axis):
 *    - m < n, area averaging: output pixel o covers the input interval [o·n/m, (o+1)·n/m);
 *      its value is the mean of the input pixels weighted by their overlap with it:
 *          v(o) = Σ_i p(i) · |[i, i+1) ∩ [o·n/m, (o+1)·n/m)| · m / n
 *      (weights are exact rationals; they sum to 1).
 *    - m > n, bilinear with half-pixel centres (PyTorch align_corners=false):
 *          s = clamp((o + 0.5) · n / m − 0.5, 0, n − 1),  i0 = ⌊s⌋,  f = s − i0,
 *          v(o) = (1 − f) · p(i0) + f · p(min(i0 + 1, n − 1)).
 *    - m = n: identity.
 *    The 2-D value is Σ_y wy · Σ_x wx · p(y, x), accumulated in double, not rounded to integers.
 * 2. Normalise:  out[c][y][x] = (v[c][y][x] / 255 − mean[c]) / std[c].
 *
 * @param pixels    w × h × channels bytes, interleaved (HWC), row-major.
 * @param channels  1 … 4; the channel order is kept (convert to the model's order first).
 * @param mean,std  `channels` floats each, in units of pixel/255; std[c] > 0.
 * @param out_nchw  channels × out_h × out_w floats, written planar (CHW, i.e. NCHW for N = 1):
 *                  out_nchw[(c * out_h + y) * out_w + x].
 * @return ACJ_OK, or ACJ_ERROR_ARGUMENT (NULL pointer, zero size, channels out of range,
 *         std ≤ 0 or NaN); nothing is written then.
 */
int acj_preprocess(const uint8_t *pixels, uint32_t w, uint32_t h, uint32_t channels,
                   uint32_t out_w, uint32_t out_h, const float *mean, const float *std,
                   float *out_nchw);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ACJ_H */
