/* Least-squares fits with standard errors, for the scaling laws `tcgpu validate` measures. */
#ifndef TCGPU_VALIDATE_FIT_H
#define TCGPU_VALIDATE_FIT_H

#include <stddef.h>

typedef struct {
    double slope, intercept;
    double se_slope, se_intercept; /* standard errors from the residuals (n - 2 dof); 0 for
                                    * n = 2 or an exact fit */
    double rms;                    /* root-mean-square residual */
} v_fit;

/* y = intercept + slope x, ordinary least squares (centred sums). Returns 0, or -1 when n < 2
 * or all x are equal or any value is not finite. */
int v_fit_line(const double *x, const double *y, size_t n, v_fit *f);

/* y = A x^mu, fitted as ln y = ln A + mu ln x: slope = mu, intercept = ln A. Needs x, y > 0. */
int v_fit_power(const double *x, const double *y, size_t n, v_fit *f);

#endif
