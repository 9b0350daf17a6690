/* Command-line plumbing shared by the tcgpu subcommands: option tables, number and list
 * parsing, one-line errors, and outputs that appear only when complete. */
#ifndef TCGPU_CLI_H
#define TCGPU_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcgpu/status.h"

enum { CLI_OK = 0, CLI_RUNTIME = 1, CLI_BADINPUT = 2, CLI_INTERRUPTED = 130 };

/* One option of a subcommand: its name without "--", whether it takes a value, its help. */
typedef struct {
    const char *name;
    int takes_value;
    const char *help;
} cli_option;

/* Parsed options: values[i] is the value of opts[i] ("1" for a switch), NULL when absent. */
typedef struct {
    const cli_option *opts;
    int count;
    const char *values[32];
} cli_parsed;

/* Parses argv (after the subcommand) into p; on bad input prints one line and returns 2. */
int cli_parse(const char *cmd, const cli_option *opts, int argc, char **argv, cli_parsed *p);
const char *cli_get(const cli_parsed *p, const char *name);
void cli_usage(FILE *f, const char *cmd, const char *synopsis, const cli_option *opts);

/* Prints "tcgpu <cmd>: <message>" on stderr as one line. */
void cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Numbers: the whole text must be a finite number (an integer for cli_int, 1e5 allowed). */
int cli_double(const char *cmd, const char *flag, const char *text, double *out);
int cli_int(const char *cmd, const char *flag, const char *text, int64_t *out);

/* A list "a,b,c" or a range "a:b:n" / "a:b:n:log" / "a:b:n:lin"; every value must be > 0 when
 * positive is set. Returns a malloc'ed array in *vals. */
int cli_values(const char *cmd, const char *flag, const char *text, int positive, double **vals,
               size_t *n);

/* Output locations, checked before any work starts (exit 2 with one line): not empty, not
 * too long, in an existing folder where files can be created (not /proc, not read-only); a
 * file output must not be a folder, a folder output must not be a file. NULL or "-" pass. */
int cli_check_out_file(const char *cmd, const char *flag, const char *path);
int cli_check_out_dir(const char *cmd, const char *flag, const char *path);

/* Every value in [lo, hi], or one line naming the accepted range and exit status 2. */
int cli_in_range(const char *cmd, const char *flag, const double *v, size_t n, double lo,
                 double hi);

/* The most values one a:b:n range may ask for. */
#define CLI_RANGE_MAX 1000000

/* A library status as the CLI reports it: OK stays 0; a failure prints the library's message
 * and counts as bad input (2), or as a runtime failure (1) for TCGPU_ERUNTIME. */
int cli_status(const char *cmd, tcgpu_status st);

/* --levels: exactly K finite, distinct energies into levels[]; reject_range also refuses the
 * a:b:n forms. */
int cli_levels(const char *cmd, const char *text, int K, int reject_range, double *levels);

/* Output to a file written under a temporary name and renamed when complete, or to stdout.
 * cmd NULL: the same, without a message on failure (where a failure has been reported already
 * and stderr holds one line). */
typedef struct {
    FILE *f;
    char *path, *tmp;
} cli_output;

int cli_output_open(const char *cmd, const char *path, cli_output *o);
/* ok = 0 discards the temporary file. Returns CLI_OK or CLI_RUNTIME (with a message). */
int cli_output_close(const char *cmd, cli_output *o, int ok);

/* Writes a CSV number: full precision, and an empty field for a non-finite value. */
void cli_csv_num(FILE *f, double v);

/* The CPU's model name from /proc/cpuinfo ("unknown" elsewhere). */
void cli_cpu_name(char *buf, size_t len);
/* Ctrl-C or SIGTERM (on = 1): running sweeps stop within a few hundred steps with
 * TCGPU_EINTR, so finished ones can be kept; on = 0 restores the default handlers. */
void cli_catch_signals(int on);

int cli_exact(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_validate(int argc, char **argv);

#endif
