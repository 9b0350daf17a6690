/* SIGINT and SIGTERM as a user sends them: whatever phase a run is in (reading the model file,
 * the dense start and readout, the sweeps), it ends within 1 s with exit status 130 and a folder
 * that is either absent (the model was not read yet) or a resumable run with no temporary file;
 * resuming it gives the uninterrupted run's probabilities to the bit. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_common.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void nap(double s) {
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

/* Starts `tcgpu <args...>` with stdout/stderr to files under dir. */
static pid_t start(const char *dir, char *const *args) {
    pid_t pid = fork();
    if (pid == 0) {
        char o[256], e[256];
        snprintf(o, sizeof o, "%s/stdout", dir);
        snprintf(e, sizeof e, "%s/stderr", dir);
        setenv("OMP_NUM_THREADS", "2", 1); /* the same pace on machines with more cores */
        if (!freopen(o, "w", stdout) || !freopen(e, "w", stderr) ||
            !freopen("/dev/null", "r", stdin))
            _exit(99);
        execv(TCGPU_BIN, args);
        _exit(98);
    }
    return pid;
}

/* Sends sig after `after` seconds; returns the exit status and the seconds from signal to exit
 * (killed at 10 s). */
static int signal_and_wait(pid_t pid, int sig, double after, double *took) {
    nap(after);
    kill(pid, sig);
    double t0 = now();
    int st = 0;
    while (waitpid(pid, &st, WNOHANG) != pid) {
        if (now() - t0 > 10) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        nap(0.005);
    }
    *took = now() - t0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int count_matching(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

static void cleanup(const char *dir) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* A model file that never arrives: a FIFO whose writer (when there is one) writes nothing. */
static void reading_is_interrupted(int sig, int with_writer) {
    char dir[] = "/tmp/tcgpu_sig_XXXXXX", fifo[128], out[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/model.fifo", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    pid_t writer = 0;
    if (with_writer && (writer = fork()) == 0) {
        int fd = open(fifo, O_WRONLY);
        nap(30);
        _exit(fd < 0);
    }
    char *args[] = {"tcgpu",  "run", "--model", "mlz", "--file", fifo,
                    "--beta", "1",   "--out",   out,   NULL};
    pid_t pid = start(dir, args);
    double took;
    int status = signal_and_wait(pid, sig, 0.5, &took);
    if (writer) {
        kill(writer, SIGKILL);
        waitpid(writer, NULL, 0);
    }
    cr_expect_eq(status, 130, "exit %d after signal %d while reading the model", status, sig);
    cr_expect_lt(took, 1.0, "%.2f s from the signal to the exit", took);
    struct stat sb;
    cr_expect_neq(stat(out, &sb), 0, "no output folder for a run stopped before it began");
    cleanup(dir);
}

Test(signals, sigterm_while_reading_the_model_file) { reading_is_interrupted(SIGTERM, 1); }
Test(signals, sigint_while_opening_the_model_file) { reading_is_interrupted(SIGINT, 0); }

static void read_prob(const char *dir, double **p, hsize_t *n) {
    char path[256];
    snprintf(path, sizeof path, "%s/dist.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "%s", path);
    hid_t d = H5Dopen2(f, "prob", H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t dims[2];
    H5Sget_simple_extent_dims(s, dims, NULL);
    *n = dims[0] * dims[1];
    *p = malloc(*n * sizeof **p + 1);
    cr_assert_geq(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *p), 0);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
}

/* The grid of the two tests below: 4000 Landau-Zener sweeps, ~3 s on 2 cores, so that the
 * signal (0.8 s in) and the kill (after the first progress record, 1 s in) land mid-run; with
 * 1000 the run had come down to 0.83 s and sometimes ended first. */
Test(signals, sigterm_during_the_sweeps_leaves_a_resumable_run) {
    char dir[] = "/tmp/tcgpu_sig_XXXXXX", a[128], b[128], cmd[512];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    char *args[] = {"tcgpu", "run", "--model", "lz", "--beta", "1:2:4000", "--out", a, NULL};
    pid_t pid = start(dir, args);
    double took;
    int status = signal_and_wait(pid, SIGTERM, 0.8, &took);
    cr_expect_eq(status, 130, "exit %d after SIGTERM during the sweeps", status);
    cr_expect_lt(took, 1.0, "%.2f s from the signal to the exit", took);
    cr_expect_eq(count_matching(a, ".tmp."), 0, "no temporary file survives the signal");
    cr_expect_eq(count_matching(a, "run.json"), 1);
    snprintf(cmd, sizeof cmd, "%s run --resume %s >/dev/null 2>&1", TCGPU_BIN, a);
    cr_expect_eq(system(cmd), 0, "the interrupted run resumes");
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=2 %s run --model lz --beta 1:2:4000 --out %s >/dev/null 2>&1",
             TCGPU_BIN, b);
    cr_expect_eq(system(cmd), 0);
    double *pa, *pb;
    hsize_t na, nb;
    read_prob(a, &pa, &na);
    read_prob(b, &pb, &nb);
    cr_expect_eq(na, nb);
    cr_expect(na == nb && !memcmp(pa, pb, na * sizeof *pa),
              "resumed and uninterrupted runs agree to the bit");
    free(pa);
    free(pb);
    cleanup(dir);
}

static cJSON *read_record(const char *dir) {
    static char text[1 << 20]; /* run.json lists every rate: 80 kB for 4000 */
    char path[256];
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    return cJSON_Parse(text);
}

static double timing(const cJSON *record, const char *name) {
    cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(record, "timings"), name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* SIGKILL cannot be caught: what makes such a run resumable is run.json, written before the
 * first sweep and again, at most once a second, as sweeps finish; the tables it had under
 * temporary names are dropped and redone. The kill comes once the record shows progress. */
Test(signals, sigkill_leaves_a_run_that_resumes_to_the_uninterrupted_tables) {
    char dir[] = "/tmp/tcgpu_sig_XXXXXX", a[128], b[128], cmd[512];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    char *args[] = {"tcgpu", "run", "--model", "lz", "--beta", "1:2:4000", "--out", a, NULL};
    pid_t pid = start(dir, args);
    double t0 = now(), seen = 0;
    while (now() - t0 < 10 && seen <= 0) { /* the record rewritten with sweeps done */
        nap(0.02);
        cJSON *r = read_record(a);
        seen = r ? timing(r, "sweeps_done") : 0;
        cJSON_Delete(r);
    }
    /* dead but not reaped until the resume is done: kill(pid, 0) still finds such a process,
     * and its temporary files must go all the same */
    kill(pid, SIGKILL);
    siginfo_t info = {0};
    cr_assert_eq(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
    cr_assert(info.si_code == CLD_KILLED && info.si_status == SIGKILL,
              "the run ended (code %d, status %d) before the kill", info.si_code, info.si_status);
    cJSON *r = read_record(a);
    cr_assert_not_null(r, "run.json parses after the kill");
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(r, "completed")), "completed: false");
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(r, "interrupted")), "no signal was caught");
    double done = timing(r, "sweeps_done"), total = timing(r, "sweeps_total");
    cr_expect(done > 0 && done < total, "%g of %g sweeps recorded as done before the kill", done,
              total);
    cr_expect_gt(timing(r, "wall_seconds"), 0.9, "the first progress record comes after 1 s");
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(r, "updated_utc")));
    cJSON_Delete(r);
    snprintf(cmd, sizeof cmd, "%s run --resume %s >/dev/null 2>&1", TCGPU_BIN, a);
    cr_expect_eq(system(cmd), 0, "the killed run resumes");
    cr_expect_eq(count_matching(a, ".tmp."), 0, "the killed run's temporary files are gone");
    waitpid(pid, NULL, 0);
    r = read_record(a);
    cr_expect(r && cJSON_IsTrue(cJSON_GetObjectItem(r, "completed")), "the resumed run completed");
    cr_expect_eq(timing(r, "sweeps_done"), 4000);
    cJSON_Delete(r);
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=2 %s run --model lz --beta 1:2:4000 --out %s >/dev/null 2>&1",
             TCGPU_BIN, b);
    cr_expect_eq(system(cmd), 0);
    double *pa, *pb;
    hsize_t na, nb;
    read_prob(a, &pa, &na);
    read_prob(b, &pb, &nb);
    cr_expect(na == nb && !memcmp(pa, pb, na * sizeof *pa),
              "resumed and uninterrupted runs agree to the bit");
    free(pa);
    free(pb);
    cleanup(dir);
}

/* The dense start and readout (an eigen-decomposition of every state, and products as large,
 * seconds each at a few thousand states; LAPACK and BLAS cannot be interrupted) run on a helper
 * thread that a stop leaves behind: a 2000-state model (not a chain: couplings to the next two
 * states, so that its readout is dense) signalled while it sets up, at three moments. */
Test(signals, sigterm_during_the_dense_frames_of_a_large_model) {
    char dir[] = "/tmp/tcgpu_sig_XXXXXX", model[128], out[128], err[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(model, sizeof model, "%s/dense.mlz", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    FILE *f = fopen(model, "w");
    cr_assert_not_null(f);
    enum { D = 2000 };
    fprintf(f, "states %d\n", D);
    for (int i = 0; i < D; ++i) /* slopes -3..3 (no 0), so that every crossing is passed */
        fprintf(f, "slope %d %g\n", i, i % 7 == 3 ? 0.5 : (double)(i % 7 - 3));
    for (int i = 0; i + 1 < D; ++i)
        fprintf(f, "coupling %d %d 0.3\n", i, i + 1);
    for (int i = 0; i + 2 < D; ++i)
        fprintf(f, "coupling %d %d 0.1\n", i, i + 2);
    fclose(f);
    static const double at[] = {0.6, 1.5, 2.6};
    for (size_t k = 0; k < sizeof at / sizeof *at; ++k) {
        char *args[] = {"tcgpu",  "run", "--model", "mlz", "--file", model,
                        "--beta", "1",   "--out",   out,   NULL};
        pid_t pid = start(dir, args);
        double took;
        int status = signal_and_wait(pid, SIGTERM, at[k], &took);
        cr_expect_eq(status, 130, "exit %d after SIGTERM at %g s", status, at[k]);
        cr_expect_lt(took, 1.0, "%.2f s from the signal at %g s to the exit", took, at[k]);
        cr_expect_eq(count_matching(out, ".tmp."), 0, "no temporary file survives the signal");
        char text[4096] = "";
        FILE *e = fopen(err, "r");
        size_t n = e ? fread(text, 1, sizeof text - 1, e) : 0;
        text[n] = '\0';
        if (e)
            fclose(e);
        int lines = 0;
        for (char *c = text; *c; ++c)
            lines += *c == '\n';
        cr_expect(lines == 1 && strstr(text, "interrupted"), "one line on stderr: %s", text);
        cJSON *r = read_record(out);
        cr_expect(r && cJSON_IsFalse(cJSON_GetObjectItem(r, "completed")) &&
                      cJSON_IsTrue(cJSON_GetObjectItem(r, "interrupted")),
                  "run.json says interrupted, not completed");
        cJSON_Delete(r);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", out);
        cr_expect_eq(system(cmd), 0);
    }
    cleanup(dir);
}
