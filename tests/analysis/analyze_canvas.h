/*
 * Synthetic mammograms for the ca_analyze tests: a noisy breast of 500 x 600 pixels of
 * 0.1 mm, Gaussian blobs and line segments at known places, 12-bit pixels.
 */
#ifndef TESTS_ANALYSIS_ANALYZE_CANVAS_H
#define TESTS_ANALYSIS_ANALYZE_CANVAS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calc/analysis.h"

#define ROWS 600
#define COLUMNS 500
#define SPACING_MM 0.1
#define MAX_VALUE 4095.0

static uint32_t rng_state;

static inline double uniform(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) / 16777216.0;
}

/* Approximately normal: the sum of four uniforms, scaled to unit variance. */
static inline double gaussian(void)
{
    return (uniform() + uniform() + uniform() + uniform() - 2.0) * sqrt(3.0);
}

struct blob {
    double x_mm, y_mm, diameter_mm;
};

/* A breast (half ellipse against the left border) of mean 0.45 with noise 0.008 and a
 * low-frequency texture, background 0.03; returns a double canvas. */
static inline double *breast_canvas(void)
{
    double *v = malloc((size_t)ROWS * COLUMNS * sizeof(double));
    rng_state = 12345;
    for (uint32_t y = 0; y < ROWS; y++)
        for (uint32_t x = 0; x < COLUMNS; x++) {
            double ex = x / 420.0, ey = (y - ROWS / 2.0) / 280.0;
            int inside = ex * ex + ey * ey < 1.0;
            double tex = 0.03 * sin(x * 0.021) * cos(y * 0.017);
            v[(size_t)y * COLUMNS + x] =
                inside ? 0.45 + tex + 0.008 * gaussian() : 0.03 + 0.004 * gaussian();
        }
    return v;
}

static inline void add_blob(double *v, struct blob b, double amplitude)
{
    double s_px = b.diameter_mm / 2.5 / SPACING_MM;
    double cx = b.x_mm / SPACING_MM, cy = b.y_mm / SPACING_MM;
    for (int y = (int)(cy - 5 * s_px) - 1; y <= (int)(cy + 5 * s_px) + 1; y++)
        for (int x = (int)(cx - 5 * s_px) - 1; x <= (int)(cx + 5 * s_px) + 1; x++) {
            if (x < 0 || y < 0 || x >= COLUMNS || y >= ROWS)
                continue;
            double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
            v[(size_t)y * COLUMNS + x] += amplitude * exp(-r2 / (2 * s_px * s_px));
        }
}

enum segment_profile { PROFILE_GAUSSIAN, PROFILE_CYLINDER };

/* Adds to every pixel amplitude times the profile of its distance d to the segment from
 * (x0, y0) to (x1, y1) mm (ends rounded): exp(-d^2 / 2s^2), s = width_mm / 2.5, cut at
 * 5s (Gaussian); sqrt(1 - (d / r)^2), r = width_mm / 2, the chord through a cylinder of
 * that diameter seen from the side (cylinder). */
static inline void add_profile_along(double *v, double x0, double y0, double x1, double y1,
                                     double width_mm, double amplitude,
                                     enum segment_profile profile)
{
    double s_px = (profile == PROFILE_GAUSSIAN ? width_mm / 2.5 : width_mm / 2.0) / SPACING_MM;
    double ax = x0 / SPACING_MM, ay = y0 / SPACING_MM, bx = x1 / SPACING_MM, by = y1 / SPACING_MM;
    double len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay);
    for (uint32_t y = 0; y < ROWS; y++)
        for (uint32_t x = 0; x < COLUMNS; x++) {
            double t = ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / len2;
            t = t < 0 ? 0 : (t > 1 ? 1 : t);
            double dx = x - (ax + t * (bx - ax)), dy = y - (ay + t * (by - ay));
            double q = (dx * dx + dy * dy) / (s_px * s_px);
            double *px = &v[(size_t)y * COLUMNS + x];
            if (profile == PROFILE_GAUSSIAN && q < 25.0)
                *px += amplitude * exp(-q / 2.0);
            else if (profile == PROFILE_CYLINDER && q < 1.0)
                *px += amplitude * sqrt(1.0 - q);
        }
}

/* A bright segment with a Gaussian cross profile of full width about width_mm. */
static inline void add_segment(double *v, double x0, double y0, double x1, double y1,
                               double width_mm, double amplitude)
{
    add_profile_along(v, x0, y0, x1, y1, width_mm, amplitude, PROFILE_GAUSSIAN);
}

/* A vessel: a cylinder of radius_mm seen from the side. */
static inline void add_tube(double *v, double x0, double y0, double x1, double y1,
                            double radius_mm, double amplitude)
{
    add_profile_along(v, x0, y0, x1, y1, 2.0 * radius_mm, amplitude, PROFILE_CYLINDER);
}

static inline uint16_t *to_pixels(const double *v)
{
    uint16_t *p = malloc((size_t)ROWS * COLUMNS * sizeof(uint16_t));
    for (size_t i = 0; i < (size_t)ROWS * COLUMNS; i++) {
        double s = v[i] < 0 ? 0 : (v[i] > 1 ? 1 : v[i]);
        p[i] = (uint16_t)lround(s * MAX_VALUE);
    }
    return p;
}

static inline struct ca_image image_of(const uint16_t *pixels)
{
    struct ca_image im;
    memset(&im, 0, sizeof(im));
    im.pixels = pixels;
    im.rows = ROWS;
    im.columns = COLUMNS;
    im.bits_stored = 12;
    im.spacing_mm[0] = im.spacing_mm[1] = SPACING_MM;
    return im;
}

static inline double distance_mm(const struct ca_calcification *c, double x_mm, double y_mm)
{
    double dx = c->x_px * SPACING_MM - x_mm, dy = c->y_px * SPACING_MM - y_mm;
    return sqrt(dx * dx + dy * dy);
}

/* The calcification within 0.3 mm of (x_mm, y_mm), or NULL. */
static inline const struct ca_calcification *found_near(const struct ca_result *r, double x_mm,
                                                 double y_mm)
{
    for (size_t i = 0; i < r->calcification_count; i++)
        if (distance_mm(&r->calcifications[i], x_mm, y_mm) < 0.3)
            return &r->calcifications[i];
    return NULL;
}

#endif
