/* Start and readout of chain models (couplings only between neighbouring indices: tc with one
 * channel, lz, user chains) without a dense eigen-decomposition: O(states x window) time and
 * memory instead of O(states^3) and O(states^2), so that one channel runs at N = 1e4-1e5.
 *
 * Eigenpairs. Past the transition the eigenvectors of the chain are localized (a Wannier-Stark
 * ladder: level step beta t against the couplings): eigenvector r lives on a stretch of sites
 * around r whose length is set by coupling/step. The ranks are cut into chunks; each chunk's
 * eigenpairs come from LAPACK's dstemr on a window of the chain around it, grown until (i) the
 * window's eigenvectors vanish at its cut ends (residual as eigenpairs of the whole chain
 * below 1e-13 of their gap), and (ii) Sturm counts of the whole chain put exactly the chunk's
 * ranks between the window's neighbouring eigenvalues, so local rank + window start is the
 * global rank. Where the chain is not ladder-like the windows grow to the whole chain, which is
 * exact at any t.
 *
 * Dressing. The dense readout's superadiabatic admixtures (src/adiabatic.c) are sums over all
 * eigenstates; as operators they are reduced resolvents R = Q (H - E_k)^-1 Q (Q = 1 - |k><k|)
 * applied to B |k>, B = dH/dt = diag(b) (H'' = 0):
 *   first order   y1 = R^2 B u                      (amplitude -i y1),
 *   second order  y2 = R Q d(y1)/dt = -2 R^3 (B - b_k) x - R^2 (B - b_k) y1,  x = R B u,
 * with b_k = <k|B|k>; from d u/dt = -x, (H - E_k) x = Q B u differentiated (with Q's constraint
 * <u|x> = 0), and likewise y1. Written out in the eigenbasis these are the dense code's
 * h_mk/D^2 and its r_mk term for term (tests/test_readout.c compares them). Each R is a
 * tridiagonal solve at E_k shifted by 1e-10 of the level's gap (so the LU never meets the exact
 * singular pivot; relative error 1e-10 in an admixture), its |k> part projected out. */
#include "adiabatic.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define CHUNK 512          /* least ranks per window */
#define CHUNK_MAX 2048     /* most ranks per window (its dqds frame: 8 x 4096^2 bytes) */
#define WINDOW_MARGIN 32   /* least margin on either side of a chunk; doubled until it holds */
#define RESIDUAL_REL 1e-13 /* eigenpair residual on the cut ends, relative to its gap */
#define SHIFT_REL 1e-10    /* resolvent shift, relative to the gap */

/* The chain H(t) in site order: diagonal d, couplings e[i] between sites i and i + 1, slopes b.
 * Sites run along the model's indices, reversed where the diagonal falls (so that ranks and
 * sites grow together on a ladder). */
typedef struct {
    int64_t n;
    double *d, *e, *b;
    int reversed;
    int64_t margin; /* first guess of the windows' margin: twice coupling / level step */
} chain;

static int64_t model_index(const chain *c, int64_t site) {
    return c->reversed ? c->n - 1 - site : site;
}

int adiabatic_tri_applies(const tcgpu_model *m) {
    if (m->inverse_t || m->w || m->dim < 1)
        return 0;
    for (int64_t i = 0; i < m->dim; ++i)
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e)
            if (m->col[e] != i - 1 && m->col[e] != i + 1)
                return 0;
    return 1;
}

static void chain_free(chain *c) {
    free(c->d);
    free(c->e);
    free(c->b);
}

static tcgpu_status chain_build(const tcgpu_model *m, double t, chain *c) {
    int64_t n = m->dim;
    c->n = n;
    c->d = malloc((size_t)n * sizeof *c->d);
    c->e = calloc((size_t)n, sizeof *c->e); /* e[n - 1] stays 0: dstemr's workspace slot */
    c->b = malloc((size_t)n * sizeof *c->b);
    if (!c->d || !c->e || !c->b) {
        chain_free(c);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a %lld-state chain", (long long)n);
    }
    c->reversed = n > 1 && m->b[n - 1] * t + m->a[n - 1] < m->b[0] * t + m->a[0];
    for (int64_t s = 0; s < n; ++s) {
        int64_t i = model_index(c, s);
        c->d[s] = m->b[i] * t + m->a[i];
        c->b[s] = m->b[i];
    }
    for (int64_t i = 0; i < n; ++i)
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e)
            if (m->col[e] == i + 1) /* the link i, i + 1: sites i, i + 1 or n - 2 - i, n - 1 - i */
                c->e[c->reversed ? n - 2 - i : i] = m->val[e];
    double emax = 0, step = n > 1 ? fabs(c->d[n - 1] - c->d[0]) / (double)(n - 1) : 0;
    for (int64_t i = 0; i + 1 < n; ++i)
        emax = fmax(emax, fabs(c->e[i]));
    double guess = step > 0 ? 2 * emax / step : (double)n;
    c->margin = guess < WINDOW_MARGIN ? WINDOW_MARGIN : guess > (double)n ? n : (int64_t)guess;
    return TCGPU_OK;
}

/* Eigenvalues of the whole chain below x (Sturm count of the LDL^T pivots). */
static int64_t sturm_count(const chain *c, double x) {
    double pivmin = DBL_MIN * 4, q = c->d[0] - x;
    int64_t count = 0;
    for (int64_t i = 0;; ++i) {
        if (fabs(q) < pivmin)
            q = -pivmin;
        count += q < 0;
        if (i + 1 == c->n)
            return count;
        q = c->d[i + 1] - x - c->e[i] * c->e[i] / q;
    }
}

/* Scratch of one thread: a window's eigenpairs and the resolvent's factors and vectors. */
typedef struct {
    int64_t cap, capz;
    double *d, *e, *w, *z, *work;
    lapack_int *isuppz, *ipiv, *iwork;
    double *dl, *dd, *du, *du2;
    double *x, *y1, *y2, *v, *p;
} scratch;

static void scratch_free(scratch *s) {
    free(s->d), free(s->e), free(s->w), free(s->z), free(s->isuppz), free(s->ipiv);
    free(s->work), free(s->iwork);
    free(s->dl), free(s->dd), free(s->du), free(s->du2);
    free(s->x), free(s->y1), free(s->y2), free(s->v), free(s->p);
    memset(s, 0, sizeof *s);
}

/* Room for a window of lw sites and nz of its eigenvectors. */
static int scratch_fit(scratch *s, int64_t lw, int64_t nz) {
    if (lw * nz > s->capz && lw <= s->cap) {
        free(s->z);
        s->capz = lw * nz;
        s->z = malloc((size_t)s->capz * sizeof *s->z);
        return s->z != NULL;
    }
    if (lw <= s->cap)
        return 1;
    scratch_free(s);
    size_t n = (size_t)lw;
    s->cap = lw;
    s->capz = lw * nz;
    s->d = malloc(n * 8), s->e = malloc(n * 8), s->w = malloc(n * 8);
    s->z = malloc((size_t)s->capz * 8);
    s->isuppz = malloc(2 * n * sizeof *s->isuppz), s->ipiv = malloc(n * sizeof *s->ipiv);
    s->work = malloc(18 * n * 8), s->iwork = malloc(10 * n * sizeof *s->iwork);
    s->dl = malloc(n * 8), s->dd = malloc(n * 8), s->du = malloc(n * 8), s->du2 = malloc(n * 8);
    s->x = malloc(n * 8), s->y1 = malloc(n * 8), s->y2 = malloc(n * 8), s->v = malloc(n * 8);
    s->p = malloc(n * 8);
    return s->d && s->e && s->w && s->z && s->isuppz && s->ipiv && s->work && s->iwork &&
           s->dl && s->dd && s->du && s->du2 && s->x && s->y1 && s->y2 && s->v && s->p;
}

/* One eigenpair of the window (sites ws .. ws + lw - 1) with its admixtures. */
typedef struct {
    const chain *c;
    int64_t ws, lw;
    double E, gap;
    const double *u;
} pair;

static double dot(const double *a, const double *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += a[i] * b[i];
    return s;
}

static void project_out(double *v, const double *u, int64_t n) {
    double a = dot(u, v, n);
    for (int64_t i = 0; i < n; ++i)
        v[i] -= a * u[i];
}

/* out = R in (in and out may coincide): Q in, solved with the factors, Q again. */
static int resolve(scratch *s, const pair *q, const double *in, double *out) {
    if (out != in)
        memcpy(out, in, (size_t)q->lw * sizeof *out);
    project_out(out, q->u, q->lw);
    lapack_int info = LAPACKE_dgttrs_work(LAPACK_COL_MAJOR, 'N', (lapack_int)q->lw, 1, s->dl,
                                          s->dd, s->du, s->du2, s->ipiv, out, (lapack_int)q->lw);
    project_out(out, q->u, q->lw);
    return info == 0;
}

/* y1 (first order) and y2 (second order, if asked) of the pair into s->y1, s->y2; 0 where a
 * factorization failed or the admixtures reach the window's cut ends (the window is then grown). */
static int dress(scratch *s, const pair *q, int second) {
    int64_t lw = q->lw;
    const double *b = q->c->b + q->ws, *u = q->u;
    double shift = q->E + SHIFT_REL * q->gap;
    for (int64_t i = 0; i < lw; ++i) {
        s->dd[i] = q->c->d[q->ws + i] - shift;
        if (i + 1 < lw)
            s->dl[i] = s->du[i] = q->c->e[q->ws + i];
    }
    if (LAPACKE_dgttrf_work((lapack_int)lw, s->dl, s->dd, s->du, s->du2, s->ipiv) != 0)
        return 0;
    for (int64_t i = 0; i < lw; ++i)
        s->v[i] = b[i] * u[i];
    double bk = dot(u, s->v, lw);
    if (!resolve(s, q, s->v, s->x) || !resolve(s, q, s->x, s->y1))
        return 0;
    if (second) { /* y2 = -2 R (R p) - R (R (B y1) - b_k R y1), p = R (B x) - b_k y1 */
        for (int64_t i = 0; i < lw; ++i)
            s->v[i] = b[i] * s->x[i];
        if (!resolve(s, q, s->v, s->p))
            return 0;
        for (int64_t i = 0; i < lw; ++i)
            s->p[i] -= bk * s->y1[i];
        if (!resolve(s, q, s->p, s->p) || !resolve(s, q, s->p, s->p))
            return 0;
        for (int64_t i = 0; i < lw; ++i)
            s->v[i] = b[i] * s->y1[i];
        if (!resolve(s, q, s->v, s->v) || !resolve(s, q, s->y1, s->y2))
            return 0;
        for (int64_t i = 0; i < lw; ++i)
            s->v[i] -= bk * s->y2[i];
        if (!resolve(s, q, s->v, s->v))
            return 0;
        for (int64_t i = 0; i < lw; ++i)
            s->y2[i] = -2 * s->p[i] - s->v[i];
    }
    /* what an admixture leaves at a cut end leaks into the sites beyond, like the eigenvector */
    const chain *c = q->c;
    double lo = q->ws > 0 ? fabs(c->e[q->ws - 1]) : 0;
    double hi = q->ws + lw < c->n ? fabs(c->e[q->ws + lw - 1]) : 0;
    double edge = fmax(lo * fabs(s->y1[0]), hi * fabs(s->y1[lw - 1]));
    if (second)
        edge = fmax(edge, fmax(lo * fabs(s->y2[0]), hi * fabs(s->y2[lw - 1])));
    return edge <= 1e3 * RESIDUAL_REL * q->gap;
}

/* The pair on the stretch of its window where its eigenvector is above 1e-17 of its largest
 * entry, with an eighth more on either side for the admixtures (dress checks that they fit):
 * the solves then cost the eigenvector's extent, not the window's. */
static pair narrow(const pair *q) {
    double top = 0;
    for (int64_t i = 0; i < q->lw; ++i)
        top = fmax(top, fabs(q->u[i]));
    int64_t f = 0, l = q->lw - 1;
    while (f < l && fabs(q->u[f]) <= 1e-17 * top)
        ++f;
    while (l > f && fabs(q->u[l]) <= 1e-17 * top)
        --l;
    int64_t m = (l - f) / 8 + 16, a = f - m > 0 ? f - m : 0, b = l + m < q->lw ? l + m : q->lw - 1;
    pair sub = *q;
    sub.ws = q->ws + a;
    sub.lw = b - a + 1;
    sub.u = q->u + a;
    return sub;
}

/* What a chunk's eigenpairs are handed to: rank r (global), the pair, its admixtures. */
typedef struct {
    int superadiabatic;
    /* readout */
    int count;
    const tcgpu_cplx *const *psi;
    double *const *prob;
    const int64_t *label_of_rank;
    /* start */
    tcgpu_cplx *start;
} sink;

static void emit(const sink *k, scratch *s, const pair *q, int64_t rank) {
    int64_t lw = q->lw;
    int first = k->superadiabatic > 0, second = k->superadiabatic > 1;
    double norm = 1 + (first ? dot(s->y1, s->y1, lw) : 0) + (second ? dot(s->y2, s->y2, lw) : 0);
    if (k->start) { /* psi = (u - i y1 + y2)/|.| in the model's order */
        double inv = 1 / sqrt(norm);
        for (int64_t i = 0; i < lw; ++i) {
            int64_t at = model_index(q->c, q->ws + i);
            k->start[at].re = inv * (q->u[i] + (second ? s->y2[i] : 0));
            k->start[at].im = -inv * (first ? s->y1[i] : 0);
        }
        return;
    }
    for (int r = 0; r < k->count; ++r) { /* <u - i y1 + y2|psi> = (u + y2 + i y1)^T psi */
        double re = 0, im = 0;
        for (int64_t i = 0; i < lw; ++i) {
            tcgpu_cplx p = k->psi[r][model_index(q->c, q->ws + i)];
            double a = q->u[i] + (second ? s->y2[i] : 0), y = first ? s->y1[i] : 0;
            re += a * p.re - y * p.im;
            im += a * p.im + y * p.re;
        }
        k->prob[r][k->label_of_rank[rank]] = (re * re + im * im) / norm;
    }
}

/* Ranks r0 .. r1 - 1: windows grown from *margin until both checks and the dressing hold. */
static tcgpu_status chunk(const chain *c, int64_t r0, int64_t r1, int64_t *margin, scratch *s,
                          const sink *k) {
    int64_t n = c->n;
    for (;;) {
        int64_t L = *margin, ws = r0 - L > 0 ? r0 - L : 0, we = r1 + L < n ? r1 + L : n;
        int whole = ws == 0 && we == n;
        int64_t lw = we - ws, lo = r0 - ws - (r0 > 0), hi = r1 - ws + (r1 < n); /* [lo, hi) */
        /* all of the window's eigenpairs (dqds) where the chunk is most of it, else bisection
         * for the chunk's (dstemr's range 'I' spent a third of a readout in dlaebz) */
        int all = lw <= 2 * (hi - lo);
        if (!scratch_fit(s, lw, all ? lw : hi - lo))
            return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a %lld-state readout window",
                              (long long)lw);
        memcpy(s->d, c->d + ws, (size_t)lw * sizeof *s->d);
        memcpy(s->e, c->e + ws, (size_t)lw * sizeof *s->e);
        s->e[lw - 1] = 0;
        lapack_int found = 0, tryrac = 1;
        lapack_int info = LAPACKE_dstemr_work(
            LAPACK_COL_MAJOR, 'V', all ? 'A' : 'I', (lapack_int)lw, s->d, s->e, 0, 0,
            (lapack_int)lo + 1, (lapack_int)hi, &found, s->w, s->z, (lapack_int)lw,
            (lapack_int)(all ? lw : hi - lo), s->isuppz, &tryrac, s->work, (lapack_int)(18 * lw),
            s->iwork, (lapack_int)(10 * lw));
        if (info != 0 || found != (all ? lw : hi - lo))
            return tcgpu_fail(TCGPU_ERUNTIME, "LAPACK dstemr failed (info = %d, %lld states)",
                              (int)info, (long long)lw);
        const double *w = all ? s->w + lo : s->w, *z = all ? s->z + lo * lw : s->z;
        int ok = 1, off = r0 > 0; /* w[off + j] is rank r0 + j */
        if (!whole) {
            ok = (r0 == 0 || sturm_count(c, 0.5 * (w[0] + w[1])) == r0) &&
                 (r1 == n || sturm_count(c, 0.5 * (w[hi - lo - 2] + w[hi - lo - 1])) == r1);
        }
        for (int64_t j = 0; ok && j < r1 - r0; ++j) {
            int64_t at = off + j;
            double gap = INFINITY;
            if (at > 0)
                gap = w[at] - w[at - 1];
            if (at + 1 < hi - lo)
                gap = fmin(gap, w[at + 1] - w[at]);
            if (!isfinite(gap)) /* one state */
                gap = 1;
            pair q = {c, ws, lw, w[at], gap, z + at * lw};
            double res = fmax(ws > 0 ? fabs(c->e[ws - 1] * q.u[0]) : 0,
                              we < n ? fabs(c->e[we - 1] * q.u[lw - 1]) : 0);
            ok = !(gap > 0) ? whole : res <= RESIDUAL_REL * gap;
            if (ok && k->superadiabatic) {
                pair sub = narrow(&q);
                if (dress(s, &sub, k->superadiabatic > 1))
                    q = sub;
                if (getenv("TCGPU_DEBUG_TRI"))
                    fprintf(stderr, "tri: t? rank %lld window %lld+%lld sub %lld margin %lld\n",
                            (long long)(r0 + j), (long long)ws, (long long)lw, (long long)q.lw,
                            (long long)*margin);
                else if (!dress(s, &q, k->superadiabatic > 1)) {
                    if (whole)
                        return tcgpu_fail(TCGPU_ERUNTIME,
                                          "readout of a %lld-state chain: the dressing's solve "
                                          "failed",
                                          (long long)n);
                    ok = 0;
                }
            }
            if (ok)
                emit(k, s, &q, r0 + j);
        }
        if (ok)
            return TCGPU_OK;
        if (whole)
            return tcgpu_fail(TCGPU_ERUNTIME, "readout of a %lld-state chain: no window holds",
                              (long long)n);
        *margin *= 2;
    }
}

/* The chain's eigenpairs of ranks r0 .. r1 - 1, chunk by chunk (threads where the caller runs
 * none: one large sweep on its own). */
static tcgpu_status run(const tcgpu_model *m, double t, int64_t r0, int64_t r1, const sink *k) {
    chain c;
    tcgpu_status st = chain_build(m, t, &c);
    if (st)
        return st;
    int64_t next = r0;
    int failed = 0;
    char msg[512] = "";
#ifdef _OPENMP
#pragma omp parallel if (omp_get_active_level() == 0 && r1 - r0 > CHUNK)
#endif
    {
        scratch s;
        memset(&s, 0, sizeof s);
        int64_t margin = c.margin;
        for (;;) {
            /* chunks of twice the margin the last window needed (so that the chunk is half
             * its window and dqds serves it), from CHUNK up to CHUNK_MAX ranks */
            int64_t size = 2 * margin < CHUNK ? CHUNK : 2 * margin > CHUNK_MAX ? CHUNK_MAX
                                                                              : 2 * margin;
            int64_t a, stop;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
            {
                a = next;
                next += size;
            }
#ifdef _OPENMP
#pragma omp atomic read
#endif
            stop = failed;
            if (stop || a >= r1)
                break;
            int64_t b = a + size < r1 ? a + size : r1;
            tcgpu_status cs = tcgpu_stop_requested() ? TCGPU_EINTR : chunk(&c, a, b, &margin, &s, k);
            if (cs) {
#ifdef _OPENMP
#pragma omp critical(tri_fail)
#endif
                if (!failed) {
                    failed = (int)cs;
                    snprintf(msg, sizeof msg, "%s", cs == TCGPU_EINTR ? "" : tcgpu_last_error());
                }
            }
        }
        scratch_free(&s);
    }
    chain_free(&c);
    if (failed == TCGPU_EINTR)
        return TCGPU_EINTR;
    return failed ? tcgpu_fail((tcgpu_status)failed, "%s", msg) : TCGPU_OK;
}

tcgpu_status adiabatic_tri_start(const tcgpu_model *m, double t, int superadiabatic, int64_t rank,
                                 tcgpu_cplx *psi) {
    memset(psi, 0, (size_t)m->dim * sizeof *psi);
    sink k = {superadiabatic, 0, NULL, NULL, NULL, psi};
    return run(m, t, rank, rank + 1, &k);
}

tcgpu_status adiabatic_tri_readout(const tcgpu_model *m, double t, int superadiabatic,
                                   const int64_t *label_of_rank, int count,
                                   const tcgpu_cplx *const *psi, double *const *prob) {
    sink k = {superadiabatic, count, psi, prob, label_of_rank, NULL};
    return run(m, t, 0, m->dim, &k);
}
