/* Reference values in quad precision by the paper's formulas taken literally: products of
 * (1 - x^k), powers of x, the recursion of eq 36 channel by channel. No logs, no tables, no
 * code shared with the engine, so agreement is evidence and not a tautology. */
#ifndef TCGPU_REF_QUAD_H
#define TCGPU_REF_QUAD_H

#include <stdint.h>

/* Eq 36 (corrected) for K channels, channel s crossed s-th (order[s] = user index). */
long double ref_tc_joint(int64_t N, int K, const int *order, const int64_t *n, double g,
                         double beta);

/* Eq 40 for all m at once (p[m], m = 0..N), by running products. */
void ref_tc_single_all(int64_t N, double g, double beta, long double *p);

/* Eq 62 for all n at once. */
void ref_tc2_total_all(int64_t N, double g, double beta, long double *p);

/* Means of eq 40 and eq 62 accumulated in quad: <n1>, <n>, and <n2> = <n> - <n1>. */
void ref_tc2_means(int64_t N, double g, double beta, long double *n1, long double *n,
                   long double *n2);

/* db t^2/2 + da t + dw ln|t| reduced to [-pi, pi], all in quad precision. */
double ref_phase(double db, double da, double dw, double t);

#endif
