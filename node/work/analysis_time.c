#include "work/analysis_time.h"

#include <math.h>

/* An hour: longer is not an image's analysis but a suspended machine or a clock jump. */
#define MAX_OBSERVED_S 3600.0

const double cn_analysis_time_bounds_s[CN_ANALYSIS_TIME_BUCKET_COUNT] = {
    0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0};

double cn_analysis_time_clamp(double seconds)
{
    if (!(seconds > 0.0)) /* also NaN */
        return 0.0;
    return seconds > MAX_OBSERVED_S ? MAX_OBSERVED_S : seconds;
}

int cn_analysis_time_bucket(double seconds)
{
    int i = 0;
    while (i < CN_ANALYSIS_TIME_BUCKET_COUNT && seconds > cn_analysis_time_bounds_s[i])
        i++;
    return i;
}

double cn_analysis_time_upper_bound(int i)
{
    return i < CN_ANALYSIS_TIME_BUCKET_COUNT ? cn_analysis_time_bounds_s[i] : INFINITY;
}

void cn_analysis_time_clear(struct cn_analysis_time_snapshot *out)
{
    for (int i = 0; i <= CN_ANALYSIS_TIME_BUCKET_COUNT; i++)
        out->cumulative[i] = 0;
    out->count = 0;
    out->sum_s = 0.0;
}

void cn_analysis_time_add_row(struct cn_analysis_time_snapshot *out, double le_s, uint64_t images,
                              double seconds)
{
    for (int i = 0; i < CN_ANALYSIS_TIME_BUCKET_COUNT; i++)
        if (le_s <= cn_analysis_time_bounds_s[i])
            out->cumulative[i] += images;
    out->cumulative[CN_ANALYSIS_TIME_BUCKET_COUNT] += images;
    out->count += images;
    if (seconds > 0.0)
        out->sum_s += seconds;
}
