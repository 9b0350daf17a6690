/* The accuracy control's time scales, default step and window extrapolation (the control
 * itself: src/control.c; its estimates are described there). */
#include <math.h>

#include "control_internal.h"
#include "tcgpu/propagate.h"

/* The first window spans this many transition times ttr beyond the outermost resonance. */
#define WINDOW_MARGIN 1.5
/* A shrunk window's weight may be missed where it stays below tol / SHRINK_SHARE. */
#define SHRINK_SHARE 10
/* kappa = KAPPA_REF (tol / TOL_REF)^(1/4), at most KAPPA_MAX (docs/numerics.md). */
#define KAPPA_REF 0.5
#define TOL_REF 1e-6
#define KAPPA_MAX 1.0
/* One ladder round scales a Tr^-2 estimate by CTL_LADDER_GROWTH^-2; accepted where it fell
 * like Tr^-p, 1.06 < p < 2.97. */
#define TR2_LOW pow(CTL_LADDER_GROWTH, -2.97)
#define TR2_HIGH pow(CTL_LADDER_GROWTH, -1.06)

/* Time scales: the transition ~ g sqrt(N)/beta + 1/sqrt(beta) around the channel resonances
 * at t = e_k/beta, the redistribution between channels ~ g^2 N/(beta de) for K >= 2. */
ctl_scales ctl_default_scales(const tcgpu_model *m, double tol) {
    ctl_scales s = {0, 0, 0, 0.5, 0, INFINITY, 0, 0};
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
    int exact_bound =
        m->kind == TCGPU_MODEL_TC || m->kind == TCGPU_MODEL_LZ || m->kind == TCGPU_MODEL_DO;
    int shrink = exact_bound && missed < tol / SHRINK_SHARE;
    s.nonadiab = exact_bound ? missed : INFINITY;
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
     * (slow sweeps follow the ground state so closely that short windows suffice). A sweep that
     * stays adiabatic (shrink) follows its dressed ground state through the channel resonances
     * at e_k/beta as well, so its window need not reach them. tc K = 2, N = 20, tol 1e-6,
     * fixed windows (-2, 2): eps = 0.5, beta = 0.24: TV 2.9e-9 (2.4e-9 at the (-12.7, 12.7) that
     * reaches the resonances); eps = 0.1, beta = 0.05: 1.3e-10 (3.9e-11 at 22.7); N = 40, eps =
     * 0.5, beta = 0.3: 2.3e-9 (8.0e-10 at 13.0). */
    s.T0 = WINDOW_MARGIN * ttr - (shrink ? 0 : emin / beta);
    s.Tr = WINDOW_MARGIN * ttr + (shrink ? 0 : emax / beta);
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
double ctl_default_kappa(double tol) {
    double k = KAPPA_REF * pow(tol / TOL_REF, 0.25);
    return fmin(k, KAPPA_MAX);
}

/* The start checks' step: 0.25 (tol/1e-6)^(1/4), half the runs' kappa wherever that follows
 * the same law (tol <= 1.6e-5), at most the runs' kappa where theirs is capped at KAPPA_MAX (a
 * check is one run: the cap, which keeps the coarse run's 2 kappa asymptotic, does not bind
 * it). tol 1e-4: 0.79 where it was 0.25 (before 2026-12-06) and 0.5; tc K = 1, N = 1e4,
 * beta_c: the leaks unchanged to three digits. */
double ctl_start_kappa(double kappa, double tol) {
    return fmin(kappa, CTL_START_KAPPA_MAX * pow(tol / TOL_REF, 0.25));
}

/* Richardson in the window. Where the readout's residual falls smoothly like Tr^-2 (the
 * dressed readout's next order; tc K = 3, N = 8, beta = 10: TV 2.0e-6 at Tr = 228, 2.4e-7
 * extrapolated), P(Tr) + (P(Tr) - P(Tr/r))/(r^2 - 1) removes it. Where it oscillates, the
 * extrapolation fails, and three checks catch that: the plain window estimate must have
 * fallen like Tr^-2 over the last two rounds, the extrapolations from r = 1.3 and r = 1.13 must
 * agree, and so must this round's and the last round's (Tr/g, g = CTL_LADDER_GROWTH; its
 * error is larger by g^3 - 1 if the remainder falls like Tr^-3). Without the first check, tc
 * K = 2, N = 1, eps = 0.5, beta = 30 stopped at Tr = 22.5 with an estimate of 2.2e-7 and a true
 * 1.2e-6. Returns
 * the estimate (infinite before the second round); x: ex's extrapolations (2d), xlast: the last
 * completed round's (d, valid if xvalid; the caller moves x there once the round is done). */
double ctl_window_extrapolation(const double *ex, const int *have, int64_t d, double *x,
                                const double *xlast, int xvalid) {
    if (!have[0] || !have[1])
        return INFINITY;
    for (int64_t i = 0; i < d; ++i) {
        x[i] = ex[2 * d + i] + (ex[2 * d + i] - ex[i]) / (CTL_RUNG_FAR * CTL_RUNG_FAR - 1);
        x[d + i] =
            ex[2 * d + i] + (ex[2 * d + i] - ex[d + i]) / (CTL_RUNG_NEAR * CTL_RUNG_NEAR - 1);
    }
    return xvalid ? fmax(tcgpu_tv(x, x + d, d),
                         tcgpu_tv(x, xlast, d) /
                             (CTL_LADDER_GROWTH * CTL_LADDER_GROWTH * CTL_LADDER_GROWTH - 1))
                  : INFINITY;
}

/* Whether the window estimate fell like Tr^-2 over one ladder round (Tr grew by
 * CTL_LADDER_GROWTH). */
int ctl_falls_like_tr2(double now, double before) {
    double q = now / before;
    return before > 0 && q > TR2_LOW && q < TR2_HIGH;
}

/* A run's readouts (pf: Tr/1.3, Tr/1.13, Tr) extrapolated in the window as above, clipped at 0
 * and renormalized to the readout's total. */
void ctl_extrapolate_window(const double *pf, int64_t d, double *prob) {
    double s0 = 0, s1 = 0;
    for (int64_t i = 0; i < d; ++i) {
        prob[i] =
            fmax(0, pf[2 * d + i] + (pf[2 * d + i] - pf[i]) / (CTL_RUNG_FAR * CTL_RUNG_FAR - 1));
        s0 += pf[2 * d + i];
        s1 += prob[i];
    }
    for (int64_t i = 0; i < d && s1 > 0; ++i)
        prob[i] *= s0 / s1;
}
