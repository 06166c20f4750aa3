#include "work/analysis_time.h"

#include <math.h>

const double cn_analysis_time_bounds_s[CN_ANALYSIS_TIME_BUCKET_COUNT] = {
    0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0};

void cn_analysis_time_init(struct cn_analysis_time *h)
{
    for (int i = 0; i <= CN_ANALYSIS_TIME_BUCKET_COUNT; i++)
        atomic_init(&h->bucket[i], 0);
    atomic_init(&h->sum_us, 0);
}

void cn_analysis_time_observe(struct cn_analysis_time *h, double seconds)
{
    if (!(seconds > 0.0)) /* also NaN */
        seconds = 0.0;
    int i = 0;
    while (i < CN_ANALYSIS_TIME_BUCKET_COUNT && seconds > cn_analysis_time_bounds_s[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    /* an hour of microseconds is 3.6e9: the sum cannot overflow for centuries of images */
    double us = seconds > 3600.0 ? 3.6e9 : round(seconds * 1e6);
    atomic_fetch_add_explicit(&h->sum_us, (uint_fast64_t)us, memory_order_relaxed);
}

void cn_analysis_time_read(const struct cn_analysis_time *h, struct cn_analysis_time_snapshot *out)
{
    uint64_t running = 0;
    for (int i = 0; i <= CN_ANALYSIS_TIME_BUCKET_COUNT; i++) {
        running += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        out->cumulative[i] = running;
    }
    out->count = running;
    out->sum_s = (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6;
}
