/* What the chain readout (adiabatic_tri.c: the chain, its windows and chunks) shares with its
 * eigenpairs (adiabatic_tri_pairs.c: a pair's stretch, inverse iteration, the dressing's
 * resolvent solves and the hand-over to the sink). */
#ifndef TCGPU_ADIABATIC_TRI_H
#define TCGPU_ADIABATIC_TRI_H

#include <lapacke.h>
#include <math.h>
#include <stdint.h>

#include "adiabatic.h"
#include "vec.h"

#define RESIDUAL_REL 1e-13 /* eigenpair residual on the cut ends, relative to its gap */
#define SHIFT_REL 1e-14    /* resolvent shift, relative to the gap */

/* The chain H(t) in site order: diagonal d, couplings e[i] between sites i and i + 1, slopes b.
 * Sites run along the model's indices, reversed where the diagonal falls (so that ranks and
 * sites grow together on a ladder). */
typedef struct {
    int64_t n;
    double t; /* the time of H(t) */
    double *d, *e, *b;
    int reversed, ladder; /* ladder: d rises strictly along the sites */
    double step;          /* mean level step along the sites */
    double glo, ghi;      /* Gershgorin bounds of the spectrum, padded */
    double bmax;          /* the largest Gershgorin radius: a bound on |H - diag(d)| */
} chain;

/* The Gershgorin radius of site i's row. */
static inline double band(const chain *c, int64_t i) {
    return (i > 0 ? fabs(c->e[i - 1]) : 0) + (i + 1 < c->n ? fabs(c->e[i]) : 0);
}

static inline int64_t model_index(const chain *c, int64_t site) {
    return c->reversed ? c->n - 1 - site : site;
}

/* Scratch of one thread: a window's diagonal, couplings and eigenvalues; the LU factors of a
 * sub-window's H - E - shift; the eigenvector and its admixtures on that sub-window. */
typedef struct {
    int64_t cap;
    double *d, *e, *w;
    lapack_int *ipiv;
    double *dl, *dd, *du, *du2;
    double *u, *x, *y1, *y2, *v;
    double *uc, *y2p, *y2m; /* the third order's: the eigenvector at t, y2 at t + dt and t - dt */
} scratch;

/* One eigenpair on a stretch of the chain (sites ws .. ws + lw - 1), of H(t + dt). */
typedef struct {
    const chain *c;
    int64_t ws, lw;
    double E, gap;
    const double *u;
    double dt;
} pair;

/* What a chunk's eigenpairs are handed to: rank r (global), the pair, its admixtures. */
typedef struct {
    int superadiabatic;
    /* readout */
    int count;
    const tcgpu_cplx *const *psi;
    double *const *prob;
    const int64_t *label_of_rank;
    const int64_t *next_weight; /* the first site from i on where some psi exceeds SKIP_SITE */
    /* start */
    tcgpu_cplx *start;
} sink;

void tri_scratch_free(scratch *s);
int tri_scratch_fit(scratch *s, int64_t lw);
int tri_one_pair(const chain *c, int64_t ws, int64_t we, double E, double gap, int64_t rank,
                 scratch *s, const sink *k);

#endif
