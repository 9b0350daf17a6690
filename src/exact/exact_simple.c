/* The small models: Landau-Zener, Demkov-Osherov, and the effective two-mode model (eq 72). */
#include "exact_internal.h"
#include "tcgpu/exact.h"

tcgpu_status tcgpu_exact_lz(double g, double beta, double p[2]) {
    long double c;
    tcgpu_status st = tcgpu_exact_c(g, beta, &c);
    if (st)
        return st;
    p[0] = (double)expl(-c);
    p[1] = (double)-expm1l(-c);
    return TCGPU_OK;
}

tcgpu_status tcgpu_exact_do(int K, double g, double beta, const double *levels, double *p) {
    long double c;
    int order[TCGPU_MAX_CHANNELS];
    tcgpu_status st = tcgpu_exact_c(g, beta, &c);
    if (st || (st = tcgpu_channel_order(K, levels, order)))
        return st;
    /* The sloped level meets the parallel ones in energy order: LZ at each, survival x. */
    long double l1mx = log1mexp_l(c);
    p[0] = (double)expl(xlog_l(c, K));
    for (int r = 0; r < K; ++r)
        p[1 + order[r]] = (double)expl(xlog_l(c, r) + l1mx);
    return TCGPU_OK;
}

/* ln P(n2 | n) = -c n2 + ln(1 - x) - ln(1 - x^(n+1)). */
static tcgpu_status heff_begin(int64_t n, double g, double beta, long double *c,
                               long double *lnorm) {
    tcgpu_status st = tcgpu_exact_c(g, beta, c);
    if (st)
        return st;
    if (n < 0)
        return tcgpu_fail(TCGPU_EINVAL, "n = %lld: the number of pairs must be >= 0", (long long)n);
    *lnorm = log1mexp_l(*c) - log1mexp_l(*c * (long double)(n + 1));
    return TCGPU_OK;
}

tcgpu_status tcgpu_exact_heff(int64_t n, double g, double beta, double *p) {
    long double c, lnorm;
    tcgpu_status st = heff_begin(n, g, beta, &c, &lnorm);
    if (st)
        return st;
    for (int64_t k = 0; k <= n; ++k)
        p[k] = (double)expl(xlog_l(c, k) + lnorm);
    return TCGPU_OK;
}

tcgpu_status tcgpu_exact_heff_mean_n2(int64_t n, double g, double beta, double *mean_n2) {
    long double c, lnorm;
    tcgpu_status st = heff_begin(n, g, beta, &c, &lnorm);
    if (st)
        return st;
    /* Direct sum: the closed form x/(1-x) - (n+1)x^(n+1)/(1-x^(n+1)) cancels badly as x -> 1. */
    ksum s = {0, 0};
    for (int64_t k = 1; k <= n; ++k) {
        long double term = (long double)k * expl(xlog_l(c, k) + lnorm);
        ksum_add(&s, term);
        if (term < 1e-40L * ksum_get(&s))
            break; /* the terms only shrink from here: k x^k with k c > 1 */
    }
    *mean_n2 = (double)ksum_get(&s);
    return TCGPU_OK;
}
