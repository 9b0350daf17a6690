/* beta -> 0 (x -> 0: everything dissociates) and beta -> inf (x -> 1: nothing happens), and
 * extreme couplings: clean 0/1 answers, never NaN or overflow. */
#include "test_common.h"

static void expect_clean(const double *p, size_t n, const char *what, double beta) {
    for (size_t i = 0; i < n; ++i)
        cr_expect(isfinite(p[i]) && p[i] >= 0 && p[i] <= 1, "%s beta=%g entry %zu = %g", what, beta,
                  i, p[i]);
}

Test(limits, slow_sweep_dissociates_everything) {
    static const double slow[] = {1e-3, 1e-30, 1e-300, 4.9e-324};
    for (size_t i = 0; i < sizeof slow / sizeof *slow; ++i) {
        double beta = slow[i], p[231], lz[2];
        ASSERT_OK(tcgpu_exact_tc_single(20, 1.0, beta, p));
        expect_clean(p, 21, "single", beta);
        cr_expect_eq(p[20], 1.0, "P_N = %g at beta=%g", p[20], beta);
        ASSERT_OK(tcgpu_exact_tc_joint(20, 2, 1.0, beta, NULL, p));
        expect_clean(p, 231, "joint", beta);
        cr_expect_eq(p[230], 1.0, "P(N,0) = %g", p[230]); /* last state (20, 0) */
        ASSERT_OK(tcgpu_exact_lz(1.0, beta, lz));
        cr_expect_eq(lz[1], 1.0);
        cr_expect_eq(lz[0], 0.0);
        tcgpu_tc_moments m;
        ASSERT_OK(tcgpu_exact_tc_moments(20, 2, 1.0, beta, NULL, &m));
        cr_expect_eq(m.mean[0], 20.0);
        cr_expect_eq(m.mean[1], 0.0);
        cr_expect_eq(m.eta, 1.0);
        double n2;
        ASSERT_OK(tcgpu_exact_heff_mean_n2(50, 1.0, beta, &n2));
        cr_expect_eq(n2, 0.0);
    }
}

Test(limits, fast_sweep_leaves_the_molecules) {
    static const double fast[] = {1e9, 1e30, 1e300, 1.7e308};
    for (size_t i = 0; i < sizeof fast / sizeof *fast; ++i) {
        double beta = fast[i], p[231];
        ASSERT_OK(tcgpu_exact_tc_single(20, 1.0, beta, p));
        expect_clean(p, 21, "single", beta);
        cr_expect_float_eq(p[0], 1.0, 1e-4, "P_0 = %g at beta=%g", p[0], beta);
        ASSERT_OK(tcgpu_exact_tc_joint(20, 2, 1.0, beta, NULL, p));
        expect_clean(p, 231, "joint", beta);
        tcgpu_tc_moments m;
        ASSERT_OK(tcgpu_exact_tc_moments(20, 2, 1.0, beta, NULL, &m));
        cr_expect(isfinite(m.eta) && fabs(m.eta) < 1e-3, "eta = %g", m.eta);
        double n2, phi[21];
        ASSERT_OK(tcgpu_exact_heff_mean_n2(50, 1.0, beta, &n2));
        cr_expect_float_eq(n2, 25.0, 1e-3, "uniform sector: <n2> = n/2, got %g", n2);
        ASSERT_OK(tcgpu_exact_phases(20, 1.0, beta, phi));
        expect_clean(p, 21, "phases", beta);
        for (int m2 = 0; m2 <= 20; ++m2)
            cr_expect(isfinite(phi[m2]));
    }
    /* At the far end x = 1 to double precision: exactly one state survives. */
    double p[21];
    ASSERT_OK(tcgpu_exact_tc_single(20, 1e-200, 1.0, p));
    cr_expect_eq(p[0], 1.0);
    for (int m = 1; m <= 20; ++m)
        cr_expect_eq(p[m], 0.0);
    tcgpu_tc_moments m;
    ASSERT_OK(tcgpu_exact_tc_moments(20, 2, 1e-200, 1.0, NULL, &m));
    cr_expect_eq(m.mean_n, 0.0);
    cr_expect_eq(m.eta, 0.0, "eta at <n> = 0 is the fast limit 0, got %g", m.eta);
}

Test(limits, bad_parameters_are_refused) {
    double p[4];
    cr_expect_eq(tcgpu_exact_tc_single(3, 0.0, 1.0, p), TCGPU_EINVAL);
    cr_expect_eq(tcgpu_exact_tc_single(3, 1.0, -1.0, p), TCGPU_EINVAL);
    cr_expect_eq(tcgpu_exact_tc_single(3, NAN, 1.0, p), TCGPU_EINVAL);
    cr_expect_eq(tcgpu_exact_tc_single(3, 1.0, INFINITY, p), TCGPU_EINVAL);
    cr_expect_eq(tcgpu_exact_tc_single(-1, 1.0, 1.0, p), TCGPU_EINVAL);
    cr_expect_eq(tcgpu_exact_tc_total(3, 0, 1.0, 1.0, p), TCGPU_EINVAL);
    cr_expect_str_not_empty(tcgpu_last_error());
    cr_expect_eq(tcgpu_exact_tc_single((int64_t)1e15, 1.0, 1.0, p), TCGPU_ENOMEM,
                 "a table of 1e15 entries must be refused up front");
    cr_expect_eq(tcgpu_basis_dim((int64_t)1e6, 64), -1, "C(1e6+64, 64) overflows int64");
    cr_expect_eq(tcgpu_basis_dim(10, 3), 286);
}
