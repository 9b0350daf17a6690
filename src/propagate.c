/* One sweep: superadiabatic start, interaction-picture steps on a smooth grid, readout.
 *
 * The grid advances a fixed "phase" kappa per step: h(t) = kappa / r(t) with the local rate
 * r(t)^2 = (|V|_G f(t))^2 + mean_c (d/dt dtheta_c)^2. It refines where the chirp beta t of the
 * interaction picture is fast and varies smoothly (a step that jumps leaves a coherent error,
 * shared/PHYSICS.md), so halving kappa halves every step: Richardson estimates stay valid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/step.h"
#include "adiabatic.h"
#include "tcgpu/propagate.h"

static const long double two_pi_l = 6.283185307179586476925286766559L;

typedef struct {
    const tcgpu_model *m;
    double vbound;
} rate_ctx;

static double coupling_factor(const tcgpu_model *m, double t) {
    return m->inverse_t ? 1.0 / t : 1.0;
}

static double rate(const rate_ctx *r, double t) {
    const tcgpu_model *m = r->m;
    double f = r->vbound * fabs(coupling_factor(m, t)), s = 0;
    for (int c = 0; c < m->nclass; ++c) {
        const tcgpu_phase_class *k = &m->classes[c];
        double w = k->db * t + k->da + (k->dw != 0 ? k->dw / t : 0.0);
        s += w * w;
    }
    return sqrt(f * f + s / (m->nclass > 0 ? m->nclass : 1)) + 1e-12;
}

/* Integral of r over [a, b] by 3-point Gauss-Legendre. */
static double rate_integral(const rate_ctx *r, double a, double b) {
    static const double x = 0.77459666924148337704, w0 = 8.0 / 9, w1 = 5.0 / 9;
    double c = 0.5 * (a + b), h = 0.5 * (b - a);
    return h * (w0 * rate(r, c) + w1 * (rate(r, c - h * x) + rate(r, c + h * x)));
}

/* Total phase of [a, b] on panels fine enough for the quadrature (log-spaced when a > 0). */
static double rate_total(const rate_ctx *r, double a, double b) {
    const int panels = 4000;
    double s = 0;
    int logs = a > 0 && b / a > 10;
    for (int p = 0; p < panels; ++p) {
        double x0 = logs ? a * pow(b / a, (double)p / panels) : a + (b - a) * p / panels;
        double x1 =
            logs ? a * pow(b / a, (double)(p + 1) / panels) : a + (b - a) * (p + 1) / panels;
        s += rate_integral(r, x0, x1);
    }
    return s;
}

/* The step from t that advances the phase by du (Newton on the Gauss integral). */
static double next_step(const rate_ctx *r, double t, double du) {
    double h = du / rate(r, t + 0.5 * du / rate(r, t));
    for (int it = 0; it < 3; ++it)
        h -= (rate_integral(r, t, t + h) - du) / rate(r, t + h);
    return h;
}

/* z_c = f(t) exp(i dtheta_c(t)), phases reduced in long double (they reach 1e9 rad). */
static void class_weights(const tcgpu_model *m, double t, tcgpu_cplx *z) {
    long double tl = t, f = coupling_factor(m, t);
    for (int c = 0; c < m->nclass; ++c) {
        const tcgpu_phase_class *k = &m->classes[c];
        long double ph = 0.5L * k->db * tl * tl + (long double)k->da * tl;
        if (k->dw != 0)
            ph += (long double)k->dw * logl(fabsl(tl));
        ph = remainderl(ph, two_pi_l);
        z[c].re = (double)(f * cosl(ph));
        z[c].im = (double)(f * sinl(ph));
    }
}

/* psi <-> phi = exp(i theta) psi, theta_i = b t^2/2 + a t + w ln|t|. */
static void to_frame(const tcgpu_model *m, double t, const tcgpu_cplx *in, tcgpu_cplx *out,
                     int sign) {
    long double tl = t;
    for (int64_t i = 0; i < m->dim; ++i) {
        long double th = 0.5L * m->b[i] * tl * tl + (long double)m->a[i] * tl;
        if (m->w && m->w[i] != 0)
            th += (long double)m->w[i] * logl(fabsl(tl));
        th = sign * remainderl(th, two_pi_l);
        double c = (double)cosl(th), s = (double)sinl(th);
        out[i].re = c * in[i].re - s * in[i].im;
        out[i].im = c * in[i].im + s * in[i].re;
    }
}

typedef struct {
    tcgpu_csr A;
    tcgpu_cplx *z1, *z2, *z3, *w, *t0, *t1, *t2;
    double *J;
    int nmax;
} work;

static tcgpu_status step(const tcgpu_model *m, const rate_ctx *rc, tcgpu_method method, double t,
                         double h, tcgpu_cplx *x, work *wk, int64_t *apps) {
    if (method == TCGPU_METHOD_RK4) {
        class_weights(m, t, wk->z1);
        class_weights(m, t + 0.5 * h, wk->z2);
        class_weights(m, t + h, wk->z3);
        tcgpu_rk4_step(&wk->A, wk->z1, wk->z2, wk->z3, h, x, wk->t0, wk->t1, wk->t2);
        *apps += 4;
        return TCGPU_OK;
    }
    const double d = 0.28867513459481288225; /* sqrt(3)/6 */
    double ta = t + (0.5 - d) * h, tb = t + (0.5 + d) * h;
    class_weights(m, ta, wk->z1);
    class_weights(m, tb, wk->z2);
    int n = tcgpu_cf4_step(&wk->A, m->nclass, wk->z1, wk->z2, fabs(coupling_factor(m, ta)),
                           fabs(coupling_factor(m, tb)), rc->vbound, h, x, wk->w, wk->t0, wk->t1,
                           wk->t2, wk->J, wk->nmax);
    if (n < 0)
        return tcgpu_fail(TCGPU_ERUNTIME,
                          "Magnus step at t = %g: h |V| = %g needs more than %d Chebyshev "
                          "terms; use a smaller step",
                          t, h * rc->vbound, wk->nmax);
    *apps += n;
    return TCGPU_OK;
}

/* Advance x from a to b in steps of phase ~kappa. */
static tcgpu_status march(const tcgpu_model *m, const rate_ctx *rc, const tcgpu_sweep_opts *o,
                          double a, double b, tcgpu_cplx *x, work *wk, tcgpu_sweep_result *r) {
    double total = rate_total(rc, a, b);
    int64_t S = (int64_t)ceil(total / o->kappa);
    if (S < 1)
        S = 1;
    double du = total / (double)S, t = a;
    for (int64_t s = 0; s < S; ++s) {
        double h = s + 1 == S ? b - t : next_step(rc, t, du);
        if (s + 1 < S && t + h > b)
            h = (b - t) / (double)(S - s);
        tcgpu_status st = step(m, rc, o->method, t, h, x, wk, &r->applications);
        if (st)
            return st;
        t += h;
    }
    r->steps += S;
    return TCGPU_OK;
}

static tcgpu_status readout(const tcgpu_model *m, const tcgpu_sweep_opts *o, double t,
                            const tcgpu_cplx *phi, tcgpu_cplx *psi, double *prob) {
    to_frame(m, t, phi, psi, -1);
    return adiabatic_readout(m, t, o->superadiabatic, psi, prob);
}

/* Work space of one sweep: the state x, a second vector y, and the step's scratch. */
static tcgpu_status work_alloc(const tcgpu_model *m, work *wk, tcgpu_cplx **x, tcgpu_cplx **y) {
    int64_t d = m->dim;
    size_t nc = (size_t)(m->nclass > 0 ? m->nclass : 1);
    *wk = (work){.A = {d, m->row_ptr, m->col, m->val, m->cls}, .nmax = 4096};
    *x = malloc((size_t)d * sizeof **x);
    *y = malloc((size_t)d * sizeof **y);
    wk->z1 = malloc(nc * sizeof *wk->z1);
    wk->z2 = malloc(nc * sizeof *wk->z2);
    wk->z3 = malloc(nc * sizeof *wk->z3);
    wk->w = malloc(nc * sizeof *wk->w);
    wk->t0 = malloc((size_t)d * sizeof *wk->t0);
    wk->t1 = malloc((size_t)d * sizeof *wk->t1);
    wk->t2 = malloc((size_t)d * sizeof *wk->t2);
    wk->J = malloc(((size_t)wk->nmax + 1) * sizeof *wk->J);
    if (!*x || !*y || !wk->z1 || !wk->z2 || !wk->z3 || !wk->w || !wk->t0 || !wk->t1 || !wk->t2 ||
        !wk->J)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a sweep of dimension %lld",
                          (long long)d);
    return TCGPU_OK;
}

static void work_free(work *wk, tcgpu_cplx *x, tcgpu_cplx *y) {
    free(x);
    free(y);
    free(wk->z1);
    free(wk->z2);
    free(wk->z3);
    free(wk->w);
    free(wk->t0);
    free(wk->t1);
    free(wk->t2);
    free(wk->J);
}

tcgpu_status tcgpu_sweep_run(const tcgpu_model *m, const tcgpu_sweep_opts *o,
                             tcgpu_sweep_result *r) {
    if (!(o->t_end > o->t_start) || !(o->kappa > 0) || (m->inverse_t && !(o->t_start > 0)))
        return tcgpu_fail(TCGPU_EINVAL,
                          "window [%g, %g] with step parameter %g: expected "
                          "t_start < t_end (t_start > 0 for heff), kappa > 0",
                          o->t_start, o->t_end, o->kappa);
    int64_t d = m->dim;
    rate_ctx rc = {m, tcgpu_model_vbound(m)};
    work wk;
    tcgpu_cplx *x, *psi;
    tcgpu_status st = work_alloc(m, &wk, &x, &psi);
    r->steps = r->applications = 0;
    if (!st)
        st = adiabatic_start(m, o->t_start, o->superadiabatic, psi);
    if (!st)
        to_frame(m, o->t_start, psi, x, +1);
    double t = o->t_start;
    for (int c = 0; c < 2; ++c)
        if (!st && r->prob_check[c] && o->t_check[c] > t && o->t_check[c] < o->t_end) {
            st = march(m, &rc, o, t, o->t_check[c], x, &wk, r);
            if (!st)
                st = readout(m, o, o->t_check[c], x, psi, r->prob_check[c]);
            t = o->t_check[c];
        }
    if (!st)
        st = march(m, &rc, o, t, o->t_end, x, &wk, r);
    if (!st) {
        double norm = 0;
        for (int64_t i = 0; i < d; ++i)
            norm += x[i].re * x[i].re + x[i].im * x[i].im;
        r->norm_error = fabs(norm - 1);
        st = readout(m, o, o->t_end, x, psi, r->prob);
    }
    work_free(&wk, x, psi);
    return st;
}

double tcgpu_tv(const double *p, const double *q, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += fabs(p[i] - q[i]);
    return 0.5 * s;
}

double tcgpu_maxabs(const double *p, const double *q, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s = fmax(s, fabs(p[i] - q[i]));
    return s;
}

tcgpu_status tcgpu_sweep_start_error(const tcgpu_model *m, tcgpu_method method, double T0,
                                     double kappa, double *err) {
    int64_t d = m->dim;
    /* heff starts at t0 -> 0+: its "earlier" start lies closer to 0. */
    double far = m->inverse_t ? T0 / 10 : -1.3 * T0, near = m->inverse_t ? T0 : -T0;
    tcgpu_sweep_opts o = {method, far, near, {0, 0}, kappa, 1};
    tcgpu_sweep_result r = {NULL, {NULL, NULL}, 0, 0, 0};
    rate_ctx rc = {m, tcgpu_model_vbound(m)};
    work wk;
    tcgpu_cplx *x, *a;
    tcgpu_status st = work_alloc(m, &wk, &x, &a);
    if (!st)
        st = adiabatic_start(m, far, 1, a);
    if (!st) {
        to_frame(m, far, a, x, +1);
        st = march(m, &rc, &o, far, near, x, &wk, &r);
    }
    double *pr = st ? NULL : malloc((size_t)d * sizeof *pr);
    if (!st && !pr)
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for dimension %lld", (long long)d);
    if (!st) {
        to_frame(m, near, x, a, -1);
        st = adiabatic_readout(m, near, 1, a, pr);
    }
    if (!st) { /* leakage out of the dressed ground state, summed from its small terms */
        int64_t top = 0;
        for (int64_t i = 1; i < d; ++i)
            top = pr[i] > pr[top] ? i : top;
        double leak = 0;
        for (int64_t i = 0; i < d; ++i)
            leak += i == top ? 0.0 : pr[i];
        *err = sqrt(leak);
    }
    free(pr);
    work_free(&wk, x, a);
    return st;
}
