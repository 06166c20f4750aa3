/* node/work: the analysis time histogram (calcnode_analysis_seconds on /metrics): how
 * long one image took from reading its file to its risk score (decode, analysis,
 * features, scoring), counted by the worker threads and read by any thread.
 *
 * Lock-free: observations use C11 atomics, so any number of worker threads may observe
 * while another thread reads. A read is not a single instant across buckets; it is made
 * self-consistent (the count is the sum of the buckets read), which is what the
 * Prometheus exposition requires (the +Inf bucket equals _count). */
#ifndef CN_WORK_ANALYSIS_TIME_H
#define CN_WORK_ANALYSIS_TIME_H

#include <stdatomic.h>
#include <stdint.h>

/* Upper bounds (seconds, inclusive as Prometheus "le") of the finite buckets: fine below
 * a second, where one image's analysis is expected, coarse above it. */
#define CN_ANALYSIS_TIME_BUCKET_COUNT 11
extern const double cn_analysis_time_bounds_s[CN_ANALYSIS_TIME_BUCKET_COUNT];

struct cn_analysis_time {
    /* per bucket (not cumulative); index CN_ANALYSIS_TIME_BUCKET_COUNT is above the last
     * bound (+Inf) */
    atomic_uint_fast64_t bucket[CN_ANALYSIS_TIME_BUCKET_COUNT + 1];
    atomic_uint_fast64_t sum_us; /* summed time in microseconds */
};

/* A plain copy for formatting: cumulative counts as in the exposition format. */
struct cn_analysis_time_snapshot {
    uint64_t cumulative[CN_ANALYSIS_TIME_BUCKET_COUNT + 1]; /* last: +Inf == count */
    uint64_t count;
    double sum_s;
};

/* Sets every counter to zero. Call before other threads use h. */
void cn_analysis_time_init(struct cn_analysis_time *h);

/* Counts one image that took seconds (negative or NaN counts as 0). Any thread. */
void cn_analysis_time_observe(struct cn_analysis_time *h, double seconds);

/* Reads h into *out (cumulative buckets, count = +Inf bucket). Any thread. */
void cn_analysis_time_read(const struct cn_analysis_time *h, struct cn_analysis_time_snapshot *out);

#endif
