/* Scaling laws measured from quantum simulations, with fitted coefficients and exponents:
 * n_ex ~ Gamma ln Gamma (eqs 46, 53), the critical rate (eqs 47, 50) located where the simulated
 * P_0 = P_1, m_max ~ (1 - beta/beta_c)^mu (eq 55), and ⟨n2⟩ = beta/2 pi g^2 (eqs 69, 76). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tcgpu/exact.h"
#include "tcgpu/propagate.h"
#include "validate_scaling.h"

#define TWO_PI 6.283185307179586
#define EULER_GAMMA 0.5772156649015329
#define V_TOL V_SCALING_TOL

/* Sizes of the simulated systems; the CLI may raise them (--N1, --N2). */
int64_t v_scaling_N1 = 0, v_scaling_N2 = 0;

static int64_t n1_of(const vctx *c) {
    return v_scaling_N1 > 0 ? v_scaling_N1 : c->quick ? 200 : 1000;
}
static int64_t n2_of(const vctx *c) { return v_scaling_N2 > 0 ? v_scaling_N2 : c->quick ? 10 : 40; }

/* Eq 51 puts the peak where P_m = P_(m+1); d(m) = ln P_(m+1) - ln P_m falls through 0 there,
 * located by linear interpolation (+1/2: between m and m+1). */
double v_peak_position(const double *p, int64_t N) {
    for (int64_t m = 1; m < N; ++m) {
        double d0 = log(p[m]) - log(p[m - 1]), d1 = log(p[m + 1]) - log(p[m]);
        if (d0 > 0 && d1 <= 0)
            return (double)(m - 1) + d0 / (d0 - d1) + 0.5;
    }
    return 0;
}

static double mean_m(const double *p, int64_t N) {
    double s = 0;
    for (int64_t m = 0; m <= N; ++m)
        s += (double)m * p[m];
    return s;
}

void v_single_sweep(vsweep *s, int64_t N, double beta) {
    *s = (vsweep){.kind = TCGPU_MODEL_TC, .N = N, .K = 1, .g = 1, .beta = beta, .tol = V_TOL};
}

double v_ln_p1_p0(const vsweep *s, double *tv_bound) {
    *tv_bound = s->tv / s->p[0] + s->tv / s->p[1];
    return log(s->p[1]) - log(s->p[0]);
}

int v_fit_peaks(const vsweep *s, size_t n, double beta_c, double *u, double *ms, double *me,
                v_fit *fm, v_fit *fe, double *dmax) {
    *dmax = 0;
    for (size_t i = 0; i < n; ++i) {
        u[i] = 1 - s[i].beta / beta_c;
        ms[i] = v_peak_position(s[i].p, s[i].N);
        me[i] = v_peak_position(s[i].ex, s[i].N);
        v_worse(dmax, fabs(ms[i] - me[i]));
    }
    return v_fit_power(u, ms, n, fm) || v_fit_power(u, me, n, fe) ? -1 : 0;
}

int vcheck_scaling_single(vctx *c) {
    const int64_t N = n1_of(c);
    enum { NG = 6, NB = 4, NM = 5 };
    static const double bfac[NB] = {0.98, 0.995, 1.005, 1.02};
    static const double mfac[NM] = {0.5, 0.6, 0.7, 0.8, 0.9};
    double bc, L = log((double)N), glo = 3, ghi = (double)N / (3 * L);
    char title[160];
    snprintf(title, sizeof title, "Scaling laws from simulations: single channel, N = %lld",
             (long long)N);
    v_section(c, title);
    int rc = cli_status("validate", tcgpu_exact_beta_c(N, 1, &bc));
    if (rc)
        return rc;
    v_text(c,
           "Quantum sweeps (tc K = 1, g = 1, tol %g). (a) ⟨ν⟩ = N - ⟨n1⟩ at %d rates with "
           "Gamma = beta/2 pi g^2 from %g to N/(3 ln N) = %.3g (the quasi-adiabatic regime, "
           "c = 1/Gamma <= 1/3): least-squares fit of ⟨ν⟩/Gamma = a ln Gamma + b (eq 46: a = 1, "
           "b = gamma_E; tolerance on a: 0.1, leading-log accuracy; on b: the first neglected "
           "order c_max = 1/%g). (b) the critical rate where the simulated P_0 = P_1: a line "
           "through ln(P_1/P_0) at beta/beta_c = 0.98, 0.995, 1.005, 1.02 (beta_c the exact "
           "root of eq 47, %.6g). (c) the peak position m_peak (eq 51, continuous) at "
           "beta/beta_c = 0.5 ... 0.9, fit m_peak = A (1 - beta/beta_c)^mu (eq 55: mu = 1; "
           "tolerance 1/ln N, the order of the finite-N corrections of section V.C).",
           V_TOL, NG, glo, ghi, glo, bc);
    vsweep s[NG + NB + NM];
    memset(s, 0, sizeof s);
    double G[NG];
    for (int i = 0; i < NG; ++i) {
        G[i] = glo * pow(ghi / glo, (double)i / (NG - 1));
        v_single_sweep(&s[i], N, TWO_PI * G[i]);
    }
    for (int i = 0; i < NB; ++i)
        v_single_sweep(&s[NG + i], N, bfac[i] * bc);
    for (int i = 0; i < NM; ++i)
        v_single_sweep(&s[NG + NB + i], N, mfac[i] * bc);
    rc = v_sweeps(c, s, NG + NB + NM, "single-channel scaling sweeps");
    if (rc) {
        v_sweeps_free(s, NG + NB + NM);
        return rc;
    }
    double worst_tv = 0;
    for (int i = 0; i < NG + NB + NM; ++i)
        v_worse(&worst_tv, s[i].tv);
    v_item(c, worst_tv <= V_TOL, "simulated distributions = eq 40 (all sweeps of this check)",
           "TV <= 1e-4", "max TV = %.2e over %d sweeps", worst_tv, NG + NB + NM);

    /* (a) n_ex */
    double y[NG], nu[NG], lg[NG], worst46 = 0;
    for (int i = 0; i < NG; ++i) {
        nu[i] = (double)N - s[i].mean[0];
        y[i] = nu[i] / G[i];
        lg[i] = log(G[i]);
        v_worse(&worst46, fabs(nu[i] - tcgpu_asym_nu_eq46(1, s[i].beta)) / nu[i] * G[i]);
    }
    v_fit f;
    if (v_fit_line(lg, y, NG, &f))
        return v_sweeps_free(s, NG + NB + NM), CLI_RUNTIME;
    v_item(c, worst46 <= 1, "eq 46: ⟨ν⟩ = Gamma [gamma_E - ln(1 - x)] (simulated ⟨ν⟩)",
           "relative deviation <= c = 1/Gamma", "max (rel. deviation)/c = %.3g", worst46);
    v_item(c, fabs(f.slope - 1) <= 0.1,
           "eqs 46, 53: n_ex ~ Gamma ln Gamma (fitted coefficient a of Gamma ln Gamma = 1)",
           "abs(a - 1) <= 0.1", "a = %.4f ± %.4f", f.slope, f.se_slope);
    v_item(c, fabs(f.intercept - EULER_GAMMA) <= 1 / glo,
           "eq 46: coefficient b of Gamma = gamma_E = 0.5772", "abs(b - gamma_E) <= 1/3",
           "b = %.4f ± %.4f", f.intercept, f.se_intercept);

    /* (b) critical rate */
    double bx[NB], r[NB], dr = 0;
    for (int i = 0; i < NB; ++i) {
        double bound;
        bx[i] = s[NG + i].beta;
        r[i] = v_ln_p1_p0(&s[NG + i], &bound);
        dr = fmax(dr, bound);
    }
    v_fit fb;
    if (v_fit_line(bx, r, NB, &fb))
        return v_sweeps_free(s, NG + NB + NM), CLI_RUNTIME;
    double root = -fb.intercept / fb.slope, broot = dr / fabs(fb.slope) + 1e-4 * bc;
    v_item(
        c, fabs(root - bc) <= broot, "eq 47: simulated P_0 = P_1 at the exact critical rate beta_c",
        "TV-propagated error + 1e-4 beta_c (interpolation)",
        "simulated root %.6g, exact %.6g (diff %.2e, tolerance %.2e)", root, bc, root - bc, broot);
    double b50 = tcgpu_asym_beta_c_eq50(N, 1);
    v_item(c, fabs(b50 - root) <= 0.1 * root,
           "eq 50: beta_c ≈ 2 pi g^2 N/(ln N - ln(ln N - ln ln N))",
           "relative 10% (\"one-two significant digits\")",
           "eq 50 = %.6g vs simulated %.6g (%.2f%%)", b50, root, 100 * (b50 - root) / root);

    /* (c) m_max exponent */
    double u[NM], ms[NM], me[NM], dmax;
    v_fit fm, fe;
    if (v_fit_peaks(&s[NG + NB], NM, bc, u, ms, me, &fm, &fe, &dmax))
        return v_sweeps_free(s, NG + NB + NM), CLI_RUNTIME;
    v_item(c, fabs(fm.slope - 1) <= 1 / L,
           "eq 55: m_max ~ (1 - beta/beta_c)^mu, mu = 1 (fit to simulated peaks)",
           "abs(mu - 1) <= 1/ln N",
           "mu = %.4f ± %.4f, A = %.4g (PHYSICS.md: N + beta_c/2 pi g^2 = %.4g)", fm.slope,
           fm.se_slope, exp(fm.intercept), (double)N + bc / TWO_PI);
    v_item(c, fabs(fm.slope - fe.slope) <= 1e-3, "the same fit on eq 40 (exact) gives the same mu",
           "abs(mu_sim - mu_eq40) <= 1e-3",
           "mu(eq 40) = %.5f, simulated %.5f; max abs(peak_sim - peak_exact) = %.2e", fe.slope,
           fm.slope, dmax);

    /* data and plots */
    void *h;
    FILE *fo = v_csv_open(c, "scaling_single_points.csv", &h);
    if (!fo)
        return v_sweeps_free(s, NG + NB + NM), CLI_RUNTIME;
    fputs("Gamma,nu_sim,nu_exact,u,mstar_sim,mstar_exact\n", fo);
    for (int i = 0; i < NG || i < NM; ++i) {
        if (i < NG)
            fprintf(fo, "%.8g,%.10g,%.10g", G[i], nu[i], (double)N - mean_m(s[i].ex, N));
        else
            fputs(",,", fo);
        if (i < NM)
            fprintf(fo, ",%.8g,%.10g,%.10g\n", u[i], ms[i], me[i]);
        else
            fputs(",,,\n", fo);
    }
    rc = v_csv_close(c, h);
    fo = rc ? NULL : v_csv_open(c, "scaling_single_curves.csv", &h);
    if (!rc && !fo)
        rc = CLI_RUNTIME;
    for (int i = 0; !rc && i <= 200; ++i) {
        double g = 0.5 * pow(2 * ghi / 0.5, i / 200.0), u1 = 0.02 + 0.96 * i / 200.0;
        tcgpu_tc_moments mo;
        rc = cli_status("validate", tcgpu_exact_tc_moments(N, 1, 1, TWO_PI * g, NULL, &mo));
        double m54 = tcgpu_asym_m_max_eq54(N, 1, (1 - u1) * bc, bc);
        fprintf(fo, "%s%.8g,%.10g,%.10g,%.10g,%.8g,%.10g,%.10g\n",
                i ? "" : "Gamma,nu_eq40,nu_eq46,nu_eq53,u,m_eq54,m_fit\n", g, mo.nu,
                tcgpu_asym_nu_eq46(1, TWO_PI * g),
                g > 1 ? tcgpu_asym_n_ex_eq53(1, TWO_PI * g) : NAN, u1, m54,
                exp(fm.intercept) * pow(u1, fm.slope));
    }
    if (fo && !rc)
        rc = v_csv_close(c, h);
    char script[2048];
    snprintf(script, sizeof script,
             "set multiplot layout 1,2 title 'Single channel, N = %lld: simulated points, exact "
             "and asymptotic lines'\n"
             "set logscale xy\nset xlabel 'Gamma = beta/(2 pi g^2)'\nset ylabel '⟨ν⟩ = N - ⟨n_1⟩'\n"
             "set key top left\n"
             "plot 'scaling_single_curves.csv' using 1:2 with lines lw 2 title 'eq 40 (exact)', "
             "'' using 1:3 with lines dt 2 lw 2 title 'eq 46', '' using 1:($4>0?$4:1/0) with lines "
             "dt 3 lw 2 title 'eq 53: Gamma ln Gamma', 'scaling_single_points.csv' using 1:2 with "
             "points pt 7 ps 1.3 lc rgb 'black' title 'simulation'\n"
             "set xlabel '1 - beta/beta_c'\nset ylabel 'peak position m*'\nset key top left\n"
             "plot 'scaling_single_curves.csv' using 5:6 with lines lw 2 title 'eq 54', '' using "
             "5:7 with lines dt 2 lw 2 title sprintf('fit: mu = %.3f', %.6f), "
             "'scaling_single_points.csv' using 4:5 with points pt 7 ps 1.3 lc rgb 'black' title "
             "'simulation'\n"
             "unset multiplot",
             (long long)N, fm.slope, fm.slope);
    if (!rc)
        rc = v_plot(c, "scaling_single.png",
                    "Single channel: n_ex against Gamma (eqs 46, 53) and the peak against "
                    "1 - beta/beta_c (eqs 54, 55)",
                    "scaling_single_points.csv", script);
    v_sweeps_free(s, NG + NB + NM);
    return rc;
}

int vcheck_scaling_two(vctx *c) {
    const int64_t N = n2_of(c);
    static const double gq[] = {1, 1.5, 2}, gf[] = {1.5, 2, 2.5, 3, 4};
    const double *G = c->quick ? gq : gf;
    const int ng = c->quick ? 3 : 5;
    char title[160];
    snprintf(title, sizeof title, "Scaling laws from simulations: two channels, N = %lld",
             (long long)N);
    v_section(c, title);
    double gmin = G[0], gmax = G[ng - 1];
    double ta = 1 / (12 * gmin * gmin), tb = 1 / (12 * gmin) + gmax / (12 * gmin * gmin);
    v_text(c,
           "Quantum sweeps (tc K = 2, g = 1, eps = 0.5, tol %g) at Gamma = beta/2 pi g^2 = %g to "
           "%g; least-squares fit ⟨n2⟩ = a Gamma + b. Eq 69 (leading term): a = 1; eq 76: "
           "b = -1/2. Both are the first terms of x/(1 - x) = Gamma - 1/2 + 1/(12 Gamma) - ...; "
           "the tolerances are the bias the next term puts into a line fitted over this range "
           "(a: 1/(12 Gamma_min^2) = %.3g, b: 1/(12 Gamma_min) + Gamma_max/(12 Gamma_min^2) = "
           "%.3g) plus 3 standard errors. --N2 raises N (up to 300: the window "
           "readout reads the states where they live, not all N^2/2).",
           V_TOL, gmin, gmax, ta, tb);
    vsweep s[5];
    memset(s, 0, sizeof s);
    for (int i = 0; i < ng; ++i)
        s[i] = (vsweep){.kind = TCGPU_MODEL_TC,
                        .N = N,
                        .K = 2,
                        .g = 1,
                        .beta = TWO_PI * G[i],
                        .eps = 0.5,
                        .tol = V_TOL};
    int rc = v_sweeps(c, s, (size_t)ng, "two-channel scaling sweeps");
    if (rc) {
        v_sweeps_free(s, (size_t)ng);
        return rc;
    }
    double n2[5], worst = 0;
    for (int i = 0; i < ng; ++i) {
        n2[i] = s[i].mean[1];
        v_worse(&worst, s[i].tv);
    }
    v_fit f;
    if (v_fit_line(G, n2, (size_t)ng, &f))
        return v_sweeps_free(s, (size_t)ng), CLI_RUNTIME;
    v_item(c, worst <= V_TOL, "simulated two-channel laws = eq 61", "TV <= 1e-4",
           "max TV = %.2e over %d sweeps", worst, ng);
    v_item(c, fabs(f.slope - 1) <= ta + 3 * f.se_slope,
           "eq 69: ⟨n2⟩ = beta/(2 pi g^2) (fitted slope a = 1)", "next-order bias + 3 se",
           "a = %.4f ± %.4f (tolerance %.3g)", f.slope, f.se_slope, ta + 3 * f.se_slope);
    v_item(c, fabs(f.intercept + 0.5) <= tb + 3 * f.se_intercept,
           "eq 76: ⟨n2⟩ = beta/(2 pi g^2) - 1/2 (fitted intercept b = -1/2)",
           "next-order bias + 3 se", "b = %.4f ± %.4f (tolerance %.3g)", f.intercept,
           f.se_intercept, tb + 3 * f.se_intercept);
    void *h;
    FILE *fo = v_csv_open(c, "scaling_two.csv", &h);
    if (!fo)
        return v_sweeps_free(s, (size_t)ng), CLI_RUNTIME;
    fputs("Gamma,n2_sim,n2_exact,eq69,x_over_1mx,fit\n", fo);
    for (int i = 0; i <= 100 && !rc; ++i) {
        double g = 0.5 + (gmax + 0.5) * i / 100.0;
        tcgpu_tc_moments mo;
        const double lev[2] = {-1, 1};
        rc = cli_status("validate", tcgpu_exact_tc_moments(N, 2, 1, TWO_PI * g, lev, &mo));
        fprintf(fo, "%.8g,,%.10g,%.10g,%.10g,%.10g\n", g, mo.mean[1],
                tcgpu_asym_n2_eq69(1, TWO_PI * g), tcgpu_asym_n2_limit(1, TWO_PI * g),
                f.intercept + f.slope * g);
    }
    int rcc = v_csv_close(c, h);
    rc = rc ? rc : rcc;
    char script[1536];
    snprintf(script, sizeof script,
             "set title 'Two channels, N = %lld, eps = 0.5: ⟨n_2⟩ after the sweep'\n"
             "set xlabel 'Gamma = beta/(2 pi g^2)'\nset ylabel '⟨n_2⟩'\nset key top left\n"
             "plot 'scaling_two.csv' using 1:3 with lines lw 2 title 'eq 61 (exact, N = %lld)', "
             "'' using 1:4 with lines lw 2 dt 2 title 'eq 69: Gamma', '' using 1:5 with lines "
             "lw 2 dt 3 title 'x/(1-x) (N -> inf)', '' using 1:6 with lines lw 1 dt 4 title "
             "sprintf('fit: a = %.3f, b = %.3f', %.6f, %.6f), 'scaling_two_points.csv' using 1:2 "
             "with points pt 7 ps 1.3 lc rgb 'black' title 'simulation'",
             (long long)N, (long long)N, f.slope, f.intercept, f.slope, f.intercept);
    fo = rc ? NULL : v_csv_open(c, "scaling_two_points.csv", &h);
    if (!rc && !fo)
        rc = CLI_RUNTIME;
    for (int i = 0; !rc && i < ng; ++i)
        fprintf(fo, "%s%.8g,%.10g,%.3e\n", i ? "" : "Gamma,n2_sim,tv\n", G[i], n2[i], s[i].tv);
    if (fo && !rc)
        rc = v_csv_close(c, h);
    if (!rc)
        rc = v_plot(c, "scaling_two.png", "Two channels: ⟨n2⟩ against Gamma (eqs 69, 76)",
                    "scaling_two_points.csv", script);
    v_sweeps_free(s, (size_t)ng);
    return rc;
}
