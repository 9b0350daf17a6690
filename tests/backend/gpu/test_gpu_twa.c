/* The TWA ensemble on the CUDA device against the same ensemble on the CPU: one thread per
 * trajectory runs the CPU's code (kernels/twa.h) on the CPU's random streams, and the host forms
 * the statistics in the CPU's order. The device contracts to fma and its libm differs in the last
 * bit, so a trajectory's adaptive steps may part from the CPU's within the integrator's
 * tolerance (1e-7 relative per amplitude): means within 1e-6 N. Skips itself, with the reason,
 * where no CUDA device is usable. */
#include "tcgpu/device.h"
#include "tcgpu/semiclassical.h"
#include "test_common.h"

static void need_device(void) {
    tcgpu_device_info dev;
    char why[256] = "";
    if (tcgpu_cuda_devices(&dev, 1, why, sizeof why) < 1)
        cr_skip_test("CUDA TWA not checked: %s", why);
}

static void same_ensemble(tcgpu_twa_opts o, const char *what) {
    tcgpu_twa_result c, g;
    ASSERT_OK(tcgpu_twa_moments(&o, &c));
    o.backend = TCGPU_BACKEND_CUDA;
    ASSERT_OK(tcgpu_twa_moments(&o, &g));
    double N = (double)o.N, tol = 1e-6 * N;
    cr_log_info("%s: CPU %.1f s, CUDA %.1f s; <n> %.10g vs %.10g", what, c.seconds, g.seconds,
                c.mean_n, g.mean_n);
    cr_expect_eq(c.trajectories, g.trajectories);
    cr_expect_leq(fabs(c.mean_n - g.mean_n), tol, "%s <n>: %.10g vs %.10g", what, c.mean_n,
                  g.mean_n);
    cr_expect_leq(fabs(c.mean_nu - g.mean_nu), tol, "%s <nu>", what);
    for (int k = 0; k < o.K; ++k)
        cr_expect_leq(fabs(c.mean[k] - g.mean[k]), tol, "%s <n_%d>", what, k + 1);
    cr_expect_leq(fabs(c.mean_n_err - g.mean_n_err), tol, "%s standard error", what);
    cr_expect_leq(fabs(c.eta - g.eta), 1e-6, "%s eta", what);
    cr_expect_leq(g.max_drift, 10 * c.max_drift + 1e-9, "%s invariants on the device", what);
}

Test(gpu_twa, one_channel_matches_the_cpu) {
    need_device();
    tcgpu_twa_opts o = {.N = 10000, .K = 1, .g = 1, .beta = 6000, .trajectories = 500, .seed = 7};
    same_ensemble(o, "K=1 N=1e4");
}

Test(gpu_twa, two_channels_match_the_cpu) {
    need_device();
    tcgpu_twa_opts o = {
        .N = 100000, .K = 2, .g = 1, .beta = 28953, .eps = 316, .trajectories = 300, .seed = 42};
    same_ensemble(o, "K=2 N=1e5");
}
