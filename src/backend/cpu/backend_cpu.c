/* The CPU fused runner: each sweep of a batch marched by the shared step loop (kernels/grid.h)
 * on its own thread, with a work space viewing its model, exactly as the single-sweep march
 * (src/propagate.c) does: a sweep batched here ends bit for bit where it ends alone. Also the
 * work spaces both use. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend.h"
#include "fpenv.h"
#include "grid.h"

static tcgpu_grid grid_of(const tcgpu_model *m) {
    double vb = tcgpu_model_vbound(m);
    return (tcgpu_grid){m->classes, m->nclass, m->inverse_t, vb, vb};
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

/* The real couplings of tc with one or two channels, and of heff, for tcgpu_real_series
 * (step.h), from the builders' link formulas (banded.h: tcgpu_tc_link, tcgpu_heff_link) and
 * roots, in one block with its scratch (the caller frees it); NULL where they do not apply or
 * memory is short (the generic series runs). */
static const tcgpu_real *real_couplings(const tcgpu_model *m, tcgpu_band b, const double *root) {
    if (!root || m->dim < 3)
        return NULL;
    size_t d = (size_t)m->dim, pad = (size_t)b.N + 2;
    if (b.kind == TCGPU_BAND_HEFF) { /* links i - 1, i; scratch for scaled links and phasors */
        tcgpu_real *R = calloc(1, sizeof *R + (d + 1 + 3 * d + 1) * sizeof(double));
        if (!R)
            return NULL;
        double *la = (double *)(R + 1);
        *R = (tcgpu_real){
            .K = 1, .heff = 1, .N = b.N, .dim = m->dim, .la = la, .soa = la + d + 1};
        for (int64_t i = 1; i <= b.N; ++i)
            la[i] = tcgpu_heff_link(b.c, i, b.N);
        return R;
    }
    if (b.kind != TCGPU_BAND_TC || b.K > 2)
        return NULL;
    size_t rows = b.K == 1 ? d + 1 : (size_t)tcgpu_real_rows(b.N);
    size_t links = b.K == 1 ? rows : 4 * rows, soa = b.K == 1 ? 0 : 6 * (rows + 2 * pad);
    tcgpu_real *R = calloc(1, sizeof *R + (links + soa) * sizeof(double));
    if (!R)
        return NULL;
    double *la = (double *)(R + 1), c = b.c;
    *R = (tcgpu_real){.K = b.K, .N = b.N, .dim = m->dim, .la = la};
    if (b.K == 1) {
        for (int64_t i = 1; i <= b.N; ++i)
            la[i] = tcgpu_tc_link(c, i, root[i]);
        return R;
    }
    double *ua = la + rows, *lb = ua + rows, *ub = lb + rows;
    R->ua = ua, R->lb = lb, R->ub = ub, R->soa = ub + rows;
    for (int64_t a = 0; a <= b.N; ++a)
        for (int64_t n2 = 0, i = tcgpu_real_row(b.N, a); n2 <= b.N - a; ++n2, ++i) {
            int64_t s = a + n2;
            la[i] = tcgpu_tc_link(c, a, root[s]);
            lb[i] = tcgpu_tc_link(c, n2, root[s]);
            if (s < b.N) {
                ua[i] = tcgpu_tc_link(c, a + 1, root[s + 1]);
                ub[i] = tcgpu_tc_link(c, n2 + 1, root[s + 1]);
            }
        }
    return R;
}

/* tc with three or more channels: the model's CSR with int32 columns, each entry's channel
 * (its phase class, checked against the occupations: row i > j has one pair more in that
 * channel and no other change), in one block with the scratch; NULL where that does not hold
 * or memory is short (the generic series runs). */
static const tcgpu_real *real_multi(const tcgpu_model *m) {
    int K = m->K;
    int64_t d = m->dim, nnz = d > 0 ? m->row_ptr[d] : 0;
    if (m->kind != TCGPU_MODEL_TC || K < 3 || K > TCGPU_MAX_REAL_K || m->nclass != K ||
        !m->labels || m->inverse_t || d < 3 || d > INT32_MAX)
        return NULL;
    for (int64_t i = 0; i < d; ++i)
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e) {
            int64_t j = m->col[e], hi = i > j ? i : j, lo = i > j ? j : i;
            int c = abs(m->cls[e]) - 1;
            if (c < 0 || c >= K || (m->cls[e] > 0) != (i > j))
                return NULL;
            for (int k = 0; k < K; ++k)
                if (m->labels[hi * K + k] - m->labels[lo * K + k] != (k == c))
                    return NULL;
        }
    size_t scratch = 8 * (size_t)d + (size_t)nnz + 2 * (size_t)K * ((size_t)m->N + 1);
    size_t bytes = sizeof(tcgpu_real) + scratch * sizeof(double) + (size_t)nnz * 5;
    tcgpu_real *R = calloc(1, bytes);
    if (!R)
        return NULL;
    double *soa = (double *)(R + 1);
    int32_t *col = (int32_t *)(soa + scratch);
    unsigned char *ch = (unsigned char *)(col + nnz);
    for (int64_t e = 0; e < nnz; ++e)
        col[e] = (int32_t)m->col[e], ch[e] = (unsigned char)(abs(m->cls[e]) - 1);
    *R = (tcgpu_real){.K = K, .N = m->N, .dim = d, .soa = soa, .row_ptr = m->row_ptr,
                      .col = col, .val = m->val, .ch = ch, .lab = m->labels};
    return R;
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
    tcgpu_csr A = {m->dim, m->row_ptr, m->col, m->val, m->cls, {TCGPU_BAND_NONE, 0, 0, 0},
                   NULL, NULL};
    double *root;
    A.band = blocked_band(m, c, &root);
    A.root = root;
    A.real = real_couplings(m, A.band, root);
    if (!A.real && c == TCGPU_COUPLING_AUTO)
        A.real = real_multi(m);
    if (!root && tcgpu_coupling_on_the_fly(c))
        A.band = tcgpu_band_of(m);
    tcgpu_work_set(wk, A, grid_of(m), buf, (int64_t)nc, buf + 4 * nc, J, nmax);
    return 0;
}

void tcgpu_work_free(tcgpu_work *wk) {
    free(wk->z1); /* the start of the one buffer */
    free(wk->J);
    free((void *)wk->A.root);
    free((void *)wk->A.real);
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

/* Sweep s of p on this thread, with its own scratch; fp32: the state rounded to float for the
 * march and widened after it. Returns 0, -1 (a Chebyshev series ran out) or -2 (memory). */
static int run_one(const tcgpu_batch_plan *p, int64_t s, tcgpu_cplx *x) {
    const tcgpu_model *m = p->models[s];
    int fp32 = p->single;
    tcgpu_work wk;
    tcgpu_work_f wf;
    tcgpu_cplxf *xf = fp32 ? malloc((size_t)m->dim * sizeof *xf) : NULL;
    if (fp32 ? !xf || tcgpu_work_alloc_f(m, p->nmax, p->coupling, &wf)
             : tcgpu_work_alloc(m, p->nmax, p->coupling, &wk)) {
        free(xf);
        return -2;
    }
    if (fp32)
        wf.g.vrate = p->vrate[s];
    else
        wk.g.vrate = p->vrate[s];
    double t = p->t_a[s];
    int64_t apps = 0;
    int rc;
    unsigned fp = tcgpu_fpenv_flush();
    if (fp32) {
        tcgpu_narrow(m->dim, x, xf);
        rc = tcgpu_march_steps_f(&wf, p->method, p->du[s], p->S[s], 0, p->S[s], p->t_b[s], &t, xf,
                                 &apps);
        tcgpu_widen(m->dim, xf, x);
        tcgpu_work_free_f(&wf);
        free(xf);
    } else {
        rc = tcgpu_march_steps(&wk, p->method, p->du[s], p->S[s], 0, p->S[s], p->t_b[s], &t, x,
                               &apps);
        tcgpu_work_free(&wk);
    }
    tcgpu_fpenv_restore(fp);
    p->apps[s] = rc ? -1 : apps;
    p->t_fail[s] = t;
    return rc;
}

tcgpu_status tcgpu_march_fused_cpu(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                   tcgpu_march_info *info) {
    int64_t n = p->count, dim = p->dim;
    int oom = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
#ifdef _OPENMP
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(|| : oom)
#else
    (void)o;
#endif
    for (int64_t s = 0; s < n; ++s) {
        tcgpu_cplx *x = (tcgpu_cplx *)(p->xs ? p->xs[s] : p->x + 2 * dim * s);
        oom = run_one(p, s, x) == -2 || oom;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (info)
        info->run_seconds = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    return oom ? tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the scratch of a sweep") : TCGPU_OK;
}
