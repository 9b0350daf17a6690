/* Timing of the exact engine on one core: the numbers behind the "well under one second" goals
 * (single channel N = 1e6, two-channel moments N = 1e5, two-channel joint N = 2000).
 * Usage: tcgpu_bench_exact [repeats]; prints a Markdown table. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tcgpu/exact.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double best_of(int repeats, int what, double *buf) {
    double best = 1e300;
    for (int r = 0; r < repeats; ++r) {
        double t0 = now();
        tcgpu_tc_moments m;
        tcgpu_status st = what == 0   ? tcgpu_exact_tc_single(1000000, 1.0, 5e5, buf)
                          : what == 1 ? tcgpu_exact_tc_moments(100000, 2, 1.0, 6.7e4, NULL, &m)
                          : what == 2 ? tcgpu_exact_tc_joint(2000, 2, 1.0, 1e3, NULL, buf)
                                      : tcgpu_exact_beta_c(1000000, 1.0, buf);
        double t = now() - t0;
        if (st) {
            fprintf(stderr, "tcgpu_bench_exact: %s\n", tcgpu_last_error());
            exit(1);
        }
        best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv) {
    int repeats = argc > 1 ? atoi(argv[1]) : 5;
    double *buf = malloc(sizeof(double) * 2100000);
    if (!buf || repeats < 1)
        return 1;
    static const char *names[] = {"single channel P_m, N = 1e6 (eq 40)",
                                  "two-channel <n1>, <n2>, <n>, eta, N = 1e5 (eqs 40, 62)",
                                  "two-channel joint P(n1,n2), N = 2000 (eq 61, 2.0e6 states)",
                                  "critical root beta_c, N = 1e6 (eq 47)"};
    printf("| case | best of %d, seconds (one core) |\n|---|---|\n", repeats);
    for (int w = 0; w < 4; ++w)
        printf("| %s | %.4f |\n", names[w], best_of(repeats, w, buf));
    free(buf);
    return 0;
}
