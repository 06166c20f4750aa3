/* node/store: DICOM File Meta Information (PS3.10 section 7.1). Pure; any thread. */
#ifndef CN_STORE_PART10_H
#define CN_STORE_PART10_H

#include <stddef.h>
#include <stdint.h>

/* PS3.10 7.1: 128-byte preamble, then "DICM". */
#define CN_PART10_PREAMBLE_LEN 128
#define CN_PART10_PREFIX_LEN 4
/* Enough for any header cn_part10_encode_meta accepts (4 UIDs of 64, AE 16, name 16). */
#define CN_PART10_META_MAX_LEN 512

/* The values of group 0002. All strings are borrowed, NUL terminated, without padding. */
struct cn_part10_meta {
    const char *media_storage_sop_class_uid;    /* (0002,0002) UI, required */
    const char *media_storage_sop_instance_uid; /* (0002,0003) UI, required */
    const char *transfer_syntax_uid;            /* (0002,0010) UI, required */
    const char *implementation_class_uid;       /* (0002,0012) UI, required */
    const char *implementation_version_name;    /* (0002,0013) SH, NULL or "": omitted */
    const char *source_ae_title;                /* (0002,0016) AE, NULL or "": omitted */
};

/* Writes a zero preamble, "DICM" and group 0002 in Explicit VR Little Endian:
 * (0002,0000) group length, (0002,0001) version 00\01, then the fields above in tag
 * order; UIDs padded with NUL and SH/AE with a space to even length.
 * Returns the number of bytes written into buf[size] (at most CN_PART10_META_MAX_LEN),
 * -1 when a required UID is missing, longer than 64 characters, or a text value is longer
 * than 16 characters, -2 when size is too small. */
int cn_part10_encode_meta(const struct cn_part10_meta *meta, uint8_t *buf, size_t size);

#endif
