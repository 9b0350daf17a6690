/* libFuzzer target: the CLI's argument parsing on arbitrary argument vectors (the input split
 * at NUL bytes): option matching, numbers, lists, ranges and --levels. Bad input must end in
 * CLI_BADINPUT with one line, never in a crash, a leak or undefined behaviour. Filesystem
 * checks (--out) are left out: a fuzzer must not create files where its input says. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tcgpu/exact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const cli_option opts[] = {
    {"N", 1, ""},    {"channels", 1, ""}, {"g", 1, ""},    {"beta", 1, ""},
    {"eps", 1, ""},  {"levels", 1, ""},   {"tol", 1, ""},  {"T", 1, ""},
    {"grid", 1, ""}, {"dist-csv", 0, ""}, {"help", 0, ""}, {NULL, 0, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1), *argv[32];
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    int argc = 0;
    for (size_t i = 0; i <= size && argc < 32; i += strlen(buf + i) + 1)
        argv[argc++] = buf + i;
    cli_parsed p;
    if (cli_parse("fuzz", opts, argc, argv, &p) == CLI_OK) {
        const char *v;
        int64_t n;
        double x, *vals, levels[TCGPU_MAX_CHANNELS];
        size_t count;
        if ((v = cli_get(&p, "N")))
            (void)cli_int("fuzz", "N", v, &n);
        if ((v = cli_get(&p, "tol")))
            (void)cli_double("fuzz", "tol", v, &x);
        static const char *const lists[] = {"g", "beta", "eps", "T"};
        for (int k = 0; k < 4; ++k)
            if ((v = cli_get(&p, lists[k])) &&
                cli_values("fuzz", lists[k], v, k < 3, &vals, &count) == CLI_OK) {
                if (!count)
                    __builtin_trap(); /* an accepted list has values */
                (void)cli_in_range("fuzz", lists[k], vals, count, 1e-6, 1e6);
                free(vals);
            }
        if ((v = cli_get(&p, "levels")))
            (void)cli_levels("fuzz", v, 2, 0, levels);
    }
    free(buf);
    return 0;
}
