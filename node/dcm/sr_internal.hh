/* node/dcm internal: what the SR and GSPS writers (report.h) share. Not part of the C ABI.
 * Callable from any thread except the libuv loop thread; no shared state. */
#ifndef CN_DCM_SR_INTERNAL_HH
#define CN_DCM_SR_INTERNAL_HH

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include "dcm/report.h"

namespace cn_dcm
{

/* A code triple (PS3.3 Table 8.8-1). */
struct code {
    const char *value, *scheme, *meaning;
    DSRCodedEntryValue entry() const
    {
        return DSRCodedEntryValue(value, scheme, meaning);
    }
};

/* The codes the writers use, PS3.16 unless the scheme is 99CALCNODE (our own, for the
 * measurements the standard has no concept for; declared in each SR's Coding Scheme
 * Identification Sequence). */
namespace codes
{
extern const code language, english_us, observer_type, device, device_observer_uid,
    device_observer_name, device_observer_manufacturer, image_library, image_laterality, image_view,
    left_breast, right_breast, cc, mlo, horizontal_pixel_spacing, vertical_pixel_spacing,
    pixel_data_rows, pixel_data_columns, study_date, study_time, algorithm_name, algorithm_version,
    number_of_calcifications, area, probability_of_cancer, assessment_category,
    impression_description, calcification_cluster, individual_calcification, tracking_identifier,
    tracking_uid;
} // namespace codes

extern const char local_scheme[]; /* "99CALCNODE" */
extern const char local_scheme_name[];

/* A source image as the writers need it, read from its file. */
struct source_image {
    std::string path;
    std::string sop_class_uid, sop_instance_uid, study_uid, series_uid;
    std::string laterality; /* "L", "R" or "" */
    std::string view;       /* "CC", "MLO", ... or "" */
    std::string study_date, study_time;
    std::string photometric;
    double spacing_mm[2] = {0, 0};              /* row, column; 0 when unknown */
    double window_center = 0, window_width = 0; /* width 0: none */
    unsigned rows = 0, columns = 0;
    std::unique_ptr<DcmFileFormat> file; /* the first image's file keeps its dataset, for
                                           the patient and study attributes */
};

/* Everything a writer needs, validated once. */
struct study_input {
    const cn_report_study *study = nullptr;
    std::vector<source_image> images;
    std::string date, time; /* content date and time */
    std::string manufacturer;
};

/* Checks the study and the object identity against the contract in report.h and reads
 * every source image; fills in. */
int load_study(const cn_report_study *study, const cn_report_object *object, study_input &in,
               char *err, size_t err_len);

/* Whether the study reports image i as analysed. */
bool image_analysed(const study_input &in, size_t i);

/* Point in SCOORD / GSPS pixel coordinates (see report.h). */
inline float pixel_coord(double index)
{
    return static_cast<float>(index + 0.5);
}

/* The closed outline of a cluster: its polygon, or its bounding box; the first point is
 * repeated at the end (PS3.3 C.18.6.1.1: a closed POLYLINE ends where it starts). */
std::vector<float> cluster_outline(const cn_report_cluster &c);
std::vector<float> calcification_outline(const cn_report_calcification &c);

/* Code for a category "2".."5" ("4A".."4C" map to category 4, PS3.16 CID 6026); false
 * for an unknown category. */
bool category_code(const char *category, code &out);

/* Builds an SR content tree by node IDs (wraps DSRDocumentTree's cursor) and remembers
 * the first failure. */
class tree_builder
{
  public:
    explicit tree_builder(DSRDocumentTree &tree) : tree_(tree)
    {
    }
    size_t root(DSRTypes::E_ValueType vt, const code &concept);
    /* A child of parent, appended after its existing children; 0 on failure. */
    size_t add(size_t parent, DSRTypes::E_RelationshipType rel, DSRTypes::E_ValueType vt,
               const code *concept);
    size_t add_code(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                    const code &value);
    size_t add_text(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                    const std::string &value);
    size_t add_uid(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                   const std::string &value);
    size_t add_date(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                    const std::string &value, bool is_time);
    size_t add_num(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                   double value, const code &units);
    size_t add_image(size_t parent, DSRTypes::E_RelationshipType rel, const code *concept,
                     const std::string &sop_class, const std::string &sop_instance,
                     int segment_number);
    /* SCOORD (POINT or POLYLINE) with an R-SELECTED FROM the image library item image_node
     * (PS3.3 C.18.6: the SCOORD's only child selects the image). */
    size_t add_scoord(size_t parent, DSRTypes::E_RelationshipType rel, const code &concept,
                      DSRTypes::E_GraphicType type, const std::vector<float> &data,
                      size_t image_node);
    void by_reference(size_t parent, DSRTypes::E_RelationshipType rel, size_t target);
    void fail(const std::string &what);
    bool ok() const
    {
        return error_.empty();
    }
    const std::string &error() const
    {
        return error_;
    }
    DSRDocumentTree &tree()
    {
        return tree_;
    }

  private:
    DSRDocumentTree &tree_;
    std::string error_;
};

/* Adds the language (TID 1204) and device observer (TID 1001/1004) items to the root. */
void add_observation_context(tree_builder &b, size_t root, const study_input &in);

/* Writes doc to path: patient and study attributes copied from the first source image,
 * series and instance from object, predecessor, evidence of every referenced instance,
 * Contributing Equipment (the algorithm, purpose Processing Equipment), our coding scheme.
 * extra_evidence lists SEG references (series UID, SOP class, SOP instance) beside the
 * source images. */
struct evidence_ref {
    std::string series_uid, sop_class_uid, sop_instance_uid;
};
int save_sr(const char *path, DSRDocument &doc, const study_input &in,
            const cn_report_object &object, const char *default_series_description,
            const std::vector<evidence_ref> &extra_evidence, char *err, size_t err_len);

/* Copies the Patient and General Study attributes of src into dst (values that violate
 * their VR become empty, see report.h). */
void copy_patient_study(DcmItem &src, DcmItem &dst);

} // namespace cn_dcm

#endif
