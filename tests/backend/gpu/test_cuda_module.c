/* The CUDA module (src/backend/cuda/cuda_module.h) is opened only when a GPU is used: a process
 * that has not asked for one maps none of the CUDA libraries, and one that has finds the module
 * and calls through its table. The second test runs under a stand-in driver (fake_libcuda.c,
 * which reports one device; ctest puts it first on LD_LIBRARY_PATH), so the module is opened
 * on any machine and its runtime answers the device query, whatever it finds. */
#include <stdio.h>
#include <string.h>

#include "tcgpu/device.h"
#include "test_common.h"

/* 1 where a mapping of the process names `what`. */
static int mapped(const char *what) {
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, what) != NULL;
    fclose(f);
    return found;
}

Test(cuda_module, nothing_cuda_is_mapped_before_a_gpu_is_asked_for) {
    cr_assert(tcgpu_cuda_built());
    cr_assert(!mapped("libtcgpu_cuda.so"), "the CUDA module is mapped at start");
    cr_assert(!mapped("libcublas"), "cuBLAS is mapped at start");
    cr_assert(!mapped("libcusparse"), "cuSPARSE is mapped at start");
}

Test(cuda_module, the_device_query_goes_through_the_module) {
    const char *ld = getenv("LD_LIBRARY_PATH");
    if (!ld || !strstr(ld, "fake_cuda"))
        cr_skip_test("run it through ctest, which puts the stand-in driver on LD_LIBRARY_PATH");
    tcgpu_device_info dev[4];
    char why[512] = "";
    int n = tcgpu_cuda_devices(dev, 4, why, sizeof why);
    cr_assert(mapped("libtcgpu_cuda.so"), "the module was not opened: %s", why);
    /* The runtime inside the module answered: with the stand-in it finds no usable device (its
     * reason names a cudaError); beside a real driver it may find real ones. */
    cr_assert(n > 0 || strstr(why, "cudaError"), "n = %d, why: %s", n, why);
}
