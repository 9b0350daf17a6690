/* dist.h5: the final distributions of a run as HDF5 (Debian's libhdf5), appended one sweep at a
 * time, under a temporary name renamed when the run ends. */
#ifndef TCGPU_OUT_H5_H
#define TCGPU_OUT_H5_H

#include <stdint.h>

typedef struct out_h5 out_h5;

/* labels: [dim x K] occupation numbers (K = 0: levels 0..dim-1, written as a [dim x 1] table).
 * with_exact: also a dataset of exact distributions. Returns a CLI_* code. */
int out_h5_open(const char *cmd, const char *path, int64_t dim, int K, const int *labels,
                int with_exact, out_h5 **h);

typedef struct {
    int64_t sweep;
    double g, beta, eps, err_estimate, tv_exact;
} out_h5_row;

int out_h5_append(const char *cmd, out_h5 *h, const out_h5_row *row, const double *prob,
                  const double *exact);

/* Keeps HDF5 from installing its exit handler; call before the process's first HDF5 call
 * (out_h5_open does). */
void h5_no_exit_handler(void);

/* keep = 0 discards the file. Returns a CLI_* code. */
int out_h5_close(const char *cmd, out_h5 *h, int keep);

#endif
