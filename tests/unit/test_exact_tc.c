/* The exact TC distributions against the paper's formulas evaluated literally in quad
 * precision: relative error <= 1e-12 on every probability above 1e-300. */
#include "ref_quad.h"
#include "test_common.h"

static const double betas[] = {1e-3, 0.05, 0.3, 1, 3.7, 20, 150, 1e3, 1e5, 1e8};
#define NBETA (sizeof betas / sizeof *betas)

static double check_single(int64_t N, double g, double beta) {
    double *p = xcalloc((size_t)N + 1, sizeof *p);
    long double *ref = xcalloc((size_t)N + 1, sizeof *ref);
    ASSERT_OK(tcgpu_exact_tc_single(N, g, beta, p));
    ref_tc_single_all(N, g, beta, ref);
    double worst = 0;
    for (int64_t m = 0; m <= N; ++m)
        worst = fmax(worst, rel_dev(p[m], ref[m]));
    free(p);
    free(ref);
    return worst;
}

Test(single_channel, eq40_to_1e12_relative_for_every_probability) {
    static const int64_t Ns[] = {0, 1, 2, 5, 40, 1000, 20000};
    static const double gs[] = {1, 0.3};
    for (size_t i = 0; i < sizeof Ns / sizeof *Ns; ++i)
        for (size_t ig = 0; ig < 2; ++ig)
            for (size_t ib = 0; ib < NBETA; ++ib) {
                double d = check_single(Ns[i], gs[ig], betas[ib]);
                cr_expect_leq(d, 1e-12, "N=%lld g=%g beta=%g: relative error %g", (long long)Ns[i],
                              gs[ig], betas[ib], d);
            }
}

Test(single_channel, eq40_for_N_1e6_to_1e12_relative) {
    static const double bs[] = {2e4, 5.5e5, 3e7};
    for (size_t i = 0; i < 3; ++i) {
        double d = check_single(1000000, 1.0, bs[i]);
        cr_expect_leq(d, 1e-12, "N=1e6 beta=%g: relative error %g", bs[i], d);
    }
}

static double check_joint(int64_t N, int K, const double *levels, double beta) {
    int order[TCGPU_MAX_CHANNELS];
    ASSERT_OK(tcgpu_channel_order(K, levels, order));
    int64_t dim = tcgpu_basis_dim(N, K);
    double *p = xcalloc((size_t)dim, sizeof *p);
    ASSERT_OK(tcgpu_exact_tc_joint(N, K, 1.0, beta, levels, p));
    int64_t n[TCGPU_MAX_CHANNELS] = {0}, sum = 0, i = 0;
    double worst = 0;
    do {
        worst = fmax(worst, rel_dev(p[i++], ref_tc_joint(N, K, order, n, 1.0, beta)));
    } while (tcgpu_basis_next(K, N, n, &sum));
    cr_assert_eq(i, dim, "the basis walk visited %lld states, C(N+K,K) = %lld", (long long)i,
                 (long long)dim);
    free(p);
    return worst;
}

Test(two_channel, eq61_to_1e12_relative_for_every_probability) {
    static const int64_t Ns[] = {1, 2, 10, 60, 150};
    for (size_t i = 0; i < sizeof Ns / sizeof *Ns; ++i)
        for (size_t ib = 0; ib < NBETA; ++ib) {
            double d = check_joint(Ns[i], 2, NULL, betas[ib]);
            cr_expect_leq(d, 1e-12, "N=%lld beta=%g: relative error %g", (long long)Ns[i],
                          betas[ib], d);
        }
}

Test(k_channels, eq36_recursion_to_1e12_in_the_users_channel_order) {
    static const double lv3[] = {0.7, -2.0, 0.1}; /* crossing order: channel 2, 3, 1 */
    static const double lv4[] = {3, 1, 4, 2};
    for (size_t ib = 0; ib < NBETA; ++ib) {
        double d3 = check_joint(14, 3, lv3, betas[ib]);
        double d4 = check_joint(8, 4, lv4, betas[ib]);
        cr_expect_leq(d3, 1e-12, "K=3 beta=%g: relative error %g", betas[ib], d3);
        cr_expect_leq(d4, 1e-12, "K=4 beta=%g: relative error %g", betas[ib], d4);
    }
}

Test(two_channel, joint_for_N_2000_is_normalized) {
    int64_t N = 2000, dim = tcgpu_basis_dim(N, 2);
    cr_assert_eq(dim, (int64_t)2001 * 2002 / 2);
    double *p = xcalloc((size_t)dim, sizeof *p);
    for (size_t ib = 0; ib < NBETA; ++ib) {
        ASSERT_OK(tcgpu_exact_tc_joint(N, 2, 1.0, betas[ib], NULL, p));
        long double s = test_sum(p, (size_t)dim);
        cr_expect_leq(fabsl(s - 1), 1e-13L, "beta=%g: sum - 1 = %Lg", betas[ib], s - 1);
    }
    free(p);
}

Test(two_channel, means_for_N_1e5_to_1e12_relative_against_quad_sums) {
    static const double bs[] = {2, 60, 900, 2e4, 6.7e4, 3e5, 5e7};
    for (size_t i = 0; i < sizeof bs / sizeof *bs; ++i) {
        tcgpu_tc_moments m;
        long double r1, rn, r2;
        ASSERT_OK(tcgpu_exact_tc_moments(100000, 2, 1.0, bs[i], NULL, &m));
        ref_tc2_means(100000, 1.0, bs[i], &r1, &rn, &r2);
        cr_expect_leq(rel_dev(m.mean[0], r1), 1e-12, "beta=%g <n1> %.17g vs %.17Lg", bs[i],
                      m.mean[0], r1);
        cr_expect_leq(rel_dev(m.mean_n, rn), 1e-12, "beta=%g <n> %.17g vs %.17Lg", bs[i], m.mean_n,
                      rn);
        cr_expect_leq(rel_dev(m.mean[1], r2), 1e-12, "beta=%g <n2> %.17g vs %.17Lg", bs[i],
                      m.mean[1], r2);
    }
}

Test(two_channel, total_eq62_to_1e12_against_quad) {
    static const int64_t Ns[] = {0, 1, 7, 500};
    for (size_t i = 0; i < sizeof Ns / sizeof *Ns; ++i)
        for (size_t ib = 0; ib < NBETA; ++ib) {
            int64_t N = Ns[i];
            double *p = xcalloc((size_t)N + 1, sizeof *p);
            long double *ref = xcalloc((size_t)N + 1, sizeof *ref);
            ASSERT_OK(tcgpu_exact_tc_total(N, 2, 1.0, betas[ib], p));
            ref_tc2_total_all(N, 1.0, betas[ib], ref);
            for (int64_t n = 0; n <= N; ++n)
                cr_expect_leq(rel_dev(p[n], ref[n]), 1e-12, "N=%lld beta=%g n=%lld: %g vs %Lg",
                              (long long)N, betas[ib], (long long)n, p[n], ref[n]);
            free(p);
            free(ref);
        }
}

Test(single_channel, hand_computed_N2) {
    /* P_0 = x^2, P_1 = x (1 - x^2), P_2 = (1 - x)(1 - x^2), written out by hand. */
    double beta = 2.5, x = exp(-2 * M_PI / beta), p[3];
    ASSERT_OK(tcgpu_exact_tc_single(2, 1.0, beta, p));
    double want[3] = {x * x, x * (1 - x * x), (1 - x) * (1 - x * x)};
    for (int m = 0; m < 3; ++m)
        cr_expect_float_eq(p[m], want[m], 1e-14 * want[m], "m=%d: %.17g vs %.17g", m, p[m],
                           want[m]);
}

Test(two_channel, hand_computed_N2) {
    /* Basis order (0,0) (0,1) (0,2) (1,0) (1,1) (2,0); by hand from eq 61:
     * x^4, x^3(1-x^2), x^2(1-x)(1-x^2), x^2(1-x^2), x(1-x)(1-x^2), (1-x)(1-x^2). */
    double beta = 4.0, x = exp(-2 * M_PI / beta), p[6];
    ASSERT_OK(tcgpu_exact_tc_joint(2, 2, 1.0, beta, NULL, p));
    double a = 1 - x, b = 1 - x * x;
    double want[6] = {x * x * x * x, x * x * x * b, x * x * a * b, x * x * b, x * a * b, a * b};
    for (int i = 0; i < 6; ++i)
        cr_expect_float_eq(p[i], want[i], 1e-14 * want[i], "state %d: %.17g vs %.17g", i, p[i],
                           want[i]);
}
