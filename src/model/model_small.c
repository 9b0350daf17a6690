/* Landau-Zener, Demkov-Osherov and the effective two-mode model (eqs 72-73). */
#include <math.h>
#include <stdlib.h>

#include "banded.h"
#include "model_internal.h"
#include "tcgpu/exact.h"

static tcgpu_status finish(tcgpu_model *m, model_link *links, int64_t nlinks) {
    tcgpu_status st = model_classify(m, links, nlinks);
    return st ? st : model_set_links(m, links, nlinks);
}

tcgpu_status tcgpu_model_do(tcgpu_model *m, int K, double g, double beta, const double *levels) {
    int order[TCGPU_MAX_CHANNELS];
    long double c;
    tcgpu_status st = tcgpu_exact_c(g, beta, &c);
    if (st || (st = tcgpu_channel_order(K, levels, order)))
        return st;
    *m = (tcgpu_model){.kind = TCGPU_MODEL_DO, .N = 1, .g = g, .beta = beta};
    if ((st = model_alloc(m, K + 1, 1, K, 0)))
        return st;
    model_link links[TCGPU_MAX_CHANNELS];
    m->b[0] = beta;
    for (int k = 1; k <= K; ++k) {
        m->a[k] = levels ? levels[k - 1] : (double)(k - 1);
        m->labels[k] = k;
        links[k - 1] = (model_link){k, 0, g, 0};
    }
    return finish(m, links, K);
}

tcgpu_status tcgpu_model_lz(tcgpu_model *m, double g, double beta) {
    static const double zero[1] = {0.0};
    tcgpu_status st = tcgpu_model_do(m, 1, g, beta, zero);
    if (!st)
        m->kind = TCGPU_MODEL_LZ;
    return st;
}

tcgpu_status tcgpu_model_heff(tcgpu_model *m, int64_t n, double g, double beta, double eps) {
    long double c;
    tcgpu_status st = tcgpu_exact_c(g, beta, &c);
    if (st)
        return st;
    if (n < 0 || n > 100000)
        return tcgpu_fail(TCGPU_EINVAL, "n = %lld: expected 0 to 1e5 pairs", (long long)n);
    if (!(eps > 0) || !isfinite(eps))
        return tcgpu_fail(TCGPU_EINVAL, "eps = %g: expected a finite number > 0", eps);
    *m = (tcgpu_model){.kind = TCGPU_MODEL_HEFF, .N = n, .g = g, .beta = beta, .inverse_t = 1};
    if ((st = model_alloc(m, n + 1, 2, 1, 1)))
        return st;
    model_link *links = malloc((size_t)(n + 1) * sizeof *links);
    if (!links)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the couplings");
    double s = g * g / beta;
    for (int64_t n1 = 0; n1 <= n; ++n1) { /* state index = n1, n2 = n - n1 */
        int64_t n2 = n - n1;
        m->labels[2 * n1] = (int32_t)n1;
        m->labels[2 * n1 + 1] = (int32_t)n2;
        m->a[n1] = eps * (double)(2 * n2 - n);
        m->w[n1] = -s * (double)(n2 * n2 + n1 * n1);
        if (n1 > 0) /* <n1-1, n2+1|H|n1, n2> = -g^2 n1 (n2 + 1)/(beta t) */
            links[n1 - 1] = (model_link){n1, n1 - 1, tcgpu_heff_link(s, n1, n), 0};
    }
    st = finish(m, links, n);
    free(links);
    return st;
}
