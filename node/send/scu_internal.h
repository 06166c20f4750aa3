/* node/send: the objects behind one cn_scu, shared by scu.c (association, DIMSE,
 * lifetime) and scu_file.c (file I/O). Loop thread only.
 *
 * Lifetime: refs counts what may still call back into the SCU: the batch itself (dropped
 * by scu_finish), each of the two timers until its close callback, the TCP connection
 * until on_closed, and the one uv_fs_t request while in flight. When refs reaches 0 the
 * done callback runs and the SCU is freed. */
#ifndef CN_SEND_SCU_INTERNAL_H
#define CN_SEND_SCU_INTERNAL_H

#include <stdint.h>
#include <uv.h>

#include "dimse/receiver.h"
#include "send/scu.h"
#include "ul/assoc.h"

struct cn_tcp_conn;

struct scu_file {
    struct cn_scu_result r;
    int finished; /* r.outcome is final */
    int meta_ok;  /* the meta header was read */
    size_t data_set_offset;
    uint8_t pc_id; /* proposed context; usable when accepted */
};

enum scu_fs_step {
    SCU_FS_IDLE,
    SCU_FS_META_OPEN,
    SCU_FS_META_READ,
    SCU_FS_SEND_OPEN,
    SCU_FS_SEND_STAT,
    SCU_FS_SEND_READ,
    SCU_FS_CLOSE,
};

struct cn_scu {
    uv_loop_t *loop;
    cn_scu_done_cb done;
    void *user;
    char called_ae[CN_SCU_AE_SIZE];
    char host[CN_SCU_HOST_SIZE];
    uint16_t port;
    uint32_t timeout_ms;
    struct cn_tls_context *tls; /* options->tls, used when connecting; NULL: plain TCP */
    struct cn_assoc_config assoc_config;

    struct scu_file *files;
    struct cn_scu_result *results; /* filled from files for the done callback */
    size_t count;
    size_t current; /* the file being read (meta phase) or sent */

    int refs;
    int finishing;
    int sending_phase;       /* the association is established; files go out one by one */
    uv_timer_t timer;        /* our timeout: connect, AC, progress, RSP, RP */
    const char *waiting_for; /* what the timer guards, for the message */
    uv_timer_t artim;        /* the ul's ARTIM */
    struct cn_tcp_conn *conn;
    struct cn_assoc *assoc;
    struct cn_dimse_receiver receiver;

    /* file I/O: one request at a time */
    uv_fs_t fs;
    enum scu_fs_step fs_step;
    uv_file fd;       /* -1 when none */
    uint8_t *chunk;   /* CN_SCU_CHUNK_LEN bytes */
    size_t chunk_len; /* bytes read into chunk (meta phase) */
    uint64_t read_offset;
    uint64_t remaining; /* data set bytes still to read */

    /* the C-STORE in progress */
    uint16_t message_id;
    int streaming;     /* the data set is not yet completely written */
    int waiting_drain; /* reading paused until the write queue drains */
    int rsp_received;  /* the RSP arrived (maybe before the data set ended) */

    /* why the batch ended early: applies to every file without an outcome */
    int has_failure;
    enum cn_scu_outcome failure_outcome;
    char failure[CN_SCU_ERROR_SIZE];
};

/* scu.c */
void scu_ref(struct cn_scu *scu);
void scu_unref(struct cn_scu *scu);
/* Records why the batch ends early (the first cause wins). */
__attribute__((format(printf, 3, 4))) void
scu_set_failure(struct cn_scu *scu, enum cn_scu_outcome outcome, const char *fmt, ...);
/* Gives the current file its outcome. */
__attribute__((format(printf, 3, 4))) void
scu_file_finish(struct cn_scu *scu, enum cn_scu_outcome outcome, const char *fmt, ...);
/* Aborts the association when one is open, closes everything, drops the batch's ref. */
void scu_finish(struct cn_scu *scu);
/* Every meta header has been read: connect (or finish when nothing can be sent). */
void scu_meta_done(struct cn_scu *scu);
/* Sends the next file without an outcome (from current on), or releases the
 * association when none is left. */
void scu_send_next(struct cn_scu *scu);
/* The current file is open with remaining bytes to stream: send its C-STORE-RQ. */
void scu_begin_store(struct cn_scu *scu);
/* A part of the current data set was read: chunk[len]; last when remaining is 0. */
void scu_send_part(struct cn_scu *scu, const uint8_t *data, size_t len);
/* (Re)arms the timeout for what the SCU now waits for. */
void scu_arm_timer(struct cn_scu *scu, const char *waiting_for);

/* scu_file.c */
/* Reads the meta header of files[current], then of the next ones. */
void scu_file_read_metas(struct cn_scu *scu);
/* Opens files[current] for sending. */
void scu_file_open_for_send(struct cn_scu *scu);
/* Reads the next part of the current data set. */
void scu_file_read_next(struct cn_scu *scu);
/* Closes the open file, if any (asynchronously; holds a ref). */
void scu_file_close(struct cn_scu *scu);

#endif
