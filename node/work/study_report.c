#include "work/study_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/report.h"
#include "ul/sop.h"
#include "util/uid.h"
#include "work/results.h"

#define SR_SERIES_TID1500 9002
#define SR_SERIES_CAD 9003
#define GSPS_SERIES 9004
#define COMPREHENSIVE_SR_SOP_CLASS_UID "1.2.840.10008.5.1.4.1.1.88.33"
#define MAMMOGRAPHY_CAD_SR_SOP_CLASS_UID "1.2.840.10008.5.1.4.1.1.88.50"
#define GSPS_SOP_CLASS_UID "1.2.840.10008.5.1.4.1.1.11.1"
#define ALGORITHM_NAME "calcnode calcification detection"
#define DESCRIPTION_SIZE 96

static void derive(const char *kind, const char *subject, const char *run, char out[65])
{
    const char *parts[] = {kind, subject, CA_VERSION_STRING, run};
    if (cn_uid_derive(parts, 4, out) != 0)
        out[0] = '\0';
}

int cn_study_report_is_analysable_class(const char *sop_class_uid)
{
    return cn_sop_is_analysed_class(sop_class_uid);
}

void cn_study_report_seg_series(const char *study_instance_uid, const char *run,
                                char uid_out[65])
{
    derive("calcnode seg series", study_instance_uid, run, uid_out);
}

/* The per-image pieces report.h borrows, kept alive for the writers' calls. */
struct image_parts {
    struct cn_report_cluster *clusters;
    struct cn_report_calcification *calcifications;
    struct cn_report_point *calc_outlines; /* 4 per calcification: its bounding box */
    char (*descriptions)[DESCRIPTION_SIZE];
};

static void free_parts(struct image_parts *parts, size_t count)
{
    for (size_t i = 0; parts && i < count; i++) {
        free(parts[i].clusters);
        free(parts[i].calcifications);
        free(parts[i].calc_outlines);
        free(parts[i].descriptions);
    }
    free(parts);
}

static int fill_image(const struct cn_study_image *in, struct cn_report_image *out,
                      struct image_parts *parts, const char *seg_series)
{
    memset(out, 0, sizeof *out);
    out->path = in->path;
    if (!in->image) {
        out->analysed = 0;
        out->failure_reason = in->failure_reason;
        return 0;
    }
    const struct ca_result *r = &in->image->result;
    out->analysed = 1;
    out->seg_sop_instance_uid = in->seg_sop_instance_uid;
    out->seg_series_instance_uid = in->seg_sop_instance_uid ? seg_series : NULL;
    out->seg_segment_number = 1;
    size_t calc_count = r->calcification_count;
    if (calc_count > CN_REPORT_MAX_CALCIFICATIONS)
        calc_count = CN_REPORT_MAX_CALCIFICATIONS;
    size_t cluster_count = r->cluster_count;
    if (cluster_count > CN_REPORT_MAX_CLUSTERS)
        cluster_count = CN_REPORT_MAX_CLUSTERS;
    parts->calcifications = calloc(calc_count ? calc_count : 1, sizeof *parts->calcifications);
    parts->calc_outlines = calloc(calc_count ? 4 * calc_count : 1, sizeof *parts->calc_outlines);
    parts->clusters = calloc(cluster_count ? cluster_count : 1, sizeof *parts->clusters);
    parts->descriptions = calloc(cluster_count ? cluster_count : 1, sizeof *parts->descriptions);
    if (!parts->calcifications || !parts->calc_outlines || !parts->clusters || !parts->descriptions)
        return -1;
    for (size_t i = 0; i < calc_count; i++) {
        const struct ca_calcification *c = &r->calcifications[i];
        struct cn_report_point *box = &parts->calc_outlines[4 * i];
        /* the outline of a calcification: the boundary of its pixels' bounding box */
        box[0] = (struct cn_report_point){c->bbox[0] - 0.5, c->bbox[1] - 0.5};
        box[1] = (struct cn_report_point){c->bbox[2] + 0.5, c->bbox[1] - 0.5};
        box[2] = (struct cn_report_point){c->bbox[2] + 0.5, c->bbox[3] + 0.5};
        box[3] = (struct cn_report_point){c->bbox[0] - 0.5, c->bbox[3] + 0.5};
        parts->calcifications[i] = (struct cn_report_calcification){
            .center = {c->x_px, c->y_px},
            .outline = box,
            .outline_count = 4,
            .area_mm2 = c->area_mm2,
        };
    }
    const struct ca_features *f = &in->image->features;
    size_t reported = 0;
    for (size_t k = 0; k < cluster_count; k++) {
        const struct ca_cluster *c = &r->clusters[k];
        /* Only reported clusters reach the radiologist's reports (work/pipeline.h: probable
         * enough with a model, calc/analysis.h's rule without one): no storm of false
         * alarms. Every cluster is in findings.json. */
        const struct cn_cluster_assessment *a =
            in->image->assessments ? &in->image->assessments[k] : NULL;
        if (!(a ? a->reported : c->suspicious))
            continue;
        double hull_mm2 = k < f->cluster_count
                              ? f->cluster[k * CA_CLUSTER_FEATURE_COUNT + CA_KF_HULL_AREA_MM2]
                              : 0.0;
        if (a)
            snprintf(parts->descriptions[reported], DESCRIPTION_SIZE, "%s calcifications, %s",
                     ca_morphology_name((int)a->description.morphology),
                     ca_distribution_name((int)a->description.distribution));
        parts->clusters[reported] = (struct cn_report_cluster){
            .center = {c->x_px, c->y_px},
            .bbox_px = {c->bbox[0], c->bbox[1], c->bbox[2], c->bbox[3]},
            .calcification_count = c->count,
            .area_mm2 = hull_mm2 > 0 ? hull_mm2 : c->area_mm2,
            .mean_calcification_area_mm2 = c->count ? c->area_mm2 / c->count : -1.0,
            .density_per_cm2 = hull_mm2 > 0 ? c->count / (hull_mm2 / 100.0) : -1.0,
            .has_score = a && a->has_score,
            .score = a && a->has_score ? a->score : 0.0,
            .category = a ? a->category : NULL,
            .description = a ? parts->descriptions[reported] : NULL,
            .members = c->members,
            .member_count = c->count,
        };
        reported++;
    }
    out->clusters = parts->clusters;
    out->cluster_count = reported;
    out->calcifications = parts->calcifications;
    out->calcification_count = calc_count;
    return 0;
}

static void add_output(json_t *outputs, const char *path, const char *sop_class,
                       const char *sop_uid, const char *kind)
{
    if (outputs)
        json_array_append_new(outputs, json_pack("{ssssssss}", "path", path, "sop_class_uid",
                                                 sop_class, "sop_instance_uid", sop_uid, "kind",
                                                 kind));
}

int cn_study_report_write(const struct cn_study_report_request *request, json_t *outputs,
                          char *err, size_t err_len)
{
    size_t count = request->image_count;
    if (count == 0 || count > CN_REPORT_MAX_IMAGES) {
        snprintf(err, err_len, "study %s: %zu images cannot be reported (1 to %d)",
                 request->study_instance_uid, count, CN_REPORT_MAX_IMAGES);
        return -1;
    }
    char run[16], previous_run[16];
    snprintf(run, sizeof run, "%d", request->run_number);
    snprintf(previous_run, sizeof previous_run, "%d", request->run_number - 1);
    char seg_series[65];
    cn_study_report_seg_series(request->study_instance_uid, run, seg_series);

    struct cn_report_image *images = calloc(count, sizeof *images);
    struct image_parts *parts = calloc(count, sizeof *parts);
    if (!images || !parts) {
        free(images);
        free(parts);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int analysed = 0, has_score = 0;
    double study_score = 0.0;
    const char *study_category = NULL;
    for (size_t i = 0; i < count; i++) {
        if (fill_image(&request->images[i], &images[i], &parts[i], seg_series) != 0) {
            free_parts(parts, count);
            free(images);
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        const struct cn_pipeline_image *img = request->images[i].image;
        if (!img)
            continue;
        analysed++;
        if (img->has_max_score && (!has_score || img->max_score > study_score)) {
            has_score = 1;
            study_score = img->max_score;
            study_category = img->max_category;
        }
    }
    char device_uid[65];
    derive("calcnode device", "calcnode", "0", device_uid);
    struct cn_report_study study = {
        .images = images,
        .image_count = count,
        .algorithm_name = ALGORITHM_NAME,
        .algorithm_version = CA_VERSION_STRING,
        .device_observer_uid = device_uid,
        .analysis_failed = analysed == 0,
        .failure_reason = analysed == 0 ? "no image of the study could be analysed" : NULL,
        .has_study_score = has_score,
        .study_score = study_score,
        .study_category = study_category,
    };

    /* The measurement report describes what was measured: the analysed images only (a
     * failed image's file may not even be readable); the CAD SR lists every image, with
     * the failed ones as not analysed. */
    struct cn_report_image *measured = calloc(count, sizeof *measured);
    size_t measured_count = 0;
    if (!measured) {
        free_parts(parts, count);
        free(images);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        if (images[i].analysed)
            measured[measured_count++] = images[i];
    struct cn_report_study measured_study = study;
    measured_study.images = measured;
    measured_study.image_count = measured_count;

    int rc = 0;
    struct {
        const char *kind, *file, *sop_class, *description;
        int series_number;
        int (*write)(const char *, const struct cn_report_study *,
                     const struct cn_report_object *, char *, size_t);
    } const srs[] = {
        {"tid1500", "measurement-report.dcm", COMPREHENSIVE_SR_SOP_CLASS_UID,
         "Calcification measurements (calcnode)", SR_SERIES_TID1500, cn_report_write_measurements},
        {"cad", "cad-report.dcm", MAMMOGRAPHY_CAD_SR_SOP_CLASS_UID, "Mammography CAD (calcnode)",
         SR_SERIES_CAD, cn_report_write_cad},
    };
    for (size_t s = 0; s < sizeof srs / sizeof srs[0] && rc == 0; s++) {
        /* the measurement report needs findings; the CAD SR is written even on failure */
        if (analysed == 0 && srs[s].write != cn_report_write_cad)
            continue;
        char series_kind[48], series_uid[65], sop_uid[65], prev_series[65], prev_sop[65];
        snprintf(series_kind, sizeof series_kind, "calcnode %s series", srs[s].kind);
        derive(series_kind, request->study_instance_uid, run, series_uid);
        derive(srs[s].kind, request->study_instance_uid, run, sop_uid);
        derive(series_kind, request->study_instance_uid, previous_run, prev_series);
        derive(srs[s].kind, request->study_instance_uid, previous_run, prev_sop);
        struct cn_report_object object = {
            .series_instance_uid = series_uid,
            .sop_instance_uid = sop_uid,
            .series_number = srs[s].series_number,
            .instance_number = request->run_number,
            .series_description = srs[s].description,
            .predecessor_series_instance_uid = request->run_number > 1 ? prev_series : NULL,
            .predecessor_sop_instance_uid = request->run_number > 1 ? prev_sop : NULL,
        };
        char path[4096], detail[512];
        snprintf(path, sizeof path, "%s/%s%s", request->output_dir,
                 request->file_prefix ? request->file_prefix : "", srs[s].file);
        const struct cn_report_study *content =
            srs[s].write == cn_report_write_cad ? &study : &measured_study;
        if (srs[s].write(path, content, &object, detail, sizeof detail) != 0) {
            snprintf(err, err_len, "study %s: could not write %s: %s", request->study_instance_uid,
                     srs[s].file, detail);
            rc = -1;
            break;
        }
        add_output(outputs, path, srs[s].sop_class, sop_uid, srs[s].kind);
    }
    if (rc == 0 && request->write_gsps) {
        char series_uid[65];
        derive("calcnode gsps series", request->study_instance_uid, run, series_uid);
        for (size_t i = 0; i < count && rc == 0; i++) {
            const struct cn_pipeline_image *img = request->images[i].image;
            if (!img || img->is_pgm)
                continue;
            char sop_uid[65], stem[1024], path[4096], detail[512];
            derive("calcnode gsps", img->header.sop_instance_uid, run, sop_uid);
            cn_results_stem(img->source, stem, sizeof stem);
            snprintf(path, sizeof path, "%s/%s.gsps.dcm", request->output_dir, stem);
            struct cn_report_object object = {
                .series_instance_uid = series_uid,
                .sop_instance_uid = sop_uid,
                .series_number = GSPS_SERIES,
                .instance_number = (int32_t)i + 1,
                .series_description = "Calcification clusters (calcnode)",
            };
            if (cn_report_write_gsps(path, &study, i, &object, detail, sizeof detail) != 0) {
                snprintf(err, err_len, "%s: could not write the presentation state: %s",
                         img->source, detail);
                rc = -1;
                break;
            }
            add_output(outputs, path, GSPS_SOP_CLASS_UID, sop_uid, "gsps");
        }
    }
    free(measured);
    free_parts(parts, count);
    free(images);
    return rc;
}
