#include "http/metrics.h"

#include <inttypes.h>

const char *const cn_metrics_job_states[CN_METRICS_STATE_COUNT] = {"queued", "running", "done",
                                                                   "failed", "dead"};
const char *const cn_metrics_outbound_states[CN_METRICS_STATE_COUNT] = {"queued", "sending", "sent",
                                                                        "failed", "dead"};

int cn_metrics_label_value(struct cn_buf *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        int rc;
        if (*p == '\\')
            rc = cn_buf_puts(out, "\\\\");
        else if (*p == '"')
            rc = cn_buf_puts(out, "\\\"");
        else if (*p == '\n')
            rc = cn_buf_puts(out, "\\n");
        else
            rc = cn_buf_append(out, p, 1);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void family(struct cn_buf *out, const char *name, const char *type, const char *help)
{
    cn_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void single(struct cn_buf *out, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    family(out, name, type, help);
    cn_buf_printf(out, "%s %" PRIu64 "\n", name, value);
}

static void labelled(struct cn_buf *out, const char *name, const char *label,
                     const char *label_value, uint64_t value)
{
    cn_buf_printf(out, "%s{%s=\"", name, label);
    cn_metrics_label_value(out, label_value);
    cn_buf_printf(out, "\"} %" PRIu64 "\n", value);
}

static void per_destination(struct cn_buf *out, const struct cn_metrics_loop *l, const char *name,
                            const char *help, size_t field)
{
    family(out, name, "counter", help);
    for (size_t i = 0; i < l->destination_count; i++) {
        const struct cn_metrics_destination *d = &l->destinations[i];
        uint64_t v = field == 0 ? d->failed : d->dead;
        labelled(out, name, "destination", d->ae_title, v);
    }
}

static void format_loop(const struct cn_metrics_loop *l, struct cn_buf *out)
{
    single(out, "calcnode_listening", "gauge",
           "Whether the DICOM server accepts associations (1) or not (0).",
           (uint64_t)(l->listening != 0));
    single(out, "calcnode_associations_accepted_total", "counter",
           "Associations accepted (A-ASSOCIATE-AC sent).", l->associations_accepted);
    single(out, "calcnode_associations_rejected_total", "counter",
           "Associations rejected (A-ASSOCIATE-RJ sent).", l->associations_rejected);
    single(out, "calcnode_associations_aborted_total", "counter",
           "Accepted associations that ended in an A-ABORT or a lost connection.",
           l->associations_aborted);
    single(out, "calcnode_associations_active", "gauge", "Associations open now.",
           l->associations_active);
    family(out, "calcnode_instances_received_total", "counter",
           "Instances received by C-STORE, by outcome: stored (new), duplicate (already "
           "stored), failed (a failure status was answered).");
    labelled(out, "calcnode_instances_received_total", "outcome", "stored", l->instances_stored);
    labelled(out, "calcnode_instances_received_total", "outcome", "duplicate",
             l->instances_duplicate);
    labelled(out, "calcnode_instances_received_total", "outcome", "failed", l->instances_failed);
    single(out, "calcnode_received_bytes_total", "counter",
           "Bytes read on DICOM associations (PDUs, headers included).", l->bytes_received);
    single(out, "calcnode_results_sent_total", "counter",
           "Result objects (SEG, SR, GSPS) acknowledged by their destination.", l->results_sent);
    single(out, "calcnode_results_sent_bytes_total", "counter",
           "Data set bytes of the result objects acknowledged.", l->results_bytes_sent);
    per_destination(out, l, "calcnode_outbound_failures_total",
                    "Result transfers that did not succeed (retried or given up), by "
                    "destination AE title.",
                    0);
    per_destination(out, l, "calcnode_outbound_dead_total",
                    "Result transfers given up (dead), by destination AE title.", 1);
}

static void format_db(const struct cn_metrics_db *d, struct cn_buf *out)
{
    single(out, "calcnode_database_up", "gauge",
           "Whether the database answered this scrape (1) or not (0).", (uint64_t)(d->up != 0));
    if (!d->up)
        return;
    family(out, "calcnode_jobs", "gauge", "Analysis jobs by state (every process).");
    for (int i = 0; i < CN_METRICS_STATE_COUNT; i++)
        labelled(out, "calcnode_jobs", "state", cn_metrics_job_states[i], d->jobs[i]);
    family(out, "calcnode_oldest_queued_job_age_seconds", "gauge",
           "Age of the oldest queued analysis job (0: none queued).");
    cn_buf_printf(out, "calcnode_oldest_queued_job_age_seconds %.3f\n", d->oldest_queued_job_age_s);
    family(out, "calcnode_outbound", "gauge", "Result transfers by state (every process).");
    for (int i = 0; i < CN_METRICS_STATE_COUNT; i++)
        labelled(out, "calcnode_outbound", "state", cn_metrics_outbound_states[i], d->outbound[i]);
    single(out, "calcnode_studies", "gauge", "Studies in the catalogue.", d->studies);
    single(out, "calcnode_instances", "gauge", "Instances in the catalogue.", d->instances);
    const struct cn_analysis_time_snapshot *h = &d->analysis_time;
    family(out, "calcnode_analysis_seconds", "histogram",
           "Time to analyse one image: decoding, detection, features and risk score (images "
           "of completed jobs, every worker process).");
    for (int i = 0; i < CN_ANALYSIS_TIME_BUCKET_COUNT; i++)
        cn_buf_printf(out, "calcnode_analysis_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                      cn_analysis_time_bounds_s[i], h->cumulative[i]);
    cn_buf_printf(out, "calcnode_analysis_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", h->count);
    cn_buf_printf(out, "calcnode_analysis_seconds_sum %.6f\n", h->sum_s);
    cn_buf_printf(out, "calcnode_analysis_seconds_count %" PRIu64 "\n", h->count);
}

int cn_metrics_format(const struct cn_metrics_snapshot *snapshot, struct cn_buf *out)
{
    single(out, "calcnode_event_loop_responding", "gauge",
           "Whether the event loop answered this scrape in time (1) or not (0).",
           (uint64_t)(snapshot->has_loop != 0));
    if (snapshot->has_loop)
        format_loop(&snapshot->loop, out);
    format_db(&snapshot->db, out);
    return out->failed ? -1 : 0;
}
