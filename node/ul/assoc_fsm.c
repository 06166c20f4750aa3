/* The actions of PS3.8 Tables 9-6 to 9-9, driven by the table of fsm.c.
 * The state moves to the action's next state before any callback runs, so
 * a callback may issue the next request at once. */
#include <stdlib.h>
#include <string.h>

#include "ul/assoc_impl.h"
#include "ul/negotiate.h"

int cn_assoc_active(const struct cn_assoc *a) { return !a->free_pending && !a->finished; }

void cn_assoc_artim_start(struct cn_assoc *a)
{
    a->artim_running = 1;
    a->ops.timer_start(a->user, a->config.artim_timeout_ms);
}

void cn_assoc_artim_stop(struct cn_assoc *a)
{
    if (a->artim_running) {
        a->artim_running = 0;
        a->stall_timer = 0;
        a->ops.timer_stop(a->user);
    }
}

static void send_bytes(struct cn_assoc *a, size_t len)
{
    if (!a->free_pending && !a->transport_closed)
        a->ops.send(a->user, a->out, len);
}

static void send_abort(struct cn_assoc *a, uint8_t source, uint8_t reason)
{
    size_t n;
    if (cn_pdu_encode_abort(source, reason, a->out, a->out_cap, &n) == 0)
        send_bytes(a, n);
}

static void send_release(struct cn_assoc *a, uint8_t type)
{
    size_t n;
    if (cn_pdu_encode_release(type, a->out, a->out_cap, &n) == 0)
        send_bytes(a, n);
}

static void send_rj(struct cn_assoc *a, const struct cn_assoc_rj *rj)
{
    size_t n;
    if (cn_pdu_encode_rj(rj, a->out, a->out_cap, &n) == 0)
        send_bytes(a, n);
}

/* Enter Sta1: stop ARTIM, close the transport unless it is closed, report
 * closed (the last callback). */
static void enter_sta1(struct cn_assoc *a)
{
    a->state = STA1;
    cn_assoc_artim_stop(a);
    if (!a->transport_closed) {
        a->transport_closed = 1;
        if (!a->free_pending)
            a->ops.close_transport(a->user);
    }
    if (!a->finished) {
        a->finished = 1;
        if (!a->free_pending)
            a->ops.closed(a->user);
    }
}

static void abort_indication(struct cn_assoc *a, int source, int reason)
{
    if (!a->free_pending)
        a->ops.abort_indication(a->user, source, reason);
}

static uint32_t peer_max(const struct cn_user_info *u, int has_user_info)
{
    return has_user_info && u->has_max_length ? u->max_length_received : 0;
}

/* Fill what the owner left empty in the acceptor's answer. */
static void complete_ac(struct cn_assoc *a, struct cn_assoc_ac *ac)
{
    const struct cn_assoc_rq *rq = a->rq;
    if (ac->protocol_version == 0)
        ac->protocol_version = 1;
    if (ac->called_ae[0] == '\0')
        memcpy(ac->called_ae, rq->called_ae, sizeof ac->called_ae);
    if (ac->calling_ae[0] == '\0')
        memcpy(ac->calling_ae, rq->calling_ae, sizeof ac->calling_ae);
    if (ac->application_context[0] == '\0')
        memcpy(ac->application_context, CN_APPLICATION_CONTEXT_NAME,
               sizeof CN_APPLICATION_CONTEXT_NAME);
    ac->has_user_info = 1;
    ac->user.has_max_length = 1;
    ac->user.max_length_received = a->config.max_pdu_len;
    if (!ac->user.has_implementation_class_uid) {
        ac->user.has_implementation_class_uid = 1;
        memcpy(ac->user.implementation_class_uid, CN_IMPLEMENTATION_CLASS_UID,
               sizeof CN_IMPLEMENTATION_CLASS_UID);
    }
    if (!ac->user.has_implementation_version_name) {
        ac->user.has_implementation_version_name = 1;
        memcpy(ac->user.implementation_version_name, CN_IMPLEMENTATION_VERSION_NAME,
               sizeof CN_IMPLEMENTATION_VERSION_NAME);
    }
    ac->user.order_count = 0;
    /* the abstract syntax of each answered context, for the owner */
    for (size_t i = 0; i < ac->pc_count && i < CN_PDU_MAX_PC_COUNT; i++)
        for (size_t k = 0; k < rq->pc_count; k++)
            if (rq->pcs[k].id == ac->pcs[i].id)
                memcpy(ac->pcs[i].abstract_syntax, rq->pcs[k].abstract_syntax, sizeof(cn_uid));
}

/* AE-6 continued: the owner decides (EVT7 / EVT8). */
static void associate_indication(struct cn_assoc *a)
{
    struct cn_assoc_ac *ac = cn_assoc_ac_new();
    struct cn_assoc_rj rj = {CN_RJ_TRANSIENT, CN_RJ_SOURCE_PROVIDER_PRESENTATION,
                             CN_RJ_PRESENTATION_LOCAL_LIMIT_EXCEEDED};
    int decision = 1;
    if (ac != NULL) {
        decision = a->ops.associate_indication(a->user, a->rq, ac, &rj);
    }
    if (!cn_assoc_active(a) || a->state != STA3) {
        free(ac);
        return;
    }
    if (decision == 0) {
        complete_ac(a, ac);
        size_t n;
        if (cn_pdu_encode_ac(ac, a->out, a->out_cap, &n) == 0) {
            free(a->ac);
            a->ac = ac;
            a->peer_max_pdu_len = peer_max(&a->rq->user, a->rq->has_user_info);
            struct cn_assoc_event ev = {0};
            cn_assoc_run(a, EVT7, &ev); /* AE-7 sends a->out */
            return;
        }
        /* an answer we cannot encode is a rejection */
        rj = (struct cn_assoc_rj){CN_RJ_PERMANENT, CN_RJ_SOURCE_PROVIDER_ACSE,
                                  CN_RJ_ACSE_NO_REASON};
    }
    free(ac);
    struct cn_assoc_event ev = {0};
    ev.rj = rj;
    cn_assoc_run(a, EVT8, &ev);
}

/* AE-3 check: every answered context was proposed, and an accepted one
 * uses a transfer syntax we proposed for it. */
static int check_ac(const struct cn_assoc_rq *rq, struct cn_assoc_ac *ac)
{
    for (size_t i = 0; i < ac->pc_count; i++) {
        const struct cn_pc_rq *p = NULL;
        for (size_t k = 0; k < rq->pc_count; k++)
            if (rq->pcs[k].id == ac->pcs[i].id)
                p = &rq->pcs[k];
        if (p == NULL)
            return CN_UL_E_PC_ID;
        memcpy(ac->pcs[i].abstract_syntax, p->abstract_syntax, sizeof(cn_uid));
        if (ac->pcs[i].result != CN_PC_ACCEPTANCE)
            continue;
        int found = 0;
        for (size_t k = 0; k < p->ts_count; k++)
            found |= strcmp(p->transfer_syntaxes[k], ac->pcs[i].transfer_syntax) == 0;
        if (!found)
            return CN_UL_E_VALUE;
    }
    return 0;
}

/* DT-2 / AR-6: one P-DATA indication per PDV; an unaccepted context is an
 * invalid PDU parameter (EVT19). */
static void pdata_indication(struct cn_assoc *a, const struct cn_assoc_event *ev)
{
    size_t off = 0;
    struct cn_pdv pdv;
    enum cn_fsm_state entered = a->state;
    while (cn_pdu_next_pdv(ev->body, ev->body_len, &off, &pdv) > 0) {
        if (cn_negotiate_find_accepted(a->ac, pdv.pc_id) == NULL) {
            struct cn_assoc_event bad = {0};
            bad.error = CN_UL_E_PC_ID;
            bad.abort_reason = cn_ul_abort_reason(CN_UL_E_PC_ID);
            cn_assoc_run(a, EVT19, &bad);
            return;
        }
        int rc = a->ops.pdv_indication(a->user, pdv.pc_id, pdv.is_command, pdv.is_last,
                                       pdv.data, pdv.len);
        if (!cn_assoc_active(a) || a->state != entered)
            return;
        if (rc < 0) {
            struct cn_assoc_event ab = {0};
            a->last_error = CN_UL_E_USER;
            cn_assoc_run(a, EVT15, &ab);
            return;
        }
    }
}

int cn_assoc_run(struct cn_assoc *a, enum cn_fsm_event evt, struct cn_assoc_event *ev)
{
    enum cn_fsm_action action = cn_assoc_active(a) ? cn_fsm_lookup(a->state, evt) : CN_FSM_NONE;
    if (action == CN_FSM_NONE) {
        free(ev->rq);
        free(ev->ac);
        ev->rq = NULL;
        ev->ac = NULL;
        return CN_UL_E_STATE;
    }
    int is_requestor = a->role == CN_ASSOC_REQUESTOR;
    size_t n;
    switch (action) {
    case AE_1: /* the owner opens the transport connection */
        a->state = STA4;
        break;
    case AE_2:
        a->state = STA5;
        if (cn_pdu_encode_rq(a->rq, a->out, a->out_cap, &n) == 0)
            send_bytes(a, n);
        break;
    case AE_3: {
        int rc = check_ac(a->rq, ev->ac);
        if (rc < 0) {
            free(ev->ac);
            ev->ac = NULL;
            a->state = STA5; /* unchanged; report the invalid AC */
            struct cn_assoc_event bad = {0};
            bad.error = rc;
            bad.abort_reason = cn_ul_abort_reason(rc);
            a->last_error = rc;
            return cn_assoc_run(a, EVT19, &bad);
        }
        free(a->ac);
        a->ac = ev->ac;
        ev->ac = NULL;
        a->peer_max_pdu_len = peer_max(&a->ac->user, a->ac->has_user_info);
        a->state = STA6;
        if (!a->free_pending)
            a->ops.associate_confirm(a->user, a->ac, NULL);
        break;
    }
    case AE_4:
        if (!a->free_pending)
            a->ops.associate_confirm(a->user, NULL, &ev->rj);
        enter_sta1(a);
        break;
    case AE_5:
        a->state = STA2;
        cn_assoc_artim_start(a);
        break;
    case AE_6:
        cn_assoc_artim_stop(a);
        free(a->rq);
        a->rq = ev->rq;
        ev->rq = NULL;
        /* PS3.8 9.3.2: bit 0 of the protocol version is version 1 */
        if ((a->rq->protocol_version & 1u) == 0) {
            struct cn_assoc_rj rj = {CN_RJ_PERMANENT, CN_RJ_SOURCE_PROVIDER_ACSE,
                                     CN_RJ_ACSE_PROTOCOL_VERSION_NOT_SUPPORTED};
            a->state = cn_fsm_next_state(AE_6, 0, is_requestor);
            send_rj(a, &rj);
            cn_assoc_artim_start(a);
            break;
        }
        a->state = cn_fsm_next_state(AE_6, 1, is_requestor);
        associate_indication(a);
        break;
    case AE_7: /* a->ac was checked to encode by associate_indication */
        a->state = STA6;
        if (cn_pdu_encode_ac(a->ac, a->out, a->out_cap, &n) == 0)
            send_bytes(a, n);
        break;
    case AE_8:
        a->state = STA13;
        send_rj(a, &ev->rj);
        cn_assoc_artim_start(a);
        break;
    case DT_1:
    case AR_7: /* the caller has encoded one P-DATA-TF in a->out */
        send_bytes(a, ev->body_len);
        break;
    case DT_2:
    case AR_6:
        pdata_indication(a, ev);
        break;
    case AR_1:
        a->state = STA7;
        send_release(a, CN_PDU_RELEASE_RQ);
        break;
    case AR_2:
        a->state = STA8;
        if (!a->free_pending)
            a->ops.release_indication(a->user);
        break;
    case AR_3:
        a->state = STA1;
        if (!a->free_pending)
            a->ops.release_confirm(a->user);
        enter_sta1(a);
        break;
    case AR_4:
        a->state = STA13;
        send_release(a, CN_PDU_RELEASE_RP);
        cn_assoc_artim_start(a);
        break;
    case AR_5:
        enter_sta1(a);
        break;
    case AR_8:
        a->state = cn_fsm_next_state(AR_8, 0, is_requestor);
        if (!a->free_pending)
            a->ops.release_indication(a->user);
        break;
    case AR_9:
        a->state = STA11;
        send_release(a, CN_PDU_RELEASE_RP);
        break;
    case AR_10:
        a->state = STA12;
        if (!a->free_pending)
            a->ops.release_confirm(a->user);
        if (a->release_response_pending && cn_assoc_active(a) && a->state == STA12) {
            struct cn_assoc_event rp = {0};
            a->release_response_pending = 0;
            cn_assoc_run(a, EVT14, &rp);
        }
        break;
    case AA_1:
        /* Local abort: source 0. A PDU not allowed before association
         * (Sta2) or an invalid one: source 2 with its reason (PS3.8 9.3.8). */
        a->state = STA13;
        if (evt == EVT15)
            send_abort(a, CN_ABORT_SOURCE_USER, ev->abort_reason);
        else
            send_abort(a, CN_ABORT_SOURCE_PROVIDER,
                       evt == EVT19 ? ev->abort_reason : CN_ABORT_UNEXPECTED_PDU);
        cn_assoc_artim_stop(a);
        cn_assoc_artim_start(a);
        break;
    case AA_2:
        enter_sta1(a);
        break;
    case AA_3:
        a->state = STA1;
        abort_indication(a, ev->abort_source, ev->abort_reason);
        enter_sta1(a);
        break;
    case AA_4:
        a->state = STA1;
        abort_indication(a, CN_ABORT_SOURCE_PROVIDER, CN_ABORT_REASON_NOT_SPECIFIED);
        enter_sta1(a);
        break;
    case AA_5:
        enter_sta1(a);
        break;
    case AA_6: /* ignore the PDU */
        break;
    case AA_7:
        a->state = STA13;
        send_abort(a, CN_ABORT_SOURCE_PROVIDER,
                   evt == EVT19 ? ev->abort_reason : CN_ABORT_UNEXPECTED_PDU);
        break;
    case AA_8: {
        uint8_t reason = evt == EVT19 ? ev->abort_reason : CN_ABORT_UNEXPECTED_PDU;
        a->state = STA13;
        send_abort(a, CN_ABORT_SOURCE_PROVIDER, reason);
        cn_assoc_artim_stop(a);
        cn_assoc_artim_start(a);
        abort_indication(a, CN_ABORT_SOURCE_PROVIDER, reason);
        break;
    }
    default:
        break;
    }
    free(ev->rq);
    free(ev->ac);
    ev->rq = NULL;
    ev->ac = NULL;
    return 0;
}
