/* Parameters, channel order and the log q-Pochhammer table behind every exact TC result. */
#include <float.h>
#include <stdlib.h>

#include "exact_internal.h"
#include "tcgpu/exact.h"
#include "tcgpu/sysmem.h"

static const long double two_pi_l = 6.283185307179586476925286766559L;

tcgpu_status tcgpu_exact_c(double g, double beta, long double *c) {
    if (!(g > 0) || !isfinite(g))
        return tcgpu_fail(TCGPU_EINVAL, "g = %g: the coupling must be a finite number > 0", g);
    if (!(beta > 0) || !isfinite(beta))
        return tcgpu_fail(TCGPU_EINVAL, "beta = %g: the sweep rate must be a finite number > 0",
                          beta);
    long double v = two_pi_l * (long double)g * (long double)g / (long double)beta;
    /* With 80-bit long double v never leaves this range for double inputs; the clamp keeps the
     * limits clean where long double is only a double. */
    if (v < LDBL_MIN)
        v = LDBL_MIN;
    if (v > LDBL_MAX / 1e20L)
        v = LDBL_MAX / 1e20L;
    *c = v;
    return TCGPU_OK;
}

tcgpu_status tcgpu_channel_order(int K, const double *levels, int *order) {
    if (K < 1 || K > TCGPU_MAX_CHANNELS)
        return tcgpu_fail(TCGPU_EINVAL, "channels = %d: expected 1 to %d", K, TCGPU_MAX_CHANNELS);
    for (int k = 0; k < K; ++k)
        order[k] = k;
    if (!levels)
        return TCGPU_OK;
    for (int k = 0; k < K; ++k)
        if (!isfinite(levels[k]))
            return tcgpu_fail(TCGPU_EINVAL, "level %d = %g: energies must be finite", k + 1,
                              levels[k]);
    for (int i = 1; i < K; ++i) { /* insertion sort: K is small */
        int v = order[i], j = i;
        while (j > 0 && levels[order[j - 1]] > levels[v]) {
            order[j] = order[j - 1];
            --j;
        }
        order[j] = v;
    }
    for (int s = 1; s < K; ++s)
        if (levels[order[s]] == levels[order[s - 1]])
            return tcgpu_fail(TCGPU_EINVAL,
                              "levels %d and %d are equal (%g): the solvable model needs "
                              "distinct energies",
                              order[s - 1] + 1, order[s] + 1, levels[order[s]]);
    return TCGPU_OK;
}

tcgpu_status check_tc_args(int64_t N, int K, double entries, const char *what) {
    if (N < 0)
        return tcgpu_fail(TCGPU_EINVAL, "N = %lld: the number of molecules must be >= 0",
                          (long long)N);
    if (K < 1 || K > TCGPU_MAX_CHANNELS)
        return tcgpu_fail(TCGPU_EINVAL, "channels = %d: expected 1 to %d", K, TCGPU_MAX_CHANNELS);
    double bytes = entries * sizeof(double) + ((double)N + 1) * sizeof(long double);
    return tcgpu_check_memory(bytes, what);
}

tcgpu_status qtab_init(qtab *t, int64_t N, long double c) {
    t->N = N;
    t->c = c;
    t->q = malloc(((size_t)N + 1) * sizeof *t->q);
    if (!t->q)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the q-Pochhammer table (N = %lld)",
                          (long long)N);
    ksum acc = {0, 0};
    t->q[0] = 0;
    for (int64_t n = 1; n <= N; ++n) {
        ksum_add(&acc, log1mexp_l(c * (long double)(N - n + 1)));
        t->q[n] = ksum_get(&acc);
    }
    return TCGPU_OK;
}

void qtab_free(qtab *t) {
    free(t->q);
    t->q = NULL;
}

long double log_gauss_binom(long double c, int64_t n, int K) {
    long double s = 0;
    for (int j = 1; j < K; ++j)
        s += log1mexp_l(c * (long double)(n + j)) - log1mexp_l(c * (long double)j);
    return s;
}
