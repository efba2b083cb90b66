/*
 * C-level tests of include/acnet.h through libacnet.so: version, status strings, every NULL
 * argument, options with a wrong struct size, a too-small or misaligned workspace, a model
 * buffer at an odd address, wrong element counts, freeing a model with a live session, and a
 * caller-owned workspace run agreeing bit for bit with an allocated one.
 *
 *     abi_test MODEL.acnb        prints "N passed, N failed"
 */
#include <acnet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
#define EXPECT(cond)                                                                           \
    do {                                                                                       \
        if (cond) passed++;                                                                    \
        else {                                                                                 \
            failed++;                                                                          \
            printf("FAIL line %d: %s (last error: %s)\n", __LINE__, #cond, acnet_last_error_message()); \
        }                                                                                      \
    } while (0)

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* 64 bytes before the model and at least 1 after it: the misalignment check shifts it by one. */
    unsigned char *raw = aligned_alloc(64, ((size_t)n + 64 + 1 + 63) / 64 * 64);
    if (raw && fread(raw + 64, 1, (size_t)n, f) != (size_t)n) { free(raw); raw = NULL; }
    fclose(f);
    *size = (size_t)n;
    return raw;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    EXPECT(acnet_version() == ACNET_VERSION_NUMBER);
    EXPECT(strcmp(acnet_status_string(ACNET_ERROR_BAD_FORMAT), "ACNET_ERROR_BAD_FORMAT") == 0);
    EXPECT(strcmp(acnet_status_string(12345), "ACNET_UNKNOWN_STATUS") == 0);
    for (acnet_status s = 0; s <= ACNET_ERROR_OUT_OF_RANGE; s++) EXPECT(strncmp(acnet_status_string(s), "ACNET_", 6) == 0);

    acnet_model *model = NULL;
    EXPECT(acnet_model_load_file(NULL, &model) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_load_file(argv[1], NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_load_file("/nonexistent/model.acnb", &model) == ACNET_ERROR_IO && model == NULL);
    EXPECT(strstr(acnet_last_error_message(), "/nonexistent/model.acnb") != NULL);
    EXPECT(acnet_model_load_file("/", &model) == ACNET_ERROR_IO);
    EXPECT(acnet_model_load_memory(NULL, 10, &model) == ACNET_ERROR_INVALID_ARGUMENT);

    size_t size = 0;
    unsigned char *raw = read_file(argv[1], &size);
    EXPECT(raw != NULL);
    if (!raw) goto done;
    EXPECT(acnet_model_load_memory(raw + 64, 0, &model) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_load_memory(raw + 64, size, NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(model == NULL);
    memmove(raw + 65, raw + 64, size);
    EXPECT(acnet_model_load_memory(raw + 65, size, &model) == ACNET_ERROR_MISALIGNED);
    memmove(raw + 64, raw + 65, size);
    EXPECT(acnet_model_load_memory(raw + 64, size / 2, &model) == ACNET_ERROR_BAD_FORMAT);
    raw[64 + size - 1] ^= 0xFF;
    EXPECT(acnet_model_load_memory(raw + 64, size, &model) == ACNET_ERROR_CHECKSUM_MISMATCH);
    raw[64 + size - 1] ^= 0xFF;
    EXPECT(acnet_model_load_memory(raw + 64, size, &model) == ACNET_OK);

    int64_t shape[4];
    size_t rank = 0, count = 0;
    EXPECT(acnet_model_input_shape(NULL, shape, &rank) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_input_shape(model, NULL, &rank) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_input_shape(model, shape, NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_input_shape(model, shape, &rank) == ACNET_OK && rank == 4 && shape[0] == 1);
    size_t in = (size_t)(shape[1] * shape[2] * shape[3]);
    EXPECT(acnet_model_output_shape(NULL, shape, &rank) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_output_shape(model, NULL, &rank) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_output_shape(model, shape, NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_output_shape(model, shape, &rank) == ACNET_OK);
    size_t out = 1;
    for (size_t i = 1; i < rank; i++) out *= (size_t)shape[i];
    acnet_input_spec spec;
    const char *label_probe = NULL;
    EXPECT(acnet_model_input_spec(model, NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_input_spec(NULL, &spec) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_label_count(NULL, &count) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_label(NULL, 0, &label_probe) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_label(model, (size_t)-1, &label_probe) == ACNET_ERROR_OUT_OF_RANGE && label_probe == NULL);
    EXPECT(acnet_model_input_spec(model, &spec) == ACNET_OK && spec.std[0] > 0);
    EXPECT(acnet_model_label_count(model, NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_model_label_count(model, &count) == ACNET_OK);
    const char *label = NULL;
    EXPECT(acnet_model_label(model, count, &label) == ACNET_ERROR_OUT_OF_RANGE);
    EXPECT(acnet_model_label(model, 0, NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    if (count > 0) EXPECT(acnet_model_label(model, 0, &label) == ACNET_OK && label != NULL);

    acnet_session_options opts;
    EXPECT(acnet_session_options_init(NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_options_init(&opts) == ACNET_OK && opts.struct_size == sizeof opts);
    size_t ws = 0;
    EXPECT(acnet_session_workspace_size(model, &opts, NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_workspace_size(model, &opts, &ws) == ACNET_OK && ws > 0);
    acnet_session_options bad = opts;
    bad.struct_size = 4;
    EXPECT(acnet_session_workspace_size(model, &bad, &ws) == ACNET_ERROR_INVALID_ARGUMENT);
    bad = opts;
    bad.max_batch = 0;
    EXPECT(acnet_session_workspace_size(model, &bad, &ws) == ACNET_ERROR_INVALID_ARGUMENT);
    bad = opts;
    bad.threads = 0;
    EXPECT(acnet_session_workspace_size(model, &bad, &ws) == ACNET_ERROR_INVALID_ARGUMENT);
    bad = opts;
    bad.isa = 99; /* not an acnet_isa */
    EXPECT(acnet_session_workspace_size(model, &bad, &ws) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_workspace_size(model, NULL, &ws) == ACNET_OK);
    EXPECT(acnet_session_workspace_size(NULL, &opts, &ws) == ACNET_ERROR_INVALID_ARGUMENT);
    bad = opts;
    bad.threads = 65; /* more than 64 */
    EXPECT(acnet_session_workspace_size(model, &bad, &ws) == ACNET_ERROR_INVALID_ARGUMENT);
    bad = opts;
    bad.max_batch = 65537;
    EXPECT(acnet_session_workspace_size(model, &bad, &ws) == ACNET_ERROR_INVALID_ARGUMENT);
    bad = opts;
    bad.struct_size = 0;
    acnet_session *none = NULL;
    EXPECT(acnet_session_create(model, &bad, NULL, 0, &none) == ACNET_ERROR_INVALID_ARGUMENT && none == NULL);

    acnet_session *owned = NULL, *borrowed = NULL;
    unsigned char *arena = aligned_alloc(64, (ws + 64 + 63) / 64 * 64);
    EXPECT(acnet_session_create(model, &opts, arena, ws - 1, &borrowed) == ACNET_ERROR_BUFFER_TOO_SMALL);
    EXPECT(acnet_session_create(model, &opts, arena + 8, ws, &borrowed) == ACNET_ERROR_MISALIGNED);
    EXPECT(acnet_session_create(model, &opts, arena, ws, NULL) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_create(NULL, &opts, NULL, 0, &owned) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_create(model, &opts, arena, ws, &borrowed) == ACNET_OK);
    EXPECT(acnet_session_create(model, &opts, NULL, 0, &owned) == ACNET_OK);

    float *x = calloc(in, sizeof *x), *y1 = calloc(out, sizeof *y1), *y2 = calloc(out, sizeof *y2);
    for (size_t i = 0; i < in; i++) x[i] = (float)((i * 7) % 13) / 13.0f;
    EXPECT(acnet_session_run(owned, 1, NULL, in, y1, out) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(owned, 1, x, in, NULL, out) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(NULL, 1, x, in, y1, out) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(owned, 0, x, in, y1, out) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(owned, 2, x, in, y1, out) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(owned, 1, x, in - 1, y1, out) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(owned, 1, x, 0, y1, out) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(owned, 1, x, in, y1, 0) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(owned, (size_t)-1, x, in, y1, out) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_create(model, &opts, arena, 0, &borrowed) == ACNET_ERROR_BUFFER_TOO_SMALL);
    EXPECT(acnet_session_run(owned, 1, x, in, y1, out + 1) == ACNET_ERROR_INVALID_ARGUMENT);
    EXPECT(acnet_session_run(owned, 1, x, in, y1, out) == ACNET_OK);
    EXPECT(acnet_session_run(borrowed, 1, x, in, y2, out) == ACNET_OK);
    EXPECT(memcmp(y1, y2, out * sizeof *y1) == 0);

    /* The baseline kernels (separate multiply and add) agree with the default ones to rounding. */
    acnet_session_options base_opts = opts;
    base_opts.isa = ACNET_ISA_BASELINE;
    acnet_session *base = NULL;
    EXPECT(acnet_session_create(model, &base_opts, NULL, 0, &base) == ACNET_OK);
    EXPECT(acnet_session_run(base, 1, x, in, y2, out) == ACNET_OK);
    float worst = 0, scale = 1;
    for (size_t i = 0; i < out; i++) {
        float d = y1[i] > y2[i] ? y1[i] - y2[i] : y2[i] - y1[i];
        float m = y1[i] > 0 ? y1[i] : -y1[i];
        if (d > worst) worst = d;
        if (m > scale) scale = m;
    }
    EXPECT(worst <= 1e-3f * scale);
    acnet_session_free(base);

    /* Direct convolution everywhere agrees with the default (Winograd where the file has it). */
    acnet_session_options direct_opts = opts;
    direct_opts.convolution = ACNET_CONVOLUTION_DIRECT;
    acnet_session *direct = NULL;
    EXPECT(acnet_session_create(model, &direct_opts, NULL, 0, &direct) == ACNET_OK);
    EXPECT(acnet_session_run(direct, 1, x, in, y2, out) == ACNET_OK);
    worst = 0;
    for (size_t i = 0; i < out; i++) {
        float d = y1[i] > y2[i] ? y1[i] - y2[i] : y2[i] - y1[i];
        if (d > worst) worst = d;
    }
    EXPECT(worst <= 1e-3f * scale);
    acnet_session_free(direct);
    direct_opts.convolution = 2; /* not an acnet_convolution */
    EXPECT(acnet_session_create(model, &direct_opts, NULL, 0, &direct) == ACNET_ERROR_INVALID_ARGUMENT);
    /* A caller built against the first 16-byte layout (no convolution field) still works. */
    direct_opts = opts;
    direct_opts.struct_size = 16;
    direct_opts.convolution = 77; /* not read */
    EXPECT(acnet_session_workspace_size(model, &direct_opts, &ws) == ACNET_OK);

    /* Threads: 2 and 3 threads (one with a caller workspace) give the 1-thread output, bit for bit. */
    for (uint32_t threads = 2; threads <= 3; threads++) {
        acnet_session_options topts = opts;
        topts.threads = threads;
        size_t tws = 0;
        /* Winograd layers need one scratch per thread: the workspace may grow. */
        EXPECT(acnet_session_workspace_size(model, &topts, &tws) == ACNET_OK && tws >= ws);
        acnet_session *threaded = NULL;
        unsigned char *own = threads == 3 ? aligned_alloc(64, (tws + 63) / 64 * 64) : NULL;
        EXPECT(acnet_session_create(model, &topts, own, tws, &threaded) == ACNET_OK);
        for (int r = 0; r < 3; r++) {
            memset(y2, 0, out * sizeof *y2);
            EXPECT(acnet_session_run(threaded, 1, x, in, y2, out) == ACNET_OK);
            EXPECT(memcmp(y1, y2, out * sizeof *y1) == 0);
        }
        acnet_session_free(threaded);
        free(own);
    }

    EXPECT(acnet_model_free(model) == ACNET_ERROR_INVALID_ARGUMENT); /* sessions alive */
    acnet_session_free(owned);
    acnet_session_free(borrowed);
    acnet_session_free(NULL);
    EXPECT(acnet_model_free(model) == ACNET_OK);
    EXPECT(acnet_model_free(NULL) == ACNET_OK);
    free(x);
    free(y1);
    free(y2);
    free(arena);
    free(raw);
done:
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
