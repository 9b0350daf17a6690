/* The paper's asymptotic laws hold where the paper says they do, the critical rate is the root
 * of P_0 = P_1, and the N -> infinity Euler means agree with the finite-N sums. */
#include "test_common.h"

static const int64_t N5 = 100000;
static double beta_of_gamma(double G) { return 2 * M_PI * G; } /* g = 1: Gamma = beta/2 pi */

Test(quasi_adiabatic, eq69_n2_tends_to_beta_over_2pi_g2_and_its_exact_limit) {
    static const double Gs[] = {3, 10, 100, 1000};
    for (size_t i = 0; i < 4; ++i) {
        double beta = beta_of_gamma(Gs[i]);
        tcgpu_tc_moments m;
        ASSERT_OK(tcgpu_exact_tc_moments(N5, 2, 1.0, beta, NULL, &m));
        /* x/(1-x) = Gamma - 1/2 + 1/(12 Gamma) - ...: eq 69 is its leading term. */
        cr_expect_leq(fabs(m.mean[1] - Gs[i]), 0.5 + 0.1 / Gs[i], "Gamma=%g <n2>=%.10g", Gs[i],
                      m.mean[1]);
        long double limit = 1.0L / expm1l(1.0L / Gs[i]);
        cr_expect_leq(rel_dev(m.mean[1], limit), 1e-10, "Gamma=%g <n2>=%.17g x/(1-x)=%.17Lg", Gs[i],
                      m.mean[1], limit);
        cr_expect_leq(rel_dev(tcgpu_asym_n2_limit(1.0, beta), limit), 1e-15);
    }
}

Test(quasi_adiabatic, eq45_and_eq67_euler_means_match_finite_N_sums) {
    static const double Gs[] = {0.5, 3, 100, 1000};
    for (size_t i = 0; i < 4; ++i) {
        double beta = beta_of_gamma(Gs[i]);
        long double c = 1.0L / Gs[i];
        tcgpu_tc_moments m;
        ASSERT_OK(tcgpu_exact_tc_moments(N5, 2, 1.0, beta, NULL, &m));
        /* (x,x)_N = (x,x)_inf up to x^N = e^(-N c) < e^(-100) here. */
        cr_expect_leq(rel_dev(m.nu, tcgpu_euler_mean(c, 1)), 1e-11, "Gamma=%g nu", Gs[i]);
        cr_expect_leq(rel_dev(m.nu_plus, tcgpu_euler_mean(c, 2)), 1e-11, "Gamma=%g nu+", Gs[i]);
    }
}

Test(quasi_adiabatic, eq46_eq68_and_eq70_hold_to_their_order) {
    static const double Gs[] = {10, 100, 1000};
    for (size_t i = 0; i < 3; ++i) {
        double beta = beta_of_gamma(Gs[i]);
        tcgpu_tc_moments m;
        ASSERT_OK(tcgpu_exact_tc_moments(N5, 2, 1.0, beta, NULL, &m));
        /* Leading order in 1/Gamma: relative deviations of order 1/Gamma. */
        double tol = 1.0 / Gs[i];
        cr_expect_leq(fabs(tcgpu_asym_nu_eq46(1.0, beta) / m.nu - 1), tol, "eq46 Gamma=%g", Gs[i]);
        cr_expect_leq(fabs(tcgpu_asym_nu_eq46_log(1.0, beta) / m.nu - 1), tol,
                      "eq46 log form Gamma=%g", Gs[i]);
        cr_expect_leq(fabs(tcgpu_asym_nu_plus_eq68(1.0, beta) / m.nu_plus - 1), tol,
                      "eq68 Gamma=%g", Gs[i]);
        cr_expect_leq(fabs(tcgpu_asym_n_ex_eq53(1.0, beta) / m.nu - 1), 1.5 / log(Gs[i]),
                      "eq53 Gamma ln Gamma is the leading log: Gamma=%g", Gs[i]);
        if (Gs[i] <= 100) /* eq 70 needs <nu_+> << N, i.e. Gamma ln Gamma << N */
            cr_expect_leq(fabs((1 - m.eta) / (1 - tcgpu_asym_eta_eq70(N5, 1.0, beta)) - 1),
                          tol + 0.01, "eq70 Gamma=%g eta=%.10g", Gs[i], m.eta);
    }
}

Test(fast_sweep, eq64_eq65_and_eq66) {
    /* p = x^N >> 1/N: geometric laws. Their neglect of x^-n1 costs O(<n1>/N c N). */
    static const double bs[] = {6.28e8, 2e6, 2e5};
    static const double tol[] = {1e-7, 1e-4, 2e-3};
    for (size_t i = 0; i < 3; ++i) {
        tcgpu_tc_moments m;
        ASSERT_OK(tcgpu_exact_tc_moments(N5, 2, 1.0, bs[i], NULL, &m));
        cr_expect_leq(fabs(tcgpu_asym_n1_fast_eq64(N5, 1.0, bs[i]) / m.mean[0] - 1), tol[i],
                      "eq64 beta=%g", bs[i]);
        cr_expect_leq(fabs(tcgpu_asym_n_fast_eq65(N5, 1.0, bs[i]) / m.mean_n - 1), tol[i],
                      "eq65 beta=%g", bs[i]);
        cr_expect_leq(fabs(m.eta), 10 * log((double)N5) / N5, "eq66 beta=%g eta=%g", bs[i], m.eta);
    }
}

Test(critical, root_satisfies_P0_equals_P1) {
    static const int64_t Ns[] = {1, 2, 10, 100, 1000, 10000, 100000, 1000000};
    double *p = xcalloc(1000001, sizeof *p);
    for (size_t i = 0; i < sizeof Ns / sizeof *Ns; ++i) {
        double bc;
        ASSERT_OK(tcgpu_exact_beta_c(Ns[i], 1.3, &bc));
        ASSERT_OK(tcgpu_exact_tc_single(Ns[i], 1.3, bc, p));
        cr_expect_leq(fabs(p[0] / p[1] - 1), 1e-12, "N=%lld P0=%.17g P1=%.17g", (long long)Ns[i],
                      p[0], p[1]);
    }
    free(p);
    double bc;
    ASSERT_OK(tcgpu_exact_beta_c(1, 1.0, &bc)); /* x = 1 - x: x = 1/2 */
    cr_expect_float_eq(bc, 2 * M_PI / log(2.0), 1e-14 * bc);
    cr_expect_eq(tcgpu_exact_beta_c(0, 1.0, &bc), TCGPU_EINVAL);
}

Test(critical, known_values_and_eq50) {
    /* shared/PHYSICS.md: exact beta_c (g = 1) and how far below eq 50 lies. */
    static const struct {
        int64_t N;
        double bc, low;
    } ref[] = {{10, 34.862, 0.06},     {100, 184.87, 0.024},   {1000, 1196.4, 0.010},
               {10000, 8687.8, 0.005}, {100000, 67673, 0.003}, {1000000, 551962, 0.0015}};
    for (size_t i = 0; i < 6; ++i) {
        double bc;
        ASSERT_OK(tcgpu_exact_beta_c(ref[i].N, 1.0, &bc));
        cr_expect_leq(fabs(bc / ref[i].bc - 1), 5e-5, "N=%lld beta_c=%.8g", (long long)ref[i].N,
                      bc);
        double low = 1 - tcgpu_asym_beta_c_eq50(ref[i].N, 1.0) / bc;
        cr_expect_leq(fabs(low - ref[i].low), 0.3 * ref[i].low, "N=%lld eq50 low by %g",
                      (long long)ref[i].N, low);
    }
}

Test(critical, fig3_maximum_leaves_m0_at_q_near_0_8) {
    double bc;
    ASSERT_OK(tcgpu_exact_beta_c(1000, 1.0, &bc));
    double qc = 2 * M_PI * 1000 / (bc * log(1000.0));
    cr_expect_leq(fabs(qc - 0.8), 0.06, "q_c = %g", qc);
    int64_t mm;
    ASSERT_OK(tcgpu_exact_m_max(1000, 1.0, bc * 1.01, &mm));
    cr_expect_eq(mm, 0, "beta > beta_c: peak at m = 0");
    ASSERT_OK(tcgpu_exact_m_max(1000, 1.0, bc * 0.99, &mm));
    cr_expect_gt(mm, 0, "beta < beta_c: peak at m > 0");
}

Test(critical, eq54_peak_and_eq55_exponent) {
    static const int64_t Ns[] = {1000, 10000};
    for (size_t i = 0; i < 2; ++i) {
        double bc;
        ASSERT_OK(tcgpu_exact_beta_c(Ns[i], 1.0, &bc));
        for (double f = 0.02; f < 1; f += 0.07) {
            int64_t mm;
            ASSERT_OK(tcgpu_exact_m_max(Ns[i], 1.0, f * bc, &mm));
            double pred = tcgpu_asym_m_max_eq54(Ns[i], 1.0, f * bc, bc);
            cr_expect_leq(fabs((double)mm - pred), 1.0, "N=%lld beta/beta_c=%g: %lld vs %g",
                          (long long)Ns[i], f, (long long)mm, pred);
        }
        /* Eq 55: m_max ~ (N + beta_c/2 pi g^2)(1 - beta/beta_c)^mu, mu = 1 (PHYSICS.md). */
        double d1 = 0.01, d2 = 0.1;
        double m1 = tcgpu_asym_m_max_eq54(Ns[i], 1.0, (1 - d1) * bc, bc);
        double m2 = tcgpu_asym_m_max_eq54(Ns[i], 1.0, (1 - d2) * bc, bc);
        double mu = log(m2 / m1) / log(d2 / d1);
        cr_expect_leq(fabs(mu - 1), 0.05, "N=%lld mu = %g", (long long)Ns[i], mu);
        double pref = (double)Ns[i] + bc / (2 * M_PI);
        cr_expect_leq(fabs(m1 / (pref * d1) - 1), 0.02, "N=%lld prefactor", (long long)Ns[i]);
    }
}

Test(euler_mean, euler_maclaurin_tail_matches_brute_force) {
    static const long double cs[] = {0.049L, 0.01L, 0.002L};
    for (size_t i = 0; i < 3; ++i)
        for (int a = 1; a <= 2; ++a) {
            long double s = 0;
            for (int64_t j = 4000000; j >= a; --j) /* smallest terms first */
                s += 1.0L / expm1l(cs[i] * (long double)j);
            long double got = tcgpu_euler_mean(cs[i], a);
            cr_expect_leq(fabsl(got / s - 1), 1e-14L, "c=%Lg a=%d: %.20Lg vs %.20Lg", cs[i], a, got,
                          s);
        }
}
