/* node/dcm: cn_seg_read, a SEG read back through DCMTK dcmseg. */
#include "dcm/seg_writer.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fginterface.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include "dcm/dcm_internal.hh"

using namespace cn_dcm;

namespace {

int read_seg(const char *path, struct cn_seg_summary *out, char *err, size_t err_len)
{
    if (!init_once())
        return set_error(err, err_len, CN_DCM_EIO, "could not load the DICOM data dictionary");
    DcmFileFormat file;
    OFCondition cond = file.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                     ERM_fileOnly);
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read SEG \"%s\": %s", path,
                         cond.text());
    Uint16 rows = 0, columns = 0;
    file.getDataset()->findAndGetUint16(DCM_Rows, rows);
    file.getDataset()->findAndGetUint16(DCM_Columns, columns);
    DcmSegmentation *raw = nullptr;
    cond = DcmSegmentation::loadDataset(*file.getDataset(), raw);
    std::unique_ptr<DcmSegmentation> seg(raw);
    if (cond.bad() || !seg)
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read SEG \"%s\": %s", path,
                         cond.text());
    out->segment_count = static_cast<uint32_t>(seg->getNumberOfSegments());
    out->frame_count = static_cast<uint32_t>(seg->getNumberOfFrames());
    out->rows = rows;
    out->columns = columns;
    if (out->segment_count > 0) {
        DcmSegment *segment = seg->getSegment(1);
        OFString label;
        if (segment != nullptr && segment->getSegmentLabel(label).good())
            copy_trimmed(out->segment_label, sizeof out->segment_label, label.c_str());
    }
    auto *derivation = dynamic_cast<FGDerivationImage *>(
        seg->getFunctionalGroups().get(0, DcmFGTypes::EFG_DERIVATIONIMAGE));
    if (derivation != nullptr && !derivation->getDerivationImageItems().empty()) {
        OFVector<SourceImageItem *> &sources =
            derivation->getDerivationImageItems()[0]->getSourceImageItems();
        OFString uid;
        if (!sources.empty() &&
            sources[0]->getImageSOPInstanceReference().getReferencedSOPInstanceUID(uid).good())
            copy_trimmed(out->referenced_sop_instance_uid,
                         sizeof out->referenced_sop_instance_uid, uid.c_str());
    }
    if (out->frame_count == 0)
        return CN_DCM_OK;
    const DcmIODTypes::Frame *frame = seg->getFrame(0);
    const size_t count = size_t(rows) * columns;
    if (frame == nullptr || frame->pixData == nullptr || frame->length * 8 < count)
        return set_error(err, err_len, CN_DCM_EFORMAT, "first frame of SEG \"%s\" is too short",
                         path);
    out->mask = static_cast<uint8_t *>(malloc(count ? count : 1));
    if (out->mask == nullptr)
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory reading \"%s\"", path);
    /* PS3.5 8.1.1: 1-bit pixels are packed from the least significant bit of each byte. */
    for (size_t i = 0; i < count; i++)
        out->mask[i] = (frame->pixData[i / 8] >> (i % 8)) & 1u;
    return CN_DCM_OK;
}

} // namespace

extern "C" int cn_seg_read(const char *path, struct cn_seg_summary *out, char *err,
                           size_t err_len)
{
    if (path == nullptr || out == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "cn_seg_read needs a path and a result");
    memset(out, 0, sizeof *out);
    int rc;
    try {
        rc = read_seg(path, out, err, err_len);
    } catch (const std::bad_alloc &) {
        rc = set_error(err, err_len, CN_DCM_ENOMEM, "out of memory reading \"%s\"", path);
    } catch (const std::exception &e) {
        rc = set_error(err, err_len, CN_DCM_EFORMAT, "could not read \"%s\": %s", path, e.what());
    } catch (...) {
        rc = set_error(err, err_len, CN_DCM_EFORMAT, "could not read \"%s\"", path);
    }
    if (rc != CN_DCM_OK)
        cn_seg_summary_free(out);
    return rc;
}

extern "C" void cn_seg_summary_free(struct cn_seg_summary *summary)
{
    if (summary == nullptr)
        return;
    free(summary->mask);
    summary->mask = nullptr;
}
