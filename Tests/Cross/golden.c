/*
 * Cross-ISA golden test of the C library (scripts/ci_cross.sh): the host writes each model's
 * outputs for a fixed pseudo-random input, the cross build (run under qemu) recomputes them
 * and compares.
 *
 *     golden write MODEL.acnb OUT.bin     one image, both convolution settings (Winograd where
 *                                         the file has it, then direct); float32 outputs
 *     golden check MODEL.acnb OUT.bin     the same runs here; each output must be within
 *                                         1e-3 * max(1, max |expected|) of OUT.bin (the op
 *                                         sweep's tolerance), elementwise
 *
 * The input is x[i] = uniform in [-1, 1) from a 32-bit LCG seeded with 12345, identical on
 * every target. Prints one line per model; exits 0 on a match, 1 on a mismatch or any error.
 */
#include <acnet.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1

static int fail_status(const char *what, acnet_status s) {
    fprintf(stderr, "%s: %s: %s\n", what, acnet_status_string(s), acnet_last_error_message());
    return 0;
}

/* Runs the model on the fixed input with `convolution`; `out` gets BATCH * per-image outputs. */
static int run(acnet_model *model, uint32_t convolution, const float *in, size_t in_count, float *out,
               size_t out_count) {
    acnet_session_options o;
    acnet_session_options_init(&o);
    o.max_batch = BATCH;
    o.convolution = convolution;
    acnet_session *session = NULL;
    acnet_status s = acnet_session_create(model, &o, NULL, 0, &session);
    if (s != ACNET_OK) return fail_status("acnet_session_create", s);
    s = acnet_session_run(session, BATCH, in, in_count, out, out_count);
    acnet_session_free(session);
    return s == ACNET_OK ? 1 : fail_status("acnet_session_run", s);
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "check") != 0)) {
        fprintf(stderr, "usage: %s write|check MODEL.acnb OUT.bin\n", argv[0]);
        return 2;
    }
    int writing = strcmp(argv[1], "write") == 0;
    acnet_model *model = NULL;
    acnet_status s = acnet_model_load_file(argv[2], &model);
    if (s != ACNET_OK) return !fail_status(argv[2], s);
    int64_t shape[4];
    size_t rank = 0, in_count = BATCH, out_count = BATCH;
    acnet_model_input_shape(model, shape, &rank);
    for (size_t i = 1; i < rank; i++) in_count *= (size_t)shape[i];
    acnet_model_output_shape(model, shape, &rank);
    for (size_t i = 1; i < rank; i++) out_count *= (size_t)shape[i];

    float *in = malloc(in_count * sizeof(float));
    float *got = malloc(2 * out_count * sizeof(float));
    float *want = malloc(2 * out_count * sizeof(float));
    if (!in || !got || !want) { fprintf(stderr, "out of memory\n"); return 1; }
    uint32_t state = 12345;
    for (size_t i = 0; i < in_count; i++) {
        state = state * 1664525u + 1013904223u;
        in[i] = (float)(state >> 8) / (float)(1u << 23) - 1.0f;
    }
    int ok = run(model, ACNET_CONVOLUTION_AUTO, in, in_count, got, out_count) &&
             run(model, ACNET_CONVOLUTION_DIRECT, in, in_count, got + out_count, out_count);
    if (!ok) return 1;

    FILE *f = fopen(argv[3], writing ? "wb" : "rb");
    if (!f) { perror(argv[3]); return 1; }
    if (writing) {
        ok = fwrite(got, sizeof(float), 2 * out_count, f) == 2 * out_count;
        fclose(f);
        printf("%s: wrote %zu outputs\n", argv[2], 2 * out_count);
        return ok ? 0 : 1;
    }
    size_t n = fread(want, sizeof(float), 2 * out_count, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (n != 2 * out_count || extra) {
        fprintf(stderr, "%s: %s holds a different number of outputs than the model's %zu\n", argv[2], argv[3],
                2 * out_count);
        return 1;
    }
    int mismatches = 0;
    const char *names[2] = {"auto (Winograd where stored)", "direct"};
    for (int c = 0; c < 2; c++) {
        float scale = 1, worst = 0;
        for (size_t i = 0; i < out_count; i++) scale = fmaxf(scale, fabsf(want[c * out_count + i]));
        for (size_t i = 0; i < out_count; i++) {
            float d = fabsf(got[c * out_count + i] - want[c * out_count + i]);
            if (!(d <= worst)) worst = d; /* NaN counts as the worst */
        }
        int pass = worst <= 1e-3f * scale;
        mismatches += !pass;
        printf("%s %s: %s, %zu outputs, max |diff| %.3g (tolerance %.3g)\n", pass ? "PASS" : "FAIL", argv[2],
               names[c], out_count, (double)worst, (double)(1e-3f * scale));
    }
    acnet_model_free(model);
    free(in); free(got); free(want);
    return mismatches ? 1 : 0;
}
