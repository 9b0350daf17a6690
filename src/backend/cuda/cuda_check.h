// A failed CUDA runtime call as one tcgpu_fail message (ERUNTIME) naming the call and the
// runtime's own error string; clears a sticky launch error so that later calls start clean.
// Shared, with the buffer list below, by the fused march (src/backend/cuda/march.cu) and the
// cuSPARSE path (src/backend/cuda/march_sparse.cu).
#ifndef TCGPU_CUDA_CHECK_H
#define TCGPU_CUDA_CHECK_H

#include <cuda_runtime.h>

#include "tcgpu/status.h"

static inline tcgpu_status tcgpu_cuda_fail(cudaError_t err, const char *what) {
    tcgpu_status st = tcgpu_fail(TCGPU_ERUNTIME, "CUDA %s failed: %s (%s)", what,
                                 cudaGetErrorString(err), cudaGetErrorName(err));
    cudaGetLastError();
    return st;
}

/* Runs a CUDA runtime call; on failure sets the caller's `st` to tcgpu_cuda_fail and jumps to
 * the caller's clean-up label `out`. */
#define TCGPU_CUDA_CK(call, what)                                                                  \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) {                                                                 \
            st = tcgpu_cuda_fail(err_, what);                                                      \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

/* Runs a CUDA runtime call; on failure returns tcgpu_cuda_fail from the caller (for functions
 * with nothing to clean up). */
#define TCGPU_CUDA_RET(call, what)                                                                 \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess)                                                                   \
            return tcgpu_cuda_fail(err_, what);                                                    \
    } while (0)

/* Device buffers of one march, freed together (cudaFree on each; the fused path ignores a
 * failing free, the cuSPARSE path reports it). */
struct tcgpu_dev_buffers {
    void *p[32];
    int n;
};

template <class T>
static inline cudaError_t tcgpu_dev_alloc(tcgpu_dev_buffers *b, T **ptr, size_t count) {
    void *v = nullptr;
    cudaError_t err =
        b->n < 32 ? cudaMalloc(&v, count * sizeof(T) + 16) : cudaErrorMemoryAllocation;
    if (err == cudaSuccess)
        b->p[b->n++] = v;
    *ptr = static_cast<T *>(v);
    return err;
}

#endif
