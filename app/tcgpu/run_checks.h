/* `tcgpu run`'s up-front checks: the ranges the propagation serves and a bounded number of
 * sweeps, refused with the accepted range before any folder is made; the mlz file read once
 * before the output folder exists. Each returns a CLI_* code after one line on stderr. */
#ifndef TCGPU_RUN_CHECKS_H
#define TCGPU_RUN_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* The most sweeps one run may ask for (a product grid multiplies its lists). */
#define RUN_MAX_SWEEPS 100000

/* --tol, --T, --dt as given (0: not given). */
int run_check_ranges(const cli_parsed *a, double tol, double T, double dt);
/* --beta, --g or --eps values (flag), or the --levels energies (flag NULL). */
int run_check_grid(const double *v, size_t n, const char *flag);
int run_check_sweeps(int zip, size_t nb, size_t ng, size_t ne);
/* Reads and frees the model file, honouring SIGINT/SIGTERM (CLI_INTERRUPTED). */
int run_check_model(const char *path);

#endif
