/* Presentation context negotiation against the tables of ul/sop.c. */
#include "ul/negotiate.h"

#include <stdio.h>
#include <string.h>

#include "ul/sop.h"

static void set_uid(cn_uid dst, const char *src)
{
    snprintf(dst, sizeof(cn_uid), "%s", src);
}

static void set_identity(const struct cn_assoc_config *config, struct cn_user_info *u)
{
    u->has_max_length = 1;
    u->max_length_received = config->max_pdu_len;
    u->has_implementation_class_uid = 1;
    set_uid(u->implementation_class_uid, CN_IMPLEMENTATION_CLASS_UID);
    u->has_implementation_version_name = 1;
    snprintf(u->implementation_version_name, sizeof u->implementation_version_name, "%s",
             CN_IMPLEMENTATION_VERSION_NAME);
}

static void reject(struct cn_assoc_rj *rj, uint8_t reason)
{
    /* PS3.8 Table 9-21 */
    rj->result = CN_RJ_PERMANENT;
    rj->source = CN_RJ_SOURCE_USER;
    rj->reason = reason;
}

static int accepted_abstract(const struct cn_assoc_ac *ac, const char *uid)
{
    for (size_t i = 0; i < ac->pc_count; i++)
        if (ac->pcs[i].result == CN_PC_ACCEPTANCE && strcmp(ac->pcs[i].abstract_syntax, uid) == 0)
            return 1;
    return 0;
}

int cn_negotiate(const struct cn_assoc_config *config, const struct cn_assoc_rq *rq,
                 struct cn_assoc_ac *ac, struct cn_assoc_rj *rj)
{
    memset(ac, 0, sizeof *ac);
    memset(rj, 0, sizeof *rj);
    if (!cn_ae_title_equal(rq->called_ae, config->ae_title)) {
        reject(rj, CN_RJ_USER_CALLED_AE_NOT_RECOGNIZED);
        return 1;
    }
    if (strcmp(rq->application_context, CN_APPLICATION_CONTEXT_NAME) != 0) {
        reject(rj, CN_RJ_USER_APPLICATION_CONTEXT_NOT_SUPPORTED);
        return 1;
    }
    /* PS3.8 Table 9-17: version 1, AE titles echoed */
    ac->protocol_version = 1;
    memcpy(ac->called_ae, rq->called_ae, sizeof ac->called_ae);
    memcpy(ac->calling_ae, rq->calling_ae, sizeof ac->calling_ae);
    set_uid(ac->application_context, CN_APPLICATION_CONTEXT_NAME);
    ac->pc_count = rq->pc_count;
    for (size_t i = 0; i < rq->pc_count && i < CN_PDU_MAX_PC_COUNT; i++) {
        const struct cn_pc_rq *p = &rq->pcs[i];
        struct cn_pc_ac *a = &ac->pcs[i];
        a->id = p->id;
        set_uid(a->abstract_syntax, p->abstract_syntax);
        /* PS3.8 9.3.3.2: the transfer syntax sub-item is sent, but only
         * significant on acceptance; echo the first proposal otherwise. */
        a->has_ts = 1;
        set_uid(a->transfer_syntax, p->ts_count > 0 ? p->transfer_syntaxes[0] : "");
        if (cn_sop_find_abstract(p->abstract_syntax) == NULL) {
            a->result = CN_PC_ABSTRACT_SYNTAX_NOT_SUPPORTED;
            continue;
        }
        a->result = CN_PC_TRANSFER_SYNTAXES_NOT_SUPPORTED;
        for (size_t k = 0; k < p->ts_count && k < CN_PDU_MAX_TS_PER_PC; k++) {
            if (cn_sop_find_transfer(p->transfer_syntaxes[k]) != NULL) {
                a->result = CN_PC_ACCEPTANCE;
                set_uid(a->transfer_syntax, p->transfer_syntaxes[k]);
                break;
            }
        }
    }
    ac->has_user_info = 1;
    set_identity(config, &ac->user);
    /* PS3.7 D.3.3.4: answer role selection for accepted SOP classes only. */
    for (size_t i = 0; rq->has_user_info && i < rq->user.role_count; i++) {
        const struct cn_role_selection *r = &rq->user.roles[i];
        if (!accepted_abstract(ac, r->sop_class) || ac->user.role_count >= CN_PDU_MAX_ROLE_COUNT)
            continue;
        struct cn_role_selection *out = &ac->user.roles[ac->user.role_count++];
        set_uid(out->sop_class, r->sop_class);
        out->scu_role = r->scu_role ? 1 : 0;
        out->scp_role = 0;
    }
    return 0;
}

int cn_negotiate_build_rq(const struct cn_assoc_config *config, const char *called_ae,
                          const struct cn_proposal *proposals, size_t count,
                          struct cn_assoc_rq *rq)
{
    if (count == 0 || proposals == NULL || called_ae == NULL)
        return CN_UL_E_ARGUMENT;
    if (count > CN_PDU_MAX_PC_COUNT)
        return CN_UL_E_TOO_MANY;
    memset(rq, 0, sizeof *rq);
    rq->protocol_version = 1;
    cn_ae_title_set(rq->called_ae, called_ae);
    cn_ae_title_set(rq->calling_ae, config->ae_title);
    set_uid(rq->application_context, CN_APPLICATION_CONTEXT_NAME);
    for (size_t i = 0; i < count; i++) {
        const struct cn_proposal *p = &proposals[i];
        struct cn_pc_rq *pc = &rq->pcs[i];
        if (p->abstract_syntax == NULL || p->ts_count == 0 || p->transfer_syntaxes == NULL)
            return CN_UL_E_ARGUMENT;
        if (p->ts_count > CN_PDU_MAX_TS_PER_PC)
            return CN_UL_E_TOO_MANY;
        if (strlen(p->abstract_syntax) > CN_UID_MAX_LEN)
            return CN_UL_E_UID_LENGTH;
        pc->id = (uint8_t)(2 * i + 1); /* PS3.8 9.3.2.2: odd, 1-255 */
        set_uid(pc->abstract_syntax, p->abstract_syntax);
        for (size_t k = 0; k < p->ts_count; k++) {
            if (p->transfer_syntaxes[k] == NULL)
                return CN_UL_E_ARGUMENT;
            if (strlen(p->transfer_syntaxes[k]) > CN_UID_MAX_LEN)
                return CN_UL_E_UID_LENGTH;
            set_uid(pc->transfer_syntaxes[k], p->transfer_syntaxes[k]);
        }
        pc->ts_count = (uint8_t)p->ts_count;
    }
    rq->pc_count = (uint16_t)count;
    rq->has_user_info = 1;
    set_identity(config, &rq->user);
    return 0;
}

const struct cn_pc_ac *cn_negotiate_find_accepted(const struct cn_assoc_ac *ac, unsigned pc_id)
{
    for (size_t i = 0; i < ac->pc_count && i < CN_PDU_MAX_PC_COUNT; i++)
        if (ac->pcs[i].id == pc_id && ac->pcs[i].result == CN_PC_ACCEPTANCE)
            return &ac->pcs[i];
    return NULL;
}
