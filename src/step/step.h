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

#include "banded.h"
#include "hostdev.h"

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

/* fp64 (the default) and fp32 (--precision single) amplitudes and couplings. */
typedef struct {
    double re, im;
} tcgpu_cplx;

typedef struct {
    float re, im;
} tcgpu_cplxf;

/* Host only (src/step/real_series.c): tc with one or two channels, whose exponents are real
 * up to a diagonal phase. Row i = (a, b) (K = 1: a = i) links to (a - 1, b) with la[i], to
 * (a + 1, b) with ua[i], to (a, b - 1) with lb[i], to (a, b + 1) with ub[i] (0 where the link
 * does not exist; K = 1: la[i] = link (i - 1, i), la[dim] = 0, the rest NULL). K = 2 rows are
 * at tcgpu_real_row: below TCGPU_PAIR_SQUARE_N a square of (N + 1)^2 rows whose rows past
 * a + b = N have no links and stay 0, so that every row's neighbours lie at the same offsets
 * (N + 1 and 1) and the term loop vectorizes; from it on, the basis order. soa (K = 2): the
 * series' six real vectors, each tcgpu_real_rows + 2 (N + 2) doubles with zero ends, so that
 * every neighbour's index is in range; one per work space. */
#define TCGPU_PAIR_SQUARE_N 48
#define TCGPU_MAX_REAL_K 16 /* channels of the K >= 3 real series */
typedef struct tcgpu_real {
    int K, heff; /* heff: a chain whose links each carry their own phase; soa its 3 dim + 1
                  * doubles of scratch (scaled links, phasors) */
    int64_t N, dim;
    const double *la, *ua, *lb, *ub;
    double *soa;
    /* K >= 3 (la .. ub NULL): the model's couplings (CSR, both triangles, columns as int32),
     * each entry's channel ch, and the rows' occupations lab (dim x K); soa then holds
     * 8 dim + nnz + 2 K (N + 1) doubles of scratch. */
    const int64_t *row_ptr;
    const int32_t *col;
    const double *val;
    const unsigned char *ch;
    const int32_t *lab;
} tcgpu_real;

static inline int64_t tcgpu_real_rows(int64_t N) {
    return N < TCGPU_PAIR_SQUARE_N ? (N + 1) * (N + 1) : (N + 1) * (N + 2) / 2;
}

/* The first row of n1 = a (its n2 = 0 .. N - a follow). */
static inline int64_t tcgpu_real_row(int64_t N, int64_t a) {
    return N < TCGPU_PAIR_SQUARE_N ? a * (N + 1) : a * (N + 1) - a * (a - 1) / 2;
}

typedef struct {
    int64_t dim;
    const int64_t *row_ptr, *col;
    const double *val;
    const int32_t *cls;
    tcgpu_band band; /* kind != NONE: the links computed on the fly, the arrays unused */
    /* Host only, with a band of tc K <= 2 or heff: root[s] = sqrt(N - s + 1), s = 0 .. N + 1,
     * for the blocked application (step_body.h); NULL elsewhere (and always on the device). */
    const double *root;
    /* Host only, tc K = 1 and 2 with root: the real couplings of tcgpu_real_series; NULL
     * elsewhere (and on the device). */
    const struct tcgpu_real *real;
} tcgpu_csr;

typedef struct {
    int64_t dim;
    const int64_t *row_ptr, *col;
    const float *val;
    const int32_t *cls;
    tcgpu_band band;
    const double *root;
} tcgpu_csrf;

/* J_0..J_n(tau) by Miller's backward recurrence, normalized by J_0 + 2 sum J_2k = 1.
 * Returns n, the last order with |J_n| above TCGPU_CHEB_CUT past tau (at most nmax). The cut
 * is the norm's budget: the truncated tail leaves a biased norm defect of about the cut per
 * exponential. Cutting at 1e-16 saved 5-10 % of the applications, but the acceptance matrix's
 * longest sweep (tc K = 2, N = 10, eps = 0.1, beta = 100: 5.6e6 steps) then drifted by 4.2e-10
 * against its 1.1e-10 bound (1e-15: do K = 5, beta = 30 drifted 1.4e-10 in 2.3e5 steps). */
#ifndef TCGPU_CHEB_CUT
#define TCGPU_CHEB_CUT 1e-18
#endif
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
        if (k > tau && fabs(J[k]) < TCGPU_CHEB_CUT)
            break;
        n = k;
    }
    return n;
}

/* Commutator-free Magnus-4 (Blanes-Moan): exponent half 0 is a2 Ma + a1 Mb, half 1 is
 * a1 Ma + a2 Mb, a1,2 = 1/4 -+ sqrt3/6, Ma, Mb at the Gauss nodes (the exponent applied first
 * leans on the earlier node). */
TCGPU_HD static inline void tcgpu_cf4_half(int half, double *ca, double *cb) {
    const double a1 = 0.25 - 0.28867513459481288225, a2 = 0.25 + 0.28867513459481288225;
    *ca = half == 0 ? a2 : a1;
    *cb = half == 0 ? a1 : a2;
}

/* Spectral radius bound of a half's exponent from vbound (max row sum of |V|) and |f| at the
 * nodes, fa and fb: the smaller of the half's own bound and the later-leaning one. */
TCGPU_HD static inline double tcgpu_cf4_radius(int half, double fa, double fb, double vbound) {
    double a1, a2, ca, cb;
    tcgpu_cf4_half(1, &a1, &a2);
    tcgpu_cf4_half(half, &ca, &cb);
    double rho = vbound * (fabs(a1) * fa + fabs(a2) * fb) + 1e-300;
    double r = vbound * (fabs(ca) * fa + fabs(cb) * fb) + 1e-300;
    return r > rho ? rho : r;
}

#ifndef __CUDA_ARCH__
#ifdef __cplusplus
extern "C" {
#endif
/* The Chebyshev series of exp(-i h M) x (tcgpu_expmv's, rounded in another order): w the class
 * weights (K of them), rho the bound of M's spectrum, J_0..J_n (n >= 1) the Bessel
 * coefficients of h rho; t0, t1, t2 (dim complex each): scratch for K = 1. dim >= 3. */
void tcgpu_real_series(const tcgpu_real *R, const tcgpu_cplx *w, double rho, const double *J,
                       int n, tcgpu_cplx *x, tcgpu_cplx *t0, tcgpu_cplx *t1, tcgpu_cplx *t2);
#ifdef __cplusplus
}
#endif
#endif

#define TCGPU_BODY "step_body.h"
#include "instantiate.h"

#endif
