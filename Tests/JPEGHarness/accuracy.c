/*
 * accuracy — top-1 accuracy of a model on raw Fashion-MNIST pixels and on the same images
 * written as JPEG, through the C API and the classify example's decode + preprocess.
 *
 *     accuracy MODEL.acnb DIR
 *
 * DIR is written by `scripts/make_sample_images.py --first N --out DIR`: images-idx3-ubyte and
 * labels-idx1-ubyte (raw, uncompressed) and 00000.jpg ... (the same images as JPEG).
 * Prints `raw accuracy: 0.XXXX (c/N)`, `jpeg accuracy: 0.XXXX (c/N)` and one line per image,
 * `FILE<TAB>PREDICTED-INDEX`, to the file named by the optional third argument.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acnet.h>

#include "image.h"

static uint8_t *read_idx(const char *path, uint32_t magic, uint32_t *count, size_t item) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t head[16];
    size_t head_size = magic == 0x803 ? 16 : 8;
    uint8_t *data = NULL;
    if (fread(head, 1, head_size, f) == head_size &&
        ((uint32_t)head[2] << 8 | head[3]) == (magic & 0xffff)) {
        *count = (uint32_t)head[4] << 24 | (uint32_t)head[5] << 16 | (uint32_t)head[6] << 8 | head[7];
        data = malloc((size_t)*count * item);
        if (data && fread(data, item, *count, f) != *count) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

static size_t argmax(const float *v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: accuracy MODEL.acnb DIR [PREDICTIONS.tsv]\n");
        return 2;
    }
    char path[4096], err[256];
    uint32_t n = 0, label_count = 0;
    snprintf(path, sizeof path, "%s/images-idx3-ubyte", argv[2]);
    uint8_t *images = read_idx(path, 0x803, &n, 784);
    snprintf(path, sizeof path, "%s/labels-idx1-ubyte", argv[2]);
    uint8_t *labels = read_idx(path, 0x801, &label_count, 1);
    if (!images || !labels || n != label_count || n == 0) {
        fprintf(stderr, "accuracy: cannot read the IDX files in %s\n", argv[2]);
        return 2;
    }
    acnet_model *model = NULL;
    acnet_session *session = NULL;
    acnet_input_spec spec;
    acnet_status s = acnet_model_load_file(argv[1], &model);
    if (s == ACNET_OK) s = acnet_model_input_spec(model, &spec);
    if (s == ACNET_OK) s = acnet_session_create(model, NULL, NULL, 0, &session);
    if (s != ACNET_OK) {
        fprintf(stderr, "accuracy: %s: %s\n", acnet_status_string(s), acnet_last_error_message());
        return 2;
    }
    size_t count = (size_t)spec.channels * spec.height * spec.width, classes = 0;
    int64_t shape[4];
    size_t rank = 0;
    s = acnet_model_output_shape(model, shape, &rank);
    if (s != ACNET_OK || rank < 2) return 2;
    classes = (size_t)shape[1];
    float *input = malloc(count * sizeof *input), *logits = malloc(classes * sizeof *logits);
    uint8_t rgb[784 * 3];
    FILE *predictions = argc > 3 ? fopen(argv[3], "w") : NULL;
    size_t raw_correct = 0, jpeg_correct = 0, failures = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* raw pixels (gray; replicated for a 3-channel model) */
        const uint8_t *px = images + (size_t)i * 784;
        if (spec.channels == 3) {
            for (int p = 0; p < 784; p++) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = px[p];
            px = rgb;
        }
        if (image_preprocess(px, 28, 28, spec.channels, spec.width, spec.height, spec.mean, spec.std,
                             input) != IMAGE_OK ||
            acnet_session_run(session, 1, input, count, logits, classes) != ACNET_OK) {
            fprintf(stderr, "accuracy: raw image %u failed\n", i);
            failures++;
            continue;
        }
        raw_correct += argmax(logits, classes) == labels[i];
        /* the JPEG, as classify reads it (gray replicated to RGB is channel-order neutral) */
        snprintf(path, sizeof path, "%s/%05u.jpg", argv[2], i);
        image img;
        if (image_decode_file(path, spec.channels == 1 ? 1 : 3, 0, &img, err, sizeof err) != IMAGE_OK) {
            fprintf(stderr, "accuracy: %s: %s\n", path, err);
            failures++;
            continue;
        }
        int ok = image_preprocess(img.pixels, img.width, img.height, img.channels, spec.width,
                                  spec.height, spec.mean, spec.std, input) == IMAGE_OK &&
                 acnet_session_run(session, 1, input, count, logits, classes) == ACNET_OK;
        image_free(&img);
        if (!ok) {
            failures++;
            continue;
        }
        size_t predicted = argmax(logits, classes);
        jpeg_correct += predicted == labels[i];
        if (predictions) fprintf(predictions, "%05u.jpg\t%zu\n", i, predicted);
    }
    if (predictions) fclose(predictions);
    printf("raw accuracy: %.4f (%zu/%u)\n", (double)raw_correct / n, raw_correct, n);
    printf("jpeg accuracy: %.4f (%zu/%u)\n", (double)jpeg_correct / n, jpeg_correct, n);
    free(input);
    free(logits);
    free(images);
    free(labels);
    acnet_session_free(session);
    acnet_model_free(model);
    return failures == 0 ? 0 : 1;
}
