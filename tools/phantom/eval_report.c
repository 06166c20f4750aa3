/* Evaluation output: a table for people, JSON for scripts. */
#include "eval.h"

#include <jansson.h>

static void print_counts_row(FILE *f, const char *name, const struct cn_eval_counts *c,
                             int has_findings)
{
    char dice[16] = "-";
    if (c->has_dice)
        snprintf(dice, sizeof dice, "%.3f", cn_eval_dice(c));
    fprintf(f, "%-40.40s %5zu/%-5zu %6.3f %6.3f %6.3f %6zu %7.3f %4zu/%-4zu %4zu/%-4zu %5zu %6s%s\n",
            name, c->found_calcs, c->truth_calcs,
            cn_eval_sensitivity(c->found_calcs, c->truth_calcs),
            cn_eval_sensitivity(c->found_malignant, c->truth_malignant),
            cn_eval_sensitivity(c->found_benign, c->truth_benign), c->false_positives,
            cn_eval_fp_per_cm2(c), c->found_malignant_clusters, c->truth_malignant_clusters,
            c->flagged_benign_clusters, c->truth_benign_clusters, c->false_positive_clusters,
            dice, has_findings ? "" : "  (no findings)");
}

void cn_eval_print_table(const struct cn_eval_result *res, const struct cn_eval_options *opts,
                         FILE *f)
{
    fprintf(f, "match: %.3g mm (calcifications), %.3g mm (clusters)\n", opts->match_mm,
            opts->cluster_match_mm);
    fprintf(f, "%-40s %11s %6s %6s %6s %6s %7s %9s %9s %5s %6s\n", "image", "found/calcs",
            "sens", "malig", "benign", "FP", "FP/cm2", "mal.clus", "ben.flag", "FPclu", "dice");
    for (size_t i = 0; i < res->image_count; i++)
        print_counts_row(f, res->images[i].stem, &res->images[i].counts,
                         res->images[i].has_findings);
    print_counts_row(f, "TOTAL", &res->total, 1);
    fprintf(f, "breast area %.2f cm2, %zu detections, %zu detected clusters, "
               "%.3f false-positive clusters per image\n",
            res->total.breast_area_cm2, res->total.detections, res->total.detected_clusters,
            res->image_count ? (double)res->total.false_positive_clusters / res->image_count
                             : 0.0);
    fprintf(f, "sensitivity by morphology:");
    for (int m = 0; m < CN_EVAL_MORPHOLOGIES; m++)
        if (res->total.truth_by_morphology[m] > 0)
            fprintf(f, " %s %zu/%zu %.3f", cn_eval_morphology_names[m],
                    res->total.found_by_morphology[m], res->total.truth_by_morphology[m],
                    cn_eval_sensitivity(res->total.found_by_morphology[m],
                                        res->total.truth_by_morphology[m]));
    fputc('\n', f);
    if (res->unmatched_findings)
        fprintf(f, "%zu findings images matched no truth image\n", res->unmatched_findings);
    if (res->has_froc) {
        fprintf(f, "FROC (%zu operating points): sensitivity at", res->froc_count);
        for (int r = 0; r < CN_EVAL_FROC_RATES; r++)
            fprintf(f, " %.3g FP/cm2 = %.3f%s", cn_eval_froc_rates[r], res->sensitivity_at[r],
                    r + 1 < CN_EVAL_FROC_RATES ? "," : "\n");
    } else {
        fprintf(f, "FROC: not available (detections without a score)\n");
    }
}

static json_t *counts_json(const struct cn_eval_counts *c, size_t image_count)
{
    json_t *o = json_pack(
        "{s:I, s:I, s:f, s:I, s:I, s:f, s:I, s:I, s:f, s:I, s:I, s:f, s:f, s:I, s:I, s:f, s:I, "
        "s:I, s:I, s:I}",
        "truth_calcifications", (json_int_t)c->truth_calcs, "found_calcifications",
        (json_int_t)c->found_calcs, "sensitivity",
        cn_eval_sensitivity(c->found_calcs, c->truth_calcs), "truth_malignant",
        (json_int_t)c->truth_malignant, "found_malignant", (json_int_t)c->found_malignant,
        "sensitivity_malignant", cn_eval_sensitivity(c->found_malignant, c->truth_malignant),
        "truth_benign", (json_int_t)c->truth_benign, "found_benign", (json_int_t)c->found_benign,
        "sensitivity_benign", cn_eval_sensitivity(c->found_benign, c->truth_benign),
        "detections", (json_int_t)c->detections, "false_positives",
        (json_int_t)c->false_positives, "breast_area_cm2", c->breast_area_cm2, "fp_per_cm2",
        cn_eval_fp_per_cm2(c), "truth_malignant_clusters",
        (json_int_t)c->truth_malignant_clusters, "found_malignant_clusters",
        (json_int_t)c->found_malignant_clusters, "cluster_sensitivity_malignant",
        cn_eval_sensitivity(c->found_malignant_clusters, c->truth_malignant_clusters),
        "truth_benign_clusters", (json_int_t)c->truth_benign_clusters,
        "flagged_benign_clusters", (json_int_t)c->flagged_benign_clusters, "detected_clusters",
        (json_int_t)c->detected_clusters, "false_positive_clusters",
        (json_int_t)c->false_positive_clusters);
    if (!o)
        return NULL;
    json_object_set_new(o, "false_positive_clusters_per_image",
                        json_real(image_count ? (double)c->false_positive_clusters /
                                                    (double)image_count
                                              : 0.0));
    json_object_set_new(o, "dice", c->has_dice ? json_real(cn_eval_dice(c)) : json_null());
    /* only the morphologies present in the truth */
    json_t *by_morphology = json_object();
    for (int m = 0; by_morphology && m < CN_EVAL_MORPHOLOGIES; m++)
        if (c->truth_by_morphology[m] > 0)
            json_object_set_new(by_morphology, cn_eval_morphology_names[m],
                                json_pack("{s:I, s:I, s:f}", "truth",
                                          (json_int_t)c->truth_by_morphology[m], "found",
                                          (json_int_t)c->found_by_morphology[m], "sensitivity",
                                          cn_eval_sensitivity(c->found_by_morphology[m],
                                                              c->truth_by_morphology[m])));
    if (!by_morphology || json_object_set_new(o, "by_morphology", by_morphology) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int cn_eval_print_json(const struct cn_eval_result *res, const struct cn_eval_options *opts,
                       FILE *f)
{
    json_t *images = json_array();
    json_t *root = json_pack("{s:f, s:f, s:o, s:o, s:I}", "match_mm", opts->match_mm,
                             "cluster_match_mm", opts->cluster_match_mm, "total",
                             counts_json(&res->total, res->image_count), "images", images,
                             "unmatched_findings", (json_int_t)res->unmatched_findings);
    int rc = root ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < res->image_count; i++) {
        json_t *img = counts_json(&res->images[i].counts, 1);
        if (!img) {
            rc = -1;
            break;
        }
        json_object_set_new(img, "stem", json_string(res->images[i].stem));
        json_object_set_new(img, "has_findings", json_boolean(res->images[i].has_findings));
        rc = json_array_append_new(images, img);
    }
    if (rc == 0 && res->has_froc) {
        json_t *points = json_array(), *at = json_array();
        for (size_t i = 0; points && i < res->froc_count; i++)
            json_array_append_new(points, json_pack("{s:f, s:f, s:f}", "threshold",
                                                    res->froc[i].threshold, "sensitivity",
                                                    res->froc[i].sensitivity, "fp_per_cm2",
                                                    res->froc[i].fp_per_cm2));
        for (int r = 0; at && r < CN_EVAL_FROC_RATES; r++)
            json_array_append_new(at, json_pack("{s:f, s:f}", "fp_per_cm2",
                                                cn_eval_froc_rates[r], "sensitivity",
                                                res->sensitivity_at[r]));
        rc = json_object_set_new(root, "froc", json_pack("{s:o, s:o}", "points", points,
                                                         "sensitivity_at", at));
    } else if (rc == 0) {
        rc = json_object_set_new(root, "froc", json_null());
    }
    if (rc == 0 && json_dumpf(root, f, JSON_INDENT(1) | JSON_REAL_PRECISION(8)) != 0)
        rc = -1;
    if (rc == 0)
        fputc('\n', f);
    json_decref(root);
    return rc;
}
