/* The CUDA backend against the CPU backend: the same batch (sweeps of one pattern with their own
 * values, classes and windows) marched by both from the same state, probabilities |x_i|^2
 * within 1e-10, on the fused paths (shared, global; couplings from the CSR and on the fly) and
 * the cuSPARSE path (lockstep, fp64). Every test skips itself, with the reason, where no CUDA
 * device is usable. */
#include <stdio.h>
#include <string.h>

#include "tcgpu/device.h"
#include "tcgpu/march.h"
#include "tcgpu/model.h"
#include "test_common.h"

#define MAXB 8

typedef struct {
    tcgpu_model m[MAXB];
    const tcgpu_model *mp[MAXB];
    double ta[MAXB], tb[MAXB], kappa[MAXB];
    int n;
} batch;

static void need_device(void) {
    tcgpu_device_info dev[4];
    char why[256] = "";
    if (tcgpu_cuda_devices(dev, 4, why, sizeof why) < 1)
        cr_skip_test("CUDA backend not checked: %s", why);
}

/* A deterministic normalized state: mostly the model's start state, a little of every other,
 * so that every amplitude carries weight through the whole march. */
static void start_state(const tcgpu_model *m, double *x) {
    double norm = 0;
    for (int64_t i = 0; i < m->dim; ++i) {
        double a = i == m->start ? 1.0 : 0.05 * sin(1.0 + (double)i),
               b = i == m->start ? 0.0 : 0.05 * cos(2.0 + 0.5 * (double)i);
        x[2 * i] = a;
        x[2 * i + 1] = b;
        norm += a * a + b * b;
    }
    for (int64_t i = 0; i < 2 * m->dim; ++i)
        x[i] /= sqrt(norm);
}

static void add(batch *b, double ta, double tb, double kappa) {
    b->mp[b->n] = &b->m[b->n];
    b->ta[b->n] = ta;
    b->tb[b->n] = tb;
    b->kappa[b->n] = kappa;
    ++b->n;
}

/* RK4 is stable only for h |V| below ~2.8, which the Magnus grid exceeds (it takes h |V| >> 1
 * in its Chebyshev stride): RK4 runs on a grid this much finer. */
#define RK4_FINER 16

/* The cuSPARSE path pays a few kernel launches and a read-back per application of M whatever
 * the batch's size, so the few-sweep batches here run on it where their grid has at most this
 * many steps (every Magnus-4 grid; the small RK4 grids, which are 16 times finer). */
#define SPARSE_MAX_STEPS 60000

/* Largest |p - q| over the probabilities |x_i|^2 of two batches of n sweeps. */
static double prob_diff(const double *x, const double *y, int64_t n) {
    double diff = 0;
    for (int64_t i = 0; i < n; ++i)
        diff = fmax(diff, fabs(x[2 * i] * x[2 * i] + x[2 * i + 1] * x[2 * i + 1] -
                               y[2 * i] * y[2 * i] - y[2 * i + 1] * y[2 * i + 1]));
    return diff;
}

/* fp32 (--precision single): the device's fp32 march against the CPU's fp32 march of the same
 * code. Both round differently (the device contracts to fma), so they are compared on the scale
 * of fp32 round-off itself, measured here as the CPU's fp32 march against its fp64 march: the
 * difference must stay within 10 times that (and 1e-4 at least). */
static void compare_single(batch *b, const char *what, int method, const double *kappa,
                           const double *x64) {
    int64_t d = b->m[0].dim, n = b->n * d;
    double *xc = xcalloc((size_t)(2 * n), sizeof(double)),
           *xg = xcalloc((size_t)(2 * n), sizeof(double));
    for (int s = 0; s < b->n; ++s)
        start_state(&b->m[s], xc + 2 * d * s);
    memcpy(xg, xc, (size_t)(2 * n) * sizeof(double));
    tcgpu_batch bc = {b->mp, b->n, b->ta, b->tb, kappa, xc, NULL, NULL, NULL};
    tcgpu_batch bg = {b->mp, b->n, b->ta, b->tb, kappa, xg, NULL, NULL, NULL};
    tcgpu_march_opts oc = {
        .backend = TCGPU_BACKEND_CPU, .method = (tcgpu_method)method, .precision = TCGPU_FP32};
    tcgpu_march_opts og = oc;
    og.backend = TCGPU_BACKEND_CUDA;
    ASSERT_OK(tcgpu_march_batch(&bc, &oc, NULL));
    double scale = prob_diff(xc, x64, n);
    for (int path = TCGPU_PATH_SHARED; path <= TCGPU_PATH_GLOBAL; ++path) {
        for (int s = 0; s < b->n; ++s)
            start_state(&b->m[s], xg + 2 * d * s);
        og.path = (tcgpu_cuda_path)path;
        tcgpu_status st = tcgpu_march_batch(&bg, &og, NULL);
        if (st == TCGPU_EINVAL && path == TCGPU_PATH_SHARED)
            continue;
        cr_assert_eq(st, TCGPU_OK, "%s fp32: %s", what, tcgpu_last_error());
        double diff = prob_diff(xc, xg, n), bound = fmax(1e-4, 10 * scale);
        printf("%s %s fp32 %s path: max |p_cpu32 - p_gpu32| = %.3e (fp32 round-off scale "
               "|p_cpu32 - p_cpu64| = %.3e)\n",
               what, method ? "magnus4" : "rk4", path == TCGPU_PATH_SHARED ? "shared" : "global",
               diff, scale);
        fflush(stdout);
        cr_expect_leq(diff, bound, "%s fp32 path %d: max |p_cpu - p_gpu| = %.3e > %.3e", what, path,
                      diff, bound);
    }
    og.path = TCGPU_PATH_CUSPARSE;
    cr_expect_eq(tcgpu_march_batch(&bg, &og, NULL), TCGPU_EINVAL,
                 "%s: the cuSPARSE path marches in fp64 only", what);
    cr_expect(strstr(tcgpu_last_error(), "fp64") != NULL, "%s", tcgpu_last_error());
    free(xc);
    free(xg);
}

/* Marches b on both backends with both methods; returns the largest |p_cpu - p_gpu|. */
static double compare(batch *b, const char *what) {
    int64_t d = b->m[0].dim;
    double worst = 0;
    for (int method = 0; method < 2; ++method) {
        double *xc = xcalloc((size_t)(b->n * d * 2), sizeof(double));
        double *xg = xcalloc((size_t)(b->n * d * 2), sizeof(double));
        int64_t steps_c[MAXB], steps_g[MAXB], apps_c[MAXB], apps_g[MAXB];
        double kappa[MAXB];
        for (int s = 0; s < b->n; ++s)
            kappa[s] = method ? b->kappa[s] : b->kappa[s] / RK4_FINER;
        for (int s = 0; s < b->n; ++s)
            start_state(&b->m[s], xc + 2 * d * s);
        memcpy(xg, xc, (size_t)(b->n * d * 2) * sizeof(double));
        tcgpu_batch bc = {b->mp, b->n, b->ta, b->tb, kappa, xc, steps_c, apps_c, NULL};
        tcgpu_batch bg = {b->mp, b->n, b->ta, b->tb, kappa, xg, steps_g, apps_g, NULL};
        tcgpu_march_opts oc = {.backend = TCGPU_BACKEND_CPU, .method = (tcgpu_method)method};
        tcgpu_march_opts og = {.backend = TCGPU_BACKEND_CUDA, .method = (tcgpu_method)method};
        ASSERT_OK(tcgpu_march_batch(&bc, &oc, NULL));
        int64_t smax = 0;
        for (int s = 0; s < b->n; ++s)
            smax = steps_c[s] > smax ? steps_c[s] : smax;
        /* both fused paths, each with the couplings from the CSR and on the fly (banded
         * models), and the cuSPARSE path */
        for (int run = 0; run < 5; ++run) {
            int path = run == 4  ? TCGPU_PATH_CUSPARSE
                       : run < 2 ? TCGPU_PATH_SHARED
                                 : TCGPU_PATH_GLOBAL;
            tcgpu_march_info info;
            if (path == TCGPU_PATH_CUSPARSE && smax > SPARSE_MAX_STEPS) {
                printf("%s %s: cuSPARSE path skipped: %lld steps > %d\n", what,
                       method ? "magnus4" : "rk4", (long long)smax, SPARSE_MAX_STEPS);
                continue;
            }
            for (int s = 0; s < b->n; ++s)
                start_state(&b->m[s], xg + 2 * d * s);
            og.path = (tcgpu_cuda_path)path;
            og.coupling = run % 2 ? TCGPU_COUPLING_ONTHEFLY : TCGPU_COUPLING_CSR;
            tcgpu_status st = tcgpu_march_batch(&bg, &og, &info);
            if (st == TCGPU_EINVAL && path == TCGPU_PATH_SHARED) {
                printf("%s: shared path skipped: %s\n", what, tcgpu_last_error());
                continue;
            }
            cr_assert_eq(st, TCGPU_OK, "%s: %s", what, tcgpu_last_error());
            double diff = 0, norm_err = 0;
            for (int s = 0; s < b->n; ++s) {
                double norm = 0;
                cr_expect_eq(steps_c[s], steps_g[s], "%s sweep %d: same grid", what, s);
                cr_expect_eq(apps_c[s], apps_g[s], "%s sweep %d: same applications", what, s);
                for (int64_t i = 0; i < d; ++i) {
                    const double *c = xc + 2 * (d * s + i), *g = xg + 2 * (d * s + i);
                    double pc = c[0] * c[0] + c[1] * c[1], pg = g[0] * g[0] + g[1] * g[1];
                    diff = fmax(diff, fabs(pc - pg));
                    norm += pc;
                }
                norm_err = fmax(norm_err, fabs(norm - 1));
            }
            printf("%s %s %s path, couplings %s (block %d, %zu B shared, %s): max |p_cpu - "
                   "p_gpu| = %.3e over %d sweeps, %lld steps in sweep 0, CPU norm error %.1e\n",
                   what, method ? "magnus4" : "rk4",
                   path == TCGPU_PATH_SHARED   ? "shared"
                   : path == TCGPU_PATH_GLOBAL ? "global"
                                               : "cusparse",
                   info.on_the_fly ? "on the fly" : "from the CSR", info.block, info.shared_bytes,
                   info.device, diff, b->n, (long long)steps_c[0], norm_err);
            fflush(stdout);
            /* bounded states, so that the comparison means something (RK4 loses some norm) */
            cr_expect_leq(norm_err, 0.05, "%s %s: the CPU march itself is off (norm error %.1e)",
                          what, method ? "magnus4" : "rk4", norm_err);
            cr_expect_eq(info.path, path, "%s: the path taken", what);
            cr_expect_leq(diff, 1e-10, "%s %s path %d, %s: max |p_cpu - p_gpu| = %.3e", what,
                          method ? "magnus4" : "rk4", path, info.on_the_fly ? "otf" : "csr", diff);
            worst = fmax(worst, diff);
        }
        compare_single(b, what, method, kappa, xc);
        free(xc);
        free(xg);
    }
    for (int s = 0; s < b->n; ++s)
        tcgpu_model_free(&b->m[s]);
    return worst;
}

Test(gpu, landau_zener) {
    need_device();
    batch b = {.n = 0};
    const double g[] = {0.3, 1.0, 2.0}, beta[] = {1.0, 0.5, 4.0};
    for (int s = 0; s < 3; ++s) {
        ASSERT_OK(tcgpu_model_lz(&b.m[b.n], g[s], beta[s]));
        add(&b, -40.0 - 10 * s, 35.0 + 5 * s, 0.5);
    }
    compare(&b, "lz");
}

Test(gpu, demkov_osherov_k2_and_k5) {
    need_device();
    const double lv2[] = {-1.0, 1.5}, lv5[] = {-2.0, -0.7, 0.3, 1.1, 2.5};
    for (int K = 2; K <= 5; K += 3) {
        batch b = {.n = 0};
        for (int s = 0; s < 3; ++s) {
            ASSERT_OK(tcgpu_model_do(&b.m[b.n], K, 0.5 + 0.3 * s, 1.0 + s, K == 2 ? lv2 : lv5));
            add(&b, -30.0 - 5 * s, 30.0, 0.5);
        }
        char what[32];
        snprintf(what, sizeof what, "do K=%d", K);
        compare(&b, what);
    }
}

Test(gpu, tavis_cummings_one_channel_n100) {
    need_device();
    batch b = {.n = 0};
    const double e[1] = {0.0}, beta[] = {1.0, 3.0};
    for (int s = 0; s < 2; ++s) {
        ASSERT_OK(tcgpu_model_tc(&b.m[b.n], 100, 1, 0.1 * (1 + s), beta[s], e));
        add(&b, -12.0, 12.0, 0.5);
    }
    compare(&b, "tc K=1 N=100");
}

Test(gpu, tavis_cummings_two_channels_n10_n20) {
    need_device();
    for (int N = 10; N <= 20; N += 10) {
        batch b = {.n = 0};
        /* Different pair energies, couplings and sweep rates in one batch. Windows: the one
         * tcgpu run picks at tol 1e-6 for beta = 0.3 (N = 10: T0 = -110.8, Tr = 55.2, kappa
         * 0.5); for beta = 3 and 30 its starts (-21.1, -5.3) with the ends cut to 60 and 30
         * (it picks 235 and 104 with kappa 0.25: 0.5 and 1 million steps, too long for a test). */
        const double eps[] = {0.5, 0.2, 1.0}, beta[] = {0.3, 3.0, 30.0}, g[] = {1.0, 0.5, 0.8};
        const double ta[] = {-110.8, -21.1, -5.3}, tb[] = {55.2, 60.0, 30.0};
        for (int s = 0; s < 3; ++s) {
            double e[2] = {-eps[s], eps[s]};
            ASSERT_OK(tcgpu_model_tc(&b.m[b.n], N, 2, g[s], beta[s], e));
            add(&b, ta[s], tb[s], 0.5);
        }
        char what[32];
        snprintf(what, sizeof what, "tc K=2 N=%d", N);
        compare(&b, what);
    }
}

Test(gpu, effective_two_mode_n10) {
    need_device();
    batch b = {.n = 0};
    for (int s = 0; s < 3; ++s) {
        ASSERT_OK(tcgpu_model_heff(&b.m[b.n], 10, 1.0, 1.0 + s, 0.5 + 0.25 * s));
        add(&b, 0.05, 60.0, 0.5);
    }
    compare(&b, "heff n=10");
}

/* A few hundred steps of a four-level model, for compute-sanitizer's race and memory checks
 * (bench/run_gpu.sh), which slow a kernel down a hundredfold. */
Test(gpu, small_batch_for_the_sanitizers) {
    need_device();
    batch b = {.n = 0};
    const double lv[] = {-1.0, 0.5, 1.5};
    for (int s = 0; s < 2; ++s) {
        ASSERT_OK(tcgpu_model_do(&b.m[b.n], 3, 0.6 + 0.2 * s, 1.0 + s, lv));
        add(&b, -4.0, 4.0, 0.5);
    }
    compare(&b, "do K=3 small");
}

/* A batch split into launches of at most 3 sweeps (8 sweeps: 3 chunks on two streams, each
 * chunk its own models, classes and windows) must give what one CPU batch gives. */
Test(gpu, chunks_on_two_streams) {
    need_device();
    batch b = {.n = 0};
    const double e[2] = {-0.5, 0.5};
    for (int s = 0; s < MAXB; ++s) {
        ASSERT_OK(tcgpu_model_tc(&b.m[b.n], 6, 2, 0.5 + 0.1 * s, 0.5 + 0.5 * s, e));
        add(&b, -12.0 + s, 10.0 + 0.5 * s, 0.5);
    }
    int64_t d = b.m[0].dim, n = b.n * d;
    double *xc = xcalloc((size_t)(2 * n), sizeof(double)),
           *xg = xcalloc((size_t)(2 * n), sizeof(double));
    for (int s = 0; s < b.n; ++s)
        start_state(&b.m[s], xc + 2 * d * s);
    tcgpu_batch bc = {b.mp, b.n, b.ta, b.tb, b.kappa, xc, NULL, NULL, NULL};
    tcgpu_march_opts oc = {.backend = TCGPU_BACKEND_CPU, .method = TCGPU_METHOD_MAGNUS4};
    ASSERT_OK(tcgpu_march_batch(&bc, &oc, NULL));
    for (int cp = TCGPU_COUPLING_CSR; cp <= TCGPU_COUPLING_ONTHEFLY; ++cp) {
        for (int s = 0; s < b.n; ++s)
            start_state(&b.m[s], xg + 2 * d * s);
        tcgpu_batch bg = {b.mp, b.n, b.ta, b.tb, b.kappa, xg, NULL, NULL, NULL};
        tcgpu_march_opts og = {.backend = TCGPU_BACKEND_CUDA,
                               .method = TCGPU_METHOD_MAGNUS4,
                               .coupling = (tcgpu_coupling)cp,
                               .max_chunk = 3};
        tcgpu_march_info info;
        cr_assert_eq(tcgpu_march_batch(&bg, &og, &info), TCGPU_OK, "%s", tcgpu_last_error());
        double diff = prob_diff(xc, xg, n);
        printf("tc K=2 N=6, 8 sweeps in launches of 3 (%lld chunks, couplings %s): max |p_cpu - "
               "p_gpu| = %.3e\n",
               (long long)info.chunks, info.on_the_fly ? "on the fly" : "from the CSR", diff);
        fflush(stdout);
        cr_expect_eq(info.chunks, 3);
        cr_expect_leq(diff, 1e-10, "chunked batch: max |p_cpu - p_gpu| = %.3e", diff);
    }
    free(xc);
    free(xg);
    for (int s = 0; s < b.n; ++s)
        tcgpu_model_free(&b.m[s]);
}
