/* The mean-field flow of the driven TC model in the interaction picture (twa_internal.h):
 *   dY0/dtau  = -i G sum_k A_k B_k e^{i theta_k},
 *   dA_k/dtau = -i G Y0 conj(B_k) e^{-i theta_k},  dB_k/dtau = -i G Y0 conj(A_k) e^{-i theta_k},
 * integrated by Dormand-Prince 5(4) with step control; the invariants are watched per step. */
#include <math.h>

#include "tcgpu/status.h"
#include "twa_internal.h"

static double complex phase(double th) { return CMPLX(cos(th), sin(th)); }

static void rhs(const twa_flow *f, double tau, const double complex *y, double complex *dy) {
    double complex s = 0;
    for (int k = 0; k < f->K; ++k) {
        double complex ph = phase(tau * (0.5 * tau - f->e[k]));
        double complex a = y[1 + 2 * k], b = y[2 + 2 * k];
        s += a * b * ph;
        double complex m = -I * f->G * y[0] * conj(ph);
        dy[1 + 2 * k] = m * conj(b);
        dy[2 + 2 * k] = m * conj(a);
    }
    dy[0] = -I * f->G * s;
}

double twa_total(const twa_flow *f, const double complex *y) {
    double s = creal(y[0]) * creal(y[0]) + cimag(y[0]) * cimag(y[0]);
    for (int i = 1; i <= 2 * f->K; ++i)
        s += 0.5 * (creal(y[i]) * creal(y[i]) + cimag(y[i]) * cimag(y[i]));
    return s;
}

static double drift(const twa_flow *f, const double complex *y, double total0, const double *j0) {
    double d = fabs(twa_total(f, y) - total0);
    for (int k = 0; k < f->K; ++k) {
        double j =
            cabs(y[1 + 2 * k]) * cabs(y[1 + 2 * k]) - cabs(y[2 + 2 * k]) * cabs(y[2 + 2 * k]);
        d = fmax(d, fabs(j - j0[k]));
    }
    return d;
}

/* Dormand-Prince 5(4) tableau. */
static const double C2 = 1. / 5, C3 = 3. / 10, C4 = 4. / 5, C5 = 8. / 9;
static const double A21 = 1. / 5;
static const double A31 = 3. / 40, A32 = 9. / 40;
static const double A41 = 44. / 45, A42 = -56. / 15, A43 = 32. / 9;
static const double A51 = 19372. / 6561, A52 = -25360. / 2187, A53 = 64448. / 6561,
                    A54 = -212. / 729;
static const double A61 = 9017. / 3168, A62 = -355. / 33, A63 = 46732. / 5247, A64 = 49. / 176,
                    A65 = -5103. / 18656;
static const double B1 = 35. / 384, B3 = 500. / 1113, B4 = 125. / 192, B5 = -2187. / 6784,
                    B6 = 11. / 84;
static const double E1 = 71. / 57600, E3 = -71. / 16695, E4 = 71. / 1920, E5 = -17253. / 339200,
                    E6 = 22. / 525, E7 = -1. / 40;

int twa_integrate(const twa_flow *f, double complex *y, double tau0, double tau1, twa_count *c) {
    const int n = 1 + 2 * f->K;
    double complex k1[TWA_MAX_Y], k2[TWA_MAX_Y], k3[TWA_MAX_Y], k4[TWA_MAX_Y], k5[TWA_MAX_Y],
        k6[TWA_MAX_Y], k7[TWA_MAX_Y], t[TWA_MAX_Y], yn[TWA_MAX_Y];
    double total0 = twa_total(f, y), j0[TCGPU_MAX_CHANNELS];
    for (int k = 0; k < f->K; ++k)
        j0[k] = cabs(y[1 + 2 * k]) * cabs(y[1 + 2 * k]) - cabs(y[2 + 2 * k]) * cabs(y[2 + 2 * k]);
    double emax = 0;
    for (int k = 0; k < f->K; ++k)
        emax = fmax(emax, fabs(f->e[k]));
    const double dir = tau1 >= tau0 ? 1 : -1;
    double tau = tau0;
    /* The coupling phases turn by |tau - e_k| per unit time: a step never spans more than ~2 rad,
     * so that the error estimate cannot be fooled by an oscillation it did not see. */
    double h = 0.01 / (fabs(tau0) + emax + f->G + 1);
    rhs(f, tau, y, k1);
    while (dir * (tau1 - tau) > 0) {
        double hmax = 2.0 / (fabs(tau) + emax + f->G + 1);
        h = fmin(fmin(h, hmax), dir * (tau1 - tau));
        if (h < 1e-14 * (fabs(tau) + 1))
            return 1;
        double s = dir * h;
        for (int i = 0; i < n; ++i)
            t[i] = y[i] + s * A21 * k1[i];
        rhs(f, tau + C2 * s, t, k2);
        for (int i = 0; i < n; ++i)
            t[i] = y[i] + s * (A31 * k1[i] + A32 * k2[i]);
        rhs(f, tau + C3 * s, t, k3);
        for (int i = 0; i < n; ++i)
            t[i] = y[i] + s * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
        rhs(f, tau + C4 * s, t, k4);
        for (int i = 0; i < n; ++i)
            t[i] = y[i] + s * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
        rhs(f, tau + C5 * s, t, k5);
        for (int i = 0; i < n; ++i)
            t[i] = y[i] + s * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
        rhs(f, tau + s, t, k6);
        for (int i = 0; i < n; ++i)
            yn[i] = y[i] + s * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i]);
        rhs(f, tau + s, yn, k7);
        double err = 0;
        for (int i = 0; i < n; ++i) {
            double complex d =
                s * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
            double sc = f->atol + f->rtol * fmax(cabs(y[i]), cabs(yn[i]));
            double r = cabs(d) / sc;
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
            if (++c->steps % 65536 == 0 && tcgpu_stop_requested())
                return 2;
            c->drift = fmax(c->drift, drift(f, y, total0, j0));
            h *= fmin(5, fmax(0.2, fac));
        } else {
            c->rejected++;
            h *= fmax(0.2, fac);
        }
    }
    return 0;
}

void twa_dress_start(const twa_flow *f, double complex *y, double tau) {
    for (int k = 0; k < f->K; ++k) {
        double rate = tau - f->e[k]; /* d theta_k / d tau */
        double complex m = f->G * y[0] * conj(phase(tau * (0.5 * tau - f->e[k]))) / rate;
        double complex a = y[1 + 2 * k], b = y[2 + 2 * k];
        y[1 + 2 * k] = a + m * conj(b);
        y[2 + 2 * k] = b + m * conj(a);
    }
}

void twa_undress_readout(const twa_flow *f, const double complex *y, double tau,
                         double complex *z) {
    double complex ph[TCGPU_MAX_CHANNELS], slaved = 0;
    for (int k = 0; k < f->K; ++k) {
        ph[k] = phase(tau * (0.5 * tau - f->e[k]));
        slaved += y[1 + 2 * k] * y[2 + 2 * k] * ph[k] / (tau - f->e[k]);
    }
    z[0] = y[0] + f->G * slaved;
    for (int k = 0; k < f->K; ++k) {
        double complex a = y[1 + 2 * k], b = y[2 + 2 * k];
        double complex m = f->G * z[0] * conj(ph[k]) / (tau - f->e[k]);
        /* Exchange with the other channels through the virtual molecule: it oscillates at the
         * difference of the pair energies. */
        double complex x = 0;
        for (int l = 0; l < f->K; ++l)
            if (l != k)
                x += y[1 + 2 * l] * y[2 + 2 * l] * ph[l] * conj(ph[k]) /
                     ((tau - f->e[l]) * (f->e[k] - f->e[l]));
        x *= f->G * f->G;
        z[1 + 2 * k] = a - m * conj(b) - x * conj(b);
        z[2 + 2 * k] = b - m * conj(a) - x * conj(a);
    }
    /* Second order: the molecule mixes with the macroscopic atom pairs at the Rabi rate
     * Omega_k^2 = G^2 (|A_k|^2 + |B_k|^2); the dressed molecule holds the fraction
     * 1 - Omega_k^2 / theta_k'^2 of the first-order amplitude's weight. Without it the readout
     * of the molecules left converged only like 1/T^2 (measured: +0.7% at the automatic T for
     * N = 1e4, N g^2/(beta ln N) = 1). */
    double w = 1;
    for (int k = 0; k < f->K; ++k) {
        double r = tau - f->e[k];
        w -= f->G * f->G *
             (cabs(y[1 + 2 * k]) * cabs(y[1 + 2 * k]) + cabs(y[2 + 2 * k]) * cabs(y[2 + 2 * k])) /
             (r * r);
    }
    z[0] *= sqrt(fmax(w, 0));
}
