/* run.json: the record written beside every `tcgpu run` result (cJSON, Debian's libcjson). */
#ifndef TCGPU_RUN_RECORD_H
#define TCGPU_RUN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "run_mpi.h"
#include "tcgpu/march.h"

typedef struct {
    int argc;
    char **argv; /* the options after `tcgpu run` */
    const char *model, *method, *precision, *grid, *file;
    int64_t N;
    int K, has_levels;
    const double *levels;
    const double *beta, *g, *eps;
    size_t nb, ng, ne;
    double tol, T, dt;
    int threads;
    const char *backend;              /* "cpu" or "cuda" */
    const char *device;               /* the CUDA device's name; NULL: the CPU's */
    const char *cuda_path, *coupling; /* the batched march's options (NULL: not batched) */
    const char *frames;               /* where the readout's dense frames ran */
    const char *started;              /* ISO 8601, UTC */
    const char *updated;              /* when this record was written (NULL: not given) */
    double wall_seconds;
    size_t sweeps_total, sweeps_done;
    size_t sweeps_restored;   /* of sweeps_done, kept from the interrupted run (--resume) */
    double amplitude_updates; /* coupling applications x dimension, summed over sweeps */
    int completed, interrupted, dist_csv;
    const char *error;         /* NULL when the run succeeded */
    const run_mpi_report *mpi; /* the ranks of an MPI run; NULL for one process */
    const char *runner;                   /* batched: the backend table's runner */
    const tcgpu_transfer_stats *transfers; /* batched: the copies it made; NULL otherwise */
} run_record;

/* run.json's "mpi" object (also in `tcgpu validate`'s record): a cJSON object. */
struct cJSON *run_record_mpi_json(const run_mpi_report *m);

/* Writes path under a temporary name and renames it when complete. Returns a CLI_* code; cmd
 * NULL: without a message on failure (one has been printed already). */
int run_record_write(const char *cmd, const char *path, const run_record *r);

#endif
