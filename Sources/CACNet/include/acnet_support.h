/*
 * acnet_support.h — small C helpers for ACRuntime and CInterface (not part of the public ABI;
 * none of these symbols is exported from libacnet.so).
 */
#ifndef ACNET_SUPPORT_H
#define ACNET_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Capacity in bytes of the thread-local error buffer behind acnet_last_error_message(). */
#define ACNET_SUPPORT_ERROR_CAPACITY 512

/** The calling thread's error buffer (ACNET_SUPPORT_ERROR_CAPACITY bytes, NUL-terminated). */
char *acnet_support_error_buffer(void);

/** Copies `length` bytes of `message` into the thread's error buffer, truncating and
 *  NUL-terminating. Never allocates. */
void acnet_support_set_error(const char *message, size_t length);

/** CPU feature bits reported by cpuid (x86_64) — 0 on other architectures. */
#define ACNET_CPU_AVX2    (1u << 0)
#define ACNET_CPU_FMA     (1u << 1)
#define ACNET_CPU_AVX512F (1u << 2)
/** Everything the AVX2 kernel build may use (-target-cpu haswell): AVX2, FMA, BMI1, BMI2,
 *  F16C, LZCNT, MOVBE, with the OS saving YMM state. */
#define ACNET_CPU_HASWELL (1u << 3)
/** Everything the AVX-512 kernel build may use (-target-cpu skylake-avx512): the Haswell set
 *  plus AVX-512 F, CD, BW, DQ and VL, with the OS saving ZMM state. */
#define ACNET_CPU_SKYLAKE_AVX512 (1u << 4)
/** Returns the ACNET_CPU_* bits of the running CPU, including the OS's XSAVE support. */
uint32_t acnet_support_cpu_features(void);

/** Hint: fetch the cache line holding `p` towards L1 for reading (`prefetcht0` on x86_64).
 *  Never faults, whatever `p`; no effect on results. Inlined into the Swift kernels. */
static inline __attribute__((always_inline)) void acnet_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continuing from `crc` (start 0). */
uint32_t acnet_support_crc32c(uint32_t crc, const void *data, size_t length);

/** Monotonic clock in nanoseconds (CLOCK_MONOTONIC). */
uint64_t acnet_support_now_ns(void);

/** Atomic add on a 64-bit counter (sequentially consistent); returns the new value. */
int64_t acnet_support_atomic_add(int64_t *counter, int64_t delta);
/** Atomic load of a 64-bit counter. */
int64_t acnet_support_atomic_load(const int64_t *counter);

/* ---- Files and aligned memory, for Embedded Swift builds (which cannot import Glibc) -- */

/** Result of acnet_support_map_file. */
#define ACNET_SUPPORT_MAP_OK 0
#define ACNET_SUPPORT_MAP_OPEN 1        /**< open(2) failed; *error is errno */
#define ACNET_SUPPORT_MAP_STAT 2        /**< fstat(2) failed; *error is errno */
#define ACNET_SUPPORT_MAP_NOT_REGULAR 3 /**< not a regular file */
#define ACNET_SUPPORT_MAP_EMPTY 4       /**< the file is empty */
#define ACNET_SUPPORT_MAP_MMAP 5        /**< mmap(2) failed; *error is errno */
#define ACNET_SUPPORT_MAP_UNSUPPORTED 6 /**< no file system on this platform (bare metal) */

/** Maps the regular file `path` read-only and private: on ACNET_SUPPORT_MAP_OK stores its
 *  address and byte size (release with acnet_support_unmap_file); otherwise one of the codes
 *  above, with errno in *error where stated. */
int acnet_support_map_file(const char *path, void **base, size_t *size, int *error);
/** Unmaps what acnet_support_map_file mapped. */
void acnet_support_unmap_file(void *base, size_t size);
/** strerror(error), or NULL. */
const char *acnet_support_error_text(int error);
/** posix_memalign: `size` bytes aligned to `alignment` (a power of two, multiple of
 *  sizeof(void *)), or NULL if memory cannot be had. Release with acnet_support_aligned_free. */
void *acnet_support_aligned_alloc(size_t alignment, size_t size);
void acnet_support_aligned_free(void *p);

/* ---- Thread team (team.c): the persistent workers of a multi-threaded session ---------- */

/** Largest team (the calling thread included). */
#define ACNET_SUPPORT_TEAM_MAX_THREADS 64

/** A fixed set of threads that run a fixed list of tasks together, created once. Opaque. */
typedef struct acnet_support_team acnet_support_team;

/** Runs task `task` (0 … tasks − 1) of a run on whichever thread of the team took it:
 *  `worker` 0 is the thread calling acnet_support_team_run, 1 … threads − 1 the team's own (so a
 *  task may use per-worker scratch). */
typedef void (*acnet_support_team_fn)(void *context, uint32_t task, int worker);

/**
 * Creates a team of `threads` (1 … ACNET_SUPPORT_TEAM_MAX_THREADS) for runs of `tasks` tasks:
 * starts threads − 1 pthreads that wait for acnet_support_team_run (spinning briefly, then
 * blocked in a futex, so an idle team uses no CPU). `after[t]` (copied) is the number of tasks
 * that must be done before task t may start; tasks are handed out in order, so `after` must
 * be non-decreasing with after[t] ≤ t (e.g. for tasks grouped in dependent steps: the number
 * of tasks of the earlier steps). Allocates once, here. Returns NULL if an argument is out of
 * range or memory or a thread cannot be had (then no thread is left running). Without POSIX
 * threads (bare metal) only threads = 1 succeeds.
 */
acnet_support_team *acnet_support_team_create(int threads, acnet_support_team_fn fn, void *context,
                                              uint32_t tasks, const uint32_t *after);

/**
 * Runs every task once, on the team's threads and this one, each after the tasks it depends
 * on, and returns when all are done. Which thread runs a task is not fixed: the threads take
 * the next task in order as they become free. Everything the caller wrote before is visible
 * to the tasks, a task's writes are visible to the tasks after it (per `after`), and all
 * writes are visible to the caller afterwards. No allocation, no lock, no system call unless a
 * thread is blocked (then futex wakes). One caller at a time.
 */
void acnet_support_team_run(acnet_support_team *team);

/** The team's thread count. */
int acnet_support_team_threads(const acnet_support_team *team);

/** Stops and joins the workers and frees the team. NULL is a no-op. Not during a run. */
void acnet_support_team_destroy(acnet_support_team *team);

/**
 * Measures the single-thread fp32 FMA peak in GFLOP/s: 12 independent FMA chains,
 * register-only, with 256-bit and (where available) 512-bit registers — the method of
 * the peer suite's fma_peak.c — and returns the best over both widths and `repeats` runs of
 * `iterations` loop trips. Returns 0 where AVX2+FMA is unavailable.
 */
double acnet_support_fma_peak_gflops(long iterations, int repeats);

/**
 * The same on `threads` threads at once (the caller plus threads − 1 pthreads started and
 * joined here, 1 … ACNET_SUPPORT_TEAM_MAX_THREADS): each run starts every thread's chains
 * together and counts their total FLOPs over the wall time until the last one finishes, as
 * the peer suite's fma_peak.c does with OpenMP. threads ≤ 1 is acnet_support_fma_peak_gflops.
 * Returns 0 where AVX2+FMA is unavailable, off Linux/x86-64, or if a thread cannot be started.
 * Spins (busy) while waiting for the others: for benchmarks only.
 */
double acnet_support_fma_peak_gflops_threads(long iterations, int repeats, int threads);

#ifdef __cplusplus
}
#endif

#endif
