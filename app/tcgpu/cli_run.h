/* `tcgpu run`'s pieces (src/cli_run*.c): the job its options describe, one sweep's outcome,
 * and what the sweeps of one run share while they are computed and written in order. */
#ifndef TCGPU_CLI_RUN_H
#define TCGPU_CLI_RUN_H

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "adiabatic.h"
#include "cli.h"
#include "out_h5.h"
#include "plot.h"
#include "run_checks.h"
#include "run_lock.h"
#include "run_mpi.h"
#include "run_record.h"
#include "run_resume.h"
#include "tcgpu/basis.h"
#include "tcgpu/control.h"
#include "tcgpu/device.h"
#include "tcgpu/exact.h"
#include "tcgpu/model.h"
#include "tcgpu/propagate.h"
#include "tcgpu/reduce.h"
#include "tcgpu/sysmem.h"

static const char *const CMD = "run";

typedef struct {
    const char *model, *out, *file;
    int64_t N;
    int K, zip, has_levels, progress, dist_csv;
    int batched;     /* controls share a march service (cuda, or cpu-batched: its check) */
    int cuda, batch; /* the service marches on CUDA; up to `batch` sweeps side by side */
    tcgpu_cuda_path cuda_path;
    tcgpu_coupling coupling;
    int device_frames; /* the readout's dense frames on the CUDA device (src/eig.h) */
    tcgpu_context *ctx; /* batched: the runner and its resident states */
    int max_halvings;  /* the control's attempts (0: its default, 8) */
    char device[256];  /* the CUDA device's name, or "" */
    tcgpu_method method;
    tcgpu_precision precision;
    double tol, T, dt, levels[TCGPU_MAX_CHANNELS];
    double *beta, *g, *eps;
    size_t nb, ng, ne;
} run_job;

/* One sweep's outcome, computed in parallel and written in sweep order. */
typedef struct {
    size_t idx;
    double g, beta, eps, e[TCGPU_MAX_CHANNELS];
    tcgpu_model m;
    int built, rc;
    double *p, *ex;
    tcgpu_auto_report r;
    const char *line; /* kept from the interrupted run (--resume): its summary row */
    int skip;         /* batched: restored (1) or not started for a stop (2) */
} sweep_out;

/* dist.h5, opened at the first sweep written (its dimension and basis come with the model). */
typedef struct {
    const char *path;
    out_h5 *h;
} h5_sink;

/* run.json while the sweeps run: rewritten (temporary name, then rename) as sweeps finish, at
 * most once a second, so that a run killed outright (SIGKILL, a crash, a lost node) leaves a
 * record of how far it got. Not per sweep: lz runs thousands of sweeps a second, and a record
 * costs about as much as one of them; once a second costs under 0.1 % of any run. */
typedef struct {
    run_record *rec;
    const char *path;
    const struct timespec *t0; /* the run's start, for wall_seconds */
    double last;               /* seconds after t0 of the last record */
    char updated[32];
} record_sink;

/* What the sweeps of one run share while they are computed and written in order. */
typedef struct {
    const run_job *j;
    const run_resume *rs;
    FILE *s, *d;
    const char *s_path; /* summary.csv, for the message of a refused write */
    h5_sink *h5;
    size_t *done, *restored, *over_tol, total, next;
    double *updates, last_progress;
    struct timespec t0;
    sweep_out *slot;
    char *ready;
    size_t *row_of; /* row + 1 of a kept sweep, 0 for none */
    record_sink *record;
    int rc;
} sweep_loop;

#if defined(__GNUC__)
/* OpenBLAS runs its own threads per call; inside the sweep threads they would oversubscribe
 * the cores (weak: absent with another BLAS). */
void openblas_set_num_threads(int) __attribute__((weak));
#endif

/* src/cli_run_options.c: the options, their parsing and the checks before a run */
extern const cli_option run_options[];
extern const char *const run_cuda_paths[], *const run_couplings[];
int run_parse(const cli_parsed *a, run_job *j);
int run_check_resources(const run_job *j, const char *dir);
int run_resume_options(cli_parsed *a, const char *dir, run_resume *rs);

/* src/cli_run_sweep.c: one sweep's model, control and exact solution */
tcgpu_status run_build(const run_job *j, double g, double beta, double eps, tcgpu_model *m,
                       double *e);
sweep_out run_sweep_at(const run_job *j, size_t i);
int run_sweep_prepare(const run_job *j, sweep_out *o, tcgpu_auto_opts *ao);
void run_sweep_conclude(sweep_out *o);
void run_sweep_compute(const run_job *j, sweep_out *o);
void run_sweep_restore(const run_job *j, const run_resume *rs, size_t row, sweep_out *o);
void run_sweep_free(sweep_out *o);

/* src/cli_run_tables.c: the tables and the record */
void run_write_headers(FILE *s, FILE *d, int K, int levels);
void run_sweep_write(const run_job *j, const sweep_out *o, FILE *s, FILE *d);
void run_sweep_print(const sweep_out *o);
int run_h5_write(h5_sink *k, const sweep_out *o);
void run_utc_now(char *buf, size_t len);
int run_tables_close(int rc, cli_output *so, cli_output *dout, h5_sink *h5);

/* src/cli_run_loop.c: the sweeps in parallel (threads, batched, MPI), written in order */
double run_seconds_since(const struct timespec *t0);
void run_sweep_mpi_compute(void *ctx, size_t i, run_mpi_result *out);
int run_sweeps(const run_job *j, const run_resume *rs, const cli_output *so, FILE *d, h5_sink *h5,
               record_sink *record, size_t *done, size_t *restored, size_t *over_tol,
               double *updates);

#endif
