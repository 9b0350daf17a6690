/* Through LAPACKE and CBLAS (Debian's liblapacke-dev, libblas-dev): the C interfaces pass
 * Fortran's hidden string lengths correctly, which hand-declared dsyevd_ prototypes do not. */
#include "eig.h"

#include <cblas.h>
#include <lapacke.h>

tcgpu_status eig_sym(int64_t n, double *a, double *w) {
    lapack_int info =
        LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)n, a, (lapack_int)n, w);
    if (info != 0)
        return tcgpu_fail(TCGPU_ERUNTIME, "LAPACK dsyevd failed (info = %d, n = %lld)", (int)info,
                          (long long)n);
    return TCGPU_OK;
}

void eig_sandwich(int64_t n64, const double *u, const double *s, double *c, double *work) {
    int n = (int)n64;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, s, n, u, n, 0.0, work, n);
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0, u, n, work, n, 0.0, c, n);
}

void eig_sandwich_diag(int64_t n64, const double *u, const double *d, double *c, double *work) {
    int n = (int)n64;
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i)
            work[(size_t)j * n + i] = d[i] * u[(size_t)j * n + i];
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0, u, n, work, n, 0.0, c, n);
}
