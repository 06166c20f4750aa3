/* The status page's image rendering: block averaging against a naive reference, the
 * display window, outlines, the convex hull, and the PNG decoded back with libpng. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>

#include "http/overlay.h"
#include "http/render.h"

static const uint8_t *px(const struct cn_rgb_image *im, uint32_t x, uint32_t y)
{
    return im->rgb + ((size_t)y * im->columns + x) * 3;
}

/* A 64 x 48 ramp reduced to 16 x 12: every output pixel is the mean of its 4 x 4 block
 * (naive reference), mapped linearly between the image's extremes (the 0.5 % clip of
 * 192 pixels is less than one pixel, so the extremes themselves). */
static void test_render_gray_averages_blocks_like_a_naive_reference(void **state)
{
    (void)state;
    const uint32_t rows = 64, columns = 48;
    uint16_t *in = malloc(rows * columns * sizeof *in);
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++)
            in[y * columns + x] = (uint16_t)(100 + 7 * x + 3 * y);
    struct cn_rgb_image out;
    assert_int_equal(cn_render_gray(in, rows, columns, 0, 16, &out), 0);
    assert_int_equal(out.rows, 16);
    assert_int_equal(out.columns, 12);
    double means[16][12], lo = 1e9, hi = -1e9;
    for (uint32_t oy = 0; oy < 16; oy++)
        for (uint32_t ox = 0; ox < 12; ox++) {
            double sum = 0;
            for (uint32_t y = oy * 4; y < oy * 4 + 4; y++)
                for (uint32_t x = ox * 4; x < ox * 4 + 4; x++)
                    sum += in[y * columns + x];
            means[oy][ox] = sum / 16;
            lo = means[oy][ox] < lo ? means[oy][ox] : lo;
            hi = means[oy][ox] > hi ? means[oy][ox] : hi;
        }
    for (uint32_t oy = 0; oy < 16; oy++)
        for (uint32_t ox = 0; ox < 12; ox++) {
            /* the window's ends are histogram bins of rounded means */
            double expect = (means[oy][ox] - lo) / (hi - lo) * 255.0;
            const uint8_t *p = px(&out, ox, oy);
            assert_true(p[0] == p[1] && p[1] == p[2]);
            assert_true(abs((int)p[0] - (int)(expect + 0.5)) <= 2);
        }
    assert_int_equal(px(&out, 0, 0)[0], 0);
    assert_int_equal(px(&out, 11, 15)[0], 255);
    cn_rgb_image_free(&out);
    /* MONOCHROME1: the same picture inverted */
    assert_int_equal(cn_render_gray(in, rows, columns, 1, 16, &out), 0);
    assert_int_equal(px(&out, 0, 0)[0], 255);
    assert_int_equal(px(&out, 11, 15)[0], 0);
    cn_rgb_image_free(&out);
    free(in);
}

static void test_render_gray_rejects_bad_sizes(void **state)
{
    (void)state;
    uint16_t one[4] = {0};
    struct cn_rgb_image out;
    assert_int_equal(cn_render_gray(one, 2, 2, 0, CN_RENDER_MIN_ROWS - 1, &out), -1);
    assert_int_equal(cn_render_gray(one, 2, 2, 0, CN_RENDER_MAX_ROWS + 1, &out), -1);
    assert_int_equal(cn_render_gray(one, 0, 2, 0, 64, &out), -1);
    assert_int_equal(cn_render_gray(NULL, 2, 2, 0, 64, &out), -1);
    /* smaller than asked: rendered at its own size; a flat image is not a division by 0 */
    assert_int_equal(cn_render_gray(one, 2, 2, 0, 64, &out), 0);
    assert_int_equal(out.rows, 2);
    assert_int_equal(out.columns, 2);
    cn_rgb_image_free(&out);
}

static struct cn_rgb_image blank(uint32_t rows, uint32_t columns)
{
    struct cn_rgb_image im = {calloc((size_t)rows * columns, 3), rows, columns};
    return im;
}

static void test_render_line_draws_and_clips(void **state)
{
    (void)state;
    struct cn_rgb_image im = blank(10, 10);
    struct cn_rgb red = {255, 0, 0};
    cn_render_line(&im, -5, 3, 20, 3, 1, red); /* clipped at both ends */
    for (uint32_t x = 0; x < 10; x++)
        assert_int_equal(px(&im, x, 3)[0], 255);
    assert_int_equal(px(&im, 0, 4)[0], 0);
    cn_render_line(&im, 0, 0, 9, 9, 1, red);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(px(&im, i, i)[0], 255);
    cn_render_line(&im, -100000000, -5, 100000000, -5, 2, red); /* outside: nothing */
    cn_rgb_image_free(&im);
}

static void test_render_hull_keeps_only_the_outer_points(void **state)
{
    (void)state;
    struct cn_point pts[] = {{0, 0}, {4, 0}, {4, 4}, {0, 4}, {2, 2}, {1, 3}, {2, 0}};
    struct cn_point hull[7];
    size_t n = cn_render_hull(pts, 7, hull);
    assert_int_equal(n, 4);
    int corners = 0;
    for (size_t i = 0; i < n; i++)
        corners += (hull[i].x == 0 || hull[i].x == 4) && (hull[i].y == 0 || hull[i].y == 4);
    assert_int_equal(corners, 4);
}

/* Encodes a picture and decodes it back with libpng: same size, same pixels. */
static void test_render_png_decodes_back_to_the_same_pixels(void **state)
{
    (void)state;
    struct cn_rgb_image im = blank(7, 5);
    for (size_t i = 0; i < 7 * 5 * 3; i++)
        im.rgb[i] = (uint8_t)(i * 37);
    uint8_t *png;
    size_t len;
    assert_int_equal(cn_render_png(&im, &png, &len), 0);
    assert_true(len > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    png_image back;
    memset(&back, 0, sizeof back);
    back.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_memory(&back, png, len));
    assert_int_equal(back.width, 5);
    assert_int_equal(back.height, 7);
    back.format = PNG_FORMAT_RGB;
    uint8_t decoded[7 * 5 * 3];
    assert_true(png_image_finish_read(&back, NULL, decoded, 0, NULL));
    assert_memory_equal(decoded, im.rgb, sizeof decoded);
    free(png);
    cn_rgb_image_free(&im);
}

static const char FINDINGS[] =
    "{\"images\": ["
    " {\"sop_instance_uid\": \"1.2.3\", \"rows\": 100, \"columns\": 80, \"calcifications\": []"
    "  , \"clusters\": []},"
    " {\"sop_instance_uid\": \"1.2.4\", \"rows\": 100, \"columns\": 80,"
    "  \"calcifications\": ["
    "   {\"id\": 1, \"x\": 20.5, \"y\": 30.5, \"bbox\": [20, 30, 21, 31], \"cluster\": 0},"
    "   {\"id\": 2, \"x\": 40, \"y\": 30, \"bbox\": [39, 29, 41, 31], \"cluster\": 0},"
    "   {\"id\": 3, \"x\": 30, \"y\": 50, \"bbox\": [30, 50, 30, 50], \"cluster\": 0},"
    "   {\"id\": 4, \"x\": 500, \"y\": 50, \"bbox\": [500, 50, 501, 51], \"cluster\": 0}],"
    "  \"clusters\": [{\"id\": 0, \"bbox\": [20, 29, 41, 51], \"members\": [1, 2, 3, 4, 99],"
    "                 \"suspicious\": false, \"reported\": true, \"category\": \"4B\","
    "                 \"score\": 0.8}]}]}";

static void test_overlay_reads_one_image_and_drops_what_is_outside(void **state)
{
    (void)state;
    struct cn_overlay o;
    char err[256];
    assert_int_equal(cn_overlay_parse(FINDINGS, strlen(FINDINGS), "1.2.4", &o, err, sizeof err), 1);
    assert_int_equal(o.rows, 100);
    assert_int_equal(o.columns, 80);
    assert_int_equal(o.calcification_count, 3); /* x = 500 is outside the image */
    assert_int_equal(o.cluster_count, 1);
    assert_true(o.clusters[0].reported);
    assert_string_equal(o.clusters[0].category, "4B");
    /* hull of the 3 valid members' boxes: inside [20, 42] x [29, 51] */
    assert_true(o.clusters[0].hull_count >= 3);
    for (size_t i = 0; i < o.clusters[0].hull_count; i++) {
        assert_true(o.clusters[0].hull[i].x >= 20 && o.clusters[0].hull[i].x <= 42);
        assert_true(o.clusters[0].hull[i].y >= 29 && o.clusters[0].hull[i].y <= 51);
    }
    struct cn_rgb c = cn_overlay_colour(&o.clusters[0]);
    assert_int_equal(c.r, 230);
    /* drawn at full size: the outline's colour appears, the inside of the hull not */
    struct cn_rgb_image im = blank(100, 80);
    cn_overlay_draw(&o, &im);
    size_t coloured = 0;
    for (size_t i = 0; i < 100 * 80; i++)
        coloured += im.rgb[3 * i] == 230 && im.rgb[3 * i + 1] == 40;
    assert_true(coloured > 40);
    assert_int_equal(px(&im, 31, 38)[0], 0);
    cn_rgb_image_free(&im);
    cn_overlay_free(&o);
    assert_int_equal(cn_overlay_parse(FINDINGS, strlen(FINDINGS), "1.2.5", &o, err, sizeof err), 0);
    assert_int_equal(cn_overlay_parse("{\"images\": 3}", 13, "1.2.4", &o, err, sizeof err), -1);
    assert_int_equal(cn_overlay_parse("not json", 8, "1.2.4", &o, err, sizeof err), -1);
    static const char bad_size[] = "{\"images\": [{\"sop_instance_uid\": \"1\", \"rows\": 0,"
                                   " \"columns\": 5, \"calcifications\": [], \"clusters\": []}]}";
    assert_int_equal(cn_overlay_parse(bad_size, strlen(bad_size), "1", &o, err, sizeof err), -1);
}

/* "reported" decides the colour; findings without it fall back to "suspicious". */
static void test_overlay_colours_by_reported_then_suspicious(void **state)
{
    (void)state;
    static const char *const clusters[] = {
        "\"suspicious\": true, \"reported\": false", /* the model's probability was too low */
        "\"suspicious\": true",                      /* findings before "reported" */
        "\"suspicious\": false",
    };
    static const int expect_reported[] = {0, 1, 0};
    for (size_t i = 0; i < 3; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"images\": [{\"sop_instance_uid\": \"9\", \"rows\": 10, \"columns\": 10,"
                 " \"calcifications\": [], \"clusters\": [{\"members\": [], %s,"
                 " \"category\": \"5\"}]}]}",
                 clusters[i]);
        struct cn_overlay o;
        char err[256];
        assert_int_equal(cn_overlay_parse(text, strlen(text), "9", &o, err, sizeof err), 1);
        assert_int_equal(o.cluster_count, 1);
        assert_int_equal(o.clusters[0].reported, expect_reported[i]);
        struct cn_rgb c = cn_overlay_colour(&o.clusters[0]);
        assert_int_equal(c.r, expect_reported[i] ? 230 : 70); /* red for "5", else blue */
        cn_overlay_free(&o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_gray_averages_blocks_like_a_naive_reference),
        cmocka_unit_test(test_overlay_colours_by_reported_then_suspicious),
        cmocka_unit_test(test_render_gray_rejects_bad_sizes),
        cmocka_unit_test(test_render_line_draws_and_clips),
        cmocka_unit_test(test_render_hull_keeps_only_the_outer_points),
        cmocka_unit_test(test_render_png_decodes_back_to_the_same_pixels),
        cmocka_unit_test(test_overlay_reads_one_image_and_drops_what_is_outside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
