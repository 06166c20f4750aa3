/* The parenchyma's power spectrum follows P(f) ~ 1/f^beta with beta in the range
 * measured on real mammograms (about 2 to 3.5) and within 0.4 of the exponent the
 * generator used, checked by an independent numpy measurement (spectrum.py) on the final
 * quantised image. Skipped (77) without python3 numpy/scipy. A plain main: the work is
 * one external measurement per image. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "phantom/pgm.h"
#include "phantom/phantom.h"

#define SKIP 77
#define BETA_MIN 2.0
#define BETA_MAX 3.5
#define BETA_TOLERANCE 0.4

static const char *python(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* Runs spectrum.py on one phantom; returns its exit status, or 1 when the phantom or
 * its files could not be made. */
static int measure(uint64_t seed, enum cn_phantom_view view)
{
    struct cn_phantom_params p = {.seed = seed, .rows = 1536, .columns = 1248,
                                  .spacing_mm = 0.1, .bits = 12, .laterality = 'L',
                                  .view = view, .kind = CN_PHANTOM_NORMAL};
    struct cn_phantom_image img;
    char err[256], dir[] = "/tmp/cn_phantom_spectrum_XXXXXX", image[300], breast[300],
                   cmd[1200];
    if (cn_phantom_generate(&p, &img, err, sizeof err) != 0) {
        printf("generate: %s\n", err);
        return 1;
    }
    uint16_t *b = malloc((size_t)p.rows * p.columns * sizeof *b);
    if (!b || !mkdtemp(dir)) {
        free(b);
        cn_phantom_image_free(&img);
        return 1;
    }
    snprintf(image, sizeof image, "%s/image.pgm", dir);
    snprintf(breast, sizeof breast, "%s/breast.pgm", dir);
    for (size_t i = 0; i < (size_t)p.rows * p.columns; i++)
        b[i] = img.breast[i];
    int status = 1 << 8;
    if (cn_pgm_write(image, img.pixels, p.rows, p.columns, 4095, err, sizeof err) == 0 &&
        cn_pgm_write(breast, b, p.rows, p.columns, 1, err, sizeof err) == 0) {
        printf("seed %llu %s: generated with beta %.3f\n", (unsigned long long)seed,
               cn_phantom_view_name(view), img.beta);
        snprintf(cmd, sizeof cmd, "%s %s/spectrum.py %s %s 0.1 %.3f %.3f", python(),
                 CALCNODE_TEST_SOURCE_DIR, image, breast, fmax(BETA_MIN, img.beta - BETA_TOLERANCE),
                 fmin(BETA_MAX, img.beta + BETA_TOLERANCE));
        fflush(stdout);
        status = system(cmd);
    } else {
        printf("%s\n", err);
    }
    free(b);
    unlink(image);
    unlink(breast);
    rmdir(dir);
    cn_phantom_image_free(&img);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
    static const uint64_t seeds[] = {1, 2, 3};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        int rc = measure(seeds[i], i % 2 ? CN_PHANTOM_MLO : CN_PHANTOM_CC);
        if (rc == SKIP) {
            printf("skipped: python3 with numpy and scipy is not available\n");
            return SKIP;
        }
        if (rc != 0) {
            printf("texture spectrum check failed (status %d)\n", rc);
            return 1;
        }
    }
    return 0;
}
