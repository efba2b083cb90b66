/* C helpers behind acnet_support.h: thread-local error buffer, cpuid, CRC-32C, clock. */
#define _POSIX_C_SOURCE 200809L
#include "acnet_support.h"

#include <string.h>
#include <time.h>
#if defined(__x86_64__) && defined(__linux__)
#include <pthread.h>
#include <stdatomic.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static _Thread_local char error_buffer[ACNET_SUPPORT_ERROR_CAPACITY];

char *acnet_support_error_buffer(void) { return error_buffer; }

void acnet_support_set_error(const char *message, size_t length) {
    if (length >= ACNET_SUPPORT_ERROR_CAPACITY) length = ACNET_SUPPORT_ERROR_CAPACITY - 1;
    if (message != NULL && length > 0) memcpy(error_buffer, message, length);
    error_buffer[message != NULL ? length : 0] = '\0';
}

uint32_t acnet_support_cpu_features(void) {
    uint32_t bits = 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1;
    int fma = (c >> 12) & 1;
    int movbe = (c >> 22) & 1, f16c = (c >> 29) & 1;
    if (!osxsave) return 0;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    int ymm_ok = (xcr0_lo & 0x6) == 0x6;
    int zmm_ok = (xcr0_lo & 0xE6) == 0xE6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (ymm_ok && ((b >> 5) & 1)) bits |= ACNET_CPU_AVX2;
    if (ymm_ok && fma) bits |= ACNET_CPU_FMA;
    if (zmm_ok && ((b >> 16) & 1)) bits |= ACNET_CPU_AVX512F;
    int bmi1 = (b >> 3) & 1, bmi2 = (b >> 8) & 1;
    unsigned ea = 0, eb = 0, ec = 0, ed = 0;
    int lzcnt = __get_cpuid(0x80000001u, &ea, &eb, &ec, &ed) ? (int)((ec >> 5) & 1) : 0;
    if ((bits & ACNET_CPU_AVX2) && (bits & ACNET_CPU_FMA) && bmi1 && bmi2 && f16c && lzcnt && movbe)
        bits |= ACNET_CPU_HASWELL;
    unsigned skx = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31); /* F DQ CD BW VL */
    if ((bits & ACNET_CPU_HASWELL) && zmm_ok && (b & skx) == skx) bits |= ACNET_CPU_SKYLAKE_AVX512;
#endif
    return bits;
}

static uint32_t crc_table[8][256];
/* 0: not built, 1: one thread is building it, 2: ready. */
static int crc_state;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

uint32_t acnet_support_crc32c(uint32_t crc, const void *data, size_t length) {
    /* The first caller builds the table; concurrent first callers wait for it (a plain
     * "build it again" race would be a data race on the table: ThreadSanitizer reports it). */
    if (__atomic_load_n(&crc_state, __ATOMIC_ACQUIRE) != 2) {
        int expected = 0;
        if (__atomic_compare_exchange_n(&crc_state, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            crc_init();
            __atomic_store_n(&crc_state, 2, __ATOMIC_RELEASE);
        } else {
            while (__atomic_load_n(&crc_state, __ATOMIC_ACQUIRE) != 2) { /* a few microseconds */ }
        }
    }
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (length >= 8) {
        uint32_t lo = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        lo ^= crc;
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
              crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
              crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
        p += 8;
        length -= 8;
    }
    while (length--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

uint64_t acnet_support_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t acnet_support_atomic_add(int64_t *counter, int64_t delta) {
    return __atomic_add_fetch(counter, delta, __ATOMIC_SEQ_CST);
}

int64_t acnet_support_atomic_load(const int64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

#if defined(__unix__) || defined(__APPLE__)
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int acnet_support_map_file(const char *path, void **base, size_t *size, int *error) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { *error = errno; return ACNET_SUPPORT_MAP_OPEN; }
    struct stat st;
    int status = ACNET_SUPPORT_MAP_OK;
    if (fstat(fd, &st) != 0) { *error = errno; status = ACNET_SUPPORT_MAP_STAT; }
    else if (!S_ISREG(st.st_mode)) status = ACNET_SUPPORT_MAP_NOT_REGULAR;
    else if (st.st_size <= 0) status = ACNET_SUPPORT_MAP_EMPTY;
    else {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) { *error = errno; status = ACNET_SUPPORT_MAP_MMAP; }
        else { *base = p; *size = (size_t)st.st_size; }
    }
    close(fd);
    return status;
}

void acnet_support_unmap_file(void *base, size_t size) { munmap(base, size); }

const char *acnet_support_error_text(int error) { return strerror(error); }

void *acnet_support_aligned_alloc(size_t alignment, size_t size) {
    void *p = NULL;
    return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

void acnet_support_aligned_free(void *p) { free(p); }
#else
int acnet_support_map_file(const char *path, void **base, size_t *size, int *error) {
    (void)path; (void)base; (void)size; (void)error;
    return ACNET_SUPPORT_MAP_UNSUPPORTED;
}
void acnet_support_unmap_file(void *base, size_t size) { (void)base; (void)size; }
const char *acnet_support_error_text(int error) { (void)error; return NULL; }
#endif

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2,fma"), noinline)) static float fma_chains(long iters, float seed) {
    __m256 a[12];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps(seed + (float)i * 1e-3f);
    for (long k = 0; k < iters; k++) {
        a[0] = _mm256_fmadd_ps(a[0], m, c);
        a[1] = _mm256_fmadd_ps(a[1], m, c);
        a[2] = _mm256_fmadd_ps(a[2], m, c);
        a[3] = _mm256_fmadd_ps(a[3], m, c);
        a[4] = _mm256_fmadd_ps(a[4], m, c);
        a[5] = _mm256_fmadd_ps(a[5], m, c);
        a[6] = _mm256_fmadd_ps(a[6], m, c);
        a[7] = _mm256_fmadd_ps(a[7], m, c);
        a[8] = _mm256_fmadd_ps(a[8], m, c);
        a[9] = _mm256_fmadd_ps(a[9], m, c);
        a[10] = _mm256_fmadd_ps(a[10], m, c);
        a[11] = _mm256_fmadd_ps(a[11], m, c);
    }
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

/* The same with 512-bit registers: on cores with two full-width AVX-512 FMA units (Intel
 * server parts) this doubles the peak; on Zen 4 (double-pumped) it matches the 256-bit one. */
__attribute__((target("avx512f"), noinline)) static float fma_chains512(long iters, float seed) {
    __m512 a[12];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(seed + (float)i * 1e-3f);
    for (long k = 0; k < iters; k++) {
        a[0] = _mm512_fmadd_ps(a[0], m, c);
        a[1] = _mm512_fmadd_ps(a[1], m, c);
        a[2] = _mm512_fmadd_ps(a[2], m, c);
        a[3] = _mm512_fmadd_ps(a[3], m, c);
        a[4] = _mm512_fmadd_ps(a[4], m, c);
        a[5] = _mm512_fmadd_ps(a[5], m, c);
        a[6] = _mm512_fmadd_ps(a[6], m, c);
        a[7] = _mm512_fmadd_ps(a[7], m, c);
        a[8] = _mm512_fmadd_ps(a[8], m, c);
        a[9] = _mm512_fmadd_ps(a[9], m, c);
        a[10] = _mm512_fmadd_ps(a[10], m, c);
        a[11] = _mm512_fmadd_ps(a[11], m, c);
    }
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}
#endif

double acnet_support_fma_peak_gflops(long iterations, int repeats) {
#if defined(__x86_64__)
    uint32_t features = acnet_support_cpu_features();
    uint32_t need = ACNET_CPU_AVX2 | ACNET_CPU_FMA;
    if ((features & need) != need) return 0;
    double best = 0;
    volatile float sink = 0;
    for (int r = 0; r < repeats; r++) {
        uint64_t t0 = acnet_support_now_ns();
        sink += fma_chains(iterations, 1.0f + (float)r);
        uint64_t t1 = acnet_support_now_ns();
        double gflops = (double)iterations * 12 * 8 * 2 / (double)(t1 - t0);
        if (gflops > best) best = gflops;
        if (features & ACNET_CPU_AVX512F) {
            t0 = acnet_support_now_ns();
            sink += fma_chains512(iterations, 1.0f + (float)r);
            t1 = acnet_support_now_ns();
            gflops = (double)iterations * 12 * 16 * 2 / (double)(t1 - t0);
            if (gflops > best) best = gflops;
        }
    }
    (void)sink;
    return best;
#else
    (void)iterations;
    (void)repeats;
    return 0;
#endif
}

#if defined(__x86_64__) && defined(__linux__)
/* State shared by the threads of acnet_support_fma_peak_gflops_threads. `go` releases the
 * workers once all exist (1) or sends them home (−1: one could not be started); `arrived`
 * counts arrivals at the spinning rendezvous before and after every timed run. */
typedef struct {
    _Atomic int go;
    _Atomic long arrived;
    int participants, repeats, wide;
    long iterations;
} peak_shared;

typedef struct {
    peak_shared *shared;
    float seed;
} peak_worker;

/* Waits until every participant has arrived at this thread's next rendezvous. */
static void peak_rendezvous(peak_shared *s, long *phase) {
    *phase += 1;
    atomic_fetch_add(&s->arrived, 1);
    while (atomic_load(&s->arrived) < *phase * s->participants) {
    }
}

/* The runs of one thread: rendezvous, chains, rendezvous, per repeat and width (the caller
 * reads the clock at both rendezvous). Returns a value that depends on the chains. */
static float peak_rounds(peak_shared *s, float seed) {
    long phase = 0;
    float sink = 0;
    for (int r = 0; r < s->repeats; r++) {
        for (int wide = 0; wide <= s->wide; wide++) {
            peak_rendezvous(s, &phase);
            sink += wide ? fma_chains512(s->iterations, seed + (float)r) : fma_chains(s->iterations, seed + (float)r);
            peak_rendezvous(s, &phase);
        }
    }
    return sink;
}

static void *peak_thread(void *arg) {
    peak_worker *w = (peak_worker *)arg;
    int go;
    while ((go = atomic_load(&w->shared->go)) == 0) {
    }
    if (go > 0) {
        volatile float sink = peak_rounds(w->shared, w->seed);
        (void)sink;
    }
    return NULL;
}
#endif

double acnet_support_fma_peak_gflops_threads(long iterations, int repeats, int threads) {
    if (threads <= 1) return acnet_support_fma_peak_gflops(iterations, repeats);
#if defined(__x86_64__) && defined(__linux__)
    uint32_t features = acnet_support_cpu_features();
    uint32_t need = ACNET_CPU_AVX2 | ACNET_CPU_FMA;
    if ((features & need) != need || threads > ACNET_SUPPORT_TEAM_MAX_THREADS || repeats < 1) return 0;
    peak_shared shared = {0};
    shared.participants = threads;
    shared.repeats = repeats;
    shared.wide = (features & ACNET_CPU_AVX512F) != 0;
    shared.iterations = iterations;
    pthread_t ids[ACNET_SUPPORT_TEAM_MAX_THREADS];
    peak_worker work[ACNET_SUPPORT_TEAM_MAX_THREADS];
    int started = 0;
    for (int t = 1; t < threads; t++) {
        work[t] = (peak_worker){&shared, 1.0f + (float)t};
        if (pthread_create(&ids[t], NULL, peak_thread, &work[t]) != 0) break;
        started++;
    }
    if (started < threads - 1) {  /* not enough threads: release the started ones, measure nothing */
        atomic_store(&shared.go, -1);
        for (int t = 1; t <= started; t++) pthread_join(ids[t], NULL);
        return 0;
    }
    atomic_store(&shared.go, 1);
    long phase = 0;
    double best = 0;
    volatile float sink = 0;
    for (int r = 0; r < repeats; r++) {
        for (int wide = 0; wide <= shared.wide; wide++) {
            peak_rendezvous(&shared, &phase);
            uint64_t t0 = acnet_support_now_ns();
            sink += wide ? fma_chains512(iterations, 1.0f + (float)r) : fma_chains(iterations, 1.0f + (float)r);
            peak_rendezvous(&shared, &phase);  /* every thread's chains are done */
            uint64_t t1 = acnet_support_now_ns();
            double gflops = (double)iterations * 12 * (wide ? 16 : 8) * 2 * threads / (double)(t1 - t0);
            if (gflops > best) best = gflops;
        }
    }
    (void)sink;
    for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
    return best;
#else
    (void)iterations;
    (void)repeats;
    (void)threads;
    return 0;
#endif
}
