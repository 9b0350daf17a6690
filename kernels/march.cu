// Batched march on a CUDA device: one thread block per sweep runs the shared step loop
// (kernels/grid.h, kernels/step.h), its threads striding over rows. The state and the three
// work vectors sit in shared memory for the whole propagation when they fit ("shared" path),
// else in device memory ("global" path) with the same code. Class weights, the phase classes
// and the Bessel coefficients are always on chip.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <cuda_runtime.h>

#include "../src/march_internal.h"
#include "cuda_check.h"
#include "grid.h"

namespace {

struct dev_plan {
    int64_t dim, nnz;
    int nclass, inverse_t, method, nmax, shared_state;
    int64_t val_stride, class_stride; // 0 when every sweep has the same model
    const int64_t *row_ptr, *col;
    const int32_t *cls;
    const void *val; // double, or float for the fp32 march
    const tcgpu_phase_class *classes;
    const double *vbound, *t_a, *t_b, *du;
    const int64_t *S;
    double *x;  // fp64 in and out whatever the precision
    void *work; // global path: 3 dim per sweep (fp32: 4, the state included)
    int64_t *apps;
    double *t_fail;
    tcgpu_band band; // kind != NONE: couplings on the fly, c = band_c[s * band_stride]
    const double *band_c;
    int64_t band_stride;
};

// The two instantiations of the shared step loop (kernels/grid_body.h).
template <class C> struct prec;
template <> struct prec<tcgpu_cplx> {
    typedef double R;
    typedef tcgpu_csr A;
    typedef tcgpu_work W;
    static __device__ int steps(const W *wk, int method, double du, int64_t S, double b, double *t,
                                tcgpu_cplx *x, int64_t *apps) {
        return tcgpu_march_steps(wk, method, du, S, 0, S, b, t, x, apps);
    }
    static __device__ void set(W *wk, A a, tcgpu_grid g, tcgpu_cplx *z, int64_t nc, tcgpu_cplx *t,
                               double *J, int nmax) {
        tcgpu_work_set(wk, a, g, z, nc, t, J, nmax);
    }
};
template <> struct prec<tcgpu_cplxf> {
    typedef float R;
    typedef tcgpu_csrf A;
    typedef tcgpu_work_f W;
    static __device__ int steps(const W *wk, int method, double du, int64_t S, double b, double *t,
                                tcgpu_cplxf *x, int64_t *apps) {
        return tcgpu_march_steps_f(wk, method, du, S, 0, S, b, t, x, apps);
    }
    static __device__ void set(W *wk, A a, tcgpu_grid g, tcgpu_cplxf *z, int64_t nc, tcgpu_cplxf *t,
                               double *J, int nmax) {
        tcgpu_work_set_f(wk, a, g, z, nc, t, J, nmax);
    }
};

// Bytes of dynamic shared memory: classes, 4 weight vectors, J, and (shared path) 4 vectors.
size_t shared_bytes(int64_t dim, int nclass, int nmax, int shared_state, size_t cplx) {
    size_t nc = (size_t)(nclass > 0 ? nclass : 1);
    size_t b = nc * sizeof(tcgpu_phase_class) + 4 * nc * cplx + ((size_t)nmax + 1) * sizeof(double);
    if (shared_state)
        b += 4 * (size_t)dim * cplx;
    return (b + 7) / 8 * 8;
}

// At most 512 threads, two blocks per SM: caps the kernel at 64 registers (80 without), which
// ptxas meets without spilling (-Xptxas -v: 64 registers, 0 spill bytes; 56 would spill), so a
// 256-thread block fits 4 times per SM instead of 3 and a 512-thread block twice instead of once.
// fp32: the state is rounded on the way in and widened on the way out; J stays double, after the
// weights so that it is 8-byte aligned whatever their size.
template <class C> __global__ void __launch_bounds__(512, 2) march_kernel(dev_plan p) {
    typedef prec<C> P;
    typedef typename P::R R;
    extern __shared__ double smem[];
    const int64_t s = blockIdx.x;
    const int64_t d = p.dim;
    const int nc = p.nclass > 0 ? p.nclass : 1;
    tcgpu_phase_class *cl = reinterpret_cast<tcgpu_phase_class *>(smem);
    C *z = reinterpret_cast<C *>(cl + nc);
    double *J = reinterpret_cast<double *>(smem) +
                (nc * sizeof(tcgpu_phase_class) + 4 * nc * sizeof(C) + 7) / 8;
    tcgpu_cplx *xg = reinterpret_cast<tcgpu_cplx *>(p.x) + s * d;
    const bool wide = sizeof(C) == sizeof(tcgpu_cplx);
    C *x, *t0;
    if (p.shared_state) {
        x = reinterpret_cast<C *>(J + p.nmax + 1);
        t0 = x + d;
    } else if (wide) {
        x = reinterpret_cast<C *>(xg);
        t0 = static_cast<C *>(p.work) + 3 * d * s;
    } else {
        x = static_cast<C *>(p.work) + 4 * d * s;
        t0 = x + d;
    }
    if (p.shared_state || !wide)
        TCGPU_FOR(i, d) {
            x[i].re = (R)xg[i].re;
            x[i].im = (R)xg[i].im;
        }
    TCGPU_FOR(c, p.nclass) cl[c] = p.classes[s * p.class_stride + c];
    TCGPU_SYNC();
    typename P::W wk;
    tcgpu_band band = p.band;
    if (band.kind != TCGPU_BAND_NONE)
        band.c = p.band_c[s * p.band_stride];
    P::set(&wk,
           typename P::A{d, p.row_ptr, p.col, static_cast<const R *>(p.val) + s * p.val_stride,
                         p.cls, band},
           tcgpu_grid{cl, p.nclass, p.inverse_t, p.vbound[s]}, z, nc, t0, J, p.nmax);
    double t = p.t_a[s];
    int64_t apps = 0;
    int rc = P::steps(&wk, p.method, p.du[s], p.S[s], p.t_b[s], &t, x, &apps);
    TCGPU_SYNC();
    if (p.shared_state || !wide)
        TCGPU_FOR(i, d) {
            xg[i].re = x[i].re;
            xg[i].im = x[i].im;
        }
    if (TCGPU_LEADER) {
        p.apps[s] = rc ? -1 : apps;
        p.t_fail[s] = t;
    }
}

// Device buffers of one launch, freed together.
struct buffers {
    void *p[12];
    int n;
};

void free_all(buffers *b) {
    for (int i = 0; i < b->n; ++i)
        cudaFree(b->p[i]);
    b->n = 0;
}

#define CK(call, what)                                                                             \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) {                                                                 \
            st = tcgpu_cuda_fail(err_, what);                                                      \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

template <class T> cudaError_t alloc(buffers *b, T **ptr, size_t count) {
    void *v = nullptr;
    cudaError_t err = cudaMalloc(&v, count * sizeof(T) + 16);
    if (err == cudaSuccess)
        b->p[b->n++] = v;
    *ptr = static_cast<T *>(v);
    return err;
}

} // namespace

extern "C" tcgpu_status tcgpu_march_cuda(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                         tcgpu_march_info *info) {
    tcgpu_status st = TCGPU_OK;
    buffers bufs = {};
    cudaEvent_t ev0 = nullptr, ev1 = nullptr;
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
    int use_shared = 0, block = 0;
    size_t sh = 0, free_b = 0, total_b = 0, per_sweep = 0, fixed = 0;
    int64_t chunk = 0, nchunks = 0;
    float ms_total = 0;
    int64_t *d_rp = nullptr, *d_col = nullptr, *d_S = nullptr, *d_apps = nullptr;
    int32_t *d_cls = nullptr;
    double *d_scal = nullptr, *d_x = nullptr, *d_tf = nullptr, *d_bc = nullptr;
    const int on_the_fly = p->band.kind != TCGPU_BAND_NONE;
    char *d_val = nullptr, *d_work = nullptr;
    tcgpu_phase_class *d_cl = nullptr;

    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        if (e != cudaSuccess)
            return tcgpu_cuda_fail(e, "device query (no usable device)");
        return tcgpu_fail(TCGPU_ERUNTIME, "no CUDA device: the driver reports none");
    }
    CK(cudaGetDevice(&dev), "cudaGetDevice");
    CK(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
    CK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev),
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
    CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sh),
       "cudaFuncSetAttribute (dynamic shared memory)");
    // About four rows per thread, 64 to 512 threads. Measured on an H200 at 1024 sweeps (bench/
    // results/gpu_march_NVIDIA-H200_run1.txt), sweeps/s by threads per block 64/128/256/512:
    // dim 231: 20092/17751/16693/8855; dim 861: 5407/8490/10539/10627; dim 1001: 875/1374/
    // 2073/2016; dim 5151 (global): 634/645/743/1026.
    if (o->block > 0)
        block = o->block < 32 ? 32 : o->block > 512 ? 512 : o->block; // the launch bound
    else {
        int64_t b = (d / 4 + 31) / 32 * 32;
        block = (int)(b < 64 ? 64 : b > 512 ? 512 : b);
    }

    // What each sweep needs on the device; the batch goes in chunks that fit.
    per_sweep =
        (p->one_model
             ? 0
             : (on_the_fly ? sizeof(double) : (size_t)nnz * vs) + nc * sizeof(tcgpu_phase_class)) +
        4 * sizeof(double) + 2 * sizeof(double) + 2 * sizeof(int64_t) +
        (size_t)d * sizeof(tcgpu_cplx) + (use_shared ? 0 : (size_t)d * cs * (p->single ? 4 : 3));
    fixed = (size_t)(d + 1 + nnz) * sizeof(int64_t) + (size_t)nnz * sizeof(int32_t) +
            (size_t)nnz * vs + nc * sizeof(tcgpu_phase_class);
    CK(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    if (free_b < fixed + per_sweep + (64u << 20)) {
        st = tcgpu_fail(TCGPU_ENOMEM,
                        "one sweep of dimension %lld needs %zu bytes on the device; %zu are free",
                        (long long)d, fixed + per_sweep, free_b);
        goto out;
    }
    chunk = (int64_t)((double)(free_b - fixed - (64u << 20)) * 0.8 / (double)per_sweep);
    if (chunk > p->count)
        chunk = p->count;
    if (chunk > 65535 * 32)
        chunk = 65535 * 32;

    CK(alloc(&bufs, &d_rp, (size_t)d + 1), "cudaMalloc");
    CK(alloc(&bufs, &d_col, (size_t)nnz), "cudaMalloc");
    CK(alloc(&bufs, &d_cls, (size_t)nnz), "cudaMalloc");
    CK(alloc(&bufs, &d_val, (size_t)((p->one_model || on_the_fly ? 1 : chunk) * nnz) * vs),
       "cudaMalloc");
    CK(alloc(&bufs, &d_cl, (size_t)(p->one_model ? 1 : chunk) * nc), "cudaMalloc");
    CK(alloc(&bufs, &d_scal, (size_t)chunk * 4), "cudaMalloc");
    CK(alloc(&bufs, &d_S, (size_t)chunk), "cudaMalloc");
    CK(alloc(&bufs, &d_apps, (size_t)chunk), "cudaMalloc");
    CK(alloc(&bufs, &d_tf, (size_t)chunk), "cudaMalloc");
    CK(alloc(&bufs, &d_x, (size_t)(chunk * d) * 2), "cudaMalloc");
    CK(alloc(&bufs, &d_bc, (size_t)(p->one_model ? 1 : chunk)), "cudaMalloc");
    if (!use_shared)
        CK(alloc(&bufs, &d_work, (size_t)(chunk * d) * cs * (p->single ? 4 : 3)), "cudaMalloc");
    if (p->single) {
        size_t nv = (size_t)((p->one_model ? 1 : p->count) * nnz);
        valf = static_cast<float *>(std::malloc(nv * sizeof(float) + 1));
        if (!valf) {
            st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the fp32 coupling values");
            goto out;
        }
        for (size_t e = 0; e < nv; ++e)
            valf[e] = (float)p->val[e];
    }
    CK(cudaMemcpy(d_rp, p->row_ptr, (size_t)(d + 1) * sizeof(int64_t), cudaMemcpyHostToDevice),
       "cudaMemcpy");
    CK(cudaMemcpy(d_col, p->col, (size_t)nnz * sizeof(int64_t), cudaMemcpyHostToDevice),
       "cudaMemcpy");
    CK(cudaMemcpy(d_cls, p->cls, (size_t)nnz * sizeof(int32_t), cudaMemcpyHostToDevice),
       "cudaMemcpy");
    CK(cudaEventCreate(&ev0), "cudaEventCreate");
    CK(cudaEventCreate(&ev1), "cudaEventCreate");

    for (int64_t s0 = 0; s0 < p->count; s0 += chunk) {
        int64_t n = p->count - s0 < chunk ? p->count - s0 : chunk;
        size_t nd = (size_t)n * sizeof(double);
        CK(cudaEventRecord(ev0), "cudaEventRecord");
        if (!p->one_model || s0 == 0) {
            int64_t nv = p->one_model ? 1 : n, o0 = p->one_model ? 0 : s0;
            const void *src =
                p->single ? (const void *)(valf + o0 * nnz) : (const void *)(p->val + o0 * nnz);
            if (!on_the_fly || s0 == 0) // on the fly: the kernel reads no values
                CK(cudaMemcpy(d_val, src, (size_t)((on_the_fly ? 1 : nv) * nnz) * vs,
                              cudaMemcpyHostToDevice),
                   "cudaMemcpy");
            if (on_the_fly)
                CK(cudaMemcpy(d_bc, p->band_c + o0, (size_t)nv * sizeof(double),
                              cudaMemcpyHostToDevice),
                   "cudaMemcpy");
            if (nc)
                CK(cudaMemcpy(d_cl, p->classes + (size_t)o0 * nc, (size_t)nv * nc * sizeof *d_cl,
                              cudaMemcpyHostToDevice),
                   "cudaMemcpy");
        }
        CK(cudaMemcpy(d_scal, p->vbound + s0, nd, cudaMemcpyHostToDevice), "cudaMemcpy");
        CK(cudaMemcpy(d_scal + n, p->t_a + s0, nd, cudaMemcpyHostToDevice), "cudaMemcpy");
        CK(cudaMemcpy(d_scal + 2 * n, p->t_b + s0, nd, cudaMemcpyHostToDevice), "cudaMemcpy");
        CK(cudaMemcpy(d_scal + 3 * n, p->du + s0, nd, cudaMemcpyHostToDevice), "cudaMemcpy");
        CK(cudaMemcpy(d_S, p->S + s0, (size_t)n * sizeof(int64_t), cudaMemcpyHostToDevice),
           "cudaMemcpy");
        CK(cudaMemcpy(d_x, p->x + 2 * s0 * d, (size_t)(n * d) * 2 * sizeof(double),
                      cudaMemcpyHostToDevice),
           "cudaMemcpy");
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
                       d_val,
                       d_cl,
                       d_scal,
                       d_scal + n,
                       d_scal + 2 * n,
                       d_scal + 3 * n,
                       d_S,
                       d_x,
                       d_work,
                       d_apps,
                       d_tf,
                       p->band,
                       d_bc,
                       p->one_model ? 0 : 1};
        kernel<<<(unsigned)n, (unsigned)block, sh>>>(dp);
        CK(cudaGetLastError(), "kernel launch");
        CK(cudaMemcpy(p->x + 2 * s0 * d, d_x, (size_t)(n * d) * 2 * sizeof(double),
                      cudaMemcpyDeviceToHost),
           "cudaMemcpy (kernel run)");
        CK(cudaMemcpy(p->apps + s0, d_apps, (size_t)n * sizeof(int64_t), cudaMemcpyDeviceToHost),
           "cudaMemcpy");
        CK(cudaMemcpy(p->t_fail + s0, d_tf, nd, cudaMemcpyDeviceToHost), "cudaMemcpy");
        CK(cudaEventRecord(ev1), "cudaEventRecord");
        CK(cudaEventSynchronize(ev1), "cudaEventSynchronize");
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, ev0, ev1), "cudaEventElapsedTime");
        ms_total += ms;
        ++nchunks;
    }
    if (info) {
        info->path = use_shared ? TCGPU_PATH_SHARED : TCGPU_PATH_GLOBAL;
        info->on_the_fly = on_the_fly;
        info->block = block;
        info->shared_bytes = sh;
        info->chunks = nchunks;
        info->run_seconds = 1e-3 * ms_total;
        std::snprintf(info->device, sizeof info->device, "%s", prop.name);
    }
out:
    std::free(valf);
    if (ev0)
        cudaEventDestroy(ev0);
    if (ev1)
        cudaEventDestroy(ev1);
    free_all(&bufs);
    return st;
}
