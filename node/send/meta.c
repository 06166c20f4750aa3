#include "send/meta.h"

#include <stdio.h>
#include <string.h>

/* PS3.5 7.1.2: tag (4) and VR (2), then either a 2-byte length or, for the VRs of
 * Table 7.1-1, 2 reserved bytes and a 4-byte length. */
#define SHORT_HEADER_LEN 8u
#define LONG_HEADER_LEN 12u
#define META_GROUP 0x0002u
#define TAG_SOP_CLASS 0x0002u
#define TAG_SOP_INSTANCE 0x0003u
#define TAG_TRANSFER_SYNTAX 0x0010u

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* PS3.5 Table 7.1-1: the VRs with a 4-byte length. */
static int has_long_length(const uint8_t *vr)
{
    static const char long_vrs[][3] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                       "SV", "UC", "UN", "UR", "UT", "UV"};
    for (size_t i = 0; i < sizeof long_vrs / sizeof long_vrs[0]; i++)
        if (vr[0] == (uint8_t)long_vrs[i][0] && vr[1] == (uint8_t)long_vrs[i][1])
            return 1;
    return 0;
}

int cn_send_uid_is_valid(const char *uid)
{
    size_t n = strlen(uid);
    if (n == 0 || n > CN_SEND_UID_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(uid[i] == '.' || (uid[i] >= '0' && uid[i] <= '9')))
            return 0;
    return 1;
}

/* Copies a UI value without its NUL or space padding (PS3.5 6.2). */
static int copy_uid(char *dst, const uint8_t *value, uint32_t len)
{
    while (len > 0 && (value[len - 1] == '\0' || value[len - 1] == ' '))
        len--;
    if (len > CN_SEND_UID_MAX_LEN)
        return -1;
    memcpy(dst, value, len);
    dst[len] = '\0';
    return cn_send_uid_is_valid(dst) ? 0 : -1;
}

int cn_send_meta_parse(const uint8_t *buf, size_t len, int at_eof, struct cn_send_meta *out,
                       char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (len > CN_SEND_META_MAX_LEN)
        len = CN_SEND_META_MAX_LEN;
    size_t off = CN_SEND_META_PREAMBLE_LEN + CN_SEND_META_PREFIX_LEN;
    if (len < off ||
        memcmp(buf + CN_SEND_META_PREAMBLE_LEN, "DICM", CN_SEND_META_PREFIX_LEN) != 0) {
        snprintf(err, err_len, "not a DICOM Part 10 file (no \"DICM\" after the preamble)");
        return -1;
    }
    for (;;) {
        if (off == len && at_eof)
            break; /* a file with no data set */
        if (len - off < 2) {
            snprintf(err, err_len, "%s",
                     at_eof ? "file meta information is truncated"
                            : "file meta information is too long");
            return -1;
        }
        if (le16(buf + off) != META_GROUP)
            break;
        if (len - off < SHORT_HEADER_LEN) {
            snprintf(err, err_len, "file meta information is truncated at offset %zu", off);
            return -1;
        }
        uint16_t element = le16(buf + off + 2);
        const uint8_t *vr = buf + off + 4;
        uint32_t value_len;
        size_t header_len;
        if (has_long_length(vr)) {
            if (len - off < LONG_HEADER_LEN) {
                snprintf(err, err_len, "file meta information is truncated at offset %zu", off);
                return -1;
            }
            value_len = le32(buf + off + 8);
            header_len = LONG_HEADER_LEN;
        } else {
            value_len = le16(buf + off + 6);
            header_len = SHORT_HEADER_LEN;
        }
        if (value_len > len - off - header_len) {
            snprintf(err, err_len, "element (0002,%04X) of length %u runs past %s", element,
                     value_len, at_eof ? "the end of the file" : "the meta information cap");
            return -1;
        }
        const uint8_t *value = buf + off + header_len;
        char *dst = element == TAG_SOP_CLASS         ? out->sop_class_uid
                    : element == TAG_SOP_INSTANCE    ? out->sop_instance_uid
                    : element == TAG_TRANSFER_SYNTAX ? out->transfer_syntax_uid
                                                     : NULL;
        if (dst != NULL && copy_uid(dst, value, value_len) != 0) {
            snprintf(err, err_len, "element (0002,%04X) is not a valid UID", element);
            return -1;
        }
        off += header_len + value_len;
    }
    if (out->sop_class_uid[0] == '\0' || out->sop_instance_uid[0] == '\0' ||
        out->transfer_syntax_uid[0] == '\0') {
        snprintf(err, err_len, "file meta information lacks %s",
                 out->sop_class_uid[0] == '\0'      ? "Media Storage SOP Class UID"
                 : out->sop_instance_uid[0] == '\0' ? "Media Storage SOP Instance UID"
                                                    : "Transfer Syntax UID");
        return -1;
    }
    out->data_set_offset = off;
    return 0;
}
