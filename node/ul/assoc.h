/* A DICOM association (PS3.8 sections 7 and 9), pure: no sockets, no timers,
 * no files. The owner (node/net) does the I/O: it feeds received bytes with
 * cn_assoc_receive, reports transport and timer events, and performs what
 * the callbacks ask for (send bytes, close the transport, start or stop the
 * ARTIM timer).
 *
 * Threads: an association belongs to one thread (the loop thread); none of
 * these functions may be called concurrently on the same object.
 *
 * Reentrancy: any function may be called from inside a callback, except
 * cn_assoc_receive (returns CN_UL_E_REENTRANT). The state has already moved
 * to the action's next state when a callback runs, so for instance
 * cn_assoc_release_response may be called from release_indication and
 * cn_assoc_send_pdata from pdv_indication. cn_assoc_free inside a callback is
 * deferred until the outermost cn_assoc_* call returns; nothing may be called
 * on the object after cn_assoc_free.
 *
 * ARTIM: started as PS3.8 requires (Sta2 after transport connection, Sta13
 * after sending A-ASSOCIATE-RJ, A-RELEASE-RP or A-ABORT). In addition, while
 * a partial PDU is buffered in any other state the timer runs, so a peer that
 * stalls in the middle of a PDU is aborted (A-ABORT, source 2, reason 0) when
 * it expires, then closed when it expires again in Sta13.
 */
#ifndef CN_UL_ASSOC_H
#define CN_UL_ASSOC_H

#include <stddef.h>
#include <stdint.h>

#include "ul/fsm.h"
#include "ul/pdu.h"

/* Our implementation identity (PS3.7 D.3.3.2). */
#define CN_IMPLEMENTATION_CLASS_UID "1.2.826.0.1.3680043.10.1497.1"
#define CN_IMPLEMENTATION_VERSION_NAME "CALCNODE_010"
/* PS3.7 A.2.1: the DICOM application context name. */
#define CN_APPLICATION_CONTEXT_NAME "1.2.840.10008.3.1.1.1"

/* Our maximum length received (P-DATA-TF variable field, PS3.8 D.1). */
#define CN_ASSOC_DEFAULT_MAX_PDU_LEN (256u * 1024u)
/* Largest maximum length we will advertise (the input buffer is this + 6). */
#define CN_ASSOC_MAX_PDU_LEN_LIMIT (4u * 1024u * 1024u)
/* Smallest maximum length we will advertise. */
#define CN_ASSOC_MIN_PDU_LEN 1024u
/* Size of the P-DATA-TF PDUs we send when the peer sets no limit (0) or a
 * limit above it. */
#define CN_ASSOC_SEND_PDU_LEN_LIMIT (256u * 1024u)
#define CN_ASSOC_DEFAULT_ARTIM_MS 30000u

enum cn_assoc_role { CN_ASSOC_ACCEPTOR = 0, CN_ASSOC_REQUESTOR = 1 };

struct cn_assoc_config {
    char ae_title[CN_AE_TITLE_LEN + 1];  /* our AE title, NUL terminated */
    uint32_t max_pdu_len;                /* our maximum length received */
    uint32_t artim_timeout_ms;
};

/* Defaults: AE title "CALCNODE", CN_ASSOC_DEFAULT_MAX_PDU_LEN,
 * CN_ASSOC_DEFAULT_ARTIM_MS. */
void cn_assoc_config_init(struct cn_assoc_config *config);

/* Callbacks the owner supplies. Pointers passed to callbacks are borrowed
 * for the duration of the call. All members must be set (none may be NULL),
 * except those marked optional. */
struct cn_assoc_ops {
    /* Transport: the owner copies the bytes before returning. */
    void (*send)(void *user, const uint8_t *bytes, size_t len);
    void (*close_transport)(void *user);
    /* ARTIM: (re)start a one-shot timer; its expiry is reported with
     * cn_assoc_timer_expired. */
    void (*timer_start)(void *user, uint32_t timeout_ms);
    void (*timer_stop)(void *user);
    /* Acceptor: decide on an A-ASSOCIATE-RQ. Fill *ac (cn_negotiate does)
     * and return 0 to accept, or fill *rj and return 1 to reject. ac arrives
     * zeroed; the association fills the AE titles, application context and
     * our maximum length and implementation identity when left empty. */
    int (*associate_indication)(void *user, const struct cn_assoc_rq *rq,
                                struct cn_assoc_ac *ac, struct cn_assoc_rj *rj);
    /* Requestor: the peer answered (exactly one of ac, rj is non-NULL). */
    void (*associate_confirm)(void *user, const struct cn_assoc_ac *ac_or_null,
                              const struct cn_assoc_rj *rj_or_null);
    /* One PDV (fragment) of a DIMSE message for an accepted context. Return
     * 0, or < 0 to abort the association (A-ABORT, source 0). */
    int (*pdv_indication)(void *user, uint8_t pc_id, int is_command, int is_last,
                          const uint8_t *data, size_t len);
    /* Peer's A-RELEASE-RQ: the owner calls cn_assoc_release_response when
     * ready (at once or later; P-DATA may still be sent until then). */
    void (*release_indication)(void *user);
    /* Our release completed. */
    void (*release_confirm)(void *user);
    /* A-ABORT from the peer (source 0 or 2 as received) or an A-P-ABORT of
     * the provider (source 2, reason of Table 9-26; transport lost: 0). */
    void (*abort_indication)(void *user, int source, int reason);
    /* The association reached Sta1 and the transport is closed or being
     * closed: the last callback. The owner may free the object after. */
    void (*closed)(void *user);
};

struct cn_assoc;

/* A new association in Sta1. config and ops are copied; user is passed to
 * every callback. Returns NULL when out of memory or when config or ops are
 * invalid (NULL members, max_pdu_len outside
 * [CN_ASSOC_MIN_PDU_LEN, CN_ASSOC_MAX_PDU_LEN_LIMIT]; 0 means the default). */
struct cn_assoc *cn_assoc_new(enum cn_assoc_role role,
                              const struct cn_assoc_config *config,
                              const struct cn_assoc_ops *ops, void *user);
/* Free without any callback (the owner closes its transport itself).
 * NULL is allowed. Deferred when called from a callback. */
void cn_assoc_free(struct cn_assoc *a);

/* Requestor, Sta1, EVT1 (AE-1): remember the A-ASSOCIATE-RQ to send (copied)
 * and move to Sta4; the owner then opens the transport connection. The
 * calling AE title and our maximum length and implementation identity are
 * filled when left empty. Returns 0, CN_UL_E_STATE, CN_UL_E_ARGUMENT. */
int cn_assoc_request(struct cn_assoc *a, const struct cn_assoc_rq *rq);

/* Transport connected. Acceptor: EVT5 in Sta1 (AE-5: start ARTIM, Sta2).
 * Requestor: EVT2 in Sta4 (AE-2: send the A-ASSOCIATE-RQ, Sta5).
 * Returns 0 or CN_UL_E_STATE. */
int cn_assoc_transport_connected(struct cn_assoc *a);

/* Bytes received from the peer. Frames and dispatches every complete PDU
 * (EVT3, EVT4, EVT6, EVT10, EVT12, EVT13, EVT16; EVT19 for an invalid PDU),
 * buffering at most one partial PDU. After an invalid PDU the input is
 * discarded until the association closes. Returns 0 when the bytes were
 * consumed (including when they caused an abort: the owner learns it from
 * the callbacks), CN_UL_E_REENTRANT from inside a callback. */
int cn_assoc_receive(struct cn_assoc *a, const uint8_t *bytes, size_t len);

/* EVT18: the ARTIM timer started by timer_start expired. Returns 0. */
int cn_assoc_timer_expired(struct cn_assoc *a);
/* EVT17: the transport connection closed (by the peer or after our
 * close_transport). Returns 0. */
int cn_assoc_transport_closed(struct cn_assoc *a);

/* EVT9: send one DIMSE message (command set or data set) on context pc_id
 * as P-DATA-TF PDUs whose variable field fits the peer's maximum length
 * received (0: CN_ASSOC_SEND_PDU_LEN_LIMIT), the last fragment flagged.
 * Allowed in Sta6 and Sta8. len may be 0 (one empty last fragment).
 * Returns 0, CN_UL_E_STATE, CN_UL_E_ARGUMENT (pc_id not accepted). */
int cn_assoc_send_pdata(struct cn_assoc *a, uint8_t pc_id, int is_command,
                        const uint8_t *data, size_t len);

/* EVT9 for one part of a DIMSE message, so that a data set can be streamed in
 * parts of any size: data[len] goes out as by cn_assoc_send_pdata, but its last
 * fragment is flagged last only when is_last is set (PS3.8 9.3.5.1: the
 * fragments of one message follow each other on pc_id; the caller sends no
 * other message until the part with is_last). len 0 with is_last 0 sends
 * nothing. Returns as cn_assoc_send_pdata. */
int cn_assoc_send_pdata_part(struct cn_assoc *a, uint8_t pc_id, int is_command, int is_last,
                             const uint8_t *data, size_t len);

/* EVT11 in Sta6: send A-RELEASE-RQ. Returns 0 or CN_UL_E_STATE. */
int cn_assoc_release_request(struct cn_assoc *a);
/* EVT14 in Sta8, Sta9 or Sta12: answer the peer's release. Returns 0 or
 * CN_UL_E_STATE. */
int cn_assoc_release_response(struct cn_assoc *a);
/* EVT15: A-ABORT (source 0, the given reason, normally 0). In Sta4 the
 * transport is just closed. Returns 0, or CN_UL_E_STATE in Sta1, Sta2 and
 * Sta13. */
int cn_assoc_abort(struct cn_assoc *a, uint8_t reason);

/* Observers. */
enum cn_fsm_state cn_assoc_state(const struct cn_assoc *a);
enum cn_assoc_role cn_assoc_role(const struct cn_assoc *a);
/* The negotiated A-ASSOCIATE-AC (borrowed, valid until cn_assoc_free), or
 * NULL before an association was established. */
const struct cn_assoc_ac *cn_assoc_accepted(const struct cn_assoc *a);
/* The peer's maximum length received (0 = no limit) once established. */
uint32_t cn_assoc_peer_max_pdu_len(const struct cn_assoc *a);
/* The last error that led to an abort (enum cn_ul_error), 0 if none. */
int cn_assoc_last_error(const struct cn_assoc *a);

#endif
