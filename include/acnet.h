/*
 * acnet.h — C ABI of the ACNet inference runtime (ACRuntime).
 *
 * ACNet (Ding et al., ICCV 2019) trains CNNs with Asymmetric Convolution Blocks and fuses every
 * block into one KxK convolution.  This header loads such fused models (.acnb files, see
 * docs/FORMAT.md) and runs them on the CPU.
 *
 * ---------------------------------------------------------------------------------------------
 * Overview
 *
 *     acnet_model *model;
 *     if (acnet_model_load_file("net.acnb", &model) != ACNET_OK) { ... acnet_last_error_message() }
 *     acnet_session_options opts;
 *     acnet_session_options_init(&opts);
 *     acnet_session *session;
 *     acnet_session_create(model, &opts, NULL, 0, &session);   // allocates its arena once
 *     acnet_session_run(session, 1, input, input_count, logits, logits_count);
 *     acnet_session_free(session);
 *     acnet_model_free(model);
 *
 * ---------------------------------------------------------------------------------------------
 * Conventions
 *
 *  - Every fallible function returns an acnet_status; ACNET_OK (0) is success.  Results are
 *    written through out-parameters, which are left untouched on failure.
 *  - acnet_last_error_message() returns a human-readable detail of the calling thread's most
 *    recent failure, held in a fixed thread-local buffer (no heap allocation).
 *  - Tensors are float32, NCHW (batch, channels, height, width), densely packed.  Element counts
 *    (not bytes) are passed with every buffer and checked.
 *  - Every *_free function accepts NULL.
 *  - No function calls exit() or abort() on bad input; Swift errors and traps never cross this
 *    boundary.  Passing a pointer to freed or foreign memory is undefined behaviour, as in C.
 *
 * Memory
 *
 *  - A model loaded from a file maps it read-only (mmap) and owns the mapping.
 *  - A model loaded from memory *borrows* the caller's buffer: it must be 64-byte aligned and
 *    outlive the model.  A misaligned buffer is an error (ACNET_ERROR_MISALIGNED), never a
 *    silent copy.
 *  - A session needs one workspace ("arena") whose exact size acnet_session_workspace_size()
 *    reports.  Pass your own 64-byte-aligned buffer to acnet_session_create(), or NULL to have
 *    the session allocate it once.  acnet_session_run() performs no heap allocation.
 *
 * Threading
 *
 *  - An acnet_model is immutable after loading and may be shared by any number of threads.
 *  - An acnet_session belongs to one thread at a time: use one session per thread.
 *  - A session may itself compute with several threads (acnet_session_options.threads = T,
 *    1 … 64): acnet_session_create starts T − 1 worker threads, and acnet_session_run splits
 *    each convolution, pooling and elementwise layer between them and the calling thread (by
 *    image, block of 16 output channels and output row), meeting at a barrier between layers.
 *    No thread is created, no memory allocated and no lock taken per run; between runs the
 *    workers spin for up to 50 µs, then sleep in the kernel (futex), so an idle session costs
 *    no CPU.  acnet_session_free joins them.  Outputs are bit-identical for every T.  On a
 *    machine with fewer free cores than T, runs get slower, not wrong.
 *  - A model must outlive every session created from it.  Freeing a model with live sessions is
 *    detected and refused (ACNET_ERROR_INVALID_ARGUMENT) — the model is not freed.
 *  - The query functions and acnet_status_string() are safe from any thread.
 *  - Every function states its thread safety below.  In short: everything is thread-safe except
 *    using one session from two threads at once, and acnet_model_free() racing another call on
 *    the same model.  Tested with 8 threads × 1000 runs on one model (sessions of 1, 2 and 3
 *    threads each), bit-identical to one thread, under ThreadSanitizer (scripts/sanitize.sh).
 *
 * Determinism
 *
 *  - For a given build and CPU instruction set, results are bit-for-bit reproducible, whatever
 *    the session's thread count (every output element is computed by one thread, in the same
 *    order as with one thread).  Different instruction sets (AVX-512, AVX2+FMA, baseline) may differ in the
 *    last bits because fused multiply-add rounds once.
 */
#ifndef ACNET_H
#define ACNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Nullability qualifiers document (and let Swift check) which pointers may be NULL. They are a
 * clang extension: other compilers see nothing, and clang's -pedantic warning about them is
 * silenced for this header only. */
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnullability-extension"
#elif !defined(_Nullable)
#define _Nullable
#define _Nonnull
#endif

/* ------------------------------------------------------------------------------------------ */
/* Version                                                                                    */

#define ACNET_VERSION_MAJOR 0
#define ACNET_VERSION_MINOR 1
#define ACNET_VERSION_PATCH 0
/** The version as one number: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define ACNET_VERSION_NUMBER (ACNET_VERSION_MAJOR * 10000 + ACNET_VERSION_MINOR * 100 + ACNET_VERSION_PATCH)

/** The highest .acnb format version this library reads (it reads versions 1 through this one;
 *  docs/FORMAT.md describes each). */
#define ACNET_FORMAT_VERSION 2

/**
 * Returns the library's version as ACNET_VERSION_NUMBER, so a program can compare the header
 * it was compiled with against the library it runs with.  Thread-safe; never fails.
 */
uint32_t acnet_version(void);

/* ------------------------------------------------------------------------------------------ */
/* Status codes                                                                               */

typedef int32_t acnet_status;

#define ACNET_OK                          0
/** A NULL pointer, a zero or wrong count, a bad option value, or an object in the wrong state. */
#define ACNET_ERROR_INVALID_ARGUMENT      1
/** A buffer that must be 64-byte aligned is not. */
#define ACNET_ERROR_MISALIGNED            2
/** A file could not be opened, read or mapped. */
#define ACNET_ERROR_IO                    3
/** The model data is malformed: bad magic, truncated, out-of-range offset or index, ... */
#define ACNET_ERROR_BAD_FORMAT            4
/** The model data's CRC-32C does not match its contents. */
#define ACNET_ERROR_CHECKSUM_MISMATCH     5
/** The model was written in a format version or kernel layout this library does not read. */
#define ACNET_ERROR_UNSUPPORTED_VERSION   6
/** The model uses an operator or a parameter value this library does not implement. */
#define ACNET_ERROR_UNSUPPORTED_OP        7
/** A memory allocation failed (only at load or session creation, never during a run). */
#define ACNET_ERROR_OUT_OF_MEMORY         8
/** A caller-supplied buffer or workspace is smaller than required. */
#define ACNET_ERROR_BUFFER_TOO_SMALL      9
/** An index (for example a label index) is outside its valid range. */
#define ACNET_ERROR_OUT_OF_RANGE         10

/**
 * Returns a static, NUL-terminated name for a status ("ACNET_ERROR_BAD_FORMAT", ...), or
 * "ACNET_UNKNOWN_STATUS" for a value not listed above.  Thread-safe; never fails; the string
 * lives for the whole program.
 */
const char *_Nonnull acnet_status_string(acnet_status status);

/**
 * Returns a NUL-terminated, human-readable description of the calling thread's most recent
 * failed call ("" if none failed yet).  The text lives in a fixed thread-local buffer that the
 * thread's next failing call overwrites; copy it if you need to keep it.  Never allocates.
 * Thread-safe: each thread has its own buffer.
 */
const char *_Nonnull acnet_last_error_message(void);

/* ------------------------------------------------------------------------------------------ */
/* Models                                                                                     */

/** An immutable, loaded model.  Opaque. Shareable by any number of threads. */
typedef struct acnet_model acnet_model;

/** Channel order of the model's input image. */
typedef enum acnet_channel_order {
    ACNET_CHANNELS_GRAY = 0, /**< one channel: luminance */
    ACNET_CHANNELS_RGB = 1,  /**< three channels: red, green, blue */
    ACNET_CHANNELS_BGR = 2,  /**< three channels: blue, green, red */
    ACNET_CHANNELS_NONE = 3  /**< not an image: feed raw tensors (mean 0, std 1) */
} acnet_channel_order;

/**
 * How to turn an 8-bit image into the model's input tensor:
 *     x[c][y][x] = (pixel[c][y][x] / 255 - mean[c]) / std[c]
 * after stretching the image to height × width (no aspect-preserving crop).
 * Only the first `channels` entries of mean and std are meaningful.
 */
typedef struct acnet_input_spec {
    uint32_t channels;            /**< C: 1 or 3 */
    uint32_t height;              /**< H in pixels */
    uint32_t width;               /**< W in pixels */
    uint32_t channel_order;       /**< an acnet_channel_order */
    float mean[4];                /**< per channel, in units of pixel/255 */
    float std[4];                 /**< per channel, in units of pixel/255; always > 0 */
} acnet_input_spec;

/**
 * Loads a model from a file by mapping it read-only.  The whole file is validated (checksum,
 * every offset, size, index and shape) before it is used.  The file must not be truncated or
 * rewritten in place while the model is loaded: the mapping would then fault (SIGBUS) or change
 * under the runtime.  Replacing it by rename (as the acnet tools write files) is safe.
 *
 * @param path   NUL-terminated file path.
 * @param model  Receives the new model; free it with acnet_model_free().
 * @return ACNET_OK; ACNET_ERROR_INVALID_ARGUMENT (NULL argument); ACNET_ERROR_IO;
 *         ACNET_ERROR_BAD_FORMAT; ACNET_ERROR_CHECKSUM_MISMATCH; ACNET_ERROR_UNSUPPORTED_VERSION;
 *         ACNET_ERROR_UNSUPPORTED_OP; ACNET_ERROR_OUT_OF_MEMORY.
 * Thread-safe.
 */
acnet_status acnet_model_load_file(const char *_Nullable path, acnet_model *_Nullable *_Nullable model);

/**
 * Loads a model from memory without copying it.  The buffer is borrowed: it must be 64-byte
 * aligned, must not change, and must outlive the model.
 *
 * @param data   The .acnb bytes, 64-byte aligned.
 * @param size   Their length in bytes.
 * @param model  Receives the new model; free it with acnet_model_free().
 * @return ACNET_OK; ACNET_ERROR_INVALID_ARGUMENT (NULL, size 0, size above PTRDIFF_MAX); ACNET_ERROR_MISALIGNED;
 *         and the format errors of acnet_model_load_file().
 * Thread-safe.
 */
acnet_status acnet_model_load_memory(const void *_Nullable data, size_t size,
                                     acnet_model *_Nullable *_Nullable model);

/**
 * Frees a model and, for a file-loaded model, unmaps its file.  NULL is a no-op.
 * Returns ACNET_ERROR_INVALID_ARGUMENT, and frees nothing, while sessions created from the model
 * are still alive (counted atomically, so this is detected even when the sessions belong to
 * other threads; those sessions keep working).  Using a model after it was freed, or freeing it
 * twice, is undefined behaviour.
 * Not thread-safe for one model: must not race with any other call on the same model (in
 * particular acnet_session_create); different models may be freed concurrently.
 */
acnet_status acnet_model_free(acnet_model *_Nullable model);

/**
 * Writes the input tensor's shape for batch 1: shape[0..3] = {1, C, H, W}; *rank = 4.
 * @param shape  At least 4 elements.
 * @return ACNET_OK or ACNET_ERROR_INVALID_ARGUMENT (a NULL argument).  Thread-safe.
 */
acnet_status acnet_model_input_shape(const acnet_model *_Nullable model, int64_t *_Nullable shape,
                                     size_t *_Nullable rank);

/**
 * Writes the output tensor's shape for batch 1, e.g. {1, classes} (rank 2) for a classifier or
 * {1, C, H, W} (rank 4).
 * @param shape  At least 4 elements.
 * @return ACNET_OK or ACNET_ERROR_INVALID_ARGUMENT.  Thread-safe.
 */
acnet_status acnet_model_output_shape(const acnet_model *_Nullable model, int64_t *_Nullable shape,
                                      size_t *_Nullable rank);

/** Copies the model's input spec (see acnet_input_spec).  ACNET_ERROR_INVALID_ARGUMENT for a NULL
 *  argument.  Thread-safe. */
acnet_status acnet_model_input_spec(const acnet_model *_Nullable model, acnet_input_spec *_Nullable spec);

/** Writes the number of class labels stored in the model (0 if it has none).
 *  ACNET_ERROR_INVALID_ARGUMENT for a NULL argument.  Thread-safe. */
acnet_status acnet_model_label_count(const acnet_model *_Nullable model, size_t *_Nullable count);

/**
 * Writes a pointer to label `index` (NUL-terminated UTF-8).  The string is part of the model
 * data and stays valid until acnet_model_free().
 * @return ACNET_OK; ACNET_ERROR_INVALID_ARGUMENT; ACNET_ERROR_OUT_OF_RANGE (index ≥ count).
 * Thread-safe.
 */
acnet_status acnet_model_label(const acnet_model *_Nullable model, size_t index,
                               const char *_Nullable *_Nullable label);

/* ------------------------------------------------------------------------------------------ */
/* Sessions                                                                                   */

/** Runs a model; owns (or borrows) one workspace.  Opaque.  One thread at a time. */
typedef struct acnet_session acnet_session;

/**
 * Kernel instruction sets (acnet_session_options.isa).  The library carries every kernel once
 * per ISA and picks, when a model is loaded, the fastest one the CPU and OS support (cpuid);
 * a session may ask for a lower one, e.g. to compare results.
 */
typedef enum acnet_isa {
    ACNET_ISA_AUTO = 0,      /**< the fastest supported (the default) */
    ACNET_ISA_BASELINE = 1,  /**< portable: x86-64 SSE2 with separate multiply and add; NEON */
    ACNET_ISA_AVX2 = 2,      /**< x86-64 AVX2 + FMA3 (Haswell and later) */
    ACNET_ISA_AVX512 = 3     /**< x86-64 AVX-512 F/CD/BW/DQ/VL (Skylake-SP and later) */
} acnet_isa;

/** Convolution algorithm of a session (acnet_session_options.convolution). */
typedef enum acnet_convolution {
    ACNET_CONVOLUTION_AUTO = 0,   /**< Winograd F(4x4,3x3) on the layers whose Winograd weights
                                       the model file stores (format version 2), direct elsewhere */
    ACNET_CONVOLUTION_DIRECT = 1  /**< direct convolution on every layer */
} acnet_convolution;

/**
 * Session options.  Always initialise with acnet_session_options_init(), which sets
 * struct_size, so that a program built against this header keeps working with later versions
 * that append fields.  A struct_size below 16 (the first version of this struct, without
 * `convolution`, which then takes its default), an isa that is not an acnet_isa or that this
 * CPU cannot run, threads outside 1 … 64, max_batch outside 1 … 65536 or an unknown convolution
 * are ACNET_ERROR_INVALID_ARGUMENT; a larger struct_size (a newer header) is accepted.
 */
typedef struct acnet_session_options {
    uint32_t struct_size;   /**< sizeof(acnet_session_options); set by _init */
    uint32_t threads;       /**< threads computing each run, 1 … 64 (default 1): the calling
                                 thread plus threads − 1 workers the session starts at creation
                                 and joins when freed (see Threading).  Builds without threads
                                 (Embedded Swift) accept only 1. */
    uint32_t max_batch;     /**< largest batch size passed to run; default 1 */
    uint32_t isa;           /**< an acnet_isa; default ACNET_ISA_AUTO.  One this CPU cannot run,
                                 or an unknown value → ACNET_ERROR_INVALID_ARGUMENT */
    uint32_t convolution;   /**< an acnet_convolution; default ACNET_CONVOLUTION_AUTO.  DIRECT
                                 reproduces a model exported without Winograd weights */
} acnet_session_options;

/** Fills `options` with the defaults (threads 1, max_batch 1, isa and convolution AUTO).  NULL → INVALID_ARGUMENT.
 *  Thread-safe (touches only `options`). */
acnet_status acnet_session_options_init(acnet_session_options *_Nullable options);

/**
 * Writes the exact workspace size in bytes that a session with these options needs: the
 * activations for max_batch images, plus, when Winograd layers run, one Winograd scratch per
 * thread (so it may grow with `threads`).
 * @param options  NULL means the defaults.
 * @return ACNET_OK; ACNET_ERROR_INVALID_ARGUMENT (NULL model or size, bad struct_size, threads
 *         or max_batch of 0 or too large).  Thread-safe.
 */
acnet_status acnet_session_workspace_size(const acnet_model *_Nullable model,
                                          const acnet_session_options *_Nullable options,
                                          size_t *_Nullable size);

/**
 * Creates a session.
 *
 * @param options         NULL means the defaults.
 * @param workspace       NULL: the session allocates its workspace once, here.  Otherwise a
 *                        caller buffer, 64-byte aligned, at least acnet_session_workspace_size()
 *                        bytes, that outlives the session and is used by no one else meanwhile.
 * @param workspace_size  Size of `workspace` in bytes (ignored when workspace is NULL).
 * @param session         Receives the session; free it with acnet_session_free().
 * With options->threads = T > 1 this also starts the session's T − 1 worker threads (the only
 * threads the library creates).
 * @return ACNET_OK; ACNET_ERROR_INVALID_ARGUMENT; ACNET_ERROR_MISALIGNED;
 *         ACNET_ERROR_BUFFER_TOO_SMALL; ACNET_ERROR_OUT_OF_MEMORY (also when the worker threads
 *         cannot be created; none is left running).
 * Thread-safe (the model may be shared; each call makes a new session).
 */
acnet_status acnet_session_create(const acnet_model *_Nullable model,
                                  const acnet_session_options *_Nullable options,
                                  void *_Nullable workspace, size_t workspace_size,
                                  acnet_session *_Nullable *_Nullable session);

/**
 * Runs the model on `batch` images.
 *
 * @param batch         1 … max_batch.
 * @param input         NCHW float32, exactly batch × C × H × W elements (input_count).
 * @param output        batch × (output elements per image) floats (output_count must equal it).
 * @return ACNET_OK; ACNET_ERROR_INVALID_ARGUMENT (NULL pointer, batch out of range, a count
 *         that does not match).  Performs no heap allocation and takes no lock, with any
 *         thread count; with threads > 1 the session's workers compute parts of it and have
 *         finished when it returns.
 * Not thread-safe for one session: use one session per thread.  `input` and `output` must not
 * overlap.
 */
acnet_status acnet_session_run(acnet_session *_Nullable session, size_t batch,
                               const float *_Nullable input, size_t input_count,
                               float *_Nullable output, size_t output_count);

/** Frees a session (and its workspace if the session allocated it), after stopping and joining
 *  its worker threads if it has any.  NULL is a no-op.
 *  Thread-safe with respect to other sessions and the model (the model's session count is
 *  atomic); must not race with a run or another free of the same session. */
void acnet_session_free(acnet_session *_Nullable session);

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ACNET_H */
