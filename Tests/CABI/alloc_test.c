/*
 * Zero-allocation and leak check of the C API (issues: runtime core, reliability). This program
 * interposes malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, free, mmap and
 * munmap (the executable's definitions win over libc's for every library, libacnet.so included)
 * and counts calls made on the calling thread while counting is on.
 *
 *     alloc_test MODEL.acnb [RUNS [LOADS]]
 *
 * 1. Positive control: creating a session (which allocates its arena) must be counted.
 * 2. RUNS (default 1000) acnet_session_run calls after one warm-up run: the count must be 0,
 *    and the resident set size (VmRSS) must not grow by more than 128 KiB from the first 10% of
 *    the runs to the end.
 *    Then the same RUNS with a 2-thread session (threads = 2), counting calls on every thread
 *    (the session's worker included): 0 again, and no thread created during the runs.
 * 3. LOADS (default 0) cycles of load (alternately from the file, mapped, and from memory) →
 *    session create (1 or 2 threads) → run → free after one warm-up cycle of each: as many
 *    frees as allocations and as many munmaps as mmaps (no leak), and no RSS growth beyond
 *    256 KiB.
 * Thread counts are taken relative to the process's count at start (1 natively; emulators such
 * as qemu-user add threads of their own). ACNET_TEST_EMULATED=1 skips the resident-memory
 * checks, which an emulator's growing code cache defeats (scripts/ci_cross.sh).
 * Prints "N passed, N failed".
 */
#define _GNU_SOURCE
#include <acnet.h>

#include "proc_status.h"

#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int counting;
static __thread long allocations, frees, maps, unmaps;
/* Process-wide counting (the threaded-session check): calls on any thread. */
static int counting_all;
static long allocations_all;
#define COUNT_ALL() \
    do { if (__atomic_load_n(&counting_all, __ATOMIC_RELAXED)) __atomic_fetch_add(&allocations_all, 1, __ATOMIC_RELAXED); } while (0)

void *malloc(size_t n) {
    if (counting) allocations++;
    COUNT_ALL();
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    if (counting) allocations++;
    COUNT_ALL();
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    if (counting) allocations++;
    COUNT_ALL();
    return __libc_realloc(p, n);
}
int posix_memalign(void **out, size_t alignment, size_t n) {
    if (counting) allocations++;
    COUNT_ALL();
    void *p = __libc_memalign(alignment, n);
    if (p == NULL) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
void *aligned_alloc(size_t alignment, size_t n) {
    if (counting) allocations++;
    COUNT_ALL();
    return __libc_memalign(alignment, n);
}
void *memalign(size_t alignment, size_t n) {
    if (counting) allocations++;
    COUNT_ALL();
    return __libc_memalign(alignment, n);
}
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    if (counting) { allocations++; maps++; }
    COUNT_ALL();
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
void free(void *p) {
    if (counting && p != NULL) frees++;
    __libc_free(p);
}
int munmap(void *addr, size_t len) {
    if (counting) unmaps++;
    return (int)syscall(SYS_munmap, addr, len);
}

/* Resident set size in KiB (VmRSS), or -1. */
static long rss_kib(void) { return proc_status_field("VmRSS: %ld kB"); }

/* Threads of this process, or -1. */
static long thread_count(void) { return proc_status_field("Threads: %ld"); }

static unsigned char *read_aligned(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *raw = aligned_alloc(64, ((size_t)n + 63) / 64 * 64);
    if (raw && fread(raw, 1, (size_t)n, f) != (size_t)n) { free(raw); raw = NULL; }
    fclose(f);
    *size = (size_t)n;
    return raw;
}

/* One load → session → run → free cycle; returns 1 on success. */
static int cycle(const char *path, const unsigned char *image, size_t size, const float *x, size_t in, float *y,
                 size_t out, int from_file, unsigned threads) {
    acnet_model *m = NULL;
    acnet_status st = from_file ? acnet_model_load_file(path, &m) : acnet_model_load_memory(image, size, &m);
    if (st != ACNET_OK) return 0;
    acnet_session *s = NULL;
    acnet_session_options options;
    acnet_session_options_init(&options);
    options.threads = threads;
    int ok = acnet_session_create(m, &options, NULL, 0, &s) == ACNET_OK && acnet_session_run(s, 1, x, in, y, out) == ACNET_OK;
    acnet_session_free(s);
    return ok && acnet_model_free(m) == ACNET_OK;
}

static int passed, failed;
static void expect(int ok, const char *what) {
    printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
    if (ok) passed++; else failed++;
}

/* Resident-memory checks, skipped under emulation. */
static void expect_rss(int ok, const char *what) {
    const char *emulated = getenv("ACNET_TEST_EMULATED");
    if (emulated && strcmp(emulated, "1") == 0) printf("SKIP: %s (emulated)\n", what);
    else expect(ok, what);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.acnb [RUNS]\n", argv[0]);
        return 2;
    }
    long threads_at_start = thread_count();
    long runs = argc > 2 ? atol(argv[2]) : 1000;
    long loads = argc > 3 ? atol(argv[3]) : 0;
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

    /* Refused calls free what they allocated. The Embedded-Swift library once leaked the object
     * of every refused model and session (a class instance whose init threw before its stored
     * properties were set was not freed): 368 bytes per refused session. */
    {
        size_t size = 0;
        unsigned char *bad = read_aligned(argv[1], &size);
        expect(bad != NULL && size > 64, "read the model for the refused-load check");
        if (bad && size > 64) bad[size - 1] ^= 0x5a; /* payload byte: CRC-32C mismatch */
        acnet_session_options refused;
        acnet_session_options_init(&refused);
        refused.max_batch = 0; /* outside 1 … 65536 */
        int all_refused = 1;
        counting = 1;
        allocations = 0;
        frees = 0;
        for (int i = 0; i < 100; i++) {
            acnet_model *m = NULL;
            acnet_session *s = NULL;
            all_refused &= bad == NULL || acnet_model_load_memory(bad, size, &m) == ACNET_ERROR_CHECKSUM_MISMATCH;
            all_refused &= acnet_session_create(model, &refused, NULL, 0, &s) == ACNET_ERROR_INVALID_ARGUMENT;
        }
        counting = 0;
        printf("100 refused loads and sessions: %ld allocations, %ld frees\n", allocations, frees);
        expect(all_refused, "corrupted model and bad options refused");
        expect(allocations == frees, "refused loads and sessions free everything they allocate");
        free(bad);
    }

    st = acnet_session_run(session, 1, x, in, y, out); /* warm-up */
    expect(st == ACNET_OK, "warm-up run");
    (void)rss_kib(); /* the first fopen sets up stdio state */
    counting = 1;
    allocations = 0;
    int all_ok = 1;
    long rss_early = -1;
    for (long r = 0; r < runs; r++) {
        all_ok &= acnet_session_run(session, 1, x, in, y, out) == ACNET_OK;
        if (r == runs / 10) { counting = 0; rss_early = rss_kib(); counting = 1; } /* fopen allocates */
    }
    counting = 0;
    long rss_late = rss_kib();
    printf("allocations counted during %ld runs: %ld\n", runs, allocations);
    expect(all_ok, "every run succeeded");
    expect(allocations == 0, "zero allocations per acnet_session_run");
    printf("VmRSS after %ld runs: %ld KiB, after %ld: %ld KiB\n", runs / 10 + 1, rss_early, runs, rss_late);
    expect_rss(rss_early > 0 && rss_late - rss_early <= 128, "flat resident memory over the runs");

    acnet_session_free(session);

    /* The same with a 2-thread session: the runs hand work to the session's worker thread. */
    acnet_session_options threaded;
    acnet_session_options_init(&threaded);
    threaded.threads = 2;
    session = NULL;
    float *y1 = calloc(out, sizeof *y1);
    memcpy(y1, y, out * sizeof *y);
    __atomic_store_n(&allocations_all, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&counting_all, 1, __ATOMIC_SEQ_CST);
    st = acnet_session_create(model, &threaded, NULL, 0, &session);
    __atomic_store_n(&counting_all, 0, __ATOMIC_SEQ_CST);
    expect(st == ACNET_OK, "2-thread session created");
    printf("allocations counted (all threads) while creating a 2-thread session: %ld\n", allocations_all);
    expect(allocations_all > 0, "positive control: the process-wide counter sees the creation's allocations");
    st = acnet_session_run(session, 1, x, in, y, out); /* warm-up */
    expect(st == ACNET_OK && memcmp(y, y1, out * sizeof *y) == 0, "2-thread warm-up run, output bit-identical to 1 thread");
    long threads_before = thread_count();
    __atomic_store_n(&allocations_all, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&counting_all, 1, __ATOMIC_SEQ_CST);
    all_ok = 1;
    for (long r = 0; r < runs; r++) all_ok &= acnet_session_run(session, 1, x, in, y, out) == ACNET_OK;
    __atomic_store_n(&counting_all, 0, __ATOMIC_SEQ_CST);
    printf("allocations counted (all threads) during %ld 2-thread runs: %ld; threads %ld before, %ld after\n", runs,
           allocations_all, threads_before, thread_count());
    expect(all_ok, "every 2-thread run succeeded");
    expect(allocations_all == 0, "zero allocations per acnet_session_run with threads = 2, on any thread");
    expect(threads_at_start > 0 && threads_before == threads_at_start + 1 && thread_count() == threads_at_start + 1,
           "one worker thread, started at creation, none during runs");
    acnet_session_free(session);
    /* Joined means gone from /proc at once natively; under qemu-user the emulated thread's host
     * thread finishes exiting just after the join returns, so allow it up to a second. */
    long threads_after = thread_count();
    for (int i = 0; i < 100 && threads_after != threads_at_start; i++) {
        usleep(10000);
        threads_after = thread_count();
    }
    expect(threads_after == threads_at_start, "the worker is joined by acnet_session_free");
    free(y1);
    acnet_model_free(model);

    if (loads > 0) {
        size_t size = 0;
        unsigned char *image = read_aligned(argv[1], &size);
        expect(image != NULL, "model read into aligned memory");
        if (image) {
            int ok = cycle(argv[1], image, size, x, in, y, out, 1, 1) && cycle(argv[1], image, size, x, in, y, out, 0, 2);
            long rss_before = rss_kib();
            counting = 1;
            allocations = frees = maps = unmaps = 0;
            long rss_mid = -1;
            for (long i = 0; i < loads; i++) {
                ok &= cycle(argv[1], image, size, x, in, y, out, (int)(i & 1), (i & 2) ? 2 : 1);
                if (i == loads / 10) { counting = 0; malloc_trim(0); rss_mid = rss_kib(); counting = 1; }
            }
            counting = 0;
            /* Freed heap pages go back to the OS first: glibc keeps them otherwise, and how many it
             * keeps depends on the order of earlier allocations (a relative or absolute model path
             * alone moved the end figure by 3 MB with balanced allocations and frees). */
            malloc_trim(0);
            long rss_after = rss_kib();
            printf("%ld load/session/run/free cycles: %ld allocations, %ld frees, %ld mmaps, %ld munmaps; VmRSS %ld → %ld (after %ld) → %ld KiB\n",
                   loads, allocations, frees, maps, unmaps, rss_before, rss_mid, loads / 10 + 1, rss_after);
            expect(ok, "every cycle succeeded");
            expect(allocations - maps == frees, "no leaked heap blocks (frees == allocations)");
            expect(maps == unmaps, "every mapping unmapped");
            /* The allocator settles in the first cycles; after that the footprint must stay flat. */
            expect_rss(rss_mid > 0 && rss_after - rss_mid <= 256, "no resident memory growth over the cycles");
            free(image);
        }
    }
    free(x);
    free(y);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
