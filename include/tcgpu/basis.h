/* The K-channel number basis |n1,...,nK>, n1 + ... + nK <= N, dimension C(N+K, K).
 * Order: lexicographic in the user's channel numbering, n1 slowest and nK fastest, starting at
 * |0,...,0>. Every table of probabilities tcgpu writes or reads uses this order. */
#ifndef TCGPU_BASIS_H
#define TCGPU_BASIS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* C(N+K, K), or -1 when it does not fit in int64 (or N < 0, K < 1). */
int64_t tcgpu_basis_dim(int64_t N, int K);

/* Advance n[0..K-1] (with running sum *sum) to the next state in basis order;
 * returns 0 after the last state. Start from all zeros, *sum = 0. */
static inline int tcgpu_basis_next(int K, int64_t N, int64_t *n, int64_t *sum) {
    for (int k = K - 1; k >= 0; --k) {
        if (*sum < N) {
            n[k]++;
            (*sum)++;
            return 1;
        }
        *sum -= n[k];
        n[k] = 0;
    }
    return 0;
}

#ifdef __cplusplus
}
#endif
#endif
