/* Models as tcgpu propagates them: H(t) = diag(b t + a + w/t) + f(t) V, with V real symmetric
 * and off-diagonal, f(t) = 1 (the MLZ models, H = Bt + A) or 1/t (the effective two-mode
 * model of eq 72).
 *
 * The propagation runs in the interaction picture of the diagonal, where coupling i-j carries
 * the phase theta_i - theta_j, theta_i(t) = b_i t^2/2 + a_i t + w_i ln|t|. Couplings that share
 * (b_i - b_j, a_i - a_j, w_i - w_j) share that phase: a "phase class". All links of one TC
 * channel form one class, so a step evaluates K phases, not one per link. */
#ifndef TCGPU_MODEL_H
#define TCGPU_MODEL_H

#include <stdint.h>

#include "tcgpu/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TCGPU_MODEL_LZ,
    TCGPU_MODEL_DO,
    TCGPU_MODEL_TC,
    TCGPU_MODEL_HEFF,
    TCGPU_MODEL_MLZ
} tcgpu_model_kind;

typedef struct {
    double db, da, dw; /* theta_i - theta_j = db t^2/2 + da t + dw ln|t| for i > j links */
} tcgpu_phase_class;

typedef struct {
    tcgpu_model_kind kind;
    int64_t dim;
    int K;             /* channels (tc, heff: 2) or parallel levels (do); labels per state */
    int64_t N;         /* molecules (tc), pairs in the sector (heff) */
    double g, beta;    /* as given (mlz: beta = 1, g = 1 scale the file's numbers) */
    double *b, *a, *w; /* diagonal: slopes, constants, 1/t coefficients (w NULL if unused) */
    int inverse_t;     /* coupling factor f(t) = 1/t (heff) instead of 1 */
    /* V in CSR, both triangles: row i, entries (col[e], val[e]); cls[e] = c + 1 when
     * i > col[e] (phase +class c), -(c + 1) when i < col[e] (conjugate). */
    int64_t *row_ptr, *col;
    double *val;
    int32_t *cls;
    int nclass;
    tcgpu_phase_class *classes;
    int32_t *labels; /* dim x K: the state's occupation numbers (tc), level (lz/do), n1,n2 (heff) */
    int64_t start;   /* index of the diabatic start state */
} tcgpu_model;

/* K-channel Tavis-Cummings (eq 33): pair energies e[0..K-1] (any order, distinct). */
tcgpu_status tcgpu_model_tc(tcgpu_model *m, int64_t N, int K, double g, double beta,
                            const double *pair_energies);
/* Landau-Zener [[beta t, g], [g, 0]], start in level 0. */
tcgpu_status tcgpu_model_lz(tcgpu_model *m, double g, double beta);
/* Demkov-Osherov: level 0 with slope beta crossing K parallel levels e[k], couplings g. */
tcgpu_status tcgpu_model_do(tcgpu_model *m, int K, double g, double beta, const double *levels);
/* Effective two-mode model (eq 72-73), sector of n pairs, channel energies -eps, +eps. */
tcgpu_status tcgpu_model_heff(tcgpu_model *m, int64_t n, double g, double beta, double eps);

/* A user's H(t) = B t + A from a text file (docs/mlz-format.md). Strict: a malformed, binary or
 * oversized file fails with TCGPU_EINVAL and a message naming the line; a stop request
 * (tcgpu_request_stop) ends the reading with TCGPU_EINTR. On failure *m holds nothing. */
tcgpu_status tcgpu_model_mlz_file(tcgpu_model *m, const char *path);

/* Limits of the mlz reader: bytes per line (comment included), couplings per file, and the
 * magnitudes a nonzero number may have. */
#define MLZ_LINE_MAX 65536
#define MLZ_MAX_COUPLINGS 2000000
#define MLZ_VALUE_MIN 1e-8
#define MLZ_VALUE_MAX 1e8

void tcgpu_model_free(tcgpu_model *m);

/* Gershgorin bound of |V|: max_i sum_j |V_ij|. */
double tcgpu_model_vbound(const tcgpu_model *m);

/* The K-channel basis index of occupation n[0..K-1] (basis.h order), O(K). */
int64_t tcgpu_basis_index(int64_t N, int K, const int64_t *n);

#ifdef __cplusplus
}
#endif
#endif
