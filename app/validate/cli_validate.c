/* `tcgpu validate [--quick] [--out DIR]`: the campaign of checks of the paper's claims, written
 * as DIR/report.md (with PNG figures drawn by gnuplot when it is installed, CSV data beside
 * them) and DIR/run.json. Exit 0 only when every check passes. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "run_mpi.h"
#include "run_record.h"
#include "validate.h"

static const char *const CMD = "validate";

extern int64_t v_scaling_N1, v_scaling_N2, v_large_max;

/* The campaign. A new check is one function (validate_*.c) and one row here. */
static const vcheck checks[] = {
    {"fig3", "Fig 3: P_m at N = 1000 and the transition at q_c (exact)", vcheck_fig3, 1},
    {"fig3sim", "Fig 3: simulated P_m against eq 40", vcheck_fig3_sim, 1},
    {"fig56", "Figs 5-6: moments at N = 1e5 against eqs 46, 67-70", vcheck_fig56, 1},
    {"betac", "Critical rate: eq 50 against the root of eq 47", vcheck_beta_c, 1},
    {"heff", "Figs 7-8: effective two-mode model against eqs 75-76", vcheck_heff, 1},
    {"phases", "Fig 4: scattering phases against eq 58", vcheck_phases, 1},
    {"do_eps", "Demkov-Osherov and eps-independence", vcheck_do_eps, 1},
    {"scaling1", "Scaling laws from simulations, single channel", vcheck_scaling_single, 1},
    {"scaling2", "Scaling laws from simulations, two channels", vcheck_scaling_two, 1},
    {"scaling-large", "Scaling laws across N (1e2 to --large-max) from simulations, single channel",
     vcheck_scaling_large, 1},
    {"semiclassical", "Semiclassical limit: truncated Wigner against the exact moments",
     vcheck_semiclassical, 1},
};
enum { NCHECKS = sizeof checks / sizeof *checks };

static const cli_option opts[] = {
    {"quick", 0, "the small campaign (minutes on 2 cores; CI)"},
    {"out", 1,
     "output folder (default: a new folder tcgpu-validate-DATE-TIME); run into the same folder "
     "again, an interrupted campaign takes back the sweeps it finished (kept in DIR/sweeps "
     "until it completes)"},
    {"only", 1, "comma-separated check ids to run (default all; see --list)"},
    {"list", 0, "list the checks and exit"},
    {"N1", 1, "molecules of the simulated single-channel scaling (default 1000, quick 200)"},
    {"N2", 1, "molecules of the simulated two-channel scaling (default 40, quick 10; <= 300)"},
    {"large-max", 1,
     "largest N of scaling-large (default 1e4, quick 1e3; 200..1e5), run with those of 1e2, "
     "1e3, 3e3, 1e4 below it"},
    {"help", 0, "show this help"},
    {NULL, 0, NULL},
};

static int wanted(const char *only, const char *id) {
    if (!only)
        return 1;
    size_t n = strlen(id);
    for (const char *s = only; *s;) {
        size_t len = strcspn(s, ",");
        if (len == n && !strncmp(s, id, n))
            return 1;
        s += len + (s[len] == ',');
    }
    return 0;
}

static int have_gnuplot(void) { return system("command -v gnuplot >/dev/null 2>&1") == 0; }

static void loadavg(char *buf, size_t len) {
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
}

typedef struct {
    double seconds;
    int ran, rc, pass, fail, notrun;
} check_log;

static int write_outputs(vctx *c, int argc, char **argv, const check_log *log, const char *started,
                         const char *load0, double wall, int rc) {
    char load1[128], cpu[256], path[4096], cmd[2048] = "tcgpu validate";
    loadavg(load1, sizeof load1);
    cli_cpu_name(cpu, sizeof cpu);
    for (int i = 0; i < argc; ++i) {
        size_t n = strlen(cmd);
        snprintf(cmd + n, sizeof cmd - n, " %s", argv[i]);
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    /* report.md */
    cli_output o;
    snprintf(path, sizeof path, "%s/report.md", c->dir);
    int r = cli_output_open(CMD, path, &o);
    if (r)
        return r;
    FILE *f = o.f;
    fprintf(f, "# tcgpu validation report (%s)\n\n", c->quick ? "quick" : "full campaign");
    fprintf(f,
            "- command: `%s`\n- started: %s (UTC)\n- wall time: %.1f s\n- machine: %s, %d "
            "thread%s\n- load average (1, 5, 15 min) at start: %s; at end: %s\n- git commit: "
            "%s\n- plots: %s\n\n",
            cmd, started, wall, cpu, threads, threads == 1 ? "" : "s", load0, load1,
#ifdef TCGPU_GIT_COMMIT
            TCGPU_GIT_COMMIT,
#else
            "unknown",
#endif
            c->gnuplot ? "gnuplot (PNG)"
                       : "skipped: gnuplot not found (CSV data and .gp scripts "
                         "are written)");
    if (c->reused)
        fprintf(f,
                "- sweeps taken back from this folder's kept sweeps instead of recomputed (an "
                "earlier, interrupted run into it, or the same sweep in another check): %d "
                "(computed by %s)\n\n",
                c->reused, c->reused_from);
    fprintf(f, "**Result: %s** — %d passed, %d failed, %d not run.\n\n",
            c->fail == 0 && rc == CLI_OK ? "all checks passed" : "FAILED", c->pass, c->fail,
            c->notrun);
    fputs("Conventions and corrected equations: shared/PHYSICS.md. Simulations: "
          "tcgpu_sweep_auto (commutator-free Magnus-4 in the interaction picture, "
          "superadiabatic start and readout) at a total-variation tolerance of 1e-4.\n\n",
          f);
    fputs("| check | passed | failed | not run | seconds |\n|---|---|---|---|---|\n", f);
    for (int i = 0; i < NCHECKS; ++i)
        if (log[i].ran)
            fprintf(f, "| %s (`%s`)%s | %d | %d | %d | %.1f |\n", checks[i].title, checks[i].id,
                    log[i].rc ? " — did not complete" : "", log[i].pass, log[i].fail, log[i].notrun,
                    log[i].seconds);
    fputc('\n', f);
    fwrite(c->body_buf, 1, c->body_len, f);
    r = cli_output_close(CMD, &o, 1);
    /* run.json */
    cJSON *j = cJSON_CreateObject(), *t = cJSON_CreateArray();
    cJSON_AddStringToObject(j, "tool", "tcgpu");
    cJSON_AddStringToObject(j, "command", cmd);
    cJSON_AddStringToObject(j, "mode", c->quick ? "quick" : "full");
    cJSON_AddStringToObject(j, "started_utc", started);
    cJSON_AddNumberToObject(j, "wall_seconds", wall);
    cJSON_AddStringToObject(j, "device", cpu);
    cJSON_AddNumberToObject(j, "threads", threads);
    cJSON_AddStringToObject(j, "loadavg_start", load0);
    cJSON_AddStringToObject(j, "loadavg_end", load1);
    cJSON_AddBoolToObject(j, "gnuplot", c->gnuplot);
    cJSON_AddBoolToObject(j, "completed", rc == CLI_OK);
    cJSON_AddBoolToObject(j, "all_passed", rc == CLI_OK && c->fail == 0);
    cJSON_AddNumberToObject(j, "passed", c->pass);
    cJSON_AddNumberToObject(j, "failed", c->fail);
    cJSON_AddNumberToObject(j, "not_run", c->notrun);
    cJSON_AddNumberToObject(j, "reused_sweeps", c->reused);
    if (c->reused)
        cJSON_AddStringToObject(j, "reused_sweeps_commits", c->reused_from);
    for (int i = 0; i < NCHECKS; ++i) {
        if (!log[i].ran)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", checks[i].id);
        cJSON_AddNumberToObject(e, "seconds", log[i].seconds);
        cJSON_AddBoolToObject(e, "completed", log[i].rc == CLI_OK);
        cJSON_AddItemToArray(t, e);
    }
    cJSON_AddItemToObject(j, "checks", t);
    if (run_mpi_get_report()) /* under mpirun: the ranks that ran the simulated sweeps */
        cJSON_AddItemToObject(j, "mpi", run_record_mpi_json(run_mpi_get_report()));
    cJSON_AddItemToObject(j, "results", (cJSON *)c->json);
    c->json = NULL;
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/run.json", c->dir);
    int rj = text ? cli_output_open(CMD, path, &o) : CLI_RUNTIME;
    if (!rj) {
        int ok = fputs(text, o.f) >= 0 && fputc('\n', o.f) != EOF;
        rj = cli_output_close(CMD, &o, ok);
    }
    free(text);
    return r ? r : rj;
}

static int validate_lead(int argc, char **argv);

/* Under mpirun, rank 0 runs the campaign and the other ranks compute its simulated sweeps
 * (v_sweeps hands them out: app/tcgpu/run_mpi.h). */
int cli_validate(int argc, char **argv) {
    int rc = run_mpi_init(CMD);
    if (!rc && run_mpi_rank() > 0)
        rc = v_serve_sweeps();
    else if (!rc) {
        run_mpi_batches();
        rc = validate_lead(argc, argv);
    }
    return run_mpi_end(rc);
}

static int validate_lead(int argc, char **argv) {
    cli_parsed a;
    int rc = cli_parse(CMD, opts, argc, argv, &a);
    if (rc)
        return rc;
    if (cli_get(&a, "help")) {
        cli_usage(stdout, CMD, "[--quick] [--out DIR] [--only ID,...]", opts);
        return CLI_OK;
    }
    if (cli_get(&a, "list")) {
        for (int i = 0; i < NCHECKS; ++i)
            printf("%-13s %s%s\n", checks[i].id, checks[i].title,
                   checks[i].in_quick ? "" : " (full campaign only)");
        return CLI_OK;
    }
    const char *only = cli_get(&a, "only"), *v;
    if (only && (!*only || strstr(only, ",,") || *only == ',' || only[strlen(only) - 1] == ',')) {
        cli_error(CMD,
                  "--only: '%s' names an empty check; expected ids such as fig3,betac "
                  "(see tcgpu validate --list)",
                  only);
        return CLI_BADINPUT;
    }
    for (const char *s = only; s && *s;) {
        size_t len = strcspn(s, ",");
        int k = 0;
        while (k < NCHECKS && !(strlen(checks[k].id) == len && !strncmp(checks[k].id, s, len)))
            ++k;
        if (k == NCHECKS) {
            cli_error(CMD, "--only: unknown check '%.*s' (see tcgpu validate --list)", (int)len, s);
            return CLI_BADINPUT;
        }
        s += len + (s[len] == ',');
    }
    int64_t n1 = 0, n2 = 0;
    if (((v = cli_get(&a, "N1")) && cli_int(CMD, "N1", v, &n1)) ||
        ((v = cli_get(&a, "N2")) && cli_int(CMD, "N2", v, &n2)))
        return CLI_BADINPUT;
    if ((cli_get(&a, "N1") && (n1 < 20 || n1 > 100000)) ||
        (cli_get(&a, "N2") && (n2 < 4 || n2 > 300))) {
        cli_error(CMD,
                  "--N1 must lie in 20..100000 (one channel's chain readout) and --N2 in 4..300 "
                  "(two channels: 45451 states, ~15-30 min a sweep here), got %lld and %lld",
                  (long long)n1, (long long)n2);
        return CLI_BADINPUT;
    }
    int64_t nl = 0;
    if ((v = cli_get(&a, "large-max"))) {
        if (cli_int(CMD, "large-max", v, &nl))
            return CLI_BADINPUT;
        if (nl < 200 || nl > 100000) {
            cli_error(CMD,
                      "--large-max must lie in 200..100000 (two sizes from N = 100 on; N = 1e5 "
                      "already takes hours per sweep), got %s",
                      v);
            return CLI_BADINPUT;
        }
    }
    v_scaling_N1 = n1;
    v_scaling_N2 = n2;
    v_large_max = nl;
    vctx c;
    memset(&c, 0, sizeof c);
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    c.quick = cli_get(&a, "quick") != NULL;
    c.dir = cli_get(&a, "out");
    time_t now = time(NULL);
    char started[32], auto_out[64];
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (c.dir && strchr(c.dir, '\'')) { /* the folder is quoted in gnuplot's shell command */
        cli_error(CMD, "--out: '%s' contains a single quote; choose another folder name", c.dir);
        return CLI_BADINPUT;
    }
    if (cli_check_out_dir(CMD, "out", c.dir))
        return CLI_BADINPUT;
    if (!c.dir) {
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
        snprintf(auto_out, sizeof auto_out, "tcgpu-validate-%s", stamp);
        c.dir = auto_out;
    }
    if (mkdir(c.dir, 0777) != 0 && errno != EEXIST) {
        cli_error(CMD, "cannot create the output folder '%s': %s", c.dir, strerror(errno));
        return CLI_RUNTIME;
    }
    c.gnuplot = have_gnuplot();
    c.body = open_memstream(&c.body_buf, &c.body_len);
    c.json = cJSON_CreateArray();
    if (!c.body || !c.json) {
        cli_error(CMD, "out of memory");
        return CLI_RUNTIME;
    }
    char load0[128];
    loadavg(load0, sizeof load0);
    check_log log[NCHECKS];
    memset(log, 0, sizeof log);
    fprintf(stderr, "tcgpu validate: %s campaign into %s (gnuplot %s)\n",
            c.quick ? "quick" : "full", c.dir, c.gnuplot ? "found" : "not found: plots skipped");
    tcgpu_clear_stop();
    cli_catch_signals(1);
    for (int i = 0; i < NCHECKS && rc == CLI_OK; ++i) {
        if (!wanted(only, checks[i].id) || (c.quick && !checks[i].in_quick))
            continue;
        int p0 = c.pass, f0 = c.fail, n0 = c.notrun;
        double s0 = v_seconds(&c);
        c.check = checks[i].id;
        v_progress(&c, "start (%s)", checks[i].title);
        log[i].ran = 1;
        log[i].rc = checks[i].run(&c);
        log[i].seconds = v_seconds(&c) - s0;
        log[i].pass = c.pass - p0;
        log[i].fail = c.fail - f0;
        log[i].notrun = c.notrun - n0;
        v_progress(&c, "done in %.1f s: %d passed, %d failed%s", log[i].seconds, log[i].pass,
                   log[i].fail, log[i].rc ? " (did not complete)" : "");
        if (log[i].rc) {
            v_text(&c, "**The check `%s` did not complete (exit code %d); see stderr.**",
                   checks[i].id, log[i].rc);
            rc = log[i].rc;
        }
    }
    cli_catch_signals(0);
    c.check = NULL;
    fflush(c.body);
    double wall = v_seconds(&c);
    int rw = write_outputs(&c, argc, argv, log, started, load0, wall, rc);
    if (rc == CLI_OK && rw == CLI_OK) /* complete: a later run must not take these back */
        v_cache_clear(&c);
    fclose(c.body);
    free(c.body_buf);
    cJSON_Delete((cJSON *)c.json);
    if (rc == CLI_OK)
        rc = rw;
    if (rc == CLI_OK && c.fail > 0) {
        fprintf(stderr, "tcgpu validate: %d of %d checks FAILED (%.0f s); see %s/report.md\n",
                c.fail, c.pass + c.fail, wall, c.dir);
        return CLI_RUNTIME;
    }
    if (rc == CLI_OK)
        fprintf(stderr,
                "tcgpu validate: all %d checks passed (%.0f s); wrote %s/report.md and "
                "run.json\n",
                c.pass, wall, c.dir);
    else if (rc == CLI_INTERRUPTED)
        fprintf(stderr, "tcgpu validate: interrupted after %.0f s; partial report in %s\n", wall,
                c.dir);
    return rc;
}
