/* The TWA ensemble's trajectories on a CUDA device (kernels/twa.cu): one thread per trajectory
 * runs twa_run_one (kernels/twa.h), the code the CPU runs; the block statistics are formed on
 * the device by the CPU's code too, and the host merges them in the CPU's order. */
#ifndef TCGPU_TWA_CUDA_H
#define TCGPU_TWA_CUDA_H

#include "twa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs trajectories 0..M-1 of J and forms their statistics on the device, block by block
 * (twa_block_add, TWA_BLOCK trajectories each): only blocks[0 .. ceil(M / TWA_BLOCK) - 1] come
 * back. */
tcgpu_status twa_cuda_run(const twa_job *J, int64_t M, twa_block *blocks);

#ifdef __cplusplus
}
#endif
#endif
