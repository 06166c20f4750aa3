#include "work/job.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"
#include "work/analysis_time.h"
#include "work/pipeline.h"
#include "work/results.h"
#include "work/study_report.h"

#define MAX_IMAGES_PER_STUDY 64
#define PATH_SIZE 4096

struct study_image {
    char path[PATH_SIZE];
    char sop_instance_uid[65];
};

/* One statement with text parameters; returns the result, or NULL with err filled (the
 * result is cleared). */
static PGresult *exec(PGconn *conn, const char *sql, int n, const char *const *params,
                      char *err, size_t err_len)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        snprintf(err, err_len, "%s", PQerrorMessage(conn));
        err[strcspn(err, "\n")] = '\0';
        PQclear(res);
        return NULL;
    }
    return res;
}

static int exec_ok(PGconn *conn, const char *sql, int n, const char *const *params, char *err,
                   size_t err_len)
{
    PGresult *res = exec(conn, sql, n, params, err, err_len);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

static int make_dirs(const char *path)
{
    char tmp[PATH_SIZE];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Renews the lease; 0 while the job is still ours. */
static int renew_lease(const struct cn_job_context *ctx, const char *id_text)
{
    char lease[16], err[256];
    snprintf(lease, sizeof lease, "%u", ctx->lease_s);
    const char *params[] = {id_text, ctx->worker_id, lease};
    PGresult *res = exec(ctx->conn,
                         "UPDATE jobs SET lease_until = now() + make_interval(secs => $3::int), "
                         "updated_at = now() WHERE id = $1::bigint AND worker = $2 "
                         "AND state = 'running'",
                         3, params, err, sizeof err);
    if (!res)
        return -1;
    int ours = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return ours ? 0 : -1;
}

/* The job could not be completed: retry later, or dead after max_attempts. */
static void record_failure(const struct cn_job_context *ctx, const struct cn_job *job,
                           const char *id_text, const char *reason)
{
    int backoff = CN_JOB_RETRY_BASE_S;
    for (int i = 1; i < job->attempts && backoff < CN_JOB_RETRY_CAP_S; i++)
        backoff *= 2;
    if (backoff > CN_JOB_RETRY_CAP_S)
        backoff = CN_JOB_RETRY_CAP_S;
    char backoff_text[16], err[512];
    snprintf(backoff_text, sizeof backoff_text, "%d", backoff);
    const char *params[] = {id_text, ctx->worker_id, reason, backoff_text};
    PGresult *res = exec(ctx->conn,
                         "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts "
                         "THEN 'dead' ELSE 'failed' END, error = $3, lease_until = NULL, "
                         "retried = retried + CASE WHEN attempts >= max_attempts THEN 0 ELSE 1 "
                         "END, next_attempt_at = now() + make_interval(secs => $4::int), "
                         "finished_at = now(), updated_at = now() "
                         "WHERE id = $1::bigint AND worker = $2 AND state = 'running' "
                         "RETURNING state",
                         4, params, err, sizeof err);
    if (!res) {
        cn_log_error("job %lld: could not record its failure: %s", (long long)job->id, err);
        return;
    }
    if (PQntuples(res) == 1)
        cn_log_warning("job %lld (study %s, attempt %d): %s; %s", (long long)job->id,
                       job->study_uid, job->attempts, reason,
                       strcmp(PQgetvalue(res, 0, 0), "dead") == 0
                           ? "dead: no attempts left"
                           : "retried later");
    PQclear(res);
    const char *wparams[] = {ctx->worker_id};
    exec_ok(ctx->conn, "UPDATE workers SET jobs_failed = jobs_failed + 1 WHERE id = $1", 1,
            wparams, err, sizeof err);
}

static void hand_back(const struct cn_job_context *ctx, const struct cn_job *job,
                      const char *id_text)
{
    char err[256];
    const char *params[] = {id_text, ctx->worker_id};
    if (exec_ok(ctx->conn,
                "UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), "
                "worker = NULL, lease_until = NULL, updated_at = now() "
                "WHERE id = $1::bigint AND worker = $2 AND state = 'running'",
                2, params, err, sizeof err) != 0)
        cn_log_warning("job %lld: could not hand it back (%s); its lease will expire",
                       (long long)job->id, err);
    else
        cn_log_info("job %lld handed back: shutting down", (long long)job->id);
}

static int load_images(const struct cn_job_context *ctx, const struct cn_job *job,
                       struct study_image *images, int *count, char *calling_ae, char *err,
                       size_t err_len)
{
    const char *params[] = {job->study_uid};
    /* For Presentation first: when both exist for a view, the For Processing image is
     * the raw data of the same exposure and is not analysed again. */
    PGresult *res = exec(ctx->conn,
                         "SELECT DISTINCT ON (coalesce(upper(image_laterality), ''), "
                         "       coalesce(upper(view_position), ''), "
                         "       CASE WHEN image_laterality IS NULL OR view_position IS NULL "
                         "            THEN sop_instance_uid END) "
                         "       path, sop_instance_uid "
                         "  FROM instances WHERE study_instance_uid = $1 "
                         "   AND calcnode_is_analysable(sop_class_uid, rows) "
                         " ORDER BY coalesce(upper(image_laterality), ''), "
                         "          coalesce(upper(view_position), ''), "
                         "          CASE WHEN image_laterality IS NULL OR view_position IS NULL "
                         "               THEN sop_instance_uid END, "
                         "          sop_class_uid IN ('1.2.840.10008.5.1.4.1.1.1.2.1', "
                         "                            '1.2.840.10008.5.1.4.1.1.1.1.1'), "
                         "          received_at DESC",
                         1, params, err, err_len);
    if (!res)
        return -1;
    int n = PQntuples(res);
    if (n > MAX_IMAGES_PER_STUDY)
        n = MAX_IMAGES_PER_STUDY;
    for (int i = 0; i < n; i++) {
        snprintf(images[i].path, sizeof images[i].path, "%s", PQgetvalue(res, i, 0));
        snprintf(images[i].sop_instance_uid, sizeof images[i].sop_instance_uid, "%s",
                 PQgetvalue(res, i, 1));
    }
    *count = n;
    PQclear(res);
    res = exec(ctx->conn, "SELECT coalesce(calling_ae, '') FROM studies "
                          "WHERE study_instance_uid = $1",
               1, params, err, err_len);
    if (!res)
        return -1;
    snprintf(calling_ae, 17, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

/* The analysed images of a job by bucket of the analysis time histogram. */
struct analysis_times {
    uint64_t images[CN_ANALYSIS_TIME_BUCKET_COUNT + 1];
    double seconds[CN_ANALYSIS_TIME_BUCKET_COUNT + 1];
};

static void note_analysis_time(struct analysis_times *times, double seconds)
{
    seconds = cn_analysis_time_clamp(seconds);
    int b = cn_analysis_time_bucket(seconds);
    times->images[b]++;
    times->seconds[b] += seconds;
}

/* Adds the job's images to the shared histogram (sql/006_analysis_time.sql), inside the
 * transaction that completes the job. Buckets in ascending order: every worker locks the
 * rows in the same order, so two completing jobs cannot deadlock. */
static int record_analysis_times(PGconn *conn, const struct analysis_times *times, char *err,
                                 size_t err_len)
{
    for (int b = 0; b <= CN_ANALYSIS_TIME_BUCKET_COUNT; b++) {
        if (times->images[b] == 0)
            continue;
        char le[32], images[24], seconds[32];
        if (b < CN_ANALYSIS_TIME_BUCKET_COUNT)
            snprintf(le, sizeof le, "%.17g", cn_analysis_time_upper_bound(b));
        else
            snprintf(le, sizeof le, "Infinity");
        snprintf(images, sizeof images, "%llu", (unsigned long long)times->images[b]);
        snprintf(seconds, sizeof seconds, "%.9f", times->seconds[b]);
        const char *params[] = {le, images, seconds};
        if (exec_ok(conn,
                    "INSERT INTO analysis_time (le, images, seconds) "
                    "VALUES ($1::float8, $2::bigint, $3::float8) ON CONFLICT (le) DO UPDATE "
                    "SET images = analysis_time.images + excluded.images, "
                    "seconds = analysis_time.seconds + excluded.seconds",
                    3, params, err, err_len) != 0)
            return -1;
    }
    return 0;
}

/* Records the results, queues the objects for the calling AE, marks the job done: one
 * transaction, so that a crash leaves either all of it or none (the job is then run
 * again and writes the same files and UIDs). */
static int commit_results(const struct cn_job_context *ctx, const struct cn_job *job,
                          const char *id_text, const char *results_dir, json_t *images,
                          json_t *outputs, const char *calling_ae,
                          const struct analysis_times *times, char *err, size_t err_len)
{
    PGconn *conn = ctx->conn;
    if (exec_ok(conn, "BEGIN", 0, NULL, err, err_len) != 0)
        return -1;
    if (record_analysis_times(conn, times, err, err_len) != 0)
        goto rollback;
    size_t i;
    json_t *image;
    json_array_foreach(images, i, image)
    {
        const char *sop = json_string_value(json_object_get(image, "sop_instance_uid"));
        size_t k;
        json_t *cluster;
        json_array_foreach(json_object_get(image, "clusters"), k, cluster)
        {
            char index_text[16];
            snprintf(index_text, sizeof index_text, "%zu", k);
            json_t *features = json_object_get(cluster, "features");
            char *features_text = json_dumps(features ? features : json_object(), JSON_COMPACT);
            json_t *score = json_object_get(cluster, "score");
            json_t *category = json_object_get(cluster, "category");
            char score_text[32];
            if (json_is_number(score))
                snprintf(score_text, sizeof score_text, "%.6f", json_number_value(score));
            const char *params[] = {id_text, job->study_uid, sop, index_text,
                                    features_text ? features_text : "{}",
                                    json_is_number(score) ? score_text : NULL,
                                    json_string_value(category)};
            int rc = exec_ok(conn,
                             "INSERT INTO results (job_id, study_instance_uid, sop_instance_uid, "
                             "cluster_index, features, score, category) VALUES ($1::bigint, "
                             "$2, $3, $4::int, $5::jsonb, $6::double precision, $7)",
                             7, params, err, err_len);
            free(features_text);
            if (rc != 0)
                goto rollback;
        }
    }
    if (calling_ae[0]) {
        json_t *out;
        json_array_foreach(outputs, i, out)
        {
            const char *params[] = {id_text,
                                    json_string_value(json_object_get(out, "path")),
                                    json_string_value(json_object_get(out, "sop_class_uid")),
                                    json_string_value(json_object_get(out, "sop_instance_uid")),
                                    calling_ae};
            if (exec_ok(conn,
                        "INSERT INTO outbound (job_id, path, sop_class_uid, sop_instance_uid, "
                        "destination_ae) VALUES ($1::bigint, $2, $3, $4, $5)",
                        5, params, err, err_len) != 0)
                goto rollback;
        }
    }
    char count_text[16];
    snprintf(count_text, sizeof count_text, "%zu", json_array_size(images));
    const char *params[] = {id_text, ctx->worker_id, results_dir, count_text};
    PGresult *res = exec(conn,
                         "UPDATE jobs SET state = 'done', finished_at = now(), lease_until = NULL, "
                         "results_dir = $3, instances_analysed = $4::int, error = NULL, "
                         "updated_at = now() WHERE id = $1::bigint AND worker = $2 "
                         "AND state = 'running'",
                         4, params, err, err_len);
    if (!res)
        goto rollback;
    int ours = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!ours) {
        snprintf(err, err_len, "the job's lease was lost to another worker");
        goto rollback;
    }
    const char *wparams[] = {ctx->worker_id};
    /* the study's state follows from the job's (sql/005_study_state.sql) */
    if (exec_ok(conn, "UPDATE workers SET jobs_done = jobs_done + 1, current_job = NULL "
                      "WHERE id = $1",
                1, wparams, err, err_len) != 0 ||
        exec_ok(conn, "COMMIT", 0, NULL, err, err_len) != 0)
        goto rollback;
    return 0;
rollback:;
    char ignored[64];
    exec_ok(conn, "ROLLBACK", 0, NULL, ignored, sizeof ignored);
    return -1;
}

int cn_job_run(const struct cn_job_context *ctx, const struct cn_job *job)
{
    char id_text[32], run_text[16], err[1024];
    snprintf(id_text, sizeof id_text, "%lld", (long long)job->id);
    snprintf(run_text, sizeof run_text, "%d", job->run_number);
    static _Thread_local struct study_image images[MAX_IMAGES_PER_STUDY];
    int count = 0;
    char calling_ae[17] = "";
    if (load_images(ctx, job, images, &count, calling_ae, err, sizeof err) != 0) {
        record_failure(ctx, job, id_text, err);
        return -1;
    }
    char results_dir[PATH_SIZE];
    snprintf(results_dir, sizeof results_dir, "%s/results/%s/run-%d", ctx->state_dir,
             job->study_uid, job->run_number);
    if (make_dirs(results_dir) != 0) {
        char reason[PATH_SIZE + 64];
        snprintf(reason, sizeof reason, "could not create \"%s\": %s", results_dir,
                 strerror(errno));
        record_failure(ctx, job, id_text, reason);
        return -1;
    }
    cn_log_info("job %lld: analysing %d images of study %s (run %d, attempt %d)",
                (long long)job->id, count, job->study_uid, job->run_number, job->attempts);
    json_t *image_records = json_array();
    json_t *outputs = json_array();
    static _Thread_local struct cn_pipeline_image records[MAX_IMAGES_PER_STUDY];
    static _Thread_local struct cn_study_image study_images[MAX_IMAGES_PER_STUDY];
    static _Thread_local char seg_uids[MAX_IMAGES_PER_STUDY][65];
    static _Thread_local char failures[MAX_IMAGES_PER_STUDY][512];
    int analysed = 0, done_count = 0, rc = -1;
    struct analysis_times times;
    memset(&times, 0, sizeof times);
    for (int i = 0; i < count; i++) {
        if (atomic_load(ctx->stopping)) {
            hand_back(ctx, job, id_text);
            goto out;
        }
        study_images[i] = (struct cn_study_image){.path = images[i].path};
        done_count = i + 1;
        if (cn_pipeline_analyze_image(images[i].path, 0.0, &ctx->scoring, &records[i], err,
                                      sizeof err) != 0) {
            /* a decoding or analysis failure is a property of the image: reported in the
             * CAD SR as not analysed, not retried */
            cn_log_warning("job %lld: %s", (long long)job->id, err);
            snprintf(failures[i], sizeof failures[i], "%s", err);
            study_images[i].failure_reason = failures[i];
            continue;
        }
        note_analysis_time(&times, (records[i].decode_ms + records[i].analysis_ms +
                                    records[i].features_ms + records[i].scoring_ms) /
                                       1000.0);
        char seg_path[PATH_SIZE];
        if (cn_results_write_seg(results_dir, &records[i], i + 1, run_text, seg_uids[i],
                                 seg_path, sizeof seg_path, err, sizeof err) != 0) {
            cn_pipeline_image_free(&records[i]);
            record_failure(ctx, job, id_text, err);
            goto out;
        }
        json_array_append_new(image_records, cn_results_image_json(&records[i]));
        json_array_append_new(outputs, json_pack("{ssssssss}", "path", seg_path, "sop_class_uid",
                                                 CN_RESULTS_SEG_SOP_CLASS_UID,
                                                 "sop_instance_uid", seg_uids[i], "kind", "seg"));
        cn_log_info("job %lld: %s: %zu calcifications, %zu clusters (%.0f ms)",
                    (long long)job->id, images[i].sop_instance_uid,
                    records[i].result.calcification_count, records[i].result.cluster_count,
                    records[i].decode_ms + records[i].analysis_ms + records[i].features_ms);
        cn_pipeline_image_release_pixels(&records[i]);
        study_images[i].image = &records[i];
        study_images[i].seg_sop_instance_uid = seg_uids[i];
        analysed++;
        if (renew_lease(ctx, id_text) != 0) {
            cn_log_warning("job %lld: lease lost; another worker has the job",
                           (long long)job->id);
            goto out;
        }
    }
    struct cn_study_report_request report = {
        .output_dir = results_dir,
        .study_instance_uid = job->study_uid,
        .images = study_images,
        .image_count = (size_t)count,
        .run_number = job->run_number,
        .write_gsps = ctx->write_gsps,
    };
    if (count == 0) {
        record_failure(ctx, job, id_text, "the study has no image to analyse");
    } else if (cn_study_report_write(&report, outputs, err, sizeof err) != 0 ||
               cn_results_write_findings(results_dir, image_records, err, sizeof err) != 0 ||
               commit_results(ctx, job, id_text, results_dir, image_records, outputs,
                              calling_ae, &times, err, sizeof err) != 0) {
        record_failure(ctx, job, id_text, err);
    } else {
        cn_log_info("job %lld done: study %s, %d of %d images analysed, %zu objects queued "
                    "for %s",
                    (long long)job->id, job->study_uid, analysed, count,
                    calling_ae[0] ? json_array_size(outputs) : 0,
                    calling_ae[0] ? calling_ae : "nobody (no calling AE)");
        rc = 0;
    }
out:
    for (int i = 0; i < done_count; i++)
        if (study_images[i].image)
            cn_pipeline_image_free(&records[i]);
    json_decref(image_records);
    json_decref(outputs);
    return rc;
}
