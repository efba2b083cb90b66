/*
 * examples/c — load a model, print what it expects, run it on one input, print the top 5.
 *
 *     ./build/acnet_example MODEL.acnb
 *
 * The input is a constant mid-gray image normalised with the model's own input spec, so the
 * program needs nothing but the model. Every acnet_status is checked.
 */
#include <acnet.h>

#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                            \
    do {                                                                                       \
        acnet_status status_ = (call);                                                         \
        if (status_ != ACNET_OK) {                                                             \
            fprintf(stderr, "%s failed: %s: %s\n", #call, acnet_status_string(status_),        \
                    acnet_last_error_message());                                               \
            goto fail;                                                                         \
        }                                                                                      \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.acnb\n", argv[0]);
        return 2;
    }
    int exit_code = 1;
    acnet_model *model = NULL;
    acnet_session *session = NULL;
    float *input = NULL, *output = NULL;

    if (acnet_version() / 10000 != ACNET_VERSION_MAJOR) {
        fprintf(stderr, "library major version %u does not match the header's %d\n",
                (unsigned)(acnet_version() / 10000), ACNET_VERSION_MAJOR);
        return 1;
    }
    CHECK(acnet_model_load_file(argv[1], &model));

    int64_t in_shape[4], out_shape[4];
    size_t in_rank = 0, out_rank = 0, labels = 0;
    acnet_input_spec spec;
    CHECK(acnet_model_input_shape(model, in_shape, &in_rank));
    CHECK(acnet_model_output_shape(model, out_shape, &out_rank));
    CHECK(acnet_model_input_spec(model, &spec));
    CHECK(acnet_model_label_count(model, &labels));
    size_t in_count = 1, out_count = 1;
    for (size_t i = 0; i < in_rank; i++) in_count *= (size_t)in_shape[i];
    for (size_t i = 0; i < out_rank; i++) out_count *= (size_t)out_shape[i];
    printf("input: %zu x %u x %u x %u, output: %zu values, %zu labels\n", (size_t)in_shape[0],
           spec.channels, spec.height, spec.width, out_count, labels);

    acnet_session_options options;
    CHECK(acnet_session_options_init(&options));
    size_t workspace = 0;
    CHECK(acnet_session_workspace_size(model, &options, &workspace));
    printf("workspace: %zu bytes\n", workspace);
    CHECK(acnet_session_create(model, &options, NULL, 0, &session));

    input = malloc(in_count * sizeof *input);
    output = malloc(out_count * sizeof *output);
    if (input == NULL || output == NULL) {
        fprintf(stderr, "out of memory\n");
        goto fail;
    }
    size_t plane = in_count / spec.channels;
    for (size_t c = 0; c < spec.channels; c++)
        for (size_t i = 0; i < plane; i++)
            input[c * plane + i] = (128.0f / 255.0f - spec.mean[c]) / spec.std[c];
    CHECK(acnet_session_run(session, 1, input, in_count, output, out_count));

    /* Top 5 by logit (the ranking is the same after softmax). */
    for (int rank = 0; rank < 5 && rank < (int)out_count; rank++) {
        size_t best = 0;
        for (size_t i = 1; i < out_count; i++)
            if (output[i] > output[best]) best = i;
        const char *label = "";
        if (best < labels) CHECK(acnet_model_label(model, best, &label));
        printf("%d. %s (class %zu): logit %.4f\n", rank + 1, label, best, output[best]);
        output[best] = -1e30f;
    }
    exit_code = 0;
fail:
    free(input);
    free(output);
    acnet_session_free(session);
    if (acnet_model_free(model) != ACNET_OK) exit_code = 1;
    return exit_code;
}
