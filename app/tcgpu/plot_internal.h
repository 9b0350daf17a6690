/* What app/tcgpu/plot.c draws from: a run folder's run.json and summary.csv as read by
 * app/tcgpu/plot_read.c, and the shape of the scanned grid. */
#ifndef TCGPU_PLOT_INTERNAL_H
#define TCGPU_PLOT_INTERNAL_H

#include <stddef.h>

#include "tcgpu/exact.h"

/* What run.json says about the run. */
typedef struct {
    char model[16];
    long long N;
    int K, has_levels, completed, interrupted;
    double levels[TCGPU_MAX_CHANNELS], tol;
    long long total;
} plot_run;

/* summary.csv: per row the grid point and what is plotted. */
typedef struct {
    size_t rows;
    int nk;                                                  /* mean_n1..mean_n<nk> columns */
    double *g, *beta, *eps, *mean, *mean_n, *eta, *tv, *est; /* mean: rows x nk */
} plot_table;

/* run.json of DIR; CLI_OK, or a CLI_* code after a one-line error naming cmd. */
int plot_read_run(const char *cmd, const char *dir, plot_run *r);
/* summary.csv of DIR into t (plot_table_free releases it); CLI_OK or a CLI_* code. */
int plot_read_table(const char *cmd, const char *dir, plot_table *t);
void plot_table_free(plot_table *t);
/* Distinct values of v (sorted into w, which must hold n). */
size_t plot_distinct(const double *v, size_t n, double *w);
/* A log axis where the values are log-spaced (three or more at a constant ratio) or span
 * more than two decades (a hand-written list such as 0.1,1,10,100). */
int plot_log_spaced(const double *w, size_t d);

#endif
