/* `tcgpu run` (first version): propagate sweeps over a grid of (beta, g, eps) and write
 * DIR/summary.csv (one row per sweep) and DIR/dist.csv (final distributions). */
#include "cli_run.h"

/* Ranks other than 0: compute the sweeps rank 0 hands out, under the options it sends. */
static int run_worker(void) {
    int argc;
    char **argv;
    int rc = run_mpi_get_args(CMD, &argc, &argv);
    if (rc || argc < 0)
        return rc; /* rank 0 ended before any sweep (bad input): it says why */
    cli_parsed a;
    run_job j = {0};
    if (!(rc = cli_parse(CMD, run_options, argc, argv, &a)) && !(rc = run_parse(&a, &j))) {
#if defined(__GNUC__)
        if (openblas_set_num_threads)
            openblas_set_num_threads(1);
#endif
        run_mpi_work w = {
            .total = j.zip ? j.nb : j.nb * j.ng * j.ne, .ctx = &j, .compute = run_sweep_mpi_compute};
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
    int rc = cli_parse(CMD, run_options, argc, argv, &a);
    if (rc)
        return rc;
    if (cli_get(&a, "help")) {
        cli_usage(stdout, CMD,
                  "[--model tc] [--N 10] [--channels 2] [--beta LIST] [--eps LIST] "
                  "[--method magnus4] [--tol 1e-6] [--out DIR]",
                  run_options);
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
            (rc = run_resume_options(&a, resume, &rs)) != CLI_OK || rs.completed) {
            run_resume_free(&rs);
            return rc;
        }
        argc = rs.argc; /* the record below names the run's own options again */
        argv = rs.argv;
    }
    run_mpi_set_args(argc, argv);
    rc = run_parse(&a, &j);
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
        rc = run_check_resources(&j, j.out ? j.out : ".");
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
        .cuda_path = j.batched ? run_cuda_paths[j.cuda_path] : NULL,
        .coupling = j.batched ? run_couplings[j.coupling] : NULL,
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
            run_write_headers(so.f, dout.f, mlz ? 0 : j.K, levels);
            rc = run_sweeps(&j, resume ? &rs : NULL, &so, dout.f, &h5, &record, &done, &restored,
                        &over_tol, &updates);
            rc = run_tables_close(rc, &so, &dout, &h5);
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
        run_utc_now(record.updated, sizeof record.updated);
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
