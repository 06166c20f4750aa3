/*
 * Stage 2: the breast mask.
 *
 * On cells of about mask_spacing_mm (box means of the valid pixels): Otsu's threshold
 * on the cell means separates tissue from background; cells whose brightest pixel
 * reaches saturation_level (burned-in labels, lead markers, clips and other metal) are
 * removed with a margin; the largest 8-connected component is the breast (labels and
 * markers away from it are dropped); its holes are filled, the saturated cells removed
 * again, and the mask eroded by skin_margin_mm so the skin line yields no candidates
 * (the image border does not erode: the chest wall is often cut by it).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calc/kernels.h"
#include "internal.h"

#define OTSU_BINS 256

static uint32_t cells_for(double mm, double cell_mm)
{
    return (uint32_t)ceil(mm / cell_mm);
}

int ca_breast_mask(const float *img, const uint8_t *valid, uint32_t rows,
                   uint32_t columns, const double spacing_mm[2],
                   const struct ca_params *params, uint8_t *mask, double *area_mm2,
                   char *msg)
{
    uint32_t fr = (uint32_t)lround(params->mask_spacing_mm / spacing_mm[0]);
    uint32_t fc = (uint32_t)lround(params->mask_spacing_mm / spacing_mm[1]);
    fr = fr ? (fr > rows ? rows : fr) : 1;
    fc = fc ? (fc > columns ? columns : fc) : 1;
    uint32_t dr = (rows + fr - 1) / fr, dc = (columns + fc - 1) / fc;
    size_t dn = (size_t)dr * dc;
    double cell_r_mm = fr * spacing_mm[0], cell_c_mm = fc * spacing_mm[1];

    float *mean = calloc(dn, sizeof(float));
    float *peak = calloc(dn, sizeof(float));
    uint32_t *used = calloc(dn, sizeof(uint32_t));
    uint8_t *fg = malloc(dn);
    uint8_t *sat = malloc(dn);
    uint32_t *comp = malloc(dn * sizeof(uint32_t));
    int rc = CA_ERR_OUT_OF_MEMORY;
    if (!mean || !peak || !used || !fg || !sat || !comp) {
        ca_fail(msg, rc, "could not allocate the breast mask buffers");
        goto done;
    }
    for (uint32_t y = 0; y < rows; y++) {
        const float *src = img + (size_t)y * columns;
        const uint8_t *ok = valid + (size_t)y * columns;
        size_t row_cell = (size_t)(y / fr) * dc;
        for (uint32_t x = 0; x < columns; x++) {
            if (!ok[x])
                continue;
            size_t c = row_cell + x / fc;
            mean[c] += src[x];
            used[c]++;
            if (src[x] > peak[c])
                peak[c] = src[x];
        }
    }
    uint32_t hist[OTSU_BINS] = {0};
    for (size_t c = 0; c < dn; c++) {
        if (!used[c])
            continue;
        mean[c] /= (float)used[c];
        uint32_t bin = (uint32_t)(mean[c] * OTSU_BINS);
        hist[bin < OTSU_BINS ? bin : OTSU_BINS - 1]++;
    }
    int t = ca_otsu_threshold(hist, OTSU_BINS);
    if (t < 0) {
        rc = ca_fail(msg, CA_ERR_NO_BREAST, "no breast found: the image is uniform");
        goto done;
    }
    float level = (float)(t + 1) / OTSU_BINS;
    for (size_t c = 0; c < dn; c++)
        sat[c] = used[c] && peak[c] >= params->saturation_level;
    uint32_t margin_r = 2 * cells_for(params->saturation_margin_mm, cell_r_mm) + 1;
    uint32_t margin_c = 2 * cells_for(params->saturation_margin_mm, cell_c_mm) + 1;
    if ((rc = ca_dilate_box(sat, sat, dr, dc, margin_r, margin_c)) < 0)
        goto oom;
    for (size_t c = 0; c < dn; c++)
        fg[c] = used[c] && mean[c] >= level && !sat[c];

    uint32_t count = 0;
    if ((rc = ca_label(fg, comp, dr, dc, &count)) < 0)
        goto oom;
    /* largest component; the first in raster order on ties */
    uint32_t *size = calloc((size_t)count + 1, sizeof(uint32_t));
    if (!size) {
        rc = CA_ERR_OUT_OF_MEMORY;
        goto oom;
    }
    for (size_t c = 0; c < dn; c++)
        size[comp[c]]++;
    uint32_t best = 0;
    for (uint32_t l = 1; l <= count; l++)
        if (!best || size[l] > size[best])
            best = l;
    free(size);
    for (size_t c = 0; c < dn; c++)
        fg[c] = best && comp[c] == best;
    if ((rc = ca_fill_holes(fg, dr, dc)) < 0)
        goto oom;
    for (size_t c = 0; c < dn; c++)
        fg[c] = fg[c] && !sat[c];
    uint32_t skin_r = 2 * cells_for(params->skin_margin_mm, cell_r_mm) + 1;
    uint32_t skin_c = 2 * cells_for(params->skin_margin_mm, cell_c_mm) + 1;
    if ((rc = ca_erode_box(fg, fg, dr, dc, skin_r, skin_c)) < 0)
        goto oom;

    size_t inside = 0;
    for (uint32_t y = 0; y < rows; y++) {
        const uint8_t *cell_row = fg + (size_t)(y / fr) * dc;
        const uint8_t *ok = valid + (size_t)y * columns;
        uint8_t *dst = mask + (size_t)y * columns;
        for (uint32_t x = 0; x < columns; x++) {
            dst[x] = cell_row[x / fc] && ok[x];
            inside += dst[x];
        }
    }
    *area_mm2 = (double)inside * spacing_mm[0] * spacing_mm[1];
    if (*area_mm2 < params->min_breast_area_mm2 || inside == 0) {
        rc = ca_fail(msg, CA_ERR_NO_BREAST,
                     "no breast found: largest region is %.1f mm2, minimum %.1f mm2",
                     *area_mm2, params->min_breast_area_mm2);
        goto done;
    }
    rc = 0;
    goto done;
oom:
    ca_fail(msg, rc, "could not compute the breast mask: %s", ca_strerror(rc));
done:
    free(mean);
    free(peak);
    free(used);
    free(fg);
    free(sat);
    free(comp);
    return rc;
}
