/*
 * Clustering rules against a brute-force reference on random point sets, and Tong
 * groups against an explicit pixel-distance definition.
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

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* Brute force: adjacency matrix, then depth-first components in index order. */
static size_t naive_cluster(const struct ca_point *p, size_t n,
                            const struct ca_cluster_rule *rule, int32_t *out,
                            uint8_t *tong, uint8_t *birads)
{
    uint8_t *adj = calloc(n * n, 1);
    uint8_t *core = calloc(n, 1), *qual_tong = calloc(n, 1);
    double r2 = rule->birads_radius_mm * rule->birads_radius_mm;
    for (size_t i = 0; i < n; i++) {
        size_t near = 0, same = 0;
        for (size_t j = 0; j < n; j++) {
            double dx = p[i].x_mm - p[j].x_mm, dy = p[i].y_mm - p[j].y_mm;
            near += dx * dx + dy * dy <= r2;
            same += p[i].tong_group == p[j].tong_group;
        }
        core[i] = near >= rule->birads_min_count;
        qual_tong[i] = same >= rule->tong_min_count;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double dx = p[i].x_mm - p[j].x_mm, dy = p[i].y_mm - p[j].y_mm;
            if (p[i].tong_group == p[j].tong_group ||
                ((core[i] || core[j]) && dx * dx + dy * dy <= r2))
                adj[i * n + j] = 1;
        }
    int32_t *comp = malloc(n * sizeof(int32_t));
    size_t *stack = malloc(n * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        comp[i] = -1;
    size_t clusters = 0;
    int32_t ncomp = 0;
    for (size_t s = 0; s < n; s++) {
        if (comp[s] >= 0)
            continue;
        size_t top = 0, members = 0;
        int has_tong = 0, has_core = 0;
        comp[s] = ncomp;
        stack[top++] = s;
        size_t *list = malloc(n * sizeof(size_t));
        while (top) {
            size_t i = stack[--top];
            list[members++] = i;
            has_tong |= qual_tong[i];
            has_core |= core[i];
            for (size_t j = 0; j < n; j++)
                if (adj[i * n + j] && comp[j] < 0) {
                    comp[j] = ncomp;
                    stack[top++] = j;
                }
        }
        for (size_t k = 0; k < members; k++)
            out[list[k]] = has_tong || has_core ? (int32_t)clusters : -1;
        if (has_tong || has_core) {
            tong[clusters] = (uint8_t)has_tong;
            birads[clusters] = (uint8_t)has_core;
            clusters++;
        }
        ncomp++;
        free(list);
    }
    free(adj);
    free(core);
    free(qual_tong);
    free(comp);
    free(stack);
    return clusters;
}

static void test_cluster_points_matches_brute_force_on_random_sets(void **state)
{
    (void)state;
    rng_state = 21;
    struct ca_cluster_rule rule = {6, sqrt(100.0 / M_PI), 3};
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 1 + rng() % 120;
        double extent = 10.0 + rng() % 150;
        struct ca_point *p = malloc(n * sizeof(*p));
        for (size_t i = 0; i < n; i++) {
            p[i].x_mm = extent * (rng() % 100000) / 100000.0;
            p[i].y_mm = extent * (rng() % 100000) / 100000.0;
            /* groups: mostly singletons, some shared */
            p[i].tong_group = rng() % 4 ? (uint32_t)(1000 + i) : rng() % 5;
        }
        int32_t *a = malloc(n * sizeof(int32_t)), *b = malloc(n * sizeof(int32_t));
        uint8_t ta[120], ba[120], tb[120], bb[120];
        size_t ca = 0;
        assert_int_equal(ca_cluster_points(p, n, &rule, a, &ca, ta, ba), 0);
        size_t cb = naive_cluster(p, n, &rule, b, tb, bb);
        assert_int_equal(ca, cb);
        assert_memory_equal(a, b, n * sizeof(int32_t));
        if (ca) {
            assert_memory_equal(ta, tb, ca);
            assert_memory_equal(ba, bb, ca);
        }
        free(p);
        free(a);
        free(b);
    }
}

static void test_cluster_points_applies_both_rules(void **state)
{
    (void)state;
    struct ca_cluster_rule rule = {6, sqrt(100.0 / M_PI), 3};
    /* 0-2: three within 1 cm2 (BI-RADS); 3-8: six in one Tong group far apart in mm
       (Tong only); 9-10: two close points (neither rule) */
    struct ca_point p[11] = {
        {10, 10, 1}, {12, 10, 2}, {10, 13, 3},
        {100, 10, 7}, {120, 10, 7}, {140, 10, 7}, {160, 10, 7}, {180, 10, 7}, {200, 10, 7},
        {10, 100, 8}, {11, 100, 9}};
    int32_t c[11];
    uint8_t t[11], b[11];
    size_t count = 0;
    assert_int_equal(ca_cluster_points(p, 11, &rule, c, &count, t, b), 0);
    assert_int_equal(count, 2);
    assert_int_equal(c[0], 0);
    assert_int_equal(c[2], 0);
    assert_int_equal(c[3], 1);
    assert_int_equal(c[8], 1);
    assert_int_equal(c[9], -1);
    assert_int_equal(c[10], -1);
    assert_true(!t[0] && b[0]);
    assert_true(t[1] && !b[1]);
    /* five in a group is not "more than 5" */
    p[8].tong_group = 99;
    assert_int_equal(ca_cluster_points(p, 11, &rule, c, &count, t, b), 0);
    assert_int_equal(count, 1);
    assert_int_equal(c[3], -1);
}

/* Two calcifications share a Tong group when some pixels are within the kernel in
   Chebyshev distance (dilated boxes overlap or touch); checked on random dots. */
static void test_tong_groups_join_pixels_within_the_kernel(void **state)
{
    (void)state;
    rng_state = 77;
    const uint32_t rows = 60, columns = 70, k = 6;
    for (int trial = 0; trial < 30; trial++) {
        uint32_t *labels = calloc((size_t)rows * columns, sizeof(uint32_t));
        uint32_t n = 1 + rng() % 12, xs[12], ys[12], group[12];
        for (uint32_t i = 0; i < n; i++) {
            xs[i] = rng() % columns;
            ys[i] = rng() % rows;
            labels[(size_t)ys[i] * columns + xs[i]] = i + 1;
        }
        /* a later dot may overwrite an earlier one: drop those */
        for (uint32_t i = 0; i < n; i++)
            if (labels[(size_t)ys[i] * columns + xs[i]] != i + 1)
                xs[i] = UINT32_MAX;
        assert_int_equal(ca_tong_groups(labels, rows, columns, n, k, k, group), 0);
        /* reference: transitive closure of "Chebyshev distance <= k" */
        uint32_t comp[12];
        for (uint32_t i = 0; i < n; i++)
            comp[i] = i;
        for (int pass = 0; pass < 12; pass++)
            for (uint32_t i = 0; i < n; i++)
                for (uint32_t j = 0; j < n; j++) {
                    if (xs[i] == UINT32_MAX || xs[j] == UINT32_MAX)
                        continue;
                    uint32_t dx = xs[i] > xs[j] ? xs[i] - xs[j] : xs[j] - xs[i];
                    uint32_t dy = ys[i] > ys[j] ? ys[i] - ys[j] : ys[j] - ys[i];
                    if (dx <= k && dy <= k && comp[j] < comp[i])
                        comp[i] = comp[j];
                }
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < n; j++) {
                if (xs[i] == UINT32_MAX || xs[j] == UINT32_MAX)
                    continue;
                assert_int_equal(comp[i] == comp[j], group[i] == group[j]);
            }
        free(labels);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cluster_points_matches_brute_force_on_random_sets),
        cmocka_unit_test(test_cluster_points_applies_both_rules),
        cmocka_unit_test(test_tong_groups_join_pixels_within_the_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
