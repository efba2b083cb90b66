/*
 * newlib glue of the Cortex-M firmware: console output and exit through Arm semihosting
 * (QEMU: -semihosting-config enable=on,target=native), the heap for malloc (_sbrk, between
 * .bss and the stack, see mps2.ld) and posix_memalign, which Embedded Swift's allocator calls
 * and newlib 3.3 lacks. Linked with --specs=nosys.specs: the system calls defined here replace
 * libnosys's stubs; the others (open, read, …) stay stubs that fail with ENOSYS.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "firmware.h"

enum {
    SYS_OPEN = 0x01,
    SYS_WRITE = 0x05,
    SYS_EXIT_EXTENDED = 0x20,
    ADP_STOPPED_APPLICATION_EXIT = 0x20026,
    SH_MODE_W = 4, /* fopen mode "w": ":tt" opened so is the host's stdout */
};

static int semihosting_call(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihosting_exit(int status) {
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    semihosting_call(SYS_EXIT_EXTENDED, block);
    for (;;) __asm__ volatile("bkpt 0");
}

static int console = -1;

int _write(int fd, const char *buffer, int length) {
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    if (console < 0) {
        const uintptr_t open[3] = {(uintptr_t)":tt", SH_MODE_W, 3};
        console = semihosting_call(SYS_OPEN, open);
        if (console < 0) {
            errno = EIO;
            return -1;
        }
    }
    const uintptr_t write[3] = {(uintptr_t)console, (uintptr_t)buffer, (uintptr_t)length};
    int notWritten = semihosting_call(SYS_WRITE, write);
    return length - notWritten;
}

int _fstat(int fd, struct stat *st) {
    (void)fd;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFCHR; /* unbuffered-friendly: a terminal */
    return 0;
}

int _isatty(int fd) { return fd <= 2; }

void _exit(int status) { semihosting_exit(status); }

extern char __heap_start[], __heap_end[];
static char *heap_break = __heap_start, *heap_peak = __heap_start;

void *_sbrk(ptrdiff_t increment) {
    if (increment > __heap_end - heap_break || increment < __heap_start - heap_break) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *previous = heap_break;
    heap_break += increment;
    if (heap_break > heap_peak) heap_peak = heap_break;
    return previous;
}

size_t heap_high_water(void) { return (size_t)(heap_peak - __heap_start); }

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = memalign(alignment, size);
    if (p == NULL) return ENOMEM;
    *result = p;
    return 0;
}
