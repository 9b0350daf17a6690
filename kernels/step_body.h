/* The step functions, written once for a real type: kernels/step.h includes this file twice,
 * for fp64 (tcgpu_cplx, plain names) and fp32 (tcgpu_cplxf, names ending in _f). Amplitudes,
 * coupling values and the arithmetic on them are in R; times, Bessel coefficients and bounds
 * stay double (they are computed once per step, not per amplitude). No include guard. */

/* re + i im += v w x_j, w = z[c] for cls = c + 1 > 0 and conj(z[c]) for cls = -(c + 1). */
TCGPU_HD static inline void TCGPU_FN(tcgpu_link)(const TCGPU_C *z, const TCGPU_C *x, int64_t j,
                                                 TCGPU_R v, int32_t c, TCGPU_R *re, TCGPU_R *im) {
    TCGPU_C w = z[c > 0 ? c - 1 : -c - 1];
    TCGPU_R wi = c > 0 ? w.im : -w.im;
    TCGPU_C xv = x[j];
    *re += v * (w.re * xv.re - wi * xv.im);
    *im += v * (w.re * xv.im + wi * xv.re);
}

/* y = M x, M_ij = val * z[c] for cls = c + 1 > 0 and val * conj(z[c]) for cls = -(c + 1), the
 * links read from the CSR arrays or computed on the fly (kernels/banded.h) in the same order.
 * Synchronizes on entry (x, z complete) and exit (y complete, x free to overwrite). */
TCGPU_HD static inline void TCGPU_FN(tcgpu_apply)(const TCGPU_CSR *A, const TCGPU_C *z,
                                                  const TCGPU_C *x, TCGPU_C *y) {
    TCGPU_SYNC();
    TCGPU_FOR(i, A->dim) {
        TCGPU_R re = 0, im = 0;
        if (A->band.kind != TCGPU_BAND_NONE) {
#define TCGPU_BAND_ACC(j, v, c) TCGPU_FN(tcgpu_link)(z, x, (j), (TCGPU_R)(v), (c), &re, &im)
            TCGPU_BAND_ROW(&A->band, i, TCGPU_BAND_ACC);
#undef TCGPU_BAND_ACC
        } else
            for (int64_t e = A->row_ptr[i]; e < A->row_ptr[i + 1]; ++e)
                TCGPU_FN(tcgpu_link)(z, x, A->col[e], A->val[e], A->cls[e], &re, &im);
        y[i].re = re;
        y[i].im = im;
    }
    TCGPU_SYNC();
}

/* x <- exp(-i h M) x by the Chebyshev series, spectrum of M within [-rho, rho].
 * Work: t0, t1, t2 (dim each). J: nmax + 1 doubles (shared by the block on the device: one
 * thread fills it). Returns applications of M, or -1 when nmax terms were not enough. */
TCGPU_HD static inline int TCGPU_FN(tcgpu_expmv)(const TCGPU_CSR *A, const TCGPU_C *z, double rho,
                                                 double h, TCGPU_C *x, TCGPU_C *t0, TCGPU_C *t1,
                                                 TCGPU_C *t2, double *J, int nmax) {
    int64_t d = A->dim;
    double tau = h * rho;
#ifdef __CUDA_ARCH__
    __shared__ int n_shared;
    __syncthreads(); /* J and n_shared may still be read from the previous call */
    if (TCGPU_LEADER)
        n_shared = tcgpu_bessel_j(tau, nmax, J);
    __syncthreads();
    int n = n_shared;
#else
    int n = tcgpu_bessel_j(tau, nmax, J);
#endif
    if (n >= nmax)
        return -1;
    if (n == 0)
        return 0;
    TCGPU_R inv = (TCGPU_R)(1.0 / rho), j0 = (TCGPU_R)J[0], j1 = (TCGPU_R)J[1];
    /* acc = J0 x + 2 sum (-i)^k J_k T_k x, with T_k on X = M / rho. */
    TCGPU_FOR(i, d) t0[i] = x[i];
    TCGPU_FN(tcgpu_apply)(A, z, t0, t1);
    TCGPU_FOR(i, d) {
        t1[i].re *= inv;
        t1[i].im *= inv;
        /* (-i) J1 * 2 * t1 */
        x[i].re = j0 * t0[i].re + 2 * j1 * t1[i].im;
        x[i].im = j0 * t0[i].im - 2 * j1 * t1[i].re;
    }
    for (int k = 2; k <= n; ++k) {
        TCGPU_FN(tcgpu_apply)(A, z, t1, t2);
        /* (-i)^k = 1, -i, -1, i for k mod 4 = 0, 1, 2, 3 */
        TCGPU_R cr = (TCGPU_R)((k % 4 == 0) ? 2 * J[k] : (k % 4 == 2) ? -2 * J[k] : 0);
        TCGPU_R ci = (TCGPU_R)((k % 4 == 1) ? -2 * J[k] : (k % 4 == 3) ? 2 * J[k] : 0);
        TCGPU_FOR(i, d) {
            TCGPU_C tn = {2 * inv * t2[i].re - t0[i].re, 2 * inv * t2[i].im - t0[i].im};
            x[i].re += cr * tn.re - ci * tn.im;
            x[i].im += cr * tn.im + ci * tn.re;
            t0[i] = t1[i];
            t1[i] = tn;
        }
    }
    TCGPU_SYNC();
    return n;
}

/* y += a * (-i) (M x): the RK4 stage update helper. */
TCGPU_HD static inline void TCGPU_FN(tcgpu_axpy_mi)(int64_t d, TCGPU_R a, const TCGPU_C *mx,
                                                    const TCGPU_C *x, TCGPU_C *y) {
    TCGPU_FOR(i, d) {
        y[i].re = x[i].re + a * mx[i].im;
        y[i].im = x[i].im - a * mx[i].re;
    }
}

/* Classical RK4 for dphi/dt = -i M(t) phi. z1, z2, z3: class weights at t, t + h/2, t + h.
 * Work: k (dim), s (dim), acc (dim). */
TCGPU_HD static inline void TCGPU_FN(tcgpu_rk4_step)(const TCGPU_CSR *A, const TCGPU_C *z1,
                                                     const TCGPU_C *z2, const TCGPU_C *z3, double h,
                                                     TCGPU_C *x, TCGPU_C *k, TCGPU_C *s,
                                                     TCGPU_C *acc) {
    int64_t d = A->dim;
    const TCGPU_R h6 = (TCGPU_R)(h / 6), h3 = (TCGPU_R)(h / 3), h2 = (TCGPU_R)(h / 2);
    TCGPU_FN(tcgpu_apply)(A, z1, x, k); /* k1 */
    TCGPU_FN(tcgpu_axpy_mi)(d, h6, k, x, acc);
    TCGPU_FN(tcgpu_axpy_mi)(d, h2, k, x, s);
    TCGPU_FN(tcgpu_apply)(A, z2, s, k); /* k2 */
    TCGPU_FOR(i, d) {
        acc[i].re += h3 * k[i].im;
        acc[i].im -= h3 * k[i].re;
    }
    TCGPU_FN(tcgpu_axpy_mi)(d, h2, k, x, s);
    TCGPU_FN(tcgpu_apply)(A, z2, s, k); /* k3 */
    TCGPU_FOR(i, d) {
        acc[i].re += h3 * k[i].im;
        acc[i].im -= h3 * k[i].re;
    }
    TCGPU_FN(tcgpu_axpy_mi)(d, (TCGPU_R)h, k, x, s);
    TCGPU_FN(tcgpu_apply)(A, z3, s, k); /* k4 */
    TCGPU_FOR(i, d) {
        x[i].re = acc[i].re + h6 * k[i].im;
        x[i].im = acc[i].im - h6 * k[i].re;
    }
    TCGPU_SYNC();
}

/* Commutator-free Magnus-4 (Blanes-Moan): Gauss nodes t + (1/2 -+ sqrt3/6) h with weights
 * za, zb; x <- exp(-i h (a2 Ma + a1 Mb)) then exp(-i h (a1 Ma + a2 Mb)), a1,2 = 1/4 -+ sqrt3/6
 * (the exponent applied first leans on the earlier node). w: scratch class weights (nclass).
 * vbound: max row sum of |V|; fa, fb: |f| at the nodes. Returns M applications or -1. */
TCGPU_HD static inline int TCGPU_FN(tcgpu_cf4_step)(const TCGPU_CSR *A, int nclass,
                                                    const TCGPU_C *za, const TCGPU_C *zb, double fa,
                                                    double fb, double vbound, double h, TCGPU_C *x,
                                                    TCGPU_C *w, TCGPU_C *t0, TCGPU_C *t1,
                                                    TCGPU_C *t2, double *J, int nmax) {
    const double a1 = 0.25 - 0.28867513459481288225, a2 = 0.25 + 0.28867513459481288225;
    double rho = vbound * (fabs(a1) * fa + fabs(a2) * fb) + 1e-300;
    int total = 0;
    for (int half = 0; half < 2; ++half) {
        double ca = half == 0 ? a2 : a1, cb = half == 0 ? a1 : a2;
        TCGPU_SYNC(); /* w may still be read by the previous exponential */
        TCGPU_FOR(c, nclass) {
            w[c].re = (TCGPU_R)(ca * za[c].re + cb * zb[c].re);
            w[c].im = (TCGPU_R)(ca * za[c].im + cb * zb[c].im);
        }
        double r = vbound * (fabs(ca) * fa + fabs(cb) * fb) + 1e-300;
        int n = TCGPU_FN(tcgpu_expmv)(A, w, r > rho ? rho : r, h, x, t0, t1, t2, J, nmax);
        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}
