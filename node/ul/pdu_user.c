/* User information item and its sub-items (PS3.8 9.3.2.3, 9.3.3.3, Annex D;
 * PS3.7 D.3.3). */
#include "ul/pdu_user.h"

#include <string.h>

#include "ul/wire.h"

/* A 2-byte length followed by a UID, inside a sub-item (PS3.7 D.3.3.4-6). */
static int rd_uid16(struct cn_rd *r, cn_uid out)
{
    uint16_t n;
    const uint8_t *p;
    int rc;
    if ((rc = cn_rd_u16(r, &n)) < 0 || (rc = cn_rd_bytes(r, n, &p)) < 0)
        return rc;
    return cn_wire_get_uid(p, n, out);
}

static int rd_field16(struct cn_rd *r, uint8_t *dst, uint16_t *dst_len, size_t cap)
{
    uint16_t n;
    const uint8_t *p;
    int rc;
    if ((rc = cn_rd_u16(r, &n)) < 0 || (rc = cn_rd_bytes(r, n, &p)) < 0)
        return rc;
    if (n > cap)
        return CN_UL_E_TOO_MANY;
    if (n > 0)
        memcpy(dst, p, n);
    *dst_len = n;
    return 0;
}

static int add_order(struct cn_user_info *u, uint8_t type, size_t index)
{
    if (u->order_count >= CN_PDU_MAX_USER_ITEM_COUNT)
        return CN_UL_E_TOO_MANY;
    u->order[u->order_count].type = type;
    u->order[u->order_count].index = (uint8_t)index;
    u->order_count++;
    return 0;
}

static int decode_sub(struct cn_user_info *u, uint8_t type, const uint8_t *p, uint16_t n,
                      int is_rq)
{
    struct cn_rd r = {p, n, 0};
    size_t index = 0;
    int rc = 0;
    switch (type) {
    case CN_ITEM_MAXIMUM_LENGTH: /* PS3.8 D.1 */
        if (u->has_max_length)
            return CN_UL_E_DUPLICATE_ITEM;
        if (n != 4)
            return CN_UL_E_ITEM_LENGTH;
        cn_rd_u32(&r, &u->max_length_received);
        u->has_max_length = 1;
        break;
    case CN_ITEM_IMPLEMENTATION_CLASS_UID: /* PS3.7 D.3.3.2.1 */
        if (u->has_implementation_class_uid)
            return CN_UL_E_DUPLICATE_ITEM;
        if ((rc = cn_wire_get_uid(p, n, u->implementation_class_uid)) < 0)
            return rc;
        u->has_implementation_class_uid = 1;
        break;
    case CN_ITEM_ASYNC_OPS_WINDOW: /* PS3.7 D.3.3.3.1 */
        if (u->has_async_ops)
            return CN_UL_E_DUPLICATE_ITEM;
        if (n != 4)
            return CN_UL_E_ITEM_LENGTH;
        cn_rd_u16(&r, &u->max_ops_invoked);
        cn_rd_u16(&r, &u->max_ops_performed);
        u->has_async_ops = 1;
        break;
    case CN_ITEM_ROLE_SELECTION: { /* PS3.7 D.3.3.4.1 */
        if (u->role_count >= CN_PDU_MAX_ROLE_COUNT)
            return CN_UL_E_TOO_MANY;
        struct cn_role_selection *s = &u->roles[u->role_count];
        if ((rc = rd_uid16(&r, s->sop_class)) < 0 || (rc = cn_rd_u8(&r, &s->scu_role)) < 0 ||
            (rc = cn_rd_u8(&r, &s->scp_role)) < 0)
            return rc;
        if (cn_rd_left(&r) != 0)
            return CN_UL_E_ITEM_LENGTH;
        index = u->role_count++;
        break;
    }
    case CN_ITEM_IMPLEMENTATION_VERSION_NAME: /* PS3.7 D.3.3.2.3 */
        if (u->has_implementation_version_name)
            return CN_UL_E_DUPLICATE_ITEM;
        if (n > CN_VERSION_NAME_MAX_LEN)
            return CN_UL_E_ITEM_LENGTH;
        if (n > 0 && memchr(p, 0, n) != NULL)
            return CN_UL_E_VALUE;
        if (n > 0)
            memcpy(u->implementation_version_name, p, n);
        u->implementation_version_name[n] = '\0';
        u->has_implementation_version_name = 1;
        break;
    case CN_ITEM_SOP_EXTENDED_NEGOTIATION: { /* PS3.7 D.3.3.5.1 */
        if (u->ext_neg_count >= CN_PDU_MAX_EXT_NEG_COUNT)
            return CN_UL_E_TOO_MANY;
        struct cn_ext_neg *e = &u->ext_negs[u->ext_neg_count];
        if ((rc = rd_uid16(&r, e->sop_class)) < 0)
            return rc;
        size_t info_len = cn_rd_left(&r);
        if (info_len > CN_PDU_EXT_NEG_INFO_MAX_LEN)
            return CN_UL_E_TOO_MANY;
        memcpy(e->info, p + r.off, info_len);
        e->info_len = (uint16_t)info_len;
        index = u->ext_neg_count++;
        break;
    }
    case CN_ITEM_SOP_COMMON_EXTENDED_NEGOTIATION: { /* PS3.7 D.3.3.6.1 */
        /* Defined for the RQ only; kept when a peer sends it in an AC. */
        if (u->common_ext_neg_count >= CN_PDU_MAX_COMMON_EXT_NEG_COUNT)
            return CN_UL_E_TOO_MANY;
        struct cn_common_ext_neg *c = &u->common_ext_negs[u->common_ext_neg_count];
        uint16_t related_len;
        const uint8_t *related;
        if ((rc = rd_uid16(&r, c->sop_class)) < 0 || (rc = rd_uid16(&r, c->service_class)) < 0 ||
            (rc = cn_rd_u16(&r, &related_len)) < 0 ||
            (rc = cn_rd_bytes(&r, related_len, &related)) < 0)
            return rc;
        if (cn_rd_left(&r) != 0)
            return CN_UL_E_ITEM_LENGTH;
        struct cn_rd rr = {related, related_len, 0};
        c->related_count = 0;
        while (cn_rd_left(&rr) > 0) {
            if (c->related_count >= CN_PDU_MAX_RELATED_SOP_COUNT)
                return CN_UL_E_TOO_MANY;
            if ((rc = rd_uid16(&rr, c->related[c->related_count])) < 0)
                return rc;
            c->related_count++;
        }
        index = u->common_ext_neg_count++;
        break;
    }
    case CN_ITEM_USER_IDENTITY_RQ: /* PS3.7 D.3.3.7.1 */
        if (!is_rq)
            return 1;
        if (u->has_user_identity)
            return CN_UL_E_DUPLICATE_ITEM;
        if ((rc = cn_rd_u8(&r, &u->user_identity_type)) < 0 ||
            (rc = cn_rd_u8(&r, &u->user_identity_response_requested)) < 0 ||
            (rc = rd_field16(&r, u->user_identity_primary, &u->user_identity_primary_len,
                             CN_PDU_USER_IDENTITY_MAX_LEN)) < 0 ||
            (rc = rd_field16(&r, u->user_identity_secondary, &u->user_identity_secondary_len,
                             CN_PDU_USER_IDENTITY_MAX_LEN)) < 0)
            return rc;
        if (cn_rd_left(&r) != 0)
            return CN_UL_E_ITEM_LENGTH;
        u->has_user_identity = 1;
        break;
    case CN_ITEM_USER_IDENTITY_AC: /* PS3.7 D.3.3.7.2 */
        if (is_rq)
            return 1;
        if (u->has_user_identity)
            return CN_UL_E_DUPLICATE_ITEM;
        if ((rc = rd_field16(&r, u->user_identity_primary, &u->user_identity_primary_len,
                             CN_PDU_USER_IDENTITY_MAX_LEN)) < 0)
            return rc;
        if (cn_rd_left(&r) != 0)
            return CN_UL_E_ITEM_LENGTH;
        u->has_user_identity = 1;
        break;
    default:
        /* Unknown sub-items are skipped by their length. */
        return 1;
    }
    return add_order(u, type, index);
}

int cn_pdu_decode_user_info(const uint8_t *p, size_t n, struct cn_user_info *u, int is_rq)
{
    struct cn_rd r = {p, n, 0};
    memset(u, 0, sizeof *u);
    while (cn_rd_left(&r) > 0) {
        uint8_t type, reserved;
        uint16_t len;
        const uint8_t *body;
        int rc;
        /* PS3.8 Table 9-16: item type, reserved, item length (2). */
        if ((rc = cn_rd_u8(&r, &type)) < 0 || (rc = cn_rd_u8(&r, &reserved)) < 0 ||
            (rc = cn_rd_u16(&r, &len)) < 0 || (rc = cn_rd_bytes(&r, len, &body)) < 0)
            return rc;
        rc = decode_sub(u, type, body, len, is_rq);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void wr_uid16(struct cn_wr *w, const cn_uid uid)
{
    size_t n = strnlen(uid, CN_UID_MAX_LEN);
    cn_wr_u16(w, (uint16_t)n);
    cn_wr_bytes(w, uid, n);
}

static size_t begin_item(struct cn_wr *w, uint8_t type)
{
    cn_wr_u8(w, type);
    cn_wr_u8(w, 0);
    size_t at = w->off;
    cn_wr_u16(w, 0);
    return at;
}

static int end_item(struct cn_wr *w, size_t at)
{
    size_t n = w->off - at - 2;
    if (w->overflow)
        return CN_UL_E_BUFFER;
    if (n > UINT16_MAX)
        return CN_UL_E_TOO_MANY;
    cn_wr_patch_u16(w, at, n);
    return 0;
}

static int uids_valid(const struct cn_user_info *u)
{
    if (cn_wire_uid_len(u->implementation_class_uid) < 0)
        return CN_UL_E_UID_LENGTH;
    for (size_t i = 0; i < u->role_count; i++)
        if (cn_wire_uid_len(u->roles[i].sop_class) < 0)
            return CN_UL_E_UID_LENGTH;
    for (size_t i = 0; i < u->ext_neg_count; i++)
        if (cn_wire_uid_len(u->ext_negs[i].sop_class) < 0)
            return CN_UL_E_UID_LENGTH;
    for (size_t i = 0; i < u->common_ext_neg_count; i++) {
        const struct cn_common_ext_neg *c = &u->common_ext_negs[i];
        if (cn_wire_uid_len(c->sop_class) < 0 || cn_wire_uid_len(c->service_class) < 0 ||
            c->related_count > CN_PDU_MAX_RELATED_SOP_COUNT)
            return CN_UL_E_UID_LENGTH;
        for (size_t k = 0; k < c->related_count; k++)
            if (cn_wire_uid_len(c->related[k]) < 0)
                return CN_UL_E_UID_LENGTH;
    }
    return 0;
}

static int encode_sub(struct cn_wr *w, const struct cn_user_info *u, uint8_t type,
                      size_t index, int is_rq)
{
    size_t at;
    switch (type) {
    case CN_ITEM_MAXIMUM_LENGTH:
        if (!u->has_max_length)
            return 0;
        at = begin_item(w, type);
        cn_wr_u32(w, u->max_length_received);
        return end_item(w, at);
    case CN_ITEM_IMPLEMENTATION_CLASS_UID:
        if (!u->has_implementation_class_uid)
            return 0;
        at = begin_item(w, type);
        cn_wr_bytes(w, u->implementation_class_uid,
                    strnlen(u->implementation_class_uid, CN_UID_MAX_LEN));
        return end_item(w, at);
    case CN_ITEM_ASYNC_OPS_WINDOW:
        if (!u->has_async_ops)
            return 0;
        at = begin_item(w, type);
        cn_wr_u16(w, u->max_ops_invoked);
        cn_wr_u16(w, u->max_ops_performed);
        return end_item(w, at);
    case CN_ITEM_ROLE_SELECTION:
        if (index >= u->role_count)
            return CN_UL_E_VALUE;
        at = begin_item(w, type);
        wr_uid16(w, u->roles[index].sop_class);
        cn_wr_u8(w, u->roles[index].scu_role);
        cn_wr_u8(w, u->roles[index].scp_role);
        return end_item(w, at);
    case CN_ITEM_IMPLEMENTATION_VERSION_NAME:
        if (!u->has_implementation_version_name)
            return 0;
        at = begin_item(w, type);
        cn_wr_bytes(w, u->implementation_version_name,
                    strnlen(u->implementation_version_name, CN_VERSION_NAME_MAX_LEN));
        return end_item(w, at);
    case CN_ITEM_SOP_EXTENDED_NEGOTIATION:
        if (index >= u->ext_neg_count || u->ext_negs[index].info_len > CN_PDU_EXT_NEG_INFO_MAX_LEN)
            return CN_UL_E_VALUE;
        at = begin_item(w, type);
        wr_uid16(w, u->ext_negs[index].sop_class);
        cn_wr_bytes(w, u->ext_negs[index].info, u->ext_negs[index].info_len);
        return end_item(w, at);
    case CN_ITEM_SOP_COMMON_EXTENDED_NEGOTIATION: {
        if (index >= u->common_ext_neg_count)
            return CN_UL_E_VALUE;
        const struct cn_common_ext_neg *c = &u->common_ext_negs[index];
        at = begin_item(w, type);
        wr_uid16(w, c->sop_class);
        wr_uid16(w, c->service_class);
        size_t rel_at = w->off;
        cn_wr_u16(w, 0);
        for (size_t k = 0; k < c->related_count; k++)
            wr_uid16(w, c->related[k]);
        cn_wr_patch_u16(w, rel_at, w->off - rel_at - 2);
        return end_item(w, at);
    }
    case CN_ITEM_USER_IDENTITY_RQ:
    case CN_ITEM_USER_IDENTITY_AC:
        if (!u->has_user_identity || (type == CN_ITEM_USER_IDENTITY_RQ) != (is_rq != 0))
            return u->has_user_identity ? CN_UL_E_VALUE : 0;
        if (u->user_identity_primary_len > CN_PDU_USER_IDENTITY_MAX_LEN ||
            u->user_identity_secondary_len > CN_PDU_USER_IDENTITY_MAX_LEN)
            return CN_UL_E_VALUE;
        at = begin_item(w, type);
        if (is_rq) {
            cn_wr_u8(w, u->user_identity_type);
            cn_wr_u8(w, u->user_identity_response_requested);
        }
        cn_wr_u16(w, u->user_identity_primary_len);
        cn_wr_bytes(w, u->user_identity_primary, u->user_identity_primary_len);
        if (is_rq) {
            cn_wr_u16(w, u->user_identity_secondary_len);
            cn_wr_bytes(w, u->user_identity_secondary, u->user_identity_secondary_len);
        }
        return end_item(w, at);
    default:
        return CN_UL_E_VALUE;
    }
}

int cn_pdu_encode_user_info(struct cn_wr *w, const struct cn_user_info *u, int is_rq)
{
    int rc;
    if (u->role_count > CN_PDU_MAX_ROLE_COUNT || u->ext_neg_count > CN_PDU_MAX_EXT_NEG_COUNT ||
        u->common_ext_neg_count > CN_PDU_MAX_COMMON_EXT_NEG_COUNT ||
        u->order_count > CN_PDU_MAX_USER_ITEM_COUNT)
        return CN_UL_E_TOO_MANY;
    if ((rc = uids_valid(u)) < 0)
        return rc;
    size_t at = begin_item(w, CN_ITEM_USER_INFORMATION);
    if (u->order_count > 0) {
        for (size_t i = 0; i < u->order_count; i++)
            if ((rc = encode_sub(w, u, u->order[i].type, u->order[i].index, is_rq)) < 0)
                return rc;
    } else {
        /* PS3.7 D.3.3 order */
        static const uint8_t singles_before[] = {CN_ITEM_MAXIMUM_LENGTH,
                                                 CN_ITEM_IMPLEMENTATION_CLASS_UID,
                                                 CN_ITEM_ASYNC_OPS_WINDOW};
        for (size_t i = 0; i < sizeof singles_before; i++)
            if ((rc = encode_sub(w, u, singles_before[i], 0, is_rq)) < 0)
                return rc;
        for (size_t i = 0; i < u->role_count; i++)
            if ((rc = encode_sub(w, u, CN_ITEM_ROLE_SELECTION, i, is_rq)) < 0)
                return rc;
        if ((rc = encode_sub(w, u, CN_ITEM_IMPLEMENTATION_VERSION_NAME, 0, is_rq)) < 0)
            return rc;
        for (size_t i = 0; i < u->ext_neg_count; i++)
            if ((rc = encode_sub(w, u, CN_ITEM_SOP_EXTENDED_NEGOTIATION, i, is_rq)) < 0)
                return rc;
        for (size_t i = 0; i < u->common_ext_neg_count; i++)
            if ((rc = encode_sub(w, u, CN_ITEM_SOP_COMMON_EXTENDED_NEGOTIATION, i, is_rq)) < 0)
                return rc;
        rc = encode_sub(w, u, is_rq ? CN_ITEM_USER_IDENTITY_RQ : CN_ITEM_USER_IDENTITY_AC, 0,
                        is_rq);
        if (rc < 0)
            return rc;
    }
    return end_item(w, at);
}
