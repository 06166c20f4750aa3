/* node/dcm: writes a binary Segmentation (PS3.3 A.51, SOP Class 1.2.840.10008.5.1.4.1.1.66.4)
 * of the calcifications found in one single-frame image, through DCMTK dcmseg.
 *
 * One segment, "Calcification": category (49755003, SCT, "Morphologically Abnormal
 * Structure") from PS3.16 CID 7150, type (129770007, SCT, "Individual Calcification")
 * from CID 6014 Mammography Single Image Finding (the concept a Mammography CAD SR uses
 * for the same finding); Segment Algorithm Type AUTOMATIC with the algorithm's name and
 * version (Segmentation Algorithm Identification Sequence, family (123109, DCM,
 * "Computer Vision")). One frame, 1 bit per pixel, same Rows and Columns as the source.
 *
 * Patient and study attributes (Specific Character Set included) and the Frame of
 * Reference, when the source has one, are copied from the source image. The frame
 * references the source in its Derivation Image Sequence / Source Image Sequence
 * (purpose (121322, DCM, "Source image for image processing operation")); the source
 * series is listed in the Common Instance Reference Module. New series, same study.
 *
 * Deterministic: every UID is passed in (or derived from one passed in), dates and times
 * come from the request or the source, never from the clock.
 *
 * Thread: any thread except the libuv loop thread (blocking file I/O). */
#ifndef CN_DCM_SEG_WRITER_H
#define CN_DCM_SEG_WRITER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CN_SEG_LABEL_SIZE 65

/* All pointers are borrowed for the duration of the call. */
struct cn_seg_request {
    const char *source_path;        /* the segmented image, a DICOM Part 10 file */
    const uint32_t *labels;         /* rows * columns labels, row major, 0 = background,
                                       any other value = calcification; or NULL */
    const uint8_t *mask;            /* used when labels is NULL: 0 background, else
                                       calcification */
    uint32_t rows, columns;         /* must equal the source image's Rows and Columns */
    const char *algorithm_name;     /* required, 1-64 characters */
    const char *algorithm_version;  /* required, 1-64 characters */
    const char *series_instance_uid; /* required: the new series */
    const char *sop_instance_uid;    /* required */
    const char *dimension_organization_uid; /* NULL: sop_instance_uid + ".1" (which must
                                               then fit in 64 characters) */
    int32_t series_number;
    const char *series_description;  /* NULL: "Calcifications" */
    int32_t instance_number;
    const char *content_date;        /* DA; NULL: the source's Study Date */
    const char *content_time;        /* TM; NULL: the source's Study Time */
    const char *manufacturer;        /* NULL: "calcnode" */
};

/* Writes the SEG to path (Explicit VR Little Endian, replaced atomically). Returns 0;
 * CN_DCM_EINVAL for a bad request (missing or malformed UID, no mask, size differing
 * from the source's); CN_DCM_EIO / CN_DCM_EFORMAT / CN_DCM_EMISSING when the source
 * cannot be read or lacks its identifying attributes; CN_DCM_EIO when the output cannot
 * be written. err[err_len] as in dcm.h. A mask with no calcification still gives a valid
 * SEG with one empty frame. */
int cn_seg_write(const char *path, const struct cn_seg_request *request, char *err,
                 size_t err_len);

/* What a SEG file holds, as DCMTK dcmseg reads it back (for checks and tests). */
struct cn_seg_summary {
    uint32_t segment_count;
    uint32_t frame_count;
    uint32_t rows, columns;
    uint8_t *mask;          /* frame 1 unpacked, rows * columns bytes of 0 or 1; owned */
    char segment_label[CN_SEG_LABEL_SIZE]; /* of segment 1 */
    char referenced_sop_instance_uid[65];  /* the first frame's derivation source */
};

/* Reads the SEG at path with DCMTK. Returns 0 and fills *out (release with
 * cn_seg_summary_free), CN_DCM_EIO / CN_DCM_EFORMAT when it cannot be read as a SEG. */
int cn_seg_read(const char *path, struct cn_seg_summary *out, char *err, size_t err_len);

void cn_seg_summary_free(struct cn_seg_summary *summary);

#ifdef __cplusplus
}
#endif

#endif
