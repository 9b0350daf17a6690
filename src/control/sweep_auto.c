/* Accuracy control of one sweep: window from the model's time scales, grown until the
 * start and readout checks pass; step parameter halved until Richardson's estimate passes.
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
 *  - readout window: the residual falls like Tr^-2 (or faster), so the error at Tr is about
 *    TV(P(Tr/r), P(Tr)) / (r^2 - 1); the residual oscillates with Tr, so two earlier readouts
 *    (r = 1.3 and 1.13) are compared and the larger estimate kept; heff accepts no window
 *    before Tr = 2 g^2/(beta eps), where its residual has risen and fallen (default_scales);
 *  - start window: sqrt(L), L the leakage out of the dressed ground state at -T0 of a state
 *    propagated there from a dressed start at -1.3 T0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "adiabatic.h"
#include "march_service.h"
#include "tcgpu/propagate.h"

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    double t0_floor; /* heff: the window starts at t > 0 */
    double T0, Tr, kappa;
    double missed;   /* nonadiabatic weight a shrunk window may miss (added to the estimate) */
    double Tr_floor; /* heff: no window is accepted before Tr reaches it */
    int by_rank;     /* readouts label eigenvectors by energy rank (adiabatic sweeps) */
} scales;

/* Time scales: the transition ~ g sqrt(N)/beta + 1/sqrt(beta) around the channel resonances
 * at t = e_k/beta, the redistribution between channels ~ g^2 N/(beta de) for K >= 2. */
static scales default_scales(const tcgpu_model *m, double tol) {
    scales s = {0, 0, 0, 0.5, 0, 0, 0};
    double g = m->g, beta = m->beta, n = (double)(m->N > 1 ? m->N : 1);
    /* Neither window check can see a transition that has not happened yet, so the windows
     * start on the resonance scale g sqrt(N)/beta: shrunk by 1/sqrt(c), c = 2 pi g^2/beta, the
     * readout of tc K = 1, N = 1000, beta = 1 agreed at Tr/1.3 ... Tr = 20.4 and missed the
     * whole nonadiabatic weight 1 - P_N = 1.9e-3 that arrives later (estimate 2e-7). Only where
     * that weight cannot reach the tolerance may they shrink: for the paper's models the
     * exact solutions leave at most K x/(1 - x), x = exp(-c), outside the adiabatic outcome
     * (tc: 1 - (x, x)_N <= x/(1 - x); Demkov-Osherov: K levels). There the dressed start and
     * readout are exact well inside the resonance scale, and the weight is added to the
     * estimate: tc K = 1, N = 1000, beta = 0.05 took (-91, 91) and reached TV 1.9e-13, where
     * T0 = 955 did not finish in 20 minutes (every unit of time costs ~|V| = 2.4e4 Chebyshev
     * terms of a 1001-state matrix). */
    double adiab = 6.283185307179586 * g * g / beta, x = exp(-adiab);
    double missed = (m->K > 1 ? m->K : 1) * x / (1 - x);
    int shrink =
        (m->kind == TCGPU_MODEL_TC || m->kind == TCGPU_MODEL_LZ || m->kind == TCGPU_MODEL_DO) &&
        missed < tol / 10;
    s.missed = shrink ? missed : 0;
    double ttr = g * sqrt(n) / beta * (shrink ? 1.0 / sqrt(adiab) : 1.0) + 1.0 / sqrt(beta);
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
        /* The readout's residual rises and falls before it settles: for n = 1 it depends on
         * eps t beta/g^2 alone, with a node at 0.7 and its last maximum at 1.3, falling
         * monotonically after (~t^-4.6). Readouts at Tr/1.3, Tr/1.13 and Tr that straddle that
         * maximum agree, so the window check passed on its top (beta = 0.238: Tr = 12, TV
         * 1.3e-6, estimate 2e-7). No window is accepted before t_c of one pair (eq 72, n = 1):
         * there the level step 2 eps is 4 times the pair's coupling g^2/(beta t) and Tr/1.3
         * lies past that maximum. More pairs widen the gaps and bring the maximum earlier
         * (0.9 at n = 2, 0.4 at n = 5), so the one-pair scale bounds theirs; for n = 50 it is
         * below the ladder's start tc/10. */
        s.Tr_floor = 2 * g * g / (beta * eps);
        return s;
    }
    /* Start small: the start and readout checks grow the window where the sweep needs it
     * (slow sweeps follow the ground state so closely that short windows suffice). */
    s.T0 = 1.5 * ttr - emin / beta;
    s.Tr = 1.5 * ttr + emax / beta;
    /* Where the exact solution leaves at most tol/10 outside the adiabatic outcome, the sweep
     * stays adiabatic from any readout time on, and eigenvalues of the real symmetric H(t) do
     * not cross: the readout may label each eigenvector by its energy rank at once, instead of
     * waiting for the last diabatic crossing and for the slow redistribution between channels
     * (t_c = g^2 N/(beta eps), 800 at N = 20, eps = 0.5, beta = 0.05) to end. Then the window
     * ends on the resonance scale; the ladder still grows it until three readouts agree. */
    s.by_rank = shrink;
    if (m->kind == TCGPU_MODEL_TC && m->K >= 2 && isfinite(gap) && !shrink)
        s.Tr += 2 * g * g * n / (beta * gap); /* t_c / 2, t_c = g^2 N/(beta eps) for eq 59 */
    return s;
}

/* Default fine step: kappa = 0.5 reached TV ~1e-8 at tol 1e-6 on tc K = 1 N = 100 and K = 2
 * N = 20 (docs/numerics.md); the error goes like kappa^4. */
static double default_kappa(double tol) {
    double k = 0.5 * pow(tol / 1e-6, 0.25);
    return fmin(k, 1.0);
}

typedef struct {
    tcgpu_sweep *fine, *coarse;
} run_pair;

static void pair_end(run_pair *p) {
    tcgpu_sweep_end(p->fine);
    tcgpu_sweep_end(p->coarse);
    p->fine = p->coarse = NULL;
}

static void count(tcgpu_auto_report *rep, const run_pair *p) {
    const tcgpu_sweep *r[2] = {p->fine, p->coarse};
    for (int i = 0; i < 2; ++i)
        if (r[i]) {
            rep->steps += tcgpu_sweep_steps(r[i]);
            rep->applications += tcgpu_sweep_applications(r[i]);
        }
}

/* Whether this sweep may march its fine and coarse runs on two threads: a core is spare (the
 * caller runs fewer sweeps than cores, so this thread is not in an active parallel region) and
 * no march service batches the advances (it is bound to this thread only). */
static int two_threads(void) {
#ifdef _OPENMP
    return omp_get_active_level() == 0 && omp_get_max_threads() >= 2 && !march_service_bound();
#else
    return 0;
#endif
}

/* Advance both runs to t and read them out into pf, pc. The two runs are independent: with a
 * spare core they march side by side (one sweep on 2 cores: wall time 2/3 of one after the
 * other, the fine run's share; CPU time and results unchanged). */
static tcgpu_status pair_readout(run_pair *p, double t, double *pf, double *pc) {
    tcgpu_status st = TCGPU_OK, sc = TCGPU_OK;
    tcgpu_sweep *run[2] = {p->fine, p->coarse};
    tcgpu_status *out[2] = {&st, &sc};
    char msg[512] = ""; /* the coarse run's failure, whose message is another thread's */
#ifdef _OPENMP
#pragma omp parallel for num_threads(2) schedule(static, 1) if (two_threads())
#endif
    for (int r = 0; r < 2; ++r)
        if (t > tcgpu_sweep_time(run[r]) && (*out[r] = tcgpu_sweep_advance(run[r], t)) && r == 1)
            snprintf(msg, sizeof msg, "%s", tcgpu_last_error());
    if (!st && sc)
        st = tcgpu_fail(sc, "%s", msg);
    if (!st)
        st = tcgpu_sweep_readout_pair(p->fine, p->coarse, pf, pc);
    return st;
}

/* Richardson in the window. Where the readout's residual falls smoothly like Tr^-2 (the
 * dressed readout's next order; tc K = 3, N = 8, beta = 10: TV 2.0e-6 at Tr = 228, 2.4e-7
 * extrapolated), P(Tr) + (P(Tr) - P(Tr/r))/(r^2 - 1) removes it. Where it oscillates, the
 * extrapolation fails, and three checks catch that: the plain window estimate must have
 * fallen like Tr^-2 over the last two rounds, the extrapolations from r = 1.3 and r = 1.13 must
 * agree, and so must this round's and the last round's (Tr/1.5; its error is larger by
 * 1.5^3 - 1 if the remainder falls like Tr^-3). Without the first check, tc K = 2, N = 1,
 * eps = 0.5, beta = 30 stopped at Tr = 22.5 with an estimate of 2.2e-7 and a true 1.2e-6. Returns
 * the estimate (infinite before the second round); x: ex's extrapolations (2d), xlast: the last
 * completed round's (d, valid if xvalid; the caller moves x there once the round is done). */
static double window_extrapolation(const double *ex, const int *have, int64_t d, double *x,
                                   const double *xlast, int xvalid) {
    if (!have[0] || !have[1])
        return INFINITY;
    for (int64_t i = 0; i < d; ++i) {
        x[i] = ex[2 * d + i] + (ex[2 * d + i] - ex[i]) / (1.3 * 1.3 - 1);
        x[d + i] = ex[2 * d + i] + (ex[2 * d + i] - ex[d + i]) / (1.13 * 1.13 - 1);
    }
    return xvalid ? fmax(tcgpu_tv(x, x + d, d), tcgpu_tv(x, xlast, d) / (1.5 * 1.5 * 1.5 - 1))
                  : INFINITY;
}

/* Whether the window estimate fell like Tr^-2 over one ladder round (Tr grew by 1.5). */
static int falls_like_tr2(double now, double before) {
    double q = now / before;
    return before > 0 && q > 0.3 && q < 0.65;
}

/* A run's readouts (pf: Tr/1.3, Tr/1.13, Tr) extrapolated in the window as above, clipped at 0
 * and renormalized to the readout's total. */
static void extrapolate_window(const double *pf, int64_t d, double *prob) {
    double s0 = 0, s1 = 0;
    for (int64_t i = 0; i < d; ++i) {
        prob[i] = fmax(0, pf[2 * d + i] + (pf[2 * d + i] - pf[i]) / (1.3 * 1.3 - 1));
        s0 += pf[2 * d + i];
        s1 += prob[i];
    }
    for (int64_t i = 0; i < d && s1 > 0; ++i)
        prob[i] *= s0 / s1;
}

tcgpu_status tcgpu_sweep_auto(const tcgpu_model *m, const tcgpu_auto_opts *o, double *prob,
                              tcgpu_auto_report *rep) {
    double t_begin = wall(), tol = o->tol > 0 ? o->tol : 1e-6;
    int64_t d = m->dim;
    scales s = default_scales(m, tol);
    if (o->T0 > 0)
        s.T0 = o->T0;
    if (o->Tr > 0)
        s.Tr = o->Tr;
    s.kappa = o->kappa > 0 ? o->kappa : default_kappa(tol);
    int heff = m->kind == TCGPU_MODEL_HEFF, rounds = o->max_doublings > 0 ? o->max_doublings : 8;
    memset(rep, 0, sizeof *rep);
    /* readouts at Tr/1.3, Tr/1.13, Tr: fine (3d), coarse (3d), extrapolated in the step (3d);
     * extrapolated in the window: this round's (2d: from r = 1.3 and 1.13), the last round's,
     * the coarse run's (d) */
    double *buf = malloc((size_t)d * 13 * sizeof *buf);
    if (!buf)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for dimension %lld", (long long)d);
    double *pf = buf, *pc = buf + 3 * d, *ex = buf + 6 * d, *xw = buf + 9 * d,
           *xlast = buf + 11 * d, *xc = buf + 12 * d;
    run_pair p = {NULL, NULL};
    tcgpu_status st = TCGPU_OK;
    /* Start window: grown for the MLZ models, moved towards t = 0+ for heff. A window the
     * caller fixed is checked once, so that its start error is part of the estimate (heff with
     * --T 1e4 starts at t = 1 and ended 0.45 off with an estimate of 2e-9).
     * heff: the check's leak has two parts, the dressing's error (~T0: it falls by 10 per move)
     * and the check's own step error, which does not fall as T0 -> 0+: there H -> M/t and the
     * march's interaction picture turns the couplings at the phase velocities dw/t of the
     * diagonal's 1/t part, which is scale-free in ln t, so every decade is marched alike and the
     * numerical propagator follows an eigenstate off by ~kappa^4 from M's (n = 1 has dw = 0
     * and no such part). For n >= 2 the leak stalled there (n = 2, beta = 0.238: 2.2e-6 at
     * every T0 <= 1.7e-4, all of it in the upper symmetric state; 1.4e-7 at half the step).
     * That part is the main runs' step error near t = 0, which their Richardson estimate
     * measures: where a move leaves the leak above a quarter of the last one, the check is
     * repeated at half its step, the finer check's leak taken, and its step kept for the next
     * checks if the leak fell by 4 or more (step error; at most 4 halvings), else the start
     * moves on (a dressing not yet in its ~T0 regime). heff moves up to 12 times: n = 50,
     * beta = 100 reaches the ~T0 regime only at T0 = 1e-6 and needs T0 = 1e-13. */
    double kc = fmin(s.kappa / 2, 0.25), e_last = INFINITY;
    int halvings = 0;
    for (int r = 0; r < (o->T0 > 0 ? 1 : heff ? 12 : 10); ++r) {
        double e;
        if ((st = tcgpu_sweep_start_error(m, o->method, o->precision, s.T0, kc, &e)))
            goto out;
        if (getenv("TCGPU_DEBUG"))
            fprintf(stderr, "auto: start check T0 %g err %.2e %.1fs\n", s.T0, e, wall() - t_begin);
        while (heff && o->T0 <= 0 && r > 0 && e >= tol / 40 && e > e_last / 4 && halvings < 4) {
            double eh;
            if ((st = tcgpu_sweep_start_error(m, o->method, o->precision, s.T0, kc / 2, &eh)))
                goto out;
            if (getenv("TCGPU_DEBUG"))
                fprintf(stderr, "auto: start check T0 %g kappa %g err %.2e %.1fs\n", s.T0, kc / 2,
                        eh, wall() - t_begin);
            int step_error = eh <= e / 4;
            e = eh;
            if (!step_error)
                break;
            kc /= 2;
            ++halvings;
        }
        rep->err_window = e_last = e;
        if (o->T0 > 0 || e < (heff ? tol / 40 : tol / 4)) /* heff: reads low near t = 0 */
            break;
        s.T0 = heff ? s.T0 / 10 : s.T0 * 1.5;
    }
    double err_start = rep->err_window + s.missed, t0 = heff ? s.T0 : -s.T0;
    /* The window history of the last completed rounds: the plain estimates of the last two and
     * the last one's extrapolation. It is kept when kappa is halved: the runs start again at
     * the Tr reached, and the readouts compared are extrapolated in the step. */
    double ew_last[2] = {0, 0};
    int xvalid = 0;
    for (int attempt = 0, done = 0; !done && attempt < rounds; ++attempt) {
        double step_env = 0; /* the largest step estimate of this attempt's rounds */
        if ((st = tcgpu_sweep_begin(m, o->method, o->precision, t0, s.kappa, 2, &p.fine)) ||
            (st = tcgpu_sweep_begin(m, o->method, o->precision, t0, 2 * s.kappa, 2, &p.coarse)))
            goto out;
        tcgpu_sweep_rank_labels(p.fine, s.by_rank);
        tcgpu_sweep_rank_labels(p.coarse, s.by_rank);
        for (int grow = 0; grow < 20; ++grow) {
            const double ratio[3] = {1.3, 1.13, 1.0};
            int have[3] = {0, 0, 0};
            double far = 0; /* TV of the rung's first two readouts, where it settles the rung */
            for (int q = 0; q < 3; ++q) {
                double t = s.Tr / ratio[q];
                if (!(t > t0) || t < tcgpu_sweep_time(p.fine))
                    continue;
                /* ew >= TV(P(Tr/1.3), P(Tr/1.13)) / 2 / (1.3^2 - 1) whatever P(Tr) is. Where
                 * that TV is above 10 tol (the step errors, each below tol/2, cannot make it;
                 * ew > 3.6 tol) the rung fails without its third readout: tc K = 1, N = 3000,
                 * beta = 4000, tol 1e-4: four of six rungs, whose readouts at t ~ 0.03-0.15
                 * (eigenvectors spread over much of the chain) cost about a second each. */
                if (q == 2 && have[0] && have[1] && o->Tr <= 0 && grow < 18) {
                    for (int64_t i = 0; i < 2 * d; ++i)
                        ex[i] = pf[i] + (pf[i] - pc[i]) / 15;
                    /* only where the step check passes on P(Tr/1.13): a diverging step (rk4
                     * past its edge) must halve kappa, not grow the window unchecked */
                    double apart = tcgpu_tv(ex, ex + d, d);
                    if (apart > 10 * tol && tcgpu_tv(pf + d, pc + d, d) / 15 < tol / 2) {
                        far = apart / 2 / (1.3 * 1.3 - 1);
                        break;
                    }
                }
                if ((st = pair_readout(&p, t, pf + q * d, pc + q * d)))
                    goto out;
                have[q] = 1;
            }
            if (far > 0) { /* the round's history: the bound (falls_like_tr2 reads it low) */
                if (getenv("TCGPU_DEBUG"))
                    fprintf(stderr, "auto: Tr %g fails without its readout at Tr (ew >= %.2e)\n",
                            s.Tr, far);
                ew_last[1] = ew_last[0];
                ew_last[0] = far;
                xvalid = 0;
                s.Tr *= 1.5;
                continue;
            }
            /* Norm lost by the steps is error too (it moves the readout's total by as much):
             * an RK4 grid past its stability edge can damp both runs alike towards zero, whose
             * difference then looked converged (tc K = 2, N = 20, beta = 1, rk4: norm 1e-16,
             * estimate 1.4e-7, TV 1), or overflow (NaN compares false: it must halve too). */
            rep->norm_error = tcgpu_sweep_norm_error(p.fine);
            rep->err_step = fmax(tcgpu_tv(pf + 2 * d, pc + 2 * d, d) / 15, rep->norm_error / 2);
            if (!isfinite(rep->norm_error))
                rep->err_step = INFINITY;
            /* fp32: a norm drift (round-off; Magnus-4 keeps the norm in exact arithmetic) at the
             * step check's bound cannot be halved away, halving adds steps and round-off
             * (tc K = 2, N = 20, beta = 0.05, tol 1e-4: err_step 9.5e-5, 1.9e-5, 7.7e-4,
             * 3.5e-4 over three halvings): the control stops halving and reports the estimate. */
            int roundoff = o->precision == TCGPU_FP32 && rep->norm_error / 2 >= tol / 4;
            if (!(rep->err_step < tol / 2) && o->kappa <= 0 && attempt + 1 < rounds && !roundoff) {
                if (getenv("TCGPU_DEBUG"))
                    fprintf(stderr, "auto: Tr %g kappa %g err_step %.2e: halving\n", s.Tr, s.kappa,
                            rep->err_step);
                s.kappa /= 2; /* start again, keeping the window reached */
                break;
            }
            /* The step error reported is the largest this attempt's rounds read; the decisions
             * use this round's own, as before (where every round passed the check, so does the
             * largest). The step error of a sweep is mostly made in its transition and carried
             * to the end, but every readout stops both runs and each plans its next stretch
             * afresh (S = ceil(phase / kappa) steps): one stop at t = 20 moved the result of
             * the coarse run (2 kappa = 1, a radian per step in the far field) by 3e-7, of the
             * fine run by 4e-9, so Richardson's ratio 16 fails after many stops. heff n = 1,
             * beta = 10: the fine run is off by -1.5e-7 to -2.7e-7 from Tr = 12 on (-1.8e-7 at
             * the end, Tr = 137); TV(P_kappa, P_2kappa)/15 read 1.6e-7 at Tr = 12, wandered
             * down to 1e-9 and ended at 2.5e-8 (coarse run off by -5.6e-7, by -2.7e-6 when it
             * stops only at Tr): the estimate was half the true error at beta = 10-60. */
            double step_now = rep->err_step;
            if (!(step_now <= step_env)) /* NaN too */
                step_env = step_now;
            rep->err_step = step_env;
            /* Compare the readouts after Richardson extrapolation in the step, so that the
             * step error gathered between the readout times does not pass for a window error. */
            for (int64_t i = 0; i < 3 * d; ++i)
                ex[i] = pf[i] + (pf[i] - pc[i]) / 15;
            double unsure = tcgpu_sweep_unsure(p.fine), ew = unsure; /* labels in doubt */
            for (int q = 0; q < 2; ++q)
                if (have[q])
                    ew = fmax(ew, tcgpu_tv(ex + q * d, ex + 2 * d, d) / (ratio[q] * ratio[q] - 1));
            if (getenv("TCGPU_DEBUG")) /* the control's decisions, for tuning */
                fprintf(stderr,
                        "auto: T0 %g Tr %g kappa %g steps %lld err_step %.2e (largest %.2e) ew "
                        "%.2e %.1fs\n",
                        s.T0, s.Tr, s.kappa,
                        (long long)(rep->steps + tcgpu_sweep_steps(p.fine) +
                                    tcgpu_sweep_steps(p.coarse)),
                        step_now, step_env, ew, wall() - t_begin);
            double ex_w = window_extrapolation(ex, have, d, xw, xlast, xvalid);
            if (getenv("TCGPU_DEBUG"))
                fprintf(stderr, "auto: window-extrapolated estimate %.2e\n", ex_w);
            int early = o->Tr <= 0 && s.Tr < s.Tr_floor;
            int use_x = !early && !(ew < tol / 4) && ex_w < tol / 4 && unsure < tol / 4 &&
                        o->Tr <= 0 && falls_like_tr2(ew, ew_last[0]) &&
                        falls_like_tr2(ew_last[0], ew_last[1]);
            /* The step check applies to what is returned. The extrapolation weighs the fine
             * readouts at Tr and Tr/1.3 by 2.45 and -1.45, and their step errors differ (they
             * oscillate with Tr), so its step error can be several times the plain readout's:
             * tc K = 3, N = 8, eps = 0.5, beta = 3, tol 1e-4 (kappa = 1) returned TV 1.05e-4,
             * of which 9.3e-5 was step error, under an estimate of 3.4e-5 that carried the plain
             * readout's 1.8e-5. Richardson on the extrapolated pair (fine and coarse alike) read
             * 9.0e-5. Where it fails the check, kappa is halved as for the plain readout (or,
             * where kappa cannot be halved, the plain readout goes on); the window history is
             * kept, so the halved runs may use the extrapolation at the same Tr. */
            if (use_x) {
                extrapolate_window(pf, d, prob);
                extrapolate_window(pc, d, xc);
                double step_x = fmax(tcgpu_tv(prob, xc, d) / 15, rep->norm_error / 2);
                if (getenv("TCGPU_DEBUG"))
                    fprintf(stderr, "auto: window-extrapolated step error %.2e\n", step_x);
                if (!(step_x < tol / 2)) {
                    use_x = 0;
                    if (o->kappa <= 0 && attempt + 1 < rounds && !roundoff) {
                        if (getenv("TCGPU_DEBUG"))
                            fprintf(stderr, "auto: Tr %g kappa %g: halving for the extrapolation\n",
                                    s.Tr, s.kappa);
                        s.kappa /= 2; /* this round is read again at the halved kappa */
                        break;
                    }
                } else { /* the plain readout's too: the pair's difference can cancel */
                    rep->err_step = fmax(rep->err_step, step_x);
                }
            }
            /* the round is complete: it becomes the window history */
            ew_last[1] = ew_last[0];
            ew_last[0] = ew;
            xvalid = have[0] && have[1];
            if (xvalid)
                memcpy(xlast, xw, (size_t)d * sizeof *xw);
            rep->err_window = err_start + (use_x ? ex_w : ew);
            rep->err_estimate = rep->err_step + rep->err_window;
            rep->T0 = s.T0;
            rep->Tr = s.Tr;
            rep->kappa = s.kappa;
            if (use_x) {
                done = 1;
                break;
            }
            /* fp32 round-off past the step check: a longer window only adds steps (and the
             * window estimate is as noisy): report what was reached. */
            int stuck = roundoff && !(step_now < tol / 2);
            /* Likewise once the step check fails with no halving left (the attempts spent, or
             * a fixed --dt) and the window is no longer the larger error: growing it cannot
             * bring the result within tol, and cost grows like Tr^2 (tc K = 2, N = 4, rk4,
             * one attempt: err_step 8.6e-2 at kappa 0.5 while the window grew past Tr = 1686
             * and on for minutes). NaN stops too; the divergence is reported below. */
            int spent = !(step_now < tol / 2) && (o->kappa > 0 || attempt + 1 >= rounds) &&
                        !(ew > step_now);
            stuck = stuck || spent;
            if ((ew < tol / 4 && !early) || o->Tr > 0 || grow == 19 || stuck) {
                memcpy(prob, pf + 2 * d, (size_t)d * sizeof *prob);
                done = 1;
                break;
            }
            s.Tr *= 1.5;
        }
        count(rep, &p);
        pair_end(&p);
    }
out:
    if (p.fine || p.coarse) {
        count(rep, &p);
        pair_end(&p);
    }
    int finite = isfinite(rep->norm_error);
    for (int64_t i = 0; !st && finite && i < d; ++i) /* prob is set only on success */
        finite = isfinite(prob[i]);
    if (!st && !finite)
        st = tcgpu_fail(TCGPU_ERUNTIME,
                        "the propagation diverged (norm error %g at step parameter %g); "
                        "use a smaller --dt, or --method magnus4",
                        rep->norm_error, rep->kappa);
    rep->seconds = wall() - t_begin;
    free(buf);
    return st;
}
