/* One truncated-Wigner trajectory of the driven TC model, written once for the CPU ensemble
 * (src/twa/semiclassical.c) and the CUDA one (src/backend/cuda/twa.cu): plain C that gcc and nvcc
 * both compile, on the small complex type of src/step/step.h.
 *
 * Units of the integrator: time tau = sqrt(beta) t, amplitudes divided by sqrt(N), and the
 * interaction picture with respect to the diagonal,
 *   psi = sqrt(N) Y[0] exp(-i tau^2/2),  a_k = sqrt(N) Y[1+2k] exp(-i e_k t/2),
 *   b_k = sqrt(N) Y[2+2k] exp(-i e_k t/2),
 * so that only the coupling terms, with phases theta_k = tau^2/2 - (e_k/sqrt(beta)) tau, are
 * integrated: the far field's fast rotation beta t of psi is taken exactly. The flow:
 *   dY0/dtau  = -i G sum_k A_k B_k e^{i theta_k},
 *   dA_k/dtau = -i G Y0 conj(B_k) e^{-i theta_k},  dB_k/dtau = -i G Y0 conj(A_k) e^{-i theta_k},
 * integrated by Dormand-Prince 5(4) with step control; the invariants are watched per step. */
#ifndef TCGPU_TWA_H
#define TCGPU_TWA_H

#include <math.h>
#include <stdint.h>

#include "step.h"
#include "tcgpu/exact.h"

#ifndef __CUDA_ARCH__
#include "tcgpu/status.h"
#endif

#define TWA_MAX_Y (1 + 2 * TCGPU_MAX_CHANNELS)
#define TWA_TWO_PI 6.283185307179586476925286766559

typedef tcgpu_cplx twa_c;

TCGPU_HD static inline twa_c twa_cx(double re, double im) {
    twa_c z = {re, im};
    return z;
}
TCGPU_HD static inline twa_c twa_add(twa_c a, twa_c b) { return twa_cx(a.re + b.re, a.im + b.im); }
TCGPU_HD static inline twa_c twa_sub(twa_c a, twa_c b) { return twa_cx(a.re - b.re, a.im - b.im); }
TCGPU_HD static inline twa_c twa_mul(twa_c a, twa_c b) {
    return twa_cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
TCGPU_HD static inline twa_c twa_scale(twa_c a, double s) { return twa_cx(s * a.re, s * a.im); }
TCGPU_HD static inline twa_c twa_conj(twa_c a) { return twa_cx(a.re, -a.im); }
TCGPU_HD static inline twa_c twa_mi(twa_c a) { return twa_cx(a.im, -a.re); } /* -i a */
TCGPU_HD static inline double twa_abs(twa_c a) { return hypot(a.re, a.im); }
TCGPU_HD static inline double twa_sq(twa_c a) { return a.re * a.re + a.im * a.im; }
TCGPU_HD static inline twa_c twa_expi(double th) { return twa_cx(cos(th), sin(th)); }

typedef struct {
    int K;
    double G;                     /* g sqrt(N / beta): coupling in these units */
    double e[TCGPU_MAX_CHANNELS]; /* e_k / sqrt(beta) */
    double rtol, atol;            /* per-component error scale atol + rtol |y| */
} twa_flow;

typedef struct {
    int64_t steps, rejected;
    double drift; /* max change of the invariants (units of N) over the accepted steps */
} twa_count;

TCGPU_HD static inline void twa_rhs(const twa_flow *f, double tau, const twa_c *y, twa_c *dy) {
    twa_c s = {0, 0};
    for (int k = 0; k < f->K; ++k) {
        twa_c ph = twa_expi(tau * (0.5 * tau - f->e[k]));
        twa_c a = y[1 + 2 * k], b = y[2 + 2 * k];
        s = twa_add(s, twa_mul(twa_mul(a, b), ph));
        twa_c m = twa_mul(twa_scale(twa_mi(y[0]), f->G), twa_conj(ph));
        dy[1 + 2 * k] = twa_mul(m, twa_conj(b));
        dy[2 + 2 * k] = twa_mul(m, twa_conj(a));
    }
    dy[0] = twa_scale(twa_mi(s), f->G);
}

/* |Y0|^2 + sum_k (|A_k|^2 + |B_k|^2)/2 (the Weyl symbol of N / N, up to the constant). */
TCGPU_HD static inline double twa_total(const twa_flow *f, const twa_c *y) {
    double s = twa_sq(y[0]);
    for (int i = 1; i <= 2 * f->K; ++i)
        s += 0.5 * twa_sq(y[i]);
    return s;
}

TCGPU_HD static inline double twa_drift(const twa_flow *f, const twa_c *y, double total0,
                                        const double *j0) {
    double d = fabs(twa_total(f, y) - total0);
    for (int k = 0; k < f->K; ++k) {
        double a = twa_abs(y[1 + 2 * k]), b = twa_abs(y[2 + 2 * k]);
        d = fmax(d, fabs(a * a - b * b - j0[k]));
    }
    return d;
}

/* Integrates y from tau0 to tau1; returns 1 if the step size underflowed, 2 if stopped on
 * request (tcgpu_request_stop; the host only). */
TCGPU_HD static inline int twa_integrate(const twa_flow *f, twa_c *y, double tau0, double tau1,
                                         twa_count *c) {
    /* Dormand-Prince 5(4) tableau */
    const double C2 = 1. / 5, C3 = 3. / 10, C4 = 4. / 5, C5 = 8. / 9;
    const double A21 = 1. / 5;
    const double A31 = 3. / 40, A32 = 9. / 40;
    const double A41 = 44. / 45, A42 = -56. / 15, A43 = 32. / 9;
    const double A51 = 19372. / 6561, A52 = -25360. / 2187, A53 = 64448. / 6561, A54 = -212. / 729;
    const double A61 = 9017. / 3168, A62 = -355. / 33, A63 = 46732. / 5247, A64 = 49. / 176,
                 A65 = -5103. / 18656;
    const double B1 = 35. / 384, B3 = 500. / 1113, B4 = 125. / 192, B5 = -2187. / 6784,
                 B6 = 11. / 84;
    const double E1 = 71. / 57600, E3 = -71. / 16695, E4 = 71. / 1920, E5 = -17253. / 339200,
                 E6 = 22. / 525, E7 = -1. / 40;
    const int n = 1 + 2 * f->K;
    twa_c k1[TWA_MAX_Y], k2[TWA_MAX_Y], k3[TWA_MAX_Y], k4[TWA_MAX_Y], k5[TWA_MAX_Y], k6[TWA_MAX_Y],
        k7[TWA_MAX_Y], t[TWA_MAX_Y], yn[TWA_MAX_Y];
    double total0 = twa_total(f, y), j0[TCGPU_MAX_CHANNELS];
    for (int k = 0; k < f->K; ++k) {
        double a = twa_abs(y[1 + 2 * k]), b = twa_abs(y[2 + 2 * k]);
        j0[k] = a * a - b * b;
    }
    double emax = 0;
    for (int k = 0; k < f->K; ++k)
        emax = fmax(emax, fabs(f->e[k]));
    const double dir = tau1 >= tau0 ? 1 : -1;
    double tau = tau0;
    /* The coupling phases turn by |tau - e_k| per unit time: a step never spans more than ~2 rad,
     * so that the error estimate cannot be fooled by an oscillation it did not see. */
    double h = 0.01 / (fabs(tau0) + emax + f->G + 1);
    twa_rhs(f, tau, y, k1);
    while (dir * (tau1 - tau) > 0) {
        double hmax = 2.0 / (fabs(tau) + emax + f->G + 1);
        h = fmin(fmin(h, hmax), dir * (tau1 - tau));
        if (h < 1e-14 * (fabs(tau) + 1))
            return 1;
        double s = dir * h;
        for (int i = 0; i < n; ++i)
            t[i] = twa_add(y[i], twa_scale(k1[i], s * A21));
        twa_rhs(f, tau + C2 * s, t, k2);
        for (int i = 0; i < n; ++i)
            t[i] =
                twa_add(y[i], twa_scale(twa_add(twa_scale(k1[i], A31), twa_scale(k2[i], A32)), s));
        twa_rhs(f, tau + C3 * s, t, k3);
        for (int i = 0; i < n; ++i)
            t[i] = twa_add(y[i],
                           twa_scale(twa_add(twa_add(twa_scale(k1[i], A41), twa_scale(k2[i], A42)),
                                             twa_scale(k3[i], A43)),
                                     s));
        twa_rhs(f, tau + C4 * s, t, k4);
        for (int i = 0; i < n; ++i)
            t[i] = twa_add(
                y[i],
                twa_scale(twa_add(twa_add(twa_add(twa_scale(k1[i], A51), twa_scale(k2[i], A52)),
                                          twa_scale(k3[i], A53)),
                                  twa_scale(k4[i], A54)),
                          s));
        twa_rhs(f, tau + C5 * s, t, k5);
        for (int i = 0; i < n; ++i)
            t[i] = twa_add(y[i], twa_scale(twa_add(twa_add(twa_add(twa_add(twa_scale(k1[i], A61),
                                                                           twa_scale(k2[i], A62)),
                                                                   twa_scale(k3[i], A63)),
                                                           twa_scale(k4[i], A64)),
                                                   twa_scale(k5[i], A65)),
                                           s));
        twa_rhs(f, tau + s, t, k6);
        for (int i = 0; i < n; ++i)
            yn[i] = twa_add(y[i], twa_scale(twa_add(twa_add(twa_add(twa_add(twa_scale(k1[i], B1),
                                                                            twa_scale(k3[i], B3)),
                                                                    twa_scale(k4[i], B4)),
                                                            twa_scale(k5[i], B5)),
                                                    twa_scale(k6[i], B6)),
                                            s));
        twa_rhs(f, tau + s, yn, k7);
        double err = 0;
        for (int i = 0; i < n; ++i) {
            twa_c d = twa_scale(
                twa_add(twa_add(twa_add(twa_add(twa_add(twa_scale(k1[i], E1), twa_scale(k3[i], E3)),
                                                twa_scale(k4[i], E4)),
                                        twa_scale(k5[i], E5)),
                                twa_scale(k6[i], E6)),
                        twa_scale(k7[i], E7)),
                s);
            double sc = f->atol + f->rtol * fmax(twa_abs(y[i]), twa_abs(yn[i]));
            double r = twa_abs(d) / sc;
            err += r * r;
        }
        err = sqrt(err / n);
        double fac = err > 0 ? 0.9 * pow(err, -0.2) : 5;
        if (err <= 1) {
            tau = dir * (tau1 - tau - h) <= 0 ? tau1 : tau + s;
            for (int i = 0; i < n; ++i) {
                y[i] = yn[i];
                k1[i] = k7[i];
            }
            ++c->steps;
#ifndef __CUDA_ARCH__
            if (c->steps % 65536 == 0 && tcgpu_stop_requested())
                return 2;
#endif
            c->drift = fmax(c->drift, twa_drift(f, y, total0, j0));
            h *= fmin(5.0, fmax(0.2, fac));
        } else {
            c->rejected++;
            h *= fmax(0.2, fac);
        }
    }
    return 0;
}

/* First-order adiabatic dressing of the atom amplitudes by the molecule at tau (far from every
 * resonance): turns bare vacuum noise into the noise of the instantaneous Bogoliubov vacuum. */
TCGPU_HD static inline void twa_dress_start(const twa_flow *f, twa_c *y, double tau) {
    for (int k = 0; k < f->K; ++k) {
        double rate = tau - f->e[k]; /* d theta_k / d tau */
        twa_c m = twa_scale(
            twa_mul(twa_scale(y[0], f->G), twa_conj(twa_expi(tau * (0.5 * tau - f->e[k])))),
            1.0 / rate);
        twa_c a = y[1 + 2 * k], b = y[2 + 2 * k];
        y[1 + 2 * k] = twa_add(a, twa_mul(m, twa_conj(b)));
        y[2 + 2 * k] = twa_add(b, twa_mul(m, twa_conj(a)));
    }
}

/* The inverse at the readout: the molecule and atom amplitudes with their first-order slaved
 * (off-resonant) parts removed, written to z. */
TCGPU_HD static inline void twa_undress_readout(const twa_flow *f, const twa_c *y, double tau,
                                                twa_c *z) {
    twa_c ph[TCGPU_MAX_CHANNELS], slaved = {0, 0};
    for (int k = 0; k < f->K; ++k) {
        ph[k] = twa_expi(tau * (0.5 * tau - f->e[k]));
        slaved = twa_add(slaved, twa_scale(twa_mul(twa_mul(y[1 + 2 * k], y[2 + 2 * k]), ph[k]),
                                           1.0 / (tau - f->e[k])));
    }
    z[0] = twa_add(y[0], twa_scale(slaved, f->G));
    for (int k = 0; k < f->K; ++k) {
        twa_c a = y[1 + 2 * k], b = y[2 + 2 * k];
        twa_c m = twa_scale(twa_mul(twa_scale(z[0], f->G), twa_conj(ph[k])), 1.0 / (tau - f->e[k]));
        /* Exchange with the other channels through the virtual molecule: it oscillates at the
         * difference of the pair energies. */
        twa_c x = {0, 0};
        for (int l = 0; l < f->K; ++l)
            if (l != k)
                x = twa_add(x,
                            twa_scale(twa_mul(twa_mul(twa_mul(y[1 + 2 * l], y[2 + 2 * l]), ph[l]),
                                              twa_conj(ph[k])),
                                      1.0 / ((tau - f->e[l]) * (f->e[k] - f->e[l]))));
        x = twa_scale(x, f->G * f->G);
        z[1 + 2 * k] = twa_sub(twa_sub(a, twa_mul(m, twa_conj(b))), twa_mul(x, twa_conj(b)));
        z[2 + 2 * k] = twa_sub(twa_sub(b, twa_mul(m, twa_conj(a))), twa_mul(x, twa_conj(a)));
    }
    /* Second order: the molecule mixes with the macroscopic atom pairs at the Rabi rate
     * Omega_k^2 = G^2 (|A_k|^2 + |B_k|^2); the dressed molecule holds the fraction
     * 1 - Omega_k^2 / theta_k'^2 of the first-order amplitude's weight. Without it the readout
     * of the molecules left converged only like 1/T^2 (measured: +0.7% at the automatic T for
     * N = 1e4, N g^2/(beta ln N) = 1). */
    double w = 1;
    for (int k = 0; k < f->K; ++k) {
        double r = tau - f->e[k], a = twa_abs(y[1 + 2 * k]), b = twa_abs(y[2 + 2 * k]);
        w -= f->G * f->G * (a * a + b * b) / (r * r);
    }
    z[0] = twa_scale(z[0], sqrt(fmax(w, 0.0)));
}

/* Counter-based stream: splitmix64 seeded by (seed, trajectory). */
typedef struct {
    uint64_t s;
} twa_rng;

TCGPU_HD static inline uint64_t twa_next(twa_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

TCGPU_HD static inline twa_rng twa_stream(uint64_t seed, int64_t j) {
    twa_rng key = {seed};
    twa_rng r = {twa_next(&key) ^ ((uint64_t)j * 0xD1B54A32D192ED03ull)};
    twa_next(&r);
    return r;
}

TCGPU_HD static inline double twa_uniform(twa_rng *r) {
    return ((double)(twa_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0); /* 2^-53 */
}

/* A complex Gaussian with <|z|^2> = var. */
TCGPU_HD static inline twa_c twa_gauss(twa_rng *r, double var) {
    double rad = sqrt(-var * log(twa_uniform(r))), ph = TWA_TWO_PI * twa_uniform(r);
    return twa_cx(rad * cos(ph), rad * sin(ph));
}

/* Wigner sample of the initial state in the integrator's units. The molecule is the number
 * state |N>: its Wigner function lives on the ring |psi|^2 = N + 1/2 with a uniform phase (so
 * <|psi|^2> - 1/2 = N and the number does not fluctuate); `coherent` uses the Gaussian of
 * |sqrt(N)> instead. Each atom mode gets vacuum noise with <|alpha|^2> = 1/2, the Weyl symbol
 * of a^+ a being |alpha|^2 - 1/2. */
TCGPU_HD static inline void twa_sample(double N, int K, int coherent, twa_rng *r, twa_c *y) {
    if (coherent)
        y[0] = twa_add(twa_cx(1, 0), twa_gauss(r, 0.5 / N));
    else {
        double ph = TWA_TWO_PI * twa_uniform(r);
        y[0] = twa_scale(twa_expi(ph), sqrt((N + 0.5) / N));
    }
    for (int i = 1; i <= 2 * K; ++i)
        y[i] = twa_gauss(r, 0.5 / N);
}

/* Weyl-corrected readout at tau past every resonance: pairs per channel n[k], their total and
 * the molecules left, from the interaction-picture state y (bare: without the undressing). */
TCGPU_HD static inline void twa_readout(const twa_flow *f, double N, const twa_c *y, double tau,
                                        int bare, double *n, double *total, double *nu) {
    twa_c z[TWA_MAX_Y];
    for (int i = 0; i < TWA_MAX_Y; ++i)
        z[i] = twa_cx(0, 0);
    if (bare)
        for (int i = 0; i < 1 + 2 * f->K; ++i)
            z[i] = y[i];
    else
        twa_undress_readout(f, y, tau, z);
    double w[TCGPU_MAX_CHANNELS], wsum = 0, raw = 0;
    for (int k = 0; k < f->K; ++k) {
        w[k] = 0.5 * (twa_sq(z[1 + 2 * k]) + twa_sq(z[2 + 2 * k]));
        wsum += w[k];
        n[k] = N * w[k] - 0.5; /* Weyl: a^+ a -> |alpha|^2 - 1/2 */
        raw += n[k];
    }
    *nu = N * twa_sq(z[0]) - 0.5;
    /* The total follows from the invariant, N = psi^+ psi + sum_k (a^+ a + b^+ b)/2, exactly;
     * the first-order undressing of the channels misses it at second order in
     * g sqrt(N)/(beta T), and that deficit is shared in proportion to the channels. */
    *total = bare ? raw : N * (twa_total(f, y) - twa_sq(z[0])) - 0.5 * f->K;
    for (int k = 0; k < f->K; ++k)
        n[k] += (*total - raw) * w[k] / wsum;
}

/* What the ensemble needs of one trajectory. */
typedef struct {
    twa_flow f;
    double N, tau1; /* the sweep runs from -tau1 to tau1 */
    uint64_t seed;
    int bare, coherent;
} twa_job;

/* Trajectory j: sample, dressed start at -tau1, integration, readout at tau1. x: n_k (k < K),
 * n, nu, n_1 - n_2 (K = 2, else 0). Returns twa_integrate's code. */
TCGPU_HD static inline int twa_run_one(const twa_job *J, int64_t j, double *x, twa_count *c) {
    const int K = J->f.K;
    twa_rng rr = twa_stream(J->seed, j);
    twa_c y[TWA_MAX_Y];
    twa_sample(J->N, K, J->coherent, &rr, y);
    twa_dress_start(&J->f, y, -J->tau1);
    c->steps = c->rejected = 0;
    c->drift = 0;
    int rc = twa_integrate(&J->f, y, -J->tau1, J->tau1, c);
    if (rc)
        return rc;
    twa_readout(&J->f, J->N, y, J->tau1, J->bare, x, &x[K], &x[K + 1]);
    x[K + 2] = K == 2 ? x[0] - x[1] : 0;
    return 0;
}

/* Trajectories per block of statistics; blocks are merged in block order, so the moments do not
 * depend on threads or device. */
#define TWA_BLOCK 64

/* Running statistics of one block: mean and sum of squared deviations per quantity (twa_run_one's
 * x, nq = K + 3: n_k, n, nu, D = n_1 - n_2), the co-moment of D with n (for eta's error), the
 * largest drift and the steps. Formed by the same code on the CPU and, so that only blocks come
 * back, on the device. */
typedef struct {
    double count, mean[TCGPU_MAX_CHANNELS + 3], m2[TCGPU_MAX_CHANNELS + 3], cds;
    double drift;
    int64_t steps;
    int failed, stopped;
} twa_block;

/* Adds trajectory readout x with twa_run_one's code rc and counts c (Welford, in trajectory
 * order). A failed (rc 1) or stopped (rc 2) trajectory marks the block, which then takes no
 * more. */
TCGPU_HD static inline void twa_block_add(twa_block *b, int nq, const double *x, int rc,
                                          const twa_count *c) {
    if (b->failed || b->stopped)
        return;
    if (rc) {
        b->failed = rc == 1;
        b->stopped = rc == 2;
        return;
    }
    const int iS = nq - 3, iD = nq - 1;
    b->count += 1;
    double dS = x[iS] - b->mean[iS];
    for (int q = 0; q < nq; ++q) {
        double d = x[q] - b->mean[q];
        b->mean[q] += d / b->count;
        b->m2[q] += d * (x[q] - b->mean[q]);
    }
    b->cds += dS * (x[iD] - b->mean[iD]);
    b->drift = fmax(b->drift, c->drift);
    b->steps += c->steps;
}

#endif
