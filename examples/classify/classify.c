/*
 * classify — label JPEG images with an ACNet model through the C API (include/acnet.h).
 *
 *     classify MODEL.acnb IMAGE.jpg... [--top K]
 *
 * For each image: decode with libjpeg (image.c), convert to the model's channel order
 * (grayscale / RGB / BGR, from acnet_model_input_spec), stretch to the model's input size and
 * normalise with its mean/std, run, and print the K most probable labels, best first, as
 * `LABEL<TAB>PROBABILITY` (softmax, four decimals).  With several images a line `# PATH`
 * precedes each block.  This is the output format of `acnet classify` (docs/DESIGN.md §8).
 *
 * An unusable image gets a message on stderr and the other images are still classified.
 * Exit status: 0 if every image was classified, 1 if any image failed, 2 on a usage error or
 * an unusable model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include <acnet.h>

#include "image.h"

#define DEFAULT_TOP 5

static void usage(FILE *to) {
    fprintf(to,
            "usage: classify MODEL.acnb IMAGE.jpg... [--top K]\n"
            "  Prints, for each image, the K (default %d) most probable labels as\n"
            "  LABEL<TAB>PROBABILITY, best first; with several images a '# PATH' line\n"
            "  precedes each block.  Exit status 0 only if every image was classified.\n",
            DEFAULT_TOP);
}

/* Reports a failed acnet_ call; returns 0 so callers can `return fail_acnet(...)`. */
static int fail_acnet(const char *what, acnet_status status) {
    fprintf(stderr, "classify: %s: %s: %s\n", what, acnet_status_string(status),
            acnet_last_error_message());
    return 0;
}

/* Everything derived from the model once, before the images. */
typedef struct classifier {
    acnet_model *model;
    acnet_session *session;
    acnet_input_spec spec;
    size_t classes;
    size_t label_count;
    float *input;    /* C × H × W */
    float *logits;   /* classes */
    double *probs;   /* classes */
    size_t *order;   /* classes, sorted by probability */
} classifier;

static void classifier_free(classifier *c) {
    acnet_session_free(c->session);
    acnet_status status = acnet_model_free(c->model);
    if (status != ACNET_OK) fail_acnet("freeing the model", status);
    free(c->input);
    free(c->logits);
    free(c->probs);
    free(c->order);
}

/* Loads the model and creates a session; returns 1 on success (c is freed by the caller). */
static int classifier_open(classifier *c, const char *path) {
    acnet_status status = acnet_model_load_file(path, &c->model);
    if (status != ACNET_OK) {
        fprintf(stderr, "classify: cannot load model %s: %s: %s\n", path,
                acnet_status_string(status), acnet_last_error_message());
        return 0;
    }
    status = acnet_model_input_spec(c->model, &c->spec);
    if (status != ACNET_OK) return fail_acnet("reading the input spec", status);
    int64_t in_shape[4], out_shape[4];
    size_t in_rank = 0, out_rank = 0;
    status = acnet_model_input_shape(c->model, in_shape, &in_rank);
    if (status != ACNET_OK) return fail_acnet("reading the input shape", status);
    status = acnet_model_output_shape(c->model, out_shape, &out_rank);
    if (status != ACNET_OK) return fail_acnet("reading the output shape", status);

    const acnet_input_spec *s = &c->spec;
    int order_ok = (s->channels == 1 && s->channel_order == ACNET_CHANNELS_GRAY) ||
                   (s->channels == 3 && (s->channel_order == ACNET_CHANNELS_RGB ||
                                         s->channel_order == ACNET_CHANNELS_BGR));
    if (!order_ok || in_rank != 4 || in_shape[1] != (int64_t)s->channels ||
        in_shape[2] != (int64_t)s->height || in_shape[3] != (int64_t)s->width || s->width == 0 ||
        s->height == 0) {
        fprintf(stderr, "classify: %s: the model's input is not a gray or RGB/BGR image\n", path);
        return 0;
    }
    /* A classifier outputs {1, classes} (or {1, classes, 1, 1}). */
    int is_vector = out_rank == 2 || (out_rank == 4 && out_shape[2] == 1 && out_shape[3] == 1);
    if (!is_vector || out_shape[1] < 1) {
        fprintf(stderr, "classify: %s: the model's output is not a vector of class scores\n", path);
        return 0;
    }
    c->classes = (size_t)out_shape[1];
    status = acnet_model_label_count(c->model, &c->label_count);
    if (status != ACNET_OK) return fail_acnet("reading the labels", status);

    status = acnet_session_create(c->model, NULL, NULL, 0, &c->session);
    if (status != ACNET_OK) return fail_acnet("creating a session", status);

    size_t input_count = (size_t)s->channels * s->height * s->width;
    c->input = malloc(input_count * sizeof *c->input);
    c->logits = malloc(c->classes * sizeof *c->logits);
    c->probs = malloc(c->classes * sizeof *c->probs);
    c->order = malloc(c->classes * sizeof *c->order);
    if (!c->input || !c->logits || !c->probs || !c->order) {
        fprintf(stderr, "classify: out of memory\n");
        return 0;
    }
    return 1;
}

/* The label of class i, or its number when the model has no labels. */
static const char *class_label(const classifier *c, size_t i, char *buffer, size_t size) {
    const char *label = NULL;
    if (i < c->label_count) {
        acnet_status status = acnet_model_label(c->model, i, &label);
        if (status == ACNET_OK && label != NULL) return label;
        fail_acnet("reading a label", status);
    }
    snprintf(buffer, size, "class %zu", i); /* as `acnet classify` */
    return buffer;
}

/* Classifies one image and prints its block; returns 1 on success. */
static int classify_image(classifier *c, const char *path, size_t top, int print_path) {
    const acnet_input_spec *s = &c->spec;
    image img;
    char err[256];
    int status = image_decode_file(path, s->channels == 1 ? 1 : 3, 0, &img, err, sizeof err);
    if (status != IMAGE_OK) {
        fprintf(stderr, "classify: %s: %s\n", path, err);
        return 0;
    }
    if (s->channel_order == ACNET_CHANNELS_BGR) {
        for (size_t i = 0, n = (size_t)img.width * img.height; i < n; i++) {
            uint8_t r = img.pixels[3 * i];
            img.pixels[3 * i] = img.pixels[3 * i + 2];
            img.pixels[3 * i + 2] = r;
        }
    }
    status = image_preprocess(img.pixels, img.width, img.height, img.channels, s->width,
                              s->height, s->mean, s->std, c->input);
    image_free(&img);
    if (status != IMAGE_OK) {
        fprintf(stderr, "classify: %s: the model's input spec is invalid (std <= 0?)\n", path);
        return 0;
    }
    size_t input_count = (size_t)s->channels * s->height * s->width;
    acnet_status run = acnet_session_run(c->session, 1, c->input, input_count, c->logits, c->classes);
    if (run != ACNET_OK) {
        fprintf(stderr, "classify: %s: running the model failed: %s: %s\n", path,
                acnet_status_string(run), acnet_last_error_message());
        return 0;
    }

    /* Softmax in double, shifted by the maximum for stability. */
    double max = c->logits[0];
    for (size_t i = 1; i < c->classes; i++)
        if (c->logits[i] > max) max = c->logits[i];
    double sum = 0.0;
    for (size_t i = 0; i < c->classes; i++) {
        c->probs[i] = exp((double)c->logits[i] - max);
        sum += c->probs[i];
    }
    for (size_t i = 0; i < c->classes; i++) {
        c->probs[i] /= sum;
        c->order[i] = i;
    }
    /* Rank by logit, which orders exactly like the probabilities but never underflows to ties:
       a stable partial selection sort of the first `top` places (ties: lower class first). */
    for (size_t i = 0; i < top; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < c->classes; j++)
            if (c->logits[c->order[j]] > c->logits[c->order[best]]) best = j;
        size_t chosen = c->order[best];
        memmove(&c->order[i + 1], &c->order[i], (best - i) * sizeof *c->order);
        c->order[i] = chosen;
    }
    if (print_path) printf("# %s\n", path);
    for (size_t i = 0; i < top; i++) {
        char number[32];
        printf("%s\t%.4f\n", class_label(c, c->order[i], number, sizeof number),
               c->probs[c->order[i]]);
    }
    fflush(stdout);
    return 1;
}

int main(int argc, char **argv) {
    const char *model_path = NULL;
    const char **images = calloc((size_t)argc, sizeof *images);
    size_t image_count = 0;
    long top = DEFAULT_TOP;
    if (images == NULL) {
        fprintf(stderr, "classify: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            free(images);
            return 0;
        } else if (strcmp(arg, "--top") == 0 || strncmp(arg, "--top=", 6) == 0) {
            const char *value = arg[5] == '=' ? arg + 6 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            top = value ? strtol(value, &end, 10) : 0;
            if (value == NULL || *value == '\0' || *end != '\0' || top < 1) {
                fprintf(stderr, "classify: --top needs a positive integer\n");
                free(images);
                return 2;
            }
        } else if (strcmp(arg, "--") == 0) {
            for (i++; i < argc; i++) {
                if (model_path == NULL) model_path = argv[i];
                else images[image_count++] = argv[i];
            }
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "classify: unknown option %s\n", arg);
            usage(stderr);
            free(images);
            return 2;
        } else if (model_path == NULL) {
            model_path = arg;
        } else {
            images[image_count++] = arg;
        }
    }
    if (model_path == NULL || image_count == 0) {
        usage(stderr);
        free(images);
        return 2;
    }

    classifier c;
    memset(&c, 0, sizeof c);
    if (!classifier_open(&c, model_path)) {
        classifier_free(&c);
        free(images);
        return 2;
    }
    size_t k = (size_t)top < c.classes ? (size_t)top : c.classes;
    size_t failed = 0;
    for (size_t i = 0; i < image_count; i++)
        if (!classify_image(&c, images[i], k, image_count > 1)) failed++;
    if (failed > 0)
        fprintf(stderr, "classify: %zu of %zu images could not be classified\n", failed, image_count);
    classifier_free(&c);
    free(images);
    return failed > 0 ? 1 : 0;
}
