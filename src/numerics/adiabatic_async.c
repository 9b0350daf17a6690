/* The dense start and readout on a helper thread (src/numerics/adiabatic_async.h). The caller and
 * its helper share one job; whichever of them is last to let go of it frees it: the caller when the
 * helper finished, the helper when the caller went away on a stop request. */
#include "adiabatic_async.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "model_internal.h"

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int mu_ok, cv_ok; /* initialized (to be destroyed) */
    int done, abandoned;
    int readout;           /* 0: adiabatic_start; 1: adiabatic_readout_many */
    int threads;           /* the OpenMP threads a parallel region of the caller's would get */
    const eig_device *dev; /* static: outlives a helper left behind */
    tcgpu_model m;
    double t;
    int superadiabatic, by_rank, count;
    tcgpu_cplx *psi;       /* count x dim: the start's result, or the states read out */
    double *prob, *unsure; /* count x dim, count */
    const tcgpu_cplx **psi_at;
    double **prob_at, **unsure_at;
    tcgpu_status st;
    char err[512]; /* the helper's tcgpu_last_error (thread-local there) */
} job;

static atomic_int running; /* left behind and not finished */
static atomic_flag exit_wait_set = ATOMIC_FLAG_INIT;

int adiabatic_async_running(void) { return atomic_load(&running); }

/* A program that calls exit() while a helper computes: let it finish first, since the BLAS
 * library's destructors free what it uses. */
static void wait_for_helpers(void) {
    struct timespec nap = {0, 10 * 1000 * 1000};
    while (atomic_load(&running) > 0)
        nanosleep(&nap, NULL);
}

static void job_free(job *j) {
    if (j->mu_ok)
        pthread_mutex_destroy(&j->mu);
    if (j->cv_ok)
        pthread_cond_destroy(&j->cv);
    tcgpu_model_free(&j->m);
    free(j->psi);
    free(j->prob);
    free(j->unsure);
    free(j->psi_at);
    free(j->prob_at);
    free(j->unsure_at);
    free(j);
}

static job *job_new(const tcgpu_model *m, double t, int superadiabatic, int count,
                    tcgpu_status *st) {
    job *j = calloc(1, sizeof *j);
    if (!j) {
        *st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout's helper");
        return NULL;
    }
    j->mu_ok = pthread_mutex_init(&j->mu, NULL) == 0;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) == 0) {
        /* the waits are timed: a change of the wall clock must not stretch them */
        j->cv_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                   pthread_cond_init(&j->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    size_t n = (size_t)m->dim, c = (size_t)count;
    j->t = t;
    j->superadiabatic = superadiabatic;
    j->count = count;
    j->threads = 1;
#ifdef _OPENMP
    if (omp_get_active_level() < omp_get_max_active_levels())
        j->threads = omp_get_max_threads();
#endif
    j->psi = malloc(c * n * sizeof *j->psi);
    j->prob = malloc(c * n * sizeof *j->prob);
    j->unsure = calloc(c, sizeof *j->unsure);
    j->psi_at = calloc(c, sizeof *j->psi_at);
    j->prob_at = calloc(c, sizeof *j->prob_at);
    j->unsure_at = calloc(c, sizeof *j->unsure_at);
    *st = !j->mu_ok || !j->cv_ok ? tcgpu_fail(TCGPU_ERUNTIME, "cannot set up the readout's helper")
          : !j->psi || !j->prob || !j->unsure || !j->psi_at || !j->prob_at || !j->unsure_at
              ? tcgpu_fail(TCGPU_ERUNTIME, "out of memory for the readout's helper")
              : model_copy(m, &j->m);
    if (*st) {
        job_free(j);
        return NULL;
    }
    return j;
}

static void *helper(void *arg) {
    job *j = arg;
#ifdef _OPENMP
    omp_set_num_threads(j->threads);
#endif
    tcgpu_status st;
    if (j->readout)
        st = adiabatic_readout_many(j->dev, &j->m, j->t, j->superadiabatic, j->by_rank, j->count,
                                    j->psi_at, j->prob_at, j->unsure_at);
    else
        st = adiabatic_start(j->dev, &j->m, j->t, j->superadiabatic, j->psi);
    snprintf(j->err, sizeof j->err, "%s", st ? tcgpu_last_error() : "");
    pthread_mutex_lock(&j->mu);
    j->st = st;
    j->done = 1;
    int left = j->abandoned;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (left) {
        job_free(j);
        atomic_fetch_sub(&running, 1);
    }
    return NULL;
}

/* Starts the helper and waits for it or for a stop request. Returns TCGPU_OK when the helper
 * finished (its status in j->st; the caller then owns j), TCGPU_EINTR when it was left behind
 * (it owns j now), or TCGPU_ERUNTIME when no thread could be started (j untouched). */
static tcgpu_status run(job *j) {
    pthread_attr_t at;
    pthread_t tid;
    if (pthread_attr_init(&at) != 0)
        return TCGPU_ERUNTIME;
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int started = pthread_create(&tid, &at, helper, j) == 0;
    pthread_attr_destroy(&at);
    if (!started)
        return TCGPU_ERUNTIME;
    pthread_mutex_lock(&j->mu);
    while (!j->done && !tcgpu_stop_requested()) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += ADIABATIC_ASYNC_POLL_MS * 1000L * 1000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&j->cv, &j->mu, &until);
    }
    int done = j->done;
    if (!done) {
        j->abandoned = 1;
        atomic_fetch_add(&running, 1); /* before the helper can see `abandoned` */
    }
    pthread_mutex_unlock(&j->mu);
    if (!done && !atomic_flag_test_and_set(&exit_wait_set))
        atexit(wait_for_helpers);
    return done ? TCGPU_OK : TCGPU_EINTR;
}

/* The helper's outcome as the caller's own: its message moves to the caller's thread. */
static tcgpu_status finish(job *j) { return j->st ? tcgpu_fail(j->st, "%s", j->err) : TCGPU_OK; }

tcgpu_status adiabatic_start_async(const eig_device *dev, const tcgpu_model *m, double t,
                                   int superadiabatic, tcgpu_cplx *psi) {
    if (m->dim < ADIABATIC_ASYNC_MIN)
        return adiabatic_start(dev, m, t, superadiabatic, psi);
    tcgpu_status st;
    job *j = job_new(m, t, superadiabatic, 1, &st);
    if (j)
        j->dev = dev;
    if (!j)
        return st;
    if ((st = run(j)) == TCGPU_ERUNTIME) { /* no thread: the caller computes, unstoppably */
        job_free(j);
        return adiabatic_start(dev, m, t, superadiabatic, psi);
    }
    if (st)
        return tcgpu_fail(TCGPU_EINTR, "interrupted during the dense start (%lld states)",
                          (long long)m->dim);
    if (!(st = finish(j)))
        memcpy(psi, j->psi, (size_t)m->dim * sizeof *psi);
    job_free(j);
    return st;
}

tcgpu_status adiabatic_readout_many_async(const eig_device *dev, const tcgpu_model *m, double t,
                                          int superadiabatic, int by_rank, int count,
                                          const tcgpu_cplx *const *psi, double *const *prob,
                                          double *const *unsure) {
    if (m->dim < ADIABATIC_ASYNC_MIN || count < 1)
        return adiabatic_readout_many(dev, m, t, superadiabatic, by_rank, count, psi, prob, unsure);
    tcgpu_status st;
    job *j = job_new(m, t, superadiabatic, count, &st);
    if (j)
        j->dev = dev;
    if (!j)
        return st;
    size_t n = (size_t)m->dim;
    j->readout = 1;
    j->by_rank = by_rank;
    for (int s = 0; s < count; ++s) {
        memcpy(j->psi + (size_t)s * n, psi[s], n * sizeof *j->psi);
        j->psi_at[s] = j->psi + (size_t)s * n;
        j->prob_at[s] = j->prob + (size_t)s * n;
        j->unsure_at[s] = unsure && unsure[s] ? &j->unsure[s] : NULL;
    }
    if ((st = run(j)) == TCGPU_ERUNTIME) {
        job_free(j);
        return adiabatic_readout_many(dev, m, t, superadiabatic, by_rank, count, psi, prob, unsure);
    }
    if (st)
        return tcgpu_fail(TCGPU_EINTR, "interrupted during the dense readout (%lld states)",
                          (long long)m->dim);
    if (!(st = finish(j)))
        for (int s = 0; s < count; ++s) {
            memcpy(prob[s], j->prob_at[s], n * sizeof *prob[s]);
            if (unsure && unsure[s])
                *unsure[s] = j->unsure[s];
        }
    job_free(j);
    return st;
}
