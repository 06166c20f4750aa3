/* A-ASSOCIATE-RQ and A-ASSOCIATE-AC codec (PS3.8 9.3.2 and 9.3.3). */
#include <string.h>

#include "ul/pdu.h"
#include "ul/pdu_user.h"
#include "ul/wire.h"

/* Fields common to RQ and AC, PS3.8 Tables 9-11 and 9-17. */
struct assoc_common {
    uint16_t *protocol_version;
    char *called_ae;
    char *calling_ae;
    char *application_context;
    uint8_t *has_user_info;
    struct cn_user_info *user;
};

static int decode_pc_rq(const uint8_t *p, size_t n, struct cn_assoc_rq *rq)
{
    /* PS3.8 Table 9-13: PC ID, 3 reserved, abstract syntax, transfer syntaxes. */
    if (rq->pc_count >= CN_PDU_MAX_PC_COUNT)
        return CN_UL_E_TOO_MANY;
    struct cn_pc_rq *pc = &rq->pcs[rq->pc_count];
    memset(pc, 0, sizeof *pc);
    struct cn_rd r = {p, n, 0};
    const uint8_t *reserved;
    int rc, has_abstract = 0;
    if ((rc = cn_rd_u8(&r, &pc->id)) < 0 || (rc = cn_rd_bytes(&r, 3, &reserved)) < 0)
        return rc;
    if ((pc->id & 1u) == 0)
        return CN_UL_E_PC_ID;
    for (size_t i = 0; i < rq->pc_count; i++)
        if (rq->pcs[i].id == pc->id)
            return CN_UL_E_PC_ID;
    while (cn_rd_left(&r) > 0) {
        uint8_t type, res;
        uint16_t len;
        const uint8_t *v;
        if ((rc = cn_rd_u8(&r, &type)) < 0 || (rc = cn_rd_u8(&r, &res)) < 0 ||
            (rc = cn_rd_u16(&r, &len)) < 0 || (rc = cn_rd_bytes(&r, len, &v)) < 0)
            return rc;
        if (type == CN_ITEM_ABSTRACT_SYNTAX) {
            if (has_abstract)
                return CN_UL_E_DUPLICATE_ITEM;
            if ((rc = cn_wire_get_uid(v, len, pc->abstract_syntax)) < 0)
                return rc;
            has_abstract = 1;
        } else if (type == CN_ITEM_TRANSFER_SYNTAX) {
            if (pc->ts_count >= CN_PDU_MAX_TS_PER_PC)
                return CN_UL_E_TOO_MANY;
            if ((rc = cn_wire_get_uid(v, len, pc->transfer_syntaxes[pc->ts_count])) < 0)
                return rc;
            pc->ts_count++;
        } else {
            return CN_UL_E_ITEM_TYPE;
        }
    }
    /* PS3.8 9.3.2.2: one abstract syntax, one or more transfer syntaxes */
    if (!has_abstract || pc->ts_count == 0)
        return CN_UL_E_MISSING_ITEM;
    rq->pc_count++;
    return 0;
}

static int decode_pc_ac(const uint8_t *p, size_t n, struct cn_assoc_ac *ac)
{
    /* PS3.8 Table 9-18: PC ID, reserved, result/reason, reserved, one
     * transfer syntax sub-item (not significant unless accepted). */
    if (ac->pc_count >= CN_PDU_MAX_PC_COUNT)
        return CN_UL_E_TOO_MANY;
    struct cn_pc_ac *pc = &ac->pcs[ac->pc_count];
    memset(pc, 0, sizeof *pc);
    struct cn_rd r = {p, n, 0};
    uint8_t reserved;
    int rc;
    if ((rc = cn_rd_u8(&r, &pc->id)) < 0 || (rc = cn_rd_u8(&r, &reserved)) < 0 ||
        (rc = cn_rd_u8(&r, &pc->result)) < 0 || (rc = cn_rd_u8(&r, &reserved)) < 0)
        return rc;
    if ((pc->id & 1u) == 0)
        return CN_UL_E_PC_ID;
    for (size_t i = 0; i < ac->pc_count; i++)
        if (ac->pcs[i].id == pc->id)
            return CN_UL_E_PC_ID;
    if (pc->result > CN_PC_TRANSFER_SYNTAXES_NOT_SUPPORTED)
        return CN_UL_E_VALUE;
    while (cn_rd_left(&r) > 0) {
        uint8_t type, res;
        uint16_t len;
        const uint8_t *v;
        if ((rc = cn_rd_u8(&r, &type)) < 0 || (rc = cn_rd_u8(&r, &res)) < 0 ||
            (rc = cn_rd_u16(&r, &len)) < 0 || (rc = cn_rd_bytes(&r, len, &v)) < 0)
            return rc;
        if (type != CN_ITEM_TRANSFER_SYNTAX)
            return CN_UL_E_ITEM_TYPE;
        if (pc->has_ts)
            return CN_UL_E_DUPLICATE_ITEM;
        if ((rc = cn_wire_get_uid(v, len, pc->transfer_syntax)) < 0)
            return rc;
        pc->has_ts = 1;
    }
    if (pc->result == CN_PC_ACCEPTANCE && (!pc->has_ts || pc->transfer_syntax[0] == '\0'))
        return CN_UL_E_MISSING_ITEM;
    ac->pc_count++;
    return 0;
}

static int decode_common(const uint8_t *body, size_t body_len, struct assoc_common *c,
                         int is_rq, void *obj)
{
    if (body_len < CN_PDU_ASSOCIATE_FIXED_LEN)
        return CN_UL_E_TRUNCATED;
    struct cn_rd r = {body, body_len, 0};
    /* PS3.8 Table 9-11: version (2), reserved (2), called AE (16) at 4,
     * calling AE (16) at 20, reserved (32) at 36. */
    *c->protocol_version = (uint16_t)((body[0] << 8) | body[1]);
    memcpy(c->called_ae, body + 4, CN_AE_TITLE_LEN);
    c->called_ae[CN_AE_TITLE_LEN] = '\0';
    memcpy(c->calling_ae, body + 4 + CN_AE_TITLE_LEN, CN_AE_TITLE_LEN);
    c->calling_ae[CN_AE_TITLE_LEN] = '\0';
    r.off = CN_PDU_ASSOCIATE_FIXED_LEN;
    int has_app = 0, rc;
    while (cn_rd_left(&r) > 0) {
        uint8_t type, res;
        uint16_t len;
        const uint8_t *v;
        if ((rc = cn_rd_u8(&r, &type)) < 0 || (rc = cn_rd_u8(&r, &res)) < 0 ||
            (rc = cn_rd_u16(&r, &len)) < 0 || (rc = cn_rd_bytes(&r, len, &v)) < 0)
            return rc;
        switch (type) {
        case CN_ITEM_APPLICATION_CONTEXT:
            if (has_app)
                return CN_UL_E_DUPLICATE_ITEM;
            if ((rc = cn_wire_get_uid(v, len, c->application_context)) < 0)
                return rc;
            has_app = 1;
            break;
        case CN_ITEM_PC_RQ:
            if (!is_rq)
                return CN_UL_E_ITEM_TYPE;
            if ((rc = decode_pc_rq(v, len, obj)) < 0)
                return rc;
            break;
        case CN_ITEM_PC_AC:
            if (is_rq)
                return CN_UL_E_ITEM_TYPE;
            if ((rc = decode_pc_ac(v, len, obj)) < 0)
                return rc;
            break;
        case CN_ITEM_USER_INFORMATION:
            if (*c->has_user_info)
                return CN_UL_E_DUPLICATE_ITEM;
            if ((rc = cn_pdu_decode_user_info(v, len, c->user, is_rq)) < 0)
                return rc;
            *c->has_user_info = 1;
            break;
        default:
            return CN_UL_E_ITEM_TYPE;
        }
    }
    if (!has_app)
        return CN_UL_E_MISSING_ITEM;
    return 0;
}

int cn_pdu_decode_rq(const uint8_t *body, size_t body_len, struct cn_assoc_rq *out)
{
    memset(out, 0, sizeof *out);
    struct assoc_common c = {&out->protocol_version, out->called_ae,   out->calling_ae,
                             out->application_context, &out->has_user_info, &out->user};
    int rc = decode_common(body, body_len, &c, 1, out);
    if (rc == 0 && out->pc_count == 0)
        rc = CN_UL_E_MISSING_ITEM; /* PS3.8 9.3.2: one or more contexts */
    return rc;
}

int cn_pdu_decode_ac(const uint8_t *body, size_t body_len, struct cn_assoc_ac *out)
{
    memset(out, 0, sizeof *out);
    struct assoc_common c = {&out->protocol_version, out->called_ae,   out->calling_ae,
                             out->application_context, &out->has_user_info, &out->user};
    return decode_common(body, body_len, &c, 0, out);
}

static void wr_uid_item(struct cn_wr *w, uint8_t type, const cn_uid uid)
{
    size_t n = strnlen(uid, CN_UID_MAX_LEN);
    cn_wr_u8(w, type);
    cn_wr_u8(w, 0);
    cn_wr_u16(w, (uint16_t)n);
    cn_wr_bytes(w, uid, n);
}

/* PS3.8 Tables 9-11 and 9-17: header, fixed fields, application context.
 * AE titles are written as their 16 raw bytes. */
static void wr_header(struct cn_wr *w, uint8_t type, uint16_t protocol_version,
                      const char *called_ae, const char *calling_ae, const cn_uid app_context,
                      size_t *len_at)
{
    cn_wr_u8(w, type);
    cn_wr_u8(w, 0);
    *len_at = w->off;
    cn_wr_u32(w, 0);
    cn_wr_u16(w, protocol_version);
    cn_wr_zero(w, 2);
    cn_wr_bytes(w, called_ae, CN_AE_TITLE_LEN);
    cn_wr_bytes(w, calling_ae, CN_AE_TITLE_LEN);
    cn_wr_zero(w, 32);
    wr_uid_item(w, CN_ITEM_APPLICATION_CONTEXT, app_context);
}

static int wr_finish(struct cn_wr *w, int has_user_info, const struct cn_user_info *user,
                     int is_rq, size_t len_at, size_t *out_len)
{
    if (has_user_info) {
        int rc = cn_pdu_encode_user_info(w, user, is_rq);
        if (rc < 0)
            return rc;
    }
    if (w->overflow)
        return CN_UL_E_BUFFER;
    size_t body = w->off - CN_PDU_HEADER_LEN;
    if (body > CN_PDU_ASSOCIATE_MAX_BODY_LEN)
        return CN_UL_E_TOO_MANY;
    cn_wr_patch_u32(w, len_at, body);
    *out_len = w->off;
    return 0;
}

int cn_pdu_encode_rq(const struct cn_assoc_rq *rq, uint8_t *out, size_t cap, size_t *out_len)
{
    if (rq->pc_count > CN_PDU_MAX_PC_COUNT || cn_wire_uid_len(rq->application_context) < 0)
        return rq->pc_count > CN_PDU_MAX_PC_COUNT ? CN_UL_E_TOO_MANY : CN_UL_E_UID_LENGTH;
    struct cn_wr w = {out, cap, 0, 0};
    size_t len_at;
    wr_header(&w, CN_PDU_ASSOCIATE_RQ, rq->protocol_version, rq->called_ae, rq->calling_ae,
              rq->application_context, &len_at);
    for (size_t i = 0; i < rq->pc_count; i++) {
        const struct cn_pc_rq *pc = &rq->pcs[i];
        if ((pc->id & 1u) == 0)
            return CN_UL_E_PC_ID;
        if (pc->ts_count > CN_PDU_MAX_TS_PER_PC)
            return CN_UL_E_TOO_MANY;
        if (cn_wire_uid_len(pc->abstract_syntax) < 0)
            return CN_UL_E_UID_LENGTH;
        cn_wr_u8(&w, CN_ITEM_PC_RQ);
        cn_wr_u8(&w, 0);
        size_t at = w.off;
        cn_wr_u16(&w, 0);
        cn_wr_u8(&w, pc->id);
        cn_wr_zero(&w, 3);
        wr_uid_item(&w, CN_ITEM_ABSTRACT_SYNTAX, pc->abstract_syntax);
        for (size_t k = 0; k < pc->ts_count; k++) {
            if (cn_wire_uid_len(pc->transfer_syntaxes[k]) < 0)
                return CN_UL_E_UID_LENGTH;
            wr_uid_item(&w, CN_ITEM_TRANSFER_SYNTAX, pc->transfer_syntaxes[k]);
        }
        cn_wr_patch_u16(&w, at, w.off - at - 2);
    }
    return wr_finish(&w, rq->has_user_info, &rq->user, 1, len_at, out_len);
}

int cn_pdu_encode_ac(const struct cn_assoc_ac *ac, uint8_t *out, size_t cap, size_t *out_len)
{
    if (ac->pc_count > CN_PDU_MAX_PC_COUNT || cn_wire_uid_len(ac->application_context) < 0)
        return ac->pc_count > CN_PDU_MAX_PC_COUNT ? CN_UL_E_TOO_MANY : CN_UL_E_UID_LENGTH;
    struct cn_wr w = {out, cap, 0, 0};
    size_t len_at;
    wr_header(&w, CN_PDU_ASSOCIATE_AC, ac->protocol_version, ac->called_ae, ac->calling_ae,
              ac->application_context, &len_at);
    for (size_t i = 0; i < ac->pc_count; i++) {
        const struct cn_pc_ac *pc = &ac->pcs[i];
        if ((pc->id & 1u) == 0)
            return CN_UL_E_PC_ID;
        if (cn_wire_uid_len(pc->transfer_syntax) < 0)
            return CN_UL_E_UID_LENGTH;
        cn_wr_u8(&w, CN_ITEM_PC_AC);
        cn_wr_u8(&w, 0);
        size_t at = w.off;
        cn_wr_u16(&w, 0);
        cn_wr_u8(&w, pc->id);
        cn_wr_u8(&w, 0);
        cn_wr_u8(&w, pc->result);
        cn_wr_u8(&w, 0);
        if (pc->has_ts)
            wr_uid_item(&w, CN_ITEM_TRANSFER_SYNTAX, pc->transfer_syntax);
        cn_wr_patch_u16(&w, at, w.off - at - 2);
    }
    return wr_finish(&w, ac->has_user_info, &ac->user, 0, len_at, out_len);
}
