/*
 * The naive order statistics the analysis tests compare with: qsort's comparison of
 * floats and numpy.percentile's linear method on a sorted copy.
 */
#ifndef CALCNODE_TESTS_ANALYSIS_SORTED_REFERENCE_H
#define CALCNODE_TESTS_ANALYSIS_SORTED_REFERENCE_H

#include <math.h>
#include <stddef.h>

static inline int by_value(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

/* numpy.percentile, linear method, of sorted s[0..n-1] (n > 0). */
static inline double sorted_percentile(const float *s, size_t n, double q)
{
    double index = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(index);
    double t = index - (double)lo, a = s[lo];
    return lo + 1 >= n || t == 0.0 ? a : a + ((double)s[lo + 1] - a) * t;
}

#endif
