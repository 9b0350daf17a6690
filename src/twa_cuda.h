/* The TWA ensemble's trajectories on a CUDA device (kernels/twa.cu): one thread per trajectory
 * runs twa_run_one (kernels/twa.h), the code the CPU runs, and every readout comes back so
 * that the host forms the statistics in the CPU's order. */
#ifndef TCGPU_TWA_CUDA_H
#define TCGPU_TWA_CUDA_H

#include "../kernels/twa.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double *x;      /* M x (K + 3): twa_run_one's x per trajectory */
    int64_t *steps; /* M */
    double *drift;  /* M */
    int *rc;        /* M: twa_integrate's code */
} twa_out;

/* Runs trajectories 0..M-1 of J; *out (free with twa_out_free) on success. */
tcgpu_status twa_cuda_run(const twa_job *J, int64_t M, twa_out **out);
void twa_out_free(twa_out *o);

#ifdef __cplusplus
}
#endif
#endif
