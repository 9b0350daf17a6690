/* Dense real symmetric eigen-decomposition and products: LAPACK/BLAS on the host, or, where the
 * caller hands a device (a CUDA runner's, src/backend.c) and n >= EIG_DEVICE_MIN,
 * cuSOLVER/cuBLAS on it (kernels/dense.cu). The readout's logic (src/adiabatic.c) is the same
 * either way. */
#ifndef TCGPU_EIG_H
#define TCGPU_EIG_H

#include <stdint.h>

#include "tcgpu/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A device's dense operations (kernels/dense.cu); NULL everywhere below: the host's. */
typedef struct {
    tcgpu_status (*sym)(int64_t n, double *a, double *w);
    tcgpu_status (*sandwich)(int64_t n, const double *u, const double *s, double *c);
} eig_device;

/* a: n x n column-major symmetric, replaced by the eigenvectors (columns); w: eigenvalues
 * ascending. */
tcgpu_status eig_sym(const eig_device *dev, int64_t n, double *a, double *w);

/* c = u^T s u for a symmetric s (n x n); work: n x n. A diagonal s >= 0 (the MLZ models'
 * dH/dt) takes one symmetric rank-n update on the host instead of two products. */
tcgpu_status eig_sandwich(const eig_device *dev, int64_t n, const double *u, const double *s,
                          double *c, double *work);

/* Dense frames from this size up go to a device where one is handed: below, the copies
 * cost more than the host's LAPACK (not measured on a device yet; a 5151-state dsyevd takes
 * ~10 s on the host's 2 cores here). */
#define EIG_DEVICE_MIN 1000

/* The device's versions (src/backend/cuda/dense.cu; without CUDA they return an error): a as
 * eig_sym. Serialized on one device context; safe to call from several threads. */
tcgpu_status eig_sym_cuda(int64_t n, double *a, double *w);
/* c = u^T s u with both products on the device (s and u go up once). */
tcgpu_status eig_sandwich_cuda(int64_t n, const double *u, const double *s, double *c);

#ifdef __cplusplus
}
#endif
#endif
