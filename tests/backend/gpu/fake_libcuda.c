/* A stand-in for the CUDA driver's libcuda.so.1 with one device and nothing else: enough for
 * the library's loader to open the CUDA module (test_cuda_module.c). */
int cuInit(unsigned flags);
int cuDeviceGetCount(int *count);

int cuInit(unsigned flags) {
    (void)flags;
    return 0;
}

int cuDeviceGetCount(int *count) {
    *count = 1;
    return 0;
}
