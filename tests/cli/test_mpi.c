/* `mpirun -np R tcgpu run`: the ranks share the sweeps, and the files are the ones a single
 * process writes, bit for bit; a run stopped by a signal or by a dead rank keeps its finished
 * sweeps and any number of ranks finishes it; a folder that a live run writes is refused. */
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "test_common.h"

#ifndef TCGPU_MPIRUN
#define TCGPU_MPIRUN ""
#endif

/* 24 sweeps of 45 states (N = 8, two channels) whose costs differ >= 10x in coupling
 * applications (deterministic, unlike seconds); about 3 s on one core (N = 5 at tol 1e-5 had
 * become 0.6 s, and a kill once row 2 was out could land after the last sweep: no line of
 * ours). The costly sweeps come last, so a signal sent once row 2 is out lands mid-grid. */
#define GRID "run --N 8 --tol 1e-6 --beta 0.05:100:24:log"
#define NSWEEP 24

/* OpenMPI as root (CI) and in containers that forbid its cross-process memory copies. */
#define MPIRUN                                                                                     \
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "                                   \
    "OMPI_MCA_btl_vader_single_copy_mechanism=none " TCGPU_MPIRUN                                  \
    " -q --oversubscribe --allow-run-as-root"

/* The children of process $1 (the ranks mpirun started), from /proc: no procps needed. */
#define KIDS                                                                                       \
    "kids() { for s in /proc/[0-9]*/stat; do read -r c n x pp r 2>/dev/null <$s && "               \
    "[ \"$pp\" = \"$1\" ] && echo $c; done; }; "

static void need_mpi(void) {
    if (!TCGPU_MPIRUN[0])
        cr_skip_test("this build has no MPI (FindMPI found none, or -DTCGPU_MPI=OFF): "
                     "apt-get install libopenmpi-dev openmpi-bin and reconfigure");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --version 2>&1 | grep -Eq 'Open MPI|OpenRTE'", TCGPU_MPIRUN);
    if (system(cmd) != 0)
        cr_skip_test("%s is not OpenMPI's (this test uses its --oversubscribe and -q)",
                     TCGPU_MPIRUN);
}

/* Runs a shell command built like printf; returns its exit status. */
static int sh(const char *fmt, ...) {
    static char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    char *buf = xcalloc(1 << 20, 1);
    size_t n = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

/* Lines of tcgpu's own (MPI libraries may add warnings of theirs on some machines). */
static int tcgpu_lines(const char *s) {
    int n = 0;
    for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += !strncmp(p, "tcgpu ", 6);
    return n;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; ++s)
        n += *s == '\n';
    return n;
}

/* summary.csv without its `seconds` field, the one column a second run may change. */
static char *summary_sans_seconds(const char *dir) {
    char *csv = slurp(dir, "summary.csv");
    int col = -1, c = 0;
    for (const char *p = csv; *p && *p != '\n'; ++p)
        if (p == csv || p[-1] == ',') {
            if (!strncmp(p, "seconds,", 8))
                col = c;
            ++c;
        }
    cr_assert_geq(col, 0, "summary.csv in %s has a seconds column", dir);
    char *w = csv;
    for (char *r = csv; *r;) {
        for (int f = 0; *r && *r != '\n'; ++r) {
            f += *r == ','; /* the comma before a field belongs to it */
            if (f != col)
                *w++ = *r;
        }
        if (*r)
            *w++ = *r++;
    }
    *w = '\0';
    return csv;
}

/* A dataset of dir/dist.h5, whole, as bytes (its element count in *n). */
static double *h5_doubles(const char *dir, const char *name, size_t *n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/dist.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "%s opens", path);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    cr_assert_geq(d, 0, "%s holds %s", path, name);
    hid_t s = H5Dget_space(d);
    hssize_t count = H5Sget_simple_extent_npoints(s);
    double *v = xcalloc((size_t)count + 1, sizeof *v);
    cr_assert_geq(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    *n = (size_t)count;
    return v;
}

/* Every table of dir equals ref's: summary.csv but for seconds, and dist.h5's probabilities,
 * exact distributions and parameters to the last bit. */
static void expect_same_tables(const char *ref, const char *dir) {
    char *a = summary_sans_seconds(ref), *b = summary_sans_seconds(dir);
    cr_expect_eq(count_lines(a), 1 + NSWEEP, "%s: header and %d rows", ref, NSWEEP);
    cr_expect_str_eq(b, a, "%s/summary.csv equals the one-process run's", dir);
    free(a);
    free(b);
    const char *sets[] = {"prob", "exact", "sweep", "beta", "g", "eps", "err_estimate"};
    for (size_t k = 0; k < sizeof sets / sizeof *sets; ++k) {
        size_t na, nb;
        double *x = h5_doubles(ref, sets[k], &na), *y = h5_doubles(dir, sets[k], &nb);
        cr_expect_eq(nb, na, "%s/dist.h5 %s: %zu values, expected %zu", dir, sets[k], nb, na);
        cr_expect(na == nb && !memcmp(x, y, na * sizeof *x),
                  "%s/dist.h5 %s equals the one-process run's bit for bit", dir, sets[k]);
        free(x);
        free(y);
    }
}

static cJSON *record(const char *dir) {
    char *text = slurp(dir, "run.json");
    cJSON *j = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(j, "%s/run.json parses", dir);
    return j;
}

/* run.json's per-rank lists: each of the sweeps not kept from an earlier run computed exactly
 * once, by one of `ranks` ranks. Returns how many sweeps the ranks computed. */
static int expect_each_sweep_once(const char *dir, int ranks, const int *kept) {
    cJSON *j = record(dir), *m = cJSON_GetObjectItem(j, "mpi");
    cr_assert_not_null(m, "%s/run.json has an mpi section", dir);
    cr_expect_eq(cJSON_GetObjectItem(m, "ranks")->valueint, ranks);
    int seen[NSWEEP] = {0}, total = 0;
    cJSON *per = cJSON_GetObjectItem(m, "per_rank"), *e;
    cr_expect_eq(cJSON_GetArraySize(per), ranks);
    cJSON_ArrayForEach(e, per) {
        cJSON *s, *list = cJSON_GetObjectItem(e, "sweeps");
        cr_expect_gt(strlen(cJSON_GetObjectItem(e, "host")->valuestring), 0, "a host name");
        cr_expect(cJSON_IsString(cJSON_GetObjectItem(e, "device")), "the rank's device");
        cJSON_ArrayForEach(s, list) {
            int i = s->valueint;
            cr_assert(i >= 0 && i < NSWEEP, "sweep %d in range", i);
            ++seen[i];
            ++total;
        }
    }
    for (int i = 0; i < NSWEEP; ++i)
        cr_expect_eq(seen[i], kept && kept[i] ? 0 : 1, "sweep %d computed %d times", i, seen[i]);
    cJSON_Delete(j);
    return total;
}

/* Rows of summary.csv as kept flags (sweep index -> 1). */
static void rows_kept(const char *dir, int *kept) {
    char *csv = slurp(dir, "summary.csv");
    for (const char *p = strchr(csv, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
        kept[atoi(p + 1)] = 1;
    free(csv);
}

Test(mpi_run, three_ranks_write_the_one_process_tables_and_resume_with_any_ranks) {
    need_mpi();
    char dir[] = "/tmp/tcgpu_mpi_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char ref[600], path[600];
    snprintf(ref, sizeof ref, "%s/ref", dir);
    cr_assert_eq(
        sh("cd %s && OMP_NUM_THREADS=1 %s " GRID " --out ref >/dev/null 2>&1", dir, TCGPU_BIN), 0,
        "the one-process run");
    char *csv = slurp(ref, "summary.csv");
    double lo = 1e300, hi = 0;
    for (const char *p = strchr(csv, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        const char *last = strchr(p + 1, '\n');
        while (last > p + 1 && last[-1] != ',')
            --last;
        double apps = atof(last);
        lo = apps < lo ? apps : lo;
        hi = apps > hi ? apps : hi;
    }
    free(csv);
    cr_expect_geq(hi / lo, 10, "the grid's sweep costs differ >= 10x (%g to %g applications)", lo,
                  hi);

    /* Three ranks, one set of tables. */
    cr_expect_eq(
        sh("cd %s && %s -np 3 %s " GRID " --out all >all.out 2>all.err", dir, MPIRUN, TCGPU_BIN),
        0);
    snprintf(path, sizeof path, "%s/all", dir);
    expect_same_tables(ref, path);
    cr_expect_eq(expect_each_sweep_once(path, 3, NULL), NSWEEP);

    /* SIGTERM to every rank (as scancel sends it) once row 2 is out: exit 130, the finished
     * sweeps kept; two ranks finish the run. */
    cr_assert_eq(sh("cd %s && " KIDS "(%s -np 3 %s " GRID " --out int >int.out 2>int.err & "
                    "p=$!; n=0; while ! grep -qs '^ *2 ' int.out && [ $n -lt 600 ]; do sleep 0.05; "
                    "n=$((n+1)); done; kill -TERM $(kids $p); wait $p; echo $? >int.status)",
                    dir, MPIRUN, TCGPU_BIN),
                 0);
    snprintf(path, sizeof path, "%s/int", dir);
    char *st = slurp(dir, "int.status"), *err = slurp(dir, "int.err");
    cr_expect_eq(atoi(st), 130, "interrupted 3-rank run: exit %s", st);
    cr_expect_eq(tcgpu_lines(err), 1, "one line of tcgpu's on stderr: %s", err);
    cr_expect_not_null(strstr(err, "interrupted"), "%s", err);
    free(st);
    free(err);
    int kept[NSWEEP] = {0}, nkept = 0;
    rows_kept(path, kept);
    for (int i = 0; i < NSWEEP; ++i)
        nkept += kept[i];
    cr_expect(nkept > 0 && nkept < NSWEEP, "the signal landed mid-grid (%d sweeps kept)", nkept);
    cr_expect_eq(sh("%s -np 2 %s run --resume %s >/dev/null 2>&1", MPIRUN, TCGPU_BIN, path), 0);
    expect_same_tables(ref, path);
    expect_each_sweep_once(path, 2, kept);
    cJSON *j = record(path);
    cr_expect_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "timings"), "sweeps_restored")->valueint, nkept);
    cJSON_Delete(j);

    /* SIGKILL to rank 1 mid-run: the job ends non-zero within 30 s with one line of ours, and a
     * single process finishes the run. mpirun gives the survivors 1 s between its SIGTERM and
     * its SIGKILL by default; on a loaded machine rank 0 sometimes did not print its line
     * within it (stderr empty, 1 run in 4 beside a 2-thread sweep), so this run has 5 s (with
     * 20 s the job ended 38 s after the kill: past the grace, rank 0 waits out the dead rank's
     * 20 s beat, docs/mpi.md). */
    cr_assert_eq(
        sh("cd %s && " KIDS "(%s --mca odls_base_sigkill_timeout 5 -np 3 %s " GRID
           " --out kill >kill.out 2>kill.err & p=$!; "
           "n=0; while ! grep -qs '^ *2 ' kill.out && [ $n -lt 600 ]; do sleep 0.05; "
           "n=$((n+1)); done; for c in $(kids $p); do tr '\\0' '\\n' </proc/$c/environ | "
           "grep -qx OMPI_COMM_WORLD_RANK=1 && kill -KILL $c; done; t=$(date +%%s); wait $p; "
           "echo $? $(( $(date +%%s) - t )) >kill.status)",
           dir, MPIRUN, TCGPU_BIN),
        0);
    st = slurp(dir, "kill.status");
    err = slurp(dir, "kill.err");
    int status = -1, seconds = -1;
    cr_expect_eq(sscanf(st, "%d %d", &status, &seconds), 2);
    cr_expect_neq(status, 0, "a dead rank fails the job");
    cr_expect_leq(seconds, 30, "the job ended %d s after the kill", seconds);
    cr_expect_eq(tcgpu_lines(err), 1, "one line of tcgpu's on stderr: %s", err);
    free(st);
    free(err);
    snprintf(path, sizeof path, "%s/kill", dir);
    cr_expect_eq(sh("%s run --resume %s >/dev/null 2>&1", TCGPU_BIN, path), 0);
    expect_same_tables(ref, path);
    cr_expect_eq(sh("rm -rf %s", dir), 0);
}

Test(mpi_run, more_ranks_than_sweeps_gets_one_line_and_exit_2) {
    need_mpi();
    char dir[] = "/tmp/tcgpu_mpi_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cr_expect_eq(sh("cd %s && %s -np 3 %s run --N 4 --beta 1,2 --out res >out 2>err", dir, MPIRUN,
                    TCGPU_BIN),
                 2);
    char *err = slurp(dir, "err"), *out = slurp(dir, "out");
    cr_expect_eq(tcgpu_lines(err), 1, "one line of tcgpu's: %s", err);
    cr_expect_not_null(strstr(err, "3 MPI ranks for 2 sweeps"), "%s", err);
    cr_expect_str_empty(out);
    free(err);
    free(out);
    cr_expect_neq(sh("test -e %s/res", dir), 0, "no folder for a refused run");
    cr_expect_eq(sh("rm -rf %s", dir), 0);
}

/* Needs no MPI: the lock guards every run's folder. The live run: 64 sweeps (eps = 0.1, each
 * 0.1-1 s on one thread; one sweep alone could end before both tries had run, and did once
 * beside other jobs), tried while its lock file exists, then interrupted (it stops within
 * milliseconds). */
Test(run_lock, a_folder_a_live_run_writes_is_refused_with_exit_2) {
    char dir[] = "/tmp/tcgpu_lock_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(sh("cd %s && (OMP_NUM_THREADS=1 %s run --N 10 --beta 1:10:64 --eps 0.1 --out res "
                    ">out 2>err & p=$!; n=0; while [ ! -e res/.tcgpu-run.lock ] && [ $n -lt 600 "
                    "]; do sleep 0.02; n=$((n+1)); done; %s run --resume res >r.out 2>r.err; echo "
                    "$? >r.status; %s run --N 3 --out res >n.out 2>n.err; echo $? >n.status; kill "
                    "-INT $p; wait $p; echo $? >status)",
                    dir, TCGPU_BIN, TCGPU_BIN, TCGPU_BIN),
                 0);
    const char *tries[] = {"r", "n"};
    for (int k = 0; k < 2; ++k) {
        char name[16];
        snprintf(name, sizeof name, "%s.status", tries[k]);
        char *st = slurp(dir, name);
        snprintf(name, sizeof name, "%s.err", tries[k]);
        char *err = slurp(dir, name);
        cr_expect_eq(atoi(st), 2, "%s: exit %s", tries[k], st);
        cr_expect_eq(count_lines(err), 1, "one line: %s", err);
        cr_expect_not_null(strstr(err, "being written by a live tcgpu run"), "%s", err);
        free(st);
        free(err);
    }
    char *st = slurp(dir, "status");
    cr_expect_eq(atoi(st), 130, "the live run went on to its own interruption: %s", st);
    free(st);
    cr_expect_eq(sh("cd %s && %s run --N 3 --beta 1 --out res >/dev/null 2>&1", dir, TCGPU_BIN), 0,
                 "once it ended, the folder is free again (no stale lock)");
    cr_expect_eq(sh("test -e %s/res/.tcgpu-run.lock", dir), 1, "the lock file went with its run");
    cr_expect_eq(sh("rm -rf %s", dir), 0);
}

/* `mpirun tcgpu validate`: the simulated sweeps of each check go out over the ranks, and the
 * data behind the figures equals a one-process campaign's, byte for byte. */
Test(mpi_validate, three_ranks_write_the_one_process_figure_data) {
    need_mpi();
    char dir[] = "/tmp/tcgpu_mpiv_XXXXXX", one[600], three[600];
    cr_assert_not_null(mkdtemp(dir));
    const char *job = "validate --quick --only fig3sim,heff";
    cr_assert_eq(
        sh("cd %s && OMP_NUM_THREADS=1 %s %s --out one >/dev/null 2>&1", dir, TCGPU_BIN, job), 0);
    cr_assert_eq(
        sh("cd %s && %s -np 3 %s %s --out three >/dev/null 2>&1", dir, MPIRUN, TCGPU_BIN, job), 0);
    snprintf(one, sizeof one, "%s/one", dir);
    snprintf(three, sizeof three, "%s/three", dir);
    const char *data[] = {"fig3_sim.csv", "fig7.csv", "fig8.csv"};
    for (int k = 0; k < 3; ++k) {
        char *a = slurp(one, data[k]), *b = slurp(three, data[k]);
        cr_expect_gt(strlen(a), 0, "%s written", data[k]);
        cr_expect_str_eq(b, a, "%s equals the one-process campaign's", data[k]);
        free(a);
        free(b);
    }
    cJSON *j = record(three), *m = cJSON_GetObjectItem(j, "mpi"), *e;
    cr_assert_not_null(m, "run.json names the ranks");
    int ranks_busy = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(m, "per_rank")) {
        ranks_busy += cJSON_GetObjectItem(e, "sweeps_done")->valueint > 0;
    }
    cr_expect_geq(ranks_busy, 2, "the sweeps were shared out (%d ranks computed some)", ranks_busy);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "all_passed")));
    cJSON_Delete(j);
    cr_expect_eq(sh("rm -rf %s", dir), 0);
}
