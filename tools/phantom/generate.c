/* The phantom pipeline: geometry, parenchyma, strands, vessels, calcifications, quantum
 * noise, detector blur, electronic noise, quantisation; then the mirror for a right
 * breast and the truth measured on the final mask. */
#include "scene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Intensities as fractions of full scale (For Presentation, after display processing,
 * which equalises the periphery: tissue signal scales with sqrt(thickness)). */
#define AIR_LEVEL 0.03
#define FAT_LEVEL 0.36
#define DENSE_LEVEL 0.72
#define PECTORAL_LEVEL 0.68
#define SKIN_CONTRAST 0.05
#define TEXTURE_GAIN 0.28       /* glandular fraction per unit texture */
#define STRAND_GAIN 0.035
#define TEXTURE_MIN_SCALE_MM 0.2
#define TEXTURE_MAX_SCALE_MM 25.0
#define BETA_MIN 2.6
#define BETA_MAX 3.2
/* Noise: variance = QUANTUM_GAIN * signal (Poisson-like) before the detector MTF, plus
 * electronic noise of standard deviation ELECTRONIC_SD after it. */
#define QUANTUM_GAIN 1.2e-4
#define ELECTRONIC_SD 0.0015
#define MTF_SIGMA_MM 0.045      /* Gaussian line spread of a direct-conversion detector */

int cn_phantom_params_check(const struct cn_phantom_params *p, char *err, size_t err_len)
{
    if (p->rows < CN_PHANTOM_MIN_SIDE_PX || p->rows > CN_PHANTOM_MAX_SIDE_PX ||
        p->columns < CN_PHANTOM_MIN_SIDE_PX || p->columns > CN_PHANTOM_MAX_SIDE_PX) {
        snprintf(err, err_len, "image size %ux%u is outside %d..%d", p->rows, p->columns,
                 CN_PHANTOM_MIN_SIDE_PX, CN_PHANTOM_MAX_SIDE_PX);
        return -1;
    }
    if (!(p->spacing_mm >= CN_PHANTOM_MIN_SPACING_MM &&
          p->spacing_mm <= CN_PHANTOM_MAX_SPACING_MM)) {
        snprintf(err, err_len, "pixel spacing %g mm is outside %g..%g", p->spacing_mm,
                 CN_PHANTOM_MIN_SPACING_MM, CN_PHANTOM_MAX_SPACING_MM);
        return -1;
    }
    if (p->bits < CN_PHANTOM_MIN_BITS || p->bits > CN_PHANTOM_MAX_BITS) {
        snprintf(err, err_len, "bits stored %u is outside %d..%d", p->bits,
                 CN_PHANTOM_MIN_BITS, CN_PHANTOM_MAX_BITS);
        return -1;
    }
    if (p->laterality != 'L' && p->laterality != 'R') {
        snprintf(err, err_len, "laterality must be L or R");
        return -1;
    }
    if (p->view != CN_PHANTOM_CC && p->view != CN_PHANTOM_MLO) {
        snprintf(err, err_len, "view must be CC or MLO");
        return -1;
    }
    if (p->kind < CN_PHANTOM_NORMAL || p->kind > CN_PHANTOM_MIXED) {
        snprintf(err, err_len, "unknown phantom kind");
        return -1;
    }
    return 0;
}

static const char *const kind_names[] = {"normal", "benign", "malignant", "mixed"};

int cn_phantom_kind_parse(const char *word, enum cn_phantom_kind *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(word, kind_names[i]) == 0) {
            *out = (enum cn_phantom_kind)i;
            return 0;
        }
    return -1;
}

const char *cn_phantom_kind_name(enum cn_phantom_kind kind)
{
    return kind >= CN_PHANTOM_NORMAL && kind <= CN_PHANTOM_MIXED ? kind_names[kind] : "?";
}

int cn_phantom_view_parse(const char *word, enum cn_phantom_view *out)
{
    if (strcmp(word, "CC") == 0)
        *out = CN_PHANTOM_CC;
    else if (strcmp(word, "MLO") == 0)
        *out = CN_PHANTOM_MLO;
    else
        return -1;
    return 0;
}

const char *cn_phantom_view_name(enum cn_phantom_view view)
{
    return view == CN_PHANTOM_CC ? "CC" : "MLO";
}

const char *cn_phantom_calc_kind_name(enum cn_phantom_calc_kind kind)
{
    return kind == CN_PHANTOM_CALC_MALIGNANT ? "malignant" : "benign";
}

/* PS3.3 C.7.6.1.1.1 Patient Orientation and the IHE Mammography Image profile: rows
 * toward A (L) or P (R); columns toward R / L for CC, FR / FL for MLO. */
static const char *patient_orientation(char laterality, enum cn_phantom_view view)
{
    if (view == CN_PHANTOM_CC)
        return laterality == 'L' ? "A\\R" : "P\\L";
    return laterality == 'L' ? "A\\FR" : "P\\FL";
}

/* Parenchyma, skin and pectoral muscle into s->img from the texture in s->aux; labels
 * s->breast. */
static void compose_tissue(struct scene *s)
{
    for (uint32_t y = 0; y < s->rows; y++) {
        for (uint32_t x = 0; x < s->cols; x++) {
            size_t i = (size_t)y * s->cols + x;
            double rho, skin;
            scene_outline(s, x, y, &rho, &skin);
            double t = scene_thickness_at(s, rho, skin);
            if (t <= 0) {
                s->img[i] = (float)AIR_LEVEL;
                s->breast[i] = 0;
                continue;
            }
            double tex = s->aux[i];
            double env = scene_envelope(s, x, y);
            double g = s->density * env + TEXTURE_GAIN * tex * (0.35 + 0.65 * env);
            g = g < 0 ? 0 : (g > 1 ? 1 : g);
            double tissue = FAT_LEVEL + (DENSE_LEVEL - FAT_LEVEL) * g;
            double pect = scene_pectoral(s, x, y);
            tissue = (1.0 - pect) * tissue + pect * (PECTORAL_LEVEL + 0.04 * tex);
            double v = AIR_LEVEL + sqrt(t) * (tissue - AIR_LEVEL);
            if (skin < s->skin_px)
                v += SKIN_CONTRAST * sin(M_PI * skin / s->skin_px);
            s->img[i] = (float)v;
            s->breast[i] = pect >= 0.5 ? 2 : 1;
        }
    }
}

/* Adds gain * aux (times thickness weight) inside the breast. */
static void add_layer(struct scene *s, double gain, int weight_by_envelope)
{
    for (uint32_t y = 0; y < s->rows; y++) {
        for (uint32_t x = 0; x < s->cols; x++) {
            size_t i = (size_t)y * s->cols + x;
            if (s->aux[i] == 0.0f || s->breast[i] == 0)
                continue;
            double w = sqrt(scene_thickness(s, x, y)) *
                       (1.0 - scene_pectoral(s, x, y));
            if (weight_by_envelope)
                w *= 0.4 + 0.6 * scene_envelope(s, x, y);
            s->img[i] += (float)(gain * w * s->aux[i]);
        }
    }
}

/* Separable Gaussian blur of img (the detector's presampling MTF), aux as scratch. */
static void blur(struct scene *s, double sigma_px)
{
    enum { MAX_RADIUS = 16 };
    int radius = (int)ceil(3.0 * sigma_px);
    if (radius < 1)
        radius = 1;
    if (radius > MAX_RADIUS)
        radius = MAX_RADIUS;
    double k[MAX_RADIUS + 1], sum = 0;
    for (int i = 0; i <= radius; i++) {
        k[i] = exp(-0.5 * i * i / (sigma_px * sigma_px));
        sum += i ? 2 * k[i] : k[i];
    }
    for (int i = 0; i <= radius; i++)
        k[i] /= sum;
    long cols = s->cols, rows = s->rows;
    for (long y = 0; y < rows; y++) {
        const float *in = s->img + y * cols;
        float *out = s->aux + y * cols;
        for (long x = 0; x < cols; x++) {
            double acc = k[0] * in[x];
            for (int j = 1; j <= radius; j++) {
                long a = x - j < 0 ? 0 : x - j, b = x + j >= cols ? cols - 1 : x + j;
                acc += k[j] * (in[a] + in[b]);
            }
            out[x] = (float)acc;
        }
    }
    for (long y = 0; y < rows; y++) {
        float *out = s->img + y * cols;
        for (long x = 0; x < cols; x++) {
            double acc = k[0] * s->aux[y * cols + x];
            for (int j = 1; j <= radius; j++) {
                long a = y - j < 0 ? 0 : y - j, b = y + j >= rows ? rows - 1 : y + j;
                acc += k[j] * (s->aux[a * cols + x] + s->aux[b * cols + x]);
            }
            out[x] = (float)acc;
        }
    }
}

static void mirror_rows(void *data, size_t elem, uint32_t rows, uint32_t cols)
{
    unsigned char tmp[8];
    for (uint32_t y = 0; y < rows; y++) {
        unsigned char *row = (unsigned char *)data + (size_t)y * cols * elem;
        for (uint32_t a = 0, b = cols - 1; a < b; a++, b--) {
            memcpy(tmp, row + a * elem, elem);
            memcpy(row + a * elem, row + b * elem, elem);
            memcpy(row + b * elem, tmp, elem);
        }
    }
}

/* Measures every calcification and cluster on the final mask. Clusters left without
 * members are dropped and the remaining ones renumbered. */
static int build_truth(struct scene *s, struct cn_phantom_image *out)
{
    size_t n = s->calc_count;
    out->calcs = calloc(n ? n : 1, sizeof *out->calcs);
    double *sx = calloc(n ? n : 1, sizeof *sx), *sy = calloc(n ? n : 1, sizeof *sy);
    int *new_cluster = calloc(s->cluster_count + 1, sizeof *new_cluster);
    if (!out->calcs || !sx || !sy || !new_cluster) {
        free(sx);
        free(sy);
        free(new_cluster);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct cn_phantom_calc *c = &out->calcs[i];
        c->id = (uint32_t)(i + 1);
        c->bbox[0] = c->bbox[1] = UINT32_MAX;
        c->kind = s->calcs[i].kind;
        c->morphology = s->calcs[i].morphology;
        c->size_mm = s->calcs[i].size_mm;
        c->peak_contrast = s->calcs[i].peak_contrast;
    }
    for (uint32_t y = 0; y < s->rows; y++)
        for (uint32_t x = 0; x < s->cols; x++) {
            uint16_t k = s->mask[(size_t)y * s->cols + x];
            if (k == 0)
                continue;
            struct cn_phantom_calc *c = &out->calcs[k - 1];
            c->area_px++;
            sx[k - 1] += x;
            sy[k - 1] += y;
            if (x < c->bbox[0])
                c->bbox[0] = x;
            if (y < c->bbox[1])
                c->bbox[1] = y;
            if (x > c->bbox[2])
                c->bbox[2] = x;
            if (y > c->bbox[3])
                c->bbox[3] = y;
        }
    size_t *members = calloc(s->cluster_count + 1, sizeof *members);
    if (!members) {
        free(sx);
        free(sy);
        free(new_cluster);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        out->calcs[i].x_px = sx[i] / out->calcs[i].area_px;
        out->calcs[i].y_px = sy[i] / out->calcs[i].area_px;
        members[s->calcs[i].cluster_id]++;
    }
    free(sx);
    free(sy);
    size_t kept = 0;
    for (size_t c = 1; c <= s->cluster_count; c++)
        if (members[c] > 0)
            new_cluster[c] = (int)++kept;
    out->clusters = calloc(kept ? kept : 1, sizeof *out->clusters);
    out->cluster_count = out->clusters ? kept : 0;
    int rc = out->clusters ? 0 : -1;
    for (size_t c = 1; rc == 0 && c <= s->cluster_count; c++) {
        if (!new_cluster[c])
            continue;
        struct cn_phantom_cluster *cl = &out->clusters[new_cluster[c] - 1];
        cl->id = (uint32_t)new_cluster[c];
        cl->label = s->clusters[c - 1].label;
        cl->distribution = s->clusters[c - 1].distribution;
        cl->member_ids = malloc(members[c] * sizeof *cl->member_ids);
        if (!cl->member_ids) {
            rc = -1;
            break;
        }
        cl->bbox[0] = cl->bbox[1] = UINT32_MAX;
        for (size_t i = 0; i < n; i++) {
            if (s->calcs[i].cluster_id != (int)c)
                continue;
            const struct cn_phantom_calc *m = &out->calcs[i];
            cl->member_ids[cl->member_count++] = m->id;
            cl->x_px += m->x_px;
            cl->y_px += m->y_px;
            for (int e = 0; e < 2; e++) {
                if (m->bbox[e] < cl->bbox[e])
                    cl->bbox[e] = m->bbox[e];
                if (m->bbox[e + 2] > cl->bbox[e + 2])
                    cl->bbox[e + 2] = m->bbox[e + 2];
            }
        }
        cl->x_px /= (double)cl->member_count;
        cl->y_px /= (double)cl->member_count;
    }
    for (size_t i = 0; i < n; i++)
        out->calcs[i].cluster_id = new_cluster[s->calcs[i].cluster_id];
    out->calc_count = n;
    free(members);
    free(new_cluster);
    return rc;
}

static void scene_free(struct scene *s)
{
    free(s->img);
    free(s->aux);
    free(s->mask);
    free(s->breast);
    free(s->calcs);
    free(s->clusters);
    free(s->col_axp);
    free(s->col_gx);
}

void cn_phantom_image_free(struct cn_phantom_image *img)
{
    free(img->pixels);
    free(img->mask);
    free(img->breast);
    for (size_t i = 0; img->clusters && i < img->cluster_count; i++)
        free(img->clusters[i].member_ids);
    free(img->clusters);
    free(img->calcs);
    memset(img, 0, sizeof *img);
}

int cn_phantom_generate(const struct cn_phantom_params *params, struct cn_phantom_image *out,
                        char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (cn_phantom_params_check(params, err, err_len) != 0)
        return -1;
    struct scene s;
    memset(&s, 0, sizeof s);
    s.p = *params;
    s.rows = params->rows;
    s.cols = params->columns;
    s.mm_px = params->spacing_mm;
    s.px_mm = 1.0 / params->spacing_mm;
    size_t full = (size_t)s.rows * s.cols;
    s.img = malloc(full * sizeof *s.img);
    s.aux = malloc(full * sizeof *s.aux);
    s.mask = calloc(full, sizeof *s.mask);
    s.breast = calloc(full, 1);
    s.col_axp = malloc(s.cols * sizeof *s.col_axp);
    s.col_gx = malloc(s.cols * sizeof *s.col_gx);
    struct cn_rng rng;
    int rc = s.img && s.aux && s.mask && s.breast && s.col_axp && s.col_gx ? 0 : -2;

    if (rc == 0) {
        cn_rng_seed(&rng, params->seed, STREAM_GEOMETRY);
        scene_geometry(&s, &rng);
        s.beta = cn_rng_range(&rng, BETA_MIN, BETA_MAX);
        cn_rng_seed(&rng, params->seed, STREAM_TEXTURE);
        if (scene_texture(s.aux, s.rows, s.cols, s.beta, TEXTURE_MIN_SCALE_MM * s.px_mm,
                          TEXTURE_MAX_SCALE_MM * s.px_mm, &rng) != 0)
            rc = -2;
    }
    if (rc == 0) {
        compose_tissue(&s);
        memset(s.aux, 0, full * sizeof *s.aux);
        cn_rng_seed(&rng, params->seed, STREAM_STRANDS);
        scene_strands(&s, &rng);
        add_layer(&s, STRAND_GAIN, 1);
        memset(s.aux, 0, full * sizeof *s.aux);
        cn_rng_seed(&rng, params->seed, STREAM_VESSELS);
        scene_vessels(&s, &rng);
        add_layer(&s, 1.0, 0);
        cn_rng_seed(&rng, params->seed, STREAM_CALCS);
        if (scene_calcifications(&s, &rng) != 0)
            rc = -2;
    }
    if (rc == 0) {
        cn_rng_seed(&rng, params->seed, STREAM_NOISE);
        for (size_t i = 0; i < full; i++) {
            double v = s.img[i] > 0 ? s.img[i] : 0.0;
            s.img[i] += (float)(sqrt(QUANTUM_GAIN * v) * cn_rng_normal(&rng));
        }
        blur(&s, MTF_SIGMA_MM * s.px_mm);
        out->pixels = malloc(full * sizeof *out->pixels);
        if (!out->pixels)
            rc = -2;
    }
    if (rc == 0) {
        double maxval = (double)((1u << params->bits) - 1);
        for (size_t i = 0; i < full; i++) {
            double v = (s.img[i] + ELECTRONIC_SD * cn_rng_normal(&rng)) * maxval;
            v = v < 0 ? 0 : (v > maxval ? maxval : v);
            out->pixels[i] = (uint16_t)lround(v);
        }
        if (params->laterality == 'R') {
            mirror_rows(out->pixels, sizeof *out->pixels, s.rows, s.cols);
            mirror_rows(s.mask, sizeof *s.mask, s.rows, s.cols);
            mirror_rows(s.breast, 1, s.rows, s.cols);
        }
        if (build_truth(&s, out) != 0)
            rc = -2;
    }
    if (rc != 0) {
        if (rc == -2)
            snprintf(err, err_len, "out of memory building a %ux%u phantom", s.rows, s.cols);
        scene_free(&s);
        cn_phantom_image_free(out);
        return rc;
    }
    out->params = *params;
    out->beta = s.beta;
    out->patient_orientation = patient_orientation(params->laterality, params->view);
    for (size_t i = 0; i < full; i++) {
        out->breast_area_px += s.breast[i] != 0;
        out->pectoral_area_px += s.breast[i] == 2;
        s.breast[i] = s.breast[i] != 0;
    }
    out->mask = s.mask;
    out->breast = s.breast;
    s.mask = NULL;
    s.breast = NULL;
    scene_free(&s);
    return 0;
}
