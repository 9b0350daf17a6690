/* The module side of src/backend/cuda/cuda_module.h. Everything in libtcgpu_cuda.so is hidden
 * but the entry, so these forwarders, named as the library's own functions, bind here and not
 * to a copy the host program may export. */
#include <stdarg.h>
#include <stdio.h>

#include "cuda_module.h"
#include "eig.h"

static tcgpu_cuda_host host;

tcgpu_status tcgpu_fail(tcgpu_status code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return host.fail(code, "%s", msg);
}

tcgpu_status tcgpu_ls_run(const tcgpu_ls_ops *ops, void *ctx, int method, int64_t steps) {
    return host.ls_run(ops, ctx, method, steps);
}

tcgpu_status tcgpu_ls_accept(const tcgpu_batch_plan *p, double *r) {
    return host.ls_accept(p, r);
}

tcgpu_status tcgpu_ls_stack(const tcgpu_batch_plan *p, int32_t *row_ptr, int32_t *col,
                            double *val) {
    return host.ls_stack(p, row_ptr, col, val);
}

__attribute__((visibility("default"))) int tcgpu_cuda_module_open(int abi,
                                                                  const tcgpu_cuda_host *h,
                                                                  tcgpu_cuda_api *api) {
    if (abi != TCGPU_CUDA_MODULE_ABI)
        return -1;
    host = *h;
    *api = (tcgpu_cuda_api){.devices = tcgpu_cuda_devices,
                            .march = tcgpu_march_cuda,
                            .march_sparse = tcgpu_march_cusparse,
                            .eig_sym = eig_sym_cuda,
                            .eig_sandwich = eig_sandwich_cuda,
                            .twa = twa_cuda_run};
    return 0;
}
