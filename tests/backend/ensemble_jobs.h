/* Accuracy controls served together by the ensemble driver through one context: what
 * `tcgpu run --backend cuda` and cpu-batched do, for the tests of that path. */
#ifndef TCGPU_TEST_ENSEMBLE_JOBS_H
#define TCGPU_TEST_ENSEMBLE_JOBS_H

#include "tcgpu/control.h"
#include "tcgpu/propagate.h"

typedef struct {
    tcgpu_model m;
    tcgpu_auto_opts o;
    double *p; /* m.dim doubles, the caller's */
    tcgpu_auto_report r;
    tcgpu_status st;
} ensemble_job;

static tcgpu_status ensemble_start(void *arg, int64_t i, tcgpu_ensemble_job *job) {
    ensemble_job *j = (ensemble_job *)arg + i;
    job->m = &j->m;
    job->o = j->o;
    job->prob = j->p;
    return TCGPU_OK;
}

static void ensemble_finish(void *arg, int64_t i, tcgpu_ensemble_job *job) {
    ensemble_job *j = (ensemble_job *)arg + i;
    j->r = job->rep;
    j->st = job->st;
}

/* Runs the n jobs' controls through one context made from mo (at most max_live at once);
 * stats: what it copied. Returns the context's or the driver's status. */
static inline tcgpu_status ensemble_run(ensemble_job *j, int n, int max_live,
                                        const tcgpu_march_opts *mo, tcgpu_transfer_stats *stats) {
    tcgpu_context *ctx;
    tcgpu_status st = tcgpu_context_create(mo, 0, &ctx);
    if (st)
        return st;
    tcgpu_ensemble e = {.count = n,
                        .max_live = max_live,
                        .arg = j,
                        .start = ensemble_start,
                        .finish = ensemble_finish};
    st = tcgpu_ensemble_run(ctx, &e);
    if (stats)
        tcgpu_context_stats(ctx, stats);
    tcgpu_context_free(ctx);
    return st;
}

#endif
