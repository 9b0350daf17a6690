// A failed CUDA runtime call as one tcgpu_fail message (ERUNTIME) naming the call and the
// runtime's own error string; clears a sticky launch error so that later calls start clean.
// Shared by the fused march (kernels/march.cu) and the cuSPARSE path (kernels/march_sparse.cu).
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

#endif
