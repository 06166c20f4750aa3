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

/* Neighbour lists of the adjacency matrix, compressed: start[i]..start[i+1]-1 in nb. */
struct csr {
    size_t *start;
    size_t *nb;
};

static int build_csr(const uint8_t *adj, size_t n, struct csr *g)
{
    size_t edges = 0;
    for (size_t i = 0; i < n * n; i++)
        edges += adj[i] != 0;
    g->start = malloc((n + 1) * sizeof(size_t));
    g->nb = malloc((edges ? edges : 1) * sizeof(size_t));
    if (!g->start || !g->nb)
        return CA_ERR_OUT_OF_MEMORY;
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        g->start[i] = e;
        for (size_t j = 0; j < n; j++)
            if (adj[i * n + j])
                g->nb[e++] = j;
    }
    g->start[n] = e;
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

int ca_graph_metrics(const uint8_t *adj, size_t n, double out[CA_GRAPH_METRIC_COUNT])
{
    memset(out, 0, CA_GRAPH_METRIC_COUNT * sizeof(double));
    if (n == 0)
        return 0;
    struct csr g = {0};
    size_t *dist = malloc(n * sizeof(size_t)), *queue = malloc(n * sizeof(size_t));
    uint8_t *seen = calloc(n, 1);
    int rc = dist && queue && seen ? build_csr(adj, n, &g) : CA_ERR_OUT_OF_MEMORY;
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
            size_t triangles = 0;
            for (size_t a = g.start[i]; a < g.start[i + 1]; a++)
                for (size_t b = a + 1; b < g.start[i + 1]; b++)
                    triangles += adj[g.nb[a] * n + g.nb[b]] != 0;
            clustering_sum += 2.0 * (double)triangles / ((double)k * (double)(k - 1));
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
    return rc;
}
