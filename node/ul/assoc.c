/* The association object: public API, reentrancy guard and input framing.
 * The actions themselves are in assoc_fsm.c. */
#include "ul/assoc.h"

#include <stdlib.h>
#include <string.h>

#include "ul/assoc_impl.h"
#include "ul/negotiate.h"

void cn_assoc_config_init(struct cn_assoc_config *config)
{
    memset(config, 0, sizeof *config);
    cn_ae_title_set(config->ae_title, "CALCNODE");
    config->max_pdu_len = CN_ASSOC_DEFAULT_MAX_PDU_LEN;
    config->artim_timeout_ms = CN_ASSOC_DEFAULT_ARTIM_MS;
}

static size_t max_size(size_t x, size_t y) { return x > y ? x : y; }

static void destroy(struct cn_assoc *a)
{
    free(a->in);
    free(a->out);
    free(a->rq);
    free(a->ac);
    free(a);
}

struct cn_assoc *cn_assoc_new(enum cn_assoc_role role, const struct cn_assoc_config *config,
                              const struct cn_assoc_ops *ops, void *user)
{
    if (config == NULL || ops == NULL || ops->send == NULL || ops->close_transport == NULL ||
        ops->timer_start == NULL || ops->timer_stop == NULL ||
        ops->associate_indication == NULL || ops->associate_confirm == NULL ||
        ops->pdv_indication == NULL || ops->release_indication == NULL ||
        ops->release_confirm == NULL || ops->abort_indication == NULL || ops->closed == NULL)
        return NULL;
    if (role != CN_ASSOC_ACCEPTOR && role != CN_ASSOC_REQUESTOR)
        return NULL;
    struct cn_assoc_config c = *config;
    if (c.max_pdu_len == 0)
        c.max_pdu_len = CN_ASSOC_DEFAULT_MAX_PDU_LEN;
    if (c.max_pdu_len < CN_ASSOC_MIN_PDU_LEN || c.max_pdu_len > CN_ASSOC_MAX_PDU_LEN_LIMIT)
        return NULL;
    if (c.artim_timeout_ms == 0)
        c.artim_timeout_ms = CN_ASSOC_DEFAULT_ARTIM_MS;
    c.ae_title[CN_AE_TITLE_LEN] = '\0';
    struct cn_assoc *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->role = role;
    a->config = c;
    a->ops = *ops;
    a->user = user;
    a->state = STA1;
    a->in_cap = CN_PDU_HEADER_LEN + max_size(CN_PDU_ASSOCIATE_MAX_BODY_LEN, c.max_pdu_len);
    a->out_cap = CN_PDU_HEADER_LEN +
                 max_size(CN_PDU_ASSOCIATE_MAX_BODY_LEN, CN_ASSOC_SEND_PDU_LEN_LIMIT);
    a->in = malloc(a->in_cap);
    a->out = malloc(a->out_cap);
    if (a->in == NULL || a->out == NULL) {
        destroy(a);
        return NULL;
    }
    return a;
}

void cn_assoc_free(struct cn_assoc *a)
{
    if (a == NULL)
        return;
    if (a->depth > 0) {
        a->free_pending = 1;
        return;
    }
    destroy(a);
}

static void enter(struct cn_assoc *a) { a->depth++; }

/* Leave a public call; the object may be gone afterwards. */
static int leave(struct cn_assoc *a, int rc)
{
    if (--a->depth == 0 && a->free_pending)
        destroy(a);
    return rc;
}

static int run_simple(struct cn_assoc *a, enum cn_fsm_event evt)
{
    struct cn_assoc_event ev = {0};
    enter(a);
    return leave(a, cn_assoc_run(a, evt, &ev));
}

int cn_assoc_request(struct cn_assoc *a, const struct cn_assoc_rq *rq)
{
    if (rq == NULL || a->role != CN_ASSOC_REQUESTOR)
        return rq == NULL ? CN_UL_E_ARGUMENT : CN_UL_E_STATE;
    if (!cn_assoc_active(a) || a->state != STA1 || a->rq != NULL)
        return CN_UL_E_STATE;
    struct cn_assoc_rq *copy = cn_assoc_rq_new();
    if (copy == NULL)
        return CN_UL_E_NOMEM;
    *copy = *rq;
    if (copy->protocol_version == 0)
        copy->protocol_version = 1;
    if (copy->calling_ae[0] == '\0')
        memcpy(copy->calling_ae, a->config.ae_title, sizeof copy->calling_ae);
    if (copy->application_context[0] == '\0')
        memcpy(copy->application_context, CN_APPLICATION_CONTEXT_NAME,
               sizeof CN_APPLICATION_CONTEXT_NAME);
    copy->has_user_info = 1;
    copy->user.has_max_length = 1;
    copy->user.max_length_received = a->config.max_pdu_len;
    if (!copy->user.has_implementation_class_uid) {
        copy->user.has_implementation_class_uid = 1;
        memcpy(copy->user.implementation_class_uid, CN_IMPLEMENTATION_CLASS_UID,
               sizeof CN_IMPLEMENTATION_CLASS_UID);
    }
    if (!copy->user.has_implementation_version_name) {
        copy->user.has_implementation_version_name = 1;
        memcpy(copy->user.implementation_version_name, CN_IMPLEMENTATION_VERSION_NAME,
               sizeof CN_IMPLEMENTATION_VERSION_NAME);
    }
    size_t n;
    if (copy->pc_count == 0 || cn_pdu_encode_rq(copy, a->out, a->out_cap, &n) != 0) {
        free(copy);
        return CN_UL_E_ARGUMENT;
    }
    a->rq = copy;
    return run_simple(a, EVT1);
}

int cn_assoc_transport_connected(struct cn_assoc *a)
{
    return run_simple(a, a->role == CN_ASSOC_REQUESTOR ? EVT2 : EVT5);
}

int cn_assoc_transport_closed(struct cn_assoc *a)
{
    enter(a);
    a->transport_closed = 1;
    struct cn_assoc_event ev = {0};
    cn_assoc_run(a, EVT17, &ev);
    return leave(a, 0);
}

int cn_assoc_timer_expired(struct cn_assoc *a)
{
    enter(a);
    int stalled = a->stall_timer;
    a->artim_running = 0;
    a->stall_timer = 0;
    struct cn_assoc_event ev = {0};
    if (a->state == STA2 || a->state == STA13) {
        cn_assoc_run(a, EVT18, &ev);
    } else if (stalled && a->in_len > 0) {
        /* extension: a peer stalled in the middle of a PDU */
        a->input_dead = 1;
        a->last_error = CN_UL_E_TRUNCATED;
        ev.error = CN_UL_E_TRUNCATED;
        ev.abort_reason = CN_ABORT_REASON_NOT_SPECIFIED;
        cn_assoc_run(a, EVT19, &ev);
    }
    return leave(a, 0);
}

int cn_assoc_release_request(struct cn_assoc *a) { return run_simple(a, EVT11); }

int cn_assoc_release_response(struct cn_assoc *a)
{
    if (cn_assoc_active(a) && a->state == STA10) {
        /* release collision, acceptor side: answered once our release
         * completes (AR-10, Sta12) */
        a->release_response_pending = 1;
        return 0;
    }
    return run_simple(a, EVT14);
}

int cn_assoc_abort(struct cn_assoc *a, uint8_t reason)
{
    struct cn_assoc_event ev = {0};
    ev.abort_reason = reason;
    enter(a);
    return leave(a, cn_assoc_run(a, EVT15, &ev));
}

int cn_assoc_send_pdata(struct cn_assoc *a, uint8_t pc_id, int is_command, const uint8_t *data,
                        size_t len)
{
    return cn_assoc_send_pdata_part(a, pc_id, is_command, 1, data, len);
}

int cn_assoc_send_pdata_part(struct cn_assoc *a, uint8_t pc_id, int is_command, int is_last,
                             const uint8_t *data, size_t len)
{
    if (!cn_assoc_active(a) || (a->state != STA6 && a->state != STA8))
        return CN_UL_E_STATE;
    if ((data == NULL && len > 0) || cn_negotiate_find_accepted(a->ac, pc_id) == NULL)
        return CN_UL_E_ARGUMENT;
    /* PS3.8 D.1: the PDV list (variable field) fits the peer's maximum */
    size_t limit = a->peer_max_pdu_len;
    if (limit == 0 || limit > CN_ASSOC_SEND_PDU_LEN_LIMIT)
        limit = CN_ASSOC_SEND_PDU_LEN_LIMIT;
    size_t fragment = limit > CN_PDU_PDV_HEADER_LEN ? limit - CN_PDU_PDV_HEADER_LEN : 1;
    if (len == 0 && !is_last)
        return 0;
    size_t off = 0;
    int rc = 0;
    enter(a);
    do {
        size_t n = len - off < fragment ? len - off : fragment;
        int last = is_last && off + n == len;
        uint8_t control = (uint8_t)((is_command ? CN_PDV_COMMAND : 0u) | (last ? CN_PDV_LAST : 0u));
        struct cn_assoc_event ev = {0};
        rc = cn_pdu_encode_pdata(pc_id, control, n > 0 ? data + off : NULL, n, a->out,
                                 a->out_cap, &ev.body_len);
        if (rc < 0)
            break;
        rc = cn_assoc_run(a, EVT9, &ev);
        if (rc < 0)
            break;
        off += n;
    } while (off < len);
    return leave(a, rc);
}

/* Dispatch one complete PDU (PS3.8 9.3.1 types) as its event. Association
 * PDUs are decoded only in the state that expects them; elsewhere the table
 * aborts or ignores them without the cost of decoding. */
static void dispatch(struct cn_assoc *a, uint8_t type, const uint8_t *body, size_t body_len)
{
    struct cn_assoc_event ev = {0};
    enum cn_fsm_event evt;
    int rc = 0;
    switch (type) {
    case CN_PDU_ASSOCIATE_RQ:
        evt = EVT6;
        if (a->state == STA2) {
            ev.rq = cn_assoc_rq_new();
            rc = ev.rq == NULL ? CN_UL_E_NOMEM : cn_pdu_decode_rq(body, body_len, ev.rq);
        }
        break;
    case CN_PDU_ASSOCIATE_AC:
        evt = EVT3;
        if (a->state == STA5) {
            ev.ac = cn_assoc_ac_new();
            rc = ev.ac == NULL ? CN_UL_E_NOMEM : cn_pdu_decode_ac(body, body_len, ev.ac);
        }
        break;
    case CN_PDU_ASSOCIATE_RJ:
        evt = EVT4;
        rc = cn_pdu_decode_rj(body, body_len, &ev.rj);
        break;
    case CN_PDU_P_DATA_TF:
        evt = EVT10;
        rc = cn_pdu_check_pdata(body, body_len);
        ev.body = body;
        ev.body_len = body_len;
        break;
    case CN_PDU_RELEASE_RQ:
        evt = EVT12;
        rc = cn_pdu_decode_release(body, body_len);
        break;
    case CN_PDU_RELEASE_RP:
        evt = EVT13;
        rc = cn_pdu_decode_release(body, body_len);
        break;
    case CN_PDU_ABORT:
        evt = EVT16;
        rc = cn_pdu_decode_abort(body, body_len, &ev.abort_source, &ev.abort_reason);
        break;
    default:
        evt = EVT19;
        rc = CN_UL_E_PDU_TYPE;
        break;
    }
    if (rc < 0) {
        free(ev.rq);
        free(ev.ac);
        memset(&ev, 0, sizeof ev);
        ev.error = rc;
        ev.abort_reason = cn_ul_abort_reason(rc);
        a->last_error = rc;
        a->input_dead = 1;
        evt = EVT19;
    } else if (evt != EVT16 && evt != EVT10 && cn_fsm_lookup(a->state, evt) == AA_8) {
        a->last_error = CN_UL_E_UNEXPECTED_PDU;
    }
    cn_assoc_run(a, evt, &ev);
}

static void invalid_input(struct cn_assoc *a, int rc)
{
    struct cn_assoc_event ev = {0};
    ev.error = rc;
    ev.abort_reason = cn_ul_abort_reason(rc);
    a->last_error = rc;
    a->input_dead = 1;
    a->in_len = 0;
    cn_assoc_run(a, EVT19, &ev);
}

int cn_assoc_receive(struct cn_assoc *a, const uint8_t *bytes, size_t len)
{
    if (a->in_receive)
        return CN_UL_E_REENTRANT;
    enter(a);
    a->in_receive = 1;
    /* No PDU is expected before the transport is up (Sta1, Sta4). */
    while (len > 0 && cn_assoc_active(a) && !a->input_dead && a->state != STA1 &&
           a->state != STA4) {
        uint8_t type = 0;
        uint32_t body_len = 0;
        size_t want = CN_PDU_HEADER_LEN;
        if (a->in_len >= CN_PDU_HEADER_LEN) {
            long r = cn_pdu_frame(a->in, a->in_len, a->config.max_pdu_len, &type, &body_len);
            if (r < 0) {
                invalid_input(a, (int)r);
                break;
            }
            want = CN_PDU_HEADER_LEN + (size_t)body_len;
        }
        size_t take = want - a->in_len < len ? want - a->in_len : len;
        memcpy(a->in + a->in_len, bytes, take);
        a->in_len += take;
        bytes += take;
        len -= take;
        long r = cn_pdu_frame(a->in, a->in_len, a->config.max_pdu_len, &type, &body_len);
        if (r < 0) {
            invalid_input(a, (int)r);
            break;
        }
        if (r > 0) {
            a->in_len = 0;
            if (a->stall_timer)
                cn_assoc_artim_stop(a);
            dispatch(a, type, a->in + CN_PDU_HEADER_LEN, body_len);
        }
    }
    /* extension of PS3.8: time a partial PDU in states without ARTIM */
    if (cn_assoc_active(a) && !a->input_dead && a->in_len > 0 && !a->artim_running &&
        a->state != STA1 && a->state != STA4) {
        cn_assoc_artim_start(a);
        a->stall_timer = 1;
    }
    a->in_receive = 0;
    return leave(a, 0);
}

enum cn_fsm_state cn_assoc_state(const struct cn_assoc *a) { return a->state; }

enum cn_assoc_role cn_assoc_role(const struct cn_assoc *a) { return a->role; }

const struct cn_assoc_ac *cn_assoc_accepted(const struct cn_assoc *a)
{
    return a->state >= STA6 && a->state <= STA12 ? a->ac : (a->finished ? a->ac : NULL);
}

uint32_t cn_assoc_peer_max_pdu_len(const struct cn_assoc *a) { return a->peer_max_pdu_len; }

int cn_assoc_last_error(const struct cn_assoc *a) { return a->last_error; }
