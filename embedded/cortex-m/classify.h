/*
 * What the firmware (main.c) and its host reference (host_reference.c) share, so both feed the
 * model the same floats and print the same lines: the input normalisation and the result line
 *
 *     image I label L top1 T logits Y0 Y1 … (%.9g)
 */
#ifndef ACNET_FIRMWARE_CLASSIFY_H
#define ACNET_FIRMWARE_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One gray image (n pixels) to the model's input: x = (pixel/255 − mean)/std (acnet.h). */
static inline void classify_normalize(const uint8_t *pixels, size_t n, float mean, float std, float *x) {
    for (size_t i = 0; i < n; i++) x[i] = ((float)pixels[i] / 255.0f - mean) / std;
}

/* Index of the largest logit (the first on ties). */
static inline size_t classify_top1(const float *y, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (y[i] > y[best]) best = i;
    return best;
}

/* Prints the result line of image `index` (without the newline, so the firmware can append). */
static inline void classify_print(size_t index, unsigned label, const float *y, size_t n) {
    printf("image %u label %u top1 %u logits", (unsigned)index, label, (unsigned)classify_top1(y, n));
    for (size_t i = 0; i < n; i++) printf(" %.9g", (double)y[i]);
}

#endif
