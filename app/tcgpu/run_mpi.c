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

run_mpi_report rmpi_report;
int rmpi_have_report;
const char *rmpi_stop_reason;

const char *run_mpi_stop_reason(void) { return rmpi_stop_reason; }
const run_mpi_report *run_mpi_get_report(void) { return rmpi_have_report ? &rmpi_report : NULL; }

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

#include "run_mpi_internal.h"

int rmpi_on, rmpi_rank, rmpi_size;
static int lead_argc;
static char **lead_argv;
static int args_sent; /* rank 0: the options (or the word that there will be none) went out */
int rmpi_stopped;     /* the job stopped early: the ranks leave through a drain, not a finalize */
int rmpi_abandon;     /* some rank cannot be reached: MPI_Abort ends the job */
char *rmpi_bye_due;   /* rank 0, after a stop: [size] ranks that still owe a BYE */
static int batches;   /* rank 0: several grids, each with its options (validate) */
char rmpi_stop_text[512];

void run_mpi_batches(void) { batches = 1; }
int run_mpi_stopped(void) { return rmpi_stopped; }

double rmpi_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void rmpi_nap(void) {
    struct timespec t = {0, 1000000};
    nanosleep(&t, NULL);
}

void rmpi_host_name(char *buf, size_t len) {
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
    MPI_Comm_rank(MPI_COMM_WORLD, &rmpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &rmpi_size);
    rmpi_on = 1;
    if (provided < MPI_THREAD_FUNNELED) {
        cli_error(cmd, "this MPI offers no thread support (MPI_THREAD_FUNNELED); expected one "
                       "that does (OpenMPI, MPICH)");
        MPI_Abort(MPI_COMM_WORLD, CLI_RUNTIME);
    }
    threads_per_rank();
    return CLI_OK;
}

int run_mpi_rank(void) { return rmpi_on ? rmpi_rank : 0; }
int run_mpi_size(void) { return rmpi_on ? rmpi_size : 1; }

int run_mpi_check(const char *cmd, size_t sweeps, int batched) {
    if (!rmpi_on || rmpi_size == 1)
        return CLI_OK;
    if (batched) {
        cli_error(cmd, "--backend cuda and cpu-batched run in one process only (for now); "
                       "expected --backend cpu (auto means cpu under MPI) or no mpirun");
        return CLI_BADINPUT;
    }
    if ((size_t)rmpi_size <= sweeps)
        return CLI_OK;
    cli_error(cmd, "%d MPI ranks for %zu sweep%s: expected at most one rank per sweep", rmpi_size,
              sweeps, sweeps == 1 ? "" : "s");
    return CLI_BADINPUT;
}

static int wait_request(MPI_Request *r) {
    for (int done = 0;;) {
        if (MPI_Test(r, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return CLI_RUNTIME;
        if (done)
            return CLI_OK;
        rmpi_nap();
    }
}

void run_mpi_set_args(int argc, char **argv) {
    lead_argc = argc;
    lead_argv = argv;
}

/* The options as one buffer of NUL-terminated strings; a length of -1: no run follows. */
int rmpi_send_args(int go) {
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
        cli_error(cmd, "rank %d: the options from rank 0 did not arrive", rmpi_rank);
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
        cli_error(cmd, "rank %d: the options from rank 0 did not arrive", rmpi_rank);
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

/* After a stop, rank 0 waits (briefly) for every live rank's BYE, taking and dropping the
 * results still on their way; then the job can end with a finalize. */
static void drain(void) {
    double t0 = rmpi_now();
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
                rmpi_bye_due[st.MPI_SOURCE] = 0;
        }
        for (int r = 1; r < rmpi_size; ++r)
            due += rmpi_bye_due[r];
        if (!due)
            return;
        if (rmpi_now() - t0 > DRAIN_SECONDS) {
            rmpi_abandon = 1;
            return;
        }
        rmpi_nap();
    }
}

int run_mpi_end(int rc) {
    if (!rmpi_on)
        return rc;
    if (rmpi_rank == 0 && (!args_sent || (batches && !rmpi_stopped)))
        rmpi_send_args(0); /* no (more) grids: the other ranks leave */
    if (rmpi_rank == 0 && rmpi_stopped && rmpi_bye_due)
        drain();
    if (rmpi_rank == 0 && rmpi_abandon && rc == CLI_INTERRUPTED)
        rc = CLI_RUNTIME; /* a rank died: a failure, though the finished sweeps were kept */
    free(rmpi_bye_due);
    rmpi_bye_due = NULL;
    if (rmpi_abandon) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc ? rc : CLI_RUNTIME);
    }
    MPI_Finalize();
    rmpi_on = 0;
    return rc;
}

#endif
