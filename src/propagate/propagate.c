/* One sweep: superadiabatic start, interaction-picture steps on a smooth grid, readout.
 *
 * The grid (kernels/grid.h) advances a fixed "phase" kappa per step; the steps themselves are
 * the shared step functions (kernels/step.h), the same code the batched march and the CUDA
 * kernels run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adiabatic_async.h"
#include "backend.h"
#include "fpenv.h"
#include "grid.h"
#include "march_internal.h"
#include "propagate_internal.h"
#include "tcgpu/propagate.h"

/* psi <-> phi = exp(i theta) psi, theta_i = b t^2/2 + a t + w ln|t| (the phase the class
 * weights use, kernels/grid.h). */
static void to_frame(const tcgpu_model *m, double t, const tcgpu_cplx *in, tcgpu_cplx *out,
                     int sign) {
    for (int64_t i = 0; i < m->dim; ++i) {
        double th = sign * tcgpu_phase(m->b[i], m->a[i], m->w ? m->w[i] : 0.0, t);
        double c = cos(th), s = sin(th);
        out[i].re = c * in[i].re - s * in[i].im;
        out[i].im = c * in[i].im + s * in[i].re;
    }
}

/* Advance x from a to b in steps of phase ~kappa, checking for a stop request every 256 steps,
 * or fewer where the model is large: a step is ~8-100 applications of the couplings, so a model
 * near the mlz reader's 2e6 couplings would have taken seconds for 256 (issue 17: every phase
 * ends within 1 s of a signal). The steps are set by their index, so the chunking does not
 * change the result. With
 * an fp32 work space (wf, state xf) the state is rounded to float for the march and widened
 * after it. */
static tcgpu_status march(tcgpu_work *wk, tcgpu_work_f *wf, tcgpu_cplxf *xf, tcgpu_method method,
                          double kappa, double a, double b, tcgpu_cplx *x, int64_t *steps,
                          int64_t *apps) {
    int64_t S, d = wk->A.dim;
    double du, t = a;
    tcgpu_grid_plan(&wk->g, kappa, a, b, &S, &du);
    if (xf)
        tcgpu_narrow(d, x, xf);
    unsigned fp = tcgpu_fpenv_flush();
    tcgpu_status st = TCGPU_OK;
    int64_t work = d + (wk->A.row_ptr ? wk->A.row_ptr[d] : 0), every = 1000000 / (work + 1);
    every = every < 1 ? 1 : every > 256 ? 256 : every;
    for (int64_t s0 = 0; s0 < S && !st; s0 += every) {
        int64_t s1 = S - s0 > every ? s0 + every : S;
        int rc = xf ? tcgpu_march_steps_f(wf, (int)method, du, S, s0, s1, b, &t, xf, apps)
                    : tcgpu_march_steps(wk, (int)method, du, S, s0, s1, b, &t, x, apps);
        if (rc)
            st = tcgpu_fail(TCGPU_ERUNTIME,
                            "Magnus step at t = %g: h |V| = %g needs more than %d Chebyshev "
                            "terms; use a smaller step",
                            t, tcgpu_next_step(&wk->g, t, du) * wk->g.vbound, wk->nmax);
        else if (s1 < S && tcgpu_stop_requested())
            st = tcgpu_fail(TCGPU_EINTR, "interrupted at t = %g", t);
    }
    tcgpu_fpenv_restore(fp);
    if (xf)
        tcgpu_widen(d, xf, x);
    if (!st)
        *steps += S;
    return st;
}

/* Work space of one sweep: the state x, a second vector y, and the step's scratch. */
static tcgpu_status work_alloc(const tcgpu_model *m, tcgpu_work *wk, tcgpu_cplx **x,
                               tcgpu_cplx **y) {
    *x = malloc((size_t)m->dim * sizeof **x);
    *y = malloc((size_t)m->dim * sizeof **y);
    if (!*x || !*y || tcgpu_work_alloc(m, 4096, TCGPU_COUPLING_AUTO, wk)) {
        *wk = (tcgpu_work){0};
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a sweep of dimension %lld",
                          (long long)m->dim);
    }
    return TCGPU_OK;
}

static void work_free(tcgpu_work *wk, tcgpu_cplx *x, tcgpu_cplx *y) {
    free(x);
    free(y);
    tcgpu_work_free(wk);
}

struct tcgpu_sweep {
    const tcgpu_model *m;
    tcgpu_method method;
    double kappa, t;
    int vlevel; /* tcgpu_grid_vrate's level for the next advances */
    int superadiabatic;
    int rank_labels; /* read every eigenvector as the state of its energy rank at t -> +inf */
    int leak_only;   /* a start check of a chain or a large model: adiabatic_leak */
    double unsure;   /* of the last readout */
    tcgpu_work wk;
    tcgpu_work_f wf, *fp32; /* fp32 march: &wf, else NULL */
    tcgpu_cplxf *xf;        /* fp32 march: the state while it marches */
    tcgpu_cplx *x, *psi;
    int64_t steps, applications;
    const eig_device *dense; /* the dense frames' device, or NULL */
    tcgpu_context *ctx;      /* resident: the context that holds the state at dev */
    double *dev;
    int stale; /* the host's x is behind dev */
    far_field *far;   /* readouts from its start on continue in-sector (far_field.h), or NULL */
    double far_resid; /* of the last readout where it was the far field's, else -1 */
};

const tcgpu_model *tcgpu_sweep_model(const tcgpu_sweep *s) { return s->m; }
double tcgpu_sweep_kappa(const tcgpu_sweep *s) { return s->kappa; }
int tcgpu_sweep_vlevel(const tcgpu_sweep *s) { return s->vlevel; }
void tcgpu_sweep_set_vlevel(tcgpu_sweep *s, int level) { s->vlevel = level; }
int tcgpu_sweep_dressing(const tcgpu_sweep *s) { return s->superadiabatic; }
void tcgpu_sweep_set_dressing(tcgpu_sweep *s, int order) { s->superadiabatic = order; }

double *tcgpu_sweep_resident(tcgpu_sweep *s, tcgpu_context *c) {
    if (!s->dev) {
        s->ctx = c;
        s->dev = tcgpu_resident_upload(c, &s->x[0].re, s->m->dim);
    }
    return s->dev;
}

void tcgpu_sweep_advanced(tcgpu_sweep *s, double t, int64_t steps, int64_t applications) {
    s->t = t;
    s->steps += steps;
    s->applications += applications;
    s->stale = 1;
}

/* The host's copy brought up to date (a readout, or a march on the host). */
static void fetch(tcgpu_sweep *s) {
    if (s->stale)
        tcgpu_resident_download(s->ctx, s->dev, &s->x[0].re, s->m->dim);
    s->stale = 0;
}

/* Leaves the context's memory: a march on the host continues from the host's copy. */
static void evict(tcgpu_sweep *s) {
    fetch(s);
    if (s->dev)
        tcgpu_resident_free(s->ctx, s->dev);
    s->dev = NULL;
    s->ctx = NULL;
}

double tcgpu_sweep_distance(tcgpu_sweep *a, tcgpu_sweep *b) {
    fetch(a);
    fetch(b);
    int64_t d = a->m->dim;
    double re = 0, im = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < d; ++i) {
        tcgpu_cplx u = a->x[i], v = b->x[i];
        re += u.re * v.re + u.im * v.im;
        im += u.re * v.im - u.im * v.re;
        na += u.re * u.re + u.im * u.im;
        nb += v.re * v.re + v.im * v.im;
    }
    /* min over phi of |a/|a| - e^(i phi) b/|b||, summed from the differences (1 - |<a|b>|^2
     * would resolve nothing below 1e-8); it bounds sqrt(1 - |<a|b>|^2) from above */
    double ab = hypot(re, im), c = ab > 0 ? re / ab : 1, s = ab > 0 ? -im / ab : 0;
    double sa = 1 / sqrt(na), sb = 1 / sqrt(nb), sum = 0;
    for (int64_t i = 0; i < d; ++i) {
        tcgpu_cplx u = a->x[i], v = b->x[i];
        double dr = u.re * sa - (c * v.re - s * v.im) * sb,
               di = u.im * sa - (c * v.im + s * v.re) * sb;
        sum += dr * dr + di * di;
    }
    return sqrt(sum);
}

double tcgpu_sweep_vshare(const tcgpu_sweep *s, double t) {
    tcgpu_grid g = s->wk.g;
    g.vrate = tcgpu_grid_vrate(g.vbound, s->vlevel);
    double r = tcgpu_rate(&g, t);
    g.vrate = 0;
    double r0 = tcgpu_rate(&g, t);
    return 1 - (r0 * r0) / (r * r);
}

tcgpu_status tcgpu_sweep_begin(const tcgpu_model *m, tcgpu_method method, tcgpu_precision precision,
                               double t_start, double kappa, int superadiabatic,
                               tcgpu_sweep **out) {
    return tcgpu_sweep_begin_on(NULL, m, method, precision, t_start, kappa, superadiabatic, out);
}

tcgpu_status tcgpu_sweep_begin_on(const eig_device *dense, const tcgpu_model *m,
                                  tcgpu_method method, tcgpu_precision precision, double t_start,
                                  double kappa, int superadiabatic, tcgpu_sweep **out) {
    return tcgpu_sweep_begin_from(dense, m, method, precision, t_start, kappa, superadiabatic,
                                  NULL, out);
}

const tcgpu_cplx *tcgpu_sweep_start_state(const tcgpu_sweep *s) { return s->psi; }

tcgpu_status tcgpu_sweep_begin_from(const eig_device *dense, const tcgpu_model *m,
                                    tcgpu_method method, tcgpu_precision precision,
                                    double t_start, double kappa, int superadiabatic,
                                    const tcgpu_cplx *start, tcgpu_sweep **out) {
    *out = NULL;
    if (!(kappa > 0) || !isfinite(t_start) || (m->inverse_t && !(t_start > 0)))
        return tcgpu_fail(TCGPU_EINVAL,
                          "sweep start %g with step parameter %g: expected a finite start "
                          "(> 0 for heff) and kappa > 0",
                          t_start, kappa);
    tcgpu_sweep *s = calloc(1, sizeof *s);
    if (!s)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a sweep");
    s->m = m;
    s->dense = dense;
    s->method = method;
    s->kappa = kappa;
    s->t = t_start;
    s->superadiabatic = superadiabatic;
    s->far_resid = -1;
    tcgpu_status st = work_alloc(m, &s->wk, &s->x, &s->psi);
    if (!st && precision == TCGPU_FP32) {
        s->xf = malloc((size_t)m->dim * sizeof *s->xf);
        if (!s->xf || tcgpu_work_alloc_f(m, 4096, TCGPU_COUPLING_AUTO, &s->wf))
            st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for an fp32 sweep of dimension %lld",
                            (long long)m->dim);
        else
            s->fp32 = &s->wf;
    }
    if (!st && start)
        memcpy(s->psi, start, (size_t)m->dim * sizeof *s->psi);
    else if (!st) /* on a helper: a stop request ends a long dense start at once */
        st = adiabatic_start_async(dense, m, t_start, superadiabatic, s->psi);
    if (!st)
        to_frame(m, t_start, s->psi, s->x, +1);
    if (st) {
        tcgpu_sweep_end(s);
        return st;
    }
    *out = s;
    return TCGPU_OK;
}

tcgpu_status tcgpu_sweep_advance(tcgpu_sweep *s, double t) {
    if (!(t > s->t))
        return tcgpu_fail(TCGPU_EINVAL, "sweep is at t = %g; cannot advance to t = %g", s->t, t);
    evict(s);
    s->wk.g.vrate = tcgpu_grid_vrate(s->wk.g.vbound, s->vlevel);
    if (s->fp32)
        s->wf.g.vrate = s->wk.g.vrate;
    tcgpu_status st = march(&s->wk, s->fp32, s->xf, s->method, s->kappa, s->t, t, s->x, &s->steps,
                            &s->applications);
    s->t = t;
    return st;
}

/* Up to two sweeps of one model at one time, read with one eigen-decomposition: each state back
 * from the interaction picture into its sweep's psi, then projected. */
static tcgpu_status read_sweeps(tcgpu_sweep *const *s, int n, double *const *prob) {
    const tcgpu_cplx *psi[2];
    double *unsure[2];
    for (int i = 0; i < n; ++i) {
        fetch(s[i]);
        to_frame(s[i]->m, s[i]->t, s[i]->x, s[i]->psi, -1);
        psi[i] = s[i]->psi;
        unsure[i] = &s[i]->unsure;
    }
    if (s[0]->leak_only) { /* the check's error is the leak out of the top state: as the
                            * followed state's population and the rest in one other entry */
        double leak[2];
        const tcgpu_model *m = s[0]->m;
        tcgpu_status st = adiabatic_leak(m, s[0]->t, s[0]->superadiabatic, n, psi, leak);
        for (int i = 0; !st && i < n; ++i) {
            memset(prob[i], 0, (size_t)m->dim * sizeof *prob[i]);
            prob[i][m->start] = 1 - leak[i];
            if (m->dim > 1)
                prob[i][(m->start + 1) % m->dim] = leak[i];
            s[i]->unsure = 0;
        }
        return st;
    }
    for (int i = 0; i < n; ++i)
        s[i]->far_resid = -1;
    if (s[0]->far && s[0]->t >= far_field_start(s[0]->far)) {
        double r;
        tcgpu_status st = far_field_readout(s[0]->far, s[0]->t, n, psi, prob, &r);
        for (int i = 0; !st && i < n; ++i) {
            s[i]->unsure = 0; /* labels by rank: the caller's Ta is past every crossing */
            s[i]->far_resid = r;
        }
        if (st || r >= 0) /* r < 0: it declined (far_field_readout), the dense readout reads */
            return st;
    }
    return adiabatic_readout_many_async(s[0]->dense, s[0]->m, s[0]->t, s[0]->superadiabatic,
                                        s[0]->rank_labels, n, psi, prob, unsure);
}

tcgpu_status tcgpu_sweep_readout(tcgpu_sweep *s, double *prob) { return read_sweeps(&s, 1, &prob); }

tcgpu_status tcgpu_sweep_readout_pair(tcgpu_sweep *a, tcgpu_sweep *b, double *pa, double *pb) {
    if (a->m != b->m || a->t != b->t || a->superadiabatic != b->superadiabatic ||
        a->far != b->far || a->rank_labels != b->rank_labels || a->leak_only != b->leak_only)
        return tcgpu_fail(TCGPU_EINVAL,
                          "paired readout of sweeps at t = %g and %g: expected one "
                          "model, one time and one dressing",
                          a->t, b->t);
    tcgpu_sweep *s[2] = {a, b};
    double *prob[2] = {pa, pb};
    return read_sweeps(s, 2, prob);
}

double tcgpu_sweep_unsure(const tcgpu_sweep *s) { return s->unsure; }

void tcgpu_sweep_set_far(tcgpu_sweep *s, far_field *f) { s->far = f; }
double tcgpu_sweep_far_resid(const tcgpu_sweep *s) { return s->far_resid; }

void tcgpu_sweep_rank_labels(tcgpu_sweep *s, int on) { s->rank_labels = on != 0; }

double tcgpu_sweep_norm_error(const tcgpu_sweep *s) {
    double norm = 0;
    for (int64_t i = 0; i < s->m->dim; ++i)
        norm += s->x[i].re * s->x[i].re + s->x[i].im * s->x[i].im;
    return fabs(norm - 1);
}

double tcgpu_sweep_time(const tcgpu_sweep *s) { return s->t; }
const double *tcgpu_sweep_state(const tcgpu_sweep *s) { return &s->x[0].re; }
int64_t tcgpu_sweep_steps(const tcgpu_sweep *s) { return s->steps; }
int64_t tcgpu_sweep_applications(const tcgpu_sweep *s) { return s->applications; }

void tcgpu_sweep_end(tcgpu_sweep *s) {
    if (!s)
        return;
    if (s->dev)
        tcgpu_resident_free(s->ctx, s->dev);
    work_free(&s->wk, s->x, s->psi);
    if (s->fp32)
        tcgpu_work_free_f(s->fp32);
    free(s->xf);
    free(s);
}

tcgpu_status tcgpu_sweep_run(const tcgpu_model *m, const tcgpu_sweep_opts *o,
                             tcgpu_sweep_result *r) {
    if (!(o->t_end > o->t_start))
        return tcgpu_fail(TCGPU_EINVAL, "window [%g, %g]: expected t_start < t_end", o->t_start,
                          o->t_end);
    tcgpu_sweep *s;
    tcgpu_status st =
        tcgpu_sweep_begin(m, o->method, o->precision, o->t_start, o->kappa, o->superadiabatic, &s);
    for (int c = 0; c < 2; ++c)
        if (!st && r->prob_check[c] && o->t_check[c] > s->t && o->t_check[c] < o->t_end) {
            st = tcgpu_sweep_advance(s, o->t_check[c]);
            if (!st)
                st = tcgpu_sweep_readout(s, r->prob_check[c]);
        }
    if (!st)
        st = tcgpu_sweep_advance(s, o->t_end);
    if (!st) {
        r->norm_error = tcgpu_sweep_norm_error(s);
        st = tcgpu_sweep_readout(s, r->prob);
    }
    if (s) {
        r->steps = s->steps;
        r->applications = s->applications;
    }
    tcgpu_sweep_end(s);
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

int tcgpu_control_dressing(const tcgpu_model *m) {
    return adiabatic_tri_applies(m) || m->dim > TCGPU_THIRD_ORDER_MAX ? 2 : 3;
}

tcgpu_status tcgpu_start_check_begin(const eig_device *dense, const tcgpu_model *m,
                                     tcgpu_method method, tcgpu_precision precision, double T0,
                                     double kappa, tcgpu_sweep **s, double *near) {
    /* heff starts at t0 -> 0+: its "earlier" start lies closer to 0. */
    double far = m->inverse_t ? T0 / 10 : -1.3 * T0;
    *near = m->inverse_t ? T0 : -T0;
    tcgpu_status st =
        tcgpu_sweep_begin_on(dense, m, method, precision, far, kappa, tcgpu_control_dressing(m), s);
    /* The leak does not depend on which diabatic state each eigenstate is labelled with, and a
     * chain read by rank needs no dense eigen-decomposition before the last crossing. */
    if (!st && adiabatic_tri_applies(m))
        tcgpu_sweep_rank_labels(*s, 1);
    /* One dressed eigenvector is all a check needs where the start was sparse (dim > 2000:
     * tc K = 2, N = 100, two dense frames per check took 120 s) or a chain's (tc K = 1,
     * N = 1e5: the whole readout at -T0 took 16 s, the one eigenvector 0.1 s). */
    if (!st && adiabatic_leak_applies(m, (*s)->superadiabatic))
        (*s)->leak_only = 1;
    return st;
}

double tcgpu_start_check_leak(const double *pr, int64_t d) {
    /* leakage out of the dressed ground state, summed from its small terms */
    int64_t top = 0;
    for (int64_t i = 1; i < d; ++i)
        top = pr[i] > pr[top] ? i : top;
    double leak = 0;
    for (int64_t i = 0; i < d; ++i)
        leak += i == top ? 0.0 : pr[i];
    return leak;
}

tcgpu_status tcgpu_sweep_start_error(const tcgpu_model *m, tcgpu_method method,
                                     tcgpu_precision precision, double T0, double kappa,
                                     double *err) {
    int64_t d = m->dim;
    double near;
    tcgpu_sweep *s = NULL;
    tcgpu_status st = tcgpu_start_check_begin(NULL, m, method, precision, T0, kappa, &s, &near);
    if (!st)
        st = tcgpu_sweep_advance(s, near);
    double *pr = st ? NULL : malloc((size_t)d * sizeof *pr);
    if (!st && !pr)
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for dimension %lld", (long long)d);
    if (!st)
        st = tcgpu_sweep_readout(s, pr);
    if (!st)
        *err = sqrt(tcgpu_start_check_leak(pr, d));
    free(pr);
    tcgpu_sweep_end(s);
    return st;
}
