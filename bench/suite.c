/* The bench suite's tcgpu driver: one named case with one method per process, so that the
 * peak memory (ru_maxrss) belongs to that case alone. Prints one JSON object per line (the
 * runner bench/run collects them); a line is flushed as soon as it is measured, so a run killed
 * at its time limit keeps what it had.
 *
 * usage: tcgpu_bench_suite --list | --cuda-devices
 *        tcgpu_bench_suite --case NAME --method magnus4|rk4 [--tol 1e-6] [--budget S]
 *                          [--threads T] [--counts 1,64,1024,16384] [--backend cpu|cuda]
 *                          [--dump FILE]
 *
 * Per case and method:
 *  - "auto": one controlled sweep (tcgpu_sweep_auto, tolerance --tol on the TV distance), wall
 *    and CPU seconds, TV against the exact engine;
 *  - "grid": one sweep on the auto's final grid (window -T0..Tr, step kappa), timed in parts
 *    (dressed start, march, dressed readout at Tr); its TV is that of every ensemble sweep
 *    (the auto may add a window extrapolation on top, so its TV can differ);
 *  - "ensemble": tcgpu_march_batch of 1, 64, 1024, 16384 copies of that grid's start state on
 *    the backend (march only: start and readout are not in the batch). A count predicted (from
 *    the last measured rate) to overrun what is left of --budget (seconds for the ensembles
 *    of this case and method; the runner bounds the rest) is not run, except that when
 *    nothing above one sweep fits, the largest multiple of the thread count that fits is run.
 * FLOP count (vector work of src/step/step.h, per application of M): 10 per stored coupling
 * (complex weight times amplitude: 4 mul + 2 add, times the real value: 2 mul, accumulated:
 * 2 add) plus, per amplitude, 12 for Magnus-4 (Chebyshev recurrence 4, series update 8) or 8
 * for RK4 (its four stage updates, 32 per amplitude per step, over 4 applications). Scalar work
 * per step (grid, phases, Bessel coefficients) is not counted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tcgpu/device.h"
#include "tcgpu/march.h"
#include "tcgpu/model.h"
#include "tcgpu/propagate.h"
#include "tcgpu/reduce.h"

#define PI 3.14159265358979323846

typedef struct {
    const char *name;
    int K;
    int64_t N;
    double beta; /* g = 1 */
    double levels[3];
} bench_case;

/* Single channel at q = 2 pi g^2 N / (beta ln N) = 1 (the distribution's maximum is just past
 * its m = 0 to m > 0 transition, Fig 3); two and three channels at beta = 1, where the windows
 * stay short. Three channels: pair energies without integer relations up to N = 20, so that no
 * two final diabatic levels are degenerate. */
static const bench_case cases[] = {
    {"tc1-N100", 1, 100, 2 * PI * 100 / 4.605170185988091, {0}},
    {"tc1-N1000", 1, 1000, 2 * PI * 1000 / 6.907755278982137, {0}},
    {"tc2-N20", 2, 20, 1, {-1, 1}},
    {"tc2-N40", 2, 40, 1, {-1, 1}},
    {"tc2-N100", 2, 100, 1, {-1, 1}},
    {"tc3-N20", 3, 20, 1, {-1, 0.3, 1.1}},
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A JSON string: the library's messages may hold quotes. */
static void jstr(const char *s) {
    putchar('"');
    for (; *s; ++s) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s >= 32 ? *s : ' ');
    }
    putchar('"');
}

static void head(const char *kind, const bench_case *c, const char *method) {
    printf("{\"kind\":\"%s\",\"case\":\"%s\",\"method\":\"%s\"", kind, c->name, method);
}

static void end_line(void) {
    puts("}");
    fflush(stdout);
}

static void usage(void) {
    fprintf(stderr, "usage: tcgpu_bench_suite --list | --case NAME --method magnus4|rk4 [--tol T] "
                    "[--budget S] [--threads T] [--counts LIST] [--backend cpu|cuda] "
                    "[--dump FILE]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *name = NULL, *method_name = "magnus4", *dump = NULL,
               *counts_arg = "1,64,1024,16384";
    double tol = 1e-6, budget = 30, t_begin = now();
    int threads = 0, cuda = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--cuda-devices")) { /* usable devices (0 without the backend) */
            tcgpu_device_info dev[4];
            char why[256];
            int n = tcgpu_cuda_devices(dev, 4, why, sizeof why);
            printf("%d\n", n > 0 ? n : 0);
            return 0;
        }
        if (!strcmp(argv[i], "--list")) {
            for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c)
                puts(cases[c].name);
            return 0;
        }
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--case"))
            name = argv[++i];
        else if (!strcmp(argv[i], "--method"))
            method_name = argv[++i];
        else if (!strcmp(argv[i], "--tol"))
            tol = atof(argv[++i]);
        else if (!strcmp(argv[i], "--budget"))
            budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--counts"))
            counts_arg = argv[++i];
        else if (!strcmp(argv[i], "--dump"))
            dump = argv[++i];
        else if (!strcmp(argv[i], "--backend"))
            cuda = !strcmp(argv[++i], "cuda");
        else
            usage();
    }
    const bench_case *c = NULL;
    for (size_t k = 0; name && k < sizeof cases / sizeof *cases; ++k)
        if (!strcmp(cases[k].name, name))
            c = &cases[k];
    int rk4 = !strcmp(method_name, "rk4");
    if (!c || (!rk4 && strcmp(method_name, "magnus4")))
        usage();
    tcgpu_method method = rk4 ? TCGPU_METHOD_RK4 : TCGPU_METHOD_MAGNUS4;

    tcgpu_model m;
    if (tcgpu_model_tc(&m, c->N, c->K, 1.0, c->beta, c->levels)) {
        fprintf(stderr, "model: %s\n", tcgpu_last_error());
        return 1;
    }
    int64_t d = m.dim, nnz = m.row_ptr[d];
    double flops_per_app = 10.0 * (double)nnz + (rk4 ? 8.0 : 12.0) * (double)d;
    double *ex = malloc((size_t)d * sizeof *ex), *p = malloc((size_t)d * sizeof *p);
    double *x0 = calloc((size_t)(2 * d), sizeof *x0), *xs = calloc((size_t)(2 * d), sizeof *xs);
    if (!ex || !p || !x0 || !xs) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    double t0 = now();
    if (tcgpu_exact_for_model(&m, c->levels, ex)) {
        fprintf(stderr, "exact: %s\n", tcgpu_last_error());
        return 1;
    }
    double exact_s = now() - t0;
    head("case", c, method_name);
    printf(",\"K\":%d,\"N\":%lld,\"g\":1,\"beta\":%.17g,\"levels\":[", c->K, (long long)c->N,
           c->beta);
    for (int k = 0; k < c->K; ++k)
        printf("%s%.17g", k ? "," : "", c->levels[k]);
    printf("],\"dim\":%lld,\"nnz\":%lld,\"tol\":%g,\"budget_s\":%g,\"flops_per_application\":%.0f,"
           "\"exact_s\":%.6f",
           (long long)d, (long long)nnz, tol, budget, flops_per_app, exact_s);
    end_line();
    if (dump) { /* basis labels and the exact distribution, for the peers */
        FILE *f = fopen(dump, "w");
        if (!f) {
            fprintf(stderr, "cannot write %s\n", dump);
            return 1;
        }
        for (int64_t i = 0; i < d; ++i) {
            for (int k = 0; k < c->K; ++k)
                fprintf(f, "%d ", m.labels[i * c->K + k]);
            fprintf(f, "%.17g\n", ex[i]);
        }
        fclose(f);
    }

    /* The controlled sweep, and from it the grid every other measurement uses. */
    tcgpu_auto_opts ao = {.method = method, .tol = tol};
    tcgpu_auto_report rep;
    double c0 = cpu_now();
    t0 = now();
    /* Two channels at N = 100: one controlled magnus4 sweep takes 6 to 22 minutes here (RK4:
     * hours; docs/numerics.md, Cost), past any budget of this suite: throughput only. */
    tcgpu_status st = d > 4000 ? tcgpu_fail(TCGPU_EINVAL,
                                            "%lld states: a controlled sweep takes 6-31 min "
                                            "(magnus4) or hours (rk4) on 2 cores, past this "
                                            "suite's budget (docs/numerics.md has its cost)",
                                            (long long)d)
                               : tcgpu_sweep_auto(&m, &ao, p, &rep);
    double auto_wall = now() - t0, auto_cpu = cpu_now() - c0;
    head("auto", c, method_name);
    int have_grid = !st;
    double T0 = 0.5, Tr = 0.5, kappa = rk4 ? 1.0 / 256 : 0.5;
    if (st) {
        printf(",\"status\":\"refused\",\"reason\":");
        jstr(tcgpu_last_error());
    } else {
        T0 = rep.T0;
        Tr = rep.Tr;
        kappa = rep.kappa;
        printf(
            ",\"status\":\"ok\",\"wall_s\":%.6f,\"cpu_s\":%.6f,\"tv\":%.3e,\"err_estimate\":%.3e,"
            "\"T0\":%.17g,\"Tr\":%.17g,\"kappa\":%.17g,\"steps\":%lld,\"applications\":%lld,"
            "\"norm_error\":%.3e",
            auto_wall, auto_cpu, tcgpu_tv(p, ex, d), rep.err_estimate, T0, Tr, kappa,
            (long long)rep.steps, (long long)rep.applications, rep.norm_error);
    }
    end_line();

    /* One sweep on that grid, timed in parts; its start state seeds the ensemble. Without a
     * readout (too many states for the dense readout) the ensemble marches the diabatic start
     * state over a short fixed window: throughput only, not a sweep. */
    double march_1 = 0;
    if (have_grid) {
        tcgpu_sweep *s;
        double ts = now();
        if (tcgpu_sweep_begin(&m, method, TCGPU_FP64, -T0, kappa, 2, &s)) {
            fprintf(stderr, "begin: %s\n", tcgpu_last_error());
            return 1;
        }
        double start_s = now() - ts;
        memcpy(x0, tcgpu_sweep_state(s), (size_t)(2 * d) * sizeof *x0);
        double ta = now();
        st = tcgpu_sweep_advance(s, Tr);
        double tb = now();
        st = st ? st : tcgpu_sweep_readout(s, p);
        double tc = now();
        if (st) {
            fprintf(stderr, "grid sweep: %s\n", tcgpu_last_error());
            return 1;
        }
        memcpy(xs, tcgpu_sweep_state(s), (size_t)(2 * d) * sizeof *xs);
        march_1 = tb - ta;
        head("grid", c, method_name);
        printf(",\"status\":\"ok\",\"start_s\":%.6f,\"march_s\":%.6f,\"readout_s\":%.6f,"
               "\"steps\":%lld,\"applications\":%lld,\"tv\":%.3e",
               start_s, march_1, tc - tb, (long long)tcgpu_sweep_steps(s),
               (long long)tcgpu_sweep_applications(s), tcgpu_tv(p, ex, d));
        tcgpu_sweep_end(s);
    } else {
        x0[2 * m.start] = 1;
        head("grid", c, method_name);
        printf(",\"status\":\"n/a (readout)\",\"window\":[%g,%g],\"kappa\":%g", -T0, Tr, kappa);
    }
    end_line();

    /* Ensembles. Sweeps that run side by side: threads on the CPU, one block per multiprocessor on
     * the device (a lower bound: several blocks may share one). The device's first rate is
     * measured, not taken from the CPU's single sweep. */
    int nt = threads > 0 ? threads : 1;
    if (cuda) {
        tcgpu_device_info dev[1];
        char why[256];
        nt = tcgpu_cuda_devices(dev, 1, why, sizeof why) > 0 ? dev[0].multiprocessors : 1;
    }
    double per_sweep = cuda ? 0 : march_1; /* seconds per sweep per lane, last measured */
    int wide_done = 0;
    double t_ens = now(); /* the budget is the ensembles': the controlled sweep cannot be cut */
    for (const char *q = counts_arg; *q;) {
        int64_t count = atoll(q);
        q = strchr(q, ',') ? strchr(q, ',') + 1 : q + strlen(q);
        if (count < 1)
            continue;
        double left = budget - (now() - t_ens);
        double lanes = (double)(count < nt ? count : nt);
        double predicted = per_sweep > 0 ? per_sweep * (double)count / lanes : 0;
        const char *why = NULL;
        char why_buf[64];
        if (predicted > left) {
            /* 0.7: the rate measured on one sweep overstates a loaded machine's */
            int64_t fit = per_sweep > 0 ? (int64_t)(0.7 * left / per_sweep * nt) / nt * nt : 0;
            if (wide_done || cuda || fit < 2 || count == 1) {
                head("ensemble", c, method_name);
                printf(",\"sweeps\":%lld,\"status\":\"not run (budget)\",\"predicted_s\":%.1f,"
                       "\"budget_left_s\":%.1f",
                       (long long)count, predicted, left);
                end_line();
                continue;
            }
            snprintf(why_buf, sizeof why_buf, "largest that fits the budget (instead of %lld)",
                     (long long)count);
            count = fit;
            why = why_buf;
        }
        double *x = malloc((size_t)(count * 2 * d) * sizeof *x);
        double *ta = malloc((size_t)count * sizeof *ta), *tb = malloc((size_t)count * sizeof *tb);
        double *ka = malloc((size_t)count * sizeof *ka);
        const tcgpu_model **mp = malloc((size_t)count * sizeof *mp);
        int64_t *steps = malloc((size_t)count * sizeof *steps);
        int64_t *apps = malloc((size_t)count * sizeof *apps);
        head("ensemble", c, method_name);
        printf(",\"sweeps\":%lld", (long long)count);
        if (!x || !ta || !tb || !ka || !mp || !steps || !apps) {
            printf(",\"status\":\"not run (out of memory)\"");
        } else {
            for (int64_t k = 0; k < count; ++k) {
                memcpy(x + 2 * d * k, x0, (size_t)(2 * d) * sizeof *x);
                ta[k] = -T0;
                tb[k] = Tr;
                ka[k] = kappa;
                mp[k] = &m;
            }
            tcgpu_batch b = {mp, count, ta, tb, ka, x, steps, apps, NULL};
            tcgpu_march_opts o = {.backend = cuda ? TCGPU_BACKEND_CUDA : TCGPU_BACKEND_CPU,
                                  .method = method,
                                  .threads = threads};
            tcgpu_march_info info;
            c0 = cpu_now();
            t0 = now();
            st = tcgpu_march_batch(&b, &o, &info);
            double wall = now() - t0, cpu = cpu_now() - c0;
            if (st) {
                printf(",\"status\":\"failed\",\"reason\":");
                jstr(tcgpu_last_error());
            } else {
                double s_sum = 0, a_sum = 0, diff = 0;
                for (int64_t k = 0; k < count; ++k) {
                    s_sum += (double)steps[k];
                    a_sum += (double)apps[k];
                }
                if (have_grid) /* the batch must take the single sweep's steps */
                    for (int64_t i = 0; i < 2 * d; ++i)
                        diff = fmax(diff, fabs(x[i] - xs[i]));
                printf(",\"status\":\"ok\",\"threads\":%d,\"wall_s\":%.6f,\"cpu_s\":%.6f,"
                       "\"steps_per_sweep\":%.0f,\"applications_per_sweep\":%.0f,"
                       "\"sweeps_per_s\":%.6g,\"amplitude_updates_per_s\":%.6g,\"gflops\":%.6g,"
                       "\"max_diff_vs_single\":%.3e,\"partial_window\":%s",
                       threads, wall, cpu, s_sum / (double)count, a_sum / (double)count,
                       (double)count / wall, (double)d * s_sum / wall,
                       a_sum * flops_per_app / wall * 1e-9, have_grid ? diff : -1.0,
                       have_grid ? "false" : "true");
                if (cuda)
                    printf(",\"device\":\"%s\",\"path\":\"%s\",\"device_s\":%.6f", info.device,
                           info.path == TCGPU_PATH_SHARED ? "shared" : "global", info.run_seconds);
                if (why) {
                    printf(",\"note\":");
                    jstr(why);
                }
                per_sweep = wall * (double)(count < nt ? count : nt) / (double)count;
                wide_done |= count > 1;
            }
        }
        end_line();
        free(x);
        free(ta);
        free(tb);
        free(ka);
        free(mp);
        free(steps);
        free(apps);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    head("summary", c, method_name);
    printf(",\"maxrss_kib\":%ld,\"wall_s\":%.3f", ru.ru_maxrss, now() - t_begin);
    end_line();
    free(ex);
    free(p);
    free(x0);
    free(xs);
    tcgpu_model_free(&m);
    return 0;
}
