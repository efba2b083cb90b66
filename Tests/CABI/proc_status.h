/* A numeric field of /proc/self/status for the C-level tests (alloc_test.c, threads_test.c). */
#ifndef ACNET_TESTS_PROC_STATUS_H
#define ACNET_TESTS_PROC_STATUS_H

#include <stdio.h>

/* The value of the line `format` matches, e.g. "VmRSS: %ld kB" (KiB) or "Threads: %ld", or -1
 * when the file or the field is missing.  fopen allocates: callers counting allocations pause
 * their count around it. */
static long proc_status_field(const char *format) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long value = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, format, &value) == 1) break;
    fclose(f);
    return value;
}

#endif
