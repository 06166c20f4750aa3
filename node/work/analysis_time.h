/* node/work: the analysis time histogram (calcnode_analysis_seconds on /metrics): how
 * long one image took from reading its file to its risk score (decode, analysis,
 * features, scoring).
 *
 * It lives in PostgreSQL (sql/006_analysis_time.sql), so that it covers every worker
 * process sharing the database: a worker adds its images to the table in the
 * transaction that completes their job (work/job.c), and the HTTP thread reads the table
 * (http/query.c). This header holds the bucket bounds and the pure arithmetic on both
 * sides; every function may be called from any thread. */
#ifndef CN_WORK_ANALYSIS_TIME_H
#define CN_WORK_ANALYSIS_TIME_H

#include <stdint.h>

/* Upper bounds (seconds, inclusive as Prometheus "le") of the finite buckets: fine below
 * a second, where one image's analysis is expected, coarse above it. */
#define CN_ANALYSIS_TIME_BUCKET_COUNT 11
extern const double cn_analysis_time_bounds_s[CN_ANALYSIS_TIME_BUCKET_COUNT];

/* The histogram as the exposition format wants it. */
struct cn_analysis_time_snapshot {
    uint64_t cumulative[CN_ANALYSIS_TIME_BUCKET_COUNT + 1]; /* last: +Inf == count */
    uint64_t count;
    double sum_s;
};

/* The time counted for an image that took seconds: negative or NaN counts as 0, and at
 * most an hour (a clock jump is not a measurement). */
double cn_analysis_time_clamp(double seconds);

/* The bucket of an image that took seconds (already clamped): the index of the first
 * bound >= seconds, or CN_ANALYSIS_TIME_BUCKET_COUNT above the last bound. */
int cn_analysis_time_bucket(double seconds);

/* The upper bound stored for bucket i (0 <= i <= CN_ANALYSIS_TIME_BUCKET_COUNT):
 * cn_analysis_time_bounds_s[i], or INFINITY for the last. */
double cn_analysis_time_upper_bound(int i);

/* Sets out to an empty histogram. */
void cn_analysis_time_clear(struct cn_analysis_time_snapshot *out);

/* Adds one stored row to out: images counted under upper bound le_s (any value, also one
 * that is not among today's bounds: it counts in every bucket whose bound is >= le_s,
 * and always in +Inf) with their summed time seconds. */
void cn_analysis_time_add_row(struct cn_analysis_time_snapshot *out, double le_s, uint64_t images,
                              double seconds);

#endif
