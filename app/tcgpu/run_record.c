/* run.json for `tcgpu run`: what ran, on what, how long, and whether it finished. */
#include "run_record.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef TCGPU_VERSION
#define TCGPU_VERSION "unknown"
#endif
#ifndef TCGPU_GIT_COMMIT
#define TCGPU_GIT_COMMIT "unknown"
#endif

static cJSON *numbers(const double *v, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; ++i)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

/* The batched march's copies between the host and the runner's memory. States go up once per
 * run and come down only for readouts, so the march itself moves per advance and sweep only
 * its scalars and its share of those uploads ("march_bytes_per_advance"); the readouts move a
 * state each ("bytes_per_readout"). */
static cJSON *transfers_json(const char *runner, const tcgpu_transfer_stats *s) {
    cJSON *o = cJSON_CreateObject();
    double adv = s->advances > 0 ? (double)s->advances : 1, rd = s->readouts > 0 ? s->readouts : 1;
    cJSON_AddStringToObject(o, "runner", runner ? runner : "");
    cJSON_AddNumberToObject(o, "batches", (double)s->batches);
    cJSON_AddNumberToObject(o, "advances", (double)s->advances);
    cJSON_AddNumberToObject(o, "readouts", (double)s->readouts);
    cJSON_AddNumberToObject(o, "models", (double)s->models);
    cJSON_AddNumberToObject(o, "state_bytes", s->state_bytes);
    cJSON_AddNumberToObject(o, "bytes_up", s->bytes_up);
    cJSON_AddNumberToObject(o, "bytes_down", s->bytes_down);
    cJSON_AddNumberToObject(o, "state_bytes_up", s->state_up);
    cJSON_AddNumberToObject(o, "state_bytes_down", s->state_down);
    cJSON_AddNumberToObject(o, "march_bytes_per_advance",
                            (s->bytes_up + s->bytes_down - s->state_down) / adv);
    cJSON_AddNumberToObject(o, "bytes_per_readout", s->state_down / rd);
    cJSON_AddNumberToObject(o, "bytes_per_advance", (s->bytes_up + s->bytes_down) / adv);
    cJSON_AddNumberToObject(o, "march_seconds", s->march_seconds);
    return o;
}

/* Per rank: where it ran, its threads, the sweeps it computed and how busy it kept them (busy
 * fraction: sweep seconds over threads x the distribution's wall time). */
cJSON *run_record_mpi_json(const run_mpi_report *m) {
    cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
    cJSON_AddNumberToObject(o, "ranks", m->ranks);
    cJSON_AddNumberToObject(o, "wall_seconds", m->wall_seconds);
    for (int r = 0; r < m->ranks; ++r) {
        const run_mpi_rank_report *k = &m->rank[r];
        cJSON *e = cJSON_CreateObject(), *s = cJSON_CreateArray();
        cJSON_AddNumberToObject(e, "rank", r);
        cJSON_AddStringToObject(e, "host", k->host);
        cJSON_AddStringToObject(e, "device", k->device);
        cJSON_AddNumberToObject(e, "threads", k->threads);
        cJSON_AddNumberToObject(e, "sweeps_done", (double)k->nsweeps);
        for (size_t i = 0; i < k->nsweeps; ++i)
            cJSON_AddItemToArray(s, cJSON_CreateNumber((double)k->sweeps[i]));
        cJSON_AddItemToObject(e, "sweeps", s);
        cJSON_AddNumberToObject(e, "busy_seconds", k->busy_seconds);
        double cap = (k->threads > 0 ? k->threads : 1) * m->wall_seconds;
        cJSON_AddNumberToObject(e, "busy_fraction", cap > 0 ? k->busy_seconds / cap : 0);
        cJSON_AddItemToArray(a, e);
    }
    cJSON_AddItemToObject(o, "per_rank", a);
    return o;
}

static cJSON *build(const run_record *r) {
    cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateObject(), *t = cJSON_CreateObject();
    char cmd[8192] = "tcgpu run", cpu[256];
    for (int i = 0; i < r->argc; ++i) {
        size_t n = strlen(cmd);
        snprintf(cmd + n, sizeof cmd - n, " %s", r->argv[i]);
    }
    cli_cpu_name(cpu, sizeof cpu);
    cJSON_AddStringToObject(o, "tool", "tcgpu");
    cJSON_AddStringToObject(o, "version", TCGPU_VERSION);
    cJSON_AddStringToObject(o, "git_commit", TCGPU_GIT_COMMIT);
    cJSON_AddStringToObject(o, "command", cmd);
    cJSON *args = cJSON_CreateArray(); /* verbatim, for --resume (the command line is lossy) */
    for (int i = 0; args && i < r->argc; ++i)
        cJSON_AddItemToArray(args, cJSON_CreateString(r->argv[i]));
    cJSON_AddItemToObject(o, "arguments", args);
    cJSON_AddStringToObject(o, "started_utc", r->started);
    if (r->updated)
        cJSON_AddStringToObject(o, "updated_utc", r->updated);
    cJSON_AddBoolToObject(o, "completed", r->completed);
    cJSON_AddBoolToObject(o, "interrupted", r->interrupted);
    if (r->error)
        cJSON_AddStringToObject(o, "error", r->error);
    cJSON_AddItemToObject(o, "parameters", p);
    cJSON_AddStringToObject(p, "model", r->model);
    if (r->file)
        cJSON_AddStringToObject(p, "file", r->file);
    cJSON_AddNumberToObject(p, "N", (double)r->N);
    cJSON_AddNumberToObject(p, "channels", r->K);
    cJSON_AddItemToObject(p, "g", numbers(r->g, r->ng));
    cJSON_AddItemToObject(p, "beta", numbers(r->beta, r->nb));
    cJSON_AddItemToObject(p, "eps", numbers(r->eps, r->ne));
    if (r->has_levels)
        cJSON_AddItemToObject(p, "levels", numbers(r->levels, (size_t)r->K));
    cJSON_AddStringToObject(p, "grid", r->grid);
    cJSON_AddStringToObject(o, "method", r->method);
    cJSON_AddStringToObject(o, "precision", r->precision ? r->precision : "double");
    cJSON_AddNumberToObject(o, "tolerance", r->tol);
    if (r->T > 0)
        cJSON_AddNumberToObject(o, "window_T", r->T);
    if (r->dt > 0)
        cJSON_AddNumberToObject(o, "step_kappa", r->dt);
    cJSON_AddStringToObject(o, "backend", r->backend ? r->backend : "cpu");
    cJSON_AddStringToObject(o, "device", r->device ? r->device : cpu);
    if (r->cuda_path)
        cJSON_AddStringToObject(o, "cuda_path", r->cuda_path);
    if (r->coupling)
        cJSON_AddStringToObject(o, "coupling", r->coupling);
    if (r->frames)
        cJSON_AddStringToObject(o, "dense_frames", r->frames);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddItemToObject(o, "timings", t);
    cJSON_AddNumberToObject(t, "wall_seconds", r->wall_seconds);
    cJSON_AddNumberToObject(t, "sweeps_total", (double)r->sweeps_total);
    cJSON_AddNumberToObject(t, "sweeps_done", (double)r->sweeps_done);
    cJSON_AddNumberToObject(t, "sweeps_restored", (double)r->sweeps_restored);
    double w = r->wall_seconds > 0 ? r->wall_seconds : 1e-9;
    cJSON_AddNumberToObject(t, "sweeps_per_second",
                            (double)(r->sweeps_done - r->sweeps_restored) / w);
    cJSON_AddNumberToObject(t, "amplitude_updates_per_second", r->amplitude_updates / w);
    if (r->mpi)
        cJSON_AddItemToObject(o, "mpi", run_record_mpi_json(r->mpi));
    if (r->transfers)
        cJSON_AddItemToObject(o, "transfers", transfers_json(r->runner, r->transfers));
    cJSON *out = cJSON_CreateArray();
    cJSON_AddItemToArray(out, cJSON_CreateString("summary.csv"));
    cJSON_AddItemToArray(out, cJSON_CreateString("dist.h5"));
    if (r->dist_csv)
        cJSON_AddItemToArray(out, cJSON_CreateString("dist.csv"));
    cJSON_AddItemToObject(o, "outputs", out);
    return o;
}

int run_record_write(const char *cmd, const char *path, const run_record *r) {
    cJSON *o = build(r);
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        if (cmd)
            cli_error(cmd, "out of memory while writing %s", path);
        return CLI_RUNTIME;
    }
    cli_output f;
    int rc = cli_output_open(cmd, path, &f);
    if (!rc) {
        int ok = fputs(text, f.f) >= 0 && fputc('\n', f.f) != EOF;
        rc = cli_output_close(cmd, &f, ok);
    }
    free(text);
    return rc;
}
