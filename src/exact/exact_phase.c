/* Complex log-gamma and the single-channel scattering phases (eq 58, corrected).
 *
 * ln Gamma: the recurrence ln Gamma(z) = ln Gamma(z + n) - sum_j ln(z + j) moves z to |z| >= 15,
 * where Stirling's series with 8 terms is accurate to ~1e-19 relative; summing principal logs
 * gives the principal (continuous off the negative axis) branch, so arg Gamma(i y) is
 * continuous in y and the phases are continuous in g. */
#include <complex.h>
#include <stdlib.h>

#include "exact_internal.h"
#include "tcgpu/exact.h"
#include "tcgpu/sysmem.h"

static const long double half_ln_2pi = 0.91893853320467274178032973640562L;
static const long double pi_l = 3.14159265358979323846264338327950L;

void tcgpu_lgamma_complex(long double re, long double im, long double *lre, long double *lim) {
    long double complex z = re + im * I, shift = 0;
    if (!(re > -1e6L) || !isfinite(im)) { /* outside the documented domain */
        *lre = *lim = NAN;
        return;
    }
    while (cabsl(z) < 15.0L || creall(z) < 0.5L) {
        shift += clogl(z);
        z += 1.0L;
    }
    static const long double b[8] = {1.0L / 12,   -1.0L / 360,      1.0L / 1260, -1.0L / 1680,
                                     1.0L / 1188, -691.0L / 360360, 1.0L / 156,  -3617.0L / 122400};
    long double complex zinv = 1.0L / z, zinv2 = zinv * zinv, series = 0, pw = zinv;
    for (int k = 0; k < 8; ++k) {
        series += b[k] * pw;
        pw *= zinv2;
    }
    long double complex r = (z - 0.5L) * clogl(z) - z + half_ln_2pi + series - shift;
    *lre = creall(r);
    *lim = cimagl(r);
}

static long double arg_gamma_iy(long double y) {
    long double re, im;
    tcgpu_lgamma_complex(0.0L, y, &re, &im);
    return im;
}

tcgpu_status tcgpu_exact_phases(int64_t N, double g, double beta, double *phi) {
    long double c;
    tcgpu_status st = tcgpu_exact_c(g, beta, &c);
    if (st)
        return st;
    if (N < 0)
        return tcgpu_fail(TCGPU_EINVAL, "N = %lld: the number of molecules must be >= 0",
                          (long long)N);
    if ((st = tcgpu_check_memory(((double)N + 1) * sizeof(long double), "the phase table")))
        return st;
    long double gam = (long double)g * (long double)g / (long double)beta;
    long double *pre = malloc(((size_t)N + 1) * sizeof *pre); /* pre[j] = sum_{k<=j} G(k) */
    if (!pre)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for N = %lld", (long long)N);
    ksum acc = {0, 0};
    pre[0] = 0;
    for (int64_t j = 1; j <= N; ++j) {
        ksum_add(&acc, arg_gamma_iy(gam * (long double)j));
        pre[j] = ksum_get(&acc);
    }
    /* Phi_m = 3 m pi/4 + sum_{k=1}^{m} [arg Gamma(i (k+N-m) g^2/beta) - 2 arg Gamma(i k g^2/beta)]
     * and the first sum runs over j = k + N - m = N-m+1..N. */
    for (int64_t m = 0; m <= N; ++m)
        phi[m] = (double)(0.75L * pi_l * (long double)m + (pre[N] - pre[N - m]) - 2 * pre[m]);
    free(pre);
    return TCGPU_OK;
}
