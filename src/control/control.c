/* Accuracy control of one sweep as a state machine (tcgpu/control.h): window from the model's
 * time scales, grown until the start and readout checks pass; step parameter halved until
 * Richardson's estimate passes.
 *
 * One propagation serves the whole readout window search: a fine run (kappa) and a coarse
 * run (2 kappa) march side by side and are read out on a ladder of times Tr/1.3, Tr/1.13, Tr,
 * then 1.5 Tr/1.3, ... until the window check passes. Only a failed step check starts again
 * (from the start, kappa halved). Cost: 1.5 runs to the final Tr (was 3 runs per window).
 *
 * Estimates (total-variation distance of the final distribution):
 *  - steps: TV(P_kappa, P_2kappa)/15 for the finer run (4th order: error ratio 16), of the
 *    window extrapolation's P_kappa and P_2kappa too where that is returned; the largest of
 *    the rounds since the runs started is reported (each readout's stop adds an error to the
 *    coarse run that is not 16 times the fine run's, so the later rounds can read low);
 *  - readout window: the residual falls like Tr^-p (p = 2 or faster: ctl_window_power), so
 *    the error at Tr is about TV(P(Tr/r), P(Tr)) / (r^p - 1); the residual oscillates with
 *    Tr, so two earlier readouts (r = 1.3 and 1.13) are compared and the larger estimate kept;
 *    heff accepts no window before Tr = 2 g^2/(beta eps), where its residual has risen and
 *    fallen (ctl_default_scales);
 *  - start window: sqrt(L), L the leakage out of the dressed ground state at -T0 of a state
 *    propagated there from a dressed start at -1.3 T0.
 *
 * Phases: START (a start check: begin, advance, read out, judge), ATTEMPT (the fine and coarse
 * runs begin at the kappa reached), RUNG (one readout of the ladder: advance both runs, read
 * both out), ROUND (judge a completed rung set: halve, grow or stop), FINISH. The decisions of
 * ROUND are in src/control_round.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adiabatic.h"
#include "adiabatic_labels.h"
#include "backend.h"
#include "control_impl.h"
#include "propagate_internal.h"

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ctl_debug(const tcgpu_control *c, const char *fmt, ...) {
    if (!c->debug)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "auto: %s %.1fs\n", line, wall() - c->t_begin);
}

tcgpu_status tcgpu_control_create(tcgpu_context *ctx, const tcgpu_model *m,
                                  const tcgpu_auto_opts *o, double *prob, tcgpu_auto_report *rep,
                                  tcgpu_control **out) {
    *out = NULL;
    int64_t d = m->dim;
    tcgpu_control *c = calloc(1, sizeof *c);
    /* readouts at Tr/1.3, Tr/1.13, Tr: fine (3d), coarse (3d), extrapolated in the step (3d);
     * extrapolated in the window: this round's (2d: from r = 1.3 and 1.13), the last round's,
     * the coarse run's (d); the start check's readout (d) */
    double *buf = malloc((size_t)d * 14 * sizeof *buf);
    tcgpu_cplx *start = malloc((size_t)d * sizeof *start);
    if (!c || !buf || !start) {
        free(c);
        free(buf);
        free(start);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for dimension %lld", (long long)d);
    }
    c->t_begin = wall();
    c->debug = getenv("TCGPU_DEBUG") != NULL;
    c->m = m;
    c->dense = tcgpu_context_dense(ctx);
    c->o = *o;
    c->prob = prob;
    c->rep = rep;
    c->d = d;
    c->tol = o->tol > 0 ? o->tol : CTL_DEFAULT_TOL;
    c->s = ctl_default_scales(m, c->tol);
    if (o->T0 > 0)
        c->s.T0 = o->T0;
    if (o->Tr > 0)
        c->s.Tr = o->Tr;
    c->s.kappa = o->kappa > 0 ? o->kappa : ctl_default_kappa(c->tol);
    c->heff = m->kind == TCGPU_MODEL_HEFF;
    c->rounds = o->max_doublings > 0 ? o->max_doublings : CTL_DEFAULT_ATTEMPTS;
    memset(rep, 0, sizeof *rep);
    c->buf = buf;
    c->start = start;
    c->pf = buf;
    c->pc = buf + 3 * d;
    c->ex = buf + 6 * d;
    c->xw = buf + 9 * d;
    c->xlast = buf + 11 * d;
    c->xc = buf + 12 * d;
    c->pr = buf + 13 * d;
    c->kc = ctl_start_kappa(c->s.kappa, c->tol);
    c->check_kappa = c->kc;
    c->e_last = INFINITY;
    const char *ff = getenv("TCGPU_FAR_FIELD"); /* "0": the dense readouts only (comparisons) */
    c->far_ok = !(ff && ff[0] == '0') && far_field_applies(m, tcgpu_control_dressing(m));
    c->far_next = adiabatic_last_crossing(m);
    ctl_in_sector_setup(c);
    c->phase = CTL_START;
    *out = c;
    return TCGPU_OK;
}

static void count(tcgpu_control *c) {
    const tcgpu_sweep *r[2] = {c->fine, c->coarse};
    for (int i = 0; i < 2; ++i)
        if (r[i]) {
            c->rep->steps += tcgpu_sweep_steps(r[i]);
            c->rep->applications += tcgpu_sweep_applications(r[i]);
        }
}

void ctl_end_runs(tcgpu_control *c) {
    count(c);
    tcgpu_sweep_end(c->fine);
    tcgpu_sweep_end(c->coarse);
    c->fine = c->coarse = NULL;
}

static void ask(tcgpu_control_request *req, tcgpu_control_kind kind, tcgpu_sweep *a, tcgpu_sweep *b,
                double t, double *pa, double *pb) {
    *req = (tcgpu_control_request){kind, b ? 2 : 1, {a, b}, t, {pa, pb}};
}

/* The start's error from the check's leak L out of the dressed ground state: a leaked
 * amplitude of norm sqrt(L) changes the final distribution by up to sqrt(L) in total variation,
 * by interfering with the main one wherever both reach the same final state. Where the exact
 * solution leaves at most a weight M outside the adiabatic outcome (ctl_scales.nonadiab), the
 * main amplitude ends in one state i but for a remainder of norm sqrt(M), and the leaked one,
 * orthogonal to the ground state at the start, reaches i only through the final state's
 * backward image outside the ground state, also of norm <= sqrt(M): the terms of p' - p =
 * (|a|^2 - 1) p + 2 Re(conj(U top) U d) + |U d|^2 then sum to at most L + 4 sqrt(L M) + L in
 * absolute value, and the TV is half that. tc K = 2, N = 20, eps = 0.5, beta = 0.3 (M =
 * 1.6e-9), T0 = 10.96: sqrt(L) 7.0e-7, L + 2 sqrt(L M) 5.7e-11 (sqrt(L) was 6.0e-6, 3.3e-5,
 * 6.2e-7, 2.6e-8 as T0 grew 1.5 times a round, to 55.5: 4660 steps), TV 2.45e-9 at T0 = 10.96
 * (787 steps); N = 40: sqrt(L) 4.9e-5, TV 8.0e-10. */
static double start_error(const tcgpu_control *c, double leak) {
    double amp = sqrt(leak);
    return isfinite(c->s.nonadiab) ? fmin(amp, leak + 2 * amp * sqrt(c->s.nonadiab)) : amp;
}

/* Start window: grown for the MLZ models, moved towards t = 0+ for heff. A window the caller
 * fixed is checked once, so that its start error is part of the estimate (heff with a fixed
 * window 1e4 starts at t = 1 and ended 0.45 off with an estimate of 2e-9).
 * heff: the check's leak has two parts, the dressing's error (~T0: it falls by 10 per move)
 * and the check's own step error, which does not fall as T0 -> 0+: there H -> M/t and the
 * march's interaction picture turns the couplings at the phase velocities dw/t of the
 * diagonal's 1/t part, which is scale-free in ln t, so every decade is marched alike and the
 * numerical propagator follows an eigenstate off by ~kappa^4 from M's (n = 1 has dw = 0 and no
 * such part). For n >= 2 the leak stalled there (n = 2, beta = 0.238: 2.2e-6 at every
 * T0 <= 1.7e-4, all of it in the upper symmetric state; 1.4e-7 at half the step). That part is
 * the main runs' step error near t = 0, which their Richardson estimate measures: where a move
 * leaves the leak above a quarter of the last one, the check is repeated at half its step, the
 * finer check's leak taken, and its step kept for the next checks if the leak fell by 4 or
 * more (step error; at most 4 halvings), else the start moves on (a dressing not yet in its
 * ~T0 regime). heff moves up to 12 times: n = 50, beta = 100 reaches the ~T0 regime only at
 * T0 = 1e-6 and needs T0 = 1e-13.
 * Returns 1 when the next start check is asked for (c->check_kappa), 0 when the start is
 * settled. */
static int start_judge(tcgpu_control *c, double value) {
    const tcgpu_auto_opts *o = &c->o;
    if (!c->halving) {
        c->e = value;
        ctl_debug(c, "start check T0 %g err %.2e", c->s.T0, value);
    } else {
        ctl_debug(c, "start check T0 %g kappa %g err %.2e", c->s.T0, c->check_kappa, value);
        int step_error = value <= c->e / CTL_STALL;
        c->e = value;
        if (step_error) {
            c->kc /= 2;
            ++c->halvings;
        } else {
            c->halving = -1; /* the start moves on */
        }
    }
    if (c->halving >= 0 && c->heff && o->T0 <= 0 && c->start_round > 0 &&
        c->e >= c->tol / CTL_START_SHARE_HEFF && c->e > c->e_last / CTL_STALL &&
        c->halvings < CTL_START_HALVINGS) {
        c->halving = 1;
        c->check_kappa = c->kc / 2;
        return 1;
    }
    c->halving = 0;
    c->rep->err_window = c->e_last = c->e;
    if (o->T0 > 0 || c->e < (c->heff ? c->tol / CTL_START_SHARE_HEFF : c->tol / CTL_START_SHARE))
        return 0;
    c->s.T0 = c->heff ? c->s.T0 / CTL_HEFF_START_SHRINK : c->s.T0 * CTL_START_GROWTH;
    if (++c->start_round >= (o->T0 > 0 ? 1 : c->heff ? CTL_START_ROUNDS_HEFF : CTL_START_ROUNDS))
        return 0;
    /* A start that cannot pass is not checked: as for the readout ladder's rungs (ctl_round),
     * the next check passes only where the error falls faster than T0^-decay: chains
     * ctl_far_decay (the fastest seen: T0^-10, tc K = 1, N = 1e4, beta_c: 5.5e-2, 8.2e-4,
     * 3.4e-5, 1.2e-6 at T0 = 0.033 x 1.5^k), the dense models CTL_START_DECAY (tc K = 2,
     * N = 20, eps = 0.5: T0^-6.3 ... -7.7 at beta = 100, -8.2 ... -8.5 at 26.5). */
    double decay = adiabatic_tri_applies(c->m) ? ctl_far_decay(c) : CTL_START_DECAY;
    int skips = c->heff ? 0
                        : ctl_far_skips(c->e, CTL_START_GROWTH, decay, c->tol / CTL_START_SHARE,
                                        CTL_START_SKIP < CTL_START_ROUNDS - 1 - c->start_round
                                            ? CTL_START_SKIP
                                            : CTL_START_ROUNDS - 1 - c->start_round);
    for (int k = 1; k <= skips; ++k) {
        c->s.T0 *= CTL_START_GROWTH;
        c->start_round++;
        ctl_debug(c, "start check T0 %g skipped (err >= %.2e)", c->s.T0 / CTL_START_GROWTH,
                  c->e * pow(CTL_START_GROWTH, -decay * k));
    }
    c->check_kappa = c->kc;
    return 1;
}

/* A higher order of the dressing for the rest of the attempt's readouts, once the far field
 * costs more than its extra frames: the two-channel window is set by the in-sector residual,
 * which each order makes fall one power of Tr faster (docs/numerics.md). tc K = 2, N = 10,
 * eps = 0.25, beta = 20.84 at fixed windows Tr = 22.6 and 32: TV 9.8e-7 and 1.9e-7 at order 3,
 * 2.0e-7 and 2.7e-8 at 4, 5.3e-8 and 5.2e-9 at 5, 1.5e-8 and 1.1e-9 at 6. From the start (start
 * checks too) order 4 lost where the window did not shrink: tc K = 2, N = 20 at beta <= 1.3
 * (0.82-0.87 of the time) and N = 40 (861 states; 0.73-0.91); steps beyond ~dim^2 per five
 * frames are what the frames are worth (N = 10: the sweeps past ~5e3 steps gained; N = 20,
 * eps = 0.5: 4.6e4 steps 1.08x, 5.6e4 0.89x; eps = 0.1: 7.6e5 steps 1.37x, 1.8e6 1.99x). The
 * default job (N = 10) at orders 4, 5, 6: 2.27e6, 1.72e6, 1.55e6 steps (the threshold is
 * dim^2 / 4 since the window estimate assumes these orders' decay: TCGPU_FAR_DRESSING_STEPS).
 * The round that
 * switches compares its readouts with a carried third-order one, whose larger residual only
 * raises that round's window estimate. */
static void ctl_dressing_up(tcgpu_control *c) {
    if (!c->fine || tcgpu_sweep_dressing(c->fine) != 3)
        return;
    double d = (double)c->d;
    int order = c->d <= TCGPU_FAR_DRESSING_6_MAX ? 6 : 4;
    if ((double)tcgpu_sweep_steps(c->fine) > TCGPU_FAR_DRESSING_STEPS * d * d) {
        ctl_debug(c, "Tr %g: order %d readouts from here (%lld steps)", c->s.Tr, order,
                  (long long)tcgpu_sweep_steps(c->fine));
        tcgpu_sweep_set_dressing(c->fine, order);
        tcgpu_sweep_set_dressing(c->coarse, order);
    }
}

/* The far field for the readouts from t on, where it applies and t is past every crossing.
 * Where the sectors have not separated, their mixing 1 - w (w the least weight of an
 * eigenvector in its sector) falls like t^-2 (tc K = 2, N = 20, eps = 0.5, beta = 100: 0.30,
 * 0.19, 0.12, 0.055, 0.017 at t = 0.90, 1.14, 1.49, 2.21, 4.00), so the next try is where that
 * reaches 1 - FAR_FIELD_SEPARATED, and *later (else 0) asks the ladder to read nothing before it;
 * where the interpolation missed its check, its error falls like t^-10 or faster (eps = 0.1,
 * beta = 100, eight nodes: 7.1e-5, 1.2e-7, 1.4e-9 at t = 1.99, 3.24, 5.28; twelve: 1.1e-6,
 * 1.6e-11 at 1.99, 4.68), at most CTL_FAR_FIELD_LEAP times further (eps = 0.1, beta = 11.4:
 * 2.6e-3 at 11.1 asked for 54; a march without readouts so far ends in a late step check). */
static tcgpu_status far_try(tcgpu_control *c, double t, double *later) {
    *later = 0;
    if (c->ff || !c->far_ok || c->o.Tr > 0 || !(t >= c->far_next))
        return TCGPU_OK;
    double w, miss;
    tcgpu_status st = far_field_create(c->dense, c->m, t, tcgpu_control_dressing(c->m),
                                       c->tol, &c->ff, &w, &miss);
    if (st)
        return st;
    if (c->ff) {
        ctl_debug(c, "t %g: far field from here", t);
        tcgpu_sweep_set_far(c->fine, c->ff);
        tcgpu_sweep_set_far(c->coarse, c->ff);
        return TCGPU_OK;
    }
    if (++c->far_tries >= CTL_FAR_FIELD_TRIES || isinf(miss)) {
        c->far_ok = 0;
        ctl_debug(c, "t %g: no far field (weight %.3f, interpolation %.2g of its bound)", t, w,
                  miss);
        return TCGPU_OK;
    }
    double grow = w < FAR_FIELD_SEPARATED ? sqrt((1 - w) / (1 - FAR_FIELD_SEPARATED))
                                          : fmin(pow(miss, 0.1), CTL_FAR_FIELD_LEAP);
    c->far_next = t * fmax(grow * CTL_FAR_FIELD_MARGIN, CTL_RUNG_NEAR);
    if (w >= CTL_FAR_FIELD_SURE) /* below, the t^-2 law is no forecast (1 - w ~ 1) */
        *later = c->far_next;
    ctl_debug(c, "t %g: far field from %g (weight %.3f, interpolation %.2g of its bound)", t,
              c->far_next, w, miss);
    return TCGPU_OK;
}

/* The next readout time of the rung set from c->q on, or a phase change: returns 1 with
 * c->q and *t set where a readout is due, 0 where the rung set is complete or cut short. */
static int next_rung(tcgpu_control *c, double *t) {
    static const double ratio[3] = {CTL_RUNG_FAR, CTL_RUNG_NEAR, 1.0};
    for (; c->q < 3; ++c->q) {
        *t = c->s.Tr / ratio[c->q];
        if (c->have[c->q] || !(*t > c->t0) || *t < tcgpu_sweep_time(c->fine))
            continue;
        if (c->q == 2 && ctl_rung_far(c))
            return 0;
        return 1;
    }
    return 0;
}

tcgpu_status tcgpu_control_next(tcgpu_control *c, tcgpu_status served, tcgpu_control_request *req) {
    const tcgpu_auto_opts *o = &c->o;
    tcgpu_status st = served;
    double t, near, later;
    if (st)
        goto out;
    for (;;) {
        switch (c->phase) {
        case CTL_START: /* a start check at (T0, check_kappa) */
            if ((st = tcgpu_start_check_begin(c->dense, c->m, o->method, o->precision, c->s.T0,
                                              c->check_kappa, &c->check_sweep, &near)))
                goto out;
            c->phase = CTL_START_READ;
            ask(req, TCGPU_CONTROL_ADVANCE, c->check_sweep, NULL, near, NULL, NULL);
            return TCGPU_OK;
        case CTL_START_READ:
            ctl_debug(c, "start check T0 %g: %lld steps, %lld applications", c->s.T0,
                      (long long)tcgpu_sweep_steps(c->check_sweep),
                      (long long)tcgpu_sweep_applications(c->check_sweep));
            c->phase = CTL_START_JUDGE;
            ask(req, TCGPU_CONTROL_READOUT, c->check_sweep, NULL, 0, c->pr, NULL);
            return TCGPU_OK;
        case CTL_START_JUDGE:
            tcgpu_sweep_end(c->check_sweep);
            c->check_sweep = NULL;
            if (start_judge(c, start_error(c, tcgpu_start_check_leak(c->pr, c->d)))) {
                c->phase = CTL_START;
                continue;
            }
            c->err_start = c->rep->err_window + c->s.missed;
            c->t0 = c->heff ? c->s.T0 : -c->s.T0;
            /* A sweep through the transition (not read by rank) is read out no earlier than
             * T0 / 1.63 (a rung of 1.277 before its start time: the first rung is the highest at
             * or below T0 / 1.443 on the ladder of 1.13), a chain (the tri readout) from the rung
             * at or below 1.5 times it (CTL_CHAIN_FIRST_RUNG): over the cost matrix's tc and mlz
             * sweeps Tr/T0 was 1.32 to 31, over its chains (tc K = 1, N = 100 and 1000, 0.1 to 10
             * beta_c) and N = 1e4 and 1e5 at beta_c 1.5 to 7.6 (read by rank, where the start
             * waits for the far ground state: 0.13-1), and a chain's early readouts cost most:
             * where its eigenvectors spread over most of it, each window is the whole chain
             * (tc K = 1, N = 1e4, beta_c: T0 = 0.113; the rung at 0.089 failed after readouts
             * at 0.069 and 0.078 that took 8 of the sweep's 31 s, against ~1 s at t = 0.3). */
            double below = adiabatic_tri_applies(c->m) ? 1 / CTL_CHAIN_FIRST_RUNG
                                                       : CTL_RUNG_FAR * CTL_RUNG_FAR /
                                                             CTL_LADDER_GROWTH;
            while (!c->heff && !c->s.by_rank && o->Tr <= 0 &&
                   c->s.Tr * CTL_LADDER_GROWTH * below <= c->s.T0 * (1 + 1e-12)) {
                c->s.Tr *= CTL_LADDER_GROWTH;
                ctl_debug(c, "readout ladder from Tr %g (T0 %g)", c->s.Tr, c->s.T0);
            }
            c->phase = CTL_ATTEMPT;
            continue;
        case CTL_ATTEMPT: /* the fine and coarse runs from the start at the kappa reached */
            if (c->done || c->attempt >= c->rounds) {
                c->phase = CTL_FINISH;
                continue;
            }
            c->step_env = 0;
            /* One dressed start serves both runs and every attempt (same t0 and order; an
             * order-3 start is a dense frame and its dressing: two of them an attempt were ~7 %
             * of tc K = 2, N = 20, eps = 0.5, beta = 26.5) */
            if ((st = tcgpu_sweep_begin_from(c->dense, c->m, o->method, o->precision, c->t0,
                                             c->s.kappa, tcgpu_control_dressing(c->m),
                                             c->has_start ? c->start : NULL, &c->fine)))
                goto out;
            if (!c->has_start) {
                memcpy(c->start, tcgpu_sweep_start_state(c->fine),
                       (size_t)c->d * sizeof *c->start);
                c->has_start = 1;
            }
            if ((st = tcgpu_sweep_begin_from(c->dense, c->m, o->method, o->precision, c->t0,
                                             2 * c->s.kappa, tcgpu_control_dressing(c->m),
                                             c->start, &c->coarse)))
                goto out;
            tcgpu_sweep_rank_labels(c->fine, c->s.by_rank);
            tcgpu_sweep_rank_labels(c->coarse, c->s.by_rank);
            tcgpu_sweep_set_far(c->fine, c->ff);
            tcgpu_sweep_set_far(c->coarse, c->ff);
            c->grow = 0;
            c->carry = 0;
            c->phase = CTL_GROW;
            continue;
        case CTL_GROW: /* a new rung set at Tr */
            ctl_dressing_up(c);
            if (c->grow >= CTL_MAX_GROW) {
                ctl_end_runs(c);
                c->attempt++;
                c->phase = CTL_ATTEMPT;
                continue;
            }
            c->far = 0;
            c->q = 0;
            if (c->carry) { /* this round's Tr / CTL_RUNG_FAR and Tr / CTL_RUNG_NEAR are the last
                             * round's Tr / CTL_RUNG_NEAR and Tr */
                size_t n = (size_t)c->d;
                memmove(c->pf, c->pf + n, 2 * n * sizeof *c->pf);
                memmove(c->pc, c->pc + n, 2 * n * sizeof *c->pc);
                c->have[0] = c->have[1];
                c->have[1] = c->have[2];
                c->have[2] = 0;
                c->carry = 0;
            } else
                memset(c->have, 0, sizeof c->have);
            c->phase = CTL_RUNG;
            continue;
        case CTL_RUNG:
            if (!next_rung(c, &t)) {
                c->phase = CTL_ROUND;
                continue;
            }
            c->phase = CTL_RUNG_READ;
            if (t > tcgpu_sweep_time(c->fine) || t > tcgpu_sweep_time(c->coarse)) {
                double tp = ctl_probe_time(c, t);
                if (tp < t)
                    c->phase = CTL_PROBE;
                ask(req, TCGPU_CONTROL_ADVANCE, c->fine, c->coarse, tp, NULL, NULL);
                return TCGPU_OK;
            }
            continue;
        case CTL_PROBE:
            ctl_step_level(c, tcgpu_sweep_distance(c->fine, c->coarse) / CTL_RICHARDSON, 0);
            c->phase = CTL_RUNG;
            continue;
        case CTL_RUNG_READ:
            if ((st = far_try(c, tcgpu_sweep_time(c->fine), &later)))
                goto out;
            /* no readouts before the far field's next try where it is near and the dense
             * readouts are far from passing: else they may pass first (tc K = 2, N = 20,
             * eps = 0.5, beta = 1.3: the sectors separate only near t = 98, the dense readouts
             * passed at 37; eps = 0.1, beta = 1.3: at its first rung set) */
            if (later > 0 && later <= CTL_FAR_FIELD_SKIP * tcgpu_sweep_time(c->fine) &&
                c->dense_ew > CTL_FAR_FIELD_DENSE_FAR * c->tol) {
                while (c->s.Tr / CTL_RUNG_FAR < later && c->grow < CTL_FAR_LAST_GROW - 2) {
                    c->s.Tr *= CTL_LADDER_GROWTH;
                    c->grow++;
                }
                c->ew_last[1] = c->ew_last[0] = 0;
                c->xvalid = 0;
                c->carry = 0;
                c->phase = CTL_GROW;
                continue;
            }
            ctl_debug(c, "read at t %g", tcgpu_sweep_time(c->fine));
            c->phase = CTL_RUNG_DONE;
            ask(req, TCGPU_CONTROL_READOUT, c->fine, c->coarse, 0, c->pf + c->q * c->d,
                c->pc + c->q * c->d);
            return TCGPU_OK;
        case CTL_RUNG_DONE:
            ctl_debug(c, "read");
            ctl_step_level(
                c, tcgpu_tv(c->pf + c->q * c->d, c->pc + c->q * c->d, c->d) / CTL_RICHARDSON, 1);
            c->have[c->q++] = 1;
            c->phase = CTL_RUNG;
            continue;
        case CTL_ROUND:
            ctl_round(c);
            continue;
        case CTL_FINISH:
            goto out;
        }
    }
out:
    if (c->check_sweep) {
        tcgpu_sweep_end(c->check_sweep);
        c->check_sweep = NULL;
    }
    if (c->fine || c->coarse)
        ctl_end_runs(c);
    tcgpu_auto_report *rep = c->rep;
    int finite = isfinite(rep->norm_error);
    for (int64_t i = 0; !st && finite && i < c->d; ++i) /* prob is set only on success */
        finite = isfinite(c->prob[i]);
    if (!st && !finite)
        st = tcgpu_fail(TCGPU_ERUNTIME,
                        "the propagation diverged (norm error %g at step parameter %g); "
                        "use a smaller step parameter (kappa), or the Magnus-4 method",
                        rep->norm_error, rep->kappa);
    rep->seconds = wall() - c->t_begin;
    c->phase = CTL_FINISH;
    ask(req, TCGPU_CONTROL_DONE, NULL, NULL, 0, NULL, NULL);
    req->count = 0;
    return st;
}

void tcgpu_control_free(tcgpu_control *c) {
    if (!c)
        return;
    tcgpu_sweep_end(c->check_sweep);
    tcgpu_sweep_end(c->fine);
    tcgpu_sweep_end(c->coarse);
    far_field_free(c->ff);
    free(c->shift);
    free(c->by_slope);
    free(c->grp_lo);
    free(c->grp_hi);
    free(c->tie);
    free(c->start);
    free(c->buf);
    free(c);
}
