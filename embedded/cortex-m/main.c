/*
 * Cortex-M firmware: classifies the sample images in flash with the model in flash and prints,
 * through semihosting, per image the label, the top-1 class, the logits and the instructions
 * the inference took, then the memory it used. Exit status (semihosting SYS_EXIT_EXTENDED):
 * 0 when every step succeeded (the top-1 classes are compared with the host by
 * scripts/ci_cortexm.sh, not here), 1 on a runtime error, 2 if the arena is too small, 3 on a
 * fault.
 *
 * Instructions are read from SysTick: under `qemu-system-arm -icount shift=0` every guest
 * instruction advances the virtual clock by 1 ns, and SysTick counts that clock; instructions
 * per tick are calibrated at start with a loop of known length. They are executed instruction
 * counts, not cycles.
 */
#include <stdint.h>
#include <stdio.h>

#include "classify.h"
#include "firmware.h"

#ifndef ARENA_BYTES
#define ARENA_BYTES (128 * 1024)
#endif

extern const uint8_t acnet_model_data[], acnet_model_end[];
extern const uint8_t fw_images[], fw_images_end[], fw_labels[], fw_labels_end[];

/* The session's arena (activations), owned by the firmware: no heap allocation for it. */
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(64)));

/* SysTick, 24 bits, counting down at the core clock; the handler extends it. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_RELOAD 0xFFFFFFu
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)
static volatile uint32_t systick_wraps;

void SysTick_Handler(void) { systick_wraps++; }

static void ticks_start(void) {
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = 7; /* enable, interrupt on wrap, core clock */
    while (SYST_CVR == 0) {} /* the first tick loads RVR */
}

/* Ticks since ticks_start. A wrap whose interrupt is still pending is counted here. */
static uint64_t ticks(void) {
    __asm__ volatile("cpsid i" ::: "memory");
    uint32_t wraps = systick_wraps, value = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        wraps++;
        value = SYST_CVR;
    }
    __asm__ volatile("cpsie i" ::: "memory");
    return (uint64_t)wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

/* Decimal text of v (newlib-nano's printf has no %llu). */
static const char *u64(uint64_t v) {
    static char buffers[4][21];
    static unsigned next;
    char *b = buffers[next++ % 4], *p = b + 20;
    *p = 0;
    do *--p = (char)('0' + v % 10); while ((v /= 10) != 0);
    return p;
}

/* Exactly 2·n instructions (subs, bne) for n ≥ 1. */
static void spin(uint32_t n) { __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n)::"cc"); }

/* Instructions per SysTick tick: two loop lengths, so the call overhead cancels. */
static double calibrate(void) {
    uint64_t t0 = ticks();
    spin(500000);
    uint64_t t1 = ticks();
    spin(1500000);
    uint64_t t2 = ticks();
    uint64_t d = (t2 - t1) - (t1 - t0);
    return d > 0 ? 2.0 * 1000000.0 / (double)d : 0;
}

static const char *status_name(int32_t s) {
    static const char *const names[] = {
        "ACNET_OK", "ACNET_ERROR_INVALID_ARGUMENT", "ACNET_ERROR_MISALIGNED", "ACNET_ERROR_IO",
        "ACNET_ERROR_BAD_FORMAT", "ACNET_ERROR_CHECKSUM_MISMATCH", "ACNET_ERROR_UNSUPPORTED_VERSION",
        "ACNET_ERROR_UNSUPPORTED_OP", "ACNET_ERROR_OUT_OF_MEMORY", "ACNET_ERROR_BUFFER_TOO_SMALL",
        "ACNET_ERROR_OUT_OF_RANGE",
    };
    return s >= 0 && s < (int32_t)(sizeof names / sizeof names[0]) ? names[s] : "unknown status";
}

static int report_error(const char *what, int32_t status) {
    char message[160];
    acnet_fw_error_message(message, sizeof message);
    printf("FAIL %s: %s (%ld): %s\n", what, status_name(status), (long)status, message);
    return 1;
}

int main(void) {
    ticks_start();
    double per_tick = calibrate();
    size_t model_size = (size_t)(acnet_model_end - acnet_model_data);
    printf("acnet cortex-m firmware: model %u bytes in flash at %p, instructions per SysTick tick %.3f\n",
           (unsigned)model_size, (const void *)acnet_model_data, per_tick);

    uint64_t t0 = ticks();
    int32_t status = acnet_fw_model_load(acnet_model_data, model_size);
    uint64_t t1 = ticks();
    if (status != 0) return report_error("model load", status);
    printf("model load (CRC-32C, parse, plan): %s instructions\n", u64((uint64_t)((double)(t1 - t0) * per_tick + 0.5)));

    size_t in_count, out_count, channels;
    float mean[4], std[4];
    if ((status = acnet_fw_model_info(&in_count, &out_count, &channels, mean, std)) != 0)
        return report_error("model info", status);
    size_t image_size = 28 * 28, images = (size_t)(fw_labels_end - fw_labels);
    if (channels != 1 || in_count != image_size || out_count > 16 || images == 0 ||
        (size_t)(fw_images_end - fw_images) != images * image_size) {
        printf("FAIL the model does not take the 1x28x28 sample images (input %u, output %u)\n",
               (unsigned)in_count, (unsigned)out_count);
        return 1;
    }

    /* Bare metal has no threads: a session asking for two must be refused with a status. */
    status = acnet_fw_session_create(2, arena, sizeof arena);
    if (status == 0) {
        printf("FAIL a session with 2 threads was created on a build without threads\n");
        return 1;
    }
    if (status != 1) return report_error("session with 2 threads (expected ACNET_ERROR_INVALID_ARGUMENT)", status);
    char message[160];
    acnet_fw_error_message(message, sizeof message);
    printf("threads 2: refused, %s: %s\n", status_name(status), message);

    size_t needed;
    if ((status = acnet_fw_workspace_size(1, &needed)) != 0) return report_error("workspace size", status);
    printf("arena: %u bytes needed, %u bytes reserved\n", (unsigned)needed, (unsigned)sizeof arena);
    if (needed > sizeof arena) {
        printf("FAIL the arena is too small: rebuild with ARENA_BYTES=%u\n", (unsigned)needed);
        return 2;
    }
    if ((status = acnet_fw_session_create(1, arena, sizeof arena)) != 0) return report_error("session", status);

    static float x[28 * 28], y[16];
    uint64_t total = 0, least = UINT64_MAX, most = 0;
    unsigned correct = 0;
    for (size_t i = 0; i < images; i++) {
        classify_normalize(fw_images + i * image_size, image_size, mean[0], std[0], x);
        uint64_t a = ticks();
        status = acnet_fw_run(x, in_count, y, out_count);
        uint64_t b = ticks();
        if (status != 0) return report_error("run", status);
        uint64_t n = (uint64_t)((double)(b - a) * per_tick + 0.5);
        total += n;
        least = n < least ? n : least;
        most = n > most ? n : most;
        correct += classify_top1(y, out_count) == fw_labels[i];
        classify_print(i, fw_labels[i], y, out_count);
        printf(" instructions %s\n", u64(n));
    }
    printf("instructions per inference: mean %s, min %s, max %s (%u images, %u correct)\n", u64(total / images),
           u64(least), u64(most), (unsigned)images, correct);
    printf("memory: arena %u bytes, heap high-water %u bytes, stack high-water %u bytes\n", (unsigned)needed,
           (unsigned)heap_high_water(), (unsigned)stack_high_water());
    printf("PASS firmware run\n");
    return 0;
}
