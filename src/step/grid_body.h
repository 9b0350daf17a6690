/* The typed half of src/step/grid.h: class weights, a sweep's work space and the step loop,
 * included twice like src/step/step_body.h (fp64 plain names, fp32 names ending in _f). The
 * phases and the grid stay double in both; only the weights are rounded to R. No include
 * guard. */

/* z = f exp(i dtheta(t)) of one phase class, f = f(t) (tcgpu_coupling_factor). */
TCGPU_HD static inline TCGPU_C TCGPU_FN(tcgpu_class_weight)(const tcgpu_phase_class *k, double f,
                                                            double t) {
    double ph = tcgpu_phase(k->db, k->da, k->dw, t);
    TCGPU_C z = {(TCGPU_R)(f * cos(ph)), (TCGPU_R)(f * sin(ph))};
    return z;
}

/* z_c = f(t) exp(i dtheta_c(t)) for every class (block-parallel over classes; synchronizes
 * before writing, since z may still be read by the previous step, and after). */
TCGPU_HD static inline void TCGPU_FN(tcgpu_class_weights)(const tcgpu_grid *g, double t,
                                                          TCGPU_C *z) {
    double f = tcgpu_coupling_factor(g, t);
    TCGPU_SYNC();
    TCGPU_FOR(c, g->nclass) z[c] = TCGPU_FN(tcgpu_class_weight)(&g->classes[c], f, t);
    TCGPU_SYNC();
}

/* Everything one sweep's steps touch: couplings, grid, class weights and scratch. */
typedef struct {
    TCGPU_CSR A;
    tcgpu_grid g;
    TCGPU_C *z1, *z2, *z3, *w; /* nclass each */
    TCGPU_C *t0, *t1, *t2;     /* dim each */
    double *J;                 /* nmax + 1 */
    int nmax;
} TCGPU_FN(tcgpu_work);

/* The work space's layout, written once for the host allocators and the CUDA kernel: class
 * weights z (4 nc: z1, z2, z3, w), vectors t (3 dim: t0, t1, t2), Bessel coefficients J. */
TCGPU_HD static inline void TCGPU_FN(tcgpu_work_set)(TCGPU_FN(tcgpu_work) * wk, TCGPU_CSR A,
                                                     tcgpu_grid g, TCGPU_C *z, int64_t nc,
                                                     TCGPU_C *t, double *J, int nmax) {
    wk->A = A;
    wk->g = g;
    wk->z1 = z;
    wk->z2 = z + nc;
    wk->z3 = z + 2 * nc;
    wk->w = z + 3 * nc;
    wk->t0 = t;
    wk->t1 = t + A.dim;
    wk->t2 = t + 2 * A.dim;
    wk->J = J;
    wk->nmax = nmax;
}

/* Steps s0 .. s1 - 1 of the S-step grid of phase du that ends at b, from *t (advanced). RK4
 * (method 0) or Magnus-4 (1). Returns 0, or -1 when a Chebyshev exponential needed more than
 * nmax terms (*t is then that step's start). *apps counts applications of M. */
TCGPU_HD static inline int TCGPU_FN(tcgpu_march_steps)(const TCGPU_FN(tcgpu_work) * wk, int method,
                                                       double du, int64_t S, int64_t s0, int64_t s1,
                                                       double b, double *t, TCGPU_C *x,
                                                       int64_t *apps) {
    double tt = *t;
    int64_t n_apps = 0;
    for (int64_t s = s0; s < s1; ++s) {
        double h = tcgpu_step_size(&wk->g, du, S, s, b, tt);
        if (method == 0) {
            TCGPU_FN(tcgpu_class_weights)(&wk->g, tt, wk->z1);
            TCGPU_FN(tcgpu_class_weights)(&wk->g, tt + 0.5 * h, wk->z2);
            TCGPU_FN(tcgpu_class_weights)(&wk->g, tt + h, wk->z3);
            TCGPU_FN(tcgpu_rk4_step)(&wk->A, wk->z1, wk->z2, wk->z3, h, x, wk->t0, wk->t1, wk->t2);
            n_apps += 4;
        } else {
            double ta, tb;
            tcgpu_cf4_nodes(tt, h, &ta, &tb);
            TCGPU_FN(tcgpu_class_weights)(&wk->g, ta, wk->z1);
            TCGPU_FN(tcgpu_class_weights)(&wk->g, tb, wk->z2);
            int n = TCGPU_FN(tcgpu_cf4_step)(&wk->A, wk->g.nclass, wk->z1, wk->z2,
                                             fabs(tcgpu_coupling_factor(&wk->g, ta)),
                                             fabs(tcgpu_coupling_factor(&wk->g, tb)), wk->g.vbound,
                                             h, x, wk->w, wk->t0, wk->t1, wk->t2, wk->J, wk->nmax);
            if (n < 0) {
                *t = tt;
                *apps += n_apps;
                return -1;
            }
            n_apps += n;
        }
        tt += h;
    }
    *t = tt;
    *apps += n_apps;
    return 0;
}
