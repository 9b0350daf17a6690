/* The CUDA half of the library is a module of its own, libtcgpu_cuda.so, opened on first use
 * (src/backend/cuda/device_loader.c): linked into every program, its libraries (cuBLAS,
 * cuSPARSE, cuSOLVER) cost each process ~240 MB of resident memory and ~1 s of start-up
 * whether or not it touches a GPU. The two tables below are the whole interface: what the
 * module calls back into the library, and what it offers. */
#ifndef TCGPU_CUDA_MODULE_H
#define TCGPU_CUDA_MODULE_H

#include "march_internal.h"
#include "march_lockstep.h"
#include "tcgpu/device.h"
#include "twa_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever either table changes: a stale module is refused, not called. */
#define TCGPU_CUDA_MODULE_ABI 1
#define TCGPU_CUDA_MODULE_ENTRY "tcgpu_cuda_module_open"

typedef struct {
    tcgpu_status (*fail)(tcgpu_status code, const char *fmt, ...);
    tcgpu_status (*ls_run)(const tcgpu_ls_ops *ops, void *ctx, int method, int64_t steps);
    tcgpu_status (*ls_accept)(const tcgpu_batch_plan *p, double *r);
    tcgpu_status (*ls_stack)(const tcgpu_batch_plan *p, int32_t *row_ptr, int32_t *col,
                             double *val);
} tcgpu_cuda_host;

typedef struct {
    int (*devices)(tcgpu_device_info *out, int max, char *why, size_t why_len);
    tcgpu_status (*march)(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                          tcgpu_march_info *info);
    tcgpu_status (*march_sparse)(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                 tcgpu_march_info *info);
    tcgpu_status (*eig_sym)(int64_t n, double *a, double *w);
    tcgpu_status (*eig_sandwich)(int64_t n, const double *u, const double *s, double *c);
    tcgpu_status (*twa)(const twa_job *J, int64_t M, twa_block *blocks);
} tcgpu_cuda_api;

/* The module's one exported symbol: 0 and api filled when abi matches, else -1. */
typedef int (*tcgpu_cuda_module_open_fn)(int abi, const tcgpu_cuda_host *host,
                                         tcgpu_cuda_api *api);

#ifdef __cplusplus
}
#endif
#endif
