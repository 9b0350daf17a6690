/* Driven Tavis-Cummings with K channels: joint, single-channel and total distributions.
 *
 * With m_s = molecules left after the s-th channel crossed (channels in energy order), the
 * corrected eq 36 multiplies out to
 *     P(n_1..n_K) = x^(m_1 + ... + m_K) (x^(N-n+1), x)_n,      n = n_1 + ... + n_K,
 * because the q-Pochhammer ranges of the successive channels tile k = N-n+1..N. So every
 * probability is one table entry plus a sum of integers times ln x. */
#include <stdlib.h>

#include "exact_internal.h"
#include "tcgpu/exact.h"

int64_t tcgpu_basis_dim(int64_t N, int K) {
    if (N < 0 || K < 1)
        return -1;
    /* C(N+K, K) = prod_{j=1}^{K} (N+j)/j, exact at each step; d (N+j) is split as
     * (d/j)(N+j) + (d%j)(N+j)/j so that no intermediate product overflows. */
    uint64_t d = 1;
    for (int j = 1; j <= K; ++j) {
        uint64_t m = (uint64_t)N + (uint64_t)j, q = d / (uint64_t)j, r = d % (uint64_t)j;
        if ((long double)q * (long double)m + (long double)r * (long double)m >
            (long double)INT64_MAX)
            return -1;
        d = q * m + r * m / (uint64_t)j;
    }
    return (int64_t)d;
}

static tcgpu_status begin(int64_t N, int K, double g, double beta, long double *c) {
    tcgpu_status st = tcgpu_exact_c(g, beta, c);
    if (st)
        return st;
    return check_tc_args(N, K, 0, "the q-Pochhammer table");
}

tcgpu_status tcgpu_exact_tc_single(int64_t N, double g, double beta, double *p) {
    return tcgpu_exact_tc_total(N, 1, g, beta, p);
}

tcgpu_status tcgpu_exact_tc_total(int64_t N, int K, double g, double beta, double *p) {
    long double c;
    qtab t;
    tcgpu_status st = begin(N, K, g, beta, &c);
    if (st || (st = qtab_init(&t, N, c)))
        return st;
    for (int64_t n = 0; n <= N; ++n)
        p[n] = (double)expl(xlog_l(c, (int64_t)K * (N - n)) + log_gauss_binom(c, n, K) + t.q[n]);
    qtab_free(&t);
    return TCGPU_OK;
}

tcgpu_status tcgpu_exact_tc_joint(int64_t N, int K, double g, double beta, const double *levels,
                                  double *p) {
    long double c;
    int order[TCGPU_MAX_CHANNELS];
    qtab t;
    tcgpu_status st = begin(N, K, g, beta, &c);
    if (st || (st = tcgpu_channel_order(K, levels, order)))
        return st;
    if (tcgpu_basis_dim(N, K) < 0)
        return tcgpu_fail(TCGPU_ENOMEM, "the basis of N = %lld, K = %d has more than 2^63 states",
                          (long long)N, K);
    if ((st = qtab_init(&t, N, c)))
        return st;
    int64_t n[TCGPU_MAX_CHANNELS] = {0}, sum = 0, i = 0;
    do {
        int64_t left = N, left_sum = 0;
        for (int s = 0; s < K; ++s) {
            left -= n[order[s]];
            left_sum += left;
        }
        p[i++] = (double)expl(xlog_l(c, left_sum) + t.q[sum]);
    } while (tcgpu_basis_next(K, N, n, &sum));
    qtab_free(&t);
    return TCGPU_OK;
}
