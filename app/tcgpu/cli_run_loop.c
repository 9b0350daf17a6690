/* `tcgpu run`: the sweeps of a run computed in parallel (OpenMP threads, the batched ensemble
 * driver, or MPI ranks) and written in sweep order as they finish. */
#include "cli_run.h"

double run_seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* done/total, rate and ETA: redrawn in place on a terminal, one line every 5 s otherwise. */
static void progress(const run_job *j, size_t done, size_t total, const struct timespec *t0,
                     double *last) {
    double el = run_seconds_since(t0);
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
    double now = k ? run_seconds_since(k->t0) : 0;
    if (!k || now - k->last < 1.0)
        return;
    k->last = now;
    run_record *r = k->rec;
    r->wall_seconds = now;
    r->sweeps_done = *L->done;
    r->sweeps_restored = *L->restored;
    r->amplitude_updates = *L->updates;
    run_utc_now(k->updated, sizeof k->updated);
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
    *o = run_sweep_at(j, i);
    int stop = sweep_stop(L);
    if (!stop && L->row_of[i])
        run_sweep_restore(j, L->rs, L->row_of[i] - 1, o);
    else if (!stop)
        run_sweep_compute(j, o);
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
            int wr = !L->rc && w->built && !w->rc ? run_h5_write(L->h5, w) : CLI_OK;
            if (wr) {
#pragma omp atomic write
                L->rc = wr;
            }
            if (!L->rc && w->built && !w->rc) {
                errno = 0;
                run_sweep_write(j, w, L->s, L->d);
                /* a finished sweep reaches the file as it finishes; a write refused (a full
                 * disk) stops the run here, with its reason, rather than after every sweep */
                if ((fflush(L->s) != 0 || ferror(L->s)) && !L->rc) {
                    cli_error(CMD, "writing '%s' failed: %s", L->s_path,
                              errno ? strerror(errno) : "a write was refused (disk full?)");
#pragma omp atomic write
                    L->rc = CLI_RUNTIME;
                }
                run_sweep_print(w);
                ++*L->done;
                if (!(w->r.err_estimate <= j->tol))
                    ++*L->over_tol;
                if (w->line)
                    ++*L->restored;
                else
                    *L->updates += (double)w->r.applications * (double)w->m.dim;
            }
            run_sweep_free(w);
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
    *o = run_sweep_at(L->j, (size_t)i);
    int stop = sweep_stop(L);
    if (stop || L->row_of[i]) {
        if (!stop)
            run_sweep_restore(L->j, L->rs, L->row_of[i] - 1, o);
        o->skip = stop ? 2 : 1;
        return TCGPU_EINTR; /* not controlled here: finish commits it */
    }
    if (run_sweep_prepare(L->j, o, &job->o)) {
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
            run_sweep_conclude(o);
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
void run_sweep_mpi_compute(void *ctx, size_t i, run_mpi_result *out) {
    const run_job *j = ctx;
    sweep_out o = run_sweep_at(j, i);
    run_sweep_compute(j, &o);
    *out =
        (run_mpi_result){.rc = o.rc, .dim = o.built ? o.m.dim : 0, .r = o.r, .p = o.p, .ex = o.ex};
    o.p = o.ex = NULL;
    run_sweep_free(&o);
}

static void mpi_local(void *ctx, size_t i) { sweep_one(ctx, i); }

static void mpi_remote(void *ctx, size_t i, run_mpi_result *res) {
    sweep_loop *L = ctx;
    sweep_out *o = &L->slot[i];
    *o = run_sweep_at(L->j, i);
    int stop = sweep_stop(L);
    if (!stop && !(o->rc = res->rc) &&
        !(o->rc = cli_status(CMD, run_build(L->j, o->g, o->beta, o->eps, &o->m, o->e)))) {
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

int run_sweeps(const run_job *j, const run_resume *rs, const cli_output *so, FILE *d,
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
        run_sweep_free(&L.slot[L.next]);
    free(L.slot);
    free(L.ready);
    free(L.row_of);
    return !rc && tcgpu_stop_requested() ? CLI_INTERRUPTED : rc;
}
