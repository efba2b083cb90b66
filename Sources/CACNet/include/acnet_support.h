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

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continuing from `crc` (start 0). */
uint32_t acnet_support_crc32c(uint32_t crc, const void *data, size_t length);

/** Monotonic clock in nanoseconds (CLOCK_MONOTONIC). */
uint64_t acnet_support_now_ns(void);

/** Atomic add on a 64-bit counter (sequentially consistent); returns the new value. */
int64_t acnet_support_atomic_add(int64_t *counter, int64_t delta);
/** Atomic load of a 64-bit counter. */
int64_t acnet_support_atomic_load(const int64_t *counter);

/**
 * Measures the single-thread fp32 FMA peak in GFLOP/s: 12 independent FMA chains,
 * register-only, with 256-bit and (where available) 512-bit registers — the method of
 * ../shared/bench/fma_peak.c — and returns the best over both widths and `repeats` runs of
 * `iterations` loop trips. Returns 0 where AVX2+FMA is unavailable.
 */
double acnet_support_fma_peak_gflops(long iterations, int repeats);

#ifdef __cplusplus
}
#endif

#endif
