/*
 * Multi-threaded sessions through the C API (issue 7): for every model given, every kernel
 * ISA this CPU runs and both convolution settings (Winograd where the file has it, direct),
 * sessions with threads = 2, 3 and 4 produce the 1-thread output bit for bit (batch 1 and 2); then many threaded sessions are alive at once, run, and freed, leaving
 * no thread behind.
 *
 *     threads_test MODEL.acnb...
 * Prints "N passed, N failed".
 */
#define _GNU_SOURCE
#include <acnet.h>

#include "proc_status.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
static void expect(int ok, const char *what, const char *model) {
    if (!ok) printf("FAIL: %s (%s): %s\n", what, model, acnet_last_error_message());
    if (ok) passed++; else failed++;
}

/* Threads of this process, or -1. */
static long thread_count(void) { return proc_status_field("Threads: %ld"); }

/* Runs `model` with the given options; returns 0 if the session cannot be created. */
static int run(const acnet_model *model, uint32_t isa, uint32_t convolution, uint32_t threads, size_t batch,
               const float *x, size_t in, float *y, size_t out) {
    acnet_session_options o;
    acnet_session_options_init(&o);
    o.isa = isa;
    o.convolution = convolution;
    o.threads = threads;
    o.max_batch = 2;
    acnet_session *s = NULL;
    if (acnet_session_create(model, &o, NULL, 0, &s) != ACNET_OK) return 0;
    int ok = acnet_session_run(s, batch, x, batch * in, y, batch * out) == ACNET_OK;
    acnet_session_free(s);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.acnb...\n", argv[0]);
        return 2;
    }
    /* Sanitizer runtimes start threads of their own at the process's first pthread_create
     * (ThreadSanitizer's background thread): take the baseline after one threaded session of
     * the first model has been created, run and freed. */
    acnet_model *first = NULL;
    if (acnet_model_load_file(argv[1], &first) == ACNET_OK) {
        int64_t shape[4];
        size_t rank, in = 1, out = 1;
        acnet_model_input_shape(first, shape, &rank);
        for (size_t i = 0; i < rank; i++) in *= (size_t)shape[i];
        acnet_model_output_shape(first, shape, &rank);
        for (size_t i = 0; i < rank; i++) out *= (size_t)shape[i];
        float *x = calloc(in, sizeof *x), *y = calloc(out, sizeof *y);
        if (x && y) run(first, ACNET_ISA_AUTO, ACNET_CONVOLUTION_AUTO, 2, 1, x, in, y, out);
        free(x);
        free(y);
        acnet_model_free(first);
    }
    long threads_at_start = thread_count();
    for (int m = 1; m < argc; m++) {
        acnet_model *model = NULL;
        if (acnet_model_load_file(argv[m], &model) != ACNET_OK) {
            expect(0, "load", argv[m]);
            continue;
        }
        int64_t shape[4];
        size_t rank, in = 1, out = 1;
        acnet_model_input_shape(model, shape, &rank);
        for (size_t i = 0; i < rank; i++) in *= (size_t)shape[i];
        acnet_model_output_shape(model, shape, &rank);
        for (size_t i = 0; i < rank; i++) out *= (size_t)shape[i];
        float *x = malloc(2 * in * sizeof *x), *want = malloc(2 * out * sizeof *want), *got = malloc(2 * out * sizeof *got);
        uint32_t seed = 12345;
        for (size_t i = 0; i < 2 * in; i++) {
            seed = seed * 1664525u + 1013904223u;
            x[i] = (float)(seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
        }
        int compared = 0;
        for (uint32_t conv = ACNET_CONVOLUTION_AUTO; conv <= ACNET_CONVOLUTION_DIRECT; conv++)
        for (uint32_t isa = ACNET_ISA_BASELINE; isa <= ACNET_ISA_AVX512; isa++) {
            for (size_t batch = 1; batch <= 2; batch++) {
                if (!run(model, isa, conv, 1, batch, x, in, want, out)) continue; /* ISA not supported here */
                for (uint32_t threads = 2; threads <= 4; threads++) {
                    memset(got, 0, batch * out * sizeof *got);
                    int ok = run(model, isa, conv, threads, batch, x, in, got, out);
                    expect(ok, "threaded session runs", argv[m]);
                    int same = ok && memcmp(got, want, batch * out * sizeof *got) == 0;
                    if (!same)
                        printf("  convolution %u isa %u batch %zu threads %u differs from 1 thread\n", conv, isa, batch,
                               threads);
                    expect(same, "bit-identical to 1 thread", argv[m]);
                    compared++;
                }
            }
        }
        printf("%s: %d threaded runs compared with 1 thread\n", argv[m], compared);
        expect(compared >= 6, "at least one ISA compared", argv[m]);

        /* Many threaded sessions alive at once (60 workers), each run twice, then freed. */
        enum { SESSIONS = 20 };
        acnet_session *sessions[SESSIONS] = {0};
        int created = 1;
        for (int k = 0; k < SESSIONS; k++) {
            acnet_session_options o;
            acnet_session_options_init(&o);
            o.threads = 2 + (uint32_t)(k % 3);
            created &= acnet_session_create(model, &o, NULL, 0, &sessions[k]) == ACNET_OK;
        }
        expect(created, "20 threaded sessions alive at once", argv[m]);
        int runs_ok = 1;
        if (created) {
            run(model, ACNET_ISA_AUTO, ACNET_CONVOLUTION_AUTO, 1, 1, x, in, want, out);
            for (int r = 0; r < 2; r++)
                for (int k = 0; k < SESSIONS; k++) {
                    runs_ok &= acnet_session_run(sessions[k], 1, x, in, got, out) == ACNET_OK &&
                               memcmp(got, want, out * sizeof *got) == 0;
                }
        }
        expect(runs_ok, "each of them runs, bit-identical to 1 thread", argv[m]);
        for (int k = 0; k < SESSIONS; k++) acnet_session_free(sessions[k]);
        expect(thread_count() == threads_at_start, "every worker joined after the sessions are freed", argv[m]);
        expect(acnet_model_free(model) == ACNET_OK, "model freed (no session left)", argv[m]);
        free(x);
        free(want);
        free(got);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
