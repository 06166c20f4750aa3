/*
 * ca_features_compute against an independent reference: random scenes are written to a
 * temporary folder, tests/analysis/features_oracle.py (scikit-image regionprops, scipy
 * distance transforms and hulls, pyradiomics formulas, graph search written in Python)
 * measures them, and every feature of every calcification and cluster must agree within
 * TOLERANCE (relative to max(1, |reference|)). Skips (77) without /usr/bin/python3,
 * scikit-image or scipy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "calc/features.h"
#include "test_features_scene.h"

#define PYTHON "/usr/bin/python3"
/* Both sides compute in double from the same float32 pixels; differences are rounding
 * (numpy's summation order, eigvalsh, hull areas) far below this. */
#define TOLERANCE 1e-7
#define LINE_LEN 512

static int write_file(const char *dir, const char *name, const void *data, size_t len,
                      const char *header)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = (!header || fputs(header, f) >= 0) && fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void write_scene(const char *dir, const struct scene *s)
{
    const struct ca_result *r = &s->result;
    size_t n = (size_t)r->rows * r->columns;
    char header[64];
    uint8_t *be = malloc(2 * n);
    for (size_t i = 0; i < n; i++) {
        assert_true(r->labels[i] <= 0xffffu);
        be[2 * i] = (uint8_t)(r->labels[i] >> 8);
        be[2 * i + 1] = (uint8_t)r->labels[i];
    }
    snprintf(header, sizeof(header), "P5\n%u %u\n65535\n", r->columns, r->rows);
    assert_int_equal(write_file(dir, "labels.pgm", be, 2 * n, header), 0);
    free(be);
    snprintf(header, sizeof(header), "P5\n%u %u\n255\n", r->columns, r->rows);
    assert_int_equal(write_file(dir, "breast.pgm", r->breast_mask, n, header), 0);
    assert_int_equal(write_file(dir, "intensity.f32", r->normalized, n * sizeof(float), NULL), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/clusters.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t k = 0; k < r->cluster_count; k++) {
        for (uint32_t m = 0; m < r->clusters[k].count; m++)
            fprintf(f, "%u ", r->clusters[k].members[m]);
        fputc('\n', f);
    }
    assert_int_equal(fclose(f), 0);
}

static long find_feature(int cluster, const char *name)
{
    size_t count = cluster ? CA_CLUSTER_FEATURE_COUNT : CA_CALC_FEATURE_COUNT;
    for (size_t i = 0; i < count; i++) {
        const char *known = cluster ? ca_cluster_feature_name(i) : ca_calc_feature_name(i);
        if (strcmp(known, name) == 0)
            return (long)i;
    }
    return -1;
}

/* Runs the oracle on one scene and compares every value it prints; every feature of
 * every object must have been printed once. */
static void compare_scene(struct scene *s)
{
    char dir[] = "/tmp/calc_features_XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_scene(dir, s);

    struct ca_features feat;
    assert_int_equal(ca_features_compute(&s->result, s->spacing_mm, &feat), 0);
    assert_int_equal(feat.calcification_count, s->result.calcification_count);
    assert_int_equal(feat.cluster_count, s->result.cluster_count);

    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s %s/features_oracle.py %s %.17g %.17g > %s/out.txt", PYTHON,
             CALCNODE_TEST_SOURCE_DIR, dir, s->spacing_mm[0], s->spacing_mm[1], dir);
    assert_int_equal(system(cmd), 0);

    size_t calc_values = feat.calcification_count * CA_CALC_FEATURE_COUNT;
    size_t total = calc_values + feat.cluster_count * CA_CLUSTER_FEATURE_COUNT;
    uint8_t *seen = calloc(total ? total : 1, 1);
    char path[600], line[LINE_LEN];
    snprintf(path, sizeof(path), "%s/out.txt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t mismatches = 0;
    while (fgets(line, sizeof(line), f)) {
        char kind[16], name[128];
        unsigned long index;
        double want;
        assert_int_equal(sscanf(line, "%15s %lu %127s %lf", kind, &index, name, &want), 4);
        int cluster = strcmp(kind, "cluster") == 0;
        long feature = find_feature(cluster, name);
        if (feature < 0)
            fail_msg("oracle printed unknown feature \"%s\"", name);
        size_t slot = cluster ? calc_values + index * CA_CLUSTER_FEATURE_COUNT + (size_t)feature
                              : index * CA_CALC_FEATURE_COUNT + (size_t)feature;
        assert_true(slot < total);
        assert_false(seen[slot]);
        seen[slot] = 1;
        double got = cluster ? feat.cluster[index * CA_CLUSTER_FEATURE_COUNT + (size_t)feature]
                             : feat.calcification[index * CA_CALC_FEATURE_COUNT + (size_t)feature];
        double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
        if (!(fabs(got - want) <= TOLERANCE * scale)) {
            if (mismatches++ < 20)
                print_error("%s %lu %s: got %.12g, reference %.12g\n", kind, index, name, got,
                            want);
        }
    }
    fclose(f);
    for (size_t i = 0; i < total; i++)
        if (!seen[i])
            fail_msg("feature slot %zu not printed by the oracle", i);
    free(seen);
    ca_features_free(&feat);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mismatches, 0);
}

static void test_features_match_skimage_on_random_scenes(void **state)
{
    (void)state;
    for (uint32_t seed = 1; seed <= 3; seed++) {
        struct scene s;
        scene_make(&s, seed, 150, 190, 14, 0.1, 0.1);
        assert_true(s.result.calcification_count > 50);
        assert_true(s.result.cluster_count > 5);
        compare_scene(&s);
        scene_free(&s);
    }
}

static void test_features_match_skimage_with_rectangular_pixels(void **state)
{
    (void)state;
    struct scene s;
    scene_make(&s, 77, 120, 140, 12, 0.07, 0.094);
    compare_scene(&s);
    scene_free(&s);
}

static void test_features_match_skimage_on_crowded_clusters(void **state)
{
    (void)state;
    /* objects 6 px apart: they overlap, touch and link at every topology scale */
    struct scene s;
    scene_make(&s, 4242, 90, 110, 6, 0.1, 0.1);
    compare_scene(&s);
    scene_free(&s);
}

int main(void)
{
    if (access(PYTHON, X_OK) != 0) {
        printf("skipped: %s is not installed\n", PYTHON);
        return 77;
    }
    if (system(PYTHON " -c 'import skimage.measure, scipy.ndimage, scipy.spatial' "
                      ">/dev/null 2>&1") != 0) {
        printf("skipped: scikit-image or scipy is missing for %s\n", PYTHON);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_match_skimage_on_random_scenes),
        cmocka_unit_test(test_features_match_skimage_with_rectangular_pixels),
        cmocka_unit_test(test_features_match_skimage_on_crowded_clusters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
