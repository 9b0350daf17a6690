/* tcgpu_scan_run: the sweeps of `tcgpu run` (build the model, tcgpu_sweep_auto, the exact
 * distribution, the reducers) behind one call with caller-owned arrays, for the Python module.
 * The CLI keeps its own loop (it writes rows in order as sweeps finish); both build each sweep's
 * model the same way, so they give the same probabilities. */
#include "tcgpu/scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "adiabatic.h"
#include "tcgpu/basis.h"
#include "tcgpu/exact.h"
#include "tcgpu/model.h"
#include "tcgpu/reduce.h"
#include "tcgpu/sysmem.h"

#ifndef TCGPU_VERSION
#define TCGPU_VERSION "unknown"
#endif
#ifndef TCGPU_GIT_COMMIT
#define TCGPU_GIT_COMMIT "unknown"
#endif

const char *tcgpu_version(void) { return TCGPU_VERSION; }
const char *tcgpu_git_commit(void) { return TCGPU_GIT_COMMIT; }

static int is(const tcgpu_scan_spec *s, const char *name) { return !strcmp(s->model, name); }

/* Channels (labels per state) as the model will have them. */
static int channels(const tcgpu_scan_spec *s) { return is(s, "lz") ? 1 : is(s, "heff") ? 2 : s->K; }

tcgpu_status tcgpu_scan_shape(const tcgpu_scan_spec *s, int64_t *dim, int *nk) {
    if (!s || !s->model || (!is(s, "tc") && !is(s, "lz") && !is(s, "do") && !is(s, "heff")))
        return tcgpu_fail(TCGPU_EINVAL, "model '%s': expected tc, lz, do or heff",
                          s && s->model ? s->model : "(none)");
    int K = channels(s);
    if (s->N < 0 || K < 1 || K > 8)
        return tcgpu_fail(TCGPU_EINVAL,
                          "N must be >= 0 and channels 1 to 8, got N = %lld, channels = %d",
                          (long long)s->N, K);
    if (s->sweeps && (!s->g || !s->beta || !s->eps))
        return tcgpu_fail(TCGPU_EINVAL, "g, beta and eps need one value per sweep");
    if (!(s->tol > 0 && s->tol < 1) || !(s->T >= 0) || !(s->kappa >= 0))
        return tcgpu_fail(TCGPU_EINVAL,
                          "tol must lie in (0, 1), T and dt must be >= 0; got tol "
                          "= %g, T = %g, dt = %g",
                          s->tol, s->T, s->kappa);
    if (s->precision == TCGPU_FP32 && s->tol < 1e-4)
        return tcgpu_fail(TCGPU_EINVAL,
                          "tol %g in single precision: fp32 reaches 1e-4 at best; use tol >= "
                          "1e-4 or double precision",
                          s->tol);
    if (s->threads < 0)
        return tcgpu_fail(TCGPU_EINVAL, "threads: %d; expected >= 1 (0: OpenMP's default)",
                          s->threads);
    if (s->max_halvings < 0 || s->max_halvings > 30)
        return tcgpu_fail(TCGPU_EINVAL, "max_halvings: %d; expected 1 to 30 (0: default)",
                          s->max_halvings);
    if (s->method != TCGPU_METHOD_RK4 && s->method != TCGPU_METHOD_MAGNUS4)
        return tcgpu_fail(TCGPU_EINVAL, "method %d: expected rk4 or magnus4", (int)s->method);
    if (s->precision != TCGPU_FP64 && s->precision != TCGPU_FP32)
        return tcgpu_fail(TCGPU_EINVAL, "precision %d: expected double or single",
                          (int)s->precision);
    if (s->levels && !is(s, "lz")) {
        int order[TCGPU_MAX_CHANNELS];
        tcgpu_status st = tcgpu_channel_order(K, s->levels, order);
        if (st)
            return st;
    }
    int64_t d = is(s, "tc") ? tcgpu_basis_dim(s->N, K) : is(s, "heff") ? s->N + 1 : K + 1;
    if (d < 0 || !adiabatic_sweep_plan(s->model, K, d, NULL))
        return tcgpu_fail(TCGPU_EINVAL,
                          "N = %lld: more than %d states, where the readout of this model "
                          "(dense) stops (tc has no such limit); expected a smaller N",
                          (long long)s->N, TCGPU_DENSE_MAX);
    *dim = d;
    *nk = is(s, "tc") || is(s, "heff") ? K : (int)d - 1;
    return TCGPU_OK;
}

/* Sweep i's model, with the energies `tcgpu run` gives it (app/tcgpu/cli_run.c, build). */
static tcgpu_status build(const tcgpu_scan_spec *s, size_t i, tcgpu_model *m, double *e) {
    int K = channels(s);
    double g = s->g[i], beta = s->beta[i], eps = s->eps[i];
    for (int k = 0; k < K; ++k)
        e[k] = s->levels ? s->levels[k] : 2.0 * (2 * (k + 1) - K - 1) * eps;
    if (is(s, "tc"))
        return tcgpu_model_tc(m, s->N, K, g, beta, e);
    if (is(s, "lz"))
        return tcgpu_model_lz(m, g, beta);
    if (is(s, "do")) {
        if (!s->levels) /* parallel levels at -eps (K-1), ..., spaced 2 eps */
            for (int k = 0; k < K; ++k)
                e[k] = (2.0 * k - (K - 1)) * eps;
        return tcgpu_model_do(m, K, g, beta, e);
    }
    return tcgpu_model_heff(m, s->N, g, beta, eps);
}

tcgpu_status tcgpu_scan_labels(const tcgpu_scan_spec *s, int32_t *labels, int *K) {
    int64_t dim;
    int nk;
    tcgpu_status st = tcgpu_scan_shape(s, &dim, &nk);
    if (st)
        return st;
    /* The labels do not depend on g, beta, eps: any valid values build the same basis. */
    tcgpu_scan_spec one = *s;
    double g = 1, beta = 1, eps = 0.25;
    one.g = &g;
    one.beta = &beta;
    one.eps = &eps;
    tcgpu_model m;
    double e[TCGPU_MAX_CHANNELS];
    if ((st = build(&one, 0, &m, e)))
        return st;
    memcpy(labels, m.labels, (size_t)m.dim * (size_t)m.K * sizeof *labels);
    *K = m.K;
    tcgpu_model_free(&m);
    return TCGPU_OK;
}

#define PUT(field, i, v)                                                                           \
    do {                                                                                           \
        if (out->field)                                                                            \
            out->field[i] = (v);                                                                   \
    } while (0)

/* One sweep, as app/tcgpu/cli_run.c's sweep_compute does it. */
static tcgpu_status one_sweep(const tcgpu_scan_spec *s, size_t i, int64_t dim, int nk,
                              const tcgpu_scan_out *out) {
    tcgpu_model m;
    double e[TCGPU_MAX_CHANNELS];
    tcgpu_status st = build(s, i, &m, e);
    if (st)
        return st;
    if (m.dim != dim) {
        tcgpu_model_free(&m);
        return tcgpu_fail(TCGPU_ERUNTIME, "sweep %zu: %lld states, expected %lld", i,
                          (long long)m.dim, (long long)dim);
    }
    double *p = malloc((size_t)dim * sizeof *p), *ex = calloc((size_t)dim, sizeof *ex);
    tcgpu_auto_opts ao = {s->method, s->tol, s->T, s->T, s->kappa, s->max_halvings, s->precision};
    if (is(s, "heff") && s->T > 0)
        ao.T0 = s->T * 1e-4;
    tcgpu_auto_report r = {0};
    st = !p || !ex ? tcgpu_fail(TCGPU_ERUNTIME, "out of memory for sweep %zu", i)
                   : tcgpu_sweep_auto(&m, &ao, p, &r);
    if (!st)
        st = tcgpu_exact_for_model(&m, m.kind == TCGPU_MODEL_LZ ? NULL : e, ex);
    if (!st) {
        double mean[TCGPU_MAX_CHANNELS + 1], mean_n, eta;
        tcgpu_reduce_means(&m, p, mean, &mean_n, &eta);
        if (out->prob)
            memcpy(out->prob + i * (size_t)dim, p, (size_t)dim * sizeof *p);
        if (out->exact)
            memcpy(out->exact + i * (size_t)dim, ex, (size_t)dim * sizeof *ex);
        if (out->mean)
            memcpy(out->mean + i * (size_t)nk, mean, (size_t)nk * sizeof *mean);
        PUT(mean_n, i, mean_n);
        PUT(eta, i, eta);
        PUT(tv, i, tcgpu_tv(p, ex, dim));
        PUT(maxabs, i, tcgpu_maxabs(p, ex, dim));
        PUT(err_estimate, i, r.err_estimate);
        PUT(T0, i, m.kind == TCGPU_MODEL_HEFF ? r.T0 : -r.T0); /* the window's start time */
        PUT(Tr, i, r.Tr);
        PUT(kappa, i, r.kappa);
        PUT(norm_error, i, r.norm_error);
        PUT(seconds, i, r.seconds);
        PUT(steps, i, r.steps);
        PUT(applications, i, r.applications);
        PUT(done, i, 1);
    }
    free(p);
    free(ex);
    tcgpu_model_free(&m);
    return st;
}

#if defined(__GNUC__)
/* OpenBLAS threads inside the sweep threads would oversubscribe the cores; the caller's own
 * setting (numpy may share this BLAS) is put back afterwards. Weak: absent with another BLAS. */
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
#endif

tcgpu_status tcgpu_scan_run(const tcgpu_scan_spec *s, const tcgpu_scan_out *out) {
    int64_t dim;
    int nk;
    tcgpu_status st = tcgpu_scan_shape(s, &dim, &nk);
    if (st)
        return st;
    for (size_t i = 0; out->done && i < s->sweeps; ++i)
        out->done[i] = 0;
    int threads = 1;
#ifdef _OPENMP
    threads = s->threads > 0 ? s->threads : omp_get_max_threads();
#endif
    double t = fmin((double)threads, (double)s->sweeps), bytes;
    adiabatic_sweep_plan(s->model, channels(s), dim, &bytes);
    if ((st = tcgpu_check_memory(t * bytes, "the sweeps' work")))
        return st;
#if defined(__GNUC__)
    /* As tcgpu run: spare cores (fewer sweeps than threads) go to the dense start and readout. */
    int blas_before = openblas_get_num_threads ? openblas_get_num_threads() : 0;
    if (openblas_set_num_threads)
        openblas_set_num_threads(
            s->sweeps > 0 && (size_t)threads > s->sweeps ? threads / (int)s->sweeps : 1);
#endif
    int first = TCGPU_OK;
    char msg[512] = "";
    size_t failed_at = s->sweeps;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (size_t i = 0; i < s->sweeps; ++i) {
        int skip;
#pragma omp atomic read
        skip = first;
        if (skip || tcgpu_stop_requested())
            continue;
        tcgpu_status r = one_sweep(s, i, dim, nk, out);
        if (r && r != TCGPU_EINTR) {
#pragma omp critical(tcgpu_scan_fail)
            if (i < failed_at) { /* the message of the lowest failing sweep, as the CLI's */
                failed_at = i;
                snprintf(msg, sizeof msg, "%s", tcgpu_last_error());
#pragma omp atomic write
                first = r;
            }
        }
    }
#if defined(__GNUC__)
    if (openblas_set_num_threads && blas_before > 0)
        openblas_set_num_threads(blas_before);
#endif
    if (first) /* this thread's message: the failing sweep set its own thread's */
        return tcgpu_fail((tcgpu_status)first, "sweep %zu (g = %g, beta = %g, eps = %g): %s",
                          failed_at, s->g[failed_at], s->beta[failed_at], s->eps[failed_at], msg);
    if (tcgpu_stop_requested()) {
        size_t n = 0;
        for (size_t i = 0; out->done && i < s->sweeps; ++i)
            n += out->done[i];
        return tcgpu_fail(TCGPU_EINTR, "stopped on request: %zu of %zu sweeps finished", n,
                          s->sweeps);
    }
    return TCGPU_OK;
}
