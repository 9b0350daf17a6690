/* The far field's readout by in-sector continuation (src/numerics/far_field.c; docs/numerics.md,
 * "The in-sector continuation"): past the transition, where every eigenvector of H(t) lies in one
 * slope group (sector), a state at t is written in the adiabatic basis, its first-order
 * inter-sector dressing is taken off, and only the in-sector couplings carry it on to a later
 * T2, where the dense readout reads it. The march can stop 2-3.5 times earlier in t, and every
 * readout of the control's ladder costs O(states^2) plus small block exponentials instead of a
 * dense eigen-decomposition and dressing. */
#ifndef TCGPU_FAR_FIELD_H
#define TCGPU_FAR_FIELD_H

#include "eig.h"
#include "step.h"
#include "tcgpu/model.h"

typedef struct far_field far_field;

/* Whether the continuation may serve m's readouts at dressing order `superadiabatic`: a dense
 * readout (not a chain, no 1/t terms) of two or more slope groups, untied constants within each
 * group, at most FAR_FIELD_MAX states. */
int far_field_applies(const tcgpu_model *m, int superadiabatic);
#define FAR_FIELD_MAX 1200
/* What it holds at most (adiabatic_sweep_bytes): its node frames (U and h at each node), the
 * interpolated U and h, and the two readout frames at T2 with their dressing. */
double far_field_bytes(int64_t dim);

/* Builds the data of the continuation on [Ta, inf): H(t)'s frames at Chebyshev nodes in
 * s = 1/t, checked against one more frame between the two nodes nearest Ta. *out is NULL (and
 * TCGPU_OK returned) where the sectors have not separated at Ta (*weight, the least weight of
 * an eigenvector in its sector, is then below FAR_FIELD_SEPARATED; one frame was built) or the
 * interpolation misses its check (all of them): the caller tries a later Ta. tol: the
 * sweep's; far_field_readout keeps the readout residual at T2 below tol / 16, and the steps
 * and the interpolation check tighten with it below tol = 1e-6. */
tcgpu_status far_field_create(const eig_device *dev, const tcgpu_model *m, double Ta,
                              int superadiabatic, double tol, far_field **out, double *weight,
                              double *miss);
/* The least weight of every eigenvector in its sector (0.8: tc K = 2, N = 40, eps = 0.5,
 * beta = 30 waited for t = 12.2 where 0.7 took 9.6, 30.3 -> 24.7 s; 0.6: N = 20, eps = 0.1,
 * beta = 11.4 tried at 7.7, where in-sector levels still swap, and lost the far field), and the
 * largest error of an eigenvector's entry in the interpolation check (*miss: that error over
 * it, where checked; INFINITY where neighbouring nodes do not continue one another). */
#define FAR_FIELD_SEPARATED 0.7
#define FAR_FIELD_INTERP_TOL 1e-9 /* at tol 1e-6, less below */
double far_field_start(const far_field *f);

/* prob[s]: the distribution of psi[s] (lab frame, at t >= Ta) continued to T2 and read there;
 * *resid: the estimate of that readout's residual (TV; T2 moves out until it is below the
 * target, or as far as it may). count <= 2. *resid = -1 (prob untouched, TCGPU_OK) where it
 * declines: a frame at T2 that does not continue the nodes; its start is then +inf. */
tcgpu_status far_field_readout(far_field *f, double t, int count, const tcgpu_cplx *const *psi,
                               double *const *prob, double *resid);
void far_field_free(far_field *f);

#endif
