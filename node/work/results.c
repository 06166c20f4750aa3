#include "work/results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dcm/seg_writer.h"
#include "util/uid.h"
#include "work/study_report.h"

/* Series numbers of the objects calcnode adds to a study. */
#define SEG_SERIES_NUMBER 9001

void cn_results_stem(const char *path, char *buf, size_t buf_len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, buf_len, "%s", base);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
}

static json_t *bbox_json(const uint32_t bbox[4])
{
    return json_pack("[iiii]", (json_int_t)bbox[0], (json_int_t)bbox[1], (json_int_t)bbox[2],
                     (json_int_t)bbox[3]);
}

/* Rounds to 4 decimals so that findings.json is stable and readable. */
static json_t *real4(double value)
{
    return json_real(round(value * 1e4) / 1e4);
}

static json_t *calcification_json(const struct ca_calcification *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "x", real4(c->x_px));
    json_object_set_new(o, "y", real4(c->y_px));
    json_object_set_new(o, "area_px", json_integer(c->area_px));
    json_object_set_new(o, "area_mm2", real4(c->area_mm2));
    json_object_set_new(o, "bbox", bbox_json(c->bbox));
    json_object_set_new(o, "diameter_mm", real4(c->diameter_mm));
    json_object_set_new(o, "elongation", real4(c->elongation));
    json_object_set_new(o, "linear", json_boolean(c->linear));
    json_object_set_new(o, "scale_mm", real4(c->scale_mm));
    json_object_set_new(o, "contrast", real4(c->contrast));
    json_object_set_new(o, "score", real4(c->contrast));
    /* the second stage's log odds for a detection below contrast_min (null above it):
       why a faint detection did or did not join a cluster (cluster_score_min) */
    json_object_set_new(o, "second_stage_score", isinf(c->second_stage_score)
                                                     ? json_null()
                                                     : real4(c->second_stage_score));
    json_object_set_new(o, "mean_intensity", real4(c->mean_intensity));
    json_object_set_new(o, "cluster", c->cluster >= 0 ? json_integer(c->cluster) : json_null());
    json_object_set_new(o, "in_segmentation", json_boolean(c->in_segmentation));
    return o;
}

static json_t *cluster_features_json(const struct ca_features *f, size_t index)
{
    json_t *o = json_object();
    const double *row = f->cluster + index * CA_CLUSTER_FEATURE_COUNT;
    for (size_t i = 0; i < CA_CLUSTER_FEATURE_COUNT; i++)
        json_object_set_new(o, ca_cluster_feature_name(i), json_real(row[i]));
    return o;
}

static json_t *assessment_json(json_t *o, const struct cn_cluster_assessment *a)
{
    json_object_set_new(o, "score", a->has_score ? real4(a->score) : json_null());
    json_object_set_new(o, "category", a->category ? json_string(a->category) : json_null());
    json_object_set_new(o, "reported", json_boolean(a->reported));
    json_object_set_new(o, "descriptors",
                        json_pack("{sssssb}", "morphology",
                                  ca_morphology_name((int)a->description.morphology),
                                  "distribution",
                                  ca_distribution_name((int)a->description.distribution),
                                  "clearly_benign", a->description.clearly_benign != 0));
    return o;
}

static json_t *cluster_json(const struct ca_cluster *k, size_t index)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer((json_int_t)index));
    json_object_set_new(o, "x", real4(k->x_px));
    json_object_set_new(o, "y", real4(k->y_px));
    json_object_set_new(o, "bbox", bbox_json(k->bbox));
    json_object_set_new(o, "count", json_integer(k->count));
    json_object_set_new(o, "area_mm2", real4(k->area_mm2));
    json_object_set_new(o, "rule_tong", json_boolean(k->rule_tong));
    json_object_set_new(o, "rule_birads", json_boolean(k->rule_birads));
    json_object_set_new(o, "suspicious", json_boolean(k->suspicious));
    json_object_set_new(o, "small_group", json_boolean(k->small_group));
    json_t *members = json_array();
    for (uint32_t i = 0; i < k->count; i++)
        json_array_append_new(members, json_integer((json_int_t)k->members[i] + 1));
    json_object_set_new(o, "members", members);
    json_object_set_new(o, "score", json_null());
    json_object_set_new(o, "category", json_null());
    return o;
}

json_t *cn_results_image_json(const struct cn_pipeline_image *record)
{
    const struct ca_result *r = &record->result;
    const struct cn_dcm_image *img = &record->image;
    json_t *o = json_object();
    json_object_set_new(o, "source", json_string(record->source));
    const struct cn_dcm_header *h = record->is_pgm ? NULL : &record->header;
    json_object_set_new(o, "sop_instance_uid", h ? json_string(h->sop_instance_uid) : json_null());
    json_object_set_new(o, "study_instance_uid",
                        h ? json_string(h->study_instance_uid) : json_null());
    json_object_set_new(o, "rows", json_integer(img->rows));
    json_object_set_new(o, "columns", json_integer(img->columns));
    json_object_set_new(o, "pixel_spacing_mm", json_pack("[ff]", img->pixel_spacing_mm[0],
                                                         img->pixel_spacing_mm[1]));
    json_object_set_new(o, "laterality", json_string(img->image_laterality));
    json_object_set_new(o, "view", json_string(img->view_position));
    json_object_set_new(o, "breast_area_mm2", real4(r->breast_area_mm2));
    json_object_set_new(o, "noise_sigma", json_real(r->noise_sigma));
    json_object_set_new(o, "candidates", json_integer(r->candidate_count));
    json_t *calcs = json_array();
    for (size_t i = 0; i < r->calcification_count; i++)
        json_array_append_new(calcs, calcification_json(&r->calcifications[i]));
    json_object_set_new(o, "calcifications", calcs);
    json_t *clusters = json_array();
    for (size_t i = 0; i < r->cluster_count; i++) {
        json_t *cluster = cluster_json(&r->clusters[i], i);
        if (record->assessments)
            assessment_json(cluster, &record->assessments[i]);
        if (i < record->features.cluster_count)
            json_object_set_new(cluster, "features",
                                cluster_features_json(&record->features, i));
        json_array_append_new(clusters, cluster);
    }
    json_object_set_new(o, "clusters", clusters);
    json_object_set_new(o, "max_score",
                        record->has_max_score ? real4(record->max_score) : json_null());
    json_object_set_new(o, "max_category", record->max_category
                                               ? json_string(record->max_category)
                                               : json_null());
    json_object_set_new(o, "decode_ms", json_real(round(record->decode_ms * 10) / 10));
    json_object_set_new(o, "analysis_ms", json_real(round(record->analysis_ms * 10) / 10));
    json_object_set_new(o, "features_ms", json_real(round(record->features_ms * 100) / 100));
    json_object_set_new(o, "scoring_ms", json_real(round(record->scoring_ms * 100) / 100));
    return o;
}

static int write_file_atomically(const char *path, const void *data, size_t len, char *err,
                                 size_t err_len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, err_len, "could not create \"%s\": %s", tmp, strerror(errno));
        return -1;
    }
    int ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, err_len, "could not write \"%s\": %s", path, strerror(ok ? errno : saved));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* One record per study among the images: the study's most suspicious cluster (issue:
 * each image and the study carry the maximum). */
static json_t *studies_json(json_t *images)
{
    json_t *studies = json_array();
    size_t i;
    json_t *image;
    json_array_foreach(images, i, image)
    {
        const char *uid = json_string_value(json_object_get(image, "study_instance_uid"));
        if (!uid)
            continue;
        json_t *study = NULL;
        size_t k;
        json_t *s;
        json_array_foreach(studies, k, s)
        {
            if (strcmp(json_string_value(json_object_get(s, "study_instance_uid")), uid) == 0)
                study = s;
        }
        if (!study) {
            study = json_pack("{sssisnsn}", "study_instance_uid", uid, "images", 0,
                              "max_score", "max_category");
            json_array_append_new(studies, study);
        }
        json_object_set_new(study, "images",
                            json_integer(json_integer_value(json_object_get(study, "images")) + 1));
        json_t *score = json_object_get(image, "max_score");
        json_t *best = json_object_get(study, "max_score");
        if (json_is_number(score) &&
            (!json_is_number(best) || json_number_value(score) > json_number_value(best))) {
            json_object_set(study, "max_score", score);
            json_object_set(study, "max_category", json_object_get(image, "max_category"));
        }
    }
    return studies;
}

int cn_results_write_findings(const char *output_dir, json_t *images, char *err,
                              size_t err_len)
{
    json_t *root = json_pack("{sOso}", "images", images, "studies", studies_json(images));
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!text) {
        snprintf(err, err_len, "could not encode findings.json");
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/findings.json", output_dir);
    size_t len = strlen(text);
    text[len] = '\0';
    int rc = write_file_atomically(path, text, len, err, err_len);
    free(text);
    return rc;
}

int cn_results_write_mask(const char *output_dir, const struct cn_pipeline_image *record,
                          char *err, size_t err_len)
{
    const struct ca_result *r = &record->result;
    char stem[1024], path[4096];
    cn_results_stem(record->source, stem, sizeof stem);
    snprintf(path, sizeof path, "%s/%s.mask.pgm", output_dir, stem);
    char head[64];
    int head_len = snprintf(head, sizeof head, "P5\n%u %u\n65535\n", r->columns, r->rows);
    size_t pixels = (size_t)r->rows * r->columns;
    size_t len = (size_t)head_len + 2 * pixels;
    uint8_t *buf = malloc(len);
    if (!buf) {
        snprintf(err, err_len, "out of memory writing \"%s\"", path);
        return -1;
    }
    memcpy(buf, head, (size_t)head_len);
    uint8_t *p = buf + head_len;
    for (size_t i = 0; i < pixels; i++) {
        uint32_t l = ca_segmentation_label(r, i);
        uint32_t v = l > 65535u ? 65535u : l;
        p[2 * i] = (uint8_t)(v >> 8); /* PGM: most significant byte first */
        p[2 * i + 1] = (uint8_t)(v & 0xff);
    }
    int rc = write_file_atomically(path, buf, len, err, err_len);
    free(buf);
    return rc;
}

int cn_results_write_seg(const char *output_dir, const struct cn_pipeline_image *record,
                         int instance_number, const char *run, char *sop_uid_out,
                         char *path_out, size_t path_len, char *err, size_t err_len)
{
    const struct cn_dcm_header *h = record->is_pgm ? NULL : &record->header;
    char stem[1024], path[4096];
    cn_results_stem(record->source, stem, sizeof stem);
    snprintf(path, sizeof path, "%s/%s.seg.dcm", output_dir, stem);
    char series_uid[CN_UID_BUFFER_SIZE], sop_uid[CN_UID_BUFFER_SIZE];
    const char *sop_parts[] = {"calcnode seg", h->sop_instance_uid, CA_VERSION_STRING,
                               run};
    cn_study_report_seg_series(h->study_instance_uid, run, series_uid);
    if (!series_uid[0] || cn_uid_derive(sop_parts, 4, sop_uid) != 0) {
        snprintf(err, err_len, "could not derive the UIDs of \"%s\"", path);
        return -1;
    }
    /* the SEG paints the calcifications in the segmentation only (ca_segmentation_label) */
    const struct ca_result *r = &record->result;
    if (!r->labels) {
        snprintf(err, err_len, "%s: no calcification labels for the Segmentation",
                 record->source);
        return -1;
    }
    size_t pixels = (size_t)r->rows * r->columns;
    uint8_t *painted = malloc(pixels ? pixels : 1);
    if (!painted) {
        snprintf(err, err_len, "out of memory writing \"%s\"", path);
        return -1;
    }
    for (size_t i = 0; i < pixels; i++)
        painted[i] = ca_segmentation_label(r, i) != 0;
    struct cn_seg_request request = {
        .source_path = record->source,
        .mask = painted,
        .rows = record->result.rows,
        .columns = record->result.columns,
        .algorithm_name = "calcnode calcification detection",
        .algorithm_version = CA_VERSION_STRING,
        .series_instance_uid = series_uid,
        .sop_instance_uid = sop_uid,
        .series_number = SEG_SERIES_NUMBER,
        .series_description = "Calcifications (calcnode)",
        .instance_number = instance_number,
    };
    char detail[512];
    int written = cn_seg_write(path, &request, detail, sizeof detail);
    free(painted);
    if (written != 0) {
        snprintf(err, err_len, "%s: could not write the Segmentation: %s", record->source,
                 detail);
        return -1;
    }
    if (sop_uid_out)
        snprintf(sop_uid_out, CN_UID_BUFFER_SIZE, "%s", sop_uid);
    if (path_out)
        snprintf(path_out, path_len, "%s", path);
    return 0;
}

/* CSV text field: quoted, inner quotes doubled (RFC 4180). */
static void csv_text(FILE *csv, const char *text)
{
    fputc('"', csv);
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '"')
            fputc('"', csv);
        fputc(*p, csv);
    }
    fputc('"', csv);
}

void cn_results_write_feature_header(FILE *csv)
{
    fputs("source,sop_instance_uid,cluster,x,y,x0,y0,x1,y1,count", csv);
    for (size_t i = 0; i < CA_CLUSTER_FEATURE_COUNT; i++)
        fprintf(csv, ",%s", ca_cluster_feature_name(i));
    fputs(",label\n", csv);
}

void cn_results_write_feature_rows(FILE *csv, const struct cn_pipeline_image *record)
{
    const struct ca_result *r = &record->result;
    const struct ca_features *f = &record->features;
    if (!f)
        return;
    for (size_t k = 0; k < r->cluster_count && k < f->cluster_count; k++) {
        const struct ca_cluster *c = &r->clusters[k];
        csv_text(csv, record->source);
        fputc(',', csv);
        csv_text(csv, record->is_pgm ? "" : record->header.sop_instance_uid);
        fprintf(csv, ",%zu,%.4f,%.4f,%u,%u,%u,%u,%u", k, c->x_px, c->y_px, c->bbox[0],
                c->bbox[1], c->bbox[2], c->bbox[3], c->count);
        const double *row = f->cluster + k * CA_CLUSTER_FEATURE_COUNT;
        for (size_t i = 0; i < CA_CLUSTER_FEATURE_COUNT; i++)
            fprintf(csv, ",%.9g", row[i]);
        fputs(",\n", csv);
    }
}
