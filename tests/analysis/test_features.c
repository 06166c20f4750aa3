/*
 * ca_features_compute: hand-computed answers (a 3x3 square, one pixel, a line of five,
 * an L whose hull passes through a pixel centre), the defined values of one- and
 * two-member clusters, rings against a brute-force distance reference, the feature
 * name tables, bad input, agreement with a ca_analyze result, and the cost on a
 * full-field image with 100 calcifications.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "calc/features.h"
#include "sorted_reference.h"
#include "test_features_scene.h"

#define EPS 1e-12
#define PI 3.14159265358979323846

/* A hand-drawn image: uniform tissue, every pixel breast, objects set pixel by pixel. */
struct hand {
    struct scene s;
    struct ca_features f;
};

static void hand_image(struct hand *h, uint32_t rows, uint32_t columns, double spacing_mm,
                       float tissue)
{
    memset(h, 0, sizeof(*h));
    struct ca_result *r = &h->s.result;
    size_t n = (size_t)rows * columns;
    r->rows = rows, r->columns = columns;
    r->labels = calloc(n, sizeof(uint32_t));
    r->breast_mask = malloc(n);
    r->normalized = malloc(n * sizeof(float));
    memset(r->breast_mask, 1, n);
    for (size_t i = 0; i < n; i++)
        r->normalized[i] = tissue;
    h->s.spacing_mm[0] = h->s.spacing_mm[1] = spacing_mm;
}

static void hand_pixel(struct hand *h, uint32_t x, uint32_t y, uint32_t id, float value)
{
    struct ca_result *r = &h->s.result;
    r->labels[(size_t)y * r->columns + x] = id;
    r->normalized[(size_t)y * r->columns + x] = value;
}

/* Records from the labels, then one cluster of the given members (count 0: none). */
static void hand_finish(struct hand *h, uint32_t max_id, const uint32_t *members, uint32_t count)
{
    struct ca_result *r = &h->s.result;
    scene_records(r, max_id);
    r->clusters = calloc(1, sizeof(struct ca_cluster));
    if (count) {
        r->clusters[0].members = malloc(count * sizeof(uint32_t));
        memcpy(r->clusters[0].members, members, count * sizeof(uint32_t));
        r->clusters[0].count = count;
        r->cluster_count = 1;
    }
    assert_int_equal(ca_features_compute(r, h->s.spacing_mm, &h->f), 0);
}

static void hand_free(struct hand *h)
{
    ca_features_free(&h->f);
    scene_free(&h->s);
}

static const double *calc_of(const struct hand *h, size_t i)
{
    return h->f.calcification + i * CA_CALC_FEATURE_COUNT;
}

static void assert_all_finite(const struct ca_features *f)
{
    for (size_t i = 0; i < f->calcification_count * CA_CALC_FEATURE_COUNT; i++)
        assert_true(isfinite(f->calcification[i]));
    for (size_t i = 0; i < f->cluster_count * CA_CLUSTER_FEATURE_COUNT; i++)
        assert_true(isfinite(f->cluster[i]));
}

static void assert_close(double got, double want)
{
    if (!(fabs(got - want) <= EPS * (fabs(want) > 1.0 ? fabs(want) : 1.0)))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_features_of_a_3x3_square_are_known(void **state)
{
    (void)state;
    struct hand h;
    hand_image(&h, 9, 9, 1.0, 0.25f);
    for (uint32_t y = 3; y < 6; y++)
        for (uint32_t x = 3; x < 6; x++)
            hand_pixel(&h, x, y, 1, 0.75f);
    hand_finish(&h, 1, NULL, 0);
    const double *f = calc_of(&h, 0);
    assert_close(f[CA_CF_AREA_MM2], 9.0);
    /* corners: 1 + 2 + 2 = 5 -> 1; edge middles: 1 + 2 + 2 + 10 + 10 = 25 -> 1 */
    assert_close(f[CA_CF_PERIMETER_MM], 8.0);
    /* row and column variance 2/3: axes 4 sqrt(2/3) */
    assert_close(f[CA_CF_MAJOR_AXIS_MM], 4.0 * sqrt(2.0 / 3.0));
    assert_close(f[CA_CF_MINOR_AXIS_MM], 4.0 * sqrt(2.0 / 3.0));
    assert_close(f[CA_CF_ECCENTRICITY], 0.0);
    assert_close(f[CA_CF_SOLIDITY], 1.0);
    assert_close(f[CA_CF_EXTENT], 1.0);
    assert_close(f[CA_CF_ROUNDNESS], 4.0 * PI * 9.0 / 64.0);
    assert_close(f[CA_CF_MBR_LONG_MM], 3.0);
    assert_close(f[CA_CF_MBR_SHORT_MM], 3.0);
    assert_close(f[CA_CF_RECTANGULARITY], 1.0);
    assert_close(f[CA_CF_LENGTH_RATIO], 1.0);
    assert_close(f[CA_CF_CALC_MEAN], 0.75);
    assert_close(f[CA_CF_CALC_STD], 0.0);
    assert_close(f[CA_CF_CALC_SKEWNESS], 0.0);
    assert_close(f[CA_CF_CALC_KURTOSIS], 0.0);
    assert_close(f[CA_CF_CALC_P10], 0.75);
    /* one bin: -1 * log2(1 + eps) */
    assert_true(fabs(f[CA_CF_CALC_ENTROPY]) < 1e-15);
    assert_close(f[CA_CF_DENSITY_8], 0.0); /* 0.8 mm < 1 pixel: empty ring gives 0 */
    assert_close(f[CA_CF_RING_MEAN], 0.25);
    assert_close(f[CA_CF_RING_STD], 0.0);
    hand_free(&h);
}

static void test_features_of_one_pixel_are_known(void **state)
{
    (void)state;
    struct hand h;
    hand_image(&h, 5, 5, 0.1, 0.25f);
    hand_pixel(&h, 2, 2, 1, 0.5f);
    hand_finish(&h, 1, NULL, 0);
    const double *f = calc_of(&h, 0);
    assert_close(f[CA_CF_AREA_MM2], 0.01);
    assert_close(f[CA_CF_PERIMETER_MM], 0.0); /* skimage: code 1 has weight 0 */
    assert_close(f[CA_CF_MAJOR_AXIS_MM], 0.0);
    assert_close(f[CA_CF_MINOR_AXIS_MM], 0.0);
    assert_close(f[CA_CF_ECCENTRICITY], 0.0); /* l1 = 0 */
    assert_close(f[CA_CF_SOLIDITY], 1.0);
    assert_close(f[CA_CF_EXTENT], 1.0);
    assert_close(f[CA_CF_ROUNDNESS], 0.0); /* perimeter 0: defined 0 */
    assert_close(f[CA_CF_MBR_LONG_MM], 0.1);
    assert_close(f[CA_CF_MBR_SHORT_MM], 0.1);
    assert_close(f[CA_CF_RECTANGULARITY], 1.0);
    assert_close(f[CA_CF_LENGTH_RATIO], 1.0);
    assert_close(f[CA_CF_CALC_MIN], 0.5);
    assert_close(f[CA_CF_CALC_P90], 0.5);
    assert_all_finite(&h.f);
    hand_free(&h);
}

static void test_features_of_a_line_of_five_are_known(void **state)
{
    (void)state;
    struct hand h;
    hand_image(&h, 5, 9, 1.0, 0.0f);
    float v[5] = {0.1f, 0.2f, 0.3f, 0.4f, 1.0f};
    for (uint32_t x = 0; x < 5; x++)
        hand_pixel(&h, x + 2, 2, 1, v[x]);
    hand_finish(&h, 1, NULL, 0);
    const double *f = calc_of(&h, 0);
    /* ends: code 3 (weight 0); middles: 1 + 2 + 2 = 5 (weight 1) */
    assert_close(f[CA_CF_PERIMETER_MM], 3.0);
    assert_close(f[CA_CF_MAJOR_AXIS_MM], 4.0 * sqrt(2.0)); /* column variance 2 */
    assert_close(f[CA_CF_MINOR_AXIS_MM], 0.0);
    assert_close(f[CA_CF_ECCENTRICITY], 1.0);
    assert_close(f[CA_CF_SOLIDITY], 1.0);
    assert_close(f[CA_CF_MBR_LONG_MM], 5.0);
    assert_close(f[CA_CF_MBR_SHORT_MM], 1.0);
    assert_close(f[CA_CF_LENGTH_RATIO], 5.0);
    assert_close(f[CA_CF_ROUNDNESS], 4.0 * PI * 5.0 / 9.0);
    /* numpy: p10 at index 0.4 -> 0.1 + 0.4 * 0.1; p90 at 3.6 -> 0.4 + 0.6 * 0.6 */
    assert_true(fabs(f[CA_CF_CALC_P10] - (0.1 + 0.4 * 0.1)) < 1e-7);
    assert_true(fabs(f[CA_CF_CALC_P90] - (0.4 + 0.6 * 0.6)) < 1e-7);
    /* five values in five different bins of width 25/4096: entropy log2(5) */
    assert_true(fabs(f[CA_CF_CALC_ENTROPY] - log2(5.0)) < 1e-12);
    hand_free(&h);
}

static void test_convex_area_counts_pixel_centres_on_the_hull(void **state)
{
    (void)state;
    /* an L: the hull of the edge midpoints passes through the centre of (1, 1) */
    struct hand h;
    hand_image(&h, 7, 7, 1.0, 0.0f);
    hand_pixel(&h, 2, 2, 1, 1.0f);
    hand_pixel(&h, 2, 3, 1, 1.0f);
    hand_pixel(&h, 2, 4, 1, 1.0f);
    hand_pixel(&h, 3, 4, 1, 1.0f);
    hand_pixel(&h, 4, 4, 1, 1.0f);
    hand_finish(&h, 1, NULL, 0);
    const double *f = calc_of(&h, 0);
    assert_close(f[CA_CF_SOLIDITY], 5.0 / 6.0); /* skimage area_convex 6 */
    assert_close(f[CA_CF_EXTENT], 5.0 / 9.0);
    assert_close(f[CA_CF_PERIMETER_MM], 3.0);
    assert_close(f[CA_CF_MAJOR_AXIS_MM], 4.0);
    hand_free(&h);
}

static void test_one_member_cluster_has_defined_values(void **state)
{
    (void)state;
    struct hand h;
    hand_image(&h, 40, 40, 0.1, 0.3f);
    for (uint32_t y = 18; y < 21; y++)
        for (uint32_t x = 18; x < 22; x++)
            hand_pixel(&h, x, y, 1, 0.9f);
    uint32_t members[1] = {0};
    hand_finish(&h, 1, members, 1);
    const double *k = h.f.cluster;
    assert_int_equal(h.f.cluster_count, 1);
    assert_all_finite(&h.f);
    assert_close(k[CA_KF_CALC_NUM], 1.0);
    assert_close(k[CA_KF_AREA_STD], 0.0);
    assert_close(k[CA_KF_PERIMETER_STD], 0.0);
    assert_close(k[CA_KF_CENTROID_XY_CORRELATION], 0.0);
    assert_close(k[CA_KF_MEAN_PAIRWISE_DISTANCE_MM], 0.0);
    assert_close(k[CA_KF_AREA_MEAN], 0.12);
    assert_close(k[CA_KF_AREA_MAX], 0.12);
    assert_close(k[CA_KF_CALC_AREA_MM2], 0.12);
    assert_close(k[CA_KF_SIZE_10_30], 1.0); /* 12 pixels of 0.1 mm */
    assert_close(k[CA_KF_HULL_AREA_MM2], 0.12);
    assert_close(k[CA_KF_DENSITY], 0.9f);
    assert_close(k[CA_KF_DENSITY_8], 0.3f);
    assert_close(k[CA_KF_DENSITY_32], 0.3f);
    assert_close(k[CA_KF_IMAGE_CLUSTER_COUNT], 1.0);
    assert_close(k[CA_KF_IMAGE_LARGEST_CALC_NUM], 1.0);
    for (int s = 0; s < CA_FEATURES_TOPOLOGY_SCALE_COUNT; s++) {
        const double *t = k + CA_KF_TOPO_05MM_SUBGRAPHS + s * 8;
        double want[8] = {1, 0, 0, 0, 0, 0, 1, 1}; /* one isolated node */
        for (int m = 0; m < 8; m++)
            assert_close(t[m], want[m]);
    }
    hand_free(&h);
}

static void test_two_single_pixels_link_when_their_gap_is_twice_the_scale(void **state)
{
    (void)state;
    /* 10 pixels of 0.1 mm apart on one row: linked at 0.5 mm (2 s = 1 mm) and above */
    struct hand h;
    hand_image(&h, 20, 30, 0.1, 0.3f);
    hand_pixel(&h, 10, 10, 1, 0.8f);
    hand_pixel(&h, 20, 10, 2, 0.8f);
    uint32_t members[2] = {0, 1};
    hand_finish(&h, 2, members, 2);
    const double *k = h.f.cluster;
    assert_all_finite(&h.f);
    assert_close(k[CA_KF_MEAN_PAIRWISE_DISTANCE_MM], 1.0);
    assert_close(k[CA_KF_CENTROID_XY_CORRELATION], 0.0); /* y does not vary */
    assert_close(k[CA_KF_SIZE_LT10], 2.0);
    for (int s = 0; s < CA_FEATURES_TOPOLOGY_SCALE_COUNT; s++) {
        const double *t = k + CA_KF_TOPO_05MM_SUBGRAPHS + s * 8;
        double want[8] = {1, 1, 1, 1, 1, 0, 1, 0};
        for (int m = 0; m < 8; m++)
            assert_close(t[m], want[m]);
    }
    hand_free(&h);

    /* 11 pixels apart: isolated at 0.5 mm, linked at 1 mm */
    hand_image(&h, 20, 30, 0.1, 0.3f);
    hand_pixel(&h, 10, 10, 1, 0.8f);
    hand_pixel(&h, 21, 10, 2, 0.8f);
    hand_finish(&h, 2, members, 2);
    assert_close(h.f.cluster[CA_KF_TOPO_05MM_SUBGRAPHS], 2.0);
    assert_close(h.f.cluster[CA_KF_TOPO_05MM_ISOLATED_FRACTION], 1.0);
    assert_close(h.f.cluster[CA_KF_TOPO_05MM_GIANT_RATIO], 0.5);
    assert_close(h.f.cluster[CA_KF_TOPO_1MM_SUBGRAPHS], 1.0);
    hand_free(&h);
}

static void test_triangle_has_clustering_one_and_path_has_zero(void **state)
{
    (void)state;
    struct hand h;
    hand_image(&h, 30, 60, 0.1, 0.3f);
    /* a path a - b - c at 1 mm (gaps 8 px, a to c 16 px) and a triangle d, e, f */
    hand_pixel(&h, 5, 5, 1, 0.8f);
    hand_pixel(&h, 13, 5, 2, 0.8f);
    hand_pixel(&h, 21, 5, 3, 0.8f);
    hand_pixel(&h, 40, 20, 4, 0.8f);
    hand_pixel(&h, 46, 20, 5, 0.8f);
    hand_pixel(&h, 43, 25, 6, 0.8f);
    uint32_t members[6] = {0, 1, 2, 3, 4, 5};
    hand_finish(&h, 6, members, 6);
    const double *t = h.f.cluster + CA_KF_TOPO_05MM_SUBGRAPHS;
    assert_close(t[0], 2.0);                           /* subgraphs */
    assert_close(t[1], (1 + 2 + 1 + 2 + 2 + 2) / 6.0); /* mean degree */
    assert_close(t[2], 2.0);                           /* max degree */
    assert_close(t[3], (2 + 1 + 2 + 1 + 1 + 1) / 6.0); /* mean eccentricity */
    assert_close(t[4], 2.0);                           /* diameter */
    assert_close(t[5], 3.0 / 6.0);                     /* triangle nodes 1, path 0 */
    assert_close(t[6], 0.5);                           /* giant ratio */
    assert_close(t[7], 0.0);                           /* isolated fraction */
    hand_free(&h);
}

/* Brute-force ring: every tissue pixel against every member pixel. */
static void naive_ring(const struct ca_result *r, const double sp[2], uint32_t id, double r_mm,
                       double *mean, size_t *count)
{
    double sum = 0.0;
    *count = 0;
    for (uint32_t y = 0; y < r->rows; y++)
        for (uint32_t x = 0; x < r->columns; x++) {
            size_t i = (size_t)y * r->columns + x;
            if (r->labels[i] || !r->breast_mask[i])
                continue;
            double best = INFINITY;
            const uint32_t *b = r->calcifications[id - 1].bbox;
            for (uint32_t v = b[1]; v <= b[3]; v++)
                for (uint32_t u = b[0]; u <= b[2]; u++)
                    if (r->labels[(size_t)v * r->columns + u] == id) {
                        double dx = ((double)u - x) * sp[1], dy = ((double)v - y) * sp[0];
                        best = fmin(best, dx * dx + dy * dy);
                    }
            if (best <= r_mm * r_mm * (1.0 + 1e-9)) {
                sum += r->normalized[i];
                (*count)++;
            }
        }
    *mean = *count ? sum / (double)*count : 0.0;
}

static void test_rings_match_a_brute_force_distance(void **state)
{
    (void)state;
    struct scene s;
    scene_make(&s, 9, 70, 80, 13, 0.09, 0.11);
    struct ca_features f;
    assert_int_equal(ca_features_compute(&s.result, s.spacing_mm, &f), 0);
    for (uint32_t id = 1; id <= s.result.calcification_count; id++) {
        double mean;
        size_t count;
        const double *v = f.calcification + (id - 1) * CA_CALC_FEATURE_COUNT;
        naive_ring(&s.result, s.spacing_mm, id, CA_FEATURES_RING_MM, &mean, &count);
        assert_true(fabs(v[CA_CF_RING_MEAN] - mean) < 1e-9);
        naive_ring(&s.result, s.spacing_mm, id, CA_FEATURES_DENSITY_8_MM, &mean, &count);
        assert_true(fabs(v[CA_CF_DENSITY_8] - mean) < 1e-9);
    }
    ca_features_free(&f);
    scene_free(&s);
}

/* Brute-force ring of the calcifications ids[0..count-1]: the values of every breast
 * pixel of no calcification within r_mm of one of their pixels, sorted; returns how many. */
static size_t naive_ring_values(const struct ca_result *r, const double sp[2], const uint32_t *ids,
                                size_t count, double r_mm, float *out)
{
    size_t n = 0;
    for (uint32_t y = 0; y < r->rows; y++)
        for (uint32_t x = 0; x < r->columns; x++) {
            size_t i = (size_t)y * r->columns + x;
            if (r->labels[i] || !r->breast_mask[i])
                continue;
            int in = 0;
            for (size_t k = 0; k < count && !in; k++) {
                const uint32_t *b = r->calcifications[ids[k] - 1].bbox;
                for (uint32_t v = b[1]; v <= b[3] && !in; v++)
                    for (uint32_t u = b[0]; u <= b[2] && !in; u++) {
                        double dx = ((double)u - x) * sp[1], dy = ((double)v - y) * sp[0];
                        in = r->labels[(size_t)v * r->columns + u] == ids[k] &&
                             dx * dx + dy * dy <= r_mm * r_mm * (1.0 + 1e-9);
                    }
            }
            if (in)
                out[n++] = r->normalized[i];
        }
    qsort(out, n, sizeof(float), by_value);
    return n;
}

/* The order statistics of a ring (min, max, p10, p90) equal the brute force's exactly. */
static void assert_ring_order_statistics(const double *stats, const float *sorted, size_t n)
{
    const int at[4] = {CA_CF_RING_MIN - CA_CF_RING_MEAN, CA_CF_RING_MAX - CA_CF_RING_MEAN,
                       CA_CF_RING_P10 - CA_CF_RING_MEAN, CA_CF_RING_P90 - CA_CF_RING_MEAN};
    double want[4] = {0.0, 0.0, 0.0, 0.0};
    if (n) {
        want[0] = sorted[0], want[1] = sorted[n - 1];
        want[2] = sorted_percentile(sorted, n, 10.0);
        want[3] = sorted_percentile(sorted, n, 90.0);
    }
    for (int k = 0; k < 4; k++)
        if (stats[at[k]] != want[k])
            fail_msg("ring statistic %d of %zu pixels: %.17g, want %.17g", at[k], n, stats[at[k]],
                     want[k]);
}

static void test_ring_percentiles_match_a_sorted_brute_force_ring(void **state)
{
    (void)state;
    _Static_assert(CA_KF_RING_P90 - CA_KF_RING_MEAN == CA_CF_RING_P90 - CA_CF_RING_MEAN,
                   "ring blocks in the same order");
    /* 12-bit intensities make ties everywhere; the second scene's breast is a scatter of
     * pixels, so that its rings hold a few pixels each */
    static const double spacings[][2] = {{0.09, 0.11}, {0.2, 0.25}};
    for (size_t sc = 0; sc < 2; sc++) {
        struct scene s;
        scene_make(&s, 21 + (uint32_t)sc, 70, 80, 13, spacings[sc][0], spacings[sc][1]);
        struct ca_result *r = &s.result;
        for (size_t i = 0; i < (size_t)r->rows * r->columns; i++) {
            r->normalized[i] = (float)(round(r->normalized[i] * 4095.0) / 4095.0);
            if (sc == 1) /* a breast of scattered pixels: rings of a few pixels, or none */
                r->breast_mask[i] = r->breast_mask[i] && (i * 7919) % 97 < 2;
        }
        struct ca_features f;
        assert_int_equal(ca_features_compute(r, s.spacing_mm, &f), 0);
        float *sorted = malloc((size_t)r->rows * r->columns * sizeof(float));
        uint32_t *ids = malloc((r->calcification_count + 1) * sizeof(uint32_t));
        size_t tiny = 0;
        for (uint32_t id = 1; id <= r->calcification_count; id++) {
            size_t n = naive_ring_values(r, s.spacing_mm, &id, 1, CA_FEATURES_RING_MM, sorted);
            tiny += n > 0 && n < 12;
            assert_ring_order_statistics(
                f.calcification + (id - 1) * CA_CALC_FEATURE_COUNT + CA_CF_RING_MEAN, sorted, n);
        }
        for (size_t k = 0; k < r->cluster_count; k++) {
            const struct ca_cluster *c = &r->clusters[k];
            for (uint32_t m = 0; m < c->count; m++)
                ids[m] = c->members[m] + 1;
            size_t n =
                naive_ring_values(r, s.spacing_mm, ids, c->count, CA_FEATURES_RING_MM, sorted);
            assert_ring_order_statistics(f.cluster + k * CA_CLUSTER_FEATURE_COUNT + CA_KF_RING_MEAN,
                                         sorted, n);
        }
        if (sc == 1)
            assert_true(tiny > 10); /* the scene does hold tiny rings */
        free(ids);
        free(sorted);
        ca_features_free(&f);
        scene_free(&s);
    }
}

static void test_feature_names_are_unique_and_complete(void **state)
{
    (void)state;
    assert_string_equal(ca_calc_feature_name(0), "area_mm2");
    assert_string_equal(ca_calc_feature_name(CA_CALC_FEATURE_COUNT - 1), "ring_entropy");
    assert_null(ca_calc_feature_name(CA_CALC_FEATURE_COUNT));
    assert_string_equal(ca_cluster_feature_name(0), "calc_num");
    assert_string_equal(ca_cluster_feature_name(CA_KF_TOPO_05MM_SUBGRAPHS), "topo_05mm_subgraphs");
    assert_string_equal(ca_cluster_feature_name(CA_CLUSTER_FEATURE_COUNT - 1),
                        "topo_4mm_isolated_fraction");
    assert_null(ca_cluster_feature_name(CA_CLUSTER_FEATURE_COUNT));
    for (size_t i = 0; i < CA_CLUSTER_FEATURE_COUNT; i++)
        for (size_t j = i + 1; j < CA_CLUSTER_FEATURE_COUNT; j++)
            assert_string_not_equal(ca_cluster_feature_name(i), ca_cluster_feature_name(j));
    for (size_t i = 0; i < CA_CALC_FEATURE_COUNT; i++)
        for (size_t j = i + 1; j < CA_CALC_FEATURE_COUNT; j++)
            assert_string_not_equal(ca_calc_feature_name(i), ca_calc_feature_name(j));
}

static void test_features_reject_bad_input_and_leave_nothing(void **state)
{
    (void)state;
    struct hand h;
    hand_image(&h, 10, 10, 0.1, 0.3f);
    hand_pixel(&h, 4, 4, 1, 0.8f);
    hand_pixel(&h, 5, 4, 1, 0.8f);
    hand_finish(&h, 1, NULL, 0);
    ca_features_free(&h.f);
    struct ca_result *r = &h.s.result;
    struct ca_features f;
    assert_int_equal(ca_features_compute(r, h.s.spacing_mm, NULL), CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_features_compute(NULL, h.s.spacing_mm, &f), CA_ERR_INVALID_ARGUMENT);
    double bad[2] = {0.1, NAN};
    assert_int_equal(ca_features_compute(r, bad, &f), CA_ERR_BAD_SPACING);
    r->calcifications[0].area_px = 3; /* disagrees with the labels */
    assert_int_equal(ca_features_compute(r, h.s.spacing_mm, &f), CA_ERR_INVALID_ARGUMENT);
    assert_null(f.calcification);
    assert_null(f.cluster);
    r->calcifications[0].area_px = 2;
    r->calcifications[0].bbox[2] = 10; /* outside the image */
    assert_int_equal(ca_features_compute(r, h.s.spacing_mm, &f), CA_ERR_INVALID_ARGUMENT);
    r->calcifications[0].bbox[2] = 4; /* cuts a pixel off */
    assert_int_equal(ca_features_compute(r, h.s.spacing_mm, &f), CA_ERR_INVALID_ARGUMENT);
    r->calcifications[0].bbox[2] = 5;
    uint32_t bad_member = 1;
    r->clusters[0].members = malloc(sizeof(uint32_t));
    r->clusters[0].members[0] = bad_member;
    r->clusters[0].count = 1;
    r->cluster_count = 1;
    assert_int_equal(ca_features_compute(r, h.s.spacing_mm, &f), CA_ERR_INVALID_ARGUMENT);
    r->clusters[0].members[0] = 0;
    assert_int_equal(ca_features_compute(r, h.s.spacing_mm, &f), 0);
    ca_features_free(&f);
    ca_features_free(NULL);
    hand_free(&h);

    struct ca_result empty = {0};
    double spacing_mm[2] = {0.1, 0.1};
    assert_int_equal(ca_features_compute(&empty, spacing_mm, &f), 0);
    assert_int_equal(f.calcification_count, 0);
    assert_int_equal(f.cluster_count, 0);
    ca_features_free(&f);

    /* a cluster naming a calcification of an empty result */
    uint32_t member = 0;
    struct ca_cluster orphan = {.count = 1, .members = &member};
    empty.clusters = &orphan;
    empty.cluster_count = 1;
    assert_int_equal(ca_features_compute(&empty, spacing_mm, &f), CA_ERR_INVALID_ARGUMENT);
    assert_null(f.cluster);
}

/* A noisy breast with a group of six 0.4 mm Gaussian blobs 1.2 mm apart and two
 * isolated ones, analysed by ca_analyze: the features agree with the result's own
 * areas, intensities and cluster sums. */
static void test_features_of_an_analysed_image_agree_with_the_result(void **state)
{
    (void)state;
    enum { ROWS = 400, COLUMNS = 360 };
    const double spacing_mm = 0.1;
    uint16_t *px = malloc((size_t)ROWS * COLUMNS * sizeof(uint16_t));
    static const double blob_mm[][2] = {{15.0, 20.0}, {16.2, 20.0}, {17.4, 20.0}, {15.0, 21.2},
                                        {16.2, 21.2}, {17.4, 21.2}, {8.0, 10.0},  {25.0, 30.0}};
    scene_rng_state = 31;
    for (uint32_t y = 0; y < ROWS; y++)
        for (uint32_t x = 0; x < COLUMNS; x++) {
            double ex = x / 300.0, ey = (y - ROWS / 2.0) / 190.0;
            double v = ex * ex + ey * ey < 1.0 ? 0.45 + 0.01 * (scene_unit() - 0.5) : 0.03;
            for (size_t b = 0; b < sizeof(blob_mm) / sizeof(blob_mm[0]); b++) {
                double dx = x * spacing_mm - blob_mm[b][0], dy = y * spacing_mm - blob_mm[b][1];
                v += 0.12 * exp(-(dx * dx + dy * dy) / (2.0 * 0.16 * 0.16));
            }
            px[(size_t)y * COLUMNS + x] = (uint16_t)lround((v > 1.0 ? 1.0 : v) * 4095.0);
        }
    struct ca_image im = {.pixels = px, .rows = ROWS, .columns = COLUMNS, .bits_stored = 12};
    im.spacing_mm[0] = im.spacing_mm[1] = spacing_mm;
    struct ca_result r;
    assert_int_equal(ca_analyze(&im, NULL, &r), 0);
    assert_true(r.calcification_count >= 6);
    assert_true(r.cluster_count >= 1);
    struct ca_features f;
    assert_int_equal(ca_features_compute(&r, im.spacing_mm, &f), 0);
    assert_all_finite(&f);
    for (size_t i = 0; i < r.calcification_count; i++) {
        const double *v = f.calcification + i * CA_CALC_FEATURE_COUNT;
        assert_true(fabs(v[CA_CF_AREA_MM2] - r.calcifications[i].area_mm2) < 1e-9);
        assert_true(fabs(v[CA_CF_CALC_MEAN] - r.calcifications[i].mean_intensity) < 1e-5);
        assert_true(fabs(v[CA_CF_CALC_MAX] - r.calcifications[i].peak_intensity) < 1e-6);
        assert_true(v[CA_CF_CALC_MEAN] > v[CA_CF_RING_MEAN]);
    }
    for (size_t k = 0; k < r.cluster_count; k++) {
        const double *v = f.cluster + k * CA_CLUSTER_FEATURE_COUNT;
        assert_true(fabs(v[CA_KF_CALC_NUM] - r.clusters[k].count) < EPS);
        assert_true(fabs(v[CA_KF_CALC_AREA_MM2] - r.clusters[k].area_mm2) < 1e-9);
        assert_true(v[CA_KF_DENSITY] > v[CA_KF_DENSITY_8]);
        assert_true(v[CA_KF_HULL_AREA_MM2] >= v[CA_KF_CALC_AREA_MM2]);
    }
    ca_features_free(&f);
    ca_result_free(&r);
    free(px);
}

/* Reads an 8-bit binary PGM of at most 4096 x 4096 pixels; returns the pixels (free)
 * or NULL. */
static uint16_t *read_pgm8(const char *path, uint32_t *rows, uint32_t *columns)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned w = 0, h = 0, maxval = 0;
    uint16_t *px = NULL;
    if (fscanf(f, "P5 %u %u %u", &w, &h, &maxval) == 3 && fgetc(f) != EOF && maxval == 255 &&
        w > 0 && h > 0 && w <= 4096 && h <= 4096) {
        uint8_t *raw = malloc((size_t)w * h);
        px = malloc((size_t)w * h * sizeof(uint16_t));
        if (fread(raw, 1, (size_t)w * h, f) == (size_t)w * h) {
            for (size_t i = 0; i < (size_t)w * h; i++)
                px[i] = raw[i];
        } else {
            free(px);
            px = NULL;
        }
        free(raw);
    }
    fclose(f);
    *rows = h, *columns = w;
    return px;
}

/* Real film mammograms with calcifications (mini-MIAS, 0.2 mm): every feature finite,
 * every calcification measured. */
static void test_features_of_real_mammograms_are_finite(void **state)
{
    (void)state;
    static const char *const names[] = {"mdb209", "mdb211", "mdb213", "mdb218"};
    int found = 0;
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/mias/%s.pgm", CALCNODE_DATA_DIR, names[n]);
        uint32_t rows, columns;
        uint16_t *px = read_pgm8(path, &rows, &columns);
        if (!px)
            continue;
        found++;
        struct ca_image im = {.pixels = px, .rows = rows, .columns = columns, .bits_stored = 8};
        im.spacing_mm[0] = im.spacing_mm[1] = 0.2;
        struct ca_result r;
        struct ca_features f;
        assert_int_equal(ca_analyze(&im, NULL, &r), 0);
        assert_int_equal(ca_features_compute(&r, im.spacing_mm, &f), 0);
        assert_int_equal(f.calcification_count, r.calcification_count);
        assert_int_equal(f.cluster_count, r.cluster_count);
        assert_all_finite(&f);
        printf("%s: %zu calcifications, %zu clusters\n", names[n], r.calcification_count,
               r.cluster_count);
        ca_features_free(&f);
        ca_result_free(&r);
        free(px);
    }
    if (!found)
        skip();
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_full_field_features_cost_a_few_milliseconds(void **state)
{
    (void)state;
    /* 3328 x 2560 at 0.07 mm (an FFDM), five clusters of 20 calcifications, each a
     * blob of about 0.3 mm, 1 to 3 mm apart */
    struct hand h;
    hand_image(&h, 3328, 2560, 0.07, 0.35f);
    scene_rng_state = 5;
    uint32_t id = 0, members[100];
    for (int c = 0; c < 5; c++) {
        double cx = 500 + 350 * c, cy = 600 + 450 * c;
        for (int m = 0; m < 20; m++) {
            double x = cx + (scene_unit() - 0.5) * 250, y = cy + (scene_unit() - 0.5) * 250;
            scene_object(h.s.result.labels, 3328, 2560, x, y, ++id);
        }
    }
    uint32_t max_id = id;
    for (uint32_t i = 0; i < 100; i++)
        members[i] = i;
    struct ca_result *r = &h.s.result;
    scene_records(r, max_id);
    size_t n = r->calcification_count;
    r->clusters = calloc(5, sizeof(struct ca_cluster));
    for (uint32_t c = 0; c < 5; c++) {
        uint32_t lo = (uint32_t)(n * c / 5), hi = (uint32_t)(n * (c + 1) / 5);
        r->clusters[c].members = malloc((hi - lo) * sizeof(uint32_t));
        memcpy(r->clusters[c].members, members + lo, (hi - lo) * sizeof(uint32_t));
        r->clusters[c].count = hi - lo;
    }
    r->cluster_count = 5;
    double best = INFINITY;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_ms();
        assert_int_equal(ca_features_compute(r, h.s.spacing_mm, &h.f), 0);
        best = fmin(best, now_ms() - t0);
        if (rep < 2)
            ca_features_free(&h.f);
    }
    assert_all_finite(&h.f);
    printf("features of %zu calcifications in 5 clusters: %.2f ms (best of 3)\n", n, best);
    /* loose enough for sanitizer builds on a loaded machine; a pass over the whole image
     * per calcification would take minutes */
    assert_true(best < 1000.0);
    hand_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_of_a_3x3_square_are_known),
        cmocka_unit_test(test_features_of_one_pixel_are_known),
        cmocka_unit_test(test_features_of_a_line_of_five_are_known),
        cmocka_unit_test(test_convex_area_counts_pixel_centres_on_the_hull),
        cmocka_unit_test(test_one_member_cluster_has_defined_values),
        cmocka_unit_test(test_two_single_pixels_link_when_their_gap_is_twice_the_scale),
        cmocka_unit_test(test_triangle_has_clustering_one_and_path_has_zero),
        cmocka_unit_test(test_rings_match_a_brute_force_distance),
        cmocka_unit_test(test_ring_percentiles_match_a_sorted_brute_force_ring),
        cmocka_unit_test(test_feature_names_are_unique_and_complete),
        cmocka_unit_test(test_features_reject_bad_input_and_leave_nothing),
        cmocka_unit_test(test_features_of_an_analysed_image_agree_with_the_result),
        cmocka_unit_test(test_features_of_real_mammograms_are_finite),
        cmocka_unit_test(test_full_field_features_cost_a_few_milliseconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
