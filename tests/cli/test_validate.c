/* `tcgpu validate`: the least-squares helpers against values worked out by hand, and the quick
 * campaign as a user runs it (exit 0, a report without FAIL, run.json, data without gnuplot). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_common.h"
#include "validate_fit.h"

Test(fit, power_law_exponent_recovered_to_1e12) {
    /* y = 3.7 x^-1.234, noise-free, x over three decades: the fit must return the exponent
     * and the prefactor to round-off, with zero standard error. */
    double x[9], y[9];
    for (int i = 0; i < 9; ++i) {
        x[i] = 0.01 * pow(10, 3.0 * i / 8);
        y[i] = 3.7 * pow(x[i], -1.234);
    }
    v_fit f;
    cr_assert_eq(v_fit_power(x, y, 9, &f), 0);
    cr_expect_leq(fabs(f.slope + 1.234), 1e-12, "mu = %.17g", f.slope);
    cr_expect_leq(fabs(exp(f.intercept) - 3.7), 1e-11, "A = %.17g", exp(f.intercept));
    cr_expect_leq(f.se_slope, 1e-12, "se = %g", f.se_slope);
}

Test(fit, power_law_on_a_narrow_range_far_from_one) {
    /* ln x in [ln 1e6, ln 1.1e6]: raw normal equations lose digits here, centred sums do not. */
    double x[5], y[5];
    for (int i = 0; i < 5; ++i) {
        x[i] = 1e6 * (1 + 0.025 * i);
        y[i] = 2e-3 * pow(x[i], 0.5);
    }
    v_fit f;
    cr_assert_eq(v_fit_power(x, y, 5, &f), 0);
    cr_expect_leq(fabs(f.slope - 0.5), 1e-12, "mu = %.17g", f.slope);
}

Test(fit, line_standard_errors_match_the_hand_computation) {
    /* x = 0..3, y = 1, 3, 2, 5: slope 11/10, intercept 11/10, RSS 2.7, s^2 = 1.35, Sxx = 5:
     * se(slope) = sqrt(0.27), se(intercept) = sqrt(1.35 (1/4 + 2.25/5)) = sqrt(0.945). */
    const double x[4] = {0, 1, 2, 3}, y[4] = {1, 3, 2, 5};
    v_fit f;
    cr_assert_eq(v_fit_line(x, y, 4, &f), 0);
    cr_expect_leq(fabs(f.slope - 1.1), 1e-14);
    cr_expect_leq(fabs(f.intercept - 1.1), 1e-14);
    cr_expect_leq(fabs(f.se_slope - sqrt(0.27)), 1e-14, "%.17g", f.se_slope);
    cr_expect_leq(fabs(f.se_intercept - sqrt(0.945)), 1e-14, "%.17g", f.se_intercept);
    cr_expect_leq(fabs(f.rms - sqrt(2.7 / 4)), 1e-14);
}

Test(fit, refuses_what_has_no_fit) {
    const double x[3] = {2, 2, 2}, y[3] = {1, 2, 3}, neg[3] = {1, -2, 3}, nanv[2] = {1, NAN};
    v_fit f;
    cr_expect_eq(v_fit_line(x, y, 1, &f), -1, "one point");
    cr_expect_eq(v_fit_line(x, y, 3, &f), -1, "all x equal");
    cr_expect_eq(v_fit_line(y, nanv, 2, &f), -1, "NaN");
    cr_expect_eq(v_fit_power(y, neg, 3, &f), -1, "y <= 0 has no logarithm");
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int run_status(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(validate_cli, quick_campaign_passes_and_writes_report_plots_and_record, .timeout = 900) {
    char dir[] = "/tmp/tcgpu_validate_XXXXXX", cmd[1024], path[1100];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "%s validate --quick --out %s/v 2>%s/err", TCGPU_BIN, dir, dir);
    int st = run_status(cmd);
    snprintf(path, sizeof path, "%s/err", dir);
    char *err = slurp(path);
    cr_expect_eq(st, 0, "tcgpu validate --quick exited %d; stderr tail: %s", st,
                 err ? err + (strlen(err) > 2000 ? strlen(err) - 2000 : 0) : "");
    snprintf(path, sizeof path, "%s/v/report.md", dir);
    char *rep = slurp(path);
    cr_assert_not_null(rep, "no report.md");
    cr_expect_null(strstr(rep, "FAIL"), "report.md contains FAIL");
    cr_expect_not_null(strstr(rep, "**PASS**"));
    static const char *sections[] = {"Fig 3",        "Figs 5-6",       "Figs 7-8",
                                     "Fig 4",        "Demkov-Osherov", "single channel",
                                     "two channels", "beta_c(N)",      "Scaling laws at large N"};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; ++i)
        cr_expect_not_null(strstr(rep, sections[i]), "report lacks '%s'", sections[i]);
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/v/fig3.png", dir);
        cr_expect(stat(path, &sb) == 0 && sb.st_size > 1000, "fig3.png missing or empty");
    }
    snprintf(path, sizeof path, "%s/v/run.json", dir);
    char *js = slurp(path);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    cr_assert_not_null(j, "run.json missing or not JSON");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "all_passed")));
    cr_expect_eq(cJSON_GetObjectItem(j, "failed")->valuedouble, 0);
    cr_expect_geq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "results")), 20);
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

Test(validate_cli, without_gnuplot_the_numbers_are_still_written) {
    char dir[] = "/tmp/tcgpu_validate_XXXXXX", cmd[1024], path[1100];
    cr_assert_not_null(mkdtemp(dir));
    /* An empty PATH hides gnuplot (the command is started by its full path). */
    snprintf(cmd, sizeof cmd,
             "PATH=/nonexistent %s validate --quick --only fig3,betac --out %s/v 2>/dev/null",
             TCGPU_BIN, dir);
    cr_expect_eq(run_status(cmd), 0);
    snprintf(path, sizeof path, "%s/v/report.md", dir);
    char *rep = slurp(path);
    cr_assert_not_null(rep);
    cr_expect_not_null(strstr(rep, "plot skipped (gnuplot not found)"));
    struct stat sb;
    snprintf(path, sizeof path, "%s/v/fig3_exact.csv", dir);
    cr_expect_eq(stat(path, &sb), 0, "fig3_exact.csv missing");
    snprintf(path, sizeof path, "%s/v/fig3.png", dir);
    cr_expect_neq(stat(path, &sb), 0, "fig3.png written without gnuplot");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

Test(validate_cli, bad_input_is_one_line_and_exit_2) {
    static const char *bad[] = {"--only nope",       "--N2 301",
                                "--quick=1",         "--out",
                                "--large-max 199",   "--large-max 100001",
                                "--large-max 1e6",   "--large-max -1000",
                                "--large-max 300.5", "--large-max nan",
                                "--large-max inf",   "--large-max abc",
                                "--large-max ''",    "--large-max",
                                "--large-max 1e400", "--large-max 200 --large-max 300",
                                "--large-max ' 300'"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s validate %s >/dev/null 2>/tmp/tcgpu_validate_bad.err",
                 TCGPU_BIN, bad[i]);
        cr_expect_eq(run_status(cmd), 2, "'%s'", bad[i]);
        char *err = slurp("/tmp/tcgpu_validate_bad.err");
        int lines = 0;
        for (char *s = err; s && *s; ++s)
            lines += *s == '\n';
        cr_expect_eq(lines, 1, "'%s': %s", bad[i], err ? err : "");
    }
    remove("/tmp/tcgpu_validate_bad.err");
}

/* Eq 47 solved here by bisection on x + x^N - 1 (increasing in x), not by the engine. */
static double critical_rate(int64_t N) {
    long double lo = 0, hi = 1;
    for (int i = 0; i < 200; ++i) {
        long double x = (lo + hi) / 2;
        if (x + powl(x, (long double)N) - 1 < 0)
            lo = x;
        else
            hi = x;
    }
    return (double)(2 * PI_L / -logl((lo + hi) / 2));
}

/* Eq 51's peak of eq 40, ln P_m = (N - m) ln x + sum_k<m ln(1 - x^(N-m+1+k)), evaluated here:
 * where ln P_(m+1) - ln P_m falls through 0, by linear interpolation (+1/2: between m, m+1). */
static double eq40_peak(int64_t N, double beta) {
    long double lx = -2 * PI_L / beta, *lp = malloc(((size_t)N + 1) * sizeof *lp);
    cr_assert_not_null(lp);
    for (int64_t m = 0; m <= N; ++m) {
        lp[m] = (long double)(N - m) * lx;
        for (int64_t k = 0; k < m; ++k)
            lp[m] += log1pl(-expl((long double)(N - m + 1 + k) * lx));
    }
    double peak = 0;
    for (int64_t m = 1; m < N && peak == 0; ++m) {
        long double d0 = lp[m] - lp[m - 1], d1 = lp[m + 1] - lp[m];
        if (d0 > 0 && d1 <= 0)
            peak = (double)((long double)(m - 1) + d0 / (d0 - d1) + 0.5L);
    }
    free(lp);
    return peak;
}

Test(validate_cli, scaling_large_finds_beta_c_and_mu_at_small_sizes, .timeout = 120) {
    /* --large-max 200: N = 100 and 200, about 20 sweeps of a second or less. */
    char dir[] = "/tmp/tcgpu_validate_XXXXXX", cmd[1024], path[1100];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "%s validate --only scaling-large --large-max 200 --out %s/v 2>%s/err", TCGPU_BIN, dir,
             dir);
    cr_expect_eq(run_status(cmd), 0);
    snprintf(path, sizeof path, "%s/v/report.md", dir);
    char *rep = slurp(path);
    cr_assert_not_null(rep);
    cr_expect_null(strstr(rep, "FAIL"));
    cr_expect_null(strstr(rep, "NOT RUN"));
    cr_expect_not_null(strstr(rep, "single channel, N = 100 to 200"));
    snprintf(path, sizeof path, "%s/v/scaling_large.csv", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[1024];
    cr_assert_not_null(fgets(line, sizeof line, f)); /* header */
    int rows = 0;
    double bc_sim[2] = {0}, mu_sim[2] = {0};
    long long Ns[2] = {0};
    while (rows < 2 && fgets(line, sizeof line, f)) {
        double v[14];
        cr_assert_eq(sscanf(line, "%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf",
                            &Ns[rows], &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
                            &v[8], &v[9], &v[10], &v[11], &v[12]),
                     14, "%s", line);
        bc_sim[rows] = v[0];
        mu_sim[rows] = v[9];
        ++rows;
    }
    fclose(f);
    cr_assert_eq(rows, 2);
    cr_expect_eq(Ns[0], 100);
    cr_expect_eq(Ns[1], 200);
    /* The acceptance for the root found by simulation. */
    for (int i = 0; i < 2; ++i) {
        double bc = critical_rate(Ns[i]);
        cr_expect_leq(fabs(bc_sim[i] / bc - 1), 1e-3, "N = %lld: simulated %.10g, eq 47 %.10g",
                      Ns[i], bc_sim[i], bc);
    }
    /* Eq 55's exponent: eq 40's peaks at the simulated rates, against the simulated root's u,
     * fitted here: the simulated peaks must give the same mu. */
    snprintf(path, sizeof path, "%s/v/scaling_large_peaks.csv", dir);
    cr_assert_not_null(f = fopen(path, "r"));
    cr_assert_not_null(fgets(line, sizeof line, f));
    double lu[2][5], lm[2][5];
    int np[2] = {0};
    long long N;
    double u, ps, pe, norm, beta, tv;
    while (fgets(line, sizeof line, f) &&
           sscanf(line, "%lld,%lf,%lf,%lf,%lf,%lf,%lf", &N, &u, &ps, &pe, &norm, &beta, &tv) == 7) {
        int i = N == 200;
        cr_assert(np[i] < 5);
        cr_expect_leq(fabs(u - (1 - beta / bc_sim[i])), 1e-7); /* the CSV keeps 8 digits */
        lu[i][np[i]] = log(1 - beta / bc_sim[i]);
        lm[i][np[i]++] = log(eq40_peak(N, beta));
    }
    fclose(f);
    for (int i = 0; i < 2; ++i) {
        cr_assert_eq(np[i], 5);
        v_fit fit;
        cr_assert_eq(v_fit_line(lu[i], lm[i], 5, &fit), 0);
        cr_expect_leq(fabs(mu_sim[i] - fit.slope), 1e-3, "N = %lld: mu simulated %.6f, eq 40 %.6f",
                      Ns[i], mu_sim[i], fit.slope);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* The CSV without its last column (the sweeps' seconds), for comparing two runs. */
static void drop_last_column(char *s) {
    char *w = s;
    for (char *line = s; *line;) {
        char *end = strchr(line, '\n'), *comma = NULL;
        size_t n = end ? (size_t)(end - line) : strlen(line);
        for (char *q = line; q < line + n; ++q)
            if (*q == ',')
                comma = q;
        size_t keep = comma ? (size_t)(comma - line) : n;
        memmove(w, line, keep);
        w += keep;
        *w++ = '\n';
        line += n + (end != NULL);
    }
    *w = '\0';
}

static int cache_files(const char *dir) {
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "ls %s 2>/dev/null | grep -c '^[0-9a-f]\\{16\\}\\.h5$' >%s.count",
             dir, dir);
    if (system(cmd) == -1)
        return -1;
    snprintf(cmd, sizeof cmd, "%s.count", dir);
    char *s = slurp(cmd);
    unlink(cmd);
    return s ? atoi(s) : -1;
}

Test(validate_cli, an_interrupted_campaign_takes_its_finished_sweeps_back, .timeout = 300) {
    char dir[] = "/tmp/tcgpu_validate_XXXXXX", cmd[2048], path[1100];
    static char ref[1 << 20];
    cr_assert_not_null(mkdtemp(dir));
    const char *job = "validate --only scaling-large --large-max 1000";
    snprintf(cmd, sizeof cmd, "cd %s && OMP_NUM_THREADS=1 %s %s --out ref 2>/dev/null", dir,
             TCGPU_BIN, job);
    cr_assert_eq(system(cmd), 0);
    /* Interrupted at its second finished sweep (the campaign has ~20 more, seconds in all). */
    run_then_interrupt(dir, job, "err", "2/.* done (N", 0);
    snprintf(path, sizeof path, "%s/status", dir);
    char *st = slurp(path);
    cr_assert(st && atoi(st) == 130, "the campaign was interrupted (exit %s)", st ? st : "?");
    snprintf(path, sizeof path, "%s/res/sweeps", dir);
    int kept = cache_files(path);
    cr_assert_geq(kept, 2, "finished sweeps kept in res/sweeps (each before its progress line)");
    snprintf(cmd, sizeof cmd, "ls %s | grep -v '\\.h5$' | grep -q .", path);
    cr_expect_neq(system(cmd), 0, "no temporary file is left in res/sweeps");
    /* One kept file damaged: it is recomputed, not an error. */
    snprintf(cmd, sizeof cmd, "f=$(ls %s/*.h5 | head -1) && printf 'not hdf5' >$f", path);
    cr_assert_eq(system(cmd), 0);

    snprintf(cmd, sizeof cmd, "cd %s && OMP_NUM_THREADS=1 %s %s --out res 2>err2", dir, TCGPU_BIN,
             job);
    cr_expect_eq(run_status(cmd), 0);
    snprintf(path, sizeof path, "%s/ref/scaling_large.csv", dir);
    char *s = slurp(path);
    cr_assert_not_null(s);
    memcpy(ref, s, strlen(s) + 1);
    drop_last_column(ref);
    snprintf(path, sizeof path, "%s/res/scaling_large.csv", dir);
    cr_assert_not_null(s = slurp(path));
    drop_last_column(s);
    cr_expect_str_eq(s, ref, "the resumed campaign's results equal the uninterrupted one's");
    snprintf(path, sizeof path, "%s/res/run.json", dir);
    cJSON *j = cJSON_Parse(slurp(path));
    cr_assert_not_null(j);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "all_passed")));
    cr_expect_eq(cJSON_GetObjectItem(j, "reused_sweeps")->valueint, kept - 1,
                 "every whole kept sweep was taken back, the damaged one recomputed");
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/res/report.md", dir);
    cr_expect_not_null(strstr(slurp(path), "sweeps taken back from this folder"));
    snprintf(path, sizeof path, "%s/res/sweeps", dir);
    struct stat sb;
    cr_expect_neq(stat(path, &sb), 0, "a completed campaign removes its kept sweeps");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}
