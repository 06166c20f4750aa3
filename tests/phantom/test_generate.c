/* The phantom generator: determinism, value range, mirror symmetry, and truth that
 * agrees exactly with the label mask (recomputed here by a naive pass). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phantom/phantom.h"

static struct cn_phantom_params params(uint64_t seed, enum cn_phantom_kind kind,
                                       enum cn_phantom_view view, char laterality)
{
    return (struct cn_phantom_params){.seed = seed, .rows = 1024, .columns = 832,
                                      .spacing_mm = 0.1, .bits = 12,
                                      .laterality = laterality, .view = view, .kind = kind};
}

static void generate(const struct cn_phantom_params *p, struct cn_phantom_image *img)
{
    char err[256] = "";
    int rc = cn_phantom_generate(p, img, err, sizeof err);
    if (rc != 0)
        fail_msg("generate: %s", err);
}

static void test_generate_same_seed_gives_identical_pixels_mask_and_truth(void **state)
{
    (void)state;
    struct cn_phantom_params p = params(11, CN_PHANTOM_MIXED, CN_PHANTOM_MLO, 'L');
    struct cn_phantom_image a, b;
    generate(&p, &a);
    generate(&p, &b);
    size_t n = (size_t)p.rows * p.columns;
    assert_memory_equal(a.pixels, b.pixels, n * sizeof *a.pixels);
    assert_memory_equal(a.mask, b.mask, n * sizeof *a.mask);
    assert_int_equal(a.calc_count, b.calc_count);
    assert_int_equal(a.cluster_count, b.cluster_count);
    for (size_t i = 0; i < a.calc_count; i++) {
        assert_true(a.calcs[i].x_px == b.calcs[i].x_px);
        assert_true(a.calcs[i].peak_contrast == b.calcs[i].peak_contrast);
    }
    cn_phantom_image_free(&a);
    cn_phantom_image_free(&b);
}

static void test_generate_different_seed_gives_different_image(void **state)
{
    (void)state;
    struct cn_phantom_params p = params(11, CN_PHANTOM_NORMAL, CN_PHANTOM_CC, 'L');
    struct cn_phantom_params q = params(12, CN_PHANTOM_NORMAL, CN_PHANTOM_CC, 'L');
    struct cn_phantom_image a, b;
    generate(&p, &a);
    generate(&q, &b);
    size_t n = (size_t)p.rows * p.columns, differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += a.pixels[i] != b.pixels[i];
    assert_true(differ > n / 4);
    cn_phantom_image_free(&a);
    cn_phantom_image_free(&b);
}

static void test_right_breast_is_the_mirror_image_of_the_left(void **state)
{
    (void)state;
    struct cn_phantom_params p = params(5, CN_PHANTOM_BENIGN, CN_PHANTOM_CC, 'L');
    struct cn_phantom_params q = params(5, CN_PHANTOM_BENIGN, CN_PHANTOM_CC, 'R');
    struct cn_phantom_image l, r;
    generate(&p, &l);
    generate(&q, &r);
    for (uint32_t y = 0; y < p.rows; y++)
        for (uint32_t x = 0; x < p.columns; x++) {
            size_t a = (size_t)y * p.columns + x, b = (size_t)y * p.columns + (p.columns - 1 - x);
            if (l.pixels[a] != r.pixels[b] || l.mask[a] != r.mask[b])
                fail_msg("pixel (%u, %u) is not mirrored", x, y);
        }
    assert_string_equal(l.patient_orientation, "A\\R");
    assert_string_equal(r.patient_orientation, "P\\L");
    /* the chest wall (widest breast extent) is at column 0 for L, the last for R */
    size_t mid = (size_t)(p.rows / 2) * p.columns;
    assert_true(l.breast[mid] == 1 && l.breast[mid + p.columns - 1] == 0);
    assert_true(r.breast[mid] == 0 && r.breast[mid + p.columns - 1] == 1);
    cn_phantom_image_free(&l);
    cn_phantom_image_free(&r);
}

static void test_pixels_stay_within_bits_stored_and_air_is_dark(void **state)
{
    (void)state;
    struct cn_phantom_params p = params(3, CN_PHANTOM_MIXED, CN_PHANTOM_CC, 'L');
    p.bits = 14;
    struct cn_phantom_image img;
    generate(&p, &img);
    size_t n = (size_t)p.rows * p.columns;
    double air = 0, tissue = 0;
    size_t air_n = 0, tissue_n = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(img.pixels[i] < (1u << 14));
        if (img.breast[i]) {
            tissue += img.pixels[i];
            tissue_n++;
        } else {
            air += img.pixels[i];
            air_n++;
        }
    }
    assert_true(air_n > 0 && tissue_n > 0);
    assert_true(air / air_n < 0.1 * 16383);
    assert_true(tissue / tissue_n > 0.25 * 16383);
    cn_phantom_image_free(&img);
}

/* Recomputes every calcification's area, centroid and bbox from the mask and compares
 * exactly; checks cluster membership both ways. */
static void check_truth_against_mask(const struct cn_phantom_image *img)
{
    size_t n = img->calc_count;
    uint32_t *area = calloc(n + 1, sizeof *area);
    double *sx = calloc(n + 1, sizeof *sx), *sy = calloc(n + 1, sizeof *sy);
    uint32_t (*box)[4] = calloc(n + 1, sizeof *box);
    assert_non_null(area);
    for (size_t k = 0; k <= n; k++) {
        box[k][0] = box[k][1] = UINT32_MAX;
    }
    for (uint32_t y = 0; y < img->params.rows; y++)
        for (uint32_t x = 0; x < img->params.columns; x++) {
            uint16_t k = img->mask[(size_t)y * img->params.columns + x];
            assert_true(k <= n);
            if (!k)
                continue;
            assert_true(img->breast[(size_t)y * img->params.columns + x]);
            area[k]++;
            sx[k] += x;
            sy[k] += y;
            box[k][0] = x < box[k][0] ? x : box[k][0];
            box[k][1] = y < box[k][1] ? y : box[k][1];
            box[k][2] = x > box[k][2] ? x : box[k][2];
            box[k][3] = y > box[k][3] ? y : box[k][3];
        }
    for (size_t k = 1; k <= n; k++) {
        const struct cn_phantom_calc *c = &img->calcs[k - 1];
        assert_int_equal(c->id, k);
        assert_true(area[k] >= 1);
        assert_int_equal(c->area_px, area[k]);
        assert_true(c->x_px == sx[k] / area[k]);
        assert_true(c->y_px == sy[k] / area[k]);
        assert_memory_equal(c->bbox, box[k], sizeof box[k]);
        if (c->cluster_id) {
            const struct cn_phantom_cluster *cl = &img->clusters[c->cluster_id - 1];
            int listed = 0;
            for (size_t m = 0; m < cl->member_count; m++)
                listed |= cl->member_ids[m] == c->id;
            assert_true(listed);
            assert_int_equal(cl->label, c->kind);
        }
    }
    for (size_t i = 0; i < img->cluster_count; i++) {
        const struct cn_phantom_cluster *cl = &img->clusters[i];
        assert_int_equal(cl->id, i + 1);
        assert_true(cl->member_count >= 1);
        for (size_t m = 0; m < cl->member_count; m++)
            assert_int_equal(img->calcs[cl->member_ids[m] - 1].cluster_id, cl->id);
        if (cl->label == CN_PHANTOM_CALC_MALIGNANT && strcmp(cl->distribution, "clustered") == 0)
            assert_true(cl->member_count >= 6);
    }
    free(area);
    free(sx);
    free(sy);
    free(box);
}

static void test_truth_matches_the_mask_exactly_for_every_kind_and_view(void **state)
{
    (void)state;
    size_t malignant = 0, benign = 0, vascular = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        for (int kind = CN_PHANTOM_NORMAL; kind <= CN_PHANTOM_MIXED; kind++) {
            struct cn_phantom_params p = params(seed, (enum cn_phantom_kind)kind,
                                                seed % 2 ? CN_PHANTOM_CC : CN_PHANTOM_MLO,
                                                seed % 3 ? 'L' : 'R');
            struct cn_phantom_image img;
            generate(&p, &img);
            check_truth_against_mask(&img);
            if (kind == CN_PHANTOM_NORMAL)
                assert_int_equal(img.calc_count, 0);
            for (size_t i = 0; i < img.calc_count; i++) {
                malignant += img.calcs[i].kind == CN_PHANTOM_CALC_MALIGNANT;
                benign += img.calcs[i].kind == CN_PHANTOM_CALC_BENIGN;
                if (strcmp(img.calcs[i].morphology, "vascular") == 0) {
                    vascular++;
                    assert_int_equal(img.calcs[i].kind, CN_PHANTOM_CALC_BENIGN);
                    assert_int_equal(img.calcs[i].cluster_id, 0);
                }
                if (kind == CN_PHANTOM_BENIGN)
                    assert_int_equal(img.calcs[i].kind, CN_PHANTOM_CALC_BENIGN);
                if (kind == CN_PHANTOM_MALIGNANT)
                    assert_int_equal(img.calcs[i].kind, CN_PHANTOM_CALC_MALIGNANT);
            }
            cn_phantom_image_free(&img);
        }
    }
    assert_true(malignant > 0 && benign > 0 && vascular > 0);
}

static void test_truth_json_records_mask_measurements(void **state)
{
    (void)state;
    struct cn_phantom_params p = params(8, CN_PHANTOM_MIXED, CN_PHANTOM_CC, 'R');
    struct cn_phantom_image img;
    generate(&p, &img);
    char dir[] = "/tmp/cn_phantom_truth_XXXXXX", path[256], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.truth.json", dir);
    assert_int_equal(cn_phantom_truth_write(&img, path, "t.dcm", "1.2.3", err, sizeof err), 0);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    assert_non_null(root);
    json_t *calcs = json_object_get(root, "calcifications");
    assert_int_equal(json_array_size(calcs), img.calc_count);
    for (size_t i = 0; i < img.calc_count; i++) {
        json_t *c = json_array_get(calcs, i);
        assert_int_equal(json_integer_value(json_object_get(c, "area_px")), img.calcs[i].area_px);
        assert_true(fabs(json_real_value(json_object_get(c, "x")) - img.calcs[i].x_px) < 1e-6);
        assert_true(fabs(json_real_value(json_object_get(c, "area_mm2")) -
                         img.calcs[i].area_px * 0.01) < 1e-9);
        json_t *cl = json_object_get(c, "cluster");
        if (img.calcs[i].cluster_id)
            assert_int_equal(json_integer_value(cl), img.calcs[i].cluster_id);
        else
            assert_true(json_is_null(cl));
    }
    assert_int_equal(json_array_size(json_object_get(root, "clusters")), img.cluster_count);
    assert_string_equal(json_string_value(json_object_get(root, "sop_instance_uid")), "1.2.3");
    json_decref(root);
    unlink(path);
    rmdir(dir);
    cn_phantom_image_free(&img);
}

static void test_params_check_rejects_out_of_range_values(void **state)
{
    (void)state;
    char err[256];
    struct cn_phantom_params p = params(1, CN_PHANTOM_NORMAL, CN_PHANTOM_CC, 'L');
    assert_int_equal(cn_phantom_params_check(&p, err, sizeof err), 0);
    p.spacing_mm = 0.5;
    assert_int_equal(cn_phantom_params_check(&p, err, sizeof err), -1);
    p = params(1, CN_PHANTOM_NORMAL, CN_PHANTOM_CC, 'X');
    assert_int_equal(cn_phantom_params_check(&p, err, sizeof err), -1);
    p = params(1, CN_PHANTOM_NORMAL, CN_PHANTOM_CC, 'L');
    p.bits = 17;
    assert_int_equal(cn_phantom_params_check(&p, err, sizeof err), -1);
    p.bits = 12;
    p.rows = 100;
    struct cn_phantom_image img;
    assert_int_equal(cn_phantom_generate(&p, &img, err, sizeof err), -1);
    assert_null(img.pixels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_same_seed_gives_identical_pixels_mask_and_truth),
        cmocka_unit_test(test_generate_different_seed_gives_different_image),
        cmocka_unit_test(test_right_breast_is_the_mirror_image_of_the_left),
        cmocka_unit_test(test_pixels_stay_within_bits_stored_and_air_is_dark),
        cmocka_unit_test(test_truth_matches_the_mask_exactly_for_every_kind_and_view),
        cmocka_unit_test(test_truth_json_records_mask_measurements),
        cmocka_unit_test(test_params_check_rejects_out_of_range_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
