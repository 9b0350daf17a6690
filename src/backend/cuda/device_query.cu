// Device query for `tcgpu info` and the backend choice. Compiled by nvcc even where no GPU is
// present, so that the CUDA half of the build is exercised on every CI run.
#include <cstdio>
#include <cstring>

#include <cuda_runtime.h>

#include "tcgpu/device.h"

extern "C" int tcgpu_cuda_devices(tcgpu_device_info *out, int max, char *why, size_t why_len) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        std::snprintf(why, why_len, "no usable CUDA device: %s (%s)", cudaGetErrorString(err),
                      cudaGetErrorName(err));
        cudaGetLastError(); // clear the sticky error so later calls start clean
        return 0;
    }
    if (count == 0) {
        std::snprintf(why, why_len, "the CUDA driver reports no device");
        return 0;
    }
    for (int d = 0; d < count && d < max; ++d) {
        cudaDeviceProp prop;
        err = cudaGetDeviceProperties(&prop, d);
        if (err != cudaSuccess) {
            std::snprintf(why, why_len, "cudaGetDeviceProperties(%d) failed: %s", d,
                          cudaGetErrorString(err));
            return 0;
        }
        tcgpu_device_info *o = &out[d];
        std::snprintf(o->name, sizeof o->name, "%s", prop.name);
        o->major = prop.major;
        o->minor = prop.minor;
        o->memory_bytes = (double)prop.totalGlobalMem;
        o->multiprocessors = prop.multiProcessorCount;
        o->shared_per_block = (double)prop.sharedMemPerBlockOptin;
    }
    why[0] = '\0';
    return count;
}
