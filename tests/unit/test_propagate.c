/* Whole sweeps against the exact engine: models, superadiabatic start/readout, accuracy
 * control. Cases kept small so that CI stays quick; tcgpu run covers the large ones. */
#include <stdio.h>
#include <unistd.h>

#include "tcgpu/model.h"
#include "tcgpu/propagate.h"
#include "tcgpu/reduce.h"
#include "test_common.h"

Test(model, tc_basis_index_inverts_the_walk_and_couplings_match_physics_md) {
    for (int K = 1; K <= 4; ++K) {
        int64_t N = 7, n[4] = {0}, sum = 0, i = 0;
        do
            cr_expect_eq(tcgpu_basis_index(N, K, n), i++, "K=%d state %lld", K, (long long)i);
        while (tcgpu_basis_next(K, N, n, &sum));
    }
    tcgpu_model m;
    double e[2] = {-1, 1};
    ASSERT_OK(tcgpu_model_tc(&m, 5, 2, 0.8, 2.0, e));
    cr_expect_eq(m.dim, 21);
    cr_expect_eq(m.nclass, 2, "one phase class per channel");
    for (int64_t r = 0; r < m.dim; ++r)
        for (int64_t q = m.row_ptr[r]; q < m.row_ptr[r + 1]; ++q) {
            int64_t c = m.col[q], hi = r > c ? r : c, lo = r > c ? c : r, nh = 0, dk = -1;
            for (int k = 0; k < 2; ++k) {
                nh += m.labels[hi * 2 + k];
                if (m.labels[hi * 2 + k] == m.labels[lo * 2 + k] + 1)
                    dk = k;
            }
            cr_assert_geq(dk, 0);
            double want = 0.8 * m.labels[hi * 2 + dk] * sqrt(5.0 - nh + 1);
            cr_expect_float_eq(m.val[q], want, 1e-14, "g n_k sqrt(N - n + 1)");
        }
    tcgpu_model_free(&m);
}

static double run_tv_prec(tcgpu_model *m, const double *levels, tcgpu_method method,
                          tcgpu_precision prec, double tol, double *est, double *norm) {
    double *p = xcalloc((size_t)m->dim, 8), *ex = xcalloc((size_t)m->dim, 8);
    tcgpu_auto_opts o = {method, tol, 0, 0, 0, 0, prec};
    tcgpu_auto_report r;
    ASSERT_OK(tcgpu_sweep_auto(m, &o, p, &r));
    ASSERT_OK(tcgpu_exact_for_model(m, levels, ex));
    double tv = tcgpu_tv(p, ex, m->dim);
    *est = r.err_estimate;
    *norm = r.norm_error;
    free(p);
    free(ex);
    tcgpu_model_free(m);
    return tv;
}

static double run_tv(tcgpu_model *m, const double *levels, tcgpu_method method, double tol,
                     double *est, double *norm) {
    return run_tv_prec(m, levels, method, TCGPU_FP64, tol, est, norm);
}

static void expect_case(tcgpu_model *m, const double *levels, const char *what) {
    double est, norm, tv = run_tv(m, levels, TCGPU_METHOD_MAGNUS4, 1e-6, &est, &norm);
    cr_expect_leq(tv, 1e-6, "%s: TV %.3e", what, tv);
    cr_expect_geq(est, tv / 2, "%s: estimate %.3e below half the true error %.3e", what, est, tv);
    cr_expect_leq(norm, 1e-10, "%s: magnus4 norm drift %.3e", what, norm);
}

Test(sweep, landau_zener_and_demkov_osherov_within_1e6) {
    static const double bs[] = {0.05, 1, 100};
    static const double lv5[] = {0.3, -1, 2, 0.9, -0.2};
    for (int i = 0; i < 3; ++i) {
        tcgpu_model m;
        char what[64];
        ASSERT_OK(tcgpu_model_lz(&m, 1.0, bs[i]));
        snprintf(what, sizeof what, "lz beta=%g", bs[i]);
        expect_case(&m, NULL, what);
        ASSERT_OK(tcgpu_model_do(&m, 5, 1.0, bs[i] * 2, lv5));
        snprintf(what, sizeof what, "do K=5 beta=%g", bs[i] * 2);
        expect_case(&m, lv5, what);
    }
}

Test(sweep, tavis_cummings_small_cases_within_1e6) {
    static const double e1[1] = {0}, e2[2] = {-1, 1};
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_tc(&m, 10, 1, 1.0, 1.0, e1));
    expect_case(&m, e1, "tc K=1 N=10 beta=1");
    ASSERT_OK(tcgpu_model_tc(&m, 1, 2, 1.0, 3.0, e2));
    expect_case(&m, e2, "tc K=2 N=1 beta=3 eps=0.5");
    ASSERT_OK(tcgpu_model_tc(&m, 4, 2, 1.0, 0.5, e2));
    expect_case(&m, e2, "tc K=2 N=4 beta=0.5 eps=0.5");
}

/* Unequal levels put pairs of nearly degenerate states into one sector, whose second-order
 * lines a + c / t still cross late: (0,8,0) and (2,3,3), 0.2 apart, at t = 50.9 for beta = 4.13.
 * A window that ended at 43.0 read the pair swapped (TV 3.05e-6 under an estimate of 6.6e-7);
 * the control now waits past such crossings of populated states (ctl_in_sector_crossing). */
Test(sweep, windows_wait_for_late_in_sector_crossings) {
    static const double e3[3] = {-1, 0.3, 1.1};
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_tc(&m, 8, 3, 1.0, 4.1275951986109289, e3));
    expect_case(&m, e3, "tc K=3 N=8 levels -1,0.3,1.1 beta=4.13");
}

Test(sweep, degenerate_final_states_are_read_out_in_the_diabatic_basis) {
    /* Pair energies (-2, 0, 2): (1,0,1) and (0,2,0) stay degenerate as t -> +inf and the
     * induced shifts do not split them (second order depends on n alone). Projecting on the
     * eigenvectors of such a group left TV 3.6e-3 after 350 s; the diabatic read takes 3 s. */
    static const double e3[3] = {-2, 0, 2};
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_tc(&m, 4, 3, 1.0, 30.0, e3));
    expect_case(&m, e3, "tc K=3 N=4 beta=30 eps=0.5");
}

Test(sweep, window_extrapolation_is_not_fooled_by_an_oscillating_residual) {
    /* Its residual oscillates with Tr: extrapolating in the window on the agreement of two
     * extrapolations alone stopped at Tr = 22.5 with TV 1.2e-6 and an estimate of 2.2e-7. */
    static const double e2[2] = {-1, 1};
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_tc(&m, 1, 2, 1.0, 30.0, e2));
    expect_case(&m, e2, "tc K=2 N=1 beta=30 eps=0.5");
}

Test(sweep, window_extrapolation_passes_the_step_check_itself) {
    /* The extrapolation weighs the readouts at Tr and Tr/1.3 by 2.45 and -1.45: at tol 1e-4
     * (kappa = 1) its step error was 9.3e-5 where the plain readout's was 1.6e-5, and the
     * control returned TV 1.05e-4 with an estimate of 3.4e-5. Its own step check (Richardson
     * on the fine and coarse extrapolations) now halves kappa: TV 2.0e-5, estimate 2.2e-5. */
    static const double e3[3] = {-2, 0, 2};
    tcgpu_model m;
    double est, norm;
    ASSERT_OK(tcgpu_model_tc(&m, 8, 3, 1.0, 3.0, e3));
    double tv = run_tv(&m, e3, TCGPU_METHOD_MAGNUS4, 1e-4, &est, &norm);
    cr_expect_leq(tv, 1e-4, "tc K=3 N=8 beta=3 eps=0.5 tol 1e-4: TV %.3e", tv);
    cr_expect_geq(est, tv / 2, "estimate %.3e vs TV %.3e", est, tv);
}

Test(sweep, superadiabatic_readout_beats_plain_adiabatic) {
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_lz(&m, 1.0, 1.0));
    double p[2], q[2], ex[2];
    tcgpu_sweep_opts o = {TCGPU_METHOD_MAGNUS4, -20, 20, {0, 0}, 0.05, 1, TCGPU_FP64};
    tcgpu_sweep_result r = {p, {NULL, NULL}, 0, 0, 0}, s = {q, {NULL, NULL}, 0, 0, 0};
    ASSERT_OK(tcgpu_sweep_run(&m, &o, &r));
    o.superadiabatic = 0;
    ASSERT_OK(tcgpu_sweep_run(&m, &o, &s));
    ASSERT_OK(tcgpu_exact_lz(1.0, 1.0, ex));
    double a = tcgpu_tv(p, ex, 2), b = tcgpu_tv(q, ex, 2);
    cr_expect_lt(a, b / 10, "dressed %.3e vs plain %.3e", a, b);
    tcgpu_model_free(&m);
}

/* RK4 through the accuracy control: its grid starts past RK4's stability edge (h |V| > 2.8 on
 * Magnus's grid), where the state overflowed (NaN in every column) or was damped towards zero
 * in both runs alike (TV 1 with an estimate of 1.4e-7). Lost norm now counts as step error, so
 * kappa is halved until RK4 is stable and accurate. */
Test(sweep, rk4_control_halves_the_step_past_instability) {
    static const double e2[2] = {-1, 1};
    tcgpu_model m;
    double est, norm;
    ASSERT_OK(tcgpu_model_tc(&m, 20, 2, 1.0, 1.0, e2));
    double tv = run_tv(&m, e2, TCGPU_METHOD_RK4, 1e-4, &est, &norm);
    cr_expect_leq(tv, 1e-4, "rk4 tol 1e-4: TV %.3e (norm error %.3e)", tv, norm);
    cr_expect_geq(est, tv / 2, "estimate %.3e vs TV %.3e", est, tv);
}

/* TV against the exact engine of tc K = 2, N = 4, eps = 0.5, beta = 7.937 over a fixed window
 * (-11.09, Tr) and step kappa, started and read out at dressing order sa. */
static double dressed_tv(int sa, double kappa, double Tr) {
    static const double e2[2] = {-0.5, 0.5};
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_tc(&m, 4, 2, 1.0, 7.937, e2));
    double *p = calloc((size_t)m.dim, sizeof *p), *ex = calloc((size_t)m.dim, sizeof *ex);
    ASSERT_OK(tcgpu_exact_for_model(&m, e2, ex));
    tcgpu_sweep_opts o = {TCGPU_METHOD_MAGNUS4, -11.0877, Tr, {0, 0}, kappa, sa, TCGPU_FP64};
    tcgpu_sweep_result r = {p, {NULL, NULL}, 0, 0, 0};
    ASSERT_OK(tcgpu_sweep_run(&m, &o, &r));
    double tv = tcgpu_tv(p, ex, m.dim);
    free(p);
    free(ex);
    tcgpu_model_free(&m);
    return tv;
}

static const double dressing_Tr[2] = {22.5687, 50.7796};

/* The second-order dressing's residual falls faster with the window than the first order's
 * (the far-field readout is what sets the window, docs/numerics.md). Same window and step: only
 * the start and readout differ. */
Test(sweep, second_order_dressing_beats_first_order) {
    for (int i = 0; i < 2; ++i) {
        double a = dressed_tv(2, 0.25, dressing_Tr[i]), b = dressed_tv(1, 0.25, dressing_Tr[i]);
        cr_expect_lt(a, b / 5, "Tr %g: second order %.3e vs first order %.3e", dressing_Tr[i], a,
                     b);
    }
}

/* Order `hi` beats order hi - 1 by `factor` at both windows and falls faster with the window
 * (step kappa: the step error stays below both). */
static void expect_order_beats(int hi, double kappa, double factor) {
    double a[2], b[2];
    for (int i = 0; i < 2; ++i) {
        a[i] = dressed_tv(hi, kappa, dressing_Tr[i]);
        b[i] = dressed_tv(hi - 1, kappa, dressing_Tr[i]);
        cr_expect_lt(a[i], b[i] / factor, "Tr %g: order %d %.3e vs order %d %.3e", dressing_Tr[i],
                     hi, a[i], hi - 1, b[i]);
    }
    cr_expect_gt(a[0] / a[1], b[0] / b[1], "order %d %.3e -> %.3e, order %d %.3e -> %.3e", hi,
                 a[0], a[1], hi - 1, b[0], b[1]);
}

Test(sweep, third_order_dressing_beats_second_order) { expect_order_beats(3, 0.1, 3); }

Test(sweep, fourth_order_dressing_beats_third_order) { expect_order_beats(4, 0.05, 2); }

/* dressing_series's orders 5 and 6 (src/numerics/adiabatic.c) likewise: each below the one
 * before at the shorter window, where the step error (kappa 0.05) stays below them. */
Test(sweep, sixth_order_dressing_beats_fourth_order) {
    double tv[3];
    for (int k = 0; k < 3; ++k)
        tv[k] = dressed_tv(4 + k, 0.05, dressing_Tr[0]);
    cr_log_info("Tr %g: orders 4, 5, 6: %.3e %.3e %.3e", dressing_Tr[0], tv[0], tv[1], tv[2]);
    cr_expect_lt(tv[1], tv[0] / 1.5, "order 5 %.3e vs order 4 %.3e", tv[1], tv[0]);
    cr_expect_lt(tv[2], tv[1] / 1.5, "order 6 %.3e vs order 5 %.3e", tv[2], tv[1]);
}

Test(sweep, effective_two_mode_model_follows_eq75) {
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_heff(&m, 6, 1.0, 1.0, 1.0));
    expect_case(&m, NULL, "heff n=6 beta=1");
}

/* heff n = 1 (coupling 1/t): the readouts stop the fine and the coarse run on the ladder, and
 * each stop moves the coarse run's far-field error (a radian per step) by up to the fine run's
 * whole error, so TV(P_kappa, P_2kappa)/15 wandered down over the rounds (beta = 10: 1.6e-7 at
 * Tr = 12, 2.5e-8 at Tr = 137) while the fine run stayed off by 1.8e-7; the estimate was 0.48
 * and 0.41 of the true error at beta = 10 and 30. The largest step estimate of the rounds is
 * reported now: 1.28 and 0.95 of it. */
Test(sweep, heff_one_pair_estimate_holds_at_fast_sweeps) {
    static const double betas[] = {10, 30};
    for (int i = 0; i < 2; ++i) {
        tcgpu_model m;
        double est, norm;
        ASSERT_OK(tcgpu_model_heff(&m, 1, 1.0, betas[i], 0.5));
        double tv = run_tv(&m, NULL, TCGPU_METHOD_MAGNUS4, 1e-6, &est, &norm);
        cr_expect_leq(tv, 1e-6, "heff n=1 beta=%g: TV %.3e", betas[i], tv);
        cr_expect_geq(est, tv / 2, "heff n=1 beta=%g: estimate %.3e below half the true error %.3e",
                      betas[i], est, tv);
    }
}

/* heff n = 1, slow sweep: the readout's residual has its last maximum near
 * t = 1.3 g^2/(beta eps) (10.9 here: 1.3e-6), and the first ladder readouts (Tr/1.3, Tr/1.13,
 * Tr = 9.2, 10.6, 12) straddled it and agreed: the window check passed at Tr = 12 with TV
 * 1.28e-6 and an estimate of 1.95e-7. No window is accepted before t_c of one pair,
 * 2 g^2/(beta eps) = 16.8: Tr = 40.5, TV 1.4e-8, estimate 8.1e-8. */
Test(sweep, heff_one_pair_window_waits_for_the_transition) {
    tcgpu_model m;
    double est, norm;
    ASSERT_OK(tcgpu_model_heff(&m, 1, 1.0, 0.238, 0.5));
    double tv = run_tv(&m, NULL, TCGPU_METHOD_MAGNUS4, 1e-6, &est, &norm);
    cr_expect_leq(tv, 1e-6, "heff n=1 beta=0.238: TV %.3e", tv);
    cr_expect_geq(est, tv / 2, "heff n=1 beta=0.238: estimate %.3e below half the true error %.3e",
                  est, tv);
}

/* heff n = 2: the start check's leak has the dressing's part (~T0, into the antisymmetric
 * state) and the check's own step error (~kappa^4, into the upper symmetric state), which does
 * not fall as T0 -> 0+ (the interaction picture turns the couplings at dw/t, scale-free in
 * ln t). It stalled at 2.2e-6 > tol: the estimate read 2.3e-6 for a true 3.1e-8. A stalled
 * check is repeated at half its step now: T0 = 1.7e-5, start part 2.3e-8, estimate 1.3e-7. */
Test(sweep, heff_two_pair_start_check_separates_its_step_error) {
    tcgpu_model m;
    double est, norm;
    ASSERT_OK(tcgpu_model_heff(&m, 2, 1.0, 0.238, 0.5));
    double tv = run_tv(&m, NULL, TCGPU_METHOD_MAGNUS4, 1e-6, &est, &norm);
    cr_expect_leq(tv, 1e-6, "heff n=2 beta=0.238: TV %.3e", tv);
    cr_expect_leq(est, 1e-6, "heff n=2 beta=0.238: estimate %.3e above tol", est);
    cr_expect_geq(est, tv / 2, "heff n=2 beta=0.238: estimate %.3e below half the true error %.3e",
                  est, tv);
}

/* heff's window share: the window could take half of what the start and step errors leave, and
 * heff's window estimate can read 0.3-0.5 of the window error near a node of its oscillating
 * readout residual; two rates of the 40-rate scans (beta = 0.05-100, log-spaced) then ended over
 * tol: n = 2, beta = 0.351: TV 1.08e-6 (estimate 4.28e-7); n = 5, beta = 1.13: TV 2.92e-6
 * (3.94e-7). heff keeps tol/4 (ctl_window_share). */
Test(sweep, heff_window_share_keeps_scan_rates_within_tol) {
    static const int n[] = {2, 5};
    static const double betas[] = {0.35106533790804995, 1.1304171051372545};
    for (int i = 0; i < 2; ++i) {
        tcgpu_model m;
        char what[64];
        ASSERT_OK(tcgpu_model_heff(&m, n[i], 1.0, betas[i], 0.5));
        snprintf(what, sizeof what, "heff n=%d beta=%g", n[i], betas[i]);
        expect_case(&m, NULL, what);
    }
}

Test(sweep, users_mlz_file_reproduces_demkov_osherov) {
    /* The DO model written as a user's file: level 0 of slope 2 crossing levels at -1, 0.5. */
    char path[] = "/tmp/tcgpu_mlz_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("# Demkov-Osherov, K = 2\nstates 3\nslope 0 2.0\nenergy 1 -1\nenergy 2 0.5\n"
          "coupling 1 0 1.0\ncoupling 0 2 1.0\nstart 0\n",
          f);
    fclose(f);
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_mlz_file(&m, path));
    remove(path);
    double *p = xcalloc(3, 8), ex[3], lv[2] = {-1, 0.5};
    tcgpu_auto_opts o = {TCGPU_METHOD_MAGNUS4, 1e-6, 0, 0, 0, 0, TCGPU_FP64};
    tcgpu_auto_report r;
    ASSERT_OK(tcgpu_sweep_auto(&m, &o, p, &r));
    ASSERT_OK(tcgpu_exact_do(2, 1.0, 2.0, lv, ex));
    cr_expect_leq(tcgpu_tv(p, ex, 3), 1e-6, "mlz DO: TV %.3e", tcgpu_tv(p, ex, 3));
    free(p);
    tcgpu_model_free(&m);
    cr_expect_eq(tcgpu_model_mlz_file(&m, "/nonexistent.mlz"), TCGPU_EINVAL);
}

/* --precision single: the fp32 march under the same control meets tol = 1e-4 against the exact
 * engine, its estimate holds, and the norm (conserved) drifts only by fp32 round-off. */
Test(sweep, fp32_march_meets_1e_4_against_exact) {
    static const double betas[] = {0.3, 3, 30};
    double lev[2] = {-1, 1};
    for (int i = 0; i < 3; ++i) {
        tcgpu_model m;
        double est, norm;
        ASSERT_OK(tcgpu_model_tc(&m, 10, 2, 1.0, betas[i], lev));
        double tv = run_tv_prec(&m, lev, TCGPU_METHOD_MAGNUS4, TCGPU_FP32, 1e-4, &est, &norm);
        cr_expect_leq(tv, 1e-4, "fp32 tc K=2 N=10 beta %g: TV %.3e", betas[i], tv);
        cr_expect_geq(est, tv / 2, "fp32 beta %g: estimate %.3e below half of TV %.3e", betas[i],
                      est, tv);
        cr_expect_leq(norm, 1e-4, "fp32 beta %g: norm drift %.3e", betas[i], norm);
        cr_expect_gt(norm, 1e-12, "fp32 beta %g: norm drift %.1e is fp64's", betas[i], norm);
    }
}
