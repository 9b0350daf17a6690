/* The report's building blocks: sections, result rows (also kept for run.json), progress lines,
 * CSV data files and gnuplot figures. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "validate.h"

double v_seconds(const vctx *c) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - c->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - c->t0.tv_nsec);
}

static void end_table(vctx *c) {
    if (c->in_table)
        fputc('\n', c->body);
    c->in_table = 0;
}

void v_section(vctx *c, const char *title) {
    end_table(c);
    fprintf(c->body, "## %s\n\n", title);
}

void v_text(vctx *c, const char *fmt, ...) {
    end_table(c);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->body, fmt, ap);
    va_end(ap);
    fputs("\n\n", c->body);
}

/* A table cell: '|' would end the cell, so it is escaped. */
static void cell(FILE *f, const char *text) {
    fputs("| ", f);
    for (const char *s = text; *s; ++s) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc(' ', f);
}

static void row(vctx *c, const char *result, const char *claim, const char *tol,
                const char *measured) {
    if (!c->in_table)
        fputs("| claim (paper) | measured | tolerance | result |\n|---|---|---|---|\n", c->body);
    c->in_table = 1;
    cell(c->body, claim);
    cell(c->body, measured);
    cell(c->body, tol);
    fprintf(c->body, "| **%s** |\n", result);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "check", c->check ? c->check : "");
    cJSON_AddStringToObject(o, "claim", claim);
    cJSON_AddStringToObject(o, "measured", measured);
    cJSON_AddStringToObject(o, "tolerance", tol);
    cJSON_AddStringToObject(o, "result", result);
    cJSON_AddItemToArray((cJSON *)c->json, o);
}

void v_item(vctx *c, int pass, const char *claim, const char *tol, const char *measured_fmt, ...) {
    char measured[512];
    va_list ap;
    va_start(ap, measured_fmt);
    vsnprintf(measured, sizeof measured, measured_fmt, ap);
    va_end(ap);
    row(c, pass ? "PASS" : "FAIL", claim, tol, measured);
    if (pass)
        c->pass++;
    else {
        c->fail++;
        v_progress(c, "FAIL: %s: measured %s, tolerance %s", claim, measured, tol);
    }
}

void v_notrun(vctx *c, const char *claim, const char *reason) {
    row(c, "NOT RUN", claim, "-", reason);
    c->notrun++;
}

void v_progress(vctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tcgpu validate [%6.1f s] %s: ", v_seconds(c), c->check ? c->check : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    va_end(ap);
}

FILE *v_csv_open(vctx *c, const char *name, void **handle) {
    cli_output *o = malloc(sizeof *o);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    if (!o || cli_output_open("validate", path, o)) {
        free(o);
        *handle = NULL;
        return NULL;
    }
    *handle = o;
    return o->f;
}

int v_csv_close(vctx *c, void *handle) {
    (void)c;
    if (!handle)
        return CLI_RUNTIME;
    int rc = cli_output_close("validate", handle, 1);
    free(handle);
    return rc;
}

int v_plot(vctx *c, const char *png, const char *caption, const char *csv, const char *script) {
    char base[256], gp[4096], cmd[4096 + 64];
    snprintf(base, sizeof base, "%.*s", (int)(strcspn(png, ".")), png);
    snprintf(gp, sizeof gp, "%s/%s.gp", c->dir, base);
    FILE *f = fopen(gp, "w");
    if (!f) {
        cli_error("validate", "cannot write '%s'", gp);
        return CLI_RUNTIME;
    }
    /* Written in any case: the figure can be redrawn later where gnuplot exists. */
    fprintf(f,
            "set terminal pngcairo size 900,600 font ',11'\nset output '%s'\n"
            "set datafile separator ','\nset key top left box opaque\nset grid\n%s\n",
            png, script);
    int failed = ferror(f) != 0;
    failed |= fclose(f) != 0;
    if (failed) {
        cli_error("validate", "writing '%s' failed", gp);
        return CLI_RUNTIME;
    }
    if (!c->gnuplot) {
        v_text(c, "*%s* — plot skipped (gnuplot not found); data: [%s](%s), script: %s.gp", caption,
               csv, csv, base);
        return CLI_OK;
    }
    /* The folder name was checked to hold no single quote (cli_validate.c). */
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot '%s.gp' 2>'%s.gp.log'", c->dir, base, base);
    if (system(cmd) != 0) {
        v_text(c, "*%s* — gnuplot failed (see %s.gp.log); data: [%s](%s)", caption, base, csv, csv);
        return CLI_OK;
    }
    snprintf(gp, sizeof gp, "%s/%s.gp.log", c->dir, base);
    remove(gp);
    c->plots++;
    v_text(c, "![%s](%s)\n\n*%s* (data: [%s](%s))", caption, png, caption, csv, csv);
    return CLI_OK;
}

int v_worse(double *worst, double dev) {
    if (dev < *worst)
        return 0;
    *worst = isnan(dev) ? INFINITY : dev;
    return 1;
}
