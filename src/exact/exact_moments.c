/* Means of the K-channel TC model in O(K N): the first s channels (in energy order) form an
 * s-channel model of their own, so <n_pi(1) + ... + n_pi(s)> is the mean total of that model.
 *
 * Each channel mean is a difference of two such totals. Both the totals T_s = <n> and their
 * complements V_s = N - T_s are summed from positive terms, and the difference is taken in the
 * form with the smaller operands, so that e.g. <n_2> ~ 1e-3 next to <n> ~ N keeps full relative
 * accuracy in the adiabatic regime (V small) and in the fast regime (T small). */
#include <stdlib.h>

#include "exact_internal.h"
#include "tcgpu/exact.h"

tcgpu_status tcgpu_exact_tc_moments(int64_t N, int K, double g, double beta, const double *levels,
                                    tcgpu_tc_moments *out) {
    long double c;
    int order[TCGPU_MAX_CHANNELS];
    qtab t;
    tcgpu_status st = tcgpu_exact_c(g, beta, &c);
    if (st || (st = tcgpu_channel_order(K, levels, order)) ||
        (st = check_tc_args(N, K, (double)N + 1, "the moments' tables")))
        return st;
    long double *gauss = calloc((size_t)N + 1, sizeof *gauss);
    if (!gauss || (st = qtab_init(&t, N, c))) {
        free(gauss);
        return gauss ? st : tcgpu_fail(TCGPU_ERUNTIME, "out of memory for N = %lld", (long long)N);
    }
    long double T_prev = 0, V_prev = (long double)N;
    for (int s = 1; s <= K; ++s) {
        ksum T = {0, 0}, V = {0, 0}, Z = {0, 0};
        long double drop = s > 1 ? log1mexp_l(c * (long double)(s - 1)) : 0;
        for (int64_t n = 0; n <= N; ++n) {
            if (s > 1) /* [n+s-1 choose s-1]_x from [n+s-2 choose s-2]_x */
                gauss[n] += log1mexp_l(c * (long double)(n + s - 1)) - drop;
            long double pn = expl(xlog_l(c, (int64_t)s * (N - n)) + gauss[n] + t.q[n]);
            ksum_add(&Z, pn);
            ksum_add(&T, pn * (long double)n);
            ksum_add(&V, pn * (long double)(N - n));
        }
        long double z = ksum_get(&Z), Ts = ksum_get(&T) / z, Vs = ksum_get(&V) / z;
        out->mean[order[s - 1]] = (double)(V_prev < Ts ? V_prev - Vs : Ts - T_prev);
        if (s == 1)
            out->nu = (double)Vs;
        T_prev = Ts;
        V_prev = Vs;
    }
    out->mean_n = (double)T_prev;
    out->nu_plus = (double)V_prev;
    out->eta = 0;
    if (K == 2 && T_prev > 0)
        out->eta = (double)(((long double)out->mean[0] - (long double)out->mean[1]) / T_prev);
    qtab_free(&t);
    free(gauss);
    return TCGPU_OK;
}
