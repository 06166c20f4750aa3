/* node/dcm: the result objects a PACS and a reading workstation understand, beside the
 * SEG (seg_writer.h), written through DCMTK:
 *
 *   cn_report_write_measurements  TID 1500 Imaging Measurement Report, Comprehensive SR
 *                                 (PS3.3 A.35.3, PS3.16 TID 1500 / TID 1411 / TID 1501)
 *   cn_report_write_cad           Mammography CAD SR (PS3.3 A.35.5, PS3.16 TID 4000)
 *   cn_report_write_gsps          Grayscale Softcopy Presentation State (PS3.3 A.33.1)
 *                                 for one analysed image: a circle and a label per cluster
 *   cn_report_read_summary        reads an SR back with DCMTK (checks, tests)
 *
 * One struct, cn_report_study, describes the analysed study; the same struct feeds every
 * writer. Every UID is passed in (derive them with cn_uid_derive from study, algorithm
 * version, run and kind of object), dates and times too: the output is a pure function of
 * the inputs, so a retry gives the same objects.
 *
 * Patient and study attributes (Specific Character Set included, so non-ASCII names keep
 * their bytes) are copied from the first source image as stored. A copied value that
 * violates its VR (real headers do, e.g. a Patient's Birth Date "00000000") is written
 * empty instead: the attributes concerned are type 2, an empty value is conformant and an
 * invalid one would make DCMTK refuse, and dciodvfy fail, the whole object.
 *
 * Coordinates are pixel indices of the source image: x column, y row, (0, 0) the centre of
 * the top left pixel. The writers add 0.5 to each, since SCOORD and GSPS graphic data
 * count from the top left corner of the top left pixel (PS3.3 C.18.6.1.2, C.10.5.1.2).
 *
 * All pointers are borrowed for the duration of a call. Every function returns 0 or a
 * negative enum cn_dcm_error (dcm.h) and fills err[err_len] on failure. Thread: any thread
 * except the libuv loop thread (blocking file I/O); calls are independent. */
#ifndef CN_DCM_REPORT_H
#define CN_DCM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CN_REPORT_MAX_IMAGES 64            /* images in one study report */
#define CN_REPORT_MAX_CLUSTERS 1024        /* clusters per image */
#define CN_REPORT_MAX_CALCIFICATIONS 65535 /* calcifications per image */
#define CN_REPORT_MAX_OUTLINE_POINTS 4096  /* points of one outline polygon */

struct cn_report_point {
    double x_px, y_px; /* column, row; (0, 0) is the centre of the top left pixel */
};

/* One calcification found on an image. */
struct cn_report_calcification {
    struct cn_report_point center;
    const struct cn_report_point *outline; /* closed polygon (last point not repeated),
                                              3..CN_REPORT_MAX_OUTLINE_POINTS points, or
                                              NULL with outline_count 0 */
    size_t outline_count;
    double area_mm2; /* < 0: unknown, omitted */
};

/* One cluster found on an image. score and category come from the risk model; while it is
 * absent, has_score = 0 and category = NULL, and the items that carry them are omitted. */
struct cn_report_cluster {
    struct cn_report_point center;
    uint32_t bbox_px[4];                   /* x0, y0, x1, y1 inclusive */
    const struct cn_report_point *outline; /* closed polygon (e.g. the convex hull),
                                              3..CN_REPORT_MAX_OUTLINE_POINTS points; NULL:
                                              the bounding box is the outline */
    size_t outline_count;
    uint32_t calcification_count;
    double area_mm2;                    /* area of the cluster region */
    double mean_calcification_area_mm2; /* < 0: omitted */
    double density_per_cm2;             /* calcifications per cm2; < 0: omitted */
    int has_score;
    double score;            /* probability of malignancy, 0..1 (written as percent) */
    const char *category;    /* "2", "3", "4A", "4B", "4C", "5", or NULL */
    const char *description; /* descriptors (morphology, distribution) as text, or NULL */
    const uint32_t *members; /* member_count indices into the image's calcifications */
    size_t member_count;
    const char *tracking_uid; /* NULL: "<TID 1500 SOP Instance UID>.<image>.<cluster>"
                                 (1-based), which must fit in 64 characters */
};

/* One analysed (or attempted) image. */
struct cn_report_image {
    const char *path;           /* the source DICOM file; SOP Class/Instance, Series, Rows,
                                   Columns, Image Laterality, View Position, Pixel Spacing and
                                   the display window are read from it */
    int analysed;               /* 1: the analysis ran; 0: it failed on this image */
    const char *failure_reason; /* when analysed is 0: why, one line, or NULL */
    const struct cn_report_cluster *clusters;
    size_t cluster_count;
    const struct cn_report_calcification *calcifications;
    size_t calcification_count;
    /* The SEG of this image (cn_seg_write): referenced by each cluster's measurement group.
     * NULL seg_sop_instance_uid: no SEG, the cluster outline is the image region. */
    const char *seg_sop_instance_uid;
    const char *seg_series_instance_uid;
    uint16_t seg_segment_number; /* the calcification segment, 1 for cn_seg_write's SEG */
};

/* Identity of one written object. */
struct cn_report_object {
    const char *series_instance_uid; /* required; one series per kind of object */
    const char *sop_instance_uid;    /* required */
    int32_t series_number;
    int32_t instance_number;
    const char *series_description; /* NULL: a default per kind */
    /* The same kind of object from the previous run on this study (Predecessor Documents
     * Sequence, PS3.3 C.17.2.3); NULL when this is the first run. SRs only. */
    const char *predecessor_series_instance_uid;
    const char *predecessor_sop_instance_uid;
};

struct cn_report_study {
    const struct cn_report_image *images; /* 1..CN_REPORT_MAX_IMAGES, all of one study */
    size_t image_count;
    const char *algorithm_name;      /* required, 1-64 characters */
    const char *algorithm_version;   /* required, 1-64 characters */
    const char *manufacturer;        /* NULL: "calcnode" */
    const char *device_observer_uid; /* required: the UID of this installation/algorithm */
    int analysis_failed;             /* 1: the whole analysis failed (nothing to report);
                                        every image counts as not analysed */
    const char *failure_reason;      /* one line, or NULL */
    int has_study_score;
    double study_score;         /* 0..1 */
    const char *study_category; /* as cluster category, or NULL */
    /* CAD operating point (PS3.16 TID 4023): the points are 1..operating_point_count,
     * operating_point the one used; 0 and 0 when the algorithm has none. */
    uint32_t operating_point_count;
    uint32_t operating_point;
    const char *content_date; /* DA; NULL: the source's Study Date */
    const char *content_time; /* TM; NULL: the source's Study Time */
};

/* Writes the TID 1500 Imaging Measurement Report (Comprehensive SR) to path: one
 * measurement group per cluster (tracking identifier and UID, finding, finding site breast
 * with laterality, the referenced SEG segment and source series, count, area, mean
 * calcification area, density, probability, category), one study group when a study
 * score or category is given; the algorithm in Contributing Equipment Sequence. A failed
 * analysis gives a report without measurement groups. Returns 0; CN_DCM_EINVAL for a bad
 * study (missing UID, counts over the caps, index out of range, bad category);
 * CN_DCM_EIO / CN_DCM_EFORMAT / CN_DCM_EMISSING when a source cannot be read; CN_DCM_EIO
 * when the output cannot be written. */
int cn_report_write_measurements(const char *path, const struct cn_report_study *study,
                                 const struct cn_report_object *object, char *err, size_t err_len);

/* Writes the Mammography CAD SR (TID 4000) to path: Image Library of the images, CAD
 * Processing and Findings Summary (all succeeded / not all / none, with or without
 * findings), per cluster an Individual Impression/Recommendation with a Calcification
 * Cluster composite feature (centre, outline, certainty, probability) inferred from the
 * cluster's single image finding (number of calcifications, centre, outline) and its
 * members' Individual Calcification findings; calcifications outside clusters as optional
 * findings; Summary of Detections and of Analyses naming the algorithm, the images and the
 * operating point. A failed analysis still gives a complete report that says so.
 * Returns as cn_report_write_measurements. */
int cn_report_write_cad(const char *path, const struct cn_report_study *study,
                        const struct cn_report_object *object, char *err, size_t err_len);

/* Writes a GSPS for study->images[image_index] to path: the source's display window, a
 * graphic layer with a circle around each cluster and a text label ("cluster N", with
 * category and score when known). The predecessor fields of object are ignored. Returns
 * as cn_report_write_measurements; CN_DCM_EINVAL also for an image index out of range. */
int cn_report_write_gsps(const char *path, const struct cn_report_study *study, size_t image_index,
                         const struct cn_report_object *object, char *err, size_t err_len);

#define CN_REPORT_CODE_SIZE 17

/* What DCMTK reads back from an SR written above. */
struct cn_report_summary {
    char sop_class_uid[65];
    char sop_instance_uid[65];
    char specific_character_set[64];
    char patient_name[256];
    char root_concept[CN_REPORT_CODE_SIZE];     /* code value of the root container */
    char findings_summary[CN_REPORT_CODE_SIZE]; /* value of (111017, DCM), or "" */
    uint32_t image_library_count;               /* IMAGE items in the Image Library */
    uint32_t measurement_group_count;           /* (125007, DCM) containers */
    uint32_t composite_feature_count;           /* (111015, DCM) items */
    uint32_t single_image_finding_count;        /* (111059, DCM) items */
    uint32_t scoord_count;
    uint32_t predecessor_count; /* instances in Predecessor Documents Sequence */
};

/* Reads the SR at path with DCMTK (DSRDocument) and fills *out. Returns 0, CN_DCM_EIO when
 * the file cannot be read, CN_DCM_EFORMAT when DCMTK cannot read it as an SR. */
int cn_report_read_summary(const char *path, struct cn_report_summary *out, char *err,
                           size_t err_len);

/* The values of the NUM items whose concept name code value is concept_value (for example
 * "111038", number of calcifications), in document order: the first capacity go to
 * values, *count receives how many there are. Returns as cn_report_read_summary. */
int cn_report_read_numbers(const char *path, const char *concept_value, double *values,
                           size_t capacity, size_t *count, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
