/* BI-RADS style morphology and distribution descriptors (rules in calc/descriptors.h). */
#include "calc/descriptors.h"

#include <math.h>

#include "calc/analysis.h"
#include "calc/features.h"

static const char *const morphology_names[CA_MORPHOLOGY_COUNT] = {
    [CA_MORPHOLOGY_PUNCTATE_ROUND] = "punctate/round",
    [CA_MORPHOLOGY_COARSE_HETEROGENEOUS] = "coarse heterogeneous",
    [CA_MORPHOLOGY_AMORPHOUS] = "amorphous",
    [CA_MORPHOLOGY_FINE_PLEOMORPHIC] = "fine pleomorphic",
    [CA_MORPHOLOGY_FINE_LINEAR] = "fine linear",
};

static const char *const distribution_names[CA_DISTRIBUTION_COUNT] = {
    [CA_DISTRIBUTION_GROUPED] = "grouped",     [CA_DISTRIBUTION_LINEAR] = "linear",
    [CA_DISTRIBUTION_SEGMENTAL] = "segmental", [CA_DISTRIBUTION_REGIONAL] = "regional",
    [CA_DISTRIBUTION_DIFFUSE] = "diffuse",
};

const char *ca_morphology_name(int morphology)
{
    if (morphology < 0 || morphology >= CA_MORPHOLOGY_COUNT)
        return "unknown";
    return morphology_names[morphology];
}

const char *ca_distribution_name(int distribution)
{
    if (distribution < 0 || distribution >= CA_DISTRIBUTION_COUNT)
        return "unknown";
    return distribution_names[distribution];
}

enum ca_morphology ca_calc_morphology(const double *f)
{
    if (f[CA_CF_LENGTH_RATIO] >= CA_DESC_LINEAR_LENGTH_RATIO &&
        f[CA_CF_MBR_SHORT_MM] <= CA_DESC_LINEAR_WIDTH_MM)
        return CA_MORPHOLOGY_FINE_LINEAR;
    int fine = f[CA_CF_MAJOR_AXIS_MM] < CA_DESC_FINE_MM;
    double ring_contrast = f[CA_CF_CALC_MEAN] - f[CA_CF_RING_MEAN];
    if (fine && ring_contrast < CA_DESC_HAZY_RING_SIGMAS * f[CA_CF_RING_STD])
        return CA_MORPHOLOGY_AMORPHOUS;
    if (f[CA_CF_SOLIDITY] >= CA_DESC_REGULAR_SOLIDITY &&
        f[CA_CF_ECCENTRICITY] <= CA_DESC_REGULAR_ECCENTRICITY)
        return CA_MORPHOLOGY_PUNCTATE_ROUND;
    return fine ? CA_MORPHOLOGY_FINE_PLEOMORPHIC : CA_MORPHOLOGY_COARSE_HETEROGENEOUS;
}

static enum ca_morphology cluster_morphology(const size_t count[CA_MORPHOLOGY_COUNT],
                                             size_t member_count)
{
    for (int m = CA_MORPHOLOGY_COUNT - 1; m >= 0; m--)
        if (count[m] >= 2 &&
            (double)count[m] >= CA_DESC_MORPHOLOGY_MIN_FRACTION * (double)member_count)
            return (enum ca_morphology)m;
    int best = CA_MORPHOLOGY_COUNT - 1;
    for (int m = CA_MORPHOLOGY_COUNT - 1; m >= 0; m--)
        if (count[m] > count[best])
            best = m;
    return (enum ca_morphology)best;
}

/* Extent (largest pairwise distance) and elongation of the member centroids. */
static void scatter_shape(const double *centroids_mm, const uint32_t *members, size_t n,
                          double *extent_mm, double *elongation)
{
    double mx = 0.0, my = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx += centroids_mm[2 * members[i]];
        my += centroids_mm[2 * members[i] + 1];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxx = 0.0, syy = 0.0, sxy = 0.0, extent2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double xi = centroids_mm[2 * members[i]], yi = centroids_mm[2 * members[i] + 1];
        sxx += (xi - mx) * (xi - mx);
        syy += (yi - my) * (yi - my);
        sxy += (xi - mx) * (yi - my);
        for (size_t j = i + 1; j < n; j++) {
            double dx = xi - centroids_mm[2 * members[j]];
            double dy = yi - centroids_mm[2 * members[j] + 1];
            if (dx * dx + dy * dy > extent2)
                extent2 = dx * dx + dy * dy;
        }
    }
    *extent_mm = sqrt(extent2);
    /* Eigenvalues of the 2x2 scatter matrix; the common 1/n cancels in the ratio. */
    double half_trace = 0.5 * (sxx + syy);
    double root = sqrt(0.25 * (sxx - syy) * (sxx - syy) + sxy * sxy);
    double l1 = half_trace + root, l2 = half_trace - root;
    if (l2 < 0.0)
        l2 = 0.0;
    if (!(l1 > 0.0))
        *elongation = 1.0;
    else if (l2 * CA_DESC_ELONGATION_MAX * CA_DESC_ELONGATION_MAX <= l1)
        *elongation = CA_DESC_ELONGATION_MAX;
    else
        *elongation = sqrt(l1 / l2);
}

static enum ca_distribution distribution(const double *cluster_features, size_t member_count,
                                         double extent_mm, double elongation)
{
    if (cluster_features[CA_KF_IMAGE_CLUSTER_COUNT] >= CA_DESC_DIFFUSE_MIN_CLUSTERS)
        return CA_DISTRIBUTION_DIFFUSE;
    if (member_count >= 3 && elongation >= CA_DESC_LINEAR_ELONGATION)
        return CA_DISTRIBUTION_LINEAR;
    if (extent_mm <= CA_DESC_GROUPED_MAX_MM)
        return CA_DISTRIBUTION_GROUPED;
    if (elongation >= CA_DESC_SEGMENTAL_ELONGATION)
        return CA_DISTRIBUTION_SEGMENTAL;
    return CA_DISTRIBUTION_REGIONAL;
}

int ca_cluster_describe(const double *cluster_features, const double *calc_features,
                        const double *centroids_mm, size_t calc_count, const uint32_t *members,
                        size_t member_count, struct ca_cluster_description *out)
{
    if (!cluster_features || !calc_features || !centroids_mm || !members || !out ||
        member_count == 0)
        return CA_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < member_count; i++)
        if (members[i] >= calc_count)
            return CA_ERR_INVALID_ARGUMENT;
    struct ca_cluster_description d = {0};
    for (size_t i = 0; i < member_count; i++)
        d.morphology_count[ca_calc_morphology(calc_features +
                                              (size_t)members[i] * CA_CALC_FEATURE_COUNT)]++;
    d.morphology = cluster_morphology(d.morphology_count, member_count);
    scatter_shape(centroids_mm, members, member_count, &d.extent_mm, &d.elongation);
    d.distribution = distribution(cluster_features, member_count, d.extent_mm, d.elongation);

    size_t round = d.morphology_count[CA_MORPHOLOGY_PUNCTATE_ROUND];
    int suspicious_members = d.morphology_count[CA_MORPHOLOGY_FINE_LINEAR] > 0 ||
                             d.morphology_count[CA_MORPHOLOGY_FINE_PLEOMORPHIC] > 0;
    int larger = cluster_features[CA_KF_AREA_MEAN] >= CA_DESC_BENIGN_MIN_AREA_MM2;
    int scattered =
        d.distribution == CA_DISTRIBUTION_DIFFUSE || d.distribution == CA_DISTRIBUTION_REGIONAL;
    int ductal =
        d.distribution == CA_DISTRIBUTION_LINEAR || d.distribution == CA_DISTRIBUTION_SEGMENTAL;
    d.clearly_benign = d.morphology == CA_MORPHOLOGY_PUNCTATE_ROUND &&
                       (double)round >= CA_DESC_BENIGN_MIN_ROUND_FRACTION * (double)member_count &&
                       !suspicious_members && (larger || scattered) && !ductal;
    *out = d;
    return 0;
}
