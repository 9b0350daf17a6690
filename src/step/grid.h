/* The time grid and the class phasors of the interaction picture, shared by the CPU march and
 * the CUDA kernels so that both take identical steps with identical weights.
 *
 * The grid advances a fixed "phase" du per step: h(t) = du / r(t) with the local rate r(t)
 * below. It refines where the chirp beta t of the interaction picture is fast and varies
 * smoothly (a step that jumps leaves a coherent error, shared/PHYSICS.md), so halving kappa
 * halves every step: Richardson estimates stay valid. */
#ifndef TCGPU_GRID_H
#define TCGPU_GRID_H

#include "step.h"
#include "tcgpu/model.h"

/* What the grid and the weights need of a model: its phase classes, Gershgorin bound of |V|,
 * and whether the coupling carries f(t) = 1/t. */
typedef struct {
    const tcgpu_phase_class *classes;
    int nclass;
    int inverse_t;
    double vbound;
    /* |V| in the rate below: vbound, or vbound 4^-level where the control has measured that the
     * steps' error allows |V|-limited steps 2^level times longer (tcgpu_grid_vrate) */
    double vrate;
} tcgpu_grid;
/* The rate's |V| at step level `level` (0: the rate as measured below). */
TCGPU_HD static inline double tcgpu_grid_vrate(double vbound, int level) {
    return ldexp(vbound, -2 * level);
}

TCGPU_HD static inline double tcgpu_coupling_factor(const tcgpu_grid *g, double t) {
    return g->inverse_t ? 1.0 / t : 1.0;
}

/* Local rate r(t) of the grid: r^2 = w^2 + 4<|db|> + |V| f(t) sqrt(w^2 + <|db|>), w^2 the mean
 * squared phase velocity of the classes. 4<|db|> resolves the chirp exp(i beta t^2/2) where its
 * velocity passes zero (tc K = 2, N = 1, eps = 0.1, beta = 10, kappa = 0.5: TV 6.6e-5 without,
 * 5.4e-6 with, same cost). The |V| term is a geometric mean because a Chebyshev
 * exponential takes h|V| >> 1 in its stride and the Magnus error comes from how fast M(t)
 * turns, not from |V| itself. Measured at fixed window and kappa = 0.5 against r^2 = w^2 +
 * |V|^2: tc K = 1, N = 100, beta = 1: TV 1.1e-7 in both, 0.52 s instead of 2.1 s; beta = 100:
 * 1.1e-6 in both, 0.10 s instead of 0.16 s; K = 2, N = 20, eps = 0.5, beta = 1: 2.4e-7 vs
 * 2.6e-7, 1.8 s instead of 2.0 s. Dropping the |V| term to 0.1 |V| instead lost accuracy (beta
 * = 0.05, kappa = 1: 7.9e-4). */
TCGPU_HD static inline double tcgpu_rate(const tcgpu_grid *g, double t) {
    double w2 = 0, bb = 0;
    for (int c = 0; c < g->nclass; ++c) {
        const tcgpu_phase_class *k = &g->classes[c];
        double w = k->db * t + k->da + (k->dw != 0 ? k->dw / t : 0.0);
        w2 += w * w;
        bb += fabs(k->db);
    }
    if (g->nclass > 0) {
        w2 /= g->nclass;
        bb /= g->nclass;
    }
    double v = g->vrate * fabs(tcgpu_coupling_factor(g, t)), x = sqrt(w2 + bb);
    /* f(t) = 1/t: a step must stay short against t itself, or the Gauss nodes misjudge the
     * integral of 1/t across it whatever |V| (heff n = 1, beta = 30: steps multiplied t by 16,
     * the error fell only like kappa^1.2 and the 4th-order Richardson estimate read 3e-7 for a
     * true 5.1e-6). (2/t)^2 keeps h/t <= kappa/2, a few steps per decade. */
    double lt = g->inverse_t ? 4.0 / (t * t) : 0.0;
    return sqrt(w2 + 4 * bb + lt + (x > 0 ? v * x : v * v)) + 1e-12;
}

/* Integral of r over [a, b] by 3-point Gauss-Legendre. */
TCGPU_HD static inline double tcgpu_rate_integral(const tcgpu_grid *g, double a, double b) {
    const double x = 0.77459666924148337704, w0 = 8.0 / 9, w1 = 5.0 / 9;
    double c = 0.5 * (a + b), h = 0.5 * (b - a);
    return h * (w0 * tcgpu_rate(g, c) + w1 * (tcgpu_rate(g, c - h * x) + tcgpu_rate(g, c + h * x)));
}

/* Phase of [a, b] on `panels` equal panels (log-spaced when a > 0 and b/a > 10). */
TCGPU_HD static inline double tcgpu_rate_panels(const tcgpu_grid *g, double a, double b,
                                                int panels) {
    int logs = a > 0 && b / a > 10;
    double s = 0, x0 = a, r = logs ? pow(b / a, 1.0 / panels) : 0;
    for (int p = 0; p < panels; ++p) {
        double x1 = p + 1 == panels ? b : logs ? x0 * r : a + (b - a) * (p + 1) / panels;
        s += tcgpu_rate_integral(g, x0, x1);
        x0 = x1;
    }
    return s;
}

/* Total phase of [a, b]: panels doubled from 64 until two agree to 1e-11 (the 3-point rule is
 * of order 6, so the finer is then within ~2e-13), at most 8192. It sets the steps' count and
 * phase (tcgpu_grid_plan); the last step ends at b whatever its error. A fixed 4000 panels
 * (12 000 rates) was most of a small model's sweep: heff n = 1, beta = 3, tol 1e-6 spent 22 %
 * of its process here, replanning every stretch between readouts. */
TCGPU_HD static inline double tcgpu_rate_total(const tcgpu_grid *g, double a, double b) {
    double prev = tcgpu_rate_panels(g, a, b, 64);
    for (int panels = 128; panels <= 8192; panels *= 2) {
        double s = tcgpu_rate_panels(g, a, b, panels);
        if (fabs(s - prev) <= 1e-11 * fabs(s))
            return s;
        prev = s;
    }
    return prev;
}

/* The step from t that advances the phase by du (Newton on the Gauss integral). */
TCGPU_HD static inline double tcgpu_next_step(const tcgpu_grid *g, double t, double du) {
    double h = du / tcgpu_rate(g, t + 0.5 * du / tcgpu_rate(g, t));
    for (int it = 0; it < 3; ++it)
        h -= (tcgpu_rate_integral(g, t, t + h) - du) / tcgpu_rate(g, t + h);
    return h;
}

/* The step k of the S-step grid of phase du that ends at b, from t: tcgpu_next_step, except
 * that the last step ends at b exactly and a step that would overshoot b shares what is left
 * equally among the steps left. */
TCGPU_HD static inline double tcgpu_step_size(const tcgpu_grid *g, double du, int64_t S, int64_t k,
                                              double b, double t) {
    double h = k + 1 == S ? b - t : tcgpu_next_step(g, t, du);
    if (k + 1 < S && t + h > b)
        h = (b - t) / (double)(S - k);
    return h;
}

/* The Gauss nodes of the Magnus-4 step [t, t + h]. */
TCGPU_HD static inline void tcgpu_cf4_nodes(double t, double h, double *ta, double *tb) {
    const double d = 0.28867513459481288225; /* sqrt(3)/6 */
    *ta = t + (0.5 - d) * h;
    *tb = t + (0.5 + d) * h;
}

/* Double-double arithmetic for the phases: they reach 1e9 rad and must be reduced mod 2 pi to
 * ~1e-16 rad; long double does not exist on the device (and had 1e-10 rad there). */
typedef struct {
    double hi, lo;
} tcgpu_dd;

TCGPU_HD static inline tcgpu_dd tcgpu_two_sum(double a, double b) {
    double s = a + b, bb = s - a;
    return (tcgpu_dd){s, (a - (s - bb)) + (b - bb)};
}

/* a * b exactly: fma where the hardware has it, Dekker's split elsewhere (the x86-64 baseline
 * has no fma instruction and libm's emulation is slow); both give the same exact pair. */
TCGPU_HD static inline tcgpu_dd tcgpu_two_prod(double a, double b) {
    double p = a * b;
#if defined(__CUDA_ARCH__) || defined(__FMA__)
    return (tcgpu_dd){p, fma(a, b, -p)};
#else
    const double split = 134217729.0; /* 2^27 + 1 */
    double ca = split * a, cb = split * b;
    double ah = ca - (ca - a), al = a - ah, bh = cb - (cb - b), bl = b - bh;
    return (tcgpu_dd){p, ((ah * bh - p) + ah * bl + al * bh) + al * bl};
#endif
}

TCGPU_HD static inline tcgpu_dd tcgpu_dd_add(tcgpu_dd a, tcgpu_dd b) {
    tcgpu_dd s = tcgpu_two_sum(a.hi, b.hi);
    double lo = s.lo + a.lo + b.lo;
    return tcgpu_two_sum(s.hi, lo);
}

/* d * (x.hi + x.lo), d a double. */
TCGPU_HD static inline tcgpu_dd tcgpu_dd_scale(tcgpu_dd x, double d) {
    tcgpu_dd p = tcgpu_two_prod(x.hi, d);
    return tcgpu_two_sum(p.hi, p.lo + x.lo * d);
}

/* db t^2/2 + da t + dw ln|t| reduced to [-pi, pi]. The quadratic and linear terms are exact
 * products summed in double-double; ln|t| carries its own rounding (1 ulp of a number below
 * 50, times dw). */
TCGPU_HD static inline double tcgpu_phase(double db, double da, double dw, double t) {
    const tcgpu_dd two_pi = {6.283185307179586232, 2.4492935982947064e-16};
    tcgpu_dd tt = tcgpu_two_prod(t, t);
    tcgpu_dd ph = tcgpu_dd_scale(tt, 0.5 * db);
    ph = tcgpu_dd_add(ph, tcgpu_two_prod(da, t));
    if (dw != 0)
        ph = tcgpu_dd_add(ph, tcgpu_two_prod(dw, log(fabs(t))));
    double k = nearbyint(ph.hi / two_pi.hi);
    /* ph - k 2pi: k < 2^53 and k 2pi.hi is exact as a pair, so only k 2pi.lo rounds (1e-32 k). */
    tcgpu_dd kp = tcgpu_two_prod(k, two_pi.hi);
    tcgpu_dd r = tcgpu_two_sum(ph.hi, -kp.hi);
    return r.hi + ((r.lo + ph.lo) - kp.lo - k * two_pi.lo);
}

#define TCGPU_BODY "grid_body.h"
#include "instantiate.h"

/* Steps S and phase per step du of [a, b] at step parameter kappa. */
static inline void tcgpu_grid_plan(const tcgpu_grid *g, double kappa, double a, double b,
                                   int64_t *S, double *du) {
    double total = tcgpu_rate_total(g, a, b);
    int64_t n = (int64_t)ceil(total / kappa);
    if (n < 1)
        n = 1;
    *S = n;
    *du = total / (double)n;
}

#endif
