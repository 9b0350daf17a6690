/* Through LAPACKE and CBLAS (Debian's liblapacke-dev, libblas-dev): the C interfaces pass
 * Fortran's hidden string lengths correctly, which hand-declared dsyevd_ prototypes do not. */
#include "eig.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>

static int on_device(const eig_device *dev, int64_t n) { return dev && n >= EIG_DEVICE_MIN; }

/* c = op(a) b with BLAS. */
static tcgpu_status gemm(int64_t n64, int ta, const double *a, const double *b, double *c) {
    int n = (int)n64;
    cblas_dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b,
                n, 0.0, c, n);
    return TCGPU_OK;
}

/* A stop request (SIGINT/SIGTERM) is honoured between the dense calls: one dsyevd of a few
 * thousand states takes seconds, and the start and readout make several (a 1500-state chain
 * took 15 s to stop). */
static tcgpu_status stopped(void) { return tcgpu_stop_requested() ? TCGPU_EINTR : TCGPU_OK; }

tcgpu_status eig_sym(const eig_device *dev, int64_t n, double *a, double *w) {
    if (stopped())
        return TCGPU_EINTR;
    if (on_device(dev, n))
        return dev->sym(n, a, w);
    lapack_int info =
        LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)n, a, (lapack_int)n, w);
    if (info != 0)
        return tcgpu_fail(TCGPU_ERUNTIME, "LAPACK dsyevd failed (info = %d, n = %lld)", (int)info,
                          (long long)n);
    return stopped();
}

/* u^T diag(d) u with d >= 0 as (D^1/2 u)^T (D^1/2 u): one symmetric rank-n update, half the
 * flops of one product. The MLZ models' dH/dt = diag(b) is diagonal, and tc's slopes
 * b = beta (N - n) are >= 0; with the two general products the readout's frames took 4 n^3 of
 * their ~15 n^3 flops here. */
static int sandwich_syrk(int64_t n64, const double *u, const double *s, double *c, double *work) {
    for (int64_t j = 0; j < n64; ++j)
        for (int64_t i = 0; i < n64; ++i)
            if (i == j ? !(s[j * n64 + i] >= 0) : s[j * n64 + i] != 0)
                return 0;
    for (int64_t j = 0; j < n64; ++j)
        for (int64_t i = 0; i < n64; ++i)
            work[j * n64 + i] = sqrt(s[i * n64 + i]) * u[j * n64 + i];
    int n = (int)n64;
    cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, n, n, 1.0, work, n, 0.0, c, n);
    for (int64_t j = 0; j < n64; ++j) /* the upper triangle from the lower */
        for (int64_t i = 0; i < j; ++i)
            c[j * n64 + i] = c[i * n64 + j];
    return 1;
}

tcgpu_status eig_sandwich(const eig_device *dev, int64_t n, const double *u, const double *s,
                          double *c, double *work) {
    if (stopped())
        return TCGPU_EINTR;
    if (on_device(dev, n))
        return dev->sandwich(n, u, s, c);
    if (sandwich_syrk(n, u, s, c, work))
        return TCGPU_OK;
    tcgpu_status st = gemm(n, 0, s, u, work);
    return st ? st : gemm(n, 1, u, work, c);
}
