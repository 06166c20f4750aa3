/* The truth record of a phantom as JSON (layout in tools/phantom/README.md). */
#include "phantom.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *bbox_json(const uint32_t b[4])
{
    return json_pack("[iiii]", (json_int_t)b[0], (json_int_t)b[1], (json_int_t)b[2],
                     (json_int_t)b[3]);
}

static json_t *calc_json(const struct cn_phantom_image *img, const struct cn_phantom_calc *c)
{
    double mm2_per_px = img->params.spacing_mm * img->params.spacing_mm;
    json_t *o = json_pack("{s:i, s:f, s:f, s:i, s:f, s:o, s:s, s:s, s:f, s:f}", "id",
                          (json_int_t)c->id, "x", c->x_px, "y", c->y_px, "area_px",
                          (json_int_t)c->area_px, "area_mm2", c->area_px * mm2_per_px, "bbox",
                          bbox_json(c->bbox), "kind", cn_phantom_calc_kind_name(c->kind),
                          "morphology", c->morphology, "size_mm", c->size_mm, "peak_contrast",
                          c->peak_contrast);
    if (o)
        json_object_set_new(o, "cluster", c->cluster_id ? json_integer(c->cluster_id)
                                                        : json_null());
    return o;
}

static json_t *cluster_json(const struct cn_phantom_cluster *cl)
{
    json_t *members = json_array();
    for (size_t i = 0; members && i < cl->member_count; i++)
        json_array_append_new(members, json_integer(cl->member_ids[i]));
    return json_pack("{s:i, s:s, s:s, s:f, s:f, s:o, s:i, s:o}", "id", (json_int_t)cl->id,
                     "label", cn_phantom_calc_kind_name(cl->label), "distribution",
                     cl->distribution, "x", cl->x_px, "y", cl->y_px, "bbox",
                     bbox_json(cl->bbox), "count", (json_int_t)cl->member_count, "members",
                     members);
}

int cn_phantom_truth_write(const struct cn_phantom_image *img, const char *path,
                           const char *dicom_file, const char *sop_instance_uid, char *err,
                           size_t err_len)
{
    const struct cn_phantom_params *p = &img->params;
    double mm2_per_px = p->spacing_mm * p->spacing_mm;
    char laterality[2] = {p->laterality, 0};
    json_t *image = json_pack(
        "{s:i, s:i, s:[f,f], s:i, s:s, s:s, s:s, s:i, s:f, s:f, s:f, s:s}", "rows",
        (json_int_t)p->rows, "columns", (json_int_t)p->columns, "pixel_spacing_mm",
        p->spacing_mm, p->spacing_mm, "bits_stored", (json_int_t)p->bits, "laterality",
        laterality, "view", cn_phantom_view_name(p->view), "kind", cn_phantom_kind_name(p->kind),
        "breast_area_px", (json_int_t)img->breast_area_px, "breast_area_mm2",
        img->breast_area_px * mm2_per_px, "pectoral_area_mm2",
        img->pectoral_area_px * mm2_per_px, "texture_beta", img->beta, "patient_orientation",
        img->patient_orientation);
    json_t *calcs = json_array(), *clusters = json_array();
    json_t *root = json_pack("{s:i, s:s, s:I, s:o, s:o, s:o}", "format_version", 1,
                             "generator", "calcnode phantom", "seed", (json_int_t)p->seed,
                             "image", image, "calcifications", calcs, "clusters", clusters);
    int rc = root ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < img->calc_count; i++)
        rc = json_array_append_new(calcs, calc_json(img, &img->calcs[i]));
    for (size_t i = 0; rc == 0 && i < img->cluster_count; i++)
        rc = json_array_append_new(clusters, cluster_json(&img->clusters[i]));
    if (rc == 0 && dicom_file)
        rc = json_object_set_new(root, "dicom_file", json_string(dicom_file));
    if (rc == 0 && sop_instance_uid)
        rc = json_object_set_new(root, "sop_instance_uid", json_string(sop_instance_uid));
    if (rc != 0) {
        snprintf(err, err_len, "could not build truth record for \"%s\"", path);
        json_decref(root);
        return -1;
    }
    if (json_dump_file(root, path, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0) {
        snprintf(err, err_len, "could not write truth file \"%s\"", path);
        json_decref(root);
        return -1;
    }
    json_decref(root);
    return 0;
}
