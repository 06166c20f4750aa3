/* node/dcm internal helpers shared by the C++ translation units of this layer.
 * Nothing here crosses the C ABI: every public function catches all exceptions and
 * reports through set_error. Callable from any thread (no mutable state except the
 * one-time DCMTK initialisation, guarded by std::call_once). */
#ifndef CN_DCM_INTERNAL_HH
#define CN_DCM_INTERNAL_HH

#include <cstddef>
#include <cstdint>
#include <string>

#include "dcm/dcm.h"

class DcmItem;
class DcmTagKey;

namespace cn_dcm {

/* Formats a message into err[err_len] (when err is not NULL) and returns code. */
int set_error(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One-time process-wide DCMTK set-up: quiet logger (errors are reported through our own
 * messages), data dictionary check, JPEG / JPEG-LS / RLE decoder registration. Returns
 * false when the data dictionary is not loaded (nothing can be parsed then). */
bool init_once();

/* Copies src into dst[dst_size] with trailing spaces and NULs removed; truncates to
 * dst_size - 1 bytes. */
void copy_trimmed(char *dst, size_t dst_size, const std::string &src);

/* Reads the whole value (all components, backslash separated) of tag in item, trailing
 * padding removed; empty when absent. search_into_sub = false: this item only. */
std::string get_string(DcmItem &item, const DcmTagKey &tag);

/* The first component of a multi-valued string attribute. */
std::string get_first(DcmItem &item, const DcmTagKey &tag);

/* Mammography view abbreviation (CC, MLO, ...) for a View Code Sequence code, PS3.16
 * CID 4014, in the legacy SNOMED-RT (SRT / SNM3) or the SNOMED CT (SCT) form; falls back
 * to the code meaning. Empty when unknown. */
std::string view_from_code(const std::string &value, const std::string &meaning);

/* View Position (0018,5101), else the first View Code Sequence (0054,0220) item. */
std::string view_of(DcmItem &dataset);

/* Image Laterality (0020,0062), else Laterality (0020,0060). */
std::string laterality_of(DcmItem &dataset);

/* Decodes one JPEG 2000 codestream (raw J2K, or a JP2 file; detected from the first
 * bytes) of a single-component image with OpenJPEG into out[rows * columns]. Each output
 * value is the sample's bit pattern in 16 bits (two's complement for signed samples), so
 * the caller's Bits Stored / Pixel Representation handling applies unchanged. Returns 0,
 * CN_DCM_EUNSUPPORTED (more than one component, precision above 16 bits) or
 * CN_DCM_EDECODE (corrupt stream, size other than rows x columns) with why filled. */
int decode_j2k(const uint8_t *code, size_t code_len, uint32_t rows, uint32_t columns,
               uint16_t *out, std::string &why);

} // namespace cn_dcm

#endif
