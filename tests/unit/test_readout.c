/* The chain start and readout (src/numerics/adiabatic_tri.c: windows, Sturm ranks, resolvent
 * dressing) against the dense eigen-decomposition's (src/numerics/adiabatic.c: the admixtures as
 * sums over all eigenstates), which derive the same first- and second-order dressing another way.
 */
#include <lapacke.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "adiabatic.h"
#include "tcgpu/model.h"
#include "test_common.h"

/* A user chain: slopes slope(i), couplings 0.7 + 0.3 sin(i) between i and i + 1. */
static void chain_model(tcgpu_model *m, int64_t n, int shuffled) {
    char path[] = "/tmp/tcgpu-readout-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "states %lld\n", (long long)n);
    for (int64_t i = 0; i < n; ++i) {
        /* shuffled: slopes out of index order (i * 7919 mod n), so that ranks and sites differ */
        int64_t s = shuffled ? (i * 7919) % n : i;
        if (s)
            fprintf(f, "slope %lld %lld\n", (long long)i, (long long)s);
        if (i + 1 < n)
            fprintf(f, "coupling %lld %lld %.17g\n", (long long)i, (long long)(i + 1),
                    0.7 + 0.3 * sin((double)i));
    }
    fprintf(f, "start 0\n");
    fclose(f);
    ASSERT_OK(tcgpu_model_mlz_file(m, path));
    unlink(path);
}

/* A normalized pseudo-random state. */
static void some_state(int64_t n, tcgpu_cplx *psi, unsigned seed) {
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) {
        seed = seed * 1103515245u + 12345u;
        psi[i].re = (double)(seed >> 8) / 16777216.0 - 0.5;
        seed = seed * 1103515245u + 12345u;
        psi[i].im = (double)(seed >> 8) / 16777216.0 - 0.5;
        norm += psi[i].re * psi[i].re + psi[i].im * psi[i].im;
    }
    for (int64_t i = 0; i < n; ++i) {
        psi[i].re /= sqrt(norm);
        psi[i].im /= sqrt(norm);
    }
}

/* psi = a state mostly a (0.999 a plus 0.03 of a pseudo-random state, normalized); returns
 * 1 - |<a|psi>|^2, the leak out of a (unit) that the start checks measure. */
static double mostly(const tcgpu_cplx *a, int64_t n, tcgpu_cplx *psi, unsigned seed) {
    some_state(n, psi, seed);
    double norm = 0, re = 0, im = 0;
    for (int64_t i = 0; i < n; ++i) {
        psi[i].re = 0.999 * a[i].re + 0.03 * psi[i].re;
        psi[i].im = 0.999 * a[i].im + 0.03 * psi[i].im;
        norm += psi[i].re * psi[i].re + psi[i].im * psi[i].im;
    }
    for (int64_t i = 0; i < n; ++i) {
        psi[i].re /= sqrt(norm);
        psi[i].im /= sqrt(norm);
        re += a[i].re * psi[i].re + a[i].im * psi[i].im;
        im += a[i].re * psi[i].im - a[i].im * psi[i].re;
    }
    return 1 - (re * re + im * im);
}

/* Both readouts of two states at t; returns the largest difference of any probability. */
static double readout_diff(const tcgpu_model *m, double t, int superadiabatic) {
    int64_t n = m->dim;
    tcgpu_cplx *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    double *p = malloc((size_t)n * 4 * sizeof *p);
    some_state(n, a, 1);
    some_state(n, b, 2);
    const tcgpu_cplx *psi[2] = {a, b};
    double *chain[2] = {p, p + n}, *dense[2] = {p + 2 * n, p + 3 * n};
    double un[2] = {1, 1}, *unsure[2] = {&un[0], &un[1]};
    ASSERT_OK(adiabatic_readout_many(NULL, m, t, superadiabatic, 0, 2, psi, chain, unsure));
    cr_assert_eq(un[0], 0);
    ASSERT_OK(adiabatic_dense_readout_many(NULL, m, t, superadiabatic, 0, 2, psi, dense, NULL));
    double worst = 0, sum = 0;
    for (int64_t i = 0; i < 2 * n; ++i) {
        worst = fmax(worst, fabs(p[i] - p[2 * n + i]));
        sum += p[i];
    }
    cr_assert(sum > 0.5, "readout lost the states (sum %g)", sum);
    free(a);
    free(b);
    free(p);
    return worst;
}

/* Both starts at t; returns the largest difference after fixing the eigenvector's sign. */
static double start_diff(const tcgpu_model *m, double t, int superadiabatic) {
    int64_t n = m->dim;
    tcgpu_cplx *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    ASSERT_OK(adiabatic_start(NULL, m, t, superadiabatic, a));
    ASSERT_OK(adiabatic_dense_start(NULL, m, t, superadiabatic, b));
    int64_t top = 0;
    for (int64_t i = 0; i < n; ++i)
        top = fabs(b[i].re) > fabs(b[top].re) ? i : top;
    double sign = a[top].re * b[top].re < 0 ? -1 : 1, worst = 0;
    for (int64_t i = 0; i < n; ++i)
        worst = fmax(worst, fmax(fabs(a[i].re - sign * b[i].re), fabs(a[i].im - sign * b[i].im)));
    free(a);
    free(b);
    return worst;
}

/* Chain and dense readouts at t and starts at -t agree within 1e-12; at the third order within
 * 1e-8: both take dy2/dt by central differences at t -+ 1e-5 |t|, the dense code of the
 * eigenbasis components, the chain's of the vector, whose truncation errors differ at O(dt^2)
 * (tc K = 1, N = 60, t = 0.4, where the third order moves probabilities by 8.8e-3: 2.1e-11;
 * 1.7e-5 at dt = 1e-3 |t| before the series was cut at its least term). */
static void agree(const tcgpu_model *m, double t, int sa, const char *what) {
    double dr = readout_diff(m, t, sa), ds = start_diff(m, -t, sa), tol = sa > 2 ? 1e-8 : 1e-12;
    cr_log_info("%s, dressing order %d: readout %.2e, start %.2e", what, sa, dr, ds);
    cr_assert(dr < tol, "%s, order %d: readouts differ by %g", what, sa, dr);
    cr_assert(ds < tol, "%s, order %d: starts differ by %g", what, sa, ds);
}

Test(readout, tc_one_channel_chain_equals_dense) {
    tcgpu_model m;
    double e = 0.4;
    ASSERT_OK(tcgpu_model_tc(&m, 60, 1, 1.0, 30.0, &e));
    cr_assert(adiabatic_tri_applies(&m));
    for (int sa = 0; sa <= 3; ++sa) /* past the crossing (t > -e/beta): tens of states wide */
        agree(&m, 0.4, sa, "tc K = 1, N = 60");
    tcgpu_model_free(&m);
}

Test(readout, strongly_coupled_chain_equals_dense) {
    /* slow sweep, far past the crossing but couplings ~0.4 N^1.5 = 3100 against a level step
     * beta t = 11: the lowest eigenvectors live in the chain's middle, not where the diagonal
     * meets their energy (a stretch placed there had read the ground state's population as 0) */
    tcgpu_model m;
    double e = 0;
    ASSERT_OK(tcgpu_model_tc(&m, 400, 1, 1.0, 0.3, &e));
    agree(&m, 37.3, 2, "tc K = 1, N = 400, beta = 0.3");
    agree(&m, 37.3, 3, "tc K = 1, N = 400, beta = 0.3");
    /* the ground state itself (rank 0 at t > 0: the state all pairs, n = N, as t -> +inf),
     * where the readout skips every eigenvector whose stretch holds no weight */
    tcgpu_cplx *g = malloc((size_t)m.dim * sizeof *g);
    double *p = malloc((size_t)m.dim * sizeof *p);
    ASSERT_OK(adiabatic_dense_start(NULL, &m, 37.3, 0, g));
    const tcgpu_cplx *psi[1] = {g};
    double *prob[1] = {p};
    ASSERT_OK(adiabatic_readout_many(NULL, &m, 37.3, 0, 0, 1, psi, prob, NULL));
    cr_assert(fabs(p[400] - 1) < 1e-12, "ground state read as %.17g in n = N", p[400]);
    free(g);
    free(p);
    tcgpu_model_free(&m);
}

Test(readout, localized_ladder_windows_equal_dense) {
    /* 1500 states, level step 20 against couplings ~1: eigenvectors a few sites wide, so the
     * readout runs in windows of a few hundred states with Sturm-counted ranks */
    tcgpu_model m;
    chain_model(&m, 1500, 0);
    for (int sa = 0; sa <= 3; ++sa)
        agree(&m, 20, sa, "ladder, 1500 states");
    tcgpu_model_free(&m);
}

Test(readout, shuffled_slopes_grow_windows_and_stay_exact) {
    /* ranks and sites unrelated: the rank checks must refuse local windows (or pass only where
     * they are right) */
    tcgpu_model m;
    chain_model(&m, 700, 1);
    agree(&m, 20, 2, "shuffled chain, 700 states");
    agree(&m, 20, 3, "shuffled chain, 700 states");
    tcgpu_model_free(&m);
}

Test(readout, lz_two_states) {
    tcgpu_model m;
    ASSERT_OK(tcgpu_model_lz(&m, 0.7, 1.3));
    for (int sa = 0; sa <= 3; ++sa)
        agree(&m, 2.5, sa, "lz");
    tcgpu_model_free(&m);
}

/* The third order's dr/dt in closed form (second_rate: products of h, G and P from the
 * eigenvector motion U' = -U P) against differences of the second orders of frames at nearby
 * times, which need nothing but the second-order formula (adiabatic_rdot_check: central
 * differences at 1e-3 |t| and twice that, Richardson-combined): tc with two and three
 * channels, before, inside and after the transition. One central difference agrees only to
 * ~1e-5 of the rate in two of these cases (its dt^2 error at 1e-3 |t|, its rounding below);
 * near an avoided crossing whose gap is comparable to dt times the slopes (tc K = 3, N = 4,
 * beta = 3, t = 6: gap 0.027; N = 3, beta = 1, t = 2: gap 0.015) no difference at any dt
 * resolves the pair, and those cases are left out. */
Test(readout, second_order_rate_equals_central_difference) {
    static const struct {
        int K;
        int64_t N;
        double beta, t;
    } cases[] = {{2, 6, 1.0, -8.0},
                 {2, 6, 1.0, 3.0},
                 {2, 8, 10.0, 2.5},
                 {3, 4, 3.0, -5.0},
                 {3, 4, 3.0, 15.0}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        tcgpu_model m;
        double e[3] = {-1, 0.3, 1.1};
        ASSERT_OK(tcgpu_model_tc(&m, cases[c].N, cases[c].K, 1.0, cases[c].beta, e));
        double diff, rate;
        ASSERT_OK(adiabatic_rdot_check(NULL, &m, cases[c].t, &diff, &rate));
        cr_log_info("K %d N %lld beta %g t %g: |r'| <= %.3e, closed form - difference %.3e",
                    cases[c].K, (long long)cases[c].N, cases[c].beta, cases[c].t, rate, diff);
        cr_expect_gt(rate, 0);
        cr_expect_lt(diff, 1e-5 * rate, "K %d N %lld t %g: %.3e against |r'| %.3e", cases[c].K,
                     (long long)cases[c].N, cases[c].t, diff, rate);
        tcgpu_model_free(&m);
    }
}

/* The sparse start of large non-chain models (src/numerics/adiabatic_sparse.c: Lanczos and
 * conjugate-gradient resolvents) against the dense start (src/numerics/adiabatic.c: the same
 * dressing as sums over all eigenstates), called directly on models small enough for both: tc
 * K = 2 and 3 before the transition, dressing orders 0-2; and the leak of a state out of the
 * dressed ground state against 1 - |<dense start|psi>|^2. */
Test(readout, sparse_start_equals_dense) {
    static const struct {
        int K;
        int64_t N;
        double beta, t;
    } cases[] = {{2, 20, 1.0, -30.0}, {2, 12, 10.0, -2.0}, {3, 6, 3.0, -8.0}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        tcgpu_model m;
        double e[3] = {-1, 0.3, 1.1};
        ASSERT_OK(tcgpu_model_tc(&m, cases[c].N, cases[c].K, 1.0, cases[c].beta, e));
        int64_t n = m.dim;
        tcgpu_cplx *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
        tcgpu_cplx *psi = malloc((size_t)n * sizeof *psi);
        for (int order = 0; order <= 2; ++order) {
            ASSERT_OK(adiabatic_dense_start(NULL, &m, cases[c].t, order, a));
            ASSERT_OK(adiabatic_sparse_start(&m, cases[c].t, order, b));
            double re = 0, im = 0; /* <a|b>: unit modulus up to the eigenvector's sign */
            for (int64_t i = 0; i < n; ++i) {
                re += a[i].re * b[i].re + a[i].im * b[i].im;
                im += a[i].re * b[i].im - a[i].im * b[i].re;
            }
            double ab = sqrt(re * re + im * im), cr = re / ab, ci = -im / ab, dist = 0;
            for (int64_t i = 0; i < n; ++i) { /* |a - c b|, c = conj(<a|b>) / |<a|b>| */
                double dr = a[i].re - (cr * b[i].re - ci * b[i].im);
                double di = a[i].im - (cr * b[i].im + ci * b[i].re);
                dist += dr * dr + di * di;
            }
            dist = sqrt(dist);
            cr_log_info("K %d N %lld t %g order %d: |dense - sparse| = %.2e", cases[c].K,
                        (long long)cases[c].N, cases[c].t, order, dist);
            cr_expect_lt(dist, 1e-10, "K %d N %lld order %d: %.3e", cases[c].K,
                         (long long)cases[c].N, order, dist);
            if (order == 0)
                memcpy(psi, b, (size_t)n * sizeof *psi);
        }
        double dressed = 0; /* the dressing is there to be compared: order 2 against order 0 */
        for (int64_t i = 0; i < n; ++i)
            dressed += (psi[i].re - b[i].re) * (psi[i].re - b[i].re) +
                       (psi[i].im - b[i].im) * (psi[i].im - b[i].im);
        cr_log_info("K %d N %lld: |order 2 - order 0| = %.2e", cases[c].K, (long long)cases[c].N,
                    sqrt(dressed));
        cr_expect_gt(sqrt(dressed), 1e-6);
        double want = mostly(a, n, psi, 7u);
        const tcgpu_cplx *pp[1] = {psi};
        double leak;
        ASSERT_OK(adiabatic_sparse_leak(&m, cases[c].t, 2, 1, pp, &leak));
        cr_expect_lt(fabs(leak - want), 1e-10 * want + 1e-15, "K %d N %lld: leak %.6e, want %.6e",
                     cases[c].K, (long long)cases[c].N, leak, want);
        free(a);
        free(b);
        free(psi);
        tcgpu_model_free(&m);
    }
}

/* A chain's start check reads its leak from the one dressed eigenvector the start becomes
 * (adiabatic_leak: the chain start's, whose window values come by bisection where the whole
 * chain is the window) instead of the whole readout: against 1 - |<dense start|psi>|^2 for a
 * state mostly the start, dressing orders 0-2; tc K = 1 slow (N = 400, beta = 0.3, whole-chain
 * windows) and fast (N = 60, beta = 30). */
Test(readout, chain_leak_equals_one_minus_overlap) {
    static const struct {
        int64_t N;
        double beta, t;
    } cases[] = {{400, 0.3, -37.3}, {60, 30.0, -0.4}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        tcgpu_model m;
        double e = 0.4;
        ASSERT_OK(tcgpu_model_tc(&m, cases[c].N, 1, 1.0, cases[c].beta, &e));
        int64_t n = m.dim;
        cr_assert(adiabatic_leak_applies(&m, 2));
        tcgpu_cplx *a = malloc((size_t)n * sizeof *a), *psi = malloc((size_t)n * sizeof *psi);
        for (int order = 0; order <= 2; ++order) {
            ASSERT_OK(adiabatic_dense_start(NULL, &m, cases[c].t, order, a));
            double leak, want = mostly(a, n, psi, 11u);
            const tcgpu_cplx *pp[1] = {psi};
            ASSERT_OK(adiabatic_leak(&m, cases[c].t, order, 1, pp, &leak));
            cr_log_info("N %lld order %d: leak %.10e, 1 - overlap %.10e", (long long)cases[c].N,
                        order, leak, want);
            cr_expect_lt(fabs(leak - want), 1e-10 * want + 1e-15,
                         "N %lld order %d: leak %.6e, want %.6e", (long long)cases[c].N, order,
                         leak, want);
        }
        free(a);
        free(psi);
        tcgpu_model_free(&m);
    }
}

/* The window readout of large non-chain models (src/numerics/adiabatic_window.c: the dense
 * readout of the sub-model where the states live), called directly on tc K = 2, N = 30 (496
 * states) past the last crossing (t = 100, beta = 1; the lines of sectors n and n + 1 last
 * cross at (2n + 1)/beta = 61): a state made of a few of H(t)'s lowest eigenvectors (LAPACK's
 * dsyev on H(t) built here from the model's arrays) must read |c_k|^2 on the diabatic state of
 * final rank k (ascending slope, then constant, sorted here) with no dressing, by rank and by
 * slope group alike, from a window much smaller than the model; and with the second-order
 * dressing as the whole model's dense readout does. */
static const tcgpu_model *final_model;
static int by_final(const void *x, const void *y) {
    const tcgpu_model *m = final_model;
    int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
    if (m->b[i] != m->b[j])
        return m->b[i] < m->b[j] ? -1 : 1;
    return (m->a[i] > m->a[j]) - (m->a[i] < m->a[j]);
}

/* tc K = 2, N = 50 (1326 states), e = -1, 1, past its last crossing at t: H(t)'s eigenvectors
 * (LAPACK, row-major: column r is the eigenvector of energy rank r). */
static double *pair_model_eigenvectors(tcgpu_model *m, double t) {
    const double e[2] = {-1, 1};
    ASSERT_OK(tcgpu_model_tc(m, 50, 2, 1.0, 1.0, e));
    const int64_t n = m->dim;
    double *h = calloc((size_t)(n * n), sizeof *h), *ev = malloc((size_t)n * sizeof *ev);
    for (int64_t i = 0; i < n; ++i) {
        h[i * n + i] = m->b[i] * t + m->a[i];
        for (int64_t q = m->row_ptr[i]; q < m->row_ptr[i + 1]; ++q)
            h[i * n + m->col[q]] = m->val[q];
    }
    cr_assert_eq(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, h, (lapack_int)n, ev), 0);
    free(ev);
    return h;
}

Test(readout, window_equals_dense_and_eigenvector_weights) {
    tcgpu_model m;
    const double t = 150;
    double *h = pair_model_eigenvectors(&m, t);
    const int64_t n = m.dim;
    int64_t *fin = malloc((size_t)n * sizeof *fin);
    for (int64_t i = 0; i < n; ++i)
        fin[i] = i;
    final_model = &m;
    qsort(fin, (size_t)n, sizeof *fin, by_final);
    const int rank[] = {0, 1, 2, 5, 9};
    const double c[][2] = {{0.6, 0.1}, {-0.3, 0.45}, {0.2, -0.2}, {0.05, 0.3}, {-0.25, -0.1}};
    tcgpu_cplx *psi = calloc((size_t)n, sizeof *psi);
    double *want = calloc((size_t)n, sizeof *want), *got = malloc((size_t)n * sizeof *got);
    double *dense = malloc((size_t)n * sizeof *dense), norm = 0;
    for (int k = 0; k < 5; ++k)
        norm += c[k][0] * c[k][0] + c[k][1] * c[k][1];
    for (int k = 0; k < 5; ++k) {
        for (int64_t i = 0; i < n; ++i) { /* column rank[k] of the row-major eigenvectors */
            psi[i].re += c[k][0] / sqrt(norm) * h[i * n + rank[k]];
            psi[i].im += c[k][1] / sqrt(norm) * h[i * n + rank[k]];
        }
        want[fin[rank[k]]] = (c[k][0] * c[k][0] + c[k][1] * c[k][1]) / norm;
    }
    const tcgpu_cplx *pp[1] = {psi};
    double *gp[1] = {got}, *dp[1] = {dense};
    for (int by_rank = 0; by_rank <= 1; ++by_rank) {
        int64_t nw = adiabatic_window_states(&m, by_rank, 1, pp, NULL);
        double un = 1, *up[1] = {&un}, worst = 0;
        ASSERT_OK(adiabatic_window_readout(NULL, &m, t, 0, by_rank, 1, pp, gp, up));
        for (int64_t i = 0; i < n; ++i)
            worst = fmax(worst, fabs(got[i] - want[i]));
        cr_log_info("by rank %d: window of %lld of %lld states, max |P - |c_k|^2| = %.2e, "
                    "unsure %.1e",
                    by_rank, (long long)nw, (long long)n, worst, un);
        cr_expect_lt(2 * nw, n, "by rank %d: window of %lld states", by_rank, (long long)nw);
        cr_expect_lt(worst, 1e-10, "by rank %d: %.3e", by_rank, worst);
        cr_expect_lt(un, 1e-12, "by rank %d: unsure %.3e", by_rank, un);
        ASSERT_OK(adiabatic_window_readout(NULL, &m, t, 2, by_rank, 1, pp, gp, up));
        ASSERT_OK(adiabatic_dense_readout_many(NULL, &m, t, 2, by_rank, 1, pp, dp, NULL));
        worst = 0;
        double moved = 0;
        for (int64_t i = 0; i < n; ++i) {
            worst = fmax(worst, fabs(got[i] - dense[i]));
            moved = fmax(moved, fabs(dense[i] - want[i]));
        }
        cr_log_info("by rank %d, order 2: window - dense %.2e (the dressing moves %.2e)", by_rank,
                    worst, moved);
        cr_expect_lt(worst, 1e-10, "by rank %d, order 2: %.3e", by_rank, worst);
    }
    free(h), free(fin), free(psi), free(want), free(got), free(dense);
    tcgpu_model_free(&m);
}

/* A state with a tail spread thinly over the whole basis (1e-10 in all): the windows of the
 * smallest core drops hold more than half the states, so the readout widens its drop until the
 * window is small, reads the eigenvector weights (|<phi_k|psi>|^2 of the whole model's
 * eigenvectors, tail included) to about the tail's weight, and counts what it cut as unsure. */
Test(readout, window_cuts_a_spread_tail_and_counts_it_unsure) {
    tcgpu_model m;
    const double t = 150;
    double *h = pair_model_eigenvectors(&m, t);
    const int64_t n = m.dim;
    const double tail = 1e-10; /* total weight of the tail */
    tcgpu_cplx *psi = calloc((size_t)n, sizeof *psi);
    for (int64_t i = 0; i < n; ++i) { /* equal moduli, phases that wander */
        psi[i].re = sqrt(tail / (double)n) * cos(1.7 * (double)i);
        psi[i].im = sqrt(tail / (double)n) * sin(1.7 * (double)i);
    }
    const int rank[] = {0, 3, 7};
    const double c[] = {0.8, 0.5, sqrt(1 - 0.64 - 0.25)};
    for (int k = 0; k < 3; ++k)
        for (int64_t i = 0; i < n; ++i)
            psi[i].re += c[k] * h[i * n + rank[k]];
    int64_t *fin = malloc((size_t)n * sizeof *fin);
    for (int64_t i = 0; i < n; ++i)
        fin[i] = i;
    final_model = &m;
    qsort(fin, (size_t)n, sizeof *fin, by_final);
    double *want = malloc((size_t)n * sizeof *want), *got = malloc((size_t)n * sizeof *got);
    for (int64_t r = 0; r < n; ++r) { /* eigenvector of rank r -> final state fin[r] */
        double re = 0, im = 0;
        for (int64_t i = 0; i < n; ++i)
            re += h[i * n + r] * psi[i].re, im += h[i * n + r] * psi[i].im;
        want[fin[r]] = re * re + im * im;
    }
    const tcgpu_cplx *pp[1] = {psi};
    double *gp[1] = {got};
    for (int by_rank = 0; by_rank <= 1; ++by_rank) {
        double drop = -1, un = 0, *up[1] = {&un}, tv = 0;
        int64_t nw = adiabatic_window_states(&m, by_rank, 1, pp, &drop);
        ASSERT_OK(adiabatic_window_readout(NULL, &m, t, 0, by_rank, 1, pp, gp, up));
        for (int64_t i = 0; i < n; ++i)
            tv += fabs(got[i] - want[i]) / 2;
        cr_log_info("by rank %d: window of %lld of %lld states, cut %.2e, unsure %.2e, TV %.2e",
                    by_rank, (long long)nw, (long long)n, drop, un, tv);
        cr_expect_lt(2 * nw, n, "by rank %d: window of %lld states", by_rank, (long long)nw);
        /* above 1e-11: the smaller drops' windows did not fit; the eigenvectors' own thin
         * edges count with the tail */
        cr_expect(drop > 1e-11 && drop <= 1e-9, "by rank %d: cut %.3e", by_rank, drop);
        cr_expect_geq(un, drop, "by rank %d: unsure %.3e, cut %.3e", by_rank, un, drop);
        cr_expect_leq(tv, un, "by rank %d: TV %.3e above the unsure weight %.3e", by_rank, tv, un);
    }
    free(h), free(fin), free(psi), free(want), free(got);
    tcgpu_model_free(&m);
}
