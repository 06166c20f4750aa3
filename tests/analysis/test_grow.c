/*
 * Region growing (analysis/src/grow.c) through ca_analyze on synthetic images: the
 * narrow band-pass for a line on a vessel, the linear fraction for a line on a strand,
 * holes filled, the ends of a vessel and noise peaks along a thin one rejected, and which
 * calcifications the segmentation paints.
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
#include "analyze_canvas.h"

/* A short line calcification on the flank of a wider vessel: grown on the narrow
 * band-pass (grow_narrow_sigma_max_mm) its region spreads less into the vessel than on
 * the wide one, where the vessel lifts the side toward its axis. */
static void analyze_line_on_vessel_with(double narrow_sigma_max_mm, double linear_fraction,
                                        double narrow_outer_sigma_mm, double *x_mm,
                                        double *area_mm2)
{
    double *v = breast_canvas();
    add_segment(v, 20.0, 18.0, 20.0, 42.0, 1.5, 0.06);  /* the vessel, axis at x = 20 mm */
    add_segment(v, 20.4, 29.0, 20.4, 30.5, 0.3, 0.12); /* the calcification on its flank */
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_params p;
    ca_params_default(&p);
    p.grow_narrow_sigma_max_mm = narrow_sigma_max_mm;
    p.grow_linear_fraction = linear_fraction;
    p.grow_narrow_outer_sigma_mm = narrow_outer_sigma_mm;
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    const struct ca_calcification *c = found_near(&r, 20.4, 29.75);
    assert_non_null(c);
    *x_mm = c->x_px * SPACING_MM;
    *area_mm2 = c->area_mm2;
    ca_result_free(&r);
    free(px);
    free(v);
}

static void analyze_line_on_vessel(double narrow_sigma_max_mm, double linear_fraction,
                                   double *x_mm, double *area_mm2)
{
    struct ca_params p;
    ca_params_default(&p);
    analyze_line_on_vessel_with(narrow_sigma_max_mm, linear_fraction,
                                p.grow_narrow_outer_sigma_mm, x_mm, area_mm2);
}

static void test_grow_line_on_a_vessel_grows_on_the_narrow_band_pass(void **state)
{
    (void)state;
    double x_narrow, area_narrow, x_wide, area_wide;
    struct ca_params p;
    ca_params_default(&p);
    analyze_line_on_vessel(p.grow_narrow_sigma_max_mm, p.grow_linear_fraction, &x_narrow,
                           &area_narrow);
    analyze_line_on_vessel(0.0, p.grow_linear_fraction, &x_wide, &area_wide);
    /* the line's own footprint is about 0.45 mm2 */
    assert_true(area_narrow < area_wide);
    assert_true(fabs(x_narrow - 20.4) < 0.1 && fabs(x_wide - 20.4) < 0.1);
}

/* A shell: a bright ring of radii 0.35-0.6 mm around (x_mm, y_mm) with a dark centre
 * (the extreme of a rim calcification's lucent centre). */
static void add_shell(double *v, double x_mm, double y_mm, double amplitude)
{
    double cx = x_mm / SPACING_MM, cy = y_mm / SPACING_MM;
    for (int y = (int)cy - 8; y <= (int)cy + 8; y++)
        for (int x = (int)cx - 8; x <= (int)cx + 8; x++) {
            double r_mm = hypot(x - cx, y - cy) * SPACING_MM;
            if (r_mm >= 0.35 && r_mm <= 0.6)
                v[(size_t)y * COLUMNS + x] += amplitude;
        }
}

static void test_grow_fills_the_dark_centre_of_a_shell(void **state)
{
    (void)state;
    double *v = breast_canvas();
    add_shell(v, 20.0, 30.0, 0.12);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, NULL, &r), 0);
    const struct ca_calcification *c = found_near(&r, 20.0, 30.0);
    assert_non_null(c);
    /* the centre carries no signal of its own: only the hole filling labels it */
    size_t centre = (size_t)lround(30.0 / SPACING_MM) * COLUMNS + (size_t)lround(20.0 / SPACING_MM);
    assert_int_equal(r.labels[centre], c->id);
    /* the disc of 0.6 mm is 1.13 mm2; the ring alone would be 0.75 */
    assert_true(c->area_mm2 > 0.9 && c->area_mm2 < 1.5);
    ca_result_free(&r);
    free(px);
    free(v);
}

/* The same line grown at grow_fraction takes in more of the vessel beside it than at
 * grow_linear_fraction. */
static void test_grow_line_on_a_vessel_stays_narrower_at_the_linear_fraction(void **state)
{
    (void)state;
    struct ca_params p;
    ca_params_default(&p);
    double x_line, area_line, x_blob, area_blob;
    analyze_line_on_vessel(p.grow_narrow_sigma_max_mm, p.grow_linear_fraction, &x_line,
                           &area_line);
    analyze_line_on_vessel(p.grow_narrow_sigma_max_mm, p.grow_fraction, &x_blob, &area_blob);
    assert_true(area_line < area_blob);
}

/* An outer sigma of the ladder's last two is taken from the ladder; any other is
 * blurred again: both ways give the same band-pass, so the same region. */
static void test_grow_narrow_band_pass_from_the_ladder_or_blurred_again(void **state)
{
    (void)state;
    struct ca_params p;
    ca_params_default(&p);
    double sigma_last = p.sigmas_mm[p.scale_count - 1];
    double x_ladder, area_ladder, x_blurred, area_blurred;
    analyze_line_on_vessel_with(p.grow_narrow_sigma_max_mm, p.grow_linear_fraction, sigma_last,
                                &x_ladder, &area_ladder);
    analyze_line_on_vessel_with(p.grow_narrow_sigma_max_mm, p.grow_linear_fraction,
                                sigma_last * (1.0 + 1e-5), &x_blurred, &area_blurred);
    assert_true(fabs(area_ladder - area_blurred) < 1e-9);
    assert_true(fabs(x_ladder - x_blurred) < 1e-9);
}

/* A vessel 0.6 mm wide from x = 10 to 25 mm along y = 30 mm, and, when calcium_amplitude
 * is positive, a calcified segment 0.3 mm wide on it from x = 17 to 18.5 mm. Returns the
 * calcifications at or above contrast_min on the vessel found at the default
 * vessel_end_sigma_min_mm or coarser; *calcified_kept tells whether such a line lies
 * within 0.3 mm of the segment's middle. */
static size_t coarse_finds_on_vessel(double vessel_end_continuation_min, double calcium_amplitude,
                                     int *calcified_kept)
{
    double *v = breast_canvas();
    add_tube(v, 10.0, 30.0, 25.0, 30.0, 0.3, 0.04);
    if (calcium_amplitude > 0.0)
        add_segment(v, 17.0, 30.0, 18.5, 30.0, 0.3, calcium_amplitude);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_params p;
    ca_params_default(&p);
    double coarse_mm = p.vessel_end_sigma_min_mm;
    p.vessel_end_continuation_min = vessel_end_continuation_min;
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    size_t finds = 0;
    for (size_t i = 0; i < r.calcification_count; i++) {
        const struct ca_calcification *c = &r.calcifications[i];
        double x_mm = c->x_px * SPACING_MM, y_mm = c->y_px * SPACING_MM;
        finds += isinf(c->second_stage_score) && c->scale_mm >= coarse_mm &&
                 fabs(y_mm - 30.0) < 1.0 && x_mm > 9.0 && x_mm < 26.0;
    }
    const struct ca_calcification *c = found_near(&r, 17.75, 30.0);
    *calcified_kept = c && c->linear && c->scale_mm >= coarse_mm;
    print_message("%zu coarse finds on the vessel, calcified segment %s\n", finds,
                  *calcified_kept ? "kept" : "not found");
    ca_result_free(&r);
    free(px);
    free(v);
    return finds;
}

/* The rounded ends of a vessel pass the blob test at a coarser scale; grown, they are
 * round or lines as wide as the vessel, and the band-pass goes on past them. */
static void test_grow_rejects_the_ends_of_a_vessel(void **state)
{
    (void)state;
    int calcified;
    assert_true(coarse_finds_on_vessel(0.0, 0.0, &calcified) >= 3); /* without the test */
    struct ca_params p;
    ca_params_default(&p);
    assert_int_equal(coarse_finds_on_vessel(p.vessel_end_continuation_min, 0.0, &calcified), 0);
}

/* A calcified segment of the same vessel, twice as bright as the vessel, is a coarse line
 * too; the vessel past its ends is far dimmer than it, so it is kept. */
static void test_grow_keeps_a_calcified_segment_of_a_vessel(void **state)
{
    (void)state;
    struct ca_params p;
    ca_params_default(&p);
    int calcified;
    coarse_finds_on_vessel(p.vessel_end_continuation_min, 0.08, &calcified);
    assert_true(calcified);
}

/* A thin vessel (0.2 mm wide) across the breast with a calcification of 0.15 mm on it at
 * x = 25 mm. Returns the detections at or above contrast_min along the vessel other than
 * the calcification; *calcification_kept tells whether it was found. */
static size_t noise_peaks_on_thin_vessel(double vessel_fine_continuation_min,
                                         int *calcification_kept)
{
    double *v = breast_canvas();
    add_tube(v, 10.0, 30.0, 40.0, 30.0, 0.1, 0.05);
    add_blob(v, (struct blob){25.0, 30.0, 0.15}, 0.12);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_params p;
    ca_params_default(&p);
    p.vessel_fine_continuation_min = vessel_fine_continuation_min;
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    size_t peaks = 0;
    for (size_t i = 0; i < r.calcification_count; i++) {
        const struct ca_calcification *c = &r.calcifications[i];
        double x_mm = c->x_px * SPACING_MM, y_mm = c->y_px * SPACING_MM;
        peaks += isinf(c->second_stage_score) && fabs(y_mm - 30.0) < 1.0 && x_mm > 9.0 &&
                 x_mm < 41.0 && distance_mm(c, 25.0, 30.0) > 0.5;
    }
    const struct ca_calcification *c = found_near(&r, 25.0, 30.0);
    *calcification_kept = c && isinf(c->second_stage_score);
    print_message("%zu noise peaks on the thin vessel, calcification %s\n", peaks,
                  *calcification_kept ? "kept" : "not found");
    ca_result_free(&r);
    free(px);
    free(v);
    return peaks;
}

/* Noise peaks on a thin vessel pass the blob test at the finest scale and grow along it;
 * on the narrow band-pass the vessel goes on past them about as bright, while the
 * calcification stands far above it. */
static void test_grow_rejects_noise_peaks_along_a_thin_vessel(void **state)
{
    (void)state;
    int kept;
    assert_true(noise_peaks_on_thin_vessel(0.0, &kept) >= 10); /* without the test */
    assert_true(kept);
    struct ca_params p;
    ca_params_default(&p);
    assert_int_equal(noise_peaks_on_thin_vessel(p.vessel_fine_continuation_min, &kept), 0);
    assert_true(kept);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_line_on_a_vessel_grows_on_the_narrow_band_pass),
        cmocka_unit_test(test_grow_narrow_band_pass_from_the_ladder_or_blurred_again),
        cmocka_unit_test(test_grow_fills_the_dark_centre_of_a_shell),
        cmocka_unit_test(test_grow_line_on_a_vessel_stays_narrower_at_the_linear_fraction),
        cmocka_unit_test(test_grow_rejects_the_ends_of_a_vessel),
        cmocka_unit_test(test_grow_keeps_a_calcified_segment_of_a_vessel),
        cmocka_unit_test(test_grow_rejects_noise_peaks_along_a_thin_vessel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
