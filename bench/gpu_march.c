/* Batched march throughput: sweeps/s of the CUDA backend (shared and global paths) and of the
 * CPU backend (all cores), for two-channel Tavis-Cummings N = 20, 40, 100 and one channel
 * N = 1000, with 1, 64, 1024 and 16384 sweeps of one model (g = 1, beta = 1, pair energies
 * -0.5, 0.5; one channel: 0) on a capped window [-T, T] chosen per case so that one sweep is
 * 0.1 to 1 GFLOP, Magnus-4 (the production method) at kappa = 0.5.
 *
 * usage: tcgpu_bench_gpu_march [csv-out] [cpu-max-sweeps]
 * The CPU backend marches at most cpu-max-sweeps (default 256) of each batch: its sweeps are
 * independent, so its rate at 256 sweeps on 16 cores is its rate at 16384 (stated per row).
 * FLOP count: the vector work only, per application of M 10 flops per stored coupling (complex
 * weight times amplitude, times the real value, accumulated) and 12 per amplitude (Chebyshev
 * recurrence and series update); the scalar work per step (grid, phases, Bessel) is left out.
 * Rows ending in -fp32 march in single precision (--precision single); their fraction of peak
 * is of the fp32 peak. Column V (CSV: coupling): csr, the couplings read from the CSR arrays, or
 * otf, computed on the fly (src/step/banded.h); the FLOP count is the same for both. Row
 * cuda-cusparse: the lockstep march (TCGPU_PATH_CUSPARSE: one cusparseSpMM per application for
 * the whole batch, fp64), counted with the same FLOP formula so that its GFLOP/s compare with
 * the fused rows' as throughput; its wall time includes the cuSPARSE handle's creation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcgpu/device.h"
#include "tcgpu/march.h"
#include "tcgpu/model.h"

#define FP64_PEAK 34e12 /* H100 SXM / H200 non-tensor fp64, by the datasheet */
#define FP32_PEAK 67e12 /* the same, fp32 */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *name;
    int64_t N;
    int K;
    double T, kappa;
} bench_case;

static void start(const tcgpu_model *m, double *x, int64_t count) {
    for (int64_t s = 0; s < count; ++s) {
        memset(x + 2 * m->dim * s, 0, (size_t)(2 * m->dim) * sizeof *x);
        x[2 * (m->dim * s + m->start)] = 1;
    }
}

int main(int argc, char **argv) {
    FILE *csv = argc > 1 ? fopen(argv[1], "w") : NULL;
    int64_t cpu_max = argc > 2 ? atoll(argv[2]) : 256;
    tcgpu_device_info dev[4];
    char why[256] = "";
    int have_gpu = tcgpu_cuda_devices(dev, 4, why, sizeof why) > 0;
    if (!have_gpu)
        printf("no CUDA device (%s): CPU backend only\n", why);
    else
        printf("device: %s, %d SMs, %.1f GiB, %.0f KiB shared per block (opt-in)\n", dev[0].name,
               dev[0].multiprocessors, dev[0].memory_bytes / 1073741824.0,
               dev[0].shared_per_block / 1024);
    const bench_case cases[] = {{"tc K=2 N=20", 20, 2, 4, 0.5},
                                {"tc K=2 N=40", 40, 2, 1, 0.5},
                                {"tc K=2 N=100", 100, 2, 0.5, 0.5},
                                {"tc K=1 N=1000", 1000, 1, 0.25, 0.5}};
    const double budget = 15; /* seconds: a row predicted longer (from the last) is skipped */
    const int64_t counts[] = {1, 64, 1024, 16384};
    if (csv)
        fprintf(csv,
                "device,case,dim,nnz,window,kappa,method,precision,sweeps,backend,path,coupling,"
                "block,shared_bytes,steps_per_sweep,apps_per_sweep,wall_s,device_s,plan_s,"
                "sweeps_per_s,gflops,frac_peak,cpu_sweeps_measured\n");
    printf("%-14s %5s %6s %-6s %-22s %-4s %8s %6s %10s %9s %9s %9s\n", "case", "dim", "sweeps",
           "method", "backend", "V", "steps", "apps", "sweeps/s", "GFLOP/s", "of peak", "GPU/CPU");
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        const bench_case *bc = &cases[c];
        tcgpu_model m;
        double e2[2] = {-0.5, 0.5}, e1[1] = {0};
        if (tcgpu_model_tc(&m, bc->N, bc->K, 1.0, 1.0, bc->K == 2 ? e2 : e1)) {
            fprintf(stderr, "model: %s\n", tcgpu_last_error());
            return 1;
        }
        int64_t nnz = m.row_ptr[m.dim], cmax = counts[sizeof counts / sizeof *counts - 1];
        const tcgpu_model **mp = malloc((size_t)cmax * sizeof *mp);
        double *ta = malloc((size_t)cmax * sizeof *ta), *tb = malloc((size_t)cmax * sizeof *tb);
        double *kap = malloc((size_t)cmax * sizeof *kap);
        double *x = malloc((size_t)(cmax * m.dim * 2) * sizeof *x);
        int64_t *steps = malloc((size_t)cmax * sizeof *steps),
                *apps = malloc((size_t)cmax * sizeof *apps);
        if (!mp || !ta || !tb || !kap || !x || !steps || !apps) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        for (int64_t s = 0; s < cmax; ++s) {
            mp[s] = &m;
            ta[s] = -bc->T;
            tb[s] = bc->T;
            kap[s] = bc->kappa;
        }
        /* Configurations, in order (the GPU/CPU ratio divides by the CPU row of the same
         * precision, the first of its precision). The CUDA backend computes the couplings on
         * the fly by default (src/step/banded.h), the CPU reads the CSR; the -csr / -otf rows
         * time the other choice. Block-size and global-csr rows run at 1024 sweeps only, the
         * CPU's on-the-fly row at 1 sweep (one core). */
        typedef struct {
            const char *label;
            int cuda, fp32, block;
            int64_t only; /* run at this batch size only (0: every size) */
            tcgpu_cuda_path path;
            tcgpu_coupling coupling;
        } config;
        const config cfgs[] = {
            {"cpu", 0, 0, 0, 0, TCGPU_PATH_AUTO, TCGPU_COUPLING_AUTO},
            {"cpu-otf", 0, 0, 0, 1, TCGPU_PATH_AUTO, TCGPU_COUPLING_ONTHEFLY},
            {"cuda-auto", 1, 0, 0, 0, TCGPU_PATH_AUTO, TCGPU_COUPLING_AUTO},
            {"cuda-auto-csr", 1, 0, 0, 0, TCGPU_PATH_AUTO, TCGPU_COUPLING_CSR},
            {"cuda-global", 1, 0, 0, 0, TCGPU_PATH_GLOBAL, TCGPU_COUPLING_AUTO},
            {"cuda-global-csr", 1, 0, 0, 1024, TCGPU_PATH_GLOBAL, TCGPU_COUPLING_CSR},
            {"cuda-cusparse", 1, 0, 0, 0, TCGPU_PATH_CUSPARSE, TCGPU_COUPLING_AUTO},
            {"cuda-auto/b64", 1, 0, 64, 1024, TCGPU_PATH_AUTO, TCGPU_COUPLING_AUTO},
            {"cuda-auto/b128", 1, 0, 128, 1024, TCGPU_PATH_AUTO, TCGPU_COUPLING_AUTO},
            {"cuda-auto/b512", 1, 0, 512, 1024, TCGPU_PATH_AUTO, TCGPU_COUPLING_AUTO},
            {"cpu-fp32", 0, 1, 0, 0, TCGPU_PATH_AUTO, TCGPU_COUPLING_AUTO},
            {"cuda-auto-fp32", 1, 1, 0, 0, TCGPU_PATH_AUTO, TCGPU_COUPLING_AUTO},
        };
        enum { NCFG = sizeof cfgs / sizeof *cfgs };
        double last_rate[NCFG] = {0};
        for (int method = 1; method >= 1; --method)
            for (size_t k = 0; k < sizeof counts / sizeof *counts; ++k) {
                int64_t count = counts[k];
                double cpu_rate[2] = {0, 0}; /* fp64, fp32 */
                int auto_global = 0;
                for (int ci = 0; ci < NCFG; ++ci) {
                    const config *cf = &cfgs[ci];
                    if ((cf->cuda && !have_gpu) || (cf->only && count != cf->only))
                        continue;
                    if (cf->path == TCGPU_PATH_GLOBAL && auto_global)
                        continue; /* the automatic choice was already the global path */
                    tcgpu_march_opts o = {.backend =
                                              cf->cuda ? TCGPU_BACKEND_CUDA : TCGPU_BACKEND_CPU,
                                          .method = (tcgpu_method)method,
                                          .precision = cf->fp32 ? TCGPU_FP32 : TCGPU_FP64,
                                          .path = cf->path,
                                          .block = cf->block,
                                          .coupling = cf->coupling};
                    int64_t n = !cf->cuda && count > cpu_max ? cpu_max : count;
                    tcgpu_march_info info;
                    if (last_rate[ci] > 0 && (double)n / last_rate[ci] > budget) {
                        printf("%-14s %5lld %6lld %-6s %-16s skipped: about %.0f s predicted\n",
                               bc->name, (long long)m.dim, (long long)count, "cf4", cf->label,
                               (double)n / last_rate[ci]);
                        continue;
                    }
                    if (cf->cuda && k == 0 && c == 0 && method == 1) { /* warm-up: module load */
                        start(&m, x, 1);
                        tcgpu_batch w = {mp, 1, ta, tb, kap, x, steps, apps, NULL};
                        tcgpu_march_batch(&w, &o, &info);
                    }
                    start(&m, x, n);
                    tcgpu_batch b = {mp, n, ta, tb, kap, x, steps, apps, NULL};
                    double t0 = now();
                    if (tcgpu_march_batch(&b, &o, &info)) {
                        printf("%s %s: %s\n", bc->name, cf->label, tcgpu_last_error());
                        continue;
                    }
                    double wall = now() - t0, rate = (double)n / wall;
                    last_rate[ci] = rate;
                    if (cf->cuda && cf->path == TCGPU_PATH_AUTO && !cf->block &&
                        cf->coupling == TCGPU_COUPLING_AUTO && !cf->fp32)
                        auto_global = info.path == TCGPU_PATH_GLOBAL;
                    double flops = 0;
                    for (int64_t s = 0; s < n; ++s)
                        flops += (double)apps[s] * (10.0 * (double)nnz + 12.0 * (double)m.dim);
                    double gf = flops / wall;
                    if (!cf->cuda && cpu_rate[cf->fp32] == 0)
                        cpu_rate[cf->fp32] = rate;
                    const char *path = !cf->cuda                          ? "-"
                                       : info.path == TCGPU_PATH_SHARED   ? "shared"
                                       : info.path == TCGPU_PATH_CUSPARSE ? "cusparse"
                                                                          : "global";
                    const char *coupling = cf->cuda ? (info.on_the_fly ? "otf" : "csr")
                                           : cf->coupling == TCGPU_COUPLING_ONTHEFLY ? "otf"
                                                                                     : "csr";
                    char label[40];
                    snprintf(label, sizeof label, "%s%s%s", cf->label, cf->cuda ? ":" : "",
                             cf->cuda ? path : "");
                    char ratio[32] = "-";
                    double base = cpu_rate[cf->fp32], peak = cf->fp32 ? FP32_PEAK : FP64_PEAK;
                    if (cf->cuda && base > 0)
                        snprintf(ratio, sizeof ratio, "%.1f", rate / base);
                    printf("%-14s %5lld %6lld %-6s %-22s %-4s %8lld %6lld %10.1f %9.1f %8.2f%% "
                           "%9s\n",
                           bc->name, (long long)m.dim, (long long)count, method ? "cf4" : "rk4",
                           label, coupling, (long long)steps[0], (long long)apps[0], rate,
                           gf * 1e-9, 100 * gf / peak, ratio);
                    fflush(stdout);
                    if (csv)
                        fprintf(csv,
                                "%s,%s,%lld,%lld,%g,%g,%s,%s,%lld,%s,%s,%s,%d,%zu,%lld,%lld,%.6f,"
                                "%.6f,%.6f,%.3f,%.3f,%.6f,%lld\n",
                                have_gpu ? dev[0].name : "none", bc->name, (long long)m.dim,
                                (long long)nnz, bc->T, bc->kappa, method ? "cf4" : "rk4",
                                cf->fp32 ? "fp32" : "fp64", (long long)count,
                                cf->cuda ? "cuda" : "cpu", path, coupling, info.block,
                                info.shared_bytes, (long long)steps[0], (long long)apps[0], wall,
                                info.run_seconds, info.plan_seconds, rate, gf * 1e-9, gf / peak,
                                (long long)n);
                    if (csv)
                        fflush(csv);
                }
            }
        free(mp);
        free(ta);
        free(tb);
        free(kap);
        free(x);
        free(steps);
        free(apps);
        tcgpu_model_free(&m);
    }
    if (csv)
        fclose(csv);
    return 0;
}
