/*
 * Clustering of calcifications by the Tong rule and the BI-RADS rule
 * (ca_cluster_points in calc/kernels.h states the definitions).
 *
 * BI-RADS neighbours are found by a sweep over the points sorted by x: only pairs
 * closer than the radius along x are measured.
 */
#include "calc/kernels.h"

#include <math.h>
#include <stdlib.h>

#include "calc/analysis.h"

struct keyed {
    double key;
    uint32_t group;
    uint32_t index;
};

static int by_key(const void *a, const void *b)
{
    const struct keyed *p = a, *q = b;
    if (p->key != q->key)
        return p->key < q->key ? -1 : 1;
    return p->index < q->index ? -1 : p->index > q->index;
}

static int by_group(const void *a, const void *b)
{
    const struct keyed *p = a, *q = b;
    if (p->group != q->group)
        return p->group < q->group ? -1 : 1;
    return p->index < q->index ? -1 : p->index > q->index;
}

static size_t root_of(size_t *parent, size_t a)
{
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

static void join(size_t *parent, size_t a, size_t b)
{
    a = root_of(parent, a);
    b = root_of(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

int ca_cluster_points(const struct ca_point *points, size_t count,
                      const struct ca_cluster_rule *rule, int32_t *cluster_of,
                      size_t *cluster_count, uint8_t *rule_tong, uint8_t *rule_birads)
{
    if ((!points && count) || !rule || (!cluster_of && count) || !cluster_count ||
        !(rule->birads_radius_mm >= 0.0) || count > INT32_MAX)
        return CA_ERR_INVALID_ARGUMENT;
    *cluster_count = 0;
    if (count == 0)
        return 0;
    struct keyed *order = malloc(count * sizeof(*order));
    size_t *parent = malloc(count * sizeof(size_t));
    uint32_t *near = calloc(count, sizeof(uint32_t));
    uint8_t *flags = calloc(count, 1); /* bit 0: in a qualifying Tong group; 1: core */
    int rc = CA_ERR_OUT_OF_MEMORY;
    if (!order || !parent || !near || !flags)
        goto done;
    for (size_t i = 0; i < count; i++) {
        parent[i] = i;
        order[i].key = points[i].x_mm;
        order[i].group = points[i].tong_group;
        order[i].index = (uint32_t)i;
    }
    double r = rule->birads_radius_mm, r2 = r * r;

    /* BI-RADS: count the points in each point's circle (itself included) */
    qsort(order, count, sizeof(*order), by_key);
    for (size_t a = 0; a < count; a++) {
        near[order[a].index]++;
        for (size_t b = a + 1; b < count && order[b].key - order[a].key <= r; b++) {
            const struct ca_point *p = &points[order[a].index], *q = &points[order[b].index];
            double dx = p->x_mm - q->x_mm, dy = p->y_mm - q->y_mm;
            if (dx * dx + dy * dy <= r2) {
                near[order[a].index]++;
                near[order[b].index]++;
            }
        }
    }
    for (size_t i = 0; i < count; i++)
        if (near[i] >= rule->birads_min_count)
            flags[i] |= 2;
    /* link every core point to the points in its circle */
    for (size_t a = 0; a < count; a++) {
        for (size_t b = a + 1; b < count && order[b].key - order[a].key <= r; b++) {
            uint32_t i = order[a].index, j = order[b].index;
            if (!((flags[i] | flags[j]) & 2))
                continue;
            double dx = points[i].x_mm - points[j].x_mm, dy = points[i].y_mm - points[j].y_mm;
            if (dx * dx + dy * dy <= r2)
                join(parent, i, j);
        }
    }

    /* Tong: link the members of each group; mark groups of tong_min_count or more */
    qsort(order, count, sizeof(*order), by_group);
    for (size_t a = 0; a < count;) {
        size_t b = a + 1;
        while (b < count && order[b].group == order[a].group)
            b++;
        for (size_t k = a + 1; k < b; k++)
            join(parent, order[a].index, order[k].index);
        if (b - a >= rule->tong_min_count)
            for (size_t k = a; k < b; k++)
                flags[order[k].index] |= 1;
        a = b;
    }

    /* a linked set is a cluster when any member qualifies; number by lowest index */
    for (size_t i = 0; i < count; i++) {
        size_t root = root_of(parent, i);
        if (root != i)
            flags[root] |= (uint8_t)(flags[i] << 2);
    }
    for (size_t i = 0; i < count; i++) {
        size_t root = root_of(parent, i);
        uint8_t f = flags[root] | (uint8_t)(flags[root] << 2);
        if (!(f & 12)) {
            cluster_of[i] = -1;
            continue;
        }
        if (root == i) {
            size_t c = (*cluster_count)++;
            cluster_of[i] = (int32_t)c;
            if (rule_tong)
                rule_tong[c] = (f & 4) != 0;
            if (rule_birads)
                rule_birads[c] = (f & 8) != 0;
        } else {
            cluster_of[i] = cluster_of[root];
        }
    }
    rc = 0;
done:
    free(order);
    free(parent);
    free(near);
    free(flags);
    return rc;
}
