/*
 * Labelling, box dilation and erosion, hole filling and Otsu against naive references
 * kept here, on random masks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calc/analysis.h"
#include "calc/kernels.h"

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static uint8_t *random_mask(uint32_t rows, uint32_t columns, uint32_t percent)
{
    uint8_t *m = malloc((size_t)rows * columns);
    assert_non_null(m);
    for (size_t i = 0; i < (size_t)rows * columns; i++)
        m[i] = rng() % 100 < percent;
    return m;
}

/* Flood fill from each unlabelled pixel in raster order, 8-connectivity. */
static uint32_t naive_label(const uint8_t *m, uint32_t *l, uint32_t rows, uint32_t columns)
{
    size_t n = (size_t)rows * columns;
    uint32_t *stack = malloc(n * sizeof(uint32_t)), next = 0;
    memset(l, 0, n * sizeof(uint32_t));
    for (size_t s = 0; s < n; s++) {
        if (!m[s] || l[s])
            continue;
        size_t top = 0;
        l[s] = ++next;
        stack[top++] = (uint32_t)s;
        while (top) {
            uint32_t i = stack[--top], y = i / columns, x = i % columns;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int64_t yy = (int64_t)y + dy, xx = (int64_t)x + dx;
                    if (yy < 0 || xx < 0 || yy >= rows || xx >= columns)
                        continue;
                    size_t j = (size_t)yy * columns + (size_t)xx;
                    if (m[j] && !l[j]) {
                        l[j] = next;
                        stack[top++] = (uint32_t)j;
                    }
                }
        }
    }
    free(stack);
    return next;
}

static void test_label_matches_naive_flood_fill_on_random_masks(void **state)
{
    (void)state;
    rng_state = 1;
    const uint32_t sizes[][2] = {{1, 1}, {1, 37}, {29, 1}, {64, 64}, {91, 133}};
    const uint32_t density[] = {10, 45, 60, 90};
    for (size_t s = 0; s < 5; s++)
        for (size_t d = 0; d < 4; d++) {
            uint32_t rows = sizes[s][0], columns = sizes[s][1];
            uint8_t *m = random_mask(rows, columns, density[d]);
            uint32_t *a = malloc((size_t)rows * columns * sizeof(uint32_t));
            uint32_t *b = malloc((size_t)rows * columns * sizeof(uint32_t));
            uint32_t count = 0;
            assert_int_equal(ca_label(m, a, rows, columns, &count), 0);
            assert_int_equal(count, naive_label(m, b, rows, columns));
            assert_memory_equal(a, b, (size_t)rows * columns * sizeof(uint32_t));
            free(m);
            free(a);
            free(b);
        }
}

static void test_label_joins_a_comb_whose_teeth_meet_only_in_the_last_row(void **state)
{
    (void)state;
    /* a comb: many vertical teeth joined only by the last row */
    const uint32_t rows = 50, columns = 201;
    uint8_t *m = calloc((size_t)rows * columns, 1);
    for (uint32_t x = 0; x < columns; x += 2)
        for (uint32_t y = 0; y < rows; y++)
            m[(size_t)y * columns + x] = 1;
    for (uint32_t x = 0; x < columns; x++)
        m[(size_t)(rows - 1) * columns + x] = 1;
    uint32_t *a = malloc((size_t)rows * columns * sizeof(uint32_t));
    uint32_t count = 0;
    assert_int_equal(ca_label(m, a, rows, columns, &count), 0);
    assert_int_equal(count, 1);
    free(m);
    free(a);
}

static void naive_dilate(const uint8_t *in, uint8_t *out, uint32_t rows, uint32_t columns,
                         uint32_t kr, uint32_t kc, int erode)
{
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++) {
            int any = 0, all = 1;
            for (int64_t dy = -(int64_t)(kr / 2); dy <= (int64_t)(kr - 1 - kr / 2); dy++)
                for (int64_t dx = -(int64_t)(kc / 2); dx <= (int64_t)(kc - 1 - kc / 2); dx++) {
                    int64_t yy = (int64_t)y + dy, xx = (int64_t)x + dx;
                    if (yy < 0 || xx < 0 || yy >= rows || xx >= columns)
                        continue;
                    int v = in[(size_t)yy * columns + (size_t)xx] != 0;
                    any |= v;
                    all &= v;
                }
            out[(size_t)y * columns + x] = (uint8_t)(erode ? all : any);
        }
}

static void test_dilate_and_erode_box_match_naive_windows(void **state)
{
    (void)state;
    rng_state = 5;
    const uint32_t kernels[][2] = {{1, 1}, {3, 3}, {16, 16}, {2, 5}, {7, 1}, {40, 3}};
    for (size_t k = 0; k < 6; k++)
        for (int erode = 0; erode < 2; erode++) {
            uint32_t rows = 45, columns = 67;
            uint8_t *m = random_mask(rows, columns, erode ? 85 : 3);
            uint8_t *a = malloc((size_t)rows * columns), *b = malloc((size_t)rows * columns);
            int rc = erode ? ca_erode_box(m, a, rows, columns, kernels[k][0], kernels[k][1])
                           : ca_dilate_box(m, a, rows, columns, kernels[k][0], kernels[k][1]);
            assert_int_equal(rc, 0);
            naive_dilate(m, b, rows, columns, kernels[k][0], kernels[k][1], erode);
            assert_memory_equal(a, b, (size_t)rows * columns);
            /* in place gives the same */
            rc = erode ? ca_erode_box(m, m, rows, columns, kernels[k][0], kernels[k][1])
                       : ca_dilate_box(m, m, rows, columns, kernels[k][0], kernels[k][1]);
            assert_int_equal(rc, 0);
            assert_memory_equal(m, b, (size_t)rows * columns);
            free(m);
            free(a);
            free(b);
        }
    uint8_t px = 1;
    assert_int_equal(ca_dilate_box(&px, &px, 1, 1, 0, 1), CA_ERR_INVALID_ARGUMENT);
}

static void test_fill_holes_fills_enclosed_background_only(void **state)
{
    (void)state;
    /* ring with a hole, plus an open C shape whose inside touches the border */
    const char *pic[] = {"..........", ".#####....", ".#...#....", ".#.#.#....",
                         ".#####....", "......###.", "......#...", "......###."};
    const char *want[] = {"..........", ".#####....", ".#####....", ".#####....",
                          ".#####....", "......###.", "......#...", "......###."};
    uint32_t rows = 8, columns = 10;
    uint8_t m[80];
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++)
            m[y * columns + x] = pic[y][x] == '#';
    assert_int_equal(ca_fill_holes(m, rows, columns), 0);
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++)
            assert_int_equal(m[y * columns + x], want[y][x] == '#');
}

/* Between-class variance maximised by trying every threshold. */
static int naive_otsu(const uint32_t *h, uint32_t bins)
{
    double best = -1;
    int t_best = -1;
    for (uint32_t t = 0; t + 1 < bins; t++) {
        double w0 = 0, w1 = 0, s0 = 0, s1 = 0;
        for (uint32_t i = 0; i < bins; i++) {
            if (i <= t) {
                w0 += h[i];
                s0 += (double)i * h[i];
            } else {
                w1 += h[i];
                s1 += (double)i * h[i];
            }
        }
        if (!w0 || !w1)
            continue;
        double d = s0 / w0 - s1 / w1, v = w0 * w1 * d * d;
        if (v > best * (1 + 1e-12)) {
            best = v;
            t_best = (int)t;
        }
    }
    return t_best;
}

static void test_otsu_matches_exhaustive_search(void **state)
{
    (void)state;
    rng_state = 9;
    uint32_t h[64];
    for (int trial = 0; trial < 50; trial++) {
        /* two bumps of random position and weight */
        memset(h, 0, sizeof(h));
        uint32_t a = rng() % 30, b = 32 + rng() % 30;
        for (int k = 0; k < 2000; k++) {
            uint32_t c = rng() % 3 ? a : b;
            h[(c + rng() % 5) % 64]++;
        }
        assert_int_equal(ca_otsu_threshold(h, 64), naive_otsu(h, 64));
    }
    memset(h, 0, sizeof(h));
    h[7] = 10;
    assert_int_equal(ca_otsu_threshold(h, 64), -1);
    h[50] = 10;
    int t = ca_otsu_threshold(h, 64);
    assert_true(t >= 7 && t < 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_matches_naive_flood_fill_on_random_masks),
        cmocka_unit_test(test_label_joins_a_comb_whose_teeth_meet_only_in_the_last_row),
        cmocka_unit_test(test_dilate_and_erode_box_match_naive_windows),
        cmocka_unit_test(test_fill_holes_fills_enclosed_background_only),
        cmocka_unit_test(test_otsu_matches_exhaustive_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
