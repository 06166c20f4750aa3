/* The /metrics document: every family has HELP and TYPE, counters end in _total, the
 * histogram is cumulative with +Inf equal to _count, label values are escaped, and the
 * parts the loop or the database could not give are left out. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/metrics.h"
#include "work/analysis_time.h"

static char *format(const struct cn_metrics_snapshot *s)
{
    struct cn_buf b;
    cn_buf_init(&b, 1u << 20);
    assert_int_equal(cn_metrics_format(s, &b), 0);
    return cn_buf_take(&b, NULL);
}

/* The value of the sample line that starts with name_and_labels followed by a space. */
static double sample(const char *text, const char *name_and_labels)
{
    size_t n = strlen(name_and_labels);
    for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
        if (strncmp(line, name_and_labels, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
        if (!strchr(line, '\n'))
            break;
    }
    fail_msg("no sample %s in:\n%s", name_and_labels, text);
    return -1;
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

static void full_snapshot(struct cn_metrics_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->has_loop = 1;
    s->loop.listening = 1;
    s->loop.associations_accepted = 7;
    s->loop.associations_rejected = 2;
    s->loop.associations_aborted = 1;
    s->loop.associations_active = 3;
    s->loop.instances_stored = 4;
    s->loop.instances_duplicate = 1;
    s->loop.instances_failed = 0;
    s->loop.bytes_received = 123456789012ull;
    s->loop.results_sent = 9;
    s->loop.results_bytes_sent = 5000;
    s->loop.destination_count = 2;
    snprintf(s->loop.destinations[0].ae_title, CN_METRICS_AE_SIZE, "ORTHANC");
    s->loop.destinations[0].failed = 3;
    s->loop.destinations[0].dead = 1;
    snprintf(s->loop.destinations[1].ae_title, CN_METRICS_AE_SIZE, "A\"B\\C");
    s->loop.destinations[1].failed = 5;
    s->db.up = 1;
    s->db.jobs[0] = 2;     /* queued */
    s->db.jobs[2] = 11;    /* done */
    s->db.outbound[2] = 9; /* sent */
    s->db.oldest_queued_job_age_s = 12.5;
    s->db.studies = 3;
    s->db.instances = 12;
}

static void test_metrics_format_gives_every_counter_and_gauge(void **state)
{
    (void)state;
    struct cn_metrics_snapshot s;
    full_snapshot(&s);
    char *text = format(&s);
    assert_true(sample(text, "calcnode_associations_accepted_total") == 7);
    assert_true(sample(text, "calcnode_associations_rejected_total") == 2);
    assert_true(sample(text, "calcnode_associations_aborted_total") == 1);
    assert_true(sample(text, "calcnode_associations_active") == 3);
    assert_true(sample(text, "calcnode_instances_received_total{outcome=\"stored\"}") == 4);
    assert_true(sample(text, "calcnode_instances_received_total{outcome=\"duplicate\"}") == 1);
    assert_true(sample(text, "calcnode_instances_received_total{outcome=\"failed\"}") == 0);
    assert_true(has_line(text, "calcnode_received_bytes_total 123456789012"));
    assert_true(sample(text, "calcnode_results_sent_total") == 9);
    assert_true(sample(text, "calcnode_results_sent_bytes_total") == 5000);
    assert_true(sample(text, "calcnode_outbound_failures_total{destination=\"ORTHANC\"}") == 3);
    assert_true(sample(text, "calcnode_outbound_dead_total{destination=\"ORTHANC\"}") == 1);
    assert_true(sample(text, "calcnode_jobs{state=\"queued\"}") == 2);
    assert_true(sample(text, "calcnode_jobs{state=\"running\"}") == 0);
    assert_true(sample(text, "calcnode_jobs{state=\"done\"}") == 11);
    assert_true(sample(text, "calcnode_jobs{state=\"dead\"}") == 0);
    assert_true(sample(text, "calcnode_outbound{state=\"sent\"}") == 9);
    assert_true(sample(text, "calcnode_oldest_queued_job_age_seconds") == 12.5);
    assert_true(sample(text, "calcnode_database_up") == 1);
    assert_true(sample(text, "calcnode_event_loop_responding") == 1);
    assert_true(sample(text, "calcnode_listening") == 1);
    free(text);
}

static void test_metrics_label_values_are_escaped(void **state)
{
    (void)state;
    struct cn_metrics_snapshot s;
    full_snapshot(&s);
    char *text = format(&s);
    assert_true(sample(text, "calcnode_outbound_failures_total{destination=\"A\\\"B\\\\C\"}") == 5);
    struct cn_buf b;
    cn_buf_init(&b, 100);
    assert_int_equal(cn_metrics_label_value(&b, "x\ny"), 0);
    assert_string_equal(b.data, "x\\ny");
    cn_buf_free(&b);
    free(text);
}

/* Every sample's metric name has a # TYPE line before it; counters end in _total; every
 * name starts calcnode_. */
static void test_metrics_every_family_has_help_and_type(void **state)
{
    (void)state;
    struct cn_metrics_snapshot s;
    full_snapshot(&s);
    char *text = format(&s);
    char types[64][96];
    char kinds[64][16];
    size_t type_count = 0, help_count = 0;
    char *copy = strdup(text);
    char *next = NULL;
    for (char *line = copy; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "# HELP ", 7) == 0) {
            help_count++;
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            assert_true(type_count < 64);
            assert_int_equal(sscanf(line, "# TYPE %95s %15s", types[type_count], kinds[type_count]),
                             2);
            if (strcmp(kinds[type_count], "counter") == 0) {
                size_t n = strlen(types[type_count]);
                assert_true(n > 6 && strcmp(types[type_count] + n - 6, "_total") == 0);
            }
            type_count++;
            continue;
        }
        assert_true(strncmp(line, "calcnode_", 9) == 0);
        size_t name_len = strcspn(line, "{ ");
        int known = 0;
        for (size_t i = 0; i < type_count; i++) {
            size_t t = strlen(types[i]);
            if (strncmp(line, types[i], t) == 0 &&
                (name_len == t ||
                 (strcmp(kinds[i], "histogram") == 0 &&
                  (strncmp(line + t, "_bucket", 7) == 0 || strncmp(line + t, "_sum", 4) == 0 ||
                   strncmp(line + t, "_count", 6) == 0))))
                known = 1;
        }
        assert_true(known);
    }
    assert_int_equal(help_count, type_count);
    free(copy);
    free(text);
}

/* The rows a worker stores for observations seen (one per bucket: its upper bound, how
 * many images, their summed time), read back as /metrics does. */
static void store_and_read(const double *seen, size_t n, struct cn_analysis_time_snapshot *out)
{
    uint64_t images[CN_ANALYSIS_TIME_BUCKET_COUNT + 1] = {0};
    double seconds[CN_ANALYSIS_TIME_BUCKET_COUNT + 1] = {0};
    for (size_t i = 0; i < n; i++) {
        double t = cn_analysis_time_clamp(seen[i]);
        int b = cn_analysis_time_bucket(t);
        images[b]++;
        seconds[b] += t;
    }
    cn_analysis_time_clear(out);
    /* in reverse: the table's rows come in no particular order */
    for (int b = CN_ANALYSIS_TIME_BUCKET_COUNT; b >= 0; b--)
        if (images[b])
            cn_analysis_time_add_row(out, cn_analysis_time_upper_bound(b), images[b], seconds[b]);
}

/* The histogram, stored per bucket and read back, against a naive count of the same
 * observations. */
static void test_metrics_histogram_is_cumulative_and_matches_a_naive_count(void **state)
{
    (void)state;
    static const double seen[] = {0.01, 0.05, 0.051, 0.3, 0.31, 0.9, 1.0, 2.0, 30.0, -1.0};
    const size_t n = sizeof seen / sizeof seen[0];
    struct cn_metrics_snapshot s;
    full_snapshot(&s);
    store_and_read(seen, n, &s.db.analysis_time);
    char *text = format(&s);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += seen[i] > 0 ? seen[i] : 0;
    for (int b = 0; b < CN_ANALYSIS_TIME_BUCKET_COUNT; b++) {
        uint64_t naive = 0;
        for (size_t i = 0; i < n; i++)
            naive += seen[i] <= cn_analysis_time_bounds_s[b];
        char name[96];
        snprintf(name, sizeof name, "calcnode_analysis_seconds_bucket{le=\"%g\"}",
                 cn_analysis_time_bounds_s[b]);
        assert_true(sample(text, name) == (double)naive);
    }
    assert_true(sample(text, "calcnode_analysis_seconds_bucket{le=\"+Inf\"}") == (double)n);
    assert_true(sample(text, "calcnode_analysis_seconds_count") == (double)n);
    double got = sample(text, "calcnode_analysis_seconds_sum");
    assert_true(got > sum - 1e-5 && got < sum + 1e-5);
    free(text);
}

/* A row under a bound that is not among today's (written by an older version) counts in
 * every bucket at or above it, and in +Inf; a NaN bound only in +Inf. */
static void test_metrics_histogram_row_of_another_bound_counts_from_the_next_bound_up(void **state)
{
    (void)state;
    struct cn_analysis_time_snapshot h;
    cn_analysis_time_clear(&h);
    cn_analysis_time_add_row(&h, 0.07, 3, 0.18);
    cn_analysis_time_add_row(&h, NAN, 1, 0.5);
    assert_int_equal(h.cumulative[0], 0); /* le 0.05 */
    for (int b = 1; b < CN_ANALYSIS_TIME_BUCKET_COUNT; b++)
        assert_int_equal(h.cumulative[b], 3);
    assert_int_equal(h.cumulative[CN_ANALYSIS_TIME_BUCKET_COUNT], 4);
    assert_int_equal(h.count, 4);
    assert_true(h.sum_s > 0.68 - 1e-9 && h.sum_s < 0.68 + 1e-9);
}

/* Bucket of a time: the first bound at or above it; clamping of nonsense times. */
static void test_metrics_histogram_bucket_is_the_first_bound_at_or_above(void **state)
{
    (void)state;
    assert_int_equal(cn_analysis_time_bucket(0.0), 0);
    assert_int_equal(cn_analysis_time_bucket(0.05), 0);
    assert_int_equal(cn_analysis_time_bucket(0.0500001), 1);
    assert_int_equal(cn_analysis_time_bucket(10.0), CN_ANALYSIS_TIME_BUCKET_COUNT - 1);
    assert_int_equal(cn_analysis_time_bucket(10.5), CN_ANALYSIS_TIME_BUCKET_COUNT);
    assert_true(isinf(cn_analysis_time_upper_bound(CN_ANALYSIS_TIME_BUCKET_COUNT)));
    assert_true(cn_analysis_time_clamp(-2.0) == 0.0);
    assert_true(cn_analysis_time_clamp(NAN) == 0.0);
    assert_true(cn_analysis_time_clamp(1e9) == 3600.0);
    assert_true(cn_analysis_time_clamp(0.25) == 0.25);
}

static void test_metrics_leave_out_what_the_loop_and_database_did_not_give(void **state)
{
    (void)state;
    struct cn_metrics_snapshot s;
    full_snapshot(&s);
    s.has_loop = 0;
    s.db.up = 0;
    char *text = format(&s);
    assert_true(sample(text, "calcnode_event_loop_responding") == 0);
    assert_true(sample(text, "calcnode_database_up") == 0);
    assert_null(strstr(text, "calcnode_associations_accepted_total "));
    assert_null(strstr(text, "calcnode_jobs{"));
    assert_null(strstr(text, "calcnode_analysis_seconds"));
    free(text);
}

static void test_buf_fails_and_frees_past_its_cap(void **state)
{
    (void)state;
    struct cn_buf b;
    cn_buf_init(&b, 8);
    assert_int_equal(cn_buf_puts(&b, "12345678"), 0);
    assert_string_equal(b.data, "12345678");
    assert_int_equal(cn_buf_puts(&b, "9"), -1);
    assert_true(b.failed);
    assert_null(b.data);
    assert_int_equal(cn_buf_printf(&b, "%d", 1), -1);
    size_t len = 1;
    assert_null(cn_buf_take(&b, &len));
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_format_gives_every_counter_and_gauge),
        cmocka_unit_test(test_metrics_label_values_are_escaped),
        cmocka_unit_test(test_metrics_every_family_has_help_and_type),
        cmocka_unit_test(test_metrics_histogram_is_cumulative_and_matches_a_naive_count),
        cmocka_unit_test(test_metrics_histogram_row_of_another_bound_counts_from_the_next_bound_up),
        cmocka_unit_test(test_metrics_histogram_bucket_is_the_first_bound_at_or_above),
        cmocka_unit_test(test_metrics_leave_out_what_the_loop_and_database_did_not_give),
        cmocka_unit_test(test_buf_fails_and_frees_past_its_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
