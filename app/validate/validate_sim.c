/* Quantum simulations against exact laws: Fig 3's distribution (tc K = 1), Figs 7-8 (the
 * effective two-mode model, eqs 72, 75, 76), Demkov-Osherov (eq 7) and the eps-independence of
 * the two-channel probabilities. Every sweep runs at tolerance V_TOL (total-variation distance
 * of its final distribution, estimated by the accuracy control), which is the tolerance of the
 * comparison with the exact law. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tcgpu/exact.h"
#include "tcgpu/propagate.h"
#include "validate.h"

#define TWO_PI 6.283185307179586
#define V_TOL 1e-4

static int64_t argmax(const double *p, int64_t n) {
    int64_t k = 0;
    for (int64_t i = 1; i < n; ++i)
        if (p[i] > p[k])
            k = i;
    return k;
}

int vcheck_fig3_sim(vctx *c) {
    const int64_t N = c->quick ? 100 : 1000;
    const double qs[] = {0.6, 1.5, 4};
    enum { NQ = 3 };
    char title[128];
    snprintf(title, sizeof title, "Fig 3, simulated: P_m at N = %lld, tc K = 1", (long long)N);
    v_section(c, title);
    v_text(c,
           "Quantum sweeps (tcgpu_sweep_auto, Magnus-4, superadiabatic start and readout, tol %g) "
           "at q = 0.6, 1.5, 4 (g = 1, beta = 2 pi N/(q ln N)) against eq 40.",
           V_TOL);
    vsweep s[NQ];
    memset(s, 0, sizeof s);
    for (int i = 0; i < NQ; ++i)
        s[i] = (vsweep){.kind = TCGPU_MODEL_TC,
                        .N = N,
                        .K = 1,
                        .g = 1,
                        .beta = TWO_PI * (double)N / (qs[i] * log((double)N)),
                        .tol = V_TOL};
    int rc = v_sweeps(c, s, NQ, "fig3 sweeps");
    void *h = NULL;
    FILE *f = rc ? NULL : v_csv_open(c, "fig3_sim.csv", &h);
    if (!rc && !f)
        rc = CLI_RUNTIME;
    if (!rc) {
        fputs("m", f);
        for (int i = 0; i < NQ; ++i)
            fprintf(f, ",eq 40 q=%g,simulated q=%g", qs[i], qs[i]);
        fputc('\n', f);
        for (int64_t m = 0; m <= N; ++m) {
            fprintf(f, "%lld", (long long)m);
            for (int i = 0; i < NQ; ++i)
                fprintf(f, ",%.10g,%.10g", s[i].ex[m], s[i].p[m]);
            fputc('\n', f);
        }
        rc = v_csv_close(c, h);
    }
    for (int i = 0; !rc && i < NQ; ++i) {
        char claim[160];
        int64_t ms = argmax(s[i].p, N + 1), me = argmax(s[i].ex, N + 1);
        snprintf(claim, sizeof claim,
                 "eq 40 at N = %lld, q = %g (beta = %.4g): simulated = exact; maximum at m %s 0",
                 (long long)N, qs[i], s[i].beta, qs[i] < 0.76 ? "=" : ">");
        v_item(c, s[i].tv <= V_TOL && ms == me && (qs[i] < 0.76) == (ms == 0), claim,
               "TV <= 1e-4, same m_max", "TV = %.2e, m_max = %lld (exact %lld), %.1f s", s[i].tv,
               (long long)ms, (long long)me, s[i].seconds);
    }
    if (!rc) {
        char script[1536];
        int every = N > 200 ? 8 : 1;
        snprintf(script, sizeof script,
                 "set title 'Fig 3 at N = %lld: eq 40 (lines) and quantum simulation (points)'\n"
                 "set xlabel 'm (molecules dissociated)'\nset ylabel 'P_m'\nset key top center\n"
                 "plot for [i=0:2] 'fig3_sim.csv' using 1:2+2*i with lines lw 2 lc i+1 "
                 "title columnhead(2+2*i), "
                 "for [i=0:2] '' every %d using 1:3+2*i with points pt 6 ps 1 lc i+1 "
                 "title columnhead(3+2*i)",
                 (long long)N, every);
        rc = v_plot(c, "fig3_sim.png", "Fig 3: simulated P_m (points) against eq 40 (lines)",
                    "fig3_sim.csv", script);
    }
    v_sweeps_free(s, NQ);
    return rc;
}

/* Figs 7-8: the effective model of eq 72 in the sector n = 50 (g = 1, eps = 1). */
int vcheck_heff(vctx *c) {
    const int64_t n = 50;
    static const double full[] = {0.5, 1, 2, 5, 10, 20, 30, 50, 70, 100};
    static const double quick[] = {1, 5, 20, 50};
    const double *betas = c->quick ? quick : full;
    size_t nb = c->quick ? sizeof quick / sizeof *quick : sizeof full / sizeof *full;
    v_section(c, "Figs 7-8: effective two-mode model (eq 72), n = 50, against eqs 75-76");
    v_text(c,
           "Quantum sweeps of eq 72 (model heff, g = 1, eps = 1, tol %g) over beta. Fig 7: the "
           "final law is the Gibbs law eq 75, P(n2) ~ x^n2 (TV). Fig 8: ⟨n2⟩ against eq 76; "
           "eq 76 is for n -> inf, so its tolerance adds the truncation of the geometric law at "
           "n (its mean differs from the infinite one by (n+1) x^(n+1)/(1 - x^(n+1))) to "
           "2 n TV, the most a TV error can move ⟨n2⟩.",
           V_TOL);
    vsweep *s = calloc(nb, sizeof *s);
    if (!s)
        return CLI_RUNTIME;
    for (size_t i = 0; i < nb; ++i)
        s[i] = (vsweep){.kind = TCGPU_MODEL_HEFF,
                        .N = n,
                        .K = 2,
                        .g = 1,
                        .beta = betas[i],
                        .eps = 1,
                        .tol = V_TOL};
    int rc = v_sweeps(c, s, nb, "heff sweeps");
    void *h = NULL;
    FILE *f = rc ? NULL : v_csv_open(c, "fig8.csv", &h);
    if (!rc && !f)
        rc = CLI_RUNTIME;
    double worst_tv = 0, worst_r = 0;
    size_t i7 = nb;
    if (!rc) {
        fputs("Gamma,beta,n2_sim,n2_exact_n50,eq76_coth,eq76_linear,tv\n", f);
        for (size_t i = 0; i < nb; ++i) {
            double b = s[i].beta, x = exp(-TWO_PI / b), ex;
            tcgpu_exact_heff_mean_n2(n, 1, b, &ex);
            double coth = tcgpu_asym_heff_n2_eq76_coth(1, b);
            double trunc =
                (double)(n + 1) * pow(x, (double)(n + 1)) / (1 - pow(x, (double)(n + 1)));
            double tol = trunc + 2 * (double)n * V_TOL;
            double r = fabs(s[i].mean[1] - coth) / tol;
            v_worse(&worst_r, r);
            v_worse(&worst_tv, s[i].tv);
            if (b == 50)
                i7 = i;
            fprintf(f, "%.8g,%.8g,%.12g,%.12g,%.12g,%.12g,%.3e\n", b / TWO_PI, b, s[i].mean[1], ex,
                    coth, tcgpu_asym_heff_n2_eq76_linear(1, b), s[i].tv);
        }
        rc = v_csv_close(c, h);
    }
    if (!rc) {
        v_item(c, worst_tv <= V_TOL, "Fig 7, eq 75: final law in the sector is Gibbs, P ~ x^n2",
               "TV <= 1e-4 at every beta", "max TV = %.2e over %zu rates (beta %g to %g)", worst_tv,
               nb, betas[0], betas[nb - 1]);
        v_item(c, worst_r <= 1, "Fig 8, eq 76: ⟨n2⟩ = coth(pi g^2/beta)/2 - 1/2",
               "2 n TV + truncation at n (see text)",
               "max |⟨n2⟩ - eq 76| / tolerance = %.3g over %zu rates", worst_r, nb);
    }
    if (!rc && i7 < nb) {
        f = v_csv_open(c, "fig7.csv", &h);
        if (!f)
            rc = CLI_RUNTIME;
        for (int64_t k = 0; !rc && k <= n; ++k) { /* state index = n1; delta n = n2 - n1 */
            int64_t n2 = n - k;
            fprintf(f, "%s%lld,%.12g,%.12g\n", k ? "" : "delta_n,eq75,simulated\n",
                    (long long)(n2 - k), s[i7].ex[k], s[i7].p[k]);
        }
        if (!rc)
            rc = v_csv_close(c, h);
        if (!rc)
            rc = v_plot(
                c, "fig7.png", "Fig 7: P(delta n) at n = 50, beta = 50: eq 75 and simulation",
                "fig7.csv",
                "set title 'Fig 7: n = 50, g = 1, beta = 50, eps = 1'\n"
                "set xlabel 'delta n = n_2 - n_1'\nset ylabel 'P(delta n)'\n"
                "set logscale y\nset format y '10^{%L}'\nset key top right\n"
                "set xrange [-52:0]\nset yrange [1e-6:1]\n"
                "plot 'fig7.csv' using 1:2 with impulses lw 2 title 'eq 75 (Gibbs)', "
                "'' using 1:3 with points pt 4 ps 1.2 lc rgb 'black' title 'simulation (eq 72)'");
    }
    if (!rc)
        rc = v_plot(
            c, "fig8.png", "Fig 8: ⟨n2⟩ of the effective model: eq 76 and simulation", "fig8.csv",
            "set title 'Fig 8: ⟨n_2⟩ after the sweep, n = 50, g = 1, eps = 1'\n"
            "set xlabel 'beta/(2 pi g^2)'\nset ylabel '⟨n_2⟩'\nset key top left\n"
            "plot 'fig8.csv' using 1:6 with lines lw 2 title 'eq 76: beta/2pi g^2 - 1/2', "
            "'' using 1:5 with lines lw 2 dt 2 title 'eq 76: coth(pi g^2/beta)/2 - 1/2', "
            "'' using 1:4 with lines lw 1 dt 4 lc rgb 'gray40' title 'eq 75 mean, finite n = 50', "
            "'' using 1:3 with points pt 7 ps 1.3 lc rgb 'black' title 'simulation (eq 72)'");
    v_sweeps_free(s, nb);
    free(s);
    return rc;
}

/* Demkov-Osherov (eq 7) and the eps-independence of the two-channel law (eq 61 depends on the
 * pair energies only through their order). */
int vcheck_do_eps(vctx *c) {
    enum { ND = 3, NE = 3 };
    static const double dob[ND] = {0.5, 2, 10}, eps[NE] = {0.25, 0.5, 1};
    const int64_t N = c->quick ? 10 : 20;
    v_section(c, "Demkov-Osherov (eq 7) and eps-independence of the probabilities");
    v_text(c,
           "Demkov-Osherov: one level of slope beta crossing K = 3 parallel levels (-2, 0, 2), "
           "g = 1. Two channels: tc K = 2, N = %lld, g = 1, beta = 1, pair energies -2 eps, "
           "+2 eps (eq 59) for eps = 0.25, 0.5, 1: the simulated laws agree with eq 61 and with "
           "each other (tol %g each, so 2 tol between two of them).",
           (long long)N, V_TOL);
    vsweep s[ND + NE];
    memset(s, 0, sizeof s);
    for (int i = 0; i < ND; ++i)
        s[i] = (vsweep){
            .kind = TCGPU_MODEL_DO, .N = 1, .K = 3, .g = 1, .beta = dob[i], .eps = 1, .tol = V_TOL};
    for (int i = 0; i < NE; ++i)
        s[ND + i] = (vsweep){
            .kind = TCGPU_MODEL_TC, .N = N, .K = 2, .g = 1, .beta = 1, .eps = eps[i], .tol = V_TOL};
    int rc = v_sweeps(c, s, ND + NE, "do/eps sweeps");
    for (int i = 0; !rc && i < ND; ++i) {
        char claim[128];
        snprintf(claim, sizeof claim, "eq 7 at beta = %g: P_0 = x^3, P_k = x^(k-1)(1 - x)", dob[i]);
        v_item(c, s[i].tv <= V_TOL, claim, "TV <= 1e-4", "TV = %.2e (P_0 = %.6f, exact %.6f)",
               s[i].tv, s[i].p[0], s[i].ex[0]);
    }
    double worst = 0, worst_pair = 0;
    for (int i = 0; !rc && i < NE; ++i) {
        v_worse(&worst, s[ND + i].tv);
        for (int j = 0; j < i; ++j)
            v_worse(&worst_pair, tcgpu_tv(s[ND + i].p, s[ND + j].p, s[ND + i].m.dim));
    }
    if (!rc) {
        v_item(c, worst <= V_TOL, "eq 61: two-channel law at eps = 0.25, 0.5, 1", "TV <= 1e-4 each",
               "max TV to eq 61 = %.2e (⟨n2⟩ = %.6f, %.6f, %.6f)", worst, s[ND].mean[1],
               s[ND + 1].mean[1], s[ND + 2].mean[1]);
        v_item(c, worst_pair <= 2 * V_TOL,
               "the probabilities do not depend on eps (only on the order of the levels)",
               "pairwise TV <= 2e-4", "max pairwise TV = %.2e", worst_pair);
    }
    v_sweeps_free(s, ND + NE);
    return rc;
}
