/*
 * Binary morphology, connected components and Otsu's threshold (calc/kernels.h).
 */
#include "calc/kernels.h"

#include <stdlib.h>
#include <string.h>

#include "calc/analysis.h"

/* Union-find over provisional labels; the root of a set is its smallest label. */
static uint32_t find_root(uint32_t *parent, uint32_t a)
{
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

static uint32_t unite(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a < b) {
        parent[b] = a;
        return a;
    }
    parent[a] = b;
    return b;
}

int ca_label(const uint8_t *mask, uint32_t *labels, uint32_t rows, uint32_t columns,
             uint32_t *count)
{
    if (!mask || !labels || !count || rows == 0 || columns == 0)
        return CA_ERR_INVALID_ARGUMENT;
    size_t cap = 1024, next = 1;
    uint32_t *parent = malloc(cap * sizeof(uint32_t));
    if (!parent)
        return CA_ERR_OUT_OF_MEMORY;
    parent[0] = 0;
    for (uint32_t y = 0; y < rows; y++) {
        const uint8_t *m = mask + (size_t)y * columns;
        uint32_t *l = labels + (size_t)y * columns;
        const uint32_t *up = y ? l - columns : NULL;
        for (uint32_t x = 0; x < columns; x++) {
            if (!m[x]) {
                l[x] = 0;
                continue;
            }
            /* 8-connectivity: west, north-west, north, north-east are already final */
            uint32_t best = 0;
            uint32_t nb[4] = {x ? l[x - 1] : 0, up && x ? up[x - 1] : 0, up ? up[x] : 0,
                              up && x + 1 < columns ? up[x + 1] : 0};
            for (int k = 0; k < 4; k++) {
                if (!nb[k])
                    continue;
                best = best ? unite(parent, best, nb[k]) : find_root(parent, nb[k]);
            }
            if (!best) {
                if (next == cap) {
                    uint32_t *grown = realloc(parent, 2 * cap * sizeof(uint32_t));
                    if (!grown) {
                        free(parent);
                        return CA_ERR_OUT_OF_MEMORY;
                    }
                    parent = grown;
                    cap *= 2;
                }
                parent[next] = (uint32_t)next;
                best = (uint32_t)next++;
            }
            l[x] = best;
        }
    }
    /* roots in increasing order are the components in raster order of first pixel */
    uint32_t final_count = 0;
    for (size_t i = 1; i < next; i++)
        parent[i] = parent[parent[i]]; /* parents are smaller, hence already roots */
    for (size_t i = 1; i < next; i++)
        parent[i] = parent[i] == i ? ++final_count | 0x80000000u : parent[parent[i]];
    size_t n = (size_t)rows * columns;
    for (size_t i = 0; i < n; i++)
        if (labels[i])
            labels[i] = parent[labels[i]] & 0x7fffffffu;
    free(parent);
    *count = final_count;
    return 0;
}

/* out = any nonzero of in along rows over the window [x - k/2, x + k - 1 - k/2]. */
static void dilate_rows(const uint8_t *in, uint8_t *out, uint32_t rows, uint32_t columns,
                        uint32_t k, uint32_t *run)
{
    uint32_t before = k / 2, after = k - 1 - k / 2;
    for (uint32_t y = 0; y < rows; y++) {
        const uint8_t *src = in + (size_t)y * columns;
        uint8_t *dst = out + (size_t)y * columns;
        /* run[x] = number of nonzero in src[0..x-1] */
        run[0] = 0;
        for (uint32_t x = 0; x < columns; x++)
            run[x + 1] = run[x] + (src[x] != 0);
        for (uint32_t x = 0; x < columns; x++) {
            uint32_t lo = x >= before ? x - before : 0;
            uint32_t hi = x + after + 1 < columns ? x + after + 1 : columns;
            dst[x] = run[hi] > run[lo];
        }
    }
}

static void dilate_columns(const uint8_t *in, uint8_t *out, uint32_t rows,
                           uint32_t columns, uint32_t k, uint32_t *count)
{
    uint32_t before = k / 2, after = k - 1 - k / 2;
    memset(count, 0, (size_t)columns * sizeof(uint32_t));
    /* count[x] = nonzero in rows [y - before, y + after] clipped; start with y = 0 */
    for (uint32_t r = 0; r <= after && r < rows; r++)
        for (uint32_t x = 0; x < columns; x++)
            count[x] += in[(size_t)r * columns + x] != 0;
    for (uint32_t y = 0; y < rows; y++) {
        uint8_t *dst = out + (size_t)y * columns;
        for (uint32_t x = 0; x < columns; x++)
            dst[x] = count[x] != 0;
        uint64_t add = (uint64_t)y + after + 1;
        if (add < rows) {
            const uint8_t *src = in + (size_t)add * columns;
            for (uint32_t x = 0; x < columns; x++)
                count[x] += src[x] != 0;
        }
        if (y >= before) {
            const uint8_t *src = in + (size_t)(y - before) * columns;
            for (uint32_t x = 0; x < columns; x++)
                count[x] -= src[x] != 0;
        }
    }
}

/* out rows must not alias in for the column pass, hence the temporary. */
static int dilate(const uint8_t *in, uint8_t *out, uint32_t rows, uint32_t columns,
                  uint32_t k_rows, uint32_t k_cols, int invert)
{
    if (!in || !out || rows == 0 || columns == 0 || k_rows == 0 || k_cols == 0)
        return CA_ERR_INVALID_ARGUMENT;
    size_t n = (size_t)rows * columns;
    size_t aux_len = (size_t)columns + 1;
    uint8_t *tmp = malloc(n);
    uint8_t *src = malloc(n);
    uint32_t *aux = malloc(aux_len * sizeof(uint32_t));
    if (!tmp || !src || !aux) {
        free(tmp);
        free(src);
        free(aux);
        return CA_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < n; i++)
        src[i] = invert ? in[i] == 0 : in[i] != 0;
    dilate_rows(src, tmp, rows, columns, k_cols, aux);
    dilate_columns(tmp, src, rows, columns, k_rows, aux);
    for (size_t i = 0; i < n; i++)
        out[i] = invert ? !src[i] : src[i];
    free(tmp);
    free(src);
    free(aux);
    return 0;
}

int ca_dilate_box(const uint8_t *in, uint8_t *out, uint32_t rows, uint32_t columns,
                  uint32_t k_rows, uint32_t k_cols)
{
    return dilate(in, out, rows, columns, k_rows, k_cols, 0);
}

/* Erosion is the complement of the dilation of the complement (same window). */
int ca_erode_box(const uint8_t *in, uint8_t *out, uint32_t rows, uint32_t columns,
                 uint32_t k_rows, uint32_t k_cols)
{
    return dilate(in, out, rows, columns, k_rows, k_cols, 1);
}

int ca_fill_holes(uint8_t *mask, uint32_t rows, uint32_t columns)
{
    if (!mask || rows == 0 || columns == 0)
        return CA_ERR_INVALID_ARGUMENT;
    size_t n = (size_t)rows * columns;
    /* 0 foreground or unvisited background, 2 background reached from the border */
    uint32_t *stack = malloc(n * sizeof(uint32_t));
    if (!stack)
        return CA_ERR_OUT_OF_MEMORY;
    size_t top = 0;
    for (size_t i = 0; i < n; i++)
        mask[i] = mask[i] != 0;
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++) {
            if (y != 0 && y != rows - 1 && x != 0 && x != columns - 1)
                continue;
            size_t i = (size_t)y * columns + x;
            if (mask[i] == 0) {
                mask[i] = 2;
                stack[top++] = (uint32_t)i;
            }
        }
    while (top) {
        uint32_t i = stack[--top];
        uint32_t y = i / columns, x = i % columns;
        uint32_t nb[4];
        int nn = 0;
        if (x)
            nb[nn++] = i - 1;
        if (x + 1 < columns)
            nb[nn++] = i + 1;
        if (y)
            nb[nn++] = i - columns;
        if (y + 1 < rows)
            nb[nn++] = i + columns;
        for (int k = 0; k < nn; k++)
            if (mask[nb[k]] == 0) {
                mask[nb[k]] = 2;
                stack[top++] = nb[k];
            }
    }
    for (size_t i = 0; i < n; i++)
        mask[i] = mask[i] != 2;
    free(stack);
    return 0;
}

int ca_otsu_threshold(const uint32_t *histogram, uint32_t bin_count)
{
    if (!histogram || bin_count < 2)
        return -1;
    double total = 0.0, sum = 0.0;
    uint32_t occupied = 0;
    for (uint32_t i = 0; i < bin_count; i++) {
        total += histogram[i];
        sum += (double)i * histogram[i];
        occupied += histogram[i] != 0;
    }
    if (occupied < 2)
        return -1;
    double w0 = 0.0, sum0 = 0.0, best = -1.0;
    int best_bin = -1;
    for (uint32_t t = 0; t + 1 < bin_count; t++) {
        w0 += histogram[t];
        sum0 += (double)t * histogram[t];
        double w1 = total - w0;
        if (w0 == 0.0 || w1 == 0.0)
            continue;
        double m0 = sum0 / w0, m1 = (sum - sum0) / w1;
        double between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if (between > best) {
            best = between;
            best_bin = (int)t;
        }
    }
    return best_bin;
}

int ca_tong_groups(const uint32_t *labels, uint32_t rows, uint32_t columns,
                   uint32_t label_count, uint32_t k_rows, uint32_t k_cols,
                   uint32_t *group_of)
{
    if (!labels || !group_of || rows == 0 || columns == 0)
        return CA_ERR_INVALID_ARGUMENT;
    if (label_count == 0)
        return 0;
    size_t n = (size_t)rows * columns;
    uint8_t *mask = malloc(n);
    uint32_t *dilated = malloc(n * sizeof(uint32_t));
    if (!mask || !dilated) {
        free(mask);
        free(dilated);
        return CA_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < n; i++)
        mask[i] = labels[i] != 0;
    uint32_t groups = 0;
    int rc = ca_dilate_box(mask, mask, rows, columns, k_rows, k_cols);
    if (rc == 0)
        rc = ca_label(mask, dilated, rows, columns, &groups);
    if (rc == 0) {
        for (uint32_t i = 0; i < label_count; i++)
            group_of[i] = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t l = labels[i];
            if (l && l <= label_count && !group_of[l - 1])
                group_of[l - 1] = dilated[i];
        }
    }
    free(mask);
    free(dilated);
    return rc;
}
