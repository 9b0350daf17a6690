/* Reducers: from a final distribution (indexed like the model's basis) to the means users
 * read, and the exact distribution of the same model for comparison. */
#ifndef TCGPU_REDUCE_H
#define TCGPU_REDUCE_H

#include "tcgpu/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mean[k] = <n_k> (tc, heff); for lz and do, the probability of parallel level k (the
 * one-molecule picture: level k = one pair in channel k). mean_n = sum_k mean[k];
 * eta = (mean[0] - mean[1]) / mean_n for K = 2 (0 when mean_n = 0), else 0. */
void tcgpu_reduce_means(const tcgpu_model *m, const double *prob, double *mean, double *mean_n,
                        double *eta);

/* The exact final distribution of the model (mlz has none: TCGPU_EINVAL). levels: the pair or
 * level energies the model was built with (NULL: numbered from the lowest). */
tcgpu_status tcgpu_exact_for_model(const tcgpu_model *m, const double *levels, double *prob);

#ifdef __cplusplus
}
#endif
#endif
