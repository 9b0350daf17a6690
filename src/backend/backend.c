/* The backend table (src/backend.h) and the context that carries the chosen runner, its
 * resident states and its byte counts. */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eig.h"
#include "march_lockstep.h"
#include "tcgpu/device.h"

static tcgpu_status any_options(const tcgpu_march_opts *o) {
    (void)o;
    return TCGPU_OK;
}

static tcgpu_status fp64_only(const tcgpu_march_opts *o) {
    if (o->precision == TCGPU_FP32)
        return tcgpu_fail(TCGPU_EINVAL, "the lockstep (cuSPARSE) march takes fp64 only: expected "
                                        "fp64 precision, or a fused path for fp32");
    return TCGPU_OK;
}

static tcgpu_status cuda_built(void) {
    if (!tcgpu_cuda_built())
        return tcgpu_fail(TCGPU_EINVAL, "this tcgpu was built without CUDA (no nvcc at configure "
                                        "time): use the CPU backend");
    return TCGPU_OK;
}

static tcgpu_status cuda_options(const tcgpu_march_opts *o) {
    (void)o;
    return cuda_built();
}

static tcgpu_status cusparse_options(const tcgpu_march_opts *o) {
    tcgpu_status st = cuda_built();
    return st ? st : fp64_only(o);
}

static const eig_device cuda_dense = {eig_sym_cuda, eig_sandwich_cuda};

static const tcgpu_runner cpu_fused = {
    .name = "cpu",
    .backend = TCGPU_BACKEND_CPU,
    .resident = 1,
    .auto_on_the_fly = TCGPU_CPU_ON_THE_FLY,
    .supports = any_options,
    .march = tcgpu_march_fused_cpu,
};

/* The cuSPARSE path's host twin: the same lockstep driver with plain loops. */
static const tcgpu_runner cpu_lockstep = {
    .name = "cpu-lockstep",
    .backend = TCGPU_BACKEND_CPU,
    .lockstep = 1,
    .flat_plan = 1,
    .resident = 1,
    .supports = fp64_only,
    .march = tcgpu_march_lockstep_cpu,
};

/* The CUDA runners copy each batch's states in and out inside their march (kernels/march.cu,
 * kernels/march_sparse.cu): not resident yet. */
static const tcgpu_runner cuda_fused = {
    .name = "cuda",
    .backend = TCGPU_BACKEND_CUDA,
    .device = 1,
    .flat_plan = 1,
    .auto_on_the_fly = TCGPU_CUDA_ON_THE_FLY,
    .supports = cuda_options,
    .march = tcgpu_march_cuda,
    .dense = &cuda_dense,
};

static const tcgpu_runner cuda_lockstep = {
    .name = "cuda-cusparse",
    .backend = TCGPU_BACKEND_CUDA,
    .lockstep = 1,
    .device = 1,
    .flat_plan = 1,
    .supports = cusparse_options,
    .march = tcgpu_march_cusparse,
    .dense = &cuda_dense,
};

static const tcgpu_runner *const table[] = {&cpu_fused, &cpu_lockstep, &cuda_fused,
                                            &cuda_lockstep};

const tcgpu_runner *const *tcgpu_runners(int *count) {
    *count = (int)(sizeof table / sizeof *table);
    return table;
}

const tcgpu_runner *tcgpu_runner_for(const tcgpu_march_opts *o) {
    int cuda = o->backend == TCGPU_BACKEND_CUDA, ls = o->path == TCGPU_PATH_CUSPARSE;
    return table[2 * cuda + ls];
}

tcgpu_status tcgpu_context_create(const tcgpu_march_opts *o, int dense_on_device,
                                  tcgpu_context **out) {
    *out = NULL;
    const tcgpu_runner *r = tcgpu_runner_for(o);
    tcgpu_status st = r->supports(o);
    if (st)
        return st;
    tcgpu_context *c = calloc(1, sizeof *c);
    if (!c)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a backend context");
    c->runner = r;
    c->o = *o;
    c->dense_on_device = dense_on_device && r->dense != NULL;
    *out = c;
    return TCGPU_OK;
}

void tcgpu_context_free(tcgpu_context *c) { free(c); }

const char *tcgpu_context_runner(const tcgpu_context *c) { return c->runner->name; }

int tcgpu_context_dense_on_device(const tcgpu_context *c) { return c->dense_on_device; }

const eig_device *tcgpu_context_dense(const tcgpu_context *c) {
    return c && c->dense_on_device ? c->runner->dense : NULL;
}

void tcgpu_context_stats(const tcgpu_context *c, tcgpu_transfer_stats *st) {
    *st = c->stats;
    st->bytes_up += st->state_up;
    st->bytes_down += st->state_down;
}

double *tcgpu_resident_upload(tcgpu_context *c, const double *x, int64_t dim) {
    size_t bytes = (size_t)dim * 2 * sizeof *x;
    double *dev = malloc(bytes);
    if (!dev)
        return NULL;
    memcpy(dev, x, bytes);
    if (c->runner->resident) { /* else the runner's march copies it (tcgpu_context_march) */
#ifdef _OPENMP
#pragma omp atomic
#endif
        c->stats.state_up += (double)bytes;
    }
    return dev;
}

void tcgpu_resident_download(tcgpu_context *c, const double *dev, double *x, int64_t dim) {
    size_t bytes = (size_t)dim * 2 * sizeof *x;
    memcpy(x, dev, bytes);
    if (c->runner->resident) {
#ifdef _OPENMP
#pragma omp atomic
#endif
        c->stats.state_down += (double)bytes;
    }
#ifdef _OPENMP
#pragma omp atomic
#endif
    c->stats.readouts++;
}

void tcgpu_resident_free(tcgpu_context *c, double *dev) {
    (void)c;
    free(dev);
}

/* The bytes of m's plan: pattern, values and classes. */
static double model_bytes(const tcgpu_model *m) {
    double nnz = (double)m->row_ptr[m->dim];
    return (double)(m->dim + 1) * 8 + nnz * (8 + 8 + 4) + (double)m->nclass * sizeof *m->classes;
}

void tcgpu_resident_model(tcgpu_context *c, const tcgpu_model *m) {
    double b = model_bytes(m);
#ifdef _OPENMP
#pragma omp atomic
#endif
    c->stats.bytes_up += b;
#ifdef _OPENMP
#pragma omp atomic
#endif
    c->stats.models++;
}

tcgpu_status tcgpu_context_march(tcgpu_context *c, const tcgpu_batch *b, double *const *xs) {
    const tcgpu_runner *r = c->runner;
    int64_t n = b->count, dim = b->models[0]->dim;
    size_t sb = (size_t)dim * 2 * sizeof(double);
    tcgpu_march_info info = {0};
    tcgpu_status st;
    /* per sweep and advance: window, step parameter and bound up; steps, applications and the
     * failure time down */
    double up = 4.0 * sizeof(double), down = 3.0 * sizeof(double);
    if (r->resident) {
        st = tcgpu_march_plan_run(r, b, xs, &c->o, &info);
    } else { /* the runner copies the batch's states and plans itself: gathered here */
        tcgpu_batch g = *b;
        g.x = malloc((size_t)n * sb);
        if (!g.x)
            return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a batch of %lld sweeps",
                              (long long)n);
        for (int64_t s = 0; s < n; ++s)
            memcpy(g.x + 2 * dim * s, xs[s], sb);
        st = tcgpu_march_plan_run(r, &g, NULL, &c->o, &info);
        for (int64_t s = 0; !st && s < n; ++s)
            memcpy(xs[s], g.x + 2 * dim * s, sb);
        free(g.x);
        up += model_bytes(b->models[0]);
        c->stats.state_up += (double)(n * (int64_t)sb);
        c->stats.state_down += (double)(n * (int64_t)sb);
    }
    c->stats.batches++;
    c->stats.advances += n;
    c->stats.bytes_up += up * (double)n;
    c->stats.bytes_down += down * (double)n;
    c->stats.march_seconds += info.run_seconds;
    if ((double)sb > c->stats.state_bytes)
        c->stats.state_bytes = (double)sb;
    if (info.device[0])
        snprintf(c->stats.device, sizeof c->stats.device, "%s", info.device);
    return st;
}
