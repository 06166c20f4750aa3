/* node/http: the HTML of the status page (/) and of one study (/study/<uid>), for a PACS
 * administrator: plain HTML and a little CSS, no script. Every value that comes from the
 * database (patient names, AE titles, error texts, ...) is HTML-escaped; image URLs are
 * made only from UIDs that pass cn_uid_is_valid. Pure; any thread. */
#ifndef CN_HTTP_PAGES_H
#define CN_HTTP_PAGES_H

#include <stddef.h>

#include "http/buf.h"
#include "http/metrics.h"

/* One study row. Strings are borrowed; NULL means absent (shown as a dash). */
struct cn_status_study {
    const char *study_uid;
    const char *patient_name, *patient_id, *study_date, *calling_ae;
    const char *study_state;
    const char *instance_count;
    const char *job_state, *job_error; /* the latest analysis job */
    const char *category, *score;      /* the most suspicious cluster of the latest run */
    const char *sent, *pending, *dead; /* result objects by state (counts as text) */
    const char *last_error;            /* the latest error of an unsent result object */
    const char *images;                /* SOP Instance UIDs of analysable images, space
                                          separated */
};

/* What the page header says about the node. */
struct cn_status_node {
    const char *version;
    int loop_answered;
    const struct cn_metrics_loop *loop; /* when loop_answered */
    int database_up;
    const char *database_error; /* when !database_up */
};

/* Appends text with & < > " ' replaced by entities. Returns 0 or -1 as cn_buf_append. */
int cn_html_escape(struct cn_buf *out, const char *text);

/* The status page: node summary and the studies table, with images (image_rows high)
 * for the first with_images studies. Returns 0, or -1 when out failed. */
int cn_pages_status(struct cn_buf *out, const struct cn_status_node *node,
                    const struct cn_status_study *studies, size_t count, size_t with_images,
                    unsigned image_rows);

/* One study: its row and its images at image_rows. Returns 0 or -1. */
int cn_pages_study(struct cn_buf *out, const struct cn_status_study *study, unsigned image_rows);

#endif
