/* Step math shared by the CPU backend and the CUDA kernels: one source of truth for each step.
 * Plain C (C11 and CUDA C++ both compile it); no allocation, no library calls but libm.
 *
 * The state is evolved in the interaction picture of the diagonal, i dphi/dt = M(t) phi with
 * M_ij = f(t) V_ij exp(i dtheta_c(t)) (model.h). A step only needs, per phase class c, the
 * complex weight z_c multiplying the links of that class, so M applications are one pass over
 * the CSR couplings whatever the combination of times a Magnus exponent mixes. */
#ifndef TCGPU_STEP_H
#define TCGPU_STEP_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define TCGPU_HD __host__ __device__
#else
#define TCGPU_HD
#endif

/* Block parallelism: on the device one thread block advances one sweep, its threads striding
 * over rows and elements; on the host the same loops run plainly. TCGPU_SYNC() stands wherever
 * a later loop reads elements another thread wrote (or overwrites elements another thread may
 * still read). TCGPU_LEADER is true in one thread: scalar work that writes shared scratch. */
#ifdef __CUDA_ARCH__
#define TCGPU_FOR(i, n) for (int64_t i = threadIdx.x; i < (n); i += blockDim.x)
#define TCGPU_SYNC() __syncthreads()
#define TCGPU_LEADER (threadIdx.x == 0)
#else
#define TCGPU_FOR(i, n) for (int64_t i = 0; i < (n); ++i)
#define TCGPU_SYNC() ((void)0)
#define TCGPU_LEADER 1
#endif

typedef struct {
    double re, im;
} tcgpu_cplx;

typedef struct {
    int64_t dim;
    const int64_t *row_ptr, *col;
    const double *val;
    const int32_t *cls;
} tcgpu_csr;

/* y = M x, M_ij = val * z[c] for cls = c + 1 > 0 and val * conj(z[c]) for cls = -(c + 1).
 * Synchronizes on entry (x, z complete) and exit (y complete, x free to overwrite). */
TCGPU_HD static inline void tcgpu_apply(const tcgpu_csr *A, const tcgpu_cplx *z,
                                        const tcgpu_cplx *x, tcgpu_cplx *y) {
    TCGPU_SYNC();
    TCGPU_FOR(i, A->dim) {
        double re = 0, im = 0;
        for (int64_t e = A->row_ptr[i]; e < A->row_ptr[i + 1]; ++e) {
            int32_t c = A->cls[e];
            tcgpu_cplx w = z[c > 0 ? c - 1 : -c - 1];
            double wi = c > 0 ? w.im : -w.im, v = A->val[e];
            tcgpu_cplx xv = x[A->col[e]];
            re += v * (w.re * xv.re - wi * xv.im);
            im += v * (w.re * xv.im + wi * xv.re);
        }
        y[i].re = re;
        y[i].im = im;
    }
    TCGPU_SYNC();
}

/* J_0..J_n(tau) by Miller's backward recurrence, normalized by J_0 + 2 sum J_2k = 1.
 * Returns n, the last order with |J_n| above 1e-18 past tau (at most nmax). */
TCGPU_HD static inline int tcgpu_bessel_j(double tau, int nmax, double *J) {
    if (tau < 1e-300) {
        J[0] = 1;
        return 0;
    }
    int start = (int)(tau + 12 * cbrt(tau) + 30);
    if (start > nmax + 40)
        start = nmax + 40;
    if (start % 2)
        ++start;
    double jp = 0, j = 1e-280, norm = 0;
    for (int k = start; k > 0; --k) {
        double jm = 2.0 * k / tau * j - jp;
        if (k - 1 <= nmax)
            J[k - 1] = jm;
        if (k <= nmax)
            J[k] = j;
        if ((k - 1) % 2 == 0)
            norm += (k - 1 == 0 ? 1.0 : 2.0) * jm;
        jp = j;
        j = jm;
        if (fabs(j) > 1e250) { /* rescale what was computed so far */
            for (int q = k - 1; q <= nmax && q <= start; ++q)
                J[q] *= 1e-250;
            jp *= 1e-250;
            j *= 1e-250;
            norm *= 1e-250;
        }
    }
    int n = 0;
    for (int k = 0; k <= nmax && k <= start; ++k) {
        J[k] /= norm;
        if (k > tau && fabs(J[k]) < 1e-18)
            break;
        n = k;
    }
    return n;
}

/* x <- exp(-i h M) x by the Chebyshev series, spectrum of M within [-rho, rho].
 * Work: t0, t1, t2 (dim each). J: nmax + 1 doubles (shared by the block on the device: one
 * thread fills it). Returns applications of M, or -1 when nmax terms were not enough. */
TCGPU_HD static inline int tcgpu_expmv(const tcgpu_csr *A, const tcgpu_cplx *z, double rho,
                                       double h, tcgpu_cplx *x, tcgpu_cplx *t0, tcgpu_cplx *t1,
                                       tcgpu_cplx *t2, double *J, int nmax) {
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
    double inv = 1.0 / rho;
    /* acc = J0 x + 2 sum (-i)^k J_k T_k x, with T_k on X = M / rho. */
    TCGPU_FOR(i, d) t0[i] = x[i];
    tcgpu_apply(A, z, t0, t1);
    TCGPU_FOR(i, d) {
        t1[i].re *= inv;
        t1[i].im *= inv;
        /* (-i) J1 * 2 * t1 */
        x[i].re = J[0] * t0[i].re + 2 * J[1] * t1[i].im;
        x[i].im = J[0] * t0[i].im - 2 * J[1] * t1[i].re;
    }
    for (int k = 2; k <= n; ++k) {
        tcgpu_apply(A, z, t1, t2);
        /* (-i)^k = 1, -i, -1, i for k mod 4 = 0, 1, 2, 3 */
        double cr = (k % 4 == 0) ? 2 * J[k] : (k % 4 == 2) ? -2 * J[k] : 0;
        double ci = (k % 4 == 1) ? -2 * J[k] : (k % 4 == 3) ? 2 * J[k] : 0;
        TCGPU_FOR(i, d) {
            tcgpu_cplx tn = {2 * inv * t2[i].re - t0[i].re, 2 * inv * t2[i].im - t0[i].im};
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
TCGPU_HD static inline void tcgpu_axpy_mi(int64_t d, double a, const tcgpu_cplx *mx,
                                          const tcgpu_cplx *x, tcgpu_cplx *y) {
    TCGPU_FOR(i, d) {
        y[i].re = x[i].re + a * mx[i].im;
        y[i].im = x[i].im - a * mx[i].re;
    }
}

/* Classical RK4 for dphi/dt = -i M(t) phi. z1, z2, z3: class weights at t, t + h/2, t + h.
 * Work: k (dim), s (dim), acc (dim). */
TCGPU_HD static inline void tcgpu_rk4_step(const tcgpu_csr *A, const tcgpu_cplx *z1,
                                           const tcgpu_cplx *z2, const tcgpu_cplx *z3, double h,
                                           tcgpu_cplx *x, tcgpu_cplx *k, tcgpu_cplx *s,
                                           tcgpu_cplx *acc) {
    int64_t d = A->dim;
    tcgpu_apply(A, z1, x, k); /* k1 */
    tcgpu_axpy_mi(d, h / 6, k, x, acc);
    tcgpu_axpy_mi(d, h / 2, k, x, s);
    tcgpu_apply(A, z2, s, k); /* k2 */
    TCGPU_FOR(i, d) {
        acc[i].re += h / 3 * k[i].im;
        acc[i].im -= h / 3 * k[i].re;
    }
    tcgpu_axpy_mi(d, h / 2, k, x, s);
    tcgpu_apply(A, z2, s, k); /* k3 */
    TCGPU_FOR(i, d) {
        acc[i].re += h / 3 * k[i].im;
        acc[i].im -= h / 3 * k[i].re;
    }
    tcgpu_axpy_mi(d, h, k, x, s);
    tcgpu_apply(A, z3, s, k); /* k4 */
    TCGPU_FOR(i, d) {
        x[i].re = acc[i].re + h / 6 * k[i].im;
        x[i].im = acc[i].im - h / 6 * k[i].re;
    }
    TCGPU_SYNC();
}

/* Commutator-free Magnus-4 (Blanes-Moan): Gauss nodes t + (1/2 -+ sqrt3/6) h with weights
 * za, zb; x <- exp(-i h (a2 Ma + a1 Mb)) then exp(-i h (a1 Ma + a2 Mb)), a1,2 = 1/4 -+ sqrt3/6
 * (the exponent applied first leans on the earlier node). w: scratch class weights (nclass).
 * vbound: max row sum of |V|; fa, fb: |f| at the nodes. Returns M applications or -1. */
TCGPU_HD static inline int tcgpu_cf4_step(const tcgpu_csr *A, int nclass, const tcgpu_cplx *za,
                                          const tcgpu_cplx *zb, double fa, double fb, double vbound,
                                          double h, tcgpu_cplx *x, tcgpu_cplx *w, tcgpu_cplx *t0,
                                          tcgpu_cplx *t1, tcgpu_cplx *t2, double *J, int nmax) {
    const double a1 = 0.25 - 0.28867513459481288225, a2 = 0.25 + 0.28867513459481288225;
    double rho = vbound * (fabs(a1) * fa + fabs(a2) * fb) + 1e-300;
    int total = 0;
    for (int half = 0; half < 2; ++half) {
        double ca = half == 0 ? a2 : a1, cb = half == 0 ? a1 : a2;
        TCGPU_SYNC(); /* w may still be read by the previous exponential */
        TCGPU_FOR(c, nclass) {
            w[c].re = ca * za[c].re + cb * zb[c].re;
            w[c].im = ca * za[c].im + cb * zb[c].im;
        }
        double r = vbound * (fabs(ca) * fa + fabs(cb) * fb) + 1e-300;
        int n = tcgpu_expmv(A, w, r > rho ? rho : r, h, x, t0, t1, t2, J, nmax);
        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}

#endif
