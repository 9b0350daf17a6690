/* What the scaling-large check (validate_scaling_large.c: the searches and the fits) shares
 * with its outputs (validate_scaling_large_out.c: the report table, the CSV files, the figure). */
#ifndef TCGPU_VALIDATE_SCALING_LARGE_H
#define TCGPU_VALIDATE_SCALING_LARGE_H

#include <math.h>

#include "validate_scaling.h"

#define TWO_PI 6.283185307179586

enum {
    MAXN = 5, /* sizes: the ladder's four and the largest */
    MAXS = 8, /* sweeps of one root search */
    NM = 5    /* rates of the eq 55 fit */
};
static const double MFAC[NM] = {0.5, 0.6, 0.7, 0.8, 0.9};

/* One size: its root search and its eq 55 sweeps. */
typedef struct {
    int64_t N;
    double exact, b50;
    int n, state; /* sweeps done; 0 searching, 1 converged, -1 failed */
    const char *why;
    double beta[MAXS], r[MAXS], tvb[MAXS], dev[MAXS], tv[MAXS];
    double root, step, slope, err_tv, err_dev, seconds;
    vsweep m[NM];
    double u[NM], ms[NM], me[NM], dmax;
    v_fit fm, fe;
    int fitted;
} vsize;

static inline double eq49_q(double N) { return 1 - log(log(N)) / log(N); }

void vlarge_table(vctx *c, const vsize *z, int nz);
int vlarge_write_csv(vctx *c, const vsize *z, int nz);
int vlarge_write_curves(vctx *c, int64_t nmax);
int vlarge_plot(vctx *c, const vsize *z, int nz, const v_fit *fmu, int nm);

#endif
