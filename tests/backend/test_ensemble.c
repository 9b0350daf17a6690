/* Batched accuracy controls: sweeps whose controls the ensemble driver serves together
 * (src/control/ensemble.c), their advances batched through the CPU fused runner, end exactly where the
 * same controls end alone: the batched CPU march is the single-sweep march bit for bit, so the
 * whole control, window choices included, must repeat itself. The states stay in the context's
 * memory between advances: each advance moves less than a state. */
#include <string.h>

#include "ensemble_jobs.h"
#include "test_common.h"

#define NS 5

static void build(ensemble_job *j, int s) {
    const double beta[NS] = {0.3, 1, 3, 10, 30}, e[2] = {-1, 1};
    ASSERT_OK(tcgpu_model_tc(&j->m, 4, 2, 1.0, beta[s], e));
}

static void same_as_alone(tcgpu_method method, double tol, int max_live) {
    ensemble_job j[NS];
    tcgpu_march_opts mo = {
        .backend = TCGPU_BACKEND_CPU, .method = method, .threads = 1, .nmax = 4096};
    for (int s = 0; s < NS; ++s) {
        build(&j[s], s);
        j[s].o = (tcgpu_auto_opts){method, tol, 0, 0, 0, 0, TCGPU_FP64};
        j[s].p = xcalloc((size_t)j[s].m.dim, sizeof(double));
    }
    tcgpu_transfer_stats stats;
    ASSERT_OK(ensemble_run(j, NS, max_live, &mo, &stats));
    /* Every sweep advanced in every batch until it finished: far fewer batches than advances. */
    cr_expect_lt(stats.batches, stats.advances, "batches %lld, advances %lld",
                 (long long)stats.batches, (long long)stats.advances);
    double per_advance = (stats.bytes_up + stats.bytes_down - stats.state_down) / stats.advances;
    cr_expect_leq(per_advance, stats.state_bytes, "%.0f bytes per advance, state %.0f",
                  per_advance, stats.state_bytes);
    cr_expect_eq(stats.models, NS);
    for (int s = 0; s < NS; ++s) {
        ASSERT_OK(j[s].st);
        double *alone = xcalloc((size_t)j[s].m.dim, sizeof(double));
        tcgpu_auto_report r;
        ASSERT_OK(tcgpu_sweep_auto(&j[s].m, &j[s].o, alone, &r));
        cr_expect(memcmp(alone, j[s].p, (size_t)j[s].m.dim * sizeof(double)) == 0,
                  "sweep %d: batched and lone controls differ (TV %.3e)", s,
                  tcgpu_tv(alone, j[s].p, j[s].m.dim));
        cr_expect_eq(r.steps, j[s].r.steps, "sweep %d: steps %lld alone, %lld batched", s,
                     (long long)r.steps, (long long)j[s].r.steps);
        cr_expect_eq(r.Tr, j[s].r.Tr, "sweep %d: window", s);
        free(alone);
        free(j[s].p);
        tcgpu_model_free(&j[s].m);
    }
}

Test(ensemble, batched_magnus4_controls_repeat_the_lone_ones) {
    same_as_alone(TCGPU_METHOD_MAGNUS4, 1e-6, NS);
}

/* Fewer live controls than jobs: the later ones are admitted as the first finish. */
Test(ensemble, controls_admitted_as_slots_free_repeat_the_lone_ones) {
    same_as_alone(TCGPU_METHOD_MAGNUS4, 1e-6, 2);
}

Test(ensemble, batched_rk4_controls_repeat_the_lone_ones) { same_as_alone(TCGPU_METHOD_RK4, 1e-4, NS); }

/* A method other than the context's is refused, not marched with the wrong steps. */
Test(ensemble, a_foreign_method_is_refused) {
    tcgpu_march_opts mo = {.backend = TCGPU_BACKEND_CPU, .method = TCGPU_METHOD_MAGNUS4};
    ensemble_job j;
    ASSERT_OK(tcgpu_model_lz(&j.m, 1.0, 1.0));
    j.o = (tcgpu_auto_opts){TCGPU_METHOD_RK4, 1e-4, 0, 0, 0, 0, TCGPU_FP64};
    j.p = xcalloc(2, sizeof(double));
    ASSERT_OK(ensemble_run(&j, 1, 1, &mo, NULL));
    cr_expect_eq(j.st, TCGPU_EINVAL);
    free(j.p);
    tcgpu_model_free(&j.m);
}

/* The lockstep runner's CPU twin under the controls: its march differs from the fused one in
 * round-off only, so the controls end within their tolerance of the lone ones. */
Test(ensemble, lockstep_twin_controls_agree_with_the_lone_ones) {
    ensemble_job j[NS];
    tcgpu_march_opts mo = {.backend = TCGPU_BACKEND_CPU,
                           .method = TCGPU_METHOD_MAGNUS4,
                           .path = TCGPU_PATH_CUSPARSE,
                           .nmax = 4096};
    for (int s = 0; s < NS; ++s) {
        build(&j[s], s);
        j[s].o = (tcgpu_auto_opts){TCGPU_METHOD_MAGNUS4, 1e-6, 0, 0, 0, 0, TCGPU_FP64};
        j[s].p = xcalloc((size_t)j[s].m.dim, sizeof(double));
    }
    ASSERT_OK(ensemble_run(j, NS, NS, &mo, NULL));
    for (int s = 0; s < NS; ++s) {
        ASSERT_OK(j[s].st);
        double *alone = xcalloc((size_t)j[s].m.dim, sizeof(double));
        tcgpu_auto_report r;
        ASSERT_OK(tcgpu_sweep_auto(&j[s].m, &j[s].o, alone, &r));
        cr_expect_leq(tcgpu_tv(alone, j[s].p, j[s].m.dim), 1e-6, "sweep %d", s);
        free(alone);
        free(j[s].p);
        tcgpu_model_free(&j[s].m);
    }
}
