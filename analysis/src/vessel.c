/*
 * Stage 4's vessel tests: the rounded end of a vessel, noise peaks along a thin one.
 *
 * The Hessian blob test takes the rounded end of a vessel for a spot: across the vessel
 * the end cap curves like a blob. A vessel 0.5 mm wide or more answers best at a coarser
 * scale than the thin lines of calcium (a calcified vessel wall, a fine linear
 * calcification), and its cap grows into a round region or a line along the vessel. What
 * tells it from a calcification is what lies past the region: along the vessel the
 * band-pass goes on almost as bright as the region, without a gap (the region stopped
 * where the band-pass of the cap fell to the growing level, not where the object ended);
 * past a calcification it falls to the level of the tissue around, or to a gap before
 * the next segment of a chain, and along a vessel with a calcified segment it stays far
 * below the calcium. A line is followed past both ends of its major axis; a region that
 * is not a line has no axis, so 16 directions are tried.
 *
 * At the finest scale the same measure finds noise peaks grown along a thin vessel. There
 * the caller measures on the narrow band-pass: on the wide one a vascular or pleomorphic
 * calcification lying on a vessel also has the vessel going on past it (tuning phantoms,
 * seeds 201-400), while the narrow one takes most of the vessel out from under it.
 */
#include <math.h>

#include "internal.h"

/* The axis is sampled every CONTINUATION_STEP_MM from just past the region's end to about
 * two vessel widths; CONTINUATION_RUN consecutive samples (0.3 mm) are averaged against
 * noise. The measure is the lowest such run: a vessel goes on without a gap, while past
 * a segment of a calcified wall or a linear calcification the next segment lies beyond
 * a gap. */
#define CONTINUATION_NEAR_MM 0.1
#define CONTINUATION_STEP_MM 0.1
#define CONTINUATION_SAMPLES 15 /* to 1.5 mm */
#define CONTINUATION_RUN 3
/* the directions tried around a region that is not a line: 22.5 degrees apart */
#define VESSEL_DIRECTIONS 16

/* The lowest mean of CONTINUATION_RUN consecutive samples of band, CONTINUATION_SAMPLES
 * of them from CONTINUATION_NEAR_MM past from_mm, from (cx, cy) mm along (ux, uy); NAN when
 * a sample falls outside the band. */
static double lowest_run_along(const float *band, uint32_t width, uint32_t height,
                               const double sp[2], double cx, double cy, double ux, double uy,
                               double from_mm)
{
    double samples[CONTINUATION_SAMPLES];
    for (int i = 0; i < CONTINUATION_SAMPLES; i++) {
        double d = from_mm + CONTINUATION_NEAR_MM + i * CONTINUATION_STEP_MM;
        double x = floor((cx + d * ux) / sp[1] + 0.5), y = floor((cy + d * uy) / sp[0] + 0.5);
        if (!(x >= 0.0 && y >= 0.0 && x < width && y < height))
            return NAN;
        samples[i] = band[(size_t)y * width + (size_t)x];
    }
    double lowest = INFINITY;
    for (int i = 0; i + CONTINUATION_RUN <= CONTINUATION_SAMPLES; i++) {
        double sum = 0.0;
        for (int j = 0; j < CONTINUATION_RUN; j++)
            sum += samples[i + j];
        lowest = fmin(lowest, sum / CONTINUATION_RUN);
    }
    return lowest;
}

/* The region's farthest reach from (cx, cy) along (ux, uy), in mm; the region's pixels are
 * given relative to (ox, oy) mm. */
static double reach_along(const uint32_t *region, size_t n, uint32_t width, const double sp[2],
                          double ox, double oy, double cx, double cy, double ux, double uy)
{
    double reach = 0.0;
    for (size_t k = 0; k < n; k++) {
        double x = (double)(region[k] % width) * sp[1] - ox;
        double y = (double)(region[k] / width) * sp[0] - oy;
        double t = (x - cx) * ux + (y - cy) * uy;
        reach = t > reach ? t : reach;
    }
    return reach;
}

double ca_vessel_continuation(const float *band, uint32_t width, uint32_t height,
                              const uint32_t *region, size_t n, const double sp[2], int linear)
{
    if (n == 0)
        return 0.0;
    /* centroid, second moments and the region's mean band-pass, in mm from the first
       pixel (small numbers: the moments lose no precision far from the origin) */
    double ox = (double)(region[0] % width) * sp[1], oy = (double)(region[0] / width) * sp[0];
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, own = 0;
    for (size_t k = 0; k < n; k++) {
        double x = (double)(region[k] % width) * sp[1] - ox;
        double y = (double)(region[k] / width) * sp[0] - oy;
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
        own += band[region[k]];
    }
    double cx = sx / n, cy = sy / n;
    own /= n;
    if (!(own > 0.0))
        return 0.0;
    /* a line: both ways along its major axis (the eigenvector of the larger eigenvalue);
       a blob has none, so VESSEL_DIRECTIONS evenly spread */
    double vxx = sxx / n - cx * cx, vyy = syy / n - cy * cy, vxy = sxy / n - cx * cy;
    double axis = 0.5 * atan2(2.0 * vxy, vxx - vyy);
    int directions = linear ? 2 : VESSEL_DIRECTIONS;
    double best = NAN;
    for (int d = 0; d < directions; d++) {
        double angle = linear ? axis + d * M_PI : d * 2.0 * M_PI / VESSEL_DIRECTIONS;
        double ux = cos(angle), uy = sin(angle);
        double from = reach_along(region, n, width, sp, ox, oy, cx, cy, ux, uy);
        /* fmax takes the number when the other is NAN (a ray leaving band) */
        best = fmax(best, lowest_run_along(band, width, height, sp, ox + cx, oy + cy, ux, uy,
                                           from));
    }
    return isnan(best) ? 0.0 : best / own;
}
