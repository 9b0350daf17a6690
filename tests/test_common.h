/* Helpers shared by the test suites. */
#ifndef TCGPU_TEST_COMMON_H
#define TCGPU_TEST_COMMON_H

#include <math.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "tcgpu/exact.h"
#include "tcgpu/model.h"

#define PI_L 3.14159265358979323846264338327950288L

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define ASSERT_OK(call)                                                                            \
    do {                                                                                           \
        tcgpu_status st_ = (call);                                                                 \
        cr_assert_eq(st_, TCGPU_OK, "%s failed: %s", #call, tcgpu_last_error());                   \
    } while (0)

/* Relative deviation, counted only where the reference is above the 1e-300 floor; below it the
 * engine must also be below ~1e-300 (or zero). */
static inline double rel_dev(double got, long double ref) {
    if (ref < 1e-300L)
        return got < 1.0000001e-300 ? 0.0 : INFINITY;
    return (double)(fabsl((long double)got - ref) / ref);
}

/* Compensated sum, the test's own (not the engine's). */
static inline long double test_sum(const double *v, size_t n) {
    long double s = 0, c = 0;
    for (size_t i = 0; i < n; ++i) {
        long double y = (long double)v[i] - c, t = s + y;
        c = (t - s) - y;
        s = t;
    }
    return s;
}

static inline void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    cr_assert_not_null(p, "out of memory in the test");
    return p;
}

/* A deterministic normalized state with weight on every amplitude (re, im interleaved). */
static inline void spread_state(const tcgpu_model *m, double *x) {
    double norm = 0;
    for (int64_t i = 0; i < m->dim; ++i) {
        x[2 * i] = i == m->start ? 1.0 : 0.05 * sin(1.0 + (double)i);
        x[2 * i + 1] = i == m->start ? 0.0 : 0.05 * cos(2.0 + 0.5 * (double)i);
        norm += x[2 * i] * x[2 * i] + x[2 * i + 1] * x[2 * i + 1];
    }
    for (int64_t i = 0; i < 2 * m->dim; ++i)
        x[i] /= sqrt(norm);
}

#ifdef TCGPU_BIN
#include <stdio.h>
/* `tcgpu JOB --out res`, one thread, in dir, stopped by SIGINT `delay` seconds after its file
 * `file` (out: stdout, err: stderr) first matches the grep pattern `pattern` (or after 60 s);
 * its stdout and stderr are left in dir/out and dir/err, its exit status in dir/status. */
static inline void run_then_interrupt(const char *dir, const char *job, const char *file,
                                      const char *pattern, double delay) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && (OMP_NUM_THREADS=1 %s %s --out res >out 2>err & p=$!; n=0; while ! grep "
             "-qs '%s' %s && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done; sleep %g; "
             "kill -INT $p; wait $p; echo $? >status)",
             dir, TCGPU_BIN, job, pattern, file, delay);
    cr_assert_eq(system(cmd), 0);
}
#endif

#endif
