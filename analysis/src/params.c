/*
 * Parameter defaults and range checks, error strings, stage names.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Tong et al. define the cluster kernel as 16 x 16 pixels on 0.1 mm images. */
#define TONG_KERNEL_PX 16.0
#define TONG_REFERENCE_SPACING_MM 0.1

void ca_params_default(struct ca_params *p)
{
    memset(p, 0, sizeof(*p));
    p->mask_spacing_mm = 0.5;
    p->min_breast_area_mm2 = 100.0;
    p->saturation_level = 0.98;
    p->saturation_margin_mm = 1.0;
    p->skin_margin_mm = 1.5;
    p->scale_count = 4;
    p->sigmas_mm[0] = 0.08;
    p->sigmas_mm[1] = 0.13;
    p->sigmas_mm[2] = 0.21;
    p->sigmas_mm[3] = 0.34;
    p->dog_ratio = 1.6;
    p->noise_block_mm = 4.0;
    p->contrast_min = 5.5;
    p->contrast_scale_exponent = 0.6;
    p->blob_eigen_ratio_min = 0.25;
    p->max_candidates = 200000;
    p->grow_fraction = 0.2;
    p->grow_fraction_max = 0.75;
    p->grow_linear_fraction = 0.5;
    p->grow_snr_min = 12.0;
    p->background_scales = 3.0;
    p->grow_narrow_sigma_max_mm = 0.13;
    p->grow_narrow_outer_sigma_mm = 0.21;
    p->macro_diameter_mm = 2.5;
    p->min_area_mm2 = 0.01;
    p->elongation_max = 3.0;
    p->segmentation_area_min_mm2 = 0.03;
    p->vessel_end_sigma_min_mm = 0.13;
    p->vessel_end_continuation_min = 0.5;
    p->vessel_fine_continuation_min = 0.6;
    p->cluster_kernel_mm = TONG_KERNEL_PX * TONG_REFERENCE_SPACING_MM;
    p->tong_min_count = 6;
    p->birads_area_mm2 = 100.0;
    p->birads_min_count = 3;
    p->suspicious_min_count = 6;
    p->suspicious_linear_fraction_max = 0.75;
    p->suspicious_strong_min = 5;
    p->small_group_strong_min = 3;
    p->confident_score_min = 0.5;
    p->strong_member_min = 2;
    p->second_stage_contrast_min = 2.0;
    p->second_stage_threshold = -2.3;
    p->second_stage_radius_mm = 5.0;
    p->second_stage_grow_snr_min = 40.0;
    p->second_stage_candidate_radius_mm = 2.5;
    p->second_stage_bright_contrast = 3.5;
    p->cluster_score_min = 0.0;
}

static int positive(double v)
{
    return isfinite(v) && v > 0.0;
}

int ca_narrow_outer_step(const struct ca_params *p)
{
    /* to a part in a million: the value usually comes from a configuration file */
    for (uint32_t s = 0; s < p->scale_count && s < CA_MAX_SCALES; s++) {
        double outer = s + 1 < p->scale_count ? p->sigmas_mm[s + 1]
                                              : p->dog_ratio * p->sigmas_mm[s];
        if (fabs(outer - p->grow_narrow_outer_sigma_mm) <= 1e-6 * outer)
            return (int)s;
    }
    return -1;
}

double ca_contrast_factor(const struct ca_params *p, uint32_t s)
{
    return pow(p->sigmas_mm[s] / p->sigmas_mm[0], p->contrast_scale_exponent);
}

int ca_params_check(const struct ca_params *p, char *msg)
{
    if (!positive(p->mask_spacing_mm) || !(p->min_breast_area_mm2 >= 0.0) ||
        !positive(p->saturation_level) || !(p->saturation_margin_mm >= 0.0) ||
        !(p->skin_margin_mm >= 0.0) || !isfinite(p->skin_margin_mm))
        return ca_fail(msg, CA_ERR_INVALID_ARGUMENT, "invalid breast mask parameters");
    if (p->scale_count == 0 || p->scale_count > CA_MAX_SCALES)
        return ca_fail(msg, CA_ERR_INVALID_ARGUMENT, "scale count %u outside 1..%d",
                       p->scale_count, CA_MAX_SCALES);
    for (uint32_t i = 0; i < p->scale_count; i++)
        if (!positive(p->sigmas_mm[i]) || (i && !(p->sigmas_mm[i] > p->sigmas_mm[i - 1])))
            return ca_fail(msg, CA_ERR_INVALID_ARGUMENT,
                           "sigmas must be positive and increasing (sigma %u is %g mm)", i,
                           p->sigmas_mm[i]);
    if (!(p->dog_ratio > 1.0) || !isfinite(p->dog_ratio) || !positive(p->noise_block_mm) ||
        !positive(p->contrast_min) ||
        !(p->contrast_scale_exponent >= 0.0) || !isfinite(p->contrast_scale_exponent) || !(p->blob_eigen_ratio_min >= 0.0) ||
        !(p->blob_eigen_ratio_min <= 1.0) || p->max_candidates == 0)
        return ca_fail(msg, CA_ERR_INVALID_ARGUMENT, "invalid candidate parameters");
    if (!(p->grow_fraction > 0.0) || !(p->grow_fraction < 1.0) ||
        !(p->grow_fraction_max >= p->grow_fraction) || !(p->grow_fraction_max < 1.0) ||
        !(p->grow_snr_min >= 0.0) || !isfinite(p->grow_snr_min) ||
        !positive(p->background_scales) || !positive(p->macro_diameter_mm) ||
        !(p->grow_narrow_sigma_max_mm >= 0.0) || !isfinite(p->grow_narrow_sigma_max_mm) ||
        !(p->min_area_mm2 >= 0.0) || !(p->elongation_max >= 1.0) ||
        !(p->grow_linear_fraction >= p->grow_fraction) || !(p->grow_linear_fraction < 1.0) ||
        !(p->vessel_end_sigma_min_mm >= 0.0) || !isfinite(p->vessel_end_sigma_min_mm) ||
        !(p->vessel_end_continuation_min >= 0.0) || !isfinite(p->vessel_end_continuation_min) ||
        !(p->segmentation_area_min_mm2 >= 0.0) || !isfinite(p->segmentation_area_min_mm2) ||
        !(p->vessel_fine_continuation_min >= 0.0) || !isfinite(p->vessel_fine_continuation_min))
        return ca_fail(msg, CA_ERR_INVALID_ARGUMENT, "invalid region growing parameters");
    if (!(p->grow_narrow_outer_sigma_mm > p->sigmas_mm[0]) ||
        !isfinite(p->grow_narrow_outer_sigma_mm))
        return ca_fail(msg, CA_ERR_INVALID_ARGUMENT,
                       "grow_narrow_outer_sigma_mm %g mm is not above the finest sigma",
                       p->grow_narrow_outer_sigma_mm);
    if (!positive(p->cluster_kernel_mm) || p->tong_min_count == 0 ||
        !positive(p->birads_area_mm2) || p->birads_min_count == 0 ||
        !(p->suspicious_linear_fraction_max >= 0.0) ||
        !(p->suspicious_linear_fraction_max <= 1.0) || isnan(p->confident_score_min))
        return ca_fail(msg, CA_ERR_INVALID_ARGUMENT, "invalid cluster parameters");
    if (!positive(p->second_stage_contrast_min) ||
        !(p->second_stage_contrast_min <= p->contrast_min) ||
        isnan(p->second_stage_threshold) || !positive(p->second_stage_radius_mm) ||
        !isfinite(p->second_stage_radius_mm) || !(p->second_stage_grow_snr_min >= 0.0) ||
        !isfinite(p->second_stage_grow_snr_min) || isnan(p->cluster_score_min) ||
        !positive(p->second_stage_candidate_radius_mm) ||
        !positive(p->second_stage_bright_contrast) ||
        !(p->second_stage_bright_contrast <= p->contrast_min) ||
        !isfinite(p->second_stage_candidate_radius_mm))
        return ca_fail(msg, CA_ERR_INVALID_ARGUMENT, "invalid second stage parameters");
    return 0;
}

int ca_fail(char *msg, int code, const char *fmt, ...)
{
    if (msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, CA_MESSAGE_LEN, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *ca_strerror(int code)
{
    switch (code) {
    case CA_OK:
        return "success";
    case CA_ERR_INVALID_ARGUMENT:
        return "invalid argument";
    case CA_ERR_IMAGE_TOO_SMALL:
        return "image too small";
    case CA_ERR_IMAGE_TOO_LARGE:
        return "image too large";
    case CA_ERR_BAD_SPACING:
        return "invalid pixel spacing";
    case CA_ERR_BAD_BITS_STORED:
        return "invalid bits stored";
    case CA_ERR_NO_BREAST:
        return "no breast found";
    case CA_ERR_OUT_OF_MEMORY:
        return "out of memory";
    default:
        return "unknown error";
    }
}

const char *ca_stage_name(int stage)
{
    static const char *const names[CA_STAGE_COUNT] = {"normalize", "mask", "candidates",
                                                      "grow", "cluster"};
    return stage >= 0 && stage < CA_STAGE_COUNT ? names[stage] : "unknown";
}
