/* Accuracy control of one sweep: window from the model's time scales, grown until the
 * start and readout checks pass; step parameter halved until Richardson's estimate passes.
 *
 * Estimates (total-variation distance of the final distribution):
 *  - steps: TV(P_kappa, P_kappa/2)/15 for the finer run (4th order: error ratio 16);
 *  - readout window: the residual falls like Tr^-2 (or faster), so the error at Tr is about
 *    TV(P(Tr/r), P(Tr)) / (r^2 - 1); the residual oscillates with Tr, so two earlier readouts
 *    (r = 1.3 and 1.13) are compared and the larger estimate kept;
 *  - start window: sqrt(L), L the leakage out of the dressed ground state at -T0 of a state
 *    propagated there from a dressed start at -1.3 T0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adiabatic.h"
#include "tcgpu/propagate.h"

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    double t0_floor; /* heff: the window starts at t > 0 */
    double T0, Tr, kappa;
} scales;

/* Time scales: the transition ~ g sqrt(N)/beta + 1/sqrt(beta) around the channel resonances
 * at t = e_k/beta, the redistribution between channels ~ g^2 N/(beta de) for K >= 2. */
static scales default_scales(const tcgpu_model *m) {
    scales s = {0, 0, 0, 0.5};
    double g = m->g, beta = m->beta, n = (double)(m->N > 1 ? m->N : 1);
    double ttr = g * sqrt(n) / beta + 1.0 / sqrt(beta);
    double emin = 0, emax = 0, gap = INFINITY;
    for (int c = 0; c < m->nclass; ++c) {
        double e = m->classes[c].da;
        emin = fmin(emin, e);
        emax = fmax(emax, e);
        for (int d = 0; d < c; ++d)
            gap = fmin(gap, fabs(e - m->classes[d].da));
    }
    if (m->kind == TCGPU_MODEL_HEFF) {
        /* eq 72: induced coupling g^2 n^2/(beta t) against the level step 2 eps */
        double eps = m->dim > 1 ? fabs(m->a[1] - m->a[0]) / 2 : 1.0;
        double tc = g * g * n * (n + 1) / (beta * eps);
        s.t0_floor = 1e-2 * tc / (n + 1); /* moved towards 0 by the start check */
        s.T0 = s.t0_floor;
        s.Tr = fmax(tc / 10, 4 / eps); /* grown by the readout check where needed */
        return s;
    }
    /* Start small: the start and readout checks grow the window where the sweep needs it
     * (slow sweeps follow the ground state so closely that short windows suffice). */
    s.T0 = 1.5 * ttr - emin / beta;
    s.Tr = 1.5 * ttr + emax / beta;
    if (m->kind == TCGPU_MODEL_TC && m->K >= 2 && isfinite(gap))
        s.Tr += 2 * g * g * n / (beta * gap); /* t_c / 2, t_c = g^2 N/(beta eps) for eq 59 */
    return s;
}

tcgpu_status tcgpu_sweep_auto(const tcgpu_model *m, const tcgpu_auto_opts *o, double *prob,
                              tcgpu_auto_report *rep) {
    double t_begin = wall(), tol = o->tol > 0 ? o->tol : 1e-6;
    int64_t d = m->dim;
    scales s = default_scales(m);
    if (o->T0 > 0)
        s.T0 = o->T0;
    if (o->Tr > 0)
        s.Tr = o->Tr;
    if (o->kappa > 0)
        s.kappa = o->kappa;
    int heff = m->kind == TCGPU_MODEL_HEFF, rounds = o->max_doublings > 0 ? o->max_doublings : 8;
    memset(rep, 0, sizeof *rep);
    /* check: fine run's two earlier readouts (2d), the coarse run's (2d), extrapolations (3d) */
    double *coarse = malloc((size_t)d * sizeof *coarse), *check = malloc((size_t)d * 7 * 8);
    if (!coarse || !check) {
        free(coarse);
        free(check);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for dimension %lld", (long long)d);
    }
    tcgpu_status st = TCGPU_OK;
    /* Start window: grown for the MLZ models, moved towards t = 0+ for heff. */
    for (int r = 0; o->T0 <= 0 && r < 10; ++r) {
        double e;
        if ((st = tcgpu_sweep_start_error(m, o->method, s.T0, fmin(s.kappa / 2, 0.25), &e)))
            goto out;
        rep->err_window = e;
        if (e < (heff ? tol / 40 : tol / 4)) /* heff: the leakage check reads low near t = 0 */
            break;
        s.T0 = heff ? s.T0 / 10 : s.T0 * 1.5;
    }
    for (int grow = 0; grow < 20; ++grow) {
        tcgpu_sweep_opts so = {
            o->method, heff ? s.T0 : -s.T0, s.Tr, {s.Tr / 1.3, s.Tr / 1.13}, s.kappa, 1};
        double *cc = check + 2 * d, *ex = check + 4 * d;
        tcgpu_sweep_result rc = {coarse, {cc, cc + d}, 0, 0, 0},
                           rf = {prob, {check, check + d}, 0, 0, 0};
        if ((st = tcgpu_sweep_run(m, &so, &rc)))
            goto out;
        rep->steps += rc.steps;
        rep->applications += rc.applications;
        for (int h = 0; h < rounds; ++h) {
            so.kappa = s.kappa / 2;
            if ((st = tcgpu_sweep_run(m, &so, &rf)))
                goto out;
            rep->steps += rf.steps;
            rep->applications += rf.applications;
            rep->err_step = tcgpu_tv(coarse, prob, d) / 15;
            rep->norm_error = rf.norm_error;
            s.kappa /= 2;
            if (rep->err_step < tol / 2 || o->kappa > 0)
                break;
            memcpy(coarse, prob, (size_t)d * sizeof *prob);
            memcpy(cc, check, (size_t)(2 * d) * sizeof *check);
        }
        /* Compare the readouts after Richardson extrapolation in the step, so that the step
         * error gathered between the readout times does not pass for a window error. */
        for (int64_t i = 0; i < d; ++i) {
            ex[i] = check[i] + (check[i] - cc[i]) / 15;
            ex[d + i] = check[d + i] + (check[d + i] - cc[d + i]) / 15;
            ex[2 * d + i] = prob[i] + (prob[i] - coarse[i]) / 15;
        }
        double ew = fmax(tcgpu_tv(ex, ex + 2 * d, d) / (1.3 * 1.3 - 1),
                         tcgpu_tv(ex + d, ex + 2 * d, d) / (1.13 * 1.13 - 1));
        if (getenv("TCGPU_DEBUG")) /* the control's decisions, for tuning */
            fprintf(stderr, "auto: T0 %g Tr %g kappa %g steps %lld err_step %.2e ew %.2e %.1fs\n",
                    s.T0, s.Tr, s.kappa, (long long)rep->steps, rep->err_step, ew,
                    wall() - t_begin);
        rep->err_estimate = rep->err_step + rep->err_window + ew;
        rep->T0 = s.T0;
        rep->Tr = s.Tr;
        rep->kappa = s.kappa;
        if (ew < tol / 4 || o->Tr > 0) {
            rep->err_window += ew;
            break;
        }
        s.Tr *= 1.5;
        s.kappa *= 2; /* start the halving again one level finer than the passing step */
    }
out:
    rep->seconds = wall() - t_begin;
    free(coarse);
    free(check);
    return st;
}
