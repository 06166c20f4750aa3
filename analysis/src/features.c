/*
 * ca_features_compute: the per-calcification vectors (shape, intensity, ring), then
 * per cluster the Tong, Marathe and topology features (calc/features.h states every
 * definition), then the image context of each cluster.
 */
#include "calc/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features_internal.h"

/* Relative slack of the fixed bins and of the topology link distance, so that a value
 * equal to an edge in exact arithmetic (a 5 x 2 rectangle's length ratio 2.5) falls on
 * the documented side whatever the rounding. */
#define EDGE_SLACK 1e-9
/* Centroid coordinates whose spread is below this fraction of their magnitude do not
 * vary (the correlation is then 0, not the ratio of two rounding errors). */
#define FLAT_SPREAD 1e-9
#define PI 3.14159265358979323846

#define FEATURE_NAME(e, name) name,
static const char *const calc_names[CA_CALC_FEATURE_COUNT] = {CA_CALC_FEATURES(FEATURE_NAME)};
static const char *const cluster_names[CA_CLUSTER_FEATURE_COUNT] = {
    CA_CLUSTER_FEATURES(FEATURE_NAME)};

_Static_assert(CA_CF_CALC_ENTROPY - CA_CF_CALC_MEAN + 1 == CA_FIRST_ORDER_COUNT,
               "first-order block size");
_Static_assert(CA_KF_TOPO_1MM_SUBGRAPHS - CA_KF_TOPO_05MM_SUBGRAPHS == CA_GRAPH_METRIC_COUNT,
               "topology block size");

const char *ca_calc_feature_name(size_t i)
{
    return i < CA_CALC_FEATURE_COUNT ? calc_names[i] : NULL;
}

const char *ca_cluster_feature_name(size_t i)
{
    return i < CA_CLUSTER_FEATURE_COUNT ? cluster_names[i] : NULL;
}

/* Per-cluster mean, std and max of a calcification feature. */
static const struct {
    int calc, cluster_mean;
} aggregates[] = {
    {CA_CF_AREA_MM2, CA_KF_AREA_MEAN},
    {CA_CF_PERIMETER_MM, CA_KF_PERIMETER_MEAN},
    {CA_CF_MAJOR_AXIS_MM, CA_KF_MAJOR_AXIS_MEAN},
    {CA_CF_MINOR_AXIS_MM, CA_KF_MINOR_AXIS_MEAN},
    {CA_CF_ECCENTRICITY, CA_KF_ECCENTRICITY_MEAN},
    {CA_CF_SOLIDITY, CA_KF_SOLIDITY_MEAN},
    {CA_CF_EXTENT, CA_KF_EXTENT_MEAN},
};

/* Tong's low / medium / high counts. */
static const struct {
    int calc, cluster_low;
    double edge1, edge2;
} bins[] = {
    {CA_CF_CALC_MEAN, CA_KF_DENSITY_BIN_LOW, CA_FEATURES_DENSITY_EDGE1, CA_FEATURES_DENSITY_EDGE2},
    {CA_CF_PERIMETER_MM, CA_KF_PERIMETER_BIN_LOW, CA_FEATURES_PERIMETER_EDGE1_MM,
     CA_FEATURES_PERIMETER_EDGE2_MM},
    {CA_CF_ROUNDNESS, CA_KF_ROUNDNESS_BIN_LOW, CA_FEATURES_ROUNDNESS_EDGE1,
     CA_FEATURES_ROUNDNESS_EDGE2},
    {CA_CF_MBR_LONG_MM, CA_KF_MBR_LONG_BIN_LOW, CA_FEATURES_MBR_LONG_EDGE1_MM,
     CA_FEATURES_MBR_LONG_EDGE2_MM},
    {CA_CF_RECTANGULARITY, CA_KF_RECTANGULARITY_BIN_LOW, CA_FEATURES_RECTANGULARITY_EDGE1,
     CA_FEATURES_RECTANGULARITY_EDGE2},
    {CA_CF_LENGTH_RATIO, CA_KF_LENGTH_RATIO_BIN_LOW, CA_FEATURES_LENGTH_RATIO_EDGE1,
     CA_FEATURES_LENGTH_RATIO_EDGE2},
};

static const double topology_scales_mm[CA_FEATURES_TOPOLOGY_SCALE_COUNT] =
    CA_FEATURES_TOPOLOGY_SCALES_MM;

/* Working state of one call. */
struct work {
    const struct ca_result *r;
    const double *sp;
    struct ca_shape *shapes; /* one per calcification */
    float *values;           /* scratch for intensities */
    size_t values_cap;
    struct ca_ring_scratch ring; /* reused by every ca_ring_measure of the call */
    struct ca_features *out;
};

static int check_result(const struct ca_result *r)
{
    if (r->cluster_count && !r->clusters)
        return CA_ERR_INVALID_ARGUMENT;
    if (r->calcification_count && (!r->calcifications || !r->labels || !r->normalized ||
                                   !r->breast_mask || r->rows == 0 || r->columns == 0))
        return CA_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < r->calcification_count; i++) {
        const uint32_t *b = r->calcifications[i].bbox;
        if (b[0] > b[2] || b[1] > b[3] || b[2] >= r->columns || b[3] >= r->rows ||
            r->calcifications[i].area_px == 0)
            return CA_ERR_INVALID_ARGUMENT;
    }
    for (size_t k = 0; k < r->cluster_count; k++) {
        const struct ca_cluster *c = &r->clusters[k];
        if (c->count && !c->members)
            return CA_ERR_INVALID_ARGUMENT;
        for (uint32_t m = 0; m < c->count; m++)
            if (c->members[m] >= r->calcification_count ||
                (m > 0 && c->members[m] <= c->members[m - 1]))
                return CA_ERR_INVALID_ARGUMENT;
    }
    return 0;
}

static int reserve_values(struct work *w, size_t n)
{
    if (n <= w->values_cap)
        return 0;
    float *v = realloc(w->values, n * sizeof(float));
    if (!v)
        return CA_ERR_OUT_OF_MEMORY;
    w->values = v;
    w->values_cap = n;
    return 0;
}

/* The pixels of calcification i: its shape, its intensities (into w->values), checked
 * against its bbox and area. */
static int measure_pixels(struct work *w, size_t i)
{
    const struct ca_result *r = w->r;
    const struct ca_calcification *c = &r->calcifications[i];
    uint32_t bw = c->bbox[2] - c->bbox[0] + 1, bh = c->bbox[3] - c->bbox[1] + 1;
    uint8_t *mask = malloc((size_t)bw * bh);
    int rc = mask ? reserve_values(w, c->area_px) : CA_ERR_OUT_OF_MEMORY;
    if (rc != 0) {
        free(mask);
        return rc;
    }
    size_t n = 0;
    for (uint32_t y = 0; y < bh; y++)
        for (uint32_t x = 0; x < bw; x++) {
            size_t img = (size_t)(c->bbox[1] + y) * r->columns + c->bbox[0] + x;
            uint8_t in = r->labels[img] == i + 1;
            mask[(size_t)y * bw + x] = in;
            if (in && n < c->area_px)
                w->values[n] = r->normalized[img];
            n += in;
        }
    rc = n == c->area_px
             ? ca_shape_measure(mask, bw, bh, c->bbox[0], c->bbox[1], w->sp, &w->shapes[i])
             : CA_ERR_INVALID_ARGUMENT;
    free(mask);
    return rc;
}

static int calcification_features(struct work *w, size_t i)
{
    int rc = measure_pixels(w, i);
    if (rc != 0)
        return rc;
    const struct ca_shape *s = &w->shapes[i];
    double *f = w->out->calcification + i * CA_CALC_FEATURE_COUNT;
    double g = sqrt(w->sp[0] * w->sp[1]), area = s->area_px;
    f[CA_CF_AREA_MM2] = area * w->sp[0] * w->sp[1];
    f[CA_CF_PERIMETER_MM] = s->perimeter_px * g;
    f[CA_CF_MAJOR_AXIS_MM] = 4.0 * sqrt(s->l1) * g;
    f[CA_CF_MINOR_AXIS_MM] = 4.0 * sqrt(s->l2) * g;
    f[CA_CF_ECCENTRICITY] = s->l1 == 0.0 ? 0.0 : sqrt(1.0 - s->l2 / s->l1);
    f[CA_CF_SOLIDITY] = area / s->convex_area_px;
    f[CA_CF_EXTENT] = area / s->bbox_area_px;
    f[CA_CF_ROUNDNESS] =
        s->perimeter_px > 0.0 ? 4.0 * PI * area / (s->perimeter_px * s->perimeter_px) : 0.0;
    f[CA_CF_MBR_LONG_MM] = s->mbr_long_mm;
    f[CA_CF_MBR_SHORT_MM] = s->mbr_short_mm;
    f[CA_CF_RECTANGULARITY] = f[CA_CF_AREA_MM2] / s->mbr_area_mm2;
    f[CA_CF_LENGTH_RATIO] = s->mbr_long_mm / s->mbr_short_mm;
    ca_first_order(w->values, s->area_px, &f[CA_CF_CALC_MEAN]);

    struct ca_ring ring;
    uint32_t self = (uint32_t)i;
    rc = ca_ring_measure(w->r, w->sp, &self, 1, w->r->calcifications[i].bbox, 0, &w->ring, &ring);
    if (rc != 0)
        return rc;
    f[CA_CF_DENSITY_8] = ring.density_8;
    memcpy(&f[CA_CF_RING_MEAN], ring.stats, sizeof(ring.stats));
    return 0;
}

/* Smallest squared distance (mm2) between border pixels of shapes a and b, or INFINITY
 * when their boxes are farther apart than limit_mm2. */
static double min_distance_sq(const struct ca_shape *a, const struct ca_shape *b,
                              const uint32_t *ba, const uint32_t *bb, const double sp[2],
                              double limit_mm2)
{
    double gx = 0.0, gy = 0.0;
    if (bb[0] > ba[2])
        gx = (double)(bb[0] - ba[2]);
    else if (ba[0] > bb[2])
        gx = (double)(ba[0] - bb[2]);
    if (bb[1] > ba[3])
        gy = (double)(bb[1] - ba[3]);
    else if (ba[1] > bb[3])
        gy = (double)(ba[1] - bb[3]);
    gx *= sp[1], gy *= sp[0];
    if (gx * gx + gy * gy > limit_mm2)
        return INFINITY;
    double best = INFINITY;
    for (size_t i = 0; i < a->border_count; i++)
        for (size_t j = 0; j < b->border_count; j++) {
            double dx = ((double)a->border_xy[2 * i] - b->border_xy[2 * j]) * sp[1];
            double dy = ((double)a->border_xy[2 * i + 1] - b->border_xy[2 * j + 1]) * sp[0];
            double d = dx * dx + dy * dy;
            best = d < best ? d : best;
        }
    return best;
}

/* Pairs of members closer than the widest link, with their squared distance. */
struct link {
    struct ca_edge e;
    double d2_mm2;
};

static int topology(struct work *w, const struct ca_cluster *c, double *f)
{
    size_t n = c->count, count = 0, cap = 0;
    double widest = 2.0 * topology_scales_mm[CA_FEATURES_TOPOLOGY_SCALE_COUNT - 1];
    widest = widest * widest * (1.0 + EDGE_SLACK);
    struct link *links = NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            uint32_t a = c->members[i], b = c->members[j];
            double d2 = min_distance_sq(&w->shapes[a], &w->shapes[b], w->r->calcifications[a].bbox,
                                        w->r->calcifications[b].bbox, w->sp, widest);
            if (!(d2 <= widest))
                continue;
            if (count == cap) {
                size_t grown = cap ? 2 * cap : 64;
                struct link *more = realloc(links, grown * sizeof(*links));
                if (!more) {
                    free(links);
                    return CA_ERR_OUT_OF_MEMORY;
                }
                links = more, cap = grown;
            }
            links[count++] = (struct link){{(uint32_t)i, (uint32_t)j}, d2};
        }
    struct ca_edge *edges = malloc((count ? count : 1) * sizeof(*edges));
    int rc = edges ? 0 : CA_ERR_OUT_OF_MEMORY;
    for (int s = 0; s < CA_FEATURES_TOPOLOGY_SCALE_COUNT && rc == 0; s++) {
        double link = 2.0 * topology_scales_mm[s];
        link = link * link * (1.0 + EDGE_SLACK);
        size_t m = 0;
        for (size_t k = 0; k < count; k++)
            if (links[k].d2_mm2 <= link)
                edges[m++] = links[k].e;
        rc = ca_graph_metrics(n, edges, m,
                              &f[CA_KF_TOPO_05MM_SUBGRAPHS + s * CA_GRAPH_METRIC_COUNT]);
    }
    free(edges);
    free(links);
    return rc;
}

/* Member statistics that need no pixels: aggregates, bins, sizes, centroid spread. */
static void member_statistics(struct work *w, const struct ca_cluster *c, double *f)
{
    size_t n = c->count;
    const double *calc = w->out->calcification;
    for (size_t a = 0; a < sizeof(aggregates) / sizeof(aggregates[0]); a++) {
        double sum = 0.0, max = 0.0, dev = 0.0;
        for (size_t m = 0; m < n; m++) {
            double v = calc[c->members[m] * CA_CALC_FEATURE_COUNT + aggregates[a].calc];
            sum += v;
            max = m == 0 || v > max ? v : max;
        }
        double mean = sum / (double)n;
        for (size_t m = 0; m < n; m++) {
            double v = calc[c->members[m] * CA_CALC_FEATURE_COUNT + aggregates[a].calc];
            dev += (v - mean) * (v - mean);
        }
        f[aggregates[a].cluster_mean] = mean;
        f[aggregates[a].cluster_mean + 1] = sqrt(dev / (double)n);
        f[aggregates[a].cluster_mean + 2] = max;
    }
    for (size_t b = 0; b < sizeof(bins) / sizeof(bins[0]); b++)
        for (size_t m = 0; m < n; m++) {
            double v = calc[c->members[m] * CA_CALC_FEATURE_COUNT + bins[b].calc];
            double e1 = bins[b].edge1 * (1.0 - EDGE_SLACK), e2 = bins[b].edge2 * (1.0 - EDGE_SLACK);
            f[bins[b].cluster_low + (v < e1 ? 0 : v < e2 ? 1 : 2)] += 1.0;
        }
    double density = 0.0, area_sum = 0.0;
    for (size_t m = 0; m < n; m++) {
        const double *v = &calc[c->members[m] * CA_CALC_FEATURE_COUNT];
        density += v[CA_CF_CALC_MEAN];
        area_sum += v[CA_CF_AREA_MM2];
        if (v[CA_CF_AREA_MM2] < CA_FEATURES_SIZE_SMALL_MM2 * (1.0 - EDGE_SLACK))
            f[CA_KF_SIZE_LT10] += 1.0;
        else if (v[CA_CF_AREA_MM2] > CA_FEATURES_SIZE_LARGE_MM2 * (1.0 + EDGE_SLACK))
            f[CA_KF_SIZE_GT30] += 1.0;
        else
            f[CA_KF_SIZE_10_30] += 1.0;
    }
    f[CA_KF_CALC_NUM] = (double)n;
    f[CA_KF_DENSITY] = density / (double)n;
    f[CA_KF_CALC_AREA_MM2] = area_sum;

    double mx = 0.0, my = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0, scale = 0.0, dist = 0.0;
    for (size_t m = 0; m < n; m++) {
        const struct ca_shape *s = &w->shapes[c->members[m]];
        mx += s->col_px * w->sp[1];
        my += s->row_px * w->sp[0];
    }
    mx /= (double)n, my /= (double)n;
    for (size_t m = 0; m < n; m++) {
        const struct ca_shape *s = &w->shapes[c->members[m]];
        double x = s->col_px * w->sp[1], y = s->row_px * w->sp[0];
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
        scale = fmax(scale, fmax(fabs(x), fabs(y)));
        for (size_t q = m + 1; q < n; q++) {
            const struct ca_shape *t = &w->shapes[c->members[q]];
            dist += hypot(x - t->col_px * w->sp[1], y - t->row_px * w->sp[0]);
        }
    }
    double flat = FLAT_SPREAD * scale;
    flat = flat * flat * (double)n;
    f[CA_KF_CENTROID_XY_CORRELATION] =
        n >= 2 && sxx > flat && syy > flat ? sxy / sqrt(sxx * syy) : 0.0;
    f[CA_KF_MEAN_PAIRWISE_DISTANCE_MM] = n >= 2 ? dist / ((double)n * (double)(n - 1) / 2.0) : 0.0;
}

/* Pixels of all members: first-order statistics and the convex hull area. */
static int member_pixels(struct work *w, const struct ca_cluster *c, double *f, uint32_t box[4])
{
    const struct ca_result *r = w->r;
    size_t total = 0, corners = 0;
    for (uint32_t m = 0; m < c->count; m++) {
        total += w->shapes[c->members[m]].area_px;
        corners += w->shapes[c->members[m]].hull_count;
    }
    int rc = reserve_values(w, total);
    struct ca_pt *hull = malloc(corners * sizeof(*hull));
    if (rc != 0 || !hull) {
        free(hull);
        return CA_ERR_OUT_OF_MEMORY;
    }
    size_t n = 0, h = 0;
    for (uint32_t m = 0; m < c->count; m++) {
        uint32_t id = c->members[m] + 1;
        const uint32_t *b = r->calcifications[id - 1].bbox;
        const struct ca_shape *s = &w->shapes[id - 1];
        for (uint32_t y = b[1]; y <= b[3]; y++)
            for (uint32_t x = b[0]; x <= b[2]; x++)
                if (r->labels[(size_t)y * r->columns + x] == id)
                    w->values[n++] = r->normalized[(size_t)y * r->columns + x];
        memcpy(hull + h, s->hull_mm, s->hull_count * sizeof(*hull));
        h += s->hull_count;
        if (m == 0)
            memcpy(box, b, 4 * sizeof(uint32_t));
        box[0] = b[0] < box[0] ? b[0] : box[0];
        box[1] = b[1] < box[1] ? b[1] : box[1];
        box[2] = b[2] > box[2] ? b[2] : box[2];
        box[3] = b[3] > box[3] ? b[3] : box[3];
    }
    ca_first_order(w->values, n, &f[CA_KF_CALC_MEAN]);
    size_t k = ca_hull(hull, h);
    f[CA_KF_HULL_AREA_MM2] = ca_polygon_area(hull, k);
    free(hull);
    return k ? 0 : CA_ERR_OUT_OF_MEMORY;
}

static int cluster_features(struct work *w, size_t k)
{
    const struct ca_cluster *c = &w->r->clusters[k];
    double *f = w->out->cluster + k * CA_CLUSTER_FEATURE_COUNT;
    if (c->count == 0)
        return 0;
    member_statistics(w, c, f);
    uint32_t box[4];
    int rc = member_pixels(w, c, f, box);
    if (rc != 0)
        return rc;
    struct ca_ring ring;
    rc = ca_ring_measure(w->r, w->sp, c->members, c->count, box, 1, &w->ring, &ring);
    if (rc != 0)
        return rc;
    f[CA_KF_DENSITY_8] = ring.density_8;
    f[CA_KF_DENSITY_32] = ring.density_32;
    memcpy(&f[CA_KF_RING_MEAN], ring.stats, sizeof(ring.stats));
    return topology(w, c, f);
}

/* The image context: cluster count and the largest cluster (most members, then the
 * largest hull area, then the lowest index). */
static void image_context(struct ca_features *out)
{
    size_t best = 0;
    for (size_t k = 1; k < out->cluster_count; k++) {
        const double *a = out->cluster + k * CA_CLUSTER_FEATURE_COUNT;
        const double *b = out->cluster + best * CA_CLUSTER_FEATURE_COUNT;
        if (a[CA_KF_CALC_NUM] > b[CA_KF_CALC_NUM] ||
            (a[CA_KF_CALC_NUM] == b[CA_KF_CALC_NUM] &&
             a[CA_KF_HULL_AREA_MM2] > b[CA_KF_HULL_AREA_MM2]))
            best = k;
    }
    for (size_t k = 0; k < out->cluster_count; k++) {
        double *f = out->cluster + k * CA_CLUSTER_FEATURE_COUNT;
        const double *b = out->cluster + best * CA_CLUSTER_FEATURE_COUNT;
        f[CA_KF_IMAGE_CLUSTER_COUNT] = (double)out->cluster_count;
        f[CA_KF_IMAGE_LARGEST_CALC_NUM] = b[CA_KF_CALC_NUM];
        f[CA_KF_IMAGE_LARGEST_AREA_MM2] = b[CA_KF_HULL_AREA_MM2];
    }
}

int ca_features_compute(const struct ca_result *result, const double spacing_mm[2],
                        struct ca_features *out)
{
    if (!out)
        return CA_ERR_INVALID_ARGUMENT;
    *out = (struct ca_features){0};
    if (!result || !spacing_mm)
        return CA_ERR_INVALID_ARGUMENT;
    for (int k = 0; k < 2; k++)
        if (!isfinite(spacing_mm[k]) || !(spacing_mm[k] > 0.0))
            return CA_ERR_BAD_SPACING;
    int rc = check_result(result);
    if (rc != 0)
        return rc;
    size_t n = result->calcification_count, nk = result->cluster_count;
    struct work w = {.r = result, .sp = spacing_mm, .out = out};
    out->calcification_count = n;
    out->cluster_count = nk;
    out->calcification = calloc(n ? n * CA_CALC_FEATURE_COUNT : 1, sizeof(double));
    out->cluster = calloc(nk ? nk * CA_CLUSTER_FEATURE_COUNT : 1, sizeof(double));
    w.shapes = calloc(n ? n : 1, sizeof(*w.shapes));
    if (!out->calcification || !out->cluster || !w.shapes)
        rc = CA_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = calcification_features(&w, i);
    for (size_t k = 0; k < nk && rc == 0; k++)
        rc = cluster_features(&w, k);
    if (rc == 0)
        image_context(out);
    if (w.shapes)
        for (size_t i = 0; i < n; i++)
            ca_shape_release(&w.shapes[i]);
    free(w.shapes);
    free(w.values);
    ca_ring_scratch_release(&w.ring);
    if (rc != 0)
        ca_features_free(out);
    return rc;
}

void ca_features_free(struct ca_features *features)
{
    if (!features)
        return;
    free(features->calcification);
    free(features->cluster);
    *features = (struct ca_features){0};
}
