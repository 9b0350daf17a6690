/* Accuracy controls on threads of their own that share one march service: what
 * `tcgpu run --backend cuda` does, for the tests of that path (CPU and CUDA marches). */
#ifndef TCGPU_TEST_ENSEMBLE_JOBS_H
#define TCGPU_TEST_ENSEMBLE_JOBS_H

#include <pthread.h>

#include "march_service.h"
#include "tcgpu/propagate.h"

typedef struct {
    tcgpu_model m;
    march_service *svc;
    tcgpu_auto_opts o;
    double *p; /* m.dim doubles, the caller's */
    tcgpu_auto_report r;
    tcgpu_status st;
} ensemble_job;

static void *ensemble_worker(void *arg) {
    ensemble_job *j = arg;
    march_service_bind(j->svc);
    j->st = tcgpu_sweep_auto(&j->m, &j->o, j->p, &j->r);
    march_service_bind(NULL);
    march_service_leave(j->svc);
    return NULL;
}

/* Runs the n jobs' controls side by side through one service; 0 on success. */
static inline int ensemble_run(ensemble_job *j, int n, const tcgpu_march_opts *mo,
                               march_service_stats *stats) {
    pthread_t th[64];
    march_service *svc;
    if (n > 64 || march_service_create(mo, n, &svc))
        return -1;
    for (int s = 0; s < n; ++s) {
        j[s].svc = svc;
        if (pthread_create(&th[s], NULL, ensemble_worker, &j[s]))
            return -1; /* the others would wait for it for ever: the test aborts */
    }
    for (int s = 0; s < n; ++s)
        pthread_join(th[s], NULL);
    march_service_destroy(svc, stats);
    return 0;
}

#endif
