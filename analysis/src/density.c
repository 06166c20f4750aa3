/*
 * Candidate density around a point (features of the second stage, DESIGN.md 7.4): the
 * candidates of an image (all of them, or the faint ones at or above a contrast per
 * scale) are bucketed once into square cells of the counting radius, so a count visits the 3x3
 * cells around the point only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int included(const struct ca_candidate *c, const float *contrast_min_by_scale)
{
    return !contrast_min_by_scale ||
           (!c->strong && c->contrast >= contrast_min_by_scale[c->scale]);
}

int ca_candidate_grid_build(const struct ca_candidates *found, uint32_t rows,
                            uint32_t columns, const double spacing_mm[2], double radius_mm,
                            const float *contrast_min_by_scale,
                            struct ca_candidate_grid *grid)
{
    memset(grid, 0, sizeof(*grid));
    grid->cell_r = (uint32_t)ceil(radius_mm / spacing_mm[0]);
    grid->cell_c = (uint32_t)ceil(radius_mm / spacing_mm[1]);
    grid->cell_r = grid->cell_r ? grid->cell_r : 1;
    grid->cell_c = grid->cell_c ? grid->cell_c : 1;
    grid->nr = rows / grid->cell_r + 1;
    grid->nc = columns / grid->cell_c + 1;
    size_t cells = (size_t)grid->nr * grid->nc;
    size_t n = found->count;
    grid->start = calloc(cells + 1, sizeof(uint32_t));
    grid->points = malloc((n ? n : 1) * 2 * sizeof(uint32_t));
    uint32_t *fill = calloc(cells, sizeof(uint32_t));
    if (!grid->start || !grid->points || !fill) {
        free(fill);
        ca_candidate_grid_free(grid);
        return CA_ERR_OUT_OF_MEMORY;
    }
    /* counting sort by cell: start[c] .. start[c + 1] - 1 index points of cell c */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ca_candidate *c = &found->items[i];
        if (!included(c, contrast_min_by_scale))
            continue;
        grid->start[(size_t)(c->y / grid->cell_r) * grid->nc + c->x / grid->cell_c + 1]++;
        kept++;
    }
    for (size_t c = 0; c < cells; c++)
        grid->start[c + 1] += grid->start[c];
    for (size_t i = 0; i < n; i++) {
        const struct ca_candidate *c = &found->items[i];
        if (!included(c, contrast_min_by_scale))
            continue;
        size_t cell = (size_t)(c->y / grid->cell_r) * grid->nc + c->x / grid->cell_c;
        size_t at = grid->start[cell] + fill[cell]++;
        grid->points[2 * at] = c->x;
        grid->points[2 * at + 1] = c->y;
    }
    free(fill);
    grid->count = kept;
    return 0;
}

uint32_t ca_candidate_grid_count(const struct ca_candidate_grid *grid, double x_px,
                                 double y_px, const double spacing_mm[2], double radius_mm)
{
    if (!(x_px >= 0.0) || !(y_px >= 0.0))
        return 0;
    int64_t cy = (int64_t)(y_px / grid->cell_r), cx = (int64_t)(x_px / grid->cell_c);
    double r2 = radius_mm * radius_mm;
    uint32_t count = 0;
    for (int64_t yy = cy - 1; yy <= cy + 1; yy++)
        for (int64_t xx = cx - 1; xx <= cx + 1; xx++) {
            if (yy < 0 || xx < 0 || yy >= grid->nr || xx >= grid->nc)
                continue;
            size_t cell = (size_t)yy * grid->nc + (size_t)xx;
            for (uint32_t k = grid->start[cell]; k < grid->start[cell + 1]; k++) {
                double dx = (grid->points[2 * k] - x_px) * spacing_mm[1];
                double dy = (grid->points[2 * k + 1] - y_px) * spacing_mm[0];
                count += dx * dx + dy * dy <= r2;
            }
        }
    return count;
}

void ca_candidate_grid_free(struct ca_candidate_grid *grid)
{
    free(grid->start);
    free(grid->points);
    memset(grid, 0, sizeof(*grid));
}
