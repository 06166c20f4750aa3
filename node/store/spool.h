/* node/store: the durable spool. One object being received is streamed to
 * STATE/spool/<unique>.part by jobs in libuv's threadpool (the loop never blocks) that
 * write each buffer, hash it (sha256, in file order) and start its writeback at once;
 * then, off the loop, it is fsync'd, checked and linked under its final name
 * STATE/store/<study>/<series>/<sop>.dcm (DESIGN.md section 4).
 *
 * Threads: every function here except cn_spool_sweep must be called on the thread
 * running `loop`; every callback runs on that thread. The blocking work runs in libuv's
 * threadpool, at most one job per spool at a time, and touches only the spool's own
 * state.
 *
 * Lifetime: cn_spool_open returns a new spool owned by the library. The caller must end
 * it with exactly one call of cn_spool_finish or cn_spool_abandon (allowed at any time,
 * even before the file is open or while writes are in flight); the spool frees itself
 * right after the callback of that call returns, so the pointer must not be used after
 * that callback. The spool holds no uv handles: it never keeps the loop from closing
 * once its callback has run. */
#ifndef CN_STORE_SPOOL_H
#define CN_STORE_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "dcm/dcm.h"
#include "store/part10.h"

/* Buffering (backpressure): data is copied into a fill buffer while the other buffer is
 * being written. When the fill buffer reaches CN_SPOOL_BUFFER_LEN, cn_spool_write still
 * accepts the data but returns CN_SPOOL_PAUSED: the caller should stop reading its socket
 * until the drain callback runs. Data arriving while paused (what the caller had already
 * read) is accepted up to CN_SPOOL_BUFFER_MAX_LEN in the fill buffer; beyond it
 * cn_spool_write fails with CN_SPOOL_ENOBUFS. Buffer memory per spool is therefore at most
 * 2 x CN_SPOOL_BUFFER_MAX_LEN whatever the object size, and 2 x CN_SPOOL_BUFFER_LEN for a
 * caller that pauses when told. */
#define CN_SPOOL_BUFFER_LEN (256u * 1024u)
#define CN_SPOOL_BUFFER_MAX_LEN (4u * 1024u * 1024u)

#define CN_SPOOL_PAUSED 1

/* Errors (append only). cn_spool_error_status maps them to a C-STORE status. */
enum cn_spool_error {
    CN_SPOOL_OK = 0,
    CN_SPOOL_EIO = -1,       /* a file system call failed (disk full, I/O error): A700 */
    CN_SPOOL_ENOMEM = -2,    /* A700 */
    CN_SPOOL_ENOBUFS = -3,   /* data written past CN_SPOOL_BUFFER_MAX_LEN while paused: A700 */
    CN_SPOOL_EMISMATCH = -4, /* data set SOP Class/Instance UID differ from the command's: A900 */
    CN_SPOOL_EINVALID = -5,  /* unparseable data set, or an invalid / missing UID: C000 */
    CN_SPOOL_ESTATE = -6,    /* misuse: write after finish, bad argument */
};

const char *cn_spool_strerror(int err);

/* The DIMSE status (PS3.4 Table B.2-1) to answer for a failed spool: 0xA700, 0xA900 or
 * 0xC000; 0x0000 for CN_SPOOL_OK. */
uint16_t cn_spool_error_status(int err);

enum cn_spool_outcome {
    CN_SPOOL_FAILED = 0,    /* result.error says why; the spool file is kept for forensics
                               under STATE/spool unless it could not be created */
    CN_SPOOL_STORED = 1,    /* new instance at result.path */
    CN_SPOOL_DUPLICATE = 2, /* same bytes already at result.path; the spool copy was dropped */
    CN_SPOOL_CONFLICT = 3,  /* different bytes already stored under this SOP Instance UID;
                               the new bytes are kept at result.path, under STATE/conflicts,
                               and result.existing_path names the stored one */
    CN_SPOOL_ABANDONED = 4, /* cn_spool_abandon: partial bytes kept at result.path under
                               STATE/aborted */
    CN_SPOOL_DISCARDED = 5, /* cn_spool_discard: the bytes are gone; result.size_len says
                               how many had reached the file */
};

#define CN_SPOOL_PATH_SIZE 1024
#define CN_SPOOL_MESSAGE_SIZE 320

struct cn_spool_result {
    enum cn_spool_outcome outcome;
    int error;                         /* 0, or a negative cn_spool_error (FAILED) */
    char message[CN_SPOOL_MESSAGE_SIZE]; /* one line, PostgreSQL style, when error != 0 */
    char path[CN_SPOOL_PATH_SIZE];
    char existing_path[CN_SPOOL_PATH_SIZE]; /* CONFLICT only */
    uint64_t size_len;                 /* file bytes, meta header included */
    char sha256_hex[65];               /* of the file (all outcomes but FAILED/ABANDONED) */
    struct cn_dcm_header header;       /* valid for STORED, DUPLICATE and CONFLICT */
};

struct cn_spool;

/* Called when a spool that returned CN_SPOOL_PAUSED can take data again, or has failed
 * (the next cn_spool_write reports the failure). */
typedef void (*cn_spool_drain_cb)(struct cn_spool *spool, void *user);

/* Called once, on the loop thread, with the outcome of cn_spool_finish or
 * cn_spool_abandon. result is borrowed for the call; the spool is freed after return. */
typedef void (*cn_spool_done_cb)(struct cn_spool *spool, void *user,
                                 const struct cn_spool_result *result);

/* Starts a spool: asynchronously creates STATE/spool (state_dir must exist) and
 * STATE/spool/<unique>.part (O_EXCL, mode 0640), and queues the File Meta Information
 * built from meta (copied; borrowed for the call only). drain may be NULL when the
 * caller never pauses. Returns 0 with *out set, or CN_SPOOL_ESTATE (bad meta or
 * state_dir too long), CN_SPOOL_ENOMEM. Errors of the asynchronous creation surface
 * through cn_spool_write / the done callback. */
int cn_spool_open(uv_loop_t *loop, const char *state_dir, const struct cn_part10_meta *meta,
                  cn_spool_drain_cb drain, void *user, struct cn_spool **out);

/* Appends data[len] (copied; borrowed for the call). Returns 0 accepted, CN_SPOOL_PAUSED
 * accepted but the caller should pause (see above), or a negative cn_spool_error: the
 * spool has failed (data not accepted); the caller still ends it with finish/abandon. */
int cn_spool_write(struct cn_spool *spool, const uint8_t *data, size_t len);

/* The data set is complete. After the buffered writes land, off the loop: fdatasync,
 * read the header (cn_dcm_read_header), require the data set's SOP Class/Instance UID to
 * equal expected_sop_class_uid / expected_sop_instance_uid (the command's), validate
 * Study, Series and SOP Instance UIDs (cn_uid_is_valid), mkdir -p the final folder, link
 * the file under its final name (or detect DUPLICATE / CONFLICT) and fsync that folder;
 * only then drop the .part name. done receives the outcome; STORED and CONFLICT mean the
 * bytes and their name are durable. The expected UIDs are copied.
 *
 * The drop of the .part name is not itself made durable: after a crash the .part name
 * may reappear as a second link to a stored file. It is harmless (the stored file is
 * complete) and cn_spool_sweep removes it. */
void cn_spool_finish(struct cn_spool *spool, const char *expected_sop_class_uid,
                     const char *expected_sop_instance_uid, cn_spool_done_cb done);

/* The association ended mid-object: after the buffered writes land, fsync the partial file
 * and move it to STATE/aborted/<unique>.part (never deleted); done receives
 * CN_SPOOL_ABANDONED and the path, or FAILED when even that was impossible. */
void cn_spool_abandon(struct cn_spool *spool, cn_spool_done_cb done);

/* The object was refused (for instance over the size limit) and its bytes are of no
 * use: off the loop, without writing what is still buffered, close and remove the .part
 * file. done receives CN_SPOOL_DISCARDED, or FAILED (the file left under STATE/spool,
 * message saying why) when it could not be removed. */
void cn_spool_discard(struct cn_spool *spool, cn_spool_done_cb done);

/* Bytes accepted so far (meta header included). */
uint64_t cn_spool_bytes(const struct cn_spool *spool);

/* The start-up sweep of STATE/spool: removes every regular "*.part" file that has more
 * than one link (a commit linked it under its final or conflict name, and a crash undid
 * the drop of the .part name), then fsyncs STATE/spool when it removed any. Files with a
 * single link (an object being received, or one kept after a failure) are left alone, so
 * the sweep is safe while other receivers share the state folder. A missing STATE/spool
 * is not an error.
 * Blocking: call it before the loop serves, or from a thread that is not the loop's.
 * Returns 0 and sets *removed_count (when not NULL) to the number of files removed;
 * CN_SPOOL_ESTATE (state_dir NULL or too long) or CN_SPOOL_EIO, with a one-line message
 * in err[err_len] when err is not NULL (files removed before the failure are counted). */
int cn_spool_sweep(const char *state_dir, size_t *removed_count, char *err, size_t err_len);

#endif
