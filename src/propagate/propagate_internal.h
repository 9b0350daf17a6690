/* What the accuracy control and the ensemble driver need of a sweep beyond the public calls:
 * its model and step, the start check in pieces, and residency (the state kept in a context's
 * memory between advances, brought back for readouts). */
#ifndef TCGPU_PROPAGATE_INTERNAL_H
#define TCGPU_PROPAGATE_INTERNAL_H

#include "eig.h"
#include "far_field.h"
#include "tcgpu/march.h"
#include "tcgpu/propagate.h"

const tcgpu_model *tcgpu_sweep_model(const tcgpu_sweep *s);
double tcgpu_sweep_kappa(const tcgpu_sweep *s);
/* The grid's |V| level of the sweep's next advances (tcgpu_grid_vrate; 0 when it begins). */
int tcgpu_sweep_vlevel(const tcgpu_sweep *s);
void tcgpu_sweep_set_vlevel(tcgpu_sweep *s, int level);
/* The dressing order of the sweep's next readouts (tcgpu_sweep_opts.superadiabatic). */
int tcgpu_sweep_dressing(const tcgpu_sweep *s);
void tcgpu_sweep_set_dressing(tcgpu_sweep *s, int order);
/* min over phi of |a - e^(i phi) b| of the two runs' normalized states, an upper bound of
 * sqrt(1 - |<a|b>|^2) and so of the total variation between any readouts of them: the step
 * check between readouts. */
double tcgpu_sweep_distance(tcgpu_sweep *a, tcgpu_sweep *b);
/* The share of the grid's |V| term in its squared rate at t (at the sweep's level). */
double tcgpu_sweep_vshare(const tcgpu_sweep *s, double t);

/* The far field (far_field.h) that reads the sweep from its start on (NULL: the dense readouts),
 * and the estimate of the readout residual at its T2 from the sweep's last readout (-1 where
 * that readout was not the far field's). */
void tcgpu_sweep_set_far(tcgpu_sweep *s, far_field *f);
double tcgpu_sweep_far_resid(const tcgpu_sweep *s);

/* The dressing order (tcgpu_sweep_opts.superadiabatic) of the accuracy control's runs and start
 * checks: the third order in the dense start and readout (src/numerics/adiabatic.c,
 * third_order), the second in the chain's. The chain's third order (adiabatic_tri_pairs.c)
 * shortens the window too (tc K = 1, N = 3000, beta = 4000, tol 1e-4: T0 0.149 -> 0.100,
 * Tr 0.336 -> 0.245, 1396 -> 799 steps) but costs each eigenpair two more eigenpairs and
 * their resolvents, and the readouts of a chain are a fifth to a half of its sweep: that
 * sweep went 5.8 -> 8.5 s, N = 1000 at beta_c 1.4 -> 3.0 s. */
int tcgpu_control_dressing(const tcgpu_model *m);
/* ... and the dense third order only up to this dimension: its three frames per readout are
 * measured up to tc K = 2, N = 40 (861 states); at N = 100 (5151 states) one frame takes
 * 10-40 s here and the frames were already about half of a sweep at the second order, and a
 * start check with the third order's three frames per dressing took 180-370 s. */
#define TCGPU_THIRD_ORDER_MAX 2000
/* The runs' readouts go on at a higher order (src/numerics/adiabatic.c, dressing_series: 2K - 3
 * frames per readout for order K) once the fine run's steps exceed TCGPU_FAR_DRESSING_STEPS
 * dim^2 (ctl_dressing_up; scaling it by the frames over five made the default job 9.2 s where
 * dim^2 took 6.6): it shortens the far field's window where the march, not the frames, is the
 * cost. dim^2 / 4 since the window estimate of these orders assumes their faster decay
 * (ctl_window_power), against dim^2, one thread, same run: default job 1.08e6 -> 1.00e6 steps;
 * tc K = 2, N = 20, eps = 0.1, beta = 11.4: 1.93e5 -> 1.25e5 steps; eps = 0.5, beta = 100:
 * 5.6e4 -> 3.6e4 steps, 1.09x CPU; eps = 0.5, beta = 11.4: steps unchanged, 0.96x CPU (the
 * frames). Order 6 up to TCGPU_FAR_DRESSING_6_MAX states (its
 * nine frames and their orders hold ~60 dim^2 doubles), order 4 above. */
#define TCGPU_FAR_DRESSING_STEPS 0.25
#define TCGPU_FAR_DRESSING_6_MAX 500

/* The start check (tcgpu_sweep_start_error) in three pieces: a sweep begun earlier than the
 * window's start, which is to be advanced to *near and read out, and the weight its readout
 * pr (dim doubles) puts outside the dressed ground state (the control turns it into an error). */
/* tcgpu_sweep_begin with the dense frames of start and readouts on dense (NULL: the host). */
tcgpu_status tcgpu_sweep_begin_on(const eig_device *dense, const tcgpu_model *m,
                                  tcgpu_method method, tcgpu_precision precision, double t_start,
                                  double kappa, int superadiabatic, tcgpu_sweep **s);

/* The same from a start state computed before (start: dim amplitudes in the lab frame at
 * t_start, the dressed start of that order), e.g. an earlier run's (tcgpu_sweep_start_state:
 * valid until that run first advances or reads out). */
tcgpu_status tcgpu_sweep_begin_from(const eig_device *dense, const tcgpu_model *m,
                                    tcgpu_method method, tcgpu_precision precision,
                                    double t_start, double kappa, int superadiabatic,
                                    const tcgpu_cplx *start, tcgpu_sweep **s);
const tcgpu_cplx *tcgpu_sweep_start_state(const tcgpu_sweep *s);

tcgpu_status tcgpu_start_check_begin(const eig_device *dense, const tcgpu_model *m,
                                     tcgpu_method method, tcgpu_precision precision, double T0,
                                     double kappa, tcgpu_sweep **s, double *near);
double tcgpu_start_check_leak(const double *pr, int64_t d);

/* The sweep's state in c's memory (uploaded the first time), for a batched advance. NULL when
 * out of memory. */
double *tcgpu_sweep_resident(tcgpu_sweep *s, tcgpu_context *c);
/* A batched advance took the resident state to t: the host copy is stale until the next
 * readout brings it back. */
void tcgpu_sweep_advanced(tcgpu_sweep *s, double t, int64_t steps, int64_t applications);

#endif
