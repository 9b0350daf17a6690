/* The TWA trajectory in the units the integrator uses: time tau = sqrt(beta) t, amplitudes
 * divided by sqrt(N), and the interaction picture with respect to the diagonal,
 *   psi = sqrt(N) Y[0] exp(-i tau^2/2),  a_k = sqrt(N) Y[1+2k] exp(-i e_k t/2),
 *   b_k = sqrt(N) Y[2+2k] exp(-i e_k t/2),
 * so that only the coupling terms, with phases theta_k = tau^2/2 - (e_k/sqrt(beta)) tau, are
 * integrated: the far field's fast rotation beta t of psi is taken exactly. */
#ifndef TCGPU_TWA_INTERNAL_H
#define TCGPU_TWA_INTERNAL_H

#include <complex.h>
#include <stdint.h>

#include "tcgpu/exact.h"

#define TWA_MAX_Y (1 + 2 * TCGPU_MAX_CHANNELS)

typedef struct {
    int K;
    double G;                     /* g sqrt(N / beta): coupling in these units */
    double e[TCGPU_MAX_CHANNELS]; /* e_k / sqrt(beta) */
    double rtol, atol;            /* per-component error scale atol + rtol |y| */
} twa_flow;

typedef struct {
    int64_t steps, rejected;
    double drift; /* max change of the invariants (units of N) over the accepted steps */
} twa_count;

/* Integrates y from tau0 to tau1; returns 1 if the step size underflowed, 2 if stopped on
 * request (tcgpu_request_stop). */
int twa_integrate(const twa_flow *f, double complex *y, double tau0, double tau1, twa_count *c);

/* First-order adiabatic dressing of the atom amplitudes by the molecule at tau (far from every
 * resonance): turns bare vacuum noise into the noise of the instantaneous Bogoliubov vacuum. */
void twa_dress_start(const twa_flow *f, double complex *y, double tau);

/* The inverse at the readout: the molecule and atom amplitudes with their first-order slaved
 * (off-resonant) parts removed, written to z. */
void twa_undress_readout(const twa_flow *f, const double complex *y, double tau, double complex *z);

/* |Y0|^2 + sum_k (|A_k|^2 + |B_k|^2)/2 (the Weyl symbol of N / N, up to the constant). */
double twa_total(const twa_flow *f, const double complex *y);

#endif
