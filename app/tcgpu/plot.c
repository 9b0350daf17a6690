/* DIR/plot.png for `tcgpu run` and `tcgpu plot DIR`: the folder's summary.csv (simulated
 * points) and run.json (model, N, channels, levels, tol) are all it reads; the exact curves come
 * from the exact engine on a fine grid of the scanned parameter. gnuplot draws it (a child
 * process, so that a missing or failing gnuplot never fails the run). */
#include "plot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "tcgpu/exact.h"

#define PLOT_CURVE_POINTS 300
#define PLOT_MAX_GROUPS 6 /* curves per panel stay readable */

/* What run.json says about the run. */
typedef struct {
    char model[16];
    long long N;
    int K, has_levels, completed, interrupted;
    double levels[TCGPU_MAX_CHANNELS], tol;
    long long total;
} plot_run;

/* summary.csv: per row the grid point and what is plotted. */
typedef struct {
    size_t rows;
    int nk;                                                  /* mean_n1..mean_n<nk> columns */
    double *g, *beta, *eps, *mean, *mean_n, *eta, *tv, *est; /* mean: rows x nk */
} plot_table;

static void table_free(plot_table *t) {
    free(t->g);
    free(t->beta);
    free(t->eps);
    free(t->mean);
    free(t->mean_n);
    free(t->eta);
    free(t->tv);
    free(t->est);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b)
        b[n] = '\0';
    return b;
}

static int read_run(const char *cmd, const char *dir, plot_run *r) {
    char path[4096];
    snprintf(path, sizeof path, "%s/run.json", dir);
    char *text = slurp(path);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *p = cJSON_GetObjectItem(o, "parameters");
    cJSON *model = cJSON_GetObjectItem(p, "model"), *N = cJSON_GetObjectItem(p, "N");
    cJSON *K = cJSON_GetObjectItem(p, "channels"), *tol = cJSON_GetObjectItem(o, "tolerance");
    if (!cJSON_IsString(model) || !cJSON_IsNumber(N) || !cJSON_IsNumber(K) ||
        !cJSON_IsNumber(tol) || K->valueint < 1 || K->valueint > TCGPU_MAX_CHANNELS) {
        cli_error(cmd, "%s: %s; expected the run.json of a tcgpu run", path,
                  o ? "no parameters.model, N, channels or tolerance" : "missing or not JSON");
        cJSON_Delete(o);
        return CLI_BADINPUT;
    }
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "%s", model->valuestring);
    r->N = (long long)N->valuedouble;
    r->K = K->valueint;
    r->tol = tol->valuedouble;
    r->completed = cJSON_IsTrue(cJSON_GetObjectItem(o, "completed"));
    r->interrupted = cJSON_IsTrue(cJSON_GetObjectItem(o, "interrupted"));
    cJSON *total = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "timings"), "sweeps_total");
    r->total = cJSON_IsNumber(total) ? (long long)total->valuedouble : -1;
    cJSON *lv = cJSON_GetObjectItem(p, "levels");
    if (cJSON_IsArray(lv) && cJSON_GetArraySize(lv) == r->K) {
        r->has_levels = 1;
        for (int k = 0; k < r->K; ++k)
            r->levels[k] = cJSON_GetArrayItem(lv, k)->valuedouble;
    }
    cJSON_Delete(o);
    return CLI_OK;
}

/* The fields of one CSV line, split in place (no quoting in tcgpu's tables). */
static int split(char *line, char **f, int max) {
    int n = 0;
    for (char *s = line; n < max; ++s) {
        f[n++] = s;
        s += strcspn(s, ",");
        if (*s != ',')
            break;
        *s = '\0';
    }
    return n;
}

static double field(char **f, int n, int col) {
    if (col < 0 || col >= n || !*f[col])
        return NAN; /* an empty cell: no value there */
    return strtod(f[col], NULL);
}

static int read_table(const char *cmd, const char *dir, plot_table *t) {
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    char *text = slurp(path);
    memset(t, 0, sizeof *t);
    if (!text) {
        cli_error(cmd, "cannot read %s: %s; expected the folder of a tcgpu run", path,
                  strerror(errno));
        return CLI_BADINPUT;
    }
    enum { MAXF = 128 };
    char *f[MAXF], *save = NULL, *line = strtok_r(text, "\n", &save);
    int n = line ? split(line, f, MAXF) : 0;
    int cg = -1, cb = -1, ce = -1, cn = -1, cet = -1, ctv = -1, ces = -1, cm[TCGPU_MAX_CHANNELS];
    for (int c = 0; c < n; ++c) {
        int k;
        if (!strcmp(f[c], "g"))
            cg = c;
        else if (!strcmp(f[c], "beta"))
            cb = c;
        else if (!strcmp(f[c], "eps"))
            ce = c;
        else if (!strcmp(f[c], "mean_n"))
            cn = c;
        else if (!strcmp(f[c], "eta"))
            cet = c;
        else if (!strcmp(f[c], "tv_exact"))
            ctv = c;
        else if (!strcmp(f[c], "err_estimate"))
            ces = c;
        else if (sscanf(f[c], "mean_n%d", &k) == 1 && k == t->nk + 1 && k <= TCGPU_MAX_CHANNELS)
            cm[t->nk++] = c;
    }
    if (cg < 0 || cb < 0 || ce < 0 || cn < 0 || ctv < 0 || ces < 0) {
        cli_error(cmd,
                  "%s: no header with g, beta, eps, mean_n, tv_exact, err_estimate; expected "
                  "the summary.csv of a tcgpu run",
                  path);
        free(text);
        return CLI_BADINPUT;
    }
    size_t cap = 64;
    double **cols[] = {&t->g, &t->beta, &t->eps, &t->mean_n, &t->eta, &t->tv, &t->est};
    for (size_t c = 0; c < sizeof cols / sizeof *cols; ++c)
        *cols[c] = malloc(cap * sizeof(double));
    t->mean = malloc(cap * (size_t)(t->nk ? t->nk : 1) * sizeof(double));
    int rc = CLI_OK;
    while ((line = strtok_r(NULL, "\n", &save))) {
        if (t->rows == cap) {
            cap *= 2;
            for (size_t c = 0; c < sizeof cols / sizeof *cols; ++c) {
                double *nb = realloc(*cols[c], cap * sizeof(double));
                *cols[c] = nb ? nb : (free(*cols[c]), NULL);
            }
            double *nb = realloc(t->mean, cap * (size_t)(t->nk ? t->nk : 1) * sizeof(double));
            t->mean = nb ? nb : (free(t->mean), NULL);
        }
        int ok = t->mean != NULL;
        for (size_t c = 0; c < sizeof cols / sizeof *cols; ++c)
            ok &= *cols[c] != NULL;
        if (!ok) {
            cli_error(cmd, "out of memory reading %s", path);
            rc = CLI_RUNTIME;
            break;
        }
        n = split(line, f, MAXF);
        size_t i = t->rows++;
        t->g[i] = field(f, n, cg);
        t->beta[i] = field(f, n, cb);
        t->eps[i] = field(f, n, ce);
        t->mean_n[i] = field(f, n, cn);
        t->eta[i] = field(f, n, cet);
        t->tv[i] = field(f, n, ctv);
        t->est[i] = field(f, n, ces);
        for (int k = 0; k < t->nk; ++k)
            t->mean[i * (size_t)t->nk + (size_t)k] = field(f, n, cm[k]);
    }
    free(text);
    if (rc)
        table_free(t);
    return rc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Distinct values of v (sorted into w, which must hold n). */
static size_t distinct(const double *v, size_t n, double *w) {
    memcpy(w, v, n * sizeof *w);
    qsort(w, n, sizeof *w, cmp_double);
    size_t d = 0;
    for (size_t i = 0; i < n; ++i)
        if (!d || w[i] != w[d - 1])
            w[d++] = w[i];
    return d;
}

/* A log axis where the values are log-spaced (three or more at a constant ratio) or span
 * more than two decades (a hand-written list such as 0.1,1,10,100). */
static int log_spaced(const double *w, size_t d) {
    if (d < 2 || w[0] <= 0)
        return 0;
    if (w[d - 1] / w[0] > 100)
        return 1;
    if (d < 3)
        return 0;
    double r = log(w[1] / w[0]);
    for (size_t i = 2; i < d; ++i)
        if (fabs(log(w[i] / w[i - 1]) - r) > 1e-6 * fabs(r))
            return 0;
    return fabs(log(w[1] / w[0]) - (w[1] - w[0]) / w[0]) > 1e-9; /* not a linear grid */
}

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
        size_t d = distinct(param(t, q), t->rows, w);
        if (d > best) {
            best = d;
            a->x = q;
        }
    }
    size_t d = distinct(param(t, a->x), t->rows, w);
    a->lo = w[0];
    a->hi = w[d - 1];
    a->logx = log_spaced(w, d);
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
    int rc = read_run(cmd, dir, &r);
    if (rc || (rc = read_table(cmd, dir, &t)))
        return rc;
    if (!t.rows) {
        fprintf(stderr, "tcgpu %s: no plot: %s/summary.csv holds no finished sweep\n", cmd, dir);
        table_free(&t);
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
        table_free(&t);
        return CLI_RUNTIME;
    }
    plot_axes a;
    choose_axes(&t, w, &a);
    write_script(f, &r, &t, &a);
    free(w);
    table_free(&t);
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
