/* Real vector helpers of the eigenvector code that works without dense frames (the chain
 * readout, src/numerics/adiabatic_tri*.c, and the sparse start, adiabatic_sparse.c). */
#ifndef TCGPU_VEC_H
#define TCGPU_VEC_H

#include <stdint.h>

static inline double dot(const double *a, const double *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += a[i] * b[i];
    return s;
}

/* v minus its component along the unit vector u. */
static inline void project_out(double *v, const double *u, int64_t n) {
    double a = dot(u, v, n);
    for (int64_t i = 0; i < n; ++i)
        v[i] -= a * u[i];
}

#endif
