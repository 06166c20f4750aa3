/* node/dcm: cn_report_write_cad, the Mammography CAD SR (PS3.3 A.35.5, PS3.16 TID 4000).
 *
 * Tree (PS3.16 template and row in brackets):
 *   Mammography CAD Report [4000]
 *     Language [1204]
 *     Image Library [4000 r3] > IMAGE per source, laterality, view, date, spacing [4020]
 *     CAD Processing and Findings Summary [4001 r1]
 *       > study impression: assessment category, description, algorithm [4002]
 *       > INFERRED FROM Individual Impression/Recommendation per cluster [4003]
 *           > Composite Feature "Calcification Cluster" [4004]: tracking [4108], composite
 *             type, scope, algorithm, probability [4005], centre and outline [4021],
 *             INFERRED FROM the cluster's Single Image Finding [4006] (number of
 *             calcifications [4010], certainty, centre, outline) and the members'
 *             "Individual Calcification" findings [4006, 4009]
 *       > INFERRED FROM Individual Impression/Recommendation, presentation optional, with
 *         the calcifications of an image outside any cluster
 *     Summary of Detections [4000 r6] > Successful / Failed Detections [4015]
 *       > Detection Performed per finding type: algorithm, images by reference,
 *         operating points [4017, 4023]
 *     Summary of Analyses [4000 r8] > Successful / Failed Analyses [4016, 4018]
 *
 * SCOORDs select their image by reference to its Image Library item (PS3.16 TID 4021). */
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include <dcmtk/dcmsr/dsrdoc.h>

#include "dcm/dcm_internal.hh"
#include "dcm/dcm_writer_util.hh"
#include "dcm/report.h"
#include "dcm/sr_internal.hh"

using namespace cn_dcm;

namespace
{

using R = DSRTypes;

const char default_series_description[] = "Calcification CAD";
const size_t tracking_id_len = 64; /* LO */
const double percent = 100.0;

const code mammography_cad_report = {"111036", "DCM", "Mammography CAD Report"};
/* CID 6047 */
const code findings_summary = {"111017", "DCM", "CAD Processing and Findings Summary"};
const code all_with = {"111242", "DCM", "All algorithms succeeded; with findings"};
const code all_without = {"111241", "DCM", "All algorithms succeeded; without findings"};
const code some_with = {"111244", "DCM", "Not all algorithms succeeded; with findings"};
const code some_without = {"111243", "DCM", "Not all algorithms succeeded; without findings"};
const code none_without = {"111245", "DCM", "No algorithms succeeded; without findings"};
/* CID 6042 */
const code summary_of_detections = {"111064", "DCM", "Summary of Detections"};
const code summary_of_analyses = {"111065", "DCM", "Summary of Analyses"};
const code succeeded = {"111222", "DCM", "Succeeded"};
const code partially_succeeded = {"111223", "DCM", "Partially Succeeded"};
const code failed = {"111224", "DCM", "Failed"};
const code not_attempted = {"111225", "DCM", "Not Attempted"};
/* TID 4015 - 4018, 4023 */
const code successful_detections = {"111063", "DCM", "Successful Detections"};
const code failed_detections = {"111025", "DCM", "Failed Detections"};
const code detection_performed = {"111022", "DCM", "Detection Performed"};
const code successful_analyses = {"111062", "DCM", "Successful Analyses"};
const code failed_analyses = {"111024", "DCM", "Failed Analyses"};
const code analysis_performed = {"111004", "DCM", "Analysis Performed"};
const code impression_analysis = {"111233", "DCM",
                                  "Individual Impression / Recommendation Analysis"};
const code max_operating_point = {"111072", "DCM", "Maximum CAD Operating Point"};
const code recommended_operating_point = {"111092", "DCM", "Recommended CAD Operating Point"};
const code operating_point_concept = {"111071", "DCM", "CAD Operating Point"};
/* TID 4003 - 4006, CID 6034, 6035, 6036 */
const code individual_impression = {"111034", "DCM", "Individual Impression/Recommendation"};
const code rendering_intent = {"111056", "DCM", "Rendering Intent"};
const code presentation_required = {"111150", "DCM",
                                    "Presentation Required: Rendering device is expected to "
                                    "present"};
const code presentation_optional = {"111151", "DCM",
                                    "Presentation Optional: Rendering device may present"};
const code composite_feature = {"111015", "DCM", "Composite Feature"};
const code composite_type = {"111016", "DCM", "Composite type"};
const code related_spatially = {"111154", "DCM", "Target content items are related spatially"};
const code scope_of_feature = {"111057", "DCM", "Scope of Feature"};
const code only_image = {"111156", "DCM", "Feature detected on the only image"};
const code one_of_images = {"111157", "DCM", "Feature detected on only one of the images"};
const code single_image_finding = {"111059", "DCM", "Single Image Finding"};
const code certainty_of_finding = {"111012", "DCM", "Certainty of Finding"};
const code center = {"111010", "DCM", "Center"};
const code outline = {"111041", "DCM", "Outline"};
/* UCUM */
const code unit_none = {"1", "UCUM", "no units"};
const code unit_percent = {"%", "UCUM", "Percent"};
const code unit_mm = {"mm", "UCUM", "millimeter"};
const code unit_pixels = {"{pixels}", "UCUM", "pixels"};
const code unit_mm2 = {"mm2", "UCUM", "square millimeter"};

struct cad_writer {
    tree_builder &b;
    const study_input &in;
    std::vector<size_t> library; /* IMAGE node per source image */
    std::string range_units;     /* "{1:n}" of the operating points */
    std::string range_meaning;
    code range() const
    {
        return {range_units.c_str(), "UCUM", range_meaning.c_str()};
    }

    void algorithm(size_t parent)
    {
        /* TID 4019, by HAS PROPERTIES from a finding or a detection */
        b.add_text(parent, R::RT_hasProperties, codes::algorithm_name, in.study->algorithm_name);
        b.add_text(parent, R::RT_hasProperties, codes::algorithm_version,
                   in.study->algorithm_version);
    }

    void add_library(size_t root)
    {
        size_t lib = b.add(root, R::RT_contains, R::VT_Container, &codes::image_library);
        for (const source_image &src : in.images) {
            size_t image = b.add_image(lib, R::RT_contains, nullptr, src.sop_class_uid,
                                       src.sop_instance_uid, 0);
            library.push_back(image);
            /* TID 4020 rows 2-12, 27 */
            if (src.laterality == "L" || src.laterality == "R")
                b.add_code(image, R::RT_hasAcqContext, codes::image_laterality,
                           src.laterality == "L" ? codes::left_breast : codes::right_breast);
            if (src.view == "CC" || src.view == "MLO")
                b.add_code(image, R::RT_hasAcqContext, codes::image_view,
                           src.view == "CC" ? codes::cc : codes::mlo);
            if (!src.study_date.empty())
                b.add_date(image, R::RT_hasAcqContext, codes::study_date, src.study_date, false);
            if (!src.study_time.empty())
                b.add_date(image, R::RT_hasAcqContext, codes::study_time, src.study_time, true);
            if (src.spacing_mm[0] > 0) {
                b.add_num(image, R::RT_hasAcqContext, codes::horizontal_pixel_spacing,
                          src.spacing_mm[1], unit_mm);
                b.add_num(image, R::RT_hasAcqContext, codes::vertical_pixel_spacing,
                          src.spacing_mm[0], unit_mm);
            }
            if (src.rows > 0 && src.columns > 0) {
                b.add_num(image, R::RT_hasAcqContext, codes::pixel_data_rows, src.rows,
                          unit_pixels);
                b.add_num(image, R::RT_hasAcqContext, codes::pixel_data_columns, src.columns,
                          unit_pixels);
            }
        }
    }

    void rendering(size_t finding, bool required)
    {
        size_t intent = b.add_code(finding, R::RT_hasConceptMod, rendering_intent,
                                   required ? presentation_required : presentation_optional);
        /* TID 4006 row 3: the operating point at which an optional finding is shown. */
        if (!required && in.study->operating_point_count > 0)
            b.add_num(intent, R::RT_hasProperties, operating_point_concept,
                      in.study->operating_point, range());
    }

    /* TID 4006 for one calcification (TID 4009 through its area, TID 1401). */
    void calcification(size_t parent, R::E_RelationshipType rel, size_t i, size_t k)
    {
        const cn_report_calcification &c = in.study->images[i].calcifications[k];
        size_t sif = b.add_code(parent, rel, single_image_finding, codes::individual_calcification);
        rendering(sif, false);
        algorithm(sif);
        b.add_scoord(sif, R::RT_hasProperties, center, R::GT_Point,
                     {pixel_coord(c.center.x_px), pixel_coord(c.center.y_px)}, library[i]);
        std::vector<float> poly = calcification_outline(c);
        if (!poly.empty())
            b.add_scoord(sif, R::RT_hasProperties, outline, R::GT_Polyline, poly, library[i]);
        if (c.area_mm2 >= 0)
            b.add_num(sif, R::RT_hasProperties, codes::area, c.area_mm2, unit_mm2);
    }

    /* TID 4002 below an impression: category, description, algorithm. Below the findings
     * summary CODE the relationship is HAS PROPERTIES; below an Individual
     * Impression/Recommendation CONTAINER the IOD allows only CONTAINS (PS3.3 Table
     * A.35.5-2). */
    void impression_body(size_t parent, R::E_RelationshipType rel, const char *category,
                         const char *description, bool has_score, double score)
    {
        code value;
        bool have_category = category != nullptr && category_code(category, value);
        std::string text;
        if (category != nullptr && category[0] != '\0' && category[1] != '\0')
            text = std::string("category ") + category;
        if (has_score) {
            char buf[64];
            snprintf(buf, sizeof buf, "risk score %.3f", score);
            text += (text.empty() ? "" : ", ") + std::string(buf);
        }
        if (description != nullptr && description[0] != '\0')
            text += (text.empty() ? "" : "; ") + std::string(description);
        if (!have_category && text.empty())
            return;
        if (have_category)
            b.add_code(parent, rel, codes::assessment_category, value);
        if (!text.empty())
            b.add_text(parent, rel, codes::impression_description, text);
        b.add_text(parent, rel, codes::algorithm_name, in.study->algorithm_name);
        b.add_text(parent, rel, codes::algorithm_version, in.study->algorithm_version);
    }

    void cluster(size_t summary, size_t i, size_t j)
    {
        const cn_report_image &im = in.study->images[i];
        const cn_report_cluster &c = im.clusters[j];
        const source_image &src = in.images[i];
        size_t impression =
            b.add(summary, R::RT_inferredFrom, R::VT_Container, &individual_impression);
        b.add_code(impression, R::RT_hasConceptMod, rendering_intent, presentation_required);
        impression_body(impression, R::RT_contains, c.category, c.description, false, 0);

        size_t feature =
            b.add_code(impression, R::RT_contains, composite_feature, codes::calcification_cluster);
        rendering(feature, true);
        char tracking_id[tracking_id_len + 1];
        snprintf(tracking_id, sizeof tracking_id, "%s %s cluster %zu", src.laterality.c_str(),
                 src.view.c_str(), j + 1);
        b.add_text(feature, R::RT_hasObsContext, codes::tracking_identifier, tracking_id);
        if (c.tracking_uid != nullptr)
            b.add_uid(feature, R::RT_hasObsContext, codes::tracking_uid, c.tracking_uid);
        b.add_code(feature, R::RT_hasProperties, composite_type, related_spatially);
        b.add_code(feature, R::RT_hasProperties, scope_of_feature,
                   in.images.size() == 1 ? only_image : one_of_images);
        algorithm(feature);
        if (c.has_score)
            b.add_num(feature, R::RT_hasProperties, codes::probability_of_cancer, c.score * percent,
                      unit_percent);
        const std::vector<float> centre = {pixel_coord(c.center.x_px), pixel_coord(c.center.y_px)};
        const std::vector<float> poly = cluster_outline(c);
        b.add_scoord(feature, R::RT_inferredFrom, center, R::GT_Point, centre, library[i]);
        b.add_scoord(feature, R::RT_inferredFrom, outline, R::GT_Polyline, poly, library[i]);

        size_t sif = b.add_code(feature, R::RT_inferredFrom, single_image_finding,
                                codes::calcification_cluster);
        rendering(sif, true);
        algorithm(sif);
        if (c.has_score)
            b.add_num(sif, R::RT_hasProperties, certainty_of_finding, c.score * percent,
                      unit_percent);
        b.add_scoord(sif, R::RT_hasProperties, center, R::GT_Point, centre, library[i]);
        b.add_scoord(sif, R::RT_hasProperties, outline, R::GT_Polyline, poly, library[i]);
        b.add_num(sif, R::RT_hasProperties, codes::number_of_calcifications, c.calcification_count,
                  unit_none);
        for (size_t k = 0; k < c.member_count; k++)
            calcification(feature, R::RT_inferredFrom, i, c.members[k]);
    }

    /* Calcifications of image i that no cluster holds, as optional findings. */
    void unclustered(size_t summary, size_t i)
    {
        const cn_report_image &im = in.study->images[i];
        std::vector<bool> member(im.calcification_count, false);
        for (size_t j = 0; j < im.cluster_count; j++)
            for (size_t k = 0; k < im.clusters[j].member_count; k++)
                member[im.clusters[j].members[k]] = true;
        size_t impression = 0;
        for (size_t k = 0; k < im.calcification_count && b.ok(); k++) {
            if (member[k])
                continue;
            if (impression == 0) {
                impression =
                    b.add(summary, R::RT_inferredFrom, R::VT_Container, &individual_impression);
                b.add_code(impression, R::RT_hasConceptMod, rendering_intent,
                           presentation_optional);
            }
            calcification(impression, R::RT_contains, i, k);
        }
    }

    /* TID 4017 / 4018 for the images with (analysed == want_analysed). */
    void performed(size_t container, const code &concept, const code &what, bool want_analysed)
    {
        size_t item = b.add_code(container, R::RT_contains, concept, what);
        algorithm(item);
        for (size_t i = 0; i < in.images.size(); i++)
            if (image_analysed(in, i) == want_analysed)
                b.by_reference(item, R::RT_hasProperties, library[i]);
        if (in.study->operating_point_count > 0 && &concept == &detection_performed) {
            b.add_num(item, R::RT_hasProperties, max_operating_point,
                      in.study->operating_point_count, unit_none);
            if (in.study->operating_point > 0)
                b.add_num(item, R::RT_hasProperties, recommended_operating_point,
                          in.study->operating_point, range());
        }
    }

    void summary(size_t root, const code &summary_concept, const code &success_concept,
                 const code &failure_concept, const code &performed_concept,
                 const std::vector<code> &performed_values, bool attempted)
    {
        size_t analysed = 0;
        for (size_t i = 0; i < in.images.size(); i++)
            analysed += image_analysed(in, i) ? 1 : 0;
        const bool any_failed = analysed < in.images.size();
        const code &status = !attempted      ? not_attempted
                             : analysed == 0 ? failed
                             : any_failed    ? partially_succeeded
                                             : succeeded;
        size_t node = b.add_code(root, R::RT_contains, summary_concept, status);
        if (!attempted)
            return;
        if (analysed > 0) {
            size_t ok = b.add(node, R::RT_inferredFrom, R::VT_Container, &success_concept);
            for (const code &value : performed_values)
                performed(ok, performed_concept, value, true);
        }
        if (any_failed) {
            size_t bad = b.add(node, R::RT_inferredFrom, R::VT_Container, &failure_concept);
            for (const code &value : performed_values)
                performed(bad, performed_concept, value, false);
        }
    }
};

bool any_findings(const study_input &in)
{
    for (size_t i = 0; i < in.images.size(); i++)
        if (image_analysed(in, i) &&
            (in.study->images[i].cluster_count > 0 || in.study->images[i].calcification_count > 0))
            return true;
    return false;
}

bool any_score(const study_input &in)
{
    if (in.study->has_study_score || in.study->study_category != nullptr)
        return true;
    for (size_t i = 0; i < in.images.size(); i++)
        for (size_t j = 0; j < in.study->images[i].cluster_count; j++)
            if (in.study->images[i].clusters[j].has_score ||
                in.study->images[i].clusters[j].category != nullptr)
                return true;
    return false;
}

int write_cad(const char *path, const cn_report_study *study, const cn_report_object *object,
              char *err, size_t err_len)
{
    study_input in;
    int rc = load_study(study, object, in, err, err_len);
    if (rc != CN_DCM_OK)
        return rc;
    DSRDocument doc(R::DT_MammographyCadSR);
    tree_builder b(doc.getTree());
    cad_writer w{b,
                 in,
                 {},
                 "{1:" + std::to_string(study->operating_point_count) + "}",
                 "range: 1:" + std::to_string(study->operating_point_count)};
    size_t root = b.root(R::VT_Container, mammography_cad_report);
    if (root != 0)
        doc.getTree().getCurrentContentItem().setTemplateIdentification("4000", "DCMR");
    b.add_code(root, R::RT_hasConceptMod, codes::language, codes::english_us);
    w.add_library(root);

    size_t analysed = 0;
    for (size_t i = 0; i < in.images.size(); i++)
        analysed += image_analysed(in, i) ? 1 : 0;
    const bool findings = any_findings(in);
    const code &outcome = analysed == 0                  ? none_without
                          : analysed == in.images.size() ? (findings ? all_with : all_without)
                                                         : (findings ? some_with : some_without);
    size_t summary = b.add_code(root, R::RT_contains, findings_summary, outcome);
    if (analysed > 0)
        w.impression_body(summary, R::RT_hasProperties, study->study_category, nullptr,
                          study->has_study_score, study->study_score);
    for (size_t i = 0; i < in.images.size() && b.ok(); i++) {
        if (!image_analysed(in, i))
            continue;
        for (size_t j = 0; j < study->images[i].cluster_count && b.ok(); j++)
            w.cluster(summary, i, j);
        w.unclustered(summary, i);
    }
    w.summary(root, summary_of_detections, successful_detections, failed_detections,
              detection_performed, {codes::individual_calcification, codes::calcification_cluster},
              true);
    w.summary(root, summary_of_analyses, successful_analyses, failed_analyses, analysis_performed,
              {impression_analysis}, any_score(in));
    if (!b.ok())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not build the CAD report: %s",
                         b.error().c_str());
    return save_sr(path, doc, in, *object, default_series_description, {}, err, err_len);
}

} // namespace

extern "C" int cn_report_write_cad(const char *path, const struct cn_report_study *study,
                                   const struct cn_report_object *object, char *err, size_t err_len)
{
    if (path == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "cn_report_write_cad needs a path");
    try {
        return write_cad(path, study, object, err, err_len);
    } catch (const std::bad_alloc &) {
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory writing \"%s\"", path);
    } catch (const std::exception &e) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\": %s", path, e.what());
    } catch (...) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\"", path);
    }
}
