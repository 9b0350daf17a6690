#include "tcgpu/reduce.h"

#include <stdlib.h>

#include "tcgpu/exact.h"

void tcgpu_reduce_means(const tcgpu_model *m, const double *prob, double *mean, double *mean_n,
                        double *eta) {
    int K = m->K, pairs = m->kind == TCGPU_MODEL_TC || m->kind == TCGPU_MODEL_HEFF;
    int nk = pairs ? K : (int)m->dim - 1;
    for (int k = 0; k < nk; ++k)
        mean[k] = 0;
    for (int64_t i = 0; i < m->dim; ++i) {
        if (pairs)
            for (int k = 0; k < K; ++k)
                mean[k] += prob[i] * m->labels[i * K + k];
        else if (i > 0)
            mean[i - 1] += prob[i];
    }
    *mean_n = 0;
    for (int k = 0; k < nk; ++k)
        *mean_n += mean[k];
    *eta = nk == 2 && *mean_n > 0 ? (mean[0] - mean[1]) / *mean_n : 0;
}

tcgpu_status tcgpu_exact_for_model(const tcgpu_model *m, const double *levels, double *prob) {
    switch (m->kind) {
    case TCGPU_MODEL_TC:
        return tcgpu_exact_tc_joint(m->N, m->K, m->g, m->beta, levels, prob);
    case TCGPU_MODEL_LZ:
        return tcgpu_exact_lz(m->g, m->beta, prob);
    case TCGPU_MODEL_DO:
        return tcgpu_exact_do((int)m->dim - 1, m->g, m->beta, levels, prob);
    case TCGPU_MODEL_HEFF: {
        double *p = malloc((size_t)m->dim * sizeof *p);
        if (!p)
            return tcgpu_fail(TCGPU_ERUNTIME, "out of memory");
        tcgpu_status st = tcgpu_exact_heff(m->N, m->g, m->beta, p);
        for (int64_t i = 0; !st && i < m->dim; ++i) /* state index n1 holds n2 = n - n1 */
            prob[i] = p[m->N - i];
        free(p);
        return st;
    }
    default:
        return tcgpu_fail(TCGPU_EINVAL, "no exact solution is known for this model");
    }
}
