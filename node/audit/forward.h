/* node/audit/forward: sends the audit table's rows to a syslog collector (an audit record
 * repository) as PS3.15 A.5 audit messages (node/audit/message.h), over UDP (RFC 5426:
 * one message per datagram; PS3.15 A.7 SYSLOG-UDP), TLS (RFC 5425, octet counting; the
 * PS3.15 A.6 Basic Audit Log Interface transport) or plain TCP (RFC 6587 octet counting).
 *
 * Rows are claimed in batches with UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
 * LOCKED LIMIT n): several processes sharing one database never send the same row twice
 * while a claim lasts. A row is marked forwarded_at once its datagram was handed to the
 * kernel (UDP) or its bytes were written (TCP); a row whose send failed, or whose process
 * died, is sent again when its claim expires. Delivery is therefore at least once; the
 * database stays the record of truth.
 *
 * A timer polls every interval_ms; a full batch is followed at once by the next.
 *
 * Loop thread only: every function and callback runs on the loop given at start. */
#ifndef CN_AUDIT_FORWARD_H
#define CN_AUDIT_FORWARD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct cn_db_async;
struct cn_audit_forwarder;
struct cn_tls_context;

enum cn_audit_transport { CN_AUDIT_UDP, CN_AUDIT_TCP, CN_AUDIT_TLS };

#define CN_AUDIT_HOST_SIZE 256

/* Defaults of the configuration's zero values. */
#define CN_AUDIT_INTERVAL_MS 1000u
#define CN_AUDIT_BATCH_COUNT 64u
#define CN_AUDIT_LEASE_MS 60000u
/* How long a TCP/TLS connect (with its handshake) or a batch's writes may take. */
#define CN_AUDIT_IO_TIMEOUT_MS 10000u

struct cn_audit_forwarder_config {
    const char *target;   /* "udp:", "tls:" or "tcp:" then HOST:PORT (HOST may be [v6]); copied */
    /* For tls: a client context (net/tls.h) whose CA checks the collector's certificate;
     * borrowed, must outlive the forwarder. Required for tls:, ignored otherwise. */
    struct cn_tls_context *tls;
    const char *ae_title; /* ours: the messages' AuditSourceID; copied */
    uint32_t interval_ms; /* 0: CN_AUDIT_INTERVAL_MS */
    uint32_t batch_count; /* rows per claim; 0: CN_AUDIT_BATCH_COUNT */
    uint32_t lease_ms;    /* how long a claim lasts; 0: CN_AUDIT_LEASE_MS */
};

/* Parses a target. Returns 0 with the parts filled, or -1 (not transport:host:port with
 * transport udp, tcp or tls and a port 1-65535). */
int cn_audit_target_parse(const char *target, enum cn_audit_transport *transport, char *host,
                          size_t host_len, uint16_t *port);

/* Starts forwarding. db is borrowed and must stay open until the stop's done callback.
 * Returns 0 and the new forwarder in *out, or -1 with err filled (a malformed target,
 * out of memory, a libuv error). Names are resolved (UDP) or connected to (TCP) on the
 * first tick; a collector that cannot be reached is retried every interval. */
int cn_audit_forwarder_start(uv_loop_t *loop, struct cn_db_async *db,
                             const struct cn_audit_forwarder_config *config,
                             struct cn_audit_forwarder **out, char *err, size_t err_len);

/* Forwards soon (for instance after an event was recorded), without waiting for the
 * timer. */
void cn_audit_forwarder_wake(struct cn_audit_forwarder *fwd);

struct cn_audit_forwarder_stats {
    uint64_t forwarded; /* rows sent and marked */
    uint64_t failed;    /* rows whose send failed (sent again after their claim expires) */
    uint64_t malformed; /* rows that could not be made into a message (marked, logged) */
};

void cn_audit_forwarder_get_stats(const struct cn_audit_forwarder *fwd,
                                  struct cn_audit_forwarder_stats *out);

/* Stops: finishes the pass in progress, then makes one last pass (so that an event
 * recorded just before through the same database connection, such as the node
 * stopping, is sent), closes the socket,
 * frees the forwarder and calls done(user) (done may be NULL). Later calls on fwd are
 * invalid. */
void cn_audit_forwarder_stop(struct cn_audit_forwarder *fwd, void (*done)(void *user), void *user);

#endif
