/* node/dcm: JPEG 2000 decoding with OpenJPEG (DCMTK 3.6.7 has no JPEG 2000 codec).
 * PS3.5 A.4.4: each frame is a J2K codestream (some writers wrap it in a JP2 file). */
#include "dcm/dcm_internal.hh"

#include <cstdio>
#include <cstring>
#include <memory>

#include <openjpeg.h>

namespace cn_dcm {

namespace {

/* A read-only memory stream for opj_stream_t. */
struct memory_source {
    const uint8_t *data;
    size_t len;
    size_t pos;
};

OPJ_SIZE_T source_read(void *buffer, OPJ_SIZE_T n, void *user)
{
    auto *src = static_cast<memory_source *>(user);
    size_t left = src->len - src->pos;
    if (left == 0)
        return static_cast<OPJ_SIZE_T>(-1); /* end of stream, as OpenJPEG expects */
    if (n > left)
        n = left;
    memcpy(buffer, src->data + src->pos, n);
    src->pos += n;
    return n;
}

OPJ_OFF_T source_skip(OPJ_OFF_T n, void *user)
{
    auto *src = static_cast<memory_source *>(user);
    if (n < 0) {
        size_t back = static_cast<size_t>(-n);
        if (back > src->pos)
            back = src->pos;
        src->pos -= back;
        return -static_cast<OPJ_OFF_T>(back);
    }
    size_t fwd = static_cast<size_t>(n);
    if (fwd > src->len - src->pos)
        fwd = src->len - src->pos;
    src->pos += fwd;
    return static_cast<OPJ_OFF_T>(fwd);
}

OPJ_BOOL source_seek(OPJ_OFF_T n, void *user)
{
    auto *src = static_cast<memory_source *>(user);
    if (n < 0 || static_cast<size_t>(n) > src->len)
        return OPJ_FALSE;
    src->pos = static_cast<size_t>(n);
    return OPJ_TRUE;
}

void keep_error(const char *msg, void *user)
{
    auto *why = static_cast<std::string *>(user);
    if (why->empty() && msg != nullptr) {
        *why = msg;
        while (!why->empty() && (why->back() == '\n' || why->back() == ' '))
            why->pop_back();
    }
}

void ignore_message(const char *, void *) {}

struct codec_deleter {
    void operator()(opj_codec_t *c) const { opj_destroy_codec(c); }
};
struct stream_deleter {
    void operator()(opj_stream_t *s) const { opj_stream_destroy(s); }
};
struct image_deleter {
    void operator()(opj_image_t *i) const { opj_image_destroy(i); }
};

/* ISO/IEC 15444-1 A.2: a codestream starts with SOC (FF4F) then SIZ (FF51);
 * ISO/IEC 15444-1 I.5.1: a JP2 file starts with the 12-byte signature box. */
const uint8_t jp2_signature[12] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50,
                                   0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A};
const uint8_t j2k_soc_siz[4] = {0xFF, 0x4F, 0xFF, 0x51};

const uint32_t max_precision_bits = 16;

} // namespace

int decode_j2k(const uint8_t *code, size_t code_len, uint32_t rows, uint32_t columns,
               uint16_t *out, std::string &why)
{
    OPJ_CODEC_FORMAT format;
    if (code_len >= sizeof jp2_signature && memcmp(code, jp2_signature, sizeof jp2_signature) == 0)
        format = OPJ_CODEC_JP2;
    else if (code_len >= sizeof j2k_soc_siz && memcmp(code, j2k_soc_siz, sizeof j2k_soc_siz) == 0)
        format = OPJ_CODEC_J2K;
    else {
        why = "neither a J2K codestream nor a JP2 file";
        return CN_DCM_EDECODE;
    }

    std::unique_ptr<opj_codec_t, codec_deleter> codec(opj_create_decompress(format));
    if (!codec) {
        why = "could not create the JPEG 2000 decoder";
        return CN_DCM_ENOMEM;
    }
    std::string opj_error;
    opj_set_error_handler(codec.get(), keep_error, &opj_error);
    opj_set_warning_handler(codec.get(), ignore_message, nullptr);
    opj_set_info_handler(codec.get(), ignore_message, nullptr);
    opj_dparameters_t params;
    opj_set_default_decoder_parameters(&params);
    if (!opj_setup_decoder(codec.get(), &params)) {
        why = "could not set up the JPEG 2000 decoder";
        return CN_DCM_EDECODE;
    }

    memory_source src = {code, code_len, 0};
    std::unique_ptr<opj_stream_t, stream_deleter> stream(opj_stream_create(1 << 16, OPJ_TRUE));
    if (!stream) {
        why = "could not create the JPEG 2000 stream";
        return CN_DCM_ENOMEM;
    }
    opj_stream_set_user_data(stream.get(), &src, nullptr);
    opj_stream_set_user_data_length(stream.get(), code_len);
    opj_stream_set_read_function(stream.get(), source_read);
    opj_stream_set_skip_function(stream.get(), source_skip);
    opj_stream_set_seek_function(stream.get(), source_seek);

    opj_image_t *raw_image = nullptr;
    if (!opj_read_header(stream.get(), codec.get(), &raw_image)) {
        std::unique_ptr<opj_image_t, image_deleter> drop(raw_image);
        why = "could not read the JPEG 2000 header: " + opj_error;
        return CN_DCM_EDECODE;
    }
    std::unique_ptr<opj_image_t, image_deleter> image(raw_image);
    if (image->numcomps != 1) {
        why = "JPEG 2000 image has " + std::to_string(image->numcomps) +
              " components, only grayscale is supported";
        return CN_DCM_EUNSUPPORTED;
    }
    if (!opj_decode(codec.get(), stream.get(), image.get()) ||
        !opj_end_decompress(codec.get(), stream.get())) {
        why = "could not decode the JPEG 2000 codestream: " + opj_error;
        return CN_DCM_EDECODE;
    }
    const opj_image_comp_t &comp = image->comps[0];
    if (comp.data == nullptr || comp.w != columns || comp.h != rows) {
        why = "JPEG 2000 image is " + std::to_string(comp.w) + "x" + std::to_string(comp.h) +
              ", the header says " + std::to_string(columns) + "x" + std::to_string(rows);
        return CN_DCM_EDECODE;
    }
    if (comp.prec == 0 || comp.prec > max_precision_bits) {
        why = "JPEG 2000 precision of " + std::to_string(comp.prec) + " bits is not supported";
        return CN_DCM_EUNSUPPORTED;
    }
    const size_t count = static_cast<size_t>(rows) * columns;
    const int32_t lo = comp.sgnd ? -(1 << (comp.prec - 1)) : 0;
    const int32_t hi = comp.sgnd ? (1 << (comp.prec - 1)) - 1 : (1 << comp.prec) - 1;
    for (size_t i = 0; i < count; i++) {
        /* Irreversible (lossy) decoding may overshoot the range by rounding: clamp. */
        int32_t v = comp.data[i];
        if (v < lo)
            v = lo;
        else if (v > hi)
            v = hi;
        out[i] = static_cast<uint16_t>(static_cast<uint32_t>(v) & 0xFFFFu);
    }
    return CN_DCM_OK;
}

} // namespace cn_dcm
