#include "http/pages.h"

#include <inttypes.h>
#include <string.h>

#include "store/uid.h"

static const char STYLE[] =
    "body{font-family:sans-serif;margin:1em 2em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}"
    "table{border-collapse:collapse;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}"
    "th{background:#eee}td.n{text-align:right}"
    ".dead,.failed{color:#b00;font-weight:bold}.err{color:#b00;font-size:.85em}"
    ".images{background:#fafafa}.images img{margin:.2em;background:#000}"
    ".summary span{margin-right:1.5em}";

int cn_html_escape(struct cn_buf *out, const char *text)
{
    const char *run = text;
    for (const char *p = text;; p++) {
        const char *entity = NULL;
        switch (*p) {
        case '&':
            entity = "&amp;";
            break;
        case '<':
            entity = "&lt;";
            break;
        case '>':
            entity = "&gt;";
            break;
        case '"':
            entity = "&quot;";
            break;
        case '\'':
            entity = "&#39;";
            break;
        case '\0':
            return cn_buf_append(out, run, (size_t)(p - run));
        default:
            continue;
        }
        if (cn_buf_append(out, run, (size_t)(p - run)) != 0 || cn_buf_puts(out, entity) != 0)
            return -1;
        run = p + 1;
    }
}

/* A table cell with an escaped value, or a dash. */
static void cell(struct cn_buf *out, const char *value, const char *cls)
{
    if (cls)
        cn_buf_printf(out, "<td class=\"%s\">", cls);
    else
        cn_buf_puts(out, "<td>");
    if (value && value[0])
        cn_html_escape(out, value);
    else
        cn_buf_puts(out, "&ndash;");
    cn_buf_puts(out, "</td>");
}

static void head(struct cn_buf *out, const char *title)
{
    cn_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>");
    cn_html_escape(out, title);
    cn_buf_printf(out, "</title><style>%s</style></head><body>\n", STYLE);
}

static const char TABLE_HEAD[] =
    "<table><tr><th>Patient name</th><th>Patient ID</th><th>Study date</th>"
    "<th>Calling AE</th><th>Instances</th><th>Study</th><th>Analysis</th>"
    "<th>Most suspicious reported cluster</th><th>Results sent / pending / dead</th>"
    "<th>Study Instance UID</th></tr>\n";
#define TABLE_COLUMNS 10

static int is_positive(const char *count)
{
    return count && count[0] && strcmp(count, "0") != 0;
}

static void study_row(struct cn_buf *out, const struct cn_status_study *s, int link)
{
    cn_buf_puts(out, "<tr>");
    cell(out, s->patient_name, NULL);
    cell(out, s->patient_id, NULL);
    cell(out, s->study_date, NULL);
    cell(out, s->calling_ae, NULL);
    cell(out, s->instance_count, "n");
    cell(out, s->study_state, NULL);
    /* the analysis: job state, and its error when it has one */
    const char *job = s->job_state;
    int bad = job && (strcmp(job, "failed") == 0 || strcmp(job, "dead") == 0);
    cn_buf_printf(out, "<td%s>", bad ? " class=\"failed\"" : "");
    cn_html_escape(out, job && job[0] ? job : "not queued");
    if (s->job_error && s->job_error[0]) {
        cn_buf_puts(out, "<div class=\"err\">");
        cn_html_escape(out, s->job_error);
        cn_buf_puts(out, "</div>");
    }
    cn_buf_puts(out, "</td><td>");
    if (s->category && s->category[0]) {
        cn_buf_puts(out, "category ");
        cn_html_escape(out, s->category);
        if (s->score && s->score[0]) {
            cn_buf_puts(out, ", score ");
            cn_html_escape(out, s->score);
        }
    } else {
        cn_buf_puts(out, job && strcmp(job, "done") == 0 ? "none" : "&ndash;");
    }
    cn_buf_puts(out, "</td><td>");
    cn_html_escape(out, s->sent ? s->sent : "0");
    cn_buf_puts(out, " / ");
    cn_html_escape(out, s->pending ? s->pending : "0");
    cn_buf_printf(out, " / <span%s>", is_positive(s->dead) ? " class=\"dead\"" : "");
    cn_html_escape(out, s->dead ? s->dead : "0");
    cn_buf_puts(out, "</span>");
    if (s->last_error && s->last_error[0]) {
        cn_buf_puts(out, "<div class=\"err\">");
        cn_html_escape(out, s->last_error);
        cn_buf_puts(out, "</div>");
    }
    cn_buf_puts(out, "</td><td>");
    if (link && cn_uid_is_valid(s->study_uid))
        cn_buf_printf(out, "<a href=\"/study/%s\">%s</a>", s->study_uid, s->study_uid);
    else
        cn_html_escape(out, s->study_uid ? s->study_uid : "");
    cn_buf_puts(out, "</td></tr>\n");
}

/* The <img> of every analysable image with a valid UID. */
static void images(struct cn_buf *out, const char *list, unsigned image_rows)
{
    if (!list)
        return;
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        char uid[CN_UID_MAX_LEN + 1];
        if (len > 0 && len <= CN_UID_MAX_LEN) {
            memcpy(uid, p, len);
            uid[len] = '\0';
            if (cn_uid_is_valid(uid))
                cn_buf_printf(out,
                              "<a href=\"/image/%s.png?rows=%u\"><img src=\"/image/%s.png?"
                              "rows=%u\" height=\"%u\" alt=\"image %s\" title=\"%s\"></a>",
                              uid, 2 * image_rows, uid, image_rows, image_rows, uid, uid);
        }
        p += len;
    }
}

static void summary(struct cn_buf *out, const struct cn_status_node *node)
{
    cn_buf_puts(out, "<p class=\"summary\">");
    if (node->loop_answered && node->loop) {
        const struct cn_metrics_loop *l = node->loop;
        cn_buf_printf(out,
                      "<span>DICOM server: %s</span><span>associations open: %" PRIu32
                      "</span><span>instances stored: %" PRIu64 "</span><span>results "
                      "sent: %" PRIu64 "</span>",
                      l->listening ? "listening" : "<b class=\"failed\">not listening</b>",
                      l->associations_active, l->instances_stored, l->results_sent);
    } else {
        cn_buf_puts(out, "<span class=\"failed\">the event loop did not answer</span>");
    }
    if (node->database_up) {
        cn_buf_puts(out, "<span>database: up</span>");
    } else {
        cn_buf_puts(out, "<span class=\"failed\">database: ");
        cn_html_escape(out, node->database_error ? node->database_error : "down");
        cn_buf_puts(out, "</span>");
    }
    cn_buf_puts(out, "</p>\n");
}

int cn_pages_status(struct cn_buf *out, const struct cn_status_node *node,
                    const struct cn_status_study *studies, size_t count, size_t with_images,
                    unsigned image_rows)
{
    head(out, "calcnode status");
    cn_buf_puts(out, "<h1>calcnode ");
    cn_html_escape(out, node->version ? node->version : "");
    cn_buf_puts(out, "</h1>\n");
    summary(out, node);
    cn_buf_puts(out, "<p><a href=\"/metrics\">metrics</a> &middot; <a href=\"/healthz\">"
                     "health</a></p>\n<h2>Recent studies</h2>\n");
    if (count == 0) {
        cn_buf_puts(out, "<p>No study received yet.</p>\n");
    } else {
        cn_buf_puts(out, TABLE_HEAD);
        for (size_t i = 0; i < count; i++) {
            study_row(out, &studies[i], 1);
            if (i < with_images && studies[i].images && studies[i].images[0]) {
                cn_buf_printf(out, "<tr class=\"images\"><td colspan=\"%d\">", TABLE_COLUMNS);
                images(out, studies[i].images, image_rows);
                cn_buf_puts(out, "</td></tr>\n");
            }
        }
        cn_buf_puts(out, "</table>\n");
    }
    cn_buf_puts(out, "</body></html>\n");
    return out->failed ? -1 : 0;
}

int cn_pages_study(struct cn_buf *out, const struct cn_status_study *study, unsigned image_rows)
{
    head(out, "calcnode study");
    cn_buf_puts(out, "<p><a href=\"/\">&larr; all studies</a></p>\n<h1>Study ");
    cn_html_escape(out, study->study_uid ? study->study_uid : "");
    cn_buf_puts(out, "</h1>\n");
    cn_buf_puts(out, TABLE_HEAD);
    study_row(out, study, 0);
    cn_buf_puts(out, "</table>\n<h2>Images</h2>\n<p>Cluster outlines: red 4B/4C/5, orange "
                     "4A, yellow 3, green 2, blue not reported; calcifications in cyan.</p>"
                     "\n<div class=\"images\">");
    images(out, study->images, image_rows);
    cn_buf_puts(out, "</div>\n</body></html>\n");
    return out->failed ? -1 : 0;
}
