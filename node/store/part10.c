/* File Meta Information, PS3.10 section 7.1, encoded Explicit VR Little Endian
 * (PS3.5 7.1.2). */
#include "store/part10.h"

#include <string.h>

#define META_GROUP 0x0002u
#define SHORT_HEADER_LEN 8  /* tag, 2-byte VR, 2-byte length */
#define LONG_HEADER_LEN 12  /* tag, VR, 2 reserved bytes, 4-byte length (OB) */
#define UID_MAX_LEN 64      /* PS3.5 9.1 */
#define SHORT_TEXT_MAX_LEN 16 /* SH and AE, PS3.5 Table 6.2-1 */
#define UL_LEN 4
#define VERSION_LEN 2

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    put_u16(p, (uint16_t)(v & 0xFFFFu));
    put_u16(p + 2, (uint16_t)(v >> 16));
}

struct writer {
    uint8_t *buf;
    size_t size;
    size_t pos;
    int overflow;
};

static uint8_t *reserve(struct writer *w, size_t n)
{
    if (w->overflow || n > w->size - w->pos) {
        w->overflow = 1;
        return NULL;
    }
    uint8_t *p = w->buf + w->pos;
    w->pos += n;
    return p;
}

/* A string element with a 2-byte length (UI, SH, AE), padded to even length with pad. */
static void put_string(struct writer *w, uint16_t element, const char vr[2], const char *s,
                       char pad)
{
    size_t n = strlen(s);
    size_t padded = n + (n & 1u);
    uint8_t *p = reserve(w, SHORT_HEADER_LEN + padded);
    if (p == NULL)
        return;
    put_u16(p, META_GROUP);
    put_u16(p + 2, element);
    p[4] = (uint8_t)vr[0];
    p[5] = (uint8_t)vr[1];
    put_u16(p + 6, (uint16_t)padded);
    memcpy(p + SHORT_HEADER_LEN, s, n);
    if (padded > n)
        p[SHORT_HEADER_LEN + n] = (uint8_t)pad;
}

static int uid_ok(const char *s)
{
    return s != NULL && s[0] != '\0' && strnlen(s, UID_MAX_LEN + 1) <= UID_MAX_LEN;
}

static int text_ok(const char *s)
{
    return s == NULL || strnlen(s, SHORT_TEXT_MAX_LEN + 1) <= SHORT_TEXT_MAX_LEN;
}

int cn_part10_encode_meta(const struct cn_part10_meta *meta, uint8_t *buf, size_t size)
{
    if (meta == NULL || buf == NULL || !uid_ok(meta->media_storage_sop_class_uid) ||
        !uid_ok(meta->media_storage_sop_instance_uid) || !uid_ok(meta->transfer_syntax_uid) ||
        !uid_ok(meta->implementation_class_uid) || !text_ok(meta->implementation_version_name) ||
        !text_ok(meta->source_ae_title))
        return -1;

    struct writer w = {buf, size, 0, 0};
    uint8_t *p = reserve(&w, CN_PART10_PREAMBLE_LEN + CN_PART10_PREFIX_LEN);
    if (p == NULL)
        return -2;
    memset(p, 0, CN_PART10_PREAMBLE_LEN);
    memcpy(p + CN_PART10_PREAMBLE_LEN, "DICM", CN_PART10_PREFIX_LEN);

    /* (0002,0000) UL group length, filled in at the end. */
    uint8_t *group_length = reserve(&w, SHORT_HEADER_LEN + UL_LEN);
    if (group_length == NULL)
        return -2;
    size_t group_start = w.pos;
    put_u16(group_length, META_GROUP);
    put_u16(group_length + 2, 0x0000);
    memcpy(group_length + 4, "UL", 2);
    put_u16(group_length + 6, UL_LEN);

    /* (0002,0001) OB File Meta Information Version 00\01 (PS3.10 7.1). */
    p = reserve(&w, LONG_HEADER_LEN + VERSION_LEN);
    if (p == NULL)
        return -2;
    put_u16(p, META_GROUP);
    put_u16(p + 2, 0x0001);
    memcpy(p + 4, "OB", 2);
    put_u16(p + 6, 0);
    put_u32(p + 8, VERSION_LEN);
    p[LONG_HEADER_LEN] = 0x00;
    p[LONG_HEADER_LEN + 1] = 0x01;

    put_string(&w, 0x0002, "UI", meta->media_storage_sop_class_uid, '\0');
    put_string(&w, 0x0003, "UI", meta->media_storage_sop_instance_uid, '\0');
    put_string(&w, 0x0010, "UI", meta->transfer_syntax_uid, '\0');
    put_string(&w, 0x0012, "UI", meta->implementation_class_uid, '\0');
    if (meta->implementation_version_name != NULL && meta->implementation_version_name[0])
        put_string(&w, 0x0013, "SH", meta->implementation_version_name, ' ');
    if (meta->source_ae_title != NULL && meta->source_ae_title[0])
        put_string(&w, 0x0016, "AE", meta->source_ae_title, ' ');
    if (w.overflow)
        return -2;
    put_u32(group_length + SHORT_HEADER_LEN, (uint32_t)(w.pos - group_start));
    return (int)w.pos;
}
