/* The semiclassical limit of the K-channel driven Tavis-Cummings model: the truncated Wigner
 * approximation (TWA), an ensemble of mean-field trajectories with Wigner-sampled initial
 * vacuum noise in the atom modes (derivation and measured accuracy: docs/semiclassical.md).
 *
 * Operator form of the Hamiltonian that tcgpu propagates (eq 59, shared/PHYSICS.md):
 *   H = beta t psi^+ psi + sum_k (e_k/2)(a_k^+ a_k + b_k^+ b_k) + g sum_k (psi^+ a_k b_k + h.c.)
 * A pair of channel k is one atom a_k and one atom b_k; n_k = <a_k^+ a_k> = <b_k^+ b_k>.
 * Mean-field equations (lab frame):
 *   i dpsi/dt = beta t psi + g sum_k a_k b_k,  i da_k/dt = (e_k/2) a_k + g psi b_k^*,
 *   i db_k/dt = (e_k/2) b_k + g psi a_k^*.
 * Invariants per trajectory: |psi|^2 + sum_k (|a_k|^2 + |b_k|^2)/2 and |a_k|^2 - |b_k|^2. */
#ifndef TCGPU_SEMICLASSICAL_H
#define TCGPU_SEMICLASSICAL_H

#include <stdint.h>

#include "tcgpu/backend.h"
#include "tcgpu/exact.h"
#include "tcgpu/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t N;              /* molecules at t = -T, >= 1 */
    int K;                  /* channels, 1..TCGPU_MAX_CHANNELS */
    double g, beta;         /* coupling (> 0; the single-trajectory call also takes 0), rate > 0 */
    const double *levels;   /* K pair energies e_k; NULL: e_k = 2(2k - K - 1) eps */
    double eps;             /* used when levels == NULL (K >= 2 needs eps != 0) */
    int64_t trajectories;   /* ensemble size, >= 2 */
    uint64_t seed;          /* trajectory j draws from the counter-based stream (seed, j) */
    double T;               /* sweep from -T to +T; 0: automatic (tcgpu_twa_auto_T) */
    double tol;             /* integrator tolerance (relative); 0: 1e-7 */
    int bare_readout;       /* nonzero: read |a_k|^2 at +T without the first-order dressing */
    int coherent_molecules; /* nonzero: psi starts in a coherent state, not the number state */
    tcgpu_backend backend; /* CUDA: the ensemble's trajectories on the device (same code, same
                            * streams; the statistics formed on the host in the CPU's order) */
} tcgpu_twa_opts;

typedef struct {
    double mean[TCGPU_MAX_CHANNELS], mean_err[TCGPU_MAX_CHANNELS]; /* <n_k> and standard errors */
    double mean_n, mean_n_err;                                     /* <n> = <sum_k n_k> */
    /* Spread of n over the trajectories: TWA's estimate of the quantum standard deviation of n
     * (the Weyl correction to <n^2> is O(n), negligible next to the spread at large N). */
    double sd_n;
    double eta, eta_err;         /* K = 2: (<n_1> - <n_2>)/<n> (delta-method error); else 0 */
    double mean_nu, mean_nu_err; /* molecules left <psi^+ psi> (= N - <n>, dressed readout) */
    int64_t trajectories;
    double seconds;    /* wall time of the ensemble */
    double T;          /* the window used */
    double max_drift;  /* max over trajectories of the invariants' drift / N */
    double mean_steps; /* accepted integrator steps per trajectory */
} tcgpu_twa_result;

/* Ensemble means with standard errors. Parallel over trajectories (OpenMP); the result depends
 * only on the options, not on the thread count. */
tcgpu_status tcgpu_twa_moments(const tcgpu_twa_opts *o, tcgpu_twa_result *r);

/* The automatic window: past the last resonance e_k/beta by 12 instability widths g sqrt(N)/beta
 * and 12 Landau-Zener times 1/sqrt(beta), plus 10 times the redistribution time
 * 4 g^2 N/(beta min|e_k - e_l|) between channels. */
tcgpu_status tcgpu_twa_auto_T(const tcgpu_twa_opts *o, double *T);

/* One trajectory of the mean-field equations, lab frame, physical amplitudes (|psi|^2 ~ N):
 * [re, im] pairs. */
typedef struct {
    double psi[2];
    double a[TCGPU_MAX_CHANNELS][2], b[TCGPU_MAX_CHANNELS][2];
} tcgpu_twa_state;

typedef struct {
    int64_t steps, rejected;
    double drift; /* max over the accepted steps of the invariants' change, relative to N */
} tcgpu_twa_stats;

/* Integrates s from t0 to t1 (either direction) with the options' N, K, g >= 0, beta, levels,
 * eps and tol (the ensemble fields are ignored). */
tcgpu_status tcgpu_twa_trajectory(const tcgpu_twa_opts *o, double t0, double t1, tcgpu_twa_state *s,
                                  tcgpu_twa_stats *stats);

/* The ensemble's readout of one lab-frame state at t (past every resonance): Weyl-corrected
 * pairs per channel n[0..K-1] and molecules left *nu (nu may be NULL), with the slaved
 * (off-resonant) parts removed unless o->bare_readout. */
tcgpu_status tcgpu_twa_readout(const tcgpu_twa_opts *o, double t, const tcgpu_twa_state *s,
                               double *n, double *nu);

#ifdef __cplusplus
}
#endif
#endif
