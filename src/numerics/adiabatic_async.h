/* The dense start and readout (src/numerics/adiabatic.h) on a helper thread that a stop request
 * (tcgpu_request_stop: SIGINT, SIGTERM) leaves behind, so that the caller returns TCGPU_EINTR
 * within ADIABATIC_ASYNC_POLL_MS of the request. One LAPACK dsyevd or BLAS dgemm of a few
 * thousand states runs for seconds and cannot be interrupted: a 6000-state mlz model took up to
 * 32 s to stop while its frames were computed. */
#ifndef TCGPU_ADIABATIC_ASYNC_H
#define TCGPU_ADIABATIC_ASYNC_H

#include "adiabatic.h"

/* From this dimension up the frames go to a helper; below, they take milliseconds and are
 * computed by the caller (a thread per readout would cost more than it saves). */
#define ADIABATIC_ASYNC_MIN 256

/* How often the waiting caller looks at the stop flag: a signal handler cannot wake a
 * condition variable. */
#define ADIABATIC_ASYNC_POLL_MS 10

/* adiabatic_start and adiabatic_readout_many, same arguments and results, but TCGPU_EINTR
 * (with nothing written to psi, prob or unsure) when a stop is requested before the helper
 * finishes. The helper works on copies of the model and states; left behind, it finishes
 * alone and frees them. */
tcgpu_status adiabatic_start_async(const eig_device *dev, const tcgpu_model *m, double t,
                                   int superadiabatic, tcgpu_cplx *psi);
tcgpu_status adiabatic_readout_many_async(const eig_device *dev, const tcgpu_model *m, double t,
                                          int superadiabatic, int by_rank, int count,
                                          const tcgpu_cplx *const *psi, double *const *prob,
                                          double *const *unsure);

/* Helpers left behind by a stop and still computing. A process that has some should end with
 * _exit (after flushing its streams): exit() runs the BLAS library's destructors, which free
 * the buffers such a helper is using. Where exit() is called anyway (a program using the
 * library), an exit handler waits for them first. */
int adiabatic_async_running(void);

#endif
