/* The bad-input catalogue: every way a hostile or careless user has found to misuse tcgpu (issue
 * 17) and then some, as a table. Each case must be refused as bad input: exit status 2, one to
 * three lines on stderr, within 5 s, and nothing left behind (the working folder stays empty,
 * the fixture folders keep every file as it was: no output, no temporary, no probe).
 *
 * A case is one string: the arguments separated by '|' (so that '', ' 3' and '3 ' can be
 * written), with @W the empty working folder, @F the fixture folder and @L a 5000-character
 * path. Model-file cases name a file the test writes into @F. */
#include <dirent.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcgpu/model.h"
#include "test_common.h"

static char base[] = "/tmp/tcgpu_catalogue_XXXXXX";
static char work[64], fix[64], io[64], longpath[5100];

/* ---- the table ---------------------------------------------------------------------------- */

static const char *const cases[] = {
    /* the command itself */
    "",
    "bogus",
    "exact|stray",
    "run|stray",
    "validate|stray",
    "info|--bogus",
    "info|stray",
    "exact|--bogus|1",
    "exact|--N",
    "exact|--N|3|--N|4",
    "exact|--help=1",
    "exact|-N|3",
    "run|--dist-csv=yes",
    /* exact: models, tables and options that do not go together */
    "exact|--model|bogus",
    "exact|--model|mlz",
    "exact|--what|bogus",
    "exact|--model|lz|--N|3",
    "exact|--model|lz|--channels|2",
    "exact|--model|lz|--levels|1",
    "exact|--model|lz|--what|moments",
    "exact|--model|do|--N|3",
    "exact|--model|do|--what|total",
    "exact|--model|heff|--channels|3",
    "exact|--model|heff|--levels|1,2",
    "exact|--model|heff|--what|phases",
    "exact|--what|critical|--beta|1",
    "exact|--what|phases|--channels|2",
    "exact|--what|asymptotic|--channels|3",
    "exact|--what|critical|--N|0",
    "exact|--channels|0",
    "exact|--channels|99",
    "exact|--channels|2.5",
    "exact|--N|-1",
    "exact|--N|1e30",
    "exact|--N|100000000000|--channels|1|--what|dist",
    "exact|--levels|1,1",
    "exact|--levels|1",
    "exact|--levels|1,2,3",
    "exact|--levels|0:1:2",
    /* exact: grids (unbounded ones included) */
    "exact|--N|3|--beta|1:2:100000000",
    "exact|--N|3|--beta|1:2:1000000|--g|1:2:200",
    "exact|--beta|1:10:0",
    "exact|--beta|1:10:-5",
    "exact|--beta|1:10:2.5",
    "exact|--beta|-1:10:5:log",
    "exact|--beta|0:10:5:log",
    "exact|--beta|1:2:3:cube",
    "exact|--beta|1:2:3:log:x",
    "exact|--beta|1:2",
    "exact|--beta|:2:3",
    "exact|--beta|0",
    "exact|--beta|-2",
    "exact|--beta|1,",
    "exact|--beta|,1",
    "exact|--g|0",
    "exact|--g|-1",
    "exact|--g|1,0",
    /* exact: output locations, checked before anything is computed */
    "exact|--N|3|--out|@W",
    "exact|--N|3|--out|@F",
    "exact|--N|3|--out|/proc/tcgpu.csv",
    "exact|--N|3|--out|/proc/self",
    "exact|--N|3|--out|/nonexistent-dir/x.csv",
    "exact|--N|3|--out|@W/missing/x.csv",
    "exact|--N|3|--out|",
    "exact|--N|3|--out|@L",
    "exact|--N|3|--out|/dev/null",
    "exact|--N|3|--out|@F/notadir/x.csv",
    /* run: models and options */
    "run|--model|bogus|--out|@W/o",
    "run|--model|mlz|--out|@W/o",
    "run|--file|@F/ok.mlz|--out|@W/o",
    "run|--method|bogus|--out|@W/o",
    "run|--precision|bogus|--out|@W/o",
    "run|--precision|single|--tol|1e-6|--out|@W/o",
    "run|--backend|bogus|--out|@W/o",
    "run|--backend|gpu|--beta|1|--out|@W/o",
    "run|--batch|0|--out|@W/o",
    "run|--cuda-path|bogus|--out|@W/o",
    "run|--coupling|bogus|--out|@W/o",
    "run|--cuda-path|cusparse|--precision|single|--tol|1e-3|--out|@W/o",
    "run|--grid|bogus|--out|@W/o",
    "run|--grid|zip|--beta|1,2|--g|1,2,3|--out|@W/o",
    "run|--max-halvings|0|--out|@W/o",
    "run|--max-halvings|31|--out|@W/o",
    "run|--N|-1|--out|@W/o",
    "run|--channels|0|--out|@W/o",
    "run|--channels|9|--out|@W/o",
    "run|--N|1000|--channels|4|--out|@W/o",
    "run|--levels|1,2,3|--out|@W/o",
    "run|--levels|1,1|--out|@W/o",
    "run|--eps|0.1|--levels|1,2|--N|2|--beta|1|--out|@W/o",
    "run|--model|heff|--levels|1,2|--N|2|--beta|1|--out|@W/o",
    "run|--model|lz|--levels|1,2|--beta|1|--out|@W/o",
    /* run: ranges the propagation serves, refused with the accepted range */
    "run|--model|lz|--beta|1|--T|1e300|--out|@W/o",
    "run|--model|lz|--beta|1|--T|1e-300|--out|@W/o",
    "run|--model|lz|--beta|1|--dt|1e-300|--out|@W/o",
    "run|--model|lz|--beta|1|--dt|1e300|--out|@W/o",
    "run|--model|lz|--beta|1|--tol|1e-300|--out|@W/o",
    "run|--model|lz|--beta|1|--tol|0.9|--out|@W/o",
    "run|--model|lz|--beta|1|--tol|0|--out|@W/o",
    "run|--model|lz|--beta|1e300|--out|@W/o",
    "run|--model|lz|--beta|1e-300|--out|@W/o",
    "run|--model|lz|--g|1e300|--beta|1|--out|@W/o",
    "run|--N|2|--eps|1e-300|--beta|1|--out|@W/o",
    "run|--N|2|--levels|1e300,0|--beta|1|--out|@W/o",
    /* run: unbounded grids */
    "run|--N|2|--beta|1:2:100000000|--out|@W/o",
    "run|--N|2|--beta|1:2:200000|--out|@W/o",
    "run|--N|2|--beta|1:2:1000|--g|1:2:1000|--out|@W/o",
    "run|--N|2|--beta|1:2:100|--g|1:2:100|--eps|1:2:100|--out|@W/o",
    /* run: output locations */
    "run|--model|lz|--beta|1|--out|/proc/tcgpu",
    "run|--model|lz|--beta|1|--out|/proc",
    "run|--model|lz|--beta|1|--out|/nonexistent-dir/x",
    "run|--model|lz|--beta|1|--out|@W/missing/x",
    "run|--model|lz|--beta|1|--out|",
    "run|--model|lz|--beta|1|--out|@L",
    "run|--model|lz|--beta|1|--out|@F/ok.mlz",
    "run|--model|lz|--beta|1|--out|@F/ok.mlz/x",
    /* run --resume: folders that are not one interrupted run */
    "run|--resume|@W/none",
    "run|--resume|@F/ok.mlz",
    "run|--resume|",
    "run|--resume|@F/r_ok|--beta|1",
    "run|--resume|@F/r_ok|--out|@W/o",
    "run|--resume|@F/r_nojson",
    "run|--resume|@F/r_garbage",
    "run|--resume|@F/r_emptyjson",
    "run|--resume|@F/r_noargs",
    "run|--resume|@F/r_argnum",
    "run|--resume|@F/r_selfresume",
    "run|--resume|@F/r_badarg",
    "run|--resume|@F/r_tol",
    "run|--resume|@F/r_method",
    "run|--resume|@F/r_beta",
    "run|--resume|@F/r_noparams",
    "run|--resume|@F/r_header",
    "run|--resume|@F/r_nanrow",
    "run|--resume|@F/r_infrow",
    "run|--resume|@F/r_cut",
    "run|--resume|@F/r_extra",
    "run|--resume|@F/r_sweepidx",
    "run|--resume|@F/r_noh5",
    "run|--resume|@F/r_h5cut",
    "run|--resume|@F/r_h5garbage",
    "run|--resume|@F/r_otherh5",
    "run|--resume|@F/r_nanprob",
    /* validate */
    "validate|--only|",
    "validate|--only|,",
    "validate|--only|fig3,",
    "validate|--only|,fig3",
    "validate|--only|fig3,,betac",
    "validate|--only|bogus",
    "validate|--N1|5",
    "validate|--N2|301",
    "validate|--out|@F/ok.mlz",
    "validate|--out|/proc/tcgpu",
    "validate|--out|",
    "validate|--out|@L",
    "validate|--out|@W/a'b",
    "validate|--out|/nonexistent-dir/v",
    "validate|--bogus",
};

/* Numbers every flag below must refuse: not decimal, not whole, not finite, not there. */
static const char *const bad_numbers[] = {
    "", "abc", "0x10", " 3", "3 ", "nan", "inf", "1e400", "1e-400", "3x", "1,,2",
};

/* Command and flag (with what else the command needs to reach that flag) for the numbers. */
static const char *const number_flags[] = {
    "exact|--N",
    "exact|--channels",
    "exact|--g",
    "exact|--beta",
    "exact|--levels",
    "run|--out|@W/o|--N",
    "run|--out|@W/o|--channels",
    "run|--out|@W/o|--g",
    "run|--out|@W/o|--beta",
    "run|--out|@W/o|--eps",
    "run|--out|@W/o|--levels",
    "run|--out|@W/o|--tol",
    "run|--out|@W/o|--T",
    "run|--out|@W/o|--dt",
    "run|--out|@W/o|--max-halvings",
    "run|--out|@W/o|--batch",
    "validate|--N1",
    "validate|--N2",
};

/* Malformed model files: name and contents (NULL contents: the name is a path to use as is). */
typedef struct {
    const char *name, *text;
    size_t len; /* 0: strlen(text) */
} model_case;

#define BIN(s) s, sizeof(s) - 1

static const model_case models[] = {
    {"empty", "", 0},
    {"comments", "# nothing but a comment\n#states 2\n", 0},
    {"blank", "\n\n   \n\t\n", 0},
    {"binary", BIN("\x7f"
                   "ELF\x02\x01\x01\0\0\0\0")},
    {"nul_in_comment", BIN("states 2 # a\0b\ncoupling 0 1 1\n")},
    {"@/dev/zero", NULL, 0},
    {"@/dev/null", NULL, 0},
    {"@/nonexistent/model.txt", NULL, 0},
    {"@@F", NULL, 0},
    {"states_0", "states 0\n", 0},
    {"states_neg", "states -1\n", 0},
    {"states_frac", "states 3.7\n", 0},
    {"states_exp", "states 1e3\n", 0},
    {"states_plus", "states +2\n", 0},
    {"states_huge", "states 99999999999999999999999\n", 0},
    {"states_over", "states 6001\n", 0},
    {"states_extra", "states 3 3\n", 0},
    {"states_bare", "states\n", 0},
    {"states_twice", "states 2\nstates 2\n", 0},
    {"slope_first", "slope 0 1\nstates 2\n", 0},
    {"start_frac", "states 3\nstart 1.9\n", 0},
    {"start_range", "states 3\nstart 5\n", 0},
    {"start_twice", "states 3\nstart 0\nstart 1\n", 0},
    {"slope_abc", "states 2\nslope 0 1.0abc\n", 0},
    {"slope_missing", "states 2\nslope 0\n", 0},
    {"slope_range", "states 2\nslope 3 1\n", 0},
    {"slope_negidx", "states 2\nslope -1 1\n", 0},
    {"slope_nan", "states 2\nslope 0 nan\n", 0},
    {"slope_inf", "states 2\nslope 0 inf\n", 0},
    {"slope_minf", "states 2\nslope 0 -inf\n", 0},
    {"slope_huge", "states 2\nslope 0 1e300\n", 0},
    {"slope_subnormal", "states 2\nslope 0 1e-310\n", 0},
    {"slope_tiny", "states 2\nslope 0 1e-9\n", 0},
    {"slope_hex", "states 2\nslope 0 0x10\n", 0},
    {"slope_dots", "states 2\nslope 0 1.0.0\n", 0},
    {"slope_signs", "states 2\nslope 0 --1\n", 0},
    {"slope_e", "states 2\nslope 0 1e\n", 0},
    {"slope_dot", "states 2\nslope 0 .\n", 0},
    {"slope_twice", "states 2\nslope 0 1\nslope 0 2\n", 0},
    {"energy_twice", "states 2\nenergy 1 1\nenergy 1 1\n", 0},
    {"energy_junk", "states 2\nenergy 0 1 junk\n", 0},
    {"coupling_junk", "states 2\ncoupling 0 1 1 junk\n", 0},
    {"coupling_self", "states 2\ncoupling 0 0 1\n", 0},
    {"coupling_short", "states 2\ncoupling 0 1\n", 0},
    {"coupling_range", "states 2\ncoupling 0 5 1\n", 0},
    {"coupling_twice", "states 2\ncoupling 0 1 1\ncoupling 0 1 1\n", 0},
    {"coupling_mirror", "states 2\ncoupling 0 1 1\ncoupling 1 0 2\n", 0},
    {"coupling_nan", "states 2\ncoupling 0 1 nan\n", 0},
    {"coupling_huge", "states 2\ncoupling 0 1 1e9\n", 0},
    {"coupling_comma", "states 2\ncoupling 0 1 1,5\n", 0},
    {"coupling_plusminus", "states 2\ncoupling 0 1 +-1\n", 0},
    {"unknown", "states 2\nenergie 0 1\n", 0},
    {"upper", "STATES 2\n", 0},
    {"latin1", "states 2\n\xe9nergie 0 1\n", 0},
    {"bad_utf8", "states 2\n\xff\xfe\xfd\n", 0},
    {"long_line", NULL, 0},  /* written below: 70000 bytes of comment */
    {"long_token", NULL, 0}, /* written below: 100000 letters */
    {"many_words", "states 2\ncoupling 0 1 1 2 3 4 5 6\n", 0},
};

/* ---- running one case --------------------------------------------------------------------- */

/* Names, sizes and modification times under dir, for "nothing changed". */
static void fingerprint(const char *dir, char *out, size_t len) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd %s && find . -printf '%%p %%s %%T@\\n' | sort", dir);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, len - 1, p) : 0;
    out[n] = '\0';
    if (p)
        pclose(p);
}

static int entries_in(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

/* Splits spec at '|' (keeping empty words) and substitutes @W, @F, @L. */
static int words(const char *spec, char **argv, int max) {
    int n = 0;
    const char *s = spec;
    for (;;) {
        size_t len = strcspn(s, "|");
        char w[512];
        snprintf(w, sizeof w, "%.*s", (int)len, s);
        char *v;
        if (!strcmp(w, "@L"))
            v = strdup(longpath);
        else if (!strncmp(w, "@W", 2) || !strncmp(w, "@F", 2)) {
            v = malloc(strlen(w) + 64);
            sprintf(v, "%s%s", w[1] == 'W' ? work : fix, w + 2);
        } else
            v = strdup(w);
        if (n < max - 1)
            argv[n++] = v;
        else
            free(v);
        if (!s[len])
            break;
        s += len + 1;
    }
    argv[n] = NULL;
    return n;
}

typedef struct {
    int total, passed, one_line;
    double slowest;
    char slowest_spec[256];
} tally;

static void slurp(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

static void expect_refused(const char *spec, tally *t) {
    char *argv[64];
    argv[0] = strdup(TCGPU_BIN);
    int argc = *spec ? 1 + words(spec, argv + 1, 63) : 1;
    argv[argc] = NULL;
    static char before[1 << 16], after[1 << 16];
    fingerprint(fix, before, sizeof before);
    char out[128], err[128];
    snprintf(out, sizeof out, "%s/out", io);
    snprintf(err, sizeof err, "%s/err", io);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(work) != 0 || !freopen(out, "w", stdout) || !freopen(err, "w", stderr) ||
            !freopen("/dev/null", "r", stdin))
            _exit(99);
        execv(argv[0], argv);
        _exit(98);
    }
    int st = 0, timed_out = 0;
    for (;;) { /* 5 s, then killed */
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec) > 5) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            timed_out = 1;
            break;
        }
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    for (int i = 0; i < argc; ++i)
        free(argv[i]);
    static char msg[8192];
    slurp(err, msg, sizeof msg);
    int lines = 0;
    for (char *s = msg; *s; ++s)
        lines += *s == '\n';
    int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    int left = entries_in(work);
    fingerprint(fix, after, sizeof after);
    int same = !strcmp(before, after);
    int ok = !timed_out && status == 2 && lines >= 1 && lines <= 3 && left == 0 && same;
    cr_expect(ok,
              "case '%.200s': exit %d (expected 2), %d stderr lines (expected 1-3), %.2f s%s, "
              "%d entries left in the working folder, fixtures %s; stderr: %.300s",
              spec, status, lines, sec, timed_out ? " (killed at 5 s)" : "", left,
              same ? "unchanged" : "CHANGED", msg);
    if (left) { /* clean up for the next case */
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s/* %s/.[!.]*", work, work);
        cr_expect_eq(system(cmd), 0);
    }
    if (getenv("TCGPU_CATALOGUE_SHOW")) /* for reading the messages themselves */
        fprintf(stderr, "[%s] -> %d: %s", spec, status, msg);
    t->total++;
    t->passed += ok;
    t->one_line += ok && lines == 1;
    if (sec > t->slowest) {
        t->slowest = sec;
        snprintf(t->slowest_spec, sizeof t->slowest_spec, "%s", spec);
    }
}

/* ---- fixtures ----------------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text, size_t len) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fwrite(text, 1, len, f);
    fclose(f);
}

static void sh(const char *fmt, const char *a, const char *b) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    cr_assert_eq(system(cmd), 0, "fixture command failed: %s", cmd);
}

/* A run folder r_NAME: a copy of the interrupted two-sweep run, then `edit` (a shell command run
 * inside it). */
static void resume_variant(const char *name, const char *edit) {
    char dir[128], cmd[2048];
    snprintf(dir, sizeof dir, "%s/r_%s", fix, name);
    snprintf(cmd, sizeof cmd, "cp -r %s/r_ok %s && cd %s && { %s; }", fix, dir, dir, edit);
    cr_assert_eq(system(cmd), 0, "fixture %s: %s", name, cmd);
}

static void make_nanprob(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/r_nanprob/dist.h5", fix);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t d = H5Dopen2(f, "prob", H5P_DEFAULT);
    double p[4]; /* two sweeps of lz: 2 x 2 */
    cr_assert_geq(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, p), 0);
    p[1] = NAN;
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, p), 0);
    H5Dclose(d);
    H5Fclose(f);
}

static void setup(void) {
    cr_assert_not_null(mkdtemp(base));
    snprintf(work, sizeof work, "%s/work", base);
    snprintf(fix, sizeof fix, "%s/fix", base);
    snprintf(io, sizeof io, "%s/io", base);
    cr_assert_eq(mkdir(work, 0700), 0);
    cr_assert_eq(mkdir(fix, 0700), 0);
    cr_assert_eq(mkdir(io, 0700), 0);
    size_t n = 0;
    while (n < 5000) /* a path of 5000 characters, made of short names */
        n += (size_t)snprintf(longpath + n, sizeof longpath - n, "%s", n ? "/abcdefghij" : "/tmp");
    write_file(fix, "ok.mlz", "states 2\nslope 0 1\ncoupling 0 1 1\n", 34);
    /* an interrupted run to tamper with: two finished lz sweeps, run.json saying unfinished */
    sh("%s run --model lz --beta 1,2 --out %s/r_ok >/dev/null 2>&1", TCGPU_BIN, fix);
    char d[128];
    snprintf(d, sizeof d, "%s/r_ok", fix);
    sh("sed -i 's/\"completed\":[[:space:]]*true/\"completed\": false/' %s/run.json%s", d, "");
    sh("%s run --model lz --beta 1,2,3 --out %s/other >/dev/null 2>&1", TCGPU_BIN, fix);
    resume_variant("nojson", "rm run.json");
    resume_variant("garbage", "echo 'not json {' > run.json");
    resume_variant("emptyjson", ": > run.json");
    resume_variant("noargs", "echo '{\"completed\": false}' > run.json");
    resume_variant("argnum", "echo '{\"completed\": false, \"arguments\": [1, 2]}' > run.json");
    resume_variant("selfresume",
                   "sed -i 's/\"--model\"/\"--resume\", \"x\", \"--model\"/' run.json");
    resume_variant("badarg", "sed -i 's/\"1,2\"/\"1,x\"/' run.json");
    resume_variant("tol", "sed -i 's/\"--model\"/\"--tol\", \"0.1\", \"--model\"/' run.json");
    resume_variant("method", "sed -i 's/\"--model\"/\"--method\", \"rk4\", \"--model\"/' run.json");
    resume_variant("beta", "sed -i 's/\"1,2\"/\"1,3\"/' run.json");
    resume_variant("noparams", "sed -i 's/\"parameters\"/\"params\"/' run.json");
    resume_variant("header", "sed -i '1s/^sweep/swept/' summary.csv");
    resume_variant("nanrow", "sed -i '2s/,[^,]*,/,nan,/4' summary.csv");
    resume_variant("infrow", "sed -i '3s/,[^,]*$/,inf/' summary.csv");
    resume_variant("cut", "head -c -40 summary.csv > s && mv s summary.csv");
    resume_variant("extra", "tail -n 1 summary.csv >> summary.csv");
    resume_variant("sweepidx", "sed -i '3s/^1,/0,/' summary.csv");
    resume_variant("noh5", "rm dist.h5");
    resume_variant("h5cut", "head -c 3000 dist.h5 > x && mv x dist.h5");
    resume_variant("h5garbage", "echo garbage > dist.h5");
    resume_variant("otherh5", "cp ../other/dist.h5 dist.h5");
    resume_variant("nanprob", "true");
    make_nanprob();
    for (size_t i = 0; i < sizeof models / sizeof *models; ++i) {
        const model_case *m = &models[i];
        char name[96];
        snprintf(name, sizeof name, "m_%s", m->name);
        if (m->name[0] == '@')
            continue;
        if (m->text) {
            write_file(fix, name, m->text, m->len ? m->len : strlen(m->text));
            continue;
        }
        /* long_line: a 100000-byte comment whose tail reads as a directive (a fixed buffer
         * once parsed it); long_token: one 100000-letter word */
        int comment = !strcmp(m->name, "long_line");
        char *big = malloc(100000 + 64);
        cr_assert_not_null(big);
        int k = sprintf(big, comment ? "states 2\ncoupling 0 1 1 # " : "states 2\n");
        memset(big + k, comment ? ' ' : 'a', 100000);
        if (comment)
            memcpy(big + k + 69990, "energy 1 5\n", 11);
        write_file(fix, name, big, (size_t)k + 100000);
        free(big);
    }
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    if (system(cmd) != 0)
        fprintf(stderr, "test_catalogue: could not remove %s\n", base);
}

TestSuite(catalogue, .init = setup, .fini = teardown);

Test(catalogue, every_bad_input_exits_2_with_one_line_and_leaves_nothing) {
    tally t = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i)
        expect_refused(cases[i], &t);
    for (size_t f = 0; f < sizeof number_flags / sizeof *number_flags; ++f)
        for (size_t b = 0; b < sizeof bad_numbers / sizeof *bad_numbers; ++b) {
            char spec[256];
            snprintf(spec, sizeof spec, "%s|%s", number_flags[f], bad_numbers[b]);
            expect_refused(spec, &t);
        }
    int cli = t.total;
    for (size_t i = 0; i < sizeof models / sizeof *models; ++i) {
        const char *n = models[i].name;
        char spec[256];
        if (n[0] == '@')
            snprintf(spec, sizeof spec, "run|--model|mlz|--beta|1|--out|@W/o|--file|%s", n + 1);
        else
            snprintf(spec, sizeof spec, "run|--model|mlz|--beta|1|--out|@W/o|--file|@F/m_%s", n);
        expect_refused(spec, &t);
    }
    fprintf(stderr,
            "test_catalogue: %d cases (%d command lines, %d model files): %d refused as "
            "promised (%d in exactly one line); slowest %.3f s (%s)\n",
            t.total, cli, t.total - cli, t.passed, t.one_line, t.slowest, t.slowest_spec);
    cr_expect_geq(cli, 200, "at least 200 command-line cases");
    cr_expect_geq(t.total - cli, 40, "at least 40 malformed model files");
}

/* ---- controls: the fixtures are valid where they should be, so the refusals above are not
 * an artefact of a broken fixture ---------------------------------------------------------- */

static int run_ok(const char *fmt, const char *a, const char *b) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

Test(catalogue, the_untampered_fixtures_are_accepted) {
    char dir[128], h5[160];
    snprintf(dir, sizeof dir, "%s/r_ok", fix);
    cr_expect_eq(run_ok("%s run --resume %s >/dev/null 2>&1", TCGPU_BIN, dir), 0,
                 "the interrupted run the resume cases tamper with resumes as it is");
    snprintf(dir, sizeof dir, "%s/mlz", work);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s run --model mlz --file %s/ok.mlz --beta 1 --out %%s >/dev/null "
             "2>&1%%s",
             TCGPU_BIN, fix);
    cr_expect_eq(run_ok(cmd, dir, ""), 0, "the model file the cases start from runs");
    /* an mlz run has no exact solution: no /exact and no /tv_exact, rather than NaN */
    snprintf(h5, sizeof h5, "%s/dist.h5", dir);
    hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    cr_expect_eq(H5Lexists(f, "tv_exact", H5P_DEFAULT), 0);
    cr_expect_eq(H5Lexists(f, "exact", H5P_DEFAULT), 0);
    cr_expect_gt(H5Lexists(f, "err_estimate", H5P_DEFAULT), 0);
    H5Fclose(f);
}

/* The reader on files it must accept: a comment of any length up to a line's limit is a
 * comment (a 512-byte buffer once parsed the tail of a long one as a directive), CRLF and tabs
 * separate words, and each quantity lands where the file puts it. */
static tcgpu_status read_model(const char *text, tcgpu_model *m) {
    char path[] = "/tmp/tcgpu_mlz_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    tcgpu_status st = tcgpu_model_mlz_file(m, path);
    remove(path);
    return st;
}

Test(mlz_reader, long_comments_stay_comments_and_values_land_where_written) {
    static char text[4096];
    int k = snprintf(text, sizeof text, "states 3\r\ncoupling 0 1 0.5 #");
    memset(text + k, ' ', 600);
    snprintf(text + k + 600, sizeof text - (size_t)k - 600,
             "energy 1 5\n\tslope\t2\t-1.5e0 \nenergy 2 2\ncoupling 2 1 0.25\nstart 2\n");
    tcgpu_model m;
    ASSERT_OK(read_model(text, &m));
    cr_expect_eq(m.dim, 3);
    cr_expect_eq(m.a[1], 0.0, "the comment's tail is no directive: A_11 = %g", m.a[1]);
    cr_expect_eq(m.b[2], -1.5);
    cr_expect_eq(m.a[2], 2.0);
    cr_expect_eq(m.start, 2);
    /* both triangles of each coupling, once each */
    cr_expect_eq(m.row_ptr[3], 4);
    cr_expect_float_eq(tcgpu_model_vbound(&m), 0.75, 1e-15);
    tcgpu_model_free(&m);
}

Test(mlz_reader, refusals_leave_nothing_allocated_and_name_the_line) {
    tcgpu_model m;
    cr_expect_eq(read_model("states 2\ncoupling 0 1 1\ncoupling 1 0 2\n", &m), TCGPU_EINVAL);
    cr_expect_null(m.b, "a refused file leaves no model behind");
    cr_expect_null(m.row_ptr);
    cr_expect_not_null(strstr(tcgpu_last_error(), ":3: "), "%s", tcgpu_last_error());
    cr_expect_not_null(strstr(tcgpu_last_error(), "line 2"), "%s", tcgpu_last_error());
    cr_expect_eq(read_model("states 2\nslope 0 1\nslope 1 3.7x\n", &m), TCGPU_EINVAL);
    cr_expect_null(m.b);
    cr_expect_not_null(strstr(tcgpu_last_error(), ":3: "), "%s", tcgpu_last_error());
}
