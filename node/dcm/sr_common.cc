/* node/dcm: what the SR and GSPS writers share: input checks, source images, codes, the
 * content tree builder, and writing an SR file. */
#include "dcm/sr_internal.hh"

#include <cmath>
#include <cstring>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmsr/dsrcodvl.h>
#include <dcmtk/dcmsr/dsrimgvl.h>
#include <dcmtk/dcmsr/dsrnumvl.h>
#include <dcmtk/dcmsr/dsrscovl.h>

#include "dcm/dcm_internal.hh"
#include "dcm/dcm_writer_util.hh"

namespace cn_dcm
{

namespace codes
{
/* PS3.16 TID 1204, CID 5000 */
const code language = {"121049", "DCM", "Language of Content Item and Descendants"};
const code english_us = {"en-US", "RFC5646", "English (United States)"};
/* PS3.16 TID 1002 / TID 1004 */
const code observer_type = {"121005", "DCM", "Observer Type"};
const code device = {"121007", "DCM", "Device"};
const code device_observer_uid = {"121012", "DCM", "Device Observer UID"};
const code device_observer_name = {"121013", "DCM", "Device Observer Name"};
const code device_observer_manufacturer = {"121014", "DCM", "Device Observer Manufacturer"};
/* PS3.16 TID 4020 / TID 1600, CID 6022, CID 4014 */
const code image_library = {"111028", "DCM", "Image Library"};
const code image_laterality = {"111027", "DCM", "Image Laterality"};
const code image_view = {"111031", "DCM", "Image View"};
const code left_breast = {"80248007", "SCT", "Left breast"};
const code right_breast = {"73056007", "SCT", "Right breast"};
const code cc = {"399162004", "SCT", "cranio-caudal"};
const code mlo = {"399368009", "SCT", "medio-lateral oblique"};
const code horizontal_pixel_spacing = {"111026", "DCM", "Horizontal Pixel Spacing"};
const code vertical_pixel_spacing = {"111066", "DCM", "Vertical Pixel Spacing"};
const code pixel_data_rows = {"110910", "DCM", "Pixel Data Rows"};
const code pixel_data_columns = {"110911", "DCM", "Pixel Data Columns"};
const code study_date = {"111060", "DCM", "Study Date"};
const code study_time = {"111061", "DCM", "Study Time"};
/* PS3.16 TID 4019 */
const code algorithm_name = {"111001", "DCM", "Algorithm Name"};
const code algorithm_version = {"111003", "DCM", "Algorithm Version"};
/* Measurements and findings */
const code number_of_calcifications = {"111038", "DCM", "Number of calcifications"};
const code area = {"42798000", "SCT", "Area"};
const code probability_of_cancer = {"111047", "DCM", "Probability of cancer"};
const code assessment_category = {"111005", "DCM", "Assessment Category"};
const code impression_description = {"111033", "DCM", "Impression Description"};
const code calcification_cluster = {"129769006", "SCT", "Calcification Cluster"};
const code individual_calcification = {"129770007", "SCT", "Individual Calcification"};
/* PS3.16 TID 4108 */
const code tracking_identifier = {"112039", "DCM", "Tracking Identifier"};
const code tracking_uid = {"112040", "DCM", "Tracking Unique Identifier"};
} // namespace codes

const char local_scheme[] = "99CALCNODE";
const char local_scheme_name[] = "calcnode measurements";

namespace
{

const size_t max_lo_len = 64; /* PS3.5 Table 6.2-1 */
const char default_manufacturer[] = "calcnode";
/* PS3.16 CID 7005 Contributing Equipment Purposes of Reference */
const code processing_equipment = {"109102", "DCM", "Processing Equipment"};

/* PS3.16 CID 6026 Mammography Assessment (BI-RADS categories); 4A-4C are category 4. */
const struct {
    const char *name;
    code value;
} categories[] = {
    {"2", {"397141009", "SCT", "Benign finding"}},
    {"3", {"397143007", "SCT", "Probably benign finding, short interval follow-up"}},
    {"4", {"397144001", "SCT", "Suspicious abnormality, biopsy should be considered"}},
    {"4A", {"397144001", "SCT", "Suspicious abnormality, biopsy should be considered"}},
    {"4B", {"397144001", "SCT", "Suspicious abnormality, biopsy should be considered"}},
    {"4C", {"397144001", "SCT", "Suspicious abnormality, biopsy should be considered"}},
    {"5", {"397145000", "SCT", "Highly suggestive of malignancy"}},
};

bool text_ok(const char *s)
{
    return s != nullptr && s[0] != '\0' && strlen(s) <= max_lo_len;
}

bool optional_uid_ok(const char *uid)
{
    return uid == nullptr || valid_uid(uid);
}

int check_outline(const cn_report_point *points, size_t count, const char *what, size_t i, size_t j,
                  char *err, size_t err_len)
{
    if (points == nullptr && count == 0)
        return CN_DCM_OK;
    if (points == nullptr || count < 3 || count > CN_REPORT_MAX_OUTLINE_POINTS)
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "%s %zu of image %zu has an outline of %zu points (3 to %d needed)", what,
                         j + 1, i + 1, count, CN_REPORT_MAX_OUTLINE_POINTS);
    return CN_DCM_OK;
}

int check_image(const cn_report_image &im, size_t i, char *err, size_t err_len)
{
    if (im.path == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "image %zu has no source path", i + 1);
    if (im.cluster_count > CN_REPORT_MAX_CLUSTERS ||
        im.calcification_count > CN_REPORT_MAX_CALCIFICATIONS)
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "image %zu has %zu clusters and %zu calcifications (at most %d and %d)",
                         i + 1, im.cluster_count, im.calcification_count, CN_REPORT_MAX_CLUSTERS,
                         CN_REPORT_MAX_CALCIFICATIONS);
    if ((im.cluster_count > 0 && im.clusters == nullptr) ||
        (im.calcification_count > 0 && im.calcifications == nullptr))
        return set_error(err, err_len, CN_DCM_EINVAL, "image %zu lacks its findings arrays", i + 1);
    if (!optional_uid_ok(im.seg_sop_instance_uid) || !optional_uid_ok(im.seg_series_instance_uid) ||
        ((im.seg_sop_instance_uid == nullptr) != (im.seg_series_instance_uid == nullptr)) ||
        (im.seg_sop_instance_uid != nullptr && im.seg_segment_number == 0))
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "image %zu: the SEG needs series and SOP instance UIDs of 1 to 64 "
                         "digits and dots and a segment number from 1",
                         i + 1);
    for (size_t j = 0; j < im.calcification_count; j++) {
        const cn_report_calcification &c = im.calcifications[j];
        int rc = check_outline(c.outline, c.outline_count, "calcification", i, j, err, err_len);
        if (rc != CN_DCM_OK)
            return rc;
    }
    for (size_t j = 0; j < im.cluster_count; j++) {
        const cn_report_cluster &c = im.clusters[j];
        int rc = check_outline(c.outline, c.outline_count, "cluster", i, j, err, err_len);
        if (rc != CN_DCM_OK)
            return rc;
        code unused;
        if (c.category != nullptr && !category_code(c.category, unused))
            return set_error(err, err_len, CN_DCM_EINVAL,
                             "cluster %zu of image %zu has unknown category \"%s\"", j + 1, i + 1,
                             c.category);
        if (c.has_score && !(c.score >= 0.0 && c.score <= 1.0))
            return set_error(err, err_len, CN_DCM_EINVAL,
                             "cluster %zu of image %zu has score %g outside 0..1", j + 1, i + 1,
                             c.score);
        if (!optional_uid_ok(c.tracking_uid))
            return set_error(err, err_len, CN_DCM_EINVAL,
                             "cluster %zu of image %zu has a malformed tracking UID", j + 1, i + 1);
        if (c.member_count > 0 && c.members == nullptr)
            return set_error(err, err_len, CN_DCM_EINVAL,
                             "cluster %zu of image %zu lacks its member array", j + 1, i + 1);
        for (size_t k = 0; k < c.member_count; k++)
            if (c.members[k] >= im.calcification_count)
                return set_error(err, err_len, CN_DCM_EINVAL,
                                 "cluster %zu of image %zu names calcification %u of %zu", j + 1,
                                 i + 1, c.members[k], im.calcification_count);
    }
    return CN_DCM_OK;
}

int check_request(const cn_report_study *s, const cn_report_object *o, char *err, size_t err_len)
{
    if (s == nullptr || o == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "report needs a study and an object");
    if (s->images == nullptr || s->image_count == 0 || s->image_count > CN_REPORT_MAX_IMAGES)
        return set_error(err, err_len, CN_DCM_EINVAL, "report needs 1 to %d images, not %zu",
                         CN_REPORT_MAX_IMAGES, s->image_count);
    if (!text_ok(s->algorithm_name) || !text_ok(s->algorithm_version))
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "algorithm name and version must be 1 to 64 characters");
    if (!valid_uid(s->device_observer_uid) || !valid_uid(o->series_instance_uid) ||
        !valid_uid(o->sop_instance_uid) || !optional_uid_ok(o->predecessor_sop_instance_uid) ||
        !optional_uid_ok(o->predecessor_series_instance_uid) ||
        ((o->predecessor_sop_instance_uid == nullptr) !=
         (o->predecessor_series_instance_uid == nullptr)))
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "device observer, series, SOP instance and predecessor UIDs must be 1 "
                         "to 64 digits and dots");
    code unused;
    if (s->study_category != nullptr && !category_code(s->study_category, unused))
        return set_error(err, err_len, CN_DCM_EINVAL, "unknown study category \"%s\"",
                         s->study_category);
    if (s->has_study_score && !(s->study_score >= 0.0 && s->study_score <= 1.0))
        return set_error(err, err_len, CN_DCM_EINVAL, "study score %g outside 0..1",
                         s->study_score);
    if (s->operating_point > s->operating_point_count)
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "operating point %u beyond the %u operating points", s->operating_point,
                         s->operating_point_count);
    for (size_t i = 0; i < s->image_count; i++) {
        int rc = check_image(s->images[i], i, err, err_len);
        if (rc != CN_DCM_OK)
            return rc;
    }
    return CN_DCM_OK;
}

void read_spacing(DcmItem &ds, double spacing[2])
{
    for (const DcmTagKey &tag : {DCM_PixelSpacing, DCM_ImagerPixelSpacing}) {
        Float64 row = 0, column = 0;
        if (ds.findAndGetFloat64(tag, row, 0).good() &&
            ds.findAndGetFloat64(tag, column, 1).good() && row > 0 && column > 0) {
            spacing[0] = row;
            spacing[1] = column;
            return;
        }
    }
}

int read_source(const char *path, source_image &src, char *err, size_t err_len)
{
    src.path = path;
    src.file.reset(new DcmFileFormat);
    /* Everything a report copies or references precedes Pixel Data: stopping there keeps
     * a study's four full-field images out of memory, and reads a file whose pixels are
     * damaged (which is why such an image could not be analysed). */
    OFCondition cond = src.file->loadFileUntilTag(path, EXS_Unknown, EGL_noChange,
                                                  DCM_MaxReadLength, ERM_fileOnly,
                                                  DCM_PixelData);
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read source image \"%s\": %s",
                         path, cond.text());
    DcmDataset &ds = *src.file->getDataset();
    src.sop_class_uid = get_first(ds, DCM_SOPClassUID);
    src.sop_instance_uid = get_first(ds, DCM_SOPInstanceUID);
    src.study_uid = get_first(ds, DCM_StudyInstanceUID);
    src.series_uid = get_first(ds, DCM_SeriesInstanceUID);
    if (!valid_uid(src.sop_class_uid.c_str()) || !valid_uid(src.sop_instance_uid.c_str()) ||
        !valid_uid(src.study_uid.c_str()) || !valid_uid(src.series_uid.c_str()))
        return set_error(err, err_len, CN_DCM_EMISSING,
                         "source image \"%s\" lacks a well-formed SOP Class, SOP Instance, "
                         "Study or Series Instance UID",
                         path);
    src.laterality = laterality_of(ds);
    src.view = view_of(ds);
    src.study_date = get_first(ds, DCM_StudyDate);
    src.study_time = get_first(ds, DCM_StudyTime);
    src.photometric = get_first(ds, DCM_PhotometricInterpretation);
    Uint16 rows = 0, columns = 0;
    (void)ds.findAndGetUint16(DCM_Rows, rows);
    (void)ds.findAndGetUint16(DCM_Columns, columns);
    src.rows = rows;
    src.columns = columns;
    read_spacing(ds, src.spacing_mm);
    Float64 center = 0, width = 0;
    if (ds.findAndGetFloat64(DCM_WindowCenter, center).good() &&
        ds.findAndGetFloat64(DCM_WindowWidth, width).good() && width >= 1.0) {
        src.window_center = center;
        src.window_width = width;
    }
    return CN_DCM_OK;
}

} // namespace

bool category_code(const char *category, code &out)
{
    for (const auto &c : categories)
        if (strcmp(c.name, category) == 0) {
            out = c.value;
            return true;
        }
    return false;
}

int load_study(const cn_report_study *study, const cn_report_object *object, study_input &in,
               char *err, size_t err_len)
{
    int rc = check_request(study, object, err, err_len);
    if (rc != CN_DCM_OK)
        return rc;
    if (!init_once())
        return set_error(err, err_len, CN_DCM_EIO, "could not load the DICOM data dictionary");
    in.study = study;
    in.images.resize(study->image_count);
    for (size_t i = 0; i < study->image_count; i++) {
        rc = read_source(study->images[i].path, in.images[i], err, err_len);
        if (rc != CN_DCM_OK)
            return rc;
        if (in.images[i].study_uid != in.images[0].study_uid)
            return set_error(err, err_len, CN_DCM_EINVAL,
                             "source image \"%s\" belongs to study %s, not %s",
                             study->images[i].path, in.images[i].study_uid.c_str(),
                             in.images[0].study_uid.c_str());
        if (i > 0)
            in.images[i].file.reset(); /* only the first image's dataset is kept */
    }
    in.date = study->content_date != nullptr ? study->content_date : in.images[0].study_date;
    in.time = study->content_time != nullptr ? study->content_time : in.images[0].study_time;
    if (in.date.empty())
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "report needs a content date: none given and source \"%s\" has no "
                         "Study Date",
                         study->images[0].path);
    in.manufacturer = study->manufacturer != nullptr ? study->manufacturer : default_manufacturer;
    return CN_DCM_OK;
}

bool image_analysed(const study_input &in, size_t i)
{
    return !in.study->analysis_failed && in.study->images[i].analysed;
}

static std::vector<float> closed_polygon(const cn_report_point *points, size_t count)
{
    std::vector<float> data;
    data.reserve(2 * (count + 1));
    for (size_t k = 0; k <= count; k++) {
        const cn_report_point &p = points[k % count];
        data.push_back(pixel_coord(p.x_px));
        data.push_back(pixel_coord(p.y_px));
    }
    return data;
}

std::vector<float> cluster_outline(const cn_report_cluster &c)
{
    if (c.outline != nullptr && c.outline_count >= 3)
        return closed_polygon(c.outline, c.outline_count);
    /* The bounding box, around the outer edges of its pixels. */
    const float x0 = static_cast<float>(c.bbox_px[0]), y0 = static_cast<float>(c.bbox_px[1]);
    const float x1 = static_cast<float>(c.bbox_px[2]) + 1.0f;
    const float y1 = static_cast<float>(c.bbox_px[3]) + 1.0f;
    return {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
}

std::vector<float> calcification_outline(const cn_report_calcification &c)
{
    if (c.outline != nullptr && c.outline_count >= 3)
        return closed_polygon(c.outline, c.outline_count);
    return {};
}

/* ---- tree_builder ---- */

void tree_builder::fail(const std::string &what)
{
    if (error_.empty())
        error_ = what;
}

size_t tree_builder::root(DSRTypes::E_ValueType vt, const code &concept)
{
    size_t id = tree_.addContentItem(DSRTypes::RT_isRoot, vt);
    if (id == 0) {
        fail("could not add the root content item");
        return 0;
    }
    OFCondition cond = tree_.getCurrentContentItem().setConceptName(concept.entry());
    if (cond.bad())
        fail(std::string("root concept name: ") + cond.text());
    return id;
}

size_t tree_builder::add(size_t parent, DSRTypes::E_RelationshipType rel, DSRTypes::E_ValueType vt,
                         const code *concept)
{
    if (!ok())
        return 0;
    if (tree_.gotoNode(parent) != parent) {
        fail("lost a parent content item");
        return 0;
    }
    size_t id = tree_.addContentItem(rel, vt, DSRTypes::AM_belowCurrent);
    if (id == 0) {
        fail(std::string("the IOD does not allow ") + DSRTypes::valueTypeToDefinedTerm(vt) +
             " by " + DSRTypes::relationshipTypeToDefinedTerm(rel) +
             (concept != nullptr ? std::string(" for ") + concept->meaning : std::string()));
        return 0;
    }
    if (concept != nullptr) {
        OFCondition cond = tree_.getCurrentContentItem().setConceptName(concept->entry());
        if (cond.bad())
            fail(std::string("concept name ") + concept->meaning + ": " + cond.text());
    }
    return id;
}

size_t tree_builder::add_code(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                              const code &value)
{
    size_t id = add(parent, rel, DSRTypes::VT_Code, &concept);
    if (id != 0) {
        OFCondition cond = tree_.getCurrentContentItem().setCodeValue(value.entry());
        if (cond.bad())
            fail(std::string("code value ") + value.meaning + ": " + cond.text());
    }
    return id;
}

size_t tree_builder::add_text(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                              const std::string &value)
{
    size_t id = add(parent, rel, DSRTypes::VT_Text, &concept);
    if (id != 0) {
        OFCondition cond = tree_.getCurrentContentItem().setStringValue(value.c_str());
        if (cond.bad())
            fail(std::string("text ") + concept.meaning + ": " + cond.text());
    }
    return id;
}

size_t tree_builder::add_uid(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                             const std::string &value)
{
    size_t id = add(parent, rel, DSRTypes::VT_UIDRef, &concept);
    if (id != 0) {
        OFCondition cond = tree_.getCurrentContentItem().setStringValue(value.c_str());
        if (cond.bad())
            fail(std::string("UID ") + concept.meaning + ": " + cond.text());
    }
    return id;
}

size_t tree_builder::add_date(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                              const std::string &value, bool is_time)
{
    size_t id = add(parent, rel, is_time ? DSRTypes::VT_Time : DSRTypes::VT_Date, &concept);
    if (id != 0) {
        OFCondition cond = tree_.getCurrentContentItem().setStringValue(value.c_str());
        if (cond.bad())
            fail(std::string(concept.meaning) + ": " + cond.text());
    }
    return id;
}

size_t tree_builder::add_num(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                             double value, const code &units)
{
    size_t id = add(parent, rel, DSRTypes::VT_Num, &concept);
    if (id != 0) {
        if (!std::isfinite(value)) {
            fail(std::string(concept.meaning) + " is not a finite number");
            return 0;
        }
        DSRNumericMeasurementValue num(format_ds(value).c_str(), units.entry());
        OFCondition cond = tree_.getCurrentContentItem().setNumericValue(num);
        if (cond.bad())
            fail(std::string("number ") + concept.meaning + ": " + cond.text());
    }
    return id;
}

size_t tree_builder::add_image(size_t parent, DSRTypes::E_RelationshipType rel, const code *concept,
                               const std::string &sop_class, const std::string &sop_instance,
                               int segment_number)
{
    size_t id = add(parent, rel, DSRTypes::VT_Image, concept);
    if (id != 0) {
        DSRImageReferenceValue ref(sop_class.c_str(), sop_instance.c_str());
        if (segment_number > 0)
            ref.getSegmentList().addItem(static_cast<Uint16>(segment_number));
        OFCondition cond = tree_.getCurrentContentItem().setImageReference(ref);
        if (cond.bad())
            fail(std::string("image reference: ") + cond.text());
    }
    return id;
}

size_t tree_builder::add_scoord(size_t parent, DSRTypes::E_RelationshipType rel,
                                const code &concept, DSRTypes::E_GraphicType type,
                                const std::vector<float> &data, size_t image_node)
{
    size_t id = add(parent, rel, DSRTypes::VT_SCoord, &concept);
    if (id == 0)
        return 0;
    DSRSpatialCoordinatesValue value(type);
    for (size_t k = 0; k + 1 < data.size(); k += 2)
        value.getGraphicDataList().addItem(data[k], data[k + 1]);
    OFCondition cond = tree_.getCurrentContentItem().setSpatialCoordinates(value);
    if (cond.bad()) {
        fail(std::string("coordinates ") + concept.meaning + ": " + cond.text());
        return 0;
    }
    by_reference(id, DSRTypes::RT_selectedFrom, image_node);
    return id;
}

void tree_builder::by_reference(size_t parent, DSRTypes::E_RelationshipType rel, size_t target)
{
    if (!ok())
        return;
    if (tree_.gotoNode(parent) != parent || tree_.addByReferenceRelationship(rel, target) == 0)
        fail(std::string("the IOD does not allow a by-reference ") +
             DSRTypes::relationshipTypeToDefinedTerm(rel));
}

void add_observation_context(tree_builder &b, size_t root, const study_input &in)
{
    b.add_code(root, DSRTypes::RT_hasConceptMod, codes::language, codes::english_us);
    b.add_code(root, DSRTypes::RT_hasObsContext, codes::observer_type, codes::device);
    b.add_uid(root, DSRTypes::RT_hasObsContext, codes::device_observer_uid,
              in.study->device_observer_uid);
    b.add_text(root, DSRTypes::RT_hasObsContext, codes::device_observer_name,
               in.study->algorithm_name);
    b.add_text(root, DSRTypes::RT_hasObsContext, codes::device_observer_manufacturer,
               in.manufacturer);
}

/* ---- the file ---- */

void copy_patient_study(DcmItem &src, DcmItem &dst)
{
    /* PS3.3 C.7.1.1 Patient, C.7.2.1 General Study, C.7.2.2 Patient Study, C.12.1.1.2 */
    const DcmTagKey tags[] = {
        DCM_SpecificCharacterSet,
        DCM_PatientName,
        DCM_PatientID,
        DCM_IssuerOfPatientID,
        DCM_PatientBirthDate,
        DCM_PatientSex,
        DCM_PatientAge,
        DCM_PatientSize,
        DCM_PatientWeight,
        DCM_StudyInstanceUID,
        DCM_StudyDate,
        DCM_StudyTime,
        DCM_ReferringPhysicianName,
        DCM_StudyID,
        DCM_AccessionNumber,
        DCM_StudyDescription,
    };
    for (const DcmTagKey &tag : tags) {
        DcmElement *e = nullptr;
        if (src.findAndGetElement(tag, e, OFFalse).bad() || e == nullptr)
            continue;
        DcmElement *copy = OFstatic_cast(DcmElement *, e->clone());
        if (copy == nullptr)
            continue;
        if (copy->isaString() && copy->checkValue("1-n", OFFalse).bad())
            copy->putString("");
        if (dst.insert(copy, OFTrue /* replace */).bad())
            delete copy;
    }
}

static void put_contributing_equipment(DcmItem &ds, const study_input &in, attribute_writer &w)
{
    /* PS3.3 C.12.1 Contributing Equipment Sequence: the algorithm that made the content. */
    DcmItem *item = nullptr;
    w.check(ds.findOrCreateSequenceItem(DCM_ContributingEquipmentSequence, item, -2));
    if (item == nullptr)
        return;
    attribute_writer e(*item);
    e.put(DCM_Manufacturer, in.manufacturer.c_str());
    e.put(DCM_ManufacturerModelName, in.study->algorithm_name);
    e.put(DCM_SoftwareVersions, in.study->algorithm_version);
    e.code_item(DCM_PurposeOfReferenceCodeSequence, processing_equipment.value,
                processing_equipment.scheme, processing_equipment.meaning);
    if (!e.ok())
        w.check(makeOFCondition(0, 1, OF_error, e.error().c_str()));
}

int save_sr(const char *path, DSRDocument &doc, const study_input &in,
            const cn_report_object &object, const char *default_series_description,
            const std::vector<evidence_ref> &extra_evidence, char *err, size_t err_len)
{
    const source_image &first = in.images[0];
    for (const source_image &src : in.images)
        doc.getCurrentRequestedProcedureEvidence().addItem(
            src.study_uid.c_str(), src.series_uid.c_str(), src.sop_class_uid.c_str(),
            src.sop_instance_uid.c_str());
    for (const evidence_ref &ref : extra_evidence)
        doc.getCurrentRequestedProcedureEvidence().addItem(
            first.study_uid.c_str(), ref.series_uid.c_str(), ref.sop_class_uid.c_str(),
            ref.sop_instance_uid.c_str());
    if (object.predecessor_sop_instance_uid != nullptr) {
        doc.getPredecessorDocuments().addItem(
            first.study_uid.c_str(), object.predecessor_series_instance_uid,
            DSRTypes::documentTypeToSOPClassUID(doc.getDocumentType()),
            object.predecessor_sop_instance_uid);
    }
    OFCondition cond = doc.getCodingSchemeIdentification().addItem(local_scheme);
    if (cond.good())
        cond = doc.getCodingSchemeIdentification().setCodingSchemeName(local_scheme_name);
    if (cond.good())
        cond = doc.setManufacturer(in.manufacturer.c_str());
    if (cond.good())
        cond = doc.completeDocument();
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not set up the SR document: %s",
                         cond.text());

    DcmFileFormat out;
    DcmDataset &ds = *out.getDataset();
    cond = doc.write(ds);
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not build the SR dataset: %s",
                         cond.text());
    copy_patient_study(*first.file->getDataset(), ds);
    attribute_writer w(ds);
    w.put(DCM_SeriesInstanceUID, object.series_instance_uid);
    w.put(DCM_SOPInstanceUID, object.sop_instance_uid);
    w.put_int(DCM_SeriesNumber, object.series_number);
    w.put_int(DCM_InstanceNumber, object.instance_number);
    w.put(DCM_SeriesDescription, object.series_description != nullptr ? object.series_description
                                                                      : default_series_description);
    /* Deterministic: the request's or the source's date and time, never the clock. */
    w.put(DCM_ContentDate, in.date.c_str());
    w.put(DCM_ContentTime, in.time.c_str());
    w.put(DCM_InstanceCreationDate, in.date.c_str());
    w.put(DCM_InstanceCreationTime, in.time.c_str());
    w.put(DCM_SoftwareVersions, in.study->algorithm_version);
    /* PS3.3 C.17.2: why the content is what it is, when the analysis failed somewhere. */
    const char *reason = in.study->analysis_failed ? in.study->failure_reason : nullptr;
    for (size_t i = 0; i < in.images.size() && reason == nullptr; i++)
        if (!image_analysed(in, i))
            reason = in.study->images[i].failure_reason;
    if (reason != nullptr)
        w.put(DCM_CompletionFlagDescription, std::string(reason).substr(0, max_lo_len).c_str());
    put_contributing_equipment(ds, in, w);
    if (!w.ok())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not set SR attributes: %s",
                         w.error().c_str());
    return save_file(out, path, err, err_len);
}

} // namespace cn_dcm
