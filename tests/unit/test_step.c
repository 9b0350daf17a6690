/* The shared step functions (src/step/step.h), driven directly: order of convergence, the
 * Chebyshev exponential, unitarity. The CUDA kernels call the same functions. */
#include <float.h>
#include <stdio.h>

#include "fpenv.h"
#include "grid.h"
#include "ref_quad.h"
#include "test_common.h"

/* Two levels, V = [[0, g], [g, 0]], interaction picture of diag(beta t, 0): the link (1, 0)
 * carries exp(i dtheta), dtheta = theta_1 - theta_0 = -beta t^2 / 2. */
static const int64_t rp[] = {0, 1, 2}, col[] = {1, 0};
static const double val[] = {0.7, 0.7};
static const int32_t cls[] = {-1, 1};

static void weights(double t, tcgpu_cplx *z) {
    double ph = -0.5 * 1.3 * t * t;
    z[0].re = cos(ph);
    z[0].im = sin(ph);
}

static void integrate(int method, int steps, tcgpu_cplx *x) {
    tcgpu_csr A = {2, rp, col, val, cls, {0, 0, 0, 0}, NULL, NULL};
    tcgpu_cplx z1[1], z2[1], z3[1], w[1], t0[2], t1[2], t2[2];
    double J[512], a = -4, h = 8.0 / steps;
    x[0] = (tcgpu_cplx){1, 0};
    x[1] = (tcgpu_cplx){0, 0};
    for (int s = 0; s < steps; ++s) {
        double t = a + s * h;
        if (method == 0) {
            weights(t, z1);
            weights(t + h / 2, z2);
            weights(t + h, z3);
            tcgpu_rk4_step(&A, z1, z2, z3, h, x, t0, t1, t2);
        } else {
            const double d = 0.28867513459481288225;
            weights(t + (0.5 - d) * h, z1);
            weights(t + (0.5 + d) * h, z2);
            cr_assert_geq(tcgpu_cf4_step(&A, 1, z1, z2, 1, 1, 0.7, h, x, w, t0, t1, t2, J, 500), 0);
        }
    }
}

static double dist(const tcgpu_cplx *a, const tcgpu_cplx *b) {
    return hypot(hypot(a[0].re - b[0].re, a[0].im - b[0].im),
                 hypot(a[1].re - b[1].re, a[1].im - b[1].im));
}

Test(step, rk4_and_magnus4_are_fourth_order) {
    tcgpu_cplx ref[2], x[2], y[2];
    integrate(1, 51200, ref);
    for (int method = 0; method < 2; ++method) {
        integrate(method, 800, x);
        integrate(method, 1600, y);
        double e1 = dist(x, ref), e2 = dist(y, ref);
        cr_expect(e1 / e2 > 14 && e1 / e2 < 18, "%s: errors %.3e, %.3e, ratio %.2f",
                  method ? "magnus4" : "rk4", e1, e2, e1 / e2);
    }
}

Test(step, magnus4_is_unitary_to_round_off) {
    tcgpu_cplx x[2];
    integrate(1, 100000, x);
    double norm = x[0].re * x[0].re + x[0].im * x[0].im + x[1].re * x[1].re + x[1].im * x[1].im;
    cr_expect_leq(fabs(norm - 1), 1e-10, "norm - 1 = %g after 1e5 steps", norm - 1);
}

Test(step, chebyshev_exponential_matches_the_2x2_rotation) {
    /* exp(-i h [[0, v], [v, 0]]) (1, 0) = (cos hv, -i sin hv), for h v from tiny to 40. */
    tcgpu_csr A = {2, rp, col, val, cls, {0, 0, 0, 0}, NULL, NULL};
    tcgpu_cplx z[1] = {{1, 0}}, x[2], t0[2], t1[2], t2[2];
    double J[600];
    for (double h = 1e-6; h < 60; h *= 3) {
        x[0] = (tcgpu_cplx){1, 0};
        x[1] = (tcgpu_cplx){0, 0};
        cr_assert_geq(tcgpu_expmv(&A, z, 0.7, h, x, t0, t1, t2, J, 500), 0);
        cr_expect_leq(fabs(x[0].re - cos(0.7 * h)) + fabs(x[0].im) + fabs(x[1].re) +
                          fabs(x[1].im + sin(0.7 * h)),
                      1e-13, "h = %g", h);
    }
}

/* Both series of exp(-i h M) x from the normalized x (copied to y): the generic one through A,
 * the real-arithmetic one through C; the same terms, the results within 1e-13, the norm kept. */
static void series_agree(const tcgpu_csr *A, const tcgpu_csr *C, const tcgpu_cplx *z, double rho,
                         double tau, tcgpu_cplx *x, tcgpu_cplx *y, tcgpu_cplx *t, double *J,
                         const char *what) {
    int64_t d = A->dim;
    double norm = 0;
    for (int64_t i = 0; i < d; ++i)
        norm += x[i].re * x[i].re + x[i].im * x[i].im;
    for (int64_t i = 0; i < d; ++i)
        x[i].re /= sqrt(norm), x[i].im /= sqrt(norm), y[i] = x[i];
    int n1 = tcgpu_expmv(A, z, rho, tau / rho, x, t, t + d, t + 2 * d, J, 2000);
    int n2 = tcgpu_expmv(C, z, rho, tau / rho, y, t, t + d, t + 2 * d, J, 2000);
    cr_assert(n1 > 0 && n1 == n2, "%s: terms %d and %d", what, n1, n2);
    double diff = 0, ny = 0;
    for (int64_t i = 0; i < d; ++i) {
        diff = fmax(diff, hypot(x[i].re - y[i].re, x[i].im - y[i].im));
        ny += y[i].re * y[i].re + y[i].im * y[i].im;
    }
    cr_expect_leq(diff, 1e-13, "%s, tau %g (%d terms): max diff %.2e", what, tau, n1, diff);
    cr_expect_leq(fabs(ny - 1), 1e-13, "%s, tau %g: norm - 1 = %.2e", what, tau, ny - 1);
}

/* series_agree for the model m's CSR against its real series R, at each of the nt values of
 * tau = h rho, from the state cos(0.61 i) + i sin(1.7 i + 0.3). */
static void real_vs_generic(const tcgpu_model *m, const tcgpu_real *R, const tcgpu_cplx *z,
                            double rho, const double *tau, int nt, const char *what) {
    int64_t d = m->dim;
    tcgpu_csr A = {d, m->row_ptr, m->col, m->val, m->cls, {0, 0, 0, 0}, NULL, NULL};
    tcgpu_csr C = A;
    C.real = R;
    tcgpu_cplx *x = xcalloc((size_t)d, sizeof *x), *y = xcalloc((size_t)d, sizeof *y);
    tcgpu_cplx *t = xcalloc(3 * (size_t)d, sizeof *t);
    double *J = xcalloc(2001, sizeof *J);
    for (int q = 0; q < nt; ++q) {
        for (int64_t i = 0; i < d; ++i)
            x[i] = (tcgpu_cplx){cos(0.61 * (double)i), sin(1.7 * (double)i + 0.3)};
        series_agree(&A, &C, z, rho, tau[q], x, y, t, J, what);
    }
    free(x), free(y), free(t), free(J);
}

/* One channel's series (src/step/real_series.c: the state rotated by the links' common phase, real
 * arithmetic, blocks of rows and terms) against the generic complex series on the model's CSR,
 * for exponents from a few terms to a few hundred (several passes of 16 terms, odd and even
 * counts), weights of several moduli and phases, and a chain of a few blocks. */
Test(step, chain_series_is_the_generic_series) {
    const int64_t N = 700, d = N + 1;
    const double g = 0.8, e[1] = {0};
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_tc(&m, N, 1, g, 1.0, e));
    double *link = xcalloc((size_t)d + 1, sizeof *link), bound = 0;
    /* the links by the formula, not by the code's arrays */
    for (int64_t i = 1; i <= N; ++i)
        link[i] = g * (double)i * sqrt((double)(N - i + 1)); /* <i|V|i - 1>, PHYSICS.md */
    for (int64_t i = 0; i < d; ++i)
        bound = fmax(bound, link[i] + link[i + 1]);
    tcgpu_real R = {.K = 1, .N = N, .dim = d, .la = link};
    const double mod[] = {1.0, 0.37, 0.5}, arg[] = {0.3, -2.9, 1.7};
    const double tau[] = {0.4, 3.0, 17.0, 33.0, 250.0};
    for (int w = 0; w < 3; ++w) {
        tcgpu_cplx z[1] = {{mod[w] * cos(arg[w]), mod[w] * sin(arg[w])}};
        char what[64];
        snprintf(what, sizeof what, "|w| %g, arg %g", mod[w], arg[w]);
        real_vs_generic(&m, &R, z, mod[w] * bound, tau, 5, what);
    }
    free(link);
    tcgpu_model_free(&m);
}

/* heff's series (src/step/real_series.c: a chain whose links each carry their own phase class,
 * the state turned by the running sum of the weights' phases) against the generic complex
 * series on the model's CSR: weights of different moduli and phases on every link. */
Test(step, heff_series_is_the_generic_series) {
    const int64_t N = 300, d = N + 1;
    const double g = 1.3, beta = 0.7, c = g * g / beta;
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_heff(&m, N, g, beta, 0.5));
    cr_assert_eq(m.dim, d);
    cr_assert_eq(m.nclass, N);
    double *link = xcalloc((size_t)d + 1, sizeof *link), *soa = xcalloc(3 * (size_t)d + 1, 8);
    /* <n1 - 1, n2 + 1|H|n1, n2> = -(g^2/beta) n1 (n2 + 1) (times 1/t; banded.h's reference,
     * eq 72-73), link i between rows i - 1 and i, n2 = N - i */
    for (int64_t i = 1; i <= N; ++i)
        link[i] = -c * (double)i * (double)(N - i + 1);
    tcgpu_cplx *z = xcalloc((size_t)N, sizeof *z);
    double vb = 0;
    for (int64_t k = 0; k < N; ++k) {
        double r = 0.2 + 0.8 * fabs(sin(0.37 * (double)k)), th = 2.9 * cos(1.7 * (double)k + 0.3);
        z[k] = (tcgpu_cplx){r * cos(th), r * sin(th)};
    }
    for (int64_t i = 0; i < d; ++i) {
        double lo = i > 0 ? fabs(link[i]) * hypot(z[i - 1].re, z[i - 1].im) : 0;
        double hi = i + 1 < d ? fabs(link[i + 1]) * hypot(z[i].re, z[i].im) : 0;
        vb = fmax(vb, lo + hi);
    }
    tcgpu_real R = {.K = 1, .heff = 1, .N = N, .dim = d, .la = link, .soa = soa};
    const double tau[] = {0.5, 4.0, 21.0, 180.0};
    real_vs_generic(&m, &R, z, vb, tau, 4, "heff");
    free(link), free(soa), free(z);
    tcgpu_model_free(&m);
}

/* Three and four channels' series (src/step/real_series.c: the CSR's couplings in real
 * arithmetic, the state turned by prod_k u_k^{n_k}) against the generic complex series on the
 * same CSR: weights of different moduli and phases per channel. The real series' inputs are
 * the model's CSR, its occupations, and each entry's channel read off the occupations here. */
static void multi_series_case(int K, int64_t N) {
    const double e[4] = {-1, 0.3, 1.1, 2.0};
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_tc(&m, N, K, 0.8, 1.0, e));
    int64_t d = m.dim, nnz = m.row_ptr[d];
    int32_t *c32 = xcalloc((size_t)nnz, sizeof *col);
    unsigned char *ch = xcalloc((size_t)nnz, 1);
    for (int64_t i = 0; i < d; ++i)
        for (int64_t q = m.row_ptr[i]; q < m.row_ptr[i + 1]; ++q) {
            int64_t j = m.col[q];
            c32[q] = (int32_t)j;
            for (int k = 0; k < K; ++k)
                if (m.labels[i * K + k] != m.labels[j * K + k])
                    ch[q] = (unsigned char)k;
        }
    double *soa = xcalloc(8 * (size_t)d + (size_t)nnz + 2 * (size_t)K * (size_t)(N + 1), 8);
    tcgpu_real R = {.K = K, .N = N, .dim = d, .soa = soa, .row_ptr = m.row_ptr, .col = c32,
                    .val = m.val, .ch = ch, .lab = m.labels};
    tcgpu_cplx z[4];
    for (int k = 0; k < K; ++k) {
        double r = 0.3 + 0.25 * k, th = 2.6 - 1.7 * k;
        z[k] = (tcgpu_cplx){r * cos(th), r * sin(th)};
    }
    double vb = 0;
    for (int64_t i = 0; i < d; ++i) {
        double row = 0;
        for (int64_t q = m.row_ptr[i]; q < m.row_ptr[i + 1]; ++q)
            row += fabs(m.val[q]) * hypot(z[ch[q]].re, z[ch[q]].im);
        vb = fmax(vb, row);
    }
    const double tau[] = {0.4, 3.0, 25.0, 160.0};
    char what[64];
    snprintf(what, sizeof what, "K %d N %lld", K, (long long)N);
    real_vs_generic(&m, &R, z, vb, tau, 4, what);
    free(c32), free(ch), free(soa);
    tcgpu_model_free(&m);
}

/* N = 70 for K = 3: powers past 64, where the phasors restart from a sincos. */
Test(step, multi_channel_series_is_the_generic_series) {
    multi_series_case(3, 8);
    multi_series_case(3, 70);
    multi_series_case(4, 6);
}

/* Two channels' series (src/step/real_series.c: the state rotated by both channels' phases,
 * real arithmetic, zero-padded neighbours) against the generic complex series on the model's
 * CSR: two weights of different moduli and phases, a few to a few hundred terms. */
static void pair_series_case(int64_t N) {
    const int64_t d = (N + 1) * (N + 2) / 2, pad = N + 2;
    const double g = 0.9, e[2] = {-0.3, 0.4};
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_tc(&m, N, 2, g, 1.0, e));
    cr_assert_eq(m.dim, d);
    /* the layout's rows: N = 14 the square, N = 70 the basis order (step.h) */
    const int64_t rows = tcgpu_real_rows(N);
    cr_assert_eq(rows, N < TCGPU_PAIR_SQUARE_N ? (N + 1) * (N + 1) : d);
    double *l = xcalloc(4 * (size_t)rows + 6 * (size_t)(rows + 2 * pad), sizeof *l);
    double *la = l, *ua = l + rows, *lb = l + 2 * rows, *ub = l + 3 * rows, vb = 0;
    /* <n1, n2|V|n1 - 1, n2> = g n1 sqrt(N - n1 - n2 + 1) (PHYSICS.md) */
    for (int64_t n1 = 0; n1 <= N; ++n1)
        for (int64_t n2 = 0, i = tcgpu_real_row(N, n1); n2 <= N - n1; ++n2, ++i) {
            double lo = sqrt((double)(N - n1 - n2 + 1)), hi = sqrt((double)(N - n1 - n2));
            la[i] = g * (double)n1 * lo, lb[i] = g * (double)n2 * lo;
            ua[i] = g * (double)(n1 + 1) * hi, ub[i] = g * (double)(n2 + 1) * hi;
            vb = fmax(vb, la[i] + lb[i] + ua[i] + ub[i]);
        }
    tcgpu_real R = {.K = 2, .N = N, .dim = d, .la = la, .ua = ua, .lb = lb, .ub = ub,
                    .soa = l + 4 * rows};
    const tcgpu_cplx z[2][2] = {{{0.31, -0.12}, {-0.2, 0.45}}, {{0.5, 0}, {0, -0.05}}};
    const double tau[] = {0.3, 2.0, 9.0, 120.0};
    for (int w = 0; w < 2; ++w) {
        double rho = vb * fmax(hypot(z[w][0].re, z[w][0].im), hypot(z[w][1].re, z[w][1].im));
        char what[64];
        snprintf(what, sizeof what, "N %lld, weights %d", (long long)N, w);
        real_vs_generic(&m, &R, z[w], rho, tau, 4, what);
    }
    free(l);
    tcgpu_model_free(&m);
}

/* N = 14: the square; N = 70: blocks in the basis order, and rows past 64, where the phases
 * restart from a sincos; N = 230 (26796 rows): the terms blocked, 16 per pass over blocks of
 * rows skewed by N + 2 per term (TCGPU_PAIR_BLOCKED_ROWS). */
Test(step, pair_series_is_the_generic_series) {
    pair_series_case(14);
    pair_series_case(70);
    pair_series_case(230);
}

Test(step, bessel_values) {
    double J[80];
    tcgpu_bessel_j(2.5, 70, J);
    /* J_0(2.5), J_1(2.5), J_5(2.5) from mpmath.besselj */
    cr_expect_float_eq(J[0], -0.048383776468197996, 1e-15);
    cr_expect_float_eq(J[1], 0.4970941024642741, 1e-15);
    cr_expect_float_eq(J[5], 0.0195016251345032, 1e-15);
}

Test(step, phases_reduce_like_quad_precision) {
    /* Phases up to 1e9 rad (beta t^2 / 2 at t = 4e4), in double-double against __float128:
     * within 1e-15 rad, plus the rounding of dw ln|t| (log's ulp, times dw), which the
     * double-double sum carries as it comes. */
    const double db[] = {1.0, -3.7, 30.0, 0.3, 0}, da[] = {0.5, 1.25, -2.0, 0, 7.1},
                 dw[] = {0, 0, 0, -2.5, 0.8};
    double worst = 0;
    for (int c = 0; c < 5; ++c)
        for (int k = 0; k <= 100; ++k) {
            double t = -4e4 + 797.3137 * k, tt = dw[c] != 0 ? fabs(t) + 1e-3 : t;
            double got = tcgpu_phase(db[c], da[c], dw[c], tt),
                   want = ref_phase(db[c], da[c], dw[c], tt);
            double e = remainder(got - want, 2 * M_PI);
            worst = fmax(worst, fabs(e));
            double tol = 1e-15 + 4.5e-16 * fabs(dw[c] * log(fabs(tt)));
            cr_expect_leq(fabs(e), tol, "class %d t = %.17g: %.17g vs %.17g", c, tt, got, want);
        }
    cr_log_info("largest phase deviation from quad: %.2e rad", worst);
}

/* The host march flushes subnormal numbers to zero (src/core/fpenv.h: they cost ~100 cycles a
 * multiply-add on x86, and a start state's far tail is full of them) inside its loops only:
 * DBL_MIN / 2 is subnormal before and after, zero between. */
Test(step, march_flushes_subnormals_inside_only) {
#if defined(__SSE2__)
    volatile double tiny = DBL_MIN, half = 0.5;
    cr_assert_neq(tiny * half, 0.0, "gradual underflow off before the march");
    unsigned old = tcgpu_fpenv_flush();
    double inside = tiny * half;
    tcgpu_fpenv_restore(old);
    cr_assert_eq(inside, 0.0, "a subnormal product kept inside the march: %g", inside);
    cr_assert_neq(tiny * half, 0.0, "gradual underflow not restored after the march");
#else
    cr_skip_test("no SSE control word on this machine: the march keeps gradual underflow");
#endif
}
