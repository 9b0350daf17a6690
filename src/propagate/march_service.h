/* Batched marches for many accuracy controls at once.
 *
 * Each sweep's control (tcgpu_sweep_auto) runs unchanged on its own thread; a thread bound to a
 * service hands every advance of its sweeps to the service instead of stepping itself. When
 * every participant is waiting, the last one to arrive runs all pending advances as one
 * tcgpu_march_batch (on the CUDA device, or on the CPU), so one launch carries up to one advance
 * of every sweep. The control's logic thus exists once, and the device sees batches of the
 * size of the ensemble. */
#ifndef TCGPU_MARCH_SERVICE_H
#define TCGPU_MARCH_SERVICE_H

#include "../kernels/step.h"
#include "tcgpu/march.h"

typedef struct march_service march_service;

typedef struct {
    int64_t batches;    /* launches */
    int64_t advances;   /* sweep advances carried by them */
    double run_seconds; /* time inside tcgpu_march_batch */
    char device[256];   /* the device's name (CUDA) */
} march_service_stats;

/* participants: threads that will bind and, when done, leave. o->method must be every
 * sweep's method. */
tcgpu_status march_service_create(const tcgpu_march_opts *o, int participants, march_service **out);
void march_service_destroy(march_service *s, march_service_stats *stats);

/* Binds the calling thread (NULL unbinds); tcgpu_sweep_advance then uses the service. */
void march_service_bind(march_service *s);
march_service *march_service_bound(void);

/* The calling participant will ask for no more advances (it may still run CPU work). */
void march_service_leave(march_service *s);

/* Advances x (interaction picture) from t_a to t_b at step parameter kappa in the next batch;
 * blocks until that batch has run. Adds the steps taken and the applications to *steps, *apps. */
tcgpu_status march_service_advance(march_service *s, const tcgpu_model *m, tcgpu_method method,
                                   double t_a, double t_b, double kappa, tcgpu_cplx *x,
                                   int64_t *steps, int64_t *apps);

#endif
