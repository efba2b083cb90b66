/* Shared declarations of the Cortex-M firmware (startup.c, syscalls.c, main.c). */
#ifndef ACNET_FIRMWARE_H
#define ACNET_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

/* Semihosting SYS_EXIT_EXTENDED: QEMU exits with `status`. */
__attribute__((noreturn)) void semihosting_exit(int status);
/* Deepest stack use so far, in bytes (the stack is painted at reset). */
size_t stack_high_water(void);
/* Highest heap break so far, in bytes above the heap's start (newlib malloc through _sbrk). */
size_t heap_high_water(void);

/* Firmware.swift: the runtime's entry points (0 or an acnet_status). */
int32_t acnet_fw_model_load(const void *data, size_t size);
int32_t acnet_fw_model_info(size_t *input_count, size_t *output_count, size_t *channels, float *mean, float *std);
int32_t acnet_fw_workspace_size(size_t threads, size_t *size);
int32_t acnet_fw_session_create(size_t threads, void *workspace, size_t workspace_size);
int32_t acnet_fw_run(const float *input, size_t input_count, float *output, size_t output_count);
void acnet_fw_error_message(char *buffer, size_t capacity);

#endif
