/* TCGPU_HD marks the functions of the code that gcc and nvcc both compile (the step, the grid,
 * the matrix-free couplings, the TWA trajectory): nvcc builds them for the host and the device,
 * gcc sees plain functions. One definition, included by each of those headers. */
#ifndef TCGPU_HOSTDEV_H
#define TCGPU_HOSTDEV_H

#ifdef __CUDACC__
#define TCGPU_HD __host__ __device__
#else
#define TCGPU_HD
#endif

#endif
