/* node/dcm: shared helpers (errors, strings, one-time DCMTK set-up, view codes). */
#include "dcm/dcm_internal.hh"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

namespace cn_dcm {

int set_error(char *err, size_t err_len, int code, const char *fmt, ...)
{
    if (err != nullptr && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

static std::once_flag init_flag;
static bool dictionary_loaded;

bool init_once()
{
    std::call_once(init_flag, [] {
        /* Parse problems reach the caller as error returns with a message; DCMTK's own
         * log lines would only duplicate them on stderr. */
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        dictionary_loaded = dcmDataDict.isDictionaryLoaded();
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
    return dictionary_loaded;
}

void copy_trimmed(char *dst, size_t dst_size, const std::string &src)
{
    if (dst_size == 0)
        return;
    size_t n = src.size();
    while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
        n--;
    if (n > dst_size - 1)
        n = dst_size - 1;
    memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

std::string get_string(DcmItem &item, const DcmTagKey &tag)
{
    OFString value;
    if (item.findAndGetOFStringArray(tag, value, OFFalse).bad())
        return std::string();
    return std::string(value.c_str(), value.length());
}

std::string get_first(DcmItem &item, const DcmTagKey &tag)
{
    OFString value;
    if (item.findAndGetOFString(tag, value, 0, OFFalse).bad())
        return std::string();
    std::string s(value.c_str(), value.length());
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0'))
        s.pop_back();
    return s;
}

namespace {
struct view_code {
    const char *srt;     /* legacy SNOMED-RT code value (SRT, SNM3) */
    const char *sct;     /* SNOMED CT concept id (SCT) */
    const char *meaning; /* PS3.16 code meaning */
    const char *abbrev;  /* View Position / ACR MQCM abbreviation */
};

/* PS3.16 CID 4014 View for Mammography. */
const view_code view_codes[] = {
    {"R-10242", "399162004", "cranio-caudal", "CC"},
    {"R-10226", "399368009", "medio-lateral oblique", "MLO"},
    {"R-10224", "399260004", "medio-lateral", "ML"},
    {"R-10228", "399352003", "latero-medial", "LM"},
    {"R-10230", "399099002", "latero-medial oblique", "LMO"},
    {"R-10244", "399196006", "caudo-cranial (from below)", "FB"},
    {"R-102D0", "399188001", "superolateral to inferomedial oblique", "SIO"},
    {"R-1024A", "399192003", "cranio-caudal exaggerated laterally", "XCCL"},
    {"R-1024B", "399101009", "cranio-caudal exaggerated medially", "XCCM"},
    {"R-102CF", "399265009", "exaggerated cranio-caudal", "XCC"},
};

bool equal_ignoring_case(const std::string &a, const char *b)
{
    size_t n = strlen(b);
    if (a.size() != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}
} // namespace

std::string view_from_code(const std::string &value, const std::string &meaning)
{
    for (const view_code &c : view_codes)
        if (value == c.srt || value == c.sct)
            return c.abbrev;
    for (const view_code &c : view_codes)
        if (equal_ignoring_case(meaning, c.meaning))
            return c.abbrev;
    return std::string();
}

std::string view_of(DcmItem &dataset)
{
    std::string view = get_first(dataset, DCM_ViewPosition);
    if (!view.empty())
        return view;
    DcmItem *code = nullptr;
    /* PS3.3 C.8.11.7: View Code Sequence, one item. */
    if (dataset.findAndGetSequenceItem(DCM_ViewCodeSequence, code, 0).bad() || code == nullptr)
        return std::string();
    return view_from_code(get_first(*code, DCM_CodeValue), get_first(*code, DCM_CodeMeaning));
}

std::string laterality_of(DcmItem &dataset)
{
    std::string lat = get_first(dataset, DCM_ImageLaterality);
    if (lat.empty())
        lat = get_first(dataset, DCM_Laterality);
    return lat;
}

} // namespace cn_dcm
