/* node/serve: the association server. Accepts TCP connections, runs one DICOM
 * association per connection (node/ul), and provides the Verification and Storage
 * services as SCP (node/dimse): C-ECHO, and C-STORE that answers Success only after the
 * object is fsync'd under its final name (node/store) and its row committed (node/db),
 * DESIGN.md section 4.
 *
 * Loop thread only. */
#ifndef CN_SERVE_SERVER_H
#define CN_SERVE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct cn_db_async;
struct cn_dcm_header;
struct cn_server;

enum cn_server_duplicate_policy {
    CN_SERVER_KEEP_FIRST = 0, /* differing bytes kept aside and recorded; Success */
    CN_SERVER_REJECT = 1,     /* differing bytes kept aside and recorded; failure status */
};

/* An AE title allowed to call, and from where (address_count 0: anywhere). Addresses
 * are IPv4 or IPv6 literals with an optional /prefix length. */
#define CN_SERVER_MAX_CALLER_ADDRESSES 16
struct cn_server_caller {
    char ae_title[17];
    char addresses[CN_SERVER_MAX_CALLER_ADDRESSES][64];
    size_t address_count;
};

struct cn_server_config {
    const char *listen_host;      /* borrowed for the call */
    uint16_t port;
    const char *ae_title;         /* our AE title */
    const char *state_dir;        /* where spool/, store/, conflicts/, aborted/ live */
    uint32_t max_pdu_len;         /* our maximum length received */
    uint32_t artim_timeout_ms;
    uint32_t max_associations;    /* more are rejected transiently (local limit exceeded) */
    enum cn_server_duplicate_policy duplicate_policy;
    /* DICOM TLS (PS3.15 Annex B.9): a second listener on tls_port (0: none) with the PEM
     * certificate and key; tls_ca set: client certificates it signed are required.
     * Paths borrowed for the call to cn_server_start. */
    uint16_t tls_port;
    const char *tls_cert;
    const char *tls_key;
    const char *tls_ca;
    /* Access control and limits. allowed_callers NULL: any calling AE title; else the
     * list (borrowed, must outlive the server) of AE titles that may call, each with the
     * addresses it may call from. */
    const struct cn_server_caller *allowed_callers;
    size_t allowed_caller_count;
    uint32_t max_associations_per_ae; /* 0: only max_associations */
    uint64_t max_object_size;         /* bytes of one data set; 0: no limit */
    uint64_t min_free_disk;           /* bytes free under state_dir to accept; 0: no check */
    /* Optional: called on the loop thread for every association refused (A-ASSOCIATE-RJ)
     * with a short reason; strings borrowed for the call. */
    void (*association_rejected)(void *user, const char *calling_ae, const char *called_ae,
                                 const char *peer, const char *reason);
    void *association_rejected_user;
    /* Optional: called on the loop thread after a new instance was catalogued (and before
     * its C-STORE-RSP is sent); header and calling_ae are borrowed for the call. */
    void (*instance_stored)(void *user, const struct cn_dcm_header *header,
                            const char *calling_ae);
    void *instance_stored_user;
};

struct cn_server_stats {
    uint64_t associations_accepted;
    uint64_t associations_rejected;
    uint64_t associations_aborted;
    uint64_t instances_stored;     /* new instances */
    uint64_t instances_duplicate;
    uint64_t instances_failed;
    uint64_t bytes_received;
    uint32_t associations_active;
};

/* Starts listening. db is borrowed and must outlive the server. Returns 0 and the new
 * server in *out, or a negative libuv error with err filled. */
int cn_server_start(uv_loop_t *loop, const struct cn_server_config *config,
                    struct cn_db_async *db, struct cn_server **out, char *err, size_t err_len);

/* Stops accepting; aborts the associations still open after grace_ms (0: at once);
 * when every association and in-flight store has finished (stores in progress are
 * completed, never dropped), frees the server and calls done(user). */
void cn_server_stop(struct cn_server *server, uint32_t grace_ms, void (*done)(void *user),
                    void *user);

void cn_server_get_stats(const struct cn_server *server, struct cn_server_stats *out);

#endif
