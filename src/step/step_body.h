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

#ifndef __CUDA_ARCH__
/* re + i im += v w x, w = (wr, wi) already conjugated where the class asks: tcgpu_link's
 * arithmetic, operation for operation, with the weight resolved outside the loop. */
#define TCGPU_LINKW(v, wr, wi, xv, sr, si)                                                         \
    do {                                                                                           \
        (sr) += (v) * ((wr) * (xv).re - (wi) * (xv).im);                                           \
        (si) += (v) * ((wr) * (xv).im + (wi) * (xv).re);                                           \
    } while (0)

/* The host's blocked application of the banded models whose rows have constant neighbour
 * offsets along runs of the index: tc K = 1 (offsets +-1), tc K = 2 (per block of fixed n1:
 * +-1 along n2, -(N - n1 + 2) and +(N - n1 + 1) along n1) and heff (+-1). Each row's links are
 * visited in the CSR's order with the builders' value expressions and roots (A->root), so y is
 * bit-identical to the CSR application (tests/test_march.c); but there is no index, class or
 * branch to load per link, and a run's inner loop has no conditions (its first and last rows,
 * which lack a neighbour, are peeled). tc K = 2, N = 20: 2.3x faster than the CSR rows here. */
static inline void TCGPU_FN(tcgpu_apply_blocked)(const TCGPU_CSR *A, const TCGPU_C *z,
                                                 const TCGPU_C *x, TCGPU_C *y) {
    const int64_t N = A->band.N;
    const double c = A->band.c, *rt = A->root;
    if (A->band.kind == TCGPU_BAND_HEFF) {
        /* link (i, i - 1): class i (weight z[i - 1]); (i, i + 1): class -(i + 1) (conj z[i]) */
        for (int64_t i = 0; i <= N; ++i) {
            TCGPU_R re = 0, im = 0;
            if (i > 0) {
                TCGPU_R v = (TCGPU_R)(-c * (double)(i * (N - i + 1)));
                TCGPU_LINKW(v, z[i - 1].re, z[i - 1].im, x[i - 1], re, im);
            }
            if (i < N) {
                TCGPU_R v = (TCGPU_R)(-c * (double)((i + 1) * (N - i)));
                TCGPU_LINKW(v, z[i].re, -z[i].im, x[i + 1], re, im);
            }
            y[i].re = re;
            y[i].im = im;
        }
        return;
    }
    const TCGPU_R ar = z[0].re, ai = z[0].im; /* class 1 (channel 1 down); -1: conjugate */
    if (A->band.K == 1) {
#define TCGPU_TC1_ROW(i, LOWER, UPPER)                                                             \
    do {                                                                                           \
        TCGPU_R re_ = 0, im_ = 0;                                                                  \
        if (LOWER)                                                                                 \
            TCGPU_LINKW((TCGPU_R)(c * (double)(i) * rt[i]), ar, ai, x[(i) - 1], re_, im_);         \
        if (UPPER)                                                                                 \
            TCGPU_LINKW((TCGPU_R)(c * (double)((i) + 1) * rt[(i) + 1]), ar, -ai, x[(i) + 1], re_,  \
                        im_);                                                                      \
        y[i].re = re_;                                                                             \
        y[i].im = im_;                                                                             \
    } while (0)
        TCGPU_TC1_ROW(0, 0, N > 0);
        for (int64_t i = 1; i < N; ++i)
            TCGPU_TC1_ROW(i, 1, 1);
        if (N > 0)
            TCGPU_TC1_ROW(N, 1, 0);
#undef TCGPU_TC1_ROW
        return;
    }
    const TCGPU_R br = z[1].re, bi = z[1].im; /* class 2 (channel 2 down); -2: conjugate */
    int64_t i0 = 0;
    for (int64_t a = 0; a <= N; ++a) {
        const int64_t L = N - a, dn = N - a + 2, up = N - a + 1; /* n2 = 0 .. L */
        const double ca = c * (double)a, ca1 = c * (double)(a + 1);
        /* row (a, b): its links in the CSR's order, those that exist (lower: a > 0, b > 0;
         * upper: b < L) */
#define TCGPU_TC2_ROW(b, LOWER_A, LOWER_B, UPPER)                                                  \
    do {                                                                                           \
        const int64_t i_ = i0 + (b), s_ = a + (b);                                                 \
        const double lo_ = rt[s_], hi_ = rt[s_ + 1];                                               \
        TCGPU_R re_ = 0, im_ = 0;                                                                  \
        if (LOWER_A)                                                                               \
            TCGPU_LINKW((TCGPU_R)(ca * lo_), ar, ai, x[i_ - dn], re_, im_);                        \
        if (LOWER_B)                                                                               \
            TCGPU_LINKW((TCGPU_R)(c * (double)(b) * lo_), br, bi, x[i_ - 1], re_, im_);            \
        if (UPPER) {                                                                               \
            TCGPU_LINKW((TCGPU_R)(c * (double)((b) + 1) * hi_), br, -bi, x[i_ + 1], re_, im_);     \
            TCGPU_LINKW((TCGPU_R)(ca1 * hi_), ar, -ai, x[i_ + up], re_, im_);                      \
        }                                                                                          \
        y[i_].re = re_;                                                                            \
        y[i_].im = im_;                                                                            \
    } while (0)
        if (a == 0) {
            TCGPU_TC2_ROW(0, 0, 0, L > 0);
            for (int64_t b = 1; b < L; ++b)
                TCGPU_TC2_ROW(b, 0, 1, 1);
        } else {
            TCGPU_TC2_ROW(0, 1, 0, L > 0);
            for (int64_t b = 1; b < L; ++b)
                TCGPU_TC2_ROW(b, 1, 1, 1);
        }
        if (L > 0)
            TCGPU_TC2_ROW(L, a > 0, 1, 0);
#undef TCGPU_TC2_ROW
        i0 += L + 1;
    }
}
#undef TCGPU_LINKW
#endif

/* y = M x, M_ij = val * z[c] for cls = c + 1 > 0 and val * conj(z[c]) for cls = -(c + 1), the
 * links read from the CSR arrays or computed on the fly (kernels/banded.h) in the same order.
 * Synchronizes on entry (x, z complete) and exit (y complete, x free to overwrite). */
TCGPU_HD static inline void TCGPU_FN(tcgpu_apply)(const TCGPU_CSR *A, const TCGPU_C *z,
                                                  const TCGPU_C *x, TCGPU_C *y) {
#ifndef __CUDA_ARCH__
    if (A->root) {
        TCGPU_FN(tcgpu_apply_blocked)(A, z, x, y);
        return;
    }
#endif
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

/* One element of the Chebyshev series' first two terms (tcgpu_expmv), t1 = M x on entry:
 * t0 = x, t1 = X x (X = M / rho, inv = 1 / rho), x = J0 t0 + 2 (-i) J1 t1. */
TCGPU_HD static inline void TCGPU_FN(tcgpu_cheb_first)(TCGPU_R inv, TCGPU_R j0, TCGPU_R j1,
                                                       TCGPU_C *x, TCGPU_C *t0, TCGPU_C *t1) {
    *t0 = *x;
    t1->re *= inv;
    t1->im *= inv;
    /* (-i) J1 * 2 * t1 */
    x->re = j0 * t0->re + 2 * j1 * t1->im;
    x->im = j0 * t0->im - 2 * j1 * t1->re;
}

/* The series coefficient 2 (-i)^k J_k = cr + i ci of term k >= 2. */
TCGPU_HD static inline void TCGPU_FN(tcgpu_cheb_coef)(int k, double Jk, TCGPU_R *cr, TCGPU_R *ci) {
    /* (-i)^k = 1, -i, -1, i for k mod 4 = 0, 1, 2, 3 */
    *cr = (TCGPU_R)((k % 4 == 0) ? 2 * Jk : (k % 4 == 2) ? -2 * Jk : 0);
    *ci = (TCGPU_R)((k % 4 == 1) ? -2 * Jk : (k % 4 == 3) ? 2 * Jk : 0);
}

/* One element of the recurrence step k >= 2, y = M t1 on entry: T_k = 2 X t1 - t0 added to x
 * with the coefficient cr + i ci (tcgpu_cheb_coef), then t0 = t1, t1 = T_k. */
TCGPU_HD static inline void TCGPU_FN(tcgpu_cheb_next)(TCGPU_R inv, TCGPU_R cr, TCGPU_R ci,
                                                      TCGPU_C y, TCGPU_C *x, TCGPU_C *t0,
                                                      TCGPU_C *t1) {
    TCGPU_C tn = {2 * inv * y.re - t0->re, 2 * inv * y.im - t0->im};
    x->re += cr * tn.re - ci * tn.im;
    x->im += cr * tn.im + ci * tn.re;
    *t0 = *t1;
    *t1 = tn;
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
#if defined(TCGPU_REAL_HOST) && !defined(__CUDA_ARCH__)
    if (A->real && d >= 3) { /* the same series in real arithmetic (real_series.c) */
        tcgpu_real_series(A->real, z, rho, J, n, x, t0, t1, t2);
        return n;
    }
#endif
    TCGPU_R inv = (TCGPU_R)(1.0 / rho), j0 = (TCGPU_R)J[0], j1 = (TCGPU_R)J[1];
    /* acc = J0 x + 2 sum (-i)^k J_k T_k x, with T_k on X = M / rho. */
    TCGPU_FN(tcgpu_apply)(A, z, x, t1);
    TCGPU_FOR(i, d) TCGPU_FN(tcgpu_cheb_first)(inv, j0, j1, &x[i], &t0[i], &t1[i]);
    for (int k = 2; k <= n; ++k) {
        TCGPU_FN(tcgpu_apply)(A, z, t1, t2);
        TCGPU_R cr, ci;
        TCGPU_FN(tcgpu_cheb_coef)(k, J[k], &cr, &ci);
        TCGPU_FOR(i, d) TCGPU_FN(tcgpu_cheb_next)(inv, cr, ci, t2[i], &x[i], &t0[i], &t1[i]);
    }
    TCGPU_SYNC();
    return n;
}

/* x + a (-i) mx: the RK4 stage update of one element. */
TCGPU_HD static inline TCGPU_C TCGPU_FN(tcgpu_mi_axpy)(TCGPU_R a, TCGPU_C mx, TCGPU_C x) {
    TCGPU_C y = {x.re + a * mx.im, x.im - a * mx.re};
    return y;
}

/* The RK4 step's coefficients h/6, h/3, h/2, h in R. */
TCGPU_HD static inline void TCGPU_FN(tcgpu_rk4_coefs)(double h, TCGPU_R *c) {
    c[0] = (TCGPU_R)(h / 6);
    c[1] = (TCGPU_R)(h / 3);
    c[2] = (TCGPU_R)(h / 2);
    c[3] = (TCGPU_R)h;
}

/* One element of RK4 stage q (0..3), k = M s on entry (s = x for q = 0): the accumulator acc
 * and the next stage's argument s, or (q = 3) the new x. c: tcgpu_rk4_coefs. */
TCGPU_HD static inline void TCGPU_FN(tcgpu_rk4_elem)(int q, const TCGPU_R *c, TCGPU_C k, TCGPU_C *x,
                                                     TCGPU_C *acc, TCGPU_C *s) {
    if (q == 3) {
        *x = TCGPU_FN(tcgpu_mi_axpy)(c[0], k, *acc);
        return;
    }
    *acc = TCGPU_FN(tcgpu_mi_axpy)(q == 0 ? c[0] : c[1], k, q == 0 ? *x : *acc);
    *s = TCGPU_FN(tcgpu_mi_axpy)(q == 2 ? c[3] : c[2], k, *x);
}

/* Classical RK4 for dphi/dt = -i M(t) phi. z1, z2, z3: class weights at t, t + h/2, t + h.
 * Work: k (dim), s (dim), acc (dim). */
TCGPU_HD static inline void TCGPU_FN(tcgpu_rk4_step)(const TCGPU_CSR *A, const TCGPU_C *z1,
                                                     const TCGPU_C *z2, const TCGPU_C *z3, double h,
                                                     TCGPU_C *x, TCGPU_C *k, TCGPU_C *s,
                                                     TCGPU_C *acc) {
    int64_t d = A->dim;
    TCGPU_R c[4];
    TCGPU_FN(tcgpu_rk4_coefs)(h, c);
    for (int q = 0; q < 4; ++q) {
        TCGPU_FN(tcgpu_apply)(A, q == 0 ? z1 : q == 3 ? z3 : z2, q == 0 ? x : s, k);
        TCGPU_FOR(i, d) TCGPU_FN(tcgpu_rk4_elem)(q, c, k[i], &x[i], &acc[i], &s[i]);
    }
    TCGPU_SYNC();
}

/* Class weight c of a Magnus-4 half's exponent: ca za + cb zb (tcgpu_cf4_half). */
TCGPU_HD static inline TCGPU_C TCGPU_FN(tcgpu_cf4_mix)(double ca, double cb, TCGPU_C za,
                                                       TCGPU_C zb) {
    TCGPU_C w = {(TCGPU_R)(ca * za.re + cb * zb.re), (TCGPU_R)(ca * za.im + cb * zb.im)};
    return w;
}

/* The spectral radius bound of Magnus-4 half `half`'s exponent: Gershgorin on its own mixed
 * weights, max_c |ca za_c + cb zb_c| vbound, where it is below tcgpu_cf4_radius's
 * |ca| fa + |cb| fb (each |z_c| is f): up to 13 % fewer terms where the nodes' phases are close
 * (|a1 + a2| = 1/2 against |a1| + |a2| = 0.577). Every thread computes it from za, zb. */
TCGPU_HD static inline double TCGPU_FN(tcgpu_cf4_rho)(int half, int nclass, const TCGPU_C *za,
                                                      const TCGPU_C *zb, double fa, double fb,
                                                      double vbound) {
    double ca, cb, wmax = 0;
    tcgpu_cf4_half(half, &ca, &cb);
    for (int c = 0; c < nclass; ++c) {
        double re = ca * (double)za[c].re + cb * (double)zb[c].re,
               im = ca * (double)za[c].im + cb * (double)zb[c].im;
        wmax = fmax(wmax, re * re + im * im); /* weights O(f): no hypot needed */
    }
    double r = sqrt(wmax) * vbound + 1e-300, rho = tcgpu_cf4_radius(half, fa, fb, vbound);
    return r < rho ? r : rho;
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
    int total = 0;
    for (int half = 0; half < 2; ++half) {
        double ca, cb;
        tcgpu_cf4_half(half, &ca, &cb);
        TCGPU_SYNC(); /* w may still be read by the previous exponential */
        TCGPU_FOR(c, nclass) w[c] = TCGPU_FN(tcgpu_cf4_mix)(ca, cb, za[c], zb[c]);
        double rho = TCGPU_FN(tcgpu_cf4_rho)(half, nclass, za, zb, fa, fb, vbound);
        int n = TCGPU_FN(tcgpu_expmv)(A, w, rho, h, x, t0, t1, t2, J, nmax);
        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}
