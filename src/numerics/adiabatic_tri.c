/* Start and readout of chain models (couplings only between neighbouring indices: tc with one
 * channel, lz, user chains) without a dense eigen-decomposition: O(states x window) time and
 * memory instead of O(states^3) and O(states^2), so that one channel runs at N = 1e4-1e5.
 *
 * Eigenpairs. Past the transition the eigenvectors of the chain are localized (a Wannier-Stark
 * ladder: level step beta t against the couplings): eigenvector r lives on a stretch of sites
 * around r whose length is set by coupling/step. The ranks are cut into chunks; each chunk's
 * eigenvalues come from LAPACK's dsterf on a window of the chain around it, grown until (i)
 * Sturm counts of the whole chain put exactly the chunk's ranks between the window's
 * neighbouring eigenvalues, so local rank + window start is the global rank, and (ii) each
 * eigenvector, by inverse iteration on the stretch where its energy lies in the rows'
 * Gershgorin bands (plus its tail), vanishes at the stretch's cut ends (residual as an
 * eigenpair of the whole chain below 1e-13 of its gap). Where the chain is not ladder-like the
 * windows grow to the whole chain, which is exact at any t.
 *
 * Dressing. The dense readout's superadiabatic admixtures (src/adiabatic.c) are sums over all
 * eigenstates; as operators they are reduced resolvents R = Q (H - E_k)^-1 Q (Q = 1 - |k><k|)
 * applied to B |k>, B = dH/dt = diag(b) (H'' = 0):
 *   first order   y1 = R^2 B u                      (amplitude -i y1),
 *   second order  y2 = R Q d(y1)/dt = -2 R^3 (B - b_k) x - R^2 (B - b_k) y1,  x = R B u,
 * with b_k = <k|B|k>; from d u/dt = -x, (H - E_k) x = Q B u differentiated (with Q's constraint
 * <u|x> = 0), and likewise y1. Written out in the eigenbasis these are the dense code's
 * h_mk/D^2 and its r_mk term for term (tests/test_readout.c compares them). Each R is a
 * tridiagonal solve at E_k shifted by 1e-14 of the level's gap (so that the LU does not meet the
 * exact singular pivot; 1e-10 left errors of 1e-11 in tc's readout), its |k> part projected
 * out. On 1e5 states the diagonal reaches ~1e9 and E_k is known only to ~1e-11 of the gap,
 * which then bounds the admixtures' relative error alike. */
#include "adiabatic_tri.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define CHUNK 512        /* least ranks per window */
#define WINDOW_MARGIN 32 /* least margin on either side of a chunk; doubled until it holds */
/* Bisection (dstebz) instead of dsterf where the window holds this many times the eigenvalues
 * a chunk needs: bisection costs ~60 Sturm passes of the window per eigenvalue, dsterf ~30
 * window-lengths of work per eigenvalue of the whole window. */
#define BISECT_RATIO 64

/* Whether the sites run against the model's indices: where the diagonal falls along them. */
static int falls(const tcgpu_model *m, double t) {
    int64_t n = m->dim;
    return n > 1 && m->b[n - 1] * t + m->a[n - 1] < m->b[0] * t + m->a[0];
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
    c->t = t;
    c->d = malloc((size_t)n * sizeof *c->d);
    c->e = calloc((size_t)n, sizeof *c->e); /* e[n - 1] stays 0: dstemr's workspace slot */
    c->b = malloc((size_t)n * sizeof *c->b);
    if (!c->d || !c->e || !c->b) {
        chain_free(c);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a %lld-state chain", (long long)n);
    }
    c->reversed = falls(m, t);
    for (int64_t s = 0; s < n; ++s) {
        int64_t i = model_index(c, s);
        c->d[s] = m->b[i] * t + m->a[i];
        c->b[s] = m->b[i];
    }
    for (int64_t i = 0; i < n; ++i)
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e)
            if (m->col[e] == i + 1) /* the link i, i + 1: sites i, i + 1 or n - 2 - i, n - 1 - i */
                c->e[c->reversed ? n - 2 - i : i] = m->val[e];
    c->ladder = 1;
    for (int64_t i = 0; i + 1 < n; ++i)
        c->ladder = c->ladder && c->d[i + 1] > c->d[i];
    c->step = n > 1 ? fabs(c->d[n - 1] - c->d[0]) / (double)(n - 1) : 0;
    c->glo = INFINITY, c->ghi = -INFINITY, c->bmax = 0;
    for (int64_t i = 0; i < n; ++i) {
        c->bmax = fmax(c->bmax, band(c, i));
        c->glo = fmin(c->glo, c->d[i] - band(c, i));
        c->ghi = fmax(c->ghi, c->d[i] + band(c, i));
    }
    double pad = 1e-9 * (fabs(c->glo) + fabs(c->ghi)) + 1e-300;
    c->glo -= pad, c->ghi += pad;
    return TCGPU_OK;
}

/* A first margin for the window of ranks a .. b - 1: on a ladder an eigenvector spreads over
 * about 4|e|/step sites (its energy inside the rows' Gershgorin bands), |e| the couplings where
 * it lives; taken from the chunk's sites, then once more from those plus that margin. */
static int64_t local_margin(const chain *c, int64_t a, int64_t b) {
    if (!(c->step > 0))
        return c->n;
    double g = 0;
    for (int pass = 0; pass < 2; ++pass) {
        int64_t lo = a - (int64_t)g, hi = b + (int64_t)g;
        double emax = 0;
        for (int64_t i = lo > 0 ? lo : 0; i < (hi < c->n - 1 ? hi : c->n - 1); ++i)
            emax = fmax(emax, fabs(c->e[i]));
        g = fmin(2 * emax / c->step, (double)c->n);
    }
    return g < WINDOW_MARGIN ? WINDOW_MARGIN : (int64_t)g;
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

/* Bounds of the eigenvalue of a rank by bisection on Sturm counts from the Gershgorin bounds
 * (24 halvings: enough to place a chunk's eigenvalues for the test below). above = 0: a value
 * with at most `rank` eigenvalues below it; above = 1: one with at least `rank`. */
static double rank_bound(const chain *c, int64_t rank, int above, double lo, double hi) {
    for (int i = 0; i < 24; ++i) {
        double mid = 0.5 * (lo + hi);
        int64_t below = sturm_count(c, mid);
        if (above ? below >= rank : below > rank)
            hi = mid;
        else
            lo = mid;
    }
    return above ? hi : lo;
}

/* Whether no state has weight where the eigenvectors of ranks r0 .. r1 - 1 live: their
 * energies lie in [x_lo, x_hi] (Sturm counts), so they live on the hull of the sites whose
 * Gershgorin band meets that interval, plus stretch()'s tail margin. Such a chunk needs no
 * eigenvalues (tc K = 1 holds its weight on the few thousand states next to the start state;
 * the rest of a 1e4-state readout was dsterf on empty stretches). */
static int empty_chunk(const chain *c, int64_t r0, int64_t r1, const int64_t *next_weight) {
    int64_t n = c->n, l = -1, r = -1;
    if (c->ladder) {
        /* Weyl: eigenvalue r lies within |H - diag(d)| <= bmax of d[r] (d ascending), and the
         * sites whose band meets those energies within bmax more; both by bisection on d, where
         * the Sturm counts of every chunk (48 passes over the chain, a division per site) had
         * been 11 % of a 1e5-state sweep */
        double pad = 1e-12 * (fabs(c->d[r0]) + fabs(c->d[r1 - 1])) + 2 * c->bmax;
        double lo = c->d[r0] - pad, hi = c->d[r1 - 1] + pad;
        int64_t a = 0, b = n;
        while (a < b) { /* first site with d >= lo */
            int64_t mid = a + (b - a) / 2;
            if (c->d[mid] < lo)
                a = mid + 1;
            else
                b = mid;
        }
        l = a, b = n;
        while (a < b) { /* first site with d > hi */
            int64_t mid = a + (b - a) / 2;
            if (c->d[mid] <= hi)
                a = mid + 1;
            else
                b = mid;
        }
        r = a - 1;
        if (r < l)
            return 0;
    } else {
        double xlo = rank_bound(c, r0, 0, c->glo, c->ghi);
        double xhi = rank_bound(c, r1, 1, c->glo, c->ghi);
        for (int64_t i = 0; i < n; ++i) {
            if (c->d[i] + band(c, i) >= xlo && c->d[i] - band(c, i) <= xhi) {
                l = l < 0 ? i : l;
                r = i;
            }
        }
        if (l < 0)
            return 0;
    }
    int64_t m = (r - l) / 8 + 16, a = l - m > 0 ? l - m : 0, b = r + 1 + m < n ? r + 1 + m : n;
    return next_weight[a] >= b;
}

/* The eigenvalues of the window ws .. we - 1 into s->w (local rank order): all of them by
 * dsterf (O(window^2)), or, where the chunk's ranks and their two neighbours are few beside the
 * window, those alone by bisection (dstebz, O(window x ranks)); chunk() reads no others. The
 * start and its checks ask for one rank, whose window before the transition is the whole
 * chain: tc K = 1, N = 1e5, one dsterf took 16 s there. */
static tcgpu_status window_values(const chain *c, int64_t ws, int64_t we, int64_t r0, int64_t r1,
                                  scratch *s) {
    int64_t lw = we - ws, lo = (r0 > ws ? r0 - 1 : ws) - ws, hi = (r1 < we ? r1 : we - 1) - ws;
    if ((hi - lo + 1) * BISECT_RATIO > lw) {
        memcpy(s->w, c->d + ws, (size_t)lw * sizeof *s->w);
        memcpy(s->e, c->e + ws, (size_t)lw * sizeof *s->e);
        if (LAPACKE_dsterf_work((lapack_int)lw, s->w, s->e) != 0)
            return tcgpu_fail(TCGPU_ERUNTIME, "LAPACK dsterf failed on %lld states", (long long)lw);
        return TCGPU_OK;
    }
    lapack_int n = (lapack_int)lw, found = 0, nsplit = 0, info;
    lapack_int *iw = malloc((size_t)(5 * lw) * sizeof *iw);
    double *work = malloc((size_t)(5 * lw) * sizeof *work); /* and dstebz's w (n) */
    if (!iw || !work) {
        free(iw);
        free(work);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a %lld-state window", (long long)lw);
    }
    /* abstol 2 DBL_MIN: each eigenvalue to full relative accuracy, as dsterf's */
    info = LAPACKE_dstebz_work('I', 'E', n, 0, 0, (lapack_int)lo + 1, (lapack_int)hi + 1,
                               2 * DBL_MIN, c->d + ws, c->e + ws, &found, &nsplit, work + 4 * lw,
                               iw, iw + lw, work, iw + 2 * lw);
    int ok = info == 0 && found == hi - lo + 1;
    if (ok)
        memcpy(s->w + lo, work + 4 * lw, (size_t)found * sizeof *s->w);
    free(iw);
    free(work);
    if (!ok)
        return tcgpu_fail(TCGPU_ERUNTIME, "LAPACK dstebz failed on %lld states (info %d)",
                          (long long)lw, (int)info);
    return TCGPU_OK;
}

/* Ranks r0 .. r1 - 1: the window's eigenvalues (dsterf), its margin grown from *margin until
 * the ranks check and every eigenpair holds. */
static tcgpu_status chunk(const chain *c, int64_t r0, int64_t r1, int64_t *margin, scratch *s,
                          const sink *k) {
    int64_t n = c->n;
    if (k->next_weight && empty_chunk(c, r0, r1, k->next_weight)) {
        for (int64_t r = r0; r < r1; ++r)
            for (int q = 0; q < k->count; ++q)
                k->prob[q][k->label_of_rank[r]] = 0;
        return TCGPU_OK;
    }
    for (;;) {
        int64_t L = *margin, ws = r0 - L > 0 ? r0 - L : 0, we = r1 + L < n ? r1 + L : n;
        int whole = ws == 0 && we == n;
        int64_t lw = we - ws;
        if (!tri_scratch_fit(s, lw))
            return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a %lld-state readout window",
                              (long long)lw);
        tcgpu_status es = window_values(c, ws, we, r0, r1, s);
        if (es)
            return es;
        const double *w = s->w - ws; /* w[r]: rank r, if the window's ranks are the chain's */
        int ok = whole || ((r0 == 0 || sturm_count(c, 0.5 * (w[r0 - 1] + w[r0])) == r0) &&
                           (r1 == n || sturm_count(c, 0.5 * (w[r1 - 1] + w[r1])) == r1));
        for (int64_t r = r0; ok && r < r1; ++r) {
            double gap = INFINITY;
            if (r > ws)
                gap = w[r] - w[r - 1];
            if (r + 1 < we)
                gap = fmin(gap, w[r + 1] - w[r]);
            if (!isfinite(gap)) /* one state */
                gap = 1;
            if (!(gap > 0)) {
                if (whole)
                    return tcgpu_fail(TCGPU_ERUNTIME,
                                      "readout of a %lld-state chain: degenerate eigenvalues",
                                      (long long)n);
                ok = 0;
                break;
            }
            ok = tri_one_pair(c, ws, we, w[r], gap, r, s, k);
            if (!ok && whole)
                return tcgpu_fail(TCGPU_ERUNTIME,
                                  "readout of a %lld-state chain: the eigenvector of rank %lld "
                                  "could not be resolved",
                                  (long long)n, (long long)r);
        }
        if (ok)
            return TCGPU_OK;
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
    /* Chunks of twice their first margin (half of a window's eigenvalues are the chunk's), at
     * least CHUNK ranks; where a window would be the whole chain, the rest in one chunk per
     * thread. */
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_active_level() == 0 ? omp_get_max_threads() : 1;
#endif
    int64_t cap = (r1 - r0) / CHUNK + threads + 2, nch = 0;
    int64_t *cut = malloc((size_t)(cap + 1) * sizeof *cut);
    if (!cut) {
        chain_free(&c);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout");
    }
    cut[0] = r0;
    while (cut[nch] < r1 && nch + threads < cap) {
        int64_t a = cut[nch], L = local_margin(&c, a, a + CHUNK < r1 ? a + CHUNK : r1);
        int64_t size = 2 * L < CHUNK ? CHUNK : 2 * L;
        if (size + 2 * L >= c.n) {
            for (int q = 1; q <= threads; ++q)
                if (a + (r1 - a) * q / threads > cut[nch])
                    cut[++nch] = a + (r1 - a) * q / threads;
            break;
        }
        cut[++nch] = a + size < r1 ? a + size : r1;
    }
    if (cut[nch] < r1) /* cap reached: the rest in one */
        cut[++nch] = r1;
    int failed = 0;
    char msg[512] = "";
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1 && nch > 1)
#endif
    {
        scratch s;
        memset(&s, 0, sizeof s);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t q = 0; q < nch; ++q) {
            int stop;
#ifdef _OPENMP
#pragma omp atomic read
#endif
            stop = failed;
            if (stop)
                continue;
            int64_t margin = local_margin(&c, cut[q], cut[q + 1]);
            tcgpu_status cs = tcgpu_stop_requested()
                                  ? TCGPU_EINTR
                                  : chunk(&c, cut[q], cut[q + 1], &margin, &s, k);
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
        tri_scratch_free(&s);
    }
    free(cut);
    chain_free(&c);
    if (failed == TCGPU_EINTR)
        return TCGPU_EINTR;
    return failed ? tcgpu_fail((tcgpu_status)failed, "%s", msg) : TCGPU_OK;
}

tcgpu_status adiabatic_tri_start(const tcgpu_model *m, double t, int superadiabatic, int64_t rank,
                                 tcgpu_cplx *psi) {
    memset(psi, 0, (size_t)m->dim * sizeof *psi);
    sink k = {superadiabatic, 0, NULL, NULL, NULL, NULL, psi};
    return run(m, t, rank, rank + 1, &k);
}

tcgpu_status adiabatic_tri_readout(const tcgpu_model *m, double t, int superadiabatic,
                                   const int64_t *label_of_rank, int count,
                                   const tcgpu_cplx *const *psi, double *const *prob) {
    /* Eigenvectors whose stretch holds no site with |psi_i|^2 above 1e-24 in any state are
     * not formed: their populations are below 1e-24 times the stretch's length (tc K = 1 at
     * the start check holds its weight on a few hundred of 1e4 states). In site order. */
    int64_t n = m->dim, *next = malloc((size_t)(n + 1) * sizeof *next);
    if (!next)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout");
    int reversed = falls(m, t);
    next[n] = n;
    for (int64_t site = n - 1; site >= 0; --site) {
        int64_t i = reversed ? n - 1 - site : site;
        double w = 0;
        for (int r = 0; r < count; ++r)
            w = fmax(w, psi[r][i].re * psi[r][i].re + psi[r][i].im * psi[r][i].im);
        next[site] = w > 1e-24 ? site : next[site + 1];
    }
    sink k = {superadiabatic, count, psi, prob, label_of_rank, next, NULL};
    tcgpu_status st = run(m, t, 0, n, &k);
    free(next);
    return st;
}
