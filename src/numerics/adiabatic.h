/* Instantaneous eigenstates of H(t), superadiabatic dressing, and the labelling of
 * eigenstates by the diabatic states they connect to as t -> +inf. */
#ifndef TCGPU_ADIABATIC_H
#define TCGPU_ADIABATIC_H

#include "eig.h"
#include "step.h"
#include "tcgpu/model.h"

/* psi (lab frame, dim): the (superadiabatic) eigenstate of H(t) that the model's start state
 * becomes (the ground state for the paper's models). */
tcgpu_status adiabatic_start(const eig_device *dev, const tcgpu_model *m, double t,
                             int superadiabatic, tcgpu_cplx *psi);

/* prob[s][i]: population in state psi[s] (s < count, all at time t) of the (superadiabatic)
 * eigenstate that becomes diabatic state i; one eigen-decomposition serves every state.
 * unsure (or any unsure[s]; may be NULL): the population of eigenstates whose label is in
 * doubt, i.e. whose labelled slope group holds less than half of their weight (before the last
 * diabatic crossing, where levels of different slope are still mixed).
 * by_rank: label every eigenvector by its energy rank, as after the last crossing, at any t:
 * exact for a sweep that stays adiabatic from t on (eigenvalues of the real symmetric H(t)
 * do not cross), which the accuracy control asks only where the exact solution bounds the
 * nonadiabatic weight below the tolerance; unsure is then 0. */
tcgpu_status adiabatic_readout_many(const eig_device *dev, const tcgpu_model *m, double t,
                                    int superadiabatic, int by_rank, int count,
                                    const tcgpu_cplx *const *psi, double *const *prob,
                                    double *const *unsure);

/* The same through the dense eigen-decomposition of H(t) (any model up to TCGPU_DENSE_MAX
 * states); the functions above use it where the chain readout does not apply. */
tcgpu_status adiabatic_dense_start(const eig_device *dev, const tcgpu_model *m, double t,
                                   int superadiabatic, tcgpu_cplx *psi);
tcgpu_status adiabatic_dense_readout_many(const eig_device *dev, const tcgpu_model *m, double t,
                                          int superadiabatic, int by_rank, int count,
                                          const tcgpu_cplx *const *psi, double *const *prob,
                                          double *const *unsure);

/* Chains (couplings only between neighbouring indices, dH/dt = diag(b)): start and readout
 * without a dense eigen-decomposition (src/numerics/adiabatic_tri.c), O(states x window) time and
 * memory. rank: the start eigenvector's energy rank; label_of_rank[r]: the diabatic state the
 * eigenvector of energy rank r becomes (the readout is for t past the last crossing, or a sweep
 * read by rank). adiabatic_start and adiabatic_readout_many choose it by themselves. */
int adiabatic_tri_applies(const tcgpu_model *m);
tcgpu_status adiabatic_tri_start(const tcgpu_model *m, double t, int superadiabatic, int64_t rank,
                                 tcgpu_cplx *psi);
tcgpu_status adiabatic_tri_readout(const tcgpu_model *m, double t, int superadiabatic,
                                   const int64_t *label_of_rank, int count,
                                   const tcgpu_cplx *const *psi, double *const *prob);

/* Large models that are not chains (tc with two or more channels past TCGPU_THIRD_ORDER_MAX
 * states, start state of rank 0): the start (dressing orders 0-2) and its check's leak without a
 * dense eigen-decomposition (src/numerics/adiabatic_sparse.c: Lanczos and conjugate-gradient
 * resolvents on the sparse H(t)). adiabatic_start chooses it by itself. leak[s]: the weight of
 * psi[s] outside the dressed ground state at t. */
int adiabatic_sparse_applies(const tcgpu_model *m);
/* The energy rank of the eigenvector the start state becomes as t -> -inf (heff: 0). */
int64_t adiabatic_start_rank(const tcgpu_model *m);
tcgpu_status adiabatic_sparse_start(const tcgpu_model *m, double t, int superadiabatic,
                                    tcgpu_cplx *psi);
tcgpu_status adiabatic_sparse_leak(const tcgpu_model *m, double t, int superadiabatic, int count,
                                   const tcgpu_cplx *const *psi, double *leak);

/* A start check's leak without the full readout: leak[s] = |psi[s] - phi <phi|psi[s]>|^2, phi the
 * dressed eigenvector the start becomes (adiabatic_start's), where that start is the chain's or
 * the sparse one (adiabatic_leak_applies); the full readout's sum over the other eigenvectors
 * up to their dressings' overlaps. adiabatic_leak_of: that leak for one state (phi unit). */
int adiabatic_leak_applies(const tcgpu_model *m, int superadiabatic);
tcgpu_status adiabatic_leak(const tcgpu_model *m, double t, int superadiabatic, int count,
                            const tcgpu_cplx *const *psi, double *leak);
double adiabatic_leak_of(const tcgpu_cplx *phi, const tcgpu_cplx *psi, int64_t n);

/* Models that are not chains past TCGPU_WINDOW_MIN states: the dense readout on a window
 * of the basis around where the states live (src/numerics/adiabatic_window.c), so that its
 * frames hold the window's states, not the model's. adiabatic_readout_many chooses it by
 * itself. */
int adiabatic_window_applies(const tcgpu_model *m);
tcgpu_status adiabatic_window_readout(const eig_device *dev, const tcgpu_model *m, double t,
                                      int superadiabatic, int by_rank, int count,
                                      const tcgpu_cplx *const *psi, double *const *prob,
                                      double *const *unsure);

/* Test hook: the number of states of the window that adiabatic_window_readout would read;
 * *core_drop (where not NULL): the most weight of a state read below the window's core, which
 * the readout adds to its unsure weight. */
int64_t adiabatic_window_states(const tcgpu_model *m, int by_rank, int count,
                                const tcgpu_cplx *const *psi, double *core_drop);

/* Test hook: the closed-form dr/dt of the second-order dressing against central differences of
 * the second orders at t -+ dt and t -+ 2 dt, dt = 1e-3 |t|, Richardson-combined (dense frame of
 * H(t), every pair admixed): the largest difference of an element and the largest element. */
tcgpu_status adiabatic_rdot_check(const eig_device *dev, const tcgpu_model *m, double t,
                                  double *max_diff, double *max_rate);

/* The largest dimension the dense eigen-decomposition is used for (heff, mlz files; tc with two
 * or more channels reads a window of the basis past TCGPU_WINDOW_MIN states, and at most
 * TCGPU_WINDOW_FRAME of them densely).
 * At 5151 states (N = 100) one dsyevd takes ~10 s on 2 cores and a frame with its dH/dt holds
 * four dim^2 doubles (0.85 GB); a controlled sweep reads out 6-10 times (docs/numerics.md). */
#define TCGPU_DENSE_MAX 6000
/* The largest window the window readout reads densely (one frame ~10 s at 3000 states, one
 * thread), and the Lanczos vectors of the sparse start. */
#define TCGPU_WINDOW_FRAME 3000
/* The window readout from this many states on: tc K = 2, N = 40 (861 states), eps = 0.5,
 * tol 1e-6, one thread: beta = 3 12.2 -> 7.5 s, beta = 30 22.3 -> 19.5 s, beta = 0.3 the
 * same (its window is more than half the model: read whole); N = 20 (231 states, read on
 * windows from 100 states in that trial): 0-20 %, so not below 400. */
#define TCGPU_WINDOW_MIN 400
#define TCGPU_LANCZOS_VECTORS 400

/* The bytes one sweep holds at dim states (its start, readouts and march), for the refusals of
 * tcgpu run and tcgpu_scan_run: a chain (adiabatic_tri_applies) a dozen dim-vectors; tc with two
 * or more channels (window) past TCGPU_DENSE_MAX a window's four frames and the sparse start's
 * Lanczos vectors; otherwise four dim x dim frames; plus the march's 40 complex vectors. */
double adiabatic_sweep_bytes(int64_t dim, int chain, int window);
/* The same decided from the model's name (tc, lz, do, heff, mlz), channels K and dim, before
 * the model is built (tcgpu run's and tcgpu_scan_run's checks): one channel of tc and lz are
 * chains, tc with K >= 2 is read on windows; returns 0 where the readout would be dense past
 * TCGPU_DENSE_MAX (the request is refused), else 1 with *bytes (may be NULL) as above. */
int adiabatic_sweep_plan(const char *model, int K, int64_t dim, double *bytes);

#endif
