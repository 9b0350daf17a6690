/* The start of large models that are not chains (tc with two or more channels past
 * TCGPU_THIRD_ORDER_MAX states) without a dense eigen-decomposition: the start state becomes
 * the ground state of H(t) as t -> -inf (adiabatic_start_rank 0), and the start and its check need
 * that one dressed eigenvector only.
 *
 * Eigenpair. Lanczos on the sparse H(t) = diag(b t + a) + V from the diabatic start state, with
 * full reorthogonalization (the lowest Ritz pair of the tridiagonal from LAPACK's dstev),
 * restarted from the Ritz vector; accepted where the residual |H u - E u| is below 1e-13 of
 * |H|'s bound. Dressing. The second-order superadiabatic admixtures as reduced resolvents
 * R = Q (H - E)^-1 Q (Q = 1 - |u><u|) applied to B |u> (B = dH/dt = diag(b)), term for term
 * the chain readout's (src/numerics/adiabatic_tri.c):
 *   y1 = R^2 B u (amplitude -i y1),  y2 = -R (R (2 R z + w)), z = (B - b_k) x, w = (B - b_k) y1,
 * x = R B u; H - E is positive on Q's range (E the lowest eigenvalue), so each R is a conjugate
 * gradient solve, projected onto that range at every iteration. Memory O(states x Lanczos
 * vectors), time O(nonzeros x iterations): tc K = 2, N = 100 (5151 states) in milliseconds where
 * one dense frame takes a minute. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adiabatic.h"
#include "propagate_internal.h"
#include "vec.h"

#define LANCZOS_MAX TCGPU_LANCZOS_VECTORS /* Lanczos vectors per restart */
#define LANCZOS_RESTARTS 20
#define LANCZOS_TOL 1e-13 /* residual over |H|'s bound */
#define CG_TOL 1e-14      /* residual over the right-hand side */
#define CG_MAX 20000

typedef struct {
    const tcgpu_model *m;
    double *d;   /* the diagonal b t + a at the frame's t */
    double norm; /* a bound on |H|: the largest Gershgorin row */
} sparse_h;

static void apply(const sparse_h *h, const double *x, double *y) {
    const tcgpu_model *m = h->m;
    for (int64_t i = 0; i < m->dim; ++i) {
        double s = h->d[i] * x[i];
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e)
            s += m->val[e] * x[m->col[e]];
        y[i] = s;
    }
}

int adiabatic_sparse_applies(const tcgpu_model *m) {
    return !m->inverse_t && !m->w && m->dim > TCGPU_THIRD_ORDER_MAX && !adiabatic_tri_applies(m) &&
           adiabatic_start_rank(m) == 0;
}

/* The lowest eigenpair into u (unit), *E. 0 where Lanczos did not converge. */
static int lowest(const sparse_h *h, double *u, double *E) {
    int64_t n = h->m->dim;
    int kmax = (int)(n < LANCZOS_MAX ? n : LANCZOS_MAX), ok = 0;
    double *Q = malloc((size_t)n * (size_t)(kmax + 1) * sizeof *Q), *w = malloc(n * sizeof *w);
    double *al = malloc((size_t)kmax * sizeof *al), *be = malloc((size_t)kmax * sizeof *be);
    double *d = malloc((size_t)kmax * sizeof *d), *e = malloc((size_t)kmax * sizeof *e);
    double *z = malloc((size_t)kmax * (size_t)kmax * sizeof *z);
    if (!Q || !w || !al || !be || !d || !e || !z)
        goto done;
    memset(u, 0, (size_t)n * sizeof *u);
    u[h->m->start] = 1;
    for (int restart = 0; restart < LANCZOS_RESTARTS && !ok; ++restart) {
        memcpy(Q, u, (size_t)n * sizeof *Q);
        int k = 0;
        for (; k < kmax; ++k) {
            double *q = Q + (size_t)k * n, *qn = Q + (size_t)(k + 1) * n;
            apply(h, q, w);
            al[k] = dot(q, w, n);
            for (int j = 0; j <= k; ++j) /* full reorthogonalization, twice */
                project_out(w, Q + (size_t)j * n, n);
            for (int j = 0; j <= k; ++j)
                project_out(w, Q + (size_t)j * n, n);
            be[k] = sqrt(dot(w, w, n));
            int last = k + 1 == kmax || be[k] <= 1e-300;
            if (last || (k + 1) % 10 == 0) {
                memcpy(d, al, (size_t)(k + 1) * sizeof *d);
                memcpy(e, be, (size_t)k * sizeof *e);
                if (LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', k + 1, d, e, z, k + 1))
                    goto done;
                /* Ritz residual of the lowest pair: |beta_k s_k| */
                if (last || fabs(be[k] * z[k]) <= LANCZOS_TOL * h->norm) {
                    for (int64_t i = 0; i < n; ++i) {
                        double s = 0;
                        for (int j = 0; j <= k; ++j)
                            s += Q[(size_t)j * n + i] * z[j];
                        u[i] = s;
                    }
                    break;
                }
            }
            for (int64_t i = 0; i < n; ++i)
                qn[i] = w[i] / be[k];
        }
        double nu = sqrt(dot(u, u, n));
        for (int64_t i = 0; i < n; ++i)
            u[i] /= nu;
        apply(h, u, w);
        *E = dot(u, w, n);
        for (int64_t i = 0; i < n; ++i)
            w[i] -= *E * u[i];
        ok = sqrt(dot(w, w, n)) <= LANCZOS_TOL * h->norm;
    }
done:
    free(Q);
    free(w);
    free(al);
    free(be);
    free(d);
    free(e);
    free(z);
    return ok;
}

/* out = R in = Q (H - E)^-1 Q in by conjugate gradients (out may be in). 0 where it did not
 * converge. r, p, ap: scratch. */
static int resolve(const sparse_h *h, const double *u, double E, const double *in, double *out,
                   double *r, double *p, double *ap) {
    int64_t n = h->m->dim;
    memcpy(r, in, (size_t)n * sizeof *r);
    project_out(r, u, n);
    memset(out, 0, (size_t)n * sizeof *out);
    double rr = dot(r, r, n), stop = CG_TOL * CG_TOL * rr;
    if (rr == 0)
        return 1;
    memcpy(p, r, (size_t)n * sizeof *p);
    for (int it = 0; it < CG_MAX; ++it) {
        apply(h, p, ap);
        for (int64_t i = 0; i < n; ++i)
            ap[i] -= E * p[i];
        project_out(ap, u, n);
        double pap = dot(p, ap, n);
        if (!(pap > 0))
            return 0;
        double a = rr / pap;
        for (int64_t i = 0; i < n; ++i) {
            out[i] += a * p[i];
            r[i] -= a * ap[i];
        }
        project_out(r, u, n);
        double rn = dot(r, r, n);
        if (rn <= stop) {
            project_out(out, u, n);
            return 1;
        }
        for (int64_t i = 0; i < n; ++i)
            p[i] = r[i] + rn / rr * p[i];
        rr = rn;
    }
    return 0;
}

/* The dressed ground state's parts: u, y1 (first order), y2 (second order), each dim long. */
static tcgpu_status dressed_ground(const tcgpu_model *m, double t, int superadiabatic, double *u,
                                   double *y1, double *y2) {
    int64_t n = m->dim;
    sparse_h h = {m, malloc((size_t)n * sizeof(double)), 0};
    double *x = malloc((size_t)n * sizeof *x), *v = malloc((size_t)n * sizeof *v);
    double *r = malloc((size_t)n * sizeof *r), *p = malloc((size_t)n * sizeof *p);
    double *ap = malloc((size_t)n * sizeof *ap);
    tcgpu_status st = TCGPU_OK;
    if (!h.d || !x || !v || !r || !p || !ap) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the sparse start (%lld states)",
                        (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < n; ++i) {
        double row = fabs(h.d[i] = m->b[i] * t + m->a[i]);
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e)
            row += fabs(m->val[e]);
        h.norm = fmax(h.norm, row);
    }
    double E = 0;
    if (!lowest(&h, u, &E)) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "sparse start at t = %g: Lanczos did not converge", t);
        goto done;
    }
    memset(y1, 0, (size_t)n * sizeof *y1);
    memset(y2, 0, (size_t)n * sizeof *y2);
    if (superadiabatic < 1)
        goto done;
    for (int64_t i = 0; i < n; ++i)
        v[i] = m->b[i] * u[i];
    double bk = dot(u, v, n);
    int ok = resolve(&h, u, E, v, x, r, p, ap) && resolve(&h, u, E, x, y1, r, p, ap);
    if (ok && superadiabatic > 1) {
        for (int64_t i = 0; i < n; ++i)
            v[i] = (m->b[i] - bk) * x[i];
        ok = resolve(&h, u, E, v, v, r, p, ap);
        for (int64_t i = 0; ok && i < n; ++i)
            v[i] = 2 * v[i] + (m->b[i] - bk) * y1[i];
        ok = ok && resolve(&h, u, E, v, v, r, p, ap) && resolve(&h, u, E, v, y2, r, p, ap);
        for (int64_t i = 0; ok && i < n; ++i)
            y2[i] = -y2[i];
    }
    if (!ok)
        st = tcgpu_fail(TCGPU_ERUNTIME,
                        "sparse start at t = %g: a resolvent solve did not converge", t);
done:
    free(h.d);
    free(x);
    free(v);
    free(r);
    free(p);
    free(ap);
    return st;
}

tcgpu_status adiabatic_sparse_start(const tcgpu_model *m, double t, int superadiabatic,
                                    tcgpu_cplx *psi) {
    int64_t n = m->dim;
    double *u = malloc((size_t)n * sizeof *u), *y1 = malloc((size_t)n * sizeof *y1);
    double *y2 = malloc((size_t)n * sizeof *y2);
    tcgpu_status st = u && y1 && y2 ? dressed_ground(m, t, superadiabatic, u, y1, y2)
                                    : tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the start");
    if (!st) { /* psi = (u - i y1 + y2) / |.| */
        double inv = 1 / sqrt(1 + dot(y1, y1, n) + dot(y2, y2, n));
        for (int64_t i = 0; i < n; ++i) {
            psi[i].re = inv * (u[i] + y2[i]);
            psi[i].im = -inv * y1[i];
        }
    }
    free(u);
    free(y1);
    free(y2);
    return st;
}

tcgpu_status adiabatic_sparse_leak(const tcgpu_model *m, double t, int superadiabatic, int count,
                                   const tcgpu_cplx *const *psi, double *leak) {
    tcgpu_cplx *phi = malloc((size_t)m->dim * sizeof *phi);
    tcgpu_status st = phi ? adiabatic_sparse_start(m, t, superadiabatic, phi)
                          : tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the start");
    for (int s = 0; !st && s < count; ++s)
        leak[s] = adiabatic_leak_of(phi, psi[s], m->dim);
    free(phi);
    return st;
}
