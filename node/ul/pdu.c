/* PDU framing, the fixed-size PDUs, P-DATA-TF and shared helpers
 * (PS3.8 section 9.3). A-ASSOCIATE-RQ/AC are in pdu_assoc.c. */
#include "ul/pdu.h"

#include <stdlib.h>
#include <string.h>

#include "ul/wire.h"

static const struct {
    int code;
    const char *message;
} error_table[] = {
    {CN_UL_OK, "success"},
    {CN_UL_E_PDU_TYPE, "unknown PDU type"},
    {CN_UL_E_PDU_LENGTH, "declared PDU length exceeds its limit"},
    {CN_UL_E_TRUNCATED, "field or item runs past its container"},
    {CN_UL_E_ITEM_TYPE, "unknown or misplaced item type"},
    {CN_UL_E_ITEM_LENGTH, "invalid item length"},
    {CN_UL_E_DUPLICATE_ITEM, "item occurs more than once"},
    {CN_UL_E_MISSING_ITEM, "mandatory item missing"},
    {CN_UL_E_PC_ID, "invalid presentation context ID"},
    {CN_UL_E_UID_LENGTH, "UID longer than 64 characters"},
    {CN_UL_E_VALUE, "invalid field value"},
    {CN_UL_E_TOO_MANY, "too many items"},
    {CN_UL_E_PDV_LENGTH, "PDV item shorter than 2 bytes"},
    {CN_UL_E_BUFFER, "output buffer too small"},
    {CN_UL_E_NOMEM, "out of memory"},
    {CN_UL_E_STATE, "request not allowed in the current state"},
    {CN_UL_E_REENTRANT, "call not allowed from inside a callback"},
    {CN_UL_E_ARGUMENT, "invalid argument"},
    {CN_UL_E_UNEXPECTED_PDU, "PDU not allowed in the current state"},
    {CN_UL_E_USER, "aborted by the service user"},
};

const char *cn_ul_strerror(int error)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
        if (error_table[i].code == error)
            return error_table[i].message;
    return "unknown error";
}

uint8_t cn_ul_abort_reason(int error)
{
    /* PS3.8 Table 9-26 */
    switch (error) {
    case CN_UL_E_PDU_TYPE:
        return CN_ABORT_UNRECOGNIZED_PDU;
    case CN_UL_E_UNEXPECTED_PDU:
        return CN_ABORT_UNEXPECTED_PDU;
    case CN_UL_E_ITEM_TYPE:
        return CN_ABORT_UNRECOGNIZED_PDU_PARAMETER;
    case CN_UL_E_DUPLICATE_ITEM:
        return CN_ABORT_UNEXPECTED_PDU_PARAMETER;
    case CN_UL_E_PDU_LENGTH:
    case CN_UL_E_TRUNCATED:
    case CN_UL_E_ITEM_LENGTH:
    case CN_UL_E_MISSING_ITEM:
    case CN_UL_E_PC_ID:
    case CN_UL_E_UID_LENGTH:
    case CN_UL_E_VALUE:
    case CN_UL_E_TOO_MANY:
    case CN_UL_E_PDV_LENGTH:
        return CN_ABORT_INVALID_PDU_PARAMETER_VALUE;
    default:
        return CN_ABORT_REASON_NOT_SPECIFIED;
    }
}

long cn_pdu_frame(const uint8_t *buf, size_t len, uint32_t max_body_len, uint8_t *type,
                  uint32_t *body_len)
{
    if (len < 1)
        return 0;
    uint32_t cap;
    switch (buf[0]) {
    case CN_PDU_ASSOCIATE_RQ:
    case CN_PDU_ASSOCIATE_AC:
        cap = CN_PDU_ASSOCIATE_MAX_BODY_LEN;
        break;
    case CN_PDU_P_DATA_TF:
        cap = max_body_len;
        break;
    case CN_PDU_ASSOCIATE_RJ:
    case CN_PDU_RELEASE_RQ:
    case CN_PDU_RELEASE_RP:
    case CN_PDU_ABORT:
        cap = CN_PDU_FIXED_BODY_LEN;
        break;
    default:
        return CN_UL_E_PDU_TYPE;
    }
    if (len < CN_PDU_HEADER_LEN)
        return 0;
    /* PS3.8 Table 9-11: byte 2 reserved, bytes 3-6 PDU length */
    uint32_t declared = cn_be32(buf + 2);
    if (declared > cap)
        return CN_UL_E_PDU_LENGTH;
    *type = buf[0];
    *body_len = declared;
    if (len - CN_PDU_HEADER_LEN < declared)
        return 0;
    return (long)(CN_PDU_HEADER_LEN + declared);
}

int cn_pdu_decode_rj(const uint8_t *body, size_t body_len, struct cn_assoc_rj *out)
{
    /* PS3.8 Table 9-21: reserved, result, source, reason/diag. */
    if (body_len != CN_PDU_FIXED_BODY_LEN)
        return body_len < CN_PDU_FIXED_BODY_LEN ? CN_UL_E_TRUNCATED : CN_UL_E_PDU_LENGTH;
    out->result = body[1];
    out->source = body[2];
    out->reason = body[3];
    if (out->result < CN_RJ_PERMANENT || out->result > CN_RJ_TRANSIENT ||
        out->source < CN_RJ_SOURCE_USER || out->source > CN_RJ_SOURCE_PROVIDER_PRESENTATION)
        return CN_UL_E_VALUE;
    return 0;
}

int cn_pdu_decode_abort(const uint8_t *body, size_t body_len, uint8_t *source,
                        uint8_t *reason)
{
    /* PS3.8 Table 9-26: reserved, reserved, source, reason/diag. Sources
     * 0 and 2 are defined; 1 is reserved, kept as received. */
    if (body_len != CN_PDU_FIXED_BODY_LEN)
        return body_len < CN_PDU_FIXED_BODY_LEN ? CN_UL_E_TRUNCATED : CN_UL_E_PDU_LENGTH;
    *source = body[2];
    *reason = body[3];
    return 0;
}

int cn_pdu_decode_release(const uint8_t *body, size_t body_len)
{
    (void)body;
    /* PS3.8 Tables 9-24 and 9-25: 4 reserved bytes, not tested. */
    if (body_len != CN_PDU_FIXED_BODY_LEN)
        return body_len < CN_PDU_FIXED_BODY_LEN ? CN_UL_E_TRUNCATED : CN_UL_E_PDU_LENGTH;
    return 0;
}

int cn_pdu_next_pdv(const uint8_t *body, size_t body_len, size_t *offset, struct cn_pdv *pdv)
{
    if (*offset >= body_len)
        return 0;
    size_t left = body_len - *offset;
    /* PS3.8 Table 9-23: item length (4), PC ID (1), control header (1). */
    if (left < 4)
        return CN_UL_E_TRUNCATED;
    uint32_t item_len = cn_be32(body + *offset);
    if (item_len < CN_PDU_PDV_MIN_ITEM_LEN)
        return CN_UL_E_PDV_LENGTH;
    if (item_len > left - 4)
        return CN_UL_E_TRUNCATED;
    const uint8_t *item = body + *offset + 4;
    pdv->pc_id = item[0];
    if ((pdv->pc_id & 1u) == 0)
        return CN_UL_E_PC_ID;
    pdv->control = item[1];
    /* PS3.8 E.2: bits 2-7 are reserved (sent 0, not tested). */
    pdv->is_command = (pdv->control & CN_PDV_COMMAND) != 0;
    pdv->is_last = (pdv->control & CN_PDV_LAST) != 0;
    pdv->data = item + 2;
    pdv->len = item_len - 2;
    *offset += 4 + (size_t)item_len;
    return 1;
}

int cn_pdu_check_pdata(const uint8_t *body, size_t body_len)
{
    size_t off = 0;
    struct cn_pdv pdv;
    int count = 0, rc;
    while ((rc = cn_pdu_next_pdv(body, body_len, &off, &pdv)) > 0)
        count++;
    if (rc < 0)
        return rc;
    /* PS3.8 9.3.5: one or more PDV items */
    return count > 0 ? 0 : CN_UL_E_MISSING_ITEM;
}

static int finish(struct cn_wr *w, size_t *out_len)
{
    if (w->overflow)
        return CN_UL_E_BUFFER;
    *out_len = w->off;
    return 0;
}

static void fixed_pdu(struct cn_wr *w, uint8_t type, uint8_t b0, uint8_t b1, uint8_t b2,
                      uint8_t b3)
{
    cn_wr_u8(w, type);
    cn_wr_u8(w, 0);
    cn_wr_u32(w, CN_PDU_FIXED_BODY_LEN);
    cn_wr_u8(w, b0);
    cn_wr_u8(w, b1);
    cn_wr_u8(w, b2);
    cn_wr_u8(w, b3);
}

int cn_pdu_encode_rj(const struct cn_assoc_rj *rj, uint8_t *out, size_t cap, size_t *out_len)
{
    struct cn_wr w = {out, cap, 0, 0};
    fixed_pdu(&w, CN_PDU_ASSOCIATE_RJ, 0, rj->result, rj->source, rj->reason);
    return finish(&w, out_len);
}

int cn_pdu_encode_abort(uint8_t source, uint8_t reason, uint8_t *out, size_t cap,
                        size_t *out_len)
{
    struct cn_wr w = {out, cap, 0, 0};
    fixed_pdu(&w, CN_PDU_ABORT, 0, 0, source, reason);
    return finish(&w, out_len);
}

int cn_pdu_encode_release(uint8_t type, uint8_t *out, size_t cap, size_t *out_len)
{
    if (type != CN_PDU_RELEASE_RQ && type != CN_PDU_RELEASE_RP)
        return CN_UL_E_VALUE;
    struct cn_wr w = {out, cap, 0, 0};
    fixed_pdu(&w, type, 0, 0, 0, 0);
    return finish(&w, out_len);
}

int cn_pdu_encode_pdata(uint8_t pc_id, uint8_t control, const uint8_t *data, size_t len,
                        uint8_t *out, size_t cap, size_t *out_len)
{
    if ((pc_id & 1u) == 0 || len > UINT32_MAX - CN_PDU_PDV_HEADER_LEN)
        return CN_UL_E_VALUE;
    struct cn_wr w = {out, cap, 0, 0};
    cn_wr_u8(&w, CN_PDU_P_DATA_TF);
    cn_wr_u8(&w, 0);
    cn_wr_u32(&w, (uint32_t)(len + CN_PDU_PDV_HEADER_LEN));
    cn_wr_u32(&w, (uint32_t)(len + CN_PDU_PDV_MIN_ITEM_LEN));
    cn_wr_u8(&w, pc_id);
    cn_wr_u8(&w, control);
    cn_wr_bytes(&w, data, len);
    return finish(&w, out_len);
}

int cn_wire_get_uid(const uint8_t *p, size_t n, cn_uid out)
{
    while (n > 0 && p[n - 1] == 0)
        n--;
    if (n > CN_UID_MAX_LEN)
        return CN_UL_E_UID_LENGTH;
    if (n > 0 && memchr(p, 0, n) != NULL)
        return CN_UL_E_VALUE;
    if (n > 0)
        memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

int cn_wire_uid_len(const cn_uid uid)
{
    size_t n = strnlen(uid, CN_UID_MAX_LEN + 1);
    return n > CN_UID_MAX_LEN ? CN_UL_E_UID_LENGTH : (int)n;
}

void cn_ae_title_set(char dst[CN_AE_TITLE_LEN + 1], const char *src)
{
    size_t n = strnlen(src, CN_AE_TITLE_LEN);
    memcpy(dst, src, n);
    memset(dst + n, ' ', CN_AE_TITLE_LEN - n);
    dst[CN_AE_TITLE_LEN] = '\0';
}

static void trim(const char *s, size_t *start, size_t *end)
{
    size_t n = strnlen(s, CN_AE_TITLE_LEN);
    size_t b = 0;
    while (b < n && s[b] == ' ')
        b++;
    while (n > b && s[n - 1] == ' ')
        n--;
    *start = b;
    *end = n;
}

int cn_ae_title_equal(const char *a, const char *b)
{
    size_t as, ae, bs, be;
    trim(a, &as, &ae);
    trim(b, &bs, &be);
    return ae - as == be - bs && memcmp(a + as, b + bs, ae - as) == 0;
}

struct cn_assoc_rq *cn_assoc_rq_new(void) { return calloc(1, sizeof(struct cn_assoc_rq)); }

struct cn_assoc_ac *cn_assoc_ac_new(void) { return calloc(1, sizeof(struct cn_assoc_ac)); }
