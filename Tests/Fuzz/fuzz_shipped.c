// libFuzzer harness for the shipped C library: the model loader through the C ABI
// (load_memory → queries → session → one run), linked against the Embedded-Swift libacnet
// object that `make lib` ships, built with the same flags plus -sanitize=fuzzer,address
// (scripts/fuzz.sh --shipped). The same checks as Tests/Fuzz/FuzzLoader.swift, which fuzzes the
// SwiftPM module build: every mutated input is re-sealed (file size + CRC-32C, docs/FORMAT.md)
// so that mutations reach the validator and the kernels; ACNET_FUZZ_KEEP_CHECKSUM=1 turns that
// off. Any violated invariant aborts, which libFuzzer reports as a crash.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acnet.h"
#include "acnet_support.h"  /* acnet_support_crc32c: the library's own CRC-32C (support.o linked beside it) */

enum { max_workspace = 16 << 20, max_elements = 4 << 20 };

#define CHECK(ok, what) \
    do { if (!(ok)) { fprintf(stderr, "acnet-fuzz-shipped: invariant violated: %s\n", what); abort(); } } while (0)

static void put_le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

// Header: file size (u64) at byte 16, CRC-32C at 24 over the file with those 4 bytes as zero.
static void seal(uint8_t *p, size_t size) {
    if (size < 32) return;
    put_le(p + 16, size, 8);
    static const uint8_t zero[4] = {0};
    uint32_t crc = acnet_support_crc32c(0, p, 24);
    crc = acnet_support_crc32c(crc, zero, 4);
    crc = acnet_support_crc32c(crc, p + 28, size - 28);
    put_le(p + 24, crc, 4);
}

static void exercise(acnet_model *model, size_t isa_seed) {
    int64_t shape[4] = {-1, -1, -1, -1};
    size_t rank = 0;
    CHECK(acnet_model_input_shape(model, shape, &rank) == ACNET_OK && rank == 4 && shape[0] == 1, "input shape");
    size_t in_count = 1;
    for (int i = 1; i < 4; i++) { CHECK(shape[i] >= 1, "input dims >= 1"); in_count *= (size_t)shape[i]; }
    CHECK(acnet_model_output_shape(model, shape, &rank) == ACNET_OK && (rank == 2 || rank == 4), "output shape");
    size_t out_count = 1;
    for (size_t i = 1; i < rank; i++) { CHECK(shape[i] >= 1, "output dims >= 1"); out_count *= (size_t)shape[i]; }
    acnet_input_spec spec;
    CHECK(acnet_model_input_spec(model, &spec) == ACNET_OK, "input spec");
    size_t labels = 0;
    CHECK(acnet_model_label_count(model, &labels) == ACNET_OK, "label count");
    size_t total = 0;
    for (size_t i = 0; i < labels; i++) {
        const char *label = NULL;
        CHECK(acnet_model_label(model, i, &label) == ACNET_OK && label != NULL, "label");
        total += strlen(label);
    }
    const char *past = NULL;
    CHECK(acnet_model_label(model, labels, &past) == ACNET_ERROR_OUT_OF_RANGE, "label past the end");
    (void)total;

    size_t ws = 0;
    CHECK(acnet_session_workspace_size(model, NULL, &ws) == ACNET_OK, "workspace size");
    if (ws > max_workspace || in_count > max_elements || out_count > max_elements) return;
    acnet_session_options options;
    CHECK(acnet_session_options_init(&options) == ACNET_OK, "options");
    options.isa = (uint32_t)(1 + isa_seed % 3);
    acnet_session *session = NULL;
    acnet_status st = acnet_session_create(model, &options, NULL, 0, &session);
    if (st == ACNET_ERROR_INVALID_ARGUMENT) st = acnet_session_create(model, NULL, NULL, 0, &session);  // ISA not here
    CHECK(st == ACNET_OK || st == ACNET_ERROR_OUT_OF_MEMORY, "session create");
    if (!session) return;
    float *input = malloc(in_count * sizeof(float)), *output = malloc(out_count * sizeof(float));
    CHECK(input && output, "harness allocation");
    for (size_t i = 0; i < in_count; i++) input[i] = (float)(i % 251) / 251.0f - 0.5f;
    CHECK(acnet_session_run(session, 1, input, in_count, output, out_count) == ACNET_OK, "run");
    CHECK(acnet_model_free(model) == ACNET_ERROR_INVALID_ARGUMENT, "free refused while a session lives");
    free(input);
    free(output);
    acnet_session_free(session);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t *image = aligned_alloc(64, (size + 63) / 64 * 64);
    if (!image) return 0;
    memcpy(image, data, size);
    if (!getenv("ACNET_FUZZ_KEEP_CHECKSUM")) seal(image, size);
    acnet_model *model = NULL;
    acnet_status status = acnet_model_load_memory(image, size, &model);
    if (status == ACNET_OK && model) {
        exercise(model, size);
        CHECK(acnet_model_free(model) == ACNET_OK, "model free");
    } else {
        CHECK(model == NULL, "no model on failure");
        CHECK(status >= ACNET_ERROR_BAD_FORMAT && status <= ACNET_ERROR_OUT_OF_MEMORY, "a format status");
        CHECK(strlen(acnet_last_error_message()) > 0, "an error message");
    }
    free(image);
    return 0;
}
