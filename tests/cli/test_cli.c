/* `tcgpu exact` as a user meets it: headers, files complete or absent, and bad input answered
 * by one line on stderr and exit status 2. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcgpu/device.h"
#include "test_common.h"

typedef struct {
    int status;
    char out[1 << 16], err[4096];
    int err_lines;
} run_result;

static void slurp(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* dir/name into buf (empty when it cannot be read). */
static void slurp_in(const char *dir, const char *name, char *buf, size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    slurp(path, buf, len);
}

/* Entries of a folder, leaving out the dot files (-1 when it cannot be read). */
static int entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = d ? 0 : -1;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Runs `tcgpu <args>` through the shell (args are trusted test strings). */
static run_result *run(const char *env, const char *args) {
    static run_result r;
    char dir[] = "/tmp/tcgpu_cli_XXXXXX", cmd[2048], o[128], e[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(o, sizeof o, "%s/out", dir);
    snprintf(e, sizeof e, "%s/err", dir);
    snprintf(cmd, sizeof cmd, "%s %s %s >%s 2>%s </dev/null", env ? env : "", TCGPU_BIN, args, o,
             e);
    int st = system(cmd);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    slurp(o, r.out, sizeof r.out);
    slurp(e, r.err, sizeof r.err);
    r.err_lines = 0;
    for (char *s = r.err; *s; ++s)
        r.err_lines += *s == '\n';
    remove(o);
    remove(e);
    rmdir(dir);
    return &r;
}

static void expect_bad_input(const char *args, const char *mentions) {
    run_result *r = run(NULL, args);
    cr_expect_eq(r->status, 2, "'%s' exited %d, expected 2 (stderr: %s)", args, r->status, r->err);
    cr_expect_eq(r->err_lines, 1, "'%s' printed %d lines on stderr: %s", args, r->err_lines,
                 r->err);
    cr_expect_not_null(strstr(r->err, mentions), "'%s': stderr '%s' should mention '%s'", args,
                       r->err, mentions);
    cr_expect_str_empty(r->out, "'%s' wrote to stdout: %s", args, r->out);
}

Test(cli_bad_input, each_mistake_gets_one_line_and_exit_2) {
    expect_bad_input("exact --model foo", "foo");
    expect_bad_input("exact --bogus 3", "--bogus");
    expect_bad_input("exact --beta abc", "abc");
    expect_bad_input("exact --beta 0.5,x", "'x'");
    expect_bad_input("exact --N -3", "-3");
    expect_bad_input("exact --N 2.5", "2.5");
    expect_bad_input("exact --g 0", "must be > 0");
    expect_bad_input("exact --g -1", "-1");
    expect_bad_input("exact --beta 0", "must be > 0");
    expect_bad_input("exact --beta -2", "-2");
    expect_bad_input("exact --beta 1:10:0", "1:10:0");
    expect_bad_input("exact --beta -1:10:5:log", "log range");
    expect_bad_input("exact --beta nan", "nan");
    expect_bad_input("exact --channels 0", "channels");
    expect_bad_input("exact --levels 1,1", "equal");
    expect_bad_input("exact --levels 1,2,3", "expected 2");
    expect_bad_input("exact --what spectrum", "spectrum");
    expect_bad_input("exact --model lz --N 4", "--N");
    expect_bad_input("exact --model lz --what moments", "moments");
    expect_bad_input("exact --what phases --channels 2", "phases");
    expect_bad_input("exact --what critical --N 0", "N >= 1");
    expect_bad_input("exact --N", "needs a value");
    expect_bad_input("exact stray", "stray");
    expect_bad_input("frobnicate", "frobnicate");
}

Test(cli_bad_input, oversize_requests_are_refused_up_front) {
    expect_bad_input("exact --channels 1 --N 1e15 --what dist", "GiB");
    expect_bad_input("exact --channels 3 --N 1e6 --what dist", "GiB");
    expect_bad_input("exact --channels 64 --N 1e6 --what dist", "2^63");
    run_result *r = run("TCGPU_MEMORY_LIMIT=1000000", "exact --N 2000 --what dist --beta 1");
    cr_expect_eq(r->status, 2, "a 2000-molecule joint table under a 1 MB ceiling: %d", r->status);
    cr_expect_not_null(strstr(r->err, "GiB"), "%s", r->err);
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; ++s)
        n += *s == '\n';
    return n;
}

static int first_line_is(const char *s, const char *header) {
    size_t n = strlen(header);
    return !strncmp(s, header, n) && s[n] == '\n';
}

Test(cli_tables, headers_and_row_counts) {
    static const struct {
        const char *args, *header;
        int lines;
    } cases[] = {
        {"exact --model tc --N 40 --channels 2 --g 1 --beta 0.5 --what dist", "beta,n1,n2,prob",
         1 + 41 * 42 / 2},
        {"exact --N 40 --channels 1 --beta 0.5,2 --what dist", "beta,n1,prob", 1 + 2 * 41},
        {"exact --N 5 --channels 3 --beta 1 --what dist", "beta,n1,n2,n3,prob", 1 + 56},
        {"exact --N 5 --g 1,2 --beta 1 --what dist", "g,beta,n1,n2,prob", 1 + 2 * 21},
        {"exact --model lz --beta 0.1:10:3:log", "beta,level,prob", 1 + 3 * 2},
        {"exact --model do --channels 2 --beta 1", "beta,level,prob", 1 + 3},
        {"exact --model heff --N 50 --beta 50 --what dist", "beta,n1,n2,prob", 1 + 51},
        {"exact --N 40 --beta 0.5", "beta,g,N,channels,mean_n1,mean_n2,mean_n,eta", 2},
        {"exact --N 40 --channels 3 --beta 0.5:2:4",
         "beta,g,N,channels,mean_n1,mean_n2,mean_n3,"
         "mean_n",
         5},
        {"exact --what critical --N 10 --g 1,2", "N,g,beta_c_exact,beta_c_asymptotic", 3},
        {"exact --what total --N 10 --beta 1", "beta,n,prob", 12},
        {"exact --what phases --channels 1 --N 3 --g 0.5:1.5:3 --beta 1",
         "beta,g,m,prob,phase,phase_mod_2pi", 1 + 12},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        run_result *r = run(NULL, cases[i].args);
        cr_expect_eq(r->status, 0, "'%s' exited %d: %s", cases[i].args, r->status, r->err);
        cr_expect(first_line_is(r->out, cases[i].header), "'%s' header: %.80s", cases[i].args,
                  r->out);
        cr_expect_eq(count_lines(r->out), cases[i].lines, "'%s': %d lines", cases[i].args,
                     count_lines(r->out));
        cr_expect_str_empty(r->err, "'%s' stderr: %s", cases[i].args, r->err);
    }
}

Test(cli_tables, dist_sums_to_one_and_extremes_print_no_nan) {
    run_result *r = run(NULL, "exact --N 30 --channels 2 --beta 1e-300,1,1e300 --what dist");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_expect_null(strstr(r->out, "nan"));
    cr_expect_null(strstr(r->out, "inf"));
    long double sum[3] = {0};
    char *line = strchr(r->out, '\n') + 1;
    double beta, p;
    int n1, n2;
    while (sscanf(line, "%lf,%d,%d,%lf", &beta, &n1, &n2, &p) == 4) {
        sum[beta < 1e-100 ? 0 : beta > 1e100 ? 2 : 1] += p;
        line = strchr(line, '\n') + 1;
    }
    for (int i = 0; i < 3; ++i)
        cr_expect_leq(fabsl(sum[i] - 1), 1e-13L, "block %d sums to %.17Lg", i, sum[i]);
    r = run(NULL, "exact --N 100 --channels 2 --beta 1e-300,1e300 --what asymptotic");
    cr_expect_eq(r->status, 0);
    cr_expect_null(strstr(r->out, "nan"));
    cr_expect_null(strstr(r->out, "inf"));
}

Test(cli_tables, levels_keep_the_users_numbering) {
    run_result *r = run(NULL, "exact --N 3 --beta 2 --what dist --levels 0.5,-0.5");
    char swapped[4096];
    strcpy(swapped, r->out);
    r = run(NULL, "exact --N 3 --beta 2 --what dist");
    /* (n1, n2) with reversed energies has the probability of (n2, n1) by default. */
    double a, b;
    char key[64];
    for (int n1 = 0; n1 <= 3; ++n1)
        for (int n2 = 0; n1 + n2 <= 3; ++n2) {
            snprintf(key, sizeof key, "\n2,%d,%d,", n1, n2);
            cr_assert_not_null(strstr(swapped, key));
            sscanf(strstr(swapped, key) + strlen(key), "%lf", &a);
            snprintf(key, sizeof key, "\n2,%d,%d,", n2, n1);
            cr_assert_not_null(strstr(r->out, key));
            sscanf(strstr(r->out, key) + strlen(key), "%lf", &b);
            cr_expect_eq(a, b, "(%d,%d)", n1, n2);
        }
}

Test(cli_output, out_file_is_complete_or_absent) {
    char dir[] = "/tmp/tcgpu_out_XXXXXX", args[512], path[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/fig3.csv", dir);
    snprintf(args, sizeof args, "exact --N 1000 --channels 1 --beta 100,1000 --what dist --out %s",
             path);
    run_result *r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    cr_expect_str_empty(r->out);
    struct stat sb;
    cr_expect_eq(stat(path, &sb), 0, "the output file exists");
    int n = entries(dir);
    cr_expect_eq(n, 1, "no temporary file is left beside the output (%d entries)", n);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);

    /* checked before anything is computed: a bad location is bad input */
    r = run(NULL, "exact --N 5 --out /nonexistent-dir/x.csv");
    cr_expect_eq(r->status, 2, "an output in a missing folder is bad input: %d", r->status);
    cr_expect_eq(r->err_lines, 1, "%s", r->err);
}

Test(cli_info, reports_build_and_devices_without_failing) {
    run_result *r = run(NULL, "info");
    cr_expect_eq(r->status, 0, "%s", r->err);
    cr_expect_not_null(strstr(r->out, "cuda backend:"));
    cr_expect_not_null(strstr(r->out, "cuda device"));
}

Test(cli_run, writes_summary_and_dist_and_refuses_bad_input) {
    char dir[] = "/tmp/tcgpu_run_XXXXXX", args[512], buf[8192];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --model tc --N 2 --channels 2 --beta 1,3 --dist-csv --out %s",
             dir);
    run_result *r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    slurp_in(dir, "summary.csv", buf, sizeof buf);
    static const char head[] = "sweep,model,N,channels,g,beta,eps,method,T,steps,norm_error,"
                               "err_estimate,mean_n1,mean_n2,mean_n,eta,tv_exact,maxabs_exact,"
                               "seconds";
    cr_expect(!strncmp(buf, head, strlen(head)), "summary header: %.200s", buf);
    cr_expect_eq(count_lines(buf), 3);
    slurp_in(dir, "dist.csv", buf, sizeof buf);
    cr_expect(first_line_is(buf, "sweep,n1,n2,prob"), "%.80s", buf);
    cr_expect_eq(count_lines(buf), 1 + 2 * 6);
    snprintf(args, sizeof args, "run --N 2 --beta 1,3 --progress --out %s", dir);
    r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "2/2 sweeps"), "--progress: %s", r->err);
    cr_expect_not_null(strstr(r->out, "TV(exact)"), "the table on stdout: %s", r->out);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
    expect_bad_input("run --method euler", "euler");
    expect_bad_input("run --precision half", "half");
    expect_bad_input("run --precision single --tol 1e-6", "1e-4");
    expect_bad_input("run --tol 0", "--tol");
    expect_bad_input("run --grid diagonal", "diagonal");
    expect_bad_input("run --eps -1", "-1");
}

/* --backend: a bad name is bad input; cuda where this build or machine has none says why in one
 * line (bad input for a build without CUDA, a runtime failure for a missing device); auto and
 * cpu run wherever the CPU does, and run.json names the backend used. */
Test(cli_run, backend_choice_is_checked_and_recorded) {
    expect_bad_input("run --backend gpu", "gpu");
    expect_bad_input("run --batch 0", "--batch");
    tcgpu_device_info dev;
    char why[256] = "", dir[] = "/tmp/tcgpu_run_XXXXXX", args[512], buf[8192];
    int devices = tcgpu_cuda_built() ? tcgpu_cuda_devices(&dev, 1, why, sizeof why) : 0;
    if (!tcgpu_cuda_built())
        expect_bad_input("run --backend cuda --N 2 --beta 1", "without CUDA");
    else if (devices < 1) {
        run_result *r = run(NULL, "run --backend cuda --N 2 --beta 1");
        cr_expect_eq(r->status, 1, "no device: exit %d (%s)", r->status, r->err);
        cr_expect_eq(r->err_lines, 1, "%s", r->err);
    }
    cr_assert_not_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --N 2 --beta 1 --backend auto --out %s", dir);
    run_result *r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    slurp_in(dir, "run.json", buf, sizeof buf);
    cJSON *j = cJSON_Parse(buf);
    cr_assert_not_null(j, "run.json: %.200s", buf);
    const char *backend = cJSON_GetStringValue(cJSON_GetObjectItem(j, "backend"));
    cr_expect_str_eq(backend ? backend : "", devices > 0 ? "cuda" : "cpu");
    cJSON_Delete(j);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* Largest |x - y| over the numbers of two tables of the same shape (text fields must match);
 * INFINITY when the shapes or the text differ. */
static double max_number_diff(const char *a, const char *b) {
    double worst = 0;
    while (*a || *b) {
        char *ea, *eb;
        double x = strtod(a, &ea), y = strtod(b, &eb);
        if (ea != a && eb != b) {
            worst = fmax(worst, fabs(x - y));
            a = ea;
            b = eb;
        } else if (*a == *b && ea == a && eb == b) {
            ++a;
            ++b;
        } else
            return INFINITY;
    }
    return worst;
}

/* The CUDA path's batched controls (run here with the CPU march) write the tables the plain CPU
 * path writes: same rows in the same order, same distributions to the last digit. */
Test(cli_run, batched_controls_write_the_cpu_tables) {
    char dir[] = "/tmp/tcgpu_run_XXXXXX", args[1024], a[16384], b[16384];
    cr_assert_not_null(mkdtemp(dir));
    const char *common = "run --N 3 --channels 2 --beta 0.5,2,8 --eps 0.25,0.5 --dist-csv";
    snprintf(args, sizeof args, "%s --backend cpu --out %s/cpu", common, dir);
    run_result *r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    snprintf(args, sizeof args, "%s --backend cpu-batched --batch 4 --out %s/bat", common, dir);
    r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    char sub[64];
    snprintf(sub, sizeof sub, "%s/cpu", dir);
    slurp_in(sub, "dist.csv", a, sizeof a);
    snprintf(sub, sizeof sub, "%s/bat", dir);
    slurp_in(sub, "dist.csv", b, sizeof b);
    cr_expect_eq(count_lines(a), 1 + 6 * 10);
    cr_expect_str_eq(a, b, "dist.csv differs between --backend cpu and cpu-batched");
    /* the couplings computed on the fly: the generic series, where the default of one and two
     * channels is its real-arithmetic twin (src/step/real_series.c): same up to rounding */
    snprintf(args, sizeof args, "%s --backend cpu-batched --coupling onthefly --out %s/otf", common,
             dir);
    r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    snprintf(sub, sizeof sub, "%s/otf", dir);
    slurp_in(sub, "dist.csv", b, sizeof b);
    cr_expect_leq(max_number_diff(a, b), 1e-12, "dist.csv: --coupling onthefly vs default");
    /* the cuSPARSE path's lockstep driver, run by its CPU twin under the batched controls:
     * same distributions up to rounding order */
    snprintf(args, sizeof args, "%s --backend cpu-batched --cuda-path cusparse --out %s/ls", common,
             dir);
    r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    snprintf(sub, sizeof sub, "%s/ls", dir);
    slurp_in(sub, "dist.csv", b, sizeof b);
    cr_expect_leq(max_number_diff(a, b), 1e-12, "dist.csv: cusparse lockstep vs cpu");
    snprintf(args, sizeof args, "%s --coupling sideways --out %s/bad", common, dir);
    r = run(NULL, args);
    cr_expect_eq(r->status, 2);
    cr_expect(strstr(r->err, "--coupling") != NULL, "%s", r->err);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* Sweeps run on OpenMP threads; the tables must not depend on how many. */
Test(cli_run, threads_leave_rows_in_sweep_order_and_results_unchanged) {
    char d1[] = "/tmp/tcgpu_omp1_XXXXXX", d2[] = "/tmp/tcgpu_omp2_XXXXXX", args[512];
    static char a[65536], b[65536];
    cr_assert_not_null(mkdtemp(d1));
    cr_assert_not_null(mkdtemp(d2));
    const char *scan =
        "run --model tc --N 3 --channels 2 --beta 3,0.5,10,1,30 --eps 0.5,0.25 --dist-csv";
    snprintf(args, sizeof args, "%s --out %s", scan, d1);
    cr_expect_eq(run("OMP_NUM_THREADS=1", args)->status, 0);
    snprintf(args, sizeof args, "%s --out %s", scan, d2);
    cr_expect_eq(run("OMP_NUM_THREADS=3", args)->status, 0);
    slurp_in(d1, "dist.csv", a, sizeof a);
    slurp_in(d2, "dist.csv", b, sizeof b);
    cr_expect_eq(count_lines(a), 1 + 10 * 10);
    cr_expect_str_eq(a, b, "dist.csv differs between 1 and 3 threads");
    slurp_in(d2, "summary.csv", b, sizeof b);
    const char *row = strchr(b, '\n');
    for (int i = 0; i < 10 && row; ++i) { /* sweep column counts up; beta cycles fastest */
        static const double betas[] = {3, 0.5, 10, 1, 30};
        int idx;
        double g, beta;
        cr_expect_eq(sscanf(row + 1, "%d,tc,3,2,%lf,%lf", &idx, &g, &beta), 3, "%.80s", row + 1);
        cr_expect_eq(idx, i);
        cr_expect_float_eq(beta, betas[i % 5], 1e-15);
        row = strchr(row + 1, '\n');
    }
    snprintf(args, sizeof args, "rm -rf %s %s", d1, d2);
    cr_expect_eq(system(args), 0);
}

static cJSON *read_json(const char *dir) {
    static char buf[65536];
    slurp_in(dir, "run.json", buf, sizeof buf);
    return cJSON_Parse(buf);
}

Test(cli_run, run_json_records_parameters_timings_and_completion) {
    char dir[] = "/tmp/tcgpu_json_XXXXXX", args[512];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --N 2 --beta 1,3 --eps 0.25 --out %s", dir);
    cr_expect_eq(run("OMP_NUM_THREADS=2", args)->status, 0);
    cJSON *j = read_json(dir);
    cr_assert_not_null(j, "run.json is not valid JSON");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "completed")));
    cJSON *p = cJSON_GetObjectItem(j, "parameters"), *t = cJSON_GetObjectItem(j, "timings");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(p, "beta")), 2);
    cr_expect_float_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "eps"), 0)->valuedouble, 0.25,
                       1e-15);
    cr_expect_eq(cJSON_GetObjectItem(t, "sweeps_done")->valueint, 2);
    cr_expect_gt(cJSON_GetObjectItem(t, "sweeps_per_second")->valuedouble, 0);
    cr_expect_eq(cJSON_GetObjectItem(j, "threads")->valueint, 2);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "backend")->valuestring, "cpu");
    cr_expect_str_eq(cJSON_GetObjectItem(j, "method")->valuestring, "magnus4");
    cr_expect_str_eq(cJSON_GetObjectItem(j, "precision")->valuestring, "double");
    cr_expect_not_null(strstr(cJSON_GetObjectItem(j, "command")->valuestring, "--beta 1,3"));
    cJSON_Delete(j);
    /* A missing model file is refused before the folder is touched: its record stays. */
    snprintf(args, sizeof args, "run --model mlz --file /nonexistent/model.txt --out %s", dir);
    cr_expect_eq(run(NULL, args)->status, 2);
    j = read_json(dir);
    cr_assert_not_null(j);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "completed")));
    cJSON_Delete(j);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* Ctrl-C mid-run: the finished sweep is kept in complete tables, the record says so, exit 130.
 * One thread, so that sweep 0 (about a second) finishes before sweep 1 (N = 20, eps = 0.1,
 * beta = 11.4: about 6 s; N = 10, beta = 10 had come down to 2 s) is interrupted; the signal
 * goes once sweep 0's row is on stdout. */
Test(cli_run, sigint_keeps_finished_sweeps_and_exits_130) {
    char dir[] = "/tmp/tcgpu_intr_XXXXXX", cmd[2048], path[600];
    static char buf[65536];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(
        cmd, sizeof cmd,
        "cd %s && (OMP_NUM_THREADS=1 %s run --N 20 --beta 0.3,11.4 --eps 0.1 --dist-csv --out res "
        ">out 2>err & p=$!; n=0; while ! grep -qs '^ *0 ' out && [ $n -lt 600 ]; do "
        "sleep 0.1; n=$((n+1)); done; sleep 0.5; kill -INT $p; wait $p; echo $? >status)",
        dir, TCGPU_BIN);
    cr_assert_eq(system(cmd), 0);
    slurp_in(dir, "status", buf, sizeof buf);
    cr_expect_eq(atoi(buf), 130, "exit status %s", buf);
    slurp_in(dir, "err", buf, sizeof buf);
    cr_expect_not_null(strstr(buf, "1 of 2 sweeps"), "stderr: %s", buf);
    slurp_in(dir, "res/summary.csv", buf, sizeof buf);
    cr_expect_eq(count_lines(buf), 2, "header and sweep 0: %s", buf);
    slurp_in(dir, "res/dist.csv", buf, sizeof buf);
    cr_expect_eq(count_lines(buf), 1 + 231, "sweep 0's distribution over C(22, 2) states");
    cJSON *j = read_json(dir);
    cr_expect_null(j, "run.json belongs in res/");
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/res", dir);
    j = read_json(path);
    cr_assert_not_null(j);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(j, "completed")));
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "interrupted")));
    cJSON_Delete(j);
    cr_expect_eq(entries(path), 4,
                 "only summary.csv, dist.csv, dist.h5, run.json (an interrupted run draws no "
                 "plot): no temporary file left");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

static void read_h5(hid_t f, const char *name, hid_t type, void *out) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    cr_assert_geq(d, 0, "dataset %s", name);
    cr_assert_geq(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), 0, "%s", name);
    H5Dclose(d);
}

/* dist.h5 against dist.csv and the identities it must satisfy. */
Test(cli_run, dist_h5_holds_the_distributions_basis_and_parameters) {
    char dir[] = "/tmp/tcgpu_h5_XXXXXX", args[512], path[600];
    static char buf[65536];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --N 2 --beta 1,3 --eps 0.25 --dist-csv --out %s", dir);
    cr_assert_eq(run(NULL, args)->status, 0);
    snprintf(path, sizeof path, "%s/dist.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "dist.h5 opens");
    double prob[2][6], exact[2][6], beta[2], eps[2], tv[2];
    int basis[6][2];
    long long sweep[2];
    read_h5(f, "prob", H5T_NATIVE_DOUBLE, prob);
    read_h5(f, "exact", H5T_NATIVE_DOUBLE, exact);
    read_h5(f, "beta", H5T_NATIVE_DOUBLE, beta);
    read_h5(f, "eps", H5T_NATIVE_DOUBLE, eps);
    read_h5(f, "tv_exact", H5T_NATIVE_DOUBLE, tv);
    read_h5(f, "basis", H5T_NATIVE_INT, basis);
    read_h5(f, "sweep", H5T_NATIVE_LLONG, sweep);
    H5Fclose(f);
    slurp_in(dir, "dist.csv", buf, sizeof buf);
    const char *line = strchr(buf, '\n');
    for (int i = 0; i < 2; ++i) {
        double sp = 0, se = 0, d = 0;
        for (int k = 0; k < 6; ++k) {
            int idx, n1, n2;
            double p;
            cr_assert_eq(sscanf(line + 1, "%d,%d,%d,%lf", &idx, &n1, &n2, &p), 4);
            cr_expect(idx == i && n1 == basis[k][0] && n2 == basis[k][1], "row %d.%d", i, k);
            cr_expect_eq(p, prob[i][k], "dist.csv and dist.h5 hold the same double");
            line = strchr(line + 1, '\n');
            sp += prob[i][k];
            se += exact[i][k];
            d += fabs(prob[i][k] - exact[i][k]) / 2;
        }
        cr_expect_eq(sweep[i], i);
        /* |sum p - 1| = |sum (p - exact)| <= 2 TV: the dressed readout's total is not exactly 1 */
        cr_expect_leq(fabs(sp - 1), 2 * d + 1e-15, "sweep %d: probabilities sum to %.15g (TV %g)",
                      i, sp, d);
        cr_expect_float_eq(se, 1.0, 1e-12, "exact distribution sums to %.15g", se);
        cr_expect_float_eq(tv[i], d, 1e-15, "tv_exact is the TV of /prob and /exact");
        cr_expect_leq(tv[i], 1e-6);
        cr_expect_float_eq(eps[i], 0.25, 1e-15);
    }
    cr_expect(beta[0] == 1 && beta[1] == 3);
    /* What the README shows a user: h5dump and h5py open it (scripts/bootstrap installs both). */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "h5dump -H %s/dist.h5 >/dev/null 2>&1", dir);
    cr_expect_eq(system(cmd), 0, "h5dump -H reads dist.h5");
    /* The interpreter is the one CMake found able to import h5py (tests/CMakeLists.txt): the
       python3 first on PATH need not be Debian's, where scripts/bootstrap installs h5py. */
    if (TCGPU_TEST_PYTHON[0]) {
        fprintf(stderr, "test_cli: h5py check with %s\n", TCGPU_TEST_PYTHON);
        snprintf(cmd, sizeof cmd,
                 "%s -c 'import sys, h5py; f = h5py.File(sys.argv[1]); "
                 "sys.exit(int(abs(f[\"prob\"][:].sum(axis=1) - 1).max() > 1e-6))' %s/dist.h5",
                 TCGPU_TEST_PYTHON, dir);
        cr_expect_eq(system(cmd), 0, "h5py (%s) reads dist.h5 and its rows sum to 1",
                     TCGPU_TEST_PYTHON);
    } else {
        fprintf(stderr, "test_cli: h5py check skipped: no python3 (PATH or /usr/bin) imports "
                        "h5py; scripts/bootstrap installs Debian's python3-h5py\n");
    }
    for (int k = 0; k < 6; ++k) /* the basis n1 + n2 <= 2, n1 slowest */
        cr_expect(basis[k][0] + basis[k][1] <= 2 && (k == 0 || basis[k][0] >= basis[k - 1][0]));
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* Memory, disk and the readout's dimension are checked before anything is written. */
Test(cli_run, oversize_runs_are_refused_up_front_with_the_amount) {
    char dir[] = "/tmp/tcgpu_big_XXXXXX", args[512];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --N 40 --out %s/a", dir);
    run_result *r = run("TCGPU_MEMORY_LIMIT=1e6", args);
    cr_expect_eq(r->status, 2);
    cr_expect(r->err_lines == 1 && strstr(r->err, "GiB of memory"), "%s", r->err);
    snprintf(args, sizeof args, "run --N 10 --beta 0.1:10:1000 --dist-csv --out %s/b", dir);
    r = run("TCGPU_DISK_LIMIT=1e5", args);
    cr_expect_eq(r->status, 2);
    cr_expect(r->err_lines == 1 && strstr(r->err, "GiB of disk"), "%s", r->err);
    /* heff (not a chain: 1/t couplings) is still read densely; two channels have the window
     * readout past 6000 states, and their memory (the sparse start's Lanczos vectors, a
     * window's frames) is what bounds them */
    snprintf(args, sizeof args, "run --model heff --N 7000 --out %s/c", dir);
    r = run(NULL, args);
    cr_expect_eq(r->status, 2);
    cr_expect(r->err_lines == 1 && strstr(r->err, "7001 states"), "%s", r->err);
    snprintf(args, sizeof args, "run --N 1000 --channels 2 --beta 10 --out %s/d", dir);
    r = run("TCGPU_MEMORY_LIMIT=1e9", args);
    cr_expect_eq(r->status, 2);
    cr_expect(r->err_lines == 1 && strstr(r->err, "GiB of memory"), "%s", r->err);
    cr_expect_eq(entries(dir), 0, "a refused run creates no folder");
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* An mlz model has no channel means: its rows leave them out, and computing them anyway (one per
 * level) wrote past the means' array from 66 states on, a crash once the sweep was done. */
Test(cli_run, an_mlz_model_of_many_states_writes_its_tables) {
    char dir[] = "/tmp/tcgpu_mlz_XXXXXX", path[256], args[512];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.mlz", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "states 70\n");
    for (int i = 0; i < 70; ++i)
        fprintf(f, "slope %d %g\n", i, i % 7 == 3 ? 0.5 : (double)(i % 7 - 3));
    for (int i = 0; i + 1 < 70; ++i)
        fprintf(f, "coupling %d %d 0.3\n", i, i + 1);
    fclose(f);
    snprintf(args, sizeof args,
             "run --model mlz --file %s --beta 1 --tol 1e-4 --dist-csv --no-plot --out %s/out",
             path, dir);
    run_result *r = run("OMP_NUM_THREADS=2", args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    static char buf[65536];
    snprintf(path, sizeof path, "%s/out", dir);
    slurp_in(path, "summary.csv", buf, sizeof buf);
    cr_expect_eq(count_lines(buf), 2, "%s", buf);
    slurp_in(path, "dist.csv", buf, sizeof buf);
    cr_expect_eq(count_lines(buf), 1 + 70);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* A disk that fills after the up-front check passed (TCGPU_DISK_LIMIT passes that check),
 * whichever write it refuses first (run.json at the start or while the sweeps run, a table row,
 * dist.h5's last metadata, the final run.json): exit 1, or 0 where everything fit, with one
 * line on stderr, no temporary file, and the tables all there or none of them beside a run.json
 * that says whether the run completed. */
typedef struct {
    int status;
    char err[4096], ls[4096], json[65536];
} full_disk;

/* Runs `tcgpu run ARGS --out DIR/mnt/out` after `limit` (shell commands, in the subshell that
 * runs it), the whole inside `wrap` (a shell command with one %s), then lists the folder and
 * keeps its run.json in DIR/log. */
static full_disk *run_on_full_disk(const char *wrap, const char *limit, const char *dir,
                                   const char *args) {
    static full_disk r;
    char run[2048], script[4096], log[256];
    snprintf(log, sizeof log, "%s/log", dir);
    mkdir(log, 0700);
    snprintf(run, sizeof run,
             "( %s exec env TCGPU_DISK_LIMIT=1e12 OMP_NUM_THREADS=2 %s run %s --no-plot --out "
             "%s/mnt/out ) >/dev/null 2>%s/err; echo $? >%s/rc; wait; { echo; ls -a "
             "%s/mnt/out; } >%s/ls 2>/dev/null; cp %s/mnt/out/run.json %s/ 2>/dev/null; true",
             limit, TCGPU_BIN, args, dir, log, log, dir, log, dir, log);
    snprintf(script, sizeof script, wrap, run);
    cr_assert_eq(system(script), 0, "%s", script);
    char rc[32];
    slurp_in(log, "rc", rc, sizeof rc);
    r.status = *rc ? atoi(rc) : -1;
    slurp_in(log, "err", r.err, sizeof r.err);
    slurp_in(log, "ls", r.ls, sizeof r.ls);
    slurp_in(log, "run.json", r.json, sizeof r.json);
    snprintf(script, sizeof script, "rm -rf %s/log %s/mnt/out", dir, dir);
    cr_expect_eq(system(script), 0);
    return &r;
}

static int listed(const char *ls, const char *name) {
    char line[128];
    snprintf(line, sizeof line, "\n%s\n", name);
    return strstr(ls, line) != NULL;
}

static void expect_full_disk_promises(const char *what, const full_disk *r, int dist_csv) {
    cr_expect(r->status == 0 || r->status == 1, "%s: exit %d (%s)", what, r->status, r->err);
    cr_expect_eq(count_lines(r->err), 1, "%s: %d lines on stderr, expected one:\n%s", what,
                 count_lines(r->err), r->err);
    cr_expect_null(strstr(r->ls, ".tmp."), "%s: a temporary file is left:%s", what, r->ls);
    int all = 2 + dist_csv, tables = listed(r->ls, "summary.csv") + listed(r->ls, "dist.h5") +
                                     (dist_csv && listed(r->ls, "dist.csv"));
    cr_expect(tables == 0 || tables == all, "%s: %d of the %d tables (a mixed folder):%s", what,
              tables, all, r->ls);
    cr_expect(r->status != 0 || tables == all, "%s: exit 0 without the tables:%s", what, r->ls);
    if (!*r->json && r->status != 0)
        return; /* run.json itself was refused at the start: nothing was written */
    cJSON *j = cJSON_Parse(r->json), *done = cJSON_GetObjectItem(j, "completed");
    cr_expect(cJSON_IsBool(done) && cJSON_IsTrue(done) == (r->status == 0),
              "%s: exit %d with run.json %.300s", what, r->status, r->json);
    cJSON_Delete(j);
}

/* Per-file size limits (RLIMIT_FSIZE, SIGXFSZ ignored: writes past it fail with EFBIG), which
 * need no privileges: from the first run.json (2.8 kB here) to dist.h5's 85 kB. */
Test(cli_run, a_file_size_limit_mid_run_ends_it_with_one_line) {
    char dir[] = "/tmp/tcgpu_full_XXXXXX", limit[128], what[64], cmd[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "%s/mnt", dir);
    cr_assert_eq(mkdir(cmd, 0700), 0);
    static const int kb[] = {2, 3, 6, 16, 24, 64, 128};
    int failed = 0;
    for (size_t k = 0; k < sizeof kb / sizeof *kb; ++k) {
        snprintf(limit, sizeof limit, "trap '' XFSZ; ulimit -f %d;", 2 * kb[k]);
        snprintf(what, sizeof what, "%d kB per file", kb[k]);
        full_disk *r = run_on_full_disk("%s", limit, dir, "--model lz --beta 1:2:100 --dist-csv");
        expect_full_disk_promises(what, r, 1);
        failed += r->status == 1;
    }
    cr_expect_geq(failed, 5, "the small limits failed the run (%d of 7 did)", failed);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* A real full disk (ENOSPC), on a tmpfs of its own in a user and mount namespace: small ones,
 * and a 1 MB one that another process fills while the sweeps run. Skipped where unprivileged
 * namespaces are not allowed. */
Test(cli_run, a_disk_that_fills_mid_run_ends_it_with_one_line) {
    char dir[] = "/tmp/tcgpu_full_XXXXXX", cmd[512], wrap[512], what[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "mkdir %s/mnt && unshare -rm sh -c 'mount -t tmpfs -o size=64k tmpfs %s/mnt' "
             ">/dev/null 2>&1",
             dir, dir);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        cr_expect_eq(system(cmd), 0);
        cr_skip_test("no tmpfs in a user namespace here (unshare -rm refused)");
    }
    static const int kb[] = {8, 16, 48, 160};
    for (size_t k = 0; k < sizeof kb / sizeof *kb; ++k) {
        snprintf(wrap, sizeof wrap,
                 "unshare -rm sh -c 'mount -t tmpfs -o size=%dk tmpfs %s/mnt && %%s'", kb[k], dir);
        snprintf(what, sizeof what, "a %d kB disk", kb[k]);
        expect_full_disk_promises(what,
                                  run_on_full_disk(wrap, "", dir, "--model lz --beta 1:2:300"), 0);
    }
    /* filled 0.2-0.8 s into a 1.5 s run: a summary row, or the run.json rewritten every second,
     * is refused first */
    static const double at[] = {0.2, 0.5, 0.8};
    for (size_t k = 0; k < sizeof at / sizeof *at; ++k) {
        snprintf(wrap, sizeof wrap,
                 "unshare -rm sh -c 'mount -t tmpfs -o size=1m tmpfs %s/mnt && "
                 "{ ( sleep %g; cat /dev/zero >%s/mnt/fill 2>/dev/null ) & %%s; }'",
                 dir, at[k], dir);
        snprintf(what, sizeof what, "a disk filled at %g s", at[k]);
        expect_full_disk_promises(
            what, run_on_full_disk(wrap, "", dir, "--model tc --N 3 --channels 2 --beta 0.5:5:12"),
            0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* Summary rows without their `seconds` field (the one column a second run may change). */
static void drop_seconds(char *csv) {
    int col = 0;
    for (const char *p = csv; *p != '\n'; ++p) /* position of "seconds" in the header */
        if (*p == ',' && !strncmp(p + 1, "seconds,", 8)) {
            for (const char *q = csv; q <= p; ++q)
                col += *q == ',';
            break;
        }
    cr_assert_gt(col, 0, "summary.csv has a seconds column");
    char *w = csv;
    for (char *r = csv; *r;) {
        int c = 0;
        for (; *r && *r != '\n'; ++r) {
            c += *r == ',';
            if (c != col || *r == ',')
                *w++ = *r;
        }
        if (*r)
            *w++ = *r++;
    }
    *w = '\0';
}

/* --resume after Ctrl-C: the sweep finished before the signal is kept (not redone), the rest is
 * computed, and every table equals an uninterrupted run's. Sweep 0 takes 0.3 s, sweep 1 about
 * 1.1 (N = 4, beta = 1 became too fast with the second-order readout, N = 10, beta = 3 with the
 * sixth: 0.3 s, and N = 10, eps = 0.1, beta = 30 at tol 1e-6 with the far field: 0.16 s; the
 * signal missed them), so the signal sent 0.3 s after sweep 0's row lands inside sweep 1. */
/* In dir: ref_job run to the end into ref/, and job into res/, interrupted by SIGINT once its
 * first sweep is on stdout (res/out); the interrupted run must exit 130. */
static void run_ref_and_interrupted(const char *dir, const char *ref_job, const char *job) {
    char cmd[2048], status[64];
    snprintf(cmd, sizeof cmd, "cd %s && OMP_NUM_THREADS=1 %s %s --out ref >/dev/null 2>&1", dir,
             TCGPU_BIN, ref_job);
    cr_assert_eq(system(cmd), 0);
    run_then_interrupt(dir, job, "out", "^ *0 ", 0.3);
    slurp_in(dir, "status", status, sizeof status);
    cr_assert_eq(atoi(status), 130, "the run to resume was interrupted (exit %s)", status);
}

Test(cli_run, resume_finishes_an_interrupted_run_like_an_uninterrupted_one) {
    char dir[] = "/tmp/tcgpu_resume_XXXXXX", cmd[2048], path[600];
    static char a[65536], b[65536];
    const char *job = "run --N 10 --beta 0.3,30 --eps 0.1 --tol 1e-8 --dist-csv";
    cr_assert_not_null(mkdtemp(dir));
    run_ref_and_interrupted(dir, job, job);
    slurp_in(dir, "res/summary.csv", a, sizeof a);
    cr_assert_eq(count_lines(a), 2, "header and sweep 0 before resuming: %s", a);
    char sweep0[4096];
    snprintf(sweep0, sizeof sweep0, "%s", strchr(a, '\n') + 1);

    snprintf(cmd, sizeof cmd, "run --resume %s/res", dir);
    run_result *r = run("OMP_NUM_THREADS=1", cmd);
    cr_expect_eq(r->status, 0, "resume: %s", r->err);
    slurp_in(dir, "res/summary.csv", a, sizeof a);
    cr_expect(!strncmp(strchr(a, '\n') + 1, sweep0, strlen(sweep0)),
              "sweep 0's row is kept verbatim (seconds included: it was not redone)");
    slurp_in(dir, "ref/summary.csv", b, sizeof b);
    drop_seconds(a);
    drop_seconds(b);
    cr_expect_str_eq(a, b, "summary.csv after --resume equals the uninterrupted run's");
    slurp_in(dir, "res/dist.csv", a, sizeof a);
    slurp_in(dir, "ref/dist.csv", b, sizeof b);
    cr_expect_eq(count_lines(a), 1 + 2 * 66);
    cr_expect_str_eq(a, b, "dist.csv after --resume equals the uninterrupted run's");
    snprintf(path, sizeof path, "%s/res/dist.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "dist.h5 opens");
    double prob[2][66];
    long long sweep[2];
    read_h5(f, "prob", H5T_NATIVE_DOUBLE, prob);
    read_h5(f, "sweep", H5T_NATIVE_LLONG, sweep);
    H5Fclose(f);
    cr_expect(sweep[0] == 0 && sweep[1] == 1, "dist.h5 rows in sweep order");
    const char *line = strchr(b, '\n');
    for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 66; ++k) {
            int idx, n1, n2;
            double p;
            cr_assert_eq(sscanf(line + 1, "%d,%d,%d,%lf", &idx, &n1, &n2, &p), 4);
            cr_expect_eq(p, prob[i][k], "dist.h5 row %d state %d", i, k);
            line = strchr(line + 1, '\n');
        }
    snprintf(path, sizeof path, "%s/res", dir);
    cJSON *j = read_json(path);
    cr_assert_not_null(j);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "completed")));
    cJSON *t = cJSON_GetObjectItem(j, "timings");
    cr_expect_eq(cJSON_GetObjectItem(t, "sweeps_done")->valueint, 2);
    cr_expect_eq(cJSON_GetObjectItem(t, "sweeps_restored")->valueint, 1);
    cr_expect_not_null(strstr(cJSON_GetObjectItem(j, "command")->valuestring, "--beta 0.3,30"),
                       "the record names the run's own options, not --resume");
    cJSON_Delete(j);
    cr_expect_eq(entries(path), 6,
                 "summary.csv, dist.csv, dist.h5, run.json, plot.gp, plot.png: no temporary file");

    r = run(NULL, cmd); /* a completed run is left as it is */
    cr_expect_eq(r->status, 0);
    cr_expect_not_null(strstr(r->err, "nothing to resume"), "%s", r->err);
    snprintf(cmd, sizeof cmd, "run --resume %s/res --N 3", dir);
    expect_bad_input(cmd, "drop --N");
    snprintf(cmd, sizeof cmd, "run --resume %s", dir);
    expect_bad_input(cmd, "run.json");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* --levels sets the energies: eps has no value there, so summary.csv leaves its cell empty,
 * the table prints "-" and run.json records null (the default 0.25 had been written beside the
 * levels as if used); and an interrupted levels run resumes. Levels -0.2, 0.2 are eps = 0.1's
 * (e_k = 2 (2k - K - 1) eps): the rows equal the eps run's but for that cell. */
Test(cli_run, levels_leave_eps_empty_and_resume) {
    char dir[] = "/tmp/tcgpu_levels_XXXXXX", cmd[2048], path[600];
    static char a[65536], b[65536];
    const char *job = "run --N 10 --beta 0.3,30 --levels=-0.2,0.2 --tol 1e-8 --no-plot";
    cr_assert_not_null(mkdtemp(dir));
    run_ref_and_interrupted(dir, "run --N 10 --beta 0.3,30 --eps 0.1 --tol 1e-8 --no-plot", job);
    slurp_in(dir, "out", a, sizeof a);
    cr_expect_not_null(strstr(a, " 1        -"), "the table's eps is '-': %s", a);
    snprintf(cmd, sizeof cmd, "run --resume %s/res", dir);
    run_result *r = run("OMP_NUM_THREADS=1", cmd);
    cr_expect_eq(r->status, 0, "resume: %s", r->err);
    slurp_in(dir, "res/summary.csv", a, sizeof a);
    slurp_in(dir, "ref/summary.csv", b, sizeof b);
    cr_expect_eq(count_lines(a), 3, "%s", a);
    drop_seconds(a);
    drop_seconds(b);
    for (char *e; (e = strstr(b, ",0.10000000000000001,"));) /* the eps cell emptied */
        memmove(e + 1, e + 20, strlen(e + 20) + 1);
    cr_expect_str_eq(a, b, "the levels run's rows are the eps run's with an empty eps cell");
    snprintf(path, sizeof path, "%s/res", dir);
    cJSON *j = read_json(path);
    cr_assert_not_null(j);
    cJSON *p = cJSON_GetObjectItem(j, "parameters"), *eps = cJSON_GetObjectItem(p, "eps");
    cr_expect(cJSON_IsArray(eps) && cJSON_GetArraySize(eps) == 1 &&
                  cJSON_IsNull(cJSON_GetArrayItem(eps, 0)),
              "run.json's eps is [null] beside the levels");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(p, "levels")), 2);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "completed")));
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* --precision single: the default tolerance becomes 1e-4, which the fp32 march meets against the
 * exact engine (tv_exact column), and run.json says which arithmetic ran. */
Test(cli_run, single_precision_runs_at_1e_4_and_is_recorded) {
    char dir[] = "/tmp/tcgpu_fp32_XXXXXX", args[512], buf[8192];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --N 4 --channels 2 --beta 0.5,5 --precision single --out %s",
             dir);
    run_result *r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    cJSON *j = read_json(dir);
    cr_assert_not_null(j, "run.json is not valid JSON");
    cr_expect_str_eq(cJSON_GetObjectItem(j, "precision")->valuestring, "single");
    cr_expect_float_eq(cJSON_GetObjectItem(j, "tolerance")->valuedouble, 1e-4, 1e-18);
    cJSON_Delete(j);
    slurp_in(dir, "summary.csv", buf, sizeof buf);
    char *line = strchr(buf, '\n');
    int rows = 0;
    while (line && line[1]) {
        /* tv_exact is the 17th column of a two-channel table */
        char *c = line + 1;
        for (int k = 0; k < 16 && c; ++k)
            c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
        cr_assert_not_null(c, "short row: %.200s", line + 1);
        double tv = strtod(c, NULL);
        cr_expect_leq(tv, 1e-4, "fp32 sweep: tv_exact %.3e", tv);
        ++rows;
        line = strchr(line + 1, '\n');
    }
    cr_expect_eq(rows, 2);
    /* A two-channel sweep whose long window (small eps: t_c = g^2 N/(beta eps) = 200) gathers
     * more fp32 round-off than 1e-4: the control stops at what it reached, the run succeeds,
     * and stderr says which sweeps are above --tol (the estimate is honest, so it is the one
     * to check). (beta = 0.05 was this case until adiabatic sweeps were read by energy rank:
     * their window is now short.) */
    snprintf(args, sizeof args,
             "run --N 20 --channels 2 --eps 0.1 --beta 1 --precision single --out %s/slow", dir);
    r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    cr_expect_not_null(strstr(r->err, "1 of 1 sweeps ended with an error estimate above"), "%s",
                       r->err);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* A control out of step halvings ends at once with an honest estimate and says what to do
 * (it used to grow the window for minutes with a failing step check); a bad count exits 2. */
Test(cli_run, spent_step_halvings_end_the_sweep_with_a_warning) {
    char dir[] = "/tmp/tcgpu_halv_XXXXXX", args[512];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(args, sizeof args,
             "run --model tc --N 4 --channels 2 --beta 1 --method rk4 --max-halvings 1 --out %s/a",
             dir);
    run_result *r = run(NULL, args);
    cr_expect_eq(r->status, 0, "%s", r->err);
    cr_expect(strstr(r->err, "--max-halvings") != NULL, "%s", r->err);
    snprintf(args, sizeof args, "run --max-halvings 0 --out %s/b", dir);
    r = run(NULL, args);
    cr_expect_eq(r->status, 2);
    cr_expect(strstr(r->err, "--max-halvings") != NULL, "%s", r->err);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}
