/* DIR/plot.png of `tcgpu run` and `tcgpu plot DIR`: drawn by default, the simulated points on
 * the exact curves, skipped on request, a run without gnuplot still succeeds, and an interrupted
 * run's folder can be drawn. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_common.h"

static char err[8192];

/* Runs `[env] tcgpu <args>` in dir through the shell; stderr into err. Returns the exit status. */
static int tcgpu(const char *dir, const char *env, const char *args) {
    char cmd[2048], path[600];
    snprintf(path, sizeof path, "%s/err.txt", dir);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s %s >/dev/null 2>err.txt </dev/null", dir,
             env ? env : "", TCGPU_BIN, args);
    int st = system(cmd);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(err, 1, sizeof err - 1, f) : 0;
    err[n] = '\0';
    if (f)
        fclose(f);
    remove(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int exists(const char *dir, const char *name) {
    char path[1200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

static char *slurp(const char *dir, const char *name) {
    static char buf[1 << 17];
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static int count(const char *s, const char *what) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        ++n;
    return n;
}

/* Rows of the datablock `name` in a plot.gp: up to max rows of up to 8 numbers. */
static int block(const char *gp, const char *name, double rows[][8], int max) {
    char head[64];
    snprintf(head, sizeof head, "%s << EOD\n", name);
    const char *p = strstr(gp, head);
    cr_assert_not_null(p, "no datablock %s in plot.gp", name);
    p += strlen(head);
    int n = 0;
    while (n < max && strncmp(p, "EOD", 3)) {
        const char *eol = strchr(p, '\n');
        cr_assert_not_null(eol);
        if (*p != '#') { /* one line at a time: strtod would read on past its end */
            char line[512], *q = line, *end;
            snprintf(line, sizeof line, "%.*s", (int)(eol - p), p);
            for (int c = 0; c < 8; ++c, q = end)
                rows[n][c] = strtod(q, &end);
            ++n;
        }
        p = eol + 1;
    }
    return n;
}

static void fresh(char *dir) { cr_assert_not_null(mkdtemp(dir)); }

static void clean(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

Test(plot, a_run_draws_its_points_on_the_exact_curves) {
    char dir[] = "/tmp/tcgpu_plot_XXXXXX";
    fresh(dir);
    cr_assert_eq(tcgpu(dir, "OMP_NUM_THREADS=2", "run --N 4 --beta 0.1:10:5:log --out r"), 0, "%s",
                 err);
    char r[600];
    snprintf(r, sizeof r, "%s/r", dir);
    cr_expect_not_null(strstr(err, "drew r/plot.png"), "%s", err);
    cr_expect_eq(memcmp(slurp(r, "plot.png"), "\x89PNG", 4), 0, "plot.png is a PNG");
    const char *gp = slurp(r, "plot.gp");
    cr_expect_not_null(strstr(gp, "set logscale x"), "beta was log-spaced");
    static double sim[8][8], ex[400][8];
    int ns = block(gp, "$sim0", sim, 8), ne = block(gp, "$exact0", ex, 400);
    cr_assert_eq(ns, 5, "five sweeps");
    cr_assert_eq(ne, 300, "the curve's points");
    /* Columns: beta, <n1>, <n2>, <n>, eta. The curve starts and ends at the first and last
     * sweep's beta; there the propagated means (TV 1e-6, so |d<n_k>| <= 2 N TV) meet it. */
    const int ends[2][2] = {{0, 0}, {4, 299}};
    for (int e = 0; e < 2; ++e) {
        const double *s = sim[ends[e][0]], *x = ex[ends[e][1]];
        cr_expect(fabs(s[0] - x[0]) < 1e-9 * s[0], "beta %g vs the curve's %g", s[0], x[0]);
        for (int c = 1; c <= 4; ++c)
            cr_expect(fabs(s[c] - x[c]) < 1e-5, "beta %g column %d: simulated %.9g, exact %.9g",
                      s[0], c, s[c], x[c]);
    }
    /* The curve's middle against the exact engine called here: eq 61's means at that beta. */
    tcgpu_tc_moments m;
    const double e2[2] = {-0.5, 0.5}; /* eps = 0.25: e_k = 2(2k - 3) eps */
    ASSERT_OK(tcgpu_exact_tc_moments(4, 2, 1.0, ex[150][0], e2, &m));
    cr_expect(fabs(m.mean[1] - ex[150][2]) < 1e-9, "<n2> %.12g vs %.12g", m.mean[1], ex[150][2]);
    cr_expect(fabs(m.eta - ex[150][4]) < 1e-9, "eta %.12g vs %.12g", m.eta, ex[150][4]);
    clean(dir);
}

Test(plot, no_plot_skips_it_and_a_missing_gnuplot_fails_nothing) {
    char dir[] = "/tmp/tcgpu_plot_XXXXXX";
    fresh(dir);
    cr_assert_eq(tcgpu(dir, NULL, "run --model lz --beta 1,2 --out a --no-plot"), 0, "%s", err);
    char a[600];
    snprintf(a, sizeof a, "%s/a", dir);
    cr_expect(!exists(a, "plot.png") && !exists(a, "plot.gp"), "--no-plot draws nothing");
    cr_expect_null(strstr(err, "plot"), "nothing said about a plot: %s", err);
    /* No gnuplot on PATH (tcgpu itself is named by its full path). */
    cr_assert_eq(tcgpu(dir, "PATH=/nonexistent", "run --model lz --beta 1,2 --out b"), 0, "%s",
                 err);
    snprintf(a, sizeof a, "%s/b", dir);
    cr_expect_eq(count(err, "no plot (gnuplot not found)"), 1, "said once: %s", err);
    cr_expect(exists(a, "summary.csv") && exists(a, "run.json") && exists(a, "plot.gp"),
              "the run's files and the script are there");
    cr_expect(!exists(a, "plot.png") && !exists(a, "plot.png.tmp") && !exists(a, "plot.gp.log"));
    /* ... and where gnuplot is, the kept folder is drawn later. */
    cr_expect_eq(tcgpu(dir, NULL, "plot b"), 0, "%s", err);
    cr_expect(exists(a, "plot.png"));
    clean(dir);
}

Test(plot, an_interrupted_runs_folder_is_drawn) {
    char dir[] = "/tmp/tcgpu_plot_XXXXXX", cmd[2048];
    fresh(dir);
    /* As tests/cli/test_cli.c: stop a two-sweep run after its first sweep is written. */
    snprintf(cmd, sizeof cmd,
             "cd %s && (OMP_NUM_THREADS=1 %s run --N 20 --beta 0.3,11.4 --eps 0.1 --no-plot "
             "--out res >out 2>err & p=$!; n=0; while ! grep -qs '^ *0 ' out && [ $n -lt 600 ]; "
             "do sleep 0.1; n=$((n+1)); done; sleep 0.5; kill -INT $p; wait $p; echo $? >status)",
             dir, TCGPU_BIN);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(atoi(slurp(dir, "status")), 130);
    char res[600];
    snprintf(res, sizeof res, "%s/res", dir);
    cr_expect(!exists(res, "plot.png"));
    cr_assert_eq(tcgpu(dir, NULL, "plot res"), 0, "%s", err);
    cr_expect_eq(memcmp(slurp(res, "plot.png"), "\x89PNG", 4), 0);
    cr_expect_not_null(strstr(slurp(res, "plot.gp"), "interrupted: 1 of 2 sweeps"),
                       "the title says what the figure holds");
    clean(dir);
}

Test(plot, bad_folders_get_one_line_and_exit_2) {
    char dir[] = "/tmp/tcgpu_plot_XXXXXX";
    fresh(dir);
    const char *args[] = {"plot", "plot nowhere", "plot a b", "plot ."};
    for (size_t i = 0; i < sizeof args / sizeof *args; ++i) {
        cr_expect_eq(tcgpu(dir, NULL, args[i]), 2, "'%s': %s", args[i], err);
        cr_expect_eq(count(err, "\n"), 1, "'%s': one line: %s", args[i], err);
    }
    clean(dir);
}

Test(plot, a_model_without_exact_solution_gets_the_error_panel) {
    char dir[] = "/tmp/tcgpu_plot_XXXXXX", path[600];
    fresh(dir);
    snprintf(path, sizeof path, "%s/m.txt", dir); /* docs/mlz-format.md's example */
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("states 3\nslope 0 2.0\nenergy 1 -1\nenergy 2 0.5\ncoupling 1 0 1.0\n"
          "coupling 0 2 1.0\nstart 0\n",
          f);
    fclose(f);
    cr_assert_eq(tcgpu(dir, NULL, "run --model mlz --file m.txt --beta 1,2 --out m"), 0, "%s", err);
    cr_expect_not_null(strstr(err, "drew m/plot.png"), "%s", err);
    snprintf(path, sizeof path, "%s/m", dir);
    cr_expect_not_null(strstr(slurp(path, "plot.gp"), "set multiplot layout 1,1"),
                       "no means to draw: the error panel alone");
    clean(dir);
}
