// The TWA ensemble on a CUDA device: one thread per trajectory runs twa_run_one (kernels/twa.h),
// the code the CPU ensemble runs, into device memory; a second kernel, one thread per block of
// TWA_BLOCK trajectories, forms the block statistics with the CPU's twa_block_add, so that only
// the blocks come back and the host merges them in the CPU's order (src/semiclassical.c).
// Launches go in chunks of at most 2^20 trajectories (a multiple of TWA_BLOCK).
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "twa_cuda.h"

namespace {

__global__ void twa_kernel(twa_job J, int64_t j0, int64_t n, double *x, int64_t *steps,
                           double *drift, int *rc) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const int nq = J.f.K + 3;
    double xj[TCGPU_MAX_CHANNELS + 3];
    twa_count c;
    int r = twa_run_one(&J, j0 + i, xj, &c);
    rc[i] = r;
    steps[i] = c.steps;
    drift[i] = c.drift;
    for (int q = 0; q < nq; ++q)
        x[i * nq + q] = r ? 0.0 : xj[q];
}

__global__ void twa_block_kernel(int nq, int64_t n, const double *x, const int64_t *steps,
                                 const double *drift, const int *rc, twa_block *blocks) {
    int64_t ib = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (ib * TWA_BLOCK >= n)
        return;
    twa_block b = {};
    int64_t j1 = (ib + 1) * TWA_BLOCK < n ? (ib + 1) * TWA_BLOCK : n;
    for (int64_t j = ib * TWA_BLOCK; j < j1; ++j) {
        twa_count c = {steps[j], 0, drift[j]};
        twa_block_add(&b, nq, x + j * nq, rc[j], &c);
    }
    blocks[ib] = b;
}

} // namespace

extern "C" tcgpu_status twa_cuda_run(const twa_job *J, int64_t M, twa_block *blocks) {
    const int nq = J->f.K + 3;
    const int64_t chunk = M < (1 << 20) ? M : (1 << 20);
    const int64_t cblocks = (chunk + TWA_BLOCK - 1) / TWA_BLOCK;
    double *dx = nullptr, *dd = nullptr;
    int64_t *ds = nullptr;
    int *dr = nullptr, count = 0;
    twa_block *db = nullptr;
    tcgpu_status st = TCGPU_OK;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
        return e != cudaSuccess ? tcgpu_cuda_fail(e, "device query (no usable device) for twa")
                                : tcgpu_fail(TCGPU_ERUNTIME, "twa: no CUDA device");
    TCGPU_CUDA_CK(cudaMalloc(&dx, (size_t)(chunk * nq) * sizeof(double)), "cudaMalloc (twa)");
    TCGPU_CUDA_CK(cudaMalloc(&ds, (size_t)chunk * sizeof(int64_t)), "cudaMalloc (twa)");
    TCGPU_CUDA_CK(cudaMalloc(&dd, (size_t)chunk * sizeof(double)), "cudaMalloc (twa)");
    TCGPU_CUDA_CK(cudaMalloc(&dr, (size_t)chunk * sizeof(int)), "cudaMalloc (twa)");
    TCGPU_CUDA_CK(cudaMalloc(&db, (size_t)cblocks * sizeof(twa_block)), "cudaMalloc (twa)");
    for (int64_t j0 = 0; j0 < M; j0 += chunk) {
        int64_t n = M - j0 < chunk ? M - j0 : chunk, nb = (n + TWA_BLOCK - 1) / TWA_BLOCK;
        twa_kernel<<<(unsigned)((n + 127) / 128), 128>>>(*J, j0, n, dx, ds, dd, dr);
        TCGPU_CUDA_CK(cudaGetLastError(), "twa kernel launch");
        twa_block_kernel<<<(unsigned)((nb + 63) / 64), 64>>>(nq, n, dx, ds, dd, dr, db);
        TCGPU_CUDA_CK(cudaGetLastError(), "twa statistics kernel launch");
        TCGPU_CUDA_CK(cudaMemcpy(blocks + j0 / TWA_BLOCK, db, (size_t)nb * sizeof(twa_block),
                                 cudaMemcpyDeviceToHost),
                      "cudaMemcpy (twa kernels run)");
    }
#undef CK
out:
    cudaFree(dx);
    cudaFree(ds);
    cudaFree(dd);
    cudaFree(dr);
    cudaFree(db);
    return st;
}
