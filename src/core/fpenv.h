/* Subnormal numbers flushed to zero for the host march (issue 16).
 *
 * Why: a sweep's state begins on one diabatic state, and the amplitudes far from it fall
 * geometrically, through 1e-308 into the subnormal range, where every multiply-add on x86
 * takes a microcode assist (~100 cycles). tc K = 1, N = 1e4, beta_c, tol 1e-4: the start
 * checks' marches ran at 15.5 ns per row and Chebyshev term against 1.6 ns in the runs, and
 * the sweep took 46.8 s; with FTZ/DAZ 17.3 s, TV and estimate unchanged to the printed digits.
 * A value below 2.2e-308 is a zero to every readout; the flag is set per thread for the march
 * and restored after it, so LAPACK and the rest of the process keep gradual underflow. The
 * GPU computes subnormal doubles at full speed and needs nothing. */
#ifndef TCGPU_FPENV_H
#define TCGPU_FPENV_H

#if defined(__SSE2__) && !defined(__CUDA_ARCH__)
#include <xmmintrin.h>
#define TCGPU_MXCSR_FTZ_DAZ 0x8040u /* flush to zero (bit 15), denormals are zero (bit 6) */

/* Sets FTZ and DAZ in this thread; returns the previous control word. */
static inline unsigned tcgpu_fpenv_flush(void) {
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | TCGPU_MXCSR_FTZ_DAZ);
    return old;
}
static inline void tcgpu_fpenv_restore(unsigned old) { _mm_setcsr(old); }
#else
static inline unsigned tcgpu_fpenv_flush(void) { return 0; }
static inline void tcgpu_fpenv_restore(unsigned old) { (void)old; }
#endif

#endif
