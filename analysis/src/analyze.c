/*
 * ca_analyze: input checks, the stages in order, the crop of the breast region, the
 * clusters and the result's ownership.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calc/kernels.h"
#include "internal.h"

/* The crop around the breast keeps the support of the widest Gaussian and a macro
 * window of context, in multiples of the widest sigma. */
#define CROP_SIGMAS 4.0
#define CROP_EXTRA_PX 2

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int check_image(const struct ca_image *im, char *msg)
{
    if (!im->pixels)
        return ca_fail(msg, CA_ERR_INVALID_ARGUMENT, "image has no pixel data");
    if (im->rows < 2 || im->columns < 2)
        return ca_fail(msg, CA_ERR_IMAGE_TOO_SMALL, "image of %ux%u pixels is too small",
                       im->columns, im->rows);
    if (im->rows > CA_MAX_DIMENSION_PX || im->columns > CA_MAX_DIMENSION_PX)
        return ca_fail(msg, CA_ERR_IMAGE_TOO_LARGE,
                       "image of %ux%u pixels exceeds %u pixels per side", im->columns,
                       im->rows, CA_MAX_DIMENSION_PX);
    for (int k = 0; k < 2; k++)
        if (!isfinite(im->spacing_mm[k]) || !(im->spacing_mm[k] > 0.0))
            return ca_fail(msg, CA_ERR_BAD_SPACING, "invalid pixel spacing %g\\%g mm",
                           im->spacing_mm[0], im->spacing_mm[1]);
    if (im->bits_stored < 1 || im->bits_stored > 16)
        return ca_fail(msg, CA_ERR_BAD_BITS_STORED, "bits stored %u outside 1..16",
                       im->bits_stored);
    return 0;
}

static struct rect crop_around(const uint8_t *mask, uint32_t rows, uint32_t columns,
                               const double sp[2], const struct ca_params *p)
{
    uint32_t x0 = columns, y0 = rows, x1 = 0, y1 = 0;
    for (uint32_t y = 0; y < rows; y++) {
        const uint8_t *m = mask + (size_t)y * columns;
        for (uint32_t x = 0; x < columns; x++)
            if (m[x]) {
                x0 = x < x0 ? x : x0;
                x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
    }
    double reach_mm = CROP_SIGMAS * p->dog_ratio * p->sigmas_mm[p->scale_count - 1] +
                      p->macro_diameter_mm;
    uint32_t mr = (uint32_t)ceil(reach_mm / sp[0]) + CROP_EXTRA_PX;
    uint32_t mc = (uint32_t)ceil(reach_mm / sp[1]) + CROP_EXTRA_PX;
    struct rect r;
    r.x0 = x0 > mc ? x0 - mc : 0;
    r.y0 = y0 > mr ? y0 - mr : 0;
    uint32_t xe = x1 + mc < columns ? x1 + mc : columns - 1;
    uint32_t ye = y1 + mr < rows ? y1 + mr : rows - 1;
    r.width = xe - r.x0 + 1;
    r.height = ye - r.y0 + 1;
    return r;
}

static int detect(const float *norm, const uint8_t *mask, uint32_t rows, uint32_t columns,
                  const double sp[2], const struct ca_params *p, struct ca_result *out)
{
    (void)rows;
    struct rect crop = crop_around(mask, rows, columns, sp, p);
    size_t n = (size_t)crop.width * crop.height;
    float *img = malloc(n * sizeof(float));
    float *fine = malloc(n * sizeof(float));
    uint8_t *cmask = malloc(n);
    struct ca_candidates found;
    memset(&found, 0, sizeof(found));
    int rc = CA_ERR_OUT_OF_MEMORY;
    if (!img || !fine || !cmask) {
        ca_fail(out->message, rc, "could not allocate the detection buffers");
        goto done;
    }
    for (uint32_t y = 0; y < crop.height; y++) {
        size_t src = (size_t)(y + crop.y0) * columns + crop.x0;
        memcpy(img + (size_t)y * crop.width, norm + src, crop.width * sizeof(float));
        memcpy(cmask + (size_t)y * crop.width, mask + src, crop.width);
    }
    double t0 = now_ms();
    /* img's buffer takes the narrow band-pass: no more memory than before */
    rc = ca_find_candidates(img, cmask, crop.height, crop.width, sp, p, fine, img, &found,
                            out->message);
    double t1 = now_ms();
    out->stage_ms[CA_STAGE_CANDIDATES] = t1 - t0;
    if (rc < 0)
        goto done;
    out->candidate_count = (uint32_t)found.count;
    out->candidates_dropped = found.dropped;
    out->noise_sigma = found.noise_sigma;
    rc = ca_grow(fine, img, norm, crop, columns, sp, p, &found, out->labels, out);
    out->stage_ms[CA_STAGE_GROW] = now_ms() - t1;
    if (rc < 0)
        ca_fail(out->message, rc, "could not grow calcification regions: %s",
                ca_strerror(rc));
done:
    free(img);
    free(fine);
    free(cmask);
    free(found.items);
    return rc;
}

int ca_make_clusters(const uint32_t *labels, const double sp[2],
                     const struct ca_params *p, struct ca_result *out)
{
    size_t n = out->calcification_count;
    if (n == 0)
        return 0;
    uint32_t kr = (uint32_t)lround(p->cluster_kernel_mm / sp[0]);
    uint32_t kc = (uint32_t)lround(p->cluster_kernel_mm / sp[1]);
    kr = kr ? kr : 1;
    kc = kc ? kc : 1;
    /* the Tong groups only need the calcifications' box plus one kernel */
    uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *b = out->calcifications[i].bbox;
        x0 = b[0] < x0 ? b[0] : x0;
        y0 = b[1] < y0 ? b[1] : y0;
        x1 = b[2] > x1 ? b[2] : x1;
        y1 = b[3] > y1 ? b[3] : y1;
    }
    x0 = x0 > kc ? x0 - kc : 0;
    y0 = y0 > kr ? y0 - kr : 0;
    x1 = x1 + kc < out->columns ? x1 + kc : out->columns - 1;
    y1 = y1 + kr < out->rows ? y1 + kr : out->rows - 1;
    uint32_t w = x1 - x0 + 1, h = y1 - y0 + 1;
    uint32_t *sub = malloc((size_t)w * h * sizeof(uint32_t));
    uint32_t *group = malloc(n * sizeof(uint32_t));
    struct ca_point *pts = malloc(n * sizeof(*pts));
    int32_t *cluster_of = malloc(n * sizeof(int32_t));
    uint32_t *member = malloc(n * sizeof(uint32_t));
    uint8_t *tong = malloc(n), *birads = malloc(n);
    int rc = CA_ERR_OUT_OF_MEMORY;
    if (!sub || !group || !pts || !cluster_of || !member || !tong || !birads)
        goto done;
    /* only calcifications confident enough for clusters take part (cluster_score_min);
       the others stay single findings */
    size_t eligible = 0;
    for (size_t i = 0; i < n; i++)
        if (out->calcifications[i].second_stage_score >= p->cluster_score_min)
            member[eligible++] = (uint32_t)i;
    for (uint32_t y = 0; y < h; y++) {
        const uint32_t *src = labels + (size_t)(y + y0) * out->columns + x0;
        uint32_t *dst = sub + (size_t)y * w;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t l = src[x];
            dst[x] = l && l <= n &&
                             out->calcifications[l - 1].second_stage_score >= p->cluster_score_min
                         ? l
                         : 0;
        }
    }
    rc = ca_tong_groups(sub, h, w, (uint32_t)n, kr, kc, group);
    if (rc < 0)
        goto done;
    for (size_t j = 0; j < eligible; j++) {
        const struct ca_calcification *ca = &out->calcifications[member[j]];
        pts[j].x_mm = ca->x_px * sp[1];
        pts[j].y_mm = ca->y_px * sp[0];
        pts[j].tong_group = group[member[j]];
    }
    for (size_t i = 0; i < n; i++)
        out->calcifications[i].cluster = -1;
    struct ca_cluster_rule rule = {p->tong_min_count, sqrt(p->birads_area_mm2 / M_PI),
                                   p->birads_min_count};
    size_t count = 0;
    rc = eligible ? ca_cluster_points(pts, eligible, &rule, cluster_of, &count, tong, birads) : 0;
    if (rc < 0 || count == 0)
        goto done;
    out->clusters = calloc(count, sizeof(struct ca_cluster));
    if (!out->clusters) {
        rc = CA_ERR_OUT_OF_MEMORY;
        goto done;
    }
    out->cluster_count = count;
    for (size_t c = 0; c < count; c++) {
        struct ca_cluster *cl = &out->clusters[c];
        cl->rule_tong = tong[c];
        cl->rule_birads = birads[c];
        cl->bbox[0] = cl->bbox[1] = UINT32_MAX;
    }
    for (size_t j = 0; j < eligible; j++) {
        struct ca_calcification *ca = &out->calcifications[member[j]];
        ca->cluster = cluster_of[j];
        if (cluster_of[j] >= 0)
            out->clusters[cluster_of[j]].count++;
    }
    for (size_t c = 0; c < count; c++) {
        out->clusters[c].members = malloc(out->clusters[c].count * sizeof(uint32_t));
        if (!out->clusters[c].members) {
            rc = CA_ERR_OUT_OF_MEMORY;
            goto done;
        }
        out->clusters[c].count = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ca_calcification *ca = &out->calcifications[i];
        if (ca->cluster < 0)
            continue;
        struct ca_cluster *cl = &out->clusters[ca->cluster];
        cl->members[cl->count++] = (uint32_t)i;
        cl->x_px += ca->x_px;
        cl->y_px += ca->y_px;
        cl->area_mm2 += ca->area_mm2;
        for (int k = 0; k < 2; k++) {
            cl->bbox[k] = ca->bbox[k] < cl->bbox[k] ? ca->bbox[k] : cl->bbox[k];
            cl->bbox[k + 2] = ca->bbox[k + 2] > cl->bbox[k + 2] ? ca->bbox[k + 2]
                                                                : cl->bbox[k + 2];
        }
    }
    for (size_t c = 0; c < count; c++) {
        struct ca_cluster *cl = &out->clusters[c];
        cl->x_px /= cl->count;
        cl->y_px /= cl->count;
        /* the linear fraction is taken over the members at or above contrast_min: the
           shape of a faint second-stage member is too uncertain to outvote them. The
           member counts take confident faint members too (confident_score_min), once
           strong_member_min strong ones are there. */
        uint32_t linear = 0, strong = 0, confident = 0;
        for (uint32_t k = 0; k < cl->count; k++) {
            const struct ca_calcification *m = &out->calcifications[cl->members[k]];
            int is_strong = isinf(m->second_stage_score);
            strong += is_strong;
            linear += is_strong && m->linear;
            confident += m->second_stage_score >= p->confident_score_min;
        }
        int qualifies = linear <= p->suspicious_linear_fraction_max * strong && /* vessels */
                       strong >= p->strong_member_min;
        cl->suspicious = (cl->rule_tong || cl->count >= p->suspicious_min_count) &&
                         confident >= p->suspicious_strong_min && qualifies;
        cl->small_group = !cl->suspicious && p->small_group_strong_min > 0 &&
                          confident >= p->small_group_strong_min && qualifies;
    }
done:
    free(sub);
    free(group);
    free(pts);
    free(cluster_of);
    free(member);
    free(tong);
    free(birads);
    return rc;
}

int ca_analyze(const struct ca_image *image, const struct ca_params *params,
               struct ca_result *out)
{
    if (!out)
        return CA_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (!image)
        return ca_fail(out->message, CA_ERR_INVALID_ARGUMENT, "no image given");
    struct ca_params defaults;
    if (!params) {
        ca_params_default(&defaults);
        params = &defaults;
    }
    int rc = ca_params_check(params, out->message);
    if (rc == 0)
        rc = check_image(image, out->message);
    if (rc < 0)
        return rc;
    uint32_t rows = image->rows, columns = image->columns;
    size_t n = (size_t)rows * columns;
    const double *sp = image->spacing_mm;
    out->rows = rows;
    out->columns = columns;
    out->normalized = malloc(n * sizeof(float));
    out->breast_mask = malloc(n);
    out->labels = calloc(n, sizeof(uint32_t));
    uint8_t *valid = malloc(n);
    if (!out->normalized || !out->breast_mask || !out->labels || !valid) {
        free(valid);
        rc = ca_fail(out->message, CA_ERR_OUT_OF_MEMORY,
                     "could not allocate the image buffers for %ux%u pixels", columns, rows);
        goto fail;
    }
    double t0 = now_ms();
    rc = ca_normalize(image, out->normalized, valid);
    double t1 = now_ms();
    out->stage_ms[CA_STAGE_NORMALIZE] = t1 - t0;
    if (rc == 0)
        rc = ca_breast_mask(out->normalized, valid, rows, columns, sp, params,
                            out->breast_mask, &out->breast_area_mm2, out->message);
    else
        ca_fail(out->message, rc, "could not normalise the image: %s", ca_strerror(rc));
    out->stage_ms[CA_STAGE_MASK] = now_ms() - t1;
    free(valid);
    if (rc < 0)
        goto fail;
    rc = detect(out->normalized, out->breast_mask, rows, columns, sp, params, out);
    if (rc < 0)
        goto fail;
    t0 = now_ms();
    rc = ca_make_clusters(out->labels, sp, params, out);
    out->stage_ms[CA_STAGE_CLUSTER] = now_ms() - t0;
    if (rc < 0) {
        ca_fail(out->message, rc, "could not cluster calcifications: %s", ca_strerror(rc));
        goto fail;
    }
    for (size_t i = 0; i < out->calcification_count; i++) {
        struct ca_calcification *c = &out->calcifications[i];
        c->in_segmentation = c->cluster >= 0 || (isinf(c->second_stage_score) &&
                                                 c->area_mm2 >= params->segmentation_area_min_mm2);
    }
    return 0;
fail: {
    char message[CA_MESSAGE_LEN];
    memcpy(message, out->message, sizeof(message));
    ca_result_free(out);
    memcpy(out->message, message, sizeof(message));
    return rc;
}
}

uint32_t ca_segmentation_label(const struct ca_result *result, size_t i)
{
    uint32_t l = result->labels[i];
    return l && l <= result->calcification_count &&
                   result->calcifications[l - 1].in_segmentation
               ? l
               : 0;
}

void ca_result_free(struct ca_result *result)
{
    if (!result)
        return;
    for (size_t c = 0; c < result->cluster_count; c++)
        free(result->clusters[c].members);
    free(result->clusters);
    free(result->calcifications);
    free(result->labels);
    free(result->breast_mask);
    free(result->normalized);
    memset(result, 0, sizeof(*result));
}
