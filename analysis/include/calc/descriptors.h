/*
 * calc/descriptors.h: BI-RADS style descriptors of calcifications and clusters for the
 * report (DESIGN.md section 7, step 7), computed from the feature vectors of
 * calc/features.h by fixed, documented rules. They describe; the risk model scores.
 *
 * Morphology of one calcification (ACR BI-RADS Atlas, 5th edition, mammography,
 * "Calcifications: typically benign / suspicious morphology"); the rules are tried in
 * this order and the first that holds wins:
 *   1. fine linear: thin and elongated, length_ratio >= CA_DESC_LINEAR_LENGTH_RATIO and
 *      mbr_short_mm <= CA_DESC_LINEAR_WIDTH_MM (BI-RADS: thin, linear, < 0.5 mm wide);
 *   2. amorphous: small and hazy, major_axis_mm < CA_DESC_FINE_MM and a contrast to its
 *      ring (calc_mean - ring_mean) below CA_DESC_HAZY_RING_SIGMAS times ring_std
 *      (BI-RADS: too small or hazy for a more specific morphology);
 *   3. punctate / round: regular, solidity >= CA_DESC_REGULAR_SOLIDITY and eccentricity
 *      <= CA_DESC_REGULAR_ECCENTRICITY (BI-RADS punctate < 0.5 mm, round >= 0.5 mm);
 *   4. coarse heterogeneous: irregular and major_axis_mm >= CA_DESC_FINE_MM
 *      (BI-RADS: irregular, conspicuous, generally > 0.5 mm);
 *   5. fine pleomorphic: irregular and major_axis_mm < CA_DESC_FINE_MM.
 *
 * Morphology of a cluster: the most suspicious morphology (order of enum
 * ca_morphology, fine linear most suspicious, after the positive predictive values the
 * Atlas quotes) held by at least CA_DESC_MORPHOLOGY_MIN_FRACTION of the members and by at
 * least two of them; when none qualifies, the most frequent (ties: the more suspicious).
 *
 * Distribution of a cluster, from the member centroids (mm): extent is the largest
 * distance between two centroids, elongation sqrt(l1 / l2) of the eigenvalues of their
 * covariance, capped at CA_DESC_ELONGATION_MAX (reached when l2 is 0; 1 when both are 0):
 *   1. diffuse: the image has at least CA_DESC_DIFFUSE_MIN_CLUSTERS clusters
 *      (image_cluster_count), i.e. calcifications scattered through the breast;
 *   2. linear: elongation >= CA_DESC_LINEAR_ELONGATION and at least 3 members;
 *   3. grouped: extent <= CA_DESC_GROUPED_MAX_MM (BI-RADS: few calcifications in a small
 *      volume, up to 2 cm);
 *   4. segmental: extent above 2 cm and elongation >= CA_DESC_SEGMENTAL_ELONGATION (a
 *      duct and its branches, a wedge toward the nipple);
 *   5. regional: extent above 2 cm, not elongated.
 *
 * Clearly benign (a "2" when the model agrees, see node/risk/category.h): the cluster
 * morphology is punctate / round, at least CA_DESC_BENIGN_MIN_ROUND_FRACTION of the
 * members are punctate / round and none is fine linear or fine pleomorphic, the mean
 * member area is at least CA_DESC_BENIGN_MIN_AREA_MM2 (larger, round) or the distribution
 * is diffuse or regional (scattered), and the distribution is neither linear nor
 * segmental.
 *
 * Threads: reentrant, no global state, no allocation.
 */
#ifndef CALC_DESCRIPTORS_H
#define CALC_DESCRIPTORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_DESC_LINEAR_LENGTH_RATIO 2.5
#define CA_DESC_LINEAR_WIDTH_MM 0.3
#define CA_DESC_FINE_MM 0.5
#define CA_DESC_HAZY_RING_SIGMAS 2.0
#define CA_DESC_REGULAR_SOLIDITY 0.85
#define CA_DESC_REGULAR_ECCENTRICITY 0.8
#define CA_DESC_MORPHOLOGY_MIN_FRACTION 0.25
#define CA_DESC_DIFFUSE_MIN_CLUSTERS 5
#define CA_DESC_LINEAR_ELONGATION 4.0
#define CA_DESC_GROUPED_MAX_MM 20.0
#define CA_DESC_SEGMENTAL_ELONGATION 1.5
#define CA_DESC_BENIGN_MIN_ROUND_FRACTION 0.8
#define CA_DESC_BENIGN_MIN_AREA_MM2 0.2
#define CA_DESC_ELONGATION_MAX 1000.0

/* Least to most suspicious; the values index ca_morphology_name. Append only. */
enum ca_morphology {
    CA_MORPHOLOGY_PUNCTATE_ROUND,
    CA_MORPHOLOGY_COARSE_HETEROGENEOUS,
    CA_MORPHOLOGY_AMORPHOUS,
    CA_MORPHOLOGY_FINE_PLEOMORPHIC,
    CA_MORPHOLOGY_FINE_LINEAR,
    CA_MORPHOLOGY_COUNT
};

enum ca_distribution {
    CA_DISTRIBUTION_GROUPED,
    CA_DISTRIBUTION_LINEAR,
    CA_DISTRIBUTION_SEGMENTAL,
    CA_DISTRIBUTION_REGIONAL,
    CA_DISTRIBUTION_DIFFUSE,
    CA_DISTRIBUTION_COUNT
};

/* Static names in the Atlas' words ("punctate/round", "fine linear", "grouped", ...);
 * "unknown" for a value out of range. Never NULL. */
const char *ca_morphology_name(int morphology);
const char *ca_distribution_name(int distribution);

/* The morphology of one calcification from its CA_CALC_FEATURE_COUNT features (borrowed). */
enum ca_morphology ca_calc_morphology(const double *calc_features);

struct ca_cluster_description {
    enum ca_morphology morphology;
    enum ca_distribution distribution;
    size_t morphology_count[CA_MORPHOLOGY_COUNT]; /* members of each morphology */
    double extent_mm;                             /* largest centroid distance */
    double elongation;                            /* of the centroid scatter, 1..MAX */
    int clearly_benign;                           /* nonzero: see the rule above */
};

/*
 * Describes one cluster. cluster_features: its CA_CLUSTER_FEATURE_COUNT features;
 * calc_features: the image's calcification matrix (rows of CA_CALC_FEATURE_COUNT);
 * members: member_count row indices into calc_features, each below calc_count;
 * centroids_mm: calc_count (x, y) pairs in mm, indexed like calc_features. All borrowed.
 * Returns 0 and fills *out, or CA_ERR_INVALID_ARGUMENT (a NULL pointer, no members, a
 * member index out of range).
 */
int ca_cluster_describe(const double *cluster_features, const double *calc_features,
                        const double *centroids_mm, size_t calc_count, const uint32_t *members,
                        size_t member_count, struct ca_cluster_description *out);

#ifdef __cplusplus
}
#endif

#endif
