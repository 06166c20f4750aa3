/* node/send: the C-STORE SCU (PS3.4 Annex B, PS3.7 9.1.1): one association to one
 * destination for a batch of Part 10 files, on the libuv loop.
 *
 * The SCU reads each file's meta header (node/send/meta.h), proposes one presentation
 * context per distinct (SOP class, transfer syntax) pair with exactly the file's own
 * transfer syntax (objects are never converted), then sends the files one C-STORE-RQ at
 * a time (no asynchronous operations window), each data set streamed from disk with
 * uv_fs_read in CN_SCU_CHUNK_LEN parts (reading pauses while more than
 * CN_SCU_WRITE_HIGH_WATER_LEN bytes wait to be written), and waits for each C-STORE-RSP.
 * At the end it releases the association; on a protocol error by the peer it aborts.
 *
 * Every file ends with one outcome:
 *   CN_SCU_SENT       the peer answered Success or a Warning (PS3.7 Annex C);
 *   CN_SCU_TRANSIENT  worth retrying: A7xx (out of resources), Cancel, an unknown failure
 *                     status, a transient association rejection, connection failures,
 *                     aborts, a lost transport, timeouts, files the association ended
 *                     before;
 *   CN_SCU_PERMANENT  retrying cannot help: A9xx, Cxxx, 0122 (SOP class not supported), a
 *                     permanent association rejection, a presentation context the peer
 *                     rejected, a file that cannot be read or is not Part 10.
 *
 * One timeout (default CN_SCU_DEFAULT_TIMEOUT_MS) bounds each wait: the connection, the
 * A-ASSOCIATE-AC, progress while a data set is written, each C-STORE-RSP and the
 * A-RELEASE-RP. On expiry the association is aborted.
 *
 * Loop thread only. */
#ifndef CN_SEND_SCU_H
#define CN_SEND_SCU_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "send/meta.h"

struct cn_tls_context;

#define CN_SCU_DEFAULT_TIMEOUT_MS 30000u
#define CN_SCU_CHUNK_LEN (64u * 1024u)
#define CN_SCU_WRITE_HIGH_WATER_LEN (256u * 1024u)
/* Files in one batch (each may need its own presentation context; PS3.8 allows 128). */
#define CN_SCU_MAX_FILES 128u
#define CN_SCU_AE_SIZE 17 /* PS3.5 Table 6.2-1: 16 characters + NUL */
#define CN_SCU_HOST_SIZE 256
#define CN_SCU_ERROR_SIZE 256

enum cn_scu_outcome {
    CN_SCU_SENT = 0,
    CN_SCU_TRANSIENT = 1,
    CN_SCU_PERMANENT = 2,
};

/* The stored text of an outcome ("sent", "transient", "permanent"). */
const char *cn_scu_outcome_name(enum cn_scu_outcome outcome);

/* The outcome class of a C-STORE-RSP status (PS3.4 Table B.2-1, PS3.7 Annex C). */
enum cn_scu_outcome cn_scu_status_outcome(uint16_t status);

struct cn_scu_options {
    const char *calling_ae; /* our AE title; NULL or "": "CALCNODE" */
    const char *called_ae;  /* the destination's AE title, required */
    const char *host;       /* name or numeric address, required */
    uint16_t port;
    uint32_t timeout_ms;  /* 0: CN_SCU_DEFAULT_TIMEOUT_MS */
    uint32_t max_pdu_len; /* our maximum length received; 0: the ul default */
    /* DICOM TLS (PS3.15 B.9) with this client context (net/tls.h; borrowed: valid until
     * done is called); NULL: plain TCP. The peer's certificate must name host. */
    struct cn_tls_context *tls;
};

struct cn_scu_result {
    const char *path; /* the caller's string (borrowed from cn_scu_start's paths) */
    char sop_class_uid[CN_SEND_UID_MAX_LEN + 1]; /* "" when the meta was unreadable */
    char sop_instance_uid[CN_SEND_UID_MAX_LEN + 1];
    char transfer_syntax_uid[CN_SEND_UID_MAX_LEN + 1];
    enum cn_scu_outcome outcome;
    int has_status;  /* 1 when a C-STORE-RSP arrived for this file */
    uint16_t status; /* its Status (0000,0900) */
    /* "" on Success; else the peer's Error Comment (0000,0902) or our reason, one line */
    char error[CN_SCU_ERROR_SIZE];
    uint64_t data_set_len; /* bytes of the data set sent in the C-STORE (0: not begun) */
};

struct cn_scu;

/* The batch is over and every handle, file and request of the SCU is closed: results[i]
 * belongs to paths[i]. results is borrowed for the call; the SCU is freed when the
 * callback returns. */
typedef void (*cn_scu_done_cb)(const struct cn_scu_result *results, size_t count, void *user);

/* Starts sending paths[count] (1..CN_SCU_MAX_FILES; the strings must stay valid until
 * done is called) to options' destination. Returns 0 and, when out is not NULL, the SCU
 * in *out (valid until done is called); done is then called exactly once, never from
 * inside this call. Returns a negative libuv error (UV_EINVAL for bad options or counts,
 * UV_ENOMEM) without calling done. */
int cn_scu_start(uv_loop_t *loop, const struct cn_scu_options *options, const char *const *paths,
                 size_t count, cn_scu_done_cb done, void *user, struct cn_scu **out);

/* Aborts the association (if any) and finishes: files without a response end
 * CN_SCU_TRANSIENT "cancelled". done follows from the loop. Idempotent. */
void cn_scu_cancel(struct cn_scu *scu);

#endif
