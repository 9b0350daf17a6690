/* Batched march: many sweeps advanced at once with the same step functions as the single-sweep
 * propagation, on the CPU (threads over sweeps) or on a CUDA device (one thread block per
 * sweep). The sweeps share dimension and coupling pattern (row_ptr, col, cls, nclass, f(t)) and
 * may differ in values, phase classes, windows and step parameters. Each sweep's grid (steps S,
 * phase per step) is computed on the host as the single-sweep march computes it, so every
 * backend takes the same steps. */
#ifndef TCGPU_MARCH_H
#define TCGPU_MARCH_H

#include <stddef.h>
#include <stdint.h>

#include "tcgpu/backend.h"
#include "tcgpu/model.h"
#include "tcgpu/propagate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the CUDA backend marches: the fused kernel, its state and work vectors on chip or in
 * device memory, or the lockstep march with cuSPARSE. */
typedef enum {
    TCGPU_PATH_AUTO = 0,   /* fused; shared when they fit the block's opt-in shared memory */
    TCGPU_PATH_SHARED = 1, /* fused, on chip for the whole propagation */
    TCGPU_PATH_GLOBAL = 2, /* fused, device memory (any dimension) */
    /* Lockstep: all sweeps take step k together; the couplings are applied to the whole batch
     * by one cusparseSpMM of the coupling matrix stacked by phase class, the rest by
     * element-wise kernels. fp64 only; the sweeps' coupling values must be proportional to
     * sweep 0's (only g differs); always reads the CSR (coupling is ignored). Never chosen by
     * AUTO: not measured on a device yet. With the CPU backend: the same lockstep driver on
     * the CPU (plain loops, a CPU sparse product), a check of its logic. */
    TCGPU_PATH_CUSPARSE = 3
} tcgpu_cuda_path;

/* How a step reads the couplings of a banded model (tc up to 4 channels, heff). */
typedef enum {
    TCGPU_COUPLING_AUTO = 0,    /* the measured default of the backend */
    TCGPU_COUPLING_CSR = 1,     /* from the CSR arrays */
    TCGPU_COUPLING_ONTHEFLY = 2 /* computed from the basis and the closed-form elements */
} tcgpu_coupling;

typedef struct {
    tcgpu_backend backend;
    tcgpu_method method;
    tcgpu_precision precision; /* fp64 (default) or fp32 arithmetic in the march */
    int threads;               /* CPU: threads (0: the OpenMP default) */
    tcgpu_cuda_path path;      /* CUDA: fused (shared, global) or cuSPARSE */
    int block;                 /* CUDA: threads per block, 32 to 512 (0: automatic) */
    int nmax;                  /* Chebyshev terms allowed per exponential (0: 1024) */
    tcgpu_coupling coupling;   /* banded models: CSR or on the fly (other models: CSR) */
    int64_t max_chunk;         /* CUDA: at most this many sweeps per launch (0: as memory allows;
                                * a batch of several launches runs on two streams) */
} tcgpu_march_opts;

typedef struct {
    const tcgpu_model *const *models; /* count models of one pattern */
    int64_t count;
    const double *t_a, *t_b, *kappa; /* per sweep: window and step parameter */
    double *x;                       /* count x dim amplitudes (re, im interleaved) of the
                                      * interaction picture, advanced in place from t_a to t_b */
    int64_t *steps, *applications;   /* per sweep, out (either may be NULL) */
    const int *vlevel; /* per sweep, or NULL (all 0): |V|-limited steps 2^vlevel longer
                        * (the accuracy control raises it where the step error allows) */
} tcgpu_batch;

typedef struct {
    tcgpu_cuda_path path; /* the path taken (CUDA) */
    int block;            /* threads per block (CUDA) */
    int on_the_fly;       /* couplings computed on the fly (CUDA) */
    size_t shared_bytes;  /* dynamic shared memory per block (CUDA) */
    int64_t chunks;       /* launches the batch was split into to fit device memory (CUDA) */
    double plan_seconds;  /* host time spent on the grids */
    double run_seconds;   /* the march itself (CUDA: wall time of the copies and launches) */
    char device[256];     /* the device's name (CUDA) */
} tcgpu_march_info;

/* Advances every sweep of b on the runner o names; info may be NULL. */
tcgpu_status tcgpu_march_batch(const tcgpu_batch *b, const tcgpu_march_opts *o,
                               tcgpu_march_info *info);

/* A backend chosen once: the runner the options name (cpu, cpu-lockstep, cuda, cuda-cusparse),
 * where it keeps the states of the sweeps it marches, and whether the readout's dense frames
 * go to it. Handed explicitly to the calls that march or read out through it
 * (tcgpu_ensemble_run); a context is used by one caller at a time. */
typedef struct tcgpu_context tcgpu_context;

/* dense_on_device: the readout's dense frames (from TCGPU_EIG_DEVICE_MIN states up) through the
 * runner's device, where it has one (CUDA); ignored otherwise. EINVAL, with the reason, where
 * this build cannot march under o. */
tcgpu_status tcgpu_context_create(const tcgpu_march_opts *o, int dense_on_device,
                                  tcgpu_context **ctx);
void tcgpu_context_free(tcgpu_context *ctx);
const char *tcgpu_context_runner(const tcgpu_context *ctx);
/* Whether the readout's dense frames go to the device. */
int tcgpu_context_dense_on_device(const tcgpu_context *ctx);

/* What a context moved between the host and the runner's memory (the CPU runners' memory is
 * the host's: the counts say what a device would copy). States go up once per sweep run and
 * come down only for readouts; model plans go up once per model. */
typedef struct {
    int64_t batches, advances, readouts, models;
    double bytes_up, bytes_down; /* everything: states, model plans, per-advance scalars */
    double state_up, state_down; /* of which states */
    double march_seconds;        /* inside the runner's march */
    double state_bytes;          /* the largest state marched (dim x 16 bytes) */
    char device[256];
} tcgpu_transfer_stats;

void tcgpu_context_stats(const tcgpu_context *ctx, tcgpu_transfer_stats *st);

#ifdef __cplusplus
}
#endif
#endif
