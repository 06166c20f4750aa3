/* tools/phantom: a synthetic digital mammogram with exact calcification truth.
 *
 * One call builds a For Presentation mammogram (MONOCHROME2, higher value = more
 * attenuation) of a compressed breast: outline and skin line, thickness falloff near the
 * skin, pectoral muscle (MLO), parenchyma with a power-law spectrum P(f) ~ 1/f^beta,
 * fibrous strands toward the nipple, vessels (some with benign vascular calcification),
 * benign and malignant calcifications and clusters, signal-dependent quantum noise, the
 * detector MTF and electronic noise. Every calcification k is labelled k in an exact
 * mask; the truth record lists each calcification and cluster measured on that mask.
 *
 * Deterministic: the same parameters (seed included) give the same bytes on every run
 * (own PRNG, no global state, a fixed order of IEEE double arithmetic); across machines
 * too as long as the C library's exp/log/cos/sqrt round alike (glibc on x86-64 does).
 * Functions are reentrant; any thread may call them on distinct objects. */
#ifndef CN_PHANTOM_PHANTOM_H
#define CN_PHANTOM_PHANTOM_H

#include <stddef.h>
#include <stdint.h>

#define CN_PHANTOM_MIN_SIDE_PX 256
#define CN_PHANTOM_MAX_SIDE_PX 8192
#define CN_PHANTOM_MIN_BITS 10
#define CN_PHANTOM_MAX_BITS 16
#define CN_PHANTOM_MIN_SPACING_MM 0.025
#define CN_PHANTOM_MAX_SPACING_MM 0.2

enum cn_phantom_kind {
    CN_PHANTOM_NORMAL,    /* no calcification */
    CN_PHANTOM_BENIGN,    /* scattered round/rim calcifications, maybe a benign group,
                             vascular calcification */
    CN_PHANTOM_MALIGNANT, /* one or two malignant clusters (clustered or segmental) */
    CN_PHANTOM_MIXED,     /* both */
};

enum cn_phantom_view { CN_PHANTOM_CC, CN_PHANTOM_MLO };

struct cn_phantom_params {
    uint64_t seed;
    uint32_t rows, columns;   /* CN_PHANTOM_MIN_SIDE_PX .. CN_PHANTOM_MAX_SIDE_PX */
    double spacing_mm;        /* square pixels */
    uint32_t bits;            /* bits stored, CN_PHANTOM_MIN_BITS .. CN_PHANTOM_MAX_BITS */
    char laterality;          /* 'L' or 'R' */
    enum cn_phantom_view view;
    enum cn_phantom_kind kind;
};

enum cn_phantom_calc_kind { CN_PHANTOM_CALC_BENIGN, CN_PHANTOM_CALC_MALIGNANT };

/* One calcification, measured on the final (flipped) mask. */
struct cn_phantom_calc {
    uint32_t id;              /* its label in the mask, 1..calc_count */
    double x_px, y_px;        /* centroid of its mask pixels: column, row */
    uint32_t area_px;         /* number of mask pixels labelled id (>= 1) */
    uint32_t bbox[4];         /* x0, y0, x1, y1 inclusive */
    enum cn_phantom_calc_kind kind;
    const char *morphology;   /* static string: "round", "rim", "punctate", "vascular",
                                 "pleomorphic", "fine-linear-branching", "amorphous" */
    double size_mm;           /* nominal largest extent of the drawn shape */
    double peak_contrast;     /* added signal at full height, fraction of full scale */
    int cluster_id;           /* 0 when not in a cluster */
};

struct cn_phantom_cluster {
    uint32_t id;              /* 1..cluster_count */
    enum cn_phantom_calc_kind label;
    const char *distribution; /* "clustered", "segmental", "grouped" */
    double x_px, y_px;        /* mean of the member centroids */
    uint32_t bbox[4];         /* x0, y0, x1, y1 inclusive, over member mask pixels */
    uint32_t *member_ids;     /* member_count ids, ascending; owned by the image */
    size_t member_count;
};

struct cn_phantom_image {
    struct cn_phantom_params params;
    uint16_t *pixels;         /* rows * columns stored values 0 .. 2^bits - 1; owned */
    uint16_t *mask;           /* rows * columns: 0 background, k calcification k; owned */
    uint8_t *breast;          /* rows * columns: 1 inside the breast (pectoral included);
                                 owned */
    uint32_t breast_area_px;
    uint32_t pectoral_area_px;
    double beta;              /* spectral exponent used for the parenchyma */
    const char *patient_orientation; /* PS3.3 C.7.6.1.1.1, e.g. "A\\R" for L CC */
    struct cn_phantom_calc *calcs;   /* calc_count entries, calcs[i].id == i + 1; owned */
    size_t calc_count;
    struct cn_phantom_cluster *clusters; /* owned */
    size_t cluster_count;
};

/* Checks params; 0 when usable, -1 otherwise with a message in err[err_len]. */
int cn_phantom_params_check(const struct cn_phantom_params *params, char *err,
                            size_t err_len);

/* Builds the phantom described by params into *out (which the caller owns; its previous
 * contents are ignored). Returns 0, -1 for invalid params (message in err), -2 when out
 * of memory. On failure *out holds nothing to free. */
int cn_phantom_generate(const struct cn_phantom_params *params, struct cn_phantom_image *out,
                        char *err, size_t err_len);

/* Frees what cn_phantom_generate allocated; *img is zeroed. Accepts a zeroed image. */
void cn_phantom_image_free(struct cn_phantom_image *img);

/* Parses "benign" ... / "CC" ... ; 0 ok, -1 unknown word. */
int cn_phantom_kind_parse(const char *word, enum cn_phantom_kind *out);
int cn_phantom_view_parse(const char *word, enum cn_phantom_view *out);
const char *cn_phantom_kind_name(enum cn_phantom_kind kind);
const char *cn_phantom_view_name(enum cn_phantom_view view);
const char *cn_phantom_calc_kind_name(enum cn_phantom_calc_kind kind);

/* Writes the truth record as JSON to path (format in tools/phantom/README.md).
 * dicom_file and sop_instance_uid (either may be NULL) are recorded so an evaluator can
 * match findings to this image. 0 ok, -1 with a message in err. */
int cn_phantom_truth_write(const struct cn_phantom_image *img, const char *path,
                           const char *dicom_file, const char *sop_instance_uid, char *err,
                           size_t err_len);

#endif
