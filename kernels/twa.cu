// The TWA ensemble on a CUDA device: one thread per trajectory runs twa_run_one (kernels/twa.h),
// the code the CPU ensemble runs, and writes its readout; the host forms the statistics
// (src/semiclassical.c) in the CPU's order. Launches go in chunks of at most 2^20 trajectories.
#include <cstdlib>

#include <cuda_runtime.h>

#include "../src/twa_cuda.h"

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

tcgpu_status fail(cudaError_t err, const char *what) {
    tcgpu_status st = tcgpu_fail(TCGPU_ERUNTIME, "twa: CUDA %s failed: %s (%s)", what,
                                 cudaGetErrorString(err), cudaGetErrorName(err));
    cudaGetLastError();
    return st;
}

} // namespace

extern "C" tcgpu_status twa_cuda_run(const twa_job *J, int64_t M, twa_out **out) {
    *out = nullptr;
    const int nq = J->f.K + 3;
    const int64_t chunk = M < (1 << 20) ? M : (1 << 20);
    twa_out *o = static_cast<twa_out *>(std::calloc(1, sizeof *o));
    double *dx = nullptr, *dd = nullptr;
    int64_t *ds = nullptr;
    int *dr = nullptr, count = 0;
    tcgpu_status st = TCGPU_OK;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        twa_out_free(o);
        return e != cudaSuccess ? fail(e, "device query (no usable device)")
                                : tcgpu_fail(TCGPU_ERUNTIME, "twa: no CUDA device");
    }
    if (o) {
        o->x = static_cast<double *>(std::malloc((size_t)(M * nq) * sizeof(double)));
        o->steps = static_cast<int64_t *>(std::malloc((size_t)M * sizeof(int64_t)));
        o->drift = static_cast<double *>(std::malloc((size_t)M * sizeof(double)));
        o->rc = static_cast<int *>(std::malloc((size_t)M * sizeof(int)));
    }
    if (!o || !o->x || !o->steps || !o->drift || !o->rc) {
        twa_out_free(o);
        return tcgpu_fail(TCGPU_ENOMEM, "twa: out of memory for %lld trajectories' readouts",
                          (long long)M);
    }
#define CK(call, what)                                                                             \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) {                                                                 \
            st = fail(err_, what);                                                                 \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)
    CK(cudaMalloc(&dx, (size_t)(chunk * nq) * sizeof(double)), "cudaMalloc");
    CK(cudaMalloc(&ds, (size_t)chunk * sizeof(int64_t)), "cudaMalloc");
    CK(cudaMalloc(&dd, (size_t)chunk * sizeof(double)), "cudaMalloc");
    CK(cudaMalloc(&dr, (size_t)chunk * sizeof(int)), "cudaMalloc");
    for (int64_t j0 = 0; j0 < M; j0 += chunk) {
        int64_t n = M - j0 < chunk ? M - j0 : chunk;
        twa_kernel<<<(unsigned)((n + 127) / 128), 128>>>(*J, j0, n, dx, ds, dd, dr);
        CK(cudaGetLastError(), "kernel launch");
        CK(cudaMemcpy(o->x + j0 * nq, dx, (size_t)(n * nq) * sizeof(double),
                      cudaMemcpyDeviceToHost),
           "cudaMemcpy (kernel run)");
        CK(cudaMemcpy(o->steps + j0, ds, (size_t)n * sizeof(int64_t), cudaMemcpyDeviceToHost),
           "cudaMemcpy");
        CK(cudaMemcpy(o->drift + j0, dd, (size_t)n * sizeof(double), cudaMemcpyDeviceToHost),
           "cudaMemcpy");
        CK(cudaMemcpy(o->rc + j0, dr, (size_t)n * sizeof(int), cudaMemcpyDeviceToHost),
           "cudaMemcpy");
    }
#undef CK
done:
    cudaFree(dx);
    cudaFree(ds);
    cudaFree(dd);
    cudaFree(dr);
    if (st)
        twa_out_free(o);
    else
        *out = o;
    return st;
}
