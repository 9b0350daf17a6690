/* The readout of models that are not chains past TCGPU_WINDOW_MIN states (tc with two or more
 * channels from N = 28) on a window of the basis: the dense readout (adiabatic.c) of
 * the sub-model that keeps only the states where the states read live.
 *
 * Why it holds. Past the transition the eigenvectors that carry the population are localized:
 * the slope groups (tc: sectors of fixed n = sum n_k) lie beta t apart and the couplings reach
 * only neighbouring groups. The states read then live on a small part of the basis (tc K = 2,
 * eps = 0.5, beta = 10: 179 of the 20301 final states of N = 200 hold more than 1e-7, all in
 * the 14 sectors next to n = N; beta = 1: 4). The window is that core (every state but the
 * least weighted, whose weights sum to WINDOW_DROP), WINDOW_MARGIN coupling steps around it,
 * and what the labels need:
 *   - read by rank (by_rank): the lowest states of the final order up to the window's last, so
 *     that the window's energy ranks are the model's;
 *   - else: in each slope group the states of lower final energy than the window's last in
 *     it, so that the slope-group labels (adiabatic_labels.c), which rank each group's
 *     eigenvectors within it, count the same states as the whole model's would.
 * The labels are then those of the sub-model's own dense readout; an eigenvector localized
 * inside the window is one of the whole model's to the window's cut weight, and goes on to the
 * same diabatic state. Where the labels of the sub-model are in doubt the readout says so
 * (unsure), plus the weight left outside the window.
 *
 * A window past TCGPU_WINDOW_FRAME states (or half the model) is read whole where the dense readout
 * allows it; past that, the readout reports its states as unsure (the control then reads at a
 * later time), or fails where the caller takes no unsure weight. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adiabatic.h"
#include "adiabatic_labels.h"
#include "far_field.h"

#define WINDOW_MARGIN 3 /* coupling steps around the core */

/* The weight left out of the core (per state read, at most), smallest first: the first whose
 * window fits the frame. A state of the core's edge can be read wrongly by the cut of the
 * window (its eigenvector reaches past it), so the weight below the core's threshold is added
 * to the readout's unsure weight, which the control counts in its error (control_round.c).
 * 1e-13 is below every tolerance; tc K = 3, N = 40 (12341 states), beta = 10 reads windows of
 * 7981-8894 states at 1e-13, 2233-3125 at 1e-6. */
static const double window_drop[] = {1e-13, 1e-11, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5};
#define WINDOW_DROPS ((int)(sizeof window_drop / sizeof window_drop[0]))

int adiabatic_window_applies(const tcgpu_model *m) {
    return !m->inverse_t && !m->w && m->dim > TCGPU_WINDOW_MIN && !adiabatic_tri_applies(m);
}

double adiabatic_sweep_bytes(int64_t dim, int chain, int window) {
    double d = (double)dim, f = TCGPU_WINDOW_FRAME, frames = 4 * d * d * 8;
    if (chain)
        frames = 16 * d * 8;
    else if (window && dim > TCGPU_DENSE_MAX)
        frames = 4 * f * f * 8 + TCGPU_LANCZOS_VECTORS * d * 8;
    if (!chain && dim <= FAR_FIELD_MAX)
        frames += far_field_bytes(dim);
    return frames + 40 * d * 16;
}

int adiabatic_sweep_plan(const char *model, int K, int64_t dim, double *bytes) {
    int tc = !strcmp(model, "tc"), chain = (tc && K == 1) || !strcmp(model, "lz");
    int window = tc && K >= 2;
    if (bytes)
        *bytes = adiabatic_sweep_bytes(dim, chain, window);
    return chain || window || dim <= TCGPU_DENSE_MAX;
}

static int ascending(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* What every core drop's window is made of, computed once per readout: each state's largest
 * weight over the states read (w), the same sorted (srt), the model's final order (dia), and
 * scratch for the margin. */
typedef struct {
    double *w, *srt;
    slope_key *dia;
    char *grown;
} window_base;

static void window_base_free(window_base *x) {
    free(x->w);
    free(x->srt);
    free(x->dia);
    free(x->grown);
}

/* -1: out of memory. */
static int window_base_init(const tcgpu_model *m, int count, const tcgpu_cplx *const *psi,
                            window_base *x) {
    int64_t n = m->dim;
    x->w = malloc((size_t)n * sizeof *x->w);
    x->srt = malloc((size_t)n * sizeof *x->srt);
    x->grown = malloc((size_t)n);
    x->dia = adiabatic_final_order(m);
    if (!x->w || !x->srt || !x->grown || !x->dia)
        return -1;
    for (int64_t i = 0; i < n; ++i) {
        double v = 0;
        for (int s = 0; s < count; ++s)
            v = fmax(v, psi[s][i].re * psi[s][i].re + psi[s][i].im * psi[s][i].im);
        x->w[i] = x->srt[i] = v;
    }
    qsort(x->srt, (size_t)n, sizeof *x->srt, ascending);
    return 0;
}

/* in[i] = 1 for the window's states of core drop `drop`; the count. *theta: the core's least
 * weight. */
static int64_t window_of(const tcgpu_model *m, const window_base *x, int by_rank, double drop,
                         char *in, double *theta_out) {
    int64_t n = m->dim;
    const slope_key *dia = x->dia;
    double left = 0, theta = INFINITY;
    for (int64_t k = 0; k < n; ++k) {
        if (left + x->srt[k] > drop) {
            theta = x->srt[k];
            break;
        }
        left += x->srt[k];
    }
    *theta_out = theta;
    for (int64_t i = 0; i < n; ++i)
        in[i] = x->w[i] >= theta;
    for (int layer = 0; layer < WINDOW_MARGIN; ++layer) {
        memcpy(x->grown, in, (size_t)n);
        for (int64_t i = 0; i < n; ++i)
            if (in[i])
                for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e)
                    x->grown[m->col[e]] = 1;
        memcpy(in, x->grown, (size_t)n);
    }
    if (by_rank) { /* the lowest ranks up to the window's last */
        int64_t last = -1;
        for (int64_t r = 0; r < n; ++r)
            if (in[dia[r].idx])
                last = r;
        for (int64_t r = 0; r <= last; ++r)
            in[dia[r].idx] = 1;
    } else { /* in each slope group, its lowest states up to the window's last in it */
        for (int64_t g0 = 0, g1; g0 < n; g0 = g1) {
            int64_t last = -1;
            for (g1 = g0; g1 < n && dia[g1].b == dia[g0].b; ++g1)
                if (in[dia[g1].idx])
                    last = g1;
            for (int64_t r = g0; r <= last; ++r)
                in[dia[r].idx] = 1;
        }
    }
    int64_t nw = 0;
    for (int64_t i = 0; i < n; ++i)
        nw += in[i];
    return nw;
}

/* The sub-model on the window's states idx[0 .. nw - 1] (ascending): diagonal, couplings
 * between window states, labels; pos[i] = window index of model state i, or -1. */
static int sub_model(const tcgpu_model *m, const int64_t *idx, int64_t nw, const int64_t *pos,
                     tcgpu_model *s) {
    *s = *m;
    s->dim = nw;
    s->w = NULL;
    s->start = pos[m->start] >= 0 ? pos[m->start] : 0;
    int64_t nnz = 0;
    for (int64_t j = 0; j < nw; ++j)
        for (int64_t e = m->row_ptr[idx[j]]; e < m->row_ptr[idx[j] + 1]; ++e)
            nnz += pos[m->col[e]] >= 0;
    s->b = malloc((size_t)nw * sizeof *s->b);
    s->a = malloc((size_t)nw * sizeof *s->a);
    s->row_ptr = malloc((size_t)(nw + 1) * sizeof *s->row_ptr);
    s->col = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *s->col);
    s->val = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *s->val);
    s->cls = m->cls ? malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *s->cls) : NULL;
    s->labels = m->labels ? malloc((size_t)nw * (size_t)m->K * sizeof *s->labels) : NULL;
    if (!s->b || !s->a || !s->row_ptr || !s->col || !s->val || (m->cls && !s->cls) ||
        (m->labels && !s->labels))
        return -1;
    s->row_ptr[0] = 0;
    for (int64_t j = 0, q = 0; j < nw; ++j) {
        int64_t i = idx[j];
        s->b[j] = m->b[i], s->a[j] = m->a[i];
        if (s->labels)
            memcpy(s->labels + j * m->K, m->labels + i * m->K, (size_t)m->K * sizeof *s->labels);
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e)
            if (pos[m->col[e]] >= 0) {
                s->col[q] = pos[m->col[e]];
                s->val[q] = m->val[e];
                if (s->cls)
                    s->cls[q] = m->cls[e];
                ++q;
            }
        s->row_ptr[j + 1] = q;
    }
    return 0;
}

static void sub_model_free(tcgpu_model *s) {
    free(s->b);
    free(s->a);
    free(s->row_ptr);
    free(s->col);
    free(s->val);
    free(s->cls);
    free(s->labels);
}

static int window_fits(int64_t nw, int64_t n) { return nw <= TCGPU_WINDOW_FRAME && 2 * nw <= n; }

/* The window of the smallest core drop that fits the frame (else that of the largest drop).
 * -1: out of memory. */
static int64_t choose_window(const tcgpu_model *m, int by_rank, window_base *x, char *in,
                             double *theta) {
    int64_t nw = -1;
    for (int k = 0; k < WINDOW_DROPS; ++k)
        if (window_fits(nw = window_of(m, x, by_rank, window_drop[k], in, theta), m->dim))
            break;
    return nw;
}

/* The weight of psi on the states below the core (their largest weight over the states read
 * < theta). */
static double below_core(const tcgpu_model *m, const window_base *x, const tcgpu_cplx *psi,
                         double theta) {
    double out = 0;
    for (int64_t i = 0; i < m->dim; ++i)
        if (x->w[i] < theta)
            out += psi[i].re * psi[i].re + psi[i].im * psi[i].im;
    return out;
}

int64_t adiabatic_window_states(const tcgpu_model *m, int by_rank, int count,
                                const tcgpu_cplx *const *psi, double *core_drop) {
    window_base x = {0};
    char *in = malloc((size_t)m->dim);
    double theta = 0;
    int64_t nw =
        in && !window_base_init(m, count, psi, &x) ? choose_window(m, by_rank, &x, in, &theta) : -1;
    if (core_drop && nw >= 0) {
        *core_drop = 0;
        for (int s = 0; s < count; ++s)
            *core_drop = fmax(*core_drop, below_core(m, &x, psi[s], theta));
    }
    window_base_free(&x);
    free(in);
    return nw;
}

tcgpu_status adiabatic_window_readout(const eig_device *dev, const tcgpu_model *m, double t,
                                      int superadiabatic, int by_rank, int count,
                                      const tcgpu_cplx *const *psi, double *const *prob,
                                      double *const *unsure) {
    int64_t n = m->dim;
    window_base x = {0};
    char *in = malloc((size_t)n);
    double theta = 0;
    int64_t nw =
        in && !window_base_init(m, count, psi, &x) ? choose_window(m, by_rank, &x, in, &theta) : -1;
    if (nw < 0 || !window_fits(nw, n)) {
        window_base_free(&x);
        free(in);
    }
    if (nw < 0)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout's window");
    if (!window_fits(nw, n)) {
        if (n <= TCGPU_DENSE_MAX)
            return adiabatic_dense_readout_many(dev, m, t, superadiabatic, by_rank, count, psi,
                                                prob, unsure);
        for (int s = 0; s < count; ++s)
            if (!unsure || !unsure[s])
                return tcgpu_fail(TCGPU_EINVAL,
                                  "readout at t = %g: the states spread over %lld of %lld "
                                  "basis states, more than the %d a dense window reads",
                                  t, (long long)nw, (long long)n, TCGPU_WINDOW_FRAME);
        /* not readable here: the diabatic weights, all of them in doubt */
        for (int s = 0; s < count; ++s) {
            for (int64_t i = 0; i < n; ++i)
                prob[s][i] = psi[s][i].re * psi[s][i].re + psi[s][i].im * psi[s][i].im;
            *unsure[s] = 1;
        }
        return TCGPU_OK;
    }
    if (getenv("TCGPU_DEBUG")) /* the tuning's view: which drop the frame allowed */
        fprintf(stderr, "window: t %g, %lld of %lld states, core from weight %.2e, below it %.2e\n",
                t, (long long)nw, (long long)n, theta, below_core(m, &x, psi[0], theta));
    tcgpu_status st = TCGPU_OK;
    int64_t *idx = malloc((size_t)nw * sizeof *idx), *pos = malloc((size_t)n * sizeof *pos);
    tcgpu_cplx *ps = malloc((size_t)count * (size_t)nw * sizeof *ps);
    double *pr = malloc((size_t)count * (size_t)nw * sizeof *pr);
    const tcgpu_cplx **pp = malloc((size_t)count * sizeof *pp);
    double **qq = malloc((size_t)count * sizeof *qq);
    tcgpu_model s = {0};
    if (!idx || !pos || !ps || !pr || !pp || !qq) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout's window");
        goto done;
    }
    for (int64_t i = 0, j = 0; i < n; ++i) {
        pos[i] = in[i] ? j : -1;
        if (in[i])
            idx[j++] = i;
    }
    if (sub_model(m, idx, nw, pos, &s)) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout's window");
        goto done;
    }
    for (int c = 0; c < count; ++c) {
        tcgpu_cplx *y = ps + (size_t)c * (size_t)nw;
        for (int64_t j = 0; j < nw; ++j)
            y[j] = psi[c][idx[j]];
        pp[c] = y;
        qq[c] = pr + (size_t)c * (size_t)nw;
    }
    st = adiabatic_dense_readout_labelled(dev, &s, t, superadiabatic, by_rank, count, pp, qq,
                                          unsure);
    for (int c = 0; !st && c < count; ++c) {
        for (int64_t i = 0; i < n; ++i)
            prob[c][i] = 0;
        for (int64_t j = 0; j < nw; ++j)
            prob[c][idx[j]] = qq[c][j];
        if (unsure && unsure[c]) /* the window's outside is below the core */
            *unsure[c] += below_core(m, &x, psi[c], theta);
    }
done:
    sub_model_free(&s);
    window_base_free(&x);
    free(in);
    free(idx);
    free(pos);
    free(ps);
    free(pr);
    free(pp);
    free(qq);
    return st;
}
