/* Where a computation runs: the host's cores or a CUDA device. The batched march refines it
 * with a path (tcgpu/march.h) into one runner of the backend table (src/backend.h). */
#ifndef TCGPU_BACKEND_H_PUBLIC
#define TCGPU_BACKEND_H_PUBLIC

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TCGPU_BACKEND_CPU = 0, TCGPU_BACKEND_CUDA = 1 } tcgpu_backend;

#ifdef __cplusplus
}
#endif
#endif
