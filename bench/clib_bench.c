/*
 * Latency of the C library on one model, for A/B runs of two builds of libacnet.so (the same
 * binary run with LD_LIBRARY_PATH pointing at each; see docs/PERFORMANCE.md, "Footprint").
 *
 *     clib_bench MODEL.acnb ISA WARMUP ITERATIONS [CONVOLUTION]
 *
 * ISA: 0 auto, 1 baseline, 2 avx2, 3 avx512. CONVOLUTION (acnet_convolution): 0 Winograd where
 * the file has it (default), 1 direct on every layer. One thread, batch 1, a constant input. Prints the median
 * latency in milliseconds of ITERATIONS timed runs (CLOCK_MONOTONIC).
 */
#define _POSIX_C_SOURCE 200809L
#include <acnet.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s MODEL.acnb ISA WARMUP ITERATIONS [CONVOLUTION]\n", argv[0]);
        return 2;
    }
    int warmup = atoi(argv[3]), iterations = atoi(argv[4]);
    if (iterations < 1 || warmup < 0) { fprintf(stderr, "bad counts\n"); return 2; }
    acnet_model *model = NULL;
    acnet_session *session = NULL;
    if (acnet_model_load_file(argv[1], &model) != ACNET_OK) goto fail;
    int64_t shape[4];
    size_t rank = 0, in = 1, out = 1;
    acnet_model_input_shape(model, shape, &rank);
    for (size_t i = 0; i < rank; i++) in *= (size_t)shape[i];
    acnet_model_output_shape(model, shape, &rank);
    for (size_t i = 0; i < rank; i++) out *= (size_t)shape[i];
    acnet_session_options o;
    acnet_session_options_init(&o);
    o.isa = (uint32_t)atoi(argv[2]);
    if (argc == 6) o.convolution = (uint32_t)atoi(argv[5]);
    if (acnet_session_create(model, &o, NULL, 0, &session) != ACNET_OK) goto fail;
    float *x = malloc(in * sizeof *x), *y = malloc(out * sizeof *y);
    double *ms = malloc((size_t)iterations * sizeof *ms);
    if (!x || !y || !ms) return 1;
    for (size_t i = 0; i < in; i++) x[i] = (float)(i % 13) / 13.0f - 0.5f;
    for (int i = 0; i < warmup + iterations; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (acnet_session_run(session, 1, x, in, y, out) != ACNET_OK) goto fail;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (i >= warmup) ms[i - warmup] = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    }
    qsort(ms, (size_t)iterations, sizeof *ms, by_value);
    printf("%.4f\n", ms[iterations / 2]);
    acnet_session_free(session);
    acnet_model_free(model);
    return 0;
fail:
    fprintf(stderr, "%s\n", acnet_last_error_message());
    return 1;
}
