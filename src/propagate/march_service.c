/* Batched marches for many accuracy controls at once (see march_service.h). */
#include "march_service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const tcgpu_model *m;
    double t_a, t_b, kappa;
    tcgpu_cplx *x;
    int64_t steps, apps;
} request;

struct march_service {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tcgpu_march_opts o;
    int active;  /* participants that have not left */
    int pending; /* requests waiting for the next batch (at most one per participant) */
    request **req;
    uint64_t generation; /* batches run so far: a waiter's batch has run when it moves on */
    tcgpu_status st;     /* the last batch's outcome and message */
    char msg[512];
    march_service_stats stats;
};

static _Thread_local march_service *bound;

void march_service_bind(march_service *s) { bound = s; }
march_service *march_service_bound(void) { return bound; }

tcgpu_status march_service_create(const tcgpu_march_opts *o, int participants,
                                  march_service **out) {
    *out = NULL;
    if (participants < 1)
        return tcgpu_fail(TCGPU_EINVAL, "march service for %d participants: expected >= 1",
                          participants);
    march_service *s = calloc(1, sizeof *s);
    request **req = malloc((size_t)participants * sizeof *req);
    if (!s || !req || pthread_mutex_init(&s->mu, NULL)) {
        free(s);
        free(req);
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a march service");
    }
    if (pthread_cond_init(&s->cv, NULL)) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        free(req);
        return tcgpu_fail(TCGPU_ERUNTIME, "cannot create a condition variable");
    }
    s->o = *o;
    s->active = participants;
    s->req = req;
    *out = s;
    return TCGPU_OK;
}

void march_service_destroy(march_service *s, march_service_stats *stats) {
    if (!s)
        return;
    if (stats)
        *stats = s->stats;
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->req);
    free(s);
}

/* Runs every pending request as one batch; called with the mutex held by the participant that
 * completed the set (the others wait on the condition, so nothing else touches the requests). */
static void run_batch(march_service *s) {
    int n = s->pending;
    int64_t dim = s->req[0]->m->dim;
    const tcgpu_model **models = malloc((size_t)n * sizeof *models);
    double *win = malloc((size_t)n * 3 * sizeof *win);
    int64_t *cnt = malloc((size_t)n * 2 * sizeof *cnt);
    double *x = malloc((size_t)n * (size_t)dim * 2 * sizeof *x);
    tcgpu_status st = TCGPU_OK;
    if (!models || !win || !cnt || !x) {
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for a batch of %d sweeps", n);
    } else {
        for (int i = 0; i < n; ++i) {
            const request *r = s->req[i];
            if (r->m->dim != dim) {
                st = tcgpu_fail(TCGPU_EINVAL, "a batch mixes dimensions %lld and %lld",
                                (long long)dim, (long long)r->m->dim);
                break;
            }
            models[i] = r->m;
            win[i] = r->t_a;
            win[n + i] = r->t_b;
            win[2 * n + i] = r->kappa;
            memcpy(x + (size_t)i * (size_t)dim * 2, r->x, (size_t)dim * sizeof *r->x);
        }
    }
    tcgpu_march_info info = {0};
    if (!st) {
        tcgpu_batch b = {models, n, win, win + n, win + 2 * n, x, cnt, cnt + n};
        st = tcgpu_march_batch(&b, &s->o, &info);
    }
    for (int i = 0; !st && i < n; ++i) {
        request *r = s->req[i];
        memcpy(r->x, x + (size_t)i * (size_t)dim * 2, (size_t)dim * sizeof *r->x);
        r->steps = cnt[i];
        r->apps = cnt[n + i];
    }
    s->st = st;
    snprintf(s->msg, sizeof s->msg, "%s", st ? tcgpu_last_error() : "");
    s->stats.batches++;
    s->stats.advances += n;
    s->stats.run_seconds += info.run_seconds;
    if (info.device[0])
        snprintf(s->stats.device, sizeof s->stats.device, "%s", info.device);
    s->pending = 0;
    s->generation++;
    pthread_cond_broadcast(&s->cv);
    free(models);
    free(win);
    free(cnt);
    free(x);
}

void march_service_leave(march_service *s) {
    pthread_mutex_lock(&s->mu);
    s->active--;
    if (s->pending > 0 && s->pending == s->active)
        run_batch(s);
    pthread_mutex_unlock(&s->mu);
}

tcgpu_status march_service_advance(march_service *s, const tcgpu_model *m, tcgpu_method method,
                                   double t_a, double t_b, double kappa, tcgpu_cplx *x,
                                   int64_t *steps, int64_t *apps) {
    if (method != s->o.method)
        return tcgpu_fail(TCGPU_EINVAL, "a batched sweep asks for another method than its batch");
    request r = {m, t_a, t_b, kappa, x, 0, 0};
    pthread_mutex_lock(&s->mu);
    uint64_t gen = s->generation;
    s->req[s->pending++] = &r;
    if (s->pending == s->active)
        run_batch(s);
    while (s->generation == gen)
        pthread_cond_wait(&s->cv, &s->mu);
    tcgpu_status st = s->st;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", s->msg);
    pthread_mutex_unlock(&s->mu);
    if (st)
        return tcgpu_fail(st, "%s", msg);
    *steps += r.steps;
    *apps += r.apps;
    return tcgpu_stop_requested() ? tcgpu_fail(TCGPU_EINTR, "interrupted at t = %g", t_b)
                                  : TCGPU_OK;
}
