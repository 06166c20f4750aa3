#include "http/overlay.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PS3.5 / our own limits: an image side fits 16 bits (Rows, Columns are US). */
#define MAX_SIDE_PX 65535
/* Outline margin around the members, in rendered pixels, so the marks stay visible. */
#define OUTLINE_MARGIN_PX 4.0
#define OUTLINE_THICKNESS 2

void cn_overlay_free(struct cn_overlay *overlay)
{
    free(overlay->clusters);
    free(overlay->calcifications);
    memset(overlay, 0, sizeof *overlay);
}

static int in_image(const struct cn_overlay *o, double x, double y)
{
    return isfinite(x) && isfinite(y) && x >= 0 && y >= 0 && x < o->columns && y < o->rows;
}

/* A box [x0, y0, x1, y1] inside the image into 4 corners; 0 when not valid. */
static int box_corners(const struct cn_overlay *o, json_t *bbox, struct cn_point corners[4])
{
    if (!json_is_array(bbox) || json_array_size(bbox) != 4)
        return 0;
    double v[4];
    for (size_t i = 0; i < 4; i++) {
        json_t *n = json_array_get(bbox, i);
        if (!json_is_integer(n))
            return 0;
        v[i] = (double)json_integer_value(n);
    }
    if (!in_image(o, v[0], v[1]) || !in_image(o, v[2], v[3]) || v[2] < v[0] || v[3] < v[1])
        return 0;
    /* inclusive boxes: the outline goes round the last pixel too */
    corners[0] = (struct cn_point){v[0], v[1]};
    corners[1] = (struct cn_point){v[2] + 1, v[1]};
    corners[2] = (struct cn_point){v[2] + 1, v[3] + 1};
    corners[3] = (struct cn_point){v[0], v[3] + 1};
    return 1;
}

static int parse_cluster(struct cn_overlay *o, json_t *cluster, json_t *calcs,
                         struct cn_overlay_cluster *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(cluster)) {
        snprintf(err, err_len, "a cluster is not an object");
        return -1;
    }
    /* "reported" (work/pipeline.h); findings written before it existed have only the
       analysis rule's "suspicious" */
    json_t *reported = json_object_get(cluster, "reported");
    out->reported = json_is_true(reported ? reported : json_object_get(cluster, "suspicious"));
    const char *category = json_string_value(json_object_get(cluster, "category"));
    if (category)
        snprintf(out->category, sizeof out->category, "%s", category);
    json_t *members = json_object_get(cluster, "members");
    size_t member_count = json_is_array(members) ? json_array_size(members) : 0;
    if (member_count > CN_OVERLAY_MAX_CALCIFICATIONS) {
        snprintf(err, err_len, "a cluster has %zu members, more than %d", member_count,
                 CN_OVERLAY_MAX_CALCIFICATIONS);
        return -1;
    }
    struct cn_point *points = malloc((4 * member_count + 4) * sizeof *points);
    struct cn_point *hull = malloc((4 * member_count + 4) * sizeof *hull);
    if (!points || !hull) {
        free(points);
        free(hull);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < member_count; i++) {
        json_t *id = json_array_get(members, i);
        /* members are calcification ids: index + 1 */
        if (!json_is_integer(id) || json_integer_value(id) < 1 ||
            (size_t)json_integer_value(id) > json_array_size(calcs))
            continue;
        json_t *calc = json_array_get(calcs, (size_t)json_integer_value(id) - 1);
        if (box_corners(o, json_object_get(calc, "bbox"), points + n))
            n += 4;
    }
    if (n == 0 && box_corners(o, json_object_get(cluster, "bbox"), points))
        n = 4;
    size_t h = cn_render_hull(points, n, hull);
    /* a long hull keeps every k-th point: still an outline round the cluster */
    size_t step = (h + CN_OVERLAY_MAX_HULL - 1) / CN_OVERLAY_MAX_HULL;
    for (size_t i = 0; i < h && out->hull_count < CN_OVERLAY_MAX_HULL; i += step ? step : 1)
        out->hull[out->hull_count++] = hull[i];
    free(points);
    free(hull);
    return 0;
}

static int parse_image(struct cn_overlay *o, json_t *image, char *err, size_t err_len)
{
    json_t *rows = json_object_get(image, "rows"), *columns = json_object_get(image, "columns");
    if (!json_is_integer(rows) || !json_is_integer(columns) || json_integer_value(rows) < 1 ||
        json_integer_value(columns) < 1 || json_integer_value(rows) > MAX_SIDE_PX ||
        json_integer_value(columns) > MAX_SIDE_PX) {
        snprintf(err, err_len, "the image's rows and columns are missing or out of range");
        return -1;
    }
    o->rows = (uint32_t)json_integer_value(rows);
    o->columns = (uint32_t)json_integer_value(columns);
    json_t *calcs = json_object_get(image, "calcifications");
    json_t *clusters = json_object_get(image, "clusters");
    if (!json_is_array(calcs) || !json_is_array(clusters)) {
        snprintf(err, err_len, "the image has no calcification or cluster list");
        return -1;
    }
    if (json_array_size(calcs) > CN_OVERLAY_MAX_CALCIFICATIONS ||
        json_array_size(clusters) > CN_OVERLAY_MAX_CLUSTERS) {
        snprintf(err, err_len,
                 "the image has %zu calcifications and %zu clusters, more than "
                 "%d and %d",
                 json_array_size(calcs), json_array_size(clusters), CN_OVERLAY_MAX_CALCIFICATIONS,
                 CN_OVERLAY_MAX_CLUSTERS);
        return -1;
    }
    o->calcifications = malloc((json_array_size(calcs) + 1) * sizeof *o->calcifications);
    o->clusters = calloc(json_array_size(clusters) + 1, sizeof *o->clusters);
    if (!o->calcifications || !o->clusters) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    size_t i;
    json_t *c;
    json_array_foreach(calcs, i, c)
    {
        double x = json_number_value(json_object_get(c, "x"));
        double y = json_number_value(json_object_get(c, "y"));
        if (json_is_number(json_object_get(c, "x")) && json_is_number(json_object_get(c, "y")) &&
            in_image(o, x, y))
            o->calcifications[o->calcification_count++] = (struct cn_point){x, y};
    }
    json_array_foreach(clusters, i, c)
    {
        if (parse_cluster(o, c, calcs, &o->clusters[o->cluster_count], err, err_len) != 0)
            return -1;
        o->cluster_count++;
    }
    return 0;
}

int cn_overlay_parse(const char *text, size_t len, const char *sop_instance_uid,
                     struct cn_overlay *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, err_len, "line %d: %s", jerr.line, jerr.text);
        return -1;
    }
    json_t *images = json_object_get(root, "images");
    if (!json_is_array(images)) {
        json_decref(root);
        snprintf(err, err_len, "no \"images\" list");
        return -1;
    }
    int rc = 0;
    size_t i;
    json_t *image;
    json_array_foreach(images, i, image)
    {
        const char *uid = json_string_value(json_object_get(image, "sop_instance_uid"));
        if (!uid || strcmp(uid, sop_instance_uid) != 0)
            continue;
        rc = parse_image(out, image, err, err_len) == 0 ? 1 : -1;
        break;
    }
    json_decref(root);
    if (rc < 0)
        cn_overlay_free(out);
    return rc;
}

struct cn_rgb cn_overlay_colour(const struct cn_overlay_cluster *cluster)
{
    static const struct cn_rgb red = {230, 40, 40}, orange = {255, 150, 0}, yellow = {240, 230, 40},
                               green = {60, 200, 80}, blue = {70, 140, 255};
    if (!cluster->reported)
        return blue;
    const char *c = cluster->category;
    if (strcmp(c, "4B") == 0 || strcmp(c, "4C") == 0 || strcmp(c, "5") == 0)
        return red;
    if (strcmp(c, "4A") == 0)
        return orange;
    if (strcmp(c, "3") == 0)
        return yellow;
    return green;
}

void cn_overlay_draw(const struct cn_overlay *overlay, struct cn_rgb_image *image)
{
    if (overlay->rows == 0 || overlay->columns == 0)
        return;
    double sx = (double)image->columns / overlay->columns;
    double sy = (double)image->rows / overlay->rows;
    static const struct cn_rgb mark = {0, 230, 230};
    for (size_t i = 0; i < overlay->calcification_count; i++) {
        int x = (int)floor(overlay->calcifications[i].x * sx);
        int y = (int)floor(overlay->calcifications[i].y * sy);
        cn_render_line(image, x, y, x, y, 1, mark);
    }
    for (size_t k = 0; k < overlay->cluster_count; k++) {
        const struct cn_overlay_cluster *c = &overlay->clusters[k];
        if (c->hull_count == 0)
            continue;
        struct cn_point scaled[CN_OVERLAY_MAX_HULL];
        double cx = 0, cy = 0;
        for (size_t i = 0; i < c->hull_count; i++) {
            scaled[i] = (struct cn_point){c->hull[i].x * sx, c->hull[i].y * sy};
            cx += scaled[i].x / (double)c->hull_count;
            cy += scaled[i].y / (double)c->hull_count;
        }
        /* pushed out from the centre by the margin */
        for (size_t i = 0; i < c->hull_count; i++) {
            double dx = scaled[i].x - cx, dy = scaled[i].y - cy;
            double d = sqrt(dx * dx + dy * dy);
            if (d > 0) {
                scaled[i].x += dx / d * OUTLINE_MARGIN_PX;
                scaled[i].y += dy / d * OUTLINE_MARGIN_PX;
            }
        }
        if (c->hull_count == 1)
            cn_render_line(image, (int)scaled[0].x, (int)scaled[0].y, (int)scaled[0].x,
                           (int)scaled[0].y, OUTLINE_THICKNESS, cn_overlay_colour(c));
        else
            cn_render_polygon(image, scaled, c->hull_count, OUTLINE_THICKNESS,
                              cn_overlay_colour(c));
    }
}
