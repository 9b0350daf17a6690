/* `tcgpu run`: its options, their parsing, and the checks before a run. */
#include "cli_run.h"

/* The default job: two channels, N = 10, g = 1, eps = 0.25 (eps << g, the paper's regime), over
 * the fast, critical and quasi-adiabatic sweep rates. 64 sweeps take about 40 s on 2 cores at
 * tol 1e-6 (N = 20 took about 5 minutes: docs/numerics.md). */
#define DEFAULT_BETAS "0.05:100:64:log"

const cli_option run_options[] = {
    {"model", 1, "lz | do | tc | heff | mlz (default tc)"},
    {"file", 1, "mlz: the model file (docs/mlz-format.md)"},
    {"N", 1, "molecules (tc), pairs in the sector (heff); default 10"},
    {"channels", 1, "reaction channels K (tc) or parallel levels (do); default 2"},
    {"g", 1, "coupling: list or range; default 1"},
    {"beta", 1, "sweep rate: list or range; default 0.05:100:64:log (64 rates, log-spaced)"},
    {"eps", 1, "splitting eps (pair energies e_k = 2(2k-K-1) eps); list or range; default 0.25"},
    {"levels", 1, "e1,...,eK: pair (do: level) energies, instead of --eps"},
    {"grid", 1, "product (default) or zip of the --beta, --g, --eps lists"},
    {"method", 1, "magnus4 (default) or rk4"},
    {"precision", 1,
     "double (default) or single: fp32 arithmetic in the march (start, readout and control stay "
     "fp64); needs --tol >= 1e-4 (fp32 round-off alone leaves ~1e-5)"},
    {"tol", 1,
     "target total-variation error of each final distribution (default 1e-6; 1e-4 with "
     "--precision single)"},
    {"T", 1, "window (-T, T) instead of the automatic one (heff: (T/1e4, T))"},
    {"dt", 1, "step parameter: phase advanced per step (default automatic)"},
    {"max-halvings", 1,
     "attempts of the accuracy control, each cutting the step by 0.5-0.75 as the miss asks "
     "(default 8: kappa down to 1/128 of its start at most)"},
    {"out", 1, "output folder (default: a new folder tcgpu-run-DATE-TIME)"},
    {"dist-csv", 0, "also write the distributions as DIR/dist.csv (they are always in dist.h5)"},
    {"no-plot", 0, "do not draw DIR/plot.png (tcgpu plot DIR draws it later)"},
    {"progress", 0, "progress line on stderr every few seconds (always, on a terminal)"},
    {"resume", 1, "DIR: finish the interrupted run in DIR, keeping its finished sweeps"},
    {"backend", 1,
     "auto (default: cuda when a CUDA device is present), cpu, cuda, or cpu-batched (cuda's "
     "batched controls with the CPU march: a check of that path, slower than cpu)"},
    {"batch", 1, "cuda: sweeps whose controls run side by side, one launch for all (default 4096)"},
    {"host-frames", 0,
     "cuda: keep the readout's dense frames on the host (default: from 1000 states on the device, "
     "cuSOLVER dsyevd and cuBLAS dgemm)"},
    {"cuda-path", 1,
     "cuda: auto (default: shared when a sweep's vectors fit the block's shared memory, else "
     "global), shared, global, or cusparse (all sweeps in lockstep, one SpMM per application; "
     "fp64, sweeps differing only in g; with --backend cpu-batched it runs the same lockstep "
     "driver on the CPU)"},
    {"coupling", 1,
     "batched march: auto (default: on the fly on cuda, from the CSR on the cpu), csr, or "
     "onthefly (tc up to 2 channels on cuda, 4 on the cpu, and heff; others always csr)"},
    {"help", 0, "show this help"},
    {NULL, 0, NULL},
};

/* The names of --cuda-path and --coupling, in enum order (tcgpu_cuda_path, tcgpu_coupling). */
const char *const run_cuda_paths[] = {"auto", "shared", "global", "cusparse"};
const char *const run_couplings[] = {"auto", "csr", "onthefly"};

/* The index of v among names[0..n-1], or -1. */
static int name_index(const char *v, const char *const *names, int n) {
    for (int k = 0; k < n; ++k)
        if (!strcmp(v, names[k]))
            return k;
    return -1;
}

int run_parse(const cli_parsed *a, run_job *j) {
    const char *v;
    int64_t K = 2;
    memset(j, 0, sizeof *j);
    j->model = (v = cli_get(a, "model")) ? v : "tc";
    j->out = cli_get(a, "out"); /* NULL: a new folder named by date and time */
    j->progress = cli_get(a, "progress") != NULL || isatty(STDERR_FILENO);
    j->dist_csv = cli_get(a, "dist-csv") != NULL;
    j->N = 10;
    j->tol = 1e-6;
    j->method = TCGPU_METHOD_MAGNUS4;
    if (strcmp(j->model, "tc") && strcmp(j->model, "lz") && strcmp(j->model, "do") &&
        strcmp(j->model, "heff") && strcmp(j->model, "mlz")) {
        cli_error(CMD, "--model: unknown model '%s'; expected lz, do, tc, heff or mlz", j->model);
        return CLI_BADINPUT;
    }
    j->file = cli_get(a, "file");
    if (!strcmp(j->model, "mlz") != !!j->file) {
        cli_error(CMD, "--file goes with --model mlz, and --model mlz needs --file PATH");
        return CLI_BADINPUT;
    }
    if ((v = cli_get(a, "N")) && cli_int(CMD, "N", v, &j->N))
        return CLI_BADINPUT;
    if ((v = cli_get(a, "channels")) && cli_int(CMD, "channels", v, &K))
        return CLI_BADINPUT;
    if (j->N < 0 || K < 1 || K > 8) {
        cli_error(CMD, "--N must be >= 0 and --channels 1 to 8, got N = %lld, channels = %lld",
                  (long long)j->N, (long long)K);
        return CLI_BADINPUT;
    }
    j->K = !strcmp(j->model, "lz") ? 1 : !strcmp(j->model, "heff") ? 2 : (int)K;
    if ((v = cli_get(a, "method"))) {
        if (!strcmp(v, "rk4"))
            j->method = TCGPU_METHOD_RK4;
        else if (strcmp(v, "magnus4")) {
            cli_error(CMD, "--method: '%s'; expected rk4 or magnus4", v);
            return CLI_BADINPUT;
        }
    }
    if ((v = cli_get(a, "precision"))) {
        if (!strcmp(v, "single"))
            j->precision = TCGPU_FP32;
        else if (strcmp(v, "double")) {
            cli_error(CMD, "--precision: '%s'; expected double or single", v);
            return CLI_BADINPUT;
        }
    }
    const char *backend = (v = cli_get(a, "backend")) ? v : "auto";
    if (strcmp(v = backend, "auto") && strcmp(v, "cpu") && strcmp(v, "cuda") &&
        strcmp(v, "cpu-batched")) {
        cli_error(CMD, "--backend: '%s'; expected auto, cpu, cuda or cpu-batched", v);
        return CLI_BADINPUT;
    }
    int64_t batch = 4096;
    if ((v = cli_get(a, "batch")) && (cli_int(CMD, "batch", v, &batch) || batch < 1)) {
        if (batch < 1)
            cli_error(CMD, "--batch: %lld; expected at least 1 sweep", (long long)batch);
        return CLI_BADINPUT;
    }
    j->batch = batch > 65536 ? 65536 : (int)batch;
    int want_cuda = !strcmp(backend, "cuda");
    if (want_cuda && !tcgpu_cuda_built()) {
        cli_error(CMD, "--backend cuda: this tcgpu was built without CUDA (no nvcc at configure "
                       "time); rebuild with the CUDA toolkit, or use --backend cpu");
        return CLI_BADINPUT;
    }
    if (want_cuda || (!strcmp(backend, "auto") && run_mpi_size() == 1)) {
        tcgpu_device_info dev;
        char why[256] = "";
        int n = tcgpu_cuda_built() ? tcgpu_cuda_devices(&dev, 1, why, sizeof why) : 0;
        if (n > 0) {
            j->cuda = 1;
            snprintf(j->device, sizeof j->device, "%s", dev.name);
        } else if (want_cuda) {
            cli_error(CMD, "--backend cuda: %s; use --backend cpu", why);
            return CLI_RUNTIME;
        }
    }
    j->batched = j->cuda || !strcmp(backend, "cpu-batched");
    j->device_frames = j->cuda && !cli_get(a, "host-frames");
    if ((v = cli_get(a, "cuda-path"))) {
        int k = name_index(v, run_cuda_paths, 4);
        if (k < 0) {
            cli_error(CMD, "--cuda-path: '%s'; expected auto, shared, global or cusparse", v);
            return CLI_BADINPUT;
        }
        j->cuda_path = (tcgpu_cuda_path)k;
        if (j->cuda_path == TCGPU_PATH_CUSPARSE && j->precision == TCGPU_FP32) {
            cli_error(CMD, "--cuda-path cusparse marches in fp64 only; expected --precision "
                           "double or another path");
            return CLI_BADINPUT;
        }
    }
    if ((v = cli_get(a, "coupling"))) {
        int k = name_index(v, run_couplings, 3);
        if (k < 0) {
            cli_error(CMD, "--coupling: '%s'; expected auto, csr or onthefly", v);
            return CLI_BADINPUT;
        }
        j->coupling = (tcgpu_coupling)k;
        if (!j->batched && j->coupling == TCGPU_COUPLING_ONTHEFLY) /* same amplitudes: speed only */
            fprintf(stderr, "tcgpu run: --coupling applies to the batched march (--backend cuda "
                            "or cpu-batched); this run reads the CSR\n");
    }
    if ((v = cli_get(a, "grid")) && !(j->zip = !strcmp(v, "zip")) && strcmp(v, "product")) {
        cli_error(CMD, "--grid: '%s'; expected product or zip", v);
        return CLI_BADINPUT;
    }
    if (((v = cli_get(a, "tol")) && cli_double(CMD, "tol", v, &j->tol)) ||
        ((v = cli_get(a, "T")) && cli_double(CMD, "T", v, &j->T)) ||
        ((v = cli_get(a, "dt")) && cli_double(CMD, "dt", v, &j->dt)))
        return CLI_BADINPUT;
    int64_t halvings = 0;
    if ((v = cli_get(a, "max-halvings")) && cli_int(CMD, "max-halvings", v, &halvings))
        return CLI_BADINPUT; /* one line: the number's, not also the range's */
    if (v && (halvings < 1 || halvings > 30)) {
        cli_error(CMD, "--max-halvings: %lld; expected 1 to 30 attempts", (long long)halvings);
        return CLI_BADINPUT;
    }
    j->max_halvings = (int)halvings;
    if (!(j->tol > 0 && j->tol < 1) || j->T < 0 || j->dt < 0) {
        cli_error(CMD, "--tol must lie in (0, 1), --T and --dt must be > 0");
        return CLI_BADINPUT;
    }
    if (run_check_ranges(a, j->tol, j->T, j->dt))
        return CLI_BADINPUT;
    /* fp32 round-off alone leaves TV ~1e-5 (docs/numerics.md): below 1e-4 the control would
     * halve the step in vain, each halving adding round-off. */
    if (j->precision == TCGPU_FP32 && !cli_get(a, "tol"))
        j->tol = 1e-4;
    if (j->precision == TCGPU_FP32 && j->tol < 1e-4) {
        cli_error(CMD,
                  "--tol %g with --precision single: fp32 reaches 1e-4 at best; use --tol >= "
                  "1e-4 or --precision double",
                  j->tol);
        return CLI_BADINPUT;
    }
    if ((v = cli_get(a, "levels"))) {
        if (cli_get(a, "eps")) {
            cli_error(CMD, "--eps and --levels both set the energies; expected one of them");
            return CLI_BADINPUT;
        }
        if (strcmp(j->model, "tc") && strcmp(j->model, "do")) {
            cli_error(CMD, "--levels sets the channel energies of tc and do; model %s takes %s",
                      j->model, strcmp(j->model, "heff") ? "none" : "--eps");
            return CLI_BADINPUT;
        }
        if (cli_levels(CMD, v, j->K, 0, j->levels) || run_check_grid(j->levels, (size_t)j->K, 0))
            return CLI_BADINPUT;
        j->has_levels = 1;
    }
    if (cli_values(CMD, "beta", (v = cli_get(a, "beta")) ? v : DEFAULT_BETAS, 1, &j->beta,
                   &j->nb) ||
        cli_values(CMD, "g", (v = cli_get(a, "g")) ? v : "1", 1, &j->g, &j->ng) ||
        (!j->has_levels &&
         cli_values(CMD, "eps", (v = cli_get(a, "eps")) ? v : "0.25", 1, &j->eps, &j->ne)))
        return CLI_BADINPUT;
    /* Levels set the energies: eps has no value (NaN, written as an empty cell, "-" and null),
     * where the default 0.25 had been written beside them as if it had been used. */
    if (j->has_levels) {
        if (!(j->eps = malloc(sizeof *j->eps))) {
            cli_error(CMD, "out of memory");
            return CLI_RUNTIME;
        }
        j->eps[0] = NAN, j->ne = 1;
    }
    if (run_check_grid(j->beta, j->nb, "beta") || run_check_grid(j->g, j->ng, "g") ||
        (!j->has_levels && run_check_grid(j->eps, j->ne, "eps")) ||
        run_check_sweeps(j->zip, j->nb, j->ng, j->ne))
        return CLI_BADINPUT;
    if (j->zip && !(j->nb == j->ng || j->ng == 1) + !(j->nb == j->ne || j->ne == 1)) {
        cli_error(CMD,
                  "--grid zip needs --beta, --g and --eps lists of equal length (or one "
                  "value), got %zu, %zu, %zu",
                  j->nb, j->ng, j->ne);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

/* Refuses up front what cannot fit: the dense readout's dimension, memory for the threads'
 * work (four dim x dim eigen-frames each, or a chain's readout windows), and disk for the
 * tables. */
int run_check_resources(const run_job *j, const char *dir) {
    int64_t dim = !strcmp(j->model, "tc")     ? tcgpu_basis_dim(j->N, j->K)
                  : !strcmp(j->model, "heff") ? j->N + 1
                  : !strcmp(j->model, "lz")   ? 2
                  : !strcmp(j->model, "do")   ? j->K + 1
                                              : 0; /* mlz: known once the file is read */
    /* chains and tc with two or more channels need no dense eigenbasis (adiabatic_sweep_plan) */
    double bytes;
    if (!adiabatic_sweep_plan(j->model, j->K, dim, &bytes)) {
        cli_error(CMD,
                  "%lld states (%s, N = %lld): the readout of this model diagonalizes "
                  "densely and stops at %d states (tc has no such limit); ask for a smaller N",
                  (long long)dim, j->model, (long long)j->N, TCGPU_DENSE_MAX);
        return CLI_BADINPUT;
    }
    double total = j->zip ? (double)j->nb : (double)j->nb * (double)j->ng * (double)j->ne;
    double threads = 1;
#ifdef _OPENMP
    threads = fmin((double)omp_get_max_threads(), total);
#endif
    if (j->batched) /* every batched control holds its frames at once */
        threads = fmin((double)j->batch, total);
    double d = (double)dim, mem = threads * bytes;
    double disk = total * (d * 16 + 400 + (j->dist_csv ? d * 40 : 0));
    char what[128];
    snprintf(what, sizeof what, "%.0f sweep%s of %lld states on %.0f thread%s", total,
             total == 1 ? "" : "s", (long long)dim, threads, threads == 1 ? "" : "s");
    int rc = cli_status(CMD, tcgpu_check_memory(mem, what));
    return rc ? rc : cli_status(CMD, tcgpu_check_disk(disk, dir, what));
}

/* --resume DIR: the run's options come from DIR/run.json (a run continued with other options
 * would mix two runs in one table); a run that completed is left as it is. On success *a holds
 * the run's own options, plus --progress when this command asked for it. */
int run_resume_options(cli_parsed *a, const char *dir, run_resume *rs) {
    for (int k = 0; k < a->count; ++k) {
        const char *name = a->opts[k].name;
        if (a->values[k] && strcmp(name, "resume") && strcmp(name, "progress")) {
            cli_error(CMD,
                      "--resume takes the run's options from %s/run.json; drop --%s (only "
                      "--progress may go with it)",
                      dir, name);
            return CLI_BADINPUT;
        }
    }
    int progress = cli_get(a, "progress") != NULL;
    int rc = run_resume_load(CMD, dir, rs);
    if (!rc && rs->completed)
        fprintf(stderr, "tcgpu run: the run in %s completed; nothing to resume\n", dir);
    if (!rc && !rs->completed &&
        (rc = cli_parse(CMD, run_options, rs->argc, rs->argv, a)) == CLI_OK &&
        cli_get(a, "resume")) {
        cli_error(CMD, "--resume: %s/run.json names --resume itself; expected a run's options",
                  dir);
        rc = CLI_BADINPUT;
    }
    if (!rc && progress)
        for (int k = 0; k < a->count; ++k)
            if (!strcmp(a->opts[k].name, "progress"))
                a->values[k] = "1";
    return rc;
}
