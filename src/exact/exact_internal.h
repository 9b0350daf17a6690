/* Shared pieces of the exact engine: log-space q-Pochhammer tables and careful sums.
 * Long double everywhere: the sums below reach |ln P| ~ 700 over up to 10^6 terms. */
#ifndef TCGPU_EXACT_INTERNAL_H
#define TCGPU_EXACT_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "tcgpu/status.h"

/* ln(1 - e^-a) for a > 0, accurate at both ends (expm1 for small a, log1p for large). */
static inline long double log1mexp_l(long double a) {
    return a > 0.6931471805599453094L ? log1pl(-expl(-a)) : logl(-expm1l(-a));
}

/* k ln x = -k c, with 0 ln x = 0 exactly. */
static inline long double xlog_l(long double c, int64_t k) {
    return k == 0 ? 0.0L : -c * (long double)k;
}

/* Neumaier compensated sum: error ~ eps |sum| instead of ~ n eps max|term|. */
typedef struct {
    long double s, comp;
} ksum;

static inline void ksum_add(ksum *a, long double v) {
    long double t = a->s + v;
    if (fabsl(a->s) >= fabsl(v))
        a->comp += (a->s - t) + v;
    else
        a->comp += (v - t) + a->s;
    a->s = t;
}

static inline long double ksum_get(const ksum *a) { return a->s + a->comp; }

/* q[n] = ln (x^(N-n+1), x)_n = sum_{k=N-n+1}^{N} ln(1 - x^k), n = 0..N.
 * Summed from k = N downwards: all terms share a sign and grow in size, and every probability
 * of the K-channel model needs exactly one q[n] (the channels' ranges of k tile N-n+1..N). */
typedef struct {
    int64_t N;
    long double c;
    long double *q;
} qtab;

tcgpu_status qtab_init(qtab *t, int64_t N, long double c);
void qtab_free(qtab *t);

/* ln [n+K-1 choose K-1]_x, the Gaussian binomial: number of ways n pairs split over K channels
 * weighted by x^(sum of molecules left behind). */
long double log_gauss_binom(long double c, int64_t n, int K);

/* Validates N, K and the memory for `entries` doubles (plus the q table). */
tcgpu_status check_tc_args(int64_t N, int K, double entries, const char *what);

#endif
