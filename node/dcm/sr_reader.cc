/* node/dcm: cn_report_read_summary / cn_report_read_numbers, an SR read back with DCMTK. */
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include "dcm/dcm_internal.hh"
#include "dcm/report.h"

using namespace cn_dcm;

namespace
{

using R = DSRTypes;

int load(const char *path, DcmFileFormat &file, DSRDocument &doc, char *err, size_t err_len)
{
    if (!init_once())
        return set_error(err, err_len, CN_DCM_EIO, "could not load the DICOM data dictionary");
    OFCondition cond = file.loadFile(path);
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EIO, "could not read \"%s\": %s", path, cond.text());
    cond = doc.read(*file.getDataset());
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read \"%s\" as an SR: %s", path,
                         cond.text());
    return CN_DCM_OK;
}

bool concept_is(const DSRContentItem &item, const char *value, const char *scheme)
{
    const DSRCodedEntryValue &c = item.getConceptName();
    return c.getCodeValue() == value && c.getCodingSchemeDesignator() == scheme;
}

/* IMAGE children of the Image Library (TID 4020) or of its first group (TID 1600). */
uint32_t count_library_images(DSRDocumentTree &tree)
{
    if (tree.gotoNamedNode(DSRCodedEntryValue("111028", "DCM", "Image Library")) == 0)
        return 0;
    if (tree.goDown() == 0)
        return 0;
    if (tree.getCurrentContentItem().getValueType() == R::VT_Container && tree.goDown() == 0)
        return 0;
    uint32_t count = 0;
    do {
        if (tree.getCurrentContentItem().getValueType() == R::VT_Image)
            count++;
    } while (tree.gotoNext() != 0);
    return count;
}

int read_summary(const char *path, struct cn_report_summary *out, char *err, size_t err_len)
{
    DcmFileFormat file;
    DSRDocument doc;
    int rc = load(path, file, doc, err, err_len);
    if (rc != CN_DCM_OK)
        return rc;
    memset(out, 0, sizeof *out);
    DcmDataset &ds = *file.getDataset();
    copy_trimmed(out->sop_class_uid, sizeof out->sop_class_uid, get_first(ds, DCM_SOPClassUID));
    copy_trimmed(out->sop_instance_uid, sizeof out->sop_instance_uid,
                 get_first(ds, DCM_SOPInstanceUID));
    copy_trimmed(out->specific_character_set, sizeof out->specific_character_set,
                 get_string(ds, DCM_SpecificCharacterSet));
    copy_trimmed(out->patient_name, sizeof out->patient_name, get_string(ds, DCM_PatientName));
    out->predecessor_count =
        static_cast<uint32_t>(doc.getPredecessorDocuments().getNumberOfInstances());

    DSRDocumentTree &tree = doc.getTree();
    if (tree.gotoRoot() == 0)
        return set_error(err, err_len, CN_DCM_EFORMAT, "SR \"%s\" has no content", path);
    copy_trimmed(out->root_concept, sizeof out->root_concept,
                 tree.getCurrentContentItem().getConceptName().getCodeValue().c_str());
    do {
        const DSRContentItem &item = tree.getCurrentContentItem();
        switch (item.getValueType()) {
        case R::VT_Container:
            if (concept_is(item, "125007", "DCM"))
                out->measurement_group_count++;
            break;
        case R::VT_Code:
            if (concept_is(item, "111015", "DCM"))
                out->composite_feature_count++;
            else if (concept_is(item, "111059", "DCM"))
                out->single_image_finding_count++;
            else if (concept_is(item, "111017", "DCM"))
                copy_trimmed(out->findings_summary, sizeof out->findings_summary,
                             item.getCodeValue().getCodeValue().c_str());
            break;
        case R::VT_SCoord:
            out->scoord_count++;
            break;
        default:
            break;
        }
    } while (tree.iterate() != 0);
    out->image_library_count = count_library_images(tree);
    return CN_DCM_OK;
}

int read_numbers(const char *path, const char *concept_value, double *values, size_t capacity,
                 size_t *count, char *err, size_t err_len)
{
    DcmFileFormat file;
    DSRDocument doc;
    int rc = load(path, file, doc, err, err_len);
    if (rc != CN_DCM_OK)
        return rc;
    *count = 0;
    DSRDocumentTree &tree = doc.getTree();
    if (tree.gotoRoot() == 0)
        return CN_DCM_OK;
    do {
        const DSRContentItem &item = tree.getCurrentContentItem();
        if (item.getValueType() != R::VT_Num ||
            item.getConceptName().getCodeValue() != concept_value)
            continue;
        const OFString &text = item.getNumericValue().getNumericValue();
        char *end = nullptr;
        errno = 0;
        double v = strtod(text.c_str(), &end);
        if (errno != 0 || end == text.c_str())
            return set_error(err, err_len, CN_DCM_EFORMAT, "SR \"%s\" has a bad number \"%s\"",
                             path, text.c_str());
        if (*count < capacity)
            values[*count] = v;
        (*count)++;
    } while (tree.iterate() != 0);
    return CN_DCM_OK;
}

template <typename F> int guarded(const char *path, F body, char *err, size_t err_len)
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory reading \"%s\"", path);
    } catch (...) {
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read \"%s\"", path);
    }
}

} // namespace

extern "C" int cn_report_read_summary(const char *path, struct cn_report_summary *out, char *err,
                                      size_t err_len)
{
    if (path == nullptr || out == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "cn_report_read_summary needs a path");
    return guarded(
        path, [&] { return read_summary(path, out, err, err_len); }, err, err_len);
}

extern "C" int cn_report_read_numbers(const char *path, const char *concept_value, double *values,
                                      size_t capacity, size_t *count, char *err, size_t err_len)
{
    if (path == nullptr || concept_value == nullptr || count == nullptr ||
        (values == nullptr && capacity > 0))
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "cn_report_read_numbers needs a path, a "
                         "concept and a count");
    return guarded(
        path,
        [&] { return read_numbers(path, concept_value, values, capacity, count, err, err_len); },
        err, err_len);
}
