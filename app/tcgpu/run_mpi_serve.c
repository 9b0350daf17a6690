/* The MPI runner on ranks > 0 (run_mpi_internal.h): compute threads take the sweeps rank 0
 * hands out; one communication thread sends the results back. Compiled in MPI builds only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "run_mpi_internal.h"

/* ---- ranks > 0 ---- */

enum { SLOT_WAIT, SLOT_READY, SLOT_BUSY, SLOT_DONE, SLOT_SENDING, SLOT_END };

typedef struct {
    int state;
    size_t idx;
    run_mpi_result res;
    double seconds;
    char *buf;
    MPI_Request req;
} slot;

static int slot_state(slot *s) {
    int v;
#pragma omp critical(run_mpi_slot)
    v = s->state;
    return v;
}

static void slot_set(slot *s, int v) {
#pragma omp critical(run_mpi_slot)
    s->state = v;
}

static void compute_loop(const run_mpi_work *w, slot *s) {
    for (;;) {
        int st = slot_state(s);
        if (st == SLOT_END)
            return;
        if (st != SLOT_READY) {
            rmpi_nap();
            continue;
        }
        slot_set(s, SLOT_BUSY);
        double t = rmpi_now();
        s->res = (run_mpi_result){0};
        w->compute(w->ctx, s->idx, &s->res);
        s->seconds = rmpi_now() - t;
        slot_set(s, SLOT_DONE);
    }
}

/* A finished sweep on its way to rank 0 (sent without blocking: rank 0 may be gone). */
static int slot_send(slot *s) {
    run_mpi_result *x = &s->res;
    int64_t dim = x->rc ? 0 : x->dim;
    size_t n = (size_t)dim * sizeof(double);
    wire_head h = {.idx = (int64_t)s->idx, .dim = dim, .rc = x->rc, .seconds = s->seconds};
    h.r = x->r;
    s->buf = malloc(sizeof h + 2 * n);
    if (!s->buf)
        return CLI_RUNTIME;
    memcpy(s->buf, &h, sizeof h);
    if (n) {
        memcpy(s->buf + sizeof h, x->p, n);
        memcpy(s->buf + sizeof h + n, x->ex, n);
    }
    free(x->p);
    free(x->ex);
    x->p = x->ex = NULL;
    return MPI_Isend(s->buf, (int)(sizeof h + 2 * n), MPI_BYTE, 0, TAG_DONE, MPI_COMM_WORLD,
                     &s->req) == MPI_SUCCESS
               ? CLI_OK
               : CLI_RUNTIME;
}

static int serve_loop(const char *cmd, slot *s, int n) {
    wire_hello hello = {.slots = n};
    rmpi_host_name(hello.host, sizeof hello.host);
    cli_cpu_name(hello.device, sizeof hello.device);
    MPI_Send(&hello, (int)sizeof hello, MPI_BYTE, 0, TAG_HELLO, MPI_COMM_WORLD);
    double heard = rmpi_now(), last_beat = heard;
    int halt = 0, rc = CLI_OK;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        while (MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st) == MPI_SUCCESS && flag) {
            int64_t v = -1;
            int bytes = 0;
            MPI_Get_count(&st, MPI_BYTE, &bytes);
            MPI_Recv(st.MPI_TAG == TAG_GIVE ? &v : NULL, st.MPI_TAG == TAG_GIVE ? 1 : 0,
                     MPI_INT64_T, 0, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            heard = rmpi_now();
            if (st.MPI_TAG == TAG_STOP) {
                halt = 1;
                rmpi_stopped = 1;
                tcgpu_request_stop();
            }
            for (int k = 0; st.MPI_TAG == TAG_GIVE && k < n; ++k)
                if (slot_state(&s[k]) == SLOT_WAIT) {
                    s[k].idx = (size_t)v;
                    slot_set(&s[k], v < 0 ? SLOT_END : SLOT_READY);
                    break;
                }
        }
        if (!halt && tcgpu_stop_requested()) { /* a signal to this rank: the job stops */
            MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_QUIT, MPI_COMM_WORLD);
            halt = rmpi_stopped = 1;
            rc = CLI_INTERRUPTED;
        }
        int busy = 0;
        for (int k = 0; k < n; ++k) {
            int state = slot_state(&s[k]);
            if (state == SLOT_DONE && !halt) {
                if (slot_send(&s[k])) {
                    cli_error(cmd, "rank %d could not send sweep %zu to rank 0", rmpi_rank,
                              s[k].idx);
                    return CLI_RUNTIME;
                }
                slot_set(&s[k], state = SLOT_SENDING);
            } else if (state == SLOT_DONE) { /* stopped: an interrupted sweep, not a result */
                free(s[k].res.p);
                free(s[k].res.ex);
                slot_set(&s[k], state = SLOT_END);
            }
            if (state == SLOT_SENDING) {
                int done = 0;
                MPI_Test(&s[k].req, &done, MPI_STATUS_IGNORE);
                if (done) {
                    free(s[k].buf);
                    slot_set(&s[k], state = halt ? SLOT_END : SLOT_WAIT);
                }
            }
            if (halt && (state == SLOT_WAIT || state == SLOT_READY))
                slot_set(&s[k], state = SLOT_END);
            busy += state != SLOT_END;
        }
        if (!busy) {
            if (halt)
                MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_BYE, MPI_COMM_WORLD);
            return rc;
        }
        double t = rmpi_now();
        if (t - heard > DEAD_SECONDS) {
            cli_error(cmd,
                      "rank %d: rank 0 sent nothing for %.0f s and is presumed dead; this "
                      "rank stops",
                      rmpi_rank, DEAD_SECONDS);
            tcgpu_request_stop();
            rmpi_abandon = rmpi_stopped = 1;
            for (int k = 0; k < n; ++k)
                slot_set(&s[k], SLOT_END); /* threads still computing notice the stop */
            return CLI_RUNTIME;
        }
        if (t - last_beat > BEAT_SECONDS) {
            MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_BEAT, MPI_COMM_WORLD);
            last_beat = t;
        }
        rmpi_nap();
    }
}

int run_mpi_serve(const char *cmd, const run_mpi_work *w) {
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    slot *s = calloc((size_t)threads, sizeof *s);
    if (!s) {
        cli_error(cmd, "rank %d: out of memory", rmpi_rank);
        rmpi_abandon = 1;
        return CLI_RUNTIME;
    }
    int rc = CLI_OK;
#pragma omp parallel num_threads(threads + 1)
    {
        int me = 0, team = 1;
#ifdef _OPENMP
        me = omp_get_thread_num();
        team = omp_get_num_threads();
#endif
        if (me == 0)
            rc = serve_loop(cmd, s, team > 1 ? team - 1 : 0);
        else
            compute_loop(w, &s[me - 1]);
    }
    free(s);
    return rc;
}
