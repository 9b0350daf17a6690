/* The chain readout's eigenpairs (adiabatic_tri.h; the method is described at the top of
 * adiabatic_tri.c): the stretch an eigenvector lives on, inverse iteration there, the
 * dressing's reduced resolvents as shifted tridiagonal solves, and the pair's hand-over. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adiabatic_tri.h"

void tri_scratch_free(scratch *s) {
    free(s->d), free(s->e), free(s->w), free(s->ipiv);
    free(s->dl), free(s->dd), free(s->du), free(s->du2);
    free(s->u), free(s->x), free(s->y1), free(s->y2), free(s->v);
    free(s->uc), free(s->y2p), free(s->y2m);
    memset(s, 0, sizeof *s);
}

int tri_scratch_fit(scratch *s, int64_t lw) {
    if (lw <= s->cap)
        return 1;
    tri_scratch_free(s);
    size_t n = (size_t)lw;
    s->cap = lw;
    s->d = malloc(n * 8), s->e = malloc(n * 8), s->w = malloc(n * 8);
    s->ipiv = malloc(n * sizeof *s->ipiv);
    s->dl = malloc(n * 8), s->dd = malloc(n * 8), s->du = malloc(n * 8), s->du2 = malloc(n * 8);
    s->u = malloc(n * 8), s->x = malloc(n * 8), s->y1 = malloc(n * 8), s->y2 = malloc(n * 8);
    s->v = malloc(n * 8);
    s->uc = malloc(n * 8), s->y2p = malloc(n * 8), s->y2m = malloc(n * 8);
    return s->d && s->e && s->w && s->ipiv && s->dl && s->dd && s->du && s->du2 && s->u && s->x &&
           s->y1 && s->y2 && s->v && s->uc && s->y2p && s->y2m;
}

/* v = (H - E - shift)^-1 v with dgttrf's factors (dgtts2's steps for one right-hand side, but
 * multiplying by the stored inverse pivots: the division was on the back substitution's
 * critical path, and the solves are most of a readout). */
static void solve(const scratch *s, int64_t lw, double *v) {
    for (int64_t i = 0; i + 1 < lw; ++i) {
        if (s->ipiv[i] == i + 1) {
            v[i + 1] -= s->dl[i] * v[i];
        } else {
            double t = v[i];
            v[i] = v[i + 1];
            v[i + 1] = t - s->dl[i] * v[i];
        }
    }
    v[lw - 1] *= s->dd[lw - 1];
    if (lw > 1)
        v[lw - 2] = (v[lw - 2] - s->du[lw - 2] * v[lw - 1]) * s->dd[lw - 2];
    for (int64_t i = lw - 3; i >= 0; --i)
        v[i] = (v[i] - s->du[i] * v[i + 1] - s->du2[i] * v[i + 2]) * s->dd[i];
}

/* out = R in (in and out may coincide): Q in, solved with the factors, Q again. */
static int resolve(scratch *s, const pair *q, const double *in, double *out) {
    if (out != in)
        memcpy(out, in, (size_t)q->lw * sizeof *out);
    project_out(out, q->u, q->lw);
    solve(s, q->lw, out);
    project_out(out, q->u, q->lw);
    return 1;
}

/* What a vector leaves at the stretch's cut ends, times the couplings across them: its
 * residual as a vector of the whole chain. */
static double cut_residual(const pair *q, const double *v) {
    const chain *c = q->c;
    double lo = q->ws > 0 ? fabs(c->e[q->ws - 1] * v[0]) : 0;
    double hi = q->ws + q->lw < c->n ? fabs(c->e[q->ws + q->lw - 1] * v[q->lw - 1]) : 0;
    return fmax(lo, hi);
}

/* u^T (H - E) u on q's stretch. */
static double rayleigh_shift(const pair *q, const double *u) {
    const double *d = q->c->d + q->ws, *e = q->c->e + q->ws, *b = q->c->b + q->ws;
    double shifted = 0;
    for (int64_t i = 0; i < q->lw; ++i)
        shifted += u[i] * ((d[i] + q->dt * b[i] - q->E) * u[i] +
                           (i + 1 < q->lw ? 2 * e[i] * u[i + 1] : 0));
    return shifted;
}

/* The eigenvector of energy q->E on q's stretch by inverse iteration with the LU of
 * H - E - shift (each solve damps the other eigenvectors by gap/(shift + error of E), at least
 * ~1e10, so two leave at most 1e-20 of them), kept for the admixtures' solves. 0 where the
 * factorization failed or the eigenvector reaches the stretch's cut ends. */
static int eigvec(scratch *s, pair *q) {
    int64_t lw = q->lw;
    double shift = q->E + SHIFT_REL * q->gap;
    for (int64_t i = 0; i < lw; ++i) {
        s->dd[i] = q->c->d[q->ws + i] + q->dt * q->c->b[q->ws + i] - shift;
        if (i + 1 < lw)
            s->dl[i] = s->du[i] = q->c->e[q->ws + i];
    }
    if (LAPACKE_dgttrf_work((lapack_int)lw, s->dl, s->dd, s->du, s->du2, s->ipiv) != 0)
        return 0;
    for (int64_t i = 0; i < lw; ++i)
        s->dd[i] = 1 / s->dd[i]; /* solve's inverse pivots */
    unsigned seed = 2463534242u; /* a start with no structure to be orthogonal to */
    for (int64_t i = 0; i < lw; ++i) {
        seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
        s->u[i] = 0.5 + (double)(seed >> 8) / 16777216.0;
    }
    for (int it = 0; it < 2; ++it) {
        solve(s, lw, s->u);
        double nrm = sqrt(dot(s->u, s->u, lw));
        if (!(nrm > 0) || !isfinite(nrm))
            return 0;
        for (int64_t i = 0; i < lw; ++i)
            s->u[i] /= nrm;
    }
    q->u = s->u;
    /* Inverse iteration returns the stretch's eigenvector nearest E, which is E's only if its
     * eigenvalue is E: with the cut residual below 1e-13 of the gap it is a chain eigenpair,
     * and within 1e-6 of the gap of E no other chain eigenvalue lies (a stretch beside the
     * eigenvector's home had passed the cut check with another eigenvalue: tc K = 1,
     * N = 1000, beta = 0.3 read the ground state's population as 0). */
    double shifted = rayleigh_shift(q, s->u);
    return fabs(shifted) <= 1e-6 * q->gap && cut_residual(q, s->u) <= RESIDUAL_REL * q->gap;
}

/* y1 (first order) and y2 (second order, if asked) into s->y1, s->y2, with eigvec's factors;
 * 0 where a solve failed or the admixtures reach the stretch's cut ends. */
static int dress12(scratch *s, const pair *q, int second) {
    int64_t lw = q->lw;
    const double *b = q->c->b + q->ws, *u = q->u;
    for (int64_t i = 0; i < lw; ++i)
        s->v[i] = b[i] * u[i];
    double bk = dot(u, s->v, lw);
    if (!resolve(s, q, s->v, s->x) || !resolve(s, q, s->x, s->y1))
        return 0;
    if (second) { /* y2 = -2 R^3 z - R^2 w = -R (R (2 R z + w)), z = (B - b_k) x, w = (B - b_k) y1
                   */
        for (int64_t i = 0; i < lw; ++i)
            s->v[i] = (b[i] - bk) * s->x[i];
        if (!resolve(s, q, s->v, s->v))
            return 0;
        for (int64_t i = 0; i < lw; ++i)
            s->v[i] = 2 * s->v[i] + (b[i] - bk) * s->y1[i];
        if (!resolve(s, q, s->v, s->v) || !resolve(s, q, s->v, s->y2))
            return 0;
        for (int64_t i = 0; i < lw; ++i)
            s->y2[i] = -s->y2[i];
    }
    double edge = cut_residual(q, s->y1);
    if (second)
        edge = fmax(edge, cut_residual(q, s->y2));
    return edge <= 1e3 * RESIDUAL_REL * q->gap;
}

/* y2 of H(t + dt) on q's stretch into out, its sign that of the eigenvector at t (s->uc): the
 * eigenvalue moved by dt <k|B|k> (bk), then the Rayleigh quotient. 0 where it failed or
 * the eigenvector at t + dt is not the one at t (overlap below 0.9). Clobbers s->u and the
 * factors. */
static int y2_at(scratch *s, const pair *q, double dt, double bk, double *out) {
    pair p = *q;
    p.dt = dt;
    p.E = q->E + dt * bk;
    /* E is off by O(dt^2), and the resolvents' relative error is E's over the gap, which the
     * difference quotient divides by dt: the Rayleigh quotient of the first eigenvector, and
     * the eigenpair again at it */
    eigvec(s, &p);
    p.E += rayleigh_shift(&p, s->u);
    if (!eigvec(s, &p))
        return 0;
    double o = dot(s->u, s->uc, p.lw);
    if (fabs(o) < 0.9 || !dress12(s, &p, 1))
        return 0;
    for (int64_t i = 0; i < p.lw; ++i)
        out[i] = o < 0 ? -s->y2[i] : s->y2[i];
    return 1;
}

/* The admixtures up to `order` (1, 2 or 3) into s->y1, s->y2, with eigvec's factors at q's
 * eigenpair (eigvec has run). The third order, the dense readout's third_order (src/adiabatic.c)
 * as an operator: y3 = R (Q dy2/dt + <x|y1> y1), the admixture i y3, i.e. y1 - y3 in place of
 * y1; dy2/dt by central difference of y2 at t -+ dt, dt = 1e-3 |t| (the eigenpairs there by
 * inverse iteration from E -+ dt b_k). Where that fails, or the third order's term exceeds
 * the second's (the dense code's rule), the second order stands. */
static int dress(scratch *s, pair *q, int order) {
    if (order < 3)
        return dress12(s, q, order > 1);
    int64_t lw = q->lw;
    const double *b = q->c->b + q->ws;
    double bk = 0;
    for (int64_t i = 0; i < lw; ++i)
        bk += b[i] * s->u[i] * s->u[i];
    memcpy(s->uc, s->u, (size_t)lw * sizeof *s->uc);
    double dt = 1e-5 * fmax(fabs(q->c->t), 1e-3);
    int third = y2_at(s, q, dt, bk, s->y2p) && y2_at(s, q, -dt, bk, s->y2m);
    /* back to t: the factors and eigenvector (the same inverse iteration gives the same u) */
    if (!eigvec(s, q) || !dress12(s, q, 1))
        return 0;
    if (!third)
        return 1;
    double xy = dot(s->x, s->y1, lw);
    for (int64_t i = 0; i < lw; ++i)
        s->v[i] = (s->y2p[i] - s->y2m[i]) / (2 * dt);
    project_out(s->v, s->u, lw);
    for (int64_t i = 0; i < lw; ++i)
        s->v[i] += xy * s->y1[i];
    if (!resolve(s, q, s->v, s->v) || cut_residual(q, s->v) > 1e3 * RESIDUAL_REL * q->gap ||
        !(dot(s->v, s->v, lw) <= dot(s->y2, s->y2, lw))) /* the series stops at its least term */
        return 1;
    for (int64_t i = 0; i < lw; ++i)
        s->y1[i] -= s->v[i];
    return 1;
}

/* The eigenvector of energy E lives where E lies in the rows' Gershgorin bands
 * d_i +- (|e_i-1| + |e_i|) (elsewhere H - E is diagonally dominant and it decays like an Airy
 * tail): the hull of those sites in the window, an eighth longer on either side plus 16 sites
 * (eigvec and dress check that it held). On a strongly coupled ladder the hull of the lowest
 * states lies in the chain's middle, where the couplings are largest, not where d crosses E. */
static void stretch(const chain *c, int64_t ws, int64_t we, double E, int64_t *a, int64_t *b) {
    int64_t l = -1, r = -1;
    for (int64_t i = ws; i < we; ++i) {
        if (fabs(c->d[i] - E) <= band(c, i)) {
            l = l < 0 ? i : l;
            r = i;
        }
    }
    if (l < 0) { /* E in no band of the window (only possible where the window is cut) */
        *a = ws, *b = we;
        return;
    }
    int64_t m = (r - l) / 8 + 16;
    *a = l - m > ws ? l - m : ws;
    *b = r + 1 + m < we ? r + 1 + m : we;
}

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

/* The eigenpair of energy E (rank `rank`) on its stretch of the window, else on the whole
 * window: 1 when emitted (or skipped: the states have no weight there), 0 when neither held. */
int tri_one_pair(const chain *c, int64_t ws, int64_t we, double E, double gap, int64_t rank,
                 scratch *s, const sink *k) {
    int64_t a, b;
    stretch(c, ws, we, E, &a, &b);
    for (int pass = 0; pass < 2; ++pass) {
        if (k->next_weight && k->next_weight[a] >= b) { /* every |psi_i|^2 there below 1e-24 */
            for (int r = 0; r < k->count; ++r)
                k->prob[r][k->label_of_rank[rank]] = 0;
            return 1;
        }
        pair q = {c, a, b - a, E, gap, NULL, 0};
        if (eigvec(s, &q) && (!k->superadiabatic || dress(s, &q, k->superadiabatic))) {
            emit(k, s, &q, rank);
            return 1;
        }
        if (a == ws && b == we)
            return 0;
        a = ws, b = we;
    }
    return 0;
}
