/* node/serve internals: the objects behind one server. Loop thread only.
 *
 * Ownership and lifetime:
 *   cn_server owns its listeners (plain, and TLS when tls_port is set, with its TLS
 *   context) and a list of sessions.
 *   A session (one TCP connection, one association) is referenced by its transport
 *   (until the TCP handle has closed and the association object is freed) and by each
 *   store operation it started. It is freed when the last reference goes; in-flight store
 *   operations therefore always complete (file durable, row committed) even after the
 *   peer aborted, they just have nobody to answer.
 *   A store operation is referenced only by its session's list and by the spool or
 *   database callback it waits for. */
#ifndef CN_SERVE_INTERNAL_H
#define CN_SERVE_INTERNAL_H

#include <stdint.h>
#include <uv.h>

#include "dimse/receiver.h"
#include "serve/server.h"
#include "ul/assoc.h"
#include "ul/pdu.h"

struct cn_assoc;
struct cn_tcp_conn;
struct cn_tls_context;
struct cn_disk_watch;
struct cn_spool;
struct cn_session;
struct catalogue_request;

struct cn_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_tcp_t tls_listener;        /* initialised when tls != NULL */
    struct cn_tls_context *tls;   /* PS3.15 B.9 server context; NULL: no TLS port */
    uv_timer_t grace_timer;
    struct cn_db_async *db;
    struct cn_server_config config;
    struct cn_assoc_config assoc_config; /* ours, for every session */
    char ae_title[CN_AE_TITLE_LEN + 1];
    char listen_host[256];
    char state_dir[1024];
    struct cn_session *sessions;  /* doubly linked list of live sessions */
    uint64_t next_session_id;
    struct cn_server_stats stats;
    struct cn_disk_watch *disk;   /* free space under state_dir; NULL: min_free_disk 0 */
    int stopping;
    int listener_closed;
    int tls_listener_closed;      /* also 1 when there is no TLS listener */
    int grace_timer_closed;
    void (*stop_done)(void *user);
    void *stop_user;
};

/* One C-STORE being received or completed. */
struct cn_store_op {
    struct cn_store_op *next;
    struct cn_session *session;
    uint8_t pc_id;
    uint16_t message_id;
    char sop_class_uid[CN_UID_MAX_LEN + 1];
    char sop_instance_uid[CN_UID_MAX_LEN + 1];
    char transfer_syntax_uid[CN_UID_MAX_LEN + 1];
    struct cn_spool *spool;       /* until the spool's done callback */
    uint16_t failure_status;      /* set when the operation failed before completion */
    char error_comment[65];
    uint64_t data_set_len;        /* data-set bytes received so far */
    int too_large;                /* over max_object_size: the bytes are discarded */
    int responded;
    uint64_t data_complete_ns, spool_done_ns; /* uv_hrtime, for the log */
    struct cn_store_op *next_waiting;          /* session's waiting_for_id list */
    struct catalogue_request *pending_catalogue; /* while waiting for the association id */
};

struct cn_session {
    struct cn_session *prev, *next;
    struct cn_server *server;
    uint64_t id;
    int refs;
    struct cn_tcp_conn *conn;     /* NULL once closed */
    struct cn_assoc *assoc;       /* NULL once freed */
    uv_timer_t artim;
    int artim_closed;
    struct cn_dimse_receiver receiver;
    char peer[80];
    char calling_ae[CN_AE_TITLE_LEN + 1];
    char called_ae[CN_AE_TITLE_LEN + 1];
    int64_t db_association_id;    /* 0 until recorded */
    int db_association_pending;   /* the start row is being inserted */
    struct cn_store_op *receiving; /* the operation whose data set is arriving */
    struct cn_store_op *ops;      /* operations not yet answered/completed */
    struct cn_store_op *waiting_for_id; /* completed spools waiting for the association id */
    int established;
    int counted;                  /* open for the association limits (access.h) */
    int release_requested;        /* peer's A-RELEASE-RQ awaiting our response */
    int aborted;
    int paused;
    uint64_t instances_stored;
};

void cn_session_ref(struct cn_session *s);
void cn_session_unref(struct cn_session *s);

/* Sends one DIMSE command set on pc_id if the association can still carry it.
 * Returns 0 or -1 (association gone or not established). */
int cn_session_send_command(struct cn_session *s, uint8_t pc_id, const uint8_t *bytes,
                            size_t len);

/* Called by the store code when an operation is over (answered or orphaned): answers a
 * pending release when it was the last one. */
void cn_session_op_finished(struct cn_session *s, struct cn_store_op *op);

/* The DIMSE receiver callbacks of a session (store_scp.c). */
extern const struct cn_dimse_receiver_ops cn_session_receiver_ops;

/* The association is gone (aborted or transport lost): receiving operations are
 * abandoned (partial bytes kept under STATE/aborted; those of an object already refused
 * for its size are discarded), completed ones finish unanswered. */
void cn_store_session_lost(struct cn_session *s);

/* The association id arrived (or failed: id 0): start the waiting catalogue inserts. */
void cn_store_association_known(struct cn_session *s);

/* session.c */
/* Accepts a pending connection of listener (one of the server's), with TLS on tls when
 * not NULL. Returns 0 or a libuv error. */
int cn_session_accept(struct cn_server *server, uv_stream_t *listener,
                      struct cn_tls_context *tls);
void cn_session_abort(struct cn_session *s);
void cn_session_pause_reading(struct cn_session *s);
void cn_session_resume_reading(struct cn_session *s);

/* server.c: a session was freed (for a pending stop). */
void cn_server_session_gone(struct cn_server *server);

#endif
