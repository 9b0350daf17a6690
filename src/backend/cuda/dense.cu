// Dense frames of the readout on the CUDA device (src/eig.h): cuSOLVER's dsyevd for the
// eigen-decomposition of H(t), cuBLAS's dgemm for the frame products. The matrices go up, the
// results come back; the logic that uses them stays in src/adiabatic.c. One handle pair for the
// process, created on first use; calls are serialized (the sweeps' controls run on many host
// threads, the device is one).
#include <mutex>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include "cuda_check.h"
#include "eig.h"

namespace {

std::mutex dense_mutex;
cusolverDnHandle_t solver = nullptr;
cublasHandle_t blas = nullptr;

tcgpu_status solver_fail(cusolverStatus_t s, const char *what) {
    return tcgpu_fail(TCGPU_ERUNTIME, "cuSOLVER %s failed (status %d)", what, (int)s);
}

tcgpu_status blas_fail(cublasStatus_t s, const char *what) {
    return tcgpu_fail(TCGPU_ERUNTIME, "cuBLAS %s failed: %s", what, cublasGetStatusString(s));
}

tcgpu_status handles() {
    if (!solver) {
        cusolverStatus_t s = cusolverDnCreate(&solver);
        if (s != CUSOLVER_STATUS_SUCCESS) {
            solver = nullptr;
            return solver_fail(s, "handle creation (cusolverDnCreate)");
        }
    }
    if (!blas) {
        cublasStatus_t s = cublasCreate(&blas);
        if (s != CUBLAS_STATUS_SUCCESS) {
            blas = nullptr;
            return blas_fail(s, "handle creation (cublasCreate)");
        }
    }
    return TCGPU_OK;
}

} // namespace

extern "C" tcgpu_status eig_sym_cuda(int64_t n, double *a, double *w) {
    std::lock_guard<std::mutex> lock(dense_mutex);
    tcgpu_status st = handles();
    if (st)
        return st;
    const size_t bytes = (size_t)(n * n) * sizeof(double);
    double *da = nullptr, *dw = nullptr, *work = nullptr;
    int *dinfo = nullptr, lwork = 0, info = 0;
    cusolverStatus_t s;
    TCGPU_CUDA_CK(cudaMalloc(&da, bytes), "cudaMalloc (dense frame)");
    TCGPU_CUDA_CK(cudaMalloc(&dw, (size_t)n * sizeof(double)), "cudaMalloc (dense frame)");
    TCGPU_CUDA_CK(cudaMalloc(&dinfo, sizeof(int)), "cudaMalloc (dense frame)");
    TCGPU_CUDA_CK(cudaMemcpy(da, a, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (dense frame)");
    s = cusolverDnDsyevd_bufferSize(solver, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER,
                                    (int)n, da, (int)n, dw, &lwork);
    if (s != CUSOLVER_STATUS_SUCCESS) {
        st = solver_fail(s, "dsyevd workspace query");
        goto out;
    }
    TCGPU_CUDA_CK(cudaMalloc(&work, (size_t)(lwork > 0 ? lwork : 1) * sizeof(double)),
                  "cudaMalloc (dsyevd workspace)");
    s = cusolverDnDsyevd(solver, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, (int)n, da,
                         (int)n, dw, work, lwork, dinfo);
    if (s != CUSOLVER_STATUS_SUCCESS) {
        st = solver_fail(s, "dsyevd");
        goto out;
    }
    TCGPU_CUDA_CK(cudaMemcpy(&info, dinfo, sizeof(int), cudaMemcpyDeviceToHost),
                  "cudaMemcpy (dsyevd info)");
    if (info != 0) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "cuSOLVER dsyevd did not converge (info = %d, n = %lld)",
                        info, (long long)n);
        goto out;
    }
    TCGPU_CUDA_CK(cudaMemcpy(a, da, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (eigenvectors)");
    TCGPU_CUDA_CK(cudaMemcpy(w, dw, (size_t)n * sizeof(double), cudaMemcpyDeviceToHost),
                  "cudaMemcpy (eigenvalues)");
out:
    cudaFree(da);
    cudaFree(dw);
    cudaFree(dinfo);
    cudaFree(work);
    return st;
}

// C = op(A) B for n x n column-major matrices already on the device.
static tcgpu_status gemm_on_device(int n, int ta, const double *a, const double *b, double *c) {
    const double one = 1.0, zero = 0.0;
    cublasStatus_t s = cublasDgemm(blas, ta ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one,
                                   a, n, b, n, &zero, c, n);
    return s == CUBLAS_STATUS_SUCCESS ? TCGPU_OK : blas_fail(s, "dgemm");
}

// Both products of u^T s u on the device: s and u go up once, the middle product stays there.
extern "C" tcgpu_status eig_sandwich_cuda(int64_t n, const double *u, const double *s, double *c) {
    std::lock_guard<std::mutex> lock(dense_mutex);
    tcgpu_status st = handles();
    if (st)
        return st;
    const size_t bytes = (size_t)(n * n) * sizeof(double);
    double *du = nullptr, *ds = nullptr, *dw = nullptr;
    TCGPU_CUDA_CK(cudaMalloc(&du, bytes), "cudaMalloc (dense product)");
    TCGPU_CUDA_CK(cudaMalloc(&ds, bytes), "cudaMalloc (dense product)");
    TCGPU_CUDA_CK(cudaMalloc(&dw, bytes), "cudaMalloc (dense product)");
    TCGPU_CUDA_CK(cudaMemcpy(du, u, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (dense product)");
    TCGPU_CUDA_CK(cudaMemcpy(ds, s, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (dense product)");
    if ((st = gemm_on_device((int)n, 0, ds, du, dw)) ||
        (st = gemm_on_device((int)n, 1, du, dw, ds)))
        goto out;
    TCGPU_CUDA_CK(cudaMemcpy(c, ds, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (dense product)");
out:
    cudaFree(du);
    cudaFree(ds);
    cudaFree(dw);
    return st;
}
