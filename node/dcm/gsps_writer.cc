/* node/dcm: cn_report_write_gsps, a Grayscale Softcopy Presentation State (PS3.3 A.33.1)
 * that marks the clusters of one image, through DCMTK dcmpstat, for viewers that render
 * neither SEG nor SR. */
#include <cmath>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmpstat/dvpsgal.h>
#include <dcmtk/dcmpstat/dvpsgr.h>
#include <dcmtk/dcmpstat/dvpstat.h>
#include <dcmtk/dcmpstat/dvpstx.h>

#include "dcm/dcm_internal.hh"
#include "dcm/dcm_writer_util.hh"
#include "dcm/report.h"
#include "dcm/sr_internal.hh"

using namespace cn_dcm;

namespace
{

const char default_series_description[] = "Calcification marks";
/* CS, PS3.3 C.10.9: upper case, digits, space, underscore */
const char content_label[] = "CALCIFICATIONS";
const char layer_name[] = "CALCIFICATIONS";
const char layer_description[] = "calcification clusters found by the algorithm";
/* The circle clears the cluster's bounding box by this many pixels, so that it does not
 * hide the outermost calcifications. */
const double circle_margin_px = 8.0;
const size_t label_len = 64;

/* DVPresentationState adds graphics only to an attached (decoded) image; the annotation
 * list itself takes the image's UIDs, so no pixel decoding is needed. */
class presentation_state : public DVPresentationState
{
  public:
    std::string sop_class, sop_instance;
    DVPSGraphicObject *addGraphic()
    {
        return graphicAnnotationList.addGraphicObject(layer_name, sop_class.c_str(),
                                                      sop_instance.c_str(), 1, DVPSB_currentImage);
    }
    DVPSTextObject *addText()
    {
        return graphicAnnotationList.addTextObject(layer_name, sop_class.c_str(),
                                                   sop_instance.c_str(), 1, DVPSB_currentImage);
    }
};

/* PS3.3 C.10.5.1.2: a CIRCLE is its centre and one point on its circumference. */
OFCondition add_circle(presentation_state &ps, const cn_report_cluster &c, double &radius)
{
    const double half_w = (c.bbox_px[2] - c.bbox_px[0] + 1.0) / 2.0;
    const double half_h = (c.bbox_px[3] - c.bbox_px[1] + 1.0) / 2.0;
    const double cx = c.bbox_px[0] + half_w, cy = c.bbox_px[1] + half_h; /* corner coords */
    radius = std::sqrt(half_w * half_w + half_h * half_h) + circle_margin_px;
    DVPSGraphicObject *g = ps.addGraphic();
    if (g == nullptr)
        return EC_IllegalCall;
    const Float32 data[4] = {static_cast<Float32>(cx), static_cast<Float32>(cy),
                             static_cast<Float32>(cx + radius), static_cast<Float32>(cy)};
    OFCondition cond = g->setGraphicType(DVPST_circle);
    if (cond.good())
        cond = g->setData(2, data, DVPSA_pixels);
    if (cond.good())
        cond = g->setFilled(OFFalse);
    return cond;
}

OFCondition add_label(presentation_state &ps, const cn_report_cluster &c, size_t j, double radius)
{
    char text[label_len + 1];
    int n = snprintf(text, sizeof text, "cluster %zu", j + 1);
    if (c.category != nullptr && n > 0 && static_cast<size_t>(n) < sizeof text)
        n += snprintf(text + n, sizeof text - static_cast<size_t>(n), ": %s", c.category);
    if (c.has_score && n > 0 && static_cast<size_t>(n) < sizeof text)
        snprintf(text + n, sizeof text - static_cast<size_t>(n), "%s%.2f",
                 c.category != nullptr ? ", " : ": ", c.score);
    DVPSTextObject *t = ps.addText();
    if (t == nullptr)
        return EC_IllegalCall;
    /* Anchored above the circle, with the anchor shown (PS3.3 C.10.5.1.1). */
    const double cx = (c.bbox_px[0] + c.bbox_px[2] + 1.0) / 2.0;
    const double top = (c.bbox_px[1] + c.bbox_px[3] + 1.0) / 2.0 - radius;
    OFCondition cond = t->setText(text);
    if (cond.good())
        cond = t->setAnchorPoint(cx, top > 0 ? top : 0, DVPSA_pixels, OFTrue);
    return cond;
}

int write_gsps(const char *path, const cn_report_study *study, size_t image_index,
               const cn_report_object *object, char *err, size_t err_len)
{
    if (study != nullptr && image_index >= study->image_count)
        return set_error(err, err_len, CN_DCM_EINVAL, "image index %zu beyond the %zu images",
                         image_index, study->image_count);
    study_input in;
    cn_report_object identity = {};
    if (object != nullptr) {
        identity = *object;
        identity.predecessor_series_instance_uid = nullptr;
        identity.predecessor_sop_instance_uid = nullptr;
    }
    int rc = load_study(study, object != nullptr ? &identity : nullptr, in, err, err_len);
    if (rc != CN_DCM_OK)
        return rc;
    const source_image &src = in.images[image_index];
    const cn_report_image &im = study->images[image_index];
    /* The source dataset: only the first image's is kept by load_study. */
    DcmFileFormat source_file;
    OFCondition cond = source_file.loadFile(src.path.c_str());
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EFORMAT, "could not read source image \"%s\": %s",
                         src.path.c_str(), cond.text());
    DcmDataset &source_ds = *source_file.getDataset();

    presentation_state ps;
    ps.sop_class = src.sop_class_uid;
    ps.sop_instance = src.sop_instance_uid;
    /* Display what the source asks for: its first window, else its VOI LUT, copied into the
     * Softcopy VOI LUT module (a window first, since a source VOI LUT of 12-bit entries is
     * not allowed in a presentation state, PS3.3 C.11.8.1); no overlays, no shutters. */
    cond = ps.createFromImage(source_ds, DVPSO_ignoreOverlays, DVPSV_preferVOIWindow, OFFalse,
                              OFFalse, OFTrue, DVPSG_oneLayer);
    if (cond.good())
        cond = ps.setPresentationLabel(content_label);
    if (cond.good())
        cond = ps.setPresentationDescription(default_series_description);
    if (cond.good())
        cond = ps.addGraphicLayer(layer_name, layer_description);
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not create the presentation state: %s",
                         cond.text());
    if (image_analysed(in, image_index))
        for (size_t j = 0; j < im.cluster_count && cond.good(); j++) {
            double radius = 0;
            cond = add_circle(ps, im.clusters[j], radius);
            if (cond.good())
                cond = add_label(ps, im.clusters[j], j, radius);
        }
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not add the cluster marks: %s",
                         cond.text());

    DcmFileFormat out;
    DcmDataset &ds = *out.getDataset();
    cond = ps.write(ds, OFFalse);
    if (cond.bad())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not build the GSPS dataset: %s",
                         cond.text());
    copy_patient_study(source_ds, ds);
    attribute_writer w(ds);
    w.put(DCM_SeriesInstanceUID, object->series_instance_uid);
    w.put(DCM_SOPInstanceUID, object->sop_instance_uid);
    w.put_int(DCM_SeriesNumber, object->series_number);
    w.put_int(DCM_InstanceNumber, object->instance_number);
    w.put(DCM_SeriesDescription, object->series_description != nullptr
                                     ? object->series_description
                                     : default_series_description);
    w.put(DCM_Manufacturer, in.manufacturer.c_str());
    w.put(DCM_SoftwareVersions, study->algorithm_version);
    /* Deterministic: the request's or the source's date and time, never the clock. */
    w.put(DCM_PresentationCreationDate, in.date.c_str());
    w.put(DCM_PresentationCreationTime, in.time.c_str());
    w.put(DCM_InstanceCreationDate, in.date.c_str());
    w.put(DCM_InstanceCreationTime, in.time.c_str());
    w.put(DCM_SeriesDate, in.date.c_str());
    w.put(DCM_SeriesTime, in.time.c_str());
    /* PS3.3 C.7.3.1: Laterality (type 2C) of the paired body part the marks are on. */
    w.put(DCM_Laterality,
          (src.laterality == "L" || src.laterality == "R") ? src.laterality.c_str() : "");
    if (!w.ok())
        return set_error(err, err_len, CN_DCM_EINVAL, "could not set GSPS attributes: %s",
                         w.error().c_str());
    return save_file(out, path, err, err_len);
}

} // namespace

extern "C" int cn_report_write_gsps(const char *path, const struct cn_report_study *study,
                                    size_t image_index, const struct cn_report_object *object,
                                    char *err, size_t err_len)
{
    if (path == nullptr)
        return set_error(err, err_len, CN_DCM_EINVAL, "cn_report_write_gsps needs a path");
    try {
        return write_gsps(path, study, image_index, object, err, err_len);
    } catch (const std::bad_alloc &) {
        return set_error(err, err_len, CN_DCM_ENOMEM, "out of memory writing \"%s\"", path);
    } catch (const std::exception &e) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\": %s", path, e.what());
    } catch (...) {
        return set_error(err, err_len, CN_DCM_EIO, "could not write \"%s\"", path);
    }
}
