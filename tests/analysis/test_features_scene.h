/*
 * Random test scenes for the feature tests: a label image with blobs, rings with holes,
 * lines, one- and two-pixel objects, random walks and objects cut by the image border;
 * a breast mask that leaves part of the image out; a smooth noisy intensity image with
 * brighter calcifications; clusters of neighbouring calcifications (some of one member)
 * and unclustered ones. The scene owns a struct ca_result built to ca_analyze's
 * invariants (ids, bboxes, areas, centroids, cluster members).
 */
#ifndef TESTS_ANALYSIS_TEST_FEATURES_SCENE_H
#define TESTS_ANALYSIS_TEST_FEATURES_SCENE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calc/analysis.h"

static uint32_t scene_rng_state;

static inline uint32_t scene_rng(void)
{
    scene_rng_state = scene_rng_state * 1664525u + 1013904223u;
    return scene_rng_state >> 8;
}

/* Uniform in [0, 1). */
static inline double scene_unit(void)
{
    return (double)(scene_rng() & 0xffffu) / 65536.0;
}

static inline void scene_put(uint32_t *labels, uint32_t rows, uint32_t columns, int64_t x,
                             int64_t y, uint32_t id)
{
    if (x >= 0 && y >= 0 && x < columns && y < rows)
        labels[(size_t)y * columns + (size_t)x] = id;
}

/* One random object of the given id around (cx, cy). */
static inline void scene_object(uint32_t *labels, uint32_t rows, uint32_t columns, double cx,
                                double cy, uint32_t id)
{
    uint32_t kind = scene_rng() % 8;
    int64_t x = (int64_t)cx, y = (int64_t)cy;
    if (kind == 0) { /* single pixel */
        scene_put(labels, rows, columns, x, y, id);
    } else if (kind == 1) { /* two pixels: horizontal, vertical or diagonal */
        uint32_t d = scene_rng() % 3;
        scene_put(labels, rows, columns, x, y, id);
        scene_put(labels, rows, columns, x + (d != 1), y + (d != 0), id);
    } else if (kind == 2) { /* line, 1 px wide */
        double angle = scene_unit() * 3.14159265, len = 3.0 + scene_unit() * 12.0;
        for (double t = 0.0; t <= len; t += 0.25)
            scene_put(labels, rows, columns, (int64_t)lround(cx + t * cos(angle)),
                      (int64_t)lround(cy + t * sin(angle)), id);
    } else if (kind == 3) { /* ring with a hole */
        double outer = 2.5 + scene_unit() * 2.5, inner = 1.0 + scene_unit() * 0.8;
        for (int64_t dy = -6; dy <= 6; dy++)
            for (int64_t dx = -6; dx <= 6; dx++) {
                double r = hypot((double)dx, (double)dy);
                if (r <= outer && r > inner)
                    scene_put(labels, rows, columns, x + dx, y + dy, id);
            }
    } else if (kind == 4) { /* random walk */
        uint32_t steps = 4 + scene_rng() % 16;
        for (uint32_t s = 0; s < steps; s++) {
            scene_put(labels, rows, columns, x, y, id);
            x += (int64_t)(scene_rng() % 3) - 1;
            y += (int64_t)(scene_rng() % 3) - 1;
        }
    } else { /* rotated ellipse */
        double a = 0.6 + scene_unit() * 5.0, b = 0.6 + scene_unit() * 3.0;
        double th = scene_unit() * 3.14159265, c = cos(th), s = sin(th);
        for (int64_t dy = -6; dy <= 6; dy++)
            for (int64_t dx = -6; dx <= 6; dx++) {
                double u = (dx * c + dy * s) / a, v = (-dx * s + dy * c) / b;
                if (u * u + v * v <= 1.0)
                    scene_put(labels, rows, columns, x + dx, y + dy, id);
            }
        scene_put(labels, rows, columns, x, y, id);
    }
}

struct scene {
    struct ca_result result;
    double spacing_mm[2];
};

/* Drops the ids that lost every pixel to later objects (renumbering the others in
 * order) and fills the calcification records from the labels. */
static inline void scene_records(struct ca_result *r, uint32_t max_id)
{
    size_t n = (size_t)r->rows * r->columns;
    uint32_t *remap = calloc((size_t)max_id + 1, sizeof(uint32_t));
    uint32_t *count = calloc((size_t)max_id + 1, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        count[r->labels[i]]++;
    uint32_t next = 0;
    for (uint32_t id = 1; id <= max_id; id++)
        remap[id] = count[id] ? ++next : 0;
    for (size_t i = 0; i < n; i++)
        r->labels[i] = remap[r->labels[i]];
    r->calcification_count = next;
    r->calcifications = calloc(next ? next : 1, sizeof(struct ca_calcification));
    for (uint32_t k = 0; k < next; k++) {
        struct ca_calcification *c = &r->calcifications[k];
        c->id = k + 1;
        c->bbox[0] = r->columns, c->bbox[1] = r->rows;
        c->cluster = -1;
    }
    for (uint32_t y = 0; y < r->rows; y++)
        for (uint32_t x = 0; x < r->columns; x++) {
            uint32_t id = r->labels[(size_t)y * r->columns + x];
            if (!id)
                continue;
            struct ca_calcification *c = &r->calcifications[id - 1];
            c->area_px++;
            c->x_px += x, c->y_px += y;
            c->bbox[0] = x < c->bbox[0] ? x : c->bbox[0];
            c->bbox[1] = y < c->bbox[1] ? y : c->bbox[1];
            c->bbox[2] = x > c->bbox[2] ? x : c->bbox[2];
            c->bbox[3] = y > c->bbox[3] ? y : c->bbox[3];
        }
    for (uint32_t k = 0; k < next; k++) {
        struct ca_calcification *c = &r->calcifications[k];
        c->x_px /= c->area_px, c->y_px /= c->area_px;
    }
    free(remap);
    free(count);
}

/* Clusters of consecutive ids (objects are placed in raster order, so consecutive ids
 * are neighbours): groups of 1..7 members, about one in five calcifications left out. */
static inline void scene_clusters(struct ca_result *r)
{
    r->clusters =
        calloc(r->calcification_count ? r->calcification_count : 1, sizeof(struct ca_cluster));
    size_t i = 0, k = 0;
    while (i < r->calcification_count) {
        if (scene_rng() % 5 == 0) {
            i++;
            continue;
        }
        uint32_t size = 1 + scene_rng() % 7;
        if (size > r->calcification_count - i)
            size = (uint32_t)(r->calcification_count - i);
        struct ca_cluster *c = &r->clusters[k];
        c->members = malloc(size * sizeof(uint32_t));
        c->count = size;
        for (uint32_t m = 0; m < size; m++) {
            c->members[m] = (uint32_t)(i + m);
            r->calcifications[i + m].cluster = (int32_t)k;
        }
        i += size;
        k++;
    }
    r->cluster_count = k;
}

/* A random scene of rows x columns with objects on a jittered grid of step_px. */
static inline void scene_make(struct scene *s, uint32_t seed, uint32_t rows, uint32_t columns,
                              uint32_t step_px, double row_spacing_mm, double column_spacing_mm)
{
    memset(s, 0, sizeof(*s));
    scene_rng_state = seed;
    struct ca_result *r = &s->result;
    size_t n = (size_t)rows * columns;
    r->rows = rows, r->columns = columns;
    r->labels = calloc(n, sizeof(uint32_t));
    r->breast_mask = calloc(n, 1);
    r->normalized = calloc(n, sizeof(float));
    s->spacing_mm[0] = row_spacing_mm, s->spacing_mm[1] = column_spacing_mm;
    uint32_t id = 0;
    for (uint32_t gy = 0; gy <= rows / step_px; gy++)
        for (uint32_t gx = 0; gx <= columns / step_px; gx++) {
            double cx = gx * step_px + scene_unit() * step_px * 0.6;
            double cy = gy * step_px + scene_unit() * step_px * 0.6;
            if (scene_rng() % 4 != 0)
                scene_object(r->labels, rows, columns, cx, cy, ++id);
        }
    scene_records(r, id);
    scene_clusters(r);
    double bx = columns * 0.45, by = rows * 0.5, ba = columns * 0.55, bb = rows * 0.6;
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++) {
            size_t i = (size_t)y * columns + x;
            double u = (x - bx) / ba, v = (y - by) / bb;
            r->breast_mask[i] = u * u + v * v <= 1.0;
            double tissue = 0.3 + 0.1 * sin(x * 0.05) * cos(y * 0.07) + 0.1 * scene_unit();
            r->normalized[i] = (float)(r->labels[i] ? 0.55 + 0.45 * scene_unit() : tissue);
        }
}

static inline void scene_free(struct scene *s)
{
    for (size_t k = 0; k < s->result.cluster_count; k++)
        free(s->result.clusters[k].members);
    free(s->result.clusters);
    free(s->result.calcifications);
    free(s->result.labels);
    free(s->result.breast_mask);
    free(s->result.normalized);
    memset(s, 0, sizeof(*s));
}

#endif
