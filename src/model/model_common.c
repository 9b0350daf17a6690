/* Model storage: allocation, CSR assembly, phase classes, bounds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "banded.h"
#include "model_internal.h"
#include "tcgpu/basis.h"
#include "tcgpu/sysmem.h"

/* The one implementation is the device-callable one of the on-the-fly couplings. */
int64_t tcgpu_basis_index(int64_t N, int K, const int64_t *n) { return tcgpu_band_index(N, K, n); }

tcgpu_status model_alloc(tcgpu_model *m, int64_t dim, int K, int nclass, int with_w) {
    double bytes = (double)dim * (3 * 8 + 4.0 * K) + (double)nclass * sizeof(tcgpu_phase_class);
    tcgpu_status st = tcgpu_check_memory(bytes, "the model");
    if (st)
        return st;
    m->dim = dim;
    m->K = K;
    m->b = calloc((size_t)dim, sizeof *m->b);
    m->a = calloc((size_t)dim, sizeof *m->a);
    m->w = with_w ? calloc((size_t)dim, sizeof *m->w) : NULL;
    m->labels = calloc((size_t)dim * (size_t)K, sizeof *m->labels);
    m->classes = calloc((size_t)(nclass > 0 ? nclass : 1), sizeof *m->classes);
    if (!m->b || !m->a || (with_w && !m->w) || !m->labels || !m->classes)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a model of dimension %lld",
                          (long long)dim);
    return TCGPU_OK;
}

tcgpu_status model_classify(tcgpu_model *m, model_link *links, int64_t nlinks) {
    m->nclass = 0;
    for (int64_t l = 0; l < nlinks; ++l) {
        int64_t i = links[l].i, j = links[l].j;
        tcgpu_phase_class c = {m->b[i] - m->b[j], m->a[i] - m->a[j],
                               m->w ? m->w[i] - m->w[j] : 0.0};
        int k = 0;
        while (k < m->nclass && memcmp(&m->classes[k], &c, sizeof c) != 0)
            ++k;
        if (k == m->nclass) {
            tcgpu_phase_class *grown =
                realloc(m->classes, (size_t)(m->nclass + 1) * sizeof *m->classes);
            if (!grown)
                return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for phase classes");
            m->classes = grown;
            m->classes[m->nclass++] = c;
        }
        links[l].cls = k;
    }
    return TCGPU_OK;
}

tcgpu_status model_set_links(tcgpu_model *m, const model_link *links, int64_t nlinks) {
    int64_t dim = m->dim;
    m->row_ptr = calloc((size_t)dim + 1, sizeof *m->row_ptr);
    m->col = malloc((size_t)(2 * nlinks + 1) * sizeof *m->col);
    m->val = malloc((size_t)(2 * nlinks + 1) * sizeof *m->val);
    m->cls = malloc((size_t)(2 * nlinks + 1) * sizeof *m->cls);
    if (!m->row_ptr || !m->col || !m->val || !m->cls)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld couplings", (long long)nlinks);
    for (int64_t l = 0; l < nlinks; ++l) {
        m->row_ptr[links[l].i + 1]++;
        m->row_ptr[links[l].j + 1]++;
    }
    for (int64_t i = 0; i < dim; ++i)
        m->row_ptr[i + 1] += m->row_ptr[i];
    int64_t *fill = malloc((size_t)dim * sizeof *fill);
    if (!fill)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the coupling matrix");
    memcpy(fill, m->row_ptr, (size_t)dim * sizeof *fill);
    for (int64_t l = 0; l < nlinks; ++l) {
        int64_t i = links[l].i, j = links[l].j, e = fill[i]++, f = fill[j]++;
        m->col[e] = j;
        m->val[e] = links[l].v;
        m->cls[e] = links[l].cls + 1;
        m->col[f] = i;
        m->val[f] = links[l].v;
        m->cls[f] = -(links[l].cls + 1);
    }
    free(fill);
    return TCGPU_OK;
}

double tcgpu_model_vbound(const tcgpu_model *m) {
    double best = 0;
    for (int64_t i = 0; i < m->dim; ++i) {
        double s = 0;
        for (int64_t e = m->row_ptr[i]; e < m->row_ptr[i + 1]; ++e)
            s += fabs(m->val[e]);
        best = s > best ? s : best;
    }
    return best;
}

/* A copy of n bytes of p (NULL for NULL); *ok cleared when out of memory. */
static void *dup_bytes(const void *p, size_t n, int *ok) {
    if (!p)
        return NULL;
    void *q = malloc(n ? n : 1);
    if (q)
        memcpy(q, p, n);
    else
        *ok = 0;
    return q;
}

tcgpu_status model_copy(const tcgpu_model *src, tcgpu_model *dst) {
    size_t n = (size_t)src->dim, links = src->row_ptr ? (size_t)src->row_ptr[n] : 0;
    int ok = 1;
    *dst = *src;
    dst->b = dup_bytes(src->b, n * sizeof *src->b, &ok);
    dst->a = dup_bytes(src->a, n * sizeof *src->a, &ok);
    dst->w = dup_bytes(src->w, n * sizeof *src->w, &ok);
    dst->row_ptr = dup_bytes(src->row_ptr, (n + 1) * sizeof *src->row_ptr, &ok);
    dst->col = dup_bytes(src->col, links * sizeof *src->col, &ok);
    dst->val = dup_bytes(src->val, links * sizeof *src->val, &ok);
    dst->cls = dup_bytes(src->cls, links * sizeof *src->cls, &ok);
    dst->classes = dup_bytes(src->classes, (size_t)src->nclass * sizeof *src->classes, &ok);
    dst->labels = dup_bytes(src->labels, n * (size_t)src->K * sizeof *src->labels, &ok);
    if (!ok) {
        tcgpu_model_free(dst);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory copying a model of dimension %lld",
                          (long long)src->dim);
    }
    return TCGPU_OK;
}

void tcgpu_model_free(tcgpu_model *m) {
    free(m->b);
    free(m->a);
    free(m->w);
    free(m->row_ptr);
    free(m->col);
    free(m->val);
    free(m->cls);
    free(m->classes);
    free(m->labels);
    memset(m, 0, sizeof *m);
}
