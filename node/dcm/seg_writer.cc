/* node/dcm: cn_seg_write, a binary Segmentation through DCMTK dcmseg (PS3.3 A.51). */
#include "dcm/seg_writer.h"

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include "dcm/dcm_internal.hh"
#include "dcm/dcm_writer_util.hh"

using namespace cn_dcm;

namespace {

const size_t max_lo_len = 64; /* PS3.5 Table 6.2-1, LO */
const char default_series_description[] = "Calcifications";
const char default_manufacturer[] = "calcnode";
/* CS, PS3.3 C.10.9 Content Label: upper case, digits, space, underscore. */
const char content_label[] = "CALCIFICATIONS";
const char segment_label[] = "Calcification";
/* DCMTK requires every General Equipment value; software has no serial number. */
const char device_serial_number[] = "0";

struct source_image {
    std::string sop_class_uid, sop_instance_uid, study_uid, series_uid, patient_id;
    std::string study_date, study_time;
    std::string pixel_spacing; /* Pixel Spacing, else Imager Pixel Spacing; may be empty */
    uint32_t rows = 0, columns = 0;
};

int fail_cond(char *err, size_t err_len, int code, const char *what, const OFCondition &cond)
{
    return set_error(err, err_len, code, "could not %s: %s", what, cond.text());
}

bool text_ok(const char *s)
{
    return s != nullptr && s[0] != '\0' && strlen(s) <= max_lo_len;
}

int check_request(const struct cn_seg_request *r, std::string &dimension_uid, char *err,
                  size_t err_len)
{
    if (r->source_path == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "SEG request needs the source image path");
    if (r->labels == nullptr && r->mask == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "SEG request needs labels or a mask");
    if (!valid_uid(r->series_instance_uid) || !valid_uid(r->sop_instance_uid))
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "SEG series and SOP instance UIDs must be 1 to 64 digits and dots");
    if (!text_ok(r->algorithm_name) || !text_ok(r->algorithm_version))
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "SEG algorithm name and version must be 1 to 64 characters");
    if (r->dimension_organization_uid != nullptr)
        dimension_uid = r->dimension_organization_uid;
    else
        dimension_uid = std::string(r->sop_instance_uid) + ".1";
    if (!valid_uid(dimension_uid.c_str()))
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "dimension organization UID \"%s\" is not 1 to 64 digits and dots",
                         dimension_uid.c_str());
    return CN_DCM_OK;
}

int read_source(DcmDataset &ds, const char *path, source_image &src, char *err,
                size_t err_len)
{
    src.sop_class_uid = get_first(ds, DCM_SOPClassUID);
    src.sop_instance_uid = get_first(ds, DCM_SOPInstanceUID);
    src.study_uid = get_first(ds, DCM_StudyInstanceUID);
    src.series_uid = get_first(ds, DCM_SeriesInstanceUID);
    src.patient_id = get_first(ds, DCM_PatientID);
    src.study_date = get_first(ds, DCM_StudyDate);
    src.study_time = get_first(ds, DCM_StudyTime);
    src.pixel_spacing = get_string(ds, DCM_PixelSpacing);
    if (src.pixel_spacing.empty())
        src.pixel_spacing = get_string(ds, DCM_ImagerPixelSpacing);
    if (src.sop_class_uid.empty() || src.sop_instance_uid.empty() || src.study_uid.empty() ||
        src.series_uid.empty())
        return set_error(err, err_len, CN_DCM_EMISSING,
                         "source image \"%s\" lacks its SOP Class, SOP Instance, Study or "
                         "Series Instance UID",
                         path);
    Uint16 rows = 0, columns = 0;
    if (ds.findAndGetUint16(DCM_Rows, rows).bad() || ds.findAndGetUint16(DCM_Columns, columns).bad())
        return set_error(err, err_len, CN_DCM_EMISSING, "source image \"%s\" lacks Rows or Columns",
                         path);
    src.rows = rows;
    src.columns = columns;
    return CN_DCM_OK;
}

/* Empties top-level string values of the (in-memory) source that violate their VR, such
 * as the GE file's Patient's Birth Date "00000000": DCMTK refuses to write them, and an
 * empty type 2 value is the honest copy of an invalid one. */
void blank_invalid_values(DcmDataset &ds)
{
    for (unsigned long i = 0; i < ds.card(); i++) {
        DcmElement *e = ds.getElement(i);
        if (e == nullptr || e->ident() == EVR_SQ || e->getTag() == DCM_PixelData ||
            !e->isaString())
            continue;
        if (e->checkValue("1-n", OFFalse).bad())
            e->putString("");
    }
}

int write_seg(const char *path, const struct cn_seg_request *r, char *err, size_t err_len)
{
    std::string dimension_uid;
    int rc = check_request(r, dimension_uid, err, err_len);
    if (rc != CN_DCM_OK)
        return rc;
    if (!init_once())
        return set_error(err, err_len, CN_DCM_EIO, "could not load the DICOM data dictionary");

    DcmFileFormat source_file;
    OFCondition cond = source_file.loadFile(r->source_path, EXS_Unknown, EGL_noChange,
                                            DCM_MaxReadLength, ERM_fileOnly);
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read source image \"%s\": %s",
                         r->source_path, cond.text());
    DcmDataset &source_ds = *source_file.getDataset();
    source_image src;
    rc = read_source(source_ds, r->source_path, src, err, err_len);
    if (rc != CN_DCM_OK)
        return rc;
    blank_invalid_values(source_ds);
    if (src.rows != r->rows || src.columns != r->columns)
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "mask is %ux%u but source image \"%s\" is %ux%u", r->columns, r->rows,
                         r->source_path, src.columns, src.rows);

    const char *manufacturer = r->manufacturer != nullptr ? r->manufacturer : default_manufacturer;
    IODGeneralEquipmentModule::EquipmentInfo equipment(manufacturer, r->algorithm_name,
                                                       device_serial_number,
                                                       r->algorithm_version);
    ContentIdentificationMacro *ident_raw = nullptr;
    cond = ContentIdentificationMacro::create(std::to_string(r->instance_number).c_str(),
                                              content_label, "", "", ident_raw);
    std::unique_ptr<ContentIdentificationMacro> ident(ident_raw);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "create the content identification", cond);

    DcmSegmentation *seg_raw = nullptr;
    cond = DcmSegmentation::createBinarySegmentation(seg_raw, static_cast<Uint16>(r->rows),
                                                     static_cast<Uint16>(r->columns), equipment,
                                                     *ident);
    std::unique_ptr<DcmSegmentation> seg(seg_raw);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "create the segmentation", cond);
    /* Patient, study (Specific Character Set too) and Frame of Reference when present. */
    cond = seg->importFromSourceImage(source_ds, OFTrue);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EFORMAT, "import the source image attributes",
                         cond);

    /* A projection image usually has no Frame of Reference; then neither has its SEG
     * (PS3.3 A.51.3: the module is conditional on the source having one, as in the SEGs
     * highdicom writes for CR/DX). DCMTK 3.6.7 treats the module as mandatory: relax its
     * two attributes to optional so nothing is written. */
    if (get_first(source_ds, DCM_FrameOfReferenceUID).empty()) {
        const DcmTagKey for_tags[] = {DCM_FrameOfReferenceUID, DCM_PositionReferenceIndicator};
        for (const DcmTagKey &tag : for_tags) {
            IODRule *rule = seg->getRules()->getByTag(tag);
            if (rule != nullptr)
                rule->setType("3");
        }
    }

    cond = seg->getSeries().setSeriesInstanceUID(r->series_instance_uid);
    if (cond.good())
        cond = seg->getSeries().setSeriesNumber(std::to_string(r->series_number).c_str());
    if (cond.good())
        cond = seg->getSeries().setSeriesDescription(
            r->series_description != nullptr ? r->series_description : default_series_description);
    if (cond.good())
        cond = seg->getSOPCommon().setSOPInstanceUID(r->sop_instance_uid);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "set the series and instance", cond);

    /* The segment: PS3.16 CID 7150 category, CID 6014 type (see seg_writer.h). */
    DcmSegment *segment_raw = nullptr;
    cond = DcmSegment::create(segment_raw, segment_label,
                              CodeSequenceMacro("49755003", "SCT",
                                                "Morphologically Abnormal Structure"),
                              CodeSequenceMacro("129770007", "SCT", "Individual Calcification"),
                              DcmSegTypes::SAT_AUTOMATIC, r->algorithm_name);
    std::unique_ptr<DcmSegment> segment(segment_raw);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "create the segment", cond);
    AlgorithmIdentificationMacro &algo = segment->getSegmentationAlgorithmIdentification();
    cond = algo.setAlgorithmName(r->algorithm_name);
    if (cond.good())
        cond = algo.setAlgorithmVersion(r->algorithm_version);
    if (cond.good())
        algo.getAlgorithmFamilyCode().set("123109", "DCM", "Computer Vision");
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "set the algorithm identification", cond);
    Uint16 segment_number = 0;
    cond = seg->addSegment(segment.get(), segment_number);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "add the segment", cond);
    segment.release(); /* owned by seg now */

    /* PS3.3 C.7.6.17: one dimension, the referenced segment number. */
    cond = seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber,
                                                  dimension_uid.c_str(),
                                                  DCM_SegmentIdentificationSequence,
                                                  "Segment Number");
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "add the dimension index", cond);

    /* Shared: pixel spacing of the source, so viewers can measure on the SEG. */
    if (!src.pixel_spacing.empty()) {
        FGPixelMeasures measures;
        cond = measures.setPixelSpacing(src.pixel_spacing.c_str());
        if (cond.good())
            cond = seg->addForAllFrames(measures);
        if (cond.bad())
            return fail_cond(err, err_len, CN_DCM_EINVAL, "set the pixel measures", cond);
    }

    /* Per frame: frame content (dimension index value) and derivation from the source. */
    FGFrameContent frame_content;
    cond = frame_content.setDimensionIndexValues(segment_number, 0);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "set the dimension index value", cond);
    ImageSOPInstanceReferenceMacro *ref_raw = nullptr;
    cond = ImageSOPInstanceReferenceMacro::create(src.sop_class_uid.c_str(),
                                                  src.sop_instance_uid.c_str(), ref_raw);
    std::unique_ptr<ImageSOPInstanceReferenceMacro> ref(ref_raw);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "reference the source image", cond);
    OFVector<ImageSOPInstanceReferenceMacro> derivation_images;
    derivation_images.push_back(*ref);
    std::unique_ptr<FGDerivationImage> derivation(FGDerivationImage::createMinimal(
        derivation_images, "",
        CodeSequenceMacro("113076", "DCM", "Segmentation"),
        CodeSequenceMacro("121322", "DCM", "Source image for image processing operation")));
    if (!derivation)
        return set_error(err, err_len, CN_DCM_EINVAL, "could not create the derivation image "
                                                      "functional group");
    OFVector<FGBase *> per_frame;
    per_frame.push_back(&frame_content);
    per_frame.push_back(derivation.get());

    const size_t count = size_t(r->rows) * r->columns;
    std::vector<Uint8> frame(count);
    for (size_t i = 0; i < count; i++)
        frame[i] = (r->labels != nullptr ? r->labels[i] != 0 : r->mask[i] != 0) ? 1 : 0;
    cond = seg->addFrame(frame.data(), segment_number, per_frame);
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "add the segmentation frame", cond);

    /* PS3.3 C.12.2: the source lives in another series. */
    IODReferences references;
    references.add(new IODImageReference(src.patient_id.c_str(), src.study_uid.c_str(),
                                         src.series_uid.c_str(), src.sop_instance_uid.c_str(),
                                         src.sop_class_uid.c_str()));
    seg->getCommonInstanceReference().addReferences(references, src.study_uid.c_str());

    DcmFileFormat out;
    cond = seg->writeDataset(*out.getDataset());
    if (cond.bad())
        return fail_cond(err, err_len, CN_DCM_EINVAL, "build the SEG dataset", cond);
    /* Deterministic output: content and creation times from the request or the source,
     * not from the clock DCMTK reads. */
    DcmDataset &ds = *out.getDataset();
    attribute_writer w(ds);
    const std::string date = r->content_date != nullptr ? r->content_date : src.study_date;
    const std::string time = r->content_time != nullptr ? r->content_time : src.study_time;
    w.put(DCM_ContentDate, date.c_str());
    w.put(DCM_ContentTime, time.c_str());
    w.put(DCM_SeriesDate, date.c_str());
    w.put(DCM_SeriesTime, time.c_str());
    /* DCMTK 3.6.7 drops the last partial byte when Rows x Columns is not a multiple of 8
     * (the GE image: 3062 x 2394). Pack the single frame here instead: PS3.5 8.1.1, bit
     * i % 8 of byte i / 8, the value padded to even length. */
    std::vector<Uint8> packed((count + 7) / 8 + (((count + 7) / 8) & 1u), 0);
    for (size_t i = 0; i < count; i++)
        if (frame[i] != 0)
            packed[i / 8] = static_cast<Uint8>(packed[i / 8] | (1u << (i % 8)));
    w.check(ds.putAndInsertUint8Array(DCM_PixelData, packed.data(),
                                      static_cast<unsigned long>(packed.size())));
    /* PS3.3 C.7.6.1.1.1: without a Frame of Reference the frame's orientation is the
     * source's Patient Orientation (type 2C, empty when the source has none). */
    if (get_first(source_ds, DCM_FrameOfReferenceUID).empty())
        w.put(DCM_PatientOrientation, get_string(source_ds, DCM_PatientOrientation).c_str());
    /* General Equipment describes the software that made the SEG, not the modality's
     * site and station the import brought along. */
    ds.findAndDeleteElement(DCM_InstitutionName);
    ds.findAndDeleteElement(DCM_InstitutionAddress);
    ds.findAndDeleteElement(DCM_InstitutionalDepartmentName);
    ds.findAndDeleteElement(DCM_StationName);
    ds.findAndDeleteElement(DCM_InstanceCreationDate);
    ds.findAndDeleteElement(DCM_InstanceCreationTime);
    if (!w.ok())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not set SEG dates: %s",
                         w.error().c_str());
    return save_file(out, path, err, err_len);
}

} // namespace

extern "C" int cn_seg_write(const char *path, const struct cn_seg_request *request, char *err,
                            size_t err_len)
{
    if (path == nullptr || request == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "cn_seg_write needs a path and a request");
    try {
        return write_seg(path, request, err, err_len);
    } catch (const std::bad_alloc &) {
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory writing \"%s\"", path);
    } catch (const std::exception &e) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\": %s", path, e.what());
    } catch (...) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\"", path);
    }
}
