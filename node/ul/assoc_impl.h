/* The association object's layout and the action engine, internal to
 * node/ul (assoc.c: public API and input framing; assoc_fsm.c: actions). */
#ifndef CN_UL_ASSOC_IMPL_H
#define CN_UL_ASSOC_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "ul/assoc.h"

struct cn_assoc {
    enum cn_assoc_role role;
    struct cn_assoc_config config;
    struct cn_assoc_ops ops;
    void *user;
    enum cn_fsm_state state;

    /* Input: at most one PDU, CN_PDU_HEADER_LEN + max(associate cap, our
     * maximum length received). */
    uint8_t *in;
    size_t in_len;
    size_t in_cap;
    int input_dead;     /* an invalid PDU was seen: discard further input */
    int in_receive;     /* cn_assoc_receive is running */

    /* Output: one PDU at a time, CN_PDU_HEADER_LEN + max(associate cap,
     * CN_ASSOC_SEND_PDU_LEN_LIMIT). */
    uint8_t *out;
    size_t out_cap;

    struct cn_assoc_rq *rq;   /* requestor: ours; acceptor: the peer's */
    struct cn_assoc_ac *ac;   /* the negotiated answer once established */
    uint32_t peer_max_pdu_len;

    int artim_running;
    int stall_timer;          /* ARTIM runs for a partial PDU */
    int transport_closed;
    int finished;             /* reached Sta1 after being active */
    int release_response_pending; /* asked for in Sta10, sent in Sta12 */
    int last_error;

    int depth;                /* nesting of public calls */
    int free_pending;
};

/* Context of one event: the decoded PDU or the error behind EVT19. */
struct cn_assoc_event {
    struct cn_assoc_rq *rq;        /* EVT6: decoded, ownership passes */
    struct cn_assoc_ac *ac;        /* EVT3: decoded, ownership passes */
    struct cn_assoc_rj rj;         /* EVT4 */
    const uint8_t *body;           /* EVT10: P-DATA-TF body */
    size_t body_len;
    uint8_t abort_source;          /* EVT16 as received; EVT15/19 to send */
    uint8_t abort_reason;
    int error;                     /* EVT19: enum cn_ul_error */
};

/* Run event evt in the current state (PS3.8 Table 9-10). Returns 0, or
 * CN_UL_E_STATE when the table has no action for (state, event); then
 * nothing happened, except that ownership of ev->rq / ev->ac is still
 * taken (freed). */
int cn_assoc_run(struct cn_assoc *a, enum cn_fsm_event evt, struct cn_assoc_event *ev);

/* 1 while the object may still issue callbacks and take events. */
int cn_assoc_active(const struct cn_assoc *a);

void cn_assoc_artim_start(struct cn_assoc *a);
void cn_assoc_artim_stop(struct cn_assoc *a);

#endif
