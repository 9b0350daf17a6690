/* Start and readout in the instantaneous eigenbasis (dense LAPACK; dimension <= TCGPU_DENSE_MAX).
 *
 * Following eigenstate k, the first-order adiabatic-perturbation admixture of state m is
 * i <m|dH/dt|k> / (E_m - E_k)^2 (derived in the comments of the tests); starting in and
 * projecting on these dressed ("superadiabatic") states removes the O(1/T) ringing that a plain
 * adiabatic start and readout leave (shared/PHYSICS.md, Numerics). */
#include "adiabatic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adiabatic_labels.h"
#include "eig.h"

#include <cblas.h>

void adiabatic_frame_free(frame *f) {
    free(f->u);
    free(f->e);
    free(f->hdot);
}

tcgpu_status adiabatic_frame_build(const eig_device *dev, const tcgpu_model *m, double t,
                                   int with_hdot, frame *f) {
    int64_t n = m->dim;
    if (n > TCGPU_DENSE_MAX)
        return tcgpu_fail(TCGPU_EINVAL,
                          "dimension %lld: the adiabatic start/readout of this version "
                          "diagonalizes densely and stops at %d states",
                          (long long)n, TCGPU_DENSE_MAX);
    if (!isfinite(t))
        return tcgpu_fail(TCGPU_ERUNTIME, "eigenbasis requested at a non-finite time (window "
                                          "control failed); set the window explicitly "
                                          "(tcgpu_auto_opts.T0, .Tr)");
    size_t nn = (size_t)n * (size_t)n;
    f->n = n;
    f->u = calloc(nn, sizeof *f->u);
    f->e = malloc((size_t)n * sizeof *f->e);
    f->hdot = with_hdot ? malloc(nn * sizeof *f->hdot) : NULL;
    double *s = with_hdot ? calloc(nn, sizeof *s) : NULL, *work = with_hdot ? malloc(nn * 8) : 0;
    if (!f->u || !f->e || (with_hdot && (!f->hdot || !s || !work))) {
        free(s);
        free(work);
        adiabatic_frame_free(f);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a %lld-state eigenbasis",
                          (long long)n);
    }
    double ft = m->inverse_t ? 1.0 / t : 1.0, dft = m->inverse_t ? -1.0 / (t * t) : 0.0;
    for (int64_t i = 0; i < n; ++i) {
        double w = m->w ? m->w[i] : 0.0;
        f->u[i * n + i] = m->b[i] * t + m->a[i] + (w != 0 ? w / t : 0.0);
        if (s)
            s[i * n + i] = m->b[i] - (w != 0 ? w / (t * t) : 0.0);
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e) {
            f->u[m->col[e] * n + i] = ft * m->val[e];
            if (s)
                s[m->col[e] * n + i] = dft * m->val[e];
        }
    }
    tcgpu_status st = eig_sym(dev, n, f->u, f->e);
    if (!st && with_hdot)
        st = eig_sandwich(dev, n, f->u, s, f->hdot, work);
    free(s);
    free(work);
    if (st)
        adiabatic_frame_free(f);
    return st;
}

/* 1 / (E_i - E_j) for a pair the dressing admixes (distinct states, not in one tie group), else
 * 0. */
static double pair_inverse_gap(const frame *f, const int64_t *gid, int64_t i, int64_t j) {
    double gap = f->e[i] - f->e[j];
    return i == j || gap == 0 || gid[i] == gid[j] ? 0 : 1.0 / gap;
}

/* a b^T + b a^T (both n x n, column-major) into c, full: one symmetric rank-2k update, half the
 * flops of the product it stands for. */
static void sym2k(int n, const double *a, const double *b, int k, double *c) {
    cblas_dsyr2k(CblasColMajor, CblasLower, CblasNoTrans, n, k, 1.0, a, n, b, n, 0.0, c, n);
    for (int64_t j = 0; j < n; ++j) /* the upper triangle from the lower */
        for (int64_t i = 0; i < j; ++i)
            c[j * n + i] = c[i * n + j];
}

static double *second_rate(const frame *f, const int64_t *gid, const double *P, const double *R,
                           const double *hd, const double *PR);

/* Second-order admixtures r (real, n x n column-major: r[k n + m] of state m in dressed k).
 * Iterating i b' = (E_m - E_k) b - i A b - i A_mk, A_mk = <m|k'> = h_mk/(E_k - E_m), h = dH/dt
 * in the eigenbasis, once more than the first order b = -i h_mk/D^2 (D = E_m - E_k) gives
 *   r = [h'_mk / D^2 - 2 h_mk (h_mm - h_kk) / D^3 - sum_j h_mj h_jk / ((E_m - E_j)(E_j - E_k)^2)] /
 * D with h'_mk = d<m|dH/dt|k>/dt = sum_j h_mj h_jk (1/(E_m - E_j) + 1/(E_k - E_j)) when H'' = 0. As
 * matrices, with P = h o G, G_ij = 1/(E_i - E_j), and R = h o G o G: h' = P h - h P = P h + h P^T
 * (h symmetric, P antisymmetric: one rank-2k update) and the sum is -(P R)_mk; O(n^3) like the
 * eigen-decomposition. Pairs in one tie group (gid) are left out as in the first order. With
 * rdot, also dr/dt (second_rate) from the same products. NULL when out of memory (first order
 * then). */
static double *second_order_and_rate(const frame *f, const int64_t *gid, double **rdot) {
    int64_t n = f->n;
    size_t nn = (size_t)n * (size_t)n;
    double *P = calloc(nn + 1, sizeof *P), *R = calloc(nn + 1, sizeof *R);
    double *hd = malloc((nn + 1) * sizeof *hd), *r = malloc((nn + 1) * sizeof *r);
    const double *h = f->hdot;
    if (rdot)
        *rdot = NULL;
    if (!P || !R || !hd || !r) {
        free(P);
        free(R);
        free(hd);
        free(r);
        return NULL;
    }
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < n; ++i) {
            double g = pair_inverse_gap(f, gid, i, j);
            P[j * n + i] = h[j * n + i] * g;
            R[j * n + i] = h[j * n + i] * g * g;
        }
    int ni = (int)n;
    sym2k(ni, P, h, ni, hd);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0, P, ni, R, ni, 0.0, r,
                ni); /* P R, replaced element by element below */
    if (rdot)
        *rdot = second_rate(f, gid, P, R, hd, r);
    for (int64_t k = 0; k < n; ++k)
        for (int64_t m = 0; m < n; ++m) {
            double d = f->e[m] - f->e[k];
            size_t mk = (size_t)k * (size_t)n + (size_t)m;
            if (pair_inverse_gap(f, gid, m, k) == 0) {
                r[mk] = 0;
                continue;
            }
            double hmk = h[mk], dh = h[m * n + m] - h[k * n + k];
            r[mk] = (hd[mk] / (d * d) - 2 * hmk * dh / (d * d * d) - r[mk]) / d;
        }
    free(P);
    free(R);
    free(hd);
    return r;
}

static double *second_order(const frame *f, const int64_t *gid) {
    return second_order_and_rate(f, gid, NULL);
}

/* Flips the eigenvectors of g (and its dH/dt) to the signs of f's, a frame at a nearby time.
 * 0 where they do not match one to one (a crossing or a tie group's free rotation in between). */
static int frame_align(frame *g, const frame *f) {
    int64_t n = f->n;
    double *sign = malloc((size_t)n * sizeof *sign);
    int ok = sign != NULL;
    for (int64_t j = 0; ok && j < n; ++j) {
        double o = 0;
        for (int64_t i = 0; i < n; ++i)
            o += g->u[j * n + i] * f->u[j * n + i];
        ok = fabs(o) >= 0.9;
        sign[j] = o < 0 ? -1 : 1;
    }
    for (int64_t k = 0; ok && k < n; ++k) {
        for (int64_t i = 0; i < n; ++i)
            g->u[k * n + i] *= sign[k];
        for (int64_t m = 0; m < n; ++m)
            g->hdot[k * n + m] *= sign[k] * sign[m];
    }
    free(sign);
    return ok;
}

/* The third-order equation at frame f (before the series is cut at its least term):
 *   D s3 = r' - (P r)_mk + h_mk sigma_k / D^2,  sigma_k = sum_j h_kj h_jk / (E_j - E_k)^3,
 * P = h o G as in second_order, D = E_m - E_k; P (n x n) and sigma (n) are the caller's
 * scratch. NULL when out of memory. */
static double *third_raw(const frame *f, const int64_t *gid, const double *r, const double *rdot,
                         double *P, double *sigma) {
    int64_t n = f->n;
    size_t nn = (size_t)n * (size_t)n;
    double *s3 = malloc(nn * sizeof *s3);
    if (!s3)
        return NULL;
    const double *h = f->hdot;
    memset(sigma, 0, (size_t)n * sizeof *sigma);
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < n; ++i) {
            double g = pair_inverse_gap(f, gid, i, j);
            P[j * n + i] = h[j * n + i] * g;
            sigma[j] += h[j * n + i] * h[j * n + i] * g * g * g;
        }
    int ni = (int)n;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0, P, ni, r, ni, 0.0, s3,
                ni); /* P r, replaced element by element below */
    for (int64_t k = 0; k < n; ++k)
        for (int64_t mm = 0; mm < n; ++mm) {
            double d = f->e[mm] - f->e[k];
            size_t mk = (size_t)k * (size_t)n + (size_t)mm;
            s3[mk] = pair_inverse_gap(f, gid, mm, k) == 0
                         ? 0
                         : (rdot[mk] - s3[mk] + h[mk] * sigma[k] / (d * d)) / d;
        }
    return s3;
}

/* The series is asymptotic: where a state's term of one order exceeds that of the order
 * before (before the transition, where in-sector gaps are small: tc K = 2, N = 20, eps = 0.1,
 * beta = 0.05 read a start leak of 1.7e-5 at T0 = 22.7 with the third order, 2.1e-7 without),
 * it stops at the order before: `hi`'s column is zeroed (dressing_series cuts its orders
 * likewise). */
static void cut_at_least_term(int64_t n, const double *lo, double *hi) {
    for (int64_t k = 0; k < n; ++k) {
        double a = 0, b = 0;
        for (int64_t mm = 0; mm < n; ++mm) {
            a += lo[k * n + mm] * lo[k * n + mm];
            b += hi[k * n + mm] * hi[k * n + mm];
        }
        if (!(b <= a))
            for (int64_t mm = 0; mm < n; ++mm)
                hi[k * n + mm] = 0;
    }
}

/* dr/dt of the second order in closed form, from second_order_and_rate's P, R, h' and P R.
 * H'' = 0 for the models dressed above the first order, so with U' = -U P (the first-order
 * eigenvector motion) and E_k' = h_kk everything r is made of moves with products of n x n
 * matrices:
 *   h'' = S + S^T, S = P' h + P h',   G' = -Delta o G o G (Delta_mk = h_mm - h_kk),
 *   P' = h' o G + h o G',   R' = h' o G o G + 2 h o G o G',   (P R)' = P' R + P R',
 * and r = G o X, X = G o G o h' - 2 h o Delta o G^3 - P R, gives r' = G' o X + G o X'. One
 * rank-2k update and one product of inner size 2n against the two more frames
 * (eigen-decomposition, dH/dt sandwich and second order each) that a central difference needs;
 * the two agree to the difference's own error (adiabatic_rdot_check, tests/unit/test_readout.c).
 * NULL when out of memory. */
static double *second_rate(const frame *f, const int64_t *gid, const double *P, const double *R,
                           const double *hd, const double *PR) {
    int64_t n = f->n;
    size_t nn = (size_t)n * (size_t)n;
    int ni = (int)n;
    const double *h = f->hdot;
    /* A = [P' | P] (n x 2n), B = [R; R'] (2n x n), then [h | h'] (n x 2n) */
    double *A = malloc((2 * nn + 1) * sizeof *A), *B = malloc((2 * nn + 1) * sizeof *B);
    double *S = malloc((nn + 1) * sizeof *S), *out = malloc((nn + 1) * sizeof *out);
    if (!A || !B || !S || !out) {
        free(out);
        out = NULL;
        goto done;
    }
    memcpy(A + nn, P, nn * sizeof *A);
    for (int64_t k = 0; k < n; ++k)
        for (int64_t m = 0; m < n; ++m) {
            size_t mk = (size_t)k * (size_t)n + (size_t)m;
            double g = pair_inverse_gap(f, gid, m, k), dl = h[m * n + m] - h[k * n + k];
            double gd = -dl * g * g;
            A[mk] = hd[mk] * g + h[mk] * gd;
            B[(size_t)k * 2 * n + m] = R[mk];
            B[(size_t)k * 2 * n + n + m] = hd[mk] * g * g + 2 * h[mk] * g * gd;
        }
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, ni, 2 * ni, 1.0, A, ni, B, 2 * ni,
                0.0, out, ni); /* (P R)' */
    memcpy(B, h, nn * sizeof *B);
    memcpy(B + nn, hd, nn * sizeof *B);
    sym2k(ni, A, B, 2 * ni, S); /* h'' = [P' P][h h']^T + [h h'][P' P]^T */
    for (int64_t k = 0; k < n; ++k)
        for (int64_t m = 0; m < n; ++m) {
            size_t mk = (size_t)k * (size_t)n + (size_t)m;
            double g = pair_inverse_gap(f, gid, m, k);
            if (g == 0) {
                out[mk] = 0;
                continue;
            }
            double dl = h[m * n + m] - h[k * n + k], dld = hd[m * n + m] - hd[k * n + k];
            double gd = -dl * g * g, g2 = g * g, g3 = g2 * g;
            double x = g2 * hd[mk] - 2 * h[mk] * dl * g3 - PR[mk];
            double xd = 2 * g * gd * hd[mk] + g2 * S[mk] -
                        2 * (hd[mk] * dl * g3 + h[mk] * dld * g3 + 3 * h[mk] * dl * g2 * gd) -
                        out[mk];
            out[mk] = gd * x + g * xd;
        }
done:
    free(A);
    free(B);
    free(S);
    return out;
}

/* dr/dt as the central difference of the second orders of the frames at t -+ dt (eigenvector
 * signs aligned with the frame at t). NULL where a neighbouring frame's eigenvectors do not
 * match those at t one to one, or out of memory. The third order took r' so (dt = 1e-5 |t|)
 * until second_rate replaced it; adiabatic_rdot_check compares the two. */
static double *second_order_differenced(const eig_device *dev, const tcgpu_model *m, double t,
                                        const frame *f, const int64_t *gid, double dt) {
    size_t nn = (size_t)f->n * (size_t)f->n;
    double *rp[2] = {NULL, NULL};
    int ok = 1;
    for (int side = 0; side < 2 && ok; ++side) {
        frame g;
        if (adiabatic_frame_build(dev, m, t + (side ? dt : -dt), 1, &g)) {
            ok = 0;
            break;
        }
        ok = frame_align(&g, f) && (rp[side] = second_order(&g, gid));
        adiabatic_frame_free(&g);
    }
    if (ok)
        for (size_t i = 0; i < nn; ++i)
            rp[1][i] = (rp[1][i] - rp[0][i]) / (2 * dt);
    free(rp[0]);
    if (!ok) {
        free(rp[1]);
        return NULL;
    }
    return rp[1];
}

/* Third-order admixtures, imaginary: b3_mk = i s3[k n + m]. One more iteration of the equation
 * above, with the back-reaction of the followed state's own amplitude (b = c_m / c_k):
 *   D b3 = i r' - i (P r)_mk + i h_mk sigma_k / D^2  (third_raw),
 * D = E_m - E_k, r the second order, r' in closed form (second_rate; tc K = 2, N = 40,
 * eps = 0.5, beta = 0.3: 7.4 -> 5.4 s against the central difference of two more frames).
 * NULL out of memory: the second order then stands. */
static double *third_order(const frame *f, const int64_t *gid, const double *r,
                           const double *rdot) {
    int64_t n = f->n;
    size_t nn = (size_t)n * (size_t)n;
    double *s3 = NULL, *P = rdot ? calloc(nn + 1, sizeof *P) : NULL;
    double *sigma = rdot ? malloc((size_t)n * sizeof *sigma + 1) : NULL;
    if (P && sigma && (s3 = third_raw(f, gid, r, rdot, P, sigma)))
        cut_at_least_term(n, r, s3);
    free(P);
    free(sigma);
    return s3;
}

/* The central differences at dt and 2 dt, dt = 1e-3 |t|, combined as (4 D(dt) - D(2 dt)) / 3:
 * truncation ~dt^4 |r^(5)| and rounding ~1e-16 |r| / dt, both far below the ~dt^2 of one
 * difference (1e-5 of the rate in the tests' cases at 1e-3, rounding-bound below 1e-4). */
tcgpu_status adiabatic_rdot_check(const eig_device *dev, const tcgpu_model *m, double t,
                                  double *max_diff, double *max_rate) {
    frame f;
    tcgpu_status st = adiabatic_frame_build(dev, m, t, 1, &f);
    if (st)
        return st;
    int64_t n = f.n, *gid = malloc((size_t)n * sizeof *gid + 1);
    for (int64_t i = 0; gid && i < n; ++i)
        gid[i] = i;
    double dt = 1e-3 * fmax(fabs(t), 1e-3);
    double *a = NULL, *r = gid ? second_order_and_rate(&f, gid, &a) : NULL;
    free(r);
    double *b1 = gid ? second_order_differenced(dev, m, t, &f, gid, dt) : NULL;
    double *b2 = gid ? second_order_differenced(dev, m, t, &f, gid, 2 * dt) : NULL;
    if (!a || !b1 || !b2)
        st = tcgpu_fail(TCGPU_ERUNTIME, "rdot check: out of memory or frames not aligned");
    *max_diff = *max_rate = 0;
    for (size_t i = 0; !st && i < (size_t)n * (size_t)n; ++i) {
        double b = (4 * b1[i] - b2[i]) / 3;
        *max_diff = fmax(*max_diff, fabs(a[i] - b));
        *max_rate = fmax(*max_rate, fabs(b));
    }
    free(a);
    free(b1);
    free(b2);
    free(gid);
    adiabatic_frame_free(&f);
    return st;
}

/* Orders 3..K (K >= 4) of the dressing at once. Writing b_j = i^j c_j (c_j real; c_1 = -h o G^2,
 * c_2 = -r), the admixture equation gives, order by order,
 *   D c_j+1 = c_j' - (P c_j)_mk + sum_{p=1}^{j-1} c_p,mk (P c_j-p)_kk,
 * D = E_m - E_k, P = h o G: the back-reaction pairs every two lower orders (for j = 2 this is
 * third_raw's equation, sigma_k = (P c_1)_kk). c_j' is a central difference over the frames at
 * t + i dl, |i| <= K - 2, all aligned with the frame at t, the second orders closed-form at
 * each; dl = 1e-3 |t| balances the stencil's dl^2 error against the eigenvectors' rounding over
 * dl^(K-2). Each state's series is cut at its least term. Returns 0 and adds the real orders
 * (c_4 - c_6 + ...) into r, the imaginary ones into *s3 (-c_3 + c_5 - ...); -1 (nothing
 * changed) where a frame does not match the one at t or out of memory. 2K - 3 frames. */
static int dressing_series(const eig_device *dev, const tcgpu_model *m, double t, const frame *f,
                           const int64_t *gid, double *r, int K, double **s3) {
    enum { KMAX = 8, PTS = 2 * KMAX - 3 };
    int64_t n = f->n;
    size_t nn = (size_t)n * (size_t)n;
    int half = K - 2, ni = (int)n;
    double dl = 1e-3 * fmax(fabs(t), 1e-3);
    frame g[PTS];
    double *c[KMAX + 1][PTS], *P[PTS], *work = malloc(nn * sizeof *work);
    double *diag = malloc((size_t)n * sizeof *diag + 1);
    memset(c, 0, sizeof c);
    memset(P, 0, sizeof P);
    int built = 0, ok = K >= 4 && K <= KMAX && work && diag;
#define AT(i) ((i) + half)
    for (int i = -half; i <= half && ok; ++i) {
        if (i == 0)
            g[AT(0)] = *f;
        else if (adiabatic_frame_build(dev, m, t + i * dl, 1, &g[AT(i)])) {
            ok = 0;
            break;
        } else {
            built |= 1 << AT(i);
            ok = frame_align(&g[AT(i)], f);
        }
        ok = ok &&
             (c[2][AT(i)] = i == 0 ? malloc(nn * sizeof(double)) : second_order(&g[AT(i)], gid));
        for (size_t e = 0; ok && e < nn; ++e)
            c[2][AT(i)][e] = -(i == 0 ? r[e] : c[2][AT(i)][e]);
        if (ok && abs(i) <= K - 3) { /* P and c_1 where a higher order is formed */
            const frame *h = &g[AT(i)];
            ok = (P[AT(i)] = malloc(nn * sizeof(double))) &&
                 (c[1][AT(i)] = malloc(nn * sizeof(double)));
            for (int64_t k = 0; ok && k < n; ++k)
                for (int64_t mm = 0; mm < n; ++mm) {
                    double gi = pair_inverse_gap(h, gid, mm, k);
                    P[AT(i)][k * n + mm] = h->hdot[k * n + mm] * gi;
                    c[1][AT(i)][k * n + mm] = -h->hdot[k * n + mm] * gi * gi;
                }
        }
    }
    for (int j = 2; j < K && ok; ++j)
        for (int i = -(K - j - 1); i <= K - j - 1 && ok; ++i) {
            const frame *h = &g[AT(i)];
            double *cj = c[j][AT(i)], *out = malloc(nn * sizeof *out);
            if (!(ok = out != NULL))
                break;
            c[j + 1][AT(i)] = out;
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0, P[AT(i)], ni,
                        cj, ni, 0.0, work, ni);
            for (size_t e = 0; e < nn; ++e)
                out[e] = (c[j][AT(i + 1)][e] - c[j][AT(i - 1)][e]) / (2 * dl) - work[e];
            for (int q = 1; q < j; ++q) { /* back-reaction: c_(j-q) with (P c_q)_kk */
                for (int64_t k = 0; k < n; ++k) {
                    double d = 0;
                    for (int64_t l = 0; l < n; ++l)
                        d += P[AT(i)][l * n + k] * c[q][AT(i)][k * n + l];
                    diag[k] = d;
                }
                for (int64_t k = 0; k < n; ++k)
                    for (int64_t mm = 0; mm < n; ++mm)
                        out[k * n + mm] += c[j - q][AT(i)][k * n + mm] * diag[k];
            }
            for (int64_t k = 0; k < n; ++k)
                for (int64_t mm = 0; mm < n; ++mm)
                    out[k * n + mm] *= pair_inverse_gap(h, gid, mm, k);
        }
    double *im = ok ? calloc(nn, sizeof *im) : NULL;
    if ((ok = im != NULL)) {
        for (int64_t k = 0; k < n; ++k) {
            int top = K; /* the last order kept: before the first that outgrows its predecessor */
            for (int j = 3; j <= K && top == K; ++j) {
                double a = 0, b = 0;
                for (int64_t mm = 0; mm < n; ++mm) {
                    a += c[j - 1][AT(0)][k * n + mm] * c[j - 1][AT(0)][k * n + mm];
                    b += c[j][AT(0)][k * n + mm] * c[j][AT(0)][k * n + mm];
                }
                if (!(b <= a))
                    top = j - 1;
            }
            for (int j = 3; j <= top; ++j) /* i^j c_j: real for even j, imaginary for odd */
                for (int64_t mm = 0; mm < n; ++mm) {
                    double v = (j % 4 == 0 || j % 4 == 1 ? 1 : -1) * c[j][AT(0)][k * n + mm];
                    if (j % 2)
                        im[k * n + mm] += v;
                    else
                        r[k * n + mm] += v;
                }
        }
        *s3 = im;
    }
#undef AT
    for (int i = 0; i < PTS; ++i) {
        if (built & (1 << i))
            adiabatic_frame_free(&g[i]);
        free(P[i]);
        for (int j = 1; j <= KMAX; ++j)
            free(c[j][i]);
    }
    free(work);
    free(diag);
    return ok ? 0 : -1;
}

/* The dressing above the first order for the start and the readouts: r2 (real; the fourth
 * order added in) and r3 (imaginary part), NULL where not used. */
static void higher_orders(const eig_device *dev, const tcgpu_model *m, double t, const frame *f,
                          const int64_t *gid, int superadiabatic, double **r2, double **r3) {
    double *rdot = NULL;
    int dressed = superadiabatic > 1 && !m->inverse_t && !m->w;
    *r2 = dressed ? second_order_and_rate(f, gid, superadiabatic == 3 ? &rdot : NULL) : NULL;
    *r3 = NULL;
    if (!*r2 || superadiabatic < 3)
        return;
    if (superadiabatic > 3 && !dressing_series(dev, m, t, f, gid, *r2, superadiabatic, r3))
        return;
    if (!rdot) { /* the series failed: the third order, its r' from r's products again */
        double *again = second_order_and_rate(f, gid, &rdot);
        free(again);
    }
    *r3 = third_order(f, gid, *r2, rdot);
    free(rdot);
}

/* Overlap of psi with the dressed eigenstate k: c_k - i sum_m hdot_mk/(E_m - E_k)^2 c_m
 * (+ sum_m r_mk c_m at second order), normalized. c: eigenbasis amplitudes. */
static tcgpu_cplx dressed_overlap(const frame *f, const tcgpu_cplx *c, const int64_t *gid,
                                  const double *r2, const double *r3, int64_t k) {
    tcgpu_cplx s = c[k];
    double norm = 1;
    for (int64_t mm = 0; mm < f->n; ++mm) {
        double gap = f->e[mm] - f->e[k];
        if (pair_inverse_gap(f, gid, mm, k) == 0)
            continue;
        double a = -f->hdot[k * f->n + mm] / (gap * gap);
        if (r3)
            a += r3[k * f->n + mm];
        s.re += a * c[mm].im;
        s.im -= a * c[mm].re;
        norm += a * a;
        if (r2) {
            double r = r2[k * f->n + mm];
            s.re += r * c[mm].re;
            s.im += r * c[mm].im;
            norm += r * r;
        }
    }
    double inv = 1.0 / sqrt(norm);
    s.re *= inv;
    s.im *= inv;
    return s;
}

/* The eigenvector that the start state becomes as t -> -inf: diabatic energies b t + a order
 * by descending slope, then ascending constant; eigenvalues keep that rank before the first
 * crossing. (heff starts at t -> 0+ in the ground state of its coupling: rank 0.) */
int64_t adiabatic_start_rank(const tcgpu_model *m) {
    if (m->kind == TCGPU_MODEL_HEFF)
        return 0;
    int64_t r = 0, s = m->start;
    for (int64_t i = 0; i < m->dim; ++i)
        if (m->b[i] > m->b[s] ||
            (m->b[i] == m->b[s] && (m->a[i] < m->a[s] || (m->a[i] == m->a[s] && i < s))))
            ++r;
    return r;
}

tcgpu_status adiabatic_dense_start(const eig_device *dev, const tcgpu_model *m, double t,
                                   int superadiabatic, tcgpu_cplx *psi) {
    frame f;
    tcgpu_status st = adiabatic_frame_build(dev, m, t, superadiabatic, &f);
    if (st)
        return st;
    int64_t n = f.n, k = adiabatic_start_rank(m);
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) { /* |k> + i sum_m a_m |m> */
        psi[i].re = f.u[k * n + i];
        psi[i].im = 0;
    }
    int64_t *gid = superadiabatic > 1 && !m->inverse_t && !m->w ? calloc((size_t)n, 8) : NULL;
    for (int64_t i = 0; gid && i < n; ++i)
        gid[i] = i;
    double *r2 = NULL, *r3 = NULL;
    if (gid)
        higher_orders(dev, m, t, &f, gid, superadiabatic, &r2, &r3);
    for (int64_t mm = 0; superadiabatic && mm < n; ++mm) {
        double gap = f.e[mm] - f.e[k];
        if (mm == k || gap == 0)
            continue;
        double a = -f.hdot[k * n + mm] / (gap * gap); /* <m|Hdot|k> */
        if (r3)
            a += r3[k * n + mm];
        double r = r2 ? r2[k * n + mm] : 0;
        for (int64_t i = 0; i < n; ++i) {
            psi[i].im += a * f.u[mm * n + i];
            psi[i].re += r * f.u[mm * n + i];
        }
    }
    free(gid);
    free(r2);
    free(r3);
    for (int64_t i = 0; i < n; ++i)
        norm += psi[i].re * psi[i].re + psi[i].im * psi[i].im;
    for (int64_t i = 0; i < n; ++i) {
        psi[i].re /= sqrt(norm);
        psi[i].im /= sqrt(norm);
    }
    adiabatic_frame_free(&f);
    return TCGPU_OK;
}

/* Population of eigenvectors whose labelled diabatic state's slope group holds less than half
 * of their weight (none after the last crossing, where the rank labels are exact). Such a
 * label, and with it the readout, is in doubt: tc K = 2, N = 40, eps = 0.5, beta = 1 at
 * Tr = 52 read the 3.5e-6 of (39,0) as (38,0), identically at Tr/1.3, Tr/1.13 and Tr, so the
 * window check passed a readout 3.5 times over tolerance. */
static double unsure_mass(const tcgpu_model *m, const frame *f, int settled, const int64_t *label,
                          const tcgpu_cplx *d) {
    if (settled)
        return 0;
    double mass = 0;
    for (int64_t j = 0; j < f->n; ++j) {
        double b = m->b[label[j]], w = 0;
        for (int64_t i = 0; i < f->n; ++i)
            if (m->b[i] == b)
                w += f->u[j * f->n + i] * f->u[j * f->n + i];
        if (w < 0.5)
            mass += d[j].re * d[j].re + d[j].im * d[j].im;
    }
    return mass;
}

/* One eigen-decomposition, labelling and second-order admixture serve every state: they
 * depend on H(t) alone, and they cost O(n^3) against the projections' O(n^2) (the accuracy
 * control reads its fine and coarse runs at the same times). */
tcgpu_status adiabatic_dense_readout_many(const eig_device *dev, const tcgpu_model *m, double t,
                                          int superadiabatic, int by_rank, int count,
                                          const tcgpu_cplx *const *psi, double *const *prob,
                                          double *const *unsure) {
    int settled = by_rank || t > adiabatic_last_crossing(m); /* every diabatic crossing is past */
    return adiabatic_dense_readout_labelled(dev, m, t, superadiabatic, settled, count, psi, prob,
                                            unsure);
}

void adiabatic_readout_frame_free(readout_frame *rf) {
    free(rf->r2);
    free(rf->r3);
    free(rf->label);
    free(rf->grp);
    free(rf->gid);
    adiabatic_frame_free(&rf->f);
    memset(rf, 0, sizeof *rf);
}

tcgpu_status adiabatic_readout_frame(const eig_device *dev, const tcgpu_model *m, double t,
                                     int superadiabatic, int settled, readout_frame *rf) {
    memset(rf, 0, sizeof *rf);
    tcgpu_status st = adiabatic_frame_build(dev, m, t, superadiabatic, &rf->f);
    if (st)
        return st;
    int64_t n = rf->f.n;
    rf->settled = settled;
    rf->superadiabatic = superadiabatic;
    rf->label = malloc((size_t)n * sizeof *rf->label);
    rf->grp = malloc((size_t)n * sizeof *rf->grp);
    rf->gid = malloc((size_t)n * sizeof *rf->gid);
    if (!rf->label || !rf->grp || !rf->gid)
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout");
    if (!st && !(st = adiabatic_assign_labels(m, &rf->f, settled, rf->label)) &&
        !(st = adiabatic_tie_groups(m, rf->grp))) {
        for (int64_t j = 0; j < n; ++j)
            rf->gid[j] = rf->grp[rf->label[j]];
        higher_orders(dev, m, t, &rf->f, rf->gid, superadiabatic, &rf->r2, &rf->r3);
    }
    if (st)
        adiabatic_readout_frame_free(rf);
    return st;
}

void adiabatic_readout_frame_read(const readout_frame *rf, const tcgpu_model *m,
                                  const tcgpu_cplx *c, tcgpu_cplx *d, double *prob,
                                  double *unsure) {
    const frame *f = &rf->f;
    for (int64_t j = 0; j < f->n; ++j) {
        d[j] = rf->superadiabatic ? dressed_overlap(f, c, rf->gid, rf->r2, rf->r3, j) : c[j];
        prob[rf->label[j]] = d[j].re * d[j].re + d[j].im * d[j].im;
    }
    adiabatic_read_ties_diabatic(f, rf->label, rf->grp, d, prob);
    if (unsure)
        *unsure = unsure_mass(m, f, rf->settled, rf->label, d);
}

tcgpu_status adiabatic_dense_readout_labelled(const eig_device *dev, const tcgpu_model *m,
                                              double t, int superadiabatic, int settled,
                                              int count, const tcgpu_cplx *const *psi,
                                              double *const *prob, double *const *unsure) {
    readout_frame rf;
    tcgpu_status st = adiabatic_readout_frame(dev, m, t, superadiabatic, settled, &rf);
    if (st)
        return st;
    int64_t n = rf.f.n;
    tcgpu_cplx *c = malloc((size_t)n * sizeof *c), *d = malloc((size_t)n * sizeof *d);
    if (!c || !d)
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout");
    for (int s = 0; !st && s < count; ++s) {
        for (int64_t j = 0; j < n; ++j) { /* c = U^T psi */
            double re = 0, im = 0;
            for (int64_t i = 0; i < n; ++i) {
                re += rf.f.u[j * n + i] * psi[s][i].re;
                im += rf.f.u[j * n + i] * psi[s][i].im;
            }
            c[j] = (tcgpu_cplx){re, im};
        }
        adiabatic_readout_frame_read(&rf, m, c, d, prob[s], unsure ? unsure[s] : NULL);
    }
    free(c);
    free(d);
    adiabatic_readout_frame_free(&rf);
    return st;
}

double adiabatic_leak_of(const tcgpu_cplx *phi, const tcgpu_cplx *psi, int64_t n) {
    /* c = <phi|psi>; |psi - c phi|^2 from its small terms (1 - |c|^2 would keep only ~1e-16 of
     * it) */
    double cr = 0, ci = 0, l = 0;
    for (int64_t i = 0; i < n; ++i) {
        cr += phi[i].re * psi[i].re + phi[i].im * psi[i].im;
        ci += phi[i].re * psi[i].im - phi[i].im * psi[i].re;
    }
    for (int64_t i = 0; i < n; ++i) {
        double re = psi[i].re - (cr * phi[i].re - ci * phi[i].im);
        double im = psi[i].im - (cr * phi[i].im + ci * phi[i].re);
        l += re * re + im * im;
    }
    return l;
}

/* Chains whose start is the chain readout's (adiabatic_start): untied final labels. */
static int tri_start_applies(const tcgpu_model *m) {
    if (!adiabatic_tri_applies(m))
        return 0;
    slope_key *dia = adiabatic_final_order(m);
    int64_t *lab = dia ? adiabatic_untied_labels(dia, m->dim) : NULL;
    int untied = lab != NULL;
    free(dia);
    free(lab);
    return untied;
}

int adiabatic_leak_applies(const tcgpu_model *m, int superadiabatic) {
    return tri_start_applies(m) || (superadiabatic <= 2 && adiabatic_sparse_applies(m));
}

tcgpu_status adiabatic_leak(const tcgpu_model *m, double t, int superadiabatic, int count,
                            const tcgpu_cplx *const *psi, double *leak) {
    if (!tri_start_applies(m))
        return adiabatic_sparse_leak(m, t, superadiabatic, count, psi, leak);
    tcgpu_cplx *phi = malloc((size_t)m->dim * sizeof *phi);
    tcgpu_status st =
        phi ? adiabatic_tri_start(m, t, superadiabatic, adiabatic_start_rank(m), phi)
            : tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the start check");
    for (int s = 0; !st && s < count; ++s)
        leak[s] = adiabatic_leak_of(phi, psi[s], m->dim);
    free(phi);
    return st;
}

tcgpu_status adiabatic_start(const eig_device *dev, const tcgpu_model *m, double t,
                             int superadiabatic, tcgpu_cplx *psi) {
    if (tri_start_applies(m)) /* the chain readout (src/adiabatic_tri.c) where untied */
        return adiabatic_tri_start(m, t, superadiabatic, adiabatic_start_rank(m), psi);
    if (superadiabatic <= 2 && adiabatic_sparse_applies(m))
        return adiabatic_sparse_start(m, t, superadiabatic, psi);
    return adiabatic_dense_start(dev, m, t, superadiabatic, psi);
}

tcgpu_status adiabatic_readout_many(const eig_device *dev, const tcgpu_model *m, double t,
                                    int superadiabatic, int by_rank, int count,
                                    const tcgpu_cplx *const *psi, double *const *prob,
                                    double *const *unsure) {
    if (adiabatic_tri_applies(m)) { /* one sort gives the last crossing and the labels */
        slope_key *dia = adiabatic_final_order(m);
        /* before the last crossing the labels need the eigenvectors' slope groups: dense */
        int64_t *lab = dia && (by_rank || t > adiabatic_crossing_in(dia, m->dim))
                           ? adiabatic_untied_labels(dia, m->dim)
                           : NULL;
        free(dia);
        if (lab) {
            tcgpu_status st = adiabatic_tri_readout(m, t, superadiabatic, lab, count, psi, prob);
            free(lab);
            for (int s = 0; !st && unsure && s < count; ++s)
                if (unsure[s])
                    *unsure[s] = 0;
            return st;
        }
    }
    if (adiabatic_window_applies(m))
        return adiabatic_window_readout(dev, m, t, superadiabatic, by_rank, count, psi, prob,
                                        unsure);
    return adiabatic_dense_readout_many(dev, m, t, superadiabatic, by_rank, count, psi, prob,
                                        unsure);
}
