/* `tcgpu exact`: the paper's exact predictions as CSV tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_exact.h"
#include "tcgpu/exact.h"
#include "tcgpu/sysmem.h"

static const char *const CMD = EXACT_CMD;

static const cli_option opts[] = {
    {"model", 1, "lz | do | tc | heff (default tc)"},
    {"N", 1, "molecules (tc), pairs in the sector (heff); default 40"},
    {"channels", 1, "reaction channels K (tc) or parallel levels (do); default 2"},
    {"g", 1, "coupling: list 0.5,1 or range a:b:n[:log]; default 1"},
    {"beta", 1, "sweep rate: list or range; default 0.05:100:12:log"},
    {"levels", 1, "e1,...,eK: channel pair energies (do: parallel levels), any order"},
    {"what", 1, "dist | moments | total | critical | asymptotic | phases"},
    {"out", 1, "write the CSV to FILE (complete or not at all) instead of stdout"},
    {"help", 0, "show this help"},
    {NULL, 0, NULL},
};

/* Doubles one (g, beta) block needs, checked against the machine before anything is written. */
#define EXACT_MAX_ROWS 1e8

static int check_size(const job *j) {
    const char *w = j->what;
    double entries = (double)j->N + 1, per_block = entries;
    if (!strcmp(w, "dist") && !strcmp(j->model, "tc")) {
        int64_t dim = tcgpu_basis_dim(j->N, j->K);
        if (dim < 0) {
            cli_error(CMD,
                      "N = %lld with %d channels has more than 2^63 states; expected a "
                      "smaller N or fewer channels",
                      (long long)j->N, j->K);
            return CLI_BADINPUT;
        }
        entries = (double)dim + 2.0 * ((double)j->N + 1);
        per_block = (double)dim;
    } else {
        entries *= 5; /* probabilities, phases and the long double tables */
    }
    if (tcgpu_check_memory(entries * sizeof(double), "this request"))
        return cli_status(CMD, TCGPU_EINVAL);
    /* the table's size: a 1e8-value grid would write for hours before anyone saw a row */
    double blocks = !strcmp(w, "critical") ? 1 : (double)j->nb * (double)j->ng;
    double rows = blocks * (!strcmp(w, "moments") || !strcmp(w, "asymptotic") ? 1 : per_block);
    if (rows > EXACT_MAX_ROWS) {
        cli_error(CMD,
                  "%zu --g x %zu --beta values would write about %.3g rows; expected at most "
                  "%.0e (fewer values or a smaller N)",
                  j->ng, j->nb, rows, EXACT_MAX_ROWS);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

static int run(const job *j, const char *out_path) {
    int rc = check_size(j);
    if (rc)
        return rc;
    size_t entries = (size_t)j->N + 1;
    if (!strcmp(j->what, "dist") && !strcmp(j->model, "tc"))
        entries = (size_t)tcgpu_basis_dim(j->N, j->K);
    double *p = malloc((2 * entries + 2) * sizeof *p);
    cli_output o;
    if (!p) {
        cli_error(CMD, "out of memory for %zu probabilities", entries);
        return CLI_RUNTIME;
    }
    if ((rc = cli_output_open(CMD, out_path, &o))) {
        free(p);
        return rc;
    }
    exact_write_header(o.f, j);
    if (!strcmp(j->what, "critical"))
        rc = exact_write_critical(o.f, j);
    for (size_t ig = 0; !rc && strcmp(j->what, "critical") && ig < j->ng; ++ig)
        for (size_t ib = 0; !rc && ib < j->nb; ++ib)
            rc = exact_write_block(o.f, j, j->g[ig], j->beta[ib], p);
    free(p);
    int rc_close = cli_output_close(CMD, &o, rc == CLI_OK);
    return rc ? rc : rc_close;
}

static int one_of(const char *v, const char *const *set) {
    for (; *set; ++set)
        if (!strcmp(v, *set))
            return 1;
    return 0;
}

/* Which --what each model offers, and which options make sense for it. */
static int check_model(const cli_parsed *a, job *j) {
    static const char *const models[] = {"lz", "do", "tc", "heff", NULL};
    static const char *const whats[] = {"dist",       "moments", "total", "critical",
                                        "asymptotic", "phases",  NULL};
    if (!one_of(j->model, models)) {
        cli_error(CMD, "--model: unknown model '%s'; expected lz, do, tc or heff", j->model);
        return CLI_BADINPUT;
    }
    int is_tc = !strcmp(j->model, "tc"), is_heff = !strcmp(j->model, "heff");
    int is_lz = !strcmp(j->model, "lz");
    if (!j->what)
        j->what = is_tc || is_heff ? "moments" : "dist";
    if (!one_of(j->what, whats)) {
        cli_error(CMD,
                  "--what: unknown table '%s'; expected dist, moments, total, critical, "
                  "asymptotic or phases",
                  j->what);
        return CLI_BADINPUT;
    }
    const char *w = j->what;
    if ((!is_tc && strcmp(w, "dist") && !(is_heff && !strcmp(w, "moments")))) {
        cli_error(CMD,
                  "--what %s is not available for --model %s (lz and do: dist; heff: dist, "
                  "moments)",
                  w, j->model);
        return CLI_BADINPUT;
    }
    const char *bad = is_lz                     ? (cli_get(a, "N")          ? "N"
                                                   : cli_get(a, "channels") ? "channels"
                                                   : cli_get(a, "levels")   ? "levels"
                                                                            : NULL)
                      : !strcmp(j->model, "do") ? (cli_get(a, "N") ? "N" : NULL)
                      : is_heff                 ? (cli_get(a, "channels") ? "channels"
                                                   : cli_get(a, "levels") ? "levels"
                                                                          : NULL)
                      : !strcmp(w, "critical") && cli_get(a, "beta") ? "beta"
                                                                     : NULL;
    if (bad) {
        cli_error(CMD, "--%s does not apply to --model %s --what %s", bad, j->model, w);
        return CLI_BADINPUT;
    }
    if (is_tc && !strcmp(w, "phases") && j->K != 1) {
        cli_error(CMD,
                  "--what phases: eq 58 gives the phases of one channel; expected "
                  "--channels 1, got %d",
                  j->K);
        return CLI_BADINPUT;
    }
    if (is_tc && !strcmp(w, "asymptotic") && j->K > 2) {
        cli_error(CMD, "--what asymptotic: the paper's forms are for 1 or 2 channels, got %d",
                  j->K);
        return CLI_BADINPUT;
    }
    if (is_tc && !strcmp(w, "critical") && j->N < 1) {
        cli_error(CMD, "--what critical needs N >= 1 (P_0 = P_1), got N = %lld", (long long)j->N);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

static int parse_job(const cli_parsed *a, job *j) {
    const char *v;
    int64_t K = 2;
    memset(j, 0, sizeof *j);
    j->model = (v = cli_get(a, "model")) ? v : "tc";
    j->what = cli_get(a, "what");
    j->N = 40;
    if ((v = cli_get(a, "N")) && cli_int(CMD, "N", v, &j->N))
        return CLI_BADINPUT;
    if (j->N < 0) {
        cli_error(CMD, "--N: %lld is negative; expected a number of molecules >= 0",
                  (long long)j->N);
        return CLI_BADINPUT;
    }
    if ((v = cli_get(a, "channels")) && cli_int(CMD, "channels", v, &K))
        return CLI_BADINPUT;
    if (K < 1 || K > TCGPU_MAX_CHANNELS) {
        cli_error(CMD, "--channels: %lld; expected 1 to %d", (long long)K, TCGPU_MAX_CHANNELS);
        return CLI_BADINPUT;
    }
    j->K = !strcmp(j->model, "heff") ? 2 : !strcmp(j->model, "lz") ? 1 : (int)K;
    int rc = check_model(a, j);
    if (!rc && (v = cli_get(a, "levels")) && !(rc = cli_levels(CMD, v, j->K, 1, j->levels)))
        j->has_levels = 1;
    if (!rc)
        rc = cli_values(CMD, "g", (v = cli_get(a, "g")) ? v : "1", 1, &j->g, &j->ng);
    if (!rc)
        rc = cli_values(CMD, "beta", (v = cli_get(a, "beta")) ? v : "0.05:100:12:log", 1, &j->beta,
                        &j->nb);
    return rc;
}

int cli_exact(int argc, char **argv) {
    cli_parsed a;
    job j;
    int rc = cli_parse(CMD, opts, argc, argv, &a);
    if (rc)
        return rc;
    if (cli_get(&a, "help")) {
        cli_usage(stdout, CMD,
                  "[--model tc] [--N 40] [--channels 2] [--g 1] [--beta LIST] "
                  "[--what moments] [--out FILE]",
                  opts);
        return CLI_OK;
    }
    rc = parse_job(&a, &j);
    if (!rc)
        rc = cli_check_out_file(CMD, "out", cli_get(&a, "out"));
    if (!rc)
        rc = run(&j, cli_get(&a, "out"));
    free(j.g);
    free(j.beta);
    return rc;
}
