/* Quantum simulations for the campaign: a list of sweeps shared out over the cores (OpenMP,
 * dynamic: their costs differ by orders of magnitude), each compared with the exact law. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "run_mpi.h"
#include "tcgpu/exact.h"
#include "tcgpu/propagate.h"
#include "tcgpu/reduce.h"
#include "validate.h"

static tcgpu_status build(vsweep *s, double *e) {
    for (int k = 0; k < s->K && k < TCGPU_MAX_CHANNELS; ++k)
        e[k] = s->kind == TCGPU_MODEL_DO ? (2.0 * k - (s->K - 1)) * s->eps
                                         : 2.0 * (2 * (k + 1) - s->K - 1) * s->eps;
    switch (s->kind) {
    case TCGPU_MODEL_TC:
        return tcgpu_model_tc(&s->m, s->N, s->K, s->g, s->beta, e);
    case TCGPU_MODEL_DO:
        return tcgpu_model_do(&s->m, s->K, s->g, s->beta, e);
    case TCGPU_MODEL_HEFF:
        return tcgpu_model_heff(&s->m, s->N, s->g, s->beta, s->eps);
    case TCGPU_MODEL_LZ:
        return tcgpu_model_lz(&s->m, s->g, s->beta);
    default:
        return tcgpu_fail(TCGPU_EINVAL, "validate: no exact law for this model");
    }
}

/* The results read off a sweep's distributions (s->p, s->ex) and its control's report, wherever
 * it was computed: here, on another rank, or in an earlier run into this folder. */
static void finish(vsweep *s, double seconds, double err_estimate, double Tr) {
    s->tv = tcgpu_tv(s->p, s->ex, s->m.dim);
    s->seconds = seconds;
    s->err_estimate = err_estimate;
    s->Tr = Tr;
    tcgpu_reduce_means(&s->m, s->p, s->mean, &s->mean_n, &s->eta);
}

static tcgpu_status one(vsweep *s) {
    double e[TCGPU_MAX_CHANNELS];
    tcgpu_status st = build(s, e);
    if (st)
        return st;
    s->built = 1;
    s->p = calloc((size_t)s->m.dim, sizeof *s->p);
    s->ex = calloc((size_t)s->m.dim, sizeof *s->ex);
    if (!s->p || !s->ex)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld states", (long long)s->m.dim);
    tcgpu_auto_opts ao = {TCGPU_METHOD_MAGNUS4, s->tol, 0, 0, 0, 0, TCGPU_FP64};
    tcgpu_auto_report r;
    if ((st = tcgpu_sweep_auto(&s->m, &ao, s->p, &r)))
        return st;
    const double *lev = s->kind == TCGPU_MODEL_LZ || s->kind == TCGPU_MODEL_HEFF ? NULL : e;
    if ((st = tcgpu_exact_for_model(&s->m, lev, s->ex)))
        return st;
    finish(s, r.seconds, r.err_estimate, r.Tr);
    return TCGPU_OK;
}

#if defined(__GNUC__)
/* OpenBLAS threads inside the sweep threads would oversubscribe the cores (as in cli_run.c). */
void openblas_set_num_threads(int) __attribute__((weak));
#endif

/* What the sweeps of one v_sweeps call share. */
typedef struct {
    vctx *c;
    vsweep *s;
    size_t n, done;
    const char *what;
    int rc;
    unsigned char *cached; /* taken from the folder's cache (validate_cache.c) */
} vloop;

/* A sweep's outcome joins the batch: the first failure is kept, progress is reported. */
static void sweep_done(vloop *L, size_t i, int rc) {
    vsweep *s = &L->s[i];
#pragma omp critical(tcgpu_validate_sweeps)
    {
        if (rc && !L->rc) {
#pragma omp atomic write
            L->rc = rc;
        }
        if (!rc) {
            ++L->done;
            v_progress(L->c, "%s: %zu/%zu done (N = %lld, K = %d, beta = %g: TV %.2e, %.1f s)",
                       L->what, L->done, L->n, (long long)s->N, s->K, s->beta, s->tv,
                       s->seconds);
        }
    }
}

/* A finished sweep goes to the folder's cache; a cache that cannot be written costs only the
 * resumption, so it is said once and the campaign goes on. */
static void keep(vloop *L, size_t i) {
    static int warned;
    if (v_cache_store(L->c, &L->s[i]))
        return;
    int first;
#pragma omp atomic capture
    first = warned++;
    if (!first)
        fprintf(stderr, "tcgpu validate: warning: cannot keep finished sweeps in %s/sweeps; an "
                        "interrupted campaign will recompute them\n", L->c->dir);
}

/* A sweep an earlier run into this folder finished: its model is rebuilt here (cheap beside the
 * sweep), its distributions and control report read back. */
static int from_cache(vloop *L, size_t i) {
    vsweep *s = &L->s[i];
    double e[TCGPU_MAX_CHANNELS], rep[3];
    char commit[64];
    if (!v_cache_has(L->c, s) || build(s, e))
        return 0;
    s->built = 1;
    s->p = malloc((size_t)s->m.dim * sizeof *s->p);
    s->ex = malloc((size_t)s->m.dim * sizeof *s->ex);
    if (!s->p || !s->ex ||
        !v_cache_load(L->c, s, s->m.dim, s->p, s->ex, rep, commit, sizeof commit)) {
        v_sweeps_free(s, 1);
        return 0;
    }
    finish(s, rep[0], rep[1], rep[2]);
    v_note_reused(L->c, commit);
    return 1;
}

static int stopping(vloop *L) {
    int stop;
#pragma omp atomic read
    stop = L->rc;
    return stop || tcgpu_stop_requested();
}

static void sweep_local(void *ctx, size_t i) {
    vloop *L = ctx;
    if (stopping(L))
        return;
    tcgpu_status st = one(&L->s[i]);
    if (!st)
        keep(L, i);
    sweep_done(L, i, st ? cli_status("validate", st) : CLI_OK);
}

/* MPI: a sweep travels to the other ranks as its parameters, one word each ("kind N K g beta
 * eps tol", the reals in %a: exact), and comes back as its distributions (app/tcgpu/run_mpi.h). */
static void encode(const vsweep *s, char *buf, size_t len) {
    snprintf(buf, len, "%d %lld %d %a %a %a %a", (int)s->kind, (long long)s->N, s->K, s->g,
             s->beta, s->eps, s->tol);
}

static int decode(const char *w, vsweep *s) {
    int kind;
    long long N;
    memset(s, 0, sizeof *s);
    if (sscanf(w, "%d %lld %d %la %la %la %la", &kind, &N, &s->K, &s->g, &s->beta, &s->eps,
               &s->tol) != 7)
        return 0;
    s->kind = (tcgpu_model_kind)kind;
    s->N = N;
    return 1;
}

static void sweep_serve(void *ctx, size_t i, run_mpi_result *out) {
    vsweep *s = &((vsweep *)ctx)[i];
    tcgpu_status st = one(s);
    *out = (run_mpi_result){.rc = st ? cli_status("validate", st) : CLI_OK,
                            .dim = s->built ? s->m.dim : 0,
                            .p = s->p,
                            .ex = s->ex};
    out->r.seconds = s->seconds;
    out->r.err_estimate = s->err_estimate;
    out->r.Tr = s->Tr;
    s->p = s->ex = NULL;
    v_sweeps_free(s, 1);
}

/* Rank 0: a sweep another rank computed; the model is rebuilt here (cheap beside the sweep) for
 * the checks that read it. */
static void sweep_remote(void *ctx, size_t i, run_mpi_result *res) {
    vloop *L = ctx;
    vsweep *s = &L->s[i];
    double e[TCGPU_MAX_CHANNELS];
    int rc = res->rc;
    if (!rc && !(rc = cli_status("validate", build(s, e)))) {
        s->built = 1;
        if (s->m.dim != res->dim) {
            cli_error("validate", "sweep %zu came back with %lld states, expected %lld", i,
                      (long long)res->dim, (long long)s->m.dim);
            rc = CLI_RUNTIME;
        } else {
            s->p = res->p;
            s->ex = res->ex;
            res->p = res->ex = NULL;
            finish(s, res->r.seconds, res->r.err_estimate, res->r.Tr);
            keep(L, i);
        }
    }
    sweep_done(L, i, rc);
}

static int cached(void *ctx, size_t i) {
    return ((vloop *)ctx)->cached[i];
}

static int batch_failed(void *ctx) {
    vloop *L = ctx;
    int rc;
#pragma omp atomic read
    rc = L->rc;
    return rc;
}

static int sweeps_mpi(vloop *L) {
    char **words = calloc(L->n ? L->n : 1, sizeof *words);
    int ok = words != NULL;
    for (size_t i = 0; ok && i < L->n; ++i)
        if ((ok = (words[i] = malloc(160)) != NULL))
            encode(&L->s[i], words[i], 160);
    int rc = CLI_RUNTIME;
    if (ok) {
        run_mpi_set_args((int)L->n, words);
        run_mpi_work w = {.total = L->n,
                          .ctx = L,
                          .local = sweep_local,
                          .remote = sweep_remote,
                          .kept = cached,
                          .failed = batch_failed};
        rc = run_mpi_lead("validate", &w);
    } else
        cli_error("validate", "out of memory for %zu sweeps", L->n);
    for (size_t i = 0; words && i < L->n; ++i)
        free(words[i]);
    free(words);
    return rc;
}

int v_sweeps(vctx *c, vsweep *s, size_t n, const char *what) {
    vloop L = {.c = c, .s = s, .n = n, .what = what, .cached = calloc(n ? n : 1, 1)};
    size_t *todo = malloc((n ? n : 1) * sizeof *todo), ntodo = 0;
    if (!L.cached || !todo) {
        free(L.cached);
        free(todo);
        cli_error("validate", "out of memory for %zu sweeps", n);
        return CLI_RUNTIME;
    }
    for (size_t i = 0; i < n; ++i)
        if (!(L.cached[i] = (unsigned char)from_cache(&L, i)))
            todo[ntodo++] = i;
#if defined(__GNUC__)
    int blas_threads = 1; /* fewer sweeps than threads: the spare ones go to the dense algebra */
#ifdef _OPENMP
    if (ntodo > 0 && (size_t)omp_get_max_threads() > ntodo && run_mpi_size() == 1)
        blas_threads = omp_get_max_threads() / (int)ntodo;
#endif
    if (openblas_set_num_threads)
        openblas_set_num_threads(blas_threads);
#endif
    v_progress(c, "%s: %zu sweeps%s", what, n,
               n > ntodo ? " (some taken back from this folder's kept sweeps)" : "");
    for (size_t i = 0; i < n; ++i)
        if (L.cached[i])
            sweep_done(&L, i, CLI_OK);
    int rc = CLI_OK;
    if (run_mpi_size() > 1 && !run_mpi_stopped())
        rc = sweeps_mpi(&L);
    else if (ntodo == 1)
        sweep_local(&L, todo[0]); /* outside a parallel region: its fine and coarse runs share
                                   * the cores */
    else {
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t k = 0; k < ntodo; ++k)
            sweep_local(&L, todo[k]);
    }
    free(L.cached);
    free(todo);
    rc = rc ? rc : L.rc;
    if (!rc && tcgpu_stop_requested())
        rc = CLI_INTERRUPTED;
    return rc;
}

/* Ranks > 0 of `mpirun tcgpu validate`: the sweeps of each batch rank 0 sends, until it says
 * the campaign is over. */
int v_serve_sweeps(void) {
#if defined(__GNUC__)
    if (openblas_set_num_threads)
        openblas_set_num_threads(1);
#endif
    tcgpu_clear_stop();
    cli_catch_signals(1);
    int rc = CLI_OK;
    for (;;) {
        int argc;
        char **argv;
        if ((rc = run_mpi_get_args("validate", &argc, &argv)) || argc < 0)
            break;
        vsweep *s = calloc((size_t)argc + 1, sizeof *s);
        for (int i = 0; s && i < argc; ++i)
            if (!decode(argv[i], &s[i])) {
                cli_error("validate", "rank %d: sweep %d's parameters are damaged: '%s'",
                          run_mpi_rank(), i, argv[i]);
                rc = CLI_RUNTIME;
            }
        run_mpi_work w = {.total = (size_t)argc, .ctx = s, .compute = sweep_serve};
        if (!s)
            rc = CLI_RUNTIME;
        if (!rc)
            rc = run_mpi_serve("validate", &w);
        v_sweeps_free(s, (size_t)argc);
        free(s);
        run_mpi_free_args(argc, argv);
        if (rc || run_mpi_stopped())
            break;
    }
    cli_catch_signals(0);
    return rc;
}

void v_sweeps_free(vsweep *s, size_t n) {
    for (size_t i = 0; s && i < n; ++i) {
        free(s[i].p);
        free(s[i].ex);
        if (s[i].built)
            tcgpu_model_free(&s[i].m);
        s[i].p = s[i].ex = NULL;
        s[i].built = 0;
    }
}
