/*
 * The candidate grid of the second stage (analysis/src/density.c) counts exactly what a
 * scan of every candidate counts, at the crop's edges and with anisotropic pixels too,
 * and so does a grid of the faint candidates at or above a contrast per scale.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../analysis/src/internal.h"

#define ROWS 300u
#define COLUMNS 220u
#define CANDIDATES 2000u
#define QUERIES 500u

/* A fixed linear congruential sequence, so the test is the same on every run. */
static uint32_t next(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static uint32_t naive_count(const struct ca_candidates *found, double x, double y,
                            const double sp[2], double radius_mm, const float *contrast_min)
{
    uint32_t count = 0;
    for (size_t i = 0; i < found->count; i++) {
        const struct ca_candidate *c = &found->items[i];
        if (contrast_min && (c->strong || c->contrast < contrast_min[c->scale]))
            continue;
        double dx = (found->items[i].x - x) * sp[1], dy = (found->items[i].y - y) * sp[0];
        count += dx * dx + dy * dy <= radius_mm * radius_mm;
    }
    return count;
}

static void check_against_scan(const double sp[2], double radius_mm, size_t n,
                               const float *contrast_min)
{
    struct ca_candidates found;
    memset(&found, 0, sizeof(found));
    found.items = calloc(n ? n : 1, sizeof(*found.items));
    assert_non_null(found.items);
    found.count = n;
    uint32_t state = 7;
    for (size_t i = 0; i < n; i++) {
        /* a dense corner as well as a uniform spread */
        uint32_t span_c = i % 3 ? COLUMNS : 20u, span_r = i % 3 ? ROWS : 20u;
        found.items[i].x = next(&state) % span_c;
        found.items[i].y = next(&state) % span_r;
        found.items[i].scale = next(&state) % 3u;
        found.items[i].contrast = 2.0f + (float)(next(&state) % 600u) / 100.0f;
        found.items[i].strong = found.items[i].contrast >= 7.0f;
    }
    struct ca_candidate_grid grid;
    assert_int_equal(
        ca_candidate_grid_build(&found, ROWS, COLUMNS, sp, radius_mm, contrast_min, &grid),
        0);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += !contrast_min || (!found.items[i].strong &&
                                  found.items[i].contrast >= contrast_min[found.items[i].scale]);
    assert_int_equal(grid.count, kept);
    for (uint32_t q = 0; q < QUERIES; q++) {
        double x = (double)(next(&state) % (100u * COLUMNS)) / 100.0;
        double y = (double)(next(&state) % (100u * ROWS)) / 100.0;
        if (q < 4) { /* the corners */
            x = q % 2 ? COLUMNS - 1 : 0;
            y = q / 2 ? ROWS - 1 : 0;
        }
        assert_int_equal(ca_candidate_grid_count(&grid, x, y, sp, radius_mm),
                         naive_count(&found, x, y, sp, radius_mm, contrast_min));
    }
    ca_candidate_grid_free(&grid);
    free(found.items);
}

static void test_density_grid_counts_equal_a_scan_of_every_candidate(void **state)
{
    (void)state;
    const double square[2] = {0.07, 0.07}, anisotropic[2] = {0.1, 0.05};
    check_against_scan(square, 2.5, CANDIDATES, NULL);
    check_against_scan(anisotropic, 2.5, CANDIDATES, NULL);
    check_against_scan(square, 0.3, CANDIDATES, NULL);
}

static void test_density_grid_of_bright_faint_candidates_counts_them(
    void **state)
{
    (void)state;
    const double square[2] = {0.07, 0.07}, anisotropic[2] = {0.1, 0.05};
    const float by_scale[3] = {3.5f, 4.5f, 6.9f}; /* strong ones (7 and more) never */
    check_against_scan(square, 2.5, CANDIDATES, by_scale);
    check_against_scan(anisotropic, 1.0, CANDIDATES, by_scale);
}

static void test_density_grid_of_no_candidates_counts_zero(void **state)
{
    (void)state;
    const double sp[2] = {0.07, 0.07};
    check_against_scan(sp, 2.5, 0, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_density_grid_counts_equal_a_scan_of_every_candidate),
        cmocka_unit_test(test_density_grid_of_bright_faint_candidates_counts_them),
        cmocka_unit_test(test_density_grid_of_no_candidates_counts_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
