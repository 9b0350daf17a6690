/* `mpirun -np R tcgpu run`: the grid's sweeps shared out over MPI ranks. Rank 0 hands out sweep
 * indices one at a time as ranks ask (sweep costs differ 10-100x across beta, so a static split
 * would leave ranks idle), computes sweeps on its own threads too, and receives every finished
 * sweep to write it in sweep order exactly as a one-process run does. The other ranks compute
 * what they are given. Without MPI (or without a launcher) every call here is a no-op: one
 * process, rank 0 of 1. */
#ifndef TCGPU_RUN_MPI_H
#define TCGPU_RUN_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "tcgpu/propagate.h"

/* Starts MPI when an MPI launcher (mpirun, mpiexec, srun) started this process and sets each
 * rank's OpenMP threads to its share of the node's cores (unless OMP_NUM_THREADS says). */
int run_mpi_init(const char *cmd);
int run_mpi_rank(void); /* 0 without MPI */
int run_mpi_size(void); /* 1 without MPI */
/* Ends MPI with the rank's exit status rc: a clean finalize, or an abort of the whole job when
 * it stopped early and some rank cannot be reached. Returns the process's exit status. */
int run_mpi_end(int rc);

/* Rank 0: more ranks than sweeps, or a batched backend (cuda, cpu-batched: its controls are not
 * shared out over ranks yet), is refused with one line and CLI_BADINPUT. */
int run_mpi_check(const char *cmd, size_t sweeps, int batched);
/* Rank 0: the options every rank runs with (sent when the sweeps start). Ranks > 0: receives
 * them; *argc = -1 when rank 0 ended before starting any sweep. */
void run_mpi_set_args(int argc, char **argv);
int run_mpi_get_args(const char *cmd, int *argc, char ***argv);
void run_mpi_free_args(int argc, char **argv);

/* One sweep's outcome as it travels to rank 0. */
typedef struct {
    int rc;      /* CLI_* code of the sweep */
    int64_t dim; /* states (0 when rc != 0) */
    tcgpu_auto_report r;
    double *p, *ex; /* [dim] each, malloc'ed; whoever receives them frees them */
} run_mpi_result;

typedef struct {
    size_t total; /* sweeps in the grid */
    void *ctx;
    /* Any rank: computes sweep i into *out (rc set even on failure). */
    void (*compute)(void *ctx, size_t i, run_mpi_result *out);
    /* Rank 0: sweep i computed (or kept, for --resume) and written in order on this rank. */
    void (*local)(void *ctx, size_t i);
    /* Rank 0: sweep i computed on another rank, to be written in order; takes res's arrays. */
    void (*remote)(void *ctx, size_t i, run_mpi_result *res);
    /* Rank 0: nonzero for a sweep kept from the interrupted run (never handed out), and once a
     * sweep has failed (nothing more is handed out). */
    int (*kept)(void *ctx, size_t i);
    int (*failed)(void *ctx);
} run_mpi_work;

/* Rank 0: runs the grid over all ranks. CLI_INTERRUPTED when a signal (or a rank that died)
 * stopped it: the sweeps written so far stand. */
int run_mpi_lead(const char *cmd, const run_mpi_work *w);
/* Ranks > 0: computes what rank 0 hands out until it says the grid is done. */
int run_mpi_serve(const char *cmd, const run_mpi_work *w);

/* Rank 0 of a command that runs several grids one after another (validate): each
 * run_mpi_lead sends its own options, and run_mpi_end tells the ranks that no more follow. */
void run_mpi_batches(void);
/* The job stopped early (a signal, a failed sweep, a dead rank): no grid follows. */
int run_mpi_stopped(void);

/* What stopped the job, when a rank (not a signal here) did; NULL otherwise. */
const char *run_mpi_stop_reason(void);

/* For run.json: one entry per rank, after run_mpi_lead. */
typedef struct {
    char host[64];
    char device[96]; /* the CPU's model (ranks compute on the CPU under MPI) */
    int threads;
    size_t nsweeps;
    int64_t *sweeps; /* the sweeps it computed, in the order they arrived */
    double busy_seconds;
} run_mpi_rank_report;

typedef struct {
    int ranks;
    double wall_seconds; /* from the first hand-out to the last result (summed over grids) */
    run_mpi_rank_report *rank;
} run_mpi_report;

const run_mpi_report *run_mpi_get_report(void); /* NULL when no MPI run took place */

#endif
