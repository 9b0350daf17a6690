/* `tcgpu run --resume DIR`: what an interrupted run left in DIR (its options from run.json, its
 * finished sweeps from summary.csv and dist.h5), so that the run can go on without redoing
 * them. */
#ifndef TCGPU_RUN_RESUME_H
#define TCGPU_RUN_RESUME_H

#include <stddef.h>
#include <stdint.h>

/* A finished sweep's summary.csv row. */
typedef struct {
    int64_t sweep;
    char *line; /* verbatim, without the newline */
    double seconds;
    int64_t applications;
} run_resume_row;

typedef struct {
    int argc;
    char **argv;   /* the run's own options (run.json "arguments") */
    int completed; /* run.json says the run finished */
    double tol;    /* run.json "tolerance" and "method": must agree with the arguments */
    char method[16];
    double *grid[3]; /* run.json parameters "beta", "g", "eps" (NULL when absent) */
    size_t ngrid[3];
    size_t rows; /* finished sweeps, in the order written (ascending sweep index) */
    run_resume_row *row;
    double *g, *beta, *eps, *err_estimate; /* [rows], from dist.h5 */
    int64_t dim;
    double *prob, *exact; /* [rows x dim]; exact NULL when the run had no exact solution */
} run_resume;

/* Reads DIR. Returns a CLI_* code after one line on stderr (CLI_BADINPUT when DIR does not hold
 * a tcgpu run, or its files disagree). */
int run_resume_load(const char *cmd, const char *dir, run_resume *r);
void run_resume_free(run_resume *r);

/* The record's tolerance, method and beta, g, eps lists against those its arguments give (an
 * edited argument list would mix sweeps of two tolerances or grids in one table). CLI_BADINPUT
 * after one line if not. */
int run_resume_agrees(const char *cmd, const char *dir, const run_resume *r, double tol,
                      const char *method, const double *const grid[3], const size_t ngrid[3]);

#endif
