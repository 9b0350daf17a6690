/* Identities between the exact distributions: normalization, marginals, reductions to the
 * small models, detailed balance. Each compares two different routes to the same number. */
#include "test_common.h"

static const double betas[] = {1e-2, 0.2, 1, 4, 30, 500, 1e4, 1e7};
#define NBETA (sizeof betas / sizeof *betas)

Test(normalization, joint_sums_to_one_for_many_N_K_beta) {
    for (int K = 1; K <= 4; ++K)
        for (int64_t N = 0; N <= 30; N += (N < 5 ? 1 : 5))
            for (size_t ib = 0; ib < NBETA; ++ib) {
                int64_t dim = tcgpu_basis_dim(N, K);
                double *p = xcalloc((size_t)dim, sizeof *p);
                ASSERT_OK(tcgpu_exact_tc_joint(N, K, 0.7, betas[ib], NULL, p));
                long double s = test_sum(p, (size_t)dim);
                cr_expect_leq(fabsl(s - 1), 1e-13L, "K=%d N=%lld beta=%g: sum-1 = %Lg", K,
                              (long long)N, betas[ib], s - 1);
                free(p);
            }
}

Test(normalization, single_channel_N_1e6_and_totals) {
    int64_t N = 1000000;
    double *p = xcalloc((size_t)N + 1, sizeof *p);
    for (size_t ib = 0; ib < NBETA; ++ib) {
        ASSERT_OK(tcgpu_exact_tc_single(N, 1.0, betas[ib] * 1e4, p));
        long double s = test_sum(p, (size_t)N + 1);
        cr_expect_leq(fabsl(s - 1), 1e-13L, "single N=1e6 beta=%g: sum-1 = %Lg", betas[ib] * 1e4,
                      s - 1);
        for (int K = 2; K <= 3; ++K) {
            ASSERT_OK(tcgpu_exact_tc_total(100000, K, 1.0, betas[ib] * 1e3, p));
            s = test_sum(p, 100001);
            cr_expect_leq(fabsl(s - 1), 1e-13L, "total K=%d beta=%g: sum-1 = %Lg", K,
                          betas[ib] * 1e3, s - 1);
        }
    }
    free(p);
}

/* Sum of the joint over states with n1 + ... + nK = n, and over n2.. for the n1 marginal. */
static void joint_marginals(int64_t N, int K, const double *p, long double *tot, long double *m1) {
    int64_t n[TCGPU_MAX_CHANNELS] = {0}, sum = 0, i = 0;
    for (int64_t k = 0; k <= N; ++k)
        tot[k] = m1[k] = 0;
    do {
        tot[sum] += p[i];
        m1[n[0]] += p[i];
        ++i;
    } while (tcgpu_basis_next(K, N, n, &sum));
}

Test(identities, eq62_equals_sum_of_eq61_and_K_channel_totals) {
    for (int K = 2; K <= 4; ++K)
        for (size_t ib = 0; ib < NBETA; ++ib) {
            int64_t N = K == 2 ? 300 : 25, dim = tcgpu_basis_dim(N, K);
            double *p = xcalloc((size_t)dim, sizeof *p), *tot = xcalloc((size_t)N + 1, 8);
            long double *st = xcalloc((size_t)N + 1, sizeof *st);
            long double *m1 = xcalloc((size_t)N + 1, sizeof *m1);
            ASSERT_OK(tcgpu_exact_tc_joint(N, K, 1.0, betas[ib], NULL, p));
            ASSERT_OK(tcgpu_exact_tc_total(N, K, 1.0, betas[ib], tot));
            joint_marginals(N, K, p, st, m1);
            for (int64_t n = 0; n <= N; ++n)
                cr_expect_leq(rel_dev(tot[n], st[n]), 1e-12, "K=%d beta=%g n=%lld: %g vs %Lg", K,
                              betas[ib], (long long)n, tot[n], st[n]);
            free(p);
            free(tot);
            free(st);
            free(m1);
        }
}

Test(identities, first_channel_marginal_is_eq40) {
    /* Later channels only redistribute what the first one left: the n1 marginal of the
     * K-channel joint is the single-channel law. */
    int64_t N = 40;
    for (int K = 2; K <= 3; ++K)
        for (size_t ib = 0; ib < NBETA; ++ib) {
            int64_t dim = tcgpu_basis_dim(N, K);
            double *p = xcalloc((size_t)dim, sizeof *p), single[41];
            long double tot[41], m1[41];
            ASSERT_OK(tcgpu_exact_tc_joint(N, K, 1.0, betas[ib], NULL, p));
            ASSERT_OK(tcgpu_exact_tc_single(N, 1.0, betas[ib], single));
            joint_marginals(N, K, p, tot, m1);
            for (int64_t m = 0; m <= N; ++m)
                cr_expect_leq(rel_dev(single[m], m1[m]), 1e-12, "K=%d beta=%g m=%lld", K, betas[ib],
                              (long long)m);
            free(p);
        }
}

Test(reductions, one_molecule_is_demkov_osherov_and_landau_zener) {
    static const double levels[] = {0.4, -1.0, 2.5, 0.0}; /* ranks 3, 1, 4, 2 */
    static const int rank[] = {3, 1, 4, 2};
    for (size_t ib = 0; ib < NBETA; ++ib) {
        double beta = betas[ib], lz[2], dop[5], joint[5];
        ASSERT_OK(tcgpu_exact_lz(1.0, beta, lz));
        long double xl = expl(-2 * PI_L / beta);
        cr_expect_leq(rel_dev(lz[0], xl), 1e-14, "LZ stay %.17g vs %.17Lg", lz[0], xl);
        cr_expect_leq(rel_dev(lz[1], -expm1l(-2 * PI_L / beta)), 1e-14);
        ASSERT_OK(tcgpu_exact_tc_single(1, 1.0, beta, joint)); /* K = 1, N = 1 is LZ */
        cr_expect_leq(rel_dev(joint[0], lz[0]), 1e-13);
        cr_expect_leq(rel_dev(joint[1], lz[1]), 1e-13);
        ASSERT_OK(tcgpu_exact_do(4, 1.0, beta, levels, dop));
        /* Basis order for N = 1, K = 4: |0000>, |0001>, |0010>, |0100>, |1000>. */
        ASSERT_OK(tcgpu_exact_tc_joint(1, 4, 1.0, beta, levels, joint));
        cr_expect_leq(rel_dev(dop[0], powl(xl, 4)), 1e-13, "P0 = x^4");
        cr_expect_leq(rel_dev(joint[0], powl(xl, 4)), 1e-13);
        for (int k = 1; k <= 4; ++k) {
            long double want = powl(xl, rank[k - 1] - 1) * -expm1l(-2 * PI_L / beta);
            cr_expect_leq(rel_dev(dop[k], want), 1e-13, "DO level %d beta %g", k, beta);
            cr_expect_leq(rel_dev(joint[5 - k], want), 1e-13, "TC N=1 channel %d beta %g", k, beta);
        }
    }
}

Test(identities, detailed_balance_eq74_within_a_sector) {
    int64_t N = 30;
    double p[(31 * 32) / 2];
    for (size_t ib = 0; ib < NBETA; ++ib) {
        double beta = betas[ib];
        long double x = expl(-2 * M_PI / (long double)beta);
        ASSERT_OK(tcgpu_exact_tc_joint(N, 2, 1.0, beta, NULL, p));
        for (int64_t n1 = 0; n1 < N; ++n1)
            for (int64_t n2 = 1; n1 + n2 <= N; ++n2) {
                /* index(n1, n2) = n1 (N+1) - n1 (n1-1)/2 + n2 */
                double a = p[n1 * (N + 1) - n1 * (n1 - 1) / 2 + n2];
                double b = p[(n1 + 1) * (N + 1) - (n1 + 1) * n1 / 2 + n2 - 1];
                if (a > 1e-290 && b > 1e-290)
                    cr_expect_leq(rel_dev(a, x * (long double)b), 1e-12,
                                  "beta=%g (%lld,%lld): P/P' = %.17g, x = %.17Lg", beta,
                                  (long long)n1, (long long)n2, a / b, x);
            }
    }
}

Test(identities, users_channel_numbering_permutes_the_columns) {
    int64_t N = 12;
    double a[91], b[91];
    static const double rev[] = {1.0, -1.0}; /* user's channel 1 is the upper one */
    ASSERT_OK(tcgpu_exact_tc_joint(N, 2, 1.0, 3.0, NULL, a));
    ASSERT_OK(tcgpu_exact_tc_joint(N, 2, 1.0, 3.0, rev, b));
    for (int64_t n1 = 0; n1 <= N; ++n1)
        for (int64_t n2 = 0; n1 + n2 <= N; ++n2)
            cr_expect_eq(a[n1 * (N + 1) - n1 * (n1 - 1) / 2 + n2],
                         b[n2 * (N + 1) - n2 * (n2 - 1) / 2 + n1]);
    tcgpu_tc_moments ma, mb;
    ASSERT_OK(tcgpu_exact_tc_moments(N, 2, 1.0, 3.0, NULL, &ma));
    ASSERT_OK(tcgpu_exact_tc_moments(N, 2, 1.0, 3.0, rev, &mb));
    cr_expect_eq(ma.mean[0], mb.mean[1]);
    cr_expect_eq(ma.mean[1], mb.mean[0]);
    cr_expect_float_eq(ma.eta, -mb.eta, 1e-15);
    static const double same[] = {0.5, 0.5};
    cr_expect_eq(tcgpu_exact_tc_joint(N, 2, 1.0, 3.0, same, a), TCGPU_EINVAL,
                 "equal energies must be refused");
}

Test(identities, moments_agree_with_sums_over_the_joint) {
    int64_t N = 60, dim = tcgpu_basis_dim(N, 3);
    double *p = xcalloc((size_t)dim, sizeof *p);
    static const double lv[] = {0.3, -0.2, 0.9};
    for (size_t ib = 0; ib < NBETA; ++ib) {
        tcgpu_tc_moments m;
        ASSERT_OK(tcgpu_exact_tc_joint(N, 3, 1.0, betas[ib], lv, p));
        ASSERT_OK(tcgpu_exact_tc_moments(N, 3, 1.0, betas[ib], lv, &m));
        long double s[3] = {0}, sn = 0;
        int64_t n[3] = {0}, sum = 0, i = 0;
        do {
            for (int k = 0; k < 3; ++k)
                s[k] += n[k] * (long double)p[i];
            sn += sum * (long double)p[i];
            ++i;
        } while (tcgpu_basis_next(3, N, n, &sum));
        for (int k = 0; k < 3; ++k)
            cr_expect_leq(rel_dev(m.mean[k], s[k]), 1e-11, "beta=%g <n%d> %.17g vs %.17Lg",
                          betas[ib], k + 1, m.mean[k], s[k]);
        cr_expect_leq(rel_dev(m.mean_n, sn), 1e-12);
    }
    free(p);
}
