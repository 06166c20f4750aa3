/* BI-RADS categories at the edges of their likelihood bins. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "risk/category.h"

static const char *cat(double p, int benign)
{
    return cn_risk_category_name(cn_risk_category_of(p, benign));
}

static void test_category_bins_hold_their_upper_edges(void **state)
{
    (void)state;
    assert_string_equal(cat(0.0, 0), "3");
    assert_string_equal(cat(0.02, 0), "3");
    assert_string_equal(cat(nextafter(0.02, 1.0), 0), "4A");
    assert_string_equal(cat(0.10, 0), "4A");
    assert_string_equal(cat(nextafter(0.10, 1.0), 0), "4B");
    assert_string_equal(cat(0.50, 0), "4B");
    assert_string_equal(cat(nextafter(0.50, 1.0), 0), "4C");
    assert_string_equal(cat(nextafter(0.95, 0.0), 0), "4C");
    assert_string_equal(cat(0.95, 0), "5");
    assert_string_equal(cat(1.0, 0), "5");
}

static void test_category_clearly_benign_lowers_only_a_3(void **state)
{
    (void)state;
    assert_string_equal(cat(0.0, 1), "2");
    assert_string_equal(cat(0.02, 1), "2");
    assert_string_equal(cat(nextafter(0.02, 1.0), 1), "4A");
    assert_string_equal(cat(0.7, 1), "4C");
    assert_string_equal(cat(0.99, 1), "5");
}

static void test_category_of_an_impossible_probability_is_suspicious(void **state)
{
    (void)state;
    assert_string_equal(cat(NAN, 1), "5");
    assert_string_equal(cat(-0.01, 1), "5");
    assert_string_equal(cat(1.01, 0), "5");
    assert_string_equal(cn_risk_category_name(-1), "unknown");
    assert_string_equal(cn_risk_category_name(CN_RISK_CATEGORY_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_category_bins_hold_their_upper_edges),
        cmocka_unit_test(test_category_clearly_benign_lowers_only_a_3),
        cmocka_unit_test(test_category_of_an_impossible_probability_is_suspicious),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
