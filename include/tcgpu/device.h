/* CUDA devices as the build and the driver see them (for `tcgpu info` and backend choice). */
#ifndef TCGPU_DEVICE_H
#define TCGPU_DEVICE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char name[256];
    int major, minor;    /* compute capability */
    double memory_bytes; /* global memory */
    int multiprocessors;
    double shared_per_block; /* bytes of shared memory a block may opt into */
} tcgpu_device_info;

/* 1 when this build contains the CUDA backend. */
int tcgpu_cuda_built(void);

/* The CUDA architectures compiled in ("80,90"), or "" without CUDA. */
const char *tcgpu_cuda_archs(void);

/* Fills up to `max` devices and returns how many there are (0 with a reason in `why` when there
 * is no usable device: no driver, no GPU, or a build without CUDA). */
int tcgpu_cuda_devices(tcgpu_device_info *out, int max, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif
