/* What the single-channel scaling checks (validate_scaling.c at one N, validate_scaling_large.c
 * across N) share: the sweep they run, how they read the critical rate and the peak from a
 * distribution, and the fit of eq 55. */
#ifndef TCGPU_VALIDATE_SCALING_H
#define TCGPU_VALIDATE_SCALING_H

#include <stddef.h>
#include <stdint.h>

#include "validate.h"
#include "validate_fit.h"

#define V_SCALING_TOL 1e-4

/* tc K = 1, g = 1 at the campaign's tolerance. */
void v_single_sweep(vsweep *s, int64_t N, double beta);

/* The peak of P as a continuous position; 0 when P has no interior maximum. */
double v_peak_position(const double *p, int64_t N);

/* ln(P_1/P_0) of the simulated distribution (0 where P_0 = P_1, eq 47) and in *tv_bound how far
 * the sweep's TV error could move it at most (all of it on P_0 and P_1). */
double v_ln_p1_p0(const vsweep *s, double *tv_bound);

/* Eq 55 on n sweeps: u[i] = 1 - beta_i/beta_c, the peaks of the simulated (ms) and exact (me)
 * distributions, and m_peak = A u^mu fitted to each (slope mu, intercept ln A); *dmax is the
 * largest |ms - me|. Returns 0, or -1 when a distribution has no interior peak (no fit). */
int v_fit_peaks(const vsweep *s, size_t n, double beta_c, double *u, double *ms, double *me,
                v_fit *fm, v_fit *fe, double *dmax);

#endif
