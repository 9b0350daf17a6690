/* `tcgpu exact`'s job (app/tcgpu/cli_exact.c: options, checks, the loop over the grid) and
 * its tables (app/tcgpu/cli_exact_tables.c: one CSV block per grid point). */
#ifndef TCGPU_CLI_EXACT_H
#define TCGPU_CLI_EXACT_H

#include <stdint.h>
#include <stdio.h>

#include "tcgpu/exact.h"

#define EXACT_CMD "exact"

typedef struct {
    const char *model, *what;
    int64_t N;
    int K;
    double *g, *beta, levels[TCGPU_MAX_CHANNELS];
    size_t ng, nb;
    int has_levels;
} job;

/* The CSV header of j's table. */
void exact_write_header(FILE *f, const job *j);
/* --what critical: one row per g. CLI_OK or a CLI_* code after a one-line error. */
int exact_write_critical(FILE *f, const job *j);
/* The rows of one grid point (g, beta); p: scratch for the largest distribution. */
int exact_write_block(FILE *f, const job *j, double g, double beta, double *p);

#endif
