/* The C-STORE SCU: glue between node/net (TCP), node/ul (the requestor's association),
 * node/dimse (command sets, response reassembly) and scu_file.c (the files). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dimse/command.h"
#include "net/tcp.h"
#include "send/scu_internal.h"
#include "ul/negotiate.h"
#include "util/log.h"

#define DEFAULT_CALLING_AE "CALCNODE"
/* A C-STORE-RQ command set is well under this (two UIDs of 64 and a few integers). */
#define COMMAND_BUFFER_LEN 512u

const char *cn_scu_outcome_name(enum cn_scu_outcome outcome)
{
    switch (outcome) {
    case CN_SCU_SENT:
        return "sent";
    case CN_SCU_TRANSIENT:
        return "transient";
    case CN_SCU_PERMANENT:
        return "permanent";
    }
    return "unknown";
}

enum cn_scu_outcome cn_scu_status_outcome(uint16_t status)
{
    enum cn_dimse_status_class c = cn_dimse_status_class(status);
    if (c == CN_DIMSE_STATUS_CLASS_SUCCESS || c == CN_DIMSE_STATUS_CLASS_WARNING)
        return CN_SCU_SENT;
    /* PS3.4 Table B.2-1: A7xx Refused: Out of Resources (may clear); A9xx Data Set does
     * not match SOP Class and Cxxx Cannot understand (the same bytes fail again);
     * PS3.7 C.5.20: 0122 Refused: SOP Class not supported. */
    if ((status & 0xFF00u) == CN_DIMSE_STATUS_OUT_OF_RESOURCES)
        return CN_SCU_TRANSIENT;
    if ((status & 0xFF00u) == CN_DIMSE_STATUS_DATA_SET_DOES_NOT_MATCH_SOP_CLASS ||
        (status & 0xF000u) == CN_DIMSE_STATUS_CANNOT_UNDERSTAND ||
        status == CN_DIMSE_STATUS_SOP_CLASS_NOT_SUPPORTED)
        return CN_SCU_PERMANENT;
    /* anything else (Cancel, processing failure, unknown codes): retried, bounded by the
     * caller's attempts */
    return CN_SCU_TRANSIENT;
}

/* ---- lifetime ---- */

static void complete(struct cn_scu *scu)
{
    for (size_t i = 0; i < scu->count; i++) {
        struct scu_file *f = &scu->files[i];
        if (!f->finished) {
            f->r.outcome = scu->has_failure ? scu->failure_outcome : CN_SCU_TRANSIENT;
            snprintf(f->r.error, sizeof f->r.error, "%s",
                     scu->has_failure ? scu->failure : "association ended before a response");
        }
        scu->results[i] = f->r;
    }
    scu->done(scu->results, scu->count, scu->user);
    cn_dimse_receiver_free(&scu->receiver);
    free(scu->results);
    free(scu->chunk);
    free(scu->files);
    free(scu);
}

void scu_ref(struct cn_scu *scu)
{
    scu->refs++;
}

void scu_unref(struct cn_scu *scu)
{
    if (--scu->refs == 0)
        complete(scu);
}

void scu_set_failure(struct cn_scu *scu, enum cn_scu_outcome outcome, const char *fmt, ...)
{
    if (scu->has_failure)
        return;
    scu->has_failure = 1;
    scu->failure_outcome = outcome;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(scu->failure, sizeof scu->failure, fmt, ap);
    va_end(ap);
}

void scu_file_finish(struct cn_scu *scu, enum cn_scu_outcome outcome, const char *fmt, ...)
{
    struct scu_file *f = &scu->files[scu->current];
    if (f->finished)
        return;
    f->finished = 1;
    f->r.outcome = outcome;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->r.error, sizeof f->r.error, fmt, ap);
    va_end(ap);
}

static void on_timer_closed(uv_handle_t *handle)
{
    scu_unref(handle->data);
}

void scu_finish(struct cn_scu *scu)
{
    if (scu->finishing)
        return;
    scu->finishing = 1;
    uv_timer_stop(&scu->timer);
    if (scu->assoc != NULL) {
        enum cn_fsm_state state = cn_assoc_state(scu->assoc);
        if (state != STA1 && state != STA13)
            cn_assoc_abort(scu->assoc, CN_ABORT_REASON_NOT_SPECIFIED);
    }
    if (scu->assoc != NULL) { /* the abort may have closed it already */
        cn_assoc_free(scu->assoc);
        scu->assoc = NULL;
    }
    if (scu->conn != NULL)
        cn_tcp_close(scu->conn, 1); /* graceful: an A-ABORT or A-RELEASE-RP gets out */
    if (!uv_is_closing((uv_handle_t *)&scu->timer))
        uv_close((uv_handle_t *)&scu->timer, on_timer_closed);
    if (!uv_is_closing((uv_handle_t *)&scu->artim))
        uv_close((uv_handle_t *)&scu->artim, on_timer_closed);
    if (scu->fs_step == SCU_FS_IDLE)
        scu_file_close(scu); /* otherwise the request's callback closes it */
    scu_unref(scu);
}

static void on_timeout(uv_timer_t *timer)
{
    struct cn_scu *scu = timer->data;
    scu_set_failure(scu, CN_SCU_TRANSIENT, "timed out after %u ms waiting for %s from %s at %s:%u",
                    scu->timeout_ms, scu->waiting_for, scu->called_ae, scu->host, scu->port);
    cn_log_warning("C-STORE SCU to %s at %s:%u: %s", scu->called_ae, scu->host, scu->port,
                   scu->failure);
    scu_finish(scu);
}

void scu_arm_timer(struct cn_scu *scu, const char *waiting_for)
{
    if (scu->finishing)
        return;
    scu->waiting_for = waiting_for;
    uv_timer_start(&scu->timer, on_timeout, scu->timeout_ms, 0);
}

/* ---- the files, one C-STORE at a time ---- */

void scu_send_next(struct cn_scu *scu)
{
    if (scu->finishing)
        return;
    while (scu->current < scu->count && scu->files[scu->current].finished)
        scu->current++;
    if (scu->current < scu->count) {
        scu_file_open_for_send(scu);
        return;
    }
    /* PS3.8 7.2: every file answered, release */
    if (scu->assoc != NULL && cn_assoc_state(scu->assoc) == STA6 &&
        cn_assoc_release_request(scu->assoc) == 0) {
        scu_arm_timer(scu, "A-RELEASE-RP");
        return;
    }
    scu_finish(scu);
}

static void store_complete(struct cn_scu *scu)
{
    scu->rsp_received = 0;
    scu->streaming = 0;
    uv_timer_stop(&scu->timer);
    scu->current++;
    scu_send_next(scu);
}

static void send_failed(struct cn_scu *scu, int rc)
{
    scu_set_failure(scu, CN_SCU_TRANSIENT, "could not send to %s: %s", scu->called_ae,
                    cn_ul_strerror(rc));
    scu_finish(scu);
}

void scu_begin_store(struct cn_scu *scu)
{
    struct scu_file *f = &scu->files[scu->current];
    uint8_t command[COMMAND_BUFFER_LEN];
    scu->message_id++;
    if (scu->message_id == 0)
        scu->message_id = 1;
    /* PS3.7 9.3.1.1: C-STORE-RQ, Affected SOP Class and Instance from the meta header */
    int n = cn_dimse_encode_c_store_rq(command, sizeof command, scu->message_id, f->r.sop_class_uid,
                                       f->r.sop_instance_uid, CN_DIMSE_PRIORITY_MEDIUM, NULL, 0);
    if (n < 0) {
        scu_file_finish(scu, CN_SCU_PERMANENT, "could not encode the C-STORE-RQ for \"%s\": %s",
                        f->r.path, cn_dimse_strerror(n));
        scu_file_close(scu);
        scu_send_next(scu);
        return;
    }
    int rc = cn_assoc_send_pdata(scu->assoc, f->pc_id, 1, command, (size_t)n);
    if (rc != 0) {
        send_failed(scu, rc);
        return;
    }
    cn_log_debug("C-STORE-RQ %u to %s: %s (%llu bytes)", scu->message_id, scu->called_ae,
                 f->r.sop_instance_uid, (unsigned long long)scu->remaining);
    scu->streaming = 1;
    scu->rsp_received = 0;
    scu->waiting_drain = 0;
    scu_arm_timer(scu, "progress writing the data set");
    if (scu->remaining == 0) {
        scu_file_close(scu);
        scu_send_part(scu, NULL, 0);
    } else {
        scu_file_read_next(scu);
    }
}

void scu_send_part(struct cn_scu *scu, const uint8_t *data, size_t len)
{
    if (scu->finishing)
        return;
    struct scu_file *f = &scu->files[scu->current];
    int last = scu->remaining == 0;
    int rc = cn_assoc_send_pdata_part(scu->assoc, f->pc_id, 0, last, data, len);
    if (rc != 0) {
        send_failed(scu, rc);
        return;
    }
    if (last) {
        scu->streaming = 0;
        if (scu->rsp_received)
            store_complete(scu);
        else
            scu_arm_timer(scu, "C-STORE-RSP");
        return;
    }
    scu_arm_timer(scu, "progress writing the data set");
    if (scu->conn != NULL && cn_tcp_pending_write_len(scu->conn) > CN_SCU_WRITE_HIGH_WATER_LEN)
        scu->waiting_drain = 1;
    else
        scu_file_read_next(scu);
}

/* ---- DIMSE: the responses ---- */

__attribute__((format(printf, 2, 3))) static int protocol_error(struct cn_scu *scu, const char *fmt,
                                                                ...)
{
    if (!scu->has_failure) {
        va_list ap;
        va_start(ap, fmt);
        char message[CN_SCU_ERROR_SIZE];
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        scu_set_failure(scu, CN_SCU_TRANSIENT, "protocol error by %s: %s", scu->called_ae, message);
        cn_log_warning("C-STORE SCU to %s at %s:%u aborting: %s", scu->called_ae, scu->host,
                       scu->port, scu->failure);
    }
    scu_finish(scu);
    return -1;
}

static int on_command(void *user, uint8_t pc_id, const struct cn_dimse_command *cmd)
{
    (void)pc_id;
    struct cn_scu *scu = user;
    if (scu->finishing)
        return -1;
    if (!(cmd->present & CN_DIMSE_HAS_COMMAND_FIELD) || cmd->command_field != CN_DIMSE_C_STORE_RSP)
        return protocol_error(scu, "unexpected DIMSE command 0x%04X", cmd->command_field);
    if (!scu->sending_phase || scu->current >= scu->count ||
        (!scu->streaming && scu->files[scu->current].r.has_status) || scu->rsp_received ||
        scu->fs_step == SCU_FS_SEND_OPEN || scu->fs_step == SCU_FS_SEND_STAT)
        return protocol_error(scu, "C-STORE-RSP with no C-STORE-RQ outstanding");
    struct scu_file *f = &scu->files[scu->current];
    if (!(cmd->present & CN_DIMSE_HAS_MESSAGE_ID_BEING_RESPONDED_TO) ||
        cmd->message_id_being_responded_to != scu->message_id)
        return protocol_error(scu, "C-STORE-RSP answers message %u, not %u",
                              cmd->message_id_being_responded_to, scu->message_id);
    if (!(cmd->present & CN_DIMSE_HAS_STATUS))
        return protocol_error(scu, "C-STORE-RSP without a Status");
    if (cmd->has_data_set)
        return protocol_error(scu, "C-STORE-RSP announces a data set");
    if ((cmd->present & CN_DIMSE_HAS_AFFECTED_SOP_INSTANCE_UID) &&
        cmd->affected_sop_instance_uid[0] != '\0' &&
        strcmp(cmd->affected_sop_instance_uid, f->r.sop_instance_uid) != 0)
        return protocol_error(scu, "C-STORE-RSP for SOP Instance %s, not %s",
                              cmd->affected_sop_instance_uid, f->r.sop_instance_uid);
    enum cn_dimse_status_class c = cn_dimse_status_class(cmd->status);
    if (c == CN_DIMSE_STATUS_CLASS_PENDING)
        return protocol_error(scu, "C-STORE-RSP with pending status 0x%04X", cmd->status);

    f->r.has_status = 1;
    f->r.status = cmd->status;
    const char *comment = (cmd->present & CN_DIMSE_HAS_ERROR_COMMENT) ? cmd->error_comment : "";
    enum cn_scu_outcome outcome = cn_scu_status_outcome(cmd->status);
    if (cmd->status == CN_DIMSE_STATUS_SUCCESS)
        scu_file_finish(scu, outcome, "%s", "");
    else
        scu_file_finish(scu, outcome, "%s status 0x%04X from %s%s%s",
                        c == CN_DIMSE_STATUS_CLASS_WARNING ? "warning" : "failure", cmd->status,
                        scu->called_ae, comment[0] ? ": " : "", comment);
    cn_log_debug("C-STORE-RSP %u from %s: status 0x%04X %s", scu->message_id, scu->called_ae,
                 cmd->status, comment);
    if (scu->streaming)
        scu->rsp_received = 1; /* answered early: finish writing the message first */
    else
        store_complete(scu);
    return 0;
}

static void on_command_error(void *user, uint8_t pc_id, int rc, const char *message)
{
    (void)pc_id;
    (void)rc;
    struct cn_scu *scu = user;
    protocol_error(scu, "undecodable command set: %s", message);
}

static int on_data(void *user, uint8_t pc_id, const uint8_t *data, size_t len)
{
    (void)pc_id;
    (void)data;
    (void)len;
    return protocol_error(user, "a data set where none was due");
}

static int on_data_complete(void *user, uint8_t pc_id)
{
    (void)user;
    (void)pc_id;
    return 0;
}

static const struct cn_dimse_receiver_ops receiver_ops = {
    .command = on_command,
    .command_error = on_command_error,
    .data = on_data,
    .data_complete = on_data_complete,
};

/* ---- node/net callbacks ---- */

static void on_tcp_data(void *user, const uint8_t *data, size_t len)
{
    struct cn_scu *scu = user;
    if (scu->assoc != NULL)
        cn_assoc_receive(scu->assoc, data, len);
}

static void on_tcp_transport_closed(void *user, int status)
{
    struct cn_scu *scu = user;
    if (status == UV_EOF)
        scu_set_failure(scu, CN_SCU_TRANSIENT, "connection closed by %s at %s:%u", scu->called_ae,
                        scu->host, scu->port);
    else
        scu_set_failure(scu, CN_SCU_TRANSIENT, "connection to %s at %s:%u lost: %s", scu->called_ae,
                        scu->host, scu->port,
                        scu->conn != NULL && cn_tcp_tls_error(scu->conn)[0]
                            ? cn_tcp_tls_error(scu->conn)
                            : uv_strerror(status));
    if (scu->assoc != NULL)
        cn_assoc_transport_closed(scu->assoc);
    else if (scu->conn != NULL)
        cn_tcp_close(scu->conn, 0);
}

static void on_tcp_connected(void *user, int status)
{
    struct cn_scu *scu = user;
    if (status != 0) {
        const char *tls_error = scu->conn != NULL ? cn_tcp_tls_error(scu->conn) : "";
        scu_set_failure(scu, CN_SCU_TRANSIENT, "could not connect to %s at %s:%u: %s%s",
                        scu->called_ae, scu->host, scu->port,
                        tls_error[0] ? "TLS: " : "", tls_error[0] ? tls_error : uv_strerror(status));
        return; /* on_closed follows */
    }
    scu_arm_timer(scu, "A-ASSOCIATE-AC");
    if (scu->assoc != NULL)
        cn_assoc_transport_connected(scu->assoc); /* AE-2: A-ASSOCIATE-RQ */
}

static void on_tcp_drained(void *user)
{
    struct cn_scu *scu = user;
    if (scu->waiting_drain && !scu->finishing) {
        scu->waiting_drain = 0;
        scu_file_read_next(scu);
    }
}

static void on_tcp_closed(void *user)
{
    struct cn_scu *scu = user;
    scu->conn = NULL;
    if (scu->assoc != NULL)
        cn_assoc_transport_closed(scu->assoc); /* EVT17 */
    if (!scu->finishing) {
        scu_set_failure(scu, CN_SCU_TRANSIENT, "connection to %s at %s:%u closed", scu->called_ae,
                        scu->host, scu->port);
        scu_finish(scu);
    }
    scu_unref(scu);
}

static const struct cn_tcp_conn_ops tcp_ops = {
    .on_data = on_tcp_data,
    .on_transport_closed = on_tcp_transport_closed,
    .on_connected = on_tcp_connected,
    .on_drained = on_tcp_drained,
    .on_closed = on_tcp_closed,
};

/* ---- node/ul callbacks ---- */

static void ul_send(void *user, const uint8_t *bytes, size_t len)
{
    struct cn_scu *scu = user;
    if (scu->conn != NULL && cn_tcp_write(scu->conn, bytes, len) != 0)
        cn_tcp_close(scu->conn, 0); /* the read side reports the loss */
}

static void ul_close_transport(void *user)
{
    struct cn_scu *scu = user;
    if (scu->conn != NULL)
        cn_tcp_close(scu->conn, 1);
}

static void on_artim_expired(uv_timer_t *timer)
{
    struct cn_scu *scu = timer->data;
    if (scu->assoc != NULL)
        cn_assoc_timer_expired(scu->assoc);
}

static void ul_timer_start(void *user, uint32_t timeout_ms)
{
    struct cn_scu *scu = user;
    if (!uv_is_closing((uv_handle_t *)&scu->artim))
        uv_timer_start(&scu->artim, on_artim_expired, timeout_ms, 0);
}

static void ul_timer_stop(void *user)
{
    struct cn_scu *scu = user;
    uv_timer_stop(&scu->artim);
}

static int ul_associate_indication(void *user, const struct cn_assoc_rq *rq, struct cn_assoc_ac *ac,
                                   struct cn_assoc_rj *rj)
{
    (void)user;
    (void)rq;
    (void)ac;
    /* never called for a requestor; reject should it happen */
    rj->result = CN_RJ_PERMANENT;
    rj->source = CN_RJ_SOURCE_USER;
    rj->reason = CN_RJ_USER_NO_REASON;
    return 1;
}

/* PS3.8 Table 9-21: the reasons of an A-ASSOCIATE-RJ. */
static const char *rj_reason_text(const struct cn_assoc_rj *rj)
{
    switch (rj->source) {
    case CN_RJ_SOURCE_USER:
        switch (rj->reason) {
        case CN_RJ_USER_APPLICATION_CONTEXT_NOT_SUPPORTED:
            return "application context name not supported";
        case CN_RJ_USER_CALLING_AE_NOT_RECOGNIZED:
            return "calling AE title not recognized";
        case CN_RJ_USER_CALLED_AE_NOT_RECOGNIZED:
            return "called AE title not recognized";
        default:
            return "no reason given";
        }
    case CN_RJ_SOURCE_PROVIDER_ACSE:
        return rj->reason == CN_RJ_ACSE_PROTOCOL_VERSION_NOT_SUPPORTED
                   ? "protocol version not supported"
                   : "no reason given";
    case CN_RJ_SOURCE_PROVIDER_PRESENTATION:
        return rj->reason == CN_RJ_PRESENTATION_TEMPORARY_CONGESTION   ? "temporary congestion"
               : rj->reason == CN_RJ_PRESENTATION_LOCAL_LIMIT_EXCEEDED ? "local limit exceeded"
                                                                       : "no reason given";
    default:
        return "unknown source";
    }
}

/* PS3.8 Table 9-18: presentation context results. */
static const char *pc_result_text(uint8_t result)
{
    switch (result) {
    case CN_PC_USER_REJECTION:
        return "user rejection";
    case CN_PC_NO_REASON:
        return "no reason";
    case CN_PC_ABSTRACT_SYNTAX_NOT_SUPPORTED:
        return "abstract syntax not supported";
    case CN_PC_TRANSFER_SYNTAXES_NOT_SUPPORTED:
        return "transfer syntax not supported";
    default:
        return "not answered";
    }
}

static void ul_associate_confirm(void *user, const struct cn_assoc_ac *ac,
                                 const struct cn_assoc_rj *rj)
{
    struct cn_scu *scu = user;
    if (rj != NULL) {
        scu_set_failure(scu, rj->result == CN_RJ_PERMANENT ? CN_SCU_PERMANENT : CN_SCU_TRANSIENT,
                        "association %s rejected by %s at %s:%u: %s (result %u, source %u, "
                        "reason %u)",
                        rj->result == CN_RJ_PERMANENT ? "permanently" : "transiently",
                        scu->called_ae, scu->host, scu->port, rj_reason_text(rj), rj->result,
                        rj->source, rj->reason);
        cn_log_warning("C-STORE SCU: %s", scu->failure);
        return; /* closed follows */
    }
    uv_timer_stop(&scu->timer);
    scu->sending_phase = 1;
    size_t usable = 0;
    for (size_t i = 0; i < scu->count; i++) {
        struct scu_file *f = &scu->files[i];
        if (f->finished)
            continue;
        if (cn_negotiate_find_accepted(ac, f->pc_id) != NULL) {
            usable++;
            continue;
        }
        uint8_t result = 0xFF;
        for (size_t k = 0; k < ac->pc_count; k++)
            if (ac->pcs[k].id == f->pc_id)
                result = ac->pcs[k].result;
        f->finished = 1;
        f->r.outcome = CN_SCU_PERMANENT;
        snprintf(f->r.error, sizeof f->r.error,
                 "%s rejected the presentation context for SOP class %s in transfer syntax "
                 "%s: %s",
                 scu->called_ae, f->r.sop_class_uid, f->r.transfer_syntax_uid,
                 pc_result_text(result));
    }
    cn_log_info("C-STORE SCU: association with %s at %s:%u established, %zu of %zu files to "
                "send",
                scu->called_ae, scu->host, scu->port, usable, scu->count);
    scu->current = 0;
    scu_send_next(scu);
}

static int ul_pdv_indication(void *user, uint8_t pc_id, int is_command, int is_last,
                             const uint8_t *data, size_t len)
{
    struct cn_scu *scu = user;
    if (scu->finishing)
        return 0;
    int rc = cn_dimse_receiver_pdv(&scu->receiver, pc_id, is_command, is_last, data, len);
    if (rc < 0 && !scu->finishing)
        protocol_error(scu, "%s",
                       cn_dimse_receiver_message(&scu->receiver)[0]
                           ? cn_dimse_receiver_message(&scu->receiver)
                           : cn_dimse_strerror(rc));
    return 0;
}

static void ul_release_indication(void *user)
{
    struct cn_scu *scu = user;
    scu_set_failure(scu, CN_SCU_TRANSIENT,
                    "%s released the association before every file was "
                    "answered",
                    scu->called_ae);
    if (scu->assoc != NULL)
        cn_assoc_release_response(scu->assoc);
}

static void ul_release_confirm(void *user)
{
    (void)user; /* closed follows */
}

static void ul_abort_indication(void *user, int source, int reason)
{
    struct cn_scu *scu = user;
    scu_set_failure(scu, CN_SCU_TRANSIENT, "association aborted by %s (source %d, reason %d)",
                    source == CN_ABORT_SOURCE_USER ? scu->called_ae : "the service provider",
                    source, reason);
}

static void ul_closed(void *user)
{
    struct cn_scu *scu = user;
    cn_assoc_free(scu->assoc);
    scu->assoc = NULL;
    if (!scu->finishing) {
        scu_set_failure(scu, CN_SCU_TRANSIENT,
                        "association with %s closed before every file "
                        "was answered",
                        scu->called_ae);
        scu_finish(scu);
    }
}

static const struct cn_assoc_ops ul_ops = {
    .send = ul_send,
    .close_transport = ul_close_transport,
    .timer_start = ul_timer_start,
    .timer_stop = ul_timer_stop,
    .associate_indication = ul_associate_indication,
    .associate_confirm = ul_associate_confirm,
    .pdv_indication = ul_pdv_indication,
    .release_indication = ul_release_indication,
    .release_confirm = ul_release_confirm,
    .abort_indication = ul_abort_indication,
    .closed = ul_closed,
};

/* ---- start ---- */

void scu_meta_done(struct cn_scu *scu)
{
    /* one context per distinct (SOP class, transfer syntax), exactly the file's syntax */
    struct cn_proposal *proposals = calloc(scu->count, sizeof *proposals);
    const char **syntaxes = calloc(scu->count, sizeof *syntaxes);
    struct cn_assoc_rq *rq = cn_assoc_rq_new();
    size_t n = 0;
    if (proposals == NULL || syntaxes == NULL || rq == NULL) {
        scu_set_failure(scu, CN_SCU_TRANSIENT, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < scu->count; i++) {
        struct scu_file *f = &scu->files[i];
        if (f->finished)
            continue;
        size_t k = 0;
        while (k < n && !(strcmp(proposals[k].abstract_syntax, f->r.sop_class_uid) == 0 &&
                          strcmp(syntaxes[k], f->r.transfer_syntax_uid) == 0))
            k++;
        if (k == n) {
            syntaxes[n] = f->r.transfer_syntax_uid;
            proposals[n].abstract_syntax = f->r.sop_class_uid;
            proposals[n].transfer_syntaxes = &syntaxes[n];
            proposals[n].ts_count = 1;
            n++;
        }
        f->pc_id = (uint8_t)(2 * k + 1); /* cn_negotiate_build_rq numbers 1, 3, 5, ... */
    }
    if (n == 0)
        goto out; /* nothing readable: every file has its outcome */
    int rc = cn_negotiate_build_rq(&scu->assoc_config, scu->called_ae, proposals, n, rq);
    if (rc != 0) {
        scu_set_failure(scu, CN_SCU_PERMANENT, "could not build the A-ASSOCIATE-RQ: %s",
                        cn_ul_strerror(rc));
        goto out;
    }
    scu->assoc = cn_assoc_new(CN_ASSOC_REQUESTOR, &scu->assoc_config, &ul_ops, scu);
    if (scu->assoc == NULL || cn_assoc_request(scu->assoc, rq) != 0) {
        scu_set_failure(scu, CN_SCU_TRANSIENT, "could not start an association");
        goto out;
    }
    free(proposals);
    free(syntaxes);
    free(rq);
    scu_arm_timer(scu, "the TCP connection");
    scu_ref(scu); /* the connection, until on_closed */
    rc = scu->tls != NULL ? cn_tcp_connect_tls(scu->loop, scu->host, scu->port, scu->tls,
                                               &tcp_ops, scu, &scu->conn)
                          : cn_tcp_connect(scu->loop, scu->host, scu->port, &tcp_ops, scu,
                                           &scu->conn);
    if (rc != 0) {
        scu_unref(scu);
        scu->conn = NULL;
        scu_set_failure(scu, CN_SCU_TRANSIENT, "could not connect to %s at %s:%u: %s",
                        scu->called_ae, scu->host, scu->port, uv_strerror(rc));
        scu_finish(scu);
    }
    return;
out:
    free(proposals);
    free(syntaxes);
    free(rq);
    scu_finish(scu);
}

int cn_scu_start(uv_loop_t *loop, const struct cn_scu_options *options, const char *const *paths,
                 size_t count, cn_scu_done_cb done, void *user, struct cn_scu **out)
{
    if (loop == NULL || options == NULL || paths == NULL || done == NULL || count == 0 ||
        count > CN_SCU_MAX_FILES || options->called_ae == NULL || options->host == NULL ||
        options->called_ae[0] == '\0' || strlen(options->called_ae) > CN_AE_TITLE_LEN ||
        options->host[0] == '\0' || strlen(options->host) >= CN_SCU_HOST_SIZE ||
        (options->calling_ae != NULL && strlen(options->calling_ae) > CN_AE_TITLE_LEN))
        return UV_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (paths[i] == NULL)
            return UV_EINVAL;
    struct cn_scu *scu = calloc(1, sizeof *scu);
    if (scu == NULL)
        return UV_ENOMEM;
    scu->files = calloc(count, sizeof *scu->files);
    scu->results = calloc(count, sizeof *scu->results);
    scu->chunk = malloc(CN_SCU_CHUNK_LEN);
    if (scu->files == NULL || scu->results == NULL || scu->chunk == NULL) {
        free(scu->files);
        free(scu->results);
        free(scu->chunk);
        free(scu);
        return UV_ENOMEM;
    }
    scu->loop = loop;
    scu->done = done;
    scu->user = user;
    scu->count = count;
    scu->fd = -1;
    snprintf(scu->called_ae, sizeof scu->called_ae, "%s", options->called_ae);
    snprintf(scu->host, sizeof scu->host, "%s", options->host);
    scu->port = options->port;
    scu->tls = options->tls;
    scu->timeout_ms = options->timeout_ms ? options->timeout_ms : CN_SCU_DEFAULT_TIMEOUT_MS;
    cn_assoc_config_init(&scu->assoc_config);
    snprintf(scu->assoc_config.ae_title, sizeof scu->assoc_config.ae_title, "%s",
             options->calling_ae != NULL && options->calling_ae[0] != '\0' ? options->calling_ae
                                                                           : DEFAULT_CALLING_AE);
    if (options->max_pdu_len != 0)
        scu->assoc_config.max_pdu_len = options->max_pdu_len;
    for (size_t i = 0; i < count; i++)
        scu->files[i].r.path = paths[i];
    cn_dimse_receiver_init(&scu->receiver, &receiver_ops, scu);
    uv_timer_init(loop, &scu->timer);
    uv_timer_init(loop, &scu->artim);
    scu->timer.data = scu;
    scu->artim.data = scu;
    scu->refs = 3; /* the batch and the two timers */
    if (out != NULL)
        *out = scu;
    scu_file_read_metas(scu);
    return 0;
}

void cn_scu_cancel(struct cn_scu *scu)
{
    scu_set_failure(scu, CN_SCU_TRANSIENT, "cancelled");
    scu_finish(scu);
}
