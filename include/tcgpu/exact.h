/* Exact final probabilities of the paper's solvable multistate Landau-Zener models.
 *
 * Everything exact depends on (g, beta) only through c = 2 pi g^2 / beta = -ln x. The engine
 * works with c in long double and with probabilities in log space, so that every probability
 * above 1e-300 is right to ~1e-15 relative for any N, and the limits beta -> 0 (c -> inf,
 * x -> 0) and beta -> inf (c -> 0, x -> 1) give clean 0/1 answers, never NaN.
 * Conventions (channel order, pair energies, misprints corrected) follow shared/PHYSICS.md.
 *
 * Channel numbering: where a function takes `levels` (K pair energies, or for Demkov-Osherov
 * the K parallel levels' energies), results are in the caller's numbering and only the order
 * of the energies matters; levels == NULL means channel k has the k-th lowest energy.
 * Equal energies are rejected: the model is then not the solvable one. */
#ifndef TCGPU_EXACT_H
#define TCGPU_EXACT_H

#include <stdint.h>

#include "tcgpu/basis.h"
#include "tcgpu/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TCGPU_MAX_CHANNELS 64

/* c = 2 pi g^2 / beta = -ln x, after checking g > 0 and beta > 0 (both finite). */
tcgpu_status tcgpu_exact_c(double g, double beta, long double *c);

/* Channel order by energy: order[s] = user index of the s-th lowest energy (s = 0..K-1).
 * Rejects non-finite or equal energies. levels == NULL gives the identity. */
tcgpu_status tcgpu_channel_order(int K, const double *levels, int *order);

/* Landau-Zener, H = [[beta t, g], [g, 0]] from level 0: p[0] = P(stay) = x, p[1] = 1 - x. */
tcgpu_status tcgpu_exact_lz(double g, double beta, double p[2]);

/* Demkov-Osherov: a level of slope beta (level 0) crossing K parallel levels, all couplings g.
 * p[0] = x^K; p[k] = x^(r-1) (1 - x) for the parallel level k whose energy has rank r. */
tcgpu_status tcgpu_exact_do(int K, double g, double beta, const double *levels, double *p);

/* Single channel, eq 40: p[m] = x^(N-m) (x^(N-m+1), x)_m, m = 0..N. */
tcgpu_status tcgpu_exact_tc_single(int64_t N, double g, double beta, double *p);

/* Total number of pairs n = n1 + ... + nK for K channels, n = 0..N:
 * P_n = x^(K(N-n)) [n+K-1 choose K-1]_x (x^(N-n+1), x)_n (eq 62 for K = 2, eq 40 for K = 1). */
tcgpu_status tcgpu_exact_tc_total(int64_t N, int K, double g, double beta, double *p);

/* Full joint distribution P(n1,...,nK) (eq 36 corrected; eq 61 for K = 2), tcgpu_basis_dim
 * entries in basis order (see basis.h), channels in the caller's numbering. */
tcgpu_status tcgpu_exact_tc_joint(int64_t N, int K, double g, double beta, const double *levels,
                                  double *p);

/* Means of the K-channel model, O(K N) time. */
typedef struct {
    double mean[TCGPU_MAX_CHANNELS]; /* <n_k>, in the caller's numbering */
    double mean_n;                   /* <n> = <n_1 + ... + n_K> */
    double eta;     /* K = 2: (<n_1> - <n_2>)/<n> (eq 63; 0 when <n> = 0); else 0 */
    double nu;      /* <nu> = N - <n> of the lowest channel alone (eq 45), summed directly */
    double nu_plus; /* <nu_+> = N - <n>, molecules never split (eq 67), summed directly */
} tcgpu_tc_moments;

tcgpu_status tcgpu_exact_tc_moments(int64_t N, int K, double g, double beta, const double *levels,
                                    tcgpu_tc_moments *out);

/* Effective two-mode model (eq 72) in the sector of n pairs: final Gibbs law (eq 75),
 * p[n2] = P(n2 | n) proportional to x^n2, n2 = 0..n, and its mean (eq 76 exact form). */
tcgpu_status tcgpu_exact_heff(int64_t n, double g, double beta, double *p);
tcgpu_status tcgpu_exact_heff_mean_n2(int64_t n, double g, double beta, double *mean_n2);

/* Critical rate: the exact root of P_0 = P_1 (x = 1 - x^N, eq 47), N >= 1. */
tcgpu_status tcgpu_exact_beta_c(int64_t N, double g, double *beta_c);

/* Position of the maximum of eq 40 (smallest m on ties). */
tcgpu_status tcgpu_exact_m_max(int64_t N, double g, double beta, int64_t *m_max);

/* Single-channel scattering phases, eq 58 corrected (shared/PHYSICS.md), m = 0..N:
 * phi[m] on the branch continuous in g (sums of Im ln Gamma), phi[0] = 0. */
tcgpu_status tcgpu_exact_phases(int64_t N, double g, double beta, double *phi);

/* Principal branch of ln Gamma(z) for complex z off the non-positive real axis, re > -1e6
 * (NaN outside). */
void tcgpu_lgamma_complex(long double re, long double im, long double *lre, long double *lim);

/* Euler means for N -> infinity (eq 43 with alpha = x^a): sum_{j>=a} x^j / (1 - x^j).
 * a = 1 is eq 45 (<nu>), a = 2 is eq 67 (<nu_+>). */
long double tcgpu_euler_mean(long double c, int a);

/* The paper's asymptotic forms; each returns a non-finite value where the formula has none. */
double tcgpu_asym_nu_eq46(double g, double beta);                 /* Gamma [gamma_E - ln(1 - x)] */
double tcgpu_asym_nu_eq46_log(double g, double beta);             /* Gamma [ln Gamma + gamma_E] */
double tcgpu_asym_n_ex_eq52(double g, double beta);               /* -Gamma ln(1 - x) */
double tcgpu_asym_n_ex_eq53(double g, double beta);               /* Gamma ln Gamma */
double tcgpu_asym_n1_fast_eq64(int64_t N, double g, double beta); /* (1 - p)/p, p = x^N */
double tcgpu_asym_n_fast_eq65(int64_t N, double g, double beta);  /* 2 (1 - p)/p */
double tcgpu_asym_nu_plus_eq68(double g, double beta);        /* Gamma [ln Gamma - (1 - gamma_E)] */
double tcgpu_asym_n2_eq69(double g, double beta);             /* Gamma = beta / 2 pi g^2 */
double tcgpu_asym_n2_limit(double g, double beta);            /* x / (1 - x), exact for N -> inf */
double tcgpu_asym_eta_eq70(int64_t N, double g, double beta); /* 1 - 2 Gamma / N */
double tcgpu_asym_beta_c_eq50(int64_t N, double g);           /* N >= 2 */
/* eq 54 with the given critical rate (use tcgpu_exact_beta_c). */
double tcgpu_asym_m_max_eq54(int64_t N, double g, double beta, double beta_c);
double tcgpu_asym_heff_n2_eq76_coth(double g, double beta);   /* coth(pi g^2/beta)/2 - 1/2 */
double tcgpu_asym_heff_n2_eq76_linear(double g, double beta); /* beta/(2 pi g^2) - 1/2 */

#ifdef __cplusplus
}
#endif
#endif
