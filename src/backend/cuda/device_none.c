/* Device query of a build without CUDA. */
#include <stdio.h>

#include "tcgpu/device.h"

int tcgpu_cuda_built(void) { return 0; }

const char *tcgpu_cuda_archs(void) { return ""; }

int tcgpu_cuda_devices(tcgpu_device_info *out, int max, char *why, size_t why_len) {
    (void)out;
    (void)max;
    snprintf(why, why_len, "this tcgpu was built without CUDA (no nvcc at configure time)");
    return 0;
}
