/*
 * Gaussian blur (recursive and small-kernel paths), DoG and Hessian against naive
 * direct implementations kept here.
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

/* Bound on |IIR - direct sampled convolution| on [0,1] images (header contract). */
#define IIR_MAX_ABS_ERROR 0.02

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static float *random_image(uint32_t rows, uint32_t columns)
{
    float *img = malloc((size_t)rows * columns * sizeof(float));
    assert_non_null(img);
    for (size_t i = 0; i < (size_t)rows * columns; i++)
        img[i] = (float)(rng() % 1000) / 999.0f;
    /* a bright square and a step make edges and plateaus */
    for (uint32_t y = rows / 4; y < rows / 2; y++)
        for (uint32_t x = columns / 3; x < columns / 2; x++)
            img[(size_t)y * columns + x] = 1.0f;
    return img;
}

static uint32_t clampi(int64_t v, uint32_t n)
{
    return v < 0 ? 0 : (v >= n ? n - 1 : (uint32_t)v);
}

/* Direct separable convolution with the sampled, normalised kernel of radius 5 sigma. */
static void naive_blur(const float *in, float *out, uint32_t rows, uint32_t columns,
                       double sr, double sc)
{
    size_t n = (size_t)rows * columns;
    double *tmp = malloc(n * sizeof(double));
    assert_non_null(tmp);
    int rc_ = (int)ceil(5 * sc), rr_ = (int)ceil(5 * sr);
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++) {
            double s = 0, w = 0;
            for (int d = -rc_; d <= rc_; d++) {
                double k = sc > 0 ? exp(-0.5 * d * d / (sc * sc)) : (d == 0);
                s += k * in[(size_t)y * columns + clampi((int64_t)x + d, columns)];
                w += k;
            }
            tmp[(size_t)y * columns + x] = s / w;
        }
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++) {
            double s = 0, w = 0;
            for (int d = -rr_; d <= rr_; d++) {
                double k = sr > 0 ? exp(-0.5 * d * d / (sr * sr)) : (d == 0);
                s += k * tmp[(size_t)clampi((int64_t)y + d, rows) * columns + x];
                w += k;
            }
            out[(size_t)y * columns + x] = (float)(s / w);
        }
    free(tmp);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        m = d > m ? d : m;
    }
    return m;
}

static void test_gauss_blur_matches_direct_convolution_within_bound(void **state)
{
    (void)state;
    const uint32_t rows = 97, columns = 131;
    const double sigmas[][2] = {{0.6, 0.6}, {0.9, 0.7}, {1.0, 1.0}, {1.3, 1.7},
                                {2.4, 2.6}, {4.0, 4.0}, {7.5, 3.0}};
    rng_state = 7;
    float *in = random_image(rows, columns);
    float *out = malloc(rows * columns * sizeof(float));
    float *ref = malloc(rows * columns * sizeof(float));
    for (size_t k = 0; k < sizeof(sigmas) / sizeof(sigmas[0]); k++) {
        assert_int_equal(ca_gauss_blur(in, out, rows, columns, sigmas[k][0], sigmas[k][1]), 0);
        naive_blur(in, ref, rows, columns, sigmas[k][0], sigmas[k][1]);
        double err = max_abs_diff(out, ref, (size_t)rows * columns);
        print_message("sigma %.1f x %.1f: max abs error %.5f\n", sigmas[k][0], sigmas[k][1],
                      err);
        assert_true(err < IIR_MAX_ABS_ERROR);
    }
    free(in);
    free(out);
    free(ref);
}

static void test_gauss_blur_in_place_equals_out_of_place(void **state)
{
    (void)state;
    const uint32_t rows = 40, columns = 50;
    rng_state = 11;
    float *in = random_image(rows, columns);
    float *out = malloc(rows * columns * sizeof(float));
    for (int k = 0; k < 2; k++) {
        double s = k ? 2.5 : 0.7;
        float *copy = malloc(rows * columns * sizeof(float));
        memcpy(copy, in, rows * columns * sizeof(float));
        assert_int_equal(ca_gauss_blur(in, out, rows, columns, s, s), 0);
        assert_int_equal(ca_gauss_blur(copy, copy, rows, columns, s, s), 0);
        assert_memory_equal(copy, out, rows * columns * sizeof(float));
        free(copy);
    }
    free(in);
    free(out);
}

static void test_gauss_blur_preserves_a_constant_image(void **state)
{
    (void)state;
    const uint32_t rows = 30, columns = 300;
    float *img = malloc(rows * columns * sizeof(float));
    for (size_t i = 0; i < rows * columns; i++)
        img[i] = 0.375f;
    assert_int_equal(ca_gauss_blur(img, img, rows, columns, 5.0, 9.0), 0);
    for (size_t i = 0; i < rows * columns; i++)
        assert_true(fabsf(img[i] - 0.375f) < 1e-4f);
    free(img);
}

static void test_gauss_blur_rejects_bad_arguments(void **state)
{
    (void)state;
    float px[4] = {0, 0, 0, 0};
    assert_int_equal(ca_gauss_blur(NULL, px, 2, 2, 1, 1), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_gauss_blur(px, px, 0, 2, 1, 1), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_gauss_blur(px, px, 2, 2, -1, 1), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_gauss_blur(px, px, 2, 2, NAN, 1), CA_ERR_INVALID_ARGUMENT);
}

static void test_dog_matches_difference_of_direct_blurs(void **state)
{
    (void)state;
    const uint32_t rows = 64, columns = 80;
    rng_state = 3;
    float *in = random_image(rows, columns);
    float *out = malloc(rows * columns * sizeof(float));
    float *scratch = malloc(rows * columns * sizeof(float));
    float *a = malloc(rows * columns * sizeof(float));
    float *b = malloc(rows * columns * sizeof(float));
    assert_int_equal(ca_dog(in, out, scratch, rows, columns, 1.5, 1.5, 1.6), 0);
    naive_blur(in, a, rows, columns, 1.5, 1.5);
    naive_blur(in, b, rows, columns, 2.4, 2.4);
    for (size_t i = 0; i < rows * columns; i++)
        a[i] -= b[i];
    assert_true(max_abs_diff(out, a, rows * columns) < 2 * IIR_MAX_ABS_ERROR);
    assert_int_equal(ca_dog(in, out, scratch, rows, columns, 1.5, 1.5, 1.0),
                     CA_ERR_INVALID_ARGUMENT);
    free(in);
    free(out);
    free(scratch);
    free(a);
    free(b);
}

static void test_hessian_matches_finite_differences_of_direct_blur(void **state)
{
    (void)state;
    const uint32_t rows = 48, columns = 56;
    const size_t n = (size_t)rows * columns;
    /* a smooth image: one Gaussian blob, so second differences are well conditioned */
    float *in = malloc(n * sizeof(float));
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++) {
            double dx = x - 25.3, dy = y - 21.7;
            in[(size_t)y * columns + x] = (float)exp(-(dx * dx + dy * dy) / (2 * 9.0));
        }
    float *bl = malloc(n * sizeof(float)), *hxx = malloc(n * sizeof(float)),
          *hxy = malloc(n * sizeof(float)), *hyy = malloc(n * sizeof(float)),
          *ref = malloc(n * sizeof(float));
    assert_int_equal(ca_hessian(in, bl, hxx, hxy, hyy, rows, columns, 2.5, 2.5), 0);
    naive_blur(in, ref, rows, columns, 2.5, 2.5);
    double worst = 0, peak = 0;
    for (uint32_t y = 1; y + 1 < rows; y++)
        for (uint32_t x = 1; x + 1 < columns; x++) {
            size_t i = (size_t)y * columns + x;
            double rxx = ref[i + 1] - 2.0 * ref[i] + ref[i - 1];
            double ryy = ref[i + columns] - 2.0 * ref[i] + ref[i - columns];
            double rxy = 0.25 * (ref[i + columns + 1] - ref[i + columns - 1] -
                                 ref[i - columns + 1] + ref[i - columns - 1]);
            double e = fmax(fabs(rxx - hxx[i]), fmax(fabs(ryy - hyy[i]), fabs(rxy - hxy[i])));
            worst = e > worst ? e : worst;
            peak = fmax(peak, fabs(rxx));
        }
    print_message("hessian: max abs error %.6f, peak |hxx| %.6f\n", worst, peak);
    assert_true(worst < 0.1 * peak);
    /* at the blob centre both eigenvalues are negative */
    size_t c = (size_t)22 * columns + 25;
    assert_true(hxx[c] < 0 && hyy[c] < 0 && hxx[c] * hyy[c] - hxy[c] * hxy[c] > 0);
    free(in);
    free(bl);
    free(hxx);
    free(hxy);
    free(hyy);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gauss_blur_matches_direct_convolution_within_bound),
        cmocka_unit_test(test_gauss_blur_in_place_equals_out_of_place),
        cmocka_unit_test(test_gauss_blur_preserves_a_constant_image),
        cmocka_unit_test(test_gauss_blur_rejects_bad_arguments),
        cmocka_unit_test(test_dog_matches_difference_of_direct_blurs),
        cmocka_unit_test(test_hessian_matches_finite_differences_of_direct_blur),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
