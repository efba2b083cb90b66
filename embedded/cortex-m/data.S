/*
 * The firmware's constant data in flash, included byte for byte by the assembler (no copy at
 * run time): the .acnb model (64-byte aligned, as the runtime requires of a borrowed model),
 * the sample images (N × 28 × 28 uint8, IDX pixel order) and their labels (N uint8).
 * MODEL_FILE, IMAGES_FILE and LABELS_FILE are defined by the Makefile.
 */
    .section .rodata.acnet_model, "a"
    .balign 64
    .global acnet_model_data, acnet_model_end
acnet_model_data:
    .incbin MODEL_FILE
acnet_model_end:

    .section .rodata.acnet_images, "a"
    .balign 4
    .global fw_images, fw_images_end, fw_labels, fw_labels_end
fw_images:
    .incbin IMAGES_FILE
fw_images_end:
fw_labels:
    .incbin LABELS_FILE
fw_labels_end:
