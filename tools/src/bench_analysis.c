/*
 * bench_analysis: times ca_analyze per stage on a synthetic full-field mammogram.
 *
 * usage: bench_analysis [RUNS] [ROWS COLUMNS]
 * The image (default 4096 x 3328, 0.07 mm, 12 bits) is a half-ellipse breast with
 * Gaussian noise, a low-frequency texture and a few dozen Gaussian blobs of 0.2-0.6 mm.
 * Prints, per stage, the fastest time over RUNS runs, the total, the findings and the
 * peak resident memory of the process.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "calc/analysis.h"

#define DEFAULT_ROWS 4096u
#define DEFAULT_COLUMNS 3328u
#define SPACING_MM 0.07
#define BITS_STORED 12
#define BLOB_COUNT 40
#define MAX_RUNS 100

static uint32_t rng_state = 2024;

static double uniform(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) / 16777216.0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v == 0 || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static uint16_t *synthesise(uint32_t rows, uint32_t columns)
{
    size_t n = (size_t)rows * columns;
    float *v = malloc(n * sizeof(float));
    uint16_t *px = malloc(n * sizeof(uint16_t));
    if (!v || !px) {
        free(v);
        free(px);
        return NULL;
    }
    double ax = 0.8 * columns, ay = 0.45 * rows;
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++) {
            double ex = x / ax, ey = (y - rows / 2.0) / ay;
            double noise = (uniform() + uniform() + uniform() - 1.5) * 2.0;
            double tex = 0.04 * sin(x * 0.013) * cos(y * 0.011) + 0.02 * sin((x + y) * 0.05);
            v[(size_t)y * columns + x] = (float)(ex * ex + ey * ey < 1.0
                                                     ? 0.45 + tex + 0.008 * noise
                                                     : 0.03 + 0.004 * noise);
        }
    for (int b = 0; b < BLOB_COUNT; b++) {
        double cx = columns * (0.1 + 0.5 * uniform()), cy = rows * (0.3 + 0.4 * uniform());
        double s_px = (0.2 + 0.4 * uniform()) / 2.5 / SPACING_MM;
        int r = (int)ceil(5 * s_px);
        for (int y = (int)cy - r; y <= (int)cy + r; y++)
            for (int x = (int)cx - r; x <= (int)cx + r; x++) {
                double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                v[(size_t)y * columns + x] += (float)(0.1 * exp(-d2 / (2 * s_px * s_px)));
            }
    }
    double max_value = (1u << BITS_STORED) - 1;
    for (size_t i = 0; i < n; i++) {
        double s = v[i] < 0 ? 0 : (v[i] > 1 ? 1 : v[i]);
        px[i] = (uint16_t)lround(s * max_value);
    }
    free(v);
    return px;
}

int main(int argc, char **argv)
{
    uint32_t runs = 3, rows = DEFAULT_ROWS, columns = DEFAULT_COLUMNS;
    if ((argc > 1 && parse_u32(argv[1], MAX_RUNS, &runs) < 0) ||
        (argc > 3 && (parse_u32(argv[2], CA_MAX_DIMENSION_PX, &rows) < 0 ||
                      parse_u32(argv[3], CA_MAX_DIMENSION_PX, &columns) < 0)) ||
        argc == 3 || argc > 4) {
        fprintf(stderr, "usage: bench_analysis [RUNS (1..%d)] [ROWS COLUMNS]\n", MAX_RUNS);
        return 2;
    }
    uint16_t *px = synthesise(rows, columns);
    if (!px) {
        fprintf(stderr, "bench_analysis: could not allocate a %ux%u image\n", columns, rows);
        return 1;
    }
    struct ca_image im;
    memset(&im, 0, sizeof(im));
    im.pixels = px;
    im.rows = rows;
    im.columns = columns;
    im.bits_stored = BITS_STORED;
    im.spacing_mm[0] = im.spacing_mm[1] = SPACING_MM;

    double best[CA_STAGE_COUNT], best_total = INFINITY;
    for (int s = 0; s < CA_STAGE_COUNT; s++)
        best[s] = INFINITY;
    struct ca_result r;
    memset(&r, 0, sizeof(r));
    for (uint32_t k = 0; k < runs; k++) {
        ca_result_free(&r);
        int rc = ca_analyze(&im, NULL, &r);
        if (rc < 0) {
            fprintf(stderr, "bench_analysis: analysis failed: %s\n", r.message);
            free(px);
            return 1;
        }
        double total = 0;
        for (int s = 0; s < CA_STAGE_COUNT; s++) {
            best[s] = r.stage_ms[s] < best[s] ? r.stage_ms[s] : best[s];
            total += r.stage_ms[s];
        }
        best_total = total < best_total ? total : best_total;
    }
    printf("image %ux%u, %.2f mm, %u runs (fastest shown)\n", columns, rows, SPACING_MM, runs);
    for (int s = 0; s < CA_STAGE_COUNT; s++)
        printf("  %-11s %8.1f ms\n", ca_stage_name(s), best[s]);
    printf("  %-11s %8.1f ms\n", "total", best_total);
    printf("findings: %zu calcifications, %zu clusters, %u candidates, breast %.0f mm2\n",
           r.calcification_count, r.cluster_count, r.candidate_count, r.breast_area_mm2);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        printf("peak resident memory: %.1f MB\n", ru.ru_maxrss / 1024.0);
    ca_result_free(&r);
    free(px);
    return 0;
}
