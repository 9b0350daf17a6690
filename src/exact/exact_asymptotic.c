/* The critical sweep rate, the peak position, the N -> infinity Euler means and the paper's
 * asymptotic forms (eqs 45-55, 64-70, 76), kept beside the exact results they approximate. */
#include <float.h>
#include <stdlib.h>

#include "exact_internal.h"
#include "tcgpu/exact.h"

static const long double euler_gamma_l = 0.5772156649015328606065120900824L;
static const double two_pi = 6.283185307179586476925286766559;

tcgpu_status tcgpu_exact_beta_c(int64_t N, double g, double *beta_c) {
    long double c;
    tcgpu_status st = tcgpu_exact_c(g, 1.0, &c); /* validates g; c = 2 pi g^2 */
    if (st)
        return st;
    if (N < 1)
        return tcgpu_fail(TCGPU_EINVAL,
                          "N = %lld: the critical rate (P_0 = P_1) needs N >= 1 molecules",
                          (long long)N);
    /* Root of h(a) = ln(1 - e^-a) + N a (x = e^-a): increasing, h(0+) < 0 <= h(ln 2).
     * Safeguarded Newton on the bracket [lo, hi]. */
    long double lo = 0, hi = 0.6931471805599453094L, a = logl((long double)N + 1) / (N + 1);
    if (!(a > lo && a < hi))
        a = 0.5L * hi;
    for (int it = 0; it < 400; ++it) {
        long double h = log1mexp_l(a) + (long double)N * a;
        if (h < 0)
            lo = a;
        else
            hi = a;
        long double next = a - h / (1.0L / expm1l(a) + (long double)N);
        if (!(next > lo && next < hi))
            next = 0.5L * (lo + hi);
        if (fabsl(next - a) <= 4 * LDBL_EPSILON * a) {
            a = next;
            break;
        }
        a = next;
    }
    *beta_c = (double)(c / a);
    return TCGPU_OK;
}

tcgpu_status tcgpu_exact_m_max(int64_t N, double g, double beta, int64_t *m_max) {
    if (N < 0)
        return tcgpu_fail(TCGPU_EINVAL, "N = %lld: the number of molecules must be >= 0",
                          (long long)N);
    double *p = malloc(((size_t)N + 1) * sizeof *p);
    if (!p)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for N = %lld", (long long)N);
    tcgpu_status st = tcgpu_exact_tc_single(N, g, beta, p);
    if (!st) {
        int64_t best = 0;
        for (int64_t m = 1; m <= N; ++m)
            if (p[m] > p[best])
                best = m;
        *m_max = best;
    }
    free(p);
    return st;
}

/* sum_{j>=J} f(j), f(j) = 1/(e^{c j} - 1), by Euler-Maclaurin: integral + f/2 - sum of
 * B_2k/(2k)! f^(2k-1). With u = c j, d^m f/du^m = (-1)^m sum_k (k-1)! S(m+1,k) f^k. For
 * J >= 40 the first omitted term is below 1e-16 of the sum. */
static long double euler_maclaurin_tail(long double c, int64_t J) {
    long double f = 1.0L / expm1l(c * (long double)J);
    long double f2 = f * f, f3 = f2 * f, f4 = f3 * f, f5 = f4 * f, f6 = f5 * f, f7 = f6 * f,
                f8 = f7 * f;
    long double d1 = -(f + f2);
    long double d3 = -(f + 7 * f2 + 12 * f3 + 6 * f4);
    long double d5 = -(f + 31 * f2 + 180 * f3 + 390 * f4 + 360 * f5 + 120 * f6);
    long double d7 =
        -(f + 127 * f2 + 1932 * f3 + 10206 * f4 + 25200 * f5 + 31920 * f6 + 20160 * f7 + 5040 * f8);
    long double c2 = c * c, c3 = c2 * c, c5 = c3 * c2, c7 = c5 * c2;
    long double integral = -log1mexp_l(c * (long double)J) / c;
    return integral + 0.5L * f - c * d1 / 12 + c3 * d3 / 720 - c5 * d5 / 30240 + c7 * d7 / 1209600;
}

long double tcgpu_euler_mean(long double c, int a) {
    ksum s = {0, 0};
    if (c >= 0.05L) {
        for (int64_t j = a;; ++j) {
            long double term = 1.0L / expm1l(c * (long double)j);
            ksum_add(&s, term);
            if (term == 0 || term < 1e-22L * ksum_get(&s))
                break;
        }
        return ksum_get(&s);
    }
    int64_t J = a + 40;
    for (int64_t j = a; j < J; ++j)
        ksum_add(&s, 1.0L / expm1l(c * (long double)j));
    ksum_add(&s, euler_maclaurin_tail(c, J));
    return ksum_get(&s);
}

static double gamma_of(double g, double beta) { return beta / (two_pi * g * g); }

static long double c_of(double g, double beta) {
    long double c = 0;
    return tcgpu_exact_c(g, beta, &c) ? NAN : c;
}

double tcgpu_asym_nu_eq46(double g, double beta) {
    long double c = c_of(g, beta);
    return (double)((euler_gamma_l - log1mexp_l(c)) / c);
}

double tcgpu_asym_nu_eq46_log(double g, double beta) {
    double G = gamma_of(g, beta);
    return G * (log(G) + (double)euler_gamma_l);
}

double tcgpu_asym_n_ex_eq52(double g, double beta) {
    long double c = c_of(g, beta);
    return (double)(-log1mexp_l(c) / c);
}

double tcgpu_asym_n_ex_eq53(double g, double beta) {
    double G = gamma_of(g, beta);
    return G * log(G);
}

double tcgpu_asym_n1_fast_eq64(int64_t N, double g, double beta) {
    return (double)expm1l(c_of(g, beta) * (long double)N);
}

double tcgpu_asym_n_fast_eq65(int64_t N, double g, double beta) {
    return 2 * tcgpu_asym_n1_fast_eq64(N, g, beta);
}

double tcgpu_asym_nu_plus_eq68(double g, double beta) {
    double G = gamma_of(g, beta);
    return G * (log(G) - (1 - (double)euler_gamma_l));
}

double tcgpu_asym_n2_eq69(double g, double beta) { return gamma_of(g, beta); }

double tcgpu_asym_n2_limit(double g, double beta) { return (double)(1.0L / expm1l(c_of(g, beta))); }

double tcgpu_asym_eta_eq70(int64_t N, double g, double beta) {
    return 1 - 2 * gamma_of(g, beta) / (double)N;
}

double tcgpu_asym_beta_c_eq50(int64_t N, double g) {
    if (N < 2)
        return NAN;
    double L = log((double)N);
    return two_pi * g * g * (double)N / (L - log(L - log(L)));
}

double tcgpu_asym_m_max_eq54(int64_t N, double g, double beta, double beta_c) {
    if (!(beta <= beta_c))
        return 0;
    long double c = c_of(g, beta);
    return (double)((long double)N + log1mexp_l(c) / c);
}

double tcgpu_asym_heff_n2_eq76_coth(double g, double beta) {
    /* coth(c/2)/2 - 1/2 = 1/(e^c - 1) */
    return (double)(1.0L / expm1l(c_of(g, beta)));
}

double tcgpu_asym_heff_n2_eq76_linear(double g, double beta) { return gamma_of(g, beta) - 0.5; }
