/* The effective two-mode model (eq 72): its Gibbs law (eq 75) as the paper writes it, and its
 * agreement with the conditional distribution of eq 61 within a sector. */
#include "test_common.h"

Test(heff, eq75_as_printed_with_its_partition_function) {
    /* Fig 7: n = 50, g = 1, beta = 50. P_dn = exp(-dn/kT)/Z, dn = n2 - n1, kT = beta/(pi g^2),
     * Z = sinh((1+n)/kT)/sinh(1/kT). */
    static const double bs[] = {0.5, 50, 3000};
    for (size_t i = 0; i < 3; ++i) {
        int n = 50;
        double p[51], kT = bs[i] / M_PI;
        long double Z = sinhl((1 + n) / (long double)kT) / sinhl(1 / (long double)kT);
        ASSERT_OK(tcgpu_exact_heff(n, 1.0, bs[i], p));
        for (int n2 = 0; n2 <= n; ++n2) {
            long double want = expl(-(long double)(2 * n2 - n) / kT) / Z;
            cr_expect_leq(rel_dev(p[n2], want), 1e-12, "beta=%g n2=%d %.17g vs %.17Lg", bs[i], n2,
                          p[n2], want);
        }
    }
}

Test(heff, is_the_sector_conditional_of_eq61) {
    int64_t N = 40;
    double joint[41 * 42 / 2], p[41];
    for (double beta = 0.3; beta < 500; beta *= 4) {
        ASSERT_OK(tcgpu_exact_tc_joint(N, 2, 1.0, beta, NULL, joint));
        for (int64_t n = 0; n <= N; n += 7) {
            ASSERT_OK(tcgpu_exact_heff(n, 1.0, beta, p));
            long double sector = 0, cond[41];
            for (int64_t n2 = 0; n2 <= n; ++n2) {
                int64_t n1 = n - n2;
                cond[n2] = joint[n1 * (N + 1) - n1 * (n1 - 1) / 2 + n2];
                sector += cond[n2];
            }
            if (sector < 1e-250)
                continue;
            for (int64_t n2 = 0; n2 <= n; ++n2)
                if (cond[n2] > 1e-290) /* denormal joint entries carry fewer digits */
                    cr_expect_leq(rel_dev(p[n2], cond[n2] / sector), 1e-11,
                                  "beta=%g n=%lld n2=%lld", beta, (long long)n, (long long)n2);
        }
    }
}

Test(heff, mean_n2_closed_form_and_eq76) {
    /* <n2> = x/(1-x) - (n+1) x^(n+1)/(1 - x^(n+1)) exactly; eq 76 is its n -> inf limit. */
    static const double bs[] = {0.2, 1, 6.28, 60, 600};
    for (size_t i = 0; i < 5; ++i)
        for (int64_t n = 1; n <= 1000; n *= 10) {
            double got;
            ASSERT_OK(tcgpu_exact_heff_mean_n2(n, 1.0, bs[i], &got));
            long double x = expl(-2 * PI_L / bs[i]), xn = powl(x, (long double)(n + 1));
            long double want = x / (1 - x) - (n + 1) * xn / (1 - xn);
            cr_expect_leq(fabsl(got - want), 1e-9L * fmaxl(1, want),
                          "beta=%g n=%lld: %.17g vs "
                          "%.17Lg",
                          bs[i], (long long)n, got, want);
        }
    double got;
    ASSERT_OK(tcgpu_exact_heff_mean_n2(100000, 1.0, 6.28, &got));
    cr_expect_leq(fabs(got - tcgpu_asym_heff_n2_eq76_coth(1.0, 6.28)), 1e-12 * got);
    cr_expect_leq(fabs(got - tcgpu_asym_heff_n2_eq76_linear(1.0, 6.28)), 0.1,
                  "linear form beta/2 pi g^2 - 1/2 for kT << n");
}
