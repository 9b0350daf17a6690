/* The scaling-large check's outputs: the report's table, the CSV data and the gnuplot figure
 * (validate_scaling_large.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tcgpu/exact.h"
#include "validate_scaling_large.h"

void vlarge_table(vctx *c, const vsize *z, int nz) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    fputs(
        "| N | beta_c simulated | eq 47 (exact) | rel. diff | bound: TV | from ln(P_1/P_0) error "
        "| sweeps | eq 50 | q_c | mu ± se | mu (eq 40 peaks) | A | sweep seconds (wall, summed) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        f);
    for (int i = 0; i < nz; ++i) {
        const vsize *q = &z[i];
        double L = log((double)q->N);
        if (q->state <= 0) {
            fprintf(f, "| %lld | search failed | %.8g | | | | %d | %.6g | | | | | %.1f |\n",
                    (long long)q->N, q->exact, q->n, q->b50, q->seconds);
            continue;
        }
        fprintf(f, "| %lld | %.8g | %.8g | %+.1e | %.1e | %.1e | %d | %.6g (%+.2f%%) | %.4f |",
                (long long)q->N, q->root, q->exact, (q->root - q->exact) / q->exact,
                q->err_tv / q->exact, q->err_dev / q->exact, q->n, q->b50,
                100 * (q->b50 / q->root - 1), TWO_PI * (double)q->N / (q->root * L));
        if (q->fitted)
            fprintf(f, " %.4f ± %.4f | %.4f | %.5g |", q->fm.slope, q->fm.se_slope, q->fe.slope,
                    exp(q->fm.intercept));
        else
            fputs(" no fit | | |", f);
        fprintf(f, " %.1f |\n", q->seconds);
    }
    fclose(f);
    v_text(c, "%s", buf);
    free(buf);
}

int vlarge_write_csv(vctx *c, const vsize *z, int nz) {
    void *h;
    FILE *f = v_csv_open(c, "scaling_large.csv", &h);
    if (!f)
        return CLI_RUNTIME;
    fputs("N,beta_c_sim,beta_c_exact,rel_diff,bound_tv_rel,err_ratio_rel,sweeps,last_step,"
          "beta_c_eq50,q_c_sim,mu,se_mu,mu_eq40,A,sweep_seconds\n",
          f);
    for (int i = 0; i < nz; ++i) {
        const vsize *q = &z[i];
        double ok = q->state > 0 ? 1 : NAN, fit = q->fitted ? 1 : NAN;
        fprintf(f, "%lld,%.12g,%.12g,%.4e,%.4e,%.4e,%d,%.3e,%.10g,%.8g,%.8g,%.3e,%.8g,%.8g,%.2f\n",
                (long long)q->N, ok * q->root, q->exact, ok * (q->root - q->exact) / q->exact,
                ok * q->err_tv / q->exact, ok * q->err_dev / q->exact, q->n, ok * q->step, q->b50,
                ok * TWO_PI * (double)q->N / (q->root * log((double)q->N)), fit * q->fm.slope,
                fit * q->fm.se_slope, fit * q->fe.slope, fit * exp(q->fm.intercept), q->seconds);
    }
    int rc = v_csv_close(c, h);
    if (rc || !(f = v_csv_open(c, "scaling_large_search.csv", &h)))
        return CLI_RUNTIME;
    fputs("N,sweep,beta,ln_p1_p0,bound_tv,err_ln_ratio,tv\n", f);
    for (int i = 0; i < nz; ++i)
        for (int k = 0; k < z[i].n; ++k)
            fprintf(f, "%lld,%d,%.12g,%.6e,%.3e,%.3e,%.3e\n", (long long)z[i].N, k + 1,
                    z[i].beta[k], z[i].r[k], z[i].tvb[k], z[i].dev[k], z[i].tv[k]);
    if ((rc = v_csv_close(c, h)) || !(f = v_csv_open(c, "scaling_large_peaks.csv", &h)))
        return CLI_RUNTIME;
    fputs("N,u,peak_sim,peak_eq40,norm,beta,tv\n", f);
    for (int i = 0; i < nz; ++i)
        for (int k = 0; z[i].fitted && k < NM; ++k)
            fprintf(f, "%lld,%.8g,%.8g,%.8g,%.8g,%.10g,%.3e\n", (long long)z[i].N, z[i].u[k],
                    z[i].ms[k], z[i].me[k], (double)z[i].N + z[i].root / TWO_PI, z[i].m[k].beta,
                    z[i].m[k].tv);
    return v_csv_close(c, h);
}

/* Exact curves for the figure: q_c(N) of eq 47, eq 50 and eq 49, and the eq 55 fit on eq 40's
 * peaks at the rates the check simulates, both against the exact root. */
int vlarge_write_curves(vctx *c, int64_t nmax) {
    void *h;
    FILE *f = v_csv_open(c, "scaling_large_curves.csv", &h);
    if (!f)
        return CLI_RUNTIME;
    fputs("N,q_eq47,q_eq50,q_eq49,inv_lnN,mu_eq40\n", f);
    double *p = malloc(((size_t)nmax + 1) * sizeof *p);
    int rc = p ? CLI_OK : CLI_RUNTIME;
    int64_t last = 0;
    for (int i = 0; !rc && i <= 40; ++i) {
        int64_t N = llround(10 * pow((double)nmax / 10, i / 40.0));
        if (N == last)
            continue;
        last = N;
        double bc, L = log((double)N), u[NM], m[NM];
        rc = cli_status("validate", tcgpu_exact_beta_c(N, 1, &bc));
        for (int j = 0; !rc && j < NM; ++j) {
            double beta = MFAC[j] * tcgpu_asym_beta_c_eq50(N, 1);
            rc = cli_status("validate", tcgpu_exact_tc_single(N, 1, beta, p));
            u[j] = 1 - beta / bc;
            m[j] = v_peak_position(p, N);
        }
        v_fit fe;
        int nofit = rc || v_fit_power(u, m, NM, &fe);
        if (!rc)
            fprintf(f, "%lld,%.10g,%.10g,%.10g,%.8g,%.8g\n", (long long)N,
                    TWO_PI * (double)N / (bc * L),
                    TWO_PI * (double)N / (tcgpu_asym_beta_c_eq50(N, 1) * L), eq49_q((double)N),
                    1 / L, nofit ? NAN : fe.slope);
    }
    free(p);
    int rcc = v_csv_close(c, h);
    return rc ? rc : rcc;
}

int vlarge_plot(vctx *c, const vsize *z, int nz, const v_fit *fmu, int nm) {
    char script[6144];
    size_t n = 0;
#define ADD(...)                                                                                   \
    (n += (size_t)snprintf(script + n, n < sizeof script ? sizeof script - n : 0, __VA_ARGS__))
    ADD("set terminal pngcairo size 1200,900 font ',11'\nset output 'scaling_large.png'\n"
        "set multiplot layout 2,2 title 'Single channel across N: beta_c and eq 55 from "
        "simulations'\n"
        "set logscale x\nset xlabel 'N'\nset ylabel 'q_c = 2 pi g^2 N/(beta_c ln N)'\n"
        "set key bottom right\n"
        "plot 'scaling_large_curves.csv' using 1:2 with lines lw 2 title 'eq 47 (exact root)', "
        "'' using 1:3 with lines dt 2 lw 2 title 'eq 50', '' using 1:4 with lines dt 3 lw 2 "
        "title 'eq 49: 1 - ln ln N/ln N', 'scaling_large.csv' using 1:10 with points pt 7 ps 1.5 "
        "lc rgb 'black' title 'simulated root'\n"
        "set logscale xy\nset ylabel 'relative error of the simulated beta_c'\n"
        "set format y '10^{%%L}'\nset key center right\n"
        "plot 'scaling_large.csv' using 1:(abs($4)>1e-16?abs($4):1e-16) with points pt 7 ps 1.5 "
        "lc rgb 'black' title '|simulated/exact - 1|', '' using 1:6 with linespoints pt 6 title "
        "'from the error of ln(P_1/P_0)', '' using 1:5 with linespoints pt 4 title 'bound from "
        "TV', 1e-3 with lines dt 2 lc rgb 'red' title 'acceptance 1e-3'\n"
        "set format y\nset xlabel '1 - beta/beta_c'\nset ylabel 'm_{peak}/(N + beta_c/2 pi g^2)'\n"
        "set key bottom right\nplot x with lines lw 2 lc rgb 'gray' title 'eq 55: mu = 1'");
    for (int i = 0; i < nz; ++i)
        if (z[i].fitted)
            ADD(", 'scaling_large_peaks.csv' using 2:($1==%lld?$3/$5:1/0) with points pt %d ps "
                "1.3 title 'N = %lld'",
                (long long)z[i].N, 5 + 2 * (i % 4), (long long)z[i].N);
    ADD("\nunset logscale\nset xrange [*:*] reverse\nset xlabel '1/ln N (N grows to the right)'\n"
        "set ylabel 'mu (eq 55)'\nset key bottom left\n"
        "plot 'scaling_large_curves.csv' using ($1>=50?$5:1/0):6 with lines lw 2 title 'eq 40 "
        "(exact)', "
        "'scaling_large.csv' using (1/log($1)):11:12 with yerrorbars pt 7 ps 1.3 lc rgb 'black' "
        "title 'simulation (± se)', 1 with lines dt 2 lc rgb 'gray' title 'mu = 1'");
    if (nm >= 2)
        ADD(", %.8g + %.8g*x with lines dt 3 lw 2 title sprintf('fit: mu_{inf} = %%.3f', %.8g)",
            fmu->intercept, fmu->slope, fmu->intercept);
    ADD("\nunset multiplot\n");
#undef ADD
    if (n >= sizeof script) {
        cli_error("validate", "scaling-large: the gnuplot script is too long");
        return CLI_RUNTIME;
    }
    return v_plot(c, "scaling_large.png",
                  "Single channel across N: q_c(N) against eqs 47, 49, 50; the error of the "
                  "simulated beta_c; eq 55's peaks; mu against 1/ln N",
                  "scaling_large.csv", script);
}
