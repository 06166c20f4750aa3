/* Statistics for training and reporting (contracts in stats.h). */
#include "risk/stats.h"

#include <math.h>
#include <stdlib.h>

#define PLATT_MAX_ITERATIONS 100
#define PLATT_MIN_STEP 1e-10
#define PLATT_HESSIAN_RIDGE 1e-12
#define PLATT_GRADIENT_EPS 1e-5
#define PLATT_ARMIJO 1e-4
#define BOOTSTRAP_LOW 0.025
#define BOOTSTRAP_HIGH 0.975

uint64_t cn_risk_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

uint64_t cn_risk_rng_below(uint64_t *state, uint64_t bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t v;
    do
        v = cn_risk_rng_next(state);
    while (v >= limit);
    return v % bound;
}

struct keyed {
    double score;
    size_t index;
};

static int by_score(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Indices 0..n-1 sorted by ascending score, ties by index; NULL when out of memory. */
static size_t *sorted_order(const double *score, size_t n)
{
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    struct keyed *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!order || !keys) {
        free(order);
        free(keys);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (struct keyed){score[i], i};
    qsort(keys, n, sizeof *keys, by_score);
    for (size_t i = 0; i < n; i++)
        order[i] = keys[i].index;
    free(keys);
    return order;
}

/* AUC of rows weighted by w (NULL: every row once), visiting them in ascending score
 * order: each positive beats the negatives of lower score and half of its ties. */
static double weighted_auc(const double *score, const int *label, const size_t *order, size_t n,
                           const unsigned *w)
{
    double neg_below = 0.0, pos_total = 0.0, u = 0.0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        double pos = 0.0, neg = 0.0;
        while (j < n && score[order[j]] == score[order[i]]) {
            double weight = w ? (double)w[order[j]] : 1.0;
            if (label[order[j]])
                pos += weight;
            else
                neg += weight;
            j++;
        }
        u += pos * (neg_below + 0.5 * neg);
        neg_below += neg;
        pos_total += pos;
        i = j;
    }
    if (pos_total == 0.0 || neg_below == 0.0)
        return NAN;
    return u / (pos_total * neg_below);
}

double cn_risk_auc(const double *score, const int *label, size_t n)
{
    size_t *order = sorted_order(score, n);
    if (!order)
        return NAN;
    double auc = weighted_auc(score, label, order, n, NULL);
    free(order);
    return auc;
}

void cn_risk_wilson(size_t k, size_t n, double z, double *low, double *high)
{
    if (n == 0) {
        *low = 0.0;
        *high = 1.0;
        return;
    }
    double p = (double)k / (double)n, nn = (double)n, z2 = z * z;
    double centre = (p + z2 / (2.0 * nn)) / (1.0 + z2 / nn);
    double half = z * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / (1.0 + z2 / nn);
    *low = fmax(0.0, centre - half);
    *high = fmin(1.0, centre + half);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cn_risk_auc_bootstrap(const double *score, const int *label, size_t n, unsigned reps,
                          uint64_t seed, double *low, double *high)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += label[i] != 0;
    if (reps == 0 || pos == 0 || pos == n)
        return -1;
    size_t *order = sorted_order(score, n);
    size_t *positives = malloc(pos * sizeof *positives);
    size_t *negatives = malloc((n - pos) * sizeof *negatives);
    unsigned *w = malloc(n * sizeof *w);
    double *aucs = malloc(reps * sizeof *aucs);
    int rc = -1;
    if (order && positives && negatives && w && aucs) {
        size_t p = 0, q = 0;
        for (size_t i = 0; i < n; i++) {
            if (label[i])
                positives[p++] = i;
            else
                negatives[q++] = i;
        }
        uint64_t state = seed;
        for (unsigned r = 0; r < reps; r++) {
            for (size_t i = 0; i < n; i++)
                w[i] = 0;
            for (size_t i = 0; i < pos; i++)
                w[positives[cn_risk_rng_below(&state, pos)]]++;
            for (size_t i = 0; i < n - pos; i++)
                w[negatives[cn_risk_rng_below(&state, n - pos)]]++;
            aucs[r] = weighted_auc(score, label, order, n, w);
        }
        qsort(aucs, reps, sizeof *aucs, by_double);
        /* Percentiles by linear interpolation between order statistics (numpy). */
        double at_low = BOOTSTRAP_LOW * (double)(reps - 1),
               at_high = BOOTSTRAP_HIGH * (double)(reps - 1);
        size_t l = (size_t)at_low, h = (size_t)at_high;
        *low = aucs[l] + (at_low - (double)l) * (l + 1 < reps ? aucs[l + 1] - aucs[l] : 0.0);
        *high = aucs[h] + (at_high - (double)h) * (h + 1 < reps ? aucs[h + 1] - aucs[h] : 0.0);
        rc = 0;
    }
    free(order);
    free(positives);
    free(negatives);
    free(w);
    free(aucs);
    return rc;
}

/* Platt's negative log-likelihood with targets t, computed without overflow. */
static double platt_objective(const double *margin, const double *t, size_t n, double a, double b)
{
    double f = 0.0;
    for (size_t i = 0; i < n; i++) {
        double z = margin[i] * a + b;
        if (z >= 0.0)
            f += t[i] * z + log1p(exp(-z));
        else
            f += (t[i] - 1.0) * z + log1p(exp(z));
    }
    return f;
}

int cn_risk_platt_fit(const double *margin, const int *label, size_t n, double *a_out,
                      double *b_out)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += label[i] != 0;
    size_t neg = n - pos;
    if (pos == 0 || neg == 0)
        return -1;
    double *t = malloc(n * sizeof *t);
    if (!t)
        return -1;
    double hi = ((double)pos + 1.0) / ((double)pos + 2.0), lo = 1.0 / ((double)neg + 2.0);
    for (size_t i = 0; i < n; i++)
        t[i] = label[i] ? hi : lo;
    double a = 0.0, b = log(((double)neg + 1.0) / ((double)pos + 1.0));
    double f = platt_objective(margin, t, n, a, b);
    for (int iter = 0; iter < PLATT_MAX_ITERATIONS; iter++) {
        double h11 = PLATT_HESSIAN_RIDGE, h22 = PLATT_HESSIAN_RIDGE, h21 = 0.0, g1 = 0.0, g2 = 0.0;
        for (size_t i = 0; i < n; i++) {
            double z = margin[i] * a + b, p, q;
            if (z >= 0.0) {
                p = exp(-z) / (1.0 + exp(-z));
                q = 1.0 / (1.0 + exp(-z));
            } else {
                p = 1.0 / (1.0 + exp(z));
                q = exp(z) / (1.0 + exp(z));
            }
            double d2 = p * q, d1 = t[i] - p;
            h11 += margin[i] * margin[i] * d2;
            h22 += d2;
            h21 += margin[i] * d2;
            g1 += margin[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < PLATT_GRADIENT_EPS && fabs(g2) < PLATT_GRADIENT_EPS)
            break;
        double det = h11 * h22 - h21 * h21;
        double da = -(h22 * g1 - h21 * g2) / det, db = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * da + g2 * db, step = 1.0;
        while (step >= PLATT_MIN_STEP) {
            double na = a + step * da, nb = b + step * db;
            double nf = platt_objective(margin, t, n, na, nb);
            if (nf < f + PLATT_ARMIJO * step * gd) {
                a = na;
                b = nb;
                f = nf;
                break;
            }
            step /= 2.0;
        }
        if (step < PLATT_MIN_STEP)
            break;
    }
    free(t);
    /* A line search that cannot improve means the optimum is reached to precision. */
    if (!isfinite(a) || !isfinite(b))
        return -1;
    *a_out = a;
    *b_out = b;
    return 0;
}
