/* `tcgpu run`: the rows of summary.csv, dist.csv and dist.h5, the line per sweep on stdout, and
 * the tables kept or removed at the end. */
#include "cli_run.h"

void run_write_headers(FILE *s, FILE *d, int K, int levels) {
    fputs("sweep,model,N,channels,g,beta,eps,method,T,steps,norm_error,err_estimate", s);
    for (int k = 1; k <= K; ++k)
        fprintf(s, ",mean_n%d", k);
    fputs(",mean_n,eta,tv_exact,maxabs_exact,seconds,T0,Tr,dt,applications\n", s);
    if (!d)
        return;
    if (levels) {
        fputs("sweep,level,prob\n", d);
        return;
    }
    fputs("sweep", d);
    for (int k = 1; k <= K; ++k)
        fprintf(d, ",n%d", k);
    fputs(",prob\n", d);
}

static void dist_rows(const sweep_out *o, int levels, FILE *d) {
    const tcgpu_model *m = &o->m;
    for (int64_t i = 0; d && i < m->dim; ++i) {
        fprintf(d, "%zu", o->idx);
        if (levels)
            fprintf(d, ",%lld", (long long)i);
        else
            for (int k = 0; k < m->K; ++k)
                fprintf(d, ",%d", m->labels[i * m->K + k]);
        fprintf(d, ",%.17g\n", o->p[i]);
    }
}

void run_sweep_write(const run_job *j, const sweep_out *o, FILE *s, FILE *d) {
    const tcgpu_model *m = &o->m;
    const tcgpu_auto_report *r = &o->r;
    double mean[TCGPU_MAX_CHANNELS + 1], mean_n, eta;
    int mlz = m->kind == TCGPU_MODEL_MLZ; /* no exact solution, no channels */
    int levels = m->kind == TCGPU_MODEL_LZ || m->kind == TCGPU_MODEL_DO || mlz;
    int nk = mlz ? 0 : levels ? (int)m->dim - 1 : m->K;
    if (o->line) { /* kept from the interrupted run, verbatim */
        fprintf(s, "%s\n", o->line);
        dist_rows(o, levels, d);
        return;
    }
    /* an mlz model has no channels, and reduce_means would count one mean per level beyond
     * the first: past the array from 66 states on (a 2000-state model crashed here) */
    mean_n = eta = NAN;
    if (!mlz)
        tcgpu_reduce_means(m, o->p, mean, &mean_n, &eta);
    double nan = NAN, tv = mlz ? nan : tcgpu_tv(o->p, o->ex, m->dim);
    double mx = mlz ? nan : tcgpu_maxabs(o->p, o->ex, m->dim);
    fprintf(s, "%zu,%s,%lld,%d,%.17g,%.17g,", o->idx, j->model, (long long)m->N, nk, o->g,
            o->beta);
    cli_csv_num(s, o->eps);
    fprintf(s, ",%s,%.17g,%lld,%.3e,%.3e", j->method ? "magnus4" : "rk4", r->Tr,
            (long long)r->steps, r->norm_error, r->err_estimate);
    for (int k = 0; k < nk; ++k)
        fprintf(s, ",%.17g", mean[k]);
    fputc(',', s);
    cli_csv_num(s, mlz ? nan : mean_n);
    fputc(',', s);
    cli_csv_num(s, mlz ? nan : eta);
    fputc(',', s);
    cli_csv_num(s, tv);
    fputc(',', s);
    cli_csv_num(s, mx);
    fprintf(s, ",%.3f,%.17g,%.17g,%.6g,%lld\n", r->seconds,
            m->kind == TCGPU_MODEL_HEFF ? r->T0 : -r->T0, r->Tr, r->kappa,
            (long long)r->applications);
    dist_rows(o, levels, d);
}

/* A table cell: the number, or "-" where it has no value. */
static void cell(int width, const char *fmt, double v) {
    if (isfinite(v))
        printf(fmt, width, v);
    else
        printf(" %*s", width, "-");
}

/* One readable line per sweep on stdout (the CSV files hold every digit). */
void run_sweep_print(const sweep_out *o) {
    const tcgpu_model *m = &o->m;
    double mean[TCGPU_MAX_CHANNELS + 1], mean_n, eta;
    int mlz = m->kind == TCGPU_MODEL_MLZ, tc = m->kind == TCGPU_MODEL_TC;
    int nk = (tc || m->kind == TCGPU_MODEL_HEFF) && m->K <= 4 ? m->K : 0;
    if (o->idx == 0) {
        printf("%6s %10s %8s %8s", "sweep", "beta", "g", "eps");
        for (int k = 1; k <= nk; ++k) {
            char h[16];
            snprintf(h, sizeof h, "<n%d>", k);
            printf(" %11s", h);
        }
        printf(" %11s %9s %10s %10s %8s\n", "<n>", "eta", "TV(exact)", "est.error", "seconds");
    }
    mean_n = eta = NAN;
    if (!mlz) /* as in run_sweep_write: no means of an mlz model */
        tcgpu_reduce_means(m, o->p, mean, &mean_n, &eta);
    printf("%6zu %10.4g %8.4g", o->idx, o->beta, o->g);
    cell(8, " %*.4g", o->eps);
    for (int k = 0; k < nk; ++k)
        cell(11, " %*.6g", mean[k]);
    cell(11, " %*.6g", mlz ? NAN : mean_n);
    cell(9, " %*.4g", tc && m->K == 2 ? eta : NAN);
    cell(10, " %*.2e", mlz ? NAN : tcgpu_tv(o->p, o->ex, m->dim));
    cell(10, " %*.2e", o->r.err_estimate);
    cell(8, " %*.2f", o->r.seconds);
    putchar('\n');
    fflush(stdout);
}

int run_h5_write(h5_sink *k, const sweep_out *o) {
    const tcgpu_model *m = &o->m;
    int mlz = m->kind == TCGPU_MODEL_MLZ;
    int levels = m->kind == TCGPU_MODEL_LZ || m->kind == TCGPU_MODEL_DO || mlz;
    int rc = k->h ? CLI_OK
                  : out_h5_open(CMD, k->path, m->dim, levels ? 0 : m->K, m->labels, !mlz, &k->h);
    out_h5_row row = {(int64_t)o->idx,   o->g,
                      o->beta,           o->eps,
                      o->r.err_estimate, mlz ? NAN : tcgpu_tv(o->p, o->ex, m->dim)};
    return rc ? rc : out_h5_append(CMD, k->h, &row, o->p, o->ex);
}

/* The record's "updated_utc", ISO 8601. */
void run_utc_now(char *buf, size_t len) {
    time_t now = time(NULL);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
}

/* A table's buffered rows written out: a refusal (a full disk) is reported here, before any
 * table is renamed into place. */
static int table_flushed(cli_output *o) {
    if (!o->f)
        return CLI_OK;
    errno = 0;
    if (fflush(o->f) == 0 && !ferror(o->f))
        return CLI_OK;
    cli_error(CMD, "writing '%s' failed: %s", o->path,
              errno ? strerror(errno) : "a write was refused (disk full?)");
    return CLI_RUNTIME;
}

/* The tables after the sweeps (rc: how they ended): kept, all of them, when the run finished or
 * was interrupted, else removed. All are flushed before the first is renamed, so that a disk
 * that fills at the end leaves none of them rather than some (a mixed folder: resuming a run
 * whose dist.h5 is new and summary.csv old is refused), with one line on stderr. Where a close
 * fails after a table was renamed even so, every table is removed (a resumed run's earlier ones
 * too): the folder then holds run.json, and --resume computes the run again. */
int run_tables_close(int rc, cli_output *so, cli_output *dout, h5_sink *h5) {
    int keep = rc == CLI_OK || rc == CLI_INTERRUPTED;
    int rf = keep ? table_flushed(so) : CLI_OK;
    if (!rf && keep)
        rf = table_flushed(dout);
    if (rf) {
        rc = rf;
        keep = 0;
    }
    int rh = out_h5_close(CMD, h5->h, keep); /* says nothing when not keeping */
    h5->h = NULL;
    if (rh) { /* its line said why: it is the one line, rather than "interrupted" */
        rc = rh;
        keep = 0;
    }
    char spath[4096], dpath[4096] = "";
    snprintf(spath, sizeof spath, "%s", so->path);
    if (dout->f)
        snprintf(dpath, sizeof dpath, "%s", dout->path);
    int rd = dout->f ? cli_output_close(keep ? CMD : NULL, dout, keep) : CLI_OK;
    int rs = cli_output_close(keep && !rd ? CMD : NULL, so, keep && !rd);
    if (keep && (rd || rs)) {
        remove(h5->path);
        remove(spath);
        if (*dpath)
            remove(dpath);
    }
    return rc ? rc : rd ? rd : rs;
}
