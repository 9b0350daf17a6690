/* Batched march, CPU backend and the host side of every backend: checks that the sweeps share
 * a pattern, plans each sweep's grid as the single-sweep march does, and runs the shared step
 * loop (kernels/grid.h) per sweep on threads, or hands the plan to the CUDA backend. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../kernels/grid.h"
#include "march_internal.h"
#include "march_lockstep.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static tcgpu_grid grid_of(const tcgpu_model *m) {
    return (tcgpu_grid){m->classes, m->nclass, m->inverse_t, tcgpu_model_vbound(m)};
}

static tcgpu_status check(const tcgpu_batch *b) {
    if (b->count < 1 || !b->models || !b->t_a || !b->t_b || !b->kappa || !b->x)
        return tcgpu_fail(TCGPU_EINVAL,
                          "batch of %lld sweeps: expected at least one sweep with "
                          "models, windows, step parameters and states",
                          (long long)b->count);
    const tcgpu_model *m0 = b->models[0];
    int64_t nnz = m0->row_ptr[m0->dim];
    for (int64_t s = 0; s < b->count; ++s) {
        const tcgpu_model *m = b->models[s];
        if (m != m0 &&
            (m->dim != m0->dim || m->nclass != m0->nclass || m->inverse_t != m0->inverse_t ||
             m->row_ptr[m->dim] != nnz ||
             memcmp(m->row_ptr, m0->row_ptr, (size_t)(m->dim + 1) * sizeof *m->row_ptr) ||
             memcmp(m->col, m0->col, (size_t)nnz * sizeof *m->col) ||
             memcmp(m->cls, m0->cls, (size_t)nnz * sizeof *m->cls)))
            return tcgpu_fail(TCGPU_EINVAL,
                              "sweep %lld of the batch has another coupling pattern than sweep 0 "
                              "(dimension %lld vs %lld): one batch takes one pattern",
                              (long long)s, (long long)m->dim, (long long)m0->dim);
        double a = b->t_a[s], e = b->t_b[s];
        if (!(isfinite(a) && isfinite(e) && e > a) || !(b->kappa[s] > 0) ||
            (m->inverse_t && !(a > 0)))
            return tcgpu_fail(TCGPU_EINVAL,
                              "sweep %lld: window [%g, %g], kappa %g: expected t_a < t_b finite "
                              "(t_a > 0 for heff) and kappa > 0",
                              (long long)s, a, e, b->kappa[s]);
    }
    return TCGPU_OK;
}

static tcgpu_status ran_out(double t, int nmax) {
    return tcgpu_fail(TCGPU_ERUNTIME,
                      "Magnus step at t = %g needs more than %d Chebyshev terms; use a smaller "
                      "step",
                      t, nmax);
}

tcgpu_band tcgpu_band_of(const tcgpu_model *m) {
    tcgpu_band b = {TCGPU_BAND_NONE, 0, 0, 0};
    if (m->kind == TCGPU_MODEL_TC && m->K >= 1 && m->K <= TCGPU_BANDED_MAXK)
        b = (tcgpu_band){TCGPU_BAND_TC, m->K, m->N, m->g};
    else if (m->kind == TCGPU_MODEL_HEFF)
        b = (tcgpu_band){TCGPU_BAND_HEFF, 2, m->N, m->g * m->g / m->beta};
    else
        return b;
    /* The model's arrays are the reference: any difference (a builder changed, a model edited
     * after it was built) keeps the CSR. O(nnz), once per work space. */
    int64_t col[2 * TCGPU_BANDED_MAXK];
    double val[2 * TCGPU_BANDED_MAXK];
    int32_t cls[2 * TCGPU_BANDED_MAXK];
    for (int64_t i = 0; i < m->dim; ++i) {
        int64_t e0 = m->row_ptr[i];
        int n = tcgpu_band_row(&b, i, col, val, cls);
        if (n != m->row_ptr[i + 1] - e0)
            return (tcgpu_band){TCGPU_BAND_NONE, 0, 0, 0};
        for (int e = 0; e < n; ++e)
            if (col[e] != m->col[e0 + e] || val[e] != m->val[e0 + e] || cls[e] != m->cls[e0 + e])
                return (tcgpu_band){TCGPU_BAND_NONE, 0, 0, 0};
    }
    return b;
}

int tcgpu_coupling_on_the_fly(tcgpu_coupling c) {
    return c == TCGPU_COUPLING_ONTHEFLY || (c == TCGPU_COUPLING_AUTO && TCGPU_CPU_ON_THE_FLY);
}

/* The host's default for the models kernels/step_body.h applies blockwise (tc K <= 2, heff):
 * their band, with the roots sqrt(N - s + 1) it reads (*root, N + 2 doubles, the caller frees).
 * Bit-identical to the CSR and about twice as fast; an explicit --coupling keeps its path. */
static tcgpu_band blocked_band(const tcgpu_model *m, tcgpu_coupling c, double **root) {
    tcgpu_band none = {TCGPU_BAND_NONE, 0, 0, 0};
    *root = NULL;
    if (c != TCGPU_COUPLING_AUTO ||
        !((m->kind == TCGPU_MODEL_TC && m->K <= 2) || m->kind == TCGPU_MODEL_HEFF))
        return none;
    tcgpu_band b = tcgpu_band_of(m);
    if (b.kind == TCGPU_BAND_NONE || !(*root = malloc(((size_t)b.N + 2) * sizeof **root)))
        return none;
    for (int64_t s = 0; s <= b.N + 1; ++s)
        (*root)[s] = sqrt((double)(b.N - s + 1));
    return b;
}

int tcgpu_work_alloc(const tcgpu_model *m, int nmax, tcgpu_coupling c, tcgpu_work *wk) {
    size_t nc = (size_t)(m->nclass > 0 ? m->nclass : 1), d = (size_t)m->dim;
    tcgpu_cplx *buf = malloc((4 * nc + 3 * d) * sizeof *buf);
    double *J = malloc(((size_t)nmax + 1) * sizeof *J);
    if (!buf || !J) {
        free(buf);
        free(J);
        return -1;
    }
    tcgpu_csr A = {m->dim, m->row_ptr, m->col, m->val, m->cls, {TCGPU_BAND_NONE, 0, 0, 0}, NULL};
    double *root;
    A.band = blocked_band(m, c, &root);
    A.root = root;
    if (!root && tcgpu_coupling_on_the_fly(c))
        A.band = tcgpu_band_of(m);
    tcgpu_work_set(wk, A, grid_of(m), buf, (int64_t)nc, buf + 4 * nc, J, nmax);
    return 0;
}

void tcgpu_work_free(tcgpu_work *wk) {
    free(wk->z1); /* the start of the one buffer */
    free(wk->J);
    free((void *)wk->A.root);
}

int tcgpu_work_alloc_f(const tcgpu_model *m, int nmax, tcgpu_coupling c, tcgpu_work_f *wk) {
    size_t nc = (size_t)(m->nclass > 0 ? m->nclass : 1), d = (size_t)m->dim;
    size_t nnz = (size_t)m->row_ptr[m->dim];
    tcgpu_cplxf *buf = malloc((4 * nc + 3 * d) * sizeof *buf);
    float *val = malloc((nnz + 1) * sizeof *val);
    double *J = malloc(((size_t)nmax + 1) * sizeof *J);
    if (!buf || !val || !J) {
        free(buf);
        free(val);
        free(J);
        return -1;
    }
    for (size_t e = 0; e < nnz; ++e)
        val[e] = (float)m->val[e];
    tcgpu_csrf A = {m->dim, m->row_ptr, m->col, val, m->cls, {TCGPU_BAND_NONE, 0, 0, 0}, NULL};
    double *root;
    A.band = blocked_band(m, c, &root);
    A.root = root;
    if (!root && tcgpu_coupling_on_the_fly(c))
        A.band = tcgpu_band_of(m);
    tcgpu_work_set_f(wk, A, grid_of(m), buf, (int64_t)nc, buf + 4 * nc, J, nmax);
    return 0;
}

void tcgpu_work_free_f(tcgpu_work_f *wk) {
    free(wk->z1);
    free((void *)wk->A.val);
    free(wk->J);
    free((void *)wk->A.root);
}

/* One sweep on this thread, with its own scratch; fp32: the state rounded to float for the
 * march and widened after it. */
static int run_one(const tcgpu_model *m, int fp32, tcgpu_coupling c, int method, int nmax, double a,
                   double b, double kappa, tcgpu_cplx *x, int64_t *steps, int64_t *apps,
                   double *t_fail) {
    tcgpu_work wk;
    tcgpu_work_f wf;
    tcgpu_cplxf *xf = fp32 ? malloc((size_t)m->dim * sizeof *xf) : NULL;
    if (fp32 ? !xf || tcgpu_work_alloc_f(m, nmax, c, &wf) : tcgpu_work_alloc(m, nmax, c, &wk)) {
        free(xf);
        return -2;
    }
    int64_t S;
    double du, t = a;
    tcgpu_grid_plan(fp32 ? &wf.g : &wk.g, kappa, a, b, &S, &du);
    *apps = 0;
    int rc;
    if (fp32) {
        tcgpu_narrow(m->dim, x, xf);
        rc = tcgpu_march_steps_f(&wf, method, du, S, 0, S, b, &t, xf, apps);
        tcgpu_widen(m->dim, xf, x);
        tcgpu_work_free_f(&wf);
        free(xf);
    } else {
        rc = tcgpu_march_steps(&wk, method, du, S, 0, S, b, &t, x, apps);
        tcgpu_work_free(&wk);
    }
    *steps = S;
    *t_fail = t;
    return rc;
}

static tcgpu_status march_cpu(const tcgpu_batch *b, const tcgpu_march_opts *o, int nmax,
                              tcgpu_march_info *info) {
    int64_t n = b->count, dim = b->models[0]->dim, fail = -1;
    int code = 0;
    double t_fail = 0, t0 = now();
#ifdef _OPENMP
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (int64_t s = 0; s < n; ++s) {
        int64_t steps = 0, apps = 0;
        double tf = 0;
        int rc = run_one(b->models[s], o->precision == TCGPU_FP32, o->coupling, (int)o->method,
                         nmax, b->t_a[s], b->t_b[s], b->kappa[s],
                         (tcgpu_cplx *)(b->x + 2 * dim * s), &steps, &apps, &tf);
        if (b->steps)
            b->steps[s] = steps;
        if (b->applications)
            b->applications[s] = apps;
        if (rc) {
#ifdef _OPENMP
#pragma omp critical(tcgpu_march_fail)
#endif
            if (fail < 0 || s < fail) {
                fail = s;
                code = rc;
                t_fail = tf;
            }
        }
    }
    if (info)
        info->run_seconds = now() - t0;
    if (fail >= 0)
        return code == -2 ? tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the scratch of a sweep")
                          : ran_out(t_fail, nmax);
    return TCGPU_OK;
}

typedef tcgpu_status (*plan_runner)(const tcgpu_batch_plan *, const tcgpu_march_opts *,
                                    tcgpu_march_info *);

/* Flat arrays for the device: values and classes of every sweep (once when every sweep has the
 * same model), and the grids (planned once per run of equal sweeps); run by the fused CUDA
 * kernel, the cuSPARSE path or the lockstep march's CPU backend. */
static tcgpu_status march_device(const tcgpu_batch *b, const tcgpu_march_opts *o, int nmax,
                                 tcgpu_march_info *info, plan_runner run) {
    const tcgpu_model *m0 = b->models[0];
    int64_t n = b->count, nnz = m0->row_ptr[m0->dim], nm = 1;
    size_t nc = (size_t)m0->nclass;
    for (int64_t s = 1; s < n && nm == 1; ++s)
        nm = b->models[s] == m0 ? 1 : n;
    double *val = malloc((size_t)(nm * nnz) * sizeof *val + 1);
    tcgpu_phase_class *cl = malloc((size_t)nm * nc * sizeof *cl + 1);
    double *vb = malloc((size_t)n * 4 * sizeof *vb), *tf = malloc((size_t)n * sizeof *tf);
    double *bc = malloc((size_t)nm * sizeof *bc);
    int64_t *S = malloc((size_t)n * sizeof *S), *apps = malloc((size_t)n * sizeof *apps);
    tcgpu_status st = TCGPU_OK;
    if (!val || !cl || !vb || !tf || !S || !apps || !bc) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a batch of %lld sweeps", (long long)n);
        goto done;
    }
    double *du = vb + n, *ta = vb + 2 * n, *tb = vb + 3 * n, t0 = now();
    /* The fused kernel computes the couplings on the fly when every model's band reproduces
     * its CSR (only c differs between sweeps); the other runners read the CSR. The check is
     * O(nnz) per model, so it runs over the models in parallel like the grids below. */
    tcgpu_band band = {TCGPU_BAND_NONE, 0, 0, 0};
    if (run == tcgpu_march_cuda && (o->coupling == TCGPU_COUPLING_ONTHEFLY ||
                                    (o->coupling == TCGPU_COUPLING_AUTO && TCGPU_CUDA_ON_THE_FLY)))
        band = tcgpu_band_of(m0);
    if (band.kind == TCGPU_BAND_TC && band.K > 2)
        band.kind = TCGPU_BAND_NONE; /* the device computes one and two channels only */
    if (band.kind != TCGPU_BAND_NONE) {
        int mismatch = 0;
        bc[0] = band.c;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) reduction(|| : mismatch)
#endif
        for (int64_t s = 1; s < nm; ++s) {
            tcgpu_band bs = tcgpu_band_of(b->models[s]);
            mismatch = mismatch || bs.kind != band.kind || bs.K != band.K || bs.N != band.N;
            bc[s] = bs.c;
        }
        if (mismatch)
            band.kind = TCGPU_BAND_NONE;
    }
    for (int64_t s = 0; s < nm; ++s) {
        memcpy(val + s * nnz, b->models[s]->val, (size_t)nnz * sizeof *val);
        if (nc)
            memcpy(cl + (size_t)s * nc, b->models[s]->classes, nc * sizeof *cl);
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16)
#endif
    for (int64_t s = 0; s < n; ++s) {
        const tcgpu_model *m = b->models[s];
        ta[s] = b->t_a[s];
        tb[s] = b->t_b[s];
        vb[s] = tcgpu_model_vbound(m);
        S[s] = -1;
        if (s > 0 && m == b->models[s - 1] && ta[s] == b->t_a[s - 1] && tb[s] == b->t_b[s - 1] &&
            b->kappa[s] == b->kappa[s - 1])
            continue; /* the grid of sweep s - 1 */
        tcgpu_grid g = grid_of(m);
        tcgpu_grid_plan(&g, b->kappa[s], ta[s], tb[s], &S[s], &du[s]);
    }
    for (int64_t s = 1; s < n; ++s)
        if (S[s] < 0) {
            S[s] = S[s - 1];
            du[s] = du[s - 1];
        }
    if (info)
        info->plan_seconds = now() - t0;
    tcgpu_batch_plan p = {.count = n,
                          .dim = m0->dim,
                          .nnz = nnz,
                          .nclass = m0->nclass,
                          .inverse_t = m0->inverse_t,
                          .method = (int)o->method,
                          .single = o->precision == TCGPU_FP32,
                          .nmax = nmax,
                          .one_model = nm == 1,
                          .row_ptr = m0->row_ptr,
                          .col = m0->col,
                          .cls = m0->cls,
                          .val = val,
                          .classes = cl,
                          .vbound = vb,
                          .t_a = ta,
                          .t_b = tb,
                          .du = du,
                          .S = S,
                          .x = b->x,
                          .apps = apps,
                          .t_fail = tf,
                          .band = band,
                          .band_c = bc};
    st = run(&p, o, info);
    if (!st)
        for (int64_t s = 0; s < n; ++s) {
            if (b->steps)
                b->steps[s] = S[s];
            if (b->applications)
                b->applications[s] = apps[s];
            if (apps[s] < 0 && !st)
                st = ran_out(tf[s], nmax);
        }
done:
    free(bc);
    free(val);
    free(cl);
    free(vb);
    free(tf);
    free(S);
    free(apps);
    return st;
}

/* What every entry point does first: check the batch, clear info. */
static tcgpu_status prologue(const tcgpu_batch *b, tcgpu_march_info *info) {
    tcgpu_status st = check(b);
    if (!st && info)
        memset(info, 0, sizeof *info);
    return st;
}

tcgpu_status tcgpu_march_batch(const tcgpu_batch *b, const tcgpu_march_opts *o,
                               tcgpu_march_info *info) {
    tcgpu_status st = prologue(b, info);
    if (st)
        return st;
    int nmax = o->nmax > 0 ? o->nmax : 1024;
    if (o->backend == TCGPU_BACKEND_CUDA)
        return march_device(b, o, nmax, info,
                            o->path == TCGPU_PATH_CUSPARSE ? tcgpu_march_cusparse
                                                           : tcgpu_march_cuda);
    if (o->path == TCGPU_PATH_CUSPARSE) /* the lockstep driver's CPU twin: a check of its logic */
        return march_device(b, o, nmax, info, tcgpu_march_lockstep_cpu);
    return march_cpu(b, o, nmax, info);
}

tcgpu_status tcgpu_march_batch_lockstep(const tcgpu_batch *b, const tcgpu_march_opts *o,
                                        tcgpu_march_info *info) {
    tcgpu_status st = prologue(b, info);
    if (st)
        return st;
    return march_device(b, o, o->nmax > 0 ? o->nmax : 1024, info, tcgpu_march_lockstep_cpu);
}

#ifndef TCGPU_WITH_CUDA
static tcgpu_status no_cuda(void) {
    return tcgpu_fail(TCGPU_EINVAL, "this tcgpu was built without CUDA (no nvcc at configure "
                                    "time): use the CPU backend");
}

tcgpu_status tcgpu_march_cuda(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                              tcgpu_march_info *info) {
    (void)p;
    (void)o;
    (void)info;
    return no_cuda();
}

tcgpu_status tcgpu_march_cusparse(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                  tcgpu_march_info *info) {
    (void)p;
    (void)o;
    (void)info;
    return no_cuda();
}
#endif
