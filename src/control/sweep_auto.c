/* The blocking accuracy control: one control (src/control.c) whose requests the calling thread
 * serves itself, with the single-sweep march and readout. */
#include <stdio.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "tcgpu/control.h"

/* Whether a pair of runs may march on two threads: a core is spare (the caller runs fewer
 * sweeps than cores, so this thread is not in an active parallel region). */
static int two_threads(void) {
#ifdef _OPENMP
    return omp_get_active_level() == 0 && omp_get_max_threads() >= 2;
#else
    return 0;
#endif
}

/* The runs of an advance are independent: with a spare core they march side by side (one
 * sweep on 2 cores: wall time 2/3 of one after the other, the fine run's share; CPU time and
 * results unchanged). */
static tcgpu_status advance(const tcgpu_control_request *req) {
    tcgpu_status st[2] = {TCGPU_OK, TCGPU_OK};
    char msg[512] = ""; /* the second run's failure, whose message is another thread's */
    int n = req->count;
#ifdef _OPENMP
#pragma omp parallel for num_threads(2) schedule(static, 1) if (n == 2 && two_threads())
#endif
    for (int r = 0; r < n; ++r)
        if (req->t > tcgpu_sweep_time(req->sweep[r]) &&
            (st[r] = tcgpu_sweep_advance(req->sweep[r], req->t)) && r == 1)
            snprintf(msg, sizeof msg, "%s", tcgpu_last_error());
    if (!st[0] && st[1])
        return tcgpu_fail(st[1], "%s", msg);
    return st[0];
}

tcgpu_status tcgpu_control_serve(const tcgpu_control_request *req) {
    switch (req->kind) {
    case TCGPU_CONTROL_ADVANCE:
        return advance(req);
    case TCGPU_CONTROL_READOUT:
        return req->count == 2 ? tcgpu_sweep_readout_pair(req->sweep[0], req->sweep[1],
                                                          req->prob[0], req->prob[1])
                               : tcgpu_sweep_readout(req->sweep[0], req->prob[0]);
    case TCGPU_CONTROL_DONE:
        break;
    }
    return TCGPU_OK;
}

tcgpu_status tcgpu_sweep_auto(const tcgpu_model *m, const tcgpu_auto_opts *o, double *prob,
                              tcgpu_auto_report *rep) {
    tcgpu_control *c;
    tcgpu_status st = tcgpu_control_create(NULL, m, o, prob, rep, &c);
    if (st)
        return st;
    tcgpu_control_request req;
    for (st = tcgpu_control_next(c, TCGPU_OK, &req); req.kind != TCGPU_CONTROL_DONE;)
        st = tcgpu_control_next(c, tcgpu_control_serve(&req), &req);
    tcgpu_control_free(c);
    return st;
}
