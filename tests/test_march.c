/* The batched CPU march is the single-sweep march: same grid, same step code, bit for bit, in
 * fp64 and in fp32, with the couplings read from the CSR or computed on the fly. */
#include <string.h>

#include "../src/march_internal.h"
#include "tcgpu/basis.h"
#include "tcgpu/march.h"
#include "tcgpu/model.h"
#include "tcgpu/propagate.h"
#include "test_common.h"

/* Sweeps each model from its dressed start at ta to tb alone (tcgpu_sweep_advance) and all in
 * one batch from the same states; the amplitudes must be identical. */
static void same_as_single(tcgpu_model *m, int n, const double *ta, const double *tb, double kappa,
                           const char *what) {
    int64_t d = m[0].dim;
    const tcgpu_model *mp[4];
    double kap[4], *x = xcalloc((size_t)(n * d * 2), sizeof(double));
    double *want = xcalloc((size_t)(n * d * 2), sizeof(double));
    for (int run = 0; run < 8; ++run) {
        int method = run % 2;
        tcgpu_precision prec = run % 4 < 2 ? TCGPU_FP64 : TCGPU_FP32;
        tcgpu_coupling coupling = run < 4 ? TCGPU_COUPLING_CSR : TCGPU_COUPLING_ONTHEFLY;
        int64_t steps[4], apps[4], steps1[4], apps1[4];
        for (int s = 0; s < n; ++s) {
            tcgpu_sweep *sw;
            mp[s] = &m[s];
            kap[s] = kappa;
            ASSERT_OK(tcgpu_sweep_begin(&m[s], (tcgpu_method)method, prec, ta[s], kappa, 1, &sw));
            memcpy(x + 2 * d * s, tcgpu_sweep_state(sw), (size_t)(2 * d) * sizeof(double));
            ASSERT_OK(tcgpu_sweep_advance(sw, tb[s]));
            memcpy(want + 2 * d * s, tcgpu_sweep_state(sw), (size_t)(2 * d) * sizeof(double));
            steps1[s] = tcgpu_sweep_steps(sw);
            apps1[s] = tcgpu_sweep_applications(sw);
            tcgpu_sweep_end(sw);
        }
        tcgpu_batch b = {mp, n, ta, tb, kap, x, steps, apps};
        tcgpu_march_opts o = {.backend = TCGPU_BACKEND_CPU,
                              .method = (tcgpu_method)method,
                              .precision = prec,
                              .coupling = coupling};
        ASSERT_OK(tcgpu_march_batch(&b, &o, NULL));
        for (int s = 0; s < n; ++s) {
            cr_expect_eq(steps[s], steps1[s], "%s sweep %d", what, s);
            cr_expect_eq(apps[s], apps1[s], "%s sweep %d", what, s);
        }
        cr_expect(memcmp(x, want, (size_t)(n * d * 2) * sizeof(double)) == 0,
                  "%s %s %s %s: batched and single-sweep amplitudes differ", what,
                  method ? "magnus4" : "rk4", prec ? "fp32" : "fp64",
                  coupling == TCGPU_COUPLING_CSR ? "csr" : "on the fly");
    }
    free(x);
    free(want);
    for (int s = 0; s < n; ++s)
        tcgpu_model_free(&m[s]);
}

Test(march, batched_cpu_march_is_the_single_sweep_march) {
    tcgpu_model m[3];
    double e[2] = {-0.5, 0.5}, e2[2] = {-0.2, 0.3};
    ASSERT_OK(tcgpu_model_tc(&m[0], 6, 2, 1.0, 0.5, e));
    ASSERT_OK(tcgpu_model_tc(&m[1], 6, 2, 0.7, 2.0, e2));
    ASSERT_OK(tcgpu_model_tc(&m[2], 6, 2, 0.4, 1.0, e));
    const double ta[] = {-20, -15, -25}, tb[] = {25, 18, 10};
    same_as_single(m, 3, ta, tb, 0.5, "tc K=2 N=6");
    ASSERT_OK(tcgpu_model_heff(&m[0], 5, 1.0, 1.0, 0.5));
    ASSERT_OK(tcgpu_model_heff(&m[1], 5, 0.8, 2.0, 1.0));
    const double ha[] = {0.1, 0.2}, hb[] = {30, 40};
    same_as_single(m, 2, ha, hb, 0.5, "heff n=5");
    double e3[3] = {-1, 0.2, 1};
    ASSERT_OK(tcgpu_model_tc(&m[0], 5, 3, 1.0, 1.0, e3));
    ASSERT_OK(tcgpu_model_tc(&m[1], 5, 3, 0.6, 3.0, e3));
    const double k3a[] = {-12, -10}, k3b[] = {15, 12};
    same_as_single(m, 2, k3a, k3b, 0.5, "tc K=3 N=5");
    double e1[1] = {0};
    ASSERT_OK(tcgpu_model_tc(&m[0], 30, 1, 1.0, 1.0, e1));
    const double k1a[] = {-15}, k1b[] = {15};
    same_as_single(m, 1, k1a, k1b, 0.5, "tc K=1 N=30");
}

/* The on-the-fly couplings are really used (a model they do not reproduce would silently keep
 * the CSR), and the basis arithmetic behind them inverts the basis order. */
Test(march, on_the_fly_couplings_cover_the_banded_models) {
    double e[4] = {-1, -0.3, 0.4, 1.2}, e5[5] = {-2, -1, 0, 1, 2};
    for (int K = 1; K <= 5; ++K) {
        tcgpu_model m;
        ASSERT_OK(tcgpu_model_tc(&m, 7, K, 0.8, 1.5, K <= 4 ? e : e5));
        tcgpu_band b = tcgpu_band_of(&m);
        cr_expect_eq(b.kind, K <= 4 ? TCGPU_BAND_TC : TCGPU_BAND_NONE, "tc K = %d", K);
        int64_t n[5] = {0}, sum = 0, i = 0, got[5];
        do {
            tcgpu_band_decode(7, K, i, got);
            cr_expect(memcmp(n, got, (size_t)K * sizeof *n) == 0, "K = %d, index %lld", K,
                      (long long)i);
            cr_expect_eq(tcgpu_band_index(7, K, n), i);
            ++i;
        } while (tcgpu_basis_next(K, 7, n, &sum));
        cr_expect_eq(i, m.dim);
        tcgpu_model_free(&m);
    }
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_heff(&m, 12, 0.9, 2.0, 0.5));
    cr_expect_eq(tcgpu_band_of(&m).kind, TCGPU_BAND_HEFF);
    tcgpu_model_free(&m);
    ASSERT_OK(tcgpu_model_lz(&m, 1.0, 1.0));
    cr_expect_eq(tcgpu_band_of(&m).kind, TCGPU_BAND_NONE);
    tcgpu_model_free(&m);
}

Test(march, batch_refuses_mixed_patterns) {
    tcgpu_model m[2];
    double e[2] = {-0.5, 0.5};
    ASSERT_OK(tcgpu_model_tc(&m[0], 4, 2, 1.0, 0.5, e));
    ASSERT_OK(tcgpu_model_tc(&m[1], 5, 2, 1.0, 0.5, e));
    const tcgpu_model *mp[2] = {&m[0], &m[1]};
    double ta[2] = {-5, -5}, tb[2] = {5, 5}, k[2] = {0.5, 0.5};
    double *x = xcalloc((size_t)m[1].dim * 4, sizeof(double));
    tcgpu_batch b = {mp, 2, ta, tb, k, x, NULL, NULL};
    tcgpu_march_opts o = {.backend = TCGPU_BACKEND_CPU};
    cr_expect_eq(tcgpu_march_batch(&b, &o, NULL), TCGPU_EINVAL);
    cr_expect(strstr(tcgpu_last_error(), "pattern") != NULL, "%s", tcgpu_last_error());
    free(x);
    tcgpu_model_free(&m[0]);
    tcgpu_model_free(&m[1]);
}
