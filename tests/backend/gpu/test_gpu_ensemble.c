/* `tcgpu run --backend cuda`'s engine: accuracy controls on threads of their own whose marches
 * go to the device in batches (src/ensemble.c) against the same controls alone on the
 * CPU. The device's steps are the CPU's to round-off, but a control decides on differences of
 * readouts, so its windows and steps could differ where a decision sits on the edge; the final
 * distributions are compared within the control's tolerance and, where both took the same path,
 * within 1e-10. Skips itself, with the reason, where no CUDA device is usable. */
#include <string.h>

#include "../ensemble_jobs.h"
#include "tcgpu/device.h"
#include "test_common.h"

#define NS 12

static void batched_against_cpu(int64_t N, int K, tcgpu_method method, double tol,
                                tcgpu_cuda_path path) {
    tcgpu_device_info dev;
    char why[256] = "";
    if (tcgpu_cuda_devices(&dev, 1, why, sizeof why) < 1)
        cr_skip_test("CUDA backend not checked: %s", why);
    ensemble_job j[NS];
    tcgpu_march_opts mo = {
        .backend = TCGPU_BACKEND_CUDA, .method = method, .path = path, .nmax = 4096};
    for (int s = 0; s < NS; ++s) {
        double beta = 0.05 * pow(2000.0, s / (NS - 1.0)), e[2] = {-1, 1};
        ASSERT_OK(tcgpu_model_tc(&j[s].m, N, K, 1.0, beta, e));
        j[s].o = (tcgpu_auto_opts){method, tol, 0, 0, 0, 0, TCGPU_FP64};
        j[s].p = xcalloc((size_t)j[s].m.dim, sizeof(double));
    }
    tcgpu_transfer_stats stats;
    ASSERT_OK(ensemble_run(j, NS, NS, &mo, &stats));
    cr_log_info("N=%lld K=%d: %lld batches, %lld advances, %.3f s on %s", (long long)N, K,
                (long long)stats.batches, (long long)stats.advances, stats.march_seconds,
                stats.device);
    for (int s = 0; s < NS; ++s) {
        ASSERT_OK(j[s].st);
        double *alone = xcalloc((size_t)j[s].m.dim, sizeof(double));
        tcgpu_auto_report r;
        ASSERT_OK(tcgpu_sweep_auto(&j[s].m, &j[s].o, alone, &r));
        double tv = tcgpu_tv(alone, j[s].p, j[s].m.dim);
        int same_path = r.steps == j[s].r.steps && r.Tr == j[s].r.Tr;
        cr_expect_leq(tv, same_path ? 1e-10 : tol,
                      "sweep %d (beta %g): TV %.3e between CUDA "
                      "and CPU (%s path)",
                      s, j[s].m.beta, tv, same_path ? "same" : "other");
        free(alone);
        free(j[s].p);
        tcgpu_model_free(&j[s].m);
    }
}

Test(gpu_ensemble, tc_one_channel_n100_magnus4) {
    batched_against_cpu(100, 1, TCGPU_METHOD_MAGNUS4, 1e-6, TCGPU_PATH_AUTO);
}

Test(gpu_ensemble, tc_two_channels_n10_magnus4) {
    batched_against_cpu(10, 2, TCGPU_METHOD_MAGNUS4, 1e-6, TCGPU_PATH_AUTO);
}

/* the cuSPARSE path's lockstep march under the batched controls (their advances differ) */
Test(gpu_ensemble, tc_two_channels_n10_magnus4_cusparse) {
    batched_against_cpu(10, 2, TCGPU_METHOD_MAGNUS4, 1e-6, TCGPU_PATH_CUSPARSE);
}

Test(gpu_ensemble, tc_two_channels_n4_rk4) {
    batched_against_cpu(4, 2, TCGPU_METHOD_RK4, 1e-4, TCGPU_PATH_AUTO);
}
