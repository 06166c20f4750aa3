/* node/http: the /metrics document, Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): a # HELP and a # TYPE
 * line per family, counters named *_total, units in names (_seconds, _bytes), every
 * name starting calcnode_.
 *
 * The numbers come in one snapshot, assembled by the HTTP thread from what the loop
 * reported (http/bridge.h) and what its own database connection read (http/query.h);
 * formatting is pure: any thread. */
#ifndef CN_HTTP_METRICS_H
#define CN_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "http/buf.h"
#include "work/analysis_time.h"

#define CN_METRICS_AE_SIZE 17
#define CN_METRICS_MAX_DESTINATIONS 64

/* Outbound counters of one destination AE since start. */
struct cn_metrics_destination {
    char ae_title[CN_METRICS_AE_SIZE];
    uint64_t sent, bytes_sent, failed, dead;
};

/* What the loop thread owns (server, sender). */
struct cn_metrics_loop {
    int listening; /* the DICOM server accepts associations */
    uint64_t associations_accepted, associations_rejected, associations_aborted;
    uint32_t associations_active;
    uint64_t instances_stored, instances_duplicate, instances_failed;
    uint64_t bytes_received; /* every byte read on associations */
    uint64_t results_sent, results_bytes_sent;
    size_t destination_count;
    struct cn_metrics_destination destinations[CN_METRICS_MAX_DESTINATIONS];
};

/* The states of the jobs and outbound tables (sql/001_catalogue.sql), in this order. */
#define CN_METRICS_STATE_COUNT 5
extern const char *const cn_metrics_job_states[CN_METRICS_STATE_COUNT];
extern const char *const cn_metrics_outbound_states[CN_METRICS_STATE_COUNT];

/* What the database says (gauges over every process sharing it). */
struct cn_metrics_db {
    int up; /* 0: the query failed; the other fields are not emitted */
    uint64_t jobs[CN_METRICS_STATE_COUNT];
    uint64_t outbound[CN_METRICS_STATE_COUNT];
    double oldest_queued_job_age_s; /* 0 when no job is queued */
    uint64_t studies, instances;
    /* every worker process's per-image analysis times (sql/006_analysis_time.sql) */
    struct cn_analysis_time_snapshot analysis_time;
};

struct cn_metrics_snapshot {
    int has_loop; /* 0: the loop did not answer in time; its families are left out */
    struct cn_metrics_loop loop;
    struct cn_metrics_db db;
};

/* Appends the exposition of snapshot to out. Returns 0, or -1 when out failed. */
int cn_metrics_format(const struct cn_metrics_snapshot *snapshot, struct cn_buf *out);

/* Appends value as a label value: backslash, double quote and line feed escaped as the
 * format requires. Returns 0 or -1 as cn_buf_append. */
int cn_metrics_label_value(struct cn_buf *out, const char *value);

/* The Content-Type of the document. */
#define CN_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
