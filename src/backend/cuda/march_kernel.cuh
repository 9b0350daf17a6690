// The device side of the fused batched march (march.cu): the plan as the kernel sees it, the
// two instantiations of the shared step loop and the kernel. Included once, inside
// march.cu's anonymous namespace; not a header of its own.

struct dev_plan {
    int64_t dim, nnz;
    int nclass, inverse_t, method, nmax, shared_state;
    int64_t val_stride, class_stride; // 0 when every sweep has the same model
    const int64_t *row_ptr, *col;
    const int32_t *cls;
    const void *val; // double, or float for the fp32 march
    const tcgpu_phase_class *classes;
    const double *vbound, *vrate, *t_a, *t_b, *du;
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
                         p.cls, band, nullptr},
           tcgpu_grid{cl, p.nclass, p.inverse_t, p.vbound[s], p.vrate[s]}, z, nc, t0, J, p.nmax);
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

void free_all(tcgpu_dev_buffers *b) {
    for (int i = 0; i < b->n; ++i)
        cudaFree(b->p[i]);
    b->n = 0;
}
