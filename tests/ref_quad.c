#include "ref_quad.h"

#include <quadmath.h>
#include <stdlib.h>

typedef __float128 quad;

static quad c_of(double g, double beta) { return 2 * M_PIq * (quad)g * (quad)g / (quad)beta; }

/* (x^a, x)_m = prod_{j=0}^{m-1} (1 - x^(a+j)) */
static quad qpoch(quad c, int64_t a, int64_t m) {
    quad p = 1;
    for (int64_t j = 0; j < m; ++j)
        p *= -expm1q(-c * (quad)(a + j));
    return p;
}

long double ref_tc_joint(int64_t N, int K, const int *order, const int64_t *n, double g,
                         double beta) {
    quad c = c_of(g, beta), p = 1;
    int64_t M = N; /* molecules entering the s-th resonance */
    for (int s = 0; s < K; ++s) {
        int64_t ns = n[order[s]];
        p *= expq(-c * (quad)(M - ns)) * qpoch(c, M - ns + 1, ns);
        M -= ns;
    }
    return (long double)p;
}

void ref_tc_single_all(int64_t N, double g, double beta, long double *p) {
    quad c = c_of(g, beta), prod = 1; /* prod = (x^(N-m+1), x)_m */
    for (int64_t m = 0; m <= N; ++m) {
        if (m > 0)
            prod *= -expm1q(-c * (quad)(N - m + 1));
        p[m] = (long double)(expq(-c * (quad)(N - m)) * prod);
    }
}

void ref_tc2_total_all(int64_t N, double g, double beta, long double *p) {
    quad c = c_of(g, beta), prod = 1;
    for (int64_t n = 0; n <= N; ++n) {
        if (n > 0)
            prod *= -expm1q(-c * (quad)(N - n + 1));
        quad ratio = expm1q(-c * (quad)(n + 1)) / expm1q(-c); /* (1 - x^(n+1))/(1 - x) */
        p[n] = (long double)(expq(-2 * c * (quad)(N - n)) * ratio * prod);
    }
}

void ref_tc2_means(int64_t N, double g, double beta, long double *n1, long double *n,
                   long double *n2) {
    quad c = c_of(g, beta), prod = 1, s1 = 0, s = 0;
    for (int64_t m = 0; m <= N; ++m) {
        if (m > 0)
            prod *= -expm1q(-c * (quad)(N - m + 1));
        quad ratio = expm1q(-c * (quad)(m + 1)) / expm1q(-c);
        s1 += (quad)m * expq(-c * (quad)(N - m)) * prod;
        s += (quad)m * expq(-2 * c * (quad)(N - m)) * ratio * prod;
    }
    *n1 = (long double)s1;
    *n = (long double)s;
    *n2 = (long double)(s - s1);
}

double ref_phase(double db, double da, double dw, double t) {
    __float128 tq = t, ph = 0.5Q * db * tq * tq + (__float128)da * tq;
    if (dw != 0)
        ph += (__float128)dw * logq(fabsq(tq));
    return (double)remainderq(ph, 2 * M_PIq);
}
