/* `tcgpu run` (first version): propagate sweeps over a grid of (beta, g, eps) and write
 * DIR/summary.csv (one row per sweep) and DIR/dist.csv (final distributions). */
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

/* The default job: two channels, N = 10, g = 1, eps = 0.25 (eps << g, the paper's regime), over
 * the fast, critical and quasi-adiabatic sweep rates. 64 sweeps take about 40 s on 2 cores at
 * tol 1e-6 (N = 20 took about 5 minutes: docs/numerics.md). */
#define DEFAULT_BETAS "0.05:100:64:log"

static const cli_option opts[] = {
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
     "attempts of the accuracy control, each halving the step (default 8: kappa down to 1/128 of "
     "its start)"},
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
static const char *const cuda_paths[] = {"auto", "shared", "global", "cusparse"};
static const char *const couplings[] = {"auto", "csr", "onthefly"};

/* The index of v among names[0..n-1], or -1. */
static int name_index(const char *v, const char *const *names, int n) {
    for (int k = 0; k < n; ++k)
        if (!strcmp(v, names[k]))
            return k;
    return -1;
}

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

static tcgpu_status build(const run_job *j, double g, double beta, double eps, tcgpu_model *m,
                          double *e) {
    for (int k = 0; k < j->K; ++k)
        e[k] = j->has_levels ? j->levels[k] : 2.0 * (2 * (k + 1) - j->K - 1) * eps;
    if (!strcmp(j->model, "tc"))
        return tcgpu_model_tc(m, j->N, j->K, g, beta, e);
    if (!strcmp(j->model, "lz"))
        return tcgpu_model_lz(m, g, beta);
    if (!strcmp(j->model, "mlz"))
        return tcgpu_model_mlz_file(m, j->file);
    if (!strcmp(j->model, "do")) {
        if (!j->has_levels) /* parallel levels at -eps (K-1), ..., spaced 2 eps */
            for (int k = 0; k < j->K; ++k)
                e[k] = (2.0 * k - (j->K - 1)) * eps;
        return tcgpu_model_do(m, j->K, g, beta, e);
    }
    return tcgpu_model_heff(m, j->N, g, beta, eps);
}

static void write_headers(FILE *s, FILE *d, int K, int levels) {
    fputs("sweep,model,N,channels,g,beta,eps,method,T,steps,norm_error,err_estimate", s);
    for (int k = 1; k <= K; ++k)
        fprintf(s, ",mean_n%d", k);
    fputs(",mean_n,eta,tv_exact,maxabs_exact,seconds,T0,Tr,dt,applications\n", s);
    if (!d)
        return;
    if (levels) {
        fputs("sweep,level,prob\n", d);
        return;
    }
    fputs("sweep", d);
    for (int k = 1; k <= K; ++k)
        fprintf(d, ",n%d", k);
    fputs(",prob\n", d);
}

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

/* The sweep's model and result buffers, and the control's options. */
static int sweep_prepare(const run_job *j, sweep_out *o, tcgpu_auto_opts *ao) {
    o->rc = cli_status(CMD, build(j, o->g, o->beta, o->eps, &o->m, o->e));
    if (o->rc)
        return o->rc;
    o->built = 1;
    o->p = calloc((size_t)o->m.dim, sizeof *o->p);
    o->ex = calloc((size_t)o->m.dim, sizeof *o->ex);
    *ao = (tcgpu_auto_opts){j->method, j->tol, j->T, j->T, j->dt, j->max_halvings, j->precision};
    if (!strcmp(j->model, "heff") && j->T > 0)
        ao->T0 = j->T * 1e-4;
    if (!o->p || !o->ex) {
        cli_error(CMD, "out of memory");
        o->rc = CLI_RUNTIME;
    }
    return o->rc;
}

/* After the control: the exact solution beside it. */
static void sweep_conclude(sweep_out *o) {
    if (!o->rc && o->m.kind != TCGPU_MODEL_MLZ) /* a user's model has no exact solution */
        o->rc = cli_status(
            CMD, tcgpu_exact_for_model(&o->m, o->m.kind == TCGPU_MODEL_LZ ? NULL : o->e, o->ex));
}

static void sweep_compute(const run_job *j, sweep_out *o) {
    tcgpu_auto_opts ao;
    if (sweep_prepare(j, o, &ao))
        return;
    o->rc = cli_status(CMD, tcgpu_sweep_auto(&o->m, &ao, o->p, &o->r));
    sweep_conclude(o);
}

/* A sweep the interrupted run finished: its row of each table, after checking that it is the
 * sweep this run asks for (same dimension and parameters, to the last bit). */
static void sweep_restore(const run_job *j, const run_resume *rs, size_t row, sweep_out *o) {
    o->rc = cli_status(CMD, build(j, o->g, o->beta, o->eps, &o->m, o->e));
    if (o->rc)
        return;
    o->built = 1;
    const tcgpu_model *m = &o->m;
    if (m->dim != rs->dim || rs->g[row] != o->g || rs->beta[row] != o->beta ||
        (rs->eps[row] != o->eps && !(isnan(rs->eps[row]) && isnan(o->eps)))) {
        cli_error(CMD,
                  "--resume: sweep %zu in the folder has %lld states, g = %.17g, beta = %.17g, "
                  "eps = %.17g, but its run.json asks for %lld, %.17g, %.17g, %.17g",
                  o->idx, (long long)rs->dim, rs->g[row], rs->beta[row], rs->eps[row],
                  (long long)m->dim, o->g, o->beta, o->eps);
        o->rc = CLI_BADINPUT;
        return;
    }
    o->p = malloc((size_t)m->dim * sizeof *o->p);
    o->ex = calloc((size_t)m->dim, sizeof *o->ex);
    if (!o->p || !o->ex) {
        cli_error(CMD, "out of memory");
        o->rc = CLI_RUNTIME;
        return;
    }
    memcpy(o->p, rs->prob + row * (size_t)m->dim, (size_t)m->dim * sizeof *o->p);
    if (rs->exact)
        memcpy(o->ex, rs->exact + row * (size_t)m->dim, (size_t)m->dim * sizeof *o->ex);
    o->r.err_estimate = rs->err_estimate[row];
    o->r.seconds = rs->row[row].seconds;
    o->r.applications = rs->row[row].applications;
    o->line = rs->row[row].line;
}

static void dist_rows(const sweep_out *o, int levels, FILE *d) {
    const tcgpu_model *m = &o->m;
    for (int64_t i = 0; d && i < m->dim; ++i) {
        fprintf(d, "%zu", o->idx);
        if (levels)
            fprintf(d, ",%lld", (long long)i);
        else
            for (int k = 0; k < m->K; ++k)
                fprintf(d, ",%d", m->labels[i * m->K + k]);
        fprintf(d, ",%.17g\n", o->p[i]);
    }
}

static void sweep_write(const run_job *j, const sweep_out *o, FILE *s, FILE *d) {
    const tcgpu_model *m = &o->m;
    const tcgpu_auto_report *r = &o->r;
    double mean[TCGPU_MAX_CHANNELS + 1], mean_n, eta;
    int mlz = m->kind == TCGPU_MODEL_MLZ; /* no exact solution, no channels */
    int levels = m->kind == TCGPU_MODEL_LZ || m->kind == TCGPU_MODEL_DO || mlz;
    int nk = mlz ? 0 : levels ? (int)m->dim - 1 : m->K;
    if (o->line) { /* kept from the interrupted run, verbatim */
        fprintf(s, "%s\n", o->line);
        dist_rows(o, levels, d);
        return;
    }
    /* an mlz model has no channels, and reduce_means would count one mean per level beyond
     * the first: past the array from 66 states on (a 2000-state model crashed here) */
    mean_n = eta = NAN;
    if (!mlz)
        tcgpu_reduce_means(m, o->p, mean, &mean_n, &eta);
    double nan = NAN, tv = mlz ? nan : tcgpu_tv(o->p, o->ex, m->dim);
    double mx = mlz ? nan : tcgpu_maxabs(o->p, o->ex, m->dim);
    fprintf(s, "%zu,%s,%lld,%d,%.17g,%.17g,%.17g,%s,%.17g,%lld,%.3e,%.3e", o->idx, j->model,
            (long long)m->N, nk, o->g, o->beta, o->eps, j->method ? "magnus4" : "rk4", r->Tr,
            (long long)r->steps, r->norm_error, r->err_estimate);
    for (int k = 0; k < nk; ++k)
        fprintf(s, ",%.17g", mean[k]);
    fputc(',', s);
    cli_csv_num(s, mlz ? nan : mean_n);
    fputc(',', s);
    cli_csv_num(s, mlz ? nan : eta);
    fputc(',', s);
    cli_csv_num(s, tv);
    fputc(',', s);
    cli_csv_num(s, mx);
    fprintf(s, ",%.3f,%.17g,%.17g,%.6g,%lld\n", r->seconds,
            m->kind == TCGPU_MODEL_HEFF ? r->T0 : -r->T0, r->Tr, r->kappa,
            (long long)r->applications);
    dist_rows(o, levels, d);
}

/* A table cell: the number, or "-" where it has no value. */
static void cell(int width, const char *fmt, double v) {
    if (isfinite(v))
        printf(fmt, width, v);
    else
        printf(" %*s", width, "-");
}

/* One readable line per sweep on stdout (the CSV files hold every digit). */
static void sweep_print(const sweep_out *o) {
    const tcgpu_model *m = &o->m;
    double mean[TCGPU_MAX_CHANNELS + 1], mean_n, eta;
    int mlz = m->kind == TCGPU_MODEL_MLZ, tc = m->kind == TCGPU_MODEL_TC;
    int nk = (tc || m->kind == TCGPU_MODEL_HEFF) && m->K <= 4 ? m->K : 0;
    if (o->idx == 0) {
        printf("%6s %10s %8s %8s", "sweep", "beta", "g", "eps");
        for (int k = 1; k <= nk; ++k) {
            char h[16];
            snprintf(h, sizeof h, "<n%d>", k);
            printf(" %11s", h);
        }
        printf(" %11s %9s %10s %10s %8s\n", "<n>", "eta", "TV(exact)", "est.error", "seconds");
    }
    mean_n = eta = NAN;
    if (!mlz) /* as in sweep_write: no means of an mlz model */
        tcgpu_reduce_means(m, o->p, mean, &mean_n, &eta);
    printf("%6zu %10.4g %8.4g %8.4g", o->idx, o->beta, o->g, o->eps);
    for (int k = 0; k < nk; ++k)
        cell(11, " %*.6g", mean[k]);
    cell(11, " %*.6g", mlz ? NAN : mean_n);
    cell(9, " %*.4g", tc && m->K == 2 ? eta : NAN);
    cell(10, " %*.2e", mlz ? NAN : tcgpu_tv(o->p, o->ex, m->dim));
    cell(10, " %*.2e", o->r.err_estimate);
    cell(8, " %*.2f", o->r.seconds);
    putchar('\n');
    fflush(stdout);
}

static void sweep_free(sweep_out *o) {
    free(o->p);
    free(o->ex);
    if (o->built)
        tcgpu_model_free(&o->m);
}

static int parse(const cli_parsed *a, run_job *j) {
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
        int k = name_index(v, cuda_paths, 4);
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
        int k = name_index(v, couplings, 3);
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
        if (cli_levels(CMD, v, j->K, 0, j->levels) || run_check_grid(j->levels, (size_t)j->K, 0))
            return CLI_BADINPUT;
        j->has_levels = 1;
    }
    if (cli_values(CMD, "beta", (v = cli_get(a, "beta")) ? v : DEFAULT_BETAS, 1, &j->beta,
                   &j->nb) ||
        cli_values(CMD, "g", (v = cli_get(a, "g")) ? v : "1", 1, &j->g, &j->ng) ||
        cli_values(CMD, "eps", (v = cli_get(a, "eps")) ? v : "0.25", 1, &j->eps, &j->ne))
        return CLI_BADINPUT;
    if (run_check_grid(j->beta, j->nb, "beta") || run_check_grid(j->g, j->ng, "g") ||
        run_check_grid(j->eps, j->ne, "eps") || run_check_sweeps(j->zip, j->nb, j->ng, j->ne))
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

#if defined(__GNUC__)
/* OpenBLAS runs its own threads per call; inside the sweep threads they would oversubscribe
 * the cores (weak: absent with another BLAS). */
void openblas_set_num_threads(int) __attribute__((weak));
#endif

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* done/total, rate and ETA: redrawn in place on a terminal, one line every 5 s otherwise. */
static void progress(const run_job *j, size_t done, size_t total, const struct timespec *t0,
                     double *last) {
    double el = seconds_since(t0);
    int tty = isatty(STDERR_FILENO);
    if (!j->progress || (!tty && el - *last < 5 && done < total))
        return;
    *last = el;
    double rate = done / (el > 0 ? el : 1e-9), eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "%stcgpu run: %zu/%zu sweeps, %.3g sweeps/s, elapsed %.0f s, ETA %.0f s%s",
            tty ? "\r\033[K" : "", done, total, rate, el, eta, tty ? "" : "\n");
    if (tty && done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Sweeps run in parallel (OpenMP, one sweep per thread, dynamic schedule since their costs
 * differ by orders of magnitude). A finished sweep waits in its slot until all sweeps before it
 * are written, so rows stay in sweep order without holding threads back (an `ordered` loop
 * made a thread idle behind every slow sweep: 34 s instead of 31.5 s for 8 sweeps on 2 cores,
 * 51 s on one; the rest is the order: the slowest sweep, 21 s, starts last).
 * The first failure stops the sweeps not yet started and writes nothing after it. */
/* dist.h5, opened at the first sweep written (its dimension and basis come with the model). */
typedef struct {
    const char *path;
    out_h5 *h;
} h5_sink;

static int h5_write(h5_sink *k, const sweep_out *o) {
    const tcgpu_model *m = &o->m;
    int mlz = m->kind == TCGPU_MODEL_MLZ;
    int levels = m->kind == TCGPU_MODEL_LZ || m->kind == TCGPU_MODEL_DO || mlz;
    int rc = k->h ? CLI_OK
                  : out_h5_open(CMD, k->path, m->dim, levels ? 0 : m->K, m->labels, !mlz, &k->h);
    out_h5_row row = {(int64_t)o->idx,   o->g,
                      o->beta,           o->eps,
                      o->r.err_estimate, mlz ? NAN : tcgpu_tv(o->p, o->ex, m->dim)};
    return rc ? rc : out_h5_append(CMD, k->h, &row, o->p, o->ex);
}

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

/* The record's "updated_utc", ISO 8601. */
static void utc_now(char *buf, size_t len) {
    time_t now = time(NULL);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
}

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

/* Sweep i: computed (or restored), then every finished sweep up to the first unfinished one is
 * written, so the tables keep sweep order whatever order the threads finish in. */
static sweep_out sweep_at(const run_job *j, size_t i) {
    size_t ib = j->zip ? i : i % j->nb, ig = j->zip ? (j->ng > 1 ? i : 0) : i / j->nb % j->ng;
    size_t ie = j->zip ? (j->ne > 1 ? i : 0) : i / (j->nb * j->ng);
    return (sweep_out){.idx = i, .g = j->g[ig], .beta = j->beta[ib], .eps = j->eps[ie]};
}

static int sweep_stop(sweep_loop *L) {
    int stop;
#pragma omp atomic read
    stop = L->rc;
    return stop || tcgpu_stop_requested();
}

static void sweep_commit(sweep_loop *L, size_t i, int stop);

/* run.json with the sweeps written so far, a second after the last record. A record that
 * cannot be written (a full disk) stops the run like a table that cannot: its line is the one
 * line, and the last record written stays. */
static void record_progress(sweep_loop *L) {
    record_sink *k = L->record;
    double now = k ? seconds_since(k->t0) : 0;
    if (!k || now - k->last < 1.0)
        return;
    k->last = now;
    run_record *r = k->rec;
    r->wall_seconds = now;
    r->sweeps_done = *L->done;
    r->sweeps_restored = *L->restored;
    r->amplitude_updates = *L->updates;
    utc_now(k->updated, sizeof k->updated);
    r->updated = k->updated;
    int rc = run_record_write(CMD, k->path, r);
    if (rc) {
#pragma omp atomic write
        L->rc = rc;
    }
}

static void sweep_one(sweep_loop *L, size_t i) {
    const run_job *j = L->j;
    sweep_out *o = &L->slot[i];
    *o = sweep_at(j, i);
    int stop = sweep_stop(L);
    if (!stop && L->row_of[i])
        sweep_restore(j, L->rs, L->row_of[i] - 1, o);
    else if (!stop)
        sweep_compute(j, o);
    sweep_commit(L, i, stop);
}

/* Sweep i joins the tables: every finished sweep up to the first unfinished one is written. */
static void sweep_commit(sweep_loop *L, size_t i, int stop) {
    const run_job *j = L->j;
    sweep_out *o = &L->slot[i];
#pragma omp critical(tcgpu_run_write)
    {
        L->ready[i] = 1;
        if (!stop && o->rc && o->rc != CLI_INTERRUPTED && !L->rc) {
#pragma omp atomic write
            L->rc = o->rc;
        }
        for (; L->next < L->total && L->ready[L->next]; ++L->next) {
            sweep_out *w = &L->slot[L->next];
            int wr = !L->rc && w->built && !w->rc ? h5_write(L->h5, w) : CLI_OK;
            if (wr) {
#pragma omp atomic write
                L->rc = wr;
            }
            if (!L->rc && w->built && !w->rc) {
                errno = 0;
                sweep_write(j, w, L->s, L->d);
                /* a finished sweep reaches the file as it finishes; a write refused (a full
                 * disk) stops the run here, with its reason, rather than after every sweep */
                if ((fflush(L->s) != 0 || ferror(L->s)) && !L->rc) {
                    cli_error(CMD, "writing '%s' failed: %s", L->s_path,
                              errno ? strerror(errno) : "a write was refused (disk full?)");
#pragma omp atomic write
                    L->rc = CLI_RUNTIME;
                }
                sweep_print(w);
                ++*L->done;
                if (!(w->r.err_estimate <= j->tol))
                    ++*L->over_tol;
                if (w->line)
                    ++*L->restored;
                else
                    *L->updates += (double)w->r.applications * (double)w->m.dim;
            }
            sweep_free(w);
        }
        progress(j, L->next, L->total, &L->t0, &L->last_progress);
        if (!L->rc && !tcgpu_stop_requested()) /* a stop writes the final record at once */
            record_progress(L);
    }
}

/* Batched (cuda, cpu-batched): the ensemble driver serves every sweep's control, up to
 * j->batch at once, and sends their advances through one context's runner in batches. */
static tcgpu_status batched_start(void *arg, int64_t i, tcgpu_ensemble_job *job) {
    sweep_loop *L = arg;
    sweep_out *o = &L->slot[i];
    *o = sweep_at(L->j, (size_t)i);
    int stop = sweep_stop(L);
    if (stop || L->row_of[i]) {
        if (!stop)
            sweep_restore(L->j, L->rs, L->row_of[i] - 1, o);
        o->skip = stop ? 2 : 1;
        return TCGPU_EINTR; /* not controlled here: finish commits it */
    }
    if (sweep_prepare(L->j, o, &job->o)) {
        o->skip = 1;
        return TCGPU_EINVAL;
    }
    job->m = &o->m;
    job->prob = o->p;
    return TCGPU_OK;
}

static void batched_finish(void *arg, int64_t i, tcgpu_ensemble_job *job) {
    sweep_loop *L = arg;
    sweep_out *o = &L->slot[i];
    if (!o->skip) {
        o->r = job->rep;
        if (job->st) { /* its message was another thread's: said again on this one */
            tcgpu_fail(job->st, "%s", job->msg);
            o->rc = cli_status(CMD, job->st);
        } else {
            sweep_conclude(o);
        }
    }
    sweep_commit(L, (size_t)i, o->skip == 2);
}

static int batched_stop(void *arg) { return sweep_stop(arg); }

static int sweeps_batched(sweep_loop *L, tcgpu_context *ctx) {
    tcgpu_ensemble e = {.count = (int64_t)L->total,
                        .max_live = L->j->batch,
                        .arg = L,
                        .start = batched_start,
                        .finish = batched_finish,
                        .stop = batched_stop};
    int rc = cli_status(CMD, tcgpu_ensemble_run(ctx, &e));
    tcgpu_transfer_stats st;
    tcgpu_context_stats(ctx, &st);
    if (getenv("TCGPU_DEBUG"))
        fprintf(stderr,
                "tcgpu run: %lld batches carried %lld advances, %.2f s on %s; %.0f bytes up, "
                "%.0f down\n",
                (long long)st.batches, (long long)st.advances, st.march_seconds,
                st.device[0] ? st.device : tcgpu_context_runner(ctx), st.bytes_up, st.bytes_down);
    return rc;
}

/* MPI (src/run_mpi.c): a sweep computed on another rank travels as its distributions and
 * report; rank 0 rebuilds the model (cheap beside the sweep) and writes it like its own. */
static void mpi_compute(void *ctx, size_t i, run_mpi_result *out) {
    const run_job *j = ctx;
    sweep_out o = sweep_at(j, i);
    sweep_compute(j, &o);
    *out =
        (run_mpi_result){.rc = o.rc, .dim = o.built ? o.m.dim : 0, .r = o.r, .p = o.p, .ex = o.ex};
    o.p = o.ex = NULL;
    sweep_free(&o);
}

static void mpi_local(void *ctx, size_t i) { sweep_one(ctx, i); }

static void mpi_remote(void *ctx, size_t i, run_mpi_result *res) {
    sweep_loop *L = ctx;
    sweep_out *o = &L->slot[i];
    *o = sweep_at(L->j, i);
    int stop = sweep_stop(L);
    if (!stop && !(o->rc = res->rc) &&
        !(o->rc = cli_status(CMD, build(L->j, o->g, o->beta, o->eps, &o->m, o->e)))) {
        o->built = 1;
        if (o->m.dim != res->dim) {
            cli_error(CMD, "sweep %zu came back with %lld states, expected %lld", i,
                      (long long)res->dim, (long long)o->m.dim);
            o->rc = CLI_RUNTIME;
        }
        o->r = res->r;
        o->p = res->p;
        o->ex = res->ex;
        res->p = res->ex = NULL;
    }
    sweep_commit(L, i, stop);
}

static int mpi_kept(void *ctx, size_t i) { return ((sweep_loop *)ctx)->row_of[i] != 0; }

static int mpi_failed(void *ctx) {
    sweep_loop *L = ctx;
    int rc;
#pragma omp atomic read
    rc = L->rc;
    return rc;
}

/* Ranks other than 0: compute the sweeps rank 0 hands out, under the options it sends. */
static int run_worker(void) {
    int argc;
    char **argv;
    int rc = run_mpi_get_args(CMD, &argc, &argv);
    if (rc || argc < 0)
        return rc; /* rank 0 ended before any sweep (bad input): it says why */
    cli_parsed a;
    run_job j = {0};
    if (!(rc = cli_parse(CMD, opts, argc, argv, &a)) && !(rc = parse(&a, &j))) {
#if defined(__GNUC__)
        if (openblas_set_num_threads)
            openblas_set_num_threads(1);
#endif
        run_mpi_work w = {
            .total = j.zip ? j.nb : j.nb * j.ng * j.ne, .ctx = &j, .compute = mpi_compute};
        tcgpu_clear_stop();
        cli_catch_signals(1);
        rc = run_mpi_serve(CMD, &w);
        cli_catch_signals(0);
    }
    free(j.beta);
    free(j.g);
    free(j.eps);
    run_mpi_free_args(argc, argv);
    return rc;
}

static int sweeps(const run_job *j, const run_resume *rs, const cli_output *so, FILE *d,
                  h5_sink *h5, record_sink *record, size_t *done, size_t *restored,
                  size_t *over_tol, double *updates) {
    sweep_loop L = {.j = j,
                    .record = record,
                    .rs = rs,
                    .s = so->f,
                    .s_path = so->path,
                    .d = d,
                    .h5 = h5,
                    .done = done,
                    .restored = restored,
                    .over_tol = over_tol,
                    .updates = updates};
    L.total = j->zip ? j->nb : j->nb * j->ng * j->ne;
    clock_gettime(CLOCK_MONOTONIC, &L.t0);
    L.slot = calloc(L.total, sizeof *L.slot);
    L.ready = calloc(L.total, 1);
    L.row_of = calloc(L.total, sizeof *L.row_of);
    if (!L.slot || !L.ready || !L.row_of) {
        free(L.slot);
        free(L.ready);
        free(L.row_of);
        cli_error(CMD, "out of memory for %zu sweeps", L.total);
        return CLI_RUNTIME;
    }
    for (size_t k = 0; rs && k < rs->rows; ++k) {
        int64_t sweep = rs->row[k].sweep;
        if (sweep < 0 || (size_t)sweep >= L.total) {
            cli_error(CMD, "--resume: the folder holds sweep %lld, but its run.json asks for %zu",
                      (long long)sweep, L.total);
            free(L.slot);
            free(L.ready);
            free(L.row_of);
            return CLI_BADINPUT;
        }
        L.row_of[sweep] = k + 1;
    }
#if defined(__GNUC__)
    /* Fewer sweeps than cores: the spare cores go to each sweep's dense start and readout
     * (one sweep on 2 cores: tc K = 2, N = 40, beta = 1: 13.6 s -> 11.7 s; K = 1, N = 1000,
     * beta = 100: 32.6 s -> 26.3 s; same results). The march stays on one core. */
    int blas_threads = 1;
#ifdef _OPENMP
    if (L.total > 0 && (size_t)omp_get_max_threads() > L.total && !j->cuda)
        blas_threads = omp_get_max_threads() / (int)L.total;
#endif
    if (openblas_set_num_threads)
        openblas_set_num_threads(blas_threads);
#endif
    int rc = CLI_OK;
    if (j->batched)
        rc = sweeps_batched(&L, j->ctx);
    else if (run_mpi_size() > 1) {
        run_mpi_work w = {.total = L.total,
                          .ctx = &L,
                          .local = mpi_local,
                          .remote = mpi_remote,
                          .kept = mpi_kept,
                          .failed = mpi_failed};
        rc = run_mpi_lead(CMD, &w);
    } else {
        /* No more threads than sweeps: a sweep whose thread is alone (not in an active parallel
         * region) marches its fine and coarse runs on two cores (src/sweep_auto.c). */
        int team = 1;
#ifdef _OPENMP
        team = L.total < (size_t)omp_get_max_threads() ? (int)L.total : omp_get_max_threads();
        team = team > 0 ? team : 1;
#endif
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
        for (size_t i = 0; i < L.total; ++i)
            sweep_one(&L, i);
    }
    rc = rc ? rc : L.rc;
    for (; L.next < L.total; ++L.next) /* after a failure: slots never reached in order */
        sweep_free(&L.slot[L.next]);
    free(L.slot);
    free(L.ready);
    free(L.row_of);
    return !rc && tcgpu_stop_requested() ? CLI_INTERRUPTED : rc;
}

/* A table's buffered rows written out: a refusal (a full disk) is reported here, before any
 * table is renamed into place. */
static int table_flushed(cli_output *o) {
    if (!o->f)
        return CLI_OK;
    errno = 0;
    if (fflush(o->f) == 0 && !ferror(o->f))
        return CLI_OK;
    cli_error(CMD, "writing '%s' failed: %s", o->path,
              errno ? strerror(errno) : "a write was refused (disk full?)");
    return CLI_RUNTIME;
}

/* The tables after the sweeps (rc: how they ended): kept, all of them, when the run finished or
 * was interrupted, else removed. All are flushed before the first is renamed, so that a disk
 * that fills at the end leaves none of them rather than some (a mixed folder: resuming a run
 * whose dist.h5 is new and summary.csv old is refused), with one line on stderr. Where a close
 * fails after a table was renamed even so, every table is removed (a resumed run's earlier ones
 * too): the folder then holds run.json, and --resume computes the run again. */
static int tables_close(int rc, cli_output *so, cli_output *dout, h5_sink *h5) {
    int keep = rc == CLI_OK || rc == CLI_INTERRUPTED;
    int rf = keep ? table_flushed(so) : CLI_OK;
    if (!rf && keep)
        rf = table_flushed(dout);
    if (rf) {
        rc = rf;
        keep = 0;
    }
    int rh = out_h5_close(CMD, h5->h, keep); /* says nothing when not keeping */
    h5->h = NULL;
    if (rh) { /* its line said why: it is the one line, rather than "interrupted" */
        rc = rh;
        keep = 0;
    }
    char spath[4096], dpath[4096] = "";
    snprintf(spath, sizeof spath, "%s", so->path);
    if (dout->f)
        snprintf(dpath, sizeof dpath, "%s", dout->path);
    int rd = dout->f ? cli_output_close(keep ? CMD : NULL, dout, keep) : CLI_OK;
    int rs = cli_output_close(keep && !rd ? CMD : NULL, so, keep && !rd);
    if (keep && (rd || rs)) {
        remove(h5->path);
        remove(spath);
        if (*dpath)
            remove(dpath);
    }
    return rc ? rc : rd ? rd : rs;
}

/* Refuses up front what cannot fit: the dense readout's dimension, memory for the threads'
 * work (four dim x dim eigen-frames each, or a chain's readout windows), and disk for the
 * tables. */
static int check_resources(const run_job *j, const char *dir) {
    int64_t dim = !strcmp(j->model, "tc")     ? tcgpu_basis_dim(j->N, j->K)
                  : !strcmp(j->model, "heff") ? j->N + 1
                  : !strcmp(j->model, "lz")   ? 2
                  : !strcmp(j->model, "do")   ? j->K + 1
                                              : 0; /* mlz: known once the file is read */
    /* one channel (and lz) is a chain: its start and readout need no dense eigenbasis */
    int chain = (!strcmp(j->model, "tc") && j->K == 1) || !strcmp(j->model, "lz");
    if (dim > TCGPU_DENSE_MAX && !chain) {
        cli_error(CMD,
                  "%lld states (N = %lld, %d channels): the readout of this version "
                  "diagonalizes densely and stops at %d states (one channel has no such limit); "
                  "ask for a smaller N",
                  (long long)dim, (long long)j->N, j->K, TCGPU_DENSE_MAX);
        return CLI_BADINPUT;
    }
    double total = j->zip ? (double)j->nb : (double)j->nb * (double)j->ng * (double)j->ne;
    double threads = 1;
#ifdef _OPENMP
    threads = fmin((double)omp_get_max_threads(), total);
#endif
    if (j->batched) /* every batched control holds its frames at once */
        threads = fmin((double)j->batch, total);
    /* dense: four dim x dim frames per thread; chain: a dozen dim-vectors (src/adiabatic_tri.c) */
    double d = (double)dim, frames = chain ? 16 * d * 8 : 4 * d * d * 8;
    double mem = threads * (frames + 40 * d * 16);
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
static int resume_options(cli_parsed *a, const char *dir, run_resume *rs) {
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
    if (!rc && !rs->completed && (rc = cli_parse(CMD, opts, rs->argc, rs->argv, a)) == CLI_OK &&
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

static int run_lead(int argc, char **argv);

int cli_run(int argc, char **argv) {
    int rc = run_mpi_init(CMD);
    if (!rc)
        rc = run_mpi_rank() > 0 ? run_worker() : run_lead(argc, argv);
    return run_mpi_end(rc);
}

static int run_lead(int argc, char **argv) {
    cli_parsed a;
    run_job j;
    int rc = cli_parse(CMD, opts, argc, argv, &a);
    if (rc)
        return rc;
    if (cli_get(&a, "help")) {
        cli_usage(stdout, CMD,
                  "[--model tc] [--N 10] [--channels 2] [--beta LIST] [--eps LIST] "
                  "[--method magnus4] [--tol 1e-6] [--out DIR]",
                  opts);
        return CLI_OK;
    }
    /* from here on a signal ends any phase (options, the CUDA probe, reading, sweeps, writing)
     * with the promised state */
    tcgpu_clear_stop();
    cli_catch_signals(1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char started[32];
    time_t now = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    size_t done = 0, restored = 0, over_tol = 0;
    double updates = 0;
    run_resume rs = {0};
    run_lock lock = RUN_LOCK_NONE;
    const char *resume = cli_get(&a, "resume");
    if (resume) {
        /* a live writer is refused first; the lock itself is taken once the folder has passed
         * every check below, so a refused resume leaves the folder as it was */
        if ((rc = run_lock_probe(CMD, resume)) != CLI_OK ||
            (rc = resume_options(&a, resume, &rs)) != CLI_OK || rs.completed) {
            run_resume_free(&rs);
            return rc;
        }
        argc = rs.argc; /* the record below names the run's own options again */
        argv = rs.argv;
    }
    run_mpi_set_args(argc, argv);
    rc = parse(&a, &j);
    if (resume)
        j.out = resume;
    if (resume && !rc)
        rc = run_resume_agrees(
            CMD, resume, &rs, j.tol, j.method == TCGPU_METHOD_RK4 ? "rk4" : "magnus4",
            (const double *const[3]){j.beta, j.g, j.eps}, (const size_t[3]){j.nb, j.ng, j.ne});
    else if (!rc)
        rc = cli_check_out_dir(CMD, "out", j.out);
    if (!rc && j.file)
        rc = run_check_model(j.file);
    if (!rc && tcgpu_stop_requested()) {
        cli_error(CMD, "interrupted before the run began; nothing was written");
        rc = CLI_INTERRUPTED;
    }
    int folder = 0;
    if (!rc)
        rc = check_resources(&j, j.out ? j.out : ".");
    if (!rc)
        rc = run_mpi_check(CMD, j.zip ? j.nb : j.nb * j.ng * j.ne, j.batched);
    if (!rc && j.batched) {
        tcgpu_march_opts mo = {.backend = j.cuda ? TCGPU_BACKEND_CUDA : TCGPU_BACKEND_CPU,
                               .method = j.method,
                               .precision = j.precision,
                               .path = j.cuda_path,
                               .nmax = 4096,
                               .coupling = j.coupling};
        rc = cli_status(CMD, tcgpu_context_create(&mo, j.device_frames, &j.ctx));
    }
    char auto_out[64];
    if (!rc && !j.out) { /* a new folder, never one that holds an earlier run */
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
        for (int k = 1; k < 100; ++k) {
            snprintf(auto_out, sizeof auto_out, k == 1 ? "tcgpu-run-%s" : "tcgpu-run-%s-%d", stamp,
                     k);
            if (mkdir(auto_out, 0777) == 0 || errno != EEXIST)
                break;
        }
        j.out = auto_out;
    }
    if (!rc && mkdir(j.out, 0777) != 0 && errno != EEXIST) {
        cli_error(CMD, "cannot create the output folder '%s': %s", j.out, strerror(errno));
        rc = CLI_RUNTIME;
    }
    if (!rc)
        rc = run_lock_take(CMD, j.out, &lock); /* a folder another live run writes stays its own */
    folder = !rc;
    /* run.json from the start, saying unfinished: a folder whose run was killed (SIGKILL, a
     * crash) is still a run that --resume can finish */
    char rp[4096];
    snprintf(rp, sizeof rp, "%s/run.json", j.out ? j.out : ".");
    run_record rec = {
        .argc = argc,
        .argv = argv,
        .model = j.model,
        .method = j.method == TCGPU_METHOD_RK4 ? "rk4" : "magnus4",
        .precision = j.precision == TCGPU_FP32 ? "single" : "double",
        .grid = j.zip ? "zip" : "product",
        .file = j.file,
        .N = j.N,
        .K = j.K,
        .has_levels = j.has_levels,
        .levels = j.levels,
        .beta = j.beta,
        .g = j.g,
        .eps = j.eps,
        .nb = j.nb,
        .ng = j.ng,
        .ne = j.ne,
        .tol = j.tol,
        .T = j.T,
        .dt = j.dt,
        .backend = j.cuda      ? "cuda"
                   : j.batched ? "cpu-batched"
                               : "cpu",
        .device = j.cuda ? j.device : NULL,
        .cuda_path = j.batched ? cuda_paths[j.cuda_path] : NULL,
        .coupling = j.batched ? couplings[j.coupling] : NULL,
        .frames = j.device_frames ? "cuda (from 1000 states)" : "host",
#ifdef _OPENMP
        .threads = omp_get_max_threads(), /* batched too: the ensemble's team */
#else
        .threads = 1,
#endif
        .started = started,
        .updated = started,
        .sweeps_total = j.zip ? j.nb : j.nb * j.ng * j.ne,
        .dist_csv = j.dist_csv,
        .error = "started and not finished (timings: how far it got): if no tcgpu is still "
                 "running it, it was killed; tcgpu run --resume DIR finishes it, computing "
                 "again the sweeps its unfinished tables held",
    };
    if (folder)
        rc = run_record_write(CMD, rp, &rec);
    record_sink record = {.rec = &rec, .path = rp, .t0 = &t0};
    char sp[4096], dp[4096], hp[4096];
    cli_output so, dout = {NULL, NULL, NULL};
    const char *dir = j.out ? j.out : ".";
    snprintf(sp, sizeof sp, "%s/summary.csv", dir);
    snprintf(dp, sizeof dp, "%s/dist.csv", dir);
    snprintf(hp, sizeof hp, "%s/dist.h5", dir);
    h5_sink h5 = {hp, NULL};
    if (!rc && !(rc = cli_output_open(CMD, sp, &so))) {
        if (!j.dist_csv || !(rc = cli_output_open(CMD, dp, &dout))) {
            int mlz = !strcmp(j.model, "mlz");
            int levels = !strcmp(j.model, "lz") || !strcmp(j.model, "do") || mlz;
            write_headers(so.f, dout.f, mlz ? 0 : j.K, levels);
            rc = sweeps(&j, resume ? &rs : NULL, &so, dout.f, &h5, &record, &done, &restored,
                        &over_tol, &updates);
            rc = tables_close(rc, &so, &dout, &h5);
        } else
            cli_output_close(NULL, &so, 0);
    }
    if (folder) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        rec.wall_seconds =
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        rec.sweeps_done = done;
        rec.sweeps_restored = restored;
        rec.amplitude_updates = updates;
        rec.completed = rc == CLI_OK;
        rec.interrupted = rc == CLI_INTERRUPTED;
        utc_now(record.updated, sizeof record.updated);
        rec.updated = record.updated;
        rec.error = rc == CLI_OK ? NULL
                    : rc == CLI_INTERRUPTED
                        ? (run_mpi_stop_reason() ? run_mpi_stop_reason()
                                                 : "interrupted by a signal; the finished sweeps "
                                                   "are in summary.csv and dist.h5")
                        : "failed (the reason was on stderr); the tables were not kept";
        rec.mpi = run_mpi_get_report();
        tcgpu_transfer_stats transfers;
        if (j.ctx) {
            tcgpu_context_stats(j.ctx, &transfers);
            rec.runner = tcgpu_context_runner(j.ctx);
            rec.transfers = &transfers;
        }
        /* After a failure its line is the one line: the record is written without a message of
         * its own, and where it cannot be (the disk that refused a table), the last record
         * written stays, unfinished, for --resume. */
        int rr = run_record_write(rc == CLI_OK ? CMD : NULL, rp, &rec), drawn = 0;
        rc = rc ? rc : rr;
        if (rc == CLI_OK)
            fprintf(stderr, "tcgpu run: wrote %s/summary.csv, dist.h5%s and run.json\n", j.out,
                    j.dist_csv ? ", dist.csv" : "");
        if (rc == CLI_OK && over_tol) /* the control gave up short of tol (halvings spent, fp32) */
            fprintf(stderr,
                    "tcgpu run: warning: %zu of %zu sweeps ended with an error estimate above "
                    "--tol %g (column err_estimate)%s\n",
                    over_tol, done, j.tol,
                    j.precision == TCGPU_FP32
                        ? "; fp32 round-off: use --precision double"
                        : "; where the control spent its step halvings, raise --max-halvings "
                          "(each doubles the cost) or use --method magnus4");
        if (rc == CLI_INTERRUPTED)
            cli_error(CMD, "%s; %zu of %zu sweeps finished and written to %s%s",
                      run_mpi_stop_reason() ? run_mpi_stop_reason() : "interrupted", done,
                      rec.sweeps_total, j.out,
                      run_mpi_size() > 1 ? "; --resume DIR (any number of ranks) finishes it" : "");
        /* The figure is extra: it never fails the run. An interrupted run ends with its one
         * line at once (`tcgpu plot DIR` draws what it finished). */
        if (rc == CLI_OK && !cli_get(&a, "no-plot") && !run_plot(CMD, j.out, &drawn) && drawn)
            fprintf(stderr, "tcgpu run: drew %s/plot.png\n", j.out);
    }
    run_lock_release(&lock);
    cli_catch_signals(0);
    tcgpu_context_free(j.ctx);
    free(j.beta);
    free(j.g);
    free(j.eps);
    run_resume_free(&rs);
    return rc;
}
