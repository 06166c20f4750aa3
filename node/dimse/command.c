/* DIMSE command set codec: PS3.7 section 9.3 and Annex E, encoded per PS3.5 7.1.2
 * (Implicit VR Little Endian: tag group, tag element, 32-bit value length, value). */
#include "dimse/command.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* PS3.5 7.1.2: tag (4 bytes) + 32-bit length. */
#define ELEMENT_HEADER_LEN 8
#define US_LEN 2
#define UL_LEN 4
#define GROUP_LENGTH_ELEMENT_LEN (ELEMENT_HEADER_LEN + UL_LEN)
#define COMMAND_GROUP 0x0000u
#define GROUP_LENGTH_ELEMENT 0x0000u

enum value_kind { KIND_US, KIND_UI, KIND_AE, KIND_LO };

/* The elements we model, in ascending tag order (PS3.7 Table E.1-1). */
struct element_def {
    uint16_t element;
    enum value_kind kind;
    uint32_t bit;
    size_t offset;  /* of the uint16_t or char[] in struct cn_dimse_command */
    size_t max_len; /* strings: value cap in bytes, padding included */
};

#define FIELD(name) offsetof(struct cn_dimse_command, name)

static const struct element_def ELEMENTS[] = {
    {0x0002, KIND_UI, CN_DIMSE_HAS_AFFECTED_SOP_CLASS_UID, FIELD(affected_sop_class_uid),
     CN_DIMSE_UID_MAX_LEN},
    {0x0003, KIND_UI, CN_DIMSE_HAS_REQUESTED_SOP_CLASS_UID, FIELD(requested_sop_class_uid),
     CN_DIMSE_UID_MAX_LEN},
    {0x0100, KIND_US, CN_DIMSE_HAS_COMMAND_FIELD, FIELD(command_field), US_LEN},
    {0x0110, KIND_US, CN_DIMSE_HAS_MESSAGE_ID, FIELD(message_id), US_LEN},
    {0x0120, KIND_US, CN_DIMSE_HAS_MESSAGE_ID_BEING_RESPONDED_TO,
     FIELD(message_id_being_responded_to), US_LEN},
    {0x0600, KIND_AE, CN_DIMSE_HAS_MOVE_DESTINATION, FIELD(move_destination),
     CN_DIMSE_AE_MAX_LEN},
    {0x0700, KIND_US, CN_DIMSE_HAS_PRIORITY, FIELD(priority), US_LEN},
    {0x0800, KIND_US, CN_DIMSE_HAS_COMMAND_DATA_SET_TYPE, FIELD(command_data_set_type), US_LEN},
    {0x0900, KIND_US, CN_DIMSE_HAS_STATUS, FIELD(status), US_LEN},
    {0x0902, KIND_LO, CN_DIMSE_HAS_ERROR_COMMENT, FIELD(error_comment),
     CN_DIMSE_ERROR_COMMENT_MAX_LEN},
    {0x1000, KIND_UI, CN_DIMSE_HAS_AFFECTED_SOP_INSTANCE_UID, FIELD(affected_sop_instance_uid),
     CN_DIMSE_UID_MAX_LEN},
    {0x1001, KIND_UI, CN_DIMSE_HAS_REQUESTED_SOP_INSTANCE_UID,
     FIELD(requested_sop_instance_uid), CN_DIMSE_UID_MAX_LEN},
    {0x1030, KIND_AE, CN_DIMSE_HAS_MOVE_ORIGINATOR_AE_TITLE, FIELD(move_originator_ae_title),
     CN_DIMSE_AE_MAX_LEN},
    {0x1031, KIND_US, CN_DIMSE_HAS_MOVE_ORIGINATOR_MESSAGE_ID, FIELD(move_originator_message_id),
     US_LEN},
};

#define ELEMENT_COUNT (sizeof ELEMENTS / sizeof ELEMENTS[0])

static const char *const ERROR_MESSAGES[] = {
    "ok",
    "command element runs past the end of the command set",
    "command element value longer than its limit",
    "command set element outside group 0000",
    "command element value invalid for its VR",
    "command group length disagrees with the command set",
    "command set has no command field",
    "encode buffer too small",
    "invalid argument",
    "data set fragment with no command pending",
    "data set fragment on a presentation context other than its command's",
    "command fragment while a data set is expected",
    "data set fragment after a command without a data set",
    "command set longer than the limit",
    "command fragments on different presentation contexts",
    "out of memory",
    "command set elements not in ascending order",
};

const char *cn_dimse_strerror(int err)
{
    if (err > 0 || -(long)err >= (long)(sizeof ERROR_MESSAGES / sizeof ERROR_MESSAGES[0]))
        return "unknown error";
    return ERROR_MESSAGES[-err];
}

enum cn_dimse_status_class cn_dimse_status_class(uint16_t status)
{
    /* PS3.7 Annex C: 0000 success; FF00/FF01 pending; FE00 cancel; warnings are 0001,
     * 0107, 0116 and Bxxx; all else (01xx, 02xx, Axxx, Cxxx, ...) failure. */
    if (status == CN_DIMSE_STATUS_SUCCESS)
        return CN_DIMSE_STATUS_CLASS_SUCCESS;
    if (status == CN_DIMSE_STATUS_PENDING || status == CN_DIMSE_STATUS_PENDING_WARNING)
        return CN_DIMSE_STATUS_CLASS_PENDING;
    if (status == CN_DIMSE_STATUS_CANCEL)
        return CN_DIMSE_STATUS_CLASS_CANCEL;
    if (status == 0x0001u || status == 0x0107u || status == 0x0116u ||
        (status & 0xF000u) == 0xB000u)
        return CN_DIMSE_STATUS_CLASS_WARNING;
    return CN_DIMSE_STATUS_CLASS_FAILURE;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static const struct element_def *find_element(uint16_t element)
{
    for (size_t i = 0; i < ELEMENT_COUNT; i++)
        if (ELEMENTS[i].element == element)
            return &ELEMENTS[i];
    return NULL;
}

/* PS3.5 6.2: UI is padded with a trailing NUL; AE may carry leading and trailing spaces
 * (insignificant); LO trailing spaces. A peer's odd-length value is tolerated: the
 * padding rules are applied to whatever length it sent. Embedded NULs or control
 * characters are not allowed in any of them. */
static int decode_string(const struct element_def *def, const uint8_t *value, uint32_t len,
                         char *dst, char *err, size_t err_len)
{
    size_t start = 0, end = len;
    if (def->kind == KIND_UI) {
        while (end > 0 && (value[end - 1] == '\0' || value[end - 1] == ' '))
            end--;
    } else {
        while (end > 0 && (value[end - 1] == ' ' || value[end - 1] == '\0'))
            end--;
        if (def->kind == KIND_AE)
            while (start < end && value[start] == ' ')
                start++;
    }
    for (size_t i = start; i < end; i++) {
        if (value[i] < 0x20 || value[i] == 0x7F)
            return fail(err, err_len, CN_DIMSE_EVALUE,
                        "command element (0000,%04X) has a control character at byte %zu",
                        def->element, i);
    }
    memcpy(dst, value + start, end - start);
    dst[end - start] = '\0';
    return 0;
}

int cn_dimse_command_decode(const uint8_t *data, size_t len, struct cn_dimse_command *out,
                            char *err, size_t err_len)
{
    if (out == NULL || (data == NULL && len > 0))
        return fail(err, err_len, CN_DIMSE_EINVAL, "invalid argument");
    memset(out, 0, sizeof *out);
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (len > CN_DIMSE_COMMAND_MAX_LEN)
        return fail(err, err_len, CN_DIMSE_ETOOLONG,
                    "command set of %zu bytes exceeds the limit of %u", len,
                    CN_DIMSE_COMMAND_MAX_LEN);

    size_t pos = 0;
    long previous_element = -1;
    while (pos < len) {
        if (len - pos < ELEMENT_HEADER_LEN)
            return fail(err, err_len, CN_DIMSE_ETRUNCATED,
                        "command element header at offset %zu truncated: %zu bytes left", pos,
                        len - pos);
        uint16_t group = get_u16(data + pos);
        uint16_t element = get_u16(data + pos + 2);
        uint32_t value_len = get_u32(data + pos + 4);
        if (group != COMMAND_GROUP)
            return fail(err, err_len, CN_DIMSE_EGROUP,
                        "element (%04X,%04X) at offset %zu is outside the command group 0000",
                        group, element, pos);
        if (value_len > len - pos - ELEMENT_HEADER_LEN)
            return fail(err, err_len, CN_DIMSE_ETRUNCATED,
                        "command element (0000,%04X) length %u exceeds the %zu bytes left",
                        element, value_len, len - pos - ELEMENT_HEADER_LEN);
        /* PS3.5 7.1: elements in ascending tag order, each at most once. */
        if ((long)element <= previous_element)
            return fail(err, err_len, CN_DIMSE_EORDER,
                        "command element (0000,%04X) follows (0000,%04lX)", element,
                        (unsigned long)previous_element);
        previous_element = element;
        const uint8_t *value = data + pos + ELEMENT_HEADER_LEN;
        size_t next = pos + ELEMENT_HEADER_LEN + value_len;

        if (element == GROUP_LENGTH_ELEMENT) {
            /* PS3.7 E.1: (0000,0000) UL, the byte count from the end of this element to
             * the end of the command set. */
            if (value_len != UL_LEN)
                return fail(err, err_len, CN_DIMSE_EVALUE,
                            "command group length has value length %u, expected 4", value_len);
            uint32_t group_len = get_u32(value);
            if (group_len != len - next)
                return fail(err, err_len, CN_DIMSE_EGROUP_LENGTH,
                            "command group length %u disagrees with the %zu bytes that follow",
                            group_len, len - next);
            out->present |= CN_DIMSE_HAS_GROUP_LENGTH;
            pos = next;
            continue;
        }

        const struct element_def *def = find_element(element);
        if (def == NULL) {
            pos = next; /* an element we do not model: skipped */
            continue;
        }
        if (def->kind == KIND_US) {
            if (value_len != US_LEN)
                return fail(err, err_len, CN_DIMSE_EVALUE,
                            "command element (0000,%04X) is US but has length %u", element,
                            value_len);
            uint16_t v = get_u16(value);
            memcpy((uint8_t *)out + def->offset, &v, sizeof v);
        } else {
            if (value_len > def->max_len)
                return fail(err, err_len, CN_DIMSE_ETOOLONG,
                            "command element (0000,%04X) length %u exceeds the limit of %zu",
                            element, value_len, def->max_len);
            int rc = decode_string(def, value, value_len, (char *)out + def->offset, err,
                                   err_len);
            if (rc < 0)
                return rc;
        }
        out->present |= def->bit;
        pos = next;
    }

    if (!(out->present & CN_DIMSE_HAS_COMMAND_FIELD))
        return fail(err, err_len, CN_DIMSE_EMISSING, "command set has no command field (0000,0100)");
    /* PS3.7 E.1: absent Command Data Set Type is not legal; treat it as "no data set" so a
     * peer's omission can never make us wait for data that will not come. */
    out->has_data_set = (out->present & CN_DIMSE_HAS_COMMAND_DATA_SET_TYPE) &&
                        out->command_data_set_type != CN_DIMSE_DATA_SET_ABSENT;
    return 0;
}

/* PS3.5 7.1.1: every value has an even length. */
static size_t padded_len(const char *s)
{
    size_t n = strlen(s);
    return n + (n & 1u);
}

int cn_dimse_command_encode(const struct cn_dimse_command *cmd, uint8_t *buf, size_t size)
{
    if (cmd == NULL || buf == NULL)
        return CN_DIMSE_EINVAL;

    /* First pass: validate and size. */
    size_t total = GROUP_LENGTH_ELEMENT_LEN;
    for (size_t i = 0; i < ELEMENT_COUNT; i++) {
        const struct element_def *def = &ELEMENTS[i];
        if (!(cmd->present & def->bit))
            continue;
        if (def->kind == KIND_US) {
            total += ELEMENT_HEADER_LEN + US_LEN;
            continue;
        }
        const char *s = (const char *)cmd + def->offset;
        size_t n = strnlen(s, def->max_len + 1);
        if (n > def->max_len)
            return CN_DIMSE_EINVAL;
        total += ELEMENT_HEADER_LEN + padded_len(s);
    }
    if (total > size || total > CN_DIMSE_COMMAND_MAX_LEN)
        return CN_DIMSE_ENOSPACE;

    uint8_t *p = buf;
    put_u16(p, COMMAND_GROUP);
    put_u16(p + 2, GROUP_LENGTH_ELEMENT);
    put_u32(p + 4, UL_LEN);
    put_u32(p + 8, (uint32_t)(total - GROUP_LENGTH_ELEMENT_LEN));
    p += GROUP_LENGTH_ELEMENT_LEN;

    for (size_t i = 0; i < ELEMENT_COUNT; i++) {
        const struct element_def *def = &ELEMENTS[i];
        if (!(cmd->present & def->bit))
            continue;
        put_u16(p, COMMAND_GROUP);
        put_u16(p + 2, def->element);
        if (def->kind == KIND_US) {
            uint16_t v;
            memcpy(&v, (const uint8_t *)cmd + def->offset, sizeof v);
            if (def->bit == CN_DIMSE_HAS_COMMAND_DATA_SET_TYPE) {
                if (!cmd->has_data_set)
                    v = CN_DIMSE_DATA_SET_ABSENT;
                else if (v == CN_DIMSE_DATA_SET_ABSENT)
                    v = CN_DIMSE_DATA_SET_PRESENT;
            }
            put_u32(p + 4, US_LEN);
            put_u16(p + ELEMENT_HEADER_LEN, v);
            p += ELEMENT_HEADER_LEN + US_LEN;
            continue;
        }
        const char *s = (const char *)cmd + def->offset;
        size_t n = strlen(s);
        size_t padded = padded_len(s);
        put_u32(p + 4, (uint32_t)padded);
        memcpy(p + ELEMENT_HEADER_LEN, s, n);
        /* PS3.5 6.2: UI padded with NUL, AE and LO with a space. */
        if (padded > n)
            p[ELEMENT_HEADER_LEN + n] = def->kind == KIND_UI ? '\0' : ' ';
        p += ELEMENT_HEADER_LEN + padded;
    }
    return (int)total;
}

static int copy_string(char *dst, size_t dst_size, const char *src)
{
    if (src == NULL)
        return CN_DIMSE_EINVAL;
    size_t n = strnlen(src, dst_size);
    if (n >= dst_size)
        return CN_DIMSE_EINVAL;
    memcpy(dst, src, n + 1);
    return 0;
}

int cn_dimse_encode_c_echo_rq(uint8_t *buf, size_t size, uint16_t message_id,
                              const char *affected_sop_class_uid)
{
    struct cn_dimse_command cmd = {0};
    if (copy_string(cmd.affected_sop_class_uid, sizeof cmd.affected_sop_class_uid,
                    affected_sop_class_uid) < 0)
        return CN_DIMSE_EINVAL;
    cmd.command_field = CN_DIMSE_C_ECHO_RQ;
    cmd.message_id = message_id;
    cmd.has_data_set = 0;
    cmd.present = CN_DIMSE_HAS_AFFECTED_SOP_CLASS_UID | CN_DIMSE_HAS_COMMAND_FIELD |
                  CN_DIMSE_HAS_MESSAGE_ID | CN_DIMSE_HAS_COMMAND_DATA_SET_TYPE;
    return cn_dimse_command_encode(&cmd, buf, size);
}

int cn_dimse_encode_c_echo_rsp(uint8_t *buf, size_t size, uint16_t message_id_being_responded_to,
                               const char *affected_sop_class_uid, uint16_t status)
{
    struct cn_dimse_command cmd = {0};
    if (copy_string(cmd.affected_sop_class_uid, sizeof cmd.affected_sop_class_uid,
                    affected_sop_class_uid) < 0)
        return CN_DIMSE_EINVAL;
    cmd.command_field = CN_DIMSE_C_ECHO_RSP;
    cmd.message_id_being_responded_to = message_id_being_responded_to;
    cmd.status = status;
    cmd.present = CN_DIMSE_HAS_AFFECTED_SOP_CLASS_UID | CN_DIMSE_HAS_COMMAND_FIELD |
                  CN_DIMSE_HAS_MESSAGE_ID_BEING_RESPONDED_TO |
                  CN_DIMSE_HAS_COMMAND_DATA_SET_TYPE | CN_DIMSE_HAS_STATUS;
    return cn_dimse_command_encode(&cmd, buf, size);
}

int cn_dimse_encode_c_store_rq(uint8_t *buf, size_t size, uint16_t message_id,
                               const char *affected_sop_class_uid,
                               const char *affected_sop_instance_uid, uint16_t priority,
                               const char *move_originator_ae_title,
                               uint16_t move_originator_message_id)
{
    struct cn_dimse_command cmd = {0};
    if (copy_string(cmd.affected_sop_class_uid, sizeof cmd.affected_sop_class_uid,
                    affected_sop_class_uid) < 0 ||
        copy_string(cmd.affected_sop_instance_uid, sizeof cmd.affected_sop_instance_uid,
                    affected_sop_instance_uid) < 0)
        return CN_DIMSE_EINVAL;
    cmd.command_field = CN_DIMSE_C_STORE_RQ;
    cmd.message_id = message_id;
    cmd.priority = priority;
    cmd.has_data_set = 1;
    cmd.command_data_set_type = CN_DIMSE_DATA_SET_PRESENT;
    cmd.present = CN_DIMSE_HAS_AFFECTED_SOP_CLASS_UID | CN_DIMSE_HAS_COMMAND_FIELD |
                  CN_DIMSE_HAS_MESSAGE_ID | CN_DIMSE_HAS_PRIORITY |
                  CN_DIMSE_HAS_COMMAND_DATA_SET_TYPE | CN_DIMSE_HAS_AFFECTED_SOP_INSTANCE_UID;
    if (move_originator_ae_title != NULL) {
        if (copy_string(cmd.move_originator_ae_title, sizeof cmd.move_originator_ae_title,
                        move_originator_ae_title) < 0)
            return CN_DIMSE_EINVAL;
        cmd.move_originator_message_id = move_originator_message_id;
        cmd.present |= CN_DIMSE_HAS_MOVE_ORIGINATOR_AE_TITLE |
                       CN_DIMSE_HAS_MOVE_ORIGINATOR_MESSAGE_ID;
    }
    return cn_dimse_command_encode(&cmd, buf, size);
}

int cn_dimse_encode_c_store_rsp(uint8_t *buf, size_t size, uint16_t message_id_being_responded_to,
                                const char *affected_sop_class_uid,
                                const char *affected_sop_instance_uid, uint16_t status,
                                const char *error_comment)
{
    struct cn_dimse_command cmd = {0};
    if (copy_string(cmd.affected_sop_class_uid, sizeof cmd.affected_sop_class_uid,
                    affected_sop_class_uid) < 0 ||
        copy_string(cmd.affected_sop_instance_uid, sizeof cmd.affected_sop_instance_uid,
                    affected_sop_instance_uid) < 0)
        return CN_DIMSE_EINVAL;
    cmd.command_field = CN_DIMSE_C_STORE_RSP;
    cmd.message_id_being_responded_to = message_id_being_responded_to;
    cmd.status = status;
    cmd.present = CN_DIMSE_HAS_AFFECTED_SOP_CLASS_UID | CN_DIMSE_HAS_COMMAND_FIELD |
                  CN_DIMSE_HAS_MESSAGE_ID_BEING_RESPONDED_TO |
                  CN_DIMSE_HAS_COMMAND_DATA_SET_TYPE | CN_DIMSE_HAS_STATUS |
                  CN_DIMSE_HAS_AFFECTED_SOP_INSTANCE_UID;
    if (error_comment != NULL && error_comment[0] != '\0') {
        if (copy_string(cmd.error_comment, sizeof cmd.error_comment, error_comment) < 0)
            return CN_DIMSE_EINVAL;
        cmd.present |= CN_DIMSE_HAS_ERROR_COMMENT;
    }
    return cn_dimse_command_encode(&cmd, buf, size);
}
