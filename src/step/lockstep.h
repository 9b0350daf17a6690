/* The lockstep march (src/march_lockstep.c): every sweep of a batch takes its step k together
 * with the others, so that one sparse product applies the coupling matrix to all of them at
 * once. This file holds what its CPU backend (src/march_lockstep.c) and its CUDA backend
 * (kernels/march_sparse.cu) both compute: the per-sweep control of a step and the per-element
 * updates, written once on top of the fused march's own step functions (kernels/step_body.h,
 * kernels/grid.h), so that a sweep takes the same grid, weights, radii, Bessel coefficients
 * and degrees as in the fused march. fp64 only.
 *
 * Layout: the states and work vectors of the n sweeps are dim x n complex matrices, row-major
 * (element g = i n + s is amplitude i of sweep s), so that they are real dim x 2n matrices for
 * the sparse product. The coupling matrix is stacked by class: P (2 nclass dim x dim, real)
 * holds in row block 2c the links of class +(c + 1) and in block 2c + 1 those of class
 * -(c + 1), with sweep 0's values; sweep s's values are r_s times sweep 0's. Then
 * M_s x_s = r_s sum_c (w_cs (P x)_2c + conj(w_cs) (P x)_2c+1), w_cs its weight of class c. */
#ifndef TCGPU_LOCKSTEP_H
#define TCGPU_LOCKSTEP_H

#include "grid.h"

/* Class-weight slots: RK4's weights at t, t + h/2, t + h in slots 0, 1, 2; Magnus-4's at the
 * Gauss nodes in 0 and 1 and the current half's mixed weights in TCGPU_LS_MIX. */
enum { TCGPU_LS_SLOTS = 4, TCGPU_LS_MIX = 3 };

/* The per-sweep state of the lockstep march (arrays of n, on the host or on the device). */
typedef struct {
    int64_t n, dim;
    int nclass, inverse_t, method, nmax;
    const tcgpu_phase_class *classes; /* sweep s: classes + s class_stride */
    int64_t class_stride;             /* nclass, or 0 when every sweep has the same classes */
    const double *vbound, *vrate, *t_b, *du; /* the plan */
    const double *r;                         /* coupling values relative to sweep 0's */
    const int64_t *S;                        /* steps of the sweep's grid */
    double *t;           /* the sweep's time (after a failure: the step's start) */
    double *h, *fa, *fb; /* this step: size, |f| at the Gauss nodes */
    double *inv, *J;     /* this half: 1 / radius, J_0..J_nmax (n x (nmax + 1)) */
    tcgpu_cplx *z;       /* TCGPU_LS_SLOTS x n x nclass class weights */
    int *deg;            /* this half: degree of the sweep's series */
    int *on;             /* this step: the sweep is marching */
    int64_t *apps;       /* applications of M, -1 once a series ran out of terms */
} tcgpu_ls;

TCGPU_HD static inline tcgpu_cplx *tcgpu_ls_weights(const tcgpu_ls *p, int slot, int64_t s) {
    return p->z + ((int64_t)slot * p->n + s) * p->nclass;
}

/* Control of step k for sweep s: marching while k < S_s and none of its series ran out; the
 * step size and the class weights at the step's nodes (as tcgpu_march_steps takes them). */
TCGPU_HD static inline void tcgpu_ls_step(const tcgpu_ls *p, int64_t s, int64_t k) {
    p->on[s] = k < p->S[s] && p->apps[s] >= 0;
    if (!p->on[s])
        return;
    tcgpu_grid g = {p->classes + s * p->class_stride, p->nclass, p->inverse_t, p->vbound[s],
                    p->vrate[s]};
    double t = p->t[s], h = tcgpu_step_size(&g, p->du[s], p->S[s], k, p->t_b[s], t);
    double node[3] = {t, t + 0.5 * h, t + h};
    int nodes = 3;
    if (p->method != 0) {
        tcgpu_cf4_nodes(t, h, &node[0], &node[1]);
        nodes = 2;
        p->fa[s] = fabs(tcgpu_coupling_factor(&g, node[0]));
        p->fb[s] = fabs(tcgpu_coupling_factor(&g, node[1]));
    }
    for (int j = 0; j < nodes; ++j) {
        double f = tcgpu_coupling_factor(&g, node[j]);
        tcgpu_cplx *z = tcgpu_ls_weights(p, j, s);
        for (int c = 0; c < p->nclass; ++c)
            z[c] = tcgpu_class_weight(&g.classes[c], f, node[j]);
    }
    p->h[s] = h;
}

/* Control of Magnus-4 half `half` for sweep s: the exponent's mixed weights, its radius, the
 * Bessel coefficients and the series' degree (tcgpu_cf4_step, tcgpu_expmv). A sweep whose
 * series would need nmax terms stops (apps -1, t the start of the step). Returns the degree,
 * or -1 when the sweep is not marching. */
TCGPU_HD static inline int tcgpu_ls_half(const tcgpu_ls *p, int64_t s, int half) {
    if (!p->on[s])
        return -1;
    double ca, cb;
    tcgpu_cf4_half(half, &ca, &cb);
    const tcgpu_cplx *za = tcgpu_ls_weights(p, 0, s), *zb = tcgpu_ls_weights(p, 1, s);
    tcgpu_cplx *w = tcgpu_ls_weights(p, TCGPU_LS_MIX, s);
    for (int c = 0; c < p->nclass; ++c)
        w[c] = tcgpu_cf4_mix(ca, cb, za[c], zb[c]);
    double rho = tcgpu_cf4_rho(half, p->nclass, za, zb, p->fa[s], p->fb[s], p->vbound[s]);
    int n = tcgpu_bessel_j(p->h[s] * rho, p->nmax, p->J + s * (p->nmax + 1));
    if (n >= p->nmax) {
        p->apps[s] = -1;
        p->on[s] = 0;
        p->deg[s] = 0;
        return -1;
    }
    p->deg[s] = n;
    p->inv[s] = 1.0 / rho;
    p->apps[s] += n;
    return n;
}

/* End of the step for sweep s: its time advances (RK4 counts its four applications). */
TCGPU_HD static inline void tcgpu_ls_finish(const tcgpu_ls *p, int64_t s) {
    if (!p->on[s])
        return;
    p->t[s] += p->h[s];
    if (p->method == 0)
        p->apps[s] += 4;
}

/* y_g = M_s x_g from W = P x (2 nclass row blocks of dim x n), the weights of `slot`. */
TCGPU_HD static inline void tcgpu_ls_combine(const tcgpu_ls *p, int slot, int64_t g,
                                             const tcgpu_cplx *W, tcgpu_cplx *y) {
    int64_t s = g % p->n, blk = p->dim * p->n;
    const tcgpu_cplx *w = tcgpu_ls_weights(p, slot, s);
    double re = 0, im = 0;
    for (int c = 0; c < p->nclass; ++c) {
        /* w a + conj(w) b */
        tcgpu_cplx a = W[2 * c * blk + g], b = W[(2 * c + 1) * blk + g], wc = w[c];
        re += wc.re * (a.re + b.re) - wc.im * (a.im - b.im);
        im += wc.re * (a.im + b.im) + wc.im * (a.re - b.re);
    }
    y[g].re = p->r[s] * re;
    y[g].im = p->r[s] * im;
}

/* Element g of the Chebyshev series' first terms, t1 = M x on entry (tcgpu_cheb_first). */
TCGPU_HD static inline void tcgpu_ls_cheb_first(const tcgpu_ls *p, int64_t g, tcgpu_cplx *x,
                                                tcgpu_cplx *t0, tcgpu_cplx *t1) {
    int64_t s = g % p->n;
    if (!p->on[s] || p->deg[s] == 0)
        return;
    const double *J = p->J + s * (p->nmax + 1);
    tcgpu_cheb_first(p->inv[s], J[0], J[1], &x[g], &t0[g], &t1[g]);
}

/* Element g of recurrence step k, y = M t1 on entry (tcgpu_cheb_next); a sweep whose own
 * series ended before k is left as it is. */
TCGPU_HD static inline void tcgpu_ls_cheb_next(const tcgpu_ls *p, int k, int64_t g,
                                               const tcgpu_cplx *y, tcgpu_cplx *x, tcgpu_cplx *t0,
                                               tcgpu_cplx *t1) {
    int64_t s = g % p->n;
    if (!p->on[s] || k > p->deg[s])
        return;
    double cr, ci;
    tcgpu_cheb_coef(k, p->J[s * (p->nmax + 1) + k], &cr, &ci);
    tcgpu_cheb_next(p->inv[s], cr, ci, y[g], &x[g], &t0[g], &t1[g]);
}

/* Element g of RK4 stage q, k = M s on entry (tcgpu_rk4_elem). */
TCGPU_HD static inline void tcgpu_ls_rk4(const tcgpu_ls *p, int q, int64_t g, const tcgpu_cplx *k,
                                         tcgpu_cplx *x, tcgpu_cplx *acc, tcgpu_cplx *sv) {
    int64_t s = g % p->n;
    if (!p->on[s])
        return;
    double c[4];
    tcgpu_rk4_coefs(p->h[s], c);
    tcgpu_rk4_elem(q, c, k[g], &x[g], &acc[g], &sv[g]);
}

/* Element g = i n + s between the sweep-major layout (the batch's x: sweep s at s dim) and the
 * row-major one; to_rows 1: from sweep-major to row-major, 0: back. */
TCGPU_HD static inline void tcgpu_ls_transpose(int64_t n, int64_t dim, int64_t g, int to_rows,
                                               const tcgpu_cplx *in, tcgpu_cplx *out) {
    int64_t s = g % n, i = g / n;
    if (to_rows)
        out[g] = in[s * dim + i];
    else
        out[s * dim + i] = in[g];
}

#endif
