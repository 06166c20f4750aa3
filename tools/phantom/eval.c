/* Scoring findings against phantom truth (rules in eval.h). */
#include "eval.h"
#include "pgm.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TRUTH_SUFFIX ".truth.json"
#define MASK_SUFFIX ".mask.pgm"
#define PATH_SIZE 4096

const double cn_eval_froc_rates[CN_EVAL_FROC_RATES] = {0.1, 0.2, 0.4, 1.0};
const char *const cn_eval_morphology_names[CN_EVAL_MORPHOLOGIES] = {
    "amorphous", "fine-linear-branching", "pleomorphic", "punctate",
    "round",     "rim",                   "vascular",    "other"};

/* The index of a truth calcification's "morphology" string; "other" when it is missing
 * or not one of the names above. */
static int morphology_index(const json_t *morphology)
{
    const char *name = json_string_value(morphology);
    for (int m = 0; name != NULL && m < CN_EVAL_MORPHOLOGIES - 1; m++)
        if (strcmp(name, cn_eval_morphology_names[m]) == 0)
            return m;
    return CN_EVAL_MORPHOLOGIES - 1;
}

struct truth_calc {
    double x, y;
    int malignant;
    int morphology; /* index into cn_eval_morphology_names */
    int found;
};

struct truth_cluster {
    double x, y, bbox[4];
    int malignant;
};

struct truth {
    char stem[CN_EVAL_STEM_SIZE];
    char sop_uid[72];
    uint32_t rows, columns;
    double spacing_mm[2];
    double breast_area_mm2;
    struct truth_calc *calcs;
    size_t calc_count;
    struct truth_cluster *clusters;
    size_t cluster_count;
    uint16_t *mask; /* rows * columns labels, or NULL */
};

/* A scored detection, pooled over images for the FROC. */
struct scored {
    double score;
    size_t image;
    size_t first_pair, pair_count; /* into the image's matched calc ids */
};

void cn_eval_options_default(struct cn_eval_options *opts)
{
    opts->match_mm = CN_EVAL_DEFAULT_MATCH_MM;
    opts->cluster_match_mm = CN_EVAL_DEFAULT_CLUSTER_MATCH_MM;
    opts->masks_dir = NULL;
}

double cn_eval_sensitivity(size_t found, size_t total)
{
    return total ? (double)found / (double)total : 0.0;
}

double cn_eval_fp_per_cm2(const struct cn_eval_counts *c)
{
    return c->breast_area_cm2 > 0 ? (double)c->false_positives / c->breast_area_cm2 : 0.0;
}

double cn_eval_dice(const struct cn_eval_counts *c)
{
    if (!c->has_dice)
        return -1.0;
    size_t denom = c->dice_truth_px + c->dice_predicted_px;
    return denom ? 2.0 * (double)c->dice_overlap_px / (double)denom : 1.0;
}

static void truth_free(struct truth *t)
{
    free(t->calcs);
    free(t->clusters);
    free(t->mask);
}

static int get_number(const json_t *obj, const char *key, double *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

static int get_bbox(const json_t *obj, double out[4])
{
    const json_t *b = json_object_get(obj, "bbox");
    if (!json_is_array(b) || json_array_size(b) != 4)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        const json_t *v = json_array_get(b, i);
        if (!json_is_number(v))
            return -1;
        out[i] = json_number_value(v);
    }
    return 0;
}

/* The file name without folders and without its extension (after the last '.'). */
static void stem_of(const char *path, char *out, size_t out_len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n >= out_len)
        n = out_len - 1;
    memcpy(out, base, n);
    out[n] = '\0';
}

static int load_truth(const char *dir, const char *file, struct truth *t, char *err,
                      size_t err_len)
{
    char path[PATH_SIZE];
    memset(t, 0, sizeof *t);
    size_t stem_len = strlen(file) - strlen(TRUTH_SUFFIX);
    if (stem_len >= sizeof t->stem) {
        snprintf(err, err_len, "truth file name \"%s\" is too long", file);
        return -1;
    }
    memcpy(t->stem, file, stem_len);
    t->stem[stem_len] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(err, err_len, "could not parse truth file \"%s\": %s (line %d)", path,
                 jerr.text, jerr.line);
        return -1;
    }
    const json_t *image = json_object_get(root, "image");
    const json_t *calcs = json_object_get(root, "calcifications");
    const json_t *clusters = json_object_get(root, "clusters");
    const json_t *spacing = json_object_get(image, "pixel_spacing_mm");
    const json_t *uid = json_object_get(root, "sop_instance_uid");
    double rows, cols;
    int rc = 0;
    if (get_number(image, "rows", &rows) != 0 || get_number(image, "columns", &cols) != 0 ||
        rows < 1 || cols < 1 || rows > CN_PGM_MAX_SIDE_PX || cols > CN_PGM_MAX_SIDE_PX ||
        get_number(image, "breast_area_mm2", &t->breast_area_mm2) != 0 ||
        !json_is_array(spacing) || json_array_size(spacing) != 2 ||
        !json_is_number(json_array_get(spacing, 0)) ||
        !json_is_number(json_array_get(spacing, 1)) || !json_is_array(calcs) ||
        !json_is_array(clusters)) {
        rc = -1;
    } else {
        t->rows = (uint32_t)rows;
        t->columns = (uint32_t)cols;
        t->spacing_mm[0] = json_number_value(json_array_get(spacing, 0));
        t->spacing_mm[1] = json_number_value(json_array_get(spacing, 1));
        if (!(t->spacing_mm[0] > 0 && t->spacing_mm[1] > 0))
            rc = -1;
        if (json_is_string(uid))
            snprintf(t->sop_uid, sizeof t->sop_uid, "%s", json_string_value(uid));
        t->calc_count = json_array_size(calcs);
        t->cluster_count = json_array_size(clusters);
        t->calcs = calloc(t->calc_count + 1, sizeof *t->calcs);
        t->clusters = calloc(t->cluster_count + 1, sizeof *t->clusters);
        if (!t->calcs || !t->clusters)
            rc = -1;
    }
    /* calcification i must carry id i + 1: the mask label */
    for (size_t i = 0; rc == 0 && i < t->calc_count; i++) {
        const json_t *c = json_array_get(calcs, i);
        const json_t *kind = json_object_get(c, "kind");
        double id;
        if (get_number(c, "id", &id) != 0 || id != (double)(i + 1) ||
            get_number(c, "x", &t->calcs[i].x) != 0 || get_number(c, "y", &t->calcs[i].y) != 0 ||
            !json_is_string(kind))
            rc = -1;
        else {
            t->calcs[i].malignant = strcmp(json_string_value(kind), "malignant") == 0;
            t->calcs[i].morphology = morphology_index(json_object_get(c, "morphology"));
        }
    }
    for (size_t i = 0; rc == 0 && i < t->cluster_count; i++) {
        const json_t *c = json_array_get(clusters, i);
        const json_t *label = json_object_get(c, "label");
        if (get_number(c, "x", &t->clusters[i].x) != 0 ||
            get_number(c, "y", &t->clusters[i].y) != 0 ||
            get_bbox(c, t->clusters[i].bbox) != 0 || !json_is_string(label))
            rc = -1;
        else
            t->clusters[i].malignant = strcmp(json_string_value(label), "malignant") == 0;
    }
    json_decref(root);
    if (rc != 0) {
        snprintf(err, err_len, "truth file \"%s\" lacks a required field or has a wrong type",
                 path);
        truth_free(t);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s%s", dir, t->stem, MASK_SUFFIX);
    FILE *probe = fopen(path, "rb");
    if (probe) {
        fclose(probe);
        uint32_t r, c;
        uint16_t maxval;
        if (cn_pgm_read(path, &t->mask, &r, &c, &maxval, err, err_len) != 0) {
            truth_free(t);
            return -1;
        }
        if (r != t->rows || c != t->columns) {
            snprintf(err, err_len, "truth mask \"%s\" is %ux%u, the image %ux%u", path, c, r,
                     t->columns, t->rows);
            truth_free(t);
            return -1;
        }
    }
    return 0;
}

static int compare_truth(const void *a, const void *b)
{
    return strcmp(((const struct truth *)a)->stem, ((const struct truth *)b)->stem);
}

static int load_truth_dir(const char *dir, struct truth **out, size_t *count, char *err,
                          size_t err_len)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_len, "could not open truth directory \"%s\"", dir);
        return -1;
    }
    struct truth *list = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), suffix = strlen(TRUTH_SUFFIX);
        if (len <= suffix || strcmp(e->d_name + len - suffix, TRUTH_SUFFIX) != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            struct truth *grown = cap <= CN_EVAL_MAX_IMAGES ? realloc(list, cap * sizeof *list)
                                                            : NULL;
            if (!grown) {
                snprintf(err, err_len, "too many truth files in \"%s\"", dir);
                rc = -1;
                break;
            }
            list = grown;
        }
        rc = load_truth(dir, e->d_name, &list[n], err, err_len);
        if (rc == 0)
            n++;
    }
    closedir(d);
    if (rc == 0 && n == 0) {
        snprintf(err, err_len, "no truth files (*%s) in \"%s\"", TRUTH_SUFFIX, dir);
        rc = -1;
    }
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            truth_free(&list[i]);
        free(list);
        return -1;
    }
    qsort(list, n, sizeof *list, compare_truth);
    *out = list;
    *count = n;
    return 0;
}

/* Appends to ids[] every calcification matched by a detection at (x, y); returns the
 * number appended (at most cap). */
static size_t match_detection(const struct truth *t, double x, double y, double match_mm,
                              uint32_t *ids, size_t cap)
{
    size_t n = 0;
    double rx = match_mm / t->spacing_mm[1], ry = match_mm / t->spacing_mm[0];
    for (size_t i = 0; i < t->calc_count && n < cap; i++) {
        double dx = (x - t->calcs[i].x) / rx, dy = (y - t->calcs[i].y) / ry;
        if (dx * dx + dy * dy <= 1.0)
            ids[n++] = (uint32_t)(i + 1);
    }
    if (!t->mask)
        return n;
    /* the mask dilated by match_mm: any labelled pixel centre within the ellipse */
    long x0 = (long)floor(x - rx), x1 = (long)ceil(x + rx);
    long y0 = (long)floor(y - ry), y1 = (long)ceil(y + ry);
    for (long yy = y0 < 0 ? 0 : y0; yy <= y1 && yy < (long)t->rows; yy++)
        for (long xx = x0 < 0 ? 0 : x0; xx <= x1 && xx < (long)t->columns; xx++) {
            uint16_t k = t->mask[(size_t)yy * t->columns + (size_t)xx];
            if (k == 0 || k > t->calc_count)
                continue;
            double dx = (xx - x) / rx, dy = (yy - y) / ry;
            if (dx * dx + dy * dy > 1.0)
                continue;
            int seen = 0;
            for (size_t j = 0; j < n; j++)
                seen |= ids[j] == k;
            if (!seen && n < cap)
                ids[n++] = k;
        }
    return n;
}

static int boxes_overlap(const double a[4], const double b[4])
{
    return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

static void add_counts(struct cn_eval_counts *sum, const struct cn_eval_counts *c)
{
    sum->truth_calcs += c->truth_calcs;
    sum->found_calcs += c->found_calcs;
    sum->truth_malignant += c->truth_malignant;
    sum->found_malignant += c->found_malignant;
    sum->truth_benign += c->truth_benign;
    sum->found_benign += c->found_benign;
    for (int m = 0; m < CN_EVAL_MORPHOLOGIES; m++) {
        sum->truth_by_morphology[m] += c->truth_by_morphology[m];
        sum->found_by_morphology[m] += c->found_by_morphology[m];
    }
    sum->detections += c->detections;
    sum->false_positives += c->false_positives;
    sum->breast_area_cm2 += c->breast_area_cm2;
    sum->truth_malignant_clusters += c->truth_malignant_clusters;
    sum->found_malignant_clusters += c->found_malignant_clusters;
    sum->truth_benign_clusters += c->truth_benign_clusters;
    sum->flagged_benign_clusters += c->flagged_benign_clusters;
    sum->detected_clusters += c->detected_clusters;
    sum->false_positive_clusters += c->false_positive_clusters;
    if (c->has_dice) {
        sum->has_dice = 1;
        sum->dice_truth_px += c->dice_truth_px;
        sum->dice_predicted_px += c->dice_predicted_px;
        sum->dice_overlap_px += c->dice_overlap_px;
    }
}

/* Dice against masks_dir/<stem>.mask.pgm, when both masks exist. */
static int score_dice(const struct truth *t, const char *masks_dir, struct cn_eval_counts *c,
                      char *err, size_t err_len)
{
    if (!masks_dir || !t->mask)
        return 0;
    char path[PATH_SIZE];
    snprintf(path, sizeof path, "%s/%s%s", masks_dir, t->stem, MASK_SUFFIX);
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return 0;
    fclose(probe);
    uint16_t *pred;
    uint32_t r, cols;
    uint16_t maxval;
    if (cn_pgm_read(path, &pred, &r, &cols, &maxval, err, err_len) != 0)
        return -1;
    if (r != t->rows || cols != t->columns) {
        snprintf(err, err_len, "predicted mask \"%s\" is %ux%u, the image %ux%u", path, cols, r,
                 t->columns, t->rows);
        free(pred);
        return -1;
    }
    c->has_dice = 1;
    for (size_t i = 0; i < (size_t)r * cols; i++) {
        int a = t->mask[i] != 0, b = pred[i] != 0;
        c->dice_truth_px += a;
        c->dice_predicted_px += b;
        c->dice_overlap_px += a && b;
    }
    free(pred);
    return 0;
}

struct pairs {
    uint32_t *ids;
    size_t count, cap;
};

static int pairs_reserve(struct pairs *p, size_t more)
{
    if (p->count + more <= p->cap)
        return 0;
    size_t cap = p->cap ? p->cap : 256;
    while (cap < p->count + more)
        cap *= 2;
    uint32_t *grown = realloc(p->ids, cap * sizeof *grown);
    if (!grown)
        return -1;
    p->ids = grown;
    p->cap = cap;
    return 0;
}

/* Scores one findings image against truth t. Appends scored detections for the FROC
 * (all_scored stays 1 only while every detection has a score). */
static int score_image(struct truth *t, size_t image_index, const json_t *fimg,
                       const struct cn_eval_options *opts, struct cn_eval_counts *c,
                       struct pairs *pairs, struct scored **scored, size_t *scored_count,
                       size_t *scored_cap, int *all_scored, char *err, size_t err_len)
{
    const json_t *dets = json_object_get(fimg, "calcifications");
    const json_t *clus = json_object_get(fimg, "clusters");
    if ((dets && !json_is_array(dets)) || (clus && !json_is_array(clus))) {
        snprintf(err, err_len, "findings for \"%s\": calcifications and clusters must be arrays",
                 t->stem);
        return -1;
    }
    size_t ndet = dets ? json_array_size(dets) : 0;
    if (ndet > CN_EVAL_MAX_DETECTIONS) {
        snprintf(err, err_len, "findings for \"%s\": %zu detections exceed the limit of %d",
                 t->stem, ndet, CN_EVAL_MAX_DETECTIONS);
        return -1;
    }
    for (size_t i = 0; i < ndet; i++) {
        const json_t *d = json_array_get(dets, i);
        double x, y, score = 0;
        if (get_number(d, "x", &x) != 0 || get_number(d, "y", &y) != 0) {
            snprintf(err, err_len, "findings for \"%s\": calcification %zu lacks numeric x, y",
                     t->stem, i);
            return -1;
        }
        if (get_number(d, "score", &score) != 0)
            *all_scored = 0;
        if (pairs_reserve(pairs, t->calc_count + 1) != 0)
            goto nomem;
        size_t first = pairs->count;
        size_t n = match_detection(t, x, y, opts->match_mm, pairs->ids + first,
                                   t->calc_count + 1);
        pairs->count += n;
        for (size_t j = 0; j < n; j++)
            t->calcs[pairs->ids[first + j] - 1].found = 1;
        c->detections++;
        c->false_positives += n == 0;
        if (*all_scored) {
            if (*scored_count == *scored_cap) {
                size_t cap = *scored_cap ? 2 * *scored_cap : 256;
                struct scored *grown = realloc(*scored, cap * sizeof *grown);
                if (!grown)
                    goto nomem;
                *scored = grown;
                *scored_cap = cap;
            }
            (*scored)[(*scored_count)++] = (struct scored){
                .score = score, .image = image_index, .first_pair = first, .pair_count = n};
        }
    }
    size_t nclu = clus ? json_array_size(clus) : 0;
    int *cluster_found = calloc(t->cluster_count + 1, sizeof *cluster_found);
    if (!cluster_found)
        goto nomem;
    double r_mm2 = opts->cluster_match_mm * opts->cluster_match_mm;
    for (size_t i = 0; i < nclu; i++) {
        const json_t *d = json_array_get(clus, i);
        double x, y, bbox[4];
        int has_bbox = get_bbox(d, bbox) == 0;
        if (get_number(d, "x", &x) != 0 || get_number(d, "y", &y) != 0) {
            snprintf(err, err_len, "findings for \"%s\": cluster %zu lacks numeric x, y",
                     t->stem, i);
            free(cluster_found);
            return -1;
        }
        int matched = 0;
        for (size_t k = 0; k < t->cluster_count; k++) {
            const struct truth_cluster *tc = &t->clusters[k];
            double dx = (x - tc->x) * t->spacing_mm[1], dy = (y - tc->y) * t->spacing_mm[0];
            if ((has_bbox && boxes_overlap(bbox, tc->bbox)) || dx * dx + dy * dy <= r_mm2) {
                cluster_found[k] = 1;
                matched = 1;
            }
        }
        c->detected_clusters++;
        c->false_positive_clusters += !matched;
    }
    for (size_t k = 0; k < t->cluster_count; k++) {
        if (t->clusters[k].malignant)
            c->found_malignant_clusters += (size_t)cluster_found[k];
        else
            c->flagged_benign_clusters += (size_t)cluster_found[k];
    }
    free(cluster_found);
    return 0;
nomem:
    snprintf(err, err_len, "out of memory scoring \"%s\"", t->stem);
    return -1;
}

static void truth_totals(const struct truth *t, struct cn_eval_counts *c)
{
    c->breast_area_cm2 = t->breast_area_mm2 / 100.0;
    for (size_t i = 0; i < t->calc_count; i++) {
        const struct truth_calc *tc = &t->calcs[i];
        c->truth_calcs++;
        c->found_calcs += (size_t)tc->found;
        c->truth_by_morphology[tc->morphology]++;
        c->found_by_morphology[tc->morphology] += (size_t)tc->found;
        if (tc->malignant) {
            c->truth_malignant++;
            c->found_malignant += (size_t)tc->found;
        } else {
            c->truth_benign++;
            c->found_benign += (size_t)tc->found;
        }
    }
    for (size_t k = 0; k < t->cluster_count; k++) {
        if (t->clusters[k].malignant)
            c->truth_malignant_clusters++;
        else
            c->truth_benign_clusters++;
    }
}

static int compare_scored(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->image != y->image)
        return x->image < y->image ? -1 : 1;
    return x->first_pair < y->first_pair ? -1 : (x->first_pair > y->first_pair);
}

/* Operating points in descending score order: one per distinct threshold. */
static int build_froc(struct cn_eval_result *res, struct truth *truths, struct pairs *pairs,
                      struct scored *scored, size_t n)
{
    qsort(scored, n, sizeof *scored, compare_scored);
    res->froc = calloc(n + 1, sizeof *res->froc);
    if (!res->froc)
        return -1;
    for (size_t i = 0; i < res->image_count; i++)
        for (size_t k = 0; k < truths[i].calc_count; k++)
            truths[i].calcs[k].found = 0;
    size_t found = 0, fp = 0, total = res->total.truth_calcs;
    double area = res->total.breast_area_cm2;
    for (size_t i = 0; i < n; i++) {
        const struct scored *s = &scored[i];
        if (s->pair_count == 0)
            fp++;
        for (size_t j = 0; j < s->pair_count; j++) {
            struct truth_calc *tc =
                &truths[s->image].calcs[pairs[s->image].ids[s->first_pair + j] - 1];
            found += !tc->found;
            tc->found = 1;
        }
        if (i + 1 < n && scored[i + 1].score == s->score)
            continue;
        res->froc[res->froc_count++] = (struct cn_eval_froc_point){
            .threshold = s->score,
            .sensitivity = cn_eval_sensitivity(found, total),
            .fp_per_cm2 = area > 0 ? (double)fp / area : 0.0};
    }
    for (int r = 0; r < CN_EVAL_FROC_RATES; r++) {
        double best = 0;
        for (size_t i = 0; i < res->froc_count; i++)
            if (res->froc[i].fp_per_cm2 <= cn_eval_froc_rates[r] && res->froc[i].sensitivity > best)
                best = res->froc[i].sensitivity;
        res->sensitivity_at[r] = best;
    }
    res->has_froc = 1;
    return 0;
}

void cn_eval_result_free(struct cn_eval_result *res)
{
    free(res->images);
    free(res->froc);
    memset(res, 0, sizeof *res);
}

int cn_eval_run(const char *truth_dir, const char *findings_path,
                const struct cn_eval_options *opts, struct cn_eval_result *out, FILE *warn,
                char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!(opts->match_mm > 0) || !(opts->cluster_match_mm > 0)) {
        snprintf(err, err_len, "match distances must be positive");
        return -1;
    }
    struct truth *truths;
    size_t ntruth;
    if (load_truth_dir(truth_dir, &truths, &ntruth, err, err_len) != 0)
        return -1;
    json_error_t jerr;
    json_t *root = json_load_file(findings_path, 0, &jerr);
    const json_t *images = root ? json_object_get(root, "images") : NULL;
    struct pairs *pairs = calloc(ntruth, sizeof *pairs);
    struct scored *scored = NULL;
    size_t scored_count = 0, scored_cap = 0;
    int all_scored = 1, rc = 0;
    out->images = calloc(ntruth, sizeof *out->images);
    out->image_count = ntruth;
    if (!root) {
        snprintf(err, err_len, "could not parse findings file \"%s\": %s (line %d)",
                 findings_path, jerr.text, jerr.line);
        rc = -1;
    } else if (!json_is_array(images)) {
        snprintf(err, err_len, "findings file \"%s\" has no \"images\" array", findings_path);
        rc = -1;
    } else if (!pairs || !out->images) {
        snprintf(err, err_len, "out of memory");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < ntruth; i++)
        snprintf(out->images[i].stem, sizeof out->images[i].stem, "%s", truths[i].stem);
    for (size_t f = 0; rc == 0 && f < json_array_size(images); f++) {
        const json_t *fimg = json_array_get(images, f);
        const json_t *source = json_object_get(fimg, "source");
        const json_t *uid = json_object_get(fimg, "sop_instance_uid");
        char stem[CN_EVAL_STEM_SIZE] = "";
        if (json_is_string(source))
            stem_of(json_string_value(source), stem, sizeof stem);
        size_t match = ntruth;
        for (size_t i = 0; i < ntruth && match == ntruth; i++)
            if ((stem[0] && strcmp(stem, truths[i].stem) == 0) ||
                (json_is_string(uid) && truths[i].sop_uid[0] &&
                 strcmp(json_string_value(uid), truths[i].sop_uid) == 0))
                match = i;
        if (match == ntruth) {
            out->unmatched_findings++;
            if (warn)
                fprintf(warn, "evaluate: findings image %zu (\"%s\") matches no truth\n", f,
                        stem);
            continue;
        }
        if (out->images[match].has_findings) {
            snprintf(err, err_len, "two findings images match truth \"%s\"", truths[match].stem);
            rc = -1;
            break;
        }
        out->images[match].has_findings = 1;
        rc = score_image(&truths[match], match, fimg, opts, &out->images[match].counts,
                         &pairs[match], &scored, &scored_count, &scored_cap, &all_scored, err,
                         err_len);
    }
    for (size_t i = 0; rc == 0 && i < ntruth; i++) {
        if (!out->images[i].has_findings && warn)
            fprintf(warn, "evaluate: no findings for truth image \"%s\": all missed\n",
                    truths[i].stem);
        truth_totals(&truths[i], &out->images[i].counts);
        rc = score_dice(&truths[i], opts->masks_dir, &out->images[i].counts, err, err_len);
        add_counts(&out->total, &out->images[i].counts);
    }
    if (rc == 0 && all_scored && scored_count > 0 &&
        build_froc(out, truths, pairs, scored, scored_count) != 0) {
        snprintf(err, err_len, "out of memory");
        rc = -1;
    }
    for (size_t i = 0; i < ntruth; i++) {
        if (pairs)
            free(pairs[i].ids);
        truth_free(&truths[i]);
    }
    free(pairs);
    free(truths);
    free(scored);
    json_decref(root);
    if (rc != 0)
        cn_eval_result_free(out);
    return rc;
}
