/* node/dcm: cn_report_write_measurements, the TID 1500 Imaging Measurement Report
 * (Comprehensive SR, PS3.3 A.35.3) of the calcification clusters. */
#include <cstdio>
#include <exception>
#include <new>

#include <dcmtk/dcmsr/dsrdoc.h>

#include "dcm/dcm_internal.hh"
#include "dcm/dcm_writer_util.hh"
#include "dcm/report.h"
#include "dcm/sr_internal.hh"

using namespace cn_dcm;

namespace
{

using R = DSRTypes;

const char default_series_description[] = "Calcification measurements";
const char seg_sop_class_uid[] = "1.2.840.10008.5.1.4.1.1.66.4"; /* PS3.4 B.5 */
const size_t tracking_id_len = 64;                               /* LO */

/* PS3.16 TID 1500, TID 1411, TID 1501, TID 1600 */
const code imaging_measurement_report = {"126000", "DCM", "Imaging Measurement Report"};
const code procedure_reported = {"121058", "DCM", "Procedure reported"};
const code mammography = {"71651007", "SCT", "Mammography"};
const code image_library_group = {"126200", "DCM", "Image Library Group"};
const code imaging_measurements = {"126010", "DCM", "Imaging Measurements"};
const code measurement_group = {"125007", "DCM", "Measurement Group"};
const code finding_category = {"276214006", "SCT", "Finding category"};
const code morphologically_abnormal = {"49755003", "SCT", "Morphologically Abnormal Structure"};
const code finding = {"121071", "DCM", "Finding"};
const code referenced_segment = {"121191", "DCM", "Referenced Segment"};
const code source_series_for_segmentation = {"121232", "DCM", "Source series for segmentation"};
const code image_region = {"111030", "DCM", "Image Region"};
const code finding_site = {"363698007", "SCT", "Finding Site"};
const code breast = {"76752008", "SCT", "Breast"};
const code laterality = {"272741003", "SCT", "Laterality"};
const code left = {"7771000", "SCT", "Left"};
const code right = {"24028007", "SCT", "Right"};
/* UCUM (PS3.16 CID 7181 and the UCUM annotation syntax) */
const code unit_count = {"{#}", "UCUM", "count"};
const code unit_mm2 = {"mm2", "UCUM", "square millimeter"};
const code unit_per_cm2 = {"{#}/cm2", "UCUM", "count per square centimeter"};
const code unit_percent = {"%", "UCUM", "Percent"};
/* No PS3.16 concept exists for these two cluster features. */
const code mean_calcification_area = {"CN001", local_scheme, "Mean calcification area"};
const code calcification_density = {"CN002", local_scheme, "Calcification density"};

const double percent = 100.0;

/* Image Library (TID 1600): one group holding every source image, with laterality and
 * view (TID 1602 descriptors). */
void add_image_library(tree_builder &b, size_t root, const study_input &in)
{
    size_t library = b.add(root, R::RT_contains, R::VT_Container, &codes::image_library);
    size_t group = b.add(library, R::RT_contains, R::VT_Container, &image_library_group);
    for (const source_image &src : in.images) {
        size_t image =
            b.add_image(group, R::RT_contains, nullptr, src.sop_class_uid, src.sop_instance_uid, 0);
        if (src.laterality == "L" || src.laterality == "R")
            b.add_code(image, R::RT_hasAcqContext, codes::image_laterality,
                       src.laterality == "L" ? codes::left_breast : codes::right_breast);
        if (src.view == "CC" || src.view == "MLO")
            b.add_code(image, R::RT_hasAcqContext, codes::image_view,
                       src.view == "CC" ? codes::cc : codes::mlo);
    }
}

void add_category(tree_builder &b, size_t group, const char *category)
{
    code value;
    if (category == nullptr || !category_code(category, value))
        return;
    b.add_code(group, R::RT_contains, codes::assessment_category, value);
    if (category[0] != '\0' && category[1] != '\0') /* 4A, 4B, 4C: keep the subcategory */
        b.add_text(group, R::RT_contains, codes::impression_description,
                   std::string("category ") + category);
}

/* One TID 1411 measurement group for cluster j of image i. */
void add_cluster_group(tree_builder &b, size_t parent, const study_input &in, size_t i, size_t j,
                       const std::string &tracking_uid)
{
    const cn_report_image &im = in.study->images[i];
    const cn_report_cluster &c = im.clusters[j];
    const source_image &src = in.images[i];
    size_t group = b.add(parent, R::RT_contains, R::VT_Container, &measurement_group);
    char tracking_id[tracking_id_len + 1];
    snprintf(tracking_id, sizeof tracking_id, "%s %s cluster %zu", src.laterality.c_str(),
             src.view.c_str(), j + 1);
    b.add_text(group, R::RT_hasObsContext, codes::tracking_identifier, tracking_id);
    b.add_uid(group, R::RT_hasObsContext, codes::tracking_uid, tracking_uid);
    b.add_code(group, R::RT_contains, finding_category, morphologically_abnormal);
    b.add_code(group, R::RT_contains, finding, codes::calcification_cluster);
    if (im.seg_sop_instance_uid != nullptr) {
        /* TID 1411 row 7 and 12: the SEG segment of the calcifications, and its source. */
        b.add_image(group, R::RT_contains, &referenced_segment, seg_sop_class_uid,
                    im.seg_sop_instance_uid, im.seg_segment_number);
        b.add_uid(group, R::RT_contains, source_series_for_segmentation, src.series_uid);
    } else {
        /* TID 1411 row 5: the cluster outline on the source image. */
        size_t region = b.add(group, R::RT_contains, R::VT_SCoord, &image_region);
        if (region != 0) {
            DSRSpatialCoordinatesValue value(R::GT_Polyline);
            std::vector<float> data = cluster_outline(c);
            for (size_t k = 0; k + 1 < data.size(); k += 2)
                value.getGraphicDataList().addItem(data[k], data[k + 1]);
            OFCondition cond = b.tree().getCurrentContentItem().setSpatialCoordinates(value);
            if (cond.bad())
                b.fail(std::string("cluster outline: ") + cond.text());
            b.add_image(region, R::RT_selectedFrom, nullptr, src.sop_class_uid,
                        src.sop_instance_uid, 0);
        }
    }
    size_t site = b.add_code(group, R::RT_hasConceptMod, finding_site, breast);
    if (src.laterality == "L" || src.laterality == "R")
        b.add_code(site, R::RT_hasConceptMod, laterality, src.laterality == "L" ? left : right);
    b.add_num(group, R::RT_contains, codes::number_of_calcifications, c.calcification_count,
              unit_count);
    b.add_num(group, R::RT_contains, codes::area, c.area_mm2, unit_mm2);
    if (c.mean_calcification_area_mm2 >= 0)
        b.add_num(group, R::RT_contains, mean_calcification_area, c.mean_calcification_area_mm2,
                  unit_mm2);
    if (c.density_per_cm2 >= 0)
        b.add_num(group, R::RT_contains, calcification_density, c.density_per_cm2, unit_per_cm2);
    if (c.has_score)
        b.add_num(group, R::RT_contains, codes::probability_of_cancer, c.score * percent,
                  unit_percent);
    add_category(b, group, c.category);
    if (c.description != nullptr && c.description[0] != '\0')
        b.add_text(group, R::RT_contains, codes::impression_description, c.description);
}

/* TID 1501: the study-level risk, when the model gave one. */
void add_study_group(tree_builder &b, size_t parent, const study_input &in,
                     const std::string &tracking_uid)
{
    const cn_report_study &s = *in.study;
    if (!s.has_study_score && s.study_category == nullptr)
        return;
    size_t group = b.add(parent, R::RT_contains, R::VT_Container, &measurement_group);
    b.add_text(group, R::RT_hasObsContext, codes::tracking_identifier, "study");
    b.add_uid(group, R::RT_hasObsContext, codes::tracking_uid, tracking_uid);
    if (s.has_study_score)
        b.add_num(group, R::RT_contains, codes::probability_of_cancer, s.study_score * percent,
                  unit_percent);
    add_category(b, group, s.study_category);
}

int tracking_uid_for(const study_input &in, const cn_report_object &o, size_t i, size_t j,
                     std::string &out, char *err, size_t err_len)
{
    const cn_report_cluster &c = in.study->images[i].clusters[j];
    if (c.tracking_uid != nullptr) {
        out = c.tracking_uid;
        return CN_DCM_OK;
    }
    out =
        std::string(o.sop_instance_uid) + "." + std::to_string(i + 1) + "." + std::to_string(j + 1);
    if (!valid_uid(out.c_str()))
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "tracking UID \"%s\" is longer than 64 characters: pass tracking UIDs "
                         "or a shorter SOP Instance UID",
                         out.c_str());
    return CN_DCM_OK;
}

int write_measurements(const char *path, const cn_report_study *study,
                       const cn_report_object *object, char *err, size_t err_len)
{
    study_input in;
    int rc = load_study(study, object, in, err, err_len);
    if (rc != CN_DCM_OK)
        return rc;
    DSRDocument doc(R::DT_ComprehensiveSR);
    tree_builder b(doc.getTree());
    size_t root = b.root(R::VT_Container, imaging_measurement_report);
    if (root != 0)
        doc.getTree().getCurrentContentItem().setTemplateIdentification("1500", "DCMR");
    add_observation_context(b, root, in);
    b.add_code(root, R::RT_hasConceptMod, procedure_reported, mammography);
    add_image_library(b, root, in);
    size_t measurements = b.add(root, R::RT_contains, R::VT_Container, &imaging_measurements);
    std::vector<evidence_ref> segs;
    for (size_t i = 0; i < study->image_count && b.ok(); i++) {
        const cn_report_image &im = study->images[i];
        if (!image_analysed(in, i))
            continue;
        if (im.seg_sop_instance_uid != nullptr && im.cluster_count > 0)
            segs.push_back(
                {im.seg_series_instance_uid, seg_sop_class_uid, im.seg_sop_instance_uid});
        for (size_t j = 0; j < im.cluster_count && b.ok(); j++) {
            std::string uid;
            rc = tracking_uid_for(in, *object, i, j, uid, err, err_len);
            if (rc != CN_DCM_OK)
                return rc;
            add_cluster_group(b, measurements, in, i, j, uid);
        }
    }
    if (!study->analysis_failed) {
        std::string uid = std::string(object->sop_instance_uid) + ".0";
        if (!valid_uid(uid.c_str()))
            return set_error(err, err_len, CN_DCM_EINVAL,
                             "study tracking UID \"%s\" is longer than 64 characters", uid.c_str());
        add_study_group(b, measurements, in, uid);
    }
    if (!b.ok())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not build the measurement report: %s",
                         b.error().c_str());
    return save_sr(path, doc, in, *object, default_series_description, segs, err, err_len);
}

} // namespace

extern "C" int cn_report_write_measurements(const char *path, const struct cn_report_study *study,
                                            const struct cn_report_object *object, char *err,
                                            size_t err_len)
{
    if (path == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "cn_report_write_measurements needs a path");
    try {
        return write_measurements(path, study, object, err, err_len);
    } catch (const std::bad_alloc &) {
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory writing \"%s\"", path);
    } catch (const std::exception &e) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\": %s", path, e.what());
    } catch (...) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\"", path);
    }
}
