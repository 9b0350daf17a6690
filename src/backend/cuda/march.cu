// Batched march on a CUDA device: one thread block per sweep runs the shared step loop
// (kernels/grid.h, kernels/step.h), its threads striding over rows. The state and the three
// work vectors sit in shared memory for the whole propagation when they fit ("shared" path),
// else in device memory ("global" path) with the same code. Class weights, the phase classes
// and the Bessel coefficients are always on chip.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <cuda_runtime.h>

#include "cuda_check.h"
#include "grid.h"
#include "march_internal.h"

namespace {

#include "march_kernel.cuh"

} // namespace

extern "C" tcgpu_status tcgpu_march_cuda(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                         tcgpu_march_info *info) {
    tcgpu_status st = TCGPU_OK;
    tcgpu_dev_buffers bufs = {};
    cudaStream_t streams[2] = {nullptr, nullptr};
    int dev = 0, count = 0, optin = 0;
    cudaDeviceProp prop;
    const int64_t d = p->dim, nnz = p->nnz;
    const size_t nc = (size_t)p->nclass;
    const size_t cs = p->single ? sizeof(tcgpu_cplxf) : sizeof(tcgpu_cplx);
    const size_t vs = p->single ? sizeof(float) : sizeof(double);
    size_t sh_state = shared_bytes(d, p->nclass, p->nmax, 1, cs);
    size_t sh_small = shared_bytes(d, p->nclass, p->nmax, 0, cs);
    void (*kernel)(dev_plan) = p->single ? march_kernel<tcgpu_cplxf> : march_kernel<tcgpu_cplx>;
    float *valf = nullptr; // fp32: the coupling values rounded once on the host
    int use_shared = 0, block = 0, nbuf = 1, pinned = 0;
    size_t sh = 0, free_b = 0, total_b = 0, per_sweep = 0, fixed = 0;
    int64_t chunk = 0, nchunks = 0;
    const int on_the_fly = p->band.kind != TCGPU_BAND_NONE;
    // Shared by every chunk: the pattern, and (one model) its values, classes and band constant.
    int64_t *d_rp = nullptr, *d_col = nullptr;
    int32_t *d_cls = nullptr;
    // Per buffer set (two when the batch takes several chunks, so that one chunk's copies
    // overlap the other's kernel): what each sweep of a chunk needs.
    int64_t *d_S[2] = {}, *d_apps[2] = {};
    double *d_scal[2] = {}, *d_x[2] = {}, *d_tf[2] = {}, *d_bc[2] = {};
    char *d_val[2] = {}, *d_work[2] = {};
    tcgpu_phase_class *d_cl[2] = {};
    const size_t x_bytes = (size_t)(p->count * d) * 2 * sizeof(double);
    std::chrono::steady_clock::time_point t0;

    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        if (e != cudaSuccess)
            return tcgpu_cuda_fail(e, "device query (no usable device)");
        return tcgpu_fail(TCGPU_ERUNTIME, "no CUDA device: the driver reports none");
    }
    TCGPU_CUDA_CK(cudaGetDevice(&dev), "cudaGetDevice");
    TCGPU_CUDA_CK(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
    TCGPU_CUDA_CK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev),
                  "shared-memory limit query");
    if (sh_small > (size_t)optin) {
        st = tcgpu_fail(TCGPU_EINVAL,
                        "%d Chebyshev terms and %d classes need %zu bytes of shared memory per "
                        "block; the device allows %d",
                        p->nmax, p->nclass, sh_small, optin);
        goto out;
    }
    use_shared =
        o->path == TCGPU_PATH_SHARED || (o->path == TCGPU_PATH_AUTO && sh_state <= (size_t)optin);
    if (use_shared && sh_state > (size_t)optin) {
        st = tcgpu_fail(TCGPU_EINVAL,
                        "shared path: dimension %lld needs %zu bytes of shared memory per block; "
                        "the device allows %d (use the global path)",
                        (long long)d, sh_state, optin);
        goto out;
    }
    sh = use_shared ? sh_state : sh_small;
    TCGPU_CUDA_CK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sh),
        "cudaFuncSetAttribute (dynamic shared memory)");
    // 64 threads up to 256 rows, else about two rows per thread, at most 512. Measured on an H200
    // at 1024 sweeps, sweeps/s by threads per block 64/128/auto/512 (bench/results/
    // gpu_march_NVIDIA-H200.md, run 2, when auto was four rows per thread): dim 231: 19960/19613/
    // 19921 (b64)/13010; dim 861: 5357/8444/10924 (b224)/13184; dim 1001: 883/1375/2049 (b256)/
    // 2433; dim 5151 (global): 630/934/896/898. Two rows per thread (448 and 512 threads at 861
    // and 1001) follows from that table; it has not been run itself.
    if (o->block > 0)
        block = o->block < 32 ? 32 : o->block > 512 ? 512 : o->block; // the launch bound
    else {
        int64_t b = d <= 256 ? 64 : (d / 2 + 31) / 32 * 32;
        block = (int)(b > 512 ? 512 : b);
    }

    // What each sweep needs on the device; the batch goes in chunks that fit, and when it takes
    // more than one, in two buffer sets of half the size on two streams.
    per_sweep =
        (p->one_model
             ? 0
             : (on_the_fly ? sizeof(double) : (size_t)nnz * vs) + nc * sizeof(tcgpu_phase_class)) +
        4 * sizeof(double) + 2 * sizeof(double) + 2 * sizeof(int64_t) +
        (size_t)d * sizeof(tcgpu_cplx) + (use_shared ? 0 : (size_t)d * cs * (p->single ? 4 : 3));
    fixed = (size_t)(d + 1 + nnz) * sizeof(int64_t) + (size_t)nnz * sizeof(int32_t) +
            (size_t)nnz * vs + nc * sizeof(tcgpu_phase_class);
    TCGPU_CUDA_CK(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    if (free_b < fixed + per_sweep + (64u << 20)) {
        st = tcgpu_fail(TCGPU_ENOMEM,
                        "one sweep of dimension %lld needs %zu bytes on the device; %zu are free",
                        (long long)d, fixed + per_sweep, free_b);
        goto out;
    }
    chunk = (int64_t)((double)(free_b - fixed - (64u << 20)) * 0.8 / (double)per_sweep);
    if (chunk > 65535 * 32)
        chunk = 65535 * 32;
    if (o->max_chunk > 0 && chunk > 2 * o->max_chunk)
        chunk = 2 * o->max_chunk;
    if (chunk < p->count && chunk >= 2) {
        nbuf = 2;
        chunk /= 2;
    }
    if (o->max_chunk > 0 && chunk > o->max_chunk)
        chunk = o->max_chunk;
    if (chunk > p->count)
        chunk = p->count;

    TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_rp, (size_t)d + 1), "cudaMalloc");
    TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_col, (size_t)nnz), "cudaMalloc");
    TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_cls, (size_t)nnz), "cudaMalloc");
    for (int k = 0; k < 2; ++k) {
        if (k < nbuf) {
            TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_scal[k], (size_t)chunk * 5), "cudaMalloc");
            TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_S[k], (size_t)chunk), "cudaMalloc");
            TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_apps[k], (size_t)chunk), "cudaMalloc");
            TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_tf[k], (size_t)chunk), "cudaMalloc");
            TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_x[k], (size_t)(chunk * d) * 2), "cudaMalloc");
            if (!use_shared)
                TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_work[k],
                                              (size_t)(chunk * d) * cs * (p->single ? 4 : 3)),
                              "cudaMalloc");
            TCGPU_CUDA_CK(cudaStreamCreateWithFlags(&streams[k], cudaStreamNonBlocking),
                          "cudaStreamCreate");
        }
        if (k == 0 || !p->one_model) { // one model: one copy of its values, read by every chunk
            if (k < nbuf || k == 0) {
                int64_t nv = p->one_model ? 1 : chunk;
                if (!on_the_fly) // the kernel then reads no values
                    TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_val[k], (size_t)(nv * nnz) * vs),
                                  "cudaMalloc");
                TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_cl[k], (size_t)nv * nc), "cudaMalloc");
                TCGPU_CUDA_CK(tcgpu_dev_alloc(&bufs, &d_bc[k], (size_t)nv), "cudaMalloc");
            }
        } else {
            d_val[k] = d_val[0];
            d_cl[k] = d_cl[0];
            d_bc[k] = d_bc[0];
        }
    }
    if (p->single && !on_the_fly) {
        size_t nv = (size_t)((p->one_model ? 1 : p->count) * nnz);
        valf = static_cast<float *>(std::malloc(nv * sizeof(float) + 1));
        if (!valf) {
            st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the fp32 coupling values");
            goto out;
        }
        for (size_t e = 0; e < nv; ++e)
            valf[e] = (float)p->val[e];
    }
    TCGPU_CUDA_CK(
        cudaMemcpy(d_rp, p->row_ptr, (size_t)(d + 1) * sizeof(int64_t), cudaMemcpyHostToDevice),
        "cudaMemcpy");
    TCGPU_CUDA_CK(cudaMemcpy(d_col, p->col, (size_t)nnz * sizeof(int64_t), cudaMemcpyHostToDevice),
                  "cudaMemcpy");
    TCGPU_CUDA_CK(cudaMemcpy(d_cls, p->cls, (size_t)nnz * sizeof(int32_t), cudaMemcpyHostToDevice),
                  "cudaMemcpy");
    if (p->one_model && !on_the_fly)
        TCGPU_CUDA_CK(cudaMemcpy(d_val[0], p->single ? (const void *)valf : (const void *)p->val,
                                 (size_t)nnz * vs, cudaMemcpyHostToDevice),
                      "cudaMemcpy");
    if (p->one_model) {
        if (on_the_fly)
            TCGPU_CUDA_CK(cudaMemcpy(d_bc[0], p->band_c, sizeof(double), cudaMemcpyHostToDevice),
                          "cudaMemcpy");
        if (nc)
            TCGPU_CUDA_CK(cudaMemcpy(d_cl[0], p->classes, nc * sizeof(tcgpu_phase_class),
                                     cudaMemcpyHostToDevice),
                          "cudaMemcpy");
    }
    // Page-locked states let the copies run asynchronously beside the other stream's kernel;
    // where the host refuses, the copies are merely synchronous.
    if (nbuf == 2) {
        pinned = cudaHostRegister(p->x, x_bytes, cudaHostRegisterDefault) == cudaSuccess;
        if (!pinned)
            cudaGetLastError();
    }

    t0 = std::chrono::steady_clock::now();
    for (int64_t s0 = 0; s0 < p->count; s0 += chunk, ++nchunks) {
        const int k = (int)(nchunks % nbuf);
        cudaStream_t sk = streams[k];
        int64_t n = p->count - s0 < chunk ? p->count - s0 : chunk;
        size_t nd = (size_t)n * sizeof(double);
        if (!p->one_model) {
            if (!on_the_fly) {
                const void *src =
                    p->single ? (const void *)(valf + s0 * nnz) : (const void *)(p->val + s0 * nnz);
                TCGPU_CUDA_CK(cudaMemcpyAsync(d_val[k], src, (size_t)(n * nnz) * vs,
                                              cudaMemcpyHostToDevice, sk),
                              "cudaMemcpyAsync");
            } else
                TCGPU_CUDA_CK(
                    cudaMemcpyAsync(d_bc[k], p->band_c + s0, nd, cudaMemcpyHostToDevice, sk),
                    "cudaMemcpyAsync");
            if (nc)
                TCGPU_CUDA_CK(cudaMemcpyAsync(d_cl[k], p->classes + (size_t)s0 * nc,
                                              (size_t)n * nc * sizeof(tcgpu_phase_class),
                                              cudaMemcpyHostToDevice, sk),
                              "cudaMemcpyAsync");
        }
        TCGPU_CUDA_CK(cudaMemcpyAsync(d_scal[k], p->vbound + s0, nd, cudaMemcpyHostToDevice, sk),
                      "cudaMemcpyAsync");
        TCGPU_CUDA_CK(cudaMemcpyAsync(d_scal[k] + n, p->t_a + s0, nd, cudaMemcpyHostToDevice, sk),
                      "cudaMemcpyAsync");
        TCGPU_CUDA_CK(
            cudaMemcpyAsync(d_scal[k] + 2 * n, p->t_b + s0, nd, cudaMemcpyHostToDevice, sk),
            "cudaMemcpyAsync");
        TCGPU_CUDA_CK(
            cudaMemcpyAsync(d_scal[k] + 3 * n, p->du + s0, nd, cudaMemcpyHostToDevice, sk),
            "cudaMemcpyAsync");
        TCGPU_CUDA_CK(
            cudaMemcpyAsync(d_scal[k] + 4 * n, p->vrate + s0, nd, cudaMemcpyHostToDevice, sk),
            "cudaMemcpyAsync");
        TCGPU_CUDA_CK(cudaMemcpyAsync(d_S[k], p->S + s0, (size_t)n * sizeof(int64_t),
                                      cudaMemcpyHostToDevice, sk),
                      "cudaMemcpyAsync");
        TCGPU_CUDA_CK(cudaMemcpyAsync(d_x[k], p->x + 2 * s0 * d,
                                      (size_t)(n * d) * 2 * sizeof(double), cudaMemcpyHostToDevice,
                                      sk),
                      "cudaMemcpyAsync");
        dev_plan dp = {d,
                       nnz,
                       p->nclass,
                       p->inverse_t,
                       p->method,
                       p->nmax,
                       use_shared,
                       p->one_model || on_the_fly ? 0 : nnz,
                       p->one_model ? 0 : (int64_t)p->nclass,
                       d_rp,
                       d_col,
                       d_cls,
                       d_val[k],
                       d_cl[k],
                       d_scal[k],
                       d_scal[k] + 4 * n,
                       d_scal[k] + n,
                       d_scal[k] + 2 * n,
                       d_scal[k] + 3 * n,
                       d_S[k],
                       d_x[k],
                       d_work[k],
                       d_apps[k],
                       d_tf[k],
                       p->band,
                       d_bc[k],
                       p->one_model ? 0 : 1};
        kernel<<<(unsigned)n, (unsigned)block, sh, sk>>>(dp);
        TCGPU_CUDA_CK(cudaGetLastError(), "kernel launch");
        TCGPU_CUDA_CK(cudaMemcpyAsync(p->x + 2 * s0 * d, d_x[k],
                                      (size_t)(n * d) * 2 * sizeof(double), cudaMemcpyDeviceToHost,
                                      sk),
                      "cudaMemcpyAsync (kernel run)");
        TCGPU_CUDA_CK(cudaMemcpyAsync(p->apps + s0, d_apps[k], (size_t)n * sizeof(int64_t),
                                      cudaMemcpyDeviceToHost, sk),
                      "cudaMemcpyAsync");
        TCGPU_CUDA_CK(cudaMemcpyAsync(p->t_fail + s0, d_tf[k], nd, cudaMemcpyDeviceToHost, sk),
                      "cudaMemcpyAsync");
    }
    for (int k = 0; k < nbuf; ++k)
        TCGPU_CUDA_CK(cudaStreamSynchronize(streams[k]),
                      "the march kernel (cudaStreamSynchronize)");
    if (info) {
        info->path = use_shared ? TCGPU_PATH_SHARED : TCGPU_PATH_GLOBAL;
        info->on_the_fly = on_the_fly;
        info->block = block;
        info->shared_bytes = sh;
        info->chunks = nchunks;
        info->run_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::snprintf(info->device, sizeof info->device, "%s", prop.name);
    }
out:
    for (int k = 0; k < 2; ++k)
        if (streams[k]) {
            cudaStreamSynchronize(streams[k]); // nothing may still write p->x after we return
            cudaStreamDestroy(streams[k]);
        }
    if (pinned)
        cudaHostUnregister(p->x);
    std::free(valf);
    free_all(&bufs);
    return st;
}
