/* node/http: the findings of one image, read from the findings.json a worker wrote into
 * the study's results folder (node/work/results.h), drawn over its rendering: each
 * cluster's outline (the convex hull of its members' boxes, a margin around it) in the
 * colour of its category, and each calcification as a small mark.
 *
 * findings.json is our own file, but it is read as untrusted input: every coordinate is
 * checked against the image, every member index against the calcification list, and the
 * counts against caps. Pure; any thread. */
#ifndef CN_HTTP_OVERLAY_H
#define CN_HTTP_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#include "http/render.h"

#define CN_OVERLAY_MAX_CLUSTERS 256
#define CN_OVERLAY_MAX_CALCIFICATIONS 20000
#define CN_OVERLAY_MAX_HULL 64 /* points of one cluster outline */
#define CN_OVERLAY_CATEGORY_SIZE 8

struct cn_overlay_cluster {
    int reported; /* reaches the radiologist's reports */
    char category[CN_OVERLAY_CATEGORY_SIZE];   /* "" when not scored */
    struct cn_point hull[CN_OVERLAY_MAX_HULL]; /* source image pixel coordinates */
    size_t hull_count;
};

struct cn_overlay {
    uint32_t rows, columns;              /* of the analysed image */
    struct cn_overlay_cluster *clusters; /* owned */
    size_t cluster_count;
    struct cn_point *calcifications; /* centroids; owned */
    size_t calcification_count;
};

/* Finds sop_instance_uid in findings.json text[len] and fills *out. Returns 1 (found;
 * free with cn_overlay_free), 0 (the image is not in the file: *out empty), or -1 (the
 * file is not valid findings: err filled). */
int cn_overlay_parse(const char *text, size_t len, const char *sop_instance_uid,
                     struct cn_overlay *out, char *err, size_t err_len);

void cn_overlay_free(struct cn_overlay *overlay);

/* The outline colour of a cluster: red for 4B, 4C and 5, orange for 4A, yellow for 3,
 * green for 2 or a reported cluster without a category, blue for one not reported. */
struct cn_rgb cn_overlay_colour(const struct cn_overlay_cluster *cluster);

/* Draws overlay onto image, a rendering of the analysed image (coordinates scaled by
 * image size / overlay size). */
void cn_overlay_draw(const struct cn_overlay *overlay, struct cn_rgb_image *image);

#endif
