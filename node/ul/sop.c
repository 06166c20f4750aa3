/* Tables of accepted abstract and transfer syntaxes. UIDs as registered in
 * PS3.6 Annex A (checked against DCMTK's dcuid.h by tests/ul/test_negotiate.c
 * where available). */
#include "ul/sop.h"

#include <string.h>

/* PS3.4 A.4 (Verification) and B.5 (Storage SOP classes). */
static const struct cn_named_uid abstract_syntaxes[] = {
    {CN_UID_VERIFICATION, "Verification SOP Class"},
    {"1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image Storage - For Presentation"},
    {"1.2.840.10008.5.1.4.1.1.1.1.1", "Digital X-Ray Image Storage - For Processing"},
    {"1.2.840.10008.5.1.4.1.1.1.2", "Digital Mammography X-Ray Image Storage - For Presentation"},
    {"1.2.840.10008.5.1.4.1.1.1.2.1", "Digital Mammography X-Ray Image Storage - For Processing"},
    {"1.2.840.10008.5.1.4.1.1.13.1.3", "Breast Tomosynthesis Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.13.1.4", "Breast Projection X-Ray Image Storage - For Presentation"},
    {"1.2.840.10008.5.1.4.1.1.13.1.5", "Breast Projection X-Ray Image Storage - For Processing"},
    {"1.2.840.10008.5.1.4.1.1.3.1", "Ultrasound Multi-frame Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.4", "MR Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.4.1", "Enhanced MR Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7.1", "Multi-frame Single Bit Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7.2", "Multi-frame Grayscale Byte Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7.3", "Multi-frame Grayscale Word Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7.4", "Multi-frame True Color Secondary Capture Image Storage"},
    {CN_UID_GSPS_STORAGE, "Grayscale Softcopy Presentation State Storage"},
    {"1.2.840.10008.5.1.4.1.1.11.2", "Color Softcopy Presentation State Storage"},
    {"1.2.840.10008.5.1.4.1.1.11.3", "Pseudo-Color Softcopy Presentation State Storage"},
    {"1.2.840.10008.5.1.4.1.1.11.4", "Blending Softcopy Presentation State Storage"},
    {"1.2.840.10008.5.1.4.1.1.66", "Raw Data Storage"},
    {"1.2.840.10008.5.1.4.1.1.66.1", "Spatial Registration Storage"},
    {"1.2.840.10008.5.1.4.1.1.66.3", "Deformable Spatial Registration Storage"},
    {"1.2.840.10008.5.1.4.1.1.66.5", "Surface Segmentation Storage"},
    {"1.2.840.10008.5.1.4.1.1.66.7", "Label Map Segmentation Storage"},
    {"1.2.840.10008.5.1.4.1.1.67", "Real World Value Mapping Storage"},
    {"1.2.840.10008.5.1.4.1.1.30", "Parametric Map Storage"},
    {"1.2.840.10008.5.1.4.1.1.104.2", "Encapsulated CDA Storage"},
    {CN_UID_SEGMENTATION_STORAGE, "Segmentation Storage"},
    {"1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage"},
    {CN_UID_COMPREHENSIVE_SR_STORAGE, "Comprehensive SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.34", "Comprehensive 3D SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.35", "Extensible SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.40", "Procedure Log Storage"},
    {CN_UID_MAMMOGRAPHY_CAD_SR_STORAGE, "Mammography CAD SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.59", "Key Object Selection Document Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.65", "Chest CAD SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.67", "X-Ray Radiation Dose SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.68", "Radiopharmaceutical Radiation Dose SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.69", "Colon CAD SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.70", "Implantation Plan SR Document Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.71", "Acquisition Context SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.72", "Simplified Adult Echo SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.73", "Patient Radiation Dose SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.74", "Planned Imaging Agent Administration SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.75", "Performed Imaging Agent Administration SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.76", "Enhanced X-Ray Radiation Dose SR Storage"},
};

/* Mammography (For Presentation and For Processing), digital X-ray, CR and Secondary
 * Capture (digitised film). Our own results are never analysed, so a PACS that routes
 * them back cannot start a loop. */
static const struct cn_named_uid analysed_classes[] = {
    {"1.2.840.10008.5.1.4.1.1.1.2", "Digital Mammography X-Ray Image Storage - For Presentation"},
    {"1.2.840.10008.5.1.4.1.1.1.2.1", "Digital Mammography X-Ray Image Storage - For Processing"},
    {"1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image Storage - For Presentation"},
    {"1.2.840.10008.5.1.4.1.1.1.1.1", "Digital X-Ray Image Storage - For Processing"},
    {"1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage"},
};

/* What node/dcm writes: seg_writer.cc, sr_measurement.cc, sr_cad.cc, gsps_writer.cc. */
static const struct cn_named_uid result_classes[] = {
    {CN_UID_SEGMENTATION_STORAGE, "Segmentation Storage"},
    {CN_UID_COMPREHENSIVE_SR_STORAGE, "Comprehensive SR Storage"},
    {CN_UID_MAMMOGRAPHY_CAD_SR_STORAGE, "Mammography CAD SR Storage"},
    {CN_UID_GSPS_STORAGE, "Grayscale Softcopy Presentation State Storage"},
};

/* PS3.5 Section 10 and Annex A. */
static const struct cn_named_uid transfer_syntaxes[] = {
    {CN_UID_IMPLICIT_VR_LE, "Implicit VR Little Endian"},
    {CN_UID_EXPLICIT_VR_LE, "Explicit VR Little Endian"},
    {CN_UID_DEFLATED_EXPLICIT_VR_LE, "Deflated Explicit VR Little Endian"},
    {CN_UID_EXPLICIT_VR_BE, "Explicit VR Big Endian (Retired)"},
    {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"},
    {"1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"},
    {"1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"},
    {"1.2.840.10008.1.2.4.70", "JPEG Lossless, First-Order Prediction (Process 14 SV1)"},
    {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression"},
    {"1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression"},
    {"1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)"},
    {"1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression"},
    {"1.2.840.10008.1.2.5", "RLE Lossless"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct cn_named_uid *cn_sop_abstract_syntaxes(size_t *count)
{
    *count = COUNT(abstract_syntaxes);
    return abstract_syntaxes;
}

const struct cn_named_uid *cn_sop_transfer_syntaxes(size_t *count)
{
    *count = COUNT(transfer_syntaxes);
    return transfer_syntaxes;
}

const struct cn_named_uid *cn_sop_analysed_classes(size_t *count)
{
    *count = COUNT(analysed_classes);
    return analysed_classes;
}

const struct cn_named_uid *cn_sop_result_classes(size_t *count)
{
    *count = COUNT(result_classes);
    return result_classes;
}

static const struct cn_named_uid *find(const struct cn_named_uid *t, size_t n, const char *uid)
{
    if (uid == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].uid, uid) == 0)
            return &t[i];
    return NULL;
}

const struct cn_named_uid *cn_sop_find_abstract(const char *uid)
{
    return find(abstract_syntaxes, COUNT(abstract_syntaxes), uid);
}

int cn_sop_is_analysed_class(const char *uid)
{
    return find(analysed_classes, COUNT(analysed_classes), uid) != NULL;
}

const struct cn_named_uid *cn_sop_find_transfer(const char *uid)
{
    return find(transfer_syntaxes, COUNT(transfer_syntaxes), uid);
}
