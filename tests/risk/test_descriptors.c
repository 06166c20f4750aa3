/* Morphology and distribution descriptors (calc/descriptors.h) on hand-built feature
 * vectors: each rule, its edges, and the clearly benign definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "calc/analysis.h"
#include "calc/descriptors.h"
#include "calc/features.h"

#define MAX_MEMBERS 64

/* A calcification with the features the rules read; everything else 0. */
static void calc(double *f, double major_mm, double solidity, double eccentricity,
                 double length_ratio, double mbr_short_mm, double ring_contrast)
{
    memset(f, 0, CA_CALC_FEATURE_COUNT * sizeof *f);
    f[CA_CF_MAJOR_AXIS_MM] = major_mm;
    f[CA_CF_SOLIDITY] = solidity;
    f[CA_CF_ECCENTRICITY] = eccentricity;
    f[CA_CF_LENGTH_RATIO] = length_ratio;
    f[CA_CF_MBR_SHORT_MM] = mbr_short_mm;
    f[CA_CF_RING_MEAN] = 0.5;
    f[CA_CF_RING_STD] = 0.02;
    f[CA_CF_CALC_MEAN] = 0.5 + ring_contrast;
}

static void punctate(double *f)
{
    calc(f, 0.3, 0.95, 0.5, 1.2, 0.25, 0.3);
}
static void pleomorphic(double *f)
{
    calc(f, 0.4, 0.7, 0.85, 1.8, 0.2, 0.3);
}

static void test_calc_morphology_follows_the_documented_rules(void **state)
{
    (void)state;
    double f[CA_CALC_FEATURE_COUNT];
    calc(f, 1.0, 0.6, 0.99, 4.0, 0.2, 0.3);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_FINE_LINEAR);
    /* Both linear edges are inclusive. */
    calc(f, 0.8, 0.6, 0.99, CA_DESC_LINEAR_LENGTH_RATIO, CA_DESC_LINEAR_WIDTH_MM, 0.3);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_FINE_LINEAR);
    calc(f, 0.8, 0.6, 0.99, CA_DESC_LINEAR_LENGTH_RATIO, 0.31, 0.3);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_COARSE_HETEROGENEOUS);
    /* Small and hazy: contrast to the ring below 2 ring sigmas (0.04). */
    calc(f, 0.3, 0.95, 0.5, 1.2, 0.25, 0.039);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_AMORPHOUS);
    calc(f, 0.3, 0.95, 0.5, 1.2, 0.25, 0.041);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_PUNCTATE_ROUND);
    /* A faint but large object is not amorphous. */
    calc(f, 0.8, 0.95, 0.5, 1.2, 0.6, 0.01);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_PUNCTATE_ROUND);
    calc(f, 0.8, 0.7, 0.5, 1.2, 0.6, 0.3);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_COARSE_HETEROGENEOUS);
    pleomorphic(f);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_FINE_PLEOMORPHIC);
    /* Regularity edges are inclusive. */
    calc(f, 0.4, CA_DESC_REGULAR_SOLIDITY, CA_DESC_REGULAR_ECCENTRICITY, 1.2, 0.3, 0.3);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_PUNCTATE_ROUND);
    calc(f, 0.4, CA_DESC_REGULAR_SOLIDITY, 0.81, 1.2, 0.3, 0.3);
    assert_int_equal(ca_calc_morphology(f), CA_MORPHOLOGY_FINE_PLEOMORPHIC);
}

struct scene {
    double calcs[MAX_MEMBERS * CA_CALC_FEATURE_COUNT];
    double xy[MAX_MEMBERS * 2];
    uint32_t members[MAX_MEMBERS];
    double cluster[CA_CLUSTER_FEATURE_COUNT];
    size_t n;
};

/* n members at (x0 + i * dx, y0 + (i % rows) * dy), all punctate; area mean area_mm2. */
static void scene(struct scene *s, size_t n, double dx, double dy, size_t rows, double area_mm2)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        punctate(s->calcs + i * CA_CALC_FEATURE_COUNT);
        s->xy[2 * i] = 10.0 + (double)(i / rows) * dx;
        s->xy[2 * i + 1] = 10.0 + (double)(i % rows) * dy;
        s->members[i] = (uint32_t)i;
    }
    s->cluster[CA_KF_AREA_MEAN] = area_mm2;
    s->cluster[CA_KF_IMAGE_CLUSTER_COUNT] = 1;
}

static struct ca_cluster_description describe(const struct scene *s)
{
    struct ca_cluster_description d;
    assert_int_equal(ca_cluster_describe(s->cluster, s->calcs, s->xy, s->n, s->members, s->n, &d),
                     0);
    return d;
}

static void test_cluster_morphology_is_the_most_suspicious_with_a_quarter(void **state)
{
    (void)state;
    struct scene s;
    scene(&s, 8, 1.0, 1.0, 3, 0.1);
    pleomorphic(s.calcs + 0 * CA_CALC_FEATURE_COUNT);
    pleomorphic(s.calcs + 5 * CA_CALC_FEATURE_COUNT);
    struct ca_cluster_description d = describe(&s);
    assert_int_equal(d.morphology, CA_MORPHOLOGY_FINE_PLEOMORPHIC);
    assert_int_equal(d.morphology_count[CA_MORPHOLOGY_FINE_PLEOMORPHIC], 2);
    assert_int_equal(d.morphology_count[CA_MORPHOLOGY_PUNCTATE_ROUND], 6);
    /* 2 of 9 is below a quarter: the most frequent wins. */
    scene(&s, 9, 1.0, 1.0, 3, 0.1);
    pleomorphic(s.calcs + 0 * CA_CALC_FEATURE_COUNT);
    pleomorphic(s.calcs + 5 * CA_CALC_FEATURE_COUNT);
    assert_int_equal(describe(&s).morphology, CA_MORPHOLOGY_PUNCTATE_ROUND);
    /* One member is never enough, even of a quarter. */
    scene(&s, 4, 1.0, 1.0, 2, 0.1);
    calc(s.calcs, 1.0, 0.6, 0.99, 4.0, 0.2, 0.3);
    assert_int_equal(describe(&s).morphology, CA_MORPHOLOGY_PUNCTATE_ROUND);
}

static void test_cluster_distribution_by_extent_and_elongation(void **state)
{
    (void)state;
    struct scene s;
    /* 5 on a line 2 mm apart: linear. */
    scene(&s, 5, 2.0, 0.0, 1, 0.1);
    struct ca_cluster_description d = describe(&s);
    assert_int_equal(d.distribution, CA_DISTRIBUTION_LINEAR);
    assert_true(d.elongation == CA_DESC_ELONGATION_MAX);
    assert_float_equal(d.extent_mm, 8.0, 1e-12);
    /* 3 x 3 grid of 1 mm: grouped, round scatter. */
    scene(&s, 9, 1.0, 1.0, 3, 0.1);
    d = describe(&s);
    assert_int_equal(d.distribution, CA_DISTRIBUTION_GROUPED);
    assert_float_equal(d.elongation, 1.0, 1e-9);
    /* 6 x 6 grid of 6 mm (30 mm square): regional. */
    scene(&s, 36, 6.0, 6.0, 6, 0.1);
    assert_int_equal(describe(&s).distribution, CA_DISTRIBUTION_REGIONAL);
    /* 9 columns 5 mm apart by 4 rows 5 mm apart (40 x 15 mm): segmental. */
    scene(&s, 36, 5.0, 5.0, 4, 0.1);
    d = describe(&s);
    assert_true(d.elongation > CA_DESC_SEGMENTAL_ELONGATION);
    assert_true(d.elongation < CA_DESC_LINEAR_ELONGATION);
    assert_int_equal(d.distribution, CA_DISTRIBUTION_SEGMENTAL);
    /* Many clusters in the image: diffuse, whatever the shape. */
    scene(&s, 9, 1.0, 1.0, 3, 0.1);
    s.cluster[CA_KF_IMAGE_CLUSTER_COUNT] = CA_DESC_DIFFUSE_MIN_CLUSTERS;
    assert_int_equal(describe(&s).distribution, CA_DISTRIBUTION_DIFFUSE);
    /* A single member: extent 0, elongation 1, grouped. */
    scene(&s, 1, 1.0, 1.0, 1, 0.1);
    d = describe(&s);
    assert_int_equal(d.distribution, CA_DISTRIBUTION_GROUPED);
    assert_true(d.extent_mm == 0.0 && d.elongation == 1.0);
}

static void test_clearly_benign_needs_round_larger_or_scattered_and_not_ductal(void **state)
{
    (void)state;
    struct scene s;
    scene(&s, 9, 1.0, 1.0, 3, CA_DESC_BENIGN_MIN_AREA_MM2);
    assert_true(describe(&s).clearly_benign);
    /* Small round members grouped: not clearly benign. */
    scene(&s, 9, 1.0, 1.0, 3, 0.1);
    assert_false(describe(&s).clearly_benign);
    /* Small but scattered (regional): clearly benign. */
    scene(&s, 36, 6.0, 6.0, 6, 0.1);
    assert_true(describe(&s).clearly_benign);
    /* One fine pleomorphic member spoils it. */
    scene(&s, 9, 1.0, 1.0, 3, 0.5);
    pleomorphic(s.calcs + 4 * CA_CALC_FEATURE_COUNT);
    assert_false(describe(&s).clearly_benign);
    /* A linear arrangement is never clearly benign. */
    scene(&s, 5, 2.0, 0.0, 1, 0.5);
    assert_false(describe(&s).clearly_benign);
}

static void test_describe_rejects_bad_members(void **state)
{
    (void)state;
    struct scene s;
    scene(&s, 3, 1.0, 1.0, 3, 0.1);
    struct ca_cluster_description d;
    uint32_t bad[2] = {0, 3};
    assert_int_equal(ca_cluster_describe(s.cluster, s.calcs, s.xy, 3, bad, 2, &d),
                     CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_cluster_describe(s.cluster, s.calcs, s.xy, 3, s.members, 0, &d),
                     CA_ERR_INVALID_ARGUMENT);
    assert_int_equal(ca_cluster_describe(NULL, s.calcs, s.xy, 3, s.members, 3, &d),
                     CA_ERR_INVALID_ARGUMENT);
    assert_string_equal(ca_morphology_name(CA_MORPHOLOGY_FINE_LINEAR), "fine linear");
    assert_string_equal(ca_distribution_name(CA_DISTRIBUTION_SEGMENTAL), "segmental");
    assert_string_equal(ca_morphology_name(CA_MORPHOLOGY_COUNT), "unknown");
    assert_string_equal(ca_distribution_name(-1), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calc_morphology_follows_the_documented_rules),
        cmocka_unit_test(test_cluster_morphology_is_the_most_suspicious_with_a_quarter),
        cmocka_unit_test(test_cluster_distribution_by_extent_and_elongation),
        cmocka_unit_test(test_clearly_benign_needs_round_larger_or_scattered_and_not_ductal),
        cmocka_unit_test(test_describe_rejects_bad_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
