/* The accuracy control's state (src/control.c, src/control_round.c). */
#ifndef TCGPU_CONTROL_IMPL_H
#define TCGPU_CONTROL_IMPL_H

#include "control_internal.h"
#include "eig.h"
#include "far_field.h"
#include "tcgpu/control.h"

typedef enum {
    CTL_START,       /* begin a start check; ask to advance it */
    CTL_START_READ,  /* ask to read it out */
    CTL_START_JUDGE, /* its error: another check, or the runs */
    CTL_ATTEMPT,     /* begin the fine and coarse runs (or finish) */
    CTL_GROW,        /* a new rung set at Tr (or the attempt ends) */
    CTL_RUNG,        /* the next readout time: ask to advance both runs */
    CTL_PROBE,       /* both runs stopped short of the readout: compare their states */
    CTL_RUNG_READ,   /* ask to read both out */
    CTL_RUNG_DONE,   /* the readout is in */
    CTL_ROUND,       /* judge the rung set: halve, grow or stop */
    CTL_FINISH
} ctl_phase;

struct tcgpu_control {
    const tcgpu_model *m;
    const eig_device *dense; /* the dense frames' device, or NULL */
    tcgpu_auto_opts o;
    double *prob;
    tcgpu_auto_report *rep;
    int64_t d;
    double tol, t_begin;
    int debug; /* TCGPU_DEBUG set: the decisions on stderr, for tuning */
    ctl_scales s;
    int heff, rounds;
    ctl_phase phase;
    double *buf, *pf, *pc, *ex, *xw, *xlast, *xc, *pr;
    tcgpu_cplx *start; /* the runs' dressed start at t0 (has_start: computed) */
    int has_start;
    /* start checks */
    tcgpu_sweep *check_sweep;
    double kc, check_kappa, e, e_last;
    int start_round, halving, halvings;
    /* the runs */
    double err_start, t0;
    tcgpu_sweep *fine, *coarse;
    int attempt, done, grow, q, have[3], xvalid;
    int carry; /* the next round starts with this round's readout at Tr (CTL_GROW) */
    double step_env, far;
    double probe_from, probe_to; /* the stretch being probed (ctl_probe_time) */
    int probes;
    /* The window history of the last completed rounds: the plain estimates of the last two and
     * the last one's extrapolation. It is kept when kappa is halved: the runs start again at
     * the Tr reached, and the readouts compared are extrapolated in the step. */
    double ew_last[2];
    /* The far field's readouts (far_field.h): from the first rung past every crossing where
     * the sectors have separated; tried again from far_next (far_try's forecast) where they
     * had not, at most CTL_FAR_FIELD_TRIES times. */
    far_field *ff;
    int far_ok, far_tries;
    double far_next;
    double dense_ew; /* the last rung set's window estimate or bound (0: none judged yet) */
    /* In-sector crossings (ctl_in_sector_crossing): each diabatic state's second-order shift
     * times t, and the states ordered by slope with each one's group range in that order
     * (NULL where not computed: chains, heff, 1/t terms), and the tie groups
     * (adiabatic_tie_groups). */
    double *shift;
    int64_t *by_slope, *grp_lo, *grp_hi, *tie;
};

void ctl_debug(const tcgpu_control *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Ends the fine and coarse runs, counting their steps into the report. */
void ctl_end_runs(tcgpu_control *c);
/* Whether the rung set at Tr fails without its third readout (c->far set); src/control_round.c. */
int ctl_rung_far(tcgpu_control *c);
/* The runs' grid level from a step estimate e of their state now (ctl_step_level; lower: the
 * estimate may also lower it), and the
 * next stop on the way to t where the states are compared for one (ctl_probe_time). */
void ctl_step_level(tcgpu_control *c, double e, int lower);
double ctl_probe_time(tcgpu_control *c, double t);
/* Judges a completed (or cut short) rung set and sets the next phase. */
void ctl_round(tcgpu_control *c);
/* The window's share of tol given the step estimate (ctl_round), and the checks a bound skips
 * (ctl_round's rungs, start_judge's start checks). */
double ctl_window_share(const tcgpu_control *c, double err_step);
double ctl_window_power(const tcgpu_control *c);
double ctl_kappa_cut(double err, double budget);
int ctl_far_skips(double bound, double growth, double decay, double limit, int room);
/* The last time a diabatic state populated above tol / CTL_IN_SECTOR_POP in p still crosses
 * another of its slope group (second-order lines a + shift / t); 0 where none, or not computed. */
double ctl_in_sector_crossing(const tcgpu_control *c, const double *p);
void ctl_in_sector_setup(tcgpu_control *c);
double ctl_far_decay(const tcgpu_control *c);

#endif
