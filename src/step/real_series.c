/* The Chebyshev series of tc with one or two channels in real arithmetic (step.h:
 * tcgpu_real_series), host only.
 *
 * Why kernels of their own: each channel's couplings carry one phase class, so a Magnus
 * exponent is M = sum_k (w_k L_k + conj(w_k) L_k^T) = D (sum_k r_k S_k) D^+ with S_k = L_k + L_k^T
 * the real couplings of channel k, w_k = r_k e^{i theta_k} and D = diag(e^{i sum_k theta_k n_k}).
 * The series is then real arithmetic on the rotated state's real and imaginary parts (SoA):
 * per row and term two multiply-adds per link, where the generic application (step_body.h)
 * multiplies complex weights per link and makes a second pass for the recurrence and two
 * copies. One channel (a chain) computes a block of rows and TCGPU_SERIES_LEVELS terms at a
 * time, skewed by a row per term (term q of a block covers rows [a - q, a + B - q)), so a
 * block's vectors stay in the first-level cache for all its terms. tc K = 1, N = 10^4 and 10^5,
 * one thread: ~5 ns per row and term for the generic series, ~1 ns here (docs/numerics.md). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "step.h"

/* AVX-512 and AVX2/FMA clones beside the baseline one, chosen at load time (GCC on x86-64 with
 * ifunc); elsewhere the baseline build alone. Each row's operations are the same in every clone
 * (C11 mode: no contraction into FMAs), so the results are bit-identical; the AVX-512 clone's
 * wider loads take tc K = 1, N = 1e4 from 0.84 to 0.76 ns per row and term and K = 2, N = 20
 * from 2.6 to 2.0 (one thread, Xeon with AVX-512; docs/numerics.md). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&      \
    __GNUC__ >= 12
#define TCGPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TCGPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TCGPU_CLONES
#endif

#define TCGPU_SERIES_LEVELS 16 /* terms per pass over a block (chains, two channels) */
#define TCGPU_CHAIN_BLOCK 256 /* rows per block: 6 vectors and the links, ~14 KB */
#define TCGPU_PAIR_BLOCKED_ROWS 24000 /* two channels: terms blocked from this many rows */
#define TCGPU_PAIR_BLOCK 2048 /* ... and rows per block: with 15 (N + 2) rows of skew, ~0.5 MB
                               * of vectors and links at N = 300, within a core's L2 */

/* Term k of rows [lo, hi) (no edge row): T_k = s (L_i T_{k-1, i-1} + L_{i+1} T_{k-1, i+1}) -
 * T_{k-2, i}, written over T_{k-2} (dr, di), and added to the sum with the coefficient c
 * (odd = 0: real c; odd = 1: i c). */
static inline __attribute__((always_inline)) void
chain_term(int64_t lo, int64_t hi, double s, const double *restrict L, const double *restrict nr,
           const double *restrict ni, double *restrict dr, double *restrict di,
           double *restrict xr, double *restrict xi, double c, int odd) {
    if (!odd) {
        for (int64_t i = lo; i < hi; ++i) {
            double tr = s * (L[i] * nr[i - 1] + L[i + 1] * nr[i + 1]) - dr[i];
            double ti = s * (L[i] * ni[i - 1] + L[i + 1] * ni[i + 1]) - di[i];
            dr[i] = tr, di[i] = ti;
            xr[i] += c * tr, xi[i] += c * ti;
        }
    } else {
        for (int64_t i = lo; i < hi; ++i) {
            double tr = s * (L[i] * nr[i - 1] + L[i + 1] * nr[i + 1]) - dr[i];
            double ti = s * (L[i] * ni[i - 1] + L[i + 1] * ni[i + 1]) - di[i];
            dr[i] = tr, di[i] = ti;
            xr[i] -= c * ti, xi[i] += c * tr;
        }
    }
}

/* The same for an edge row i (its missing neighbour's link is 0; d >= 2). */
static inline void chain_edge(int64_t i, int64_t d, double s, const double *L, const double *nr,
                              const double *ni, double *dr, double *di, double *xr, double *xi,
                              double c, int odd) {
    double ar = 0, ai = 0;
    if (i > 0)
        ar += L[i] * nr[i - 1], ai += L[i] * ni[i - 1];
    if (i + 1 < d)
        ar += L[i + 1] * nr[i + 1], ai += L[i + 1] * ni[i + 1];
    double tr = s * ar - dr[i], ti = s * ai - di[i];
    dr[i] = tr, di[i] = ti;
    if (!odd)
        xr[i] += c * tr, xi[i] += c * ti;
    else
        xr[i] -= c * ti, xi[i] += c * tr;
}

/* The coefficient 2 (-i)^k J_k as (c, odd): k even: real 2 J_k (-1)^(k/2); k odd: i c. */
static double series_coef(int k, double Jk, int *odd) {
    *odd = k % 2;
    return (k % 4 == 0 || k % 4 == 3) ? 2 * Jk : -2 * Jk;
}

/* The terms of a blocked pass from term k0 (at most TCGPU_SERIES_LEVELS, up to n) and their
 * coefficients (series_coef); returns their count. */
static int pass_coefs(int k0, int n, const double *J, double *c, int *odd) {
    int levels = n - k0 + 1 < TCGPU_SERIES_LEVELS ? n - k0 + 1 : TCGPU_SERIES_LEVELS;
    for (int q = 0; q < levels; ++q)
        c[q] = series_coef(k0 + q, J[k0 + q], &odd[q]);
    return levels;
}

/* The unit phasor of w (1 where w = 0). */
static void phasor(tcgpu_cplx w, double *er, double *ei) {
    double r = sqrt(w.re * w.re + w.im * w.im); /* the weights are O(1): no hypot needed */
    *er = r > 0 ? w.re / r : 1;
    *ei = r > 0 ? w.im / r : 0;
}

/* One row turned by (pr, pi) between the AoS state and the SoA parts (to_soa: x -> (ar, ai);
 * else back); the caller gives the phase's sign. */
static inline void turn(double pr, double pi, int to_soa, tcgpu_cplx *x, double *ar, double *ai) {
    if (to_soa) {
        double xr = x->re, xi = x->im;
        *ar = pr * xr - pi * xi, *ai = pr * xi + pi * xr;
    } else {
        x->re = pr * *ar - pi * *ai, x->im = pr * *ai + pi * *ar;
    }
}

/* Rows j = 0 .. n - 1 of a run rotated by e^{i sign (phi + theta j)}, between the AoS state and
 * the SoA parts (to_soa: x -> (ar, ai), sign -1; else back, sign +1): the phase starts at
 * (pr, pi) = e^{i sign phi} and moves by the unit phasor (er, ei) = e^{i sign theta} per row,
 * from a sincos every 64 rows (64 roundings at most, ~1e-14). */
static void rotate_run(int64_t n, double phi, double theta, double pr, double pi, double er,
                       double ei, int to_soa, tcgpu_cplx *x, double *ar, double *ai) {
    double sign = to_soa ? -1 : 1;
    for (int64_t j = 0; j < n; ++j) {
        if (j % 64 == 0 && j > 0)
            pr = cos(phi + theta * (double)j), pi = sign * sin(phi + theta * (double)j);
        turn(pr, pi, to_soa, &x[j], &ar[j], &ai[j]);
        double q = pr * er - pi * ei;
        pi = pr * ei + pi * er;
        pr = q;
    }
}

/* Two channels in the square (N < TCGPU_PAIR_SQUARE_N): row (a, b) turns by u_a v_b, u and v
 * the powers of the two phasors (at most 47 roundings each), so that the rows of a block are
 * independent products, not one recurrence. */
static void rotate_square(int64_t N, double e1r, double e1i, double e2r, double e2i, int to_soa,
                          tcgpu_cplx *x, double *ar, double *ai) {
    double vr[TCGPU_PAIR_SQUARE_N], vi[TCGPU_PAIR_SQUARE_N], ur = 1, ui = 0;
    vr[0] = 1, vi[0] = 0;
    for (int64_t b = 1; b <= N; ++b)
        vr[b] = vr[b - 1] * e2r - vi[b - 1] * e2i, vi[b] = vr[b - 1] * e2i + vi[b - 1] * e2r;
    for (int64_t a = 0, j = 0; a <= N; j += N - a + 1, ++a) {
        tcgpu_cplx *y = x + j;
        double *yr = ar + a * (N + 1), *yi = ai + a * (N + 1);
        for (int64_t b = 0; b <= N - a; ++b) {
            turn(ur * vr[b] - ui * vi[b], ur * vi[b] + ui * vr[b], to_soa, &y[b], &yr[b], &yi[b]);
        }
        double q = ur * e1r - ui * e1i;
        ui = ur * e1i + ui * e1r, ur = q;
    }
}

/* The rotation D^(-+1) of K channels' state (K = 1: one run; K = 2 in the square:
 * rotate_square; else a run per block of fixed n1 = a, whose phase e^{i sign th1 a} moves by
 * the first weight's phasor, from a sincos every 64 blocks). Angles are taken only where a
 * sincos needs them (a sincos per block and the atan2 were a tenth of tc K = 2, N = 20). */
static void rotate(int K, int64_t N, const tcgpu_cplx *w, int to_soa, tcgpu_cplx *x, double *ar,
                   double *ai) {
    double sign = to_soa ? -1 : 1, e1r, e1i, e2r, e2i;
    phasor(w[0], &e1r, &e1i);
    e1i *= sign;
    double th1 = N >= 64 ? atan2(w[0].im, w[0].re) : 0;
    if (K == 1) {
        rotate_run(N + 1, 0, th1, 1, 0, e1r, e1i, to_soa, x, ar, ai);
        return;
    }
    phasor(w[1], &e2r, &e2i);
    e2i *= sign;
    if (N < TCGPU_PAIR_SQUARE_N) {
        rotate_square(N, e1r, e1i, e2r, e2i, to_soa, x, ar, ai);
        return;
    }
    double th2 = N >= 64 ? atan2(w[1].im, w[1].re) : 0, br = 1, bi = 0;
    for (int64_t a = 0, j = 0; a <= N; j += N - a + 1, ++a) {
        if (a % 64 == 0 && a > 0)
            br = cos(th1 * (double)a), bi = sign * sin(th1 * (double)a);
        int64_t r = tcgpu_real_row(N, a);
        rotate_run(N - a + 1, th1 * (double)a, th2, br, bi, e2r, e2i, to_soa, x + j, ar + r,
                   ai + r);
        double q = br * e1r - bi * e1i;
        bi = br * e1i + bi * e1r;
        br = q;
    }
}

/* Rows turned by the phasors ph (row i: ph[2 i] + i ph[2 i + 1]; to_soa: by their conjugates). */
static void rotate_rows(int64_t d, const double *ph, int to_soa, tcgpu_cplx *x, double *ar,
                        double *ai) {
    double sign = to_soa ? -1 : 1;
    for (int64_t i = 0; i < d; ++i)
        turn(ph[2 * i], sign * ph[2 * i + 1], to_soa, &x[i], &ar[i], &ai[i]);
}

/* A chain (d rows, links `link`), Y = scale V: tc's one channel (one phase, that of w[0]), or
 * the rows' own phasors ph (heff, whose links each carry their own phase; ph NULL: the one). */
TCGPU_CLONES static void chain_series(int64_t d, const double *link, double scale,
                                      const double *ph, const tcgpu_cplx *w, const double *J,
                                      int n, tcgpu_cplx *x, tcgpu_cplx *t0, tcgpu_cplx *t1,
                                      tcgpu_cplx *t2) {
    double *pr = (double *)t0, *pi = pr + d, *qr = (double *)t1, *qi = qr + d;
    double *xr = (double *)t2, *xi = xr + d;
    if (ph)
        rotate_rows(d, ph, 1, x, pr, pi);
    else
        rotate(1, d - 1, w, 1, x, pr, pi);
    /* T_1 = Y T_0 (Y = scale V), the sum J_0 T_0 + 2 (-i) J_1 T_1 */
    for (int64_t i = 0; i < d; ++i) {
        double ar = 0, ai = 0;
        if (i > 0)
            ar += link[i] * pr[i - 1], ai += link[i] * pi[i - 1];
        if (i + 1 < d)
            ar += link[i + 1] * pr[i + 1], ai += link[i + 1] * pi[i + 1];
        qr[i] = scale * ar, qi[i] = scale * ai;
        xr[i] = J[0] * pr[i] + 2 * J[1] * qi[i];
        xi[i] = J[0] * pi[i] - 2 * J[1] * qr[i];
    }
    double s = 2 * scale;
    for (int k0 = 2; k0 <= n; k0 += TCGPU_SERIES_LEVELS) {
        double c[TCGPU_SERIES_LEVELS];
        int odd[TCGPU_SERIES_LEVELS], levels = pass_coefs(k0, n, J, c, odd);
        for (int64_t a = 0; a < d + levels; a += TCGPU_CHAIN_BLOCK) {
            for (int q = 0; q < levels; ++q) {
                /* even q: T over p (neighbours q); odd q: over q (neighbours p) */
                double *dr = q % 2 ? qr : pr, *di = q % 2 ? qi : pi;
                const double *nr = q % 2 ? pr : qr, *ni = q % 2 ? pi : qi;
                int64_t lo = a - q, hi = a + TCGPU_CHAIN_BLOCK - q;
                lo = lo < 0 ? 0 : lo;
                hi = hi > d ? d : hi;
                if (lo >= hi)
                    continue;
                if (lo == 0)
                    chain_edge(0, d, s, link, nr, ni, dr, di, xr, xi, c[q], odd[q]), lo = 1;
                int last = hi == d;
                if (last)
                    --hi;
                if (lo < hi)
                    chain_term(lo, hi, s, link, nr, ni, dr, di, xr, xi, c[q], odd[q]);
                if (last && d - 1 >= lo)
                    chain_edge(d - 1, d, s, link, nr, ni, dr, di, xr, xi, c[q], odd[q]);
            }
        }
        if (levels % 2) { /* the last term is in p: it becomes T_{k-1} of the next pass */
            double *tr = pr, *ti = pi;
            pr = qr, pi = qi, qr = tr, qi = ti;
        }
    }
    if (ph)
        rotate_rows(d, ph, 0, x, xr, xi);
    else
        rotate(1, d - 1, w, 0, x, xr, xi);
}

/* heff: link i (rows i - 1, i) has class i - 1 and so its own weight w[i - 1] = r e^{i theta}:
 * M = D (sum r_i V_i) D^+ with D's phase the running sum of the thetas. Its scaled links and
 * phasors go into R's scratch for each exponential. */
static void heff_series(const tcgpu_real *R, const tcgpu_cplx *w, double rho, const double *J,
                        int n, tcgpu_cplx *x, tcgpu_cplx *t0, tcgpu_cplx *t1, tcgpu_cplx *t2) {
    int64_t d = R->dim;
    double *lk = R->soa, *ph = lk + d + 1, pr = 1, pi = 0;
    lk[0] = lk[d] = 0;
    ph[0] = 1, ph[1] = 0;
    for (int64_t i = 1; i < d; ++i) {
        double er, ei;
        phasor(w[i - 1], &er, &ei);
        double q = pr * er - pi * ei;
        pi = pr * ei + pi * er, pr = q;
        lk[i] = R->la[i] * sqrt(w[i - 1].re * w[i - 1].re + w[i - 1].im * w[i - 1].im);
        ph[2 * i] = pr, ph[2 * i + 1] = pi;
    }
    chain_series(d, lk, 1 / rho, ph, w, J, n, x, t0, t1, t2);
}

/* Row i's term of two channels (block a: its lower and upper n1 neighbours at i - dn, i + up):
 * s1 (la T_{i - dn} + ua T_{i + up}) + s2 (lb T_{i - 1} + ub T_{i + 1}). */
#define PAIR_Y(T, i)                                                                               \
    (s1 * (la[i] * (T)[(i) - dn] + ua[i] * (T)[(i) + up]) +                                        \
     s2 * (lb[i] * (T)[(i) - 1] + ub[i] * (T)[(i) + 1]))

/* Two channels: rows in blocks of fixed n1 = a (n2 = 0 .. N - a), every neighbour in range
 * through the zero ends of the SoA vectors. Below TCGPU_PAIR_SQUARE_N the rows are a square
 * (step.h), so one loop with fixed neighbour offsets runs over all of them: the blocks' loops
 * of 1 to N + 1 rows were mostly their own overhead there (tc K = 2, N = 10: 66 rows, ~7 terms
 * per exponential), and a loop reading each row's block offset did not vectorize. */

/* Term k on rows [lo, hi), n1 neighbours at i - dn and i + up: T_k over T_{k-2} (dr, di) and
 * into the sum with the coefficient c (odd: i c); a function of its own with restrict
 * arguments, so that the loops vectorize (as a macro inside pair_series they did not). */
static inline __attribute__((always_inline)) void
pair_term(int64_t lo, int64_t hi, int64_t dn, int64_t up, double s1, double s2,
          const double *restrict la, const double *restrict ua, const double *restrict lb,
          const double *restrict ub, const double *restrict nr, const double *restrict ni,
          double *restrict dr, double *restrict di, double *restrict xr, double *restrict xi,
          double c, int odd) {
    if (!odd)
        for (int64_t i = lo; i < hi; ++i) {
            double tr = PAIR_Y(nr, i) - dr[i], ti = PAIR_Y(ni, i) - di[i];
            dr[i] = tr, di[i] = ti;
            xr[i] += c * tr, xi[i] += c * ti;
        }
    else
        for (int64_t i = lo; i < hi; ++i) {
            double tr = PAIR_Y(nr, i) - dr[i], ti = PAIR_Y(ni, i) - di[i];
            dr[i] = tr, di[i] = ti;
            xr[i] -= c * ti, xi[i] += c * tr;
        }
}
/* The first term on rows [lo, hi): T_1 = Y T_0 into (qr, qi), the sum J_0 T_0 + 2 (-i) J_1 T_1
 * into (xr, xi). */
static inline __attribute__((always_inline)) void
pair_first(int64_t lo, int64_t hi, int64_t dn, int64_t up, double s1, double s2,
           const double *restrict la, const double *restrict ua, const double *restrict lb,
           const double *restrict ub, const double *restrict pr, const double *restrict pi,
           double *restrict qr, double *restrict qi, double *restrict xr, double *restrict xi,
           double j0, double j1) {
    for (int64_t i = lo; i < hi; ++i) {
        qr[i] = PAIR_Y(pr, i), qi[i] = PAIR_Y(pi, i);
        xr[i] = j0 * pr[i] + 2 * j1 * qi[i];
        xi[i] = j0 * pi[i] - 2 * j1 * qr[i];
    }
}

TCGPU_CLONES static void pair_series(const tcgpu_real *R, const tcgpu_cplx *w, double rho,
                                     const double *J, int n, tcgpu_cplx *x) {
    const int64_t N = R->N, rows = tcgpu_real_rows(N), pad = N + 2, stride = rows + 2 * pad;
    const int square = N < TCGPU_PAIR_SQUARE_N;
    const double *restrict la = R->la, *restrict ua = R->ua, *restrict lb = R->lb,
                           *restrict ub = R->ub;
    double *pr = R->soa + pad, *pi = pr + stride, *qr = pi + stride, *qi = qr + stride;
    double *restrict xr = qi + stride, *restrict xi = xr + stride;
    double s1 = sqrt(w[0].re * w[0].re + w[0].im * w[0].im) / rho,
           s2 = sqrt(w[1].re * w[1].re + w[1].im * w[1].im) / rho;
    rotate(2, N, w, 1, x, pr, pi);
    if (square) /* the rows past n1 + n2 = N: 0 from 0 */
        pair_first(0, rows, N + 1, N + 1, s1, s2, la, ua, lb, ub, pr, pi, qr, qi, xr, xi, J[0],
                   J[1]);
    else
        for (int64_t a = 0, i0 = 0; a <= N; i0 += N - a + 1, ++a)
            pair_first(i0, i0 + N - a + 1, N - a + 2, N - a + 1, s1, s2, la, ua, lb, ub, pr, pi,
                       qr, qi, xr, xi, J[0], J[1]);
    s1 *= 2, s2 *= 2;
    if (square || rows < TCGPU_PAIR_BLOCKED_ROWS) {
        for (int k = 2; k <= n; ++k) {
            int odd;
            double c = series_coef(k, J[k], &odd);
            if (square)
                pair_term(0, rows, N + 1, N + 1, s1, s2, la, ua, lb, ub, qr, qi, pr, pi, xr, xi,
                          c, odd);
            else
                for (int64_t a = 0, i0 = 0; a <= N; i0 += N - a + 1, ++a)
                    pair_term(i0, i0 + N - a + 1, N - a + 2, N - a + 1, s1, s2, la, ua, lb, ub,
                              qr, qi, pr, pi, xr, xi, c, odd);
            double *t = pr;
            pr = qr, qr = t, t = pi, pi = qi, qi = t;
        }
        rotate(2, N, w, 0, x, xr, xi);
        return;
    }
    /* As the chain's: TCGPU_SERIES_LEVELS terms per pass over blocks of rows, term q of a block
     * skewed back by q S rows, S = N + 2 the farthest neighbour (a row's n1 neighbours lie
     * N - n1 + 1 and N - n1 + 2 rows away), so that each term finds its neighbours' previous
     * term computed and not yet overwritten; the rows' operations and their order are the
     * unblocked loop's. Where the six vectors and four links leave a core's L2 (2 MB here)
     * the unblocked loop is memory-bound: one thread, ns per row and term unblocked ->
     * blocked, tc K = 2, N = 300 (45451 rows): 3.0 -> 1.8; N = 250 (31626): 2.4 -> 1.8;
     * N = 200 (20301): 1.75 both; N = 100 (5151) 1.65 -> 1.8, hence the threshold. */
    const int64_t S = N + 2;
    for (int k0 = 2; k0 <= n; k0 += TCGPU_SERIES_LEVELS) {
        double c[TCGPU_SERIES_LEVELS];
        int odd[TCGPU_SERIES_LEVELS], levels = pass_coefs(k0, n, J, c, odd);
        for (int64_t b0 = 0; b0 < rows + (levels - 1) * S; b0 += TCGPU_PAIR_BLOCK) {
            for (int q = 0; q < levels; ++q) {
                /* even q: T over p (neighbours q); odd q: over q (neighbours p) */
                double *dr = q % 2 ? qr : pr, *di = q % 2 ? qi : pi;
                const double *nr = q % 2 ? pr : qr, *ni = q % 2 ? pi : qi;
                int64_t lo = b0 - q * S, hi = lo + TCGPU_PAIR_BLOCK;
                lo = lo < 0 ? 0 : lo;
                hi = hi > rows ? rows : hi;
                if (lo >= hi)
                    continue;
                /* the n1 block a holding row lo: the largest a with row(a) <= lo */
                int64_t a = 0, top = N;
                while (a < top) {
                    int64_t mid = (a + top + 1) / 2;
                    if (tcgpu_real_row(N, mid) <= lo)
                        a = mid;
                    else
                        top = mid - 1;
                }
                for (int64_t i0 = tcgpu_real_row(N, a); a <= N && i0 < hi;
                     i0 += N - a + 1, ++a) {
                    int64_t r0 = i0 > lo ? i0 : lo, r1 = i0 + N - a + 1 < hi ? i0 + N - a + 1 : hi;
                    pair_term(r0, r1, N - a + 2, N - a + 1, s1, s2, la, ua, lb, ub, nr, ni, dr,
                              di, xr, xi, c[q], odd[q]);
                }
            }
        }
        if (levels % 2) { /* the last term is in p: it becomes T_{k-1} of the next pass */
            double *t = pr;
            pr = qr, qr = t, t = pi, pi = qi, qi = t;
        }
    }
    rotate(2, N, w, 0, x, xr, xi);
}
#undef PAIR_Y

/* K >= 3: M = D (sum_k r_k S_k) D^+ with D = diag(prod_k u_k^{n_k}), u_k the unit phasor of
 * w_k, applied row by row from the CSR (columns and values gathered; the channels' moduli
 * folded into the values once per exponential). The phasors' powers come from products, a
 * sincos every 64 (as rotate_run). */
static void multi_phases(const tcgpu_real *R, const tcgpu_cplx *w, double *pw, double *ph) {
    const int K = R->K;
    const int64_t N = R->N, d = R->dim;
    for (int k = 0; k < K; ++k) {
        double *p = pw + 2 * k * (N + 1), er, ei, th = atan2(w[k].im, w[k].re);
        phasor(w[k], &er, &ei);
        p[0] = 1, p[1] = 0;
        for (int64_t q = 1; q <= N; ++q) {
            if (q % 64 == 0)
                p[2 * q] = cos(th * (double)q), p[2 * q + 1] = sin(th * (double)q);
            else
                p[2 * q] = p[2 * q - 2] * er - p[2 * q - 1] * ei,
                      p[2 * q + 1] = p[2 * q - 2] * ei + p[2 * q - 1] * er;
        }
    }
    for (int64_t i = 0; i < d; ++i) {
        double pr = 1, pi = 0;
        for (int k = 0; k < K; ++k) {
            const double *p = pw + 2 * (k * (N + 1) + R->lab[i * K + k]);
            double q = pr * p[0] - pi * p[1];
            pi = pr * p[1] + pi * p[0], pr = q;
        }
        ph[2 * i] = pr, ph[2 * i + 1] = pi;
    }
}

/* y = S x (real S: the scaled values sv) on the SoA parts, rows [0, d). */
static inline __attribute__((always_inline)) void
csr_apply_row(int64_t i, const int64_t *restrict rp, const int32_t *restrict col,
              const double *restrict sv, const double *restrict xr, const double *restrict xi,
              double *yr, double *yi) {
    double ar = 0, ai = 0;
    for (int64_t e = rp[i]; e < rp[i + 1]; ++e)
        ar += sv[e] * xr[col[e]], ai += sv[e] * xi[col[e]];
    *yr = ar, *yi = ai;
}

TCGPU_CLONES static void multi_series(const tcgpu_real *R, const tcgpu_cplx *w, double rho,
                                      const double *J, int n, tcgpu_cplx *x) {
    const int64_t d = R->dim, *restrict rp = R->row_ptr, nnz = rp[d];
    const int32_t *restrict col = R->col;
    double *pr = R->soa, *pi = pr + d, *qr = pi + d, *qi = qr + d;
    double *restrict xr = qi + d, *restrict xi = xr + d, *ph = xi + d, *sv = ph + 2 * d;
    double *pw = sv + nnz, s[TCGPU_MAX_REAL_K];
    for (int k = 0; k < R->K; ++k)
        s[k] = sqrt(w[k].re * w[k].re + w[k].im * w[k].im) / rho;
    for (int64_t e = 0; e < nnz; ++e)
        sv[e] = s[R->ch[e]] * R->val[e];
    multi_phases(R, w, pw, ph);
    rotate_rows(d, ph, 1, x, pr, pi);
    for (int64_t i = 0; i < d; ++i) {
        csr_apply_row(i, rp, col, sv, pr, pi, &qr[i], &qi[i]);
        xr[i] = J[0] * pr[i] + 2 * J[1] * qi[i];
        xi[i] = J[0] * pi[i] - 2 * J[1] * qr[i];
    }
    for (int k = 2; k <= n; ++k) {
        int odd;
        double c = series_coef(k, J[k], &odd);
        for (int64_t i = 0; i < d; ++i) {
            double yr, yi;
            csr_apply_row(i, rp, col, sv, qr, qi, &yr, &yi);
            double tr = 2 * yr - pr[i], ti = 2 * yi - pi[i];
            pr[i] = tr, pi[i] = ti;
            if (!odd)
                xr[i] += c * tr, xi[i] += c * ti;
            else
                xr[i] -= c * ti, xi[i] += c * tr;
        }
        double *t = pr;
        pr = qr, qr = t, t = pi, pi = qi, qi = t;
    }
    rotate_rows(d, ph, 0, x, xr, xi);
}

void tcgpu_real_series(const tcgpu_real *R, const tcgpu_cplx *w, double rho, const double *J,
                       int n, tcgpu_cplx *x, tcgpu_cplx *t0, tcgpu_cplx *t1, tcgpu_cplx *t2) {
    if (R->K == 1 && R->heff)
        heff_series(R, w, rho, J, n, x, t0, t1, t2);
    else if (R->K == 1)
        chain_series(R->dim, R->la, sqrt(w[0].re * w[0].re + w[0].im * w[0].im) / rho, NULL, w,
                     J, n, x, t0, t1, t2);
    else if (R->K == 2)
        pair_series(R, w, rho, J, n, x);
    else
        multi_series(R, w, rho, J, n, x);
}
