/* Big-endian readers and writers over bounded buffers, shared by the PDU
 * codec files (internal to node/ul). A reader never reads past its length;
 * a writer never writes past its capacity and remembers that it ran out. */
#ifndef CN_UL_WIRE_H
#define CN_UL_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ul/pdu.h"

struct cn_rd {
    const uint8_t *p;
    size_t len;
    size_t off;
};

struct cn_wr {
    uint8_t *p;
    size_t cap;
    size_t off;
    int overflow;
};

static inline size_t cn_rd_left(const struct cn_rd *r) { return r->len - r->off; }

static inline int cn_rd_u8(struct cn_rd *r, uint8_t *v)
{
    if (cn_rd_left(r) < 1)
        return CN_UL_E_TRUNCATED;
    *v = r->p[r->off++];
    return 0;
}

static inline int cn_rd_u16(struct cn_rd *r, uint16_t *v)
{
    if (cn_rd_left(r) < 2)
        return CN_UL_E_TRUNCATED;
    *v = (uint16_t)((r->p[r->off] << 8) | r->p[r->off + 1]);
    r->off += 2;
    return 0;
}

static inline uint32_t cn_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
           (uint32_t)p[3];
}

static inline int cn_rd_u32(struct cn_rd *r, uint32_t *v)
{
    if (cn_rd_left(r) < 4)
        return CN_UL_E_TRUNCATED;
    *v = cn_be32(r->p + r->off);
    r->off += 4;
    return 0;
}

/* Borrow n bytes from the reader. */
static inline int cn_rd_bytes(struct cn_rd *r, size_t n, const uint8_t **out)
{
    if (cn_rd_left(r) < n)
        return CN_UL_E_TRUNCATED;
    *out = r->p + r->off;
    r->off += n;
    return 0;
}

static inline void cn_wr_bytes(struct cn_wr *w, const void *src, size_t n)
{
    if (w->overflow || w->cap - w->off < n) {
        w->overflow = 1;
        return;
    }
    if (n > 0)
        memcpy(w->p + w->off, src, n);
    w->off += n;
}

static inline void cn_wr_u8(struct cn_wr *w, uint8_t v) { cn_wr_bytes(w, &v, 1); }

static inline void cn_wr_u16(struct cn_wr *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    cn_wr_bytes(w, b, 2);
}

static inline void cn_wr_u32(struct cn_wr *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    cn_wr_bytes(w, b, 4);
}

static inline void cn_wr_zero(struct cn_wr *w, size_t n)
{
    static const uint8_t zeros[32];
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        cn_wr_bytes(w, zeros, k);
        n -= k;
    }
}

/* Patch a big-endian length written earlier at offset at. */
static inline void cn_wr_patch_u16(struct cn_wr *w, size_t at, size_t v)
{
    if (!w->overflow) {
        w->p[at] = (uint8_t)(v >> 8);
        w->p[at + 1] = (uint8_t)v;
    }
}

static inline void cn_wr_patch_u32(struct cn_wr *w, size_t at, size_t v)
{
    if (!w->overflow) {
        w->p[at] = (uint8_t)(v >> 24);
        w->p[at + 1] = (uint8_t)(v >> 16);
        w->p[at + 2] = (uint8_t)(v >> 8);
        w->p[at + 3] = (uint8_t)v;
    }
}

/* Decode a UID field of n bytes: trailing NUL padding removed, at most
 * CN_UID_MAX_LEN characters, no other NUL. */
int cn_wire_get_uid(const uint8_t *p, size_t n, cn_uid out);
/* Write a UID (without padding, PS3.8 Annex F); returns its length or a
 * negative error when longer than CN_UID_MAX_LEN. */
int cn_wire_uid_len(const cn_uid uid);

#endif
