/* Quantum simulations for the campaign: a list of sweeps shared out over the cores (OpenMP,
 * dynamic: their costs differ by orders of magnitude), each compared with the exact law. */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "tcgpu/exact.h"
#include "tcgpu/propagate.h"
#include "tcgpu/reduce.h"
#include "validate.h"

static tcgpu_status build(vsweep *s, double *e) {
    for (int k = 0; k < s->K && k < TCGPU_MAX_CHANNELS; ++k)
        e[k] = s->kind == TCGPU_MODEL_DO ? (2.0 * k - (s->K - 1)) * s->eps
                                         : 2.0 * (2 * (k + 1) - s->K - 1) * s->eps;
    switch (s->kind) {
    case TCGPU_MODEL_TC:
        return tcgpu_model_tc(&s->m, s->N, s->K, s->g, s->beta, e);
    case TCGPU_MODEL_DO:
        return tcgpu_model_do(&s->m, s->K, s->g, s->beta, e);
    case TCGPU_MODEL_HEFF:
        return tcgpu_model_heff(&s->m, s->N, s->g, s->beta, s->eps);
    case TCGPU_MODEL_LZ:
        return tcgpu_model_lz(&s->m, s->g, s->beta);
    default:
        return tcgpu_fail(TCGPU_EINVAL, "validate: no exact law for this model");
    }
}

static tcgpu_status one(vsweep *s) {
    double e[TCGPU_MAX_CHANNELS];
    tcgpu_status st = build(s, e);
    if (st)
        return st;
    s->built = 1;
    s->p = calloc((size_t)s->m.dim, sizeof *s->p);
    s->ex = calloc((size_t)s->m.dim, sizeof *s->ex);
    if (!s->p || !s->ex)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld states", (long long)s->m.dim);
    tcgpu_auto_opts ao = {TCGPU_METHOD_MAGNUS4, s->tol, 0, 0, 0, 0, TCGPU_FP64};
    tcgpu_auto_report r;
    if ((st = tcgpu_sweep_auto(&s->m, &ao, s->p, &r)))
        return st;
    const double *lev = s->kind == TCGPU_MODEL_LZ || s->kind == TCGPU_MODEL_HEFF ? NULL : e;
    if ((st = tcgpu_exact_for_model(&s->m, lev, s->ex)))
        return st;
    s->tv = tcgpu_tv(s->p, s->ex, s->m.dim);
    s->seconds = r.seconds;
    s->err_estimate = r.err_estimate;
    s->Tr = r.Tr;
    tcgpu_reduce_means(&s->m, s->p, s->mean, &s->mean_n, &s->eta);
    return TCGPU_OK;
}

#if defined(__GNUC__)
/* OpenBLAS threads inside the sweep threads would oversubscribe the cores (as in cli_run.c). */
void openblas_set_num_threads(int) __attribute__((weak));
#endif

int v_sweeps(vctx *c, vsweep *s, size_t n, const char *what) {
    int rc = CLI_OK;
    size_t done = 0;
#if defined(__GNUC__)
    int blas_threads = 1; /* fewer sweeps than threads: the spare ones go to the dense algebra */
#ifdef _OPENMP
    if (n > 0 && (size_t)omp_get_max_threads() > n)
        blas_threads = omp_get_max_threads() / (int)n;
#endif
    if (openblas_set_num_threads)
        openblas_set_num_threads(blas_threads);
#endif
    v_progress(c, "%s: %zu sweeps", what, n);
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < n; ++i) {
        int stop;
#pragma omp atomic read
        stop = rc;
        if (stop || tcgpu_stop_requested())
            continue;
        tcgpu_status st = one(&s[i]);
#pragma omp critical(tcgpu_validate_sweeps)
        {
            if (st && !rc)
                rc = cli_status("validate", st);
            if (!st) {
                ++done;
                v_progress(c, "%s: %zu/%zu done (N = %lld, K = %d, beta = %g: TV %.2e, %.1f s)",
                           what, done, n, (long long)s[i].N, s[i].K, s[i].beta, s[i].tv,
                           s[i].seconds);
            }
        }
    }
    if (!rc && tcgpu_stop_requested())
        rc = CLI_INTERRUPTED;
    return rc;
}

void v_sweeps_free(vsweep *s, size_t n) {
    for (size_t i = 0; s && i < n; ++i) {
        free(s[i].p);
        free(s[i].ex);
        if (s[i].built)
            tcgpu_model_free(&s[i].m);
        s[i].p = s[i].ex = NULL;
        s[i].built = 0;
    }
}
