/* node/dcm: cn_dcm_decode_image (first frame of a grayscale image to 16 bits) and
 * cn_dcm_image_free. DCMTK decodes native, deflated, JPEG, JPEG-LS and RLE pixel data;
 * JPEG 2000 goes to OpenJPEG (dcm_j2k.cc). */
#include "dcm/dcm_internal.hh"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

using namespace cn_dcm;

namespace {

/* Named caps: a decoded frame of at most 2^28 pixels (512 MiB as 16 bits; the largest
 * mammography detectors are near 2^24), and at most 2^30 bytes of JPEG 2000 codestream. */
const uint64_t max_pixels = uint64_t(1) << 28;
const size_t max_j2k_len = size_t(1) << 30;
const uint16_t max_bits = 16;

struct pixel_format {
    uint32_t rows, columns;
    uint16_t bits_allocated, bits_stored, high_bit;
    bool is_signed;
};

/* PS3.5 8.1.1 / PS3.3 C.7.6.3.1: the stored value is bits_stored bits ending at high_bit;
 * signed values (two's complement) are offset by 2^(bits_stored-1) to make them unsigned.
 * Bits outside the stored range (overlays, garbage) are dropped. */
uint16_t to_unsigned(uint32_t raw, const pixel_format &f)
{
    const uint32_t shift = uint32_t(f.high_bit) + 1 - f.bits_stored;
    const uint32_t mask = (1u << f.bits_stored) - 1; /* bits_stored <= 16 */
    uint32_t v = (raw >> shift) & mask;
    if (f.is_signed)
        v = (v + (1u << (f.bits_stored - 1))) & mask; /* == sign-extend, then add offset */
    return static_cast<uint16_t>(v);
}

/* The fragments of frame 0 (PS3.5 A.4): with one frame every fragment after the Basic
 * Offset Table; with more, the fragments before the second offset of the table, or
 * without a table, fragments up to the one ending with the EOC marker (FFD9). */
int first_frame_code(DcmPixelSequence &seq, long frames, std::vector<uint8_t> &code,
                     std::string &why)
{
    const unsigned long items = seq.card();
    if (items < 2) {
        why = "encapsulated pixel data has no fragment";
        return CN_DCM_EDECODE;
    }
    uint64_t end_offset = UINT64_MAX;
    if (frames > 1) {
        DcmPixelItem *bot = nullptr;
        if (seq.getItem(bot, 0).good() && bot != nullptr && bot->getLength() >= 8) {
            Uint8 *table = nullptr;
            if (bot->getUint8Array(table).good() && table != nullptr)
                end_offset = uint64_t(table[4]) | uint64_t(table[5]) << 8 |
                             uint64_t(table[6]) << 16 | uint64_t(table[7]) << 24;
        }
    }
    uint64_t offset = 0;
    for (unsigned long i = 1; i < items; i++) {
        DcmPixelItem *item = nullptr;
        if (seq.getItem(item, i).bad() || item == nullptr)
            break;
        if (offset >= end_offset)
            break;
        const Uint32 len = item->getLength();
        Uint8 *bytes = nullptr;
        if (len > 0 && (item->getUint8Array(bytes).bad() || bytes == nullptr)) {
            why = "could not read fragment " + std::to_string(i);
            return CN_DCM_EDECODE;
        }
        if (code.size() + len > max_j2k_len) {
            why = "JPEG 2000 frame is larger than " + std::to_string(max_j2k_len) + " bytes";
            return CN_DCM_EUNSUPPORTED;
        }
        code.insert(code.end(), bytes, bytes + len);
        offset += uint64_t(len) + 8; /* PS3.5 A.4: offsets count item headers too */
        if (frames > 1 && end_offset == UINT64_MAX) {
            /* No offset table: stop at the end-of-codestream marker (the last byte may
             * be a pad byte to even length). */
            size_t n = code.size();
            bool eoc = (n >= 2 && code[n - 2] == 0xFF && code[n - 1] == 0xD9) ||
                       (n >= 3 && code[n - 3] == 0xFF && code[n - 2] == 0xD9 && code[n - 1] == 0);
            if (eoc)
                break;
        }
    }
    return CN_DCM_OK;
}

double positive_or_zero(double v)
{
    return (std::isfinite(v) && v > 0) ? v : 0;
}

int decode(const char *path, struct cn_dcm_image *out, char *err, size_t err_len)
{
    if (!init_once())
        return set_error(err, err_len, CN_DCM_EIO, "could not load the DICOM data dictionary");
    FILE *probe = fopen(path, "rb");
    if (probe == nullptr)
        return set_error(err, err_len, CN_DCM_EIO, "could not open file \"%s\": %s", path,
                         strerror(errno));
    fclose(probe);

    DcmFileFormat file;
    /* Elements over 4 KiB (Pixel Data) stay in the file until accessed. */
    OFCondition cond = file.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                     ERM_fileOnly);
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not parse DICOM file \"%s\": %s",
                         path, cond.text());
    DcmDataset &ds = *file.getDataset();
    const E_TransferSyntax xfer = ds.getOriginalXfer();

    /* PS3.3 C.7.6.3.1.2: grayscale only. */
    const std::string photometric = get_first(ds, DCM_PhotometricInterpretation);
    if (photometric != "MONOCHROME1" && photometric != "MONOCHROME2")
        return set_error(err, err_len, CN_DCM_EUNSUPPORTED,
                         "photometric interpretation \"%s\" of \"%s\" is not supported "
                         "(MONOCHROME1 or MONOCHROME2 only)",
                         photometric.c_str(), path);
    Uint16 samples = 1;
    if (ds.findAndGetUint16(DCM_SamplesPerPixel, samples).good() && samples != 1)
        return set_error(err, err_len, CN_DCM_EUNSUPPORTED,
                         "\"%s\" has %u samples per pixel, grayscale needs 1", path,
                         unsigned(samples));

    pixel_format f = {};
    Uint16 rows = 0, columns = 0, allocated = 0, stored = 0, high = 0, representation = 0;
    if (ds.findAndGetUint16(DCM_Rows, rows).bad() || ds.findAndGetUint16(DCM_Columns, columns).bad() ||
        rows == 0 || columns == 0)
        return set_error(err, err_len, CN_DCM_EMISSING, "Rows or Columns is missing in \"%s\"",
                         path);
    if (ds.findAndGetUint16(DCM_BitsAllocated, allocated).bad() ||
        ds.findAndGetUint16(DCM_BitsStored, stored).bad())
        return set_error(err, err_len, CN_DCM_EMISSING,
                         "Bits Allocated or Bits Stored is missing in \"%s\"", path);
    if (ds.findAndGetUint16(DCM_HighBit, high).bad())
        high = static_cast<Uint16>(stored - 1);
    (void)ds.findAndGetUint16(DCM_PixelRepresentation, representation);
    if ((allocated != 8 && allocated != 16) || stored == 0 || stored > allocated ||
        stored > max_bits || high >= allocated || high + 1 < stored)
        return set_error(err, err_len, CN_DCM_EUNSUPPORTED,
                         "bit depth of \"%s\" is not supported (allocated %u, stored %u, high "
                         "bit %u)",
                         path, unsigned(allocated), unsigned(stored), unsigned(high));
    f.rows = rows;
    f.columns = columns;
    f.bits_allocated = allocated;
    f.bits_stored = stored;
    f.high_bit = high;
    f.is_signed = representation == 1;
    const uint64_t count = uint64_t(rows) * columns;
    if (count > max_pixels)
        return set_error(err, err_len, CN_DCM_EUNSUPPORTED,
                         "\"%s\" has %llu pixels, more than the cap of %llu", path,
                         static_cast<unsigned long long>(count),
                         static_cast<unsigned long long>(max_pixels));

    DcmElement *element = nullptr;
    if (ds.findAndGetElement(DCM_PixelData, element).bad() || element == nullptr)
        return set_error(err, err_len, CN_DCM_EMISSING, "Pixel Data is missing in \"%s\"", path);
    auto *pixel_data = dynamic_cast<DcmPixelData *>(element);
    if (pixel_data == nullptr)
        return set_error(err, err_len, CN_DCM_EFORMAT, "Pixel Data of \"%s\" is malformed",
                         path);
    Sint32 frames = 1;
    if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1)
        frames = 1;

    std::vector<uint16_t> pixels(count);
    if (xfer == EXS_JPEG2000LosslessOnly || xfer == EXS_JPEG2000) {
        DcmPixelSequence *seq = nullptr;
        if (pixel_data->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || seq == nullptr)
            return set_error(err, err_len, CN_DCM_EDECODE,
                             "JPEG 2000 pixel data of \"%s\" is not encapsulated", path);
        std::vector<uint8_t> code;
        std::string why;
        int rc = first_frame_code(*seq, frames, code, why);
        if (rc == CN_DCM_OK)
            rc = decode_j2k(code.data(), code.size(), rows, columns, pixels.data(), why);
        if (rc != CN_DCM_OK)
            return set_error(err, err_len, rc, "could not decode \"%s\": %s", path, why.c_str());
        /* OpenJPEG returned sample values; treat them as stored bits ending at bit
         * bits_stored - 1. */
        f.high_bit = static_cast<uint16_t>(f.bits_stored - 1);
        for (uint64_t i = 0; i < count; i++)
            pixels[i] = to_unsigned(pixels[i], f);
    } else {
        Uint32 frame_len = 0;
        if (pixel_data->getUncompressedFrameSize(&ds, frame_len).bad())
            return set_error(err, err_len, CN_DCM_EFORMAT,
                             "could not size the first frame of \"%s\"", path);
        const uint64_t bytes_per_pixel = allocated / 8;
        if (frame_len < count * bytes_per_pixel)
            return set_error(err, err_len, CN_DCM_EFORMAT, "frame of \"%s\" is too short", path);
        /* Even buffer size (PS3.5 7.1: values are padded to even length). */
        std::vector<uint8_t> frame(size_t(frame_len) + (frame_len & 1u));
        Uint32 start_fragment = 0;
        OFString color_model;
        cond = pixel_data->getUncompressedFrame(&ds, 0, start_fragment, frame.data(),
                                                static_cast<Uint32>(frame.size()), color_model);
        if (cond.bad())
            return set_error(err, err_len, CN_DCM_EDECODE,
                             "could not decode the first frame of \"%s\" (%s): %s", path,
                             DcmXfer(xfer).getXferName(), cond.text());
        if (allocated == 8) {
            for (uint64_t i = 0; i < count; i++)
                pixels[i] = to_unsigned(frame[i], f);
        } else {
            /* getUncompressedFrame returns 16-bit words in host byte order. */
            for (uint64_t i = 0; i < count; i++) {
                uint16_t w;
                memcpy(&w, frame.data() + 2 * i, sizeof w);
                pixels[i] = to_unsigned(w, f);
            }
        }
    }

    memset(out, 0, sizeof *out);
    out->rows = rows;
    out->columns = columns;
    out->bits_stored = stored;
    out->monochrome1 = photometric == "MONOCHROME1";
    out->for_processing = get_first(ds, DCM_PresentationIntentType) == "FOR PROCESSING";

    /* Pixel Spacing (PS3.3 C.7.6.2.1.1, at the patient) when present; else Imager Pixel
     * Spacing (PS3.3 C.8.11.4.1.1, at the detector; for MG it may include the geometric
     * magnification, which the analysis accepts: the error is a few percent). */
    Float64 row_mm = 0, col_mm = 0;
    if (ds.findAndGetFloat64(DCM_PixelSpacing, row_mm, 0).good() &&
        ds.findAndGetFloat64(DCM_PixelSpacing, col_mm, 1).good() &&
        positive_or_zero(row_mm) > 0 && positive_or_zero(col_mm) > 0) {
        out->pixel_spacing_mm[0] = row_mm;
        out->pixel_spacing_mm[1] = col_mm;
    } else if (ds.findAndGetFloat64(DCM_ImagerPixelSpacing, row_mm, 0).good() &&
               ds.findAndGetFloat64(DCM_ImagerPixelSpacing, col_mm, 1).good() &&
               positive_or_zero(row_mm) > 0 && positive_or_zero(col_mm) > 0) {
        out->pixel_spacing_mm[0] = row_mm;
        out->pixel_spacing_mm[1] = col_mm;
    }

    /* Pixel Padding Value (PS3.3 C.7.5.1.1.2): US or SS like the pixels. */
    DcmElement *padding = nullptr;
    if (ds.findAndGetElement(DCM_PixelPaddingValue, padding, OFFalse).good() &&
        padding != nullptr && padding->getVM() >= 1) {
        Uint16 u = 0;
        Sint16 s = 0;
        bool ok = false;
        uint32_t raw = 0;
        if (padding->getUint16(u).good()) {
            raw = u;
            ok = true;
        } else if (padding->getSint16(s).good()) {
            raw = static_cast<uint16_t>(s);
            ok = true;
        }
        if (ok) {
            pixel_format pf = f;
            pf.high_bit = static_cast<uint16_t>(f.bits_stored - 1);
            out->has_padding = 1;
            out->padding_value = to_unsigned(raw, pf);
        }
    }

    /* First VOI window (PS3.3 C.11.2), moved into the unsigned pixel domain. */
    Float64 center = 0, width = 0;
    if (ds.findAndGetFloat64(DCM_WindowCenter, center, 0).good() &&
        ds.findAndGetFloat64(DCM_WindowWidth, width, 0).good() && std::isfinite(center) &&
        positive_or_zero(width) > 0) {
        out->window_center = f.is_signed ? center + double(1u << (stored - 1)) : center;
        out->window_width = width;
    }
    copy_trimmed(out->image_laterality, sizeof out->image_laterality, laterality_of(ds));
    copy_trimmed(out->view_position, sizeof out->view_position, view_of(ds));
    /* Last, so that nothing after it can throw and leak it. */
    out->pixels = static_cast<uint16_t *>(malloc(count * sizeof(uint16_t)));
    if (out->pixels == nullptr)
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory decoding \"%s\"", path);
    memcpy(out->pixels, pixels.data(), count * sizeof(uint16_t));
    return CN_DCM_OK;
}

} // namespace

extern "C" int cn_dcm_decode_image(const char *path, struct cn_dcm_image *out, char *err,
                                   size_t err_len)
{
    if (path == nullptr || out == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL,
                         "cn_dcm_decode_image needs a path and a result");
    memset(out, 0, sizeof *out);
    try {
        return decode(path, out, err, err_len);
    } catch (const std::bad_alloc &) {
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory decoding \"%s\"", path);
    } catch (const std::exception &e) {
        return set_error(err, err_len, CN_DCM_EDECODE, "could not decode \"%s\": %s", path,
                         e.what());
    } catch (...) {
        return set_error(err, err_len, CN_DCM_EDECODE, "could not decode \"%s\"", path);
    }
}

extern "C" void cn_dcm_image_free(struct cn_dcm_image *image)
{
    if (image == nullptr)
        return;
    free(image->pixels);
    image->pixels = nullptr;
}
