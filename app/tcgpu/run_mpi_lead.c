/* The MPI runner on rank 0 (run_mpi_internal.h): hands out sweeps one at a time as ranks ask,
 * takes their results, watches for stops and silent ranks. Compiled in MPI builds only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "run_mpi_internal.h"

/* ---- rank 0 ---- */

typedef struct {
    int hello, slots; /* slots: its compute threads not yet told that the grid is done */
    int done, quit;   /* all its threads told; it was stopped by a signal */
    double heard;
} peer;

typedef struct {
    const run_mpi_work *w;
    size_t next;
    int halt, local_left;
    int *owner; /* [total] the rank a sweep was handed to; -2 once it came back */
    peer *p;
} lead_state;

static void record(int r, size_t i, double seconds) {
#pragma omp critical(run_mpi_record)
    {
        run_mpi_rank_report *k = &rmpi_report.rank[r];
        int64_t *grown = realloc(k->sweeps, (k->nsweeps + 1) * sizeof *grown);
        if (grown) {
            k->sweeps = grown;
            k->sweeps[k->nsweeps++] = (int64_t)i;
        }
        k->busy_seconds += seconds;
    }
}

/* The next sweep to hand out (to rank r), or 0 when there is none: all handed out, a stop, or a
 * failed sweep. */
static int next_sweep(lead_state *S, int r, size_t *i) {
    const run_mpi_work *w = S->w;
    int ok = 0;
#pragma omp critical(run_mpi_claim)
    {
        while (S->next < w->total && w->kept(w->ctx, S->next))
            ++S->next;
        if (!S->halt && !w->failed(w->ctx) && !tcgpu_stop_requested() && S->next < w->total) {
            *i = S->next++;
            S->owner[*i] = r;
            ok = 1;
        }
    }
    return ok;
}

static void give(lead_state *S, int r) {
    size_t i;
    int64_t v = next_sweep(S, r, &i) ? (int64_t)i : -1;
    if (v < 0)
        --S->p[r].slots;
    MPI_Send(&v, 1, MPI_INT64_T, r, TAG_GIVE, MPI_COMM_WORLD);
}

/* One message from rank r; CLI_OK, or CLI_RUNTIME for a reply that makes no sense. */
static int lead_receive(const char *cmd, lead_state *S, const MPI_Status *st, int *workers_left) {
    int r = st->MPI_SOURCE, bytes = 0;
    MPI_Get_count(st, MPI_BYTE, &bytes);
    char *buf = malloc(bytes > 0 ? (size_t)bytes : 1);
    if (!buf || MPI_Recv(buf, bytes, MPI_BYTE, r, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
                    MPI_SUCCESS) {
        free(buf);
        cli_error(cmd, "rank 0 could not receive a message from rank %d", r);
        return CLI_RUNTIME;
    }
    peer *p = &S->p[r];
    p->heard = rmpi_now();
    int rc = CLI_OK;
    if (st->MPI_TAG == TAG_HELLO && bytes == (int)sizeof(wire_hello) && !p->hello) {
        wire_hello h;
        memcpy(&h, buf, sizeof h);
        p->hello = 1;
        p->slots = h.slots > 0 ? h.slots : 0; /* none: done at once (no OpenMP threads) */
        memcpy(rmpi_report.rank[r].host, h.host, sizeof h.host);
        rmpi_report.rank[r].host[sizeof h.host - 1] = '\0';
        memcpy(rmpi_report.rank[r].device, h.device, sizeof h.device);
        rmpi_report.rank[r].device[sizeof h.device - 1] = '\0';
        rmpi_report.rank[r].threads = p->slots;
        for (int k = p->slots; k > 0; --k)
            give(S, r);
    } else if (st->MPI_TAG == TAG_DONE && bytes >= (int)sizeof(wire_head)) {
        wire_head h;
        memcpy(&h, buf, sizeof h);
        size_t need = sizeof h + 2 * (size_t)(h.dim > 0 ? h.dim : 0) * sizeof(double);
        if (h.idx < 0 || (size_t)h.idx >= S->w->total || S->owner[h.idx] != r ||
            (size_t)bytes != need) {
            cli_error(cmd, "rank %d returned sweep %lld, which it was not given (or damaged)", r,
                      (long long)h.idx);
            rc = CLI_RUNTIME;
        } else {
            S->owner[h.idx] = -2;
            run_mpi_result res = {.rc = h.rc, .dim = h.dim, .r = h.r};
            size_t n = (size_t)(h.dim > 0 ? h.dim : 0) * sizeof(double);
            res.p = malloc(n ? n : 1);
            res.ex = malloc(n ? n : 1);
            if (!res.p || !res.ex) {
                res.rc = CLI_RUNTIME;
                cli_error(cmd, "out of memory for sweep %lld from rank %d", (long long)h.idx, r);
            } else {
                memcpy(res.p, buf + sizeof h, n);
                memcpy(res.ex, buf + sizeof h + n, n);
            }
            S->w->remote(S->w->ctx, (size_t)h.idx, &res);
            free(res.p);
            free(res.ex);
            record(r, (size_t)h.idx, h.seconds);
            give(S, r);
        }
    } else if (st->MPI_TAG == TAG_QUIT)
        p->quit = 1;
    if (p->hello && p->slots == 0 && !p->done) {
        p->done = 1;
        --*workers_left;
    }
    free(buf);
    return rc;
}

static void local_loop(lead_state *S) {
    size_t i;
    while (next_sweep(S, 0, &i)) {
        double t = rmpi_now();
        S->w->local(S->w->ctx, i);
        record(0, i, rmpi_now() - t);
    }
#pragma omp atomic
    --S->local_left;
}

/* Rank 0 ends the grid early: no more hand-outs, its own threads stop, and the other ranks are
 * told to (all but a dead one). The reason, when a rank caused it, is kept for the last line. */
static int lead_stop(lead_state *S, int rc, int quitter, int dead) {
    const char *host = rmpi_report.rank[dead ? dead : quitter].host;
    if (dead) {
        snprintf(rmpi_stop_text, sizeof rmpi_stop_text,
                 "rank %d (%s) sent nothing for %.0f s and is presumed dead; the job stops", dead,
                 *host ? host : "host unknown", DEAD_SECONDS);
        rmpi_abandon = 1;
    } else if (quitter)
        snprintf(rmpi_stop_text, sizeof rmpi_stop_text, "rank %d (%s) was stopped by a signal",
                 quitter, host);
    else
        snprintf(rmpi_stop_text, sizeof rmpi_stop_text,
                 "interrupted by a signal (Ctrl-C, or SIGTERM from mpirun or SLURM, as when a "
                 "rank dies)");
    int interrupted = dead || quitter || tcgpu_stop_requested();
    if (interrupted)
        rmpi_stop_reason = rmpi_stop_text;
#pragma omp critical(run_mpi_claim)
    S->halt = 1;
    if (interrupted)
        tcgpu_request_stop(); /* this rank's threads end their sweeps now */
    rmpi_stopped = 1;
    for (int r = 1; r < rmpi_size; ++r) {
        rmpi_bye_due[r] = !S->p[r].done && r != dead;
        if (rmpi_bye_due[r] && !S->p[r].quit)
            MPI_Send(NULL, 0, MPI_BYTE, r, TAG_STOP, MPI_COMM_WORLD);
    }
    return rc ? rc : interrupted ? CLI_INTERRUPTED : CLI_OK;
}

/* Rank 0's communication thread: hands out sweeps, takes results, watches for stops. */
static int lead_loop(const char *cmd, lead_state *S) {
    double last_beat = rmpi_now();
    int workers_left = rmpi_size - 1, rc = CLI_OK;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        while (!rc &&
               MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st) == MPI_SUCCESS &&
               flag)
            rc = lead_receive(cmd, S, &st, &workers_left);
        double t = rmpi_now();
        int quitter = 0, dead = 0;
        for (int r = 1; r < rmpi_size; ++r) {
            peer *p = &S->p[r];
            if (p->quit && !quitter)
                quitter = r;
            if (!p->done && !p->quit && t - p->heard > DEAD_SECONDS && !dead)
                dead = r;
        }
        int left;
#pragma omp atomic read
        left = S->local_left;
        int stop = rc || tcgpu_stop_requested() || S->w->failed(S->w->ctx) || quitter || dead;
        if (!stop && workers_left == 0 && left == 0)
            return CLI_OK;
        if (stop)
            return lead_stop(S, rc, quitter, dead);
        if (t - last_beat > BEAT_SECONDS) {
            for (int r = 1; r < rmpi_size; ++r)
                if (!S->p[r].done)
                    MPI_Send(NULL, 0, MPI_BYTE, r, TAG_BEAT, MPI_COMM_WORLD);
            last_beat = t;
        }
        rmpi_nap();
    }
}

int run_mpi_lead(const char *cmd, const run_mpi_work *w) {
    int rc = rmpi_send_args(1);
    lead_state S = {.w = w};
    S.owner = malloc((w->total ? w->total : 1) * sizeof *S.owner);
    S.p = calloc((size_t)rmpi_size, sizeof *S.p);
    free(rmpi_bye_due);
    rmpi_bye_due = calloc((size_t)rmpi_size, 1);
    rmpi_report.ranks = rmpi_size; /* several grids (validate): the report adds them up */
    if (!rmpi_report.rank)
        rmpi_report.rank = calloc((size_t)rmpi_size, sizeof *rmpi_report.rank);
    if (rc || !S.owner || !S.p || !rmpi_bye_due || !rmpi_report.rank) {
        free(S.owner);
        free(S.p);
        cli_error(cmd, "rank 0 could not start the sweeps (out of memory or MPI failed)");
        rmpi_abandon = 1;
        return CLI_RUNTIME;
    }
    rmpi_have_report = 1;
    rmpi_host_name(rmpi_report.rank[0].host, sizeof rmpi_report.rank[0].host);
    cli_cpu_name(rmpi_report.rank[0].device, sizeof rmpi_report.rank[0].device);
    for (size_t i = 0; i < w->total; ++i)
        S.owner[i] = -1;
    double t0 = rmpi_now();
    for (int r = 1; r < rmpi_size; ++r)
        S.p[r].heard = t0;
    for (size_t i = 0; i < w->total; ++i) /* kept sweeps: rank 0 reads them, nobody computes */
        if (w->kept(w->ctx, i))
            w->local(w->ctx, i);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    S.local_left = threads;
#pragma omp parallel num_threads(threads + 1)
    {
        int me = 0, team = 1;
#ifdef _OPENMP
        me = omp_get_thread_num();
        team = omp_get_num_threads();
#endif
        if (me == 0) {
#pragma omp atomic
            S.local_left -= threads - (team - 1); /* threads OpenMP did not give */
            rc = lead_loop(cmd, &S);
        } else
            local_loop(&S);
    }
    rmpi_report.rank[0].threads = threads;
    rmpi_report.wall_seconds += rmpi_now() - t0;
    free(S.owner);
    free(S.p);
    return rc;
}
