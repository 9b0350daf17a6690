/* `tcgpu exact`: the paper's exact predictions as CSV tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tcgpu/exact.h"
#include "tcgpu/sysmem.h"

static const char *const CMD = "exact";

static const cli_option opts[] = {
    {"model", 1, "lz | do | tc | heff (default tc)"},
    {"N", 1, "molecules (tc), pairs in the sector (heff); default 40"},
    {"channels", 1, "reaction channels K (tc) or parallel levels (do); default 2"},
    {"g", 1, "coupling: list 0.5,1 or range a:b:n[:log]; default 1"},
    {"beta", 1, "sweep rate: list or range; default 0.05:100:12:log"},
    {"levels", 1, "e1,...,eK: channel pair energies (do: parallel levels), any order"},
    {"what", 1, "dist | moments | total | critical | asymptotic | phases"},
    {"out", 1, "write the CSV to FILE (complete or not at all) instead of stdout"},
    {"help", 0, "show this help"},
    {NULL, 0, NULL},
};

typedef struct {
    const char *model, *what;
    int64_t N;
    int K;
    double *g, *beta, levels[TCGPU_MAX_CHANNELS];
    size_t ng, nb;
    int has_levels;
} job;

static const double *levels_of(const job *j) { return j->has_levels ? j->levels : NULL; }

/* "beta" or "g,beta" leading columns: g is named only when the user scanned it. */
static void lead_header(FILE *f, const job *j) { fputs(j->ng > 1 ? "g,beta" : "beta", f); }

static void lead_row(FILE *f, const job *j, double g, double beta) {
    if (j->ng > 1) {
        cli_csv_num(f, g);
        fputc(',', f);
    }
    cli_csv_num(f, beta);
}

static int write_dist_small(FILE *f, const job *j, double g, double beta) {
    double p[TCGPU_MAX_CHANNELS + 1];
    int levels = !strcmp(j->model, "lz") ? 1 : j->K;
    tcgpu_status st = !strcmp(j->model, "lz") ? tcgpu_exact_lz(g, beta, p)
                                              : tcgpu_exact_do(j->K, g, beta, levels_of(j), p);
    if (st)
        return cli_status(CMD, st);
    for (int l = 0; l <= levels; ++l) {
        lead_row(f, j, g, beta);
        fprintf(f, ",%d,", l);
        cli_csv_num(f, p[l]);
        fputc('\n', f);
    }
    return CLI_OK;
}

static int write_dist_tc(FILE *f, const job *j, double g, double beta, double *p) {
    int rc = cli_status(CMD, tcgpu_exact_tc_joint(j->N, j->K, g, beta, levels_of(j), p));
    if (rc)
        return rc;
    int64_t n[TCGPU_MAX_CHANNELS] = {0}, sum = 0, i = 0;
    do {
        lead_row(f, j, g, beta);
        for (int k = 0; k < j->K; ++k)
            fprintf(f, ",%lld", (long long)n[k]);
        fputc(',', f);
        cli_csv_num(f, p[i++]);
        fputc('\n', f);
    } while (tcgpu_basis_next(j->K, j->N, n, &sum));
    return CLI_OK;
}

static int write_dist_heff(FILE *f, const job *j, double g, double beta, double *p) {
    int rc = cli_status(CMD, tcgpu_exact_heff(j->N, g, beta, p));
    for (int64_t n1 = 0; !rc && n1 <= j->N; ++n1) {
        lead_row(f, j, g, beta);
        fprintf(f, ",%lld,%lld,", (long long)n1, (long long)(j->N - n1));
        cli_csv_num(f, p[j->N - n1]);
        fputc('\n', f);
    }
    return rc;
}

static int write_total(FILE *f, const job *j, double g, double beta, double *p) {
    int rc = cli_status(CMD, tcgpu_exact_tc_total(j->N, j->K, g, beta, p));
    for (int64_t n = 0; !rc && n <= j->N; ++n) {
        lead_row(f, j, g, beta);
        fprintf(f, ",%lld,", (long long)n);
        cli_csv_num(f, p[n]);
        fputc('\n', f);
    }
    return rc;
}

static int write_phases(FILE *f, const job *j, double g, double beta, double *p) {
    double *phi = p + j->N + 1;
    int rc = cli_status(CMD, tcgpu_exact_tc_single(j->N, g, beta, p));
    if (!rc)
        rc = cli_status(CMD, tcgpu_exact_phases(j->N, g, beta, phi));
    for (int64_t m = 0; !rc && m <= j->N; ++m) {
        double wrapped = remainder(phi[m], 6.283185307179586476925286766559);
        cli_csv_num(f, beta);
        fputc(',', f);
        cli_csv_num(f, g);
        fprintf(f, ",%lld,", (long long)m);
        cli_csv_num(f, p[m]);
        fputc(',', f);
        cli_csv_num(f, phi[m]);
        fputc(',', f);
        cli_csv_num(f, wrapped);
        fputc('\n', f);
    }
    return rc;
}

static void csv_list(FILE *f, int n, const double *v) {
    for (int i = 0; i < n; ++i) {
        fputc(',', f);
        cli_csv_num(f, v[i]);
    }
}

static int write_moments(FILE *f, const job *j, double g, double beta) {
    tcgpu_tc_moments m;
    if (!strcmp(j->model, "heff")) {
        double n2;
        int rc = cli_status(CMD, tcgpu_exact_heff_mean_n2(j->N, g, beta, &n2));
        if (rc)
            return rc;
        m.mean[0] = (double)j->N - n2;
        m.mean[1] = n2;
        m.mean_n = (double)j->N;
        m.eta = j->N > 0 ? (m.mean[0] - n2) / (double)j->N : 0;
    } else {
        int rc = cli_status(CMD, tcgpu_exact_tc_moments(j->N, j->K, g, beta, levels_of(j), &m));
        if (rc)
            return rc;
    }
    double head[2] = {beta, g};
    cli_csv_num(f, head[0]);
    csv_list(f, 1, head + 1);
    fprintf(f, ",%lld,%d", (long long)j->N, j->K);
    csv_list(f, j->K, m.mean);
    csv_list(f, 1, &m.mean_n);
    if (j->K == 2)
        csv_list(f, 1, &m.eta);
    fputc('\n', f);
    return CLI_OK;
}

static int write_asymptotic(FILE *f, const job *j, double g, double beta) {
    tcgpu_tc_moments m;
    double bc;
    int64_t mmax;
    long double c;
    int rc = cli_status(CMD, tcgpu_exact_tc_moments(j->N, j->K, g, beta, levels_of(j), &m));
    if (!rc)
        rc = cli_status(CMD, tcgpu_exact_m_max(j->N, g, beta, &mmax));
    if (!rc)
        rc = cli_status(CMD, tcgpu_exact_c(g, beta, &c));
    if (rc)
        return rc;
    if (j->N < 1 || tcgpu_exact_beta_c(j->N, g, &bc))
        bc = NAN;
    int lo = j->has_levels && j->levels[1] < j->levels[0] ? 1 : 0; /* the lowest channel */
    double v1[] = {beta,
                   g,
                   (double)j->N,
                   (double)expl(-c),
                   m.nu,
                   (double)tcgpu_euler_mean(c, 1),
                   tcgpu_asym_nu_eq46(g, beta),
                   tcgpu_asym_nu_eq46_log(g, beta),
                   tcgpu_asym_n_ex_eq52(g, beta),
                   tcgpu_asym_n_ex_eq53(g, beta),
                   m.mean[j->K == 2 ? lo : 0],
                   tcgpu_asym_n1_fast_eq64(j->N, g, beta),
                   (double)mmax,
                   tcgpu_asym_m_max_eq54(j->N, g, beta, bc)};
    cli_csv_num(f, v1[0]);
    csv_list(f, (int)(sizeof v1 / sizeof *v1) - 1, v1 + 1);
    if (j->K == 2) {
        double v2[] = {m.nu_plus,
                       (double)tcgpu_euler_mean(c, 2),
                       tcgpu_asym_nu_plus_eq68(g, beta),
                       m.mean_n,
                       tcgpu_asym_n_fast_eq65(j->N, g, beta),
                       m.mean[1 - lo],
                       tcgpu_asym_n2_eq69(g, beta),
                       tcgpu_asym_n2_limit(g, beta),
                       lo ? -m.eta : m.eta,
                       tcgpu_asym_eta_eq70(j->N, g, beta)};
        csv_list(f, (int)(sizeof v2 / sizeof *v2), v2);
    }
    fputc('\n', f);
    return CLI_OK;
}

static int write_critical(FILE *f, const job *j) {
    for (size_t i = 0; i < j->ng; ++i) {
        double bc;
        int rc = cli_status(CMD, tcgpu_exact_beta_c(j->N, j->g[i], &bc));
        if (rc)
            return rc;
        fprintf(f, "%lld,", (long long)j->N);
        cli_csv_num(f, j->g[i]);
        fputc(',', f);
        cli_csv_num(f, bc);
        fputc(',', f);
        cli_csv_num(f, tcgpu_asym_beta_c_eq50(j->N, j->g[i]));
        fputc('\n', f);
    }
    return CLI_OK;
}

static void write_header(FILE *f, const job *j) {
    const char *w = j->what;
    int pairs = !strcmp(j->model, "tc") || !strcmp(j->model, "heff");
    if (!strcmp(w, "critical")) {
        fputs("N,g,beta_c_exact,beta_c_asymptotic\n", f);
    } else if (!strcmp(w, "phases")) {
        fputs("beta,g,m,prob,phase,phase_mod_2pi\n", f);
    } else if (!strcmp(w, "total")) {
        lead_header(f, j);
        fputs(",n,prob\n", f);
    } else if (!strcmp(w, "dist") && !pairs) {
        lead_header(f, j);
        fputs(",level,prob\n", f);
    } else if (!strcmp(w, "dist")) {
        lead_header(f, j);
        for (int k = 1; k <= j->K; ++k)
            fprintf(f, ",n%d", k);
        fputs(",prob\n", f);
    } else if (!strcmp(w, "moments")) {
        fputs("beta,g,N,channels", f);
        for (int k = 1; k <= j->K; ++k)
            fprintf(f, ",mean_n%d", k);
        fputs(j->K == 2 ? ",mean_n,eta\n" : ",mean_n\n", f);
    } else { /* asymptotic: exact value, then the paper's forms for it */
        fputs("beta,g,N,x,nu,nu_eq45,nu_eq46,nu_eq46_log,n_ex_eq52,n_ex_eq53,mean_n1,"
              "mean_n1_eq64,m_max,m_max_eq54",
              f);
        fputs(j->K == 2 ? ",nu_plus,nu_plus_eq67,nu_plus_eq68,mean_n,mean_n_eq65,mean_n2,"
                          "mean_n2_eq69,mean_n2_limit,eta,eta_eq70\n"
                        : "\n",
              f);
    }
}

/* Doubles one (g, beta) block needs, checked against the machine before anything is written. */
#define EXACT_MAX_ROWS 1e8

static int check_size(const job *j) {
    const char *w = j->what;
    double entries = (double)j->N + 1, per_block = entries;
    if (!strcmp(w, "dist") && !strcmp(j->model, "tc")) {
        int64_t dim = tcgpu_basis_dim(j->N, j->K);
        if (dim < 0) {
            cli_error(CMD,
                      "N = %lld with %d channels has more than 2^63 states; expected a "
                      "smaller N or fewer channels",
                      (long long)j->N, j->K);
            return CLI_BADINPUT;
        }
        entries = (double)dim + 2.0 * ((double)j->N + 1);
        per_block = (double)dim;
    } else {
        entries *= 5; /* probabilities, phases and the long double tables */
    }
    if (tcgpu_check_memory(entries * sizeof(double), "this request"))
        return cli_status(CMD, TCGPU_EINVAL);
    /* the table's size: a 1e8-value grid would write for hours before anyone saw a row */
    double blocks = !strcmp(w, "critical") ? 1 : (double)j->nb * (double)j->ng;
    double rows = blocks * (!strcmp(w, "moments") || !strcmp(w, "asymptotic") ? 1 : per_block);
    if (rows > EXACT_MAX_ROWS) {
        cli_error(CMD,
                  "%zu --g x %zu --beta values would write about %.3g rows; expected at most "
                  "%.0e (fewer values or a smaller N)",
                  j->ng, j->nb, rows, EXACT_MAX_ROWS);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

static int block(FILE *f, const job *j, double g, double beta, double *p) {
    const char *w = j->what, *m = j->model;
    if (!strcmp(w, "moments"))
        return write_moments(f, j, g, beta);
    if (!strcmp(w, "asymptotic"))
        return write_asymptotic(f, j, g, beta);
    if (!strcmp(w, "total"))
        return write_total(f, j, g, beta, p);
    if (!strcmp(w, "phases"))
        return write_phases(f, j, g, beta, p);
    if (!strcmp(m, "tc"))
        return write_dist_tc(f, j, g, beta, p);
    if (!strcmp(m, "heff"))
        return write_dist_heff(f, j, g, beta, p);
    return write_dist_small(f, j, g, beta);
}

static int run(const job *j, const char *out_path) {
    int rc = check_size(j);
    if (rc)
        return rc;
    size_t entries = (size_t)j->N + 1;
    if (!strcmp(j->what, "dist") && !strcmp(j->model, "tc"))
        entries = (size_t)tcgpu_basis_dim(j->N, j->K);
    double *p = malloc((2 * entries + 2) * sizeof *p);
    cli_output o;
    if (!p) {
        cli_error(CMD, "out of memory for %zu probabilities", entries);
        return CLI_RUNTIME;
    }
    if ((rc = cli_output_open(CMD, out_path, &o))) {
        free(p);
        return rc;
    }
    write_header(o.f, j);
    if (!strcmp(j->what, "critical"))
        rc = write_critical(o.f, j);
    for (size_t ig = 0; !rc && strcmp(j->what, "critical") && ig < j->ng; ++ig)
        for (size_t ib = 0; !rc && ib < j->nb; ++ib)
            rc = block(o.f, j, j->g[ig], j->beta[ib], p);
    free(p);
    int rc_close = cli_output_close(CMD, &o, rc == CLI_OK);
    return rc ? rc : rc_close;
}

static int one_of(const char *v, const char *const *set) {
    for (; *set; ++set)
        if (!strcmp(v, *set))
            return 1;
    return 0;
}

/* Which --what each model offers, and which options make sense for it. */
static int check_model(const cli_parsed *a, job *j) {
    static const char *const models[] = {"lz", "do", "tc", "heff", NULL};
    static const char *const whats[] = {"dist",       "moments", "total", "critical",
                                        "asymptotic", "phases",  NULL};
    if (!one_of(j->model, models)) {
        cli_error(CMD, "--model: unknown model '%s'; expected lz, do, tc or heff", j->model);
        return CLI_BADINPUT;
    }
    int is_tc = !strcmp(j->model, "tc"), is_heff = !strcmp(j->model, "heff");
    int is_lz = !strcmp(j->model, "lz");
    if (!j->what)
        j->what = is_tc || is_heff ? "moments" : "dist";
    if (!one_of(j->what, whats)) {
        cli_error(CMD,
                  "--what: unknown table '%s'; expected dist, moments, total, critical, "
                  "asymptotic or phases",
                  j->what);
        return CLI_BADINPUT;
    }
    const char *w = j->what;
    if ((!is_tc && strcmp(w, "dist") && !(is_heff && !strcmp(w, "moments")))) {
        cli_error(CMD,
                  "--what %s is not available for --model %s (lz and do: dist; heff: dist, "
                  "moments)",
                  w, j->model);
        return CLI_BADINPUT;
    }
    const char *bad = is_lz                     ? (cli_get(a, "N")          ? "N"
                                                   : cli_get(a, "channels") ? "channels"
                                                   : cli_get(a, "levels")   ? "levels"
                                                                            : NULL)
                      : !strcmp(j->model, "do") ? (cli_get(a, "N") ? "N" : NULL)
                      : is_heff                 ? (cli_get(a, "channels") ? "channels"
                                                   : cli_get(a, "levels") ? "levels"
                                                                          : NULL)
                      : !strcmp(w, "critical") && cli_get(a, "beta") ? "beta"
                                                                     : NULL;
    if (bad) {
        cli_error(CMD, "--%s does not apply to --model %s --what %s", bad, j->model, w);
        return CLI_BADINPUT;
    }
    if (is_tc && !strcmp(w, "phases") && j->K != 1) {
        cli_error(CMD,
                  "--what phases: eq 58 gives the phases of one channel; expected "
                  "--channels 1, got %d",
                  j->K);
        return CLI_BADINPUT;
    }
    if (is_tc && !strcmp(w, "asymptotic") && j->K > 2) {
        cli_error(CMD, "--what asymptotic: the paper's forms are for 1 or 2 channels, got %d",
                  j->K);
        return CLI_BADINPUT;
    }
    if (is_tc && !strcmp(w, "critical") && j->N < 1) {
        cli_error(CMD, "--what critical needs N >= 1 (P_0 = P_1), got N = %lld", (long long)j->N);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

static int parse_job(const cli_parsed *a, job *j) {
    const char *v;
    int64_t K = 2;
    memset(j, 0, sizeof *j);
    j->model = (v = cli_get(a, "model")) ? v : "tc";
    j->what = cli_get(a, "what");
    j->N = 40;
    if ((v = cli_get(a, "N")) && cli_int(CMD, "N", v, &j->N))
        return CLI_BADINPUT;
    if (j->N < 0) {
        cli_error(CMD, "--N: %lld is negative; expected a number of molecules >= 0",
                  (long long)j->N);
        return CLI_BADINPUT;
    }
    if ((v = cli_get(a, "channels")) && cli_int(CMD, "channels", v, &K))
        return CLI_BADINPUT;
    if (K < 1 || K > TCGPU_MAX_CHANNELS) {
        cli_error(CMD, "--channels: %lld; expected 1 to %d", (long long)K, TCGPU_MAX_CHANNELS);
        return CLI_BADINPUT;
    }
    j->K = !strcmp(j->model, "heff") ? 2 : !strcmp(j->model, "lz") ? 1 : (int)K;
    int rc = check_model(a, j);
    if (!rc && (v = cli_get(a, "levels")) && !(rc = cli_levels(CMD, v, j->K, 1, j->levels)))
        j->has_levels = 1;
    if (!rc)
        rc = cli_values(CMD, "g", (v = cli_get(a, "g")) ? v : "1", 1, &j->g, &j->ng);
    if (!rc)
        rc = cli_values(CMD, "beta", (v = cli_get(a, "beta")) ? v : "0.05:100:12:log", 1, &j->beta,
                        &j->nb);
    return rc;
}

int cli_exact(int argc, char **argv) {
    cli_parsed a;
    job j;
    int rc = cli_parse(CMD, opts, argc, argv, &a);
    if (rc)
        return rc;
    if (cli_get(&a, "help")) {
        cli_usage(stdout, CMD,
                  "[--model tc] [--N 40] [--channels 2] [--g 1] [--beta LIST] "
                  "[--what moments] [--out FILE]",
                  opts);
        return CLI_OK;
    }
    rc = parse_job(&a, &j);
    if (!rc)
        rc = cli_check_out_file(CMD, "out", cli_get(&a, "out"));
    if (!rc)
        rc = run(&j, cli_get(&a, "out"));
    free(j.g);
    free(j.beta);
    return rc;
}
