/* The one stub file of a build without CUDA: the device query says there is none, and every
 * CUDA runner's entry point (src/backend.c's table) refuses with the reason. */
#include <stdio.h>

#include "backend.h"
#include "eig.h"
#include "march_lockstep.h"
#include "tcgpu/device.h"
#include "twa_cuda.h"

#define NO_CUDA "this tcgpu was built without CUDA (no nvcc at configure time)"

int tcgpu_cuda_built(void) { return 0; }

const char *tcgpu_cuda_archs(void) { return ""; }

int tcgpu_cuda_devices(tcgpu_device_info *out, int max, char *why, size_t why_len) {
    (void)out;
    (void)max;
    snprintf(why, why_len, NO_CUDA);
    return 0;
}

static tcgpu_status no_cuda(const char *what) {
    return tcgpu_fail(TCGPU_EINVAL, "%s: " NO_CUDA "; use the CPU backend", what);
}

tcgpu_status tcgpu_march_cuda(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                              tcgpu_march_info *info) {
    (void)p, (void)o, (void)info;
    return no_cuda("fused march");
}

tcgpu_status tcgpu_march_cusparse(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                  tcgpu_march_info *info) {
    (void)p, (void)o, (void)info;
    return no_cuda("lockstep march");
}

tcgpu_status eig_sym_cuda(int64_t n, double *a, double *w) {
    (void)n, (void)a, (void)w;
    return no_cuda("dense frames on the device");
}

tcgpu_status eig_sandwich_cuda(int64_t n, const double *u, const double *s, double *c) {
    (void)n, (void)u, (void)s, (void)c;
    return no_cuda("dense products on the device");
}

tcgpu_status twa_cuda_run(const twa_job *J, int64_t M, twa_block *blocks) {
    (void)J, (void)M, (void)blocks;
    return no_cuda("twa");
}
