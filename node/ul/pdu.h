/* DICOM Upper Layer PDU codec (PS3.8 section 9.3, PS3.7 Annex D.3.3).
 *
 * Pure functions over byte buffers: no I/O, no globals, no locking. Every
 * function may be called from any thread as long as the objects passed to it
 * are not shared without synchronisation.
 *
 * Wire lengths are big endian (PS3.8 9.3.1). Every length read from a buffer
 * is checked against the bytes present and against the named caps below
 * before it is used; a violation is an error return, never an assert.
 */
#ifndef CN_UL_PDU_H
#define CN_UL_PDU_H

#include <stddef.h>
#include <stdint.h>

/* PS3.8 9.3.1: every PDU starts with type (1), reserved (1), length (4). */
#define CN_PDU_HEADER_LEN 6u
/* Cap on the variable part of A-ASSOCIATE-RQ/AC PDUs we accept. */
#define CN_PDU_ASSOCIATE_MAX_BODY_LEN (64u * 1024u)
/* PS3.8 9.3.4, 9.3.6, 9.3.7, 9.3.8: A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and
 * A-ABORT have a fixed 4-byte body. */
#define CN_PDU_FIXED_BODY_LEN 4u
/* PS3.8 Table 9-11: protocol version (2), reserved (2), called AE (16),
 * calling AE (16), reserved (32) precede the variable items. */
#define CN_PDU_ASSOCIATE_FIXED_LEN 68u
/* PS3.8 9.3.5.1: a PDV item has item length (4), then presentation context
 * ID (1) and message control header (1) counted in the item length. */
#define CN_PDU_PDV_HEADER_LEN 6u
#define CN_PDU_PDV_MIN_ITEM_LEN 2u

/* PS3.5 9.1: a UID has at most 64 characters. */
#define CN_UID_MAX_LEN 64u
/* PS3.8 Table 9-11: AE titles are 16 bytes, space padded. */
#define CN_AE_TITLE_LEN 16u
/* PS3.7 D.3.3.2.3: implementation version name, 1 to 16 characters. */
#define CN_VERSION_NAME_MAX_LEN 16u

/* Bounds of a decoded association PDU (larger counts are refused). */
#define CN_PDU_MAX_PC_COUNT 128u      /* presentation contexts */
#define CN_PDU_MAX_TS_PER_PC 32u      /* transfer syntaxes per RQ context */
#define CN_PDU_MAX_ROLE_COUNT 128u    /* SCP/SCU role selection items */
#define CN_PDU_MAX_EXT_NEG_COUNT 128u /* SOP class extended negotiation */
#define CN_PDU_EXT_NEG_INFO_MAX_LEN 256u
#define CN_PDU_MAX_COMMON_EXT_NEG_COUNT 128u
#define CN_PDU_MAX_RELATED_SOP_COUNT 16u
#define CN_PDU_USER_IDENTITY_MAX_LEN 4096u
/* Length of the order record of user information sub-items (round trip). */
#define CN_PDU_MAX_USER_ITEM_COUNT 512u

/* PS3.8 9.3.1: PDU types. */
enum cn_pdu_type {
    CN_PDU_ASSOCIATE_RQ = 0x01,
    CN_PDU_ASSOCIATE_AC = 0x02,
    CN_PDU_ASSOCIATE_RJ = 0x03,
    CN_PDU_P_DATA_TF = 0x04,
    CN_PDU_RELEASE_RQ = 0x05,
    CN_PDU_RELEASE_RP = 0x06,
    CN_PDU_ABORT = 0x07
};

/* PS3.8 9.3.2 and PS3.7 D.3.3: item types of the variable fields. */
enum cn_pdu_item_type {
    CN_ITEM_APPLICATION_CONTEXT = 0x10,
    CN_ITEM_PC_RQ = 0x20,
    CN_ITEM_PC_AC = 0x21,
    CN_ITEM_ABSTRACT_SYNTAX = 0x30,
    CN_ITEM_TRANSFER_SYNTAX = 0x40,
    CN_ITEM_USER_INFORMATION = 0x50,
    CN_ITEM_MAXIMUM_LENGTH = 0x51,
    CN_ITEM_IMPLEMENTATION_CLASS_UID = 0x52,
    CN_ITEM_ASYNC_OPS_WINDOW = 0x53,
    CN_ITEM_ROLE_SELECTION = 0x54,
    CN_ITEM_IMPLEMENTATION_VERSION_NAME = 0x55,
    CN_ITEM_SOP_EXTENDED_NEGOTIATION = 0x56,
    CN_ITEM_SOP_COMMON_EXTENDED_NEGOTIATION = 0x57,
    CN_ITEM_USER_IDENTITY_RQ = 0x58,
    CN_ITEM_USER_IDENTITY_AC = 0x59
};

/* Errors of the ul layer (append only). 0 is success; every error is
 * negative. cn_ul_strerror gives the message. */
enum cn_ul_error {
    CN_UL_OK = 0,
    CN_UL_E_PDU_TYPE = -1,        /* unknown PDU type */
    CN_UL_E_PDU_LENGTH = -2,      /* declared PDU length over its cap */
    CN_UL_E_TRUNCATED = -3,       /* a field or item runs past its container */
    CN_UL_E_ITEM_TYPE = -4,       /* unknown or misplaced item type */
    CN_UL_E_ITEM_LENGTH = -5,     /* an item's length is invalid for its type */
    CN_UL_E_DUPLICATE_ITEM = -6,  /* an item that may occur once occurs twice */
    CN_UL_E_MISSING_ITEM = -7,    /* a mandatory item is absent */
    CN_UL_E_PC_ID = -8,           /* presentation context ID even or repeated */
    CN_UL_E_UID_LENGTH = -9,      /* a UID is longer than 64 characters */
    CN_UL_E_VALUE = -10,          /* a field has an invalid value */
    CN_UL_E_TOO_MANY = -11,       /* a count cap was exceeded */
    CN_UL_E_PDV_LENGTH = -12,     /* a PDV item is shorter than 2 bytes */
    CN_UL_E_BUFFER = -13,         /* the output buffer is too small */
    CN_UL_E_NOMEM = -14,          /* out of memory */
    CN_UL_E_STATE = -15,          /* request not allowed in this state */
    CN_UL_E_REENTRANT = -16,      /* call not allowed from inside a callback */
    CN_UL_E_ARGUMENT = -17,       /* invalid argument from the caller */
    CN_UL_E_UNEXPECTED_PDU = -18, /* valid PDU not allowed in this state */
    CN_UL_E_USER = -19            /* a callback asked for an abort */
};

/* Returns a static message for an enum cn_ul_error value ("unknown error"
 * for others). Never NULL. */
const char *cn_ul_strerror(int error);

/* PS3.8 Table 9-26: the A-ABORT reason that reports a decoding error
 * (1 unrecognized PDU, 4 unrecognized parameter, 5 unexpected parameter,
 * 6 invalid parameter value, 0 otherwise). */
uint8_t cn_ul_abort_reason(int error);

/* PS3.8 Table 9-14: presentation context results. */
enum cn_pc_result {
    CN_PC_ACCEPTANCE = 0,
    CN_PC_USER_REJECTION = 1,
    CN_PC_NO_REASON = 2,
    CN_PC_ABSTRACT_SYNTAX_NOT_SUPPORTED = 3,
    CN_PC_TRANSFER_SYNTAXES_NOT_SUPPORTED = 4
};

/* A NUL-terminated UID (trailing NUL padding from the wire removed). */
typedef char cn_uid[CN_UID_MAX_LEN + 1];

struct cn_pc_rq {
    uint8_t id;                                 /* odd, 1..255 */
    cn_uid abstract_syntax;
    uint8_t ts_count;
    cn_uid transfer_syntaxes[CN_PDU_MAX_TS_PER_PC];
};

struct cn_pc_ac {
    uint8_t id;
    uint8_t result;            /* enum cn_pc_result */
    uint8_t has_ts;            /* 0: no transfer syntax sub-item on the wire */
    cn_uid transfer_syntax;    /* meaningful when result is acceptance */
    /* Not on the wire: the abstract syntax of the RQ context, filled by
     * cn_negotiate for the owner's convenience. */
    cn_uid abstract_syntax;
};

/* PS3.7 D.3.3.4: SCP/SCU role selection. */
struct cn_role_selection {
    cn_uid sop_class;
    uint8_t scu_role;
    uint8_t scp_role;
};

/* PS3.7 D.3.3.5: SOP class extended negotiation. */
struct cn_ext_neg {
    cn_uid sop_class;
    uint16_t info_len;
    uint8_t info[CN_PDU_EXT_NEG_INFO_MAX_LEN];
};

/* PS3.7 D.3.3.6: SOP class common extended negotiation (RQ only). */
struct cn_common_ext_neg {
    cn_uid sop_class;
    cn_uid service_class;
    uint8_t related_count;
    cn_uid related[CN_PDU_MAX_RELATED_SOP_COUNT];
};

/* A user information sub-item in wire order: type and index into its array
 * (0 for the single-valued items). */
struct cn_user_item_ref {
    uint8_t type;
    uint8_t index;
};

/* PS3.8 9.3.2.3 / 9.3.3.3: user information. Flags say which single-valued
 * sub-items are present. */
struct cn_user_info {
    uint8_t has_max_length;
    uint32_t max_length_received;   /* PS3.8 D.1; 0 = no limit */
    uint8_t has_implementation_class_uid;
    cn_uid implementation_class_uid;
    uint8_t has_implementation_version_name;
    char implementation_version_name[CN_VERSION_NAME_MAX_LEN + 1];
    uint8_t has_async_ops;          /* PS3.7 D.3.3.3 */
    uint16_t max_ops_invoked;
    uint16_t max_ops_performed;
    uint16_t role_count;
    struct cn_role_selection roles[CN_PDU_MAX_ROLE_COUNT];
    uint16_t ext_neg_count;
    struct cn_ext_neg ext_negs[CN_PDU_MAX_EXT_NEG_COUNT];
    uint16_t common_ext_neg_count;
    struct cn_common_ext_neg common_ext_negs[CN_PDU_MAX_COMMON_EXT_NEG_COUNT];
    /* PS3.7 D.3.3.7: user identity; RQ uses type, response flag, primary
     * and secondary; AC uses primary as the server response. */
    uint8_t has_user_identity;
    uint8_t user_identity_type;
    uint8_t user_identity_response_requested;
    uint16_t user_identity_primary_len;
    uint8_t user_identity_primary[CN_PDU_USER_IDENTITY_MAX_LEN];
    uint16_t user_identity_secondary_len;
    uint8_t user_identity_secondary[CN_PDU_USER_IDENTITY_MAX_LEN];
    /* Wire order of the recognised sub-items, filled by the decoder so that
     * encoding reproduces the input. When 0 the encoder uses the order of
     * PS3.7 D.3.3 (51, 52, 53, 54*, 55, 56*, 57*, 58/59). Set it to 0 after
     * changing a decoded object. */
    uint16_t order_count;
    struct cn_user_item_ref order[CN_PDU_MAX_USER_ITEM_COUNT];
};

/* PS3.8 9.3.2: A-ASSOCIATE-RQ. AE titles are the 16 raw bytes (space
 * padded), NUL-terminated. */
struct cn_assoc_rq {
    uint16_t protocol_version;      /* bit 0 set: version 1 */
    char called_ae[CN_AE_TITLE_LEN + 1];
    char calling_ae[CN_AE_TITLE_LEN + 1];
    cn_uid application_context;
    uint16_t pc_count;
    struct cn_pc_rq pcs[CN_PDU_MAX_PC_COUNT];
    uint8_t has_user_info;
    struct cn_user_info user;
};

/* PS3.8 9.3.3: A-ASSOCIATE-AC. The AE titles echo the RQ's. */
struct cn_assoc_ac {
    uint16_t protocol_version;
    char called_ae[CN_AE_TITLE_LEN + 1];
    char calling_ae[CN_AE_TITLE_LEN + 1];
    cn_uid application_context;
    uint16_t pc_count;
    struct cn_pc_ac pcs[CN_PDU_MAX_PC_COUNT];
    uint8_t has_user_info;
    struct cn_user_info user;
};

/* PS3.8 Table 9-21: A-ASSOCIATE-RJ result, source and reason. */
enum cn_rj_result { CN_RJ_PERMANENT = 1, CN_RJ_TRANSIENT = 2 };
enum cn_rj_source {
    CN_RJ_SOURCE_USER = 1,
    CN_RJ_SOURCE_PROVIDER_ACSE = 2,
    CN_RJ_SOURCE_PROVIDER_PRESENTATION = 3
};
enum cn_rj_reason {
    CN_RJ_USER_NO_REASON = 1,
    CN_RJ_USER_APPLICATION_CONTEXT_NOT_SUPPORTED = 2,
    CN_RJ_USER_CALLING_AE_NOT_RECOGNIZED = 3,
    CN_RJ_USER_CALLED_AE_NOT_RECOGNIZED = 7,
    CN_RJ_ACSE_NO_REASON = 1,
    CN_RJ_ACSE_PROTOCOL_VERSION_NOT_SUPPORTED = 2,
    CN_RJ_PRESENTATION_TEMPORARY_CONGESTION = 1,
    CN_RJ_PRESENTATION_LOCAL_LIMIT_EXCEEDED = 2
};

struct cn_assoc_rj {
    uint8_t result;
    uint8_t source;
    uint8_t reason;
};

/* PS3.8 Table 9-26: A-ABORT source and reasons. */
enum cn_abort_source {
    CN_ABORT_SOURCE_USER = 0,
    CN_ABORT_SOURCE_PROVIDER = 2
};
enum cn_abort_reason {
    CN_ABORT_REASON_NOT_SPECIFIED = 0,
    CN_ABORT_UNRECOGNIZED_PDU = 1,
    CN_ABORT_UNEXPECTED_PDU = 2,
    CN_ABORT_UNRECOGNIZED_PDU_PARAMETER = 4,
    CN_ABORT_UNEXPECTED_PDU_PARAMETER = 5,
    CN_ABORT_INVALID_PDU_PARAMETER_VALUE = 6
};

/* PS3.8 E.2: message control header bits. */
#define CN_PDV_COMMAND 0x01u
#define CN_PDV_LAST 0x02u

/* One PDV of a P-DATA-TF; data points into the PDU body (borrowed). */
struct cn_pdv {
    uint8_t pc_id;
    uint8_t control;     /* raw message control header */
    int is_command;
    int is_last;
    const uint8_t *data;
    size_t len;
};

/* Three-way framing of the first PDU in buf (PS3.8 9.3.1).
 * max_body_len is the cap for P-DATA-TF (our maximum length received, > 0);
 * A-ASSOCIATE PDUs are capped at CN_PDU_ASSOCIATE_MAX_BODY_LEN and the fixed
 * PDUs at CN_PDU_FIXED_BODY_LEN. The declared length is checked as soon as
 * the 6 header bytes are present, so a huge length fails before anything is
 * buffered.
 * Returns > 0: the size of one complete PDU (header included) at buf;
 *         0: more bytes needed (when len >= 6, *type and *body_len are set,
 *            so the caller knows the total: 6 + *body_len);
 *         < 0: CN_UL_E_PDU_TYPE or CN_UL_E_PDU_LENGTH.
 * type and body_len may not be NULL. */
long cn_pdu_frame(const uint8_t *buf, size_t len, uint32_t max_body_len,
                  uint8_t *type, uint32_t *body_len);

/* Allocate zeroed RQ/AC objects (under 1 MB each; one per negotiation).
 * Return NULL when out of memory; free with free(). */
struct cn_assoc_rq *cn_assoc_rq_new(void);
struct cn_assoc_ac *cn_assoc_ac_new(void);

/* Decode the body (bytes after the 6-byte header, body_len as framed) of an
 * A-ASSOCIATE-RQ / -AC into *out, which the caller owns and which is
 * overwritten. Unknown user information sub-items are skipped.
 * Returns 0 or a negative enum cn_ul_error. */
int cn_pdu_decode_rq(const uint8_t *body, size_t body_len, struct cn_assoc_rq *out);
int cn_pdu_decode_ac(const uint8_t *body, size_t body_len, struct cn_assoc_ac *out);
/* A-ASSOCIATE-RJ body (4 bytes). */
int cn_pdu_decode_rj(const uint8_t *body, size_t body_len, struct cn_assoc_rj *out);
/* A-ABORT body (4 bytes): source and reason. */
int cn_pdu_decode_abort(const uint8_t *body, size_t body_len, uint8_t *source,
                        uint8_t *reason);
/* A-RELEASE-RQ/RP body: 4 reserved bytes. */
int cn_pdu_decode_release(const uint8_t *body, size_t body_len);

/* Iterate the PDV items of a P-DATA-TF body. Start with *offset = 0.
 * Returns 1 with *pdv filled (and *offset advanced), 0 at the end of the
 * body, or a negative error: CN_UL_E_PDV_LENGTH (item length < 2),
 * CN_UL_E_TRUNCATED (item runs past the PDU), CN_UL_E_PC_ID (even ID). */
int cn_pdu_next_pdv(const uint8_t *body, size_t body_len, size_t *offset,
                    struct cn_pdv *pdv);
/* Check a whole P-DATA-TF body: at least one PDV and every PDV valid.
 * Returns 0 or the first error of cn_pdu_next_pdv (CN_UL_E_MISSING_ITEM when
 * the body holds no PDV). */
int cn_pdu_check_pdata(const uint8_t *body, size_t body_len);

/* Encoders write one complete PDU (header included) into out[0..cap) and
 * set *out_len. Return 0, CN_UL_E_BUFFER when cap is too small, or
 * CN_UL_E_VALUE / CN_UL_E_UID_LENGTH / CN_UL_E_TOO_MANY for an object that
 * cannot be encoded. CN_PDU_HEADER_LEN + CN_PDU_ASSOCIATE_MAX_BODY_LEN is
 * always enough for RQ/AC objects that decode from a valid PDU. */
int cn_pdu_encode_rq(const struct cn_assoc_rq *rq, uint8_t *out, size_t cap,
                     size_t *out_len);
int cn_pdu_encode_ac(const struct cn_assoc_ac *ac, uint8_t *out, size_t cap,
                     size_t *out_len);
int cn_pdu_encode_rj(const struct cn_assoc_rj *rj, uint8_t *out, size_t cap,
                     size_t *out_len);
int cn_pdu_encode_abort(uint8_t source, uint8_t reason, uint8_t *out, size_t cap,
                        size_t *out_len);
/* type is CN_PDU_RELEASE_RQ or CN_PDU_RELEASE_RP. */
int cn_pdu_encode_release(uint8_t type, uint8_t *out, size_t cap, size_t *out_len);
/* A P-DATA-TF holding one PDV of data[0..len) for context pc_id with the
 * message control header control (CN_PDV_COMMAND | CN_PDV_LAST). */
int cn_pdu_encode_pdata(uint8_t pc_id, uint8_t control, const uint8_t *data,
                        size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* Copy an AE title into a 17-byte field: at most 16 characters, space
 * padded to 16, NUL terminated. */
void cn_ae_title_set(char dst[CN_AE_TITLE_LEN + 1], const char *src);
/* Compare two AE titles ignoring leading and trailing spaces (PS3.5 6.2:
 * they are not significant). Returns 1 when equal, 0 otherwise. */
int cn_ae_title_equal(const char *a, const char *b);

#endif
