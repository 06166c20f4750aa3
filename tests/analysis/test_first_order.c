/*
 * ca_first_order (analysis/src/features_intensity.c) against a naive reference kept
 * here: a sorted copy for the minimum, maximum and numpy's linear percentiles, the
 * pyradiomics binWidth formula (division by the bin width) for the entropy, and two-pass
 * long double sums for the moments. The values sit on the unit grid's bin edges
 * (k / 4096), on the entropy's (25 k / 4096), at 0 and 1, slightly outside [0,1], and
 * repeat in long runs, where a binning slip would show.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../analysis/src/features_internal.h"
#include "calc/features.h"
#include "sorted_reference.h"

enum { FO_MEAN, FO_STD, FO_SKEWNESS, FO_KURTOSIS, FO_MIN, FO_MAX, FO_P10, FO_P90, FO_ENTROPY };

/* pyradiomics binWidth entropy: bin of x clamped to [0,1] is floor(x / width). */
static double naive_entropy(const float *v, size_t n)
{
    enum { BINS = (int)(1.0 / CA_FEATURES_BIN_WIDTH) + 2 };
    size_t count[BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        double x = v[i] > 0.0f ? (v[i] < 1.0f ? v[i] : 1.0) : 0.0;
        count[(int)floor(x / CA_FEATURES_BIN_WIDTH)]++;
    }
    double h = 0.0;
    for (int b = 0; b < BINS; b++)
        if (count[b]) {
            double p = (double)count[b] / (double)n;
            h -= p * log2(p + DBL_EPSILON);
        }
    return h;
}

static void check(const float *values, size_t n)
{
    float *v = malloc(n * sizeof(float)), *sorted = malloc(n * sizeof(float));
    assert_non_null(v);
    assert_non_null(sorted);
    memcpy(v, values, n * sizeof(float));
    memcpy(sorted, values, n * sizeof(float));
    qsort(sorted, n, sizeof(float), by_value);
    double out[CA_FIRST_ORDER_COUNT];
    ca_first_order(v, n, out);

    long double sum = 0.0L, m2 = 0.0L, m3 = 0.0L, m4 = 0.0L;
    for (size_t i = 0; i < n; i++)
        sum += values[i];
    long double mean = sum / (long double)n;
    for (size_t i = 0; i < n; i++) {
        long double d = values[i] - mean;
        m2 += d * d, m3 += d * d * d, m4 += d * d * d * d;
    }
    m2 /= (long double)n, m3 /= (long double)n, m4 /= (long double)n;
    assert_true(fabs(out[FO_MEAN] - (double)mean) <= 1e-12);
    assert_true(fabs(out[FO_STD] - sqrt((double)m2)) <= 1e-12);
    if (m2 > 1e-12L) {
        assert_true(fabs(out[FO_SKEWNESS] - (double)(m3 / powl(m2, 1.5L))) <= 1e-7);
        assert_true(fabs(out[FO_KURTOSIS] - (double)(m4 / (m2 * m2))) <= 1e-7);
    }
    /* order statistics are the very values a sort gives: exact */
    assert_true(out[FO_MIN] == sorted[0]);
    assert_true(out[FO_MAX] == sorted[n - 1]);
    if (out[FO_P10] != sorted_percentile(sorted, n, 10.0) ||
        out[FO_P90] != sorted_percentile(sorted, n, 90.0))
        fail_msg("%zu values: p10 %.9g p90 %.9g, want %.9g %.9g", n, out[FO_P10], out[FO_P90],
                 sorted_percentile(sorted, n, 10.0), sorted_percentile(sorted, n, 90.0));
    assert_true(fabs(out[FO_ENTROPY] - naive_entropy(values, n)) <= 1e-12);
    free(v);
    free(sorted);
}

static void test_first_order_of_nothing_is_all_zero(void **state)
{
    (void)state;
    double out[CA_FIRST_ORDER_COUNT];
    for (int i = 0; i < CA_FIRST_ORDER_COUNT; i++)
        out[i] = 1.0;
    ca_first_order(NULL, 0, out);
    for (int i = 0; i < CA_FIRST_ORDER_COUNT; i++)
        assert_true(out[i] == 0.0);
}

static void test_first_order_of_one_value(void **state)
{
    (void)state;
    const float one[3] = {0.5f, 0.0f, 1.0f};
    for (int k = 0; k < 3; k++)
        check(&one[k], 1);
}

static void test_first_order_on_bin_edges_matches_the_naive_reference(void **state)
{
    (void)state;
    /* every edge of both grids, the values just below them, and 0 and 1 */
    size_t n = 0, cap = 3 * 4097;
    float *v = malloc(cap * sizeof(float));
    assert_non_null(v);
    for (int k = 0; k <= 4096; k++) {
        float edge = (float)k / 4096.0f;
        v[n++] = edge;
        if (k > 0)
            v[n++] = nextafterf(edge, 0.0f);
        if (k % 25 == 0)
            v[n++] = (float)(k / 25) * (float)CA_FEATURES_BIN_WIDTH;
    }
    check(v, n);
    /* and subsets, whose percentiles fall on other edges */
    for (size_t len = 2; len < n; len = len * 3 + 1)
        for (size_t start = 0; start + len <= n; start += len * 2 + 17)
            check(v + start, len);
    free(v);
}

static void test_first_order_outside_the_unit_interval_stays_exact(void **state)
{
    (void)state;
    const float v[] = {-0.25f, -1e-7f, 0.0f, 0.1f, 0.5f, 0.9f, 1.0f, 1.0000001f, 1.5f, 2.0f,
                       -0.25f, 2.0f,   0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 1.25f,      -3.0f, 0.75f};
    for (size_t n = 1; n <= sizeof(v) / sizeof(v[0]); n++)
        check(v, n);
}

static void test_first_order_of_quantised_tissue_matches_the_naive_reference(void **state)
{
    (void)state;
    /* runs of equal 12- and 14-bit levels, as in smooth tissue, of many lengths */
    srand(11);
    enum { MAX_N = 6000 };
    float *v = malloc(MAX_N * sizeof(float));
    assert_non_null(v);
    for (int rep = 0; rep < 300; rep++) {
        size_t n = 1 + (size_t)rand() % (rep < 100 ? 40 : MAX_N);
        double levels = rep % 2 ? 4095.0 : 16383.0, x = (double)rand() / RAND_MAX;
        for (size_t i = 0; i < n; i++) {
            if (rand() % 4 == 0)
                x += ((double)(rand() % 201) - 100.0) / levels;
            x = x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
            v[i] = (float)(round(x * levels) / levels);
        }
        check(v, n);
    }
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_order_of_nothing_is_all_zero),
        cmocka_unit_test(test_first_order_of_one_value),
        cmocka_unit_test(test_first_order_on_bin_edges_matches_the_naive_reference),
        cmocka_unit_test(test_first_order_outside_the_unit_interval_stays_exact),
        cmocka_unit_test(test_first_order_of_quantised_tissue_matches_the_naive_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
