/* The far field's in-sector continuation (src/numerics/far_field.c) against the full march:
 * one state, marched to Ta, read by the continuation from Ta, and marched on to a late time
 * and read there by the dense readout (src/numerics/adiabatic.c), which carries every coupling.
 * The two must agree to the continuation's own error (docs/numerics.md: ~1e-8 from the Ta
 * used here), while the dense readout at Ta itself is far off. And the accuracy control, which
 * uses the far field wherever it applies, keeps its promise on such sweeps against eq 61. */
#include <math.h>
#include <stdlib.h>

#include "adiabatic.h"
#include "far_field.h"
#include "propagate_internal.h"
#include "tcgpu/exact.h"
#include "tcgpu/model.h"
#include "test_common.h"

static double tv(const double *p, const double *q, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += fabs(p[i] - q[i]);
    return s / 2;
}

Test(far_field, continuation_equals_the_full_march) {
    static const struct {
        int64_t N;
        double eps, beta, Ta, bound;
    } cases[] = {{10, 0.5, 20.0, 12.0, 1e-7}, {20, 0.5, 100.0, 3.0, 1e-7}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        tcgpu_model m;
        double e[2] = {-2 * cases[c].eps, 2 * cases[c].eps};
        ASSERT_OK(tcgpu_model_tc(&m, cases[c].N, 2, 1.0, cases[c].beta, e));
        cr_assert(far_field_applies(&m, 3));
        int64_t n = m.dim;
        double *pf = malloc((size_t)n * sizeof *pf), *pa = malloc((size_t)n * sizeof *pa);
        double *pd = malloc((size_t)n * sizeof *pd);
        tcgpu_sweep *s;
        ASSERT_OK(tcgpu_sweep_begin(&m, TCGPU_METHOD_MAGNUS4, TCGPU_FP64, -6.0, 0.1, 3, &s));
        ASSERT_OK(tcgpu_sweep_advance(s, cases[c].Ta));
        far_field *f;
        double w, miss;
        ASSERT_OK(far_field_create(NULL, &m, cases[c].Ta, 3, 1e-8, &f, &w, &miss));
        cr_assert(f != NULL,
                  "no far field at Ta %g (least sector weight %.3f, interpolation "
                  "%.2g of its bound)",
                  cases[c].Ta, w, miss);
        ASSERT_OK(tcgpu_sweep_readout(s, pa)); /* dense, at Ta */
        tcgpu_sweep_set_far(s, f);
        ASSERT_OK(tcgpu_sweep_readout(s, pf));
        double resid = tcgpu_sweep_far_resid(s);
        tcgpu_sweep_set_far(s, NULL);
        ASSERT_OK(tcgpu_sweep_advance(s, 6 * cases[c].Ta)); /* the full march, read late */
        ASSERT_OK(tcgpu_sweep_readout(s, pd));
        double d_far = tv(pf, pd, n), d_at = tv(pa, pd, n);
        cr_log_info("tc K=2 N=%lld eps %g beta %g: far field from %g against the march to %g: "
                    "TV %.2e (T2 residual %.2e); the dense readout at %g: %.2e",
                    (long long)cases[c].N, cases[c].eps, cases[c].beta, cases[c].Ta,
                    6 * cases[c].Ta, d_far, resid, cases[c].Ta, d_at);
        cr_expect_leq(resid, 1e-9, "T2 residual %.2e over its target", resid);
        cr_expect_leq(d_far, cases[c].bound, "N %lld beta %g: continuation off by %.2e",
                      (long long)cases[c].N, cases[c].beta, d_far);
        cr_expect_geq(d_at, 10 * d_far, "the dense readout at Ta is only %.2e off", d_at);
        far_field_free(f);
        tcgpu_sweep_end(s);
        free(pf);
        free(pa);
        free(pd);
        tcgpu_model_free(&m);
    }
}

/* Before the sectors separate the far field declines (one frame), and models it does not
 * serve are refused: chains, heff, tied final states. */
Test(far_field, declines_where_it_does_not_apply) {
    tcgpu_model m;
    double e2[2] = {-1, 1}, e1[1] = {0}, e3[3] = {-2, 0, 2};
    ASSERT_OK(tcgpu_model_tc(&m, 20, 2, 1.0, 100.0, e2));
    far_field *f;
    double w, miss;
    ASSERT_OK(far_field_create(NULL, &m, 0.3, 3, 1e-6, &f, &w, &miss));
    cr_expect(f == NULL);
    cr_expect_lt(w, FAR_FIELD_SEPARATED, "least sector weight %.3f at t = 0.3", w);
    tcgpu_model_free(&m);
    ASSERT_OK(tcgpu_model_tc(&m, 20, 1, 1.0, 1.0, e1));
    cr_expect(!far_field_applies(&m, 3), "a chain");
    tcgpu_model_free(&m);
    ASSERT_OK(tcgpu_model_heff(&m, 5, 1.0, 0.5, 1.0));
    cr_expect(!far_field_applies(&m, 3), "heff");
    tcgpu_model_free(&m);
    ASSERT_OK(tcgpu_model_tc(&m, 4, 3, 1.0, 30.0, e3));
    cr_expect(!far_field_applies(&m, 3), "tied final states");
    tcgpu_model_free(&m);
}
