/*
 * ca_analyze on synthetic images with known answers: a noisy breast with Gaussian blobs
 * of 0.2-0.6 mm at known places, a vessel-like line, short line segments (vascular
 * calcifications), a 3 mm disc; faint blobs for the second stage; determinism; bad
 * input.
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

static const struct blob blobs[] = {
    /* a group of six, 1.2 mm apart: one cluster by both rules */
    {15.0, 25.0, 0.3}, {16.2, 25.0, 0.4}, {17.4, 25.0, 0.3},
    {15.0, 26.2, 0.5}, {16.2, 26.2, 0.3}, {17.4, 26.2, 0.4},
    /* isolated ones of 0.2-0.6 mm */
    {10.0, 40.0, 0.2}, {25.0, 35.0, 0.6}, {30.0, 18.0, 0.45}, {8.0, 15.0, 0.35},
};
#define BLOB_COUNT (sizeof(blobs) / sizeof(blobs[0]))
#define BLOB_AMPLITUDE 0.12

static void test_analyze_finds_every_blob_and_nothing_far_from_them(void **state)
{
    (void)state;
    double *v = breast_canvas();
    for (size_t b = 0; b < BLOB_COUNT; b++)
        add_blob(v, blobs[b], BLOB_AMPLITUDE);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, NULL, &r), 0);
    print_message("%zu calcifications, %zu clusters, %u candidates, noise %.5f\n",
                  r.calcification_count, r.cluster_count, r.candidate_count, r.noise_sigma);
    for (size_t b = 0; b < BLOB_COUNT; b++) {
        int found = 0;
        for (size_t i = 0; i < r.calcification_count; i++)
            found |= distance_mm(&r.calcifications[i], blobs[b].x_mm, blobs[b].y_mm) < 0.3;
        if (!found)
            print_message("blob %zu at %.1f,%.1f not found\n", b, blobs[b].x_mm, blobs[b].y_mm);
        assert_true(found);
    }
    for (size_t i = 0; i < r.calcification_count; i++) {
        double nearest = INFINITY;
        for (size_t b = 0; b < BLOB_COUNT; b++) {
            double d = distance_mm(&r.calcifications[i], blobs[b].x_mm, blobs[b].y_mm);
            nearest = d < nearest ? d : nearest;
        }
        if (nearest >= 1.0)
            print_message("false positive at %.1f,%.1f contrast %.1f score %.2f\n",
                          r.calcifications[i].x_px * SPACING_MM,
                          r.calcifications[i].y_px * SPACING_MM, r.calcifications[i].contrast,
                          r.calcifications[i].second_stage_score);
        /* at or above contrast_min nothing is far from a blob; the second stage spends
           its budget of false positives (about 0.3 per cm2 on the phantoms) on noise
           peaks near strong calcifications only, where a cluster's faint members lie */
        if (isinf(r.calcifications[i].second_stage_score))
            assert_true(nearest < 1.0);
        else if (nearest >= 1.0)
            assert_true(r.calcifications[i].strong_neighbours > 0);
        /* labels agree with the records */
        const struct ca_calcification *c = &r.calcifications[i];
        assert_int_equal(c->id, i + 1);
        uint32_t count = 0;
        for (uint32_t y = c->bbox[1]; y <= c->bbox[3]; y++)
            for (uint32_t x = c->bbox[0]; x <= c->bbox[2]; x++)
                count += r.labels[(size_t)y * COLUMNS + x] == c->id;
        assert_int_equal(count, c->area_px);
        assert_true(c->diameter_mm <= 1.0);
    }
    /* the group of six is one cluster by both rules; the isolated blobs are in none */
    assert_int_equal(r.cluster_count, 1);
    assert_true(r.clusters[0].rule_tong && r.clusters[0].rule_birads);
    assert_true(r.clusters[0].suspicious);
    assert_true(r.clusters[0].count >= 6);
    /* its strong members are the six blobs; faint noise peaks the second stage keeps
       around them may join it (near a strong group it favours faint members) */
    double sx = 0.0, sy = 0.0;
    uint32_t strong = 0;
    for (uint32_t k = 0; k < r.clusters[0].count; k++) {
        const struct ca_calcification *m = &r.calcifications[r.clusters[0].members[k]];
        assert_int_equal(m->cluster, 0);
        if (!isinf(m->second_stage_score))
            continue;
        sx += m->x_px * SPACING_MM;
        sy += m->y_px * SPACING_MM;
        strong++;
    }
    assert_int_equal(strong, 6);
    assert_true(fabs(sx / strong - 16.2) < 0.2);
    assert_true(fabs(sy / strong - 25.6) < 0.2);
    for (size_t b = 0; b < 6; b++)
        assert_int_equal(found_near(&r, blobs[b].x_mm, blobs[b].y_mm)->cluster, 0);
    ca_result_free(&r);
    free(px);
    free(v);
}

static void test_analyze_rejects_a_vessel_longer_than_the_macro_window(void **state)
{
    (void)state;
    double *v = breast_canvas();
    /* a vessel 0.3 mm wide (Gaussian profile) running diagonally across the breast */
    double s_px = 0.3 / 2.5 / SPACING_MM;
    for (uint32_t y = 0; y < ROWS; y++)
        for (uint32_t x = 0; x < COLUMNS; x++) {
            double d = (0.8 * x - 0.6 * y + 120.0);
            v[(size_t)y * COLUMNS + x] += BLOB_AMPLITUDE * exp(-d * d / (2 * s_px * s_px));
        }
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, NULL, &r), 0);
    size_t on_line = 0;
    for (size_t i = 0; i < r.calcification_count; i++) {
        double d = fabs(0.8 * r.calcifications[i].x_px - 0.6 * r.calcifications[i].y_px + 120.0);
        on_line += d < 5.0;
    }
    print_message("%zu calcifications, %zu on the line\n", r.calcification_count, on_line);
    assert_int_equal(on_line, 0);
    ca_result_free(&r);
    free(px);
    free(v);
}

/* Six segments 1.2 mm long and 0.15 mm wide, 1.6 mm apart along a diagonal: a
 * calcified vessel wall. */
static void add_segment_chain(double *v)
{
    for (int k = 0; k < 6; k++) {
        double x = 12.0 + 1.6 * k * 0.8, y = 20.0 + 1.6 * k * 0.6;
        add_segment(v, x, y, x + 1.2 * 0.8, y + 1.2 * 0.6, 0.15, BLOB_AMPLITUDE);
    }
}

static void test_analyze_keeps_short_segments_as_linear_calcifications(void **state)
{
    (void)state;
    double *v = breast_canvas();
    add_segment_chain(v);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, NULL, &r), 0);
    for (int k = 0; k < 6; k++) {
        double cx = 12.0 + 1.6 * k * 0.8 + 0.6 * 0.8, cy = 20.0 + 1.6 * k * 0.6 + 0.6 * 0.6;
        size_t found = 0;
        for (size_t i = 0; i < r.calcification_count; i++)
            if (distance_mm(&r.calcifications[i], cx, cy) < 0.5) {
                found++;
                assert_true(r.calcifications[i].linear);
                assert_true(r.calcifications[i].elongation > 2.0);
            }
        print_message("segment %d: %zu calcifications\n", k, found);
        assert_int_equal(found, 1);
    }
    ca_result_free(&r);
    free(px);
    free(v);
}

static void test_analyze_chain_of_segments_is_no_suspicious_cluster(void **state)
{
    (void)state;
    double *v = breast_canvas();
    add_segment_chain(v);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, NULL, &r), 0);
    size_t in_cluster = 0;
    for (size_t c = 0; c < r.cluster_count; c++) {
        assert_false(r.clusters[c].suspicious);
        assert_false(r.clusters[c].small_group); /* a line of vessel, not a small group */
        in_cluster += r.clusters[c].count;
    }
    /* the chain is found and grouped, only not called suspicious */
    assert_true(in_cluster >= 6);
    ca_result_free(&r);
    free(px);
    free(v);
}

static void test_analyze_rejects_a_3_mm_disc_as_macro(void **state)
{
    (void)state;
    double *v = breast_canvas();
    double cx = 200, cy = 300, radius = 15; /* 1.5 mm */
    for (uint32_t y = 0; y < ROWS; y++)
        for (uint32_t x = 0; x < COLUMNS; x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius)
                v[(size_t)y * COLUMNS + x] += BLOB_AMPLITUDE;
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, NULL, &r), 0);
    size_t near = 0;
    for (size_t i = 0; i < r.calcification_count; i++) {
        double dx = r.calcifications[i].x_px - cx, dy = r.calcifications[i].y_px - cy;
        near += sqrt(dx * dx + dy * dy) < radius + 10;
        print_message("at %.1f px from the centre: contrast %.1f, scale %.2f mm, area %u px\n",
                      sqrt(dx * dx + dy * dy), r.calcifications[i].contrast,
                      r.calcifications[i].scale_mm, r.calcifications[i].area_px);
    }
    print_message("%zu calcifications, %zu at the disc\n", r.calcification_count, near);
    assert_int_equal(near, 0);
    ca_result_free(&r);
    free(px);
    free(v);
}

static void test_analyze_is_deterministic(void **state)
{
    (void)state;
    double *v = breast_canvas();
    for (size_t b = 0; b < BLOB_COUNT; b++)
        add_blob(v, blobs[b], BLOB_AMPLITUDE);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_result a, b;
    assert_int_equal(ca_analyze(&im, NULL, &a), 0);
    assert_int_equal(ca_analyze(&im, NULL, &b), 0);
    assert_int_equal(a.calcification_count, b.calcification_count);
    assert_int_equal(a.cluster_count, b.cluster_count);
    assert_memory_equal(a.calcifications, b.calcifications,
                        a.calcification_count * sizeof(a.calcifications[0]));
    assert_memory_equal(a.labels, b.labels, (size_t)ROWS * COLUMNS * sizeof(uint32_t));
    assert_memory_equal(a.breast_mask, b.breast_mask, (size_t)ROWS * COLUMNS);
    for (size_t c = 0; c < a.cluster_count; c++) {
        assert_int_equal(a.clusters[c].count, b.clusters[c].count);
        assert_memory_equal(a.clusters[c].members, b.clusters[c].members,
                            a.clusters[c].count * sizeof(uint32_t));
    }
    ca_result_free(&a);
    ca_result_free(&b);
    ca_result_free(&b);
    free(px);
    free(v);
}

/* A blob this faint on the test canvas answers at 4-5.5 noise units: below contrast_min,
 * above second_stage_contrast_min. */
#define FAINT_AMPLITUDE 0.022
/* Below the score of a faint blob beside the group of six (its six strong neighbours
 * weigh most), above that of the same blob alone. */
#define TEST_SECOND_STAGE_THRESHOLD (-6.0)


static void test_analyze_second_stage_keeps_a_faint_blob_beside_a_cluster_not_alone(void **state)
{
    (void)state;
    double *v = breast_canvas();
    for (size_t b = 0; b < 6; b++) /* the group of six */
        add_blob(v, blobs[b], BLOB_AMPLITUDE);
    const struct blob beside = {16.2, 27.4, 0.3}, alone = {30.0, 40.0, 0.3};
    add_blob(v, beside, FAINT_AMPLITUDE);
    add_blob(v, alone, FAINT_AMPLITUDE);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_params p;
    ca_params_default(&p);
    p.second_stage_threshold = TEST_SECOND_STAGE_THRESHOLD;
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    const struct ca_calcification *c = found_near(&r, beside.x_mm, beside.y_mm);
    assert_non_null(c);
    assert_true(c->contrast < p.contrast_min);
    assert_true(isfinite(c->second_stage_score));
    assert_true(c->second_stage_score >= p.second_stage_threshold);
    assert_int_equal(c->strong_neighbours, 6);
    assert_null(found_near(&r, alone.x_mm, alone.y_mm));
    for (size_t i = 0; i < r.calcification_count; i++) {
        const struct ca_calcification *k = &r.calcifications[i];
        /* strong ones carry no second-stage score, weak ones a score above threshold */
        assert_true(isinf(k->second_stage_score) ? k->strong_neighbours == 0
                                                 : k->second_stage_score >= p.second_stage_threshold);
    }
    ca_result_free(&r);

    /* every region scored: the lone blob is grown too, with a score below threshold */
    p.second_stage_threshold = -INFINITY;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    c = found_near(&r, alone.x_mm, alone.y_mm);
    assert_non_null(c);
    assert_int_equal(c->strong_neighbours, 0);
    assert_true(c->second_stage_score < TEST_SECOND_STAGE_THRESHOLD);
    ca_result_free(&r);

    /* no second stage: neither faint blob */
    ca_params_default(&p);
    p.second_stage_contrast_min = p.contrast_min;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    assert_null(found_near(&r, beside.x_mm, beside.y_mm));
    assert_null(found_near(&r, alone.x_mm, alone.y_mm));
    for (size_t i = 0; i < r.calcification_count; i++)
        assert_true(isinf(r.calcifications[i].second_stage_score));
    ca_result_free(&r);
    free(px);
    free(v);
}

/* A group of faint blobs (none at contrast_min) is what the bright-neighbour count
 * sees: each member counts the others, and none counts when the bright contrast is
 * contrast_min itself (every faint candidate lies below it). */
static void test_analyze_faint_members_count_each_other_as_bright_neighbours(void **state)
{
    (void)state;
    double *v = breast_canvas();
    for (size_t b = 0; b < 6; b++)
        add_blob(v, blobs[b], FAINT_AMPLITUDE);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_params p;
    ca_params_default(&p);
    p.second_stage_threshold = -INFINITY; /* every faint region kept, with its features */
    p.second_stage_bright_contrast = p.second_stage_contrast_min;
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    for (size_t b = 0; b < 6; b++) {
        const struct ca_calcification *c = found_near(&r, blobs[b].x_mm, blobs[b].y_mm);
        assert_non_null(c);
        assert_false(isinf(c->second_stage_score));
        assert_true(c->bright_neighbours >= 5);
        assert_true(c->bright_neighbours <= c->candidate_neighbours);
        assert_true(c->bright_neighbours_expected > 0.0);
    }
    ca_result_free(&r);
    p.second_stage_bright_contrast = p.contrast_min;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    assert_true(r.calcification_count > 0);
    for (size_t i = 0; i < r.calcification_count; i++) {
        assert_int_equal(r.calcifications[i].bright_neighbours, 0);
        assert_true(r.calcifications[i].bright_neighbours_expected == 0.0);
    }
    ca_result_free(&r);
    free(px);
    free(v);
}

/* The group of six blobs with its last two faint, as pixels (the caller frees them). */
static uint16_t *group_of_four_strong_two_faint(void)
{
    double *v = breast_canvas();
    for (size_t b = 0; b < 6; b++)
        add_blob(v, blobs[b], b < 4 ? BLOB_AMPLITUDE : FAINT_AMPLITUDE);
    uint16_t *px = to_pixels(v);
    free(v);
    return px;
}

/* Analyses im with p and checks that it holds one cluster with these rule flags. */
static void expect_one_cluster(const struct ca_image *im, const struct ca_params *p,
                               int suspicious, int small_group)
{
    struct ca_result r;
    assert_int_equal(ca_analyze(im, p, &r), 0);
    assert_int_equal(r.cluster_count, 1);
    assert_int_equal(r.clusters[0].suspicious != 0, suspicious);
    assert_int_equal(r.clusters[0].small_group != 0, small_group);
    ca_result_free(&r);
}

static void test_analyze_cluster_of_second_stage_members_needs_strong_ones(void **state)
{
    (void)state;
    uint16_t *px = group_of_four_strong_two_faint();
    struct ca_image im = image_of(px);
    struct ca_params p;
    ca_params_default(&p);
    p.second_stage_threshold = TEST_SECOND_STAGE_THRESHOLD;
    p.cluster_score_min = TEST_SECOND_STAGE_THRESHOLD; /* every kept region clusters */
    p.confident_score_min = INFINITY; /* only the strong members count */
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    for (size_t b = 0; b < 6; b++) {
        const struct ca_calcification *c = found_near(&r, blobs[b].x_mm, blobs[b].y_mm);
        assert_non_null(c);
        assert_true(c->in_segmentation); /* the faint ones too: cluster members */
    }
    assert_int_equal(r.cluster_count, 1);
    assert_true(r.clusters[0].count >= 6);
    assert_true(r.clusters[0].rule_tong);
    assert_false(r.clusters[0].suspicious); /* 4 strong members < suspicious_strong_min */
    assert_true(r.clusters[0].small_group); /* but >= small_group_strong_min (3) */
    ca_result_free(&r);
    p.small_group_strong_min = 5;
    expect_one_cluster(&im, &p, 0, 0);
    p.suspicious_strong_min = 4;
    expect_one_cluster(&im, &p, 1, 0); /* the two never hold together */
    /* faint members confident enough count too: 4 strong + 2 faint >= 5 */
    p.suspicious_strong_min = 5;
    p.confident_score_min = TEST_SECOND_STAGE_THRESHOLD;
    expect_one_cluster(&im, &p, 1, 0);
    /* ... but only with strong_member_min strong ones: 4 < 5 */
    p.strong_member_min = 5;
    expect_one_cluster(&im, &p, 0, 0);
    free(px);
}

static void test_analyze_faint_members_below_cluster_score_min_stay_single(void **state)
{
    (void)state;
    uint16_t *px = group_of_four_strong_two_faint();
    struct ca_image im = image_of(px);
    struct ca_params p;
    ca_params_default(&p);
    p.second_stage_threshold = TEST_SECOND_STAGE_THRESHOLD;
    p.cluster_score_min = INFINITY; /* only the strong ones cluster */
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    assert_int_equal(r.cluster_count, 1);
    assert_int_equal(r.clusters[0].count, 4); /* BI-RADS: 4 within 1 cm2 */
    for (size_t b = 0; b < 6; b++) {
        const struct ca_calcification *c = found_near(&r, blobs[b].x_mm, blobs[b].y_mm);
        assert_non_null(c);
        assert_int_equal(c->cluster, b < 4 ? 0 : -1);
        assert_true(b < 4 ? isinf(c->second_stage_score) : isfinite(c->second_stage_score));
        /* a second-stage detection outside every cluster is left out of the
           segmentation; labels keeps it */
        assert_int_equal(c->in_segmentation, b < 4);
        size_t i = (size_t)lround(c->y_px) * COLUMNS + (size_t)lround(c->x_px);
        assert_int_equal(r.labels[i], c->id);
        assert_int_equal(ca_segmentation_label(&r, i), b < 4 ? c->id : 0);
    }
    ca_result_free(&r);
    free(px);
}

/* A lone speck at or above contrast_min, one pixel (0.01 mm2), and a 0.4 mm calcification:
 * both are listed; only the calcification is painted, unless segmentation_area_min_mm2
 * is 0. */
static void analyze_speck_and_calcification(double segmentation_area_min_mm2, int *speck_painted,
                                            int *calcification_painted)
{
    double *v = breast_canvas();
    add_blob(v, (struct blob){20.0, 30.0, 0.1}, BLOB_AMPLITUDE);
    add_blob(v, (struct blob){25.0, 40.0, 0.4}, BLOB_AMPLITUDE);
    uint16_t *px = to_pixels(v);
    struct ca_image im = image_of(px);
    struct ca_params p;
    ca_params_default(&p);
    p.segmentation_area_min_mm2 = segmentation_area_min_mm2;
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, &p, &r), 0);
    const struct ca_calcification *speck = found_near(&r, 20.0, 30.0);
    const struct ca_calcification *calc = found_near(&r, 25.0, 40.0);
    assert_non_null(speck);
    assert_non_null(calc);
    assert_true(isinf(speck->second_stage_score) && isinf(calc->second_stage_score));
    assert_true(speck->area_mm2 < 0.03 && calc->area_mm2 > 0.03);
    assert_int_equal(speck->cluster, -1);
    size_t i = (size_t)lround(speck->y_px) * COLUMNS + (size_t)lround(speck->x_px);
    assert_int_equal(r.labels[i], speck->id);
    *speck_painted = speck->in_segmentation;
    assert_int_equal(ca_segmentation_label(&r, i), *speck_painted ? speck->id : 0);
    *calcification_painted = calc->in_segmentation;
    ca_result_free(&r);
    free(px);
    free(v);
}

static void test_analyze_lone_speck_is_listed_not_painted(void **state)
{
    (void)state;
    struct ca_params p;
    ca_params_default(&p);
    int speck, calcification;
    analyze_speck_and_calcification(p.segmentation_area_min_mm2, &speck, &calcification);
    assert_false(speck);
    assert_true(calcification);
    analyze_speck_and_calcification(0.0, &speck, &calcification);
    assert_true(speck);
    assert_true(calcification);
}

static void test_analyze_reports_bad_input_with_error_codes(void **state)
{
    (void)state;
    uint16_t *px = calloc((size_t)ROWS * COLUMNS, sizeof(uint16_t));
    struct ca_image im = image_of(px);
    struct ca_result r;
    assert_int_equal(ca_analyze(NULL, NULL, &r), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_analyze(&im, NULL, NULL), CA_ERR_INVALID_ARGUMENT);

    struct ca_image bad = im;
    bad.rows = 1;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_IMAGE_TOO_SMALL);
    assert_true(strlen(r.message) > 0);
    assert_null(r.labels);
    bad = im;
    bad.columns = 0;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_IMAGE_TOO_SMALL);
    bad = im;
    bad.rows = CA_MAX_DIMENSION_PX + 1;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_IMAGE_TOO_LARGE);
    bad = im;
    bad.spacing_mm[1] = 0.0;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_BAD_SPACING);
    bad.spacing_mm[1] = -0.1;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_BAD_SPACING);
    bad.spacing_mm[1] = NAN;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_BAD_SPACING);
    bad = im;
    bad.bits_stored = 17;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_BAD_BITS_STORED);
    bad.bits_stored = 0;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_BAD_BITS_STORED);
    bad = im;
    bad.pixels = NULL;
    assert_int_equal(ca_analyze(&bad, NULL, &r), CA_ERR_INVALID_ARGUMENT);

    /* uniform image: no breast */
    assert_int_equal(ca_analyze(&im, NULL, &r), CA_ERR_NO_BREAST);
    assert_non_null(strstr(r.message, "no breast"));
    assert_null(r.labels);
    /* everything padding: no breast */
    im.has_padding = 1;
    assert_int_equal(ca_analyze(&im, NULL, &r), CA_ERR_NO_BREAST);

    /* one parameter out of its range each */
    enum { BAD_PARAMS = 15 };
    struct ca_params bad_params[BAD_PARAMS];
    for (size_t i = 0; i < BAD_PARAMS; i++)
        ca_params_default(&bad_params[i]);
    bad_params[0].scale_count = 0;
    bad_params[1].sigmas_mm[2] = bad_params[1].sigmas_mm[1];
    bad_params[2].second_stage_contrast_min = bad_params[2].contrast_min + 1.0; /* > strong */
    bad_params[3].second_stage_threshold = NAN;
    bad_params[4].second_stage_radius_mm = 0.0;
    bad_params[5].grow_linear_fraction = bad_params[5].grow_fraction / 2.0; /* < blob's */
    bad_params[6].grow_narrow_outer_sigma_mm = bad_params[6].sigmas_mm[0]; /* no band */
    bad_params[7].second_stage_bright_contrast = 0.0;
    bad_params[8].second_stage_bright_contrast = bad_params[8].contrast_min + 0.5; /* > strong */
    bad_params[9].confident_score_min = NAN;
    bad_params[10].cluster_score_min = NAN;
    bad_params[11].vessel_end_sigma_min_mm = -0.1;
    bad_params[12].vessel_end_continuation_min = NAN;
    bad_params[13].segmentation_area_min_mm2 = -0.01;
    bad_params[14].vessel_fine_continuation_min = INFINITY;
    for (size_t i = 0; i < BAD_PARAMS; i++) {
        print_message("parameter set %zu\n", i);
        assert_int_equal(ca_analyze(&im, &bad_params[i], &r), CA_ERR_INVALID_ARGUMENT);
    }
    assert_string_equal(ca_strerror(CA_ERR_NO_BREAST), "no breast found");
    assert_string_equal(ca_strerror(12345), "unknown error");
    free(px);
}

static void test_analyze_inverts_monochrome1_to_the_same_findings(void **state)
{
    (void)state;
    double *v = breast_canvas();
    for (size_t b = 0; b < BLOB_COUNT; b++)
        add_blob(v, blobs[b], BLOB_AMPLITUDE);
    uint16_t *px = to_pixels(v);
    uint16_t *inv = malloc((size_t)ROWS * COLUMNS * sizeof(uint16_t));
    for (size_t i = 0; i < (size_t)ROWS * COLUMNS; i++)
        inv[i] = (uint16_t)(MAX_VALUE - px[i]);
    struct ca_image im = image_of(px), im1 = image_of(inv);
    im1.monochrome1 = 1;
    struct ca_result a, b;
    assert_int_equal(ca_analyze(&im, NULL, &a), 0);
    assert_int_equal(ca_analyze(&im1, NULL, &b), 0);
    assert_int_equal(a.calcification_count, b.calcification_count);
    assert_memory_equal(a.labels, b.labels, (size_t)ROWS * COLUMNS * sizeof(uint32_t));
    ca_result_free(&a);
    ca_result_free(&b);
    free(px);
    free(inv);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyze_finds_every_blob_and_nothing_far_from_them),
        cmocka_unit_test(test_analyze_rejects_a_vessel_longer_than_the_macro_window),
        cmocka_unit_test(test_analyze_keeps_short_segments_as_linear_calcifications),
        cmocka_unit_test(test_analyze_chain_of_segments_is_no_suspicious_cluster),
        cmocka_unit_test(test_analyze_rejects_a_3_mm_disc_as_macro),
        cmocka_unit_test(test_analyze_second_stage_keeps_a_faint_blob_beside_a_cluster_not_alone),
        cmocka_unit_test(test_analyze_faint_members_count_each_other_as_bright_neighbours),
        cmocka_unit_test(test_analyze_cluster_of_second_stage_members_needs_strong_ones),
        cmocka_unit_test(test_analyze_faint_members_below_cluster_score_min_stay_single),
        cmocka_unit_test(test_analyze_lone_speck_is_listed_not_painted),
        cmocka_unit_test(test_analyze_is_deterministic),
        cmocka_unit_test(test_analyze_reports_bad_input_with_error_codes),
        cmocka_unit_test(test_analyze_inverts_monochrome1_to_the_same_findings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
