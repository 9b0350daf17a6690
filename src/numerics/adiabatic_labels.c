/* The labelling of eigenstates by the diabatic states they become as t -> +inf, for the dense
 * readout (adiabatic_labels.h): ranks within slope groups, ties resolved by overlap or read in
 * the diabatic basis, and the last crossing after which the rank labels are exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adiabatic_labels.h"

typedef struct {
    double key;
    int64_t idx;
} keyed;

static int by_key(const void *x, const void *y) {
    const keyed *a = x, *b = y;
    return a->key < b->key ? -1 : a->key > b->key ? 1 : (a->idx > b->idx) - (a->idx < b->idx);
}

/* Within a run of diabatic states of equal energy, pair them with the run's eigenvectors by
 * largest overlap (greedy). */
static void resolve_ties(const frame *f, const keyed *dia, const keyed *vec, int64_t len,
                         int64_t *label) {
    int64_t n = f->n;
    char *used = calloc((size_t)len, 1);
    if (!used)
        return; /* keeps the order pairing already written */
    for (int64_t r = 0; r < len; ++r) {
        int64_t j = vec[r].idx, best = -1;
        double bw = -1;
        for (int64_t q = 0; q < len; ++q) {
            double u = f->u[j * n + dia[q].idx];
            if (!used[q] && u * u > bw) {
                bw = u * u;
                best = q;
            }
        }
        used[best] = 1;
        label[j] = dia[best].idx;
    }
    free(used);
}

/* After the last diabatic crossing the eigenvalues keep the order the diabatic energies have
 * as t -> +inf (slope first, then constant): label by rank, ties by overlap. */
static void rank_labels(const tcgpu_model *m, const frame *f, keyed *dia, keyed *vec,
                        int64_t *label) {
    int64_t n = f->n;
    for (int64_t i = 0; i < n; ++i) {
        dia[i] = (keyed){m->a[i], i};
        vec[i] = (keyed){f->e[i], i};
    }
    /* sort by (b, a): b classes are exact multiples, so a stable key pair does */
    for (int64_t i = 1; i < n; ++i) {
        keyed v = dia[i];
        int64_t q = i;
        while (q > 0 && (m->b[dia[q - 1].idx] > m->b[v.idx] ||
                         (m->b[dia[q - 1].idx] == m->b[v.idx] && dia[q - 1].key > v.key))) {
            dia[q] = dia[q - 1];
            --q;
        }
        dia[q] = v;
    }
    qsort(vec, (size_t)n, sizeof *vec, by_key);
    for (int64_t r = 0; r < n; ++r)
        label[vec[r].idx] = dia[r].idx;
    for (int64_t r = 0; r < n;) {
        int64_t q = r + 1;
        while (q < n && m->b[dia[q].idx] == m->b[dia[r].idx] &&
               fabs(dia[q].key - dia[r].key) <= 1e-9 * (fabs(dia[r].key) + 1))
            ++q;
        if (q - r > 1)
            resolve_ties(f, dia + r, vec + r, q - r, label);
        r = q;
    }
}

tcgpu_status adiabatic_assign_labels(const tcgpu_model *m, const frame *f, int settled,
                                     int64_t *label) {
    int64_t n = f->n, ng = 0;
    keyed *slope = malloc((size_t)n * sizeof *slope), *vec = malloc((size_t)n * sizeof *vec);
    int64_t *group = malloc((size_t)n * sizeof *group), *cap = calloc((size_t)n, 8);
    double *weight = NULL;
    tcgpu_status st = TCGPU_OK;
    if (!slope || !vec || !group || !cap)
        goto oom;
    if (settled) {
        rank_labels(m, f, slope, vec, label);
        goto done;
    }
    for (int64_t i = 0; i < n; ++i)
        slope[i] = (keyed){m->b[i], i};
    qsort(slope, (size_t)n, sizeof *slope, by_key);
    for (int64_t i = 0; i < n; ++i) {
        if (i > 0 && slope[i].key != slope[i - 1].key)
            ++ng;
        group[slope[i].idx] = ng;
        cap[ng]++;
    }
    ++ng;
    weight = calloc((size_t)n * (size_t)ng, sizeof *weight);
    if (!weight)
        goto oom;
    for (int64_t j = 0; j < n; ++j) {
        for (int64_t i = 0; i < n; ++i)
            weight[j * ng + group[i]] += f->u[j * n + i] * f->u[j * n + i];
        double best = 0;
        for (int64_t g = 0; g < ng; ++g)
            best = weight[j * ng + g] > best ? weight[j * ng + g] : best;
        vec[j] = (keyed){-best, j};
    }
    qsort(vec, (size_t)n, sizeof *vec, by_key); /* most clearly placed eigenvectors first */
    int64_t *vgroup = label;                    /* reuse label[] for the eigenvector's group */
    for (int64_t r = 0; r < n; ++r) {
        int64_t j = vec[r].idx, best = -1;
        for (int64_t g = 0; g < ng; ++g)
            if (cap[g] > 0 && (best < 0 || weight[j * ng + g] > weight[j * ng + best]))
                best = g;
        cap[best]--;
        vgroup[j] = best;
    }
    /* Per group: eigenvectors by energy against diabatic states by a. */
    keyed *dia = slope; /* reuse */
    for (int64_t g = 0; g < ng; ++g) {
        int64_t nd = 0, nv = 0;
        for (int64_t i = 0; i < n; ++i)
            if (group[i] == g)
                dia[nd++] = (keyed){m->a[i], i};
        for (int64_t j = 0; j < n; ++j)
            if (vgroup[j] == g)
                vec[nv++] = (keyed){f->e[j], j};
        qsort(dia, (size_t)nd, sizeof *dia, by_key);
        qsort(vec, (size_t)nv, sizeof *vec, by_key);
        for (int64_t r = 0; r < nd; ++r) /* cap[] is spent: it now holds eigenvector labels */
            cap[vec[r].idx] = dia[r].idx;
        for (int64_t r = 0; r < nd;) {
            int64_t q = r + 1;
            double scale = 1e-9 * (fabs(dia[r].key) + 1);
            while (q < nd && fabs(dia[q].key - dia[r].key) <= scale)
                ++q;
            if (q - r > 1)
                resolve_ties(f, dia + r, vec + r, q - r, cap);
            r = q;
        }
    }
    for (int64_t j = 0; j < n; ++j)
        label[j] = cap[j];
    goto done;
oom:
    st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory while labelling eigenstates");
done:
    free(slope);
    free(vec);
    free(group);
    free(cap);
    free(weight);
    return st;
}

static int by_slope_key(const void *x, const void *y) {
    const slope_key *p = x, *q = y;
    if (p->b != q->b)
        return p->b < q->b ? -1 : 1;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

/* grp[i]: the lowest index of the diabatic states degenerate with i as t -> +inf (equal slope
 * and constant, e.g. (1,0,1) and (0,2,0) for pair energies -2, 0, 2). */
tcgpu_status adiabatic_tie_groups(const tcgpu_model *m, int64_t *grp) {
    int64_t n = m->dim;
    slope_key *dia = malloc((size_t)n * sizeof *dia);
    if (!dia)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout");
    for (int64_t i = 0; i < n; ++i)
        dia[i] = (slope_key){m->b[i], m->a[i], i};
    qsort(dia, (size_t)n, sizeof *dia, by_slope_key);
    for (int64_t r = 0; r < n;) {
        int64_t q = r + 1;
        while (q < n && dia[q].b == dia[r].b &&
               fabs(dia[q].a - dia[r].a) <= 1e-9 * (fabs(dia[r].a) + 1))
            ++q;
        for (int64_t x = r; x < q; ++x)
            grp[dia[x].idx] = dia[r].idx;
        r = q;
    }
    free(dia);
    return TCGPU_OK;
}

/* A degenerate group is split only by induced shifts as small as the induced couplings inside
 * it (in TC the second-order shift depends on the total n alone), so its eigenvectors stay
 * mixtures of its diabatic states for all t while the populations of those diabatic states
 * settle like 1/t: the group's weight is read out in the diabatic basis. d: the (dressed)
 * eigen-amplitudes, dressed without the group's own members. */
void adiabatic_read_ties_diabatic(const frame *f, const int64_t *label, const int64_t *grp,
                                  const tcgpu_cplx *d, double *prob) {
    int64_t n = f->n, *size = calloc((size_t)n, sizeof *size);
    int64_t *mem = malloc((size_t)n * sizeof *mem), *vec = malloc((size_t)n * sizeof *vec);
    for (int64_t i = 0; size && i < n; ++i)
        size[grp[i]]++;
    for (int64_t g = 0; size && mem && vec && g < n; ++g) {
        if (size[g] < 2)
            continue;
        int64_t nm = 0, nv = 0;
        double tot = 0, w = 0;
        for (int64_t i = g; i < n; ++i)
            if (grp[i] == g)
                mem[nm++] = i;
        for (int64_t j = 0; j < n; ++j)
            if (grp[label[j]] == g) {
                vec[nv++] = j;
                tot += d[j].re * d[j].re + d[j].im * d[j].im;
            }
        for (int64_t x = 0; x < nm; ++x) {
            double re = 0, im = 0;
            for (int64_t y = 0; y < nv; ++y) {
                int64_t j = vec[y];
                re += f->u[j * n + mem[x]] * d[j].re;
                im += f->u[j * n + mem[x]] * d[j].im;
            }
            prob[mem[x]] = re * re + im * im;
            w += prob[mem[x]];
        }
        for (int64_t x = 0; x < nm && w > 0; ++x)
            prob[mem[x]] *= tot / w;
    }
    free(size);
    free(mem);
    free(vec);
}

/* The diabatic states in their order as t -> +inf (ascending slope, then constant): n log n. */
slope_key *adiabatic_final_order(const tcgpu_model *m) {
    slope_key *dia = malloc((size_t)(m->dim > 0 ? m->dim : 1) * sizeof *dia);
    for (int64_t i = 0; dia && i < m->dim; ++i)
        dia[i] = (slope_key){m->b[i], m->a[i], i};
    if (dia)
        qsort(dia, (size_t)m->dim, sizeof *dia, by_slope_key);
    return dia;
}

/* The last diabatic crossing, b_i t + a_i = b_j t + a_j at t = (a_j - a_i)/(b_i - b_j). After
 * it the lines keep their final order, and the two lines of the last crossing (or, where more
 * meet there, two of them) are neighbours in it: a line between them at all later times must
 * pass through their meeting point. So neighbours in the final order dia suffice (the all-pairs
 * loop took 1e10 steps at 1e5 states, per readout). -inf where no lines cross. */
double adiabatic_crossing_in(const slope_key *dia, int64_t n) {
    double last = -INFINITY;
    for (int64_t r = 1; r < n; ++r)
        if (dia[r].b != dia[r - 1].b)
            last = fmax(last, (dia[r - 1].a - dia[r].a) / (dia[r].b - dia[r - 1].b));
    return last;
}

double adiabatic_last_crossing(const tcgpu_model *m) {
    slope_key *dia = adiabatic_final_order(m);
    double last = -INFINITY;
    if (!dia) { /* out of memory: all pairs */
        for (int64_t i = 0; i < m->dim; ++i)
            for (int64_t j = 0; j < m->dim; ++j)
                if (m->b[i] > m->b[j])
                    last = fmax(last, (m->a[j] - m->a[i]) / (m->b[i] - m->b[j]));
        return last;
    }
    last = adiabatic_crossing_in(dia, m->dim);
    free(dia);
    return last;
}

/* label_of_rank[r] = dia[r].idx, the state of energy rank r as t -> +inf; NULL where two states
 * tie in the final order (a tie group's weight is read in the diabatic basis, which only the
 * dense path does) or memory is short. */
int64_t *adiabatic_untied_labels(const slope_key *dia, int64_t n) {
    int64_t *lab = malloc((size_t)(n > 0 ? n : 1) * sizeof *lab);
    for (int64_t r = 0; lab && r < n; ++r) {
        if (r > 0 && dia[r].b == dia[r - 1].b &&
            fabs(dia[r].a - dia[r - 1].a) <= 1e-9 * (fabs(dia[r - 1].a) + 1)) {
            free(lab);
            return NULL;
        }
        lab[r] = dia[r].idx;
    }
    return lab;
}
