// The lockstep march on a CUDA device (TCGPU_PATH_CUSPARSE): the driver of src/march_lockstep.c
// with device operations. Every application of the couplings is one cusparseSpMM of the
// coupling matrix stacked by phase class (kernels/lockstep.h) with the states of all sweeps of
// the chunk, a real dim x 2n row-major matrix, followed by an element-wise kernel that weights
// the class blocks per sweep; the per-sweep control runs one thread per sweep and the updates
// one thread per element, all with the shared code of kernels/lockstep.h. After each Magnus-4
// half's control, the largest Chebyshev degree is read back to the host, which runs the series
// to it. fp64 only; the batch goes in chunks that fit device memory.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <cuda_runtime.h>
#include <cusparse.h>

#include "cuda_check.h"
#include "lockstep.h"
#include "march_lockstep.h"

namespace {

#include "march_sparse_ops.cuh"

// Everything the march holds on the host and the device; release() reports the first failure
// of a clean-up call when nothing failed before.
struct state {
    tcgpu_dev_buffers bufs;
    ctx c;
    int has_handle, has_P, dn;
    cudaEvent_t ev0, ev1;
    int32_t *prow, *pcol;
    double *pval, *r;

    tcgpu_status dense_destroy() {
        tcgpu_status st = TCGPU_OK;
        for (int i = 0; i < dn; ++i) {
            cusparseStatus_t e = cusparseDestroyDnMat(i < 4 ? c.X[i] : c.Wd);
            if (e != CUSPARSE_STATUS_SUCCESS && !st)
                st = sparse_fail(e, "cusparseDestroyDnMat");
        }
        dn = 0;
        return st;
    }

    tcgpu_status release(tcgpu_status st) {
        tcgpu_status s2 = dense_destroy();
        if (has_P) {
            cusparseStatus_t e = cusparseDestroySpMat(c.P);
            if (e != CUSPARSE_STATUS_SUCCESS && !s2)
                s2 = sparse_fail(e, "cusparseDestroySpMat");
        }
        if (has_handle) {
            cusparseStatus_t e = cusparseDestroy(c.sp);
            if (e != CUSPARSE_STATUS_SUCCESS && !s2)
                s2 = sparse_fail(e, "cusparseDestroy");
        }
        cudaEvent_t evs[2] = {ev0, ev1};
        for (cudaEvent_t ev : evs)
            if (ev) {
                cudaError_t e = cudaEventDestroy(ev);
                if (e != cudaSuccess && !s2)
                    s2 = tcgpu_cuda_fail(e, "cudaEventDestroy");
            }
        if (c.buf) {
            cudaError_t e = cudaFree(c.buf);
            if (e != cudaSuccess && !s2)
                s2 = tcgpu_cuda_fail(e, "cudaFree");
        }
        for (int i = 0; i < bufs.n; ++i) {
            cudaError_t e = cudaFree(bufs.p[i]);
            if (e != cudaSuccess && !s2)
                s2 = tcgpu_cuda_fail(e, "cudaFree");
        }
        std::free(prow);
        std::free(pcol);
        std::free(pval);
        std::free(r);
        return st ? st : s2;
    }
};

// The dense descriptors of a chunk of n sweeps (n complex = 2n real columns) and the SpMM
// work buffer they need.
tcgpu_status dense_setup(state *w, int64_t n, int64_t dim, int64_t rows, size_t *buf_bytes) {
    ctx *c = &w->c;
    for (int i = 0; i < 4; ++i) {
        SP(cusparseCreateDnMat(&c->X[i], dim, 2 * n, 2 * n, c->v[i], CUDA_R_64F,
                               CUSPARSE_ORDER_ROW),
           "cusparseCreateDnMat");
        ++w->dn;
    }
    SP(cusparseCreateDnMat(&c->Wd, rows, 2 * n, 2 * n, c->W, CUDA_R_64F, CUSPARSE_ORDER_ROW),
       "cusparseCreateDnMat");
    ++w->dn;
    if (!c->links)
        return TCGPU_OK;
    const double one = 1, zero = 0;
    size_t need = 0;
    // CSR_ALG2: the one documented for row-major dense matrices; the library's default where a
    // version does not support it for these operands.
    for (int tries = 0; tries < 2; ++tries) {
        c->alg = tries ? CUSPARSE_SPMM_ALG_DEFAULT : CUSPARSE_SPMM_CSR_ALG2;
        cusparseStatus_t q = cusparseSpMM_bufferSize(
            c->sp, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &one, c->P,
            c->X[0], &zero, c->Wd, CUDA_R_64F, c->alg, &need);
        if (q == CUSPARSE_STATUS_SUCCESS)
            break;
        if (q != CUSPARSE_STATUS_NOT_SUPPORTED || tries)
            return sparse_fail(q, "cusparseSpMM_bufferSize");
    }
    if (need > *buf_bytes || !c->buf) {
        if (c->buf) {
            TCGPU_CUDA_RET(cudaFree(c->buf), "cudaFree");
            c->buf = nullptr;
        }
        TCGPU_CUDA_RET(cudaMalloc(&c->buf, need + 16), "cudaMalloc (SpMM work buffer)");
        *buf_bytes = need;
    }
    return TCGPU_OK;
}

tcgpu_status run(const tcgpu_batch_plan *p, state *w, tcgpu_march_info *info) {
    ctx *c = &w->c;
    const int64_t d = p->dim, nnz = p->nnz, nc = p->nclass, rows = 2 * nc * d;
    const int nm = p->one_model ? 1 : 0;
    int count = 0, dev = 0;
    cudaDeviceProp prop;
    size_t free_b = 0, total_b = 0, buf_bytes = 0;
    float ms_total = 0;
    int64_t nchunks = 0;

    // Host side first: what the path refuses is refused before any device call.
    w->r = static_cast<double *>(std::malloc((size_t)p->count * sizeof(double)));
    w->prow = static_cast<int32_t *>(std::malloc((size_t)(rows + 1) * sizeof(int32_t)));
    w->pcol = static_cast<int32_t *>(std::malloc((size_t)(nnz + 1) * sizeof(int32_t)));
    w->pval = static_cast<double *>(std::malloc((size_t)(nnz + 1) * sizeof(double)));
    if (!w->r || !w->prow || !w->pcol || !w->pval)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the stacked coupling matrix");
    tcgpu_status st = tcgpu_ls_accept(p, w->r);
    if (!st)
        st = tcgpu_ls_stack(p, w->prow, w->pcol, w->pval);
    if (st)
        return st;

    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess)
        return tcgpu_cuda_fail(e, "device query (no usable device)");
    if (count == 0)
        return tcgpu_fail(TCGPU_ERUNTIME, "no CUDA device: the driver reports none");
    TCGPU_CUDA_RET(cudaGetDevice(&dev), "cudaGetDevice");
    TCGPU_CUDA_RET(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");

    // Per sweep: 4 state vectors, the 2 nclass class blocks of the product, the Bessel
    // coefficients, the class weights (and classes when the sweeps differ), the scalars.
    const size_t cs = sizeof(tcgpu_cplx);
    size_t per_sweep = (size_t)(4 + 2 * nc) * (size_t)d * cs + (size_t)(p->nmax + 1) * 8 +
                       (size_t)(TCGPU_LS_SLOTS * nc) * cs +
                       (nm ? 0 : (size_t)nc * sizeof(tcgpu_phase_class)) + 10 * 8 + 2 * 8 + 2 * 4;
    size_t fixed = (size_t)(rows + 1) * 4 + (size_t)nnz * 12 +
                   (nm ? (size_t)nc * sizeof(tcgpu_phase_class) : 0);
    TCGPU_CUDA_RET(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    if (free_b < fixed + per_sweep + (64u << 20))
        return tcgpu_fail(TCGPU_ENOMEM,
                          "cuSPARSE path: one sweep of dimension %lld with %lld phase classes "
                          "needs %zu bytes on the device; %zu are free",
                          (long long)d, (long long)nc, fixed + per_sweep, free_b);
    // 0.8 of what is free: the SpMM work buffer is sized only once the chunk is known.
    int64_t chunk = (int64_t)((double)(free_b - fixed - (64u << 20)) * 0.8 / (double)per_sweep);
    if (chunk > p->count)
        chunk = p->count;
    if (chunk > 65535LL * kControlBlock)
        chunk = 65535LL * kControlBlock;

    double *scal = nullptr;
    int64_t *ints64 = nullptr;
    int *ints = nullptr;
    tcgpu_phase_class *cl = nullptr;
    int32_t *prow = nullptr, *pcol = nullptr;
    double *pval = nullptr, *J = nullptr;
    tcgpu_cplx *vec = nullptr, *z = nullptr;
    const size_t ch = (size_t)chunk;
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &scal, ch * 10), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &ints64, ch * 2), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &ints, ch * 2 + 2), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &cl, (nm ? 1 : ch) * (size_t)nc), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &J, ch * (size_t)(p->nmax + 1)), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &z, ch * (size_t)(TCGPU_LS_SLOTS * nc)), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &vec, ch * (size_t)d * 4), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &c->W, ch * (size_t)rows), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &prow, (size_t)rows + 1), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &pcol, (size_t)nnz), "cudaMalloc");
    TCGPU_CUDA_RET(tcgpu_dev_alloc(&w->bufs, &pval, (size_t)nnz), "cudaMalloc");
    TCGPU_CUDA_RET(
        cudaMemcpy(prow, w->prow, (size_t)(rows + 1) * sizeof(int32_t), cudaMemcpyHostToDevice),
        "cudaMemcpy");
    TCGPU_CUDA_RET(cudaMemcpy(pcol, w->pcol, (size_t)nnz * sizeof(int32_t), cudaMemcpyHostToDevice),
                   "cudaMemcpy");
    TCGPU_CUDA_RET(cudaMemcpy(pval, w->pval, (size_t)nnz * sizeof(double), cudaMemcpyHostToDevice),
                   "cudaMemcpy");
    if (nm && nc)
        TCGPU_CUDA_RET(cudaMemcpy(cl, p->classes, (size_t)nc * sizeof *cl, cudaMemcpyHostToDevice),
                       "cudaMemcpy");
    c->red = ints + 2 * ch;
    c->links = nnz > 0;
    SP(cusparseCreate(&c->sp), "cusparseCreate");
    w->has_handle = 1;
    if (c->links) {
        SP(cusparseCreateCsr(&c->P, rows, d, nnz, prow, pcol, pval, CUSPARSE_INDEX_32I,
                             CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_64F),
           "cusparseCreateCsr");
        w->has_P = 1;
    }
    TCGPU_CUDA_RET(cudaEventCreate(&w->ev0), "cudaEventCreate");
    TCGPU_CUDA_RET(cudaEventCreate(&w->ev1), "cudaEventCreate");

    static const tcgpu_ls_ops ops = {op_step,      op_half,      op_apply, op_cheb_first,
                                     op_cheb_next, op_rk4_stage, op_finish};
    for (int64_t s0 = 0; s0 < p->count; s0 += chunk) {
        const int64_t n = p->count - s0 < chunk ? p->count - s0 : chunk, nd = n * d;
        const size_t bn = (size_t)n * sizeof(double);
        int64_t steps = 0;
        for (int64_t s = s0; s < s0 + n; ++s)
            steps = p->S[s] > steps ? p->S[s] : steps;
        for (int i = 0; i < 4; ++i)
            c->v[i] = vec + (size_t)i * (size_t)nd;
        c->ls = tcgpu_ls{n,
                         d,
                         p->nclass,
                         p->inverse_t,
                         p->method,
                         p->nmax,
                         cl,
                         nm ? 0 : nc,
                         scal,
                         scal + 9 * n,
                         scal + n,
                         scal + 2 * n,
                         scal + 3 * n,
                         ints64,
                         scal + 4 * n,
                         scal + 5 * n,
                         scal + 6 * n,
                         scal + 7 * n,
                         scal + 8 * n,
                         J,
                         z,
                         ints,
                         ints + n,
                         ints64 + n};
        c->grid_s = (unsigned)((n + kControlBlock - 1) / kControlBlock);
        int64_t ge = (nd + kBlock - 1) / kBlock;
        c->grid_e = (unsigned)(ge < 65536 ? ge : 65536);
        TCGPU_CUDA_RET(cudaEventRecord(w->ev0), "cudaEventRecord");
        TCGPU_CUDA_RET(cudaMemcpy(scal, p->vbound + s0, bn, cudaMemcpyHostToDevice), "cudaMemcpy");
        TCGPU_CUDA_RET(cudaMemcpy(scal + n, p->t_b + s0, bn, cudaMemcpyHostToDevice), "cudaMemcpy");
        TCGPU_CUDA_RET(cudaMemcpy(scal + 9 * n, p->vrate + s0, bn, cudaMemcpyHostToDevice),
                       "cudaMemcpy");
        TCGPU_CUDA_RET(cudaMemcpy(scal + 2 * n, p->du + s0, bn, cudaMemcpyHostToDevice),
                       "cudaMemcpy");
        TCGPU_CUDA_RET(cudaMemcpy(scal + 3 * n, w->r + s0, bn, cudaMemcpyHostToDevice),
                       "cudaMemcpy");
        TCGPU_CUDA_RET(cudaMemcpy(scal + 4 * n, p->t_a + s0, bn, cudaMemcpyHostToDevice),
                       "cudaMemcpy");
        TCGPU_CUDA_RET(
            cudaMemcpy(ints64, p->S + s0, (size_t)n * sizeof(int64_t), cudaMemcpyHostToDevice),
            "cudaMemcpy");
        TCGPU_CUDA_RET(cudaMemset(ints64 + n, 0, (size_t)n * sizeof(int64_t)), "cudaMemset");
        TCGPU_CUDA_RET(cudaMemset(ints, 0, (size_t)(2 * n) * sizeof(int)), "cudaMemset");
        // finite before the first product (beta = 0) and the class weighting read it
        TCGPU_CUDA_RET(cudaMemset(c->W, 0, (size_t)(n * rows) * sizeof(tcgpu_cplx)), "cudaMemset");
        if (!nm && nc)
            TCGPU_CUDA_RET(cudaMemcpy(cl, p->classes + (size_t)s0 * (size_t)nc,
                                      (size_t)(n * nc) * sizeof *cl, cudaMemcpyHostToDevice),
                           "cudaMemcpy");
        // The states in, sweep-major into V0, then row-major into X.
        TCGPU_CUDA_RET(cudaMemcpy(c->v[TCGPU_LS_V0], p->x + 2 * s0 * d,
                                  (size_t)nd * sizeof(tcgpu_cplx), cudaMemcpyHostToDevice),
                       "cudaMemcpy");
        transpose_kernel<<<c->grid_e, kBlock>>>(n, d, 1, c->v[TCGPU_LS_V0], c->v[TCGPU_LS_X]);
        if ((st = launched("transpose kernel launch")))
            return st;
        if ((st = dense_setup(w, n, d, rows, &buf_bytes)))
            return st;
        if ((st = tcgpu_ls_run(&ops, c, p->method, steps)))
            return st;
        transpose_kernel<<<c->grid_e, kBlock>>>(n, d, 0, c->v[TCGPU_LS_X], c->v[TCGPU_LS_V0]);
        if ((st = launched("transpose kernel launch")))
            return st;
        TCGPU_CUDA_RET(cudaMemcpy(p->x + 2 * s0 * d, c->v[TCGPU_LS_V0],
                                  (size_t)nd * sizeof(tcgpu_cplx), cudaMemcpyDeviceToHost),
                       "cudaMemcpy (lockstep march run)");
        TCGPU_CUDA_RET(cudaMemcpy(p->apps + s0, ints64 + n, (size_t)n * sizeof(int64_t),
                                  cudaMemcpyDeviceToHost),
                       "cudaMemcpy");
        TCGPU_CUDA_RET(cudaMemcpy(p->t_fail + s0, scal + 4 * n, bn, cudaMemcpyDeviceToHost),
                       "cudaMemcpy");
        TCGPU_CUDA_RET(cudaEventRecord(w->ev1), "cudaEventRecord");
        TCGPU_CUDA_RET(cudaEventSynchronize(w->ev1), "cudaEventSynchronize");
        float ms = 0;
        TCGPU_CUDA_RET(cudaEventElapsedTime(&ms, w->ev0, w->ev1), "cudaEventElapsedTime");
        ms_total += ms;
        ++nchunks;
        if ((st = w->dense_destroy()))
            return st;
    }
    if (info) {
        info->path = TCGPU_PATH_CUSPARSE;
        info->block = kBlock;
        info->on_the_fly = 0;
        info->shared_bytes = 0;
        info->chunks = nchunks;
        info->run_seconds = 1e-3 * ms_total;
        std::snprintf(info->device, sizeof info->device, "%s", prop.name);
    }
    return TCGPU_OK;
}

} // namespace

extern "C" tcgpu_status tcgpu_march_cusparse(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                             tcgpu_march_info *info) {
    (void)o;
    state w;
    std::memset(&w, 0, sizeof w);
    return w.release(run(p, &w, info));
}
