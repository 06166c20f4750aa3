/* node/dimse: reassembly of DIMSE messages from P-DATA PDVs (PS3.7 section 8 and
 * PS3.8 Annex E), one receiver per association. Pure: no I/O, no threads.
 *
 * The Upper Layer hands over PDV fragments in arrival order. Command fragments are
 * accumulated (at most CN_DIMSE_COMMAND_MAX_LEN bytes) and decoded when the last one
 * arrives; data set fragments are passed straight through to the caller without being
 * copied or held, so memory stays bounded whatever the size of the object.
 *
 * All functions on one receiver must be called from one thread (the loop thread). */
#ifndef CN_DIMSE_RECEIVER_H
#define CN_DIMSE_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "dimse/command.h"

/* Callbacks, called synchronously from cn_dimse_receiver_pdv. Each returns 0 to go on or
 * a negative value of the caller's choosing, which cn_dimse_receiver_pdv stops at and
 * returns unchanged (the receiver then refuses further input until reset). The receiver
 * must not be freed or reset from inside a callback. */
struct cn_dimse_receiver_ops {
    /* A command set is complete and decoded. cmd is borrowed for the call. When
     * cmd->has_data_set the following data PDVs on pc_id are its data set. */
    int (*command)(void *user, uint8_t pc_id, const struct cn_dimse_command *cmd);
    /* A command set is complete but could not be decoded (rc a negative cn_dimse_error,
     * message a one-line reason). After the callback the receiver stops and
     * cn_dimse_receiver_pdv returns rc: the association should be aborted. May be NULL. */
    void (*command_error)(void *user, uint8_t pc_id, int rc, const char *message);
    /* A fragment of the data set: data[len] borrowed for the call only (it points into
     * the caller's PDU buffer). len may be 0. */
    int (*data)(void *user, uint8_t pc_id, const uint8_t *data, size_t len);
    /* The fragment just passed to data() was the last one of the data set. */
    int (*data_complete)(void *user, uint8_t pc_id);
};

enum cn_dimse_receiver_state {
    CN_DIMSE_RECEIVER_IDLE = 0,       /* expecting the first fragment of a command */
    CN_DIMSE_RECEIVER_COMMAND = 1,    /* inside a fragmented command */
    CN_DIMSE_RECEIVER_DATA = 2,       /* expecting (more) data set fragments */
    CN_DIMSE_RECEIVER_FAILED = 3,     /* a protocol error was reported; input refused */
};

#define CN_DIMSE_RECEIVER_MESSAGE_SIZE 160

/* Caller-allocated; treat the fields as private. */
struct cn_dimse_receiver {
    const struct cn_dimse_receiver_ops *ops;
    void *user;
    enum cn_dimse_receiver_state state;
    uint8_t pc_id;          /* context of the command being assembled / its data set */
    uint8_t *command_buf;   /* grows on demand up to CN_DIMSE_COMMAND_MAX_LEN */
    size_t command_len;
    size_t command_cap;
    int previous_without_data_set; /* the last complete command announced no data set */
    char message[CN_DIMSE_RECEIVER_MESSAGE_SIZE]; /* why the last error happened */
};

/* Initialises r (allocates nothing). ops and user are borrowed for the receiver's life. */
void cn_dimse_receiver_init(struct cn_dimse_receiver *r, const struct cn_dimse_receiver_ops *ops,
                            void *user);

/* Feeds one PDV (PS3.8 9.3.5.1: is_command and is_last are bits 0 and 1 of its message
 * control header; data[len] is the PDV value after that header, borrowed for the call).
 * Returns 0, a negative cn_dimse_error for a protocol violation by the peer (the reason is
 * in cn_dimse_receiver_message; the association should be aborted), or the negative value
 * a callback returned. After any error the receiver is FAILED and returns
 * CN_DIMSE_EINVAL until cn_dimse_receiver_reset. */
int cn_dimse_receiver_pdv(struct cn_dimse_receiver *r, uint8_t pc_id, int is_command,
                          int is_last, const uint8_t *data, size_t len);

enum cn_dimse_receiver_state cn_dimse_receiver_get_state(const struct cn_dimse_receiver *r);

/* The reason for the last error, "" if none. Owned by r. */
const char *cn_dimse_receiver_message(const struct cn_dimse_receiver *r);

/* Back to IDLE, forgetting any partial command (keeps the buffer for reuse). */
void cn_dimse_receiver_reset(struct cn_dimse_receiver *r);

/* Releases the command buffer. r may be initialised again afterwards. */
void cn_dimse_receiver_free(struct cn_dimse_receiver *r);

#endif
