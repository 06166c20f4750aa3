/* phantom: writes a synthetic digital mammogram with exact calcification truth.
 *
 *   phantom --seed N --rows R --columns C --spacing-mm S --bits B --laterality L|R
 *           --view CC|MLO --kind benign|malignant|mixed|normal --out-dir DIR
 *           [--name NAME] [--study-uid UID] [--patient-id ID]
 *
 * Writes DIR/NAME.dcm (Digital Mammography X-Ray Image - For Presentation),
 * DIR/NAME.truth.json and DIR/NAME.mask.pgm (16-bit PGM, 0 background, k = calcification
 * k). NAME defaults to phantom-<seed>-<laterality><view>-<kind>. UIDs derive from the
 * seed (the study UID from the seed alone, so the four views of one seed form one study).
 * Exit status 0 success, 1 failure, 2 usage error. */
#include "dcm/dcm.h"
#include "dcm/mg_writer.h"
#include "phantom/pgm.h"
#include "phantom/phantom.h"
#include "phantom/uid.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_SIZE 4096
#define ERR_SIZE 512
#define WINDOW_LOW_FRACTION 0.01   /* VOI window over the 1st..99th breast percentile */
#define WINDOW_HIGH_FRACTION 0.99

static void usage(FILE *to)
{
    fprintf(to, "usage: phantom --seed N --rows R --columns C --spacing-mm S --bits B\n"
                "               --laterality L|R --view CC|MLO\n"
                "               --kind benign|malignant|mixed|normal --out-dir DIR\n"
                "               [--name NAME] [--study-uid UID] [--patient-id ID]\n");
}

static int parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* A VOI window over the breast's 1st..99th percentile. */
static void breast_window(const struct cn_phantom_image *img, double *center, double *width)
{
    uint32_t maxval = (1u << img->params.bits) - 1;
    size_t full = (size_t)img->params.rows * img->params.columns;
    uint64_t *hist = calloc((size_t)maxval + 1, sizeof *hist);
    uint64_t total = 0;
    *center = maxval / 2.0;
    *width = maxval;
    if (!hist)
        return;
    for (size_t i = 0; i < full; i++)
        if (img->breast[i]) {
            hist[img->pixels[i]]++;
            total++;
        }
    uint64_t acc = 0;
    uint32_t lo = 0, hi = maxval;
    int have_lo = 0;
    for (uint32_t v = 0; total && v <= maxval; v++) {
        acc += hist[v];
        if (!have_lo && acc >= WINDOW_LOW_FRACTION * total) {
            lo = v;
            have_lo = 1;
        }
        if (acc >= WINDOW_HIGH_FRACTION * total) {
            hi = v;
            break;
        }
    }
    free(hist);
    if (hi > lo) {
        *center = (lo + hi) / 2.0;
        *width = (double)(hi - lo);
    }
}

int main(int argc, char **argv)
{
    struct cn_phantom_params p = {.laterality = 0, .view = CN_PHANTOM_CC};
    const char *out_dir = NULL, *name = NULL, *study_uid_arg = NULL, *patient_id_arg = NULL;
    int have[8] = {0};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "phantom: option \"%s\" needs a value\n", opt);
            usage(stderr);
            return 2;
        }
        const char *val = argv[++i];
        uint64_t u = 0;
        int bad = 0;
        if (strcmp(opt, "--seed") == 0) {
            bad = parse_u64(val, UINT64_MAX, &p.seed);
            have[0] = 1;
        } else if (strcmp(opt, "--rows") == 0) {
            bad = parse_u64(val, CN_PHANTOM_MAX_SIDE_PX, &u);
            p.rows = (uint32_t)u;
            have[1] = 1;
        } else if (strcmp(opt, "--columns") == 0) {
            bad = parse_u64(val, CN_PHANTOM_MAX_SIDE_PX, &u);
            p.columns = (uint32_t)u;
            have[2] = 1;
        } else if (strcmp(opt, "--spacing-mm") == 0) {
            bad = parse_double(val, &p.spacing_mm);
            have[3] = 1;
        } else if (strcmp(opt, "--bits") == 0) {
            bad = parse_u64(val, CN_PHANTOM_MAX_BITS, &u);
            p.bits = (uint32_t)u;
            have[4] = 1;
        } else if (strcmp(opt, "--laterality") == 0) {
            bad = strcmp(val, "L") != 0 && strcmp(val, "R") != 0;
            p.laterality = val[0];
            have[5] = 1;
        } else if (strcmp(opt, "--view") == 0) {
            bad = cn_phantom_view_parse(val, &p.view);
            have[6] = 1;
        } else if (strcmp(opt, "--kind") == 0) {
            bad = cn_phantom_kind_parse(val, &p.kind);
            have[7] = 1;
        } else if (strcmp(opt, "--out-dir") == 0) {
            out_dir = val;
        } else if (strcmp(opt, "--name") == 0) {
            name = val;
            bad = strchr(val, '/') != NULL || val[0] == '\0';
        } else if (strcmp(opt, "--study-uid") == 0) {
            study_uid_arg = val;
        } else if (strcmp(opt, "--patient-id") == 0) {
            patient_id_arg = val;
        } else {
            fprintf(stderr, "phantom: unknown option \"%s\"\n", opt);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "phantom: invalid value \"%s\" for %s\n", val, opt);
            return 2;
        }
    }
    static const char *const required[] = {"--seed", "--rows", "--columns", "--spacing-mm",
                                           "--bits", "--laterality", "--view", "--kind"};
    for (int k = 0; k < 8; k++)
        if (!have[k]) {
            fprintf(stderr, "phantom: missing %s\n", required[k]);
            usage(stderr);
            return 2;
        }
    if (!out_dir) {
        fprintf(stderr, "phantom: missing --out-dir\n");
        usage(stderr);
        return 2;
    }
    char err[ERR_SIZE] = "";
    if (cn_phantom_params_check(&p, err, sizeof err) != 0) {
        fprintf(stderr, "phantom: %s\n", err);
        return 2;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "phantom: could not create directory \"%s\": %s\n", out_dir,
                strerror(errno));
        return 1;
    }

    char default_name[128];
    snprintf(default_name, sizeof default_name, "phantom-%" PRIu64 "-%c%s-%s", p.seed,
             p.laterality, cn_phantom_view_name(p.view), cn_phantom_kind_name(p.kind));
    if (!name)
        name = default_name;
    char dcm_path[PATH_SIZE], truth_path[PATH_SIZE], mask_path[PATH_SIZE];
    if (snprintf(dcm_path, sizeof dcm_path, "%s/%s.dcm", out_dir, name) >= PATH_SIZE ||
        snprintf(truth_path, sizeof truth_path, "%s/%s.truth.json", out_dir, name) >=
            PATH_SIZE ||
        snprintf(mask_path, sizeof mask_path, "%s/%s.mask.pgm", out_dir, name) >= PATH_SIZE) {
        fprintf(stderr, "phantom: output path too long\n");
        return 2;
    }

    /* UIDs: study from the seed alone; series and instance also from the view */
    char study_uid[CN_PHANTOM_UID_SIZE], series_uid[CN_PHANTOM_UID_SIZE],
        sop_uid[CN_PHANTOM_UID_SIZE], what[160];
    cn_phantom_uid(p.seed, "study", study_uid, sizeof study_uid);
    snprintf(what, sizeof what, "series %c%s %ux%u %g %u %s", p.laterality,
             cn_phantom_view_name(p.view), p.rows, p.columns, p.spacing_mm, p.bits,
             cn_phantom_kind_name(p.kind));
    cn_phantom_uid(p.seed, what, series_uid, sizeof series_uid);
    what[0] = 'S';
    cn_phantom_uid(p.seed, what, sop_uid, sizeof sop_uid);
    char patient_id[64], patient_name[64];
    snprintf(patient_id, sizeof patient_id, "PHANTOM-%" PRIu64, p.seed);
    snprintf(patient_name, sizeof patient_name, "Phantom^%" PRIu64, p.seed);

    struct cn_phantom_image img;
    int rc = cn_phantom_generate(&p, &img, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "phantom: %s\n", err);
        return rc == -1 ? 2 : 1;
    }
    struct cn_mg_identity id = {
        .patient_name = patient_name,
        .patient_id = patient_id_arg ? patient_id_arg : patient_id,
        .patient_birth_date = "19650101",
        .patient_sex = "F",
        .study_instance_uid = study_uid_arg ? study_uid_arg : study_uid,
        .study_date = "20240101",
        .study_time = "120000",
        .study_id = "1",
        .accession_number = "",
        .study_description = "Synthetic mammography phantom",
        .series_instance_uid = series_uid,
        .series_description = "phantom",
        .series_number = 1,
        .sop_instance_uid = sop_uid,
        .instance_number = 1,
    };
    struct cn_mg_pixels px = {
        .pixels = img.pixels,
        .rows = p.rows,
        .columns = p.columns,
        .bits_stored = p.bits,
        .pixel_spacing_mm = {p.spacing_mm, p.spacing_mm},
        .laterality = p.laterality,
        .view = cn_phantom_view_name(p.view),
    };
    breast_window(&img, &px.window_center, &px.window_width);
    int status = 0;
    const char *base = strrchr(dcm_path, '/') + 1;
    if (cn_mg_write(dcm_path, &id, &px, err, sizeof err) != 0) {
        fprintf(stderr, "phantom: %s\n", err);
        status = 1;
    } else if (cn_phantom_truth_write(&img, truth_path, base, sop_uid, err, sizeof err) != 0) {
        fprintf(stderr, "phantom: %s\n", err);
        status = 1;
    } else if (cn_pgm_write(mask_path, img.mask, p.rows, p.columns,
                            (uint16_t)(img.calc_count > 0 ? img.calc_count : 1), err,
                            sizeof err) != 0) {
        fprintf(stderr, "phantom: %s\n", err);
        status = 1;
    } else {
        printf("%s: %zu calcifications, %zu clusters\n", dcm_path, img.calc_count,
               img.cluster_count);
    }
    cn_phantom_image_free(&img);
    return status;
}
