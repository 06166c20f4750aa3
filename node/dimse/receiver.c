/* PDV reassembly: PS3.8 Annex E.2 (message control header) and PS3.7 section 8.2
 * (a message is a command set, optionally followed by a data set, both in PDVs of the
 * same presentation context, the command fragments first). */
#include "dimse/receiver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First allocation for a command buffer; most command sets are under 256 bytes. */
#define COMMAND_BUF_INITIAL_LEN 512u

void cn_dimse_receiver_init(struct cn_dimse_receiver *r, const struct cn_dimse_receiver_ops *ops,
                            void *user)
{
    memset(r, 0, sizeof *r);
    r->ops = ops;
    r->user = user;
    r->state = CN_DIMSE_RECEIVER_IDLE;
}

static int protocol_error(struct cn_dimse_receiver *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int protocol_error(struct cn_dimse_receiver *r, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->state = CN_DIMSE_RECEIVER_FAILED;
    return rc;
}

static int callback_failed(struct cn_dimse_receiver *r, int rc)
{
    snprintf(r->message, sizeof r->message, "callback returned %d", rc);
    r->state = CN_DIMSE_RECEIVER_FAILED;
    return rc;
}

static int append_command(struct cn_dimse_receiver *r, const uint8_t *data, size_t len)
{
    if (len > CN_DIMSE_COMMAND_MAX_LEN - r->command_len)
        return protocol_error(r, CN_DIMSE_ECOMMAND_TOO_LONG,
                              "command set exceeds the limit of %u bytes",
                              CN_DIMSE_COMMAND_MAX_LEN);
    size_t need = r->command_len + len;
    if (need > r->command_cap) {
        size_t cap = r->command_cap ? r->command_cap : COMMAND_BUF_INITIAL_LEN;
        while (cap < need)
            cap *= 2;
        if (cap > CN_DIMSE_COMMAND_MAX_LEN)
            cap = CN_DIMSE_COMMAND_MAX_LEN;
        uint8_t *grown = realloc(r->command_buf, cap);
        if (grown == NULL)
            return protocol_error(r, CN_DIMSE_ENOMEM, "out of memory for a command set of %zu bytes",
                                  need);
        r->command_buf = grown;
        r->command_cap = cap;
    }
    if (len > 0)
        memcpy(r->command_buf + r->command_len, data, len);
    r->command_len += len;
    return 0;
}

static int complete_command(struct cn_dimse_receiver *r, uint8_t pc_id)
{
    struct cn_dimse_command cmd;
    char err[CN_DIMSE_RECEIVER_MESSAGE_SIZE];
    int rc = cn_dimse_command_decode(r->command_buf, r->command_len, &cmd, err, sizeof err);
    r->command_len = 0;
    if (rc < 0) {
        protocol_error(r, rc, "could not decode command set: %s", err);
        if (r->ops->command_error != NULL)
            r->ops->command_error(r->user, pc_id, rc, r->message);
        return rc;
    }
    r->state = cmd.has_data_set ? CN_DIMSE_RECEIVER_DATA : CN_DIMSE_RECEIVER_IDLE;
    r->previous_without_data_set = !cmd.has_data_set;
    r->pc_id = pc_id;
    rc = r->ops->command(r->user, pc_id, &cmd);
    if (rc < 0)
        return callback_failed(r, rc);
    return 0;
}

int cn_dimse_receiver_pdv(struct cn_dimse_receiver *r, uint8_t pc_id, int is_command,
                          int is_last, const uint8_t *data, size_t len)
{
    if (r->state == CN_DIMSE_RECEIVER_FAILED)
        return CN_DIMSE_EINVAL;
    if (data == NULL && len > 0)
        return protocol_error(r, CN_DIMSE_EINVAL, "fragment without data");

    if (is_command) {
        switch (r->state) {
        case CN_DIMSE_RECEIVER_DATA:
            return protocol_error(r, CN_DIMSE_ECOMMAND_DURING_DATA,
                                  "command fragment on presentation context %u while the data "
                                  "set of context %u is expected",
                                  pc_id, r->pc_id);
        case CN_DIMSE_RECEIVER_COMMAND:
            if (pc_id != r->pc_id)
                return protocol_error(r, CN_DIMSE_ECOMMAND_CONTEXT,
                                      "command fragment on presentation context %u inside a "
                                      "command on context %u",
                                      pc_id, r->pc_id);
            break;
        case CN_DIMSE_RECEIVER_IDLE:
            r->previous_without_data_set = 0;
            r->pc_id = pc_id;
            r->command_len = 0;
            r->state = CN_DIMSE_RECEIVER_COMMAND;
            break;
        case CN_DIMSE_RECEIVER_FAILED:
            return CN_DIMSE_EINVAL;
        }
        int rc = append_command(r, data, len);
        if (rc < 0)
            return rc;
        return is_last ? complete_command(r, pc_id) : 0;
    }

    switch (r->state) {
    case CN_DIMSE_RECEIVER_IDLE:
        if (r->previous_without_data_set)
            return protocol_error(r, CN_DIMSE_EUNEXPECTED_DATA,
                                  "data set fragment on presentation context %u after a command "
                                  "with Command Data Set Type 0101 (no data set)",
                                  pc_id);
        return protocol_error(r, CN_DIMSE_EDATA_BEFORE_COMMAND,
                              "data set fragment on presentation context %u with no command "
                              "pending",
                              pc_id);
    case CN_DIMSE_RECEIVER_COMMAND:
        return protocol_error(r, CN_DIMSE_EDATA_BEFORE_COMMAND,
                              "data set fragment on presentation context %u before the last "
                              "command fragment",
                              pc_id);
    case CN_DIMSE_RECEIVER_DATA:
        break;
    case CN_DIMSE_RECEIVER_FAILED:
        return CN_DIMSE_EINVAL;
    }
    if (pc_id != r->pc_id)
        return protocol_error(r, CN_DIMSE_EDATA_CONTEXT,
                              "data set fragment on presentation context %u, its command was on "
                              "context %u",
                              pc_id, r->pc_id);
    int rc = r->ops->data(r->user, pc_id, data, len);
    if (rc < 0)
        return callback_failed(r, rc);
    if (is_last) {
        r->state = CN_DIMSE_RECEIVER_IDLE;
        rc = r->ops->data_complete(r->user, pc_id);
        if (rc < 0)
            return callback_failed(r, rc);
    }
    return 0;
}

enum cn_dimse_receiver_state cn_dimse_receiver_get_state(const struct cn_dimse_receiver *r)
{
    return r->state;
}

const char *cn_dimse_receiver_message(const struct cn_dimse_receiver *r)
{
    return r->message;
}

void cn_dimse_receiver_reset(struct cn_dimse_receiver *r)
{
    r->state = CN_DIMSE_RECEIVER_IDLE;
    r->command_len = 0;
    r->previous_without_data_set = 0;
    r->message[0] = '\0';
}

void cn_dimse_receiver_free(struct cn_dimse_receiver *r)
{
    free(r->command_buf);
    r->command_buf = NULL;
    r->command_len = 0;
    r->command_cap = 0;
}
