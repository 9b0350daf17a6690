/* The K-channel Tavis-Cummings model (eq 33) in the number basis (shared/PHYSICS.md):
 * <n|H|n> = beta t (N - n) + sum_k e_k n_k,
 * <.., n_k, ..|H|.., n_k - 1, ..> = g n_k sqrt(N - n + 1)  (n counted with n_k in the ket;
 * tcgpu_tc_link of src/step/banded.h, the formula the matrix-free rows use too). */
#include <math.h>
#include <stdlib.h>

#include "banded.h"
#include "model_internal.h"
#include "tcgpu/basis.h"
#include "tcgpu/exact.h"

tcgpu_status tcgpu_model_tc(tcgpu_model *m, int64_t N, int K, double g, double beta,
                            const double *e) {
    int order[TCGPU_MAX_CHANNELS];
    long double c;
    tcgpu_status st = tcgpu_exact_c(g, beta, &c);
    if (st || (st = tcgpu_channel_order(K, e, order)))
        return st;
    if (N < 0)
        return tcgpu_fail(TCGPU_EINVAL, "N = %lld: expected >= 0", (long long)N);
    int64_t dim = tcgpu_basis_dim(N, K);
    if (dim < 0 || dim > (int64_t)1 << 40)
        return tcgpu_fail(TCGPU_ENOMEM, "N = %lld, K = %d: basis too large", (long long)N, K);
    *m = (tcgpu_model){.kind = TCGPU_MODEL_TC, .N = N, .g = g, .beta = beta};
    if ((st = model_alloc(m, dim, K, K, 0)))
        return st;
    int64_t nlinks = 0, cap = dim * K;
    model_link *links = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *links);
    if (!links)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the couplings");
    int64_t n[TCGPU_MAX_CHANNELS] = {0}, sum = 0, i = 0;
    do {
        double energy = 0;
        for (int k = 0; k < K; ++k) {
            m->labels[i * K + k] = (int32_t)n[k];
            energy += e[k] * (double)n[k];
        }
        m->b[i] = beta * (double)(N - sum);
        m->a[i] = energy;
        for (int k = 0; k < K; ++k)
            if (n[k] > 0) { /* link to the state with one pair fewer in channel k */
                n[k]--;
                int64_t j = tcgpu_basis_index(N, K, n);
                n[k]++;
                links[nlinks++] =
                    (model_link){i, j, tcgpu_tc_link(g, n[k], sqrt((double)(N - sum + 1))), k};
            }
        ++i;
    } while (tcgpu_basis_next(K, N, n, &sum));
    /* One phase class per channel, set exactly: beta (N - n) products differ in the last bit
     * from link to link, and classifying by them would split a channel into many classes. */
    m->start = 0;
    m->nclass = K;
    for (int k = 0; k < K; ++k)
        m->classes[k] = (tcgpu_phase_class){-beta, e[k], 0.0};
    st = model_set_links(m, links, nlinks);
    free(links);
    return st;
}
