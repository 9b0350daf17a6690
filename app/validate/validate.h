/* `tcgpu validate`: a campaign of checks of the paper's claims. Each check is an entry of the
 * table in cli_validate.c; it writes one report section (claim, measured value, tolerance,
 * PASS/FAIL per row), CSV data and, when gnuplot is present, a PNG per figure. */
#ifndef TCGPU_VALIDATE_H
#define TCGPU_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "tcgpu/model.h"

typedef struct {
    const char *dir; /* output folder */
    int quick;
    int gnuplot; /* gnuplot found on PATH */
    FILE *body;  /* the report's sections, assembled before the summary is known */
    char *body_buf;
    size_t body_len;
    int in_table; /* a results table is open in body */
    int pass, fail, notrun, plots;
    const char *check; /* id of the running check (progress lines, run.json) */
    void *json;        /* cJSON array of result rows */
    struct timespec t0;
    int reused;           /* sweeps taken from DIR/sweeps (validate_cache.c) */
    char reused_from[96]; /* the commits that computed them, comma-separated */
} vctx;

/* One entry of the campaign. run returns CLI_OK, or CLI_RUNTIME / CLI_INTERRUPTED when the
 * check could not run at all (a FAIL of a claim is not an error of the command). */
typedef struct {
    const char *id, *title;
    int (*run)(vctx *c);
    int in_quick; /* part of --quick (each check picks smaller sizes itself there) */
} vcheck;

/* Report. */
void v_section(vctx *c, const char *title);
void v_text(vctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* One result row: the paper's claim, the tolerance, PASS/FAIL and the measured value. */
void v_item(vctx *c, int pass, const char *claim, const char *tol, const char *measured_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* A claim the campaign could not test, with the reason (counted apart from PASS and FAIL). */
void v_notrun(vctx *c, const char *claim, const char *reason);
void v_progress(vctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Data and plots: v_csv_open writes DIR/name under a temporary name (v_csv_close renames it).
 * v_plot writes DIR/<png without .png>.gp (gnuplot commands; the terminal and output lines are
 * prepended), runs gnuplot in DIR and links the PNG in the report; without gnuplot it says so
 * and links the CSV. */
FILE *v_csv_open(vctx *c, const char *name, void **handle);
int v_csv_close(vctx *c, void *handle);
int v_plot(vctx *c, const char *png, const char *caption, const char *csv, const char *script);

/* A batch of sweeps (tcgpu_sweep_auto) run on all cores, each compared with the exact
 * distribution of its model. */
typedef struct {
    tcgpu_model_kind kind;
    int64_t N;
    int K;
    double g, beta, eps; /* tc: pair energies e_k = 2 (2k - K - 1) eps; do: levels (2k - K + 1)
                          * eps; heff: channel energies -eps, +eps */
    double tol;
    /* results */
    tcgpu_model m;
    int built;
    double *p, *ex;
    double tv, seconds, err_estimate, Tr;
    double mean[8], mean_n, eta; /* tcgpu_reduce_means of p */
} vsweep;

int v_sweeps(vctx *c, vsweep *s, size_t n, const char *what);

/* The cache of finished sweeps in DIR/sweeps (validate_cache.c). v_cache_load fills p, ex
 * ([dim]), report (seconds, error estimate, Tr) and commit, returning 1, or returns 0 when the
 * folder holds no whole file for exactly this sweep. v_cache_store returns 0 if it could not
 * write. v_note_reused counts a sweep taken back, for the report. */
void v_sweep_key(const vsweep *s, char *buf, size_t len);
int v_cache_has(const vctx *c, const vsweep *s); /* a file for this sweep exists */
int v_cache_load(const vctx *c, const vsweep *s, int64_t dim, double *p, double *ex,
                 double report[3], char *commit, size_t commit_len);
int v_cache_store(const vctx *c, const vsweep *s);
void v_cache_clear(const vctx *c);
void v_note_reused(vctx *c, const char *commit);
/* Ranks > 0 under MPI: compute the sweeps of every v_sweeps batch rank 0 sends. */
int v_serve_sweeps(void);
void v_sweeps_free(vsweep *s, size_t n);

/* The checks, by topic (validate_*.c). */
int vcheck_fig3(vctx *c);
int vcheck_fig3_sim(vctx *c);
int vcheck_fig56(vctx *c);
int vcheck_heff(vctx *c);
int vcheck_phases(vctx *c);
int vcheck_do_eps(vctx *c);
int vcheck_scaling_single(vctx *c);
int vcheck_scaling_two(vctx *c);
int vcheck_scaling_large(vctx *c);
int vcheck_beta_c(vctx *c);
int vcheck_semiclassical(vctx *c);

double v_seconds(const vctx *c);

/* Keeps the largest deviation seen in *worst; NaN counts as the worst there is (infinite), so
 * a check can never pass on one. Returns 1 when dev is (one of) the worst so far. */
int v_worse(double *worst, double dev);

#endif
