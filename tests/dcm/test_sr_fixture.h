/* A study description for the report tests (test_sr*.c, test_gsps*.c): the synthetic MG
 * fixture with two clusters and a stray calcification, or the real GE image. */
#ifndef CN_TESTS_DCM_TEST_SR_FIXTURE_H
#define CN_TESTS_DCM_TEST_SR_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "dcm/report.h"

#define SR_CALC_COUNT 7u
#define SR_CLUSTER_COUNT 2u

struct sr_fixture {
    struct cn_report_point outlines[SR_CALC_COUNT][4];
    struct cn_report_calcification calcs[SR_CALC_COUNT];
    struct cn_report_point hull[4];
    uint32_t members0[3], members1[3];
    struct cn_report_cluster clusters[SR_CLUSTER_COUNT];
    struct cn_report_image image;
    struct cn_report_study study;
    double score1;
};

/* Fills f for the image at path: calcifications 0-2 form cluster 1 (scored, category 4B),
 * 3-5 cluster 2 (no score, no category: the risk model is absent), 6 is alone. */
static inline void sr_fixture_init(struct sr_fixture *f, const char *path, double x0, double y0)
{
    for (uint32_t k = 0; k < SR_CALC_COUNT; k++) {
        double cx = x0 + 3.0 * (k % 3) + (k >= 3 ? 20.0 : 0.0) + (k == 6 ? 15.0 : 0.0);
        double cy = y0 + 2.0 * (k % 3) + (k >= 3 ? 30.0 : 0.0);
        f->outlines[k][0] = (struct cn_report_point){cx - 1, cy - 1};
        f->outlines[k][1] = (struct cn_report_point){cx + 1, cy - 1};
        f->outlines[k][2] = (struct cn_report_point){cx + 1, cy + 1};
        f->outlines[k][3] = (struct cn_report_point){cx - 1, cy + 1};
        f->calcs[k] = (struct cn_report_calcification){.center = {cx, cy},
                                                       .outline = f->outlines[k],
                                                       .outline_count = 4,
                                                       .area_mm2 = 0.02 * (k + 1)};
    }
    f->hull[0] = (struct cn_report_point){x0 - 1, y0 - 1};
    f->hull[1] = (struct cn_report_point){x0 + 7, y0 - 1};
    f->hull[2] = (struct cn_report_point){x0 + 7, y0 + 5};
    f->hull[3] = (struct cn_report_point){x0 - 1, y0 + 5};
    for (uint32_t k = 0; k < 3; k++) {
        f->members0[k] = k;
        f->members1[k] = k + 3;
    }
    f->clusters[0] = (struct cn_report_cluster){
        .center = {x0 + 3, y0 + 2},
        .bbox_px = {(uint32_t)x0 - 1, (uint32_t)y0 - 1, (uint32_t)x0 + 7, (uint32_t)y0 + 5},
        .outline = f->hull,
        .outline_count = 4,
        .calcification_count = 3,
        .area_mm2 = 1.5,
        .mean_calcification_area_mm2 = 0.04,
        .density_per_cm2 = 200.0,
        .has_score = 1,
        .score = 0.42,
        .category = "4B",
        .description = "punctate, grouped",
        .members = f->members0,
        .member_count = 3,
        .tracking_uid = NULL};
    f->clusters[1] = (struct cn_report_cluster){
        .center = {x0 + 23, y0 + 32},
        .bbox_px = {(uint32_t)x0 + 19, (uint32_t)y0 + 29, (uint32_t)x0 + 27, (uint32_t)y0 + 35},
        .outline = NULL,
        .outline_count = 0,
        .calcification_count = 3,
        .area_mm2 = 2.25,
        .mean_calcification_area_mm2 = 0.1,
        .density_per_cm2 = 133.0,
        .has_score = 0,
        .score = 0,
        .category = NULL,
        .description = NULL,
        .members = f->members1,
        .member_count = 3,
        .tracking_uid = "1.2.826.0.1.3680043.10.1000.77.2"};
    f->image = (struct cn_report_image){.path = path,
                                        .analysed = 1,
                                        .failure_reason = NULL,
                                        .clusters = f->clusters,
                                        .cluster_count = SR_CLUSTER_COUNT,
                                        .calcifications = f->calcs,
                                        .calcification_count = SR_CALC_COUNT,
                                        .seg_sop_instance_uid = "1.2.826.0.1.3680043.10.1000.9.1",
                                        .seg_series_instance_uid = "1.2.826.0.1.3680043.10.1000.9",
                                        .seg_segment_number = 1};
    f->study = (struct cn_report_study){.images = &f->image,
                                        .image_count = 1,
                                        .algorithm_name = "calcnode HDoG",
                                        .algorithm_version = "0.1.0",
                                        .manufacturer = NULL,
                                        .device_observer_uid = "1.2.826.0.1.3680043.10.1000.5",
                                        .analysis_failed = 0,
                                        .failure_reason = NULL,
                                        .has_study_score = 1,
                                        .study_score = 0.42,
                                        .study_category = "4B",
                                        .operating_point_count = 3,
                                        .operating_point = 2,
                                        .content_date = NULL,
                                        .content_time = NULL};
}

static inline struct cn_report_object sr_object(const char *series, const char *instance)
{
    struct cn_report_object o = {.series_instance_uid = series,
                                 .sop_instance_uid = instance,
                                 .series_number = 902,
                                 .instance_number = 1,
                                 .series_description = NULL,
                                 .predecessor_series_instance_uid = NULL,
                                 .predecessor_sop_instance_uid = NULL};
    return o;
}

#endif
