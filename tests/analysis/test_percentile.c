/*
 * ca_percentiles against the naive reference: numpy.percentile's linear formula on a
 * sorted copy. Random data of every shape the rings produce: continuous values,
 * quantised values with many ties, a handful of distinct values, all equal, a narrow
 * core with far outliers (one bin holds almost everything), negative values, and tiny
 * arrays of one to a dozen values. The results must be equal, not close.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calc/analysis.h"
#include "calc/kernels.h"
#include "sorted_reference.h"

#define LARGEST_N 40000u
/* The ring statistics' percentiles, the ends and the median. */
static const double fixed_q[] = {10.0, 90.0, 0.0, 100.0, 50.0, 25.0, 75.0, 99.9};

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* Uniform in [0, 1). */
static double unit(void)
{
    return (double)rng() / 16777216.0;
}

/* numpy.percentile, linear method, on a sorted copy. */
static double naive_percentile(const float *v, size_t n, double q)
{
    float *s = malloc(n * sizeof(float));
    assert_non_null(s);
    memcpy(s, v, n * sizeof(float));
    qsort(s, n, sizeof(float), by_value);
    double index = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(index);
    double t = index - (double)lo, a = s[lo];
    double p = lo + 1 >= n || t == 0.0 ? a : a + ((double)s[lo + 1] - a) * t;
    free(s);
    return p;
}

enum shape { CONTINUOUS, QUANTISED, FEW_VALUES, ALL_EQUAL, OUTLIERS, NEGATIVE, SHAPE_COUNT };

static float draw(enum shape shape)
{
    switch (shape) {
    case CONTINUOUS:
        return (float)(0.3 + 0.2 * (unit() + unit() + unit()) / 3.0);
    case QUANTISED: /* 12-bit levels around a tissue value: hundreds of ties each */
        return (float)((double)(1700 + rng() % 120) / 4095.0);
    case FEW_VALUES:
        return (float)(rng() % 3) * 0.25f;
    case ALL_EQUAL:
        return 0.4375f;
    case OUTLIERS: /* a narrow core and rare values far away on both sides */
        if (rng() % 500 == 0)
            return rng() % 2 ? 1000.0f : -1000.0f;
        return (float)(0.5 + 1e-4 * unit());
    case NEGATIVE:
    default:
        return (float)(unit() - 0.75);
    }
}

/* Fills v with n values of the shape, asks for count percentiles (the fixed ones, then
 * random ones) and compares every result with the reference on the original values. */
static void check(enum shape shape, size_t n, size_t count, int random_q)
{
    float *v = malloc(n * sizeof(float)), *original = malloc(n * sizeof(float));
    assert_non_null(v);
    assert_non_null(original);
    for (size_t i = 0; i < n; i++)
        v[i] = original[i] = draw(shape);
    double q[CA_PERCENTILE_MAX_COUNT], out[CA_PERCENTILE_MAX_COUNT];
    for (size_t k = 0; k < count; k++)
        q[k] = random_q ? 100.0 * unit() : fixed_q[k % (sizeof(fixed_q) / sizeof(fixed_q[0]))];
    assert_int_equal(ca_percentiles(v, n, q, count, out), 0);
    for (size_t k = 0; k < count; k++) {
        double expected = naive_percentile(original, n, q[k]);
        if (out[k] != expected)
            fail_msg("shape %d, n %zu, q %.17g: %.17g, expected %.17g", (int)shape, n, q[k], out[k],
                     expected);
    }
    /* v is a permutation of the input: the same values, reordered */
    qsort(v, n, sizeof(float), by_value);
    qsort(original, n, sizeof(float), by_value);
    assert_memory_equal(v, original, n * sizeof(float));
    free(v);
    free(original);
}

static void test_percentiles_equal_a_sorted_copy_on_random_data(void **state)
{
    (void)state;
    rng_state = 11;
    static const size_t sizes[] = {100, 1023, 1024, 1025, 4000, 12345, LARGEST_N};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int rep = 0; rep < 3; rep++) {
            check(CONTINUOUS, sizes[s], 2, 0);
            check(CONTINUOUS, sizes[s], CA_PERCENTILE_MAX_COUNT, 1);
            check(NEGATIVE, sizes[s], CA_PERCENTILE_MAX_COUNT, rep > 0);
        }
}

static void test_percentiles_equal_a_sorted_copy_with_many_ties(void **state)
{
    (void)state;
    rng_state = 12;
    static const size_t sizes[] = {50, 999, 4000, LARGEST_N};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int rep = 0; rep < 4; rep++) {
            check(QUANTISED, sizes[s], 2, 0);
            check(QUANTISED, sizes[s], CA_PERCENTILE_MAX_COUNT, 1);
            check(FEW_VALUES, sizes[s], CA_PERCENTILE_MAX_COUNT, rep > 1);
        }
}

static void test_percentiles_of_tiny_arrays_equal_a_sorted_copy(void **state)
{
    (void)state;
    rng_state = 13;
    for (size_t n = 1; n <= 12; n++)
        for (int shape = 0; shape < SHAPE_COUNT; shape++)
            for (int rep = 0; rep < 20; rep++)
                check((enum shape)shape, n, CA_PERCENTILE_MAX_COUNT, rep > 0);
}

static void test_percentiles_when_one_bin_holds_almost_everything(void **state)
{
    (void)state;
    rng_state = 14;
    static const size_t sizes[] = {600, 5000, LARGEST_N};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int rep = 0; rep < 3; rep++) {
            check(OUTLIERS, sizes[s], 2, 0);
            check(OUTLIERS, sizes[s], CA_PERCENTILE_MAX_COUNT, 1);
        }
}

static void test_percentiles_of_equal_values_are_that_value(void **state)
{
    (void)state;
    float v[300];
    for (size_t i = 0; i < 300; i++)
        v[i] = 0.4375f;
    double q[3] = {0.0, 10.0, 100.0}, out[3];
    assert_int_equal(ca_percentiles(v, 300, q, 3, out), 0);
    for (int k = 0; k < 3; k++)
        assert_true(out[k] == 0.4375);
}

static void test_percentiles_reject_bad_arguments(void **state)
{
    (void)state;
    float v[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    double q[CA_PERCENTILE_MAX_COUNT + 1] = {10.0, 90.0, 50.0, 0.0, 100.0}, out[5];
    assert_int_equal(ca_percentiles(NULL, 4, q, 1, out), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_percentiles(v, 4, NULL, 1, out), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_percentiles(v, 4, q, 1, NULL), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_percentiles(v, 0, q, 1, out), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_percentiles(v, 4, q, 0, out), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_percentiles(v, 4, q, CA_PERCENTILE_MAX_COUNT + 1, out),
                     CA_ERR_INVALID_ARGUMENT);
    double outside[3] = {-0.5, 100.5, NAN};
    for (int k = 0; k < 3; k++)
        assert_int_equal(ca_percentiles(v, 4, &outside[k], 1, out), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_percentiles(v, 4, q, CA_PERCENTILE_MAX_COUNT, out), 0);
    static const double expected[CA_PERCENTILE_MAX_COUNT] = {1.3, 3.7, 2.5, 1.0};
    for (int k = 0; k < CA_PERCENTILE_MAX_COUNT; k++)
        assert_true(fabs(out[k] - expected[k]) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_equal_a_sorted_copy_on_random_data),
        cmocka_unit_test(test_percentiles_equal_a_sorted_copy_with_many_ties),
        cmocka_unit_test(test_percentiles_of_tiny_arrays_equal_a_sorted_copy),
        cmocka_unit_test(test_percentiles_when_one_bin_holds_almost_everything),
        cmocka_unit_test(test_percentiles_of_equal_values_are_that_value),
        cmocka_unit_test(test_percentiles_reject_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
