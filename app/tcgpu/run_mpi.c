/* Sweeps over MPI ranks (see run_mpi.h). Each rank runs one communication thread (OpenMP thread
 * 0, the only one that calls MPI: MPI_THREAD_FUNNELED) beside its compute threads. The
 * communication thread polls with short naps instead of blocking in MPI, whose waits spin a
 * core that the sweeps need (2 cores, 3 ranks here). Ranks send each other a beat every 2 s;
 * a rank silent for 20 s is presumed dead, so that the job ends within 30 s even where the
 * launcher lets the survivors run on (srun without --kill-on-bad-exit). mpirun's own reaction
 * to a dead rank is faster: SIGTERM to the others, SIGKILL 1 s later; rank 0 then writes what
 * is finished and stops (docs/mpi.md). */
#include "run_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "tcgpu/status.h"

static run_mpi_report report;
static int have_report;
static const char *stop_reason;

const char *run_mpi_stop_reason(void) { return stop_reason; }
const run_mpi_report *run_mpi_get_report(void) { return have_report ? &report : NULL; }

#ifndef TCGPU_WITH_MPI

int run_mpi_init(const char *cmd) {
    (void)cmd;
    return CLI_OK;
}
int run_mpi_rank(void) { return 0; }
int run_mpi_size(void) { return 1; }
int run_mpi_end(int rc) { return rc; }
int run_mpi_check(const char *cmd, size_t sweeps, int batched) {
    (void)cmd;
    (void)sweeps;
    (void)batched;
    return CLI_OK;
}
void run_mpi_set_args(int argc, char **argv) {
    (void)argc;
    (void)argv;
}
int run_mpi_get_args(const char *cmd, int *argc, char ***argv) {
    (void)cmd;
    *argc = -1;
    *argv = NULL;
    return CLI_OK;
}
void run_mpi_free_args(int argc, char **argv) {
    (void)argc;
    (void)argv;
}
int run_mpi_lead(const char *cmd, const run_mpi_work *w) {
    (void)w;
    cli_error(cmd, "this tcgpu was built without MPI");
    return CLI_RUNTIME;
}
int run_mpi_serve(const char *cmd, const run_mpi_work *w) { return run_mpi_lead(cmd, w); }
void run_mpi_batches(void) {}
int run_mpi_stopped(void) { return 0; }

#else

#include <mpi.h>

enum { TAG_ARGS = 1, TAG_HELLO, TAG_GIVE, TAG_DONE, TAG_BEAT, TAG_STOP, TAG_QUIT, TAG_BYE };

#define BEAT_SECONDS 2.0
#define DEAD_SECONDS 20.0
#define DRAIN_SECONDS 10.0 /* after a stop: how long rank 0 waits for the others to leave */

static int on, rank, size;
static int lead_argc;
static char **lead_argv;
static int args_sent; /* rank 0: the options (or the word that there will be none) went out */
static int stopped;   /* the job stopped early: the ranks leave through a drain, not a finalize */
static int abandon;   /* some rank cannot be reached: MPI_Abort ends the job */
static char *bye_due; /* rank 0, after a stop: [size] ranks that still owe a BYE */
static int batches;   /* rank 0: several grids, each with its options (validate) */
static char stop_text[512];

void run_mpi_batches(void) { batches = 1; }
int run_mpi_stopped(void) { return stopped; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void nap(void) {
    struct timespec t = {0, 1000000};
    nanosleep(&t, NULL);
}

static void host_name(char *buf, size_t len) {
    if (gethostname(buf, len) != 0)
        snprintf(buf, len, "unknown");
    buf[len - 1] = '\0';
}

/* An unbound rank shares its node's cores with the ranks beside it; a bound one (srun
 * --cpus-per-task, or mpirun's default binding of up to 2 ranks to a core each) uses the cores it
 * is bound to. OMP_NUM_THREADS, when set, decides instead. */
static void threads_per_rank(void) {
#ifdef _OPENMP
    MPI_Comm node;
    int local = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
    }
    if (getenv("OMP_NUM_THREADS"))
        return;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int mine = omp_get_num_procs();
    long t = mine < online ? mine : online / local;
    omp_set_num_threads(t > 0 ? (int)t : 1);
#endif
}

int run_mpi_init(const char *cmd) {
    /* Only a launcher's process starts MPI: a plain `tcgpu run` stays one process, without an
     * MPI singleton's start-up. */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK") &&
        !getenv("PMI_RANK"))
        return CLI_OK;
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        cli_error(cmd, "MPI did not start (MPI_Init_thread failed)");
        return CLI_RUNTIME;
    }
    /* Failures come back as codes, so that rank 0 can still write the finished sweeps. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    on = 1;
    if (provided < MPI_THREAD_FUNNELED) {
        cli_error(cmd, "this MPI offers no thread support (MPI_THREAD_FUNNELED); expected one "
                       "that does (OpenMPI, MPICH)");
        MPI_Abort(MPI_COMM_WORLD, CLI_RUNTIME);
    }
    threads_per_rank();
    return CLI_OK;
}

int run_mpi_rank(void) { return on ? rank : 0; }
int run_mpi_size(void) { return on ? size : 1; }

int run_mpi_check(const char *cmd, size_t sweeps, int batched) {
    if (!on || size == 1)
        return CLI_OK;
    if (batched) {
        cli_error(cmd, "--backend cuda and cpu-batched run in one process only (for now); "
                       "expected --backend cpu (auto means cpu under MPI) or no mpirun");
        return CLI_BADINPUT;
    }
    if ((size_t)size <= sweeps)
        return CLI_OK;
    cli_error(cmd, "%d MPI ranks for %zu sweep%s: expected at most one rank per sweep", size,
              sweeps, sweeps == 1 ? "" : "s");
    return CLI_BADINPUT;
}

static int wait_request(MPI_Request *r) {
    for (int done = 0;;) {
        if (MPI_Test(r, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return CLI_RUNTIME;
        if (done)
            return CLI_OK;
        nap();
    }
}

void run_mpi_set_args(int argc, char **argv) {
    lead_argc = argc;
    lead_argv = argv;
}

/* The options as one buffer of NUL-terminated strings; a length of -1: no run follows. */
static int send_args(int go) {
    int64_t len = 0;
    for (int i = 0; go && i < lead_argc; ++i)
        len += (int64_t)strlen(lead_argv[i]) + 1;
    char *buf = malloc((size_t)len + 1);
    if (!buf)
        len = -1, go = 0;
    if (!go)
        len = -1;
    for (int64_t i = 0, at = 0; go && i < lead_argc; ++i) {
        size_t n = strlen(lead_argv[i]) + 1;
        memcpy(buf + at, lead_argv[i], n);
        at += (int64_t)n;
    }
    MPI_Request r;
    int rc = MPI_Ibcast(&len, 1, MPI_INT64_T, 0, MPI_COMM_WORLD, &r) == MPI_SUCCESS
                 ? wait_request(&r)
                 : CLI_RUNTIME;
    if (!rc && len > 0)
        rc = MPI_Ibcast(buf, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD, &r) == MPI_SUCCESS
                 ? wait_request(&r)
                 : CLI_RUNTIME;
    free(buf);
    args_sent = 1;
    return rc;
}

int run_mpi_get_args(const char *cmd, int *argc, char ***argv) {
    int64_t len = -1;
    MPI_Request r;
    *argc = -1;
    *argv = NULL;
    if (MPI_Ibcast(&len, 1, MPI_INT64_T, 0, MPI_COMM_WORLD, &r) != MPI_SUCCESS ||
        wait_request(&r)) {
        cli_error(cmd, "rank %d: the options from rank 0 did not arrive", rank);
        return CLI_RUNTIME;
    }
    if (len < 0)
        return CLI_OK;
    char *buf = malloc((size_t)len + 1);
    char **v = calloc((size_t)len + 1, sizeof *v);
    if (!buf || !v || MPI_Ibcast(buf, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD, &r) != MPI_SUCCESS ||
        wait_request(&r)) {
        free(buf);
        free(v);
        cli_error(cmd, "rank %d: the options from rank 0 did not arrive", rank);
        return CLI_RUNTIME;
    }
    int n = 0;
    for (int64_t at = 0; at < len; at += (int64_t)strlen(buf + at) + 1)
        v[n++] = buf + at;
    *argc = n;
    *argv = v;
    return CLI_OK;
}

void run_mpi_free_args(int argc, char **argv) {
    if (argc > 0 && argv)
        free(argv[0]); /* the one buffer all strings live in */
    free(argv);
}

/* A finished sweep on the wire: this header, then p[dim] and ex[dim]. */
typedef struct {
    int64_t idx, dim;
    int32_t rc, pad;
    double seconds;
    tcgpu_auto_report r;
} wire_head;

typedef struct {
    int32_t slots;
    char host[64];
    char device[96];
} wire_hello;

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
        run_mpi_rank_report *k = &report.rank[r];
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
    p->heard = now();
    int rc = CLI_OK;
    if (st->MPI_TAG == TAG_HELLO && bytes == (int)sizeof(wire_hello) && !p->hello) {
        wire_hello h;
        memcpy(&h, buf, sizeof h);
        p->hello = 1;
        p->slots = h.slots > 0 ? h.slots : 0; /* none: done at once (no OpenMP threads) */
        memcpy(report.rank[r].host, h.host, sizeof h.host);
        report.rank[r].host[sizeof h.host - 1] = '\0';
        memcpy(report.rank[r].device, h.device, sizeof h.device);
        report.rank[r].device[sizeof h.device - 1] = '\0';
        report.rank[r].threads = p->slots;
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
        double t = now();
        S->w->local(S->w->ctx, i);
        record(0, i, now() - t);
    }
#pragma omp atomic
    --S->local_left;
}

/* Rank 0 ends the grid early: no more hand-outs, its own threads stop, and the other ranks are
 * told to (all but a dead one). The reason, when a rank caused it, is kept for the last line. */
static int lead_stop(lead_state *S, int rc, int quitter, int dead) {
    const char *host = report.rank[dead ? dead : quitter].host;
    if (dead) {
        snprintf(stop_text, sizeof stop_text,
                 "rank %d (%s) sent nothing for %.0f s and is presumed dead; the job stops", dead,
                 *host ? host : "host unknown", DEAD_SECONDS);
        abandon = 1;
    } else if (quitter)
        snprintf(stop_text, sizeof stop_text, "rank %d (%s) was stopped by a signal", quitter,
                 host);
    else
        snprintf(stop_text, sizeof stop_text,
                 "interrupted by a signal (Ctrl-C, or SIGTERM from mpirun or SLURM, as when a "
                 "rank dies)");
    int interrupted = dead || quitter || tcgpu_stop_requested();
    if (interrupted)
        stop_reason = stop_text;
#pragma omp critical(run_mpi_claim)
    S->halt = 1;
    if (interrupted)
        tcgpu_request_stop(); /* this rank's threads end their sweeps now */
    stopped = 1;
    for (int r = 1; r < size; ++r) {
        bye_due[r] = !S->p[r].done && r != dead;
        if (bye_due[r] && !S->p[r].quit)
            MPI_Send(NULL, 0, MPI_BYTE, r, TAG_STOP, MPI_COMM_WORLD);
    }
    return rc ? rc : interrupted ? CLI_INTERRUPTED : CLI_OK;
}

/* Rank 0's communication thread: hands out sweeps, takes results, watches for stops. */
static int lead_loop(const char *cmd, lead_state *S) {
    double last_beat = now();
    int workers_left = size - 1, rc = CLI_OK;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        while (!rc &&
               MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st) == MPI_SUCCESS &&
               flag)
            rc = lead_receive(cmd, S, &st, &workers_left);
        double t = now();
        int quitter = 0, dead = 0;
        for (int r = 1; r < size; ++r) {
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
            for (int r = 1; r < size; ++r)
                if (!S->p[r].done)
                    MPI_Send(NULL, 0, MPI_BYTE, r, TAG_BEAT, MPI_COMM_WORLD);
            last_beat = t;
        }
        nap();
    }
}

int run_mpi_lead(const char *cmd, const run_mpi_work *w) {
    int rc = send_args(1);
    lead_state S = {.w = w};
    S.owner = malloc((w->total ? w->total : 1) * sizeof *S.owner);
    S.p = calloc((size_t)size, sizeof *S.p);
    free(bye_due);
    bye_due = calloc((size_t)size, 1);
    report.ranks = size; /* several grids (validate): the report adds them up */
    if (!report.rank)
        report.rank = calloc((size_t)size, sizeof *report.rank);
    if (rc || !S.owner || !S.p || !bye_due || !report.rank) {
        free(S.owner);
        free(S.p);
        cli_error(cmd, "rank 0 could not start the sweeps (out of memory or MPI failed)");
        abandon = 1;
        return CLI_RUNTIME;
    }
    have_report = 1;
    host_name(report.rank[0].host, sizeof report.rank[0].host);
    cli_cpu_name(report.rank[0].device, sizeof report.rank[0].device);
    for (size_t i = 0; i < w->total; ++i)
        S.owner[i] = -1;
    double t0 = now();
    for (int r = 1; r < size; ++r)
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
    report.rank[0].threads = threads;
    report.wall_seconds += now() - t0;
    free(S.owner);
    free(S.p);
    return rc;
}

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
            nap();
            continue;
        }
        slot_set(s, SLOT_BUSY);
        double t = now();
        s->res = (run_mpi_result){0};
        w->compute(w->ctx, s->idx, &s->res);
        s->seconds = now() - t;
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
    host_name(hello.host, sizeof hello.host);
    cli_cpu_name(hello.device, sizeof hello.device);
    MPI_Send(&hello, (int)sizeof hello, MPI_BYTE, 0, TAG_HELLO, MPI_COMM_WORLD);
    double heard = now(), last_beat = heard;
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
            heard = now();
            if (st.MPI_TAG == TAG_STOP) {
                halt = 1;
                stopped = 1;
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
            halt = stopped = 1;
            rc = CLI_INTERRUPTED;
        }
        int busy = 0;
        for (int k = 0; k < n; ++k) {
            int state = slot_state(&s[k]);
            if (state == SLOT_DONE && !halt) {
                if (slot_send(&s[k])) {
                    cli_error(cmd, "rank %d could not send sweep %zu to rank 0", rank, s[k].idx);
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
        double t = now();
        if (t - heard > DEAD_SECONDS) {
            cli_error(cmd,
                      "rank %d: rank 0 sent nothing for %.0f s and is presumed dead; this "
                      "rank stops",
                      rank, DEAD_SECONDS);
            tcgpu_request_stop();
            abandon = stopped = 1;
            for (int k = 0; k < n; ++k)
                slot_set(&s[k], SLOT_END); /* threads still computing notice the stop */
            return CLI_RUNTIME;
        }
        if (t - last_beat > BEAT_SECONDS) {
            MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_BEAT, MPI_COMM_WORLD);
            last_beat = t;
        }
        nap();
    }
}

int run_mpi_serve(const char *cmd, const run_mpi_work *w) {
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    slot *s = calloc((size_t)threads, sizeof *s);
    if (!s) {
        cli_error(cmd, "rank %d: out of memory", rank);
        abandon = 1;
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

/* After a stop, rank 0 waits (briefly) for every live rank's BYE, taking and dropping the
 * results still on their way; then the job can end with a finalize. */
static void drain(void) {
    double t0 = now();
    for (;;) {
        int flag = 0, due = 0;
        MPI_Status st;
        while (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st) == MPI_SUCCESS &&
               flag) {
            int bytes = 0;
            MPI_Get_count(&st, MPI_BYTE, &bytes);
            char *buf = malloc(bytes > 0 ? (size_t)bytes : 1);
            MPI_Recv(buf, bytes, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            free(buf);
            if (st.MPI_TAG == TAG_BYE)
                bye_due[st.MPI_SOURCE] = 0;
        }
        for (int r = 1; r < size; ++r)
            due += bye_due[r];
        if (!due)
            return;
        if (now() - t0 > DRAIN_SECONDS) {
            abandon = 1;
            return;
        }
        nap();
    }
}

int run_mpi_end(int rc) {
    if (!on)
        return rc;
    if (rank == 0 && (!args_sent || (batches && !stopped)))
        send_args(0); /* no (more) grids: the other ranks leave */
    if (rank == 0 && stopped && bye_due)
        drain();
    if (rank == 0 && abandon && rc == CLI_INTERRUPTED)
        rc = CLI_RUNTIME; /* a rank died: a failure, though the finished sweeps were kept */
    free(bye_due);
    bye_due = NULL;
    if (abandon) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc ? rc : CLI_RUNTIME);
    }
    MPI_Finalize();
    on = 0;
    return rc;
}

#endif
