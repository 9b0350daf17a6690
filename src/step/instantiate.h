/* Includes the file named by TCGPU_BODY twice: for fp64 (tcgpu_cplx, tcgpu_csr, plain names)
 * and for fp32 (tcgpu_cplxf, tcgpu_csrf, names ending in _f). No include guard. */
#define TCGPU_R double
#define TCGPU_C tcgpu_cplx
#define TCGPU_CSR tcgpu_csr
#define TCGPU_FN(name) name
#define TCGPU_REAL_HOST /* the fp64 pass: tc K <= 2 may take tcgpu_real_series */
#include TCGPU_BODY
#undef TCGPU_REAL_HOST
#undef TCGPU_R
#undef TCGPU_C
#undef TCGPU_CSR
#undef TCGPU_FN

#define TCGPU_R float
#define TCGPU_C tcgpu_cplxf
#define TCGPU_CSR tcgpu_csrf
#define TCGPU_FN(name) name##_f
#include TCGPU_BODY
#undef TCGPU_R
#undef TCGPU_C
#undef TCGPU_CSR
#undef TCGPU_FN
#undef TCGPU_BODY
