/* The operating threshold for a target sensitivity (cn_risk_threshold_for_sensitivity):
 * compared with a naive reference that tries every candidate threshold, the
 * point-estimate rule at z = 0, the fallback when too few positives can show the
 * target, and argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "risk/stats.h"
#include "risk/train.h"
#include "synth.h"

#define Z_95 1.959963984540054
#define Z_90_ONE_SIDED 1.6448536269514722

/* Naive reference: every distinct probability is a candidate; the largest one whose
 * Wilson lower bound of (positives at or above it) / count reaches the target wins;
 * without one, the smallest probability. */
static void reference(const double *p, size_t n, double target, double z, double *threshold,
                      double *bound)
{
    double best = INFINITY, smallest = INFINITY;
    for (size_t i = 0; i < n; i++) {
        smallest = fmin(smallest, p[i]);
        size_t called = 0;
        for (size_t j = 0; j < n; j++)
            called += p[j] >= p[i];
        double low, high;
        cn_risk_wilson(called, n, z, &low, &high);
        if (low >= target && (isinf(best) || p[i] > best))
            best = p[i];
    }
    *threshold = isinf(best) ? smallest : best;
    size_t called = 0;
    for (size_t j = 0; j < n; j++)
        called += p[j] >= *threshold;
    double high;
    cn_risk_wilson(called, n, z, bound, &high);
}

static void test_threshold_matches_the_naive_reference_with_ties(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 7, 20, 60, 199, 400};
    const double targets[] = {0.5, 0.8, 0.9, 0.95, 0.99, 1.0};
    const double zs[] = {0.0, Z_90_ONE_SIDED, Z_95};
    uint64_t s = 99;
    double p[400];
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++) {
        size_t n = sizes[a];
        for (size_t i = 0; i < n; i++) /* coarse values: many ties */
            p[i] = 0.01 + floor(synth_uniform(&s) * 50.0) / 51.0;
        for (size_t b = 0; b < sizeof targets / sizeof targets[0]; b++)
            for (size_t c = 0; c < sizeof zs / sizeof zs[0]; c++) {
                double t, bound, want_t, want_bound;
                assert_int_equal(
                    cn_risk_threshold_for_sensitivity(p, n, targets[b], zs[c], &t, &bound), 0);
                reference(p, n, targets[b], zs[c], &want_t, &want_bound);
                if (t != want_t || bound != want_bound)
                    fail_msg("n %zu target %g z %g: threshold %.17g bound %.17g, reference "
                             "%.17g %.17g",
                             n, targets[b], zs[c], t, bound, want_t, want_bound);
            }
    }
}

static void test_threshold_at_z_zero_keeps_the_fewest_positives_that_meet_the_target(void **state)
{
    (void)state;
    double p[100];
    for (size_t i = 0; i < 100; i++)
        p[i] = (double)(i + 1) / 101.0; /* distinct, ascending */
    double t, bound;
    assert_int_equal(cn_risk_threshold_for_sensitivity(p, 100, 0.95, 0.0, &t, &bound), 0);
    /* 95 of 100 called: the 95th highest is p[5]. */
    assert_true(t == p[5]);
    assert_true(fabs(bound - 0.95) < 1e-12);
    /* The lower bound asks for more: Wilson's 95 % low end of 99 / 100 is 0.9455, of
     * 100 / 100 is 0.9630, so every positive is called. */
    assert_int_equal(cn_risk_threshold_for_sensitivity(p, 100, 0.95, Z_95, &t, &bound), 0);
    assert_true(t == p[0]);
    assert_true(bound >= 0.95);
}

static void test_threshold_calls_every_positive_when_too_few_can_show_the_target(void **state)
{
    (void)state;
    const double p[] = {0.9, 0.2, 0.7, 0.4, 0.8, 0.3, 0.6, 0.5, 0.95, 0.85};
    double t, bound;
    assert_int_equal(cn_risk_threshold_for_sensitivity(p, 10, 0.95, Z_95, &t, &bound), 0);
    assert_true(t == 0.2);
    /* 10 of 10 at z 1.96: 10 / 13.84 */
    assert_true(bound < 0.95);
    assert_true(fabs(bound - 10.0 / (10.0 + Z_95 * Z_95)) < 1e-12);
}

static void test_threshold_rejects_bad_arguments(void **state)
{
    (void)state;
    const double p[] = {0.5};
    double t, bound;
    assert_int_equal(cn_risk_threshold_for_sensitivity(NULL, 1, 0.9, 0.0, &t, &bound),
                     CN_RISK_ERR_INVALID_ARGUMENT);
    assert_int_equal(cn_risk_threshold_for_sensitivity(p, 0, 0.9, 0.0, &t, &bound),
                     CN_RISK_ERR_INVALID_ARGUMENT);
    assert_int_equal(cn_risk_threshold_for_sensitivity(p, 1, 0.0, 0.0, &t, &bound),
                     CN_RISK_ERR_INVALID_ARGUMENT);
    assert_int_equal(cn_risk_threshold_for_sensitivity(p, 1, 1.5, 0.0, &t, &bound),
                     CN_RISK_ERR_INVALID_ARGUMENT);
    assert_int_equal(cn_risk_threshold_for_sensitivity(p, 1, 0.9, -1.0, &t, &bound),
                     CN_RISK_ERR_INVALID_ARGUMENT);
    assert_int_equal(cn_risk_threshold_for_sensitivity(p, 1, 0.9, NAN, &t, &bound),
                     CN_RISK_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_matches_the_naive_reference_with_ties),
        cmocka_unit_test(test_threshold_at_z_zero_keeps_the_fewest_positives_that_meet_the_target),
        cmocka_unit_test(test_threshold_calls_every_positive_when_too_few_can_show_the_target),
        cmocka_unit_test(test_threshold_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
