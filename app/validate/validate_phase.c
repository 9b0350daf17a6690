/* Fig 4: scattering phases of the single-channel model, N = 3, from the simulated amplitudes.
 *
 * The march keeps phi_i = exp(i theta_i) psi_i, theta_i = b_i t^2/2 (tc K = 1, pair energy 0).
 * At a late time T the lab amplitude of diabatic state m is psi_m ~ S_m0 exp(i theta_m(T))
 * with theta_m = -(N - m) beta T^2/2 - (G_m/beta) ln(sqrt(beta) T) (eq 57 as corrected in
 * PHYSICS.md), so Phi_m = arg S_m0 - arg S_00 needs no knowledge of the start's global phase.
 * The bare amplitudes still carry the admixture of the neighbouring states, of order
 * g_(m+1,m)/(beta T): projecting on the first-order dressed states |m> + sum_k V_km/(E_m - E_k)
 * |k> leaves a second-order error. Two readout times estimate what is left. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tcgpu/exact.h"
#include "tcgpu/propagate.h"
#include "validate.h"

#define PI 3.14159265358979323846
#define NPH 3 /* N of Fig 4 */
#define G_LO 0.05
#define G_HI 0.75

static double coupling(double g, int64_t N, int64_t m) { /* g_(m,m-1) = g m sqrt(N - m + 1) */
    return m <= 0 || m > N ? 0 : g * (double)m * sqrt((double)(N - m + 1));
}

/* Phi_m (m = 0..N, Phi_0 = 0) read from the sweep's state at its current time T. */
static void phases_at(const tcgpu_model *md, const double *x, double T, double *phi) {
    int64_t d = md->dim, N = md->N;
    double complex psi[NPH + 1], A[NPH + 1], rot[NPH + 1];
    for (int64_t i = 0; i < d; ++i) {
        long double th = 0.5L * (long double)md->b[i] * (long double)T * (long double)T;
        rot[i] = cexp(I * (double)fmodl(th, 2 * 3.14159265358979323846264338327950L));
        psi[i] = (x[2 * i] + I * x[2 * i + 1]) / rot[i];
    }
    for (int64_t m = 0; m < d; ++m) {
        A[m] = psi[m];
        for (int64_t e = md->row_ptr[m]; e < md->row_ptr[m + 1]; ++e) {
            int64_t k = md->col[e];
            double gap = (md->b[m] - md->b[k]) * T + (md->a[m] - md->a[k]);
            A[m] += md->val[e] / gap * psi[k];
        }
        A[m] *= rot[m]; /* back to the frame without the (N - m) beta T^2/2 of eq 57 */
    }
    double beta = md->beta, g = md->g, L = log(sqrt(beta) * T);
    double G0 = coupling(g, N, 1) * coupling(g, N, 1);
    for (int64_t m = 0; m < d; ++m) {
        double Gm =
            coupling(g, N, m + 1) * coupling(g, N, m + 1) - coupling(g, N, m) * coupling(g, N, m);
        phi[m] = carg(A[m]) - carg(A[0]) + (Gm - G0) / beta * L;
    }
}

int vcheck_phases(vctx *c) {
    const int ng = c->quick ? 6 : 16;
    const double beta = 1, T1 = 200, T2 = 400, T0 = 40, tolrad = 0.01;
    v_section(c, "Fig 4: scattering phases Phi_m(g), N = 3, beta = 1 (eq 58 corrected)");
    v_text(c,
           "One sweep per g (tc K = 1, N = 3, Magnus-4, superadiabatic start at t = -%g, "
           "kappa = 0.1); at T = %g and %g the amplitudes are projected on the first-order "
           "dressed diabatic states and Phi_m = arg S_m0 - arg S_00 is read with the "
           "asymptotic phases of eq 57 (PHYSICS.md's sign). Tolerance %g rad on the "
           "difference to eq 58 (mod 2 pi); the change between the two readout times is "
           "reported as the window error. The plot shows Phi_m - 5 m pi/4 (the g -> 0 limit of "
           "eq 58), as Fig 4 normalizes. g runs from %g to %g: the phases are relative to S_00, "
           "and beyond g ~ 0.8 P_0 = x^3 falls below 1e-6, where the readout's residual "
           "admixture of |1> swamps the amplitude of |0>.",
           T0, T1, T2, tolrad, G_LO, G_HI);
    void *h;
    FILE *f = v_csv_open(c, "fig4.csv", &h);
    if (!f)
        return CLI_RUNTIME;
    fputs("g,exact1,exact2,exact3,sim1,sim2,sim3\n", f);
    double worst = 0, wwin = 0, wg = 0;
    int rc = CLI_OK;
    v_progress(c, "phases: %d sweeps", ng);
    for (int i = 0; i < ng && !rc; ++i) {
        double g = G_LO + (G_HI - G_LO) * i / (ng - 1), e = 0, ex[NPH + 1], s1[NPH + 1],
               s2[NPH + 1];
        tcgpu_model md;
        tcgpu_sweep *sw = NULL;
        tcgpu_status st = tcgpu_model_tc(&md, NPH, 1, g, beta, &e);
        if (st) {
            rc = cli_status("validate", st);
            break;
        }
        st = tcgpu_sweep_begin(&md, TCGPU_METHOD_MAGNUS4, TCGPU_FP64, -T0, 0.1, 1, &sw);
        if (!st)
            st = tcgpu_sweep_advance(sw, T1);
        if (!st)
            phases_at(&md, tcgpu_sweep_state(sw), tcgpu_sweep_time(sw), s1);
        if (!st)
            st = tcgpu_sweep_advance(sw, T2);
        if (!st)
            phases_at(&md, tcgpu_sweep_state(sw), tcgpu_sweep_time(sw), s2);
        if (!st)
            st = tcgpu_exact_phases(NPH, g, beta, ex);
        tcgpu_sweep_end(sw);
        tcgpu_model_free(&md);
        if (st) {
            rc = cli_status("validate", st);
            break;
        }
        fprintf(f, "%.6g", g);
        for (int m = 1; m <= NPH; ++m)
            fprintf(f, ",%.10g", ex[m] - 1.25 * PI * m);
        for (int m = 1; m <= NPH; ++m) {
            double dev = remainder(s2[m] - ex[m], 2 * PI), win = remainder(s2[m] - s1[m], 2 * PI);
            if (v_worse(&worst, fabs(dev)))
                wg = g;
            v_worse(&wwin, fabs(win));
            fprintf(f, ",%.10g", ex[m] + dev - 1.25 * PI * m); /* on the exact curve's branch */
        }
        fputc('\n', f);
    }
    int rcc = v_csv_close(c, h);
    if (rc || rcc)
        return rc ? rc : rcc;
    f = v_csv_open(c, "fig4_eq58.csv", &h); /* the exact curves on a fine grid */
    if (!f)
        return CLI_RUNTIME;
    fputs("g,eq58_1,eq58_2,eq58_3\n", f);
    for (int i = 0; i <= 200 && !rc; ++i) {
        double g = G_LO * (1 - i / 200.0) + G_HI * (i / 200.0), ex[NPH + 1];
        rc = cli_status("validate", tcgpu_exact_phases(NPH, g, beta, ex));
        fprintf(f, "%.6g,%.10g,%.10g,%.10g\n", g, ex[1] - 1.25 * PI, ex[2] - 2.5 * PI,
                ex[3] - 3.75 * PI);
    }
    rcc = v_csv_close(c, h);
    if (rc || rcc)
        return rc ? rc : rcc;
    v_item(c, worst <= tolrad && wwin <= tolrad,
           "eq 58 (corrected): Phi_m(g) = 3 m pi/4 + sum_k [arg Gamma(i (k + N - m) g^2/beta) - "
           "2 arg Gamma(i k g^2/beta)], m = 1..3",
           "0.01 rad",
           "max abs(Phi_sim - Phi_eq58) = %.2e rad (at g = %.3g) over %d values of g; readout "
           "T = 200 vs 400 differ by <= %.2e rad",
           worst, wg, ng, wwin);
    return v_plot(
        c, "fig4.png", "Fig 4: scattering phases, eq 58 (lines) and simulation (points)",
        "fig4.csv",
        "set title 'Fig 4: N = 3, beta = 1: Phi_m(g) - 5 m pi/4'\n"
        "set xlabel 'g'\nset ylabel 'Phi_m - Phi_m(g -> 0)  [rad]'\nset key top left\n"
        "plot for [m=1:3] 'fig4_eq58.csv' using 1:1+m with lines lw 2 lc m title "
        "sprintf('eq 58, m = %d', m), for [m=1:3] 'fig4.csv' using 1:4+m with points pt 7 "
        "ps 1.2 lc m title sprintf('simulation, m = %d', m)");
}
