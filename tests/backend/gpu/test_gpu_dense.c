/* The readout's dense frames on the device (src/eig.h: cuSOLVER dsyevd, cuBLAS dgemm) against
 * LAPACK/BLAS on the host, and a readout of a 1771-state model (tc K = 3, N = 20) both ways.
 * Skips itself, with the reason, where no CUDA device is usable. */
#include <math.h>
#include <string.h>

#include "adiabatic.h"
#include "backend.h"
#include "eig.h"
#include "tcgpu/device.h"
#include "test_common.h"

static tcgpu_context *ctx;

/* The CUDA runner's dense frames, handed explicitly to the calls below. */
static const eig_device *need_device(void) {
    tcgpu_device_info dev[1];
    char why[256] = "";
    if (tcgpu_cuda_devices(dev, 1, why, sizeof why) < 1)
        cr_skip_test("dense frames on the device not checked: %s", why);
    tcgpu_march_opts o = {.backend = TCGPU_BACKEND_CUDA};
    ASSERT_OK(tcgpu_context_create(&o, 1, &ctx));
    return tcgpu_context_dense(ctx);
}

/* A deterministic symmetric n x n matrix with a spread spectrum. */
static double *matrix(int64_t n) {
    double *a = xcalloc((size_t)(n * n), sizeof(double));
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = j; i < n; ++i) {
            double v = i == j ? (double)i - 0.5 * (double)n : 0.3 * sin(1.0 + (double)(i * 7 + j));
            a[j * n + i] = a[i * n + j] = v;
        }
    return a;
}

Test(gpu_dense, eigh_and_products_match_the_host) {
    const eig_device *dev = need_device();
    const int64_t n = 1500; /* >= EIG_DEVICE_MIN */
    double *a = matrix(n), *h = xcalloc((size_t)(n * n), sizeof(double)),
           *d = xcalloc((size_t)(n * n), sizeof(double)), *wh = xcalloc((size_t)n, sizeof(double)),
           *wd = xcalloc((size_t)n, sizeof(double)), *ch = xcalloc((size_t)(n * n), sizeof(double)),
           *cd = xcalloc((size_t)(n * n), sizeof(double)),
           *work = xcalloc((size_t)(n * n), sizeof(double));
    memcpy(h, a, (size_t)(n * n) * sizeof(double));
    memcpy(d, a, (size_t)(n * n) * sizeof(double));
    ASSERT_OK(eig_sym(NULL, n, h, wh));
    ASSERT_OK(eig_sandwich(NULL, n, h, a, ch, work));
    ASSERT_OK(eig_sym(dev, n, d, wd));
    ASSERT_OK(eig_sandwich(dev, n, d, a, cd, work));
    double dw = 0, off = 0, diag = 0;
    for (int64_t i = 0; i < n; ++i)
        dw = fmax(dw, fabs(wh[i] - wd[i]));
    /* u^T a u on the device's own eigenvectors is diagonal with its eigenvalues */
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < n; ++i)
            if (i == j)
                diag = fmax(diag, fabs(cd[j * n + i] - wd[i]));
            else
                off = fmax(off, fabs(cd[j * n + i]));
    cr_log_info("n = %lld: max |w_host - w_device| = %.2e, device frame off-diagonal %.2e, "
                "diagonal - eigenvalue %.2e",
                (long long)n, dw, off, diag);
    cr_expect_leq(dw, 1e-10, "eigenvalues differ by %.2e", dw);
    cr_expect_leq(off, 1e-10, "u^T a u off-diagonal %.2e", off);
    cr_expect_leq(diag, 1e-10, "u^T a u diagonal vs eigenvalues %.2e", diag);
    free(a);
    free(h);
    free(d);
    free(wh);
    free(wd);
    free(ch);
    free(cd);
    free(work);
    tcgpu_context_free(ctx);
}

/* A whole superadiabatic readout of a 1771-state state through the device's frames. */
Test(gpu_dense, readout_matches_the_host) {
    const eig_device *dev = need_device();
    tcgpu_model m;
    double e[3] = {-1, 0, 1};
    ASSERT_OK(tcgpu_model_tc(&m, 20, 3, 1.0, 1.0, e));
    cr_assert_geq(m.dim, EIG_DEVICE_MIN);
    tcgpu_cplx *psi = xcalloc((size_t)m.dim, sizeof *psi);
    double *ph = xcalloc((size_t)m.dim, sizeof(double)),
           *pd = xcalloc((size_t)m.dim, sizeof(double));
    double norm = 0;
    for (int64_t i = 0; i < m.dim; ++i) {
        psi[i] = (tcgpu_cplx){sin(1.0 + (double)i), cos(0.5 * (double)i)};
        norm += psi[i].re * psi[i].re + psi[i].im * psi[i].im;
    }
    for (int64_t i = 0; i < m.dim; ++i) {
        psi[i].re /= sqrt(norm);
        psi[i].im /= sqrt(norm);
    }
    const tcgpu_cplx *ps[1] = {psi};
    double *out_h[1] = {ph}, *out_d[1] = {pd};
    ASSERT_OK(adiabatic_readout_many(NULL, &m, 40.0, 2, 0, 1, ps, out_h, NULL));
    ASSERT_OK(adiabatic_readout_many(dev, &m, 40.0, 2, 0, 1, ps, out_d, NULL));
    double diff = 0;
    for (int64_t i = 0; i < m.dim; ++i)
        diff = fmax(diff, fabs(ph[i] - pd[i]));
    cr_log_info("tc K=3 N=20 (%lld states) readout at t = 40: max |p_host - p_device| = %.2e",
                (long long)m.dim, diff);
    cr_expect_leq(diff, 1e-10, "readout differs by %.2e", diff);
    free(psi);
    free(ph);
    free(pd);
    tcgpu_model_free(&m);
    tcgpu_context_free(ctx);
}
