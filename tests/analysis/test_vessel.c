/*
 * The vessel-end measure (analysis/src/vessel.c) on band images drawn by hand, where the
 * band past a region is known exactly: lines along their axis, round regions in 16
 * directions.
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

#define WIDTH 120
#define HEIGHT 80

static const double spacing[2] = {0.1, 0.1};

struct scene {
    float band[WIDTH * HEIGHT];
    uint32_t region[WIDTH * HEIGHT];
    size_t n;
};

/* Sets rows y0..y1, columns x0..x1 of the band to value. */
static void fill(struct scene *s, uint32_t x0, uint32_t x1, uint32_t y0, uint32_t y1, float value)
{
    for (uint32_t y = y0; y <= y1; y++)
        for (uint32_t x = x0; x <= x1; x++)
            s->band[y * WIDTH + x] = value;
}

/* The region: rows y0..y1, columns x0..x1. */
static void select_region(struct scene *s, uint32_t x0, uint32_t x1, uint32_t y0, uint32_t y1)
{
    s->n = 0;
    for (uint32_t y = y0; y <= y1; y++)
        for (uint32_t x = x0; x <= x1; x++)
            s->region[s->n++] = y * WIDTH + x;
}

/* The measure of a line (along its major axis). */
static double continuation(const struct scene *s)
{
    return ca_vessel_continuation(s->band, WIDTH, HEIGHT, s->region, s->n, spacing, 1);
}

/* The measure of a region that is not a line (16 directions). */
static double blob_continuation(const struct scene *s)
{
    return ca_vessel_continuation(s->band, WIDTH, HEIGHT, s->region, s->n, spacing, 0);
}

/* A disc of radius 3 pixels around (cx, cy) set to value; it becomes the region. */
static void disc_region(struct scene *s, int cx, int cy, float value)
{
    s->n = 0;
    for (int y = cy - 3; y <= cy + 3; y++)
        for (int x = cx - 3; x <= cx + 3; x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= 9) {
                s->band[y * WIDTH + x] = value;
                s->region[s->n++] = (uint32_t)(y * WIDTH + x);
            }
}

/* The last 1.1 mm of a vessel 0.5 mm wide: past its end nothing, behind it the vessel at
 * the region's own level, so every run of samples behind it is 1. */
static void test_vessel_end_continues_at_its_own_level(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    fill(&s, 10, 60, 38, 42, 1.0f);
    select_region(&s, 50, 60, 38, 42);
    assert_float_equal(continuation(&s), 1.0, 1e-9);
}

/* An isolated line: flat band all round it. */
static void test_vessel_isolated_line_does_not_continue(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    fill(&s, 50, 60, 38, 42, 1.0f);
    select_region(&s, 50, 60, 38, 42);
    assert_float_equal(continuation(&s), 0.0, 1e-9);
}

/* A segment of a chain (a calcified wall, a fine linear calcification in pieces): the next
 * segment lies within 1.5 mm, but past a gap of 0.4 mm. */
static void test_vessel_chain_with_gaps_does_not_continue(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    for (uint32_t x0 = 2; x0 + 11 < WIDTH; x0 += 16)
        fill(&s, x0, x0 + 11, 38, 40, 1.0f); /* 1.2 mm long, 0.4 mm apart */
    select_region(&s, 50, 61, 38, 40);
    assert_float_equal(continuation(&s), 0.0, 1e-9);
    fill(&s, 62, 65, 38, 40, 1.0f); /* the gap on one side closed: a vessel again */
    assert_float_equal(continuation(&s), 1.0, 1e-9);
}

/* A calcified segment (4) on a vessel (1) running on both sides: a quarter, whichever side;
 * the larger side counts when the vessel is dimmer on one of them. */
static void test_vessel_calcified_segment_is_far_brighter_than_its_vessel(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    fill(&s, 5, 110, 38, 42, 1.0f);
    fill(&s, 50, 60, 38, 42, 4.0f);
    select_region(&s, 50, 60, 38, 42);
    assert_float_equal(continuation(&s), 0.25, 1e-9);
    fill(&s, 5, 49, 38, 42, 0.5f);
    assert_float_equal(continuation(&s), 0.25, 1e-9);
    fill(&s, 61, 110, 38, 42, 0.5f);
    fill(&s, 5, 49, 38, 42, 2.0f);
    assert_float_equal(continuation(&s), 0.5, 1e-9);
}

/* Along its major axis: a vertical line, the vessel above it, and a bright object beside
 * it (off the axis) that must not count. */
static void test_vessel_samples_along_the_major_axis(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    fill(&s, 58, 62, 5, 40, 0.5f);   /* the vessel above */
    fill(&s, 58, 62, 41, 52, 1.0f);  /* the region: 1.2 mm long, 0.5 mm wide */
    fill(&s, 70, 100, 45, 48, 9.0f); /* to its right, off the axis */
    select_region(&s, 58, 62, 41, 52);
    assert_float_equal(continuation(&s), 0.5, 1e-9);
}

/* A diagonal vessel end: nearest-pixel samples on the axis stay inside a band 5 pixels
 * wide, so the measure is 1 there too. */
static void test_vessel_diagonal_end(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    s.n = 0;
    for (int y = 0; y < HEIGHT; y++)
        for (int x = 0; x < WIDTH; x++) {
            int d = x - y; /* the diagonal x = y, from (10, 10) to (60, 60) */
            if (abs(d) <= 2 && x + y >= 20 && x + y <= 120) {
                s.band[y * WIDTH + x] = 1.0f;
                if (x + y >= 100)
                    s.region[s.n++] = (uint32_t)(y * WIDTH + x);
            }
        }
    assert_float_equal(continuation(&s), 1.0, 1e-9);
}

/* An end whose samples leave the band image is not counted: at the image's edge only the
 * inner side counts. */
static void test_vessel_samples_outside_the_image_are_left_out(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    fill(&s, 90, 119, 38, 42, 1.0f);
    fill(&s, 109, 119, 38, 42, 2.0f);
    select_region(&s, 109, 119, 38, 42);
    assert_float_equal(continuation(&s), 0.5, 1e-9);
}

static void test_vessel_empty_or_dark_region_gives_zero(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    fill(&s, 10, 60, 38, 42, 1.0f);
    select_region(&s, 50, 60, 38, 42);
    s.n = 0;
    assert_float_equal(continuation(&s), 0.0, 0.0);
    fill(&s, 50, 60, 38, 42, -1.0f); /* below the band's zero: no calcification to compare */
    select_region(&s, 50, 60, 38, 42);
    assert_float_equal(continuation(&s), 0.0, 0.0);
}

/* The cap of a vessel, found as a round region: the ray back along the vessel (one of the
 * 16) stays at the cap's level, whichever way the vessel runs. */
static void test_vessel_round_cap_of_a_vessel_continues(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    fill(&s, 10, 60, 38, 42, 1.0f);
    disc_region(&s, 60, 40, 1.0f);
    assert_float_equal(blob_continuation(&s), 1.0, 1e-9);
    memset(&s, 0, sizeof(s));
    for (int y = 5; y <= 40; y++) /* up and to the left, at 45 degrees */
        for (int x = 25; x <= 60; x++)
            if (abs((x - 60) - (y - 40)) <= 2)
                s.band[y * WIDTH + x] = 1.0f;
    disc_region(&s, 60, 40, 1.0f);
    assert_float_equal(blob_continuation(&s), 1.0, 1e-9);
}

/* A round calcification: alone; on a vessel four times dimmer that runs through it; and
 * 0.4 mm before the end of a bar (a gap on every ray). */
static void test_vessel_round_calcification_does_not_continue(void **state)
{
    (void)state;
    static struct scene s;
    memset(&s, 0, sizeof(s));
    disc_region(&s, 60, 40, 1.0f);
    assert_float_equal(blob_continuation(&s), 0.0, 1e-9);
    fill(&s, 5, 110, 38, 42, 0.25f);
    disc_region(&s, 60, 40, 1.0f);
    assert_float_equal(blob_continuation(&s), 0.25, 1e-9);
    memset(&s, 0, sizeof(s));
    fill(&s, 10, 52, 38, 42, 1.0f); /* ends 4 pixels before the disc's rim at x = 57 */
    disc_region(&s, 60, 40, 1.0f);
    assert_float_equal(blob_continuation(&s), 0.0, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vessel_end_continues_at_its_own_level),
        cmocka_unit_test(test_vessel_isolated_line_does_not_continue),
        cmocka_unit_test(test_vessel_chain_with_gaps_does_not_continue),
        cmocka_unit_test(test_vessel_calcified_segment_is_far_brighter_than_its_vessel),
        cmocka_unit_test(test_vessel_samples_along_the_major_axis),
        cmocka_unit_test(test_vessel_diagonal_end),
        cmocka_unit_test(test_vessel_samples_outside_the_image_are_left_out),
        cmocka_unit_test(test_vessel_empty_or_dark_region_gives_zero),
        cmocka_unit_test(test_vessel_round_cap_of_a_vessel_continues),
        cmocka_unit_test(test_vessel_round_calcification_does_not_continue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
