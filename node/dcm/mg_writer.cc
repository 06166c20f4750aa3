/* node/dcm: cn_mg_write, Digital Mammography X-Ray Image - For Presentation (PS3.3 A.26). */
#include "dcm/mg_writer.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "dcm/dcm_internal.hh"
#include "dcm/dcm_writer_util.hh"

using namespace cn_dcm;

namespace {

const uint32_t max_side_px = 65535; /* US Rows / Columns */
const uint32_t min_bits_stored = 8;
const uint32_t max_bits_stored = 16;

/* PS3.3 C.8.11.7 Mammography Image Module, View Code Sequence from PS3.16 CID 4014, and
 * the Patient Orientation a conventionally hung view has (C.8.11.7.1.1): row direction
 * toward the nipple (A for left, P for right breast), column direction downward
 * (toward the feet, F, for the oblique). */
struct mg_view {
    const char *position;
    const char *code_value;
    const char *code_meaning;
    const char *orientation_left;
    const char *orientation_right;
};
const mg_view mg_views[] = {
    {"CC", "399162004", "cranio-caudal", "A\\R", "P\\L"},
    {"MLO", "399368009", "medio-lateral oblique", "A\\FR", "P\\FL"},
};

int write_mg(const char *path, const struct cn_mg_identity *id, const struct cn_mg_pixels *img,
             char *err, size_t err_len)
{
    const char *uid_names[] = {"study instance UID", "series instance UID", "SOP instance UID"};
    const char *uids[] = {id->study_instance_uid, id->series_instance_uid, id->sop_instance_uid};
    for (int i = 0; i < 3; i++)
        if (!valid_uid(uids[i]))
            return set_error(err, err_len, CN_DCM_EINVAL,
                             "%s \"%s\" is not 1 to 64 characters of digits and dots",
                             uid_names[i], uids[i] != nullptr ? uids[i] : "");
    const mg_view *view = nullptr;
    for (const mg_view &v : mg_views)
        if (img->view != nullptr && strcmp(img->view, v.position) == 0)
            view = &v;
    if (view == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "view \"%s\" is not CC or MLO",
                         img->view != nullptr ? img->view : "");
    if (img->laterality != 'L' && img->laterality != 'R')
        return set_error(err, err_len, CN_DCM_EINVAL, "laterality '%c' is not L or R",
                         img->laterality != '\0' ? img->laterality : '?');
    if (img->pixels == nullptr || img->rows == 0 || img->columns == 0 ||
        img->rows > max_side_px || img->columns > max_side_px)
        return set_error(err, err_len, CN_DCM_EINVAL, "image size %ux%u is not in 1..65535",
                         img->columns, img->rows);
    if (img->bits_stored < min_bits_stored || img->bits_stored > max_bits_stored)
        return set_error(err, err_len, CN_DCM_EINVAL, "bits stored %u is not in 8..16",
                         img->bits_stored);
    for (int i = 0; i < 2; i++)
        if (!std::isfinite(img->pixel_spacing_mm[i]) || img->pixel_spacing_mm[i] <= 0)
            return set_error(err, err_len, CN_DCM_EINVAL, "pixel spacing must be > 0 mm");
    const size_t count = size_t(img->rows) * img->columns;
    const uint32_t limit = 1u << img->bits_stored;
    for (size_t i = 0; i < count; i++)
        if (img->pixels[i] >= limit)
            return set_error(err, err_len, CN_DCM_EINVAL,
                             "pixel %zu is %u, not below 2^%u (bits stored)", i,
                             unsigned(img->pixels[i]), img->bits_stored);

    init_once();
    DcmFileFormat file;
    DcmDataset &ds = *file.getDataset();
    attribute_writer w(ds);
    const std::string date = text_or_empty(id->study_date);
    const std::string time = text_or_empty(id->study_time);

    /* SOP Common (C.12.1) */
    if (id->specific_character_set != nullptr && id->specific_character_set[0] != '\0')
        w.put(DCM_SpecificCharacterSet, id->specific_character_set);
    w.put(DCM_SOPClassUID, UID_DigitalMammographyXRayImageStorageForPresentation);
    w.put(DCM_SOPInstanceUID, id->sop_instance_uid);
    /* Patient (C.7.1.1) */
    w.put(DCM_PatientName, id->patient_name);
    w.put(DCM_PatientID, id->patient_id);
    w.put(DCM_PatientBirthDate, id->patient_birth_date);
    w.put(DCM_PatientSex, id->patient_sex);
    /* General Study (C.7.2.1) */
    w.put(DCM_StudyInstanceUID, id->study_instance_uid);
    w.put(DCM_StudyDate, date.c_str());
    w.put(DCM_StudyTime, time.c_str());
    w.put(DCM_ReferringPhysicianName, id->referring_physician_name);
    w.put(DCM_StudyID, id->study_id);
    w.put(DCM_AccessionNumber, id->accession_number);
    if (id->study_description != nullptr && id->study_description[0] != '\0')
        w.put(DCM_StudyDescription, id->study_description);
    /* General Series (C.7.3.1), Mammography Series, DX Series (C.8.11.1) */
    w.put(DCM_Modality, "MG");
    w.put(DCM_SeriesInstanceUID, id->series_instance_uid);
    w.put_int(DCM_SeriesNumber, id->series_number);
    w.put(DCM_SeriesDate, date.c_str());
    w.put(DCM_SeriesTime, time.c_str());
    if (id->series_description != nullptr && id->series_description[0] != '\0')
        w.put(DCM_SeriesDescription, id->series_description);
    w.put(DCM_PresentationIntentType, "FOR PRESENTATION");
    /* General Equipment (C.7.5.1) */
    w.put(DCM_Manufacturer, id->manufacturer != nullptr ? id->manufacturer : "calcnode");
    /* General Image (C.7.6.1), DX Image (C.8.11.3), Mammography Image (C.8.11.7) */
    w.put(DCM_ImageType, "ORIGINAL\\PRIMARY");
    w.put_int(DCM_InstanceNumber, id->instance_number);
    w.put(DCM_ContentDate, date.c_str());
    w.put(DCM_ContentTime, time.c_str());
    w.put(DCM_PatientOrientation,
          img->laterality == 'L' ? view->orientation_left : view->orientation_right);
    w.put(DCM_BurnedInAnnotation, "NO");
    w.put(DCM_PixelIntensityRelationship, "LOG");
    w.put_sint16(DCM_PixelIntensityRelationshipSign, 1);
    w.put(DCM_RescaleIntercept, "0");
    w.put(DCM_RescaleSlope, "1");
    w.put(DCM_RescaleType, "US");
    w.put(DCM_LossyImageCompression, "00");
    w.put(DCM_PresentationLUTShape, "IDENTITY");
    w.put(DCM_PositionerType, "MAMMOGRAPHIC");
    w.put(DCM_OrganExposed, "BREAST");
    const char lat[2] = {img->laterality, '\0'};
    w.put(DCM_ImageLaterality, lat);
    w.put(DCM_ViewPosition, view->position);
    DcmItem *view_item = w.code_item(DCM_ViewCodeSequence, view->code_value, "SCT",
                                     view->code_meaning);
    if (view_item != nullptr)
        attribute_writer(*view_item).empty_sequence(DCM_ViewModifierCodeSequence);
    /* DX Anatomy Imaged (C.8.11.2): SCT 76752008 Breast, PS3.16 CID 4013. */
    w.code_item(DCM_AnatomicRegionSequence, "76752008", "SCT", "Breast");
    /* Acquisition Context (C.7.6.14): type 2, empty */
    w.empty_sequence(DCM_AcquisitionContextSequence);
    /* DX Detector (C.8.11.4) */
    w.put_ds_pair(DCM_ImagerPixelSpacing, img->pixel_spacing_mm[0], img->pixel_spacing_mm[1]);
    w.put_ds_pair(DCM_PixelSpacing, img->pixel_spacing_mm[0], img->pixel_spacing_mm[1]);
    w.put(DCM_DetectorType, "DIRECT");
    /* VOI LUT (C.11.2) */
    double center = img->window_center, width = img->window_width;
    if (!(width > 0) || !std::isfinite(width) || !std::isfinite(center)) {
        center = double(1u << (img->bits_stored - 1));
        width = double(1u << img->bits_stored);
    }
    w.put_ds(DCM_WindowCenter, center);
    w.put_ds(DCM_WindowWidth, width);
    /* Image Pixel (C.7.6.3) */
    w.put_uint16(DCM_SamplesPerPixel, 1);
    w.put(DCM_PhotometricInterpretation, "MONOCHROME2");
    w.put_uint16(DCM_Rows, static_cast<Uint16>(img->rows));
    w.put_uint16(DCM_Columns, static_cast<Uint16>(img->columns));
    w.put_uint16(DCM_BitsAllocated, 16);
    w.put_uint16(DCM_BitsStored, static_cast<Uint16>(img->bits_stored));
    w.put_uint16(DCM_HighBit, static_cast<Uint16>(img->bits_stored - 1));
    w.put_uint16(DCM_PixelRepresentation, 0);
    if (w.ok())
        w.check(ds.putAndInsertUint16Array(DCM_PixelData, img->pixels,
                                           static_cast<unsigned long>(count)));
    if (!w.ok())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not build MG dataset: %s",
                         w.error().c_str());
    return save_file(file, path, err, err_len);
}

} // namespace

extern "C" int cn_mg_write(const char *path, const struct cn_mg_identity *identity,
                           const struct cn_mg_pixels *image, char *err, size_t err_len)
{
    if (path == nullptr || identity == nullptr || image == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "cn_mg_write needs a path, an identity and an image");
    try {
        return write_mg(path, identity, image, err, err_len);
    } catch (const std::bad_alloc &) {
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory writing \"%s\"", path);
    } catch (const std::exception &e) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\": %s", path, e.what());
    } catch (...) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\"", path);
    }
}
