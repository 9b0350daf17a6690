/* Complex log-gamma and the scattering phases of eq 58 (corrected), against mpmath values
 * (tests/ref/phases_ref.py, 40 digits) and the Gamma function's own identities. */
#include "test_common.h"

static const long double lg_ref[][4] = {
    /* z, ln Gamma(z) */
    {0.0L, 1.0L, -0.6509231993018563388852168L, -1.872436647262429817118853L},
    {1.0L, 1.0L, -0.6509231993018563388852168L, -0.3016403204675331978875317L},
    {0.5L, 2.0L, -2.222655864053258219071274L, -0.5925369819770345889340512L},
    {3.0L, 100.0L, -144.6475187238039306394039L, 364.4131790790253720982658L},
    {0.0L, 0.001L, 6.907754456515374187762911L, -1.571373542059112725102819L},
    {0.0L, 37.5L, -59.798094188092133044984L, 97.62516454830841685314361L},
    {-2.5L, 0.7L, -1.49418730891135750642092L, -8.64647568280337734452977L},
    {0.5L, 0.0L, 0.5723649429247000870717137L, 0.0L},
    {10.0L, 0.0L, 12.80182748008146961120772L, 0.0L},
};

Test(lgamma, matches_mpmath_to_1e15) {
    for (size_t i = 0; i < sizeof lg_ref / sizeof *lg_ref; ++i) {
        long double re, im;
        tcgpu_lgamma_complex(lg_ref[i][0], lg_ref[i][1], &re, &im);
        long double scale = fmaxl(1, fabsl(lg_ref[i][2]) + fabsl(lg_ref[i][3]));
        cr_expect_leq(fabsl(re - lg_ref[i][2]) / scale, 1e-15L, "Re lnG(%Lg+%Lgi) = %.20Lg",
                      lg_ref[i][0], lg_ref[i][1], re);
        cr_expect_leq(fabsl(im - lg_ref[i][3]) / scale, 1e-15L, "Im lnG(%Lg+%Lgi) = %.20Lg",
                      lg_ref[i][0], lg_ref[i][1], im);
    }
}

Test(lgamma, modulus_and_recurrence_identities_on_the_imaginary_axis) {
    /* |Gamma(iy)|^2 = pi / (y sinh(pi y)); arg Gamma(1 + iy) = arg Gamma(iy) + pi/2. */
    for (long double y = 0.01L; y < 60; y *= 1.7L) {
        long double re, im, re1, im1;
        tcgpu_lgamma_complex(0, y, &re, &im);
        tcgpu_lgamma_complex(1, y, &re1, &im1);
        long double want = 0.5L * (logl(PI_L / y) - logl(sinhl(PI_L * y)));
        cr_expect_leq(fabsl(re - want), 1e-15L * fmaxl(1, fabsl(want)), "y=%Lg", y);
        cr_expect_leq(fabsl(im1 - im - PI_L / 2), 1e-14L * fmaxl(1, fabsl(im)), "y=%Lg", y);
    }
}

static const struct {
    int N;
    double g, beta;
    int m;
    double phi;
} phase_ref[] = {
    {3, 0.3, 1, 1, 3.882063029489084498034113},
    {3, 0.3, 1, 2, 7.910654194061845528509074},
    {3, 0.3, 1, 3, 12.08247616931819586865139},
    {3, 1, 2, 1, 4.252167645317974046939672},
    {3, 1, 2, 2, 8.480798782772748792905508},
    {3, 1, 2, 3, 12.48961083981480863124034},
    {3, 1, 1, 1, 5.583622228990921144177158},
    {3, 1, 1, 2, 9.380966729668374380871755},
    {3, 1, 1, 3, 10.89961568405085633041495},
    {12, 1, 1 / 2.7, 1, 83.52981707753726617048821},
    {12, 1, 1 / 2.7, 5, 228.9935673166156900963556},
    {12, 1, 1 / 2.7, 9, 16.54074039889303260294048},
    {12, 1, 1 / 2.7, 12, -388.1358653159557778883588},
};

Test(phases, eq58_matches_mpmath) {
    for (size_t i = 0; i < sizeof phase_ref / sizeof *phase_ref; ++i) {
        double phi[13];
        ASSERT_OK(tcgpu_exact_phases(phase_ref[i].N, phase_ref[i].g, phase_ref[i].beta, phi));
        cr_expect_eq(phi[0], 0.0, "Phi_0 = 0");
        double want = phase_ref[i].phi, got = phi[phase_ref[i].m];
        cr_expect_leq(fabs(got - want), 1e-12 * fmax(1, fabs(want)),
                      "N=%d g=%g beta=%g m=%d: %.17g", phase_ref[i].N, phase_ref[i].g,
                      phase_ref[i].beta, phase_ref[i].m, got);
    }
}

Test(phases, one_molecule_has_the_closed_form) {
    /* N = 1, m = 1: Phi_1 = 3 pi/4 + arg Gamma(i g^2/beta) - 2 arg Gamma(i g^2/beta). */
    for (double beta = 0.1; beta < 100; beta *= 3) {
        double phi[2];
        long double re, im;
        ASSERT_OK(tcgpu_exact_phases(1, 1.0, beta, phi));
        tcgpu_lgamma_complex(0, 1.0L / beta, &re, &im);
        cr_expect_leq(fabsl(phi[1] - (0.75L * PI_L - im)), 1e-13L, "beta=%g", beta);
    }
}

Test(phases, continuous_in_g) {
    /* The branch of Im ln Gamma is continuous, so a fine scan in g has no 2 pi jumps. */
    double prev[4], phi[4];
    for (int i = 0; i <= 2000; ++i) {
        double g = 0.01 + 2.0 * i / 2000;
        ASSERT_OK(tcgpu_exact_phases(3, g, 1.0, phi));
        for (int m = 0; i > 0 && m < 4; ++m)
            cr_expect_leq(fabs(phi[m] - prev[m]), 0.2, "jump at g=%g m=%d", g, m);
        for (int m = 0; m < 4; ++m)
            prev[m] = phi[m];
    }
}
