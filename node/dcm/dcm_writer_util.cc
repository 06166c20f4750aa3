/* node/dcm: helpers for the writers (MG, SEG). */
#include "dcm/dcm_writer_util.hh"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include "dcm/dcm_internal.hh"

namespace cn_dcm {

namespace {
const size_t uid_max_len = 64;  /* PS3.5 9.1 */
const size_t ds_max_len = 16;   /* PS3.5 Table 6.2-1 */
const int ds_max_precision = 12;
} // namespace

bool valid_uid(const char *uid)
{
    if (uid == nullptr)
        return false;
    size_t n = strlen(uid);
    if (n == 0 || n > uid_max_len)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((uid[i] >= '0' && uid[i] <= '9') || uid[i] == '.'))
            return false;
    return true;
}

std::string text_or_empty(const char *s)
{
    return s != nullptr ? std::string(s) : std::string();
}

std::string format_ds(double v)
{
    char buf[32];
    for (int precision = ds_max_precision; precision > 0; precision--) {
        snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (strlen(buf) <= ds_max_len)
            break;
    }
    return buf;
}

void attribute_writer::check(const OFCondition &cond)
{
    if (cond.bad() && error_.empty())
        error_ = cond.text();
}

void attribute_writer::put(const DcmTagKey &tag, const char *value)
{
    OFCondition cond = item_.putAndInsertString(tag, value != nullptr ? value : "");
    if (cond.bad() && error_.empty())
        error_ = std::string(DcmTag(tag).getTagName()) + ": " + cond.text();
}

void attribute_writer::put_int(const DcmTagKey &tag, long value)
{
    put(tag, std::to_string(value).c_str());
}

void attribute_writer::put_ds(const DcmTagKey &tag, double value)
{
    put(tag, format_ds(value).c_str());
}

void attribute_writer::put_ds_pair(const DcmTagKey &tag, double a, double b)
{
    put(tag, (format_ds(a) + "\\" + format_ds(b)).c_str());
}

void attribute_writer::put_uint16(const DcmTagKey &tag, uint16_t value)
{
    check(item_.putAndInsertUint16(tag, value));
}

void attribute_writer::put_sint16(const DcmTagKey &tag, int16_t value)
{
    check(item_.putAndInsertSint16(tag, value));
}

void attribute_writer::empty_sequence(const DcmTagKey &tag)
{
    check(item_.insertEmptyElement(tag));
}

DcmItem *attribute_writer::code_item(const DcmTagKey &tag, const char *value,
                                     const char *scheme, const char *meaning)
{
    DcmItem *item = nullptr;
    OFCondition cond = item_.findOrCreateSequenceItem(tag, item, -2 /* append */);
    check(cond);
    if (cond.bad() || item == nullptr)
        return nullptr;
    attribute_writer code(*item);
    code.put(DCM_CodeValue, value);
    code.put(DCM_CodingSchemeDesignator, scheme);
    code.put(DCM_CodeMeaning, meaning);
    if (!code.ok() && error_.empty())
        error_ = code.error();
    return item;
}

int save_file(DcmFileFormat &file, const char *path, char *err, size_t err_len)
{
    std::string tmp = std::string(path) + ".tmp";
    OFCondition cond = file.saveFile(tmp.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength,
                                     EGL_recalcGL, EPD_noChange, 0, 0, EWM_createNewMeta);
    if (cond.bad()) {
        remove(tmp.c_str());
        return set_error(err, err_len, CN_DCM_EIO, "could not write file \"%s\": %s",
                         tmp.c_str(), cond.text());
    }
    if (rename(tmp.c_str(), path) != 0) {
        int e = errno;
        remove(tmp.c_str());
        return set_error(err, err_len, CN_DCM_EIO, "could not rename \"%s\" to \"%s\": %s",
                         tmp.c_str(), path, strerror(e));
    }
    return CN_DCM_OK;
}

} // namespace cn_dcm
