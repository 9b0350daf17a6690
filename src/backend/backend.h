/* The backend table, in the spirit of ggml's ggml_backend_i: one runner per way of marching a
 * batch (CPU fused, CPU lockstep, CUDA fused, CUDA lockstep with cuSPARSE), each a struct of
 * what it can do, registered once in src/backend.c and chosen once, from the march options,
 * when a context is made (tcgpu_context_create). Every call that marches or reads out frames
 * is handed that context; nothing selects a backend behind a caller's back.
 *
 * Residency: a context holds the states of the sweeps it marches in the runner's memory
 * (tcgpu_resident_*): uploaded once when a sweep first advances, downloaded only when it is
 * read out. The CPU runners' memory is the host's, so for them the counts say what a device
 * would copy; the CUDA runners still copy each batch's states in and out inside their march
 * (kernels/march.cu), and the counters say so. */
#ifndef TCGPU_BACKEND_H
#define TCGPU_BACKEND_H

#include "eig.h"
#include "march_internal.h"
#include "tcgpu/march.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tcgpu_runner tcgpu_runner;

struct tcgpu_runner {
    const char *name;
    tcgpu_backend backend;
    int lockstep;  /* all sweeps step together (the cuSPARSE path and its CPU twin) */
    int device;    /* needs a CUDA device */
    int flat_plan; /* marches the flat plan (values and classes of every sweep copied) */
    int resident;  /* marches the states where tcgpu_resident_* keeps them (no copies) */
    /* Couplings computed on the fly under TCGPU_COUPLING_AUTO (the measured default). */
    int auto_on_the_fly;
    /* TCGPU_OK, or EINVAL with the reason this runner cannot march under o. */
    tcgpu_status (*supports)(const tcgpu_march_opts *o);
    /* Marches a planned batch: p->x (contiguous) or, for a resident runner, p->xs. */
    tcgpu_status (*march)(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                          tcgpu_march_info *info);
    /* The readout's dense frames on the device (from EIG_DEVICE_MIN states), or NULL. */
    const eig_device *dense;
};

/* The runner the options ask for (backend and path). */
const tcgpu_runner *tcgpu_runner_for(const tcgpu_march_opts *o);

/* The registered runners, for the backend test harness: *count of them. */
const tcgpu_runner *const *tcgpu_runners(int *count);

/* The CPU runners' marches (src/backend_cpu.c, src/march_lockstep.c) and the CUDA ones
 * (kernels/march.cu, kernels/march_sparse.cu; src/device_none.c without CUDA). */
tcgpu_status tcgpu_march_fused_cpu(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                   tcgpu_march_info *info);

struct tcgpu_context {
    const tcgpu_runner *runner;
    tcgpu_march_opts o;
    int dense_on_device; /* the readout's dense frames through runner->eig_* */
    tcgpu_transfer_stats stats;
};

/* The dense frames' device of c (NULL: the host's, also for c NULL). */
const eig_device *tcgpu_context_dense(const tcgpu_context *c);

/* A sweep run's state in the context's memory: uploaded from x (dim complex), counted. NULL
 * when out of memory. */
double *tcgpu_resident_upload(tcgpu_context *c, const double *x, int64_t dim);
/* Back to the host for a readout, counted. */
void tcgpu_resident_download(tcgpu_context *c, const double *dev, double *x, int64_t dim);
void tcgpu_resident_free(tcgpu_context *c, double *dev);
/* A model's plan (pattern, values, classes) into the context's memory, counted: once per
 * model, when its sweep joins the ensemble. */
void tcgpu_resident_model(tcgpu_context *c, const tcgpu_model *m);

/* Marches the batch b through c's runner from the resident states xs (b->x unused), counting
 * what the runner copies per advance. */
tcgpu_status tcgpu_context_march(tcgpu_context *c, const tcgpu_batch *b, double *const *xs);

/* The plan of a batch for runner r, marched: values and classes flattened where the runner
 * wants them, the grids planned on the host (src/march.c). */
tcgpu_status tcgpu_march_plan_run(const tcgpu_runner *r, const tcgpu_batch *b, double *const *xs,
                                  const tcgpu_march_opts *o, tcgpu_march_info *info);

#ifdef __cplusplus
}
#endif
#endif
