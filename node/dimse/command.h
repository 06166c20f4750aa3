/* node/dimse: the DIMSE command set codec (PS3.7 section 9.3, Annex E).
 *
 * A command set is group 0000 only, always encoded Implicit VR Little Endian (PS3.7
 * 6.3.1), whatever transfer syntax the presentation context negotiated for data sets.
 * Everything here is pure (no I/O, no allocation) and may be called from any thread;
 * calls on different objects are independent. */
#ifndef CN_DIMSE_COMMAND_H
#define CN_DIMSE_COMMAND_H

#include <stddef.h>
#include <stdint.h>

/* PS3.7 Annex E Table E.1-1: Command Field (0000,0100) values. */
enum cn_dimse_command_field {
    CN_DIMSE_C_STORE_RQ = 0x0001,
    CN_DIMSE_C_STORE_RSP = 0x8001,
    CN_DIMSE_C_GET_RQ = 0x0010,
    CN_DIMSE_C_GET_RSP = 0x8010,
    CN_DIMSE_C_FIND_RQ = 0x0020,
    CN_DIMSE_C_FIND_RSP = 0x8020,
    CN_DIMSE_C_MOVE_RQ = 0x0021,
    CN_DIMSE_C_MOVE_RSP = 0x8021,
    CN_DIMSE_C_ECHO_RQ = 0x0030,
    CN_DIMSE_C_ECHO_RSP = 0x8030,
    CN_DIMSE_N_EVENT_REPORT_RQ = 0x0100,
    CN_DIMSE_N_EVENT_REPORT_RSP = 0x8100,
    CN_DIMSE_N_GET_RQ = 0x0110,
    CN_DIMSE_N_GET_RSP = 0x8110,
    CN_DIMSE_N_SET_RQ = 0x0120,
    CN_DIMSE_N_SET_RSP = 0x8120,
    CN_DIMSE_N_ACTION_RQ = 0x0130,
    CN_DIMSE_N_ACTION_RSP = 0x8130,
    CN_DIMSE_N_CREATE_RQ = 0x0140,
    CN_DIMSE_N_CREATE_RSP = 0x8140,
    CN_DIMSE_N_DELETE_RQ = 0x0150,
    CN_DIMSE_N_DELETE_RSP = 0x8150,
    CN_DIMSE_C_CANCEL_RQ = 0x0FFF,
};

/* PS3.7 Annex E: bit 15 of the Command Field distinguishes a response from a request. */
#define CN_DIMSE_COMMAND_RESPONSE_BIT 0x8000u

/* PS3.7 Annex E: Command Data Set Type (0000,0800). 0x0101 means no data set follows;
 * any other value means one does. We write CN_DIMSE_DATA_SET_PRESENT. */
#define CN_DIMSE_DATA_SET_ABSENT 0x0101u
#define CN_DIMSE_DATA_SET_PRESENT 0x0001u

/* PS3.7 Annex E: Priority (0000,0700). */
enum cn_dimse_priority {
    CN_DIMSE_PRIORITY_MEDIUM = 0x0000,
    CN_DIMSE_PRIORITY_HIGH = 0x0001,
    CN_DIMSE_PRIORITY_LOW = 0x0002,
};

/* PS3.7 Annex C (status encoding) and Annex B.2.3 (C-STORE statuses). */
#define CN_DIMSE_STATUS_SUCCESS 0x0000u
#define CN_DIMSE_STATUS_CANCEL 0xFE00u
#define CN_DIMSE_STATUS_PENDING 0xFF00u
#define CN_DIMSE_STATUS_PENDING_WARNING 0xFF01u
/* Warnings (PS3.4 Table B.2-1) */
#define CN_DIMSE_STATUS_COERCION_OF_DATA_ELEMENTS 0xB000u
#define CN_DIMSE_STATUS_ELEMENTS_DISCARDED 0xB006u
#define CN_DIMSE_STATUS_DATA_SET_DOES_NOT_MATCH_SOP_CLASS_WARNING 0xB007u
/* Failures, general (PS3.7 Annex C.5) */
#define CN_DIMSE_STATUS_PROCESSING_FAILURE 0x0110u
#define CN_DIMSE_STATUS_NO_SUCH_SOP_CLASS 0x0118u
#define CN_DIMSE_STATUS_SOP_CLASS_NOT_SUPPORTED 0x0122u  /* Refused */
#define CN_DIMSE_STATUS_NOT_AUTHORIZED 0x0124u
#define CN_DIMSE_STATUS_DUPLICATE_INVOCATION 0x0210u
#define CN_DIMSE_STATUS_UNRECOGNIZED_OPERATION 0x0211u
/* Failures, C-STORE (PS3.4 Table B.2-1) */
#define CN_DIMSE_STATUS_OUT_OF_RESOURCES 0xA700u         /* Refused: A700-A7FF */
#define CN_DIMSE_STATUS_DATA_SET_DOES_NOT_MATCH_SOP_CLASS 0xA900u /* Error: A900-A9FF */
#define CN_DIMSE_STATUS_CANNOT_UNDERSTAND 0xC000u        /* Error: C000-CFFF */

enum cn_dimse_status_class {
    CN_DIMSE_STATUS_CLASS_SUCCESS = 0,
    CN_DIMSE_STATUS_CLASS_PENDING = 1,
    CN_DIMSE_STATUS_CLASS_CANCEL = 2,
    CN_DIMSE_STATUS_CLASS_WARNING = 3,
    CN_DIMSE_STATUS_CLASS_FAILURE = 4,
};

/* Classifies a status per PS3.7 Annex C: 0000 success; FF00/FF01 pending; FE00 cancel;
 * 0001, 0107, 0116 and Bxxx warning; everything else failure. */
enum cn_dimse_status_class cn_dimse_status_class(uint16_t status);

/* Limits (PS3.5 9.1 for UIDs, PS3.5 Table 6.2-1 for AE and LO). */
#define CN_DIMSE_UID_MAX_LEN 64
#define CN_DIMSE_AE_MAX_LEN 16
#define CN_DIMSE_ERROR_COMMENT_MAX_LEN 64
/* A command set larger than this is refused: the largest legal one we know of is well
 * under 1 KiB. Also the receiver's accumulation cap. */
#define CN_DIMSE_COMMAND_MAX_LEN (64u * 1024u)

/* Bits of cn_dimse_command.present: which elements the command set carried. */
enum cn_dimse_element_bit {
    CN_DIMSE_HAS_GROUP_LENGTH = 1u << 0,                  /* (0000,0000) UL */
    CN_DIMSE_HAS_AFFECTED_SOP_CLASS_UID = 1u << 1,        /* (0000,0002) UI */
    CN_DIMSE_HAS_REQUESTED_SOP_CLASS_UID = 1u << 2,       /* (0000,0003) UI */
    CN_DIMSE_HAS_COMMAND_FIELD = 1u << 3,                 /* (0000,0100) US */
    CN_DIMSE_HAS_MESSAGE_ID = 1u << 4,                    /* (0000,0110) US */
    CN_DIMSE_HAS_MESSAGE_ID_BEING_RESPONDED_TO = 1u << 5, /* (0000,0120) US */
    CN_DIMSE_HAS_MOVE_DESTINATION = 1u << 6,              /* (0000,0600) AE */
    CN_DIMSE_HAS_PRIORITY = 1u << 7,                      /* (0000,0700) US */
    CN_DIMSE_HAS_COMMAND_DATA_SET_TYPE = 1u << 8,         /* (0000,0800) US */
    CN_DIMSE_HAS_STATUS = 1u << 9,                        /* (0000,0900) US */
    CN_DIMSE_HAS_ERROR_COMMENT = 1u << 10,                /* (0000,0902) LO */
    CN_DIMSE_HAS_AFFECTED_SOP_INSTANCE_UID = 1u << 11,    /* (0000,1000) UI */
    CN_DIMSE_HAS_REQUESTED_SOP_INSTANCE_UID = 1u << 12,   /* (0000,1001) UI */
    CN_DIMSE_HAS_MOVE_ORIGINATOR_AE_TITLE = 1u << 13,     /* (0000,1030) AE */
    CN_DIMSE_HAS_MOVE_ORIGINATOR_MESSAGE_ID = 1u << 14,   /* (0000,1031) US */
};

/* A decoded command set. Strings are NUL terminated with their padding removed (trailing
 * NUL for UI, trailing and leading spaces for AE, trailing spaces for LO); an element
 * present with an empty value has its bit set and an empty string. */
struct cn_dimse_command {
    uint32_t present; /* enum cn_dimse_element_bit */
    uint16_t command_field;
    uint16_t message_id;
    uint16_t message_id_being_responded_to;
    uint16_t priority;
    uint16_t command_data_set_type; /* raw (0000,0800) */
    int has_data_set;               /* decode: command_data_set_type != 0x0101;
                                       encode: chooses the written value */
    uint16_t status;
    uint16_t move_originator_message_id;
    char affected_sop_class_uid[CN_DIMSE_UID_MAX_LEN + 1];
    char affected_sop_instance_uid[CN_DIMSE_UID_MAX_LEN + 1];
    char requested_sop_class_uid[CN_DIMSE_UID_MAX_LEN + 1];
    char requested_sop_instance_uid[CN_DIMSE_UID_MAX_LEN + 1];
    char move_destination[CN_DIMSE_AE_MAX_LEN + 1];
    char move_originator_ae_title[CN_DIMSE_AE_MAX_LEN + 1];
    char error_comment[CN_DIMSE_ERROR_COMMENT_MAX_LEN + 1];
};

/* Errors of this layer (codec and receiver). Append only. */
enum cn_dimse_error {
    CN_DIMSE_OK = 0,
    CN_DIMSE_ETRUNCATED = -1,       /* an element header or value runs past the end */
    CN_DIMSE_ETOOLONG = -2,         /* a value longer than its cap */
    CN_DIMSE_EGROUP = -3,           /* an element outside group 0000 */
    CN_DIMSE_EVALUE = -4,           /* a value of the wrong length or content for its VR */
    CN_DIMSE_EGROUP_LENGTH = -5,    /* (0000,0000) disagrees with the bytes that follow */
    CN_DIMSE_EMISSING = -6,         /* no Command Field */
    CN_DIMSE_ENOSPACE = -7,         /* encode: the caller's buffer is too small */
    CN_DIMSE_EINVAL = -8,           /* bad argument (encode: a string over its cap) */
    CN_DIMSE_EDATA_BEFORE_COMMAND = -9,  /* receiver: data PDV with no command pending */
    CN_DIMSE_EDATA_CONTEXT = -10,   /* receiver: data PDV on another presentation context */
    CN_DIMSE_ECOMMAND_DURING_DATA = -11, /* receiver: command PDV while a data set is due */
    CN_DIMSE_EUNEXPECTED_DATA = -12,     /* receiver: data PDV after a command without one */
    CN_DIMSE_ECOMMAND_TOO_LONG = -13,    /* receiver: command fragments over the cap */
    CN_DIMSE_ECOMMAND_CONTEXT = -14,     /* receiver: command fragments on two contexts */
    CN_DIMSE_ENOMEM = -15,
    CN_DIMSE_EORDER = -16,          /* elements not in ascending tag order (PS3.5 7.1) */
};

/* A static English description of a cn_dimse_error ("unknown error" otherwise). */
const char *cn_dimse_strerror(int err);

/* Decodes the command set data[0..len) (the bytes of the command PDVs concatenated,
 * without PDV headers) into *out (fully overwritten). Every element length is checked
 * against the bytes present and against its cap. (0000,0000) is optional (some peers omit
 * it) but verified when present. Elements of group 0000 we do not model are skipped.
 * Returns 0, or a negative cn_dimse_error with a one-line message in err[err_len] (when
 * err is not NULL). Borrows data. */
int cn_dimse_command_decode(const uint8_t *data, size_t len, struct cn_dimse_command *out,
                            char *err, size_t err_len);

/* Encodes every element whose bit is set in cmd->present (CN_DIMSE_HAS_GROUP_LENGTH is
 * implied: (0000,0000) is always written first), in ascending tag order, Implicit VR LE,
 * UIDs padded with NUL and AE/LO with a space to even length. Returns the number of bytes
 * written into buf[size], or CN_DIMSE_ENOSPACE / CN_DIMSE_EINVAL. Borrows cmd. */
int cn_dimse_command_encode(const struct cn_dimse_command *cmd, uint8_t *buf, size_t size);

/* PS3.7 9.3.5.1 C-ECHO-RQ: (0000,0002), (0000,0100), (0000,0110), (0000,0800)=0101. */
int cn_dimse_encode_c_echo_rq(uint8_t *buf, size_t size, uint16_t message_id,
                              const char *affected_sop_class_uid);

/* PS3.7 9.3.5.2 C-ECHO-RSP: (0000,0002), (0000,0100), (0000,0120), (0000,0800)=0101,
 * (0000,0900). */
int cn_dimse_encode_c_echo_rsp(uint8_t *buf, size_t size, uint16_t message_id_being_responded_to,
                               const char *affected_sop_class_uid, uint16_t status);

/* PS3.7 9.3.1.1 C-STORE-RQ. move_originator_ae_title may be NULL (then neither Move
 * Originator element is written). */
int cn_dimse_encode_c_store_rq(uint8_t *buf, size_t size, uint16_t message_id,
                               const char *affected_sop_class_uid,
                               const char *affected_sop_instance_uid, uint16_t priority,
                               const char *move_originator_ae_title,
                               uint16_t move_originator_message_id);

/* PS3.7 9.3.1.2 C-STORE-RSP. error_comment may be NULL or empty (then (0000,0902) is not
 * written); at most CN_DIMSE_ERROR_COMMENT_MAX_LEN characters. */
int cn_dimse_encode_c_store_rsp(uint8_t *buf, size_t size, uint16_t message_id_being_responded_to,
                                const char *affected_sop_class_uid,
                                const char *affected_sop_instance_uid, uint16_t status,
                                const char *error_comment);

#endif
