/*
 * acnet_stub.c — a test double of libacnet (include/acnet.h) for exercising the classify
 * example and the JPEG tests before, or independently of, the real runtime.
 *
 * Every readable, non-empty file "loads" as a 28×28 grayscale Fashion-MNIST-like classifier
 * (ten labels, mean 0.2860, std 0.3530) whose logits are a fixed function of the input's mean
 * and the difference between its left and right halves.  A file starting with "BGR" or "RGB"
 * loads as a 3-channel model of that order instead.  Nothing here is a real network.
 *
 *     make -C Tests/JPEGHarness stub-prefix PREFIX=/tmp/acnet-stub   # lib + acnet.pc
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acnet.h"

struct acnet_model {
    acnet_input_spec spec;
    int sessions;
};
struct acnet_session {
    acnet_model *model;
};

static _Thread_local char last_error[256];
static const char *labels[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

static acnet_status fail(acnet_status status, const char *message) {
    snprintf(last_error, sizeof last_error, "%s", message);
    return status;
}

uint32_t acnet_version(void) { return ACNET_VERSION_NUMBER; }

const char *acnet_status_string(acnet_status status) {
    switch (status) {
    case ACNET_OK: return "ACNET_OK";
    case ACNET_ERROR_INVALID_ARGUMENT: return "ACNET_ERROR_INVALID_ARGUMENT";
    case ACNET_ERROR_IO: return "ACNET_ERROR_IO";
    case ACNET_ERROR_BAD_FORMAT: return "ACNET_ERROR_BAD_FORMAT";
    case ACNET_ERROR_OUT_OF_RANGE: return "ACNET_ERROR_OUT_OF_RANGE";
    default: return "ACNET_UNKNOWN_STATUS";
    }
}

const char *acnet_last_error_message(void) { return last_error; }

acnet_status acnet_model_load_file(const char *path, acnet_model **model) {
    if (path == NULL || model == NULL) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    FILE *f = fopen(path, "rb");
    if (f == NULL) return fail(ACNET_ERROR_IO, "cannot open the model file");
    char head[3] = {0, 0, 0};
    size_t n = fread(head, 1, 3, f);
    fclose(f);
    if (n == 0) return fail(ACNET_ERROR_BAD_FORMAT, "empty model file");
    acnet_model *m = calloc(1, sizeof *m);
    if (m == NULL) return fail(ACNET_ERROR_OUT_OF_MEMORY, "out of memory");
    int rgb = n == 3 && memcmp(head, "RGB", 3) == 0, bgr = n == 3 && memcmp(head, "BGR", 3) == 0;
    m->spec.channels = rgb || bgr ? 3 : 1;
    m->spec.height = 28;
    m->spec.width = 28;
    m->spec.channel_order = rgb ? ACNET_CHANNELS_RGB : bgr ? ACNET_CHANNELS_BGR : ACNET_CHANNELS_GRAY;
    for (int c = 0; c < 4; c++) {
        m->spec.mean[c] = 0.2860f;
        m->spec.std[c] = 0.3530f;
    }
    *model = m;
    return ACNET_OK;
}

acnet_status acnet_model_load_memory(const void *data, size_t size, acnet_model **model) {
    (void)data, (void)size, (void)model;
    return fail(ACNET_ERROR_INVALID_ARGUMENT, "not supported by the stub");
}

acnet_status acnet_model_free(acnet_model *model) {
    if (model == NULL) return ACNET_OK;
    if (model->sessions > 0) return fail(ACNET_ERROR_INVALID_ARGUMENT, "live sessions");
    free(model);
    return ACNET_OK;
}

acnet_status acnet_model_input_shape(const acnet_model *model, int64_t *shape, size_t *rank) {
    if (!model || !shape || !rank) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    shape[0] = 1, shape[1] = model->spec.channels, shape[2] = 28, shape[3] = 28;
    *rank = 4;
    return ACNET_OK;
}

acnet_status acnet_model_output_shape(const acnet_model *model, int64_t *shape, size_t *rank) {
    if (!model || !shape || !rank) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    shape[0] = 1, shape[1] = 10;
    *rank = 2;
    return ACNET_OK;
}

acnet_status acnet_model_input_spec(const acnet_model *model, acnet_input_spec *spec) {
    if (!model || !spec) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    *spec = model->spec;
    return ACNET_OK;
}

acnet_status acnet_model_label_count(const acnet_model *model, size_t *count) {
    if (!model || !count) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    *count = 10;
    return ACNET_OK;
}

acnet_status acnet_model_label(const acnet_model *model, size_t index, const char **label) {
    if (!model || !label) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    if (index >= 10) return fail(ACNET_ERROR_OUT_OF_RANGE, "label index out of range");
    *label = labels[index];
    return ACNET_OK;
}

acnet_status acnet_session_options_init(acnet_session_options *options) {
    if (!options) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    options->struct_size = sizeof *options;
    options->threads = 1;
    options->max_batch = 1;
    options->isa = 0;
    return ACNET_OK;
}

acnet_status acnet_session_workspace_size(const acnet_model *model,
                                          const acnet_session_options *options, size_t *size) {
    (void)options;
    if (!model || !size) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    *size = 0;
    return ACNET_OK;
}

acnet_status acnet_session_create(const acnet_model *model, const acnet_session_options *options,
                                  void *workspace, size_t workspace_size, acnet_session **session) {
    (void)options, (void)workspace, (void)workspace_size;
    if (!model || !session) return fail(ACNET_ERROR_INVALID_ARGUMENT, "NULL argument");
    acnet_session *s = calloc(1, sizeof *s);
    if (s == NULL) return fail(ACNET_ERROR_OUT_OF_MEMORY, "out of memory");
    s->model = (acnet_model *)model;
    s->model->sessions++;
    *session = s;
    return ACNET_OK;
}

acnet_status acnet_session_run(acnet_session *session, size_t batch, const float *input,
                               size_t input_count, float *output, size_t output_count) {
    if (!session || !input || !output || batch != 1)
        return fail(ACNET_ERROR_INVALID_ARGUMENT, "bad argument");
    size_t c = session->model->spec.channels;
    if (input_count != c * 28 * 28 || output_count != 10)
        return fail(ACNET_ERROR_INVALID_ARGUMENT, "count mismatch");
    double mean = 0, tilt = 0;
    for (size_t i = 0; i < input_count; i++) {
        mean += input[i];
        tilt += (i % 28 < 14 ? 1.0 : -1.0) * input[i];
    }
    mean /= (double)input_count;
    tilt /= (double)input_count;
    for (int k = 0; k < 10; k++) output[k] = (float)(-(mean - (k - 4) * 0.3) * (mean - (k - 4) * 0.3) + 0.1 * k * tilt);
    return ACNET_OK;
}

void acnet_session_free(acnet_session *session) {
    if (session == NULL) return;
    session->model->sessions--;
    free(session);
}
