/* The tcgpu command: dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

#include "adiabatic_async.h"
#include "cli.h"
#include "plot.h"

#ifndef TCGPU_VERSION
#define TCGPU_VERSION "0.1.0"
#endif

static void usage(FILE *f) {
    fputs("usage: tcgpu <command> [options]\n\n"
          "commands:\n"
          "  exact   exact final distributions, moments and critical rates (CSV)\n"
          "  run     propagate sweeps (CPU) and compare with the exact results\n"
          "  plot    redraw DIR/plot.png of a run folder (tcgpu plot DIR)\n"
          "  info    version, build and CUDA devices\n"
          "  validate  check the paper's claims: report, plots and fitted scaling laws\n\n"
          "tcgpu <command> --help shows the command's options.\n",
          f);
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv) {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    /* Readouts allocate and free their frames (up to ~60 dim^2 doubles) many times a sweep:
     * glibc's defaults hand blocks above 128 KB back to the kernel at once, and every
     * readout then faults its pages in anew (tc K = 2, N = 10: a tenth of the CPU time in the
     * kernel). Kept in the heap up to 32 MB (glibc's largest threshold); larger arrays, and
     * so the peak of a large-N sweep, are as before. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    int rc = dispatch(argc, argv);
    /* A stop that left a dense readout computing on its helper ends here, not in exit(): the
     * BLAS library's destructors would free what the helper uses (a crash), or exit() would
     * wait seconds for it. Every file is closed by now; only the streams need flushing. */
    if (adiabatic_async_running()) {
        fflush(NULL);
        _exit(rc);
    }
    return rc;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) { /* one line, like every other refusal; --help has the list */
        fputs("tcgpu: no command given; expected exact, run, validate or info (see tcgpu --help)\n",
              stderr);
        return CLI_BADINPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "exact"))
        return cli_exact(argc - 2, argv + 2);
    if (!strcmp(cmd, "run"))
        return cli_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "validate"))
        return cli_validate(argc - 2, argv + 2);
    if (!strcmp(cmd, "plot"))
        return cli_plot(argc - 2, argv + 2);
    if (!strcmp(cmd, "info"))
        return cli_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("tcgpu %s\n", TCGPU_VERSION);
        return CLI_OK;
    }
    fprintf(stderr,
            "tcgpu: unknown command '%s'; expected exact, run, plot, validate or info (see tcgpu "
            "--help)\n",
            cmd);
    return CLI_BADINPUT;
}
