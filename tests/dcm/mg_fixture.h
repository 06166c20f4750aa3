/* A small synthetic MG For Presentation image, written with cn_mg_write, for the tests
 * that need a source image with known pixels. */
#ifndef CN_TESTS_DCM_MG_FIXTURE_H
#define CN_TESTS_DCM_MG_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>

#include "dcm/dcm.h"
#include "dcm/mg_writer.h"

#define FIXTURE_ROWS 96u
#define FIXTURE_COLUMNS 64u
#define FIXTURE_BITS 12u

/* Deterministic pixels covering 0 and 2^FIXTURE_BITS - 1, with texture that makes
 * row/column or byte-order mistakes visible. Caller frees. */
static inline uint16_t *fixture_pixels(void)
{
    uint16_t *p = malloc(FIXTURE_ROWS * FIXTURE_COLUMNS * sizeof *p);
    if (p == NULL)
        return NULL;
    const uint32_t max = (1u << FIXTURE_BITS) - 1;
    for (uint32_t r = 0; r < FIXTURE_ROWS; r++)
        for (uint32_t c = 0; c < FIXTURE_COLUMNS; c++)
            p[r * FIXTURE_COLUMNS + c] =
                (uint16_t)((r * 37u + c * 101u + (r * c) % 13u * 7u) % (max + 1));
    p[0] = 0;
    p[1] = (uint16_t)max;
    return p;
}

static inline struct cn_mg_identity fixture_identity(void)
{
    struct cn_mg_identity id = {
        .specific_character_set = "ISO_IR 192",
        .patient_name = "Test^Mamograf\xc3\xad" "a",
        .patient_id = "CN-TEST-1",
        .patient_birth_date = "19700101",
        .patient_sex = "F",
        .study_instance_uid = "1.2.826.0.1.3680043.10.1000.1",
        .study_date = "20240105",
        .study_time = "101500",
        .study_id = "S1",
        .accession_number = "A1",
        .study_description = "screening",
        .referring_physician_name = NULL,
        .series_instance_uid = "1.2.826.0.1.3680043.10.1000.1.1",
        .series_description = "phantom",
        .series_number = 1,
        .sop_instance_uid = "1.2.826.0.1.3680043.10.1000.1.1.1",
        .instance_number = 1,
        .manufacturer = NULL,
    };
    return id;
}

/* Writes the fixture (L MLO, 0.07 mm) to path; returns cn_mg_write's result. */
static inline int write_fixture(const char *path, char *err, size_t err_len)
{
    uint16_t *pixels = fixture_pixels();
    if (pixels == NULL)
        return CN_DCM_ENOMEM;
    struct cn_mg_identity id = fixture_identity();
    struct cn_mg_pixels img = {
        .pixels = pixels,
        .rows = FIXTURE_ROWS,
        .columns = FIXTURE_COLUMNS,
        .bits_stored = FIXTURE_BITS,
        .pixel_spacing_mm = {0.07, 0.07},
        .laterality = 'L',
        .view = "MLO",
        .window_center = 0,
        .window_width = 0,
    };
    int rc = cn_mg_write(path, &id, &img, err, err_len);
    free(pixels);
    return rc;
}

#endif
