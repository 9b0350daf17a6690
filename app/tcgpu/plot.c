/* DIR/plot.png for `tcgpu run` and `tcgpu plot DIR`: the folder's summary.csv (simulated
 * points) and run.json (model, N, channels, levels, tol) are all it reads; the exact curves come
 * from the exact engine on a fine grid of the scanned parameter. gnuplot draws it (a child
 * process, so that a missing or failing gnuplot never fails the run). */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "plot_internal.h"
#include "tcgpu/exact.h"

#define PLOT_CURVE_POINTS 300
#define PLOT_MAX_GROUPS 6 /* curves per panel stay readable */

/* The exact means at one grid point, as tcgpu_reduce_means orders them for the model; 0 when
 * the model has none (mlz). */
static int exact_means(const plot_run *r, double g, double beta, double eps, int nk, double *mean,
                       double *mean_n, double *eta) {
    double lv[TCGPU_MAX_CHANNELS], p[TCGPU_MAX_CHANNELS + 1];
    int K = r->K;
    for (int k = 0; k < K; ++k) /* the energies `tcgpu run` builds its models with */
        lv[k] = r->has_levels ? r->levels[k] : 2.0 * (2 * (k + 1) - K - 1) * eps;
    *eta = NAN;
    if (!strcmp(r->model, "tc")) {
        tcgpu_tc_moments m;
        if (tcgpu_exact_tc_moments(r->N, K, g, beta, lv, &m))
            return 0;
        memcpy(mean, m.mean, (size_t)K * sizeof *mean);
        *mean_n = m.mean_n;
    } else if (!strcmp(r->model, "heff")) {
        double n2;
        if (tcgpu_exact_heff_mean_n2(r->N, g, beta, &n2))
            return 0;
        mean[0] = (double)r->N - n2;
        mean[1] = n2;
        *mean_n = (double)r->N;
    } else if (!strcmp(r->model, "lz") || !strcmp(r->model, "do")) {
        /* do: its levels ascend with eps as tcgpu run builds them, the order NULL means */
        const double *lvl = r->has_levels ? r->levels : NULL;
        int lz = !strcmp(r->model, "lz");
        if (nk > TCGPU_MAX_CHANNELS ||
            (lz ? tcgpu_exact_lz(g, beta, p) : tcgpu_exact_do(nk, g, beta, lvl, p)))
            return 0;
        *mean_n = 0;
        for (int k = 0; k < nk; ++k)
            *mean_n += mean[k] = p[k + 1];
    } else {
        return 0;
    }
    if (nk == 2)
        *eta = *mean_n > 0 ? (mean[0] - mean[1]) / *mean_n : 0;
    return 1;
}

static void num(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, " %.10g", v);
    else
        fputs(" NaN", f);
}

typedef struct {
    int x;         /* 0 beta, 1 g, 2 eps: the scanned parameter */
    int logx;      /* log axis */
    double lo, hi; /* its range */
    size_t groups; /* distinct values of the others, up to PLOT_MAX_GROUPS */
    double key[PLOT_MAX_GROUPS][3];
} plot_axes;

static const double *param(const plot_table *t, int which) {
    return which == 0 ? t->beta : which == 1 ? t->g : t->eps;
}

static int in_group(const plot_table *t, const plot_axes *a, size_t i, size_t grp) {
    for (int q = 0; q < 3; ++q)
        if (q != a->x && param(t, q)[i] != a->key[grp][q])
            return 0;
    return 1;
}

static void choose_axes(const plot_table *t, double *w, plot_axes *a) {
    size_t best = 0;
    memset(a, 0, sizeof *a);
    for (int q = 0; q < 3; ++q) { /* beta first on ties: the usual scan */
        size_t d = plot_distinct(param(t, q), t->rows, w);
        if (d > best) {
            best = d;
            a->x = q;
        }
    }
    size_t d = plot_distinct(param(t, a->x), t->rows, w);
    a->lo = w[0];
    a->hi = w[d - 1];
    a->logx = plot_log_spaced(w, d);
    for (size_t i = 0; i < t->rows && a->groups < PLOT_MAX_GROUPS; ++i) {
        size_t grp = 0;
        while (grp < a->groups && !in_group(t, a, i, grp))
            ++grp;
        if (grp == a->groups) {
            for (int q = 0; q < 3; ++q)
                a->key[grp][q] = param(t, q)[i];
            ++a->groups;
        }
    }
}

static const char *const xname[] = {"{/Symbol b}", "g", "{/Symbol e}"};
static const char *const xword[] = {"beta", "g", "eps"};

/* " g=0.5 eps=0.25": the values that tell this group from the others ("" for one group). */
static void group_label(const plot_axes *a, size_t grp, char *lbl, size_t size) {
    int len = 0;
    lbl[0] = '\0';
    for (int q = 0; q < 3 && a->groups > 1; ++q) {
        int varies = 0;
        for (size_t o = 1; o < a->groups; ++o)
            varies |= a->key[o][q] != a->key[0][q];
        if (q != a->x && varies && len < (int)size - 24)
            len += snprintf(lbl + len, size - (size_t)len, " %s=%g", xword[q], a->key[grp][q]);
    }
}

/* The upper panel: <n_k>, <n> and eta (right axis), the simulated points over the exact lines;
 * one colour per quantity, one point type per group of the other parameters. */
static void write_means(FILE *f, const plot_table *t, const plot_axes *a, int eta, int has_exact) {
    int nk = t->nk;
    if (eta)
        fputs(
            "set y2label '{/Symbol h}'\nset y2range [-1.05:1.05]\nset y2tics\nset ytics nomirror\n",
            f);
    fputs("plot ", f);
    const char *sep = "";
    for (size_t grp = 0; grp < a->groups; ++grp) {
        char lbl[96];
        group_label(a, grp, lbl, sizeof lbl);
        for (int c = 0; c <= nk + eta; ++c) {
            char name[32];
            if (c < nk)
                snprintf(name, sizeof name, "<n_%d>", c + 1);
            else
                snprintf(name, sizeof name, c == nk ? "<n>" : "{/Symbol h}");
            const char *axes = c == nk + 1 ? " axes x1y2" : "";
            if (has_exact) {
                fprintf(f, "%s$exact%zu using 1:%d%s with lines lw 2 lc %d notitle", sep, grp,
                        c + 2, axes, c + 1);
                sep = ", \\\n     ";
            }
            fprintf(f, "%s$sim%zu using 1:%d%s with points pt %zu ps 1.2 lc %d title '%s%s'", sep,
                    grp, c + 2, axes, 6 + 2 * grp, c + 1, name, lbl);
            sep = ", \\\n     ";
        }
    }
    fputs("\nunset y2label\nunset y2tics\nset ytics mirror\nunset title\n", f);
}

/* The script: data inline ($simN, $exactN per group), two panels. */
static void write_script(FILE *f, const plot_run *r, const plot_table *t, const plot_axes *a) {
    int nk = t->nk, eta = nk == 2, has_exact = 0;
    double mean[TCGPU_MAX_CHANNELS + 1], mn, et;
    fputs("# tcgpu plot: `gnuplot plot.gp` in this folder redraws plot.png\n", f);
    for (size_t grp = 0; grp < a->groups; ++grp) {
        fprintf(f, "$sim%zu << EOD\n# x mean_n1..mean_n%d mean_n eta tv_exact err_estimate\n", grp,
                nk);
        for (size_t i = 0; i < t->rows; ++i) {
            if (!in_group(t, a, i, grp))
                continue;
            num(f, param(t, a->x)[i]);
            for (int k = 0; k < nk; ++k)
                num(f, t->mean[i * (size_t)nk + (size_t)k]);
            num(f, t->mean_n[i]);
            num(f, t->eta[i]);
            num(f, t->tv[i] > 0 ? t->tv[i] : NAN); /* log axis: a zero has no place */
            num(f, t->est[i] > 0 ? t->est[i] : NAN);
            fputc('\n', f);
        }
        fputs("EOD\n", f);
        fprintf(f, "$exact%zu << EOD\n", grp);
        double lo = a->lo, hi = a->hi;
        if (lo == hi) { /* one grid point: a short stretch of curve around it */
            lo *= 0.5;
            hi *= 2;
        }
        for (int s = 0; s < PLOT_CURVE_POINTS; ++s) {
            double u = (double)s / (PLOT_CURVE_POINTS - 1), x;
            x = a->logx || a->lo == a->hi ? lo * pow(hi / lo, u) : lo + (hi - lo) * u;
            double par[3] = {a->key[grp][0], a->key[grp][1], a->key[grp][2]};
            par[a->x] = x;
            if (!exact_means(r, par[1], par[0], par[2], nk, mean, &mn, &et))
                break;
            has_exact = 1;
            num(f, x);
            for (int k = 0; k < nk; ++k)
                num(f, mean[k]);
            num(f, mn);
            num(f, et);
            fputc('\n', f);
        }
        fputs("EOD\n", f);
    }
    fputs("if (!exists(\"outfile\")) outfile = 'plot.png'\n"
          "set terminal pngcairo enhanced size 1000,900 font ',11'\nset output outfile\n"
          "set grid\nset key outside right top box opaque\nset lmargin 10\nset rmargin 26\n",
          f);
    /* mlz: no means and no exact solution, so no upper panel; the error panel stays. */
    int means = nk > 0;
    fprintf(f, "set multiplot layout %d,1\n", means ? 2 : 1);
    double lo = a->lo, hi = a->hi; /* the data's own range, a little padded */
    if (a->logx || lo == hi) {
        lo /= lo == hi ? 2 : 1.1;
        hi *= a->lo == a->hi ? 2 : 1.1;
    } else {
        double pad = 0.03 * (hi - lo);
        lo -= pad;
        hi += pad;
    }
    if (a->logx || a->lo == a->hi)
        fputs("set logscale x\n", f);
    if (a->logx)
        fputs("set format x '10^{%L}'\n", f);
    fprintf(f, "set xrange [%.10g:%.10g]\n", lo, hi);
    char what[160] = "";
    if (!r->completed)
        snprintf(what, sizeof what, " — %s: %zu of %lld sweeps",
                 r->interrupted ? "interrupted" : "not completed", t->rows, r->total);
    char size[64] = ""; /* what fixes the model's size: N and K (tc), N (heff), levels (do) */
    if (!strcmp(r->model, "tc"))
        snprintf(size, sizeof size, ", N = %lld, %d channel%s", r->N, r->K, r->K == 1 ? "" : "s");
    else if (!strcmp(r->model, "heff"))
        snprintf(size, sizeof size, ", %lld pairs", r->N);
    else if (!strcmp(r->model, "do"))
        snprintf(size, sizeof size, ", %d parallel levels", r->K);
    fprintf(f, "set title \"%s%s%s%s\" noenhanced\n", r->model, size,
            has_exact ? ": simulated (points), exact (lines)" : "", what);
    fprintf(f, "set xlabel '%s'\nset ylabel 'mean occupation'\n", xname[a->x]);
    if (means)
        write_means(f, t, a, eta, has_exact);
    fputs("set logscale y\nset format y '10^{%L}'\nset ylabel 'total-variation error'\n", f);
    fprintf(f, "tol = %.17g\nplot tol with lines dt 2 lw 2 lc rgb 'black' title '--tol'", r->tol);
    for (size_t grp = 0; grp < a->groups; ++grp) { /* colour: what; point type: group */
        char lbl[96];
        group_label(a, grp, lbl, sizeof lbl);
        fprintf(f,
                ", \\\n     $sim%zu using 1:%d with points pt %zu lc rgb '#0060ad' title 'TV vs "
                "exact%s', \\\n     $sim%zu using 1:%d with points pt %zu lc rgb '#dd181f' title "
                "'estimate%s'",
                grp, nk + 4, 6 + 2 * grp, lbl, grp, nk + 5, a->groups == 1 ? 4 : 6 + 2 * grp, lbl);
    }
    fputs("\nunset multiplot\n", f);
}

/* Runs gnuplot in dir; returns its exit status, 127 when it could not be started. */
static int gnuplot(const char *dir, const char *outfile) {
    pid_t pid = fork();
    if (pid < 0)
        return 127;
    if (pid == 0) {
        FILE *log = chdir(dir) == 0 ? freopen("plot.gp.log", "w", stderr) : NULL;
        if (!log || !freopen("/dev/null", "w", stdout))
            _exit(126);
        char expr[256];
        snprintf(expr, sizeof expr, "outfile='%s'", outfile);
        execlp("gnuplot", "gnuplot", "-e", expr, "plot.gp", (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 127;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int run_plot(const char *cmd, const char *dir, int *drawn) {
    plot_run r;
    plot_table t;
    *drawn = 0;
    int rc = plot_read_run(cmd, dir, &r);
    if (rc || (rc = plot_read_table(cmd, dir, &t)))
        return rc;
    if (!t.rows) {
        fprintf(stderr, "tcgpu %s: no plot: %s/summary.csv holds no finished sweep\n", cmd, dir);
        plot_table_free(&t);
        return CLI_OK;
    }
    double *w = malloc(t.rows * sizeof *w);
    char gp[4096], tmp[4096], png[4096], ptmp[4096];
    snprintf(gp, sizeof gp, "%s/plot.gp", dir);
    snprintf(tmp, sizeof tmp, "%s/plot.gp.tmp", dir);
    snprintf(png, sizeof png, "%s/plot.png", dir);
    snprintf(ptmp, sizeof ptmp, "%s/plot.png.tmp", dir);
    FILE *f = w ? fopen(tmp, "w") : NULL;
    if (!f) {
        cli_error(cmd, "cannot write %s: %s", tmp, w ? strerror(errno) : "out of memory");
        free(w);
        plot_table_free(&t);
        return CLI_RUNTIME;
    }
    plot_axes a;
    choose_axes(&t, w, &a);
    write_script(f, &r, &t, &a);
    free(w);
    plot_table_free(&t);
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, gp) != 0) {
        cli_error(cmd, "writing %s failed: %s", gp, strerror(errno));
        remove(tmp);
        return CLI_RUNTIME;
    }
    int st = gnuplot(dir, "plot.png.tmp");
    char log[4096];
    snprintf(log, sizeof log, "%s/plot.gp.log", dir);
    if (st == 127) {
        remove(log);
        fprintf(stderr, "tcgpu %s: no plot (gnuplot not found); %s draws it where gnuplot is\n",
                cmd, gp);
        return CLI_OK;
    }
    if (st != 0 || rename(ptmp, png) != 0) {
        remove(ptmp);
        cli_error(cmd, "gnuplot failed drawing %s (exit %d; see %s)", png, st, log);
        return CLI_RUNTIME;
    }
    remove(log); /* warnings only (points off a log axis); the figure is complete */
    *drawn = 1;
    return CLI_OK;
}

int cli_plot(int argc, char **argv) {
    if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        puts("usage: tcgpu plot DIR\n\n"
             "Draws DIR/plot.png from a tcgpu run folder (summary.csv, run.json; also an\n"
             "interrupted run's): the simulated <n_k>, <n> and eta over the exact curves against\n"
             "the scanned parameter, and TV vs exact and the error estimate against --tol.\n"
             "DIR/plot.gp keeps the gnuplot script with its data.");
        return CLI_OK;
    }
    if (argc != 1 || argv[0][0] == '-') {
        cli_error("plot", "expected one argument, the folder of a tcgpu run (tcgpu plot DIR)");
        return CLI_BADINPUT;
    }
    int drawn;
    int rc = run_plot("plot", argv[0], &drawn);
    if (!rc && drawn)
        fprintf(stderr, "tcgpu plot: wrote %s/plot.png\n", argv[0]);
    return rc;
}
