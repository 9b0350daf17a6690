/* The ensemble driver (tcgpu/control.h): many accuracy controls served together. Each round
 * runs every live control up to its next advance on a team of OpenMP threads (serving its
 * readouts on the way), then sends the advances of all of them through the context's runner,
 * one batch per coupling pattern. The states stay in the context's memory between advances
 * and come back only for readouts (src/propagate.c). No thread per sweep: the team is the
 * OpenMP default (one per core). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "propagate_internal.h"
#include "tcgpu/control.h"

typedef struct {
    int64_t idx; /* the job, or -1 for a free slot */
    int fresh;   /* admitted, not started */
    tcgpu_ensemble_job job;
    tcgpu_control *ctl;
    tcgpu_control_request req; /* an advance waiting for the batch */
    int parked;
    tcgpu_status served; /* the outcome of serving the last request */
    char msg[512];       /* its message, where it failed */
} slot;

/* Whether two models share a coupling pattern (one batch takes one). */
static int same_pattern(const tcgpu_model *a, const tcgpu_model *b) {
    if (a == b)
        return 1;
    int64_t nnz = a->row_ptr[a->dim];
    return a->dim == b->dim && a->nclass == b->nclass && a->inverse_t == b->inverse_t &&
           b->row_ptr[b->dim] == nnz &&
           !memcmp(a->row_ptr, b->row_ptr, (size_t)(a->dim + 1) * sizeof *a->row_ptr) &&
           !memcmp(a->col, b->col, (size_t)nnz * sizeof *a->col) &&
           !memcmp(a->cls, b->cls, (size_t)nnz * sizeof *a->cls);
}

static void fail_slot(slot *s, tcgpu_status st, const char *msg) {
    s->served = st;
    snprintf(s->msg, sizeof s->msg, "%s", msg);
}

/* Runs slot s's control until it asks for an advance or is done. */
static void step_slot(const tcgpu_ensemble *e, tcgpu_context *ctx, slot *s) {
    if (s->fresh) {
        s->fresh = 0;
        memset(&s->job, 0, sizeof s->job);
        s->served = TCGPU_OK;
        tcgpu_status st = e->start(e->arg, s->idx, &s->job);
        if (!st && (s->job.o.method != ctx->o.method || s->job.o.precision != ctx->o.precision))
            st = tcgpu_fail(TCGPU_EINVAL,
                            "sweep %lld asks for another method or precision than "
                            "the context that batches it",
                            (long long)s->idx);
        if (!st)
            st = tcgpu_control_create(ctx, s->job.m, &s->job.o, s->job.prob, &s->job.rep, &s->ctl);
        if (st) {
            s->job.st = st;
            snprintf(s->job.msg, sizeof s->job.msg, "%s", tcgpu_last_error());
            e->finish(e->arg, s->idx, &s->job);
            s->idx = -1;
            return;
        }
        tcgpu_resident_model(ctx, s->job.m);
    }
    for (;;) {
        tcgpu_status served = s->served;
        s->served = TCGPU_OK;
        tcgpu_status st = tcgpu_control_next(s->ctl, served, &s->req);
        if (s->req.kind == TCGPU_CONTROL_DONE) {
            s->job.st = st;
            snprintf(s->job.msg, sizeof s->job.msg, "%s",
                     !st      ? ""
                     : served ? s->msg
                              : tcgpu_last_error());
            tcgpu_control_free(s->ctl);
            s->ctl = NULL;
            e->finish(e->arg, s->idx, &s->job);
            s->idx = -1;
            return;
        }
        if (s->req.kind == TCGPU_CONTROL_ADVANCE) {
            s->parked = 1;
            return;
        }
        if ((s->served = tcgpu_control_serve(&s->req)))
            snprintf(s->msg, sizeof s->msg, "%s", tcgpu_last_error());
    }
}

/* One batch: the parked advances of slots sl[0..n-1] (one pattern), every run before its
 * target time. */
static void march_group(tcgpu_context *ctx, slot **sl, int64_t n) {
    int64_t runs = 0;
    for (int64_t k = 0; k < n; ++k)
        for (int r = 0; r < sl[k]->req.count; ++r)
            runs += sl[k]->req.t > tcgpu_sweep_time(sl[k]->req.sweep[r]);
    const tcgpu_model **models = malloc((size_t)runs * sizeof *models);
    double *win = malloc((size_t)runs * 3 * sizeof *win);
    int *lev = malloc((size_t)runs * sizeof *lev + 1);
    double **xs = malloc((size_t)runs * sizeof *xs);
    int64_t *cnt = malloc((size_t)runs * 2 * sizeof *cnt);
    tcgpu_sweep **sw = malloc((size_t)runs * sizeof *sw);
    tcgpu_status st = TCGPU_OK;
    if (!models || !win || !lev || !xs || !cnt || !sw)
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a batch of %lld runs", (long long)runs);
    int64_t i = 0;
    for (int64_t k = 0; !st && k < n; ++k)
        for (int r = 0; r < sl[k]->req.count; ++r) {
            tcgpu_sweep *w = sl[k]->req.sweep[r];
            if (!(sl[k]->req.t > tcgpu_sweep_time(w)))
                continue;
            sw[i] = w;
            models[i] = tcgpu_sweep_model(w);
            win[i] = tcgpu_sweep_time(w);
            win[runs + i] = sl[k]->req.t;
            win[2 * runs + i] = tcgpu_sweep_kappa(w);
            lev[i] = tcgpu_sweep_vlevel(w);
            if (!(xs[i] = tcgpu_sweep_resident(w, ctx)))
                st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a resident state");
            ++i;
        }
    if (!st && runs > 0) {
        tcgpu_batch b = {models, runs, win, win + runs, win + 2 * runs, NULL, cnt, cnt + runs, lev};
        st = tcgpu_context_march(ctx, &b, xs);
    }
    for (int64_t j = 0; !st && j < runs; ++j)
        tcgpu_sweep_advanced(sw[j], win[runs + j], cnt[j], cnt[runs + j]);
    if (!st && tcgpu_stop_requested())
        st = tcgpu_fail(TCGPU_EINTR, "interrupted at t = %g", runs ? win[runs] : 0.0);
    const char *msg = st ? tcgpu_last_error() : "";
    for (int64_t k = 0; k < n; ++k) {
        sl[k]->parked = 0;
        if (st)
            fail_slot(sl[k], st, msg);
    }
    free(models);
    free(win);
    free(lev);
    free(xs);
    free(cnt);
    free(sw);
}

/* Every parked advance, one batch per coupling pattern. */
static tcgpu_status march_parked(tcgpu_context *ctx, slot *slots, int64_t live) {
    slot **group = malloc((size_t)(live > 0 ? live : 1) * sizeof *group);
    if (!group)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld controls", (long long)live);
    for (;;) {
        int64_t n = 0;
        const tcgpu_model *lead = NULL;
        for (int64_t k = 0; k < live; ++k) {
            slot *s = &slots[k];
            if (s->idx < 0 || !s->parked)
                continue;
            const tcgpu_model *m = tcgpu_sweep_model(s->req.sweep[0]);
            if (!lead)
                lead = m;
            if (same_pattern(lead, m))
                group[n++] = s;
        }
        if (n == 0)
            break;
        march_group(ctx, group, n);
    }
    free(group);
    return TCGPU_OK;
}

tcgpu_status tcgpu_ensemble_run(tcgpu_context *ctx, const tcgpu_ensemble *e) {
    int64_t live = e->max_live < e->count ? e->max_live : e->count, next = 0;
    if (live < 1)
        return TCGPU_OK;
    slot *slots = calloc((size_t)live, sizeof *slots);
    if (!slots)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld controls", (long long)live);
    tcgpu_status st = TCGPU_OK;
    for (int64_t k = 0; k < live; ++k)
        slots[k].idx = -1;
    for (;;) {
        int busy = 0, stop = e->stop && e->stop(e->arg);
        for (int64_t k = 0; k < live; ++k) {
            if (slots[k].idx < 0 && next < e->count && !stop) {
                slots[k].idx = next++;
                slots[k].fresh = 1;
            }
            busy = busy || slots[k].idx >= 0;
        }
        if (!busy)
            break;
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t k = 0; k < live; ++k)
            if (slots[k].idx >= 0)
                step_slot(e, ctx, &slots[k]);
        if ((st = march_parked(ctx, slots, live)))
            break;
    }
    for (int64_t k = 0; k < live; ++k)
        tcgpu_control_free(slots[k].ctl);
    free(slots);
    return st;
}
