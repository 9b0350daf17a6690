/* The batch as the CUDA backend takes it: flat per-sweep arrays planned on the host. */
#ifndef TCGPU_MARCH_INTERNAL_H
#define TCGPU_MARCH_INTERNAL_H

#include "grid.h"
#include "tcgpu/march.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t count, dim, nnz;
    int nclass, inverse_t, method, nmax;
    int single;    /* fp32 march: the device rounds val and the state to float */
    int one_model; /* every sweep has the same values and classes: val and classes hold one */
    const int64_t *row_ptr, *col; /* the shared pattern */
    const int32_t *cls;
    const double *val;                             /* count x nnz (one_model: nnz) */
    const tcgpu_phase_class *classes;              /* count x nclass (one_model: nclass) */
    const double *vbound, *vrate, *t_a, *t_b, *du; /* vrate: the grid's |V| (tcgpu_grid_vrate) */
    const int64_t *S;
    double *x;         /* count x dim x 2, in/out (NULL where xs is set) */
    double *const *xs; /* resident runners: sweep s's state (dim x 2) where the context keeps
                        * it, or NULL (then x) */
    const tcgpu_model *const *models; /* count: the sweeps' models (the CPU fused runner) */
    tcgpu_coupling coupling;          /* as asked (the CPU fused runner applies it per model) */
    int64_t *apps;        /* count, out: applications, or -1 where a Chebyshev series ran out */
    double *t_fail;       /* count, out: the start of the step that ran out */
    tcgpu_band band;      /* kind != NONE: the couplings on the fly, band_c[s] the sweep's c */
    const double *band_c; /* count (one_model: 1) */
} tcgpu_batch_plan;

tcgpu_status tcgpu_march_cuda(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                              tcgpu_march_info *info);

/* The model's couplings as a matrix-free band (kernels/banded.h), or kind NONE when it has
 * none or when the band does not reproduce its CSR arrays exactly. */
tcgpu_band tcgpu_band_of(const tcgpu_model *m);

/* Whether the CPU computes couplings on the fly under c (AUTO: TCGPU_CPU_ON_THE_FLY). */
#define TCGPU_CPU_ON_THE_FLY 0
/* The CUDA backend's AUTO: on the fly, so that a step on the shared path touches no device
 * memory but its class table. Not measured yet (no device lent so far): bench/run_gpu.sh
 * times both. */
#define TCGPU_CUDA_ON_THE_FLY 1
int tcgpu_coupling_on_the_fly(tcgpu_coupling c);

/* A sweep's step scratch (one buffer) and its view of m, for the single-sweep and the batched
 * CPU march alike. Returns 0, or -1 when out of memory; free with tcgpu_work_free. */
int tcgpu_work_alloc(const tcgpu_model *m, int nmax, tcgpu_coupling c, tcgpu_work *wk);
void tcgpu_work_free(tcgpu_work *wk);
/* fp32 march of an fp64 state: rounded on the way in, widened on the way out. */
static inline void tcgpu_narrow(int64_t d, const tcgpu_cplx *x, tcgpu_cplxf *xf) {
    for (int64_t i = 0; i < d; ++i)
        xf[i] = (tcgpu_cplxf){(float)x[i].re, (float)x[i].im};
}
static inline void tcgpu_widen(int64_t d, const tcgpu_cplxf *xf, tcgpu_cplx *x) {
    for (int64_t i = 0; i < d; ++i)
        x[i] = (tcgpu_cplx){xf[i].re, xf[i].im};
}

/* The fp32 work space: its own float copy of m's coupling values. */
int tcgpu_work_alloc_f(const tcgpu_model *m, int nmax, tcgpu_coupling c, tcgpu_work_f *wk);
void tcgpu_work_free_f(tcgpu_work_f *wk);

#ifdef __cplusplus
}
#endif
#endif
