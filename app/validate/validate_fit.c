/* Ordinary least squares for a straight line. Sums are taken about the means: the raw normal
 * equations lose the slope to cancellation when the x are large and close together (ln x of a
 * narrow range), and the exponent test asks for 1e-12. */
#include "validate_fit.h"

#include <math.h>
#include <stdlib.h>

int v_fit_line(const double *x, const double *y, size_t n, v_fit *f) {
    if (n < 2)
        return -1;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return -1;
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; ++i) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if (!(sxx > 0))
        return -1;
    f->slope = sxy / sxx;
    f->intercept = my - f->slope * mx;
    double rss = 0;
    for (size_t i = 0; i < n; ++i) {
        double r = y[i] - f->intercept - f->slope * x[i];
        rss += r * r;
    }
    f->rms = sqrt(rss / (double)n);
    double s2 = n > 2 ? rss / (double)(n - 2) : 0;
    f->se_slope = sqrt(s2 / sxx);
    f->se_intercept = sqrt(s2 * (1.0 / (double)n + mx * mx / sxx));
    return 0;
}

int v_fit_power(const double *x, const double *y, size_t n, v_fit *f) {
    double *lx = malloc((n ? n : 1) * sizeof *lx), *ly = malloc((n ? n : 1) * sizeof *ly);
    int rc = lx && ly ? 0 : -1;
    for (size_t i = 0; !rc && i < n; ++i) {
        if (!(x[i] > 0 && y[i] > 0))
            rc = -1;
        else {
            lx[i] = log(x[i]);
            ly[i] = log(y[i]);
        }
    }
    if (!rc)
        rc = v_fit_line(lx, ly, n, f);
    free(lx);
    free(ly);
    return rc;
}
