/* Calcifications: shapes, partial-volume rendering with exact masks, and their
 * placement as benign scatter, benign groups, vascular calcification, and malignant
 * clusters (clustered or segmental), after the BI-RADS descriptors (ACR BI-RADS Atlas,
 * 5th ed.: typically benign round, rim, vascular; suspicious amorphous, fine
 * pleomorphic, fine linear or fine-linear branching; grouped, segmental distribution). */
#include "scene.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUBSAMPLES 4          /* per pixel side, for coverage and partial volume */
#define MAX_SEGMENTS 8
#define MAX_HARMONICS 4
#define PLACE_ATTEMPTS 400
#define CLUSTER_ATTEMPTS 40
#define MIN_GAP_PX 1          /* free pixels kept around every calcification */
#define MIN_CALC_THICKNESS 0.7 /* calcifications lie in the full-thickness breast */
#define MALIGNANT_MIN_COUNT 6 /* a suspicious cluster: >= 6 within about 1 cm2 */
#define CLUSTER_SEPARATION_MM 20.0
#define SCATTER_SEPARATION_MM 10.0

enum shape_type { SHAPE_BLOB, SHAPE_CHAIN };

struct shape {
    enum shape_type type;
    double cx, cy;                 /* centre, px */
    double radius_px, elongation, angle;
    double harm_amp[MAX_HARMONICS], harm_phase[MAX_HARMONICS]; /* k = 2 .. 5 */
    double lucent;                 /* inner radius fraction of a rim calcification, or 0 */
    double seg[MAX_SEGMENTS][4];   /* chain segments x0, y0, x1, y1, px */
    int seg_count;
    double half_width_px;
};

/* Normalised projected thickness 0..1 of the shape at (x, y); 0 outside. */
static double shape_height(const struct shape *sh, double x, double y)
{
    if (sh->type == SHAPE_BLOB) {
        double dx = x - sh->cx, dy = y - sh->cy;
        double ca = cos(sh->angle), sa = sin(sh->angle);
        double u = (dx * ca + dy * sa) / sh->elongation, v = -dx * sa + dy * ca;
        double rho = sqrt(u * u + v * v);
        double theta = atan2(v, u);
        double r = sh->radius_px;
        for (int k = 0; k < MAX_HARMONICS; k++)
            r *= 1.0 + sh->harm_amp[k] * cos((k + 2) * theta + sh->harm_phase[k]);
        double q = rho / r;
        if (q >= 1.0)
            return 0.0;
        double h = sqrt(1.0 - q * q);
        if (sh->lucent > 0 && q < sh->lucent) /* a shell: the hollow centre is lucent */
            h -= sqrt(sh->lucent * sh->lucent - q * q);
        return h;
    }
    double best = INFINITY;
    for (int i = 0; i < sh->seg_count; i++) {
        const double *g = sh->seg[i];
        double dx = g[2] - g[0], dy = g[3] - g[1];
        double len2 = dx * dx + dy * dy;
        double t = len2 > 0 ? ((x - g[0]) * dx + (y - g[1]) * dy) / len2 : 0.0;
        t = t < 0 ? 0 : (t > 1 ? 1 : t);
        double ex = x - g[0] - t * dx, ey = y - g[1] - t * dy;
        double d2 = ex * ex + ey * ey;
        if (d2 < best)
            best = d2;
    }
    double q = best / (sh->half_width_px * sh->half_width_px);
    return q < 1.0 ? sqrt(1.0 - q) : 0.0;
}

static void shape_bbox(const struct shape *sh, int box[4])
{
    double x0, y0, x1, y1;
    if (sh->type == SHAPE_BLOB) {
        double r = sh->radius_px * fmax(sh->elongation, 1.0);
        for (int k = 0; k < MAX_HARMONICS; k++)
            r *= 1.0 + fabs(sh->harm_amp[k]);
        x0 = sh->cx - r;
        x1 = sh->cx + r;
        y0 = sh->cy - r;
        y1 = sh->cy + r;
    } else {
        x0 = y0 = INFINITY;
        x1 = y1 = -INFINITY;
        for (int i = 0; i < sh->seg_count; i++) {
            for (int e = 0; e < 4; e += 2) {
                x0 = fmin(x0, sh->seg[i][e]);
                x1 = fmax(x1, sh->seg[i][e]);
                y0 = fmin(y0, sh->seg[i][e + 1]);
                y1 = fmax(y1, sh->seg[i][e + 1]);
            }
        }
        x0 -= sh->half_width_px;
        y0 -= sh->half_width_px;
        x1 += sh->half_width_px;
        y1 += sh->half_width_px;
    }
    box[0] = (int)floor(x0) - 1;
    box[1] = (int)floor(y0) - 1;
    box[2] = (int)ceil(x1) + 1;
    box[3] = (int)ceil(y1) + 1;
}

static int append_meta(struct scene *s, const struct calc_meta *meta)
{
    if (s->calc_count == s->calc_cap) {
        size_t cap = s->calc_cap ? 2 * s->calc_cap : 64;
        struct calc_meta *grown = realloc(s->calcs, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->calcs = grown;
        s->calc_cap = cap;
    }
    s->calcs[s->calc_count++] = *meta;
    return 0;
}

/* Draws sh with the given peak contrast as calcification number calc_count + 1.
 * Returns 1 drawn, 0 rejected (leaves the image, overlaps another calcification or lies
 * outside the full-thickness breast), -1 out of memory. */
static int draw_calc(struct scene *s, const struct shape *sh, struct calc_meta *meta)
{
    int box[4];
    shape_bbox(sh, box);
    if (box[0] - MIN_GAP_PX < 0 || box[1] - MIN_GAP_PX < 0 ||
        box[2] + MIN_GAP_PX >= (int)s->cols || box[3] + MIN_GAP_PX >= (int)s->rows)
        return 0;
    for (int y = box[1] - MIN_GAP_PX; y <= box[3] + MIN_GAP_PX; y++)
        for (int x = box[0] - MIN_GAP_PX; x <= box[2] + MIN_GAP_PX; x++) {
            size_t i = (size_t)y * s->cols + (size_t)x;
            if (s->mask[i] != 0 || s->breast[i] != 1)
                return 0;
        }
    if (scene_thickness(s, sh->cx, sh->cy) < MIN_CALC_THICKNESS)
        return 0;
    int w = box[2] - box[0] + 1, h = box[3] - box[1] + 1;
    double *height = malloc((size_t)w * h * sizeof *height);
    int *coverage = malloc((size_t)w * h * sizeof *coverage);
    if (!height || !coverage) {
        free(height);
        free(coverage);
        return -1;
    }
    int covered_px = 0, best = -1;
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            double sum = 0;
            int inside = 0;
            for (int sj = 0; sj < SUBSAMPLES; sj++)
                for (int si = 0; si < SUBSAMPLES; si++) {
                    double x = box[0] + i - 0.5 + (si + 0.5) / SUBSAMPLES;
                    double y = box[1] + j - 0.5 + (sj + 0.5) / SUBSAMPLES;
                    double hv = shape_height(sh, x, y);
                    sum += hv;
                    inside += hv > 0;
                }
            size_t k = (size_t)j * w + i;
            height[k] = sum / (SUBSAMPLES * SUBSAMPLES);
            coverage[k] = inside;
            if (2 * inside >= SUBSAMPLES * SUBSAMPLES)
                covered_px++;
            if (best < 0 || inside > coverage[best])
                best = (int)k;
        }
    if (coverage[best] == 0) {
        free(height);
        free(coverage);
        return 0;
    }
    uint16_t label = (uint16_t)(s->calc_count + 1);
    /* attenuation adds to the log signal; after display processing a calcification on
     * dense tissue shows less contrast than the same one on fat */
    double local = s->img[(size_t)lround(sh->cy) * s->cols + (size_t)lround(sh->cx)];
    double factor = 1.3 - fmin(fmax(local, 0.0), 1.0);
    meta->peak_contrast *= factor;
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            size_t k = (size_t)j * w + i;
            size_t p = (size_t)(box[1] + j) * s->cols + (size_t)(box[0] + i);
            s->img[p] += (float)(meta->peak_contrast * height[k]);
            int in_mask = covered_px > 0 ? 2 * coverage[k] >= SUBSAMPLES * SUBSAMPLES
                                         : (int)k == best;
            if (in_mask)
                s->mask[p] = label;
        }
    free(height);
    free(coverage);
    return append_meta(s, meta) == 0 ? 1 : -1;
}

static void blob_shape(struct shape *sh, struct cn_rng *rng, double cx, double cy,
                       double radius_px, double irregularity, double max_elongation)
{
    memset(sh, 0, sizeof *sh);
    sh->type = SHAPE_BLOB;
    sh->cx = cx;
    sh->cy = cy;
    sh->radius_px = radius_px;
    sh->elongation = cn_rng_range(rng, 1.0, max_elongation);
    sh->angle = cn_rng_range(rng, 0, M_PI);
    for (int k = 0; k < MAX_HARMONICS; k++) {
        sh->harm_amp[k] = irregularity * cn_rng_range(rng, 0, 1) / (k + 1);
        sh->harm_phase[k] = cn_rng_range(rng, 0, 2 * M_PI);
    }
}

/* A fine linear or branching calcification: a bent rod of length_px along angle, with
 * an optional side branch. */
static void chain_shape(struct shape *sh, struct cn_rng *rng, double cx, double cy,
                        double length_px, double half_width_px, double angle)
{
    memset(sh, 0, sizeof *sh);
    sh->type = SHAPE_CHAIN;
    sh->cx = cx;
    sh->cy = cy;
    sh->half_width_px = half_width_px;
    int pieces = cn_rng_int(rng, 1, 3);
    double piece = length_px / pieces;
    double x = cx - 0.5 * length_px * cos(angle), y = cy - 0.5 * length_px * sin(angle);
    for (int i = 0; i < pieces; i++) {
        double a = angle + 0.35 * cn_rng_normal(rng);
        double nx = x + piece * cos(a), ny = y + piece * sin(a);
        double *g = sh->seg[sh->seg_count++];
        g[0] = x;
        g[1] = y;
        g[2] = nx;
        g[3] = ny;
        x = nx;
        y = ny;
    }
    if (cn_rng_uniform(rng) < 0.45) {
        const double *from = sh->seg[cn_rng_int(rng, 0, sh->seg_count - 1)];
        double t = cn_rng_range(rng, 0.3, 0.9);
        double bx = from[0] + t * (from[2] - from[0]), by = from[1] + t * (from[3] - from[1]);
        double side = cn_rng_uniform(rng) < 0.5 ? -1.0 : 1.0;
        double a = angle + side * cn_rng_range(rng, 0.45, 0.9);
        double blen = length_px * cn_rng_range(rng, 0.3, 0.6);
        double *g = sh->seg[sh->seg_count++];
        g[0] = bx;
        g[1] = by;
        g[2] = bx + blen * cos(a);
        g[3] = by + blen * sin(a);
    }
}

/* One suspicious calcification near (cx, cy); along is the duct direction for linear
 * forms (or NAN for any). 1 drawn, 0 rejected, -1 out of memory. */
static int malignant_calc(struct scene *s, struct cn_rng *rng, double cx, double cy,
                          double along, double linear_share, int cluster_id)
{
    struct shape sh;
    struct calc_meta meta = {.kind = CN_PHANTOM_CALC_MALIGNANT, .cluster_id = cluster_id};
    double pick = cn_rng_uniform(rng);
    if (pick < linear_share) {
        double length_mm = cn_rng_range(rng, 0.4, 1.5);
        double width_mm = cn_rng_range(rng, 0.1, 0.16);
        double angle = isnan(along) ? cn_rng_range(rng, 0, M_PI) : along + 0.3 * cn_rng_normal(rng);
        chain_shape(&sh, rng, cx, cy, length_mm * s->px_mm, 0.5 * width_mm * s->px_mm, angle);
        meta.morphology = "fine-linear-branching";
        meta.size_mm = length_mm;
        meta.peak_contrast = cn_rng_range(rng, 0.07, 0.12);
    } else if (pick < linear_share + 0.2) {
        double d_mm = cn_rng_range(rng, 0.1, 0.2);
        blob_shape(&sh, rng, cx, cy, 0.5 * d_mm * s->px_mm, 0.1, 1.3);
        meta.morphology = "amorphous";
        meta.size_mm = d_mm;
        meta.peak_contrast = cn_rng_range(rng, 0.04, 0.07);
    } else {
        double d_mm = cn_rng_range(rng, 0.1, 0.5);
        blob_shape(&sh, rng, cx, cy, 0.5 * d_mm * s->px_mm, 0.45, 1.8);
        meta.morphology = "pleomorphic";
        meta.size_mm = d_mm;
        meta.peak_contrast = 0.06 + 0.25 * d_mm;
    }
    return draw_calc(s, &sh, &meta);
}

/* One benign calcification: round (0.5-1 mm), rim / lucent-centred, or punctate. */
static int benign_calc(struct scene *s, struct cn_rng *rng, double cx, double cy,
                       int cluster_id)
{
    struct shape sh;
    struct calc_meta meta = {.kind = CN_PHANTOM_CALC_BENIGN, .cluster_id = cluster_id};
    double pick = cn_rng_uniform(rng);
    double d_mm;
    if (pick < 0.5) {
        d_mm = cn_rng_range(rng, 0.5, 1.0);
        blob_shape(&sh, rng, cx, cy, 0.5 * d_mm * s->px_mm, 0.04, 1.15);
        meta.morphology = "round";
        meta.peak_contrast = cn_rng_range(rng, 0.18, 0.3);
    } else if (pick < 0.75) {
        d_mm = cn_rng_range(rng, 0.6, 1.2);
        blob_shape(&sh, rng, cx, cy, 0.5 * d_mm * s->px_mm, 0.03, 1.1);
        sh.lucent = cn_rng_range(rng, 0.6, 0.8);
        meta.morphology = "rim";
        meta.peak_contrast = cn_rng_range(rng, 0.22, 0.32);
    } else {
        d_mm = cn_rng_range(rng, 0.3, 0.5);
        blob_shape(&sh, rng, cx, cy, 0.5 * d_mm * s->px_mm, 0.04, 1.15);
        meta.morphology = "punctate";
        meta.peak_contrast = cn_rng_range(rng, 0.1, 0.18);
    }
    meta.size_mm = d_mm;
    return draw_calc(s, &sh, &meta);
}

static int add_cluster(struct scene *s, enum cn_phantom_calc_kind label,
                       const char *distribution, double cx, double cy)
{
    if (s->cluster_count == s->cluster_cap) {
        size_t cap = s->cluster_cap ? 2 * s->cluster_cap : 8;
        struct cluster_meta *grown = realloc(s->clusters, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->clusters = grown;
        s->cluster_cap = cap;
    }
    s->clusters[s->cluster_count++] =
        (struct cluster_meta){.label = label, .distribution = distribution, .cx_px = cx,
                              .cy_px = cy};
    return (int)s->cluster_count;
}

/* A free spot: full thickness, no pectoral, at least clearance_mm from the skin and
 * separation_mm from every calcification drawn so far. 0 ok, -1 none found. */
static int free_spot(const struct scene *s, struct cn_rng *rng, double clearance_mm,
                     double separation_mm, double *x, double *y)
{
    double sep_px = separation_mm * s->px_mm;
    for (int attempt = 0; attempt < PLACE_ATTEMPTS; attempt++) {
        double cx = cn_rng_range(rng, 0, fmin(s->depth_px, s->cols - 1.0));
        double cy = cn_rng_range(rng, 0, s->rows - 1.0);
        double rho, skin;
        scene_outline(s, cx, cy, &rho, &skin);
        if (rho >= 1.0 || skin < clearance_mm * s->px_mm + s->falloff_px ||
            cx < clearance_mm * s->px_mm || scene_pectoral(s, cx, cy) > 0 ||
            cy < clearance_mm * s->px_mm || cy > s->rows - 1 - clearance_mm * s->px_mm)
            continue;
        int near = 0;
        int r = (int)ceil(sep_px);
        int x0 = (int)cx - r, x1 = (int)cx + r, y0 = (int)cy - r, y1 = (int)cy + r;
        for (int yy = y0 < 0 ? 0 : y0; !near && yy <= y1 && yy < (int)s->rows; yy += 2)
            for (int xx = x0 < 0 ? 0 : x0; xx <= x1 && xx < (int)s->cols; xx += 2)
                if (s->mask[(size_t)yy * s->cols + (size_t)xx]) {
                    near = 1;
                    break;
                }
        if (near)
            continue;
        *x = cx;
        *y = cy;
        return 0;
    }
    return -1;
}

/* >= 6 pleomorphic / fine-linear / amorphous calcifications within about 1 cm2. */
static int malignant_clustered(struct scene *s, struct cn_rng *rng)
{
    double cx, cy;
    if (free_spot(s, rng, 8.0, CLUSTER_SEPARATION_MM, &cx, &cy) != 0)
        return 0;
    int id = add_cluster(s, CN_PHANTOM_CALC_MALIGNANT, "clustered", cx, cy);
    if (id < 0)
        return -1;
    int target = cn_rng_int(rng, 6, 18);
    double radius_px = cn_rng_range(rng, 2.5, 5.0) * s->px_mm;
    double elong = cn_rng_range(rng, 1.0, 2.0), angle = cn_rng_range(rng, 0, M_PI);
    int placed = 0;
    for (int attempt = 0; attempt < PLACE_ATTEMPTS && placed < target; attempt++) {
        double r = radius_px * sqrt(cn_rng_uniform(rng)), phi = cn_rng_range(rng, 0, 2 * M_PI);
        double u = r * cos(phi), v = r * sin(phi) / elong;
        double x = cx + u * cos(angle) - v * sin(angle), y = cy + u * sin(angle) + v * cos(angle);
        int rc = malignant_calc(s, rng, x, y, NAN, 0.25, id);
        if (rc < 0)
            return -1;
        placed += rc;
    }
    return 0;
}

/* Calcifications along a branching duct toward the nipple (segmental distribution),
 * mostly fine linear forms aligned with the duct. */
static int malignant_segmental(struct scene *s, struct cn_rng *rng)
{
    double cx, cy;
    if (free_spot(s, rng, 12.0, CLUSTER_SEPARATION_MM, &cx, &cy) != 0)
        return 0;
    int id = add_cluster(s, CN_PHANTOM_CALC_MALIGNANT, "segmental", cx, cy);
    if (id < 0)
        return -1;
    double toward = atan2(s->nipple_y - cy, s->nipple_x - cx);
    double length_px = cn_rng_range(rng, 12.0, 25.0) * s->px_mm;
    /* the duct tree: a trunk through the centre and up to three branches */
    double duct[4][5];
    int ducts = 1 + cn_rng_int(rng, 1, 3);
    duct[0][0] = cx - 0.5 * length_px * cos(toward);
    duct[0][1] = cy - 0.5 * length_px * sin(toward);
    duct[0][2] = cx + 0.5 * length_px * cos(toward);
    duct[0][3] = cy + 0.5 * length_px * sin(toward);
    duct[0][4] = toward;
    for (int d = 1; d < ducts; d++) {
        double t = cn_rng_range(rng, 0.1, 0.7);
        double a = toward + (cn_rng_uniform(rng) < 0.5 ? -1 : 1) * cn_rng_range(rng, 0.3, 0.7);
        double len = length_px * cn_rng_range(rng, 0.3, 0.5);
        duct[d][0] = duct[0][0] + t * (duct[0][2] - duct[0][0]);
        duct[d][1] = duct[0][1] + t * (duct[0][3] - duct[0][1]);
        duct[d][2] = duct[d][0] + len * cos(a);
        duct[d][3] = duct[d][1] + len * sin(a);
        duct[d][4] = a;
    }
    int target = cn_rng_int(rng, 10, 25);
    int placed = 0;
    for (int attempt = 0; attempt < PLACE_ATTEMPTS && placed < target; attempt++) {
        const double *g = duct[cn_rng_int(rng, 0, ducts - 1)];
        double t = cn_rng_uniform(rng);
        double jitter = 0.3 * s->px_mm * cn_rng_normal(rng);
        double x = g[0] + t * (g[2] - g[0]) - jitter * sin(g[4]);
        double y = g[1] + t * (g[3] - g[1]) + jitter * cos(g[4]);
        int rc = malignant_calc(s, rng, x, y, g[4], 0.6, id);
        if (rc < 0)
            return -1;
        placed += rc;
    }
    return 0;
}

/* A benign group: a few round or punctate calcifications within about 1 cm. */
static int benign_group(struct scene *s, struct cn_rng *rng)
{
    double cx, cy;
    if (free_spot(s, rng, 8.0, CLUSTER_SEPARATION_MM, &cx, &cy) != 0)
        return 0;
    int id = add_cluster(s, CN_PHANTOM_CALC_BENIGN, "grouped", cx, cy);
    if (id < 0)
        return -1;
    int target = cn_rng_int(rng, 4, 8), placed = 0;
    double radius_px = cn_rng_range(rng, 4.0, 7.0) * s->px_mm;
    for (int attempt = 0; attempt < PLACE_ATTEMPTS && placed < target; attempt++) {
        double r = radius_px * sqrt(cn_rng_uniform(rng)), phi = cn_rng_range(rng, 0, 2 * M_PI);
        int rc = benign_calc(s, rng, cx + r * cos(phi), cy + r * sin(phi), id);
        if (rc < 0)
            return -1;
        placed += rc;
    }
    return 0;
}

static int benign_scatter(struct scene *s, struct cn_rng *rng, int count)
{
    for (int i = 0; i < count; i++) {
        double x, y;
        if (free_spot(s, rng, 3.0, SCATTER_SEPARATION_MM, &x, &y) != 0)
            return 0;
        if (benign_calc(s, rng, x, y, 0) < 0)
            return -1;
    }
    return 0;
}

/* Linear vascular calcification: interrupted tram-track pieces along both walls of a
 * stretch of one vessel. Benign, never part of a cluster. */
static int vascular(struct scene *s, struct cn_rng *rng, const struct vessel *v)
{
    int first = cn_rng_int(rng, 1, v->point_count - 3);
    int span = cn_rng_int(rng, 3, 10); /* vessel points are 2 mm apart */
    for (int wall = -1; wall <= 1; wall += 2) {
        for (int k = first; k < first + span && k + 1 < v->point_count; k++) {
            if (cn_rng_uniform(rng) < 0.3)
                continue; /* interrupted */
            double dx = v->x[k + 1] - v->x[k], dy = v->y[k + 1] - v->y[k];
            double len = sqrt(dx * dx + dy * dy);
            if (len <= 0)
                continue;
            double nx = -dy / len, ny = dx / len;
            double off = wall * 0.85 * v->radius_px[k];
            double t0 = cn_rng_range(rng, 0.0, 0.3), t1 = cn_rng_range(rng, 0.6, 1.0);
            struct shape sh;
            memset(&sh, 0, sizeof sh);
            sh.type = SHAPE_CHAIN;
            sh.half_width_px = fmax(0.6, cn_rng_range(rng, 0.05, 0.1) * s->px_mm);
            sh.seg[0][0] = v->x[k] + t0 * dx + off * nx;
            sh.seg[0][1] = v->y[k] + t0 * dy + off * ny;
            sh.seg[0][2] = v->x[k] + t1 * dx + off * nx;
            sh.seg[0][3] = v->y[k] + t1 * dy + off * ny;
            sh.seg_count = 1;
            sh.cx = 0.5 * (sh.seg[0][0] + sh.seg[0][2]);
            sh.cy = 0.5 * (sh.seg[0][1] + sh.seg[0][3]);
            struct calc_meta meta = {.kind = CN_PHANTOM_CALC_BENIGN,
                                     .morphology = "vascular",
                                     .size_mm = (t1 - t0) * len * s->mm_px,
                                     .peak_contrast = cn_rng_range(rng, 0.12, 0.2)};
            if (draw_calc(s, &sh, &meta) < 0)
                return -1;
        }
    }
    return 0;
}

int scene_calcifications(struct scene *s, struct cn_rng *rng)
{
    enum cn_phantom_kind kind = s->p.kind;
    if (kind == CN_PHANTOM_NORMAL)
        return 0;
    if (kind == CN_PHANTOM_MALIGNANT || kind == CN_PHANTOM_MIXED) {
        int clusters = cn_rng_int(rng, 1, 2);
        for (int i = 0; i < clusters; i++) {
            int rc = cn_rng_uniform(rng) < 0.65 ? malignant_clustered(s, rng)
                                                : malignant_segmental(s, rng);
            if (rc < 0)
                return -1;
        }
    }
    if (kind == CN_PHANTOM_BENIGN || kind == CN_PHANTOM_MIXED) {
        if (cn_rng_uniform(rng) < 0.6 && benign_group(s, rng) < 0)
            return -1;
        if (benign_scatter(s, rng, cn_rng_int(rng, 3, 10)) < 0)
            return -1;
        int with_calc = s->vessel_count > 0 ? cn_rng_int(rng, 1, 2) : 0;
        for (int i = 0; i < with_calc && i < s->vessel_count; i++)
            if (s->vessels[i].point_count >= 5 && vascular(s, rng, &s->vessels[i]) < 0)
                return -1;
    }
    return 0;
}
