/*
 * Startup code of the Cortex-M firmware: the vector table, the reset handler (FPU on, .data
 * copied from flash, .bss zeroed, the stack painted for the high-water mark, C initialisers,
 * main) and a fault handler that reports through semihosting and exits with status 3.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "firmware.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[], __stack_limit[];
extern void __libc_init_array(void);
extern int main(void);

void Reset_Handler(void);
void SysTick_Handler(void);
static void Fault_Handler(void);
static void Default_Handler(void);

/* Cortex-M4/M7 system exceptions; no device interrupt is enabled, so none has a handler. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top,
    Reset_Handler,
    Default_Handler, /* NMI */
    Fault_Handler,   /* HardFault */
    Fault_Handler,   /* MemManage */
    Fault_Handler,   /* BusFault */
    Fault_Handler,   /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
};

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)
#define STACK_PAINT 0xA5A5A5A5u

__attribute__((noreturn)) void Reset_Handler(void) {
    /* CP10 and CP11 (the FPU) full access, before any floating-point instruction. */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;) *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;) *d++ = 0;
    /* Paint the stack below this frame; stack_high_water() finds the deepest word touched. */
    uint32_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = __stack_limit; p < sp - 16; p++) *p = STACK_PAINT;
    __libc_init_array();
    exit(main());
}

size_t stack_high_water(void) {
    const uint32_t *p = __stack_limit;
    while (p < __stack_top && *p == STACK_PAINT) p++;
    return (size_t)((const char *)__stack_top - (const char *)p);
}

/* Stacked PC of the faulting context (exception frame on the MSP: r0-r3, r12, lr, pc, xpsr). */
__attribute__((used)) static void fault_report(const uint32_t *frame) {
    printf("FAULT: CFSR 0x%08lx HFSR 0x%08lx BFAR 0x%08lx PC 0x%08lx LR 0x%08lx\n", (unsigned long)SCB_CFSR,
           (unsigned long)SCB_HFSR, (unsigned long)SCB_BFAR, (unsigned long)frame[6], (unsigned long)frame[5]);
    semihosting_exit(3);
}

__attribute__((naked)) static void Fault_Handler(void) {
    __asm volatile("mrs r0, msp\n\t"
                   "b fault_report");
}

static void Default_Handler(void) {
    printf("FAULT: unexpected exception\n");
    semihosting_exit(3);
}

/* newlib calls these around static constructors (there are none: Swift initialises globals
 * lazily); with -nostartfiles nothing else defines them. */
void _init(void) {}
void _fini(void) {}
