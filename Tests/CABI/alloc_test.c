/*
 * Zero-allocation check of acnet_session_run (issue: runtime core). This program interposes
 * malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign and mmap (the executable's
 * definitions win over libc's for every library, libacnet.so included) and counts calls made on
 * the calling thread while counting is on.
 *
 *     alloc_test MODEL.acnb [RUNS]
 *
 * 1. Positive control: creating a session (which allocates its arena) must be counted.
 * 2. RUNS (default 1000) acnet_session_run calls after one warm-up run: the count must be 0.
 * Prints "N passed, N failed".
 */
#define _GNU_SOURCE
#include <acnet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static __thread int counting;
static __thread long allocations;

void *malloc(size_t n) {
    if (counting) allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    if (counting) allocations++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    if (counting) allocations++;
    return __libc_realloc(p, n);
}
int posix_memalign(void **out, size_t alignment, size_t n) {
    if (counting) allocations++;
    void *p = __libc_memalign(alignment, n);
    if (p == NULL) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
void *aligned_alloc(size_t alignment, size_t n) {
    if (counting) allocations++;
    return __libc_memalign(alignment, n);
}
void *memalign(size_t alignment, size_t n) {
    if (counting) allocations++;
    return __libc_memalign(alignment, n);
}
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    if (counting) allocations++;
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int passed, failed;
static void expect(int ok, const char *what) {
    printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
    if (ok) passed++; else failed++;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.acnb [RUNS]\n", argv[0]);
        return 2;
    }
    long runs = argc > 2 ? atol(argv[2]) : 1000;
    acnet_model *model = NULL;
    if (acnet_model_load_file(argv[1], &model) != ACNET_OK) {
        fprintf(stderr, "load: %s\n", acnet_last_error_message());
        return 1;
    }
    int64_t shape[4];
    size_t rank, in = 1, out = 1;
    acnet_model_input_shape(model, shape, &rank);
    for (size_t i = 0; i < rank; i++) in *= (size_t)shape[i];
    acnet_model_output_shape(model, shape, &rank);
    for (size_t i = 0; i < rank; i++) out *= (size_t)shape[i];
    float *x = calloc(in, sizeof *x), *y = calloc(out, sizeof *y);
    for (size_t i = 0; i < in; i++) x[i] = (float)(i % 17) / 17.0f;

    acnet_session *session = NULL;
    counting = 1;
    allocations = 0;
    acnet_status st = acnet_session_create(model, NULL, NULL, 0, &session);
    counting = 0;
    expect(st == ACNET_OK, "session created");
    printf("allocations counted while creating a session: %ld\n", allocations);
    expect(allocations > 0, "positive control: the counter sees the session's arena allocation");

    st = acnet_session_run(session, 1, x, in, y, out); /* warm-up */
    expect(st == ACNET_OK, "warm-up run");
    counting = 1;
    allocations = 0;
    int all_ok = 1;
    for (long r = 0; r < runs; r++) all_ok &= acnet_session_run(session, 1, x, in, y, out) == ACNET_OK;
    counting = 0;
    printf("allocations counted during %ld runs: %ld\n", runs, allocations);
    expect(all_ok, "every run succeeded");
    expect(allocations == 0, "zero allocations per acnet_session_run");

    acnet_session_free(session);
    acnet_model_free(model);
    free(x);
    free(y);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
