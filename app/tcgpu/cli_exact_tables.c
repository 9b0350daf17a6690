/* `tcgpu exact`'s tables: per grid point the distribution, moments, totals, phases or
 * asymptotic forms the job asks for, as CSV rows (app/tcgpu/cli_exact.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_exact.h"
#include "tcgpu/exact.h"

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
        return cli_status(EXACT_CMD, st);
    for (int l = 0; l <= levels; ++l) {
        lead_row(f, j, g, beta);
        fprintf(f, ",%d,", l);
        cli_csv_num(f, p[l]);
        fputc('\n', f);
    }
    return CLI_OK;
}

static int write_dist_tc(FILE *f, const job *j, double g, double beta, double *p) {
    int rc = cli_status(EXACT_CMD, tcgpu_exact_tc_joint(j->N, j->K, g, beta, levels_of(j), p));
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
    int rc = cli_status(EXACT_CMD, tcgpu_exact_heff(j->N, g, beta, p));
    for (int64_t n1 = 0; !rc && n1 <= j->N; ++n1) {
        lead_row(f, j, g, beta);
        fprintf(f, ",%lld,%lld,", (long long)n1, (long long)(j->N - n1));
        cli_csv_num(f, p[j->N - n1]);
        fputc('\n', f);
    }
    return rc;
}

static int write_total(FILE *f, const job *j, double g, double beta, double *p) {
    int rc = cli_status(EXACT_CMD, tcgpu_exact_tc_total(j->N, j->K, g, beta, p));
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
    int rc = cli_status(EXACT_CMD, tcgpu_exact_tc_single(j->N, g, beta, p));
    if (!rc)
        rc = cli_status(EXACT_CMD, tcgpu_exact_phases(j->N, g, beta, phi));
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
        int rc = cli_status(EXACT_CMD, tcgpu_exact_heff_mean_n2(j->N, g, beta, &n2));
        if (rc)
            return rc;
        m.mean[0] = (double)j->N - n2;
        m.mean[1] = n2;
        m.mean_n = (double)j->N;
        m.eta = j->N > 0 ? (m.mean[0] - n2) / (double)j->N : 0;
    } else {
        int rc =
            cli_status(EXACT_CMD, tcgpu_exact_tc_moments(j->N, j->K, g, beta, levels_of(j), &m));
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
    int rc = cli_status(EXACT_CMD, tcgpu_exact_tc_moments(j->N, j->K, g, beta, levels_of(j), &m));
    if (!rc)
        rc = cli_status(EXACT_CMD, tcgpu_exact_m_max(j->N, g, beta, &mmax));
    if (!rc)
        rc = cli_status(EXACT_CMD, tcgpu_exact_c(g, beta, &c));
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

int exact_write_critical(FILE *f, const job *j) {
    for (size_t i = 0; i < j->ng; ++i) {
        double bc;
        int rc = cli_status(EXACT_CMD, tcgpu_exact_beta_c(j->N, j->g[i], &bc));
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

void exact_write_header(FILE *f, const job *j) {
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

int exact_write_block(FILE *f, const job *j, double g, double beta, double *p) {
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
