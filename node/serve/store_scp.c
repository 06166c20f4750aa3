/* The Verification and Storage SCP of a session (PS3.4 Annexes A and B, PS3.7 9.1.1 and
 * 9.1.5): C-ECHO answered at once; C-STORE streamed to a spool file and answered only
 * when the object is durable under its final name and catalogued (DESIGN.md section 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/catalogue.h"
#include "dimse/command.h"
#include "serve/disk_watch.h"
#include "serve/internal.h"
#include "store/spool.h"
#include "ul/assoc.h"
#include "ul/negotiate.h"
#include "util/log.h"

#define VERIFICATION_SOP_CLASS_UID "1.2.840.10008.1.1"
#define RESPONSE_MAX_LEN 512u
#define BYTES_PER_MIB (1024ull * 1024ull) /* the unit of max_object_size_mb */

/* The accepted presentation context pc_id of the session, or NULL. */
static const struct cn_pc_ac *accepted_context(const struct cn_session *s, uint8_t pc_id)
{
    const struct cn_assoc_ac *ac = s->assoc ? cn_assoc_accepted(s->assoc) : NULL;
    return ac ? cn_negotiate_find_accepted(ac, pc_id) : NULL;
}

static void set_comment(struct cn_store_op *op, const char *text)
{
    /* (0000,0902) is LO: at most 64 characters */
    snprintf(op->error_comment, sizeof op->error_comment, "%.64s", text);
}

static void respond(struct cn_store_op *op, uint16_t status)
{
    struct cn_session *s = op->session;
    if (op->responded)
        return;
    op->responded = 1;
    uint8_t rsp[RESPONSE_MAX_LEN];
    int len = cn_dimse_encode_c_store_rsp(rsp, sizeof rsp, op->message_id, op->sop_class_uid,
                                          op->sop_instance_uid, status,
                                          status == CN_DIMSE_STATUS_SUCCESS ? NULL
                                                                            : op->error_comment);
    if (len < 0 || cn_session_send_command(s, op->pc_id, rsp, (size_t)len) != 0) {
        cn_log_warning("[assoc %llu] could not answer C-STORE of %s (status %04X): "
                       "association gone",
                       (unsigned long long)s->id, op->sop_instance_uid, status);
        return;
    }
    if (status != CN_DIMSE_STATUS_SUCCESS)
        cn_log_warning("[assoc %llu] C-STORE %s from %s failed with status %04X: %s",
                       (unsigned long long)s->id, op->sop_instance_uid, s->calling_ae, status,
                       op->error_comment);
}

static void op_done(struct cn_store_op *op, uint16_t status)
{
    struct cn_session *s = op->session;
    if (status != CN_DIMSE_STATUS_SUCCESS)
        s->server->stats.instances_failed++;
    respond(op, status);
    cn_session_op_finished(s, op);
    free(op);
    cn_session_unref(s);
}

/* ---- catalogue ---- */

struct catalogue_request {
    struct cn_store_op *op;
    struct cn_spool_result result;
};

static void on_catalogued(int status, const struct cn_db_store_outcome *outcome,
                          const char *error, void *user)
{
    struct catalogue_request *req = user;
    struct cn_store_op *op = req->op;
    struct cn_session *s = op->session;
    if (status != 0) {
        /* The file is durable but not catalogued: no Success. The peer's retry finds the
         * same bytes (DUPLICATE) and catalogues them then. */
        char comment[128];
        snprintf(comment, sizeof comment, "could not record instance: %s", error);
        set_comment(op, comment);
        cn_log_error("[assoc %llu] could not catalogue %s: %s", (unsigned long long)s->id,
                     req->result.path, error);
        free(req);
        op_done(op, CN_DIMSE_STATUS_OUT_OF_RESOURCES);
        return;
    }
    if (outcome->is_new) {
        s->instances_stored++;
        s->server->stats.instances_stored++;
        if (s->server->disk)
            cn_disk_watch_poke(s->server->disk);
        uint64_t now = uv_hrtime();
        cn_log_info("[assoc %llu] stored %s from %s (%llu bytes, %s; durable in %.1f ms, "
                    "catalogued in %.1f ms)",
                    (unsigned long long)s->id, op->sop_instance_uid, s->calling_ae,
                    (unsigned long long)req->result.size_len, op->transfer_syntax_uid,
                    (double)(op->spool_done_ns - op->data_complete_ns) / 1e6,
                    (double)(now - op->spool_done_ns) / 1e6);
        const struct cn_server_config *config = &s->server->config;
        if (config->instance_stored)
            config->instance_stored(config->instance_stored_user, &req->result.header,
                                    s->calling_ae);
    } else {
        s->server->stats.instances_duplicate++;
        cn_log_info("[assoc %llu] %s from %s already stored", (unsigned long long)s->id,
                    op->sop_instance_uid, s->calling_ae);
    }
    if (s->aborted && s->db_association_id > 0)
        cn_db_mark_aborted(s->server->db, s->db_association_id, op->sop_instance_uid, NULL,
                           NULL);
    free(req);
    op_done(op, CN_DIMSE_STATUS_SUCCESS);
}

static void catalogue(struct catalogue_request *req)
{
    struct cn_store_op *op = req->op;
    struct cn_session *s = op->session;
    const struct cn_dcm_header *h = &req->result.header;
    struct cn_db_instance row = {
        .sop_class_uid = h->sop_class_uid,
        .sop_instance_uid = h->sop_instance_uid,
        .study_instance_uid = h->study_instance_uid,
        .series_instance_uid = h->series_instance_uid,
        .transfer_syntax_uid = op->transfer_syntax_uid,
        .specific_character_set = h->specific_character_set,
        .patient_id = h->patient_id,
        .patient_name = h->patient_name,
        .patient_birth_date = h->patient_birth_date,
        .patient_sex = h->patient_sex,
        .study_date = h->study_date,
        .study_time = h->study_time,
        .accession_number = h->accession_number,
        .study_description = h->study_description,
        .modality = h->modality,
        .series_number = h->series_number,
        .instance_number = h->instance_number,
        .image_laterality = h->image_laterality,
        .view_position = h->view_position,
        .rows = h->rows,
        .columns = h->columns,
        .path = req->result.path,
        .size_bytes = (int64_t)req->result.size_len,
        .sha256 = req->result.sha256_hex,
        .calling_ae = s->calling_ae,
        .called_ae = s->called_ae,
        .association_id = s->db_association_id,
    };
    int rc = cn_db_store_instance(s->server->db, &row, on_catalogued, req);
    if (rc != 0) {
        set_comment(op, "could not queue the catalogue insert");
        free(req);
        op_done(op, CN_DIMSE_STATUS_OUT_OF_RESOURCES);
    }
}

static void on_conflict_recorded(int status, int64_t id, const char *error, void *user)
{
    (void)id;
    struct cn_store_op *op = user;
    if (status != 0) {
        cn_log_error("could not record the conflict for %s: %s", op->sop_instance_uid, error);
        set_comment(op, "could not record conflicting instance");
        op_done(op, CN_DIMSE_STATUS_OUT_OF_RESOURCES);
        return;
    }
    if (op->session->server->config.duplicate_policy == CN_SERVER_REJECT) {
        set_comment(op, "SOP Instance UID already stored with different content");
        op_done(op, CN_DIMSE_STATUS_CANNOT_UNDERSTAND);
        return;
    }
    op_done(op, CN_DIMSE_STATUS_SUCCESS);
}

static void on_spool_done(struct cn_spool *spool, void *user, const struct cn_spool_result *result)
{
    (void)spool;
    struct cn_store_op *op = user;
    struct cn_session *s = op->session;
    op->spool = NULL;
    op->spool_done_ns = uv_hrtime();
    switch (result->outcome) {
    case CN_SPOOL_STORED:
    case CN_SPOOL_DUPLICATE: {
        if (op->failure_status) {
            op_done(op, op->failure_status);
            return;
        }
        struct catalogue_request *req = malloc(sizeof *req);
        if (!req) {
            set_comment(op, "out of memory");
            op_done(op, CN_DIMSE_STATUS_OUT_OF_RESOURCES);
            return;
        }
        req->op = op;
        req->result = *result;
        if (s->db_association_pending) {
            /* catalogue once the association row exists, so the instance names it */
            op->pending_catalogue = req;
            op->next_waiting = s->waiting_for_id;
            s->waiting_for_id = op;
            return;
        }
        catalogue(req);
        return;
    }
    case CN_SPOOL_CONFLICT:
        cn_log_warning("[assoc %llu] %s from %s differs from the stored copy %s; new bytes kept "
                       "at %s",
                       (unsigned long long)s->id, op->sop_instance_uid, s->calling_ae,
                       result->existing_path, result->path);
        if (cn_db_record_conflict(s->server->db, op->sop_instance_uid, result->path,
                                  result->sha256_hex, s->calling_ae, s->db_association_id,
                                  on_conflict_recorded, op) != 0) {
            set_comment(op, "could not record conflicting instance");
            op_done(op, CN_DIMSE_STATUS_OUT_OF_RESOURCES);
        }
        return;
    case CN_SPOOL_ABANDONED:
        cn_log_warning("[assoc %llu] partial %s from %s kept at %s", (unsigned long long)s->id,
                       op->sop_instance_uid, s->calling_ae, result->path);
        set_comment(op, "association ended during the data set");
        op_done(op, CN_DIMSE_STATUS_OUT_OF_RESOURCES);
        return;
    case CN_SPOOL_DISCARDED:
        cn_log_info("[assoc %llu] refused %s from %s discarded (%llu bytes had been spooled)",
                    (unsigned long long)s->id, op->sop_instance_uid, s->calling_ae,
                    (unsigned long long)result->size_len);
        op_done(op, op->failure_status);
        return;
    case CN_SPOOL_FAILED:
    default:
        if (!op->failure_status) {
            op->failure_status = cn_spool_error_status(result->error);
            set_comment(op, result->message);
        }
        cn_log_warning("[assoc %llu] could not store %s from %s: %s", (unsigned long long)s->id,
                       op->sop_instance_uid, s->calling_ae, result->message);
        op_done(op, op->failure_status);
        return;
    }
}

void cn_store_association_known(struct cn_session *s)
{
    struct cn_store_op *op = s->waiting_for_id;
    s->waiting_for_id = NULL;
    while (op) {
        struct cn_store_op *next = op->next_waiting;
        struct catalogue_request *req = op->pending_catalogue;
        op->pending_catalogue = NULL;
        catalogue(req);
        op = next;
    }
}

/* ---- DIMSE receiver callbacks ---- */

static int answer_echo(struct cn_session *s, uint8_t pc_id, const struct cn_dimse_command *cmd)
{
    uint8_t rsp[RESPONSE_MAX_LEN];
    int len = cn_dimse_encode_c_echo_rsp(rsp, sizeof rsp, cmd->message_id,
                                         VERIFICATION_SOP_CLASS_UID, CN_DIMSE_STATUS_SUCCESS);
    if (len < 0)
        return -1;
    cn_log_debug("[assoc %llu] C-ECHO from %s", (unsigned long long)s->id, s->calling_ae);
    cn_session_send_command(s, pc_id, rsp, (size_t)len);
    return 0;
}

static void spool_drained(struct cn_spool *spool, void *user)
{
    (void)spool;
    struct cn_store_op *op = user;
    cn_session_resume_reading(op->session);
}

static int start_store(struct cn_session *s, uint8_t pc_id, const struct cn_dimse_command *cmd)
{
    const struct cn_pc_ac *pc = accepted_context(s, pc_id);
    struct cn_store_op *op = calloc(1, sizeof *op);
    if (!op)
        return -1;
    op->session = s;
    op->pc_id = pc_id;
    op->message_id = cmd->message_id;
    snprintf(op->sop_class_uid, sizeof op->sop_class_uid, "%s", cmd->affected_sop_class_uid);
    snprintf(op->sop_instance_uid, sizeof op->sop_instance_uid, "%s",
             cmd->affected_sop_instance_uid);
    if (pc)
        snprintf(op->transfer_syntax_uid, sizeof op->transfer_syntax_uid, "%s",
                 pc->transfer_syntax);
    cn_session_ref(s);
    op->next = s->ops;
    s->ops = op;

    if (!pc || strcmp(pc->abstract_syntax, cmd->affected_sop_class_uid) != 0) {
        /* PS3.4 B.2.3: the SOP class must be the context's abstract syntax */
        op->failure_status = CN_DIMSE_STATUS_SOP_CLASS_NOT_SUPPORTED;
        set_comment(op, "SOP class differs from the presentation context");
    } else if (!cmd->has_data_set || !cmd->affected_sop_instance_uid[0]) {
        op->failure_status = CN_DIMSE_STATUS_CANNOT_UNDERSTAND;
        set_comment(op, "C-STORE-RQ without data set or SOP Instance UID");
    } else {
        struct cn_part10_meta meta = {
            .media_storage_sop_class_uid = op->sop_class_uid,
            .media_storage_sop_instance_uid = op->sop_instance_uid,
            .transfer_syntax_uid = op->transfer_syntax_uid,
            .implementation_class_uid = CN_IMPLEMENTATION_CLASS_UID,
            .implementation_version_name = CN_IMPLEMENTATION_VERSION_NAME,
            .source_ae_title = s->calling_ae,
        };
        if (cn_spool_open(s->server->loop, s->server->state_dir, &meta, spool_drained, op,
                          &op->spool) != 0) {
            op->spool = NULL;
            op->failure_status = CN_DIMSE_STATUS_OUT_OF_RESOURCES;
            set_comment(op, "could not open spool file");
        }
    }
    if (!cmd->has_data_set) {
        op_done(op, op->failure_status);
        return 0;
    }
    s->receiving = op; /* the data set follows; failures are answered after it */
    return 0;
}

static int on_command(void *user, uint8_t pc_id, const struct cn_dimse_command *cmd)
{
    struct cn_session *s = user;
    switch (cmd->command_field) {
    case CN_DIMSE_C_ECHO_RQ:
        return answer_echo(s, pc_id, cmd);
    case CN_DIMSE_C_STORE_RQ:
        return start_store(s, pc_id, cmd);
    default:
        cn_log_warning("[assoc %llu] %s sent unsupported command 0x%04X; aborting",
                       (unsigned long long)s->id, s->calling_ae, cmd->command_field);
        return -1;
    }
}

static void on_command_error(void *user, uint8_t pc_id, int rc, const char *message)
{
    struct cn_session *s = user;
    cn_log_warning("[assoc %llu] undecodable command set on context %u from %s: %s (%d)",
                   (unsigned long long)s->id, pc_id, s->calling_ae, message, rc);
}

static int on_data(void *user, uint8_t pc_id, const uint8_t *data, size_t len)
{
    (void)pc_id;
    struct cn_session *s = user;
    struct cn_store_op *op = s->receiving;
    if (!op || !op->spool || op->failure_status)
        return 0; /* the data set of a store that already failed: read and discard */
    uint64_t max_len = s->server->config.max_object_size;
    op->data_set_len += len;
    if (max_len > 0 && op->data_set_len > max_len) {
        /* PS3.4 Table B.2-1: A7xx "Refused: Out of Resources" is the status for an object
         * this SCP will not hold; A9xx (data set does not match the SOP class) and Cxxx
         * (cannot understand) would blame the object's content, which is not at fault.
         * The rest of the data set is read and dropped, so the association carries on. */
        char comment[80];
        snprintf(comment, sizeof comment, "data set larger than max_object_size_mb %llu",
                 (unsigned long long)(max_len / BYTES_PER_MIB));
        op->failure_status = CN_DIMSE_STATUS_OUT_OF_RESOURCES;
        op->too_large = 1;
        set_comment(op, comment);
        cn_log_warning("[assoc %llu] %s from %s exceeds %llu bytes: refused", (unsigned long long)s->id,
                       op->sop_instance_uid, s->calling_ae, (unsigned long long)max_len);
        return 0;
    }
    int rc = cn_spool_write(op->spool, data, len);
    if (rc == CN_SPOOL_PAUSED) {
        cn_session_pause_reading(s);
    } else if (rc < 0) {
        op->failure_status = cn_spool_error_status(rc);
        set_comment(op, cn_spool_strerror(rc));
    }
    return 0;
}

static int on_data_complete(void *user, uint8_t pc_id)
{
    (void)pc_id;
    struct cn_session *s = user;
    struct cn_store_op *op = s->receiving;
    s->receiving = NULL;
    /* A spool that asked for a pause will not call back once finishing: the next
     * message (or the release request) must still be read. */
    cn_session_resume_reading(s);
    if (!op)
        return 0;
    op->data_complete_ns = uv_hrtime();
    if (op->spool && op->too_large)
        cn_spool_discard(op->spool, on_spool_done);
    else if (op->spool)
        cn_spool_finish(op->spool, op->sop_class_uid, op->sop_instance_uid, on_spool_done);
    else
        op_done(op, op->failure_status);
    return 0;
}

const struct cn_dimse_receiver_ops cn_session_receiver_ops = {
    .command = on_command,
    .command_error = on_command_error,
    .data = on_data,
    .data_complete = on_data_complete,
};

void cn_store_session_lost(struct cn_session *s)
{
    struct cn_store_op *op = s->receiving;
    s->receiving = NULL;
    cn_session_resume_reading(s);
    if (op) {
        if (op->spool && op->too_large)
            cn_spool_discard(op->spool, on_spool_done); /* refused: nothing worth keeping */
        else if (op->spool)
            cn_spool_abandon(op->spool, on_spool_done);
        else
            op_done(op, op->failure_status ? op->failure_status
                                           : CN_DIMSE_STATUS_OUT_OF_RESOURCES);
    }
}
