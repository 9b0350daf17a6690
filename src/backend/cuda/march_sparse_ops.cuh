// The device side of the lockstep march (march_sparse.cu): its kernels and the operations the
// driver of src/propagate/march_lockstep.c calls. Included once, inside march_sparse.cu's
// anonymous namespace; not a header of its own.

const int kControlBlock = 128; // threads per block of the one-thread-per-sweep kernels
const int kBlock = 256;        // threads per block of the element-wise kernels

tcgpu_status sparse_fail(cusparseStatus_t err, const char *what) {
    return tcgpu_fail(TCGPU_ERUNTIME, "cuSPARSE %s failed: %s (status %d)", what,
                      cusparseGetErrorString(err), (int)err);
}

// A launch's configuration error, or (rarely) an earlier asynchronous one.
tcgpu_status launched(const char *what) {
    cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? TCGPU_OK : tcgpu_cuda_fail(err, what);
}

#define SP(call, what)                                                                             \
    do {                                                                                           \
        cusparseStatus_t err_ = (call);                                                            \
        if (err_ != CUSPARSE_STATUS_SUCCESS)                                                       \
            return sparse_fail(err_, what);                                                        \
    } while (0)

__global__ void step_kernel(tcgpu_ls ls, int64_t k) {
    int64_t s = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (s < ls.n)
        tcgpu_ls_step(&ls, s, k);
}

// red[0]: the largest degree, red[1]: the sweeps still marching (a warp reduces first).
__global__ void half_kernel(tcgpu_ls ls, int half, int *red) {
    int64_t s = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    int d = s < ls.n ? tcgpu_ls_half(&ls, s, half) : -1, a = d >= 0;
    for (int o = 16; o > 0; o >>= 1) {
        int d2 = __shfl_down_sync(0xffffffffu, d, o);
        d = d2 > d ? d2 : d;
        a += __shfl_down_sync(0xffffffffu, a, o);
    }
    if ((threadIdx.x & 31) == 0 && a > 0) {
        atomicMax(&red[0], d);
        atomicAdd(&red[1], a);
    }
}

__global__ void finish_kernel(tcgpu_ls ls) {
    int64_t s = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (s < ls.n)
        tcgpu_ls_finish(&ls, s);
}

#define EACH(g, n)                                                                                 \
    for (int64_t g = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; g < (n);                      \
         g += (int64_t)gridDim.x * blockDim.x)

__global__ void combine_kernel(tcgpu_ls ls, int slot, const tcgpu_cplx *W, tcgpu_cplx *y) {
    EACH(g, ls.n * ls.dim) tcgpu_ls_combine(&ls, slot, g, W, y);
}

__global__ void cheb_first_kernel(tcgpu_ls ls, tcgpu_cplx *x, tcgpu_cplx *t0, tcgpu_cplx *t1) {
    EACH(g, ls.n * ls.dim) tcgpu_ls_cheb_first(&ls, g, x, t0, t1);
}

__global__ void cheb_next_kernel(tcgpu_ls ls, int k, const tcgpu_cplx *y, tcgpu_cplx *x,
                                 tcgpu_cplx *t0, tcgpu_cplx *t1) {
    EACH(g, ls.n * ls.dim) tcgpu_ls_cheb_next(&ls, k, g, y, x, t0, t1);
}

__global__ void rk4_kernel(tcgpu_ls ls, int q, const tcgpu_cplx *k, tcgpu_cplx *x, tcgpu_cplx *acc,
                           tcgpu_cplx *sv) {
    EACH(g, ls.n * ls.dim) tcgpu_ls_rk4(&ls, q, g, k, x, acc, sv);
}

__global__ void transpose_kernel(int64_t n, int64_t dim, int to_rows, const tcgpu_cplx *in,
                                 tcgpu_cplx *out) {
    EACH(g, n * dim) tcgpu_ls_transpose(n, dim, g, to_rows, in, out);
}

// The device side of one chunk: the shared per-sweep state (device pointers), the vectors, the
// stacked matrix and the dense descriptors of this chunk's width.
struct ctx {
    tcgpu_ls ls;
    tcgpu_cplx *v[4], *W;
    int *red;
    int links; // nnz > 0: else M = 0 and no product is needed
    unsigned grid_s, grid_e;
    cusparseHandle_t sp;
    cusparseSpMatDescr_t P;
    cusparseDnMatDescr_t X[4], Wd;
    cusparseSpMMAlg_t alg;
    void *buf;
};

tcgpu_status op_step(void *c_, int64_t k) {
    ctx *c = static_cast<ctx *>(c_);
    step_kernel<<<c->grid_s, kControlBlock>>>(c->ls, k);
    return launched("step control kernel launch");
}

tcgpu_status op_half(void *c_, int half, int *deg, int64_t *active) {
    ctx *c = static_cast<ctx *>(c_);
    int red[2];
    TCGPU_CUDA_RET(cudaMemset(c->red, 0, 2 * sizeof(int)), "cudaMemset");
    half_kernel<<<c->grid_s, kControlBlock>>>(c->ls, half, c->red);
    tcgpu_status st = launched("Magnus half control kernel launch");
    if (st)
        return st;
    TCGPU_CUDA_RET(cudaMemcpy(red, c->red, 2 * sizeof(int), cudaMemcpyDeviceToHost),
                   "cudaMemcpy (Chebyshev degree read-back)");
    *deg = red[0];
    *active = red[1];
    return TCGPU_OK;
}

tcgpu_status op_apply(void *c_, int slot, int src, int dst) {
    ctx *c = static_cast<ctx *>(c_);
    if (c->links) {
        const double one = 1, zero = 0;
        SP(cusparseSpMM(c->sp, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE,
                        &one, c->P, c->X[src], &zero, c->Wd, CUDA_R_64F, c->alg, c->buf),
           "cusparseSpMM");
    }
    combine_kernel<<<c->grid_e, kBlock>>>(c->ls, slot, c->W, c->v[dst]);
    return launched("class-weight kernel launch");
}

tcgpu_status op_cheb_first(void *c_) {
    ctx *c = static_cast<ctx *>(c_);
    cheb_first_kernel<<<c->grid_e, kBlock>>>(c->ls, c->v[TCGPU_LS_X], c->v[TCGPU_LS_V0],
                                             c->v[TCGPU_LS_V1]);
    return launched("Chebyshev kernel launch");
}

tcgpu_status op_cheb_next(void *c_, int k) {
    ctx *c = static_cast<ctx *>(c_);
    cheb_next_kernel<<<c->grid_e, kBlock>>>(c->ls, k, c->v[TCGPU_LS_V2], c->v[TCGPU_LS_X],
                                            c->v[TCGPU_LS_V0], c->v[TCGPU_LS_V1]);
    return launched("Chebyshev kernel launch");
}

tcgpu_status op_rk4_stage(void *c_, int q) {
    ctx *c = static_cast<ctx *>(c_);
    rk4_kernel<<<c->grid_e, kBlock>>>(c->ls, q, c->v[TCGPU_LS_V0], c->v[TCGPU_LS_X],
                                      c->v[TCGPU_LS_V2], c->v[TCGPU_LS_V1]);
    return launched("RK4 kernel launch");
}

tcgpu_status op_finish(void *c_) {
    ctx *c = static_cast<ctx *>(c_);
    finish_kernel<<<c->grid_s, kControlBlock>>>(c->ls);
    return launched("step end kernel launch");
}
