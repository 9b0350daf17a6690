/* The far field's readout by in-sector continuation (far_field.h). Prototype and measurements:
 * bench/prototypes/far_field_continuation.py, far_field_nodes.py, far_field_magnus.py and
 * docs/numerics.md.
 *
 * In the adiabatic basis, psi = sum_k d_k |k(t)>, i d_k' = E_k d_k - i sum_m A_km d_m with
 * A_km = <k|dm/dt> = h_km / (E_m - E_k), h = U^T dH/dt U. Past the transition every eigenvector
 * lies in one slope group b (sector): the couplings between sectors turn like (b_k - b_m) t and
 * act only as the adiabatic dressing, whose first order a_mk = h_mk / (E_k - E_m)^2 is taken off
 * at t (d = c + i a^T c over pairs of different sectors; without it the frozen dressing would
 * interfere with the populated states, ~1e-5) and put back at T2. In between, each sector's
 * block K = diag(E) - i A carries its amplitudes (fourth-order Magnus with exact block
 * exponentials; the sector's common b t is a phase). The data -- the energies less their
 * diabatic lines, U, h -- are analytic in s = 1/t on [0, 1/Ta] once the sectors have separated,
 * and Chebyshev nodes carry them to the eigenvalues' rounding (eight in far_field_nodes.py's
 * cases; twelve pass the interpolation check from an earlier Ta: docs/numerics.md), so one
 * node set serves every readout of a sweep. The readout at T2 is the dense one (the order the
 * caller gives), built once; its residual is estimated from a second one at 1.3 T2. */
#include "far_field.h"

#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "adiabatic_labels.h"

#define FAR_NODES 12
#define FAR_TARGET_SHARE 16 /* the readout residual at T2 is kept below tol / 16 */
#define FAR_T2_RATIO 1.3    /* the second readout time, for the residual */
#define FAR_T2_FIRST 3.0    /* the first T2, times Ta */
#define FAR_T2_DECAY 5      /* the order-3 readout residual falls like T2^-4.9 ... T2^-5.4 */
#define FAR_T2_MOVES 12
#define FAR_H_SPREAD 10.0 /* step times the largest in-sector spread of energies */
#define FAR_H_REL 0.05    /* step at most this times t (A and e vary on the scale t) */
#define FAR_SEPARATED FAR_FIELD_SEPARATED
#define FAR_ALIGNED 0.5 /* least overlap of an eigenvector with its neighbour node's */

typedef double complex zc;

struct far_field {
    const tcgpu_model *m;
    const eig_device *dev;
    int64_t n;
    int order, debug, nodes;
    double Ta, target;
    double hscale, itol;               /* the steps' and the interpolation check's scale with tol */
    double x[FAR_NODES], w[FAR_NODES]; /* nodes in x = 2 Ta / t - 1 and barycentric weights */
    double *u[FAR_NODES], *h[FAR_NODES], *e[FAR_NODES]; /* e: E_k less its diabatic line */
    double *hs[FAR_NODES], *es[FAR_NODES];              /* the sectors' blocks of h and e, packed */
    int64_t *lab, *sec, *first, *member, *boff; /* sector s: member[first[s] .. first[s + 1]) */
    double *bk, *ak; /* slope and constant of each eigenvector's diabatic state */
    int nsec;
    int64_t big; /* the largest sector */
    double spread;
    double T2;
    int have_t2;
    readout_frame rf[2];
    double *sg[2]; /* the T2 frames' eigenvector signs against the nodes' */
    /* The propagators: q2 from tq to T2, qb from T2 to FAR_T2_RATIO T2 (have_q: q2 is set);
     * a readout at t carries only between tq and t. */
    zc *q2, *qb, *pm, *pw;
    double tq;
    int have_q;
    /* scratch */
    double *ut, *ht, *et, *p0[2];
    zc *d[2], *d0[2], *c, *ka, *kb, *mm, *tmp, *zwork;
    tcgpu_cplx *cf, *scratch;
    double *rwork, *lam;
    lapack_int *iwork;
    lapack_int lwork, lrwork, liwork;
};

static void debug(const far_field *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void debug(const far_field *f, const char *fmt, ...) {
    if (!f->debug)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "far field: %s\n", line);
}

int far_field_applies(const tcgpu_model *m, int superadiabatic) {
    if (superadiabatic < 1 || m->inverse_t || m->w || m->dim < 3 || m->dim > FAR_FIELD_MAX ||
        adiabatic_tri_applies(m) || m->kind == TCGPU_MODEL_HEFF)
        return 0;
    int64_t *grp = malloc((size_t)m->dim * sizeof *grp);
    int ok = grp && !adiabatic_tie_groups(m, grp);
    int groups = 0;
    for (int64_t i = 0; ok && i < m->dim; ++i) {
        ok = grp[i] == i;
        int seen = 0;
        for (int64_t j = 0; j < i && !seen; ++j)
            seen = m->b[j] == m->b[i];
        groups += !seen;
    }
    free(grp);
    return ok && groups >= 2;
}

double far_field_start(const far_field *f) { return f->Ta; }

double far_field_bytes(int64_t dim) {
    double d = (double)dim;
    return (2.0 * FAR_NODES + 2 + 2 * 4) * d * d * 8;
}

void far_field_free(far_field *f) {
    if (!f)
        return;
    for (int j = 0; j < FAR_NODES; ++j) {
        free(f->u[j]);
        free(f->h[j]);
        free(f->e[j]);
        free(f->hs[j]);
        free(f->es[j]);
    }
    for (int k = 0; k < 2; ++k) {
        if (f->have_t2)
            adiabatic_readout_frame_free(&f->rf[k]);
        free(f->sg[k]);
        free(f->p0[k]);
        free(f->d[k]);
        free(f->d0[k]);
    }
    free(f->lab);
    free(f->sec);
    free(f->first);
    free(f->member);
    free(f->boff);
    free(f->bk);
    free(f->ak);
    free(f->ut);
    free(f->ht);
    free(f->et);
    free(f->c);
    free(f->ka);
    free(f->kb);
    free(f->mm);
    free(f->tmp);
    free(f->q2);
    free(f->qb);
    free(f->pm);
    free(f->pw);
    free(f->zwork);
    free(f->cf);
    free(f->scratch);
    free(f->rwork);
    free(f->lam);
    free(f->iwork);
    free(f);
}

/* Barycentric weights q (summing to 1) of the nodes at time t. */
static void weights(const far_field *f, double t, double *q) {
    double x = 2 * f->Ta / t - 1, sum = 0;
    for (int j = 0; j < f->nodes; ++j) {
        if (x == f->x[j]) {
            memset(q, 0, FAR_NODES * sizeof *q);
            q[j] = 1;
            return;
        }
        q[j] = f->w[j] / (x - f->x[j]);
        sum += q[j];
    }
    for (int j = 0; j < f->nodes; ++j)
        q[j] /= sum;
}

static void interp(const far_field *f, double *const *a, const double *q, size_t len, double *out) {
    for (size_t i = 0; i < len; ++i) {
        double s = 0;
        for (int j = 0; j < f->nodes; ++j)
            s += q[j] * a[j][i];
        out[i] = s;
    }
}

/* The eigenvector signs of g against the columns of u: 0 where one overlaps less than
 * FAR_ALIGNED (the frames do not continue one another). */
static int signs(int64_t n, const double *g, const double *u, double *sg) {
    for (int64_t k = 0; k < n; ++k) {
        double ov = 0;
        for (int64_t i = 0; i < n; ++i)
            ov += g[k * n + i] * u[k * n + i];
        if (!(fabs(ov) >= FAR_ALIGNED))
            return 0;
        sg[k] = ov < 0 ? -1 : 1;
    }
    return 1;
}

static void flip(int64_t n, const double *sg, double *u, double *h) {
    for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < n; ++i) {
            if (u)
                u[k * n + i] *= sg[k];
            if (h)
                h[k * n + i] *= sg[k] * sg[i];
        }
}

/* The node frame j (or a check frame at t): e less the diabatic lines; 0 where the sectors have
 * not separated (an eigenvector less than FAR_SEPARATED in its sector). */
static tcgpu_status node(far_field *f, double t, double **u, double **h, double **e, int *ok,
                         double *weight) {
    frame fr;
    tcgpu_status st = adiabatic_frame_build(f->dev, f->m, t, 1, &fr);
    if (st)
        return st;
    int64_t n = f->n;
    double least = 1;
    for (int64_t k = 0; k < n; ++k) {
        double w = 0;
        for (int64_t i = 0; i < n; ++i)
            if (f->m->b[i] == f->bk[k])
                w += fr.u[k * n + i] * fr.u[k * n + i];
        least = fmin(least, w);
        fr.e[k] -= f->bk[k] * t + f->ak[k];
    }
    *ok = least >= FAR_SEPARATED;
    if (weight)
        *weight = least;
    debug(f, "frame at %g: least sector weight %.4f", t, least);
    *u = fr.u;
    *h = fr.hdot;
    *e = fr.e;
    return TCGPU_OK;
}

static tcgpu_status setup(far_field *f) {
    const tcgpu_model *m = f->m;
    int64_t n = f->n;
    size_t nn = (size_t)n * (size_t)n;
    f->lab = malloc((size_t)n * sizeof *f->lab);
    f->sec = malloc((size_t)n * sizeof *f->sec);
    f->first = calloc((size_t)n + 2, sizeof *f->first);
    f->member = malloc((size_t)n * sizeof *f->member);
    f->boff = calloc((size_t)n + 2, sizeof *f->boff);
    f->bk = malloc((size_t)n * sizeof *f->bk);
    f->ak = malloc((size_t)n * sizeof *f->ak);
    f->ut = malloc(nn * sizeof *f->ut);
    f->ht = malloc(nn * sizeof *f->ht);
    f->et = malloc((size_t)n * sizeof *f->et);
    f->c = malloc((size_t)n * sizeof *f->c);
    f->cf = malloc((size_t)n * sizeof *f->cf);
    f->scratch = malloc((size_t)n * sizeof *f->scratch);
    for (int k = 0; k < 2; ++k) {
        f->sg[k] = malloc((size_t)n * sizeof *f->sg[k]);
        f->p0[k] = malloc((size_t)n * sizeof *f->p0[k]);
        f->d[k] = malloc((size_t)n * sizeof *f->d[k]);
        f->d0[k] = malloc((size_t)n * sizeof *f->d0[k]);
    }
    if (!f->lab || !f->sec || !f->first || !f->member || !f->boff || !f->bk || !f->ak || !f->ut ||
        !f->ht || !f->et || !f->c || !f->cf || !f->scratch || !f->sg[0] || !f->sg[1] || !f->p0[0] ||
        !f->p0[1] || !f->d[0] || !f->d[1] || !f->d0[0] || !f->d0[1])
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the far field (%lld states)",
                          (long long)n);
    /* labels by energy rank (every crossing is past: the caller's Ta), sectors by slope */
    slope_key *dia = adiabatic_final_order(m);
    int64_t *lab = dia ? adiabatic_untied_labels(dia, n) : NULL;
    free(dia);
    if (!lab)
        return tcgpu_fail(TCGPU_ERUNTIME, "far field: no untied labels");
    memcpy(f->lab, lab, (size_t)n * sizeof *lab);
    free(lab);
    for (int64_t k = 0; k < n; ++k) {
        f->bk[k] = m->b[f->lab[k]];
        f->ak[k] = m->a[f->lab[k]];
    }
    f->nsec = 0;
    for (int64_t k = 0; k < n; ++k) {
        int64_t s = -1;
        for (int64_t j = 0; j < k && s < 0; ++j)
            if (f->bk[j] == f->bk[k])
                s = f->sec[j];
        f->sec[k] = s >= 0 ? s : f->nsec++;
    }
    for (int64_t k = 0; k < n; ++k)
        f->first[f->sec[k] + 1]++;
    f->big = 0;
    f->spread = 0;
    for (int s = 0; s < f->nsec; ++s) {
        int64_t ns = f->first[s + 1];
        f->big = ns > f->big ? ns : f->big;
        f->first[s + 1] += f->first[s];
        f->boff[s + 1] = f->boff[s] + ns * ns;
    }
    int64_t *fill = calloc((size_t)f->nsec, sizeof *fill);
    if (!fill)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the far field");
    for (int64_t k = 0; k < n; ++k)
        f->member[f->first[f->sec[k]] + fill[f->sec[k]]++] = k;
    free(fill);
    for (int s = 0; s < f->nsec; ++s) {
        double lo = INFINITY, hi = -INFINITY;
        for (int64_t p = f->first[s]; p < f->first[s + 1]; ++p) {
            lo = fmin(lo, f->ak[f->member[p]]);
            hi = fmax(hi, f->ak[f->member[p]]);
        }
        f->spread = fmax(f->spread, hi - lo);
    }
    size_t nb = (size_t)f->boff[f->nsec];
    f->q2 = malloc(nb * sizeof *f->q2);
    f->qb = malloc(nb * sizeof *f->qb);
    f->pm = malloc(nb * sizeof *f->pm);
    f->pw = malloc(nb * sizeof *f->pw);
    if (!f->q2 || !f->qb || !f->pm || !f->pw)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the far field");
    int64_t b = f->big;
    f->ka = malloc((size_t)(b * b) * sizeof *f->ka);
    f->kb = malloc((size_t)(b * b) * sizeof *f->kb);
    f->mm = malloc((size_t)(b * b) * sizeof *f->mm);
    f->tmp = malloc((size_t)(b * b) * sizeof *f->tmp);
    f->lam = malloc((size_t)b * sizeof *f->lam);
    f->lwork = (lapack_int)(2 * b + b * b);
    f->lrwork = (lapack_int)(1 + 5 * b + 2 * b * b);
    f->liwork = (lapack_int)(3 + 5 * b);
    f->zwork = malloc((size_t)f->lwork * sizeof *f->zwork);
    f->rwork = malloc((size_t)f->lrwork * sizeof *f->rwork);
    f->iwork = malloc((size_t)f->liwork * sizeof *f->iwork);
    if (!f->ka || !f->kb || !f->mm || !f->tmp || !f->lam || !f->zwork || !f->rwork || !f->iwork)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the far field");
    return TCGPU_OK;
}

/* The sectors' blocks of node j's h and e, packed for the continuation's inner loop. */
static tcgpu_status pack(far_field *f, int j) {
    int64_t n = f->n;
    f->hs[j] = malloc((size_t)f->boff[f->nsec] * sizeof *f->hs[j]);
    f->es[j] = malloc((size_t)n * sizeof *f->es[j]);
    if (!f->hs[j] || !f->es[j])
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the far field");
    for (int s = 0; s < f->nsec; ++s) {
        int64_t o = f->first[s], ns = f->first[s + 1] - o;
        for (int64_t p = 0; p < ns; ++p) {
            int64_t k = f->member[o + p];
            f->es[j][o + p] = f->e[j][k];
            for (int64_t r = 0; r < ns; ++r)
                f->hs[j][f->boff[s] + r * ns + p] = f->h[j][f->member[o + r] * n + k];
        }
    }
    return TCGPU_OK;
}

tcgpu_status far_field_create(const eig_device *dev, const tcgpu_model *m, double Ta,
                              int superadiabatic, double tol, far_field **out, double *weight,
                              double *miss) {
    *out = NULL;
    *weight = 1;
    *miss = 0;
    far_field *f = calloc(1, sizeof *f);
    if (!f)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the far field");
    f->m = m;
    f->dev = dev;
    f->n = m->dim;
    f->order = superadiabatic;
    f->Ta = Ta;
    f->target = tol / FAR_TARGET_SHARE;
    /* below tol 1e-6: the step error goes like h^4, and the interpolation's error enters the
     * distribution linearly (eps = 0.1, beta = 100: 4e-9 in U added ~2e-7) */
    double rel = fmin(1, tol / 1e-6);
    f->hscale = pow(rel, 0.25);
    f->itol = FAR_FIELD_INTERP_TOL * rel;
    f->debug = getenv("TCGPU_DEBUG") != NULL;
    f->nodes = FAR_NODES;
    tcgpu_status st = setup(f);
    int ok = !st;
    int64_t n = f->n;
    for (int j = 0; ok && j < f->nodes; ++j) {
        double th = (2 * j + 1) * 3.14159265358979323846 / (2 * f->nodes);
        f->x[j] = cos(th);
        f->w[j] = (j % 2 ? -1 : 1) * sin(th);
        double t = 2 * Ta / (1 + f->x[j]);
        if ((st = node(f, t, &f->u[j], &f->h[j], &f->e[j], &ok, j ? NULL : weight)) || !ok)
            break;
        if (j > 0) {
            if (!(ok = signs(n, f->u[j], f->u[j - 1], f->et))) {
                *miss = INFINITY; /* in-sector levels swap between nodes: not analytic enough */
                debug(f, "Ta %g: the frames at %g and %g do not continue one another", Ta,
                      2 * Ta / (1 + f->x[j - 1]), t);
                break;
            }
            flip(n, f->et, f->u[j], f->h[j]);
        }
        st = pack(f, j);
        ok = !st;
    }
    if (ok) { /* the check: one more frame, between the two nodes nearest Ta */
        double t = 2 * Ta / (1 + (f->x[0] + f->x[1]) / 2), q[FAR_NODES], *u, *h, *e;
        if (!(st = node(f, t, &u, &h, &e, &ok, NULL))) {
            weights(f, t, q);
            interp(f, f->u, q, (size_t)(n * n), f->ut);
            interp(f, f->e, q, (size_t)n, f->et);
            double du = 0, de = 0;
            if (ok && (ok = signs(n, u, f->ut, f->sg[0]))) {
                flip(n, f->sg[0], u, NULL);
                for (int64_t i = 0; i < n * n; ++i)
                    du = fmax(du, fabs(u[i] - f->ut[i]));
                for (int64_t k = 0; k < n; ++k)
                    de = fmax(de, fabs(e[k] - f->et[k]));
                ok = du <= f->itol;
                *miss = du / f->itol;
            }
            debug(f, "Ta %g: interpolation error u %.2e, e %.2e", Ta, du, de);
            free(u);
            free(h);
            free(e);
        }
    } else if (!st && !isinf(*miss))
        debug(f, "Ta %g: sectors not separated", Ta);
    if (st || !ok) {
        far_field_free(f);
        return st;
    }
    *out = f;
    return TCGPU_OK;
}

/* The sectors' propagators P (packed blocks, column-major) carried from t0 on to t1
 * (P <- U(t1, t0) P) by fourth-order Magnus per sector block: Omega = -i M,
 * M = h/2 (K1 + K2) + i sqrt(3) h^2 / 12 [K1, K2] at the Gauss points, exp(-i M) by the block's
 * eigen-decomposition; the sector's common line b t as a phase. */
static tcgpu_status carry(far_field *f, double t0, double t1, zc *P) {
    if (!(t1 > t0))
        return TCGPU_OK;
    double rate = fmax(f->spread / FAR_H_SPREAD, 1 / (FAR_H_REL * t0)) / f->hscale;
    int64_t steps = (int64_t)ceil((t1 - t0) * rate);
    double h = (t1 - t0) / (double)steps, g = sqrt(3.0) / 6, qa[FAR_NODES], qb[FAR_NODES];
    for (int64_t st = 0; st < steps; ++st) {
        double t = t0 + h * (double)st, ta = t + h * (0.5 - g), tb = t + h * (0.5 + g);
        weights(f, ta, qa);
        weights(f, tb, qb);
        for (int s = 0; s < f->nsec; ++s) {
            int64_t o = f->first[s], ns = f->first[s + 1] - o, bo = f->boff[s];
            for (int side = 0; side < 2; ++side) {
                const double *q = side ? qb : qa;
                zc *K = side ? f->kb : f->ka;
                double *ev = f->lam; /* e at this Gauss point */
                for (int64_t p = 0; p < ns; ++p) {
                    double v = 0;
                    for (int j = 0; j < f->nodes; ++j)
                        v += q[j] * f->es[j][o + p];
                    ev[p] = v + f->ak[f->member[o + p]];
                }
                for (int64_t r = 0; r < ns; ++r)
                    for (int64_t p = 0; p < ns; ++p) {
                        if (p == r) {
                            K[r * ns + p] = ev[p];
                            continue;
                        }
                        double hv = 0;
                        for (int j = 0; j < f->nodes; ++j)
                            hv += q[j] * f->hs[j][bo + r * ns + p];
                        /* K_pr = -i A_pr, A_pr = h_pr / (E_r - E_p) */
                        K[r * ns + p] = -I * hv / (ev[r] - ev[p]);
                    }
            }
            zc *A = f->ka, *B = f->kb, *M = f->mm;
            double c2 = sqrt(3.0) * h * h / 12;
            for (int64_t r = 0; r < ns; ++r)
                for (int64_t p = 0; p < ns; ++p) {
                    zc ab = 0, ba = 0;
                    for (int64_t l = 0; l < ns; ++l) {
                        ab += A[l * ns + p] * B[r * ns + l];
                        ba += B[l * ns + p] * A[r * ns + l];
                    }
                    M[r * ns + p] = 0.5 * h * (A[r * ns + p] + B[r * ns + p]) + I * c2 * (ab - ba);
                }
            zc *blk = P + bo;
            if (ns == 1) {
                blk[0] *= cexp(-I * creal(M[0]));
                continue;
            }
            lapack_int info = LAPACKE_zheevd_work(
                LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)ns, (lapack_complex_double *)M,
                (lapack_int)ns, f->lam, (lapack_complex_double *)f->zwork, f->lwork, f->rwork,
                f->lrwork, f->iwork, f->liwork);
            if (info != 0)
                return tcgpu_fail(TCGPU_ERUNTIME,
                                  "far field: block eigen-decomposition failed "
                                  "(info %d)",
                                  (int)info);
            /* blk <- V exp(-i lam) V^H blk */
            for (int64_t r = 0; r < ns; ++r) {
                zc ph = cexp(-I * f->lam[r]);
                for (int64_t p = 0; p < ns; ++p)
                    f->ka[r * ns + p] = M[r * ns + p] * ph;
            }
            const zc one = 1, zero = 0;
            cblas_zgemm(CblasColMajor, CblasNoTrans, CblasConjTrans, (int)ns, (int)ns, (int)ns,
                        &one, f->ka, (int)ns, M, (int)ns, &zero, f->kb, (int)ns);
            cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)ns, (int)ns, (int)ns, &one,
                        f->kb, (int)ns, blk, (int)ns, &zero, f->tmp, (int)ns);
            memcpy(blk, f->tmp, (size_t)(ns * ns) * sizeof *blk);
        }
    }
    for (int s = 0; s < f->nsec; ++s) { /* the sector's common line b t */
        int64_t ns = f->first[s + 1] - f->first[s];
        zc ph = cexp(-I * 0.5 * f->bk[f->member[f->first[s]]] * (t1 * t1 - t0 * t0));
        for (int64_t i = 0; i < ns * ns; ++i)
            P[f->boff[s] + i] *= ph;
    }
    return TCGPU_OK;
}

/* Identity blocks. */
static void unit(const far_field *f, zc *P) {
    memset(P, 0, (size_t)f->boff[f->nsec] * sizeof *P);
    for (int s = 0; s < f->nsec; ++s) {
        int64_t ns = f->first[s + 1] - f->first[s];
        for (int64_t p = 0; p < ns; ++p)
            P[f->boff[s] + p * ns + p] = 1;
    }
}

/* C = A op(B) block by block (op: CblasNoTrans or CblasConjTrans). */
static void blocks_times(const far_field *f, const zc *A, const zc *B, int op, zc *C) {
    const zc one = 1, zero = 0;
    for (int s = 0; s < f->nsec; ++s) {
        int ns = (int)(f->first[s + 1] - f->first[s]);
        int64_t o = f->boff[s];
        cblas_zgemm(CblasColMajor, CblasNoTrans, (CBLAS_TRANSPOSE)op, ns, ns, ns, &one, A + o, ns,
                    B + o, ns, &zero, C + o, ns);
    }
}

/* y = P x for packed vectors (sector order). */
static void blocks_apply(const far_field *f, const zc *P, const zc *x, zc *y) {
    for (int s = 0; s < f->nsec; ++s) {
        int64_t o = f->first[s], ns = f->first[s + 1] - o;
        const zc *blk = P + f->boff[s];
        for (int64_t p = 0; p < ns; ++p) {
            zc v = 0;
            for (int64_t r = 0; r < ns; ++r)
                v += blk[r * ns + p] * x[o + r];
            y[o + p] = v;
        }
    }
}

/* The readout frames at T2 and FAR_T2_RATIO T2 (k = 0, 1; keep0: frame 0 is the old frame 1). */
static tcgpu_status t2_frames(far_field *f, double T2, int keep0) {
    int64_t n = f->n;
    if (f->have_t2) {
        if (keep0) {
            adiabatic_readout_frame_free(&f->rf[0]);
            f->rf[0] = f->rf[1];
            double *s = f->sg[0];
            f->sg[0] = f->sg[1];
            f->sg[1] = s;
        } else {
            adiabatic_readout_frame_free(&f->rf[0]);
            adiabatic_readout_frame_free(&f->rf[1]);
        }
        f->have_t2 = 0;
    }
    for (int k = keep0 ? 1 : 0; k < 2; ++k) {
        double t = k ? T2 * FAR_T2_RATIO : T2, q[FAR_NODES];
        tcgpu_status st = adiabatic_readout_frame(f->dev, f->m, t, f->order, 1, &f->rf[k]);
        if (st) {
            if (k)
                adiabatic_readout_frame_free(&f->rf[0]);
            return st;
        }
        weights(f, t, q);
        interp(f, f->u, q, (size_t)(n * n), f->ut);
        if (!signs(n, f->rf[k].f.u, f->ut, f->sg[k])) {
            adiabatic_readout_frame_free(&f->rf[k]);
            if (k)
                adiabatic_readout_frame_free(&f->rf[0]);
            debug(f, "the frame at %g does not continue the nodes: no far field", t);
            f->Ta = INFINITY; /* the caller reads densely from here */
            return TCGPU_OK;
        }
    }
    f->T2 = T2;
    f->have_t2 = 1;
    f->have_q = 0;
    debug(f, "readouts at T2 %g and %g", T2, T2 * FAR_T2_RATIO);
    return TCGPU_OK;
}

/* prob of d (dressing off, the nodes' signs) read with T2 frame k: the first-order
 * inter-sector dressing put back (c = sqrt(1 + sum a^2) d - i a^T d), then the dense readout's
 * dressed overlaps. */
static void read_at(far_field *f, int k, const zc *d, double *prob) {
    const frame *fr = &f->rf[k].f;
    int64_t n = f->n;
    const double *sg = f->sg[k];
    for (int64_t j = 0; j < n; ++j) {
        zc v = 0;
        double norm = 1;
        for (int64_t i = 0; i < n; ++i) {
            if (f->sec[i] == f->sec[j])
                continue;
            double gap = fr->e[j] - fr->e[i], a = fr->hdot[j * n + i] / (gap * gap);
            v += a * sg[i] * d[i];
            norm += a * a;
        }
        zc c = sqrt(norm) * sg[j] * d[j] - I * v;
        f->cf[j] = (tcgpu_cplx){creal(c), cimag(c)};
    }
    adiabatic_readout_frame_read(&f->rf[k], f->m, f->cf, f->scratch, prob, NULL);
}

/* q2 from t on (and qb where the T2 frames are new): carried from tq, only between tq and t. */
static tcgpu_status propagators(far_field *f, double t) {
    tcgpu_status st;
    if (!f->have_q) {
        unit(f, f->qb);
        unit(f, f->q2);
        if ((st = carry(f, f->T2, f->T2 * FAR_T2_RATIO, f->qb)) || (st = carry(f, t, f->T2, f->q2)))
            return st;
        f->tq = t;
        f->have_q = 1;
        return TCGPU_OK;
    }
    if (t == f->tq)
        return TCGPU_OK;
    unit(f, f->pm); /* pm = U(max, min); q2 U(tq, t) = q2 pm (t < tq) or q2 pm^H (t > tq) */
    if ((st = carry(f, fmin(t, f->tq), fmax(t, f->tq), f->pm)))
        return st;
    blocks_times(f, f->q2, f->pm, t < f->tq ? CblasNoTrans : CblasConjTrans, f->pw);
    zc *x = f->q2;
    f->q2 = f->pw;
    f->pw = x;
    f->tq = t;
    return TCGPU_OK;
}

tcgpu_status far_field_readout(far_field *f, double t, int count, const tcgpu_cplx *const *psi,
                               double *const *prob, double *resid) {
    int64_t n = f->n;
    *resid = -1;
    if (!(t >= f->Ta) || count > 2)
        return tcgpu_fail(TCGPU_EINVAL, "far-field readout at t = %g before its start %g", t,
                          f->Ta);
    double q[FAR_NODES];
    weights(f, t, q);
    interp(f, f->u, q, (size_t)(n * n), f->ut);
    interp(f, f->h, q, (size_t)(n * n), f->ht);
    interp(f, f->e, q, (size_t)n, f->et);
    for (int s = 0; s < count; ++s) { /* c = U^T psi, the first-order inter-sector dressing off */
        for (int64_t k = 0; k < n; ++k) {
            double re = 0, im = 0;
            for (int64_t i = 0; i < n; ++i) {
                re += f->ut[k * n + i] * psi[s][i].re;
                im += f->ut[k * n + i] * psi[s][i].im;
            }
            f->c[k] = re + I * im;
        }
        for (int64_t k = 0; k < n; ++k) {
            double ek = f->bk[k] * t + f->ak[k] + f->et[k], norm = 1;
            zc v = 0;
            for (int64_t mm = 0; mm < n; ++mm) {
                if (f->sec[mm] == f->sec[k])
                    continue;
                double gap = ek - (f->bk[mm] * t + f->ak[mm] + f->et[mm]);
                double a = f->ht[k * n + mm] / (gap * gap);
                v += a * f->c[mm];
                norm += a * a;
            }
            f->d0[s][k] = (f->c[k] + I * v) / sqrt(norm);
        }
    }
    int moves = 0;
    tcgpu_status st;
    for (;;) {
        if (!f->have_t2 || f->T2 < t) {
            double T2 = fmax(FAR_T2_FIRST * f->Ta, f->have_t2 ? f->T2 : 0);
            while (T2 < t)
                T2 *= FAR_T2_RATIO;
            if ((st = t2_frames(f, T2, 0)) || !f->have_t2)
                return st; /* !have_t2: *resid stays -1, the caller reads densely */
        }
        if ((st = propagators(f, t)))
            return st;
        for (int s = 0; s < count; ++s) { /* packed in sector order, carried to T2 */
            for (int64_t p = 0; p < n; ++p)
                f->d[s][p] = f->d0[s][f->member[p]];
            blocks_apply(f, f->q2, f->d[s], f->c);
            memcpy(f->d[s], f->c, (size_t)n * sizeof *f->c);
        }
        double r = 0;
        for (int k = 0; k < 2; ++k) {
            for (int s = 0; s < count; ++s) {
                if (k) {
                    blocks_apply(f, f->qb, f->d[s], f->c);
                    memcpy(f->d[s], f->c, (size_t)n * sizeof *f->c);
                }
                for (int64_t p = 0; p < n; ++p)
                    f->c[f->member[p]] = f->d[s][p];
                read_at(f, k, f->c, k ? prob[s] : f->p0[s]);
            }
        }
        for (int s = 0; s < count; ++s) {
            double tv = 0;
            for (int64_t i = 0; i < n; ++i)
                tv += fabs(prob[s][i] - f->p0[s][i]);
            r = fmax(r, 0.5 * tv / (pow(FAR_T2_RATIO, 4) - 1));
        }
        *resid = r;
        debug(f, "read from t %g at T2 %g: residual %.2e", t, f->T2, r);
        if (!(r > f->target) || moves >= FAR_T2_MOVES)
            return TCGPU_OK;
        /* T2 out: as many rungs of 1.3 as a fall like T2^-FAR_T2_DECAY needs */
        int k = (int)ceil(log(r / f->target) / (FAR_T2_DECAY * log(FAR_T2_RATIO)));
        k = k < 1 ? 1 : k;
        moves += k;
        if ((st = t2_frames(f, f->T2 * pow(FAR_T2_RATIO, k), k == 1)) || !f->have_t2)
            return st;
    }
}
