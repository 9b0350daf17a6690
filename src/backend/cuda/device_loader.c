/* The library's side of the CUDA module (cuda_module.h): the CUDA entry points of the backend
 * table, each opening libtcgpu_cuda.so on first use. Where the module cannot be opened the
 * build behaves as one without a device, and says why. Before the module, the driver itself
 * (libcuda.so.1, small) is asked whether there is a device at all, so that the common question
 * of a CPU machine, "any GPU here?", never maps the module. The module is looked for in
 * $TCGPU_CUDA_MODULE (a path), beside the program or shared library that holds this code,
 * then where the build put it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_module.h"
#include "eig.h"

#ifndef TCGPU_CUDA_ARCHS
#define TCGPU_CUDA_ARCHS ""
#endif
#ifndef TCGPU_CUDA_MODULE_BUILD
#define TCGPU_CUDA_MODULE_BUILD ""
#endif
#define MODULE_NAME "libtcgpu_cuda.so"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static tcgpu_cuda_api api;
static int loaded;
static char why_not[768];

static int try_open(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why_not, sizeof why_not, "the CUDA module could not be opened: %s", dlerror());
        return 0;
    }
    tcgpu_cuda_module_open_fn open_fn;
    *(void **)&open_fn = dlsym(h, TCGPU_CUDA_MODULE_ENTRY);
    static const tcgpu_cuda_host host = {tcgpu_fail, tcgpu_ls_run, tcgpu_ls_accept,
                                         tcgpu_ls_stack};
    if (!open_fn || open_fn(TCGPU_CUDA_MODULE_ABI, &host, &api) != 0) {
        snprintf(why_not, sizeof why_not, "%s is not this build's CUDA module (rebuild tcgpu)",
                 path);
        dlclose(h);
        return 0;
    }
    return 1;
}

/* 1 where the driver reports a device; else 0 and why_not says why. The driver's library stays
 * open: the module's runtime uses it next. */
static int driver_has_device(void) {
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why_not, sizeof why_not, "no CUDA driver (%s)", dlerror());
        return 0;
    }
    int (*cu_init)(unsigned), (*cu_count)(int *);
    *(void **)&cu_init = dlsym(h, "cuInit");
    *(void **)&cu_count = dlsym(h, "cuDeviceGetCount");
    int count = 0, rc = -1;
    if (cu_init && cu_count && (rc = cu_init(0)) == 0)
        rc = cu_count(&count);
    if (rc != 0) {
        snprintf(why_not, sizeof why_not, "no usable CUDA device: the driver's cuInit failed (%d)",
                 rc);
        return 0;
    }
    if (count == 0)
        snprintf(why_not, sizeof why_not, "the CUDA driver reports no device");
    return count > 0;
}

static void load(void) {
    if (!driver_has_device())
        return;
    const char *env = getenv("TCGPU_CUDA_MODULE");
    if (env && *env) {
        loaded = try_open(env);
        return;
    }
    Dl_info self;
    if (dladdr((void *)why_not, &self) && self.dli_fname) {
        const char *slash = strrchr(self.dli_fname, '/');
        if (slash) {
            char path[4096];
            int n = snprintf(path, sizeof path, "%.*s/%s", (int)(slash - self.dli_fname),
                             self.dli_fname, MODULE_NAME);
            if (n > 0 && (size_t)n < sizeof path && (loaded = try_open(path)))
                return;
        }
    }
    if (TCGPU_CUDA_MODULE_BUILD[0])
        loaded = try_open(TCGPU_CUDA_MODULE_BUILD);
}

static const tcgpu_cuda_api *module(void) {
    pthread_once(&once, load);
    return loaded ? &api : NULL;
}

static tcgpu_status unavailable(const char *what) {
    return tcgpu_fail(TCGPU_EINVAL, "%s: %s; use the CPU backend", what, why_not);
}

int tcgpu_cuda_built(void) { return 1; }

const char *tcgpu_cuda_archs(void) { return TCGPU_CUDA_ARCHS; }

int tcgpu_cuda_devices(tcgpu_device_info *out, int max, char *why, size_t why_len) {
    const tcgpu_cuda_api *m = module();
    if (!m) {
        snprintf(why, why_len, "%s", why_not);
        return 0;
    }
    return m->devices(out, max, why, why_len);
}

tcgpu_status tcgpu_march_cuda(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                              tcgpu_march_info *info) {
    const tcgpu_cuda_api *m = module();
    return m ? m->march(p, o, info) : unavailable("fused march");
}

tcgpu_status tcgpu_march_cusparse(const tcgpu_batch_plan *p, const tcgpu_march_opts *o,
                                  tcgpu_march_info *info) {
    const tcgpu_cuda_api *m = module();
    return m ? m->march_sparse(p, o, info) : unavailable("lockstep march");
}

tcgpu_status eig_sym_cuda(int64_t n, double *a, double *w) {
    const tcgpu_cuda_api *m = module();
    return m ? m->eig_sym(n, a, w) : unavailable("dense frames on the device");
}

tcgpu_status eig_sandwich_cuda(int64_t n, const double *u, const double *s, double *c) {
    const tcgpu_cuda_api *m = module();
    return m ? m->eig_sandwich(n, u, s, c) : unavailable("dense products on the device");
}

tcgpu_status twa_cuda_run(const twa_job *J, int64_t M, twa_block *blocks) {
    const tcgpu_cuda_api *m = module();
    return m ? m->twa(J, M, blocks) : unavailable("twa");
}
