/* Reading a run folder for its plot (app/tcgpu/plot_internal.h): run.json through cJSON,
 * summary.csv by its header's column names, and the scanned grid's shape. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot_internal.h"

void plot_table_free(plot_table *t) {
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

int plot_read_run(const char *cmd, const char *dir, plot_run *r) {
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

int plot_read_table(const char *cmd, const char *dir, plot_table *t) {
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
        plot_table_free(t);
    return rc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Distinct values of v (sorted into w, which must hold n). */
size_t plot_distinct(const double *v, size_t n, double *w) {
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
int plot_log_spaced(const double *w, size_t d) {
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
