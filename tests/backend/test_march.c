/* The batched CPU march is the single-sweep march: same grid, same step code, bit for bit, in
 * fp64 and in fp32, with the couplings read from the CSR or computed on the fly, at every grid
 * level (the accuracy control's longer |V|-limited steps). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "march_internal.h"
#include "march_lockstep.h"
#include "propagate_internal.h"
#include "tcgpu/basis.h"
#include "tcgpu/march.h"
#include "tcgpu/model.h"
#include "tcgpu/propagate.h"
#include "test_common.h"

/* Sweeps each model from its dressed start at ta to tb alone (tcgpu_sweep_advance) and all in
 * one batch from the same states, sweep s at grid level s % 3; the amplitudes must be
 * identical. */
static void same_as_single(tcgpu_model *m, int n, const double *ta, const double *tb, double kappa,
                           const char *what) {
    int64_t d = m[0].dim;
    const tcgpu_model *mp[4];
    double kap[4], *x = xcalloc((size_t)(n * d * 2), sizeof(double));
    int level[4];
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
            level[s] = s % 3;
            ASSERT_OK(tcgpu_sweep_begin(&m[s], (tcgpu_method)method, prec, ta[s], kappa, 1, &sw));
            tcgpu_sweep_set_vlevel(sw, level[s]);
            memcpy(x + 2 * d * s, tcgpu_sweep_state(sw), (size_t)(2 * d) * sizeof(double));
            ASSERT_OK(tcgpu_sweep_advance(sw, tb[s]));
            memcpy(want + 2 * d * s, tcgpu_sweep_state(sw), (size_t)(2 * d) * sizeof(double));
            steps1[s] = tcgpu_sweep_steps(sw);
            apps1[s] = tcgpu_sweep_applications(sw);
            tcgpu_sweep_end(sw);
        }
        tcgpu_batch b = {mp, n, ta, tb, kap, x, steps, apps, level};
        tcgpu_march_opts o = {.backend = TCGPU_BACKEND_CPU,
                              .method = (tcgpu_method)method,
                              .precision = prec,
                              .coupling = coupling};
        ASSERT_OK(tcgpu_march_batch(&b, &o, NULL));
        for (int s = 0; s < n; ++s) {
            cr_expect_eq(steps[s], steps1[s], "%s sweep %d", what, s);
            cr_expect_eq(apps[s], apps1[s], "%s sweep %d", what, s);
        }
        /* tc and heff default (the single sweep here) to their own series in real arithmetic
         * (src/step/real_series.c), which the explicit couplings leave: there the same steps
         * and terms round differently. */
        double dx = 0;
        for (int64_t i = 0; i < n * d * 2; ++i)
            dx = fmax(dx, fabs(x[i] - want[i]));
        int real = (m[0].kind == TCGPU_MODEL_TC || m[0].kind == TCGPU_MODEL_HEFF) &&
                   method == 1 && !prec;
        cr_expect(real ? dx <= 1e-12 : memcmp(x, want, (size_t)(n * d * 2) * sizeof(double)) == 0,
                  "%s %s %s %s: batched and single-sweep amplitudes differ (max %.2e)", what,
                  method ? "magnus4" : "rk4", prec ? "fp32" : "fp64",
                  coupling == TCGPU_COUPLING_CSR ? "csr" : "on the fly", dx);
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
/* A grid level lengthens only the |V|-limited steps (tcgpu_grid_vrate): one channel at N = 200,
 * where |V| ~ 0.39 N^1.5 outweighs the phase velocities, takes fewer steps at each level; and
 * the runs' state distance (the control's step check between readouts) bounds the total
 * variation between their readouts and is 0 for a state against itself. */
Test(march, grid_levels_and_the_state_distance) {
    tcgpu_model m;
    double e1[1] = {0};
    ASSERT_OK(tcgpu_model_tc(&m, 200, 1, 1.0, 200.0, e1));
    int64_t d = m.dim, last = INT64_MAX;
    double *pa = xcalloc((size_t)d, sizeof(double)), *pb = xcalloc((size_t)d, sizeof(double));
    for (int level = 0; level <= 3; ++level) {
        tcgpu_sweep *a, *b;
        ASSERT_OK(tcgpu_sweep_begin(&m, TCGPU_METHOD_MAGNUS4, TCGPU_FP64, -1, 0.5, 2, &a));
        ASSERT_OK(tcgpu_sweep_begin(&m, TCGPU_METHOD_MAGNUS4, TCGPU_FP64, -1, 1.0, 2, &b));
        cr_expect_eq(tcgpu_sweep_distance(a, b), 0.0, "the same start");
        tcgpu_sweep_set_vlevel(a, level);
        tcgpu_sweep_set_vlevel(b, level);
        ASSERT_OK(tcgpu_sweep_advance(a, 1.5));
        ASSERT_OK(tcgpu_sweep_advance(b, 1.5));
        cr_expect_lt(tcgpu_sweep_steps(a), last, "level %d: fewer steps than level %d", level,
                     level - 1);
        last = tcgpu_sweep_steps(a);
        double dist = tcgpu_sweep_distance(a, b);
        cr_expect_eq(tcgpu_sweep_distance(a, a), 0.0);
        ASSERT_OK(tcgpu_sweep_readout_pair(a, b, pa, pb));
        double tv = tcgpu_tv(pa, pb, d);
        cr_expect(dist > 0 && tv <= dist, "level %d: TV %g, distance %g", level, tv, dist);
        tcgpu_sweep_end(a);
        tcgpu_sweep_end(b);
    }
    free(pa);
    free(pb);
    tcgpu_model_free(&m);
}

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

/* The host's blocked application (tc K <= 2, heff: the default on the CPU) is the CSR
 * application bit for bit, at the edges of the basis too (N = 0, 1, 2), for random weights and
 * amplitudes, in fp64 and fp32; and it is the path the default work space takes. */
static void blocked_is_csr(const tcgpu_model *m, const char *what) {
    tcgpu_work wb, wc;
    tcgpu_work_f fb, fc;
    cr_assert_eq(tcgpu_work_alloc(m, 64, TCGPU_COUPLING_AUTO, &wb), 0);
    cr_assert_eq(tcgpu_work_alloc(m, 64, TCGPU_COUPLING_CSR, &wc), 0);
    cr_assert_eq(tcgpu_work_alloc_f(m, 64, TCGPU_COUPLING_AUTO, &fb), 0);
    cr_assert_eq(tcgpu_work_alloc_f(m, 64, TCGPU_COUPLING_CSR, &fc), 0);
    cr_expect(wb.A.root != NULL && fb.A.root != NULL, "%s: the blocked path is the default", what);
    cr_expect(wc.A.root == NULL && wc.A.band.kind == TCGPU_BAND_NONE);
    int64_t d = m->dim, nc = m->nclass > 0 ? m->nclass : 1;
    tcgpu_cplx *x = xcalloc((size_t)d, sizeof *x), *y1 = xcalloc((size_t)d, sizeof *y1),
               *y2 = xcalloc((size_t)d, sizeof *y2), *z = xcalloc((size_t)nc, sizeof *z);
    tcgpu_cplxf *xf = xcalloc((size_t)d, sizeof *xf), *f1 = xcalloc((size_t)d, sizeof *f1),
                *f2 = xcalloc((size_t)d, sizeof *f2), *zf = xcalloc((size_t)nc, sizeof *zf);
    unsigned r = 12345;
    for (int64_t i = 0; i < d; ++i) {
        x[i].re = (r = r * 1103515245u + 12345u) / 4294967296.0 - 0.5;
        x[i].im = (r = r * 1103515245u + 12345u) / 4294967296.0 - 0.5;
        xf[i].re = (float)x[i].re;
        xf[i].im = (float)x[i].im;
    }
    for (int64_t c = 0; c < nc; ++c) {
        double ph = 0.7 + 1.3 * (double)c;
        z[c] = (tcgpu_cplx){cos(ph), sin(ph)};
        zf[c] = (tcgpu_cplxf){(float)cos(ph), (float)sin(ph)};
    }
    tcgpu_apply(&wb.A, z, x, y1);
    tcgpu_apply(&wc.A, z, x, y2);
    cr_expect(memcmp(y1, y2, (size_t)d * sizeof *y1) == 0, "%s fp64: blocked and CSR differ", what);
    tcgpu_apply_f(&fb.A, zf, xf, f1);
    tcgpu_apply_f(&fc.A, zf, xf, f2);
    cr_expect(memcmp(f1, f2, (size_t)d * sizeof *f1) == 0, "%s fp32: blocked and CSR differ", what);
    free(x), free(y1), free(y2), free(z), free(xf), free(f1), free(f2), free(zf);
    tcgpu_work_free(&wb), tcgpu_work_free(&wc), tcgpu_work_free_f(&fb), tcgpu_work_free_f(&fc);
}

Test(march, blocked_couplings_are_the_csr_bit_for_bit) {
    double e2[2] = {-0.5, 0.7}, e1[1] = {0};
    char what[64];
    for (int N = 0; N <= 9; N += (N < 3 ? 1 : 6)) {
        tcgpu_model m;
        ASSERT_OK(tcgpu_model_tc(&m, N, 2, 0.8, 1.5, e2));
        snprintf(what, sizeof what, "tc K=2 N=%d", N);
        blocked_is_csr(&m, what);
        tcgpu_model_free(&m);
        ASSERT_OK(tcgpu_model_tc(&m, N, 1, 1.3, 0.5, e1));
        snprintf(what, sizeof what, "tc K=1 N=%d", N);
        blocked_is_csr(&m, what);
        tcgpu_model_free(&m);
        if (N >= 1) {
            ASSERT_OK(tcgpu_model_heff(&m, N, 0.9, 2.0, 0.5));
            snprintf(what, sizeof what, "heff n=%d", N);
            blocked_is_csr(&m, what);
            tcgpu_model_free(&m);
        }
    }
}

Test(march, batch_refuses_mixed_patterns) {
    tcgpu_model m[2];
    double e[2] = {-0.5, 0.5};
    ASSERT_OK(tcgpu_model_tc(&m[0], 4, 2, 1.0, 0.5, e));
    ASSERT_OK(tcgpu_model_tc(&m[1], 5, 2, 1.0, 0.5, e));
    const tcgpu_model *mp[2] = {&m[0], &m[1]};
    double ta[2] = {-5, -5}, tb[2] = {5, 5}, k[2] = {0.5, 0.5};
    double *x = xcalloc((size_t)m[1].dim * 4, sizeof(double));
    tcgpu_batch b = {mp, 2, ta, tb, k, x, NULL, NULL, NULL};
    tcgpu_march_opts o = {.backend = TCGPU_BACKEND_CPU};
    cr_expect_eq(tcgpu_march_batch(&b, &o, NULL), TCGPU_EINVAL);
    cr_expect(strstr(tcgpu_last_error(), "pattern") != NULL, "%s", tcgpu_last_error());
    free(x);
    tcgpu_model_free(&m[0]);
    tcgpu_model_free(&m[1]);
}

/* b marched by the lockstep runner's CPU twin (the reference of the cuSPARSE path). */
static tcgpu_status lockstep(const tcgpu_batch *b, const tcgpu_march_opts *o,
                             tcgpu_march_info *info) {
    tcgpu_march_opts l = *o;
    l.backend = TCGPU_BACKEND_CPU;
    l.path = TCGPU_PATH_CUSPARSE;
    return tcgpu_march_batch(b, &l, info);
}

/* The lockstep march (its CPU backend: the reference of the cuSPARSE path) against the fused
 * CPU march, from the same states: the same steps and applications per sweep, probabilities
 * within 1e-12 (the stacked sparse product sums in another order than the fused apply). The
 * sweeps have their own windows, step parameters, grid levels, g, rates and energies, so their
 * own grids and Chebyshev degrees; RK4 on a 16 times finer grid (its stability limit). */
static void lockstep_is_fused(tcgpu_model *m, int n, int one_model, const double *ta,
                              const double *tb, const double *kappa, const char *what) {
    int64_t d = m[0].dim;
    const tcgpu_model *mp[4];
    double kap[4], *x = xcalloc((size_t)(n * d * 2), sizeof(double));
    int level[4];
    double *want = xcalloc((size_t)(n * d * 2), sizeof(double));
    for (int method = 0; method < 2; ++method) {
        int64_t steps[4], apps[4], steps1[4], apps1[4];
        for (int s = 0; s < n; ++s) {
            mp[s] = one_model ? &m[0] : &m[s];
            kap[s] = method ? kappa[s] : kappa[s] / 16;
            level[s] = s % 3;
            spread_state(mp[s], want + 2 * d * s);
        }
        memcpy(x, want, (size_t)(n * d * 2) * sizeof(double));
        tcgpu_batch bf = {mp, n, ta, tb, kap, want, steps1, apps1, level};
        tcgpu_batch bl = {mp, n, ta, tb, kap, x, steps, apps, level};
        tcgpu_march_opts o = {.backend = TCGPU_BACKEND_CPU, .method = (tcgpu_method)method};
        ASSERT_OK(tcgpu_march_batch(&bf, &o, NULL));
        ASSERT_OK(lockstep(&bl, &o, NULL));
        double dp = 0, dx = 0;
        for (int s = 0; s < n; ++s) {
            cr_expect_eq(steps[s], steps1[s], "%s sweep %d: steps", what, s);
            cr_expect_eq(apps[s], apps1[s], "%s sweep %d: applications", what, s);
        }
        for (int64_t i = 0; i < n * d; ++i) {
            const double *a = x + 2 * i, *b = want + 2 * i;
            dp = fmax(dp, fabs(a[0] * a[0] + a[1] * a[1] - b[0] * b[0] - b[1] * b[1]));
            dx = fmax(dx, hypot(a[0] - b[0], a[1] - b[1]));
        }
        printf("lockstep vs fused, %s %s: max |dp| %.2e, max |dx| %.2e; steps", what,
               method ? "magnus4" : "rk4", dp, dx);
        for (int s = 0; s < n; ++s)
            printf(" %lld", (long long)steps[s]);
        printf(", applications");
        for (int s = 0; s < n; ++s)
            printf(" %lld", (long long)apps[s]);
        printf("\n");
        fflush(stdout);
        cr_expect_leq(dp, 1e-12, "%s %s: max |p_lockstep - p_fused| = %.3e", what,
                      method ? "magnus4" : "rk4", dp);
    }
    free(x);
    free(want);
    for (int s = 0; s < (one_model ? 1 : n); ++s)
        tcgpu_model_free(&m[s]);
}

Test(march, lockstep_march_is_the_fused_march) {
    tcgpu_model m[3];
    double e[2] = {-0.5, 0.5}, e2[2] = {-0.2, 0.3}, e1[1] = {0};
    ASSERT_OK(tcgpu_model_tc(&m[0], 6, 2, 1.0, 0.5, e));
    ASSERT_OK(tcgpu_model_tc(&m[1], 6, 2, 0.7, 2.0, e2));
    ASSERT_OK(tcgpu_model_tc(&m[2], 6, 2, 0.4, 1.0, e));
    const double ta[] = {-20, -15, -25}, tb[] = {25, 18, 10}, k3[] = {0.5, 0.3, 0.8};
    lockstep_is_fused(m, 3, 0, ta, tb, k3, "tc K=2 N=6");
    /* one model for every sweep (the device plan holds its values and classes once) */
    ASSERT_OK(tcgpu_model_tc(&m[0], 6, 2, 1.0, 0.5, e));
    lockstep_is_fused(m, 3, 1, ta, tb, k3, "tc K=2 N=6, one model");
    ASSERT_OK(tcgpu_model_tc(&m[0], 30, 1, 1.0, 1.0, e1));
    ASSERT_OK(tcgpu_model_tc(&m[1], 30, 1, 0.5, 3.0, e1));
    const double a1[] = {-15, -8}, b1[] = {15, 20}, k2[] = {0.5, 0.25};
    lockstep_is_fused(m, 2, 0, a1, b1, k2, "tc K=1 N=30");
    ASSERT_OK(tcgpu_model_heff(&m[0], 5, 1.0, 1.0, 0.5));
    ASSERT_OK(tcgpu_model_heff(&m[1], 5, 0.8, 2.0, 1.0));
    const double ha[] = {0.1, 0.2}, hb[] = {30, 40}, hk[] = {0.5, 0.4};
    lockstep_is_fused(m, 2, 0, ha, hb, hk, "heff n=5");
    const double g[] = {0.3, 1.0, 2.0}, beta[] = {1.0, 0.5, 4.0};
    for (int s = 0; s < 3; ++s)
        ASSERT_OK(tcgpu_model_lz(&m[s], g[s], beta[s]));
    const double la[] = {-40, -50, -30}, lb[] = {35, 40, 45}, lk[] = {0.5, 0.5, 0.3};
    lockstep_is_fused(m, 3, 0, la, lb, lk, "lz");
}

/* What the lockstep (cuSPARSE) path refuses: fp32, and coupling values that are not one
 * matrix scaled per sweep; and a series that needs more terms than allowed stops the march
 * with the fused march's message. */
Test(march, lockstep_march_refusals_and_failures) {
    tcgpu_model m[2];
    double e[2] = {-0.5, 0.5};
    ASSERT_OK(tcgpu_model_tc(&m[0], 4, 2, 1.0, 0.5, e));
    ASSERT_OK(tcgpu_model_tc(&m[1], 4, 2, 0.5, 0.5, e));
    const tcgpu_model *mp[2] = {&m[0], &m[1]};
    double ta[2] = {-5, -5}, tb[2] = {5, 5}, k[2] = {0.5, 0.5};
    double *x = xcalloc((size_t)m[0].dim * 4, sizeof(double));
    tcgpu_batch b = {mp, 2, ta, tb, k, x, NULL, NULL, NULL};
    tcgpu_march_opts o = {.backend = TCGPU_BACKEND_CPU, .method = TCGPU_METHOD_MAGNUS4};
    ASSERT_OK(lockstep(&b, &o, NULL));
    o.precision = TCGPU_FP32;
    cr_expect_eq(lockstep(&b, &o, NULL), TCGPU_EINVAL);
    cr_expect(strstr(tcgpu_last_error(), "fp64") != NULL, "%s", tcgpu_last_error());
    o.precision = TCGPU_FP64;
    /* a series that needs more terms than allowed stops the march as in the fused one */
    o.nmax = 3;
    int64_t apps[2], apps1[2];
    cr_expect_eq(
        tcgpu_march_batch(&(tcgpu_batch){mp, 2, ta, tb, k, x, NULL, apps1, NULL}, &o, NULL),
        TCGPU_ERUNTIME);
    char fused[512];
    snprintf(fused, sizeof fused, "%s", tcgpu_last_error());
    cr_expect_eq(lockstep(&(tcgpu_batch){mp, 2, ta, tb, k, x, NULL, apps, NULL}, &o, NULL),
                 TCGPU_ERUNTIME);
    cr_expect_str_eq(tcgpu_last_error(), fused);
    cr_expect(apps[0] == -1 && apps[1] == -1, "applications %lld %lld", (long long)apps[0],
              (long long)apps[1]);
    o.nmax = 0;
    m[1].val[3] *= 1.5;
    cr_expect_eq(lockstep(&b, &o, NULL), TCGPU_EINVAL);
    cr_expect(strstr(tcgpu_last_error(), "not proportional") != NULL, "%s", tcgpu_last_error());
    free(x);
    tcgpu_model_free(&m[0]);
    tcgpu_model_free(&m[1]);
}
