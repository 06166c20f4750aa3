/* node/dcm internal: helpers for the writers (MG, SEG). Not part of the C ABI. */
#ifndef CN_DCM_WRITER_UTIL_HH
#define CN_DCM_WRITER_UTIL_HH

#include <cstddef>
#include <cstdint>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dctagkey.h>

class DcmFileFormat;

namespace cn_dcm {

/* 1 to 64 characters of [0-9.] (PS3.5 9.1; the characters the store accepts). */
bool valid_uid(const char *uid);

/* s, or "" when s is NULL. */
std::string text_or_empty(const char *s);

/* A DS value (PS3.5 6.2: at most 16 characters) for v. */
std::string format_ds(double v);

/* Inserts attributes into one item and remembers the first failure, so that a long
 * list of puts is checked once at the end. */
class attribute_writer {
  public:
    explicit attribute_writer(DcmItem &item) : item_(item) {}
    void put(const DcmTagKey &tag, const char *value); /* NULL: empty (type 2) */
    void put_int(const DcmTagKey &tag, long value);     /* IS */
    void put_ds(const DcmTagKey &tag, double value);
    void put_ds_pair(const DcmTagKey &tag, double a, double b);
    void put_uint16(const DcmTagKey &tag, uint16_t value);
    void put_sint16(const DcmTagKey &tag, int16_t value);
    void empty_sequence(const DcmTagKey &tag);
    /* Appends an item with Code Value, Coding Scheme Designator and Code Meaning to the
     * sequence tag (created when absent); returns the item (owned by the dataset) or NULL
     * on failure. */
    DcmItem *code_item(const DcmTagKey &tag, const char *value, const char *scheme,
                       const char *meaning);
    void check(const OFCondition &cond);
    bool ok() const { return error_.empty(); }
    const std::string &error() const { return error_; }

  private:
    DcmItem &item_;
    std::string error_;
};

/* Saves file as Explicit VR Little Endian to path through path.tmp and rename, so a
 * reader never sees half a file. Returns 0 or CN_DCM_EIO with err filled. */
int save_file(DcmFileFormat &file, const char *path, char *err, size_t err_len);

} // namespace cn_dcm

#endif
