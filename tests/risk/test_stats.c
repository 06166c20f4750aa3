/* Statistics against naive references: pairwise AUC, textbook Wilson intervals, Platt
 * recovering a known logistic relation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "risk/stats.h"

/* O(n^2) reference: the share of (positive, negative) pairs ranked right, ties half. */
static double naive_auc(const double *s, const int *y, size_t n)
{
    double won = 0.0, pairs = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (y[i] && !y[j]) {
                pairs += 1.0;
                won += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
            }
    return won / pairs;
}

static void test_auc_matches_pairwise_reference_with_ties(void **state)
{
    (void)state;
    uint64_t rng = 5;
    enum { N = 300 };
    double s[N];
    int y[N];
    for (size_t i = 0; i < N; i++) {
        y[i] = cn_risk_rng_below(&rng, 3) == 0;
        /* Few distinct scores: many ties. */
        s[i] = (double)cn_risk_rng_below(&rng, 7) + (y[i] ? 1.0 : 0.0);
    }
    assert_float_equal(cn_risk_auc(s, y, N), naive_auc(s, y, N), 1e-12);
    int one_class[3] = {1, 1, 1};
    assert_true(isnan(cn_risk_auc(s, one_class, 3)));
    double low, high;
    assert_int_equal(cn_risk_auc_bootstrap(s, y, N, 500, 9, &low, &high), 0);
    double auc = cn_risk_auc(s, y, N);
    assert_true(low < auc && auc < high);
    assert_true(high - low < 0.2);
    assert_int_equal(cn_risk_auc_bootstrap(s, one_class, 3, 10, 1, &low, &high), -1);
}

static void test_wilson_matches_textbook_values(void **state)
{
    (void)state;
    double low, high;
    /* 5 of 10 at 95 %: 0.2366 - 0.7634 (Newcombe 1998, Table I style). */
    cn_risk_wilson(5, 10, 1.959963984540054, &low, &high);
    assert_float_equal(low, 0.236593, 1e-5);
    assert_float_equal(high, 0.763407, 1e-5);
    cn_risk_wilson(0, 10, 1.959963984540054, &low, &high);
    assert_float_equal(low, 0.0, 1e-12);
    assert_float_equal(high, 0.277530, 1e-5);
    cn_risk_wilson(10, 10, 1.959963984540054, &low, &high);
    assert_float_equal(low, 0.722470, 1e-5);
    assert_float_equal(high, 1.0, 1e-12);
    cn_risk_wilson(0, 0, 1.96, &low, &high);
    assert_true(low == 0.0 && high == 1.0);
}

static void test_platt_recovers_a_known_logistic_relation(void **state)
{
    (void)state;
    enum { N = 20000 };
    double *m = malloc(N * sizeof *m);
    int *y = malloc(N * sizeof *y);
    uint64_t rng = 77;
    /* True relation: p = 1 / (1 + exp(-2 m + 0.5)), i.e. a = -2, b = 0.5. */
    for (size_t i = 0; i < N; i++) {
        m[i] = ((double)cn_risk_rng_below(&rng, 1u << 20) / (double)(1u << 20)) * 6.0 - 3.0;
        double p = 1.0 / (1.0 + exp(-2.0 * m[i] + 0.5));
        y[i] = (double)cn_risk_rng_below(&rng, 1u << 30) / (double)(1u << 30) < p;
    }
    double a, b;
    assert_int_equal(cn_risk_platt_fit(m, y, N, &a, &b), 0);
    assert_float_equal(a, -2.0, 0.1);
    assert_float_equal(b, 0.5, 0.1);
    int none[2] = {0, 0};
    assert_int_equal(cn_risk_platt_fit(m, none, 2, &a, &b), -1);
    free(m);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auc_matches_pairwise_reference_with_ties),
        cmocka_unit_test(test_wilson_matches_textbook_values),
        cmocka_unit_test(test_platt_recovers_a_known_logistic_relation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
