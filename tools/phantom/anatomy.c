/* Breast anatomy in the canonical frame: outline, compressed thickness, pectoral
 * muscle, glandular envelope, fibrous strands and vessels. */
#include "scene.h"

#include <math.h>

/* Typical compressed-breast geometry, as fractions of the detector and in mm. */
#define CC_DEPTH_MIN 0.55      /* chest wall to nipple, fraction of columns */
#define CC_DEPTH_MAX 0.80
#define CC_HALF_H_MIN 0.33     /* half height of the outline, fraction of rows */
#define CC_HALF_H_MAX 0.44
#define MLO_DEPTH_MIN 0.55
#define MLO_DEPTH_MAX 0.75
#define FALLOFF_MIN_MM 8.0     /* peripheral zone where the compressed breast thins */
#define FALLOFF_MAX_MM 16.0
#define SKIN_MIN_MM 0.8
#define SKIN_MAX_MM 1.6
#define PECTORAL_EDGE_MM 1.0   /* soft edge of the muscle */
#define STRAND_AREA_MM2 12.0   /* one fibrous strand per this much breast area */
#define STRAND_STEP_MM 1.0
#define VESSEL_STEP_MM 2.0

void scene_outline(const struct scene *s, double x, double y, double *rho, double *skin_px)
{
    double ay = (y - s->yc_px) / s->half_h_px;
    double ax_p, gx;
    long xi = (long)x;
    if (s->col_axp && (double)xi == x && xi >= 0 && xi < (long)s->cols) {
        ax_p = s->col_axp[xi];
        gx = s->col_gx[xi];
    } else {
        double ax = fabs(x) / s->depth_px;
        ax_p = pow(ax, s->shape_p);
        gx = ax > 0 ? s->shape_p * ax_p / ax / s->depth_px : 0.0;
    }
    double r2 = ax_p + ay * ay;
    *rho = sqrt(r2);
    /* first-order distance to the level set r2 = 1: (1 - r2) / |grad r2| */
    double gy = 2.0 * ay / s->half_h_px;
    double g = sqrt(gx * gx + gy * gy);
    double big = (double)s->rows + (double)s->cols;
    *skin_px = g > 0 ? fmin((1.0 - r2) / g, big) : big;
    if (x < 0)
        *skin_px = -1.0;
}

double scene_thickness(const struct scene *s, double x, double y)
{
    double rho, d;
    scene_outline(s, x, y, &rho, &d);
    return scene_thickness_at(s, rho, d);
}

double scene_thickness_at(const struct scene *s, double rho, double d)
{
    if (rho >= 1.0 || d <= 0)
        return 0.0;
    if (d >= s->falloff_px)
        return 1.0;
    /* the compressed breast's edge is roughly a half cylinder seen from above */
    double u = 1.0 - d / s->falloff_px;
    return sqrt(1.0 - u * u);
}

double scene_pectoral(const struct scene *s, double x, double y)
{
    if (s->pect_top_px <= 0)
        return 0.0;
    /* signed distance (px) inside the line x / top + y / side = 1 */
    double a = 1.0 / s->pect_top_px, b = 1.0 / s->pect_side_px;
    double dist = (1.0 - a * x - b * y) / sqrt(a * a + b * b);
    double edge = PECTORAL_EDGE_MM * s->px_mm;
    if (dist <= -edge)
        return 0.0;
    if (dist >= edge)
        return 1.0;
    double t = (dist + edge) / (2.0 * edge);
    return t * t * (3.0 - 2.0 * t);
}

double scene_envelope(const struct scene *s, double x, double y)
{
    double u = x / s->depth_px - 0.4;
    double w = (y - s->nipple_y) / s->half_h_px;
    return exp(-(u * u) / (0.45 * 0.45) - (w * w) / (0.6 * 0.6));
}

void scene_geometry(struct scene *s, struct cn_rng *rng)
{
    double rows = s->rows, cols = s->cols;
    if (s->p.view == CN_PHANTOM_CC) {
        s->depth_px = cols * cn_rng_range(rng, CC_DEPTH_MIN, CC_DEPTH_MAX);
        s->half_h_px = rows * cn_rng_range(rng, CC_HALF_H_MIN, CC_HALF_H_MAX);
        s->yc_px = rows * cn_rng_range(rng, 0.46, 0.54);
        s->shape_p = cn_rng_range(rng, 1.8, 2.4);
        s->pect_top_px = 0;
        s->pect_side_px = 0;
        s->nipple_y = s->yc_px;
    } else {
        /* MLO: the outline runs off the top edge (axilla) and curves back to the chest
         * wall at the inframammary fold; the pectoral muscle is a triangle in the upper
         * chest-wall corner. */
        s->depth_px = cols * cn_rng_range(rng, MLO_DEPTH_MIN, MLO_DEPTH_MAX);
        s->half_h_px = rows * cn_rng_range(rng, 0.52, 0.6);
        s->yc_px = rows * cn_rng_range(rng, 0.38, 0.46);
        s->shape_p = cn_rng_range(rng, 2.0, 2.8);
        s->pect_top_px = s->depth_px * cn_rng_range(rng, 0.3, 0.45);
        s->pect_side_px = rows * cn_rng_range(rng, 0.4, 0.6);
        s->nipple_y = s->yc_px + 0.1 * s->half_h_px;
    }
    s->nipple_x = s->depth_px;
    s->falloff_px = cn_rng_range(rng, FALLOFF_MIN_MM, FALLOFF_MAX_MM) * s->px_mm;
    s->skin_px = fmax(1.0, cn_rng_range(rng, SKIN_MIN_MM, SKIN_MAX_MM) * s->px_mm);
    s->density = cn_rng_range(rng, 0.2, 0.8);
    for (uint32_t x = 0; s->col_axp && x < s->cols; x++) {
        double ax = x / s->depth_px;
        s->col_axp[x] = pow(ax, s->shape_p);
        s->col_gx[x] = ax > 0 ? s->shape_p * s->col_axp[x] / ax / s->depth_px : 0.0;
    }
}

void scene_draw_segment(struct scene *s, float *layer, double ax, double ay, double bx,
                        double by, double half_width_px, double amp, int gaussian)
{
    double reach = gaussian ? 3.0 * half_width_px : half_width_px;
    int x0 = (int)floor(fmin(ax, bx) - reach - 1), x1 = (int)ceil(fmax(ax, bx) + reach + 1);
    int y0 = (int)floor(fmin(ay, by) - reach - 1), y1 = (int)ceil(fmax(ay, by) + reach + 1);
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > (int)s->cols - 1)
        x1 = (int)s->cols - 1;
    if (y1 > (int)s->rows - 1)
        y1 = (int)s->rows - 1;
    double dx = bx - ax, dy = by - ay;
    double len2 = dx * dx + dy * dy;
    double inv_2s2 = 1.0 / (2.0 * half_width_px * half_width_px);
    for (int y = y0; y <= y1; y++) {
        float *row = layer + (size_t)y * s->cols;
        for (int x = x0; x <= x1; x++) {
            double px = x - ax, py = y - ay;
            double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0.0;
            t = t < 0 ? 0 : (t > 1 ? 1 : t);
            double ex = px - t * dx, ey = py - t * dy;
            double d2 = ex * ex + ey * ey;
            double v;
            if (gaussian) {
                if (d2 > reach * reach)
                    continue;
                v = amp * exp(-d2 * inv_2s2);
            } else {
                double q = d2 / (half_width_px * half_width_px);
                if (q >= 1.0)
                    continue;
                v = amp * sqrt(1.0 - q);
            }
            if (v > row[x])
                row[x] = (float)v;
        }
    }
}

/* A point drawn uniformly from the breast with thickness at least min_t, outside the
 * pectoral muscle; 0 ok, -1 when none was found. */
static int random_breast_point(const struct scene *s, struct cn_rng *rng, double min_t,
                               double *x, double *y)
{
    for (int attempt = 0; attempt < 1000; attempt++) {
        double cx = cn_rng_range(rng, 0, fmin(s->depth_px, s->cols - 1.0));
        double cy = cn_rng_range(rng, 0, s->rows - 1.0);
        if (scene_thickness(s, cx, cy) >= min_t && scene_pectoral(s, cx, cy) <= 0.0) {
            *x = cx;
            *y = cy;
            return 0;
        }
    }
    return -1;
}

void scene_strands(struct scene *s, struct cn_rng *rng)
{
    double area_mm2 = 0.25 * M_PI * s->depth_px * s->half_h_px * 2.0 * s->mm_px * s->mm_px;
    int count = (int)(area_mm2 / STRAND_AREA_MM2);
    double step = STRAND_STEP_MM * s->px_mm;
    for (int i = 0; i < count; i++) {
        double x, y;
        if (random_breast_point(s, rng, 0.3, &x, &y) != 0)
            return;
        /* Cooper's ligaments and ducts converge on the nipple */
        double angle = atan2(s->nipple_y - y, s->nipple_x - x) + 0.3 * cn_rng_normal(rng);
        double length_mm = cn_rng_range(rng, 2.0, 12.0);
        double sigma_px = fmax(0.5, cn_rng_range(rng, 0.05, 0.15) * s->px_mm);
        double amp = cn_rng_range(rng, 0.3, 1.0);
        int steps = (int)(length_mm / STRAND_STEP_MM) + 1;
        for (int k = 0; k < steps; k++) {
            double nx = x + step * cos(angle), ny = y + step * sin(angle);
            if (scene_thickness(s, nx, ny) <= 0)
                break;
            scene_draw_segment(s, s->aux, x, y, nx, ny, sigma_px, amp, 1);
            x = nx;
            y = ny;
            angle += 0.15 * cn_rng_normal(rng);
        }
    }
}

void scene_vessels(struct scene *s, struct cn_rng *rng)
{
    double size_mm = fmax(s->rows, s->cols) * s->mm_px;
    int count = 2 + (int)(size_mm / 120.0) + cn_rng_int(rng, 0, 2);
    if (count > SCENE_MAX_VESSELS)
        count = SCENE_MAX_VESSELS;
    double step = VESSEL_STEP_MM * s->px_mm;
    s->vessel_count = 0;
    for (int i = 0; i < count; i++) {
        struct vessel *v = &s->vessels[s->vessel_count];
        double x = cn_rng_range(rng, 0.02, 0.2) * s->depth_px;
        double y = s->yc_px + cn_rng_range(rng, -0.7, 0.7) * s->half_h_px;
        if (scene_thickness(s, x, y) < 0.5 || scene_pectoral(s, x, y) > 0)
            continue;
        double angle = atan2(s->nipple_y - y, s->nipple_x - x) + 0.5 * cn_rng_normal(rng);
        double radius_mm = cn_rng_range(rng, 0.4, 1.2);
        double length_mm = cn_rng_range(rng, 40.0, 150.0);
        double amp = cn_rng_range(rng, 0.05, 0.09);
        double curl = 0.0;
        int steps = (int)(length_mm / VESSEL_STEP_MM);
        v->point_count = 0;
        for (int k = 0; k <= steps && k < SCENE_MAX_VESSEL_POINTS; k++) {
            double r_px = fmax(0.8, radius_mm * s->px_mm * (1.0 - 0.5 * k / (steps + 1.0)));
            v->x[k] = x;
            v->y[k] = y;
            v->radius_px[k] = r_px;
            v->point_count = k + 1;
            double nx = x + step * cos(angle), ny = y + step * sin(angle);
            if (scene_thickness(s, nx, ny) <= 0.2)
                break;
            scene_draw_segment(s, s->aux, x, y, nx, ny, r_px, amp, 0);
            x = nx;
            y = ny;
            /* smooth meander: the curvature itself does a damped random walk */
            curl = 0.7 * curl + 0.06 * cn_rng_normal(rng);
            angle += curl;
        }
        if (v->point_count >= 4)
            s->vessel_count++;
    }
}
