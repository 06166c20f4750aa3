/*
 * Graph metrics of a calcification graph (Chen et al., IEEE TBME 2014): components,
 * degrees, eccentricities by breadth-first search from every node, clustering
 * coefficients. calc/features.h states the definitions.
 */
#include <stdlib.h>
#include <string.h>

#include "features_internal.h"

enum {
    GM_SUBGRAPHS,
    GM_MEAN_DEGREE,
    GM_MAX_DEGREE,
    GM_MEAN_ECCENTRICITY,
    GM_DIAMETER,
    GM_MEAN_CLUSTERING,
    GM_GIANT_RATIO,
    GM_ISOLATED_FRACTION
};

/* Neighbour lists, compressed: the neighbours of i are nb[start[i] .. start[i+1]-1]. */
struct csr {
    size_t *start;
    size_t *nb;
};

static int build_csr(size_t n, const struct ca_edge *edges, size_t edge_count, struct csr *g)
{
    g->start = calloc(n + 1, sizeof(size_t));
    g->nb = malloc((edge_count ? 2 * edge_count : 1) * sizeof(size_t));
    size_t *fill = malloc(n * sizeof(size_t));
    if (!g->start || !g->nb || !fill) {
        free(fill);
        return CA_ERR_OUT_OF_MEMORY;
    }
    for (size_t e = 0; e < edge_count; e++) {
        g->start[edges[e].a + 1]++;
        g->start[edges[e].b + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        g->start[i + 1] += g->start[i];
    memcpy(fill, g->start, n * sizeof(size_t));
    for (size_t e = 0; e < edge_count; e++) {
        g->nb[fill[edges[e].a]++] = edges[e].b;
        g->nb[fill[edges[e].b]++] = edges[e].a;
    }
    free(fill);
    return 0;
}

/* Breadth-first search from s: returns the largest hop distance to a reached node and
 * the number of reached nodes in *reached. dist (n) is scratch, queue (n) too. */
static size_t bfs(const struct csr *g, size_t n, size_t s, size_t *dist, size_t *queue,
                  size_t *reached)
{
    for (size_t i = 0; i < n; i++)
        dist[i] = SIZE_MAX;
    size_t head = 0, tail = 0, far = 0;
    dist[s] = 0;
    queue[tail++] = s;
    while (head < tail) {
        size_t u = queue[head++];
        far = dist[u] > far ? dist[u] : far;
        for (size_t e = g->start[u]; e < g->start[u + 1]; e++) {
            size_t w = g->nb[e];
            if (dist[w] == SIZE_MAX) {
                dist[w] = dist[u] + 1;
                queue[tail++] = w;
            }
        }
    }
    *reached = tail;
    return far;
}

int ca_graph_metrics(size_t n, const struct ca_edge *edges, size_t edge_count,
                     double out[CA_GRAPH_METRIC_COUNT])
{
    memset(out, 0, CA_GRAPH_METRIC_COUNT * sizeof(double));
    if (n == 0)
        return 0;
    struct csr g = {0};
    size_t *dist = malloc(n * sizeof(size_t)), *queue = malloc(n * sizeof(size_t));
    uint8_t *seen = calloc(n, 1);
    size_t *mark = calloc(n, sizeof(size_t));
    int rc =
        dist && queue && seen && mark ? build_csr(n, edges, edge_count, &g) : CA_ERR_OUT_OF_MEMORY;
    if (rc != 0)
        goto done;
    size_t components = 0, giant = 0, isolated = 0, max_degree = 0, degree_sum = 0;
    size_t ecc_sum = 0, diameter = 0;
    double clustering_sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        size_t reached, ecc = bfs(&g, n, i, dist, queue, &reached);
        ecc_sum += ecc;
        diameter = ecc > diameter ? ecc : diameter;
        if (!seen[i]) {
            components++;
            giant = reached > giant ? reached : giant;
            for (size_t q = 0; q < reached; q++)
                seen[queue[q]] = 1;
        }
        size_t k = g.start[i + 1] - g.start[i];
        degree_sum += k;
        max_degree = k > max_degree ? k : max_degree;
        isolated += k == 0;
        if (k >= 2) {
            /* links among the neighbours of i: each is seen from both of its ends */
            size_t seen_twice = 0;
            for (size_t a = g.start[i]; a < g.start[i + 1]; a++)
                mark[g.nb[a]] = i + 1;
            for (size_t a = g.start[i]; a < g.start[i + 1]; a++) {
                size_t j = g.nb[a];
                for (size_t b = g.start[j]; b < g.start[j + 1]; b++)
                    seen_twice += mark[g.nb[b]] == i + 1;
            }
            clustering_sum += (double)seen_twice / ((double)k * (double)(k - 1));
        }
    }
    out[GM_SUBGRAPHS] = (double)components;
    out[GM_MEAN_DEGREE] = (double)degree_sum / (double)n;
    out[GM_MAX_DEGREE] = (double)max_degree;
    out[GM_MEAN_ECCENTRICITY] = (double)ecc_sum / (double)n;
    out[GM_DIAMETER] = (double)diameter;
    out[GM_MEAN_CLUSTERING] = clustering_sum / (double)n;
    out[GM_GIANT_RATIO] = (double)giant / (double)n;
    out[GM_ISOLATED_FRACTION] = (double)isolated / (double)n;
done:
    free(g.start);
    free(g.nb);
    free(dist);
    free(queue);
    free(seen);
    free(mark);
    return rc;
}
