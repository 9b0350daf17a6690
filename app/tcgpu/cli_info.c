/* `tcgpu info`: version, build and devices. */
#include <stdio.h>

#include "cli.h"
#include "tcgpu/device.h"
#include "tcgpu/sysmem.h"

#ifndef TCGPU_VERSION
#define TCGPU_VERSION "unknown"
#endif

int cli_info(int argc, char **argv) {
    (void)argv;
    if (argc > 0) {
        cli_error("info", "takes no options, got '%s'", argv[0]);
        return CLI_BADINPUT;
    }
    tcgpu_device_info dev[16];
    char why[512];
    printf("tcgpu %s\n", TCGPU_VERSION);
    printf("host memory: %.1f GiB\n", tcgpu_physical_memory() / 1073741824.0);
    printf("cuda backend: %s", tcgpu_cuda_built() ? "built" : "not built");
    if (tcgpu_cuda_built())
        printf(" (architectures sm_%s)", tcgpu_cuda_archs());
    printf("\n");
    int n = tcgpu_cuda_devices(dev, 16, why, sizeof why);
    if (n == 0)
        printf("cuda devices: none (%s)\n", why);
    for (int d = 0; d < n && d < 16; ++d)
        printf("cuda device %d: %s, compute capability %d.%d, %.1f GiB, %d SMs, %.0f KiB shared "
               "memory per block\n",
               d, dev[d].name, dev[d].major, dev[d].minor, dev[d].memory_bytes / 1073741824.0,
               dev[d].multiprocessors, dev[d].shared_per_block / 1024.0);
    return CLI_OK;
}
