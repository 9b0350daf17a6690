/* Batched accuracy controls: sweeps whose controls run on their own threads and hand their
 * advances to one march service (src/propagate/march_service.c) end exactly where the same controls
 * end alone: the batched CPU march is the single-sweep march bit for bit, so the whole control,
 * window choices included, must repeat itself. */
#include <string.h>

#include "ensemble_jobs.h"
#include "test_common.h"

#define NS 5

static void build(ensemble_job *j, int s) {
    const double beta[NS] = {0.3, 1, 3, 10, 30}, e[2] = {-1, 1};
    ASSERT_OK(tcgpu_model_tc(&j->m, 4, 2, 1.0, beta[s], e));
}

static void same_as_alone(tcgpu_method method, double tol) {
    ensemble_job j[NS];
    tcgpu_march_opts mo = {
        .backend = TCGPU_BACKEND_CPU, .method = method, .threads = 1, .nmax = 4096};
    for (int s = 0; s < NS; ++s) {
        build(&j[s], s);
        j[s].o = (tcgpu_auto_opts){method, tol, 0, 0, 0, 0, TCGPU_FP64};
        j[s].p = xcalloc((size_t)j[s].m.dim, sizeof(double));
    }
    march_service_stats stats;
    cr_assert_eq(ensemble_run(j, NS, &mo, &stats), 0);
    /* Every sweep advanced in every batch until it finished: far fewer batches than advances. */
    cr_expect_lt(stats.batches, stats.advances, "batches %lld, advances %lld",
                 (long long)stats.batches, (long long)stats.advances);
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
    same_as_alone(TCGPU_METHOD_MAGNUS4, 1e-6);
}

Test(ensemble, batched_rk4_controls_repeat_the_lone_ones) { same_as_alone(TCGPU_METHOD_RK4, 1e-4); }

/* A method other than the batch's is refused, not marched with the wrong steps. */
Test(ensemble, a_foreign_method_is_refused) {
    tcgpu_march_opts mo = {.backend = TCGPU_BACKEND_CPU, .method = TCGPU_METHOD_MAGNUS4};
    march_service *svc;
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_lz(&m, 1.0, 1.0));
    ASSERT_OK(march_service_create(&mo, 1, &svc));
    tcgpu_cplx x[2] = {{1, 0}, {0, 0}};
    int64_t steps = 0, apps = 0;
    cr_expect_eq(march_service_advance(svc, &m, TCGPU_METHOD_RK4, -1, 1, 0.5, x, &steps, &apps),
                 TCGPU_EINVAL);
    march_service_leave(svc);
    march_service_destroy(svc, NULL);
    tcgpu_model_free(&m);
}
