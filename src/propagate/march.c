/* Batched march, the host side of every runner: checks that the sweeps share a pattern, plans
 * each sweep's grid as the single-sweep march does, and hands the plan to the runner the
 * options name (src/backend.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend.h"
#include "grid.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static tcgpu_grid grid_of(const tcgpu_model *m) {
    double vb = tcgpu_model_vbound(m);
    return (tcgpu_grid){m->classes, m->nclass, m->inverse_t, vb, vb};
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

/* Flat arrays for a runner: values and classes of every sweep (once when every sweep has the
 * same model; only for the runners that read them flat), and the grids (planned once per run
 * of equal sweeps). xs: where a resident runner keeps each sweep's state (NULL: b->x). */
tcgpu_status tcgpu_march_plan_run(const tcgpu_runner *r, const tcgpu_batch *b, double *const *xs,
                                  const tcgpu_march_opts *o, tcgpu_march_info *info) {
    const tcgpu_model *m0 = b->models[0];
    int nmax = o->nmax > 0 ? o->nmax : 1024;
    int64_t n = b->count, nnz = m0->row_ptr[m0->dim], nm = 1;
    size_t nc = (size_t)m0->nclass;
    for (int64_t s = 1; s < n && nm == 1; ++s)
        nm = b->models[s] == m0 ? 1 : n;
    int flat = r->flat_plan;
    double *val = flat ? malloc((size_t)(nm * nnz) * sizeof *val + 1) : NULL;
    tcgpu_phase_class *cl = flat ? malloc((size_t)nm * nc * sizeof *cl + 1) : NULL;
    double *vb = malloc((size_t)n * 5 * sizeof *vb), *tf = malloc((size_t)n * sizeof *tf);
    double *bc = malloc((size_t)nm * sizeof *bc);
    int64_t *S = malloc((size_t)n * sizeof *S), *apps = malloc((size_t)n * sizeof *apps);
    tcgpu_status st = TCGPU_OK;
    if ((flat && (!val || !cl)) || !vb || !tf || !S || !apps || !bc) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a batch of %lld sweeps", (long long)n);
        goto done;
    }
    double *du = vb + n, *ta = vb + 2 * n, *tb = vb + 3 * n, *vr = vb + 4 * n, t0 = now();
    /* A flat-plan runner computes the couplings on the fly when every model's band reproduces
     * its CSR (only c differs between sweeps); the CPU fused runner decides per model. The
     * check is O(nnz) per model, so it runs over the models in parallel like the grids. */
    tcgpu_band band = {TCGPU_BAND_NONE, 0, 0, 0};
    if (flat && (o->coupling == TCGPU_COUPLING_ONTHEFLY ||
                 (o->coupling == TCGPU_COUPLING_AUTO && r->auto_on_the_fly)))
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
    for (int64_t s = 0; flat && s < nm; ++s) {
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
        int level = b->vlevel ? b->vlevel[s] : 0;
        vr[s] = tcgpu_grid_vrate(vb[s], level);
        S[s] = -1;
        if (s > 0 && m == b->models[s - 1] && ta[s] == b->t_a[s - 1] && tb[s] == b->t_b[s - 1] &&
            b->kappa[s] == b->kappa[s - 1] && level == (b->vlevel ? b->vlevel[s - 1] : 0))
            continue; /* the grid of sweep s - 1 */
        tcgpu_grid g = grid_of(m);
        g.vrate = vr[s];
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
                          .vrate = vr,
                          .t_a = ta,
                          .t_b = tb,
                          .du = du,
                          .S = S,
                          .x = xs ? NULL : b->x,
                          .xs = xs,
                          .models = b->models,
                          .coupling = o->coupling,
                          .apps = apps,
                          .t_fail = tf,
                          .band = band,
                          .band_c = bc};
    st = r->march(&p, o, info);
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

tcgpu_status tcgpu_march_batch(const tcgpu_batch *b, const tcgpu_march_opts *o,
                               tcgpu_march_info *info) {
    tcgpu_status st = check(b);
    if (st)
        return st;
    if (info)
        memset(info, 0, sizeof *info);
    const tcgpu_runner *r = tcgpu_runner_for(o);
    if ((st = r->supports(o)))
        return st;
    return tcgpu_march_plan_run(r, b, NULL, o, info);
}
