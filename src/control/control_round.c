/* The accuracy control's judgement of a rung set (src/control.c has the estimates and the
 * phases): halve the step, grow the window, or stop. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adiabatic.h"
#include "adiabatic_labels.h"
#include "control_impl.h"
#include "propagate_internal.h"

static const double ratio[3] = {CTL_RUNG_FAR, CTL_RUNG_NEAR, 1.0};

static int imin(int a, int b) { return a < b ? a : b; }

/* ew >= TV(P(Tr/1.3), P(Tr/1.13)) / 2 / (1.3^2 - 1) whatever P(Tr) is. Where that TV is above
 * 10 tol (the step errors, each below tol/2, cannot make it; ew > 3.6 tol) the rung fails
 * without its third readout: tc K = 1, N = 3000, beta = 4000, tol 1e-4: four of six rungs,
 * whose readouts at t ~ 0.03-0.15 (eigenvectors spread over much of the chain) cost about a
 * second each. */
int ctl_rung_far(tcgpu_control *c) {
    int64_t d = c->d;
    if (!(c->have[0] && c->have[1] && c->o.Tr <= 0 && c->grow < CTL_FAR_LAST_GROW))
        return 0;
    for (int64_t i = 0; i < 2 * d; ++i)
        c->ex[i] = c->pf[i] + (c->pf[i] - c->pc[i]) / CTL_RICHARDSON;
    /* only where the step check passes on P(Tr/1.13): a diverging step (rk4 past its edge) must
     * halve kappa, not grow the window unchecked */
    double apart = tcgpu_tv(c->ex, c->ex + d, d);
    if (apart > CTL_FAR_TOL * c->tol &&
        tcgpu_tv(c->pf + d, c->pc + d, d) / CTL_RICHARDSON < c->tol / CTL_STEP_SHARE) {
        c->far = apart / 2 / (CTL_RUNG_FAR * CTL_RUNG_FAR - 1);
        return 1;
    }
    return 0;
}

/* Levels for Magnus-4 runs with an automatic step only: RK4's |V| term is its stability limit
 * (h |V| < 2.8), and a step the caller fixed stays fixed. */
static int ctl_levels(const tcgpu_control *c) {
    return c->o.kappa <= 0 && c->o.method == TCGPU_METHOD_MAGNUS4 && c->fine && c->coarse;
}

/* Steps set by the error. Where the couplings are large against the phase velocities of the
 * interaction picture (tc K = 1 at large N: |V| = 7.7e5 at N = 1e4 against beta t <= 3300),
 * the grid's |V| term sets the step, and it is conservative there: at N = 1e4, beta_c, tol 1e-4
 * the step estimate read 1.8e-10 with the budget at 5e-5. Each readout of the ladder measures
 * the error made so far (TV(P_kappa, P_2kappa) / 15); where it is far below the budget, both
 * runs take their next stretches with that term weighted 1/4 (|V|-limited steps twice as long,
 * whose error per unit time is at most 16 times larger, and the Chebyshev exponentials take
 * longer strides at fewer applications per unit time); where it rises towards the budget the
 * level falls back. Both runs change together, so the coarse run's steps stay twice the fine
 * run's on every stretch and Richardson's ratio 16 holds stretch by stretch, as across the
 * readouts' own replanning. A level that overshoots is caught by the step check like any
 * other step (halving: the runs start again at level 0). */
void ctl_step_level(tcgpu_control *c, double e, int lower) {
    if (!ctl_levels(c))
        return;
    double budget = c->tol / CTL_STEP_SHARE, t = tcgpu_sweep_time(c->fine);
    int level = tcgpu_sweep_vlevel(c->fine), was = level;
    if (e < budget / CTL_LEVEL_ROOM && level < CTL_LEVEL_MAX &&
        tcgpu_sweep_vshare(c->fine, t) > CTL_LEVEL_VSHARE)
        level++;
    else if (lower && !(e <= budget / CTL_LEVEL_BACK) && level > 0)
        level--;
    if (level != was) {
        ctl_debug(c, "t %g err_step %.2e: grid level %d", t, e, level);
        tcgpu_sweep_set_vlevel(c->fine, level);
        tcgpu_sweep_set_vlevel(c->coarse, level);
    }
}

/* Between readouts the runs' states themselves are compared: their distance bounds the total
 * variation between any readouts of them, so an O(states) sum, far below a readout's cost,
 * checks the step on the first stretch (start to the first readout: 28 % of the
 * window at N = 1e4, beta_c), which is cut at 1/8, 1/4 and 1/2 of its length while a higher
 * level could still lengthen the steps. The distance only raises the level: it carries the
 * eigenphases' errors, which the populations do not (tc K = 1, N = 1e4, beta_c at level 4:
 * distance 9e-4 where the readouts' estimate read 1.9e-7). Returns the next stop on the way
 * to t. */
double ctl_probe_time(tcgpu_control *c, double t) {
    if (!ctl_levels(c) || tcgpu_sweep_vlevel(c->fine) >= CTL_LEVEL_MAX)
        return t;
    double tf = tcgpu_sweep_time(c->fine);
    if (c->probe_to != t) {
        c->probe_to = t;
        c->probe_from = tf;
        c->probes = 0;
    }
    if (c->probes >= CTL_PROBES - 1 || !(tcgpu_sweep_vshare(c->fine, tf) > CTL_LEVEL_VSHARE))
        return t;
    c->probes++;
    return c->probe_from + (t - c->probe_from) * ldexp(1, c->probes - CTL_PROBES);
}

/* The window's share of tol. The shares (start tol/4, steps tol/2, window tol/4) decide which
 * error a round works on; once the start and the steps are measured, the window may have half
 * of what they leave, so the estimate stays below (tol + start + steps) / 2 <= tol, the bound
 * the fixed shares gave. Most sweeps' step error sits far below tol/2 (tc K = 2, N = 10,
 * eps = 0.25, beta = 20.84, tol 1e-6: start 1.5e-7, steps 1.3e-7), and the window's steps grow
 * like Tr^2 in the far field: that sweep's rung at Tr = 88.8 read a window error of 2.64e-7
 * against tol/4 = 2.5e-7, and the next rung, Tr = 133, took 1.12e6 steps of its 1.63e6.
 * heff keeps tol/4: its window estimate can read 0.3-0.5 of the window error where the
 * oscillating readout residual sits near a node of both comparisons (docs/numerics.md, Open
 * problems), and with the larger share such a rung passed over tol: 40 rates beta = 0.05-100,
 * tol 1e-6: n = 2, beta = 0.351: TV 1.08e-6 (estimate 4.3e-7); n = 5, beta = 1.13: TV 2.9e-6
 * (3.9e-7). With tol/4 the four scans (n = 1, 2, 5, 10) end within tol, est >= 0.51 TV, for
 * 3-6 % more steps. */
double ctl_window_share(const tcgpu_control *c, double err_step) {
    if (c->heff)
        return c->tol / CTL_WINDOW_SHARE;
    double left = (c->tol - c->err_start - err_step) / 2;
    return fmax(c->tol / CTL_WINDOW_SHARE, isfinite(left) ? left : 0);
}

/* The power of Tr the window estimate assumes for the readout's residual: TV(P(Tr/r), P(Tr))
 * is (r^p - 1) times the residual at Tr where that falls like Tr^-p. Tr^-2 (the second-order
 * dressing's next term) up to the third order; the readouts of orders 4-6 fall like Tr^-5.8
 * and Tr^-7.5 (tc K = 2, N = 10, eps = 0.25, beta = 20.84, fixed windows Tr = 22.6 and 32:
 * 2.0e-7 -> 2.7e-8 and 1.5e-8 -> 1.1e-9), and Tr^-2 overstated their residual 5-7 times, so
 * the ladder went on a rung or two past the window needed (tc K = 2, N = 10, beta = 88.6: ew
 * 5.0e-7 at Tr = 13.6 against a share of 4.4e-7, 1.6 times the steps to Tr = 17.4 for a TV of
 * 6e-8). Tr^-4 there keeps a factor ~2 over the decay measured, for the oscillation. Chains
 * (one channel, second order) too: their readouts' differences fall like Tr^-8.8 (tc K = 1,
 * N = 10^4, beta_c: 8.6e-5 -> 1.0e-5 from Tr = 0.301 to 0.384) and Tr^-8.6 (N = 10^5: bounds
 * 2.4e-3 -> 7.6e-5 from 0.146 to 0.218), and Tr^-2 took one rung more than the window needed.
 * Chains of more than two states now assume Tr^-6: the true error at fixed windows fell like
 * Tr^-7.9 (N = 10^4, beta_c: TV 6.2e-4, 7.3e-5, 1.05e-5 at T = 0.185, 0.236, 0.301), the
 * estimates' rounds like Tr^-6.8 (N = 1000, 0.1 beta_c) to Tr^-8.5 (N = 1000, beta_c), so Tr^-4
 * overstated the residual ~4.6 times (estimate 4.9e-5 for a TV of 1.05e-5); with Tr^-6 the
 * estimates stay 2.3-3.8 times above the TV (tc K = 1, tol 1e-4: N = 1000, 3000 and 1e4 at
 * 0.5-1 beta_c; tol 1e-6: N = 10-1000 at beta 0.05-100, all within tol, est >= TV/2), and
 * N = 1e4 at 0.5 beta_c stops at Tr = 0.66 instead of 0.85 (39.9 -> 30.1 s). Two-state chains
 * (lz, tc N = 1) keep Tr^-4. The bound of a rung that cannot pass (ctl_rung_far) keeps its
 * Tr^-2 form: larger than Tr^-6's, so the rungs it skips (lengthening the window only) stay as
 * they were; Tr^-6's own bound skipped fewer and read more (N = 1e4, 0.7 beta_c: +9 %). */
double ctl_window_power(const tcgpu_control *c) {
    int chain = adiabatic_tri_applies(c->m);
    if (chain && c->m->dim > 2)
        return CTL_WINDOW_POWER_CHAIN;
    return c->fine && (tcgpu_sweep_dressing(c->fine) >= 4 || chain) ? CTL_WINDOW_POWER_HIGH : 2;
}

/* The factor on kappa after a step check that read err against its budget: the step error of
 * the fourth-order methods goes like kappa^4, so a cut to a quarter of the budget is
 * (budget / (4 err))^(1/4), at most 0.75 and at least 0.5 (the halving it replaces: the
 * control's attempts, --max-halvings, still reach kappa / 2^attempts). A quarter, not a half:
 * the error grows with the window after the check (tc K = 2, N = 20, eps = 0.5, beta = 11.4:
 * 1.23e-6 at kappa 0.5, Tr = 2.9; a cut to half the budget, kappa 0.336, read 5.6e-7 at
 * Tr = 12.5 against 5e-7 and cost an attempt more than the halving). */
double ctl_kappa_cut(double err, double budget) {
    double cut = pow(budget / (4 * err), 0.25);
    return isfinite(cut) ? fmin(CTL_KAPPA_CUT_MAX, fmax(0.5, cut)) : 0.5;
}

/* How many of the next checks (rungs or start checks, each `growth` times the last) to skip
 * after one that read an error bound `bound`: those whose bound, divided by
 * growth^decay per check, stays above `limit`, at most `room`. */
double ctl_far_decay(const tcgpu_control *c) {
    return adiabatic_tri_applies(c->m) ? CTL_FAR_DECAY_CHAIN : CTL_FAR_DECAY;
}

int ctl_far_skips(double bound, double growth, double decay, double limit, int room) {
    int k = 0;
    while (k < room && bound * pow(growth, -decay * (k + 1)) > limit)
        ++k;
    return k;
}

/* In-sector crossings. Two diabatic states of one slope group (sector) follow, to second order
 * in the couplings, the lines a_i + c_i / t, c_i = sum_j V_ij^2 / (b_i - b_j) over the states
 * of other slopes it is coupled to; where two lines still cross after the readout, t* =
 * (c_j - c_i) / (a_i - a_j) > Tr, a readout that labels the eigenvectors of the group by their
 * final order reads the pair swapped if the crossing is passed diabatically (states more than one
 * move apart: couplings of higher order, gaps ~0). tc K = 3, N = 8, levels -1, 0.3, 1.1: beta =
 * 4.13 accepted Tr = 43.0 with TV 3.05e-6 under an estimate of 6.6e-7, beta = 3.23 Tr = 33.3,
 * TV 1.09e-6; the last crossings of populated states ((0,8,0) with (2,3,3), 0.2 apart) lie at
 * 50.9 and 65.0; over the cost matrix's tc rows and 30 more K = 3 rates every other window
 * was past its t* (tc K = 2, N = 20, eps = 0.5, beta = 1.3: 2.3 against Tr = 36.9; K = 3,
 * N = 10, beta = 10: 31.0 against 46.3). */
void ctl_in_sector_setup(tcgpu_control *c) {
    const tcgpu_model *m = c->m;
    int64_t n = m->dim;
    if (m->inverse_t || m->w || c->heff || adiabatic_tri_applies(m))
        return;
    c->shift = calloc((size_t)n, sizeof *c->shift);
    c->by_slope = malloc((size_t)n * sizeof *c->by_slope);
    c->grp_lo = malloc((size_t)n * sizeof *c->grp_lo);
    c->grp_hi = malloc((size_t)n * sizeof *c->grp_hi);
    c->tie = malloc((size_t)n * sizeof *c->tie);
    slope_key *dia = adiabatic_final_order(m); /* ascending slope, then constant */
    if (!c->shift || !c->by_slope || !c->grp_lo || !c->grp_hi || !c->tie || !dia ||
        adiabatic_tie_groups(m, c->tie)) {
        free(dia);
        free(c->shift);
        free(c->by_slope);
        free(c->grp_lo);
        free(c->grp_hi);
        free(c->tie);
        c->shift = NULL;
        c->by_slope = c->grp_lo = c->grp_hi = c->tie = NULL;
        return;
    }
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e) {
            double db = m->b[i] - m->b[m->col[e]];
            if (db != 0)
                c->shift[i] += m->val[e] * m->val[e] / db;
        }
        c->by_slope[i] = dia[i].idx;
    }
    for (int64_t r = 0, lo = 0; r < n; ++r) {
        if (r > 0 && dia[r].b != dia[r - 1].b)
            lo = r;
        c->grp_lo[dia[r].idx] = lo;
    }
    for (int64_t r = n - 1, hi = n; r >= 0; --r) {
        if (r < n - 1 && dia[r].b != dia[r + 1].b)
            hi = r + 1;
        c->grp_hi[dia[r].idx] = hi;
    }
    free(dia);
}

double ctl_in_sector_crossing(const tcgpu_control *c, const double *p) {
    if (!c->shift)
        return 0;
    const tcgpu_model *m = c->m;
    double last = 0;
    for (int64_t i = 0; i < m->dim; ++i) {
        if (!(p[i] >= c->tol / CTL_IN_SECTOR_POP))
            continue;
        for (int64_t r = c->grp_lo[i]; r < c->grp_hi[i]; ++r) {
            int64_t j = c->by_slope[r];
            if (c->tie[j] == c->tie[i]) /* i itself, or tied: read in the diabatic basis */
                continue;
            double t = (c->shift[j] - c->shift[i]) / (m->a[i] - m->a[j]);
            if (t > last)
                last = t;
        }
    }
    return last;
}

/* The runs end; the next attempt (kappa halved) or the end. */
static void end_attempt(tcgpu_control *c) {
    ctl_end_runs(c);
    c->attempt++;
    c->phase = CTL_ATTEMPT;
}

/* The next rung set, at a longer window; carry: it starts with this round's readouts at
 * Tr / CTL_RUNG_NEAR and Tr, those it has (CTL_GROW). */
static void grow(tcgpu_control *c, int carry) {
    c->s.Tr *= CTL_LADDER_GROWTH;
    c->grow++;
    c->carry = carry;
    c->phase = CTL_GROW;
}

void ctl_round(tcgpu_control *c) {
    const tcgpu_auto_opts *o = &c->o;
    tcgpu_auto_report *rep = c->rep;
    int64_t d = c->d;
    double tol = c->tol, *pf = c->pf, *pc = c->pc, *ex = c->ex;
    if (c->far > 0) { /* the round's history: the bound (falls_like_tr2 reads it low) */
        ctl_debug(c, "Tr %g fails without its readout at Tr (ew >= %.2e)", c->s.Tr, c->far);
        c->dense_ew = c->far;
        c->ew_last[1] = c->ew_last[0];
        c->ew_last[0] = c->far;
        c->xvalid = 0;
        /* Rungs that cannot pass are not read: the next rung's estimate can pass only where the
         * residual falls from the bound to tol within the ladder's step, faster than
         * Tr^-ctl_far_decay, which no readout here did (the fastest seen: Tr^-8 per rung, tc
         * K = 1, N = 1e4, beta_c). tc K = 1, N = 1e4, beta_c, tol 1e-4: the bound 0.12 at
         * Tr = 0.11 skips the rung at 0.17, whose two readouts of the 1e4-state chain at
         * t = 0.13 and 0.15 cost 3.5 s. A skip breaks the history that the window
         * extrapolation's decay test reads. */
        double decay = ctl_far_decay(c);
        int skips = ctl_far_skips(c->far, CTL_LADDER_GROWTH, decay, tol,
                                  imin(CTL_FAR_SKIP, CTL_FAR_LAST_GROW - 2 - c->grow));
        for (int k = 1; k <= skips; ++k) {
            c->s.Tr *= CTL_LADDER_GROWTH;
            c->grow++;
            c->ew_last[1] = c->ew_last[0] = 0;
            ctl_debug(c, "Tr %g skipped (ew >= %.2e)", c->s.Tr,
                      c->far * pow(CTL_LADDER_GROWTH, -decay * k));
        }
        grow(c, !skips); /* a far rung's readout at Tr / 1.13 is the next one's first */
        return;
    }
    /* Norm lost by the steps is error too (it moves the readout's total by as much): an RK4
     * grid past its stability edge can damp both runs alike towards zero, whose difference then
     * looked converged (tc K = 2, N = 20, beta = 1, rk4: norm 1e-16, estimate 1.4e-7, TV 1), or
     * overflow (NaN compares false: it must halve too). */
    rep->norm_error = tcgpu_sweep_norm_error(c->fine);
    rep->err_step = fmax(tcgpu_tv(pf + 2 * d, pc + 2 * d, d) / CTL_RICHARDSON, rep->norm_error / 2);
    if (!isfinite(rep->norm_error))
        rep->err_step = INFINITY;
    /* fp32: a norm drift (round-off; Magnus-4 keeps the norm in exact arithmetic) at the step
     * check's bound cannot be halved away, halving adds steps and round-off (tc K = 2, N = 20,
     * beta = 0.05, tol 1e-4: err_step 9.5e-5, 1.9e-5, 7.7e-4, 3.5e-4 over three halvings): the
     * control stops halving and reports the estimate. */
    int roundoff = o->precision == TCGPU_FP32 && rep->norm_error / 2 >= tol / CTL_WINDOW_SHARE;
    int may_halve = o->kappa <= 0 && c->attempt + 1 < c->rounds && !roundoff;
    if (!(rep->err_step < tol / CTL_STEP_SHARE) && may_halve) {
        double cut = ctl_kappa_cut(rep->err_step, tol / CTL_STEP_SHARE);
        ctl_debug(c, "Tr %g kappa %g err_step %.2e: kappa cut by %.3g", c->s.Tr, c->s.kappa,
                  rep->err_step, cut);
        c->s.kappa *= cut; /* start again, keeping the window reached */
        end_attempt(c);
        return;
    }
    /* The step error reported is the largest this attempt's rounds read; the decisions use
     * this round's own (where every round passed the check, so does the largest). The step
     * error of a sweep is mostly made in its transition and carried to the end, but every
     * readout stops both runs and each plans its next stretch afresh (S = ceil(phase / kappa)
     * steps): one stop at t = 20 moved the result of the coarse run (2 kappa = 1, a radian per
     * step in the far field) by 3e-7, of the fine run by 4e-9, so Richardson's ratio 16 fails
     * after many stops. heff n = 1, beta = 10: the fine run is off by -1.5e-7 to -2.7e-7 from
     * Tr = 12 on (-1.8e-7 at the end, Tr = 137); TV(P_kappa, P_2kappa)/15 read 1.6e-7 at
     * Tr = 12, wandered down to 1e-9 and ended at 2.5e-8 (coarse run off by -5.6e-7, by -2.7e-6
     * when it stops only at Tr): the estimate was half the true error at beta = 10-60. */
    double step_now = rep->err_step;
    if (!(step_now <= c->step_env)) /* NaN too */
        c->step_env = step_now;
    rep->err_step = c->step_env;
    /* Compare the readouts after Richardson extrapolation in the step, so that the step error
     * gathered between the readout times does not pass for a window error. */
    for (int64_t i = 0; i < 3 * d; ++i)
        ex[i] = pf[i] + (pf[i] - pc[i]) / CTL_RICHARDSON;
    double unsure = tcgpu_sweep_unsure(c->fine), ew = unsure; /* labels in doubt */
    double pw = ctl_window_power(c);
    /* Far-field readouts (far_field.h) differ from rung to rung by the continuation's error,
     * which falls like Tr^-4.2 ... Tr^-4.8 (docs/numerics.md); their common residual at T2 is
     * the far field's own estimate, added. */
    double far_r = fmax(tcgpu_sweep_far_resid(c->fine), tcgpu_sweep_far_resid(c->coarse));
    int far = c->ff && c->s.Tr / CTL_RUNG_FAR >= far_field_start(c->ff) && far_r >= 0;
    if (far)
        pw = CTL_WINDOW_POWER_FAR;
    for (int q = 0; q < 2; ++q)
        if (c->have[q])
            ew = fmax(ew, tcgpu_tv(ex + q * d, ex + 2 * d, d) / (pow(ratio[q], pw) - 1));
    if (far_r > 0)
        ew += far_r;
    ctl_debug(c, "T0 %g Tr %g kappa %g steps %lld err_step %.2e (largest %.2e) ew %.2e", c->s.T0,
              c->s.Tr, c->s.kappa,
              (long long)(rep->steps + tcgpu_sweep_steps(c->fine) + tcgpu_sweep_steps(c->coarse)),
              step_now, c->step_env, ew);
    ctl_debug(c, "applications: fine run %lld, coarse run %lld",
              (long long)tcgpu_sweep_applications(c->fine),
              (long long)tcgpu_sweep_applications(c->coarse));
    double ex_w = ctl_window_extrapolation(ex, c->have, d, c->xw, c->xlast, c->xvalid);
    ctl_debug(c, "window-extrapolated estimate %.2e", ex_w);
    int early = o->Tr <= 0 && c->s.Tr < c->s.Tr_floor;
    double crossing = o->Tr <= 0 ? ctl_in_sector_crossing(c, pf + 2 * d) : 0;
    if (!early && c->s.Tr < CTL_IN_SECTOR_MARGIN * crossing) {
        early = 1;
        ctl_debug(c, "Tr %g: a populated state crosses in its sector until t = %g", c->s.Tr,
                  crossing);
    }
    double share = ctl_window_share(c, c->step_env);
    int use_x = !early && !far && !(ew < share) && ex_w < share && unsure < share && o->Tr <= 0 &&
                ctl_falls_like_tr2(ew, c->ew_last[0]) &&
                ctl_falls_like_tr2(c->ew_last[0], c->ew_last[1]);
    /* The step check applies to what is returned. The extrapolation weighs the fine readouts at
     * Tr and Tr/1.3 by 2.45 and -1.45, and their step errors differ (they oscillate with Tr), so
     * its step error can be several times the plain readout's: tc K = 3, N = 8, eps = 0.5,
     * beta = 3, tol 1e-4 (kappa = 1) returned TV 1.05e-4, of which 9.3e-5 was step error, under
     * an estimate of 3.4e-5 that carried the plain readout's 1.8e-5. Richardson on the
     * extrapolated pair (fine and coarse alike) read 9.0e-5. Where it fails the check, kappa is
     * halved as for the plain readout (or, where kappa cannot be halved, the plain readout goes
     * on); the window history is kept, so the halved runs may use the extrapolation at the same
     * Tr. */
    if (use_x) {
        ctl_extrapolate_window(pf, d, c->prob);
        ctl_extrapolate_window(pc, d, c->xc);
        double step_x = fmax(tcgpu_tv(c->prob, c->xc, d) / CTL_RICHARDSON, rep->norm_error / 2);
        ctl_debug(c, "window-extrapolated step error %.2e", step_x);
        if (!(step_x < tol / CTL_STEP_SHARE)) {
            use_x = 0;
            if (may_halve) {
                double cut = ctl_kappa_cut(step_x, tol / CTL_STEP_SHARE);
                ctl_debug(c, "Tr %g kappa %g: kappa cut by %.3g for the extrapolation", c->s.Tr,
                          c->s.kappa, cut);
                c->s.kappa *= cut; /* this round is read again at the smaller kappa */
                end_attempt(c);
                return;
            }
        } else { /* the plain readout's too: the pair's difference can cancel */
            rep->err_step = fmax(rep->err_step, step_x);
            use_x = ex_w < ctl_window_share(c, rep->err_step);
        }
    }
    /* the round is complete: it becomes the window history */
    c->dense_ew = ew;
    c->ew_last[1] = c->ew_last[0];
    c->ew_last[0] = ew;
    c->xvalid = c->have[0] && c->have[1];
    if (c->xvalid)
        memcpy(c->xlast, c->xw, (size_t)d * sizeof *c->xw);
    rep->err_window = c->err_start + (use_x ? ex_w : ew);
    rep->err_estimate = rep->err_step + rep->err_window;
    rep->T0 = c->s.T0;
    rep->Tr = c->s.Tr;
    rep->kappa = c->s.kappa;
    if (use_x) {
        c->done = 1;
        end_attempt(c);
        return;
    }
    /* fp32 round-off past the step check: a longer window only adds steps (and the window
     * estimate is as noisy): report what was reached. */
    int stuck = roundoff && !(step_now < tol / CTL_STEP_SHARE);
    /* Likewise once the step check fails with no halving left (the attempts spent, or a fixed
     * step) and the window is no longer the larger error: growing it cannot bring the result
     * within tol, and cost grows like Tr^2 (tc K = 2, N = 4, rk4, one attempt: err_step 8.6e-2
     * at kappa 0.5 while the window grew past Tr = 1686 and on for minutes). NaN stops too; the
     * divergence is reported at the end. */
    int spent = !(step_now < tol / CTL_STEP_SHARE) &&
                (o->kappa > 0 || c->attempt + 1 >= c->rounds) && !(ew > step_now);
    stuck = stuck || spent;
    if ((ew < share && !early) || o->Tr > 0 || c->grow == CTL_MAX_GROW - 1 || stuck) {
        memcpy(c->prob, pf + 2 * d, (size_t)d * sizeof *c->prob);
        c->done = 1;
        end_attempt(c);
        return;
    }
    grow(c, 1);
}
