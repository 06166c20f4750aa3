/* node/dcm: writes a Digital Mammography X-Ray Image - For Presentation (PS3.3 A.26,
 * SOP Class 1.2.840.10008.5.1.4.1.1.1.2) as a DICOM Part 10 file in Explicit VR Little
 * Endian, from 16-bit pixels. Used by the phantom generator and by tests that need
 * images with exact truth.
 *
 * The output is a pure function of the inputs: every UID is passed in, dates and times
 * too (no clock, no random numbers), so the same inputs give the same bytes.
 *
 * Thread: any thread except the libuv loop thread (blocking file I/O). */
#ifndef CN_DCM_MG_WRITER_H
#define CN_DCM_MG_WRITER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Patient, study, series and instance attributes. Every pointer is borrowed for the
 * duration of the call; NULL means "empty" for type 2 attributes. Text is written as
 * given, in the repertoire named by specific_character_set (NULL or "" for the default
 * repertoire, "ISO_IR 192" for UTF-8, ...). */
struct cn_mg_identity {
    const char *specific_character_set;
    const char *patient_name;       /* PN, e.g. "Doe^Jane" */
    const char *patient_id;
    const char *patient_birth_date; /* DA YYYYMMDD */
    const char *patient_sex;        /* F, M, O */
    const char *study_instance_uid; /* required, 1-64 characters of [0-9.] */
    const char *study_date;         /* DA; also used as Series/Content Date */
    const char *study_time;         /* TM; also used as Series/Content Time */
    const char *study_id;
    const char *accession_number;
    const char *study_description;
    const char *referring_physician_name;
    const char *series_instance_uid; /* required */
    const char *series_description;
    int32_t series_number;
    const char *sop_instance_uid;    /* required */
    int32_t instance_number;
    const char *manufacturer;        /* NULL: "calcnode" */
};

/* The image. pixels holds rows * columns stored values, row major, each < 2^bits_stored;
 * borrowed. Pixel Representation is unsigned, Photometric Interpretation MONOCHROME2. */
struct cn_mg_pixels {
    const uint16_t *pixels;
    uint32_t rows, columns;       /* 1..65535 each (US) */
    uint32_t bits_stored;         /* 8..16; Bits Allocated is 16 */
    double pixel_spacing_mm[2];   /* row, column spacing, > 0; written as Imager Pixel
                                     Spacing and as Pixel Spacing (PS3.3 C.8.11.4) */
    char laterality;              /* 'L' or 'R': Image Laterality (0020,0062) */
    const char *view;             /* "CC" or "MLO": View Position and View Code Sequence */
    double window_center, window_width; /* width <= 0: the full stored range */
};

/* Writes the image to path (created or replaced). Returns 0, CN_DCM_EINVAL for a bad
 * argument (missing UID, UID not of [0-9.] or longer than 64, view other than CC/MLO,
 * laterality other than L/R, sizes or bits out of range, a pixel >= 2^bits_stored),
 * CN_DCM_EIO when the file cannot be written; err[err_len] as in dcm.h. */
int cn_mg_write(const char *path, const struct cn_mg_identity *identity,
                const struct cn_mg_pixels *image, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
