/*
 * Host reference of the Cortex-M firmware: classifies the same sample images with the same
 * model through the host's libacnet (include/acnet.h) and prints the firmware's result lines
 * (classify.h), so scripts/ci_cortexm.sh can compare top-1 and logits.
 *
 *     host_reference MODEL.acnb IMAGES.bin LABELS.bin
 *
 * IMAGES.bin: N × 28 × 28 uint8; LABELS.bin: N uint8. Exit status 0, or 1 on any error.
 */
#include <acnet.h>
#include <stdio.h>
#include <stdlib.h>

#include "classify.h"

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n + 1)) != NULL &&
            fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
        *size = (size_t)n;
    }
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.acnb IMAGES.bin LABELS.bin\n", argv[0]);
        return 1;
    }
    size_t image_bytes, label_count;
    unsigned char *images = read_file(argv[2], &image_bytes), *labels = read_file(argv[3], &label_count);
    if (!images || !labels || image_bytes != label_count * 784) {
        fprintf(stderr, "cannot read %s and %s as N 28x28 images and N labels\n", argv[2], argv[3]);
        return 1;
    }
    acnet_model *model = NULL;
    acnet_session *session = NULL;
    acnet_input_spec spec;
    int64_t shape[4];
    size_t rank = 0;
    acnet_status s = acnet_model_load_file(argv[1], &model);
    if (s == ACNET_OK) s = acnet_model_input_spec(model, &spec);
    if (s == ACNET_OK) s = acnet_model_output_shape(model, shape, &rank);
    if (s == ACNET_OK) s = acnet_session_create(model, NULL, NULL, 0, &session);
    if (s != ACNET_OK) {
        fprintf(stderr, "%s: %s\n", acnet_status_string(s), acnet_last_error_message());
        return 1;
    }
    size_t outputs = 1;
    for (size_t i = 0; i < rank; i++) outputs *= (size_t)shape[i];
    float x[784], y[64];
    if (spec.channels != 1 || outputs > 64) {
        fprintf(stderr, "the model does not take 1x28x28 gray images\n");
        return 1;
    }
    for (size_t i = 0; i < label_count; i++) {
        classify_normalize(images + i * 784, 784, spec.mean[0], spec.std[0], x);
        if ((s = acnet_session_run(session, 1, x, 784, y, outputs)) != ACNET_OK) {
            fprintf(stderr, "%s: %s\n", acnet_status_string(s), acnet_last_error_message());
            return 1;
        }
        classify_print(i, labels[i], y, outputs);
        printf("\n");
    }
    acnet_session_free(session);
    acnet_model_free(model);
    free(images);
    free(labels);
    return 0;
}
