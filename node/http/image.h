/* node/http: /image/<uid>.png, a stored image rendered with its findings. Blocking (file
 * reading, decoding): the HTTP thread. */
#ifndef CN_HTTP_IMAGE_H
#define CN_HTTP_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The largest findings.json read. */
#define CN_HTTP_FINDINGS_MAX_LEN (64u * 1024u * 1024u)

/* Decodes the DICOM file at path (node/dcm), renders it rows high (http/render.h) and,
 * when results_dir is not empty and its findings.json lists sop_instance_uid, draws the
 * findings (http/overlay.h; a findings file that cannot be read is logged and the image
 * drawn without). Returns 0 and a new PNG (free with free()) in *png, *png_len, or -1
 * with err filled. */
int cn_http_image_png(const char *path, const char *results_dir, const char *sop_instance_uid,
                      unsigned rows, uint8_t **png, size_t *png_len, char *err, size_t err_len);

#endif
