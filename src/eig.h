/* Dense real symmetric eigen-decomposition and products through LAPACK/BLAS. */
#ifndef TCGPU_EIG_H
#define TCGPU_EIG_H

#include <stdint.h>

#include "tcgpu/status.h"

/* a: n x n column-major symmetric, replaced by the eigenvectors (columns); w: eigenvalues
 * ascending. */
tcgpu_status eig_sym(int64_t n, double *a, double *w);

/* c = u^T diag(d) u (all n x n column-major); work: n x n. */
void eig_sandwich_diag(int64_t n, const double *u, const double *d, double *c, double *work);

/* c = u^T s u for a general symmetric s (n x n); work: n x n. */
void eig_sandwich(int64_t n, const double *u, const double *s, double *c, double *work);

#endif
