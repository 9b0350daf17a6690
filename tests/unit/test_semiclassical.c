/* The truncated-Wigner ensemble (tcgpu/semiclassical.h): the mean-field flow's fixed points and
 * invariants, reproducibility independent of the thread count, input checks, and agreement with
 * the exact engine at large N within tolerances set from measured statistical and systematic
 * errors (docs/semiclassical.md). */
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tcgpu/device.h"
#include "tcgpu/semiclassical.h"
#include "test_common.h"

static double abs2(const double *z) { return z[0] * z[0] + z[1] * z[1]; }

static double total(const tcgpu_twa_state *s, int K) {
    double t = abs2(s->psi);
    for (int k = 0; k < K; ++k)
        t += 0.5 * (abs2(s->a[k]) + abs2(s->b[k]));
    return t;
}

Test(flow, without_coupling_or_noise_nothing_happens) {
    /* g = 0: every mode only rotates, so each |amplitude| is kept. */
    tcgpu_twa_opts o = {.N = 10000, .K = 2, .g = 0, .beta = 10, .eps = 1};
    tcgpu_twa_state s = {.psi = {100, 0}, .a = {{0.3, -0.2}, {0, 0}}, .b = {{0, 0.5}, {0, 0}}};
    tcgpu_twa_stats st;
    ASSERT_OK(tcgpu_twa_trajectory(&o, -20, 20, &s, &st));
    cr_expect_float_eq(abs2(s.psi), 1e4, 1e-12, "|psi|^2 = %.17g", abs2(s.psi));
    cr_expect_float_eq(abs2(s.a[0]), 0.13, 1e-12, "|a_1|^2 = %.17g", abs2(s.a[0]));
    cr_expect_float_eq(abs2(s.b[0]), 0.25, 1e-12, "|b_1|^2 = %.17g", abs2(s.b[0]));
    cr_expect_eq(abs2(s.a[1]) + abs2(s.b[1]), 0.0);
    /* g > 0 but no noise: the empty atom modes are a fixed point of the mean-field equations
     * (every term creating atoms needs atoms), so without the Wigner noise n_k stays 0. */
    o.g = 1;
    tcgpu_twa_state q = {.psi = {100, 0}};
    ASSERT_OK(tcgpu_twa_trajectory(&o, -20, 20, &q, &st));
    for (int k = 0; k < 2; ++k)
        cr_expect_eq(abs2(q.a[k]) + abs2(q.b[k]), 0.0, "channel %d: %g", k,
                     abs2(q.a[k]) + abs2(q.b[k]));
    cr_expect_float_eq(abs2(q.psi), 1e4, 1e-12);
}

Test(flow, invariants_hold_through_the_transition_to_tolerance) {
    /* A trajectory that crosses both resonances and converts most molecules: N_mol + n (here
     * |psi|^2 + sum_k (|a_k|^2 + |b_k|^2)/2) and |a_k|^2 - |b_k|^2 are kept to ~tol. */
    static const double tols[] = {1e-6, 1e-9};
    for (int it = 0; it < 2; ++it) {
        tcgpu_twa_opts o = {.N = 10000, .K = 2, .g = 1, .beta = 1000, .eps = 100, .tol = tols[it]};
        tcgpu_twa_state s = {
            .psi = {100, 0}, .a = {{0.5, 0.1}, {-0.2, 0.4}}, .b = {{0.1, -0.6}, {0.3, 0.3}}};
        double t0 = total(&s, 2), j0 = abs2(s.a[0]) - abs2(s.b[0]),
               j1 = abs2(s.a[1]) - abs2(s.b[1]);
        tcgpu_twa_stats st;
        ASSERT_OK(tcgpu_twa_trajectory(&o, -2, 2, &s, &st));
        double conv = 1 - abs2(s.psi) / 1e4;
        cr_expect_gt(conv, 0.5, "the molecules did not convert: |psi|^2 = %g", abs2(s.psi));
        double d = fabs(total(&s, 2) - t0) / 1e4;
        double dj =
            fmax(fabs(abs2(s.a[0]) - abs2(s.b[0]) - j0), fabs(abs2(s.a[1]) - abs2(s.b[1]) - j1)) /
            1e4;
        cr_expect_leq(d, 100 * tols[it], "tol %g: N_mol + n drifted by %g N", tols[it], d);
        cr_expect_leq(dj, 100 * tols[it], "tol %g: |a|^2 - |b|^2 drifted by %g N", tols[it], dj);
        cr_expect_leq(st.drift, 100 * tols[it], "tol %g: in-flight drift %g N", tols[it], st.drift);
        cr_expect_gt(st.steps, 100);
    }
}

Test(flow, runs_backwards_to_the_start) {
    /* Time reversal: integrating forth and back returns the state (a check of the step control
     * and of the frame changes in both directions). */
    tcgpu_twa_opts o = {.N = 1000, .K = 1, .g = 1, .beta = 100, .tol = 1e-11};
    tcgpu_twa_state s0 = {.psi = {31.6, 0}, .a = {{0.5, 0.1}}, .b = {{0.1, -0.6}}}, s = s0;
    ASSERT_OK(tcgpu_twa_trajectory(&o, -3, 1, &s, NULL));
    cr_expect_lt(abs2(s.psi), 0.9 * abs2(s0.psi), "nothing happened");
    ASSERT_OK(tcgpu_twa_trajectory(&o, 1, -3, &s, NULL));
    double d = fabs(s.a[0][0] - s0.a[0][0]) + fabs(s.a[0][1] - s0.a[0][1]) +
               fabs(s.psi[0] - s0.psi[0]) + fabs(s.psi[1] - s0.psi[1]);
    cr_expect_leq(d, 1e-5, "forth and back: |difference| = %g", d);
}

static tcgpu_twa_result run(tcgpu_twa_opts o) {
    tcgpu_twa_result r;
    ASSERT_OK(tcgpu_twa_moments(&o, &r));
    return r;
}

Test(ensemble, same_seed_same_bits_for_any_thread_count) {
    /* 200 trajectories: four blocks of 64, shared differently by one and by two threads. */
    tcgpu_twa_opts o = {
        .N = 100000, .K = 2, .g = 1, .beta = 28953, .eps = 316, .trajectories = 200, .seed = 42};
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    tcgpu_twa_result a = run(o);
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    tcgpu_twa_result b = run(o);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    cr_expect_eq(a.mean_n, b.mean_n, "%.17g vs %.17g", a.mean_n, b.mean_n);
    cr_expect_eq(a.mean[1], b.mean[1]);
    cr_expect_eq(a.eta, b.eta);
    cr_expect_eq(a.mean_n_err, b.mean_n_err);
    cr_expect_eq(a.eta_err, b.eta_err);
    o.seed = 43;
    tcgpu_twa_result c = run(o);
    cr_expect_neq(a.mean_n, c.mean_n, "another seed gave the same ensemble");
}

Test(ensemble, rejects_bad_input_with_a_message) {
    tcgpu_twa_opts good = {
        .N = 1000, .K = 2, .g = 1, .beta = 100, .eps = 1, .trajectories = 10, .T = 0};
    tcgpu_twa_result r;
    tcgpu_twa_opts o = good;
    o.N = 0;
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
    o = good;
    o.eps = 0; /* equal pair energies: not the solvable model */
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
    o = good;
    o.g = 0;
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
    o = good;
    o.beta = NAN;
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
    o = good;
    o.trajectories = 1;
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
    o = good;
    o.T = 0.01; /* ends inside the resonance */
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
    cr_expect_neq(tcgpu_last_error()[0], '\0');
    o = good;
    o.K = TCGPU_MAX_CHANNELS + 1;
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
    o = good;
    o.beta = 1e-4; /* the automatic window would need ~1e10 steps per trajectory */
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
    o = good;
    o.tol = 0.5;
    cr_expect_eq(tcgpu_twa_moments(&o, &r), TCGPU_EINVAL);
}

static tcgpu_tc_moments exact(const tcgpu_twa_opts *o) {
    double lv[TCGPU_MAX_CHANNELS];
    for (int k = 0; k < o->K; ++k)
        lv[k] = 2.0 * (2 * k + 1 - o->K) * o->eps;
    tcgpu_tc_moments m;
    ASSERT_OK(tcgpu_exact_tc_moments(o->N, o->K, o->g, o->beta, lv, &m));
    return m;
}

/* |twa - exact| <= 4 standard errors + a relative systematic allowance. */
#define EXPECT_NEAR(what, got, err, want, sys)                                                     \
    cr_expect_leq(fabs((got) - (want)), 4 * (err) + (sys)*fabs(want),                              \
                  "%s: twa %.6g +- %.2g, exact %.6g (%.1f sigma, allowance %.2g relative)", what,  \
                  got, err, want, ((got) - (want)) / (err), sys)

Test(accuracy, fast_sweep_needs_the_weyl_correction) {
    /* c N = 2 pi g^2 N / beta = 0.5: few pairs (<n_1> = e^{cN} - 1 = 0.65), the pump is not
     * depleted and the dynamics is linear, where the truncated Wigner approximation is exact.
     * The Weyl shift -1/2 per pair mode is then the whole difference: without it <n_1> would
     * be 1.15. 2000 trajectories give a standard error of ~0.025 (measured). */
    for (int K = 1; K <= 2; ++K) {
        tcgpu_twa_opts o = {.N = 1000000,
                            .K = K,
                            .g = 1,
                            .beta = 4 * M_PI * 1e6,
                            .eps = 1000,
                            .trajectories = 2000,
                            .seed = 5};
        tcgpu_twa_result r = run(o);
        tcgpu_tc_moments m = exact(&o);
        cr_expect_float_eq(m.mean[0], expm1(0.5), 1e-6, "exact engine: %g", m.mean[0]);
        EXPECT_NEAR("<n_1>", r.mean[0], r.mean_err[0], m.mean[0], 0.0);
        EXPECT_NEAR("<n>", r.mean_n, r.mean_n_err, m.mean_n, 0.0);
        cr_expect_lt(r.mean_err[0], 0.05, "standard error %g", r.mean_err[0]);
        cr_expect_leq(fabs(r.mean_nu - (o.N - m.mean_n)), 0.1, "molecules left %g vs %g", r.mean_nu,
                      o.N - m.mean_n);
    }
}

/* Allowances (docs/semiclassical.md): over N = 1e4..1e6 and N g^2/(beta ln N) = 0.1..3, with
 * 1500-8000 trajectories, no deviation of TWA from the exact means was resolved; the runs bound
 * it by ~0.1% on <n> (0.3% at this q), 0.5% on eta and 3% on <n_2>. The allowances take those
 * bounds on top of 4 standard errors, so a failure means a real regression, not bad luck. */
Test(accuracy, single_channel_mean_at_N_1e5) {
    /* q = N g^2/(beta ln N) = 0.3: <n>/N = 0.585, the molecules half converted. */
    tcgpu_twa_opts o = {
        .N = 100000, .K = 1, .g = 1, .beta = 28953, .trajectories = 1000, .seed = 3};
    tcgpu_twa_result r = run(o);
    tcgpu_tc_moments m = exact(&o);
    EXPECT_NEAR("<n>", r.mean_n, r.mean_n_err, m.mean_n, 3e-3);
    cr_expect_lt(r.mean_n_err / m.mean_n, 5e-3, "standard error %g", r.mean_n_err);
    /* The spread over trajectories is the quantum standard deviation of n (eq 40's); a sample
     * of 1000 knows it to ~2.2% (1/sqrt(2 * 1000)), so allow 10%. */
    double *p = xcalloc((size_t)o.N + 1, sizeof *p), v = 0;
    ASSERT_OK(tcgpu_exact_tc_single(o.N, o.g, o.beta, p));
    for (int64_t k = 0; k <= o.N; ++k)
        v += ((double)k - m.mean_n) * ((double)k - m.mean_n) * p[k];
    free(p);
    cr_expect_leq(fabs(r.sd_n / sqrt(v) - 1), 0.1, "sd(n): twa %g, exact %g", r.sd_n, sqrt(v));
    cr_expect_leq(fabs(r.mean_n + r.mean_nu - o.N), 1e-6 * o.N, "n + nu = %g",
                  r.mean_n + r.mean_nu);
}

Test(accuracy, two_channels_n_n2_eta_at_N_1e5) {
    tcgpu_twa_opts o = {
        .N = 100000, .K = 2, .g = 1, .beta = 28953, .eps = 316.228, .trajectories = 400, .seed = 3};
    tcgpu_twa_result r = run(o);
    tcgpu_tc_moments m = exact(&o);
    EXPECT_NEAR("<n>", r.mean_n, r.mean_n_err, m.mean_n, 3e-3);
    EXPECT_NEAR("<n_2>", r.mean[1], r.mean_err[1], m.mean[1], 0.05);
    EXPECT_NEAR("eta", r.eta, r.eta_err, m.eta, 5e-3);
}

/* The dressed readout does not depend on when it is taken, once past the resonances: the
 * slaved parts it removes are what makes the bare amplitudes oscillate and drift like 1/T^2. */
static void readout_drift(int K, double *dressed, double *bare) {
    tcgpu_twa_opts o = {.N = 10000, .K = K, .g = 1, .beta = 1085.74, .eps = 100, .tol = 1e-10};
    tcgpu_twa_state s = {
        .psi = {100, 0}, .a = {{0.5, 0.3}, {0.2, -0.6}}, .b = {{-0.4, 0.2}, {0.3, 0.1}}};
    double t[3] = {-3, 3, 9}, n[2][TCGPU_MAX_CHANNELS], nu[2], nb[2][TCGPU_MAX_CHANNELS], nub[2];
    for (int i = 0; i < 2; ++i) {
        ASSERT_OK(tcgpu_twa_trajectory(&o, t[i], t[i + 1], &s, NULL));
        o.bare_readout = 0;
        ASSERT_OK(tcgpu_twa_readout(&o, t[i + 1], &s, n[i], &nu[i]));
        o.bare_readout = 1;
        ASSERT_OK(tcgpu_twa_readout(&o, t[i + 1], &s, nb[i], &nub[i]));
    }
    cr_expect_gt(nu[1], 100, "molecules left %g: not the regime meant", nu[1]);
    *dressed = fabs(nu[1] / nu[0] - 1);
    *bare = fabs(nub[1] / nub[0] - 1);
    for (int k = 0; k < K; ++k) {
        *dressed = fmax(*dressed, fabs(n[1][k] / n[0][k] - 1));
        *bare = fmax(*bare, fabs(nb[1][k] / nb[0][k] - 1));
    }
}

Test(readout, dressed_readout_is_the_same_at_3_and_9) {
    for (int K = 1; K <= 2; ++K) {
        double d, b;
        readout_drift(K, &d, &b);
        /* Measured: 2.1e-4 (K = 1) and 7.8e-4 (K = 2); without the second-order molecule weight
         * 1.8e-3 and 1.6e-3; the bare amplitudes 23% and 20%. Deterministic (tol 1e-10). */
        cr_expect_leq(d, K == 1 ? 1e-3 : 1.2e-3,
                      "K = %d: dressed readout moved by %g between t = 3 and 9", K, d);
        cr_expect_gt(b, 5 * d, "K = %d: bare readout moved by only %g (dressed %g)", K, b, d);
    }
}

/* The CUDA backend where the build or the machine has no device: one clear error, no result. */
Test(ensemble, cuda_without_a_device_says_why) {
    tcgpu_device_info dev;
    char why[256] = "";
    if (tcgpu_cuda_built() && tcgpu_cuda_devices(&dev, 1, why, sizeof why) > 0)
        cr_skip_test("a CUDA device is present: tests/backend/gpu/test_gpu_twa.c checks it");
    tcgpu_twa_opts o = {
        .N = 1000, .K = 1, .g = 1, .beta = 600, .trajectories = 10, .seed = 1, .backend = TCGPU_BACKEND_CUDA};
    tcgpu_twa_result r;
    tcgpu_status st = tcgpu_twa_moments(&o, &r);
    cr_expect_neq(st, TCGPU_OK);
    cr_expect(strstr(tcgpu_last_error(), "CUDA") != NULL, "%s", tcgpu_last_error());
}
