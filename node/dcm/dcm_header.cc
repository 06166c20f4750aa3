/* node/dcm: cn_dcm_read_header, the catalogue attributes of a stored instance. */
#include "dcm/dcm_internal.hh"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

using namespace cn_dcm;

namespace {

const size_t uid_max_len = CN_DCM_UID_SIZE - 1; /* PS3.5 9.1 */

/* Copies a UID attribute; false when it is longer than PS3.5 allows. */
bool copy_uid(char *dst, const std::string &value)
{
    std::string v = value;
    while (!v.empty() && (v.back() == ' ' || v.back() == '\0'))
        v.pop_back();
    if (v.size() > uid_max_len)
        return false;
    copy_trimmed(dst, CN_DCM_UID_SIZE, v);
    return true;
}

struct uid_field {
    DcmTagKey tag;
    DcmTagKey meta_tag; /* fallback in the file meta information, or the undefined key */
    char *dst;
    const char *name;
};

int read_header(const char *path, struct cn_dcm_header *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!init_once())
        return set_error(err, err_len, CN_DCM_EIO, "could not load the DICOM data dictionary");

    /* Probe first so that a missing or unreadable file is an I/O error with errno's text,
     * not a parse error. */
    FILE *probe = fopen(path, "rb");
    if (probe == nullptr)
        return set_error(err, err_len, CN_DCM_EIO, "could not open file \"%s\": %s", path,
                         strerror(errno));
    fclose(probe);

    DcmFileFormat file;
    /* Stop before Pixel Data: the header of a 50 MB mammogram costs a few kilobytes. */
    OFCondition cond = file.loadFileUntilTag(path, EXS_Unknown, EGL_noChange,
                                             DCM_MaxReadLength, ERM_fileOnly, DCM_PixelData);
    DcmDataset &ds = *file.getDataset();
    DcmMetaInfo &meta = *file.getMetaInfo();
    if (cond.bad() && ds.card() == 0)
        return set_error(err, err_len, CN_DCM_EFORMAT,
                         "could not parse DICOM file \"%s\": %s", path, cond.text());

    const uid_field uids[] = {
        {DCM_SOPClassUID, DCM_MediaStorageSOPClassUID, out->sop_class_uid, "SOP Class UID"},
        {DCM_SOPInstanceUID, DCM_MediaStorageSOPInstanceUID, out->sop_instance_uid,
         "SOP Instance UID"},
        {DCM_StudyInstanceUID, DCM_UndefinedTagKey, out->study_instance_uid,
         "Study Instance UID"},
        {DCM_SeriesInstanceUID, DCM_UndefinedTagKey, out->series_instance_uid,
         "Series Instance UID"},
    };
    for (const uid_field &u : uids) {
        std::string value = get_first(ds, u.tag);
        if (value.empty() && u.meta_tag != DCM_UndefinedTagKey)
            value = get_first(meta, u.meta_tag);
        if (!copy_uid(u.dst, value))
            return set_error(err, err_len, CN_DCM_EFORMAT,
                             "%s in \"%s\" is longer than 64 characters", u.name, path);
        if (u.dst[0] == '\0') {
            if (cond.bad())
                return set_error(err, err_len, CN_DCM_EFORMAT,
                                 "could not parse DICOM file \"%s\": %s", path, cond.text());
            return set_error(err, err_len, CN_DCM_EMISSING, "%s is missing in \"%s\"", u.name,
                             path);
        }
    }
    if (!copy_uid(out->transfer_syntax_uid, get_first(meta, DCM_TransferSyntaxUID)))
        return set_error(err, err_len, CN_DCM_EFORMAT,
                         "Transfer Syntax UID in \"%s\" is longer than 64 characters", path);

    copy_trimmed(out->specific_character_set, sizeof out->specific_character_set,
                 get_string(ds, DCM_SpecificCharacterSet));
    copy_trimmed(out->patient_id, sizeof out->patient_id, get_string(ds, DCM_PatientID));
    copy_trimmed(out->patient_name, sizeof out->patient_name, get_string(ds, DCM_PatientName));
    copy_trimmed(out->patient_birth_date, sizeof out->patient_birth_date,
                 get_first(ds, DCM_PatientBirthDate));
    copy_trimmed(out->patient_sex, sizeof out->patient_sex, get_first(ds, DCM_PatientSex));
    copy_trimmed(out->study_date, sizeof out->study_date, get_first(ds, DCM_StudyDate));
    copy_trimmed(out->study_time, sizeof out->study_time, get_first(ds, DCM_StudyTime));
    copy_trimmed(out->accession_number, sizeof out->accession_number,
                 get_first(ds, DCM_AccessionNumber));
    copy_trimmed(out->study_description, sizeof out->study_description,
                 get_string(ds, DCM_StudyDescription));
    copy_trimmed(out->modality, sizeof out->modality, get_first(ds, DCM_Modality));
    copy_trimmed(out->series_number, sizeof out->series_number,
                 get_first(ds, DCM_SeriesNumber));
    copy_trimmed(out->instance_number, sizeof out->instance_number,
                 get_first(ds, DCM_InstanceNumber));
    copy_trimmed(out->image_laterality, sizeof out->image_laterality, laterality_of(ds));
    copy_trimmed(out->view_position, sizeof out->view_position, view_of(ds));
    copy_trimmed(out->presentation_intent, sizeof out->presentation_intent,
                 get_first(ds, DCM_PresentationIntentType));
    Uint16 rows = 0, columns = 0;
    if (ds.findAndGetUint16(DCM_Rows, rows, 0, OFFalse).good() &&
        ds.findAndGetUint16(DCM_Columns, columns, 0, OFFalse).good()) {
        out->rows = rows;
        out->columns = columns;
    }
    if (cond.bad()) {
        out->parse_incomplete = 1;
        set_error(err, err_len, CN_DCM_EFORMAT, "DICOM file \"%s\" is malformed: %s", path,
                  cond.text());
    }
    return CN_DCM_OK;
}

} // namespace

extern "C" int cn_dcm_read_header(const char *path, struct cn_dcm_header *out, char *err,
                                  size_t err_len)
{
    if (path == nullptr || out == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "cn_dcm_read_header needs a path and a "
                                                      "result");
    try {
        return read_header(path, out, err, err_len);
    } catch (const std::bad_alloc &) {
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory reading \"%s\"", path);
    } catch (const std::exception &e) {
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read \"%s\": %s", path,
                         e.what());
    } catch (...) {
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read \"%s\"", path);
    }
}
