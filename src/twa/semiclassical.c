/* The TWA ensemble (tcgpu/semiclassical.h): options, Wigner sampling, readout and statistics.
 * Trajectories run in fixed blocks whose statistics are merged in block order, and trajectory j
 * draws its noise from its own counter-based stream: the result does not depend on the number
 * of threads or on their schedule. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "tcgpu/semiclassical.h"
#include "twa.h"
#include "twa_cuda.h"

/* Reads and checks the options shared by the ensemble and the single trajectory. */
static tcgpu_status setup(const tcgpu_twa_opts *o, int need_g, twa_flow *f, double *e) {
    if (!o)
        return tcgpu_fail(TCGPU_EINVAL, "twa: no options");
    if (o->N < 1)
        return tcgpu_fail(TCGPU_EINVAL, "twa: N = %lld: expected >= 1", (long long)o->N);
    if (o->K < 1 || o->K > TCGPU_MAX_CHANNELS)
        return tcgpu_fail(TCGPU_EINVAL, "twa: K = %d: expected 1..%d", o->K, TCGPU_MAX_CHANNELS);
    if (!isfinite(o->g) || o->g < 0 || (need_g && o->g == 0))
        return tcgpu_fail(TCGPU_EINVAL, "twa: g = %g: expected a finite g %s 0", o->g,
                          need_g ? ">" : ">=");
    if (!isfinite(o->beta) || o->beta <= 0)
        return tcgpu_fail(TCGPU_EINVAL, "twa: beta = %g: expected a finite beta > 0", o->beta);
    if (!(o->tol >= 0 && o->tol <= 1e-3))
        return tcgpu_fail(TCGPU_EINVAL, "twa: tol = %g: expected 0 (default) or <= 1e-3", o->tol);
    if (!o->levels && !isfinite(o->eps))
        return tcgpu_fail(TCGPU_EINVAL, "twa: eps = %g: expected finite", o->eps);
    for (int k = 0; k < o->K; ++k)
        e[k] = o->levels ? o->levels[k] : 2.0 * (2 * k + 1 - o->K) * o->eps;
    int order[TCGPU_MAX_CHANNELS];
    tcgpu_status st = tcgpu_channel_order(o->K, e, order);
    if (st)
        return st;
    double sb = sqrt(o->beta), N = (double)o->N;
    f->K = o->K;
    f->G = o->g * sqrt(N) / sb;
    for (int k = 0; k < o->K; ++k)
        f->e[k] = e[k] / sb;
    f->rtol = o->tol > 0 ? o->tol : 1e-7;
    f->atol = f->rtol / sqrt(2 * N); /* the scale of the vacuum noise */
    return TCGPU_OK;
}

static double emax_of(const twa_flow *f) {
    double m = 0;
    for (int k = 0; k < f->K; ++k)
        m = fmax(m, fabs(f->e[k]));
    return m;
}

tcgpu_status tcgpu_twa_auto_T(const tcgpu_twa_opts *o, double *T) {
    twa_flow f;
    double e[TCGPU_MAX_CHANNELS];
    tcgpu_status st = setup(o, 0, &f, e);
    if (st)
        return st;
    double gap = INFINITY;
    for (int k = 0; k < f.K; ++k)
        for (int l = 0; l < k; ++l)
            gap = fmin(gap, fabs(f.e[k] - f.e[l]));
    double redistribution = f.K > 1 ? 10 * 4 * f.G * f.G / gap : 0;
    *T = (emax_of(&f) + 12 * f.G + 12 + redistribution) / sqrt(o->beta);
    return TCGPU_OK;
}

/* Chan et al.'s pairwise merge, applied in block order. */
static void merge(twa_block *a, const twa_block *b, int nq, int iS, int iD) {
    double n = a->count + b->count, w = a->count * b->count / n;
    double dS = b->mean[iS] - a->mean[iS], dD = b->mean[iD] - a->mean[iD];
    a->cds += b->cds + dS * dD * w;
    for (int q = 0; q < nq; ++q) {
        double d = b->mean[q] - a->mean[q];
        a->m2[q] += b->m2[q] + d * d * w;
        a->mean[q] += d * b->count / n;
    }
    a->count = n;
    a->drift = fmax(a->drift, b->drift);
    a->steps += b->steps;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

tcgpu_status tcgpu_twa_moments(const tcgpu_twa_opts *o, tcgpu_twa_result *r) {
    twa_flow f;
    double e[TCGPU_MAX_CHANNELS], T;
    tcgpu_status st = setup(o, 1, &f, e);
    if (st)
        return st;
    if (!r)
        return tcgpu_fail(TCGPU_EINVAL, "twa: no result");
    if (o->trajectories < 2)
        return tcgpu_fail(TCGPU_EINVAL, "twa: %lld trajectories: expected >= 2",
                          (long long)o->trajectories);
    if (!(isfinite(o->T) && o->T >= 0))
        return tcgpu_fail(TCGPU_EINVAL, "twa: T = %g: expected finite, >= 0", o->T);
    if (o->T == 0 && (st = tcgpu_twa_auto_T(o, &T)))
        return st;
    if (o->T > 0)
        T = o->T;
    double tau1 = sqrt(o->beta) * T;
    /* The dressed start and readout need both ends outside every resonance's unstable band. */
    if (tau1 - emax_of(&f) < 2 * f.G + 2)
        return tcgpu_fail(TCGPU_EINVAL,
                          "twa: T = %g does not reach past the resonances: expected T >= %g", T,
                          (emax_of(&f) + 2 * f.G + 2) / sqrt(o->beta));
    /* The coupling phases turn by ~tau per unit tau: the step cap alone needs ~tau1^2 steps. */
    if (tau1 > 2e4)
        return tcgpu_fail(TCGPU_EINVAL,
                          "twa: the window T = %g needs ~%.1e steps per trajectory (sqrt(beta) T = "
                          "%.3g > 2e4): expected a shorter window, larger beta or smaller g^2 N",
                          T, tau1 * tau1, tau1);
    const int K = o->K, nq = K + 3, iS = K, iNu = K + 1, iD = K + 2;
    const twa_job J = {f, (double)o->N, tau1, o->seed, o->bare_readout, o->coherent_molecules};
    int64_t nblocks = (o->trajectories + TWA_BLOCK - 1) / TWA_BLOCK;
    twa_block *blk = calloc((size_t)nblocks, sizeof *blk);
    if (!blk)
        return tcgpu_fail(TCGPU_ENOMEM, "twa: out of memory for %lld blocks", (long long)nblocks);
    double t0 = now();
    /* CUDA: the device forms the blocks with the same code; they are merged below alike. */
    if (o->backend == TCGPU_BACKEND_CUDA && (st = twa_cuda_run(&J, o->trajectories, blk))) {
        free(blk);
        return st;
    }
    if (o->backend != TCGPU_BACKEND_CUDA) {
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t ib = 0; ib < nblocks; ++ib) {
            twa_block *b = &blk[ib];
            if (tcgpu_stop_requested()) {
                b->stopped = 1;
                continue;
            }
            int64_t j1 =
                (ib + 1) * TWA_BLOCK < o->trajectories ? (ib + 1) * TWA_BLOCK : o->trajectories;
            for (int64_t j = ib * TWA_BLOCK; j < j1 && !b->failed && !b->stopped; ++j) {
                double x[TCGPU_MAX_CHANNELS + 3];
                twa_count c = {0, 0, 0};
                int rc = twa_run_one(&J, j, x, &c);
                twa_block_add(b, nq, x, rc, &c);
            }
        }
    }
    double seconds = now() - t0;
    twa_block tot = {0};
    int failed = 0, stopped = 0;
    for (int64_t ib = 0; ib < nblocks; ++ib) {
        failed |= blk[ib].failed;
        stopped |= blk[ib].stopped;
        if (!failed && !stopped)
            merge(&tot, &blk[ib], nq, iS, iD);
    }
    free(blk);
    if (stopped)
        return tcgpu_fail(TCGPU_EINTR, "twa: stopped on request");
    if (failed)
        return tcgpu_fail(TCGPU_ERUNTIME, "twa: the step size underflowed (tol = %g too tight?)",
                          f.rtol);
    double M = tot.count, se = 1 / sqrt(M * (M - 1));
    *r = (tcgpu_twa_result){.trajectories = (int64_t)M, .seconds = seconds, .T = T};
    for (int k = 0; k < K; ++k) {
        r->mean[k] = tot.mean[k];
        r->mean_err[k] = sqrt(tot.m2[k]) * se;
    }
    r->mean_n = tot.mean[iS];
    r->mean_n_err = sqrt(tot.m2[iS]) * se;
    r->sd_n = sqrt(tot.m2[iS] / (M - 1));
    r->mean_nu = tot.mean[iNu];
    r->mean_nu_err = sqrt(tot.m2[iNu]) * se;
    if (K == 2 && tot.mean[iS] != 0) {
        double S = tot.mean[iS], eta = tot.mean[iD] / S;
        double var = (tot.m2[iD] - 2 * eta * tot.cds + eta * eta * tot.m2[iS]) / (M - 1);
        r->eta = eta;
        r->eta_err = sqrt(fmax(var, 0) / M) / fabs(S);
    }
    r->max_drift = tot.drift;
    r->mean_steps = (double)tot.steps / M;
    return TCGPU_OK;
}

/* Lab frame, physical amplitudes <-> the integrator's interaction picture at time t. */
static void to_frame(const tcgpu_twa_opts *o, const double *e, double t, const tcgpu_twa_state *s,
                     twa_c *y) {
    const double rn = 1 / sqrt((double)o->N);
    y[0] = twa_scale(twa_mul(twa_cx(s->psi[0], s->psi[1]), twa_expi(0.5 * o->beta * t * t)), rn);
    for (int k = 0; k < o->K; ++k) {
        twa_c pk = twa_scale(twa_expi(0.5 * e[k] * t), rn);
        y[1 + 2 * k] = twa_mul(twa_cx(s->a[k][0], s->a[k][1]), pk);
        y[2 + 2 * k] = twa_mul(twa_cx(s->b[k][0], s->b[k][1]), pk);
    }
}

static void from_frame(const tcgpu_twa_opts *o, const double *e, double t, const twa_c *y,
                       tcgpu_twa_state *s) {
    const double rn = sqrt((double)o->N);
    twa_c v = twa_scale(twa_mul(y[0], twa_expi(-0.5 * o->beta * t * t)), rn);
    s->psi[0] = v.re;
    s->psi[1] = v.im;
    for (int k = 0; k < o->K; ++k) {
        twa_c pk = twa_scale(twa_expi(-0.5 * e[k] * t), rn);
        twa_c a = twa_mul(y[1 + 2 * k], pk), b = twa_mul(y[2 + 2 * k], pk);
        s->a[k][0] = a.re;
        s->a[k][1] = a.im;
        s->b[k][0] = b.re;
        s->b[k][1] = b.im;
    }
}

tcgpu_status tcgpu_twa_trajectory(const tcgpu_twa_opts *o, double t0, double t1, tcgpu_twa_state *s,
                                  tcgpu_twa_stats *stats) {
    twa_flow f;
    double e[TCGPU_MAX_CHANNELS];
    tcgpu_status st = setup(o, 0, &f, e);
    if (st)
        return st;
    if (!s || !isfinite(t0) || !isfinite(t1))
        return tcgpu_fail(TCGPU_EINVAL, "twa: trajectory needs a state and finite times");
    const double sb = sqrt(o->beta);
    twa_c y[TWA_MAX_Y];
    to_frame(o, e, t0, s, y);
    twa_count c = {0, 0, 0};
    int rc = twa_integrate(&f, y, sb * t0, sb * t1, &c);
    if (rc)
        return rc == 2 ? tcgpu_fail(TCGPU_EINTR, "twa: stopped on request")
                       : tcgpu_fail(TCGPU_ERUNTIME, "twa: the step size underflowed");
    from_frame(o, e, t1, y, s);
    if (stats)
        *stats = (tcgpu_twa_stats){c.steps, c.rejected, c.drift};
    return TCGPU_OK;
}

tcgpu_status tcgpu_twa_readout(const tcgpu_twa_opts *o, double t, const tcgpu_twa_state *s,
                               double *n, double *nu) {
    twa_flow f;
    double e[TCGPU_MAX_CHANNELS], total, molecules;
    tcgpu_status st = setup(o, 0, &f, e);
    if (st)
        return st;
    if (!s || !n || !isfinite(t))
        return tcgpu_fail(TCGPU_EINVAL, "twa: readout needs a state, an output and a finite time");
    double tau = sqrt(o->beta) * t;
    if (tau - emax_of(&f) < 2 * f.G + 2)
        return tcgpu_fail(TCGPU_EINVAL,
                          "twa: readout at t = %g is not past the resonances: "
                          "expected t >= %g",
                          t, (emax_of(&f) + 2 * f.G + 2) / sqrt(o->beta));
    twa_c y[TWA_MAX_Y];
    to_frame(o, e, t, s, y);
    twa_readout(&f, (double)o->N, y, tau, o->bare_readout, n, &total, &molecules);
    if (nu)
        *nu = molecules;
    return TCGPU_OK;
}
