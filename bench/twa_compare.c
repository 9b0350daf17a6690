/* One TWA ensemble against the exact engine: the measurements of docs/semiclassical.md.
 * Usage: tcgpu_bench_twa N K g beta eps trajectories [seed T tol bare coherent]
 * (eps sets pair energies 2(2k-K-1) eps). Prints one line: TWA means with standard errors, the
 * exact means, relative deviations, wall and CPU time and trajectories per second of each. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tcgpu/exact.h"
#include "tcgpu/semiclassical.h"

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s N K g beta eps trajectories [seed T tol bare coherent]\n",
                argv[0]);
        return 2;
    }
    tcgpu_twa_opts o = {.N = atoll(argv[1]),
                        .K = atoi(argv[2]),
                        .g = atof(argv[3]),
                        .beta = atof(argv[4]),
                        .eps = atof(argv[5]),
                        .trajectories = atoll(argv[6]),
                        .seed = argc > 7 ? strtoull(argv[7], NULL, 10) : 1,
                        .T = argc > 8 ? atof(argv[8]) : 0,
                        .tol = argc > 9 ? atof(argv[9]) : 0,
                        .bare_readout = argc > 10 ? atoi(argv[10]) : 0,
                        .coherent_molecules = argc > 11 ? atoi(argv[11]) : 0};
    tcgpu_twa_result r;
    tcgpu_tc_moments m;
    double lv[TCGPU_MAX_CHANNELS];
    for (int k = 0; k < o.K && k < TCGPU_MAX_CHANNELS; ++k)
        lv[k] = 2.0 * (2 * k + 1 - o.K) * o.eps;
    clock_t c0 = clock(); /* CPU time of all threads: comparable on a loaded machine */
    tcgpu_status st = tcgpu_twa_moments(&o, &r);
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    if (st || tcgpu_exact_tc_moments(o.N, o.K, o.g, o.beta, o.K > 1 ? lv : NULL, &m)) {
        fprintf(stderr, "tcgpu_bench_twa: %s\n", tcgpu_last_error());
        return 1;
    }
    printf("N=%lld K=%d g=%g beta=%g eps=%g T=%.4g traj=%lld steps=%.0f drift=%.1e\n",
           (long long)o.N, o.K, o.g, o.beta, o.eps, r.T, (long long)r.trajectories, r.mean_steps,
           r.max_drift);
    printf("  n/N   twa %.6f +- %.6f exact %.6f  rel %+.2e (%.1f sigma)\n", r.mean_n / o.N,
           r.mean_n_err / o.N, m.mean_n / o.N, r.mean_n / m.mean_n - 1,
           (r.mean_n - m.mean_n) / r.mean_n_err);
    printf("  n     twa %.6g +- %.2g exact %.6g\n", r.mean_n, r.mean_n_err, m.mean_n);
    if (o.K == 1) {
        double *p = malloc((size_t)(o.N + 1) * sizeof *p), v = 0;
        if (p && !tcgpu_exact_tc_single(o.N, o.g, o.beta, p)) {
            for (int64_t k = 0; k <= o.N; ++k)
                v += ((double)k - m.mean_n) * ((double)k - m.mean_n) * p[k];
            printf("  sd(n)/N twa %.5f exact %.5f  rel %+.2e\n", r.sd_n / o.N, sqrt(v) / o.N,
                   r.sd_n / sqrt(v) - 1);
        }
        free(p);
    }
    printf("  nu    twa %.2f +- %.2f   exact %.2f  rel %+.2e\n", r.mean_nu, r.mean_nu_err,
           o.N - m.mean_n, r.mean_nu / (o.N - m.mean_n) - 1);
    for (int k = 1; k < o.K; ++k)
        printf("  n%d    twa %.3f +- %.3f  exact %.3f  rel %+.2e (%.1f sigma)\n", k + 1, r.mean[k],
               r.mean_err[k], m.mean[k], r.mean[k] / m.mean[k] - 1,
               (r.mean[k] - m.mean[k]) / r.mean_err[k]);
    if (o.K == 2) {
        printf("  eta   twa %.6f +- %.6f exact %.6f  rel %+.2e\n", r.eta, r.eta_err, m.eta,
               r.eta / m.eta - 1);
    }
    printf("  %.3f s wall, %.0f trajectories/s; %.3f s CPU, %.0f trajectories per CPU-second\n",
           r.seconds, r.trajectories / r.seconds, cpu, r.trajectories / cpu);
    return 0;
}
