/* node/send: reading the File Meta Information of a Part 10 file (PS3.10 7.1) to learn
 * what to propose and where the data set starts. Pure: no I/O, no allocation; any thread.
 *
 * The sender never converts an object: it sends the bytes after the meta header exactly
 * as stored, in the transfer syntax the meta header names. */
#ifndef CN_SEND_META_H
#define CN_SEND_META_H

#include <stddef.h>
#include <stdint.h>

/* PS3.10 7.1: a 128-byte preamble, then "DICM", then group 0002 (Explicit VR LE). */
#define CN_SEND_META_PREAMBLE_LEN 128u
#define CN_SEND_META_PREFIX_LEN 4u
/* A meta header longer than this is refused (real ones are a few hundred bytes). */
#define CN_SEND_META_MAX_LEN (16u * 1024u)
#define CN_SEND_UID_MAX_LEN 64u

struct cn_send_meta {
    char sop_class_uid[CN_SEND_UID_MAX_LEN + 1];       /* (0002,0002) */
    char sop_instance_uid[CN_SEND_UID_MAX_LEN + 1];    /* (0002,0003) */
    char transfer_syntax_uid[CN_SEND_UID_MAX_LEN + 1]; /* (0002,0010) */
    size_t data_set_offset; /* bytes from the start of the file to the data set */
};

/* Parses the start of a file: buf[len] (borrowed) holds its first
 * min(file size, CN_SEND_META_MAX_LEN) bytes; at_eof says whether buf ends where the file
 * ends. Walks every group 0002 element, each length checked against the bytes present;
 * the data set starts at the first element outside group 0002 (or at the end of the
 * file). The three UIDs are required and must be 1..64 characters of [0-9.] once their
 * NUL or space padding is removed.
 * Returns 0 with *out filled, or -1 with a one-line reason in err[err_len] (not a Part 10
 * file, a truncated element, a meta header longer than CN_SEND_META_MAX_LEN, a missing
 * or malformed UID). */
int cn_send_meta_parse(const uint8_t *buf, size_t len, int at_eof, struct cn_send_meta *out,
                       char *err, size_t err_len);

/* 1 when uid is 1..64 characters of digits and dots (PS3.5 9.1), else 0. */
int cn_send_uid_is_valid(const char *uid);

#endif
