/*
 * ref_acnet — the C side the Python tests compare against (built by conftest.py with the
 * installed libacnet and examples/classify/image.c, the C classifier's own decoding and
 * preprocessing):
 *
 *     ref_acnet run MODEL INPUT.f32 N OUTPUT.f32
 *         N images of float32 NCHW from INPUT.f32 -> logits (float32) in OUTPUT.f32,
 *         through acnet_session_run with max_batch N, one thread.
 *     ref_acnet preprocess MODEL OUTPUT.f32 IMAGE.jpg...
 *         each JPEG decoded and preprocessed exactly as examples/classify does (channel order
 *         from the model's input spec) -> C x H x W float32 per image in OUTPUT.f32.
 *
 * Exit status 0 on success, 1 with a message on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acnet.h>

#include "image.h"

static int fail(const char *what, acnet_status status) {
    fprintf(stderr, "ref_acnet: %s: %s: %s\n", what, acnet_status_string(status), acnet_last_error_message());
    return 1;
}

static size_t product(const int64_t *shape, size_t rank) {
    size_t n = 1;
    for (size_t i = 1; i < rank; i++) n *= (size_t)shape[i]; /* without the batch axis */
    return n;
}

static int run(const char *model_path, const char *in_path, long n, const char *out_path) {
    acnet_model *model = NULL;
    acnet_status status = acnet_model_load_file(model_path, &model);
    if (status != ACNET_OK) return fail(model_path, status);
    int64_t in_shape[4], out_shape[4];
    size_t in_rank = 0, out_rank = 0;
    acnet_model_input_shape(model, in_shape, &in_rank);
    acnet_model_output_shape(model, out_shape, &out_rank);
    size_t in_count = (size_t)n * product(in_shape, in_rank), out_count = (size_t)n * product(out_shape, out_rank);
    float *input = malloc(in_count * sizeof *input), *output = malloc(out_count * sizeof *output);
    FILE *f = fopen(in_path, "rb");
    if (!input || !output || !f || fread(input, sizeof *input, in_count, f) != in_count) {
        fprintf(stderr, "ref_acnet: cannot read %zu floats from %s\n", in_count, in_path);
        return 1;
    }
    fclose(f);
    acnet_session_options options;
    acnet_session_options_init(&options);
    options.max_batch = (uint32_t)n;
    acnet_session *session = NULL;
    status = acnet_session_create(model, &options, NULL, 0, &session);
    if (status != ACNET_OK) return fail("acnet_session_create", status);
    status = acnet_session_run(session, (size_t)n, input, in_count, output, out_count);
    if (status != ACNET_OK) return fail("acnet_session_run", status);
    f = fopen(out_path, "wb");
    if (!f || fwrite(output, sizeof *output, out_count, f) != out_count || fclose(f) != 0) {
        fprintf(stderr, "ref_acnet: cannot write %s\n", out_path);
        return 1;
    }
    acnet_session_free(session);
    acnet_model_free(model);
    free(input);
    free(output);
    return 0;
}

static int preprocess(const char *model_path, const char *out_path, int count, char **images) {
    acnet_model *model = NULL;
    acnet_status status = acnet_model_load_file(model_path, &model);
    if (status != ACNET_OK) return fail(model_path, status);
    acnet_input_spec s;
    acnet_model_input_spec(model, &s);
    size_t per = (size_t)s.channels * s.height * s.width;
    float *tensor = malloc(per * sizeof *tensor);
    FILE *out = fopen(out_path, "wb");
    if (!tensor || !out) {
        fprintf(stderr, "ref_acnet: cannot write %s\n", out_path);
        return 1;
    }
    for (int i = 0; i < count; i++) {
        image img;
        char err[256];
        if (image_decode_file(images[i], s.channels == 1 ? 1 : 3, 0, &img, err, sizeof err) != IMAGE_OK) {
            fprintf(stderr, "ref_acnet: %s: %s\n", images[i], err);
            return 1;
        }
        if (s.channel_order == ACNET_CHANNELS_BGR) { /* as examples/classify/classify.c */
            for (size_t p = 0, np = (size_t)img.width * img.height; p < np; p++) {
                uint8_t r = img.pixels[3 * p];
                img.pixels[3 * p] = img.pixels[3 * p + 2];
                img.pixels[3 * p + 2] = r;
            }
        }
        if (image_preprocess(img.pixels, img.width, img.height, img.channels, s.width, s.height, s.mean,
                             s.std, tensor) != IMAGE_OK ||
            fwrite(tensor, sizeof *tensor, per, out) != per) {
            fprintf(stderr, "ref_acnet: %s: preprocessing or writing failed\n", images[i]);
            return 1;
        }
        image_free(&img);
    }
    if (fclose(out) != 0) return 1;
    free(tensor);
    acnet_model_free(model);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "run") == 0) return run(argv[2], argv[3], atol(argv[4]), argv[5]);
    if (argc >= 5 && strcmp(argv[1], "preprocess") == 0) return preprocess(argv[2], argv[3], argc - 4, argv + 4);
    fprintf(stderr, "usage: ref_acnet run MODEL IN.f32 N OUT.f32 | preprocess MODEL OUT.f32 IMAGE...\n");
    return 1;
}
