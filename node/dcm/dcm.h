/* node/dcm: DCMTK (and OpenJPEG) behind a C ABI. The only C++ in calcnode.
 *
 * No C++ type or exception crosses this header. Every function may be called from any
 * thread except the libuv loop thread (they parse and decode files: blocking work);
 * calls on different objects are independent. Every function returns 0 on success or
 * a negative cn_dcm error and, on failure, writes a one-line message (PostgreSQL style:
 * lower case, no trailing period, naming the file and the reason) into err[err_len]
 * when err is not NULL. */
#ifndef CN_DCM_DCM_H
#define CN_DCM_DCM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cn_dcm_error {
    CN_DCM_OK = 0,
    CN_DCM_EIO = -1,          /* file could not be opened, read or written */
    CN_DCM_EFORMAT = -2,      /* not a parseable DICOM / PGM file */
    CN_DCM_EMISSING = -3,     /* a required attribute is absent or empty */
    CN_DCM_EUNSUPPORTED = -4, /* photometric, bit depth or transfer syntax not handled */
    CN_DCM_EDECODE = -5,      /* compressed pixel data could not be decoded */
    CN_DCM_ENOMEM = -6,
    CN_DCM_EINVAL = -7,       /* bad argument */
};

#define CN_DCM_UID_SIZE 65  /* 64 characters (PS3.5 9.1) + NUL */
#define CN_DCM_AE_SIZE 17
#define CN_DCM_TEXT_SIZE 256

/* The attributes calcnode catalogues and routes by, read from a stored instance
 * (stopping before Pixel Data, so cheap for large images). Strings are NUL terminated,
 * trailing padding removed, empty when the attribute is absent. Text values are kept in
 * the file's Specific Character Set; specific_character_set says which. */
struct cn_dcm_header {
    char sop_class_uid[CN_DCM_UID_SIZE];
    char sop_instance_uid[CN_DCM_UID_SIZE];
    char study_instance_uid[CN_DCM_UID_SIZE];
    char series_instance_uid[CN_DCM_UID_SIZE];
    char transfer_syntax_uid[CN_DCM_UID_SIZE]; /* from the file meta information */
    char specific_character_set[CN_DCM_TEXT_SIZE];
    char patient_id[CN_DCM_TEXT_SIZE];
    char patient_name[CN_DCM_TEXT_SIZE];
    char patient_birth_date[16];
    char patient_sex[16];
    char study_date[16];
    char study_time[32];
    char accession_number[32];
    char study_description[CN_DCM_TEXT_SIZE];
    char modality[32];
    char series_number[16];
    char instance_number[16];
    char image_laterality[8];  /* (0020,0062), else (0020,0060) Laterality */
    char view_position[16];    /* (0018,5101) e.g. CC, MLO; else from View Code Sequence */
    char presentation_intent[32]; /* (0008,0068) FOR PRESENTATION / FOR PROCESSING */
    uint32_t rows, columns;    /* 0 when not an image */
    int parse_incomplete;      /* 1: the file is malformed after some point (for example a
                                  length beyond the end of the file); the fields above hold
                                  what was read before it, and the identifying UIDs were all
                                  found. err then carries the parse error even though the
                                  call returned 0. */
};

/* Reads the header of the DICOM Part 10 file at path (preamble and "DICM" required).
 * Returns 0 and fills *out; CN_DCM_EIO when the file cannot be opened; CN_DCM_EFORMAT
 * when it is not parseable DICOM or a UID is longer than 64 characters; CN_DCM_EMISSING
 * when SOP Class, SOP Instance, Study or Series Instance UID is absent. A file that
 * breaks off after those UIDs still returns 0, with out->parse_incomplete set. */
int cn_dcm_read_header(const char *path, struct cn_dcm_header *out, char *err, size_t err_len);

/* A decoded single-frame grayscale image, ready for analysis/. */
struct cn_dcm_image {
    uint16_t *pixels;          /* rows * columns, row major, raw stored values made unsigned
                                  (signed data offset by 2^(bits_stored-1)); owned */
    uint32_t rows, columns;
    uint32_t bits_stored;
    int monochrome1;           /* 1: higher values are darker (PS3.3 C.7.6.3.1.2) */
    int for_processing;        /* Presentation Intent Type is FOR PROCESSING */
    double pixel_spacing_mm[2]; /* row spacing, column spacing; Imager Pixel Spacing when
                                  Pixel Spacing is absent; 0 when unknown */
    int has_padding;
    uint16_t padding_value;    /* Pixel Padding Value, in the same unsigned form as pixels */
    double window_center, window_width; /* first VOI window; width 0 when none */
    char image_laterality[8];
    char view_position[16];
};

/* Decodes the first frame of a grayscale image in any transfer syntax the node accepts:
 * implicit/explicit little endian, explicit big endian, deflated, JPEG baseline/extended/
 * lossless, JPEG-LS, RLE, JPEG 2000 (OpenJPEG). MONOCHROME1 and MONOCHROME2 only; other
 * photometric interpretations fail with CN_DCM_EUNSUPPORTED. On success *out owns its
 * pixels; release with cn_dcm_image_free. */
int cn_dcm_decode_image(const char *path, struct cn_dcm_image *out, char *err, size_t err_len);

/* Reads a binary PGM (P5, maxval up to 65535) as an image with the given pixel spacing.
 * spacing_mm must be > 0 (a PGM carries none). */
int cn_dcm_read_pgm(const char *path, double spacing_mm, struct cn_dcm_image *out, char *err,
                    size_t err_len);

void cn_dcm_image_free(struct cn_dcm_image *image);

#ifdef __cplusplus
}
#endif

#endif
