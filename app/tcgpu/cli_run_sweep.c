/* `tcgpu run`: one sweep, its model built, its control run and its exact solution. */
#include "cli_run.h"

tcgpu_status run_build(const run_job *j, double g, double beta, double eps, tcgpu_model *m,
                          double *e) {
    for (int k = 0; k < j->K; ++k)
        e[k] = j->has_levels ? j->levels[k] : 2.0 * (2 * (k + 1) - j->K - 1) * eps;
    if (!strcmp(j->model, "tc"))
        return tcgpu_model_tc(m, j->N, j->K, g, beta, e);
    if (!strcmp(j->model, "lz"))
        return tcgpu_model_lz(m, g, beta);
    if (!strcmp(j->model, "mlz"))
        return tcgpu_model_mlz_file(m, j->file);
    if (!strcmp(j->model, "do")) {
        if (!j->has_levels) /* parallel levels at -eps (K-1), ..., spaced 2 eps */
            for (int k = 0; k < j->K; ++k)
                e[k] = (2.0 * k - (j->K - 1)) * eps;
        return tcgpu_model_do(m, j->K, g, beta, e);
    }
    return tcgpu_model_heff(m, j->N, g, beta, eps);
}

/* The sweep's model and result buffers, and the control's options. */
int run_sweep_prepare(const run_job *j, sweep_out *o, tcgpu_auto_opts *ao) {
    o->rc = cli_status(CMD, run_build(j, o->g, o->beta, o->eps, &o->m, o->e));
    if (o->rc)
        return o->rc;
    o->built = 1;
    o->p = calloc((size_t)o->m.dim, sizeof *o->p);
    o->ex = calloc((size_t)o->m.dim, sizeof *o->ex);
    *ao = (tcgpu_auto_opts){j->method, j->tol, j->T, j->T, j->dt, j->max_halvings, j->precision};
    if (!strcmp(j->model, "heff") && j->T > 0)
        ao->T0 = j->T * 1e-4;
    if (!o->p || !o->ex) {
        cli_error(CMD, "out of memory");
        o->rc = CLI_RUNTIME;
    }
    return o->rc;
}

/* After the control: the exact solution beside it. */
void run_sweep_conclude(sweep_out *o) {
    if (!o->rc && o->m.kind != TCGPU_MODEL_MLZ) /* a user's model has no exact solution */
        o->rc = cli_status(
            CMD, tcgpu_exact_for_model(&o->m, o->m.kind == TCGPU_MODEL_LZ ? NULL : o->e, o->ex));
}

void run_sweep_compute(const run_job *j, sweep_out *o) {
    tcgpu_auto_opts ao;
    if (run_sweep_prepare(j, o, &ao))
        return;
    o->rc = cli_status(CMD, tcgpu_sweep_auto(&o->m, &ao, o->p, &o->r));
    run_sweep_conclude(o);
}

/* A sweep the interrupted run finished: its row of each table, after checking that it is the
 * sweep this run asks for (same dimension and parameters, to the last bit). */
void run_sweep_restore(const run_job *j, const run_resume *rs, size_t row, sweep_out *o) {
    o->rc = cli_status(CMD, run_build(j, o->g, o->beta, o->eps, &o->m, o->e));
    if (o->rc)
        return;
    o->built = 1;
    const tcgpu_model *m = &o->m;
    if (m->dim != rs->dim || rs->g[row] != o->g || rs->beta[row] != o->beta ||
        (rs->eps[row] != o->eps && !(isnan(rs->eps[row]) && isnan(o->eps)))) {
        cli_error(CMD,
                  "--resume: sweep %zu in the folder has %lld states, g = %.17g, beta = %.17g, "
                  "eps = %.17g, but its run.json asks for %lld, %.17g, %.17g, %.17g",
                  o->idx, (long long)rs->dim, rs->g[row], rs->beta[row], rs->eps[row],
                  (long long)m->dim, o->g, o->beta, o->eps);
        o->rc = CLI_BADINPUT;
        return;
    }
    o->p = malloc((size_t)m->dim * sizeof *o->p);
    o->ex = calloc((size_t)m->dim, sizeof *o->ex);
    if (!o->p || !o->ex) {
        cli_error(CMD, "out of memory");
        o->rc = CLI_RUNTIME;
        return;
    }
    memcpy(o->p, rs->prob + row * (size_t)m->dim, (size_t)m->dim * sizeof *o->p);
    if (rs->exact)
        memcpy(o->ex, rs->exact + row * (size_t)m->dim, (size_t)m->dim * sizeof *o->ex);
    o->r.err_estimate = rs->err_estimate[row];
    o->r.seconds = rs->row[row].seconds;
    o->r.applications = rs->row[row].applications;
    o->line = rs->row[row].line;
}

/* Sweep i: computed (or restored), then every finished sweep up to the first unfinished one is
 * written, so the tables keep sweep order whatever order the threads finish in. */
sweep_out run_sweep_at(const run_job *j, size_t i) {
    size_t ib = j->zip ? i : i % j->nb, ig = j->zip ? (j->ng > 1 ? i : 0) : i / j->nb % j->ng;
    size_t ie = j->zip ? (j->ne > 1 ? i : 0) : i / (j->nb * j->ng);
    return (sweep_out){.idx = i, .g = j->g[ig], .beta = j->beta[ib], .eps = j->eps[ie]};
}

void run_sweep_free(sweep_out *o) {
    free(o->p);
    free(o->ex);
    if (o->built)
        tcgpu_model_free(&o->m);
}
