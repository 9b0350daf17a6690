/* The lockstep march's driver, its host-side checks and the stacked coupling matrix, and its
 * CPU backend: plain loops over the shared per-sweep and per-element code (kernels/
 * lockstep.h) and a CPU sparse product, the reference the CUDA backend (kernels/
 * march_sparse.cu) is tested against. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fpenv.h"
#include "lockstep.h"
#include "march_lockstep.h"

tcgpu_status tcgpu_ls_run(const tcgpu_ls_ops *ops, void *ctx, int method, int64_t steps) {
    tcgpu_status st = TCGPU_OK;
    for (int64_t k = 0; k < steps && !st; ++k) {
        st = ops->step(ctx, k);
        if (method == 0)
            /* k_q = M(z_q) s_q: z1 at t, z2 at t + h/2 (twice), z3 at t + h */
            for (int q = 0; q < 4 && !st; ++q) {
                st = ops->apply(ctx,
                                q == 0   ? 0
                                : q == 3 ? 2
                                         : 1,
                                q == 0 ? TCGPU_LS_X : TCGPU_LS_V1, TCGPU_LS_V0);
                if (!st)
                    st = ops->rk4_stage(ctx, q);
            }
        else
            for (int half = 0; half < 2 && !st; ++half) {
                int deg = 0;
                int64_t active = 0;
                st = ops->half(ctx, half, &deg, &active);
                if (st)
                    break;
                if (active == 0)
                    return TCGPU_OK; /* every sweep has ended or stopped */
                if (deg == 0)
                    continue;
                /* each sweep's series to its own degree, the product to the largest */
                st = ops->apply(ctx, TCGPU_LS_MIX, TCGPU_LS_X, TCGPU_LS_V1);
                if (!st)
                    st = ops->cheb_first(ctx);
                for (int j = 2; j <= deg && !st; ++j) {
                    st = ops->apply(ctx, TCGPU_LS_MIX, TCGPU_LS_V1, TCGPU_LS_V2);
                    if (!st)
                        st = ops->cheb_next(ctx, j);
                }
            }
        if (!st)
            st = ops->finish(ctx);
    }
    return st;
}

tcgpu_status tcgpu_ls_accept(const tcgpu_batch_plan *p, double *r) {
    if (p->single)
        return tcgpu_fail(TCGPU_EINVAL, "the cuSPARSE (lockstep) path marches in fp64 only: use "
                                        "fp64 or the fused CUDA path for fp32");
    const double *v0 = p->val;
    int64_t nnz = p->nnz, em = 0;
    for (int64_t e = 1; e < nnz; ++e)
        if (fabs(v0[e]) > fabs(v0[em]))
            em = e;
    for (int64_t s = 0; s < p->count; ++s) {
        r[s] = 1;
        if (p->one_model || s == 0)
            continue;
        const double *v = p->val + s * nnz;
        double rs = nnz > 0 && v0[em] != 0 ? v[em] / v0[em] : 1;
        /* a few ulps: values built from the same expression with another g */
        for (int64_t e = 0; e < nnz; ++e)
            if (!(fabs(v[e] - rs * v0[e]) <= 16 * DBL_EPSILON * fabs(v[e])))
                return tcgpu_fail(TCGPU_EINVAL,
                                  "cuSPARSE path: the coupling values of sweep %lld are not "
                                  "proportional to sweep 0's (link %lld: %.17g, %.17g times "
                                  "sweep 0's gives %.17g); the path applies one coupling matrix, "
                                  "scaled per sweep, to the whole batch",
                                  (long long)s, (long long)e, v[e], rs, rs * v0[e]);
        r[s] = rs;
    }
    return TCGPU_OK;
}

tcgpu_status tcgpu_ls_stack(const tcgpu_batch_plan *p, int32_t *row_ptr, int32_t *col,
                            double *val) {
    int64_t d = p->dim, nnz = p->nnz, rows = 2 * (int64_t)p->nclass * d;
    if (rows >= INT32_MAX || nnz >= INT32_MAX)
        return tcgpu_fail(TCGPU_EINVAL,
                          "cuSPARSE path: the coupling matrix stacked by class (%lld rows, %lld "
                          "links) does not fit 32-bit indices",
                          (long long)rows, (long long)nnz);
    memset(row_ptr, 0, (size_t)(rows + 1) * sizeof *row_ptr);
    /* count per stacked row, starts, fill in CSR order (cursor in row_ptr), shift back */
    for (int pass = 0; pass < 2; ++pass) {
        for (int64_t i = 0; i < d; ++i)
            for (int64_t e = p->row_ptr[i]; e < p->row_ptr[i + 1]; ++e) {
                int32_t c = p->cls[e];
                if (c == 0 || c > p->nclass || -c > p->nclass)
                    return tcgpu_fail(TCGPU_EINVAL,
                                      "cuSPARSE path: link %lld has phase class %d, outside "
                                      "+-1..%d",
                                      (long long)e, (int)c, p->nclass);
                int64_t row = (c > 0 ? 2 * (int64_t)(c - 1) : 2 * (int64_t)(-c - 1) + 1) * d + i;
                if (pass == 0)
                    ++row_ptr[row + 1];
                else {
                    int32_t q = row_ptr[row]++;
                    col[q] = (int32_t)p->col[e];
                    val[q] = p->val[e];
                }
            }
        if (pass == 0)
            for (int64_t q = 0; q < rows; ++q)
                row_ptr[q + 1] += row_ptr[q];
    }
    for (int64_t q = rows; q > 0; --q)
        row_ptr[q] = row_ptr[q - 1];
    row_ptr[0] = 0;
    return TCGPU_OK;
}

/* ---- CPU backend ---- */

typedef struct {
    tcgpu_ls ls;
    int64_t rows;
    int32_t *prow, *pcol;
    double *pval;
    tcgpu_cplx *v[4], *W;
} ls_cpu;

static tcgpu_status cpu_step(void *ctx, int64_t k) {
    ls_cpu *c = ctx;
    for (int64_t s = 0; s < c->ls.n; ++s)
        tcgpu_ls_step(&c->ls, s, k);
    return TCGPU_OK;
}

static tcgpu_status cpu_half(void *ctx, int half, int *deg, int64_t *active) {
    ls_cpu *c = ctx;
    *deg = 0;
    *active = 0;
    for (int64_t s = 0; s < c->ls.n; ++s) {
        int n = tcgpu_ls_half(&c->ls, s, half);
        if (n >= 0)
            ++*active;
        if (n > *deg)
            *deg = n;
    }
    return TCGPU_OK;
}

/* W = P x (row-major, n complex columns), then the per-sweep weights. */
static tcgpu_status cpu_apply(void *ctx, int slot, int src, int dst) {
    ls_cpu *c = ctx;
    int64_t n = c->ls.n, nd = n * c->ls.dim;
    const tcgpu_cplx *x = c->v[src];
    for (int64_t r = 0; r < c->rows; ++r) {
        tcgpu_cplx *w = c->W + r * n;
        for (int64_t s = 0; s < n; ++s)
            w[s] = (tcgpu_cplx){0, 0};
        for (int32_t e = c->prow[r]; e < c->prow[r + 1]; ++e) {
            const tcgpu_cplx *xr = x + (int64_t)c->pcol[e] * n;
            double v = c->pval[e];
            for (int64_t s = 0; s < n; ++s) {
                w[s].re += v * xr[s].re;
                w[s].im += v * xr[s].im;
            }
        }
    }
    for (int64_t g = 0; g < nd; ++g)
        tcgpu_ls_combine(&c->ls, slot, g, c->W, c->v[dst]);
    return TCGPU_OK;
}

static tcgpu_status cpu_cheb_first(void *ctx) {
    ls_cpu *c = ctx;
    for (int64_t g = 0; g < c->ls.n * c->ls.dim; ++g)
        tcgpu_ls_cheb_first(&c->ls, g, c->v[TCGPU_LS_X], c->v[TCGPU_LS_V0], c->v[TCGPU_LS_V1]);
    return TCGPU_OK;
}

static tcgpu_status cpu_cheb_next(void *ctx, int k) {
    ls_cpu *c = ctx;
    for (int64_t g = 0; g < c->ls.n * c->ls.dim; ++g)
        tcgpu_ls_cheb_next(&c->ls, k, g, c->v[TCGPU_LS_V2], c->v[TCGPU_LS_X], c->v[TCGPU_LS_V0],
                           c->v[TCGPU_LS_V1]);
    return TCGPU_OK;
}

static tcgpu_status cpu_rk4_stage(void *ctx, int q) {
    ls_cpu *c = ctx;
    for (int64_t g = 0; g < c->ls.n * c->ls.dim; ++g)
        tcgpu_ls_rk4(&c->ls, q, g, c->v[TCGPU_LS_V0], c->v[TCGPU_LS_X], c->v[TCGPU_LS_V2],
                     c->v[TCGPU_LS_V1]);
    return TCGPU_OK;
}

static tcgpu_status cpu_finish(void *ctx) {
    ls_cpu *c = ctx;
    for (int64_t s = 0; s < c->ls.n; ++s)
        tcgpu_ls_finish(&c->ls, s);
    return TCGPU_OK;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

tcgpu_status tcgpu_march_lockstep_cpu(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                      tcgpu_march_info *info) {
    (void)o;
    int64_t n = p->count, d = p->dim, nd = n * d, nc = p->nclass;
    int64_t rows = 2 * nc * d, steps = 0;
    double t0 = now();
    ls_cpu c = {.rows = rows};
    double *r = malloc((size_t)n * sizeof *r), *sc = malloc((size_t)n * 6 * sizeof *sc);
    double *J = malloc((size_t)(n * (p->nmax + 1)) * sizeof *J);
    int *ints = malloc((size_t)n * 2 * sizeof *ints);
    int64_t *apps = malloc((size_t)n * sizeof *apps);
    tcgpu_cplx *z = malloc((size_t)(TCGPU_LS_SLOTS * n * nc + 1) * sizeof *z);
    tcgpu_cplx *vec = malloc((size_t)(4 * nd) * sizeof *vec);
    c.W = malloc((size_t)(rows * n + 1) * sizeof *c.W);
    c.prow = malloc((size_t)(rows + 1) * sizeof *c.prow);
    c.pcol = malloc((size_t)(p->nnz + 1) * sizeof *c.pcol);
    c.pval = malloc((size_t)(p->nnz + 1) * sizeof *c.pval);
    tcgpu_status st = TCGPU_OK;
    if (!r || !sc || !J || !ints || !apps || !z || !vec || !c.W || !c.prow || !c.pcol || !c.pval) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the lockstep march of %lld sweeps",
                        (long long)n);
        goto done;
    }
    if ((st = tcgpu_ls_accept(p, r)) || (st = tcgpu_ls_stack(p, c.prow, c.pcol, c.pval)))
        goto done;
    c.ls = (tcgpu_ls){.n = n,
                      .dim = d,
                      .nclass = p->nclass,
                      .inverse_t = p->inverse_t,
                      .method = p->method,
                      .nmax = p->nmax,
                      .classes = p->classes,
                      .class_stride = p->one_model ? 0 : nc,
                      .vbound = p->vbound,
                      .vrate = p->vrate,
                      .t_b = p->t_b,
                      .du = p->du,
                      .r = r,
                      .S = p->S,
                      .t = sc,
                      .h = sc + n,
                      .fa = sc + 2 * n,
                      .fb = sc + 3 * n,
                      .inv = sc + 4 * n,
                      .J = J,
                      .z = z,
                      .deg = ints,
                      .on = ints + n,
                      .apps = apps};
    for (int k = 0; k < 4; ++k)
        c.v[k] = vec + k * nd;
    for (int64_t s = 0; s < n; ++s) {
        sc[s] = p->t_a[s];
        apps[s] = 0;
        ints[n + s] = 0;
        if (p->S[s] > steps)
            steps = p->S[s];
    }
    /* a resident batch: each sweep's state where the context keeps it (element g = i n + s) */
    for (int64_t g = 0; g < nd; ++g)
        if (p->xs)
            c.v[TCGPU_LS_X][g] = ((const tcgpu_cplx *)p->xs[g % n])[g / n];
        else
            tcgpu_ls_transpose(n, d, g, 1, (const tcgpu_cplx *)p->x, c.v[TCGPU_LS_X]);
    static const tcgpu_ls_ops ops = {cpu_step,      cpu_half,      cpu_apply, cpu_cheb_first,
                                     cpu_cheb_next, cpu_rk4_stage, cpu_finish};
    unsigned fp = tcgpu_fpenv_flush();
    st = tcgpu_ls_run(&ops, &c, p->method, steps);
    tcgpu_fpenv_restore(fp);
    for (int64_t g = 0; g < nd; ++g)
        if (p->xs)
            ((tcgpu_cplx *)p->xs[g % n])[g / n] = c.v[TCGPU_LS_X][g];
        else
            tcgpu_ls_transpose(n, d, g, 0, c.v[TCGPU_LS_X], (tcgpu_cplx *)p->x);
    for (int64_t s = 0; s < n; ++s) {
        p->apps[s] = apps[s];
        p->t_fail[s] = sc[s];
    }
    if (info) {
        info->path = TCGPU_PATH_CUSPARSE;
        info->chunks = 1;
        info->run_seconds = now() - t0;
    }
done:
    free(r);
    free(sc);
    free(J);
    free(ints);
    free(apps);
    free(z);
    free(vec);
    free(c.W);
    free(c.prow);
    free(c.pcol);
    free(c.pval);
    return st;
}
