/* The ranges below are what the automatic window and step serve in minutes, not seconds of
 * NaN: --T 1e300 or --dt 1e-300 used to end in "propagation diverged (nan)" or run without
 * end, and a 1e8-value --beta range ran unbounded. */
#include "run_checks.h"

#include <math.h>
#include <string.h>

#include "tcgpu/model.h"

static const char *const CMD = "run";

#define PARAM_MIN 1e-6 /* --beta, --g, --eps */
#define PARAM_MAX 1e6

int run_check_ranges(const cli_parsed *a, double tol, double T, double dt) {
    if (cli_get(a, "tol") && cli_in_range(CMD, "tol", &tol, 1, 1e-12, 0.5))
        return CLI_BADINPUT;
    if (cli_get(a, "T") && cli_in_range(CMD, "T", &T, 1, 1e-2, 1e5))
        return CLI_BADINPUT;
    if (cli_get(a, "dt") && cli_in_range(CMD, "dt", &dt, 1, 1e-4, 2))
        return CLI_BADINPUT;
    return CLI_OK;
}

int run_check_grid(const double *v, size_t n, const char *flag) {
    if (flag)
        return cli_in_range(CMD, flag, v, n, PARAM_MIN, PARAM_MAX);
    for (size_t i = 0; i < n; ++i)
        if (!(fabs(v[i]) <= PARAM_MAX)) {
            cli_error(CMD, "--levels: %g is out of range; expected energies from %g to %g", v[i],
                      -PARAM_MAX, PARAM_MAX);
            return CLI_BADINPUT;
        }
    return CLI_OK;
}

int run_check_sweeps(int zip, size_t nb, size_t ng, size_t ne) {
    double total = zip ? (double)nb : (double)nb * (double)ng * (double)ne;
    if (total > RUN_MAX_SWEEPS) {
        cli_error(CMD,
                  "%.0f sweeps (--beta %zu x --g %zu x --eps %zu values); expected at most %d "
                  "per run",
                  total, nb, ng, ne, RUN_MAX_SWEEPS);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

int run_check_model(const char *path) {
    if (!path || !*path) { /* the library's message names no flag; this one names --file */
        cli_error(CMD, "the model file name is empty; expected --file PATH");
        return CLI_BADINPUT;
    }
    tcgpu_model m;
    int rc = cli_status(CMD, tcgpu_model_mlz_file(&m, path));
    if (rc == CLI_OK)
        tcgpu_model_free(&m);
    else if (rc == CLI_INTERRUPTED)
        cli_error(CMD, "interrupted while reading '%s'; nothing was written", path);
    return rc;
}
