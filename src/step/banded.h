/* Matrix-free couplings of the banded models: a row's links computed from the basis arithmetic
 * and the closed-form matrix elements instead of read from the CSR arrays. On a device this
 * leaves the sweep's state as the only memory a step touches; the values are computed in
 * double with the very expressions the model builders use (src/model/model_tc.c,
 * src/model/model_small.c) and listed in the CSR's order, so an application is bit-identical to the
 * CSR one. */
#ifndef TCGPU_BANDED_H
#define TCGPU_BANDED_H

#include <math.h>
#include <stdint.h>

#include "hostdev.h"

/* Channels up to which the TC couplings are computed on the fly (a row has 2K links). */
#define TCGPU_BANDED_MAXK 4

typedef enum { TCGPU_BAND_NONE = 0, TCGPU_BAND_TC = 1, TCGPU_BAND_HEFF = 2 } tcgpu_band_kind;

typedef struct {
    int kind;  /* tcgpu_band_kind; NONE: read the CSR arrays */
    int K;     /* tc: channels */
    int64_t N; /* tc: molecules; heff: pairs in the sector */
    double c;  /* tc: g; heff: g^2/beta */
} tcgpu_band;

/* The coupling matrix elements, the one source of their formulas: the model builders
 * (src/model/model_tc.c, model_small.c) fill the CSR with them and the rows below compute them
 * on the fly, so the two agree bit for bit by construction.
 * tc: <.., n_k, ..|H|.., n_k - 1, ..> = g n_k sqrt(N - n + 1), n counted in the upper ket;
 * root = sqrt(N - n + 1), taken once per row by the callers. */
TCGPU_HD static inline double tcgpu_tc_link(double g, int64_t n_k, double root) {
    return g * (double)n_k * root;
}

/* heff: <n1 - 1, n2 + 1|H|n1, n2> = -c n1 (n2 + 1) (times 1/t), c = g^2/beta, n2 = N - n1. */
TCGPU_HD static inline double tcgpu_heff_link(double c, int64_t n1, int64_t N) {
    return -c * (double)(n1 * (N - n1 + 1));
}

/* C(M + r, r), the size of the r-channel basis with at most M quanta (0 for M < 0). Closed
 * forms up to r = 4 (constant divisors: no integer division on the device); beyond, every
 * partial product is itself a binomial coefficient, so the division is exact. */
TCGPU_HD static inline int64_t tcgpu_band_dim(int64_t M, int r) {
    if (M < 0)
        return 0;
    switch (r) {
    case 0:
        return 1;
    case 1:
        return M + 1;
    case 2:
        return (M + 1) * (M + 2) / 2;
    case 3:
        return (M + 1) * (M + 2) * (M + 3) / 6;
    case 4:
        return (M + 1) * (M + 2) * (M + 3) * (M + 4) / 24;
    default: {
        int64_t d = 1;
        for (int q = 1; q <= r; ++q)
            d = d * (M + q) / q;
        return d;
    }
    }
}

/* The index of occupation n (kernels: basis.h order, n[0] slowest), as tcgpu_basis_index. */
TCGPU_HD static inline int64_t tcgpu_band_index(int64_t N, int K, const int64_t *n) {
    int64_t idx = 0, M = N;
    for (int k = 0; k < K; ++k) {
        int r = K - k - 1;
        idx += r == 0 ? n[k] : tcgpu_band_dim(M, r + 1) - tcgpu_band_dim(M - n[k], r + 1);
        M -= n[k];
    }
    return idx;
}

/* The occupation of index i: per position, the largest n_k whose preceding block still starts
 * at or before the remaining index (two channels: from the quadratic, then corrected; more:
 * bisection on the block sizes). */
TCGPU_HD static inline void tcgpu_band_decode(int64_t N, int K, int64_t i, int64_t *n) {
    int64_t M = N, rem = i;
    if (K == 2) { /* smallest P = N - n1 with (P + 1)(P + 2)/2 >= dim(N, 2) - i */
        int64_t R = tcgpu_band_dim(N, 2) - i;
        int64_t P = (int64_t)ceil(0.5 * (sqrt(1.0 + 8.0 * (double)R) - 3.0));
        if (P < 0)
            P = 0;
        while (tcgpu_band_dim(P, 2) < R)
            ++P;
        while (P > 0 && tcgpu_band_dim(P - 1, 2) >= R)
            --P;
        n[0] = N - P;
        n[1] = i - (tcgpu_band_dim(N, 2) - tcgpu_band_dim(P, 2));
        return;
    }
    for (int k = 0; k < K - 1; ++k) {
        int r = K - k - 1;
        int64_t top = tcgpu_band_dim(M, r + 1), lo = 0, hi = M;
        while (lo < hi) { /* largest v with top - dim(M - v) <= rem */
            int64_t v = (lo + hi + 1) / 2;
            if (top - tcgpu_band_dim(M - v, r + 1) <= rem)
                lo = v;
            else
                hi = v - 1;
        }
        n[k] = lo;
        rem -= top - tcgpu_band_dim(M - lo, r + 1);
        M -= lo;
    }
    n[K - 1] = rem;
}

/* The index of n + d e_k (d = -1 or +1), the state at index i: one and two channels in closed
 * form (dim(M, 2) - dim(M - 1, 2) = M + 1), more through the index. */
TCGPU_HD static inline int64_t tcgpu_band_step(int64_t N, int K, int64_t i, int64_t *n, int k,
                                               int d) {
    if (K == 1 || k == K - 1)
        return i + d;
    if (K == 2)
        return d < 0 ? i - (N - n[0] + 2) : i + (N - n[0] + 1);
    n[k] += d;
    int64_t j = tcgpu_band_index(N, K, n);
    n[k] -= d;
    return j;
}

/* Three and four channels, through the index (host only: the CUDA backend computes only one
 * and two channels on the fly, whose occupations fit the kernel's registers;
 * src/backend/cuda/march.cu is never handed more). */
#ifdef __CUDA_ARCH__
#define TCGPU_BAND_ROW_K(b, i, VISIT) ((void)0)
#else
#define TCGPU_BAND_ROW_K(b, i, VISIT)                                                              \
    do {                                                                                           \
        const int64_t M3_ = (b)->N, j3_ = (i);                                                     \
        const double c3_ = (b)->c;                                                                 \
        const int K3_ = (b)->K;                                                                    \
        int64_t n3_[TCGPU_BANDED_MAXK], s3_ = 0;                                                   \
        tcgpu_band_decode(M3_, K3_, j3_, n3_);                                                     \
        for (int k3_ = 0; k3_ < K3_; ++k3_)                                                        \
            s3_ += n3_[k3_];                                                                       \
        const double lo3_ = sqrt((double)(M3_ - s3_ + 1)),                                         \
                     hj3_ = sqrt((double)(M3_ - (s3_ + 1) + 1));                                   \
        for (int k3_ = 0; k3_ < K3_; ++k3_)                                                        \
            if (n3_[k3_] > 0)                                                                      \
                VISIT(tcgpu_band_step(M3_, K3_, j3_, n3_, k3_, -1),                                \
                      tcgpu_tc_link(c3_, n3_[k3_], lo3_), k3_ + 1);                                \
        if (s3_ < M3_)                                                                             \
            for (int k3_ = K3_ - 1; k3_ >= 0; --k3_)                                               \
                VISIT(tcgpu_band_step(M3_, K3_, j3_, n3_, k3_, +1),                                \
                      tcgpu_tc_link(c3_, n3_[k3_] + 1, hj3_), -(k3_ + 1));                         \
    } while (0)
#endif

/* Runs VISIT(j, v, cls) for each of row i's links (column, value, signed class as in
 * tcgpu_model.cls), in CSR order. A macro, so that on the device the caller's accumulators and
 * the one- and two-channel occupations stay in registers (an array of links, indexed at run
 * time, would live in local memory). tc: the CSR lists a row's lower neighbours by channel
 * 0..K-1, then its upper ones K-1..0. heff: state i = n1, n2 = N - n1; link (n1, n1 - 1) is
 * class n1 - 1 (the 1/t phases differ from link to link). sqrt is correctly rounded, so one root
 * per row equals the builder's value on every link. */
#define TCGPU_BAND_ROW(b, i, VISIT)                                                                \
    do {                                                                                           \
        const int64_t N_ = (b)->N, i_ = (i);                                                       \
        const double c_ = (b)->c;                                                                  \
        if ((b)->kind == TCGPU_BAND_HEFF) {                                                        \
            if (i_ > 0)                                                                            \
                VISIT(i_ - 1, tcgpu_heff_link(c_, i_, N_), (int32_t)i_);                           \
            if (i_ < N_)                                                                           \
                VISIT(i_ + 1, tcgpu_heff_link(c_, i_ + 1, N_), -(int32_t)(i_ + 1));                \
        } else if ((b)->K <= 2) {                                                                  \
            int64_t n_[2] = {i_, 0};                                                               \
            if ((b)->K == 2)                                                                       \
                tcgpu_band_decode(N_, 2, i_, n_);                                                  \
            const int64_t a_ = n_[0], b_ = n_[1], s_ = a_ + b_;                                    \
            const double lo_ = sqrt((double)(N_ - s_ + 1)),                                        \
                         hi_ = sqrt((double)(N_ - (s_ + 1) + 1));                                  \
            if ((b)->K == 1) {                                                                     \
                if (a_ > 0)                                                                        \
                    VISIT(i_ - 1, tcgpu_tc_link(c_, a_, lo_), 1);                                  \
                if (s_ < N_)                                                                       \
                    VISIT(i_ + 1, tcgpu_tc_link(c_, a_ + 1, hi_), -1);                             \
            } else {                                                                               \
                if (a_ > 0)                                                                        \
                    VISIT(i_ - (N_ - a_ + 2), tcgpu_tc_link(c_, a_, lo_), 1);                      \
                if (b_ > 0)                                                                        \
                    VISIT(i_ - 1, tcgpu_tc_link(c_, b_, lo_), 2);                                  \
                if (s_ < N_) {                                                                     \
                    VISIT(i_ + 1, tcgpu_tc_link(c_, b_ + 1, hi_), -2);                             \
                    VISIT(i_ + (N_ - a_ + 1), tcgpu_tc_link(c_, a_ + 1, hi_), -1);                 \
                }                                                                                  \
            }                                                                                      \
        } else                                                                                     \
            TCGPU_BAND_ROW_K(b, i_, VISIT);                                                        \
    } while (0)

/* Row i's links into arrays (at most 2 TCGPU_BANDED_MAXK); returns how many. For the host's
 * check of a band against the model's CSR. */
TCGPU_HD static inline int tcgpu_band_row(const tcgpu_band *b, int64_t i, int64_t *col, double *val,
                                          int32_t *cls) {
    int m = 0;
#define TCGPU_BAND_STORE(j, v, c)                                                                  \
    do {                                                                                           \
        col[m] = (j);                                                                              \
        val[m] = (v);                                                                              \
        cls[m++] = (c);                                                                            \
    } while (0)
    TCGPU_BAND_ROW(b, i, TCGPU_BAND_STORE);
#undef TCGPU_BAND_STORE
    return m;
}

#endif
