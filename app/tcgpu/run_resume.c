/* Reading back what an interrupted `tcgpu run` wrote. The tables are trusted only as far as they
 * agree with each other: every summary.csv row needs its dist.h5 row (same sweep, same
 * parameters), else the folder is refused rather than merged. */
#include "run_resume.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"
#include "out_h5.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1))) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    if (f)
        fclose(f);
    return buf;
}

static int load_record(const char *cmd, const char *dir, run_resume *r) {
    char path[4096];
    snprintf(path, sizeof path, "%s/run.json", dir);
    char *text = slurp(path);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *args = cJSON_GetObjectItem(o, "arguments");
    if (!cJSON_IsArray(args)) {
        cli_error(cmd,
                  "--resume: '%s' is missing or holds no argument list; expected the "
                  "run.json of a tcgpu run",
                  path);
        cJSON_Delete(o);
        return CLI_BADINPUT;
    }
    r->completed = cJSON_IsTrue(cJSON_GetObjectItem(o, "completed"));
    cJSON *tol = cJSON_GetObjectItem(o, "tolerance"), *method = cJSON_GetObjectItem(o, "method");
    r->tol = cJSON_IsNumber(tol) ? tol->valuedouble : NAN;
    snprintf(r->method, sizeof r->method, "%s", cJSON_IsString(method) ? method->valuestring : "");
    static const char *const grid_names[3] = {"beta", "g", "eps"};
    cJSON *params = cJSON_GetObjectItem(o, "parameters");
    for (int k = 0; k < 3; ++k) {
        cJSON *list = cJSON_GetObjectItem(params, grid_names[k]);
        int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
        if (n > 0 && (r->grid[k] = malloc((size_t)n * sizeof *r->grid[k]))) {
            r->ngrid[k] = (size_t)n;
            for (int i = 0; i < n; ++i) {
                cJSON *v = cJSON_GetArrayItem(list, i);
                r->grid[k][i] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
            }
        }
    }
    r->argc = cJSON_GetArraySize(args);
    r->argv = calloc((size_t)r->argc + 1, sizeof *r->argv);
    int ok = r->argv != NULL;
    for (int i = 0; ok && i < r->argc; ++i) {
        cJSON *s = cJSON_GetArrayItem(args, i);
        ok = cJSON_IsString(s) && (r->argv[i] = strdup(s->valuestring));
    }
    cJSON_Delete(o);
    if (!ok) {
        cli_error(cmd, "--resume: cannot read the arguments in '%s'", path);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

/* Column index of name in a CSV header (-1 when absent). */
static int column(const char *header, const char *name) {
    size_t len = strlen(name);
    int c = 0;
    for (const char *p = header; p; p = strchr(p, ','), p = p ? p + 1 : NULL, ++c)
        if (!strncmp(p, name, len) && (p[len] == ',' || p[len] == '\0' || p[len] == '\n'))
            return c;
    return -1;
}

static const char *field(const char *line, int col) {
    for (; line && col > 0; --col)
        if ((line = strchr(line, ',')))
            ++line;
    return line;
}

static size_t commas(const char *line) {
    size_t n = 0;
    for (; *line && *line != '\n'; ++line)
        n += *line == ',';
    return n;
}

/* Every field empty (an absent value) or a finite number: a kept row edited to nan would be
 * copied through into the finished table. */
static int finite_fields(const char *line) {
    for (const char *f = line; f; f = strchr(f, ','), f = f ? f + 1 : NULL) {
        char *end;
        double v = strtod(f, &end);
        if (end != f && !isfinite(v))
            return 0;
    }
    return 1;
}

static int load_summary(const char *cmd, const char *dir, run_resume *r) {
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return CLI_OK; /* a run that failed before its first sweep: nothing to keep */
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    int csec = -1, capp = -1, rc = CLI_OK;
    if (getline(&line, &cap, f) < 0 || column(line, "sweep") != 0 ||
        (csec = column(line, "seconds")) < 0 || (capp = column(line, "applications")) < 0) {
        cli_error(cmd, "--resume: '%s' has no tcgpu summary header", path);
        rc = CLI_BADINPUT;
    }
    size_t ncol = rc ? 0 : commas(line);
    ssize_t n;
    while (!rc && (n = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (r->rows == alloc) {
            run_resume_row *grown =
                realloc(r->row, (alloc = alloc ? 2 * alloc : 64) * sizeof *grown);
            if (!grown) {
                cli_error(cmd, "out of memory reading '%s'", path);
                rc = CLI_RUNTIME;
                break;
            }
            r->row = grown;
        }
        run_resume_row *w = &r->row[r->rows];
        const char *s = field(line, csec), *a = field(line, capp);
        char *end;
        w->sweep = strtoll(line, &end, 10);
        if (end == line || *end != ',' || !s || !a) {
            cli_error(cmd, "--resume: row %zu of '%s' is damaged", r->rows + 1, path);
            rc = CLI_BADINPUT;
            break;
        }
        if (commas(line) != ncol || !finite_fields(line)) {
            cli_error(cmd,
                      "--resume: row %zu of '%s' has %s; expected the rows tcgpu wrote, "
                      "unedited",
                      r->rows + 1, path,
                      commas(line) != ncol ? "a different number of columns than its header"
                                           : "a non-finite value");
            rc = CLI_BADINPUT;
            break;
        }
        w->seconds = strtod(s, NULL);
        w->applications = strtoll(a, NULL, 10);
        if (!(w->line = strdup(line))) {
            cli_error(cmd, "out of memory reading '%s'", path);
            rc = CLI_RUNTIME;
            break;
        }
        r->rows++;
    }
    free(line);
    fclose(f);
    return rc;
}

static int read_set(hid_t f, const char *name, hid_t type, hsize_t rows, hsize_t width,
                    void **out) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t s = d >= 0 ? H5Dget_space(d) : -1;
    hsize_t dims[2] = {0, 0};
    int rank = s >= 0 ? H5Sget_simple_extent_dims(s, dims, NULL) : -1;
    int ok = rank == (width ? 2 : 1) && dims[0] == rows && (!width || dims[1] == width);
    size_t bytes = (size_t)(rows ? rows : 1) * (width ? width : 1) * 8;
    if (ok && !(*out = malloc(bytes)))
        ok = 0;
    if (ok && rows)
        ok = H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) >= 0;
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return ok;
}

static int load_h5(const char *cmd, const char *dir, run_resume *r) {
    if (!r->rows)
        return CLI_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/dist.h5", dir);
    h5_no_exit_handler();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t p = f >= 0 ? H5Dopen2(f, "prob", H5P_DEFAULT) : -1;
    hid_t s = p >= 0 ? H5Dget_space(p) : -1;
    hsize_t dims[2] = {0, 0};
    int ok = s >= 0 && H5Sget_simple_extent_ndims(s) == 2 &&
             H5Sget_simple_extent_dims(s, dims, NULL) == 2 && dims[0] == r->rows;
    if (s >= 0)
        H5Sclose(s);
    if (p >= 0)
        H5Dclose(p);
    r->dim = (int64_t)dims[1];
    hsize_t n = r->rows, w = dims[1];
    int64_t *sweep = NULL;
    ok = ok && read_set(f, "prob", H5T_NATIVE_DOUBLE, n, w, (void **)&r->prob) &&
         read_set(f, "sweep", H5T_NATIVE_INT64, n, 0, (void **)&sweep) &&
         read_set(f, "g", H5T_NATIVE_DOUBLE, n, 0, (void **)&r->g) &&
         read_set(f, "beta", H5T_NATIVE_DOUBLE, n, 0, (void **)&r->beta) &&
         read_set(f, "eps", H5T_NATIVE_DOUBLE, n, 0, (void **)&r->eps) &&
         read_set(f, "err_estimate", H5T_NATIVE_DOUBLE, n, 0, (void **)&r->err_estimate);
    if (ok && H5Lexists(f, "exact", H5P_DEFAULT) > 0)
        ok = read_set(f, "exact", H5T_NATIVE_DOUBLE, n, w, (void **)&r->exact);
    for (size_t i = 0; ok && i < r->rows * (size_t)r->dim; ++i) /* probabilities, not NaN */
        ok = r->prob[i] >= 0 && r->prob[i] <= 1;
    for (size_t i = 0; ok && i < r->rows; ++i)
        ok = isfinite(r->g[i]) && isfinite(r->beta[i]) && !isinf(r->eps[i]) &&
             !isinf(r->err_estimate[i]);
    for (size_t i = 0; ok && i < r->rows; ++i)
        ok = sweep[i] == r->row[i].sweep && (i == 0 || r->row[i].sweep > r->row[i - 1].sweep);
    free(sweep);
    if (f >= 0)
        H5Fclose(f);
    if (!ok) {
        cli_error(cmd,
                  "--resume: '%s' does not hold the %zu sweeps listed in summary.csv (missing, "
                  "damaged or from another run); expected the files of one interrupted run",
                  path, r->rows);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

/* A process that has ended but not been reaped yet (its parent has not waited, or an init that
 * reaps late): kill(pid, 0) still finds it. Linux's /proc says so; elsewhere it counts as alive. */
static int zombie(long pid) {
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
    stat[n] = '\0';
    if (f)
        fclose(f);
    const char *end = strrchr(stat, ')'); /* the state follows the command, which may hold ')' */
    return end && end[1] == ' ' && end[2] == 'Z';
}

/* A run killed outright (SIGKILL, a crash) leaves its tables under NAME.tmp.PID: they were
 * never finished, so they are removed once no process PID is left to finish them. */
static void remove_stale_temporaries(const char *dir) {
    static const char *const names[] = {"summary.csv.tmp.", "dist.csv.tmp.", "dist.h5.tmp.",
                                        "run.json.tmp."};
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        for (size_t k = 0; k < sizeof names / sizeof *names; ++k) {
            size_t len = strlen(names[k]);
            const char *pid = e->d_name + len;
            if (strncmp(e->d_name, names[k], len) || !*pid ||
                strspn(pid, "0123456789") != strlen(pid))
                continue;
            long id = strtol(pid, NULL, 10);
            int alive = kill((pid_t)id, 0) == 0 ? !zombie(id) : errno != ESRCH;
            if (alive)
                continue; /* still running, or not ours to judge */
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            remove(path);
        }
    if (d)
        closedir(d);
}

int run_resume_load(const char *cmd, const char *dir, run_resume *r) {
    memset(r, 0, sizeof *r);
    int rc = load_record(cmd, dir, r);
    if (!rc && !r->completed)
        rc = load_summary(cmd, dir, r);
    if (!rc && !r->completed)
        rc = load_h5(cmd, dir, r);
    if (!rc && !r->completed)
        remove_stale_temporaries(dir);
    return rc;
}

void run_resume_free(run_resume *r) {
    for (int i = 0; r->argv && i < r->argc; ++i)
        free(r->argv[i]);
    for (size_t i = 0; r->row && i < r->rows; ++i)
        free(r->row[i].line);
    free(r->argv);
    free(r->row);
    for (int k = 0; k < 3; ++k)
        free(r->grid[k]);
    free(r->g);
    free(r->beta);
    free(r->eps);
    free(r->err_estimate);
    free(r->prob);
    free(r->exact);
    memset(r, 0, sizeof *r);
}

int run_resume_agrees(const char *cmd, const char *dir, const run_resume *r, double tol,
                      const char *method, const double *const grid[3], const size_t ngrid[3]) {
    static const char *const names[3] = {"beta", "g", "eps"};
    for (int k = 0; k < 3; ++k) {
        int same = r->ngrid[k] == ngrid[k];
        /* not to the bit: cJSON prints 15 digits when they read back within an ulp or so */
        for (size_t i = 0; same && i < ngrid[k]; ++i)
            same = fabs(r->grid[k][i] - grid[k][i]) <= 1e-15 * fabs(grid[k][i]) ||
                   (isnan(r->grid[k][i]) && isnan(grid[k][i])); /* eps beside --levels */
        if (!same) {
            cli_error(cmd,
                      "--resume: %s/run.json records %zu --%s values that its arguments do not "
                      "give (%zu values, or others); expected an unedited record",
                      dir, r->ngrid[k], names[k], ngrid[k]);
            return CLI_BADINPUT;
        }
    }
    if (r->tol != tol || strcmp(r->method, method)) {
        cli_error(cmd,
                  "--resume: %s/run.json records tolerance %g and method %s, but its "
                  "arguments ask for %g and %s; expected an unedited record",
                  dir, r->tol, r->method[0] ? r->method : "(none)", tol, method);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}
