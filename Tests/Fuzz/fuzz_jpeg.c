/*
 * libFuzzer harness over the JPEG shim (Sources/CJPEG/acj.c): acj_decode_memory with 1 and 3
 * channels and a 4 Mi-pixel limit, then acj_preprocess of the decoded image to an output size
 * taken from the input's last bytes (1…64 × 1…64, shrinking and enlarging). Checks the
 * documented contract: a status in range, an image only on success, dimensions within the
 * limit, and finite normalised values. Built and run by `scripts/fuzz.sh --jpeg SECONDS`
 * (clang -fsanitize=fuzzer,address; the system libjpeg is not instrumented, acj.c is).
 */
#include "acj.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                          \
    do {                                                                  \
        if (!(c)) {                                                       \
            fprintf(stderr, "fuzz_jpeg: invariant violated: %s\n", #c);   \
            abort();                                                      \
        }                                                                 \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t ow = size >= 2 ? (uint32_t)(data[size - 1] % 64) + 1 : 28;
    uint32_t oh = size >= 2 ? (uint32_t)(data[size - 2] % 64) + 1 : 28;
    for (int channels = 1; channels <= 3; channels += 2) {
        acj_image img = {0};
        char err[256];
        int rc = acj_decode_memory(data, size, channels, 4u << 20, &img, err, sizeof err);
        CHECK(rc >= ACJ_OK && rc <= ACJ_ERROR_NO_MEMORY);
        if (rc != ACJ_OK) {
            CHECK(img.pixels == NULL);
            CHECK(err[0] != '\0');
            continue;
        }
        CHECK(img.pixels != NULL && img.channels == (uint32_t)channels);
        CHECK(img.width >= 1 && img.height >= 1 && (uint64_t)img.width * img.height <= (4u << 20));
        float mean[3] = {0.5f, 0.4f, 0.3f}, std[3] = {0.25f, 0.5f, 1.0f};
        float *out = malloc(sizeof(float) * ow * oh * (size_t)channels);
        CHECK(out != NULL);
        CHECK(acj_preprocess(img.pixels, img.width, img.height, img.channels, ow, oh, mean, std, out) == ACJ_OK);
        for (size_t i = 0; i < (size_t)ow * oh * (size_t)channels; i++) CHECK(isfinite(out[i]) && fabsf(out[i]) <= 4.0f);
        free(out);
        acj_image_free(&img);
    }
    return 0;
}
