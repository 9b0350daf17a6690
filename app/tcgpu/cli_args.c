/* Parsing and output helpers of the CLI. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tcgpu/exact.h"

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tcgpu %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_usage(FILE *f, const char *cmd, const char *synopsis, const cli_option *opts) {
    fprintf(f, "usage: tcgpu %s %s\n\noptions:\n", cmd, synopsis);
    for (const cli_option *o = opts; o->name; ++o)
        fprintf(f, "  --%-12s %s\n", o->name, o->help);
}

int cli_parse(const char *cmd, const cli_option *opts, int argc, char **argv, cli_parsed *p) {
    memset(p, 0, sizeof *p);
    p->opts = opts;
    while (opts[p->count].name)
        p->count++;
    for (int i = 0; i < argc; ++i) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            cli_error(cmd,
                      "unexpected argument '%s': options are written --name value "
                      "(see tcgpu %s --help)",
                      arg, cmd);
            return CLI_BADINPUT;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int k = 0;
        while (k < p->count && !(strlen(opts[k].name) == len && !strncmp(opts[k].name, name, len)))
            ++k;
        if (k == p->count) {
            cli_error(cmd, "unknown option '--%.*s' (see tcgpu %s --help)", (int)len, name, cmd);
            return CLI_BADINPUT;
        }
        if (p->values[k]) {
            cli_error(cmd, "option --%s given twice", opts[k].name);
            return CLI_BADINPUT;
        }
        if (!opts[k].takes_value) {
            if (eq) {
                cli_error(cmd, "option --%s takes no value", opts[k].name);
                return CLI_BADINPUT;
            }
            p->values[k] = "1";
        } else if (eq) {
            p->values[k] = eq + 1;
        } else if (i + 1 < argc) {
            p->values[k] = argv[++i];
        } else {
            cli_error(cmd, "option --%s needs a value", opts[k].name);
            return CLI_BADINPUT;
        }
    }
    return CLI_OK;
}

const char *cli_get(const cli_parsed *p, const char *name) {
    for (int k = 0; k < p->count; ++k)
        if (!strcmp(p->opts[k].name, name))
            return p->values[k];
    return NULL;
}

int cli_double(const char *cmd, const char *flag, const char *text, double *out) {
    char *end;
    errno = 0;
    /* decimal only, written whole: strtod alone would take ' 3' and 0x10 (but not '3 ') */
    const char *digits = text + (*text == '+' || *text == '-');
    int decimal =
        (*digits == '.' || (*digits >= '0' && *digits <= '9')) && !strpbrk(digits, "xXpP");
    double v = decimal ? strtod(text, &end) : 0;
    if (!decimal || end == text || *end != '\0' || !isfinite(v) || errno == ERANGE) {
        cli_error(cmd,
                  "--%s: '%s' is not a number; expected a decimal number such as 3, 0.5 or 1e-3",
                  flag, text);
        return CLI_BADINPUT;
    }
    *out = v;
    return CLI_OK;
}

int cli_int(const char *cmd, const char *flag, const char *text, int64_t *out) {
    double v;
    if (cli_double(cmd, flag, text, &v))
        return CLI_BADINPUT;
    if (v != floor(v) || fabs(v) > 9007199254740992.0) {
        cli_error(cmd, "--%s: '%s' is not an integer", flag, text);
        return CLI_BADINPUT;
    }
    *out = (int64_t)v;
    return CLI_OK;
}

static int range_values(const char *cmd, const char *flag, const char *text, double **vals,
                        size_t *n) {
    char buf[256], *parts[5];
    int np = 0;
    if (strlen(text) >= sizeof buf) {
        cli_error(cmd, "--%s: range '%s' is too long", flag, text);
        return CLI_BADINPUT;
    }
    strcpy(buf, text);
    for (char *s = buf, *colon; np < 5; s = colon + 1) {
        parts[np++] = s;
        if (!(colon = strchr(s, ':')))
            break;
        *colon = '\0';
    }
    int is_log = 0;
    if (np == 4 && !strcmp(parts[3], "log"))
        is_log = 1;
    else if (!(np == 3 || (np == 4 && !strcmp(parts[3], "lin")))) {
        cli_error(cmd, "--%s: '%s' is not a range; expected a:b:n, a:b:n:lin or a:b:n:log", flag,
                  text);
        return CLI_BADINPUT;
    }
    double a, b;
    int64_t count;
    if (cli_double(cmd, flag, parts[0], &a) || cli_double(cmd, flag, parts[1], &b) ||
        cli_int(cmd, flag, parts[2], &count))
        return CLI_BADINPUT;
    if (count < 1 || count > CLI_RANGE_MAX) {
        cli_error(cmd, "--%s: range '%s' asks for %lld values; expected 1 to %d", flag, text,
                  (long long)count, CLI_RANGE_MAX);
        return CLI_BADINPUT;
    }
    if (is_log && !(a > 0 && b > 0)) {
        cli_error(cmd, "--%s: a log range needs both ends > 0, got '%s'", flag, text);
        return CLI_BADINPUT;
    }
    *vals = malloc((size_t)count * sizeof **vals);
    if (!*vals) {
        cli_error(cmd, "out of memory for --%s", flag);
        return CLI_RUNTIME;
    }
    for (int64_t i = 0; i < count; ++i) {
        double f = count == 1 ? 0.0 : (double)i / (double)(count - 1);
        (*vals)[i] = is_log ? exp(log(a) + f * (log(b) - log(a))) : a + f * (b - a);
    }
    (*vals)[0] = a; /* land exactly on the ends the user typed */
    if (count > 1)
        (*vals)[count - 1] = b;
    *n = (size_t)count;
    return CLI_OK;
}

int cli_values(const char *cmd, const char *flag, const char *text, int positive, double **vals,
               size_t *n) {
    int rc;
    *vals = NULL;
    *n = 0;
    if (strchr(text, ':')) {
        rc = range_values(cmd, flag, text, vals, n);
    } else {
        size_t count = 1;
        for (const char *s = text; *s; ++s)
            count += *s == ',';
        *vals = malloc(count * sizeof **vals);
        char *copy = strdup(text);
        if (!*vals || !copy) {
            free(copy);
            cli_error(cmd, "out of memory for --%s", flag);
            return CLI_RUNTIME;
        }
        rc = CLI_OK;
        char *s = copy;
        for (size_t i = 0; i < count && !rc; ++i) {
            char *comma = strchr(s, ',');
            if (comma)
                *comma = '\0';
            rc = cli_double(cmd, flag, s, &(*vals)[i]);
            s = comma ? comma + 1 : s;
        }
        free(copy);
        *n = count;
    }
    for (size_t i = 0; !rc && positive && i < *n; ++i)
        if (!((*vals)[i] > 0)) {
            cli_error(cmd, "--%s: value %g must be > 0", flag, (*vals)[i]);
            rc = CLI_BADINPUT;
        }
    if (rc) {
        free(*vals);
        *vals = NULL;
    }
    return rc;
}

int cli_output_open(const char *cmd, const char *path, cli_output *o) {
    memset(o, 0, sizeof *o);
    if (!path || !strcmp(path, "-")) {
        o->f = stdout;
        return CLI_OK;
    }
    size_t len = strlen(path) + 64;
    o->path = strdup(path);
    o->tmp = malloc(len);
    if (!o->path || !o->tmp) {
        if (cmd)
            cli_error(cmd, "out of memory");
        free(o->path);
        free(o->tmp);
        return CLI_RUNTIME;
    }
    snprintf(o->tmp, len, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        if (cmd)
            cli_error(cmd, "cannot write '%s': %s", path, strerror(errno));
        free(o->path);
        free(o->tmp);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

int cli_output_close(const char *cmd, cli_output *o, int ok) {
    int failed = ferror(o->f) != 0;
    if (o->f == stdout) {
        failed |= fflush(stdout) != 0;
        if (failed && ok && cmd)
            cli_error(cmd, "writing the output failed: %s", strerror(errno));
        return ok && failed ? CLI_RUNTIME : CLI_OK;
    }
    errno = 0; /* a write error flagged earlier may have left errno to later calls */
    failed |= fclose(o->f) != 0;
    int err = errno, rc = CLI_OK;
    if (!ok || failed) {
        if (ok && cmd)
            cli_error(cmd, "writing '%s' failed: %s", o->path,
                      err ? strerror(err) : "a write was refused (disk full?)");
        remove(o->tmp);
        rc = ok ? CLI_RUNTIME : CLI_OK;
    } else if (rename(o->tmp, o->path) != 0) {
        if (cmd)
            cli_error(cmd, "cannot move the finished output to '%s': %s", o->path, strerror(errno));
        remove(o->tmp);
        rc = CLI_RUNTIME;
    }
    free(o->path);
    free(o->tmp);
    return rc;
}

void cli_csv_num(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, "%.17g", v);
}

int cli_status(const char *cmd, tcgpu_status st) {
    if (st == TCGPU_OK)
        return CLI_OK;
    if (st == TCGPU_EINTR) /* the caller reports the interruption once */
        return CLI_INTERRUPTED;
    cli_error(cmd, "%s", tcgpu_last_error());
    return st == TCGPU_ERUNTIME ? CLI_RUNTIME : CLI_BADINPUT;
}

int cli_levels(const char *cmd, const char *text, int K, int reject_range, double *levels) {
    double *v;
    size_t n;
    int rc = cli_values(cmd, "levels", text, 0, &v, &n);
    if (rc)
        return rc;
    if ((int)n != K || (reject_range && strchr(text, ':'))) {
        cli_error(cmd, "--levels: expected %d comma-separated energies (one per channel), got '%s'",
                  K, text);
        free(v);
        return CLI_BADINPUT;
    }
    memcpy(levels, v, n * sizeof *v);
    free(v);
    int order[TCGPU_MAX_CHANNELS];
    return cli_status(cmd, tcgpu_channel_order(K, levels, order));
}

void cli_cpu_name(char *buf, size_t len) {
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && c) {
            c += 1 + (c[1] == ' ');
            c[strcspn(c, "\n")] = '\0';
            snprintf(buf, len, "%s", c);
            break;
        }
    }
    if (f)
        fclose(f);
}

static void on_signal(int sig) {
    (void)sig;
    tcgpu_request_stop();
}

void cli_catch_signals(int on) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_signal : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
