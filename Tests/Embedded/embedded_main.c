/*
 * Runs one model on a fixed input and prints every output value (%.9g), either through the
 * Embedded Swift build of ACRuntime (acnet_embedded_run, default) or through the normal
 * libacnet C API (-DUSE_ACNET_API); scripts/embedded_check.sh diffs the two outputs.
 *
 *     embedded_main MODEL.acnb INPUT_COUNT OUTPUT_COUNT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef USE_ACNET_API
#include <acnet.h>
#else
int32_t acnet_embedded_run(const void *model, size_t size, const float *input, size_t input_count,
                           float *output, size_t output_count);
#endif

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    size_t in = (size_t)atol(argv[2]), out = (size_t)atol(argv[3]);
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *model = aligned_alloc(64, (size + 63) / 64 * 64);
    if (!model || fread(model, 1, size, f) != size) return 2;
    fclose(f);
    float *x = malloc(in * sizeof *x), *y = malloc(out * sizeof *y);
    for (size_t i = 0; i < in; i++) x[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
#ifdef USE_ACNET_API
    acnet_model *m = NULL;
    acnet_session *s = NULL;
    int status = acnet_model_load_memory(model, size, &m);
    if (status == 0) status = acnet_session_create(m, NULL, NULL, 0, &s);
    if (status == 0) status = acnet_session_run(s, 1, x, in, y, out);
    acnet_session_free(s);
    acnet_model_free(m);
#else
    int status = acnet_embedded_run(model, size, x, in, y, out);
#endif
    if (status != 0) {
        fprintf(stderr, "status %d\n", status);
        return 1;
    }
    for (size_t i = 0; i < out; i++) printf("%.9g\n", y[i]);
    free(x);
    free(y);
    free(model);
    return 0;
}
