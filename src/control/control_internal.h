/* The accuracy control's constants, its time scales and its window estimates (src/control.c
 * runs them as a state machine, src/control_scales.c computes them). */
#ifndef TCGPU_CONTROL_INTERNAL_H
#define TCGPU_CONTROL_INTERNAL_H

#include "tcgpu/model.h"

/* The readout ladder: each round reads the runs out at Tr / CTL_RUNG_FAR, Tr / CTL_RUNG_NEAR and
 * Tr, then grows Tr by CTL_LADDER_GROWTH = CTL_RUNG_NEAR, so that a round's readouts at
 * Tr / CTL_RUNG_NEAR and Tr are the next round's first two (CTL_GROW: one new readout a round,
 * as many per decade of Tr as the rounds of CTL_RUNG_FAR with two, and a window accepted at
 * most 1.13 beyond the one that would have passed, 1.277 before). */
#define CTL_RUNG_NEAR 1.13
#define CTL_RUNG_FAR (CTL_RUNG_NEAR * CTL_RUNG_NEAR)
#define CTL_LADDER_GROWTH CTL_RUNG_NEAR
#define CTL_CHAIN_FIRST_RUNG 1.5 /* a chain's first rung: at or below this times T0 */
/* Rounds of one attempt (Tr up to 1.13^66 = 3200 times its first value); from
 * CTL_FAR_LAST_GROW on every rung takes its third readout. */
#define CTL_MAX_GROW 66
#define CTL_FAR_LAST_GROW 62
/* A rung whose first two readouts lie this many tol apart fails without its third. */
#define CTL_FAR_TOL 10
/* A rung whose bound, divided by CTL_LADDER_GROWTH^p per rung, stays above tol is skipped (at
 * most CTL_FAR_SKIP in a row; ctl_round), p the fastest fall of a readout residual seen, with a
 * margin: chains (the tri readout) fell like Tr^-8 ... Tr^-10 (tc K = 1, N = 1e4, beta_c), the
 * dense models like Tr^-14 (tc K = 2, N = 20, eps = 0.5, beta = 1.3: 6.4e-5 at Tr = 22.6,
 * 2.4e-7 at 33.9, where p = 12 had skipped the rung at 36.9 and read at 47.1). */
#define CTL_FAR_DECAY_CHAIN 12
#define CTL_FAR_DECAY 20
#define CTL_FAR_SKIP 6
/* The same for start checks (start_judge; T0 grows by CTL_START_GROWTH), whose error falls
 * like T0^-CTL_START_DECAY or slower in the dense models. */
#define CTL_START_SKIP 2
#define CTL_START_DECAY 8
/* Richardson's denominator for a 4th-order method: error ratio 2^4 between kappa and 2 kappa. */
#define CTL_RICHARDSON 15
/* Fractions of tol each check must meet: step error < tol / CTL_STEP_SHARE, window error <
 * tol / CTL_WINDOW_SHARE, start error < tol / CTL_START_SHARE (heff: CTL_START_SHARE_HEFF,
 * since its start check reads low near t = 0). */
#define CTL_STEP_SHARE 2
#define CTL_WINDOW_SHARE 4
#define CTL_WINDOW_POWER_HIGH 4  /* ctl_window_power */
#define CTL_WINDOW_POWER_CHAIN 6 /* ctl_window_power */
#define CTL_WINDOW_POWER_FAR 3   /* ctl_round: the far field's readouts */
#define CTL_KAPPA_CUT_MAX 0.75  /* ctl_kappa_cut */
#define CTL_START_SHARE 4
#define CTL_START_SHARE_HEFF 40
/* Start checks: the MLZ models grow T0 by CTL_START_GROWTH up to CTL_START_ROUNDS times; heff
 * moves its start towards 0+ by CTL_HEFF_START_SHRINK up to CTL_START_ROUNDS_HEFF times, and
 * halves the check's step up to CTL_START_HALVINGS times where the leak stalls (a leak above
 * 1/CTL_STALL of the last one). */
#define CTL_START_GROWTH 1.5
#define CTL_HEFF_START_SHRINK 10
#define CTL_START_ROUNDS 10
#define CTL_START_ROUNDS_HEFF 12
#define CTL_START_HALVINGS 4
#define CTL_STALL 4
/* The start check's step at tol 1e-6, growing as tol^(1/4) (ctl_start_kappa). */
#define CTL_START_KAPPA_MAX 0.25
/* Steps set by the error (ctl_step_level): the runs' |V|-limited steps double (level + 1, at
 * most CTL_LEVEL_MAX) while the step estimate is below tol / CTL_STEP_SHARE / CTL_LEVEL_ROOM,
 * and halve again above tol / CTL_STEP_SHARE / CTL_LEVEL_BACK. */
#define CTL_LEVEL_MAX 3
#define CTL_LEVEL_ROOM 256
#define CTL_LEVEL_BACK 16
/* ... only where the |V| term is more than this share of the grid's squared rate (elsewhere a
 * level changes nothing), and the stretch before a readout is split into CTL_PROBES parts
 * whose states are compared (ctl_probe_time). */
#define CTL_LEVEL_VSHARE 0.9
#define CTL_PROBES 4
/* The far field (far_field.h): its estimate of the readout residual at T2 is added to the
 * window estimate (ctl_round); a try that failed is repeated where
 * its measures predict a pass, times CTL_FAR_FIELD_MARGIN (at most CTL_FAR_FIELD_LEAP times
 * further), at most CTL_FAR_FIELD_TRIES times (far_try); the ladder reads nothing before a
 * try at most CTL_FAR_FIELD_SKIP times ahead where its last estimate was above
 * CTL_FAR_FIELD_DENSE_FAR tol (some rungs from passing) and the forecast is one (a least
 * weight of CTL_FAR_FIELD_SURE or more: tc K = 2, N = 40, eps = 0.5, beta = 3 read 0.039 at
 * t = 32.6 and asked for 78.6; its dense readouts passed at 41.6). */
#define CTL_FAR_FIELD_MARGIN 1.1
#define CTL_FAR_FIELD_TRIES 4
#define CTL_FAR_FIELD_LEAP 2
#define CTL_FAR_FIELD_SKIP 2.5
#define CTL_FAR_FIELD_DENSE_FAR 100
#define CTL_FAR_FIELD_SURE 0.2
/* No window is accepted before CTL_IN_SECTOR_MARGIN times the last in-sector crossing of a
 * populated state (ctl_in_sector_crossing; populated: above tol / CTL_IN_SECTOR_POP). */
#define CTL_IN_SECTOR_MARGIN 1.25
#define CTL_IN_SECTOR_POP 10
/* Step-halving attempts when the caller sets none. */
#define CTL_DEFAULT_ATTEMPTS 8
#define CTL_DEFAULT_TOL 1e-6

typedef struct {
    double t0_floor; /* heff: the window starts at t > 0 */
    double T0, Tr, kappa;
    double missed;   /* nonadiabatic weight a shrunk window may miss (added to the estimate) */
    double nonadiab; /* bound on the exact solution's weight outside the adiabatic outcome
                      * (tc, lz, do: K x/(1 - x); INFINITY for the other models) */
    double Tr_floor; /* heff: no window is accepted before Tr reaches it */
    int by_rank;     /* readouts label eigenvectors by energy rank (adiabatic sweeps) */
} ctl_scales;

/* The model's time scales and the default window for tol. */
ctl_scales ctl_default_scales(const tcgpu_model *m, double tol);
/* The default fine step parameter for tol. */
double ctl_default_kappa(double tol);
double ctl_start_kappa(double kappa, double tol);
/* Richardson in the window (see src/control_scales.c); returns the estimate. */
double ctl_window_extrapolation(const double *ex, const int *have, int64_t d, double *x,
                                const double *xlast, int xvalid);
int ctl_falls_like_tr2(double now, double before);
void ctl_extrapolate_window(const double *pf, int64_t d, double *prob);

#endif
