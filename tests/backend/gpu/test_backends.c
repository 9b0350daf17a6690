/* One harness for every runner of the backend table (src/backend.c), in the manner of ggml's
 * test-backend-ops and SUNDIALS' backend tests: each registered runner marches the same batches
 * (sweeps of one pattern with their own values, windows and step parameters; tc K = 2, tc
 * K = 1, heff, lz) from the same states as the CPU fused runner, the reference; probabilities
 * |x_i|^2 within a runner's bound (1e-12 on the host, where only the order of a sum differs;
 * 1e-10 on a device, which contracts to fma). A runner that needs a CUDA device skips, with
 * the reason, where there is none (CI has no GPU). */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "tcgpu/device.h"
#include "test_common.h"

#define MAXB 3

typedef struct {
    tcgpu_model m[MAXB];
    const tcgpu_model *mp[MAXB];
    double ta[MAXB], tb[MAXB], kappa[MAXB];
    int n;
    const char *what;
} case_t;

/* Case k (0..3); false past the last. */
static int make_case(int k, case_t *c) {
    double e[2] = {-0.5, 0.5}, e1[1] = {0};
    memset(c, 0, sizeof *c);
    c->n = k == 0 || k == 3 ? 3 : 2;
    for (int s = 0; s < c->n; ++s) {
        double g = 1.0 - 0.3 * s, beta = 0.5 + s;
        switch (k) {
        case 0:
            ASSERT_OK(tcgpu_model_tc(&c->m[s], 6, 2, g, beta, e));
            c->ta[s] = -20 + 3 * s, c->tb[s] = 25 - 4 * s, c->what = "tc K=2 N=6";
            break;
        case 1:
            ASSERT_OK(tcgpu_model_tc(&c->m[s], 30, 1, g, beta, e1));
            c->ta[s] = -15 + 5 * s, c->tb[s] = 15 + 5 * s, c->what = "tc K=1 N=30";
            break;
        case 2:
            ASSERT_OK(tcgpu_model_heff(&c->m[s], 5, g, beta, 0.5));
            c->ta[s] = 0.1 + 0.1 * s, c->tb[s] = 30 + 10 * s, c->what = "heff n=5";
            break;
        case 3:
            ASSERT_OK(tcgpu_model_lz(&c->m[s], g, beta));
            c->ta[s] = -40 + 5 * s, c->tb[s] = 35 + 5 * s, c->what = "lz";
            break;
        default:
            return 0;
        }
        c->kappa[s] = 0.5 - 0.1 * s;
        c->mp[s] = &c->m[s];
    }
    return 1;
}

/* Runner ri against the CPU fused runner on every case, both methods. */
static void check_runner(int ri) {
    int n;
    const tcgpu_runner *const *t = tcgpu_runners(&n);
    cr_assert_lt(ri, n, "the table has %d runners", n);
    const tcgpu_runner *r = t[ri];
    if (r->device) {
        tcgpu_device_info dev;
        char why[256] = "";
        if (!tcgpu_cuda_built() || tcgpu_cuda_devices(&dev, 1, why, sizeof why) < 1)
            cr_skip_test("runner %s not checked: %s", r->name,
                         tcgpu_cuda_built() ? why : "built without CUDA");
    }
    double bound = r->device ? 1e-10 : 1e-12;
    for (int method = 0; method < 2; ++method) {
        case_t c;
        for (int k = 0; make_case(k, &c); ++k) {
            tcgpu_march_opts o = {.backend = r->backend,
                                  .method = (tcgpu_method)method,
                                  .path = r->lockstep ? TCGPU_PATH_CUSPARSE : TCGPU_PATH_AUTO};
            cr_assert_eq(tcgpu_runner_for(&o), r, "runner %s is not the table's for its options",
                         r->name);
            int64_t d = c.m[0].dim;
            double *want = xcalloc((size_t)(c.n * d * 2), sizeof(double)),
                   *got = xcalloc((size_t)(c.n * d * 2), sizeof(double)), kap[MAXB];
            int64_t s1[MAXB], s2[MAXB], a1[MAXB], a2[MAXB];
            for (int s = 0; s < c.n; ++s) {
                kap[s] = method ? c.kappa[s] : c.kappa[s] / 16; /* RK4: its stability edge */
                spread_state(c.mp[s], want + 2 * d * s);
            }
            memcpy(got, want, (size_t)(c.n * d * 2) * sizeof(double));
            tcgpu_march_opts ref = {.backend = TCGPU_BACKEND_CPU, .method = o.method};
            ASSERT_OK(tcgpu_march_batch(&(tcgpu_batch){c.mp, c.n, c.ta, c.tb, kap, want, s1, a1, NULL},
                                        &ref, NULL));
            ASSERT_OK(tcgpu_march_batch(&(tcgpu_batch){c.mp, c.n, c.ta, c.tb, kap, got, s2, a2, NULL}, &o,
                                        NULL));
            double dp = 0;
            for (int64_t i = 0; i < c.n * d; ++i) {
                const double *a = got + 2 * i, *b = want + 2 * i;
                dp = fmax(dp, fabs(a[0] * a[0] + a[1] * a[1] - b[0] * b[0] - b[1] * b[1]));
            }
            for (int s = 0; s < c.n; ++s)
                cr_expect_eq(s1[s], s2[s], "%s %s sweep %d: steps", r->name, c.what, s);
            cr_log_info("%s, %s %s: max |dp| %.2e", r->name, c.what, method ? "magnus4" : "rk4",
                        dp);
            cr_expect_leq(dp, bound, "%s, %s %s: max |p - p_cpu| = %.3e", r->name, c.what,
                          method ? "magnus4" : "rk4", dp);
            free(want);
            free(got);
            for (int s = 0; s < c.n; ++s)
                tcgpu_model_free(&c.m[s]);
        }
    }
}

/* One test per registered runner (a runner added to the table needs its line here: the count
 * below fails until it has one). */
#define RUNNERS 4
Test(backends, every_runner_has_its_test) {
    int n;
    tcgpu_runners(&n);
    cr_expect_eq(n, RUNNERS, "the table has %d runners; this harness checks %d", n, RUNNERS);
}
Test(backends, runner_0_marches_like_the_cpu_fused_runner) { check_runner(0); }
Test(backends, runner_1_marches_like_the_cpu_fused_runner) { check_runner(1); }
Test(backends, runner_2_marches_like_the_cpu_fused_runner) { check_runner(2); }
Test(backends, runner_3_marches_like_the_cpu_fused_runner) { check_runner(3); }

/* A runner that cannot march under the options says why up front (the lockstep runners take
 * fp64 only; without CUDA, the CUDA runners refuse), and a context is made for it only then. */
Test(backends, refusals_name_their_reason) {
    int n;
    const tcgpu_runner *const *t = tcgpu_runners(&n);
    for (int i = 0; i < n; ++i) {
        tcgpu_march_opts o = {.backend = t[i]->backend,
                              .precision = TCGPU_FP32,
                              .path = t[i]->lockstep ? TCGPU_PATH_CUSPARSE : TCGPU_PATH_AUTO};
        tcgpu_context *ctx = NULL;
        tcgpu_status st = tcgpu_context_create(&o, 0, &ctx);
        int refuse = t[i]->lockstep || (t[i]->device && !tcgpu_cuda_built());
        cr_expect_eq(st != TCGPU_OK, refuse, "%s fp32: %s", t[i]->name,
                     st ? tcgpu_last_error() : "accepted");
        if (!st)
            cr_expect_str_eq(tcgpu_context_runner(ctx), t[i]->name);
        tcgpu_context_free(ctx);
    }
}
