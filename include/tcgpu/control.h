/* The accuracy control (tcgpu_sweep_auto) as a resumable state machine, in the reverse-
 * communication style of CVODE's one-step mode: the control never marches or reads out by
 * itself; it asks its caller to, one request at a time, and resumes where it stopped. A caller
 * may thus serve the requests of many controls at once (tcgpu_ensemble_run gathers their
 * advances into batches for one runner), and tcgpu_sweep_auto serves one control's requests
 * itself. The decisions, and so the results, do not depend on who serves the requests. */
#ifndef TCGPU_CONTROL_H
#define TCGPU_CONTROL_H

#include "tcgpu/march.h"
#include "tcgpu/propagate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tcgpu_control tcgpu_control;

typedef enum {
    TCGPU_CONTROL_ADVANCE = 0, /* march every listed sweep that is before t to t */
    TCGPU_CONTROL_READOUT = 1, /* read the listed sweeps out (two: tcgpu_sweep_readout_pair) */
    TCGPU_CONTROL_DONE = 2     /* finished: the result and report are written */
} tcgpu_control_kind;

typedef struct {
    tcgpu_control_kind kind;
    int count;             /* sweeps listed: 1 or 2 (one model, one time) */
    tcgpu_sweep *sweep[2]; /* the control's; valid until the next call */
    double t;              /* ADVANCE: the time to reach */
    double *prob[2];       /* READOUT: dim doubles each */
} tcgpu_control_request;

/* A control of one sweep of m under o; prob (m->dim doubles) and rep receive the result when
 * it is done, as tcgpu_sweep_auto's. m, prob, rep and ctx must outlive the control. ctx (may
 * be NULL): where its dense frames go (tcgpu_context_create); whoever serves the requests
 * decides where the march runs. */
tcgpu_status tcgpu_control_create(tcgpu_context *ctx, const tcgpu_model *m, const tcgpu_auto_opts *o, double *prob,
                                  tcgpu_auto_report *rep, tcgpu_control **c);

/* The next request, once the last one is served: served is the outcome of serving it
 * (TCGPU_OK for the first call). A failure, the caller's or the control's own, ends the
 * control: *req is DONE and the status (with its message) is returned. */
tcgpu_status tcgpu_control_next(tcgpu_control *c, tcgpu_status served, tcgpu_control_request *req);

/* Frees the control and any sweep it still holds. */
void tcgpu_control_free(tcgpu_control *c);

/* Serves one request on the calling thread (the single-sweep march, the readout). */
tcgpu_status tcgpu_control_serve(const tcgpu_control_request *req);

/* Many controls at once: jobs are admitted in index order, at most max_live alive, and every
 * round gathers the advances of all live controls into batches (one per coupling pattern) for
 * ctx's runner; the controls' own work and the readouts run on at most as many threads as
 * OpenMP gives (no thread per sweep). A job's model, options and prob are set by start (called
 * when it is admitted; a nonzero return skips the job with that status); finish sees its
 * outcome. Either callback may run on any of the threads, never two for one job at once. */
typedef struct {
    tcgpu_model *m;
    tcgpu_auto_opts o;
    double *prob;
    tcgpu_auto_report rep;
    tcgpu_status st;
    char msg[512]; /* the failure's message (tcgpu_last_error is per thread) */
} tcgpu_ensemble_job;

typedef struct {
    int64_t count, max_live;
    void *arg;
    tcgpu_status (*start)(void *arg, int64_t i, tcgpu_ensemble_job *job);
    void (*finish)(void *arg, int64_t i, tcgpu_ensemble_job *job);
    int (*stop)(void *arg); /* nonzero: admit no more jobs (may be NULL) */
} tcgpu_ensemble;

tcgpu_status tcgpu_ensemble_run(tcgpu_context *ctx, const tcgpu_ensemble *e);

#ifdef __cplusplus
}
#endif
#endif
