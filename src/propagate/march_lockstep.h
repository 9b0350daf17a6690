/* The lockstep march: all sweeps of a batch advance step k together (sweep s while k < S_s),
 * so that each application of the coupling matrix is one sparse product for the whole batch
 * (kernels/lockstep.h has the layout and the shared per-sweep and per-element code). The
 * driver below only sequences a backend's operations; the CPU backend (plain loops, a CPU
 * sparse product) is the reference of the CUDA one (kernels/march_sparse.cu, cuSPARSE). */
#ifndef TCGPU_MARCH_LOCKSTEP_H
#define TCGPU_MARCH_LOCKSTEP_H

#include "march_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The vectors of a backend: the states and three work vectors (RK4: k, s, acc; Chebyshev: t0,
 * t1, t2), each dim x n complex, row-major. */
enum { TCGPU_LS_X = 0, TCGPU_LS_V0 = 1, TCGPU_LS_V1 = 2, TCGPU_LS_V2 = 3 };

/* A backend: each operation runs over every sweep (tcgpu_ls_* of kernels/lockstep.h) and
 * returns TCGPU_OK or a status whose message is set. */
typedef struct {
    /* control of step k (tcgpu_ls_step) */
    tcgpu_status (*step)(void *ctx, int64_t k);
    /* control of a Magnus-4 half (tcgpu_ls_half); *deg: the largest degree, *active: the sweeps
     * still marching (read back to the host) */
    tcgpu_status (*half)(void *ctx, int half, int *deg, int64_t *active);
    /* vector dst = M(weights of slot) vector src, every sweep */
    tcgpu_status (*apply)(void *ctx, int slot, int src, int dst);
    /* V1 = M X given: the series' first terms (tcgpu_ls_cheb_first) */
    tcgpu_status (*cheb_first)(void *ctx);
    /* V2 = M V1 given: recurrence step k (tcgpu_ls_cheb_next) */
    tcgpu_status (*cheb_next)(void *ctx, int k);
    /* V0 = M (X for q = 0, else V1) given: RK4 stage q (tcgpu_ls_rk4) */
    tcgpu_status (*rk4_stage)(void *ctx, int q);
    /* end of the step (tcgpu_ls_finish) */
    tcgpu_status (*finish)(void *ctx);
} tcgpu_ls_ops;

/* Steps 0 .. steps - 1 (steps: the largest S) of every sweep with RK4 (method 0) or Magnus-4. */
tcgpu_status tcgpu_ls_run(const tcgpu_ls_ops *ops, void *ctx, int method, int64_t steps);

/* What the lockstep march asks of a batch: fp64, and coupling values proportional to sweep
 * 0's: r (count) receives the factors. EINVAL, with the reason, otherwise. */
tcgpu_status tcgpu_ls_accept(const tcgpu_batch_plan *p, double *r);

/* The stacked matrix P (kernels/lockstep.h) in 32-bit CSR: rows 2 nclass dim, row_ptr rows + 1,
 * col and val nnz. EINVAL where the pattern does not fit 32-bit indices or a class is out of
 * range. */
tcgpu_status tcgpu_ls_stack(const tcgpu_batch_plan *p, int32_t *row_ptr, int32_t *col, double *val);

/* The lockstep march on the CPU backend (the reference of the cuSPARSE path). */
tcgpu_status tcgpu_march_lockstep_cpu(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                      tcgpu_march_info *info);

/* The lockstep march on the CUDA backend with cuSPARSE (kernels/march_sparse.cu). */
tcgpu_status tcgpu_march_cusparse(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                  tcgpu_march_info *info);

#ifdef __cplusplus
}
#endif
#endif
