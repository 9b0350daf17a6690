/* A whole `tcgpu run` as one library call (a scan): the sweeps of a list of grid points
 * (g, beta, eps), each under the accuracy control and beside its exact distribution, in parallel on
 * OpenMP threads (CPU backend). Written for callers from other languages (the Python module in
 * python/ reaches it through ctypes): plain structs, caller-owned arrays, no callbacks.
 *
 * Stopping: tcgpu_request_stop() (status.h) from any thread ends the running sweeps within a
 * few hundred steps and skips the rest; the sweeps finished by then are kept (done[i] = 1) and
 * the call returns TCGPU_EINTR. The flag is not cleared here: clear it (tcgpu_clear_stop)
 * before the call, so that a stop asked for while the call starts is not lost. */
#ifndef TCGPU_SCAN_H
#define TCGPU_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "tcgpu/propagate.h"
#include "tcgpu/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *model;    /* "tc", "lz", "do" or "heff" */
    int64_t N;            /* molecules (tc), pairs in the sector (heff) */
    int K;                /* channels (tc) or parallel levels (do); lz and heff fix their own */
    const double *levels; /* K pair (do: level) energies, or NULL: from each sweep's eps, as
                           * tcgpu run builds them (tc: e_k = 2(2k-K-1) eps) */
    size_t sweeps;        /* grid points */
    const double *g, *beta, *eps; /* [sweeps] each */
    tcgpu_method method;
    tcgpu_precision precision;
    double tol;       /* target total-variation error, (0, 1); >= 1e-4 in fp32 */
    double T, kappa;  /* window and step overrides, 0: automatic (as --T, --dt) */
    int max_halvings; /* the control's attempts, 0: its default (8) */
    int threads;      /* OpenMP threads, 0: OpenMP's default */
} tcgpu_scan_spec;

/* Caller-owned outputs, [sweeps] unless noted; any pointer may be NULL (not wanted). */
typedef struct {
    double *prob, *exact; /* [sweeps x dim], basis order (basis.h; lz/do: level) */
    double *mean;         /* [sweeps x nk]: tcgpu_reduce_means */
    double *mean_n, *eta; /* eta as tcgpu_reduce_means (0 unless nk = 2) */
    double *tv, *maxabs;  /* against the exact distribution */
    double *err_estimate, *T0, *Tr, *kappa, *norm_error, *seconds;
    int64_t *steps, *applications;
    unsigned char *done; /* 1 where the sweep finished */
} tcgpu_scan_out;

/* Checks the spec (everything but the sweeps' own g, beta, eps, which each sweep checks) and
 * gives the states per sweep and the number of means per sweep (tc, heff: K; lz, do: the
 * parallel levels). */
tcgpu_status tcgpu_scan_shape(const tcgpu_scan_spec *s, int64_t *dim, int *nk);

/* The state labels of the spec's model, [dim x K] int32 (tc: n1..nK; heff: n1, n2; lz, do: the
 * level, K = 1 column), in the order of prob. */
tcgpu_status tcgpu_scan_labels(const tcgpu_scan_spec *s, int32_t *labels, int *K);

/* Runs every sweep. The first failing sweep's message becomes this call's (sweeps after it are
 * not started; the finished ones stay marked done). */
tcgpu_status tcgpu_scan_run(const tcgpu_scan_spec *s, const tcgpu_scan_out *out);

/* The library's version and the commit it was built from. */
const char *tcgpu_version(void);
const char *tcgpu_git_commit(void);

#ifdef __cplusplus
}
#endif
#endif
