/* node/store: state shared by the loop side of the spool (spool.c) and its threadpool
 * side (spool_io.c, spool_commit.c). Not part of the public API.
 *
 * Hand-off rule: at most one threadpool job per spool exists at a time (job_in_flight).
 * While it runs, the job alone touches the fields marked "job side"; the loop side reads
 * them again only in the job's completion callback (libuv orders the two). Fields marked
 * "loop side" are never touched by a job. */
#ifndef CN_STORE_SPOOL_INTERNAL_H
#define CN_STORE_SPOOL_INTERNAL_H

#include <openssl/evp.h>

#include "store/spool.h"

#define SPOOL_NAME_SIZE 40 /* 32 hex characters + ".part" + NUL */

struct spool_buffer {
    uint8_t *data;
    size_t len;
    size_t cap;
};

enum spool_end { SPOOL_END_NONE = 0, SPOOL_END_FINISH, SPOOL_END_ABANDON, SPOOL_END_DISCARD };

struct cn_spool {
    uv_loop_t *loop;
    void *user;
    cn_spool_drain_cb drain;
    cn_spool_done_cb done;

    char state_dir[CN_SPOOL_PATH_SIZE];
    char spool_dir[CN_SPOOL_PATH_SIZE];

    /* Loop side. */
    int job_in_flight;
    int end_queued;      /* the last job (finish or abandon) is queued */
    int paused;          /* we returned CN_SPOOL_PAUSED and owe a drain call */
    struct spool_buffer fill;
    uint64_t accepted_len;
    /* Loop side until the last job is queued; that job reads them. */
    enum spool_end end;
    int error;           /* sticky first error, 0 if none */
    char message[CN_SPOOL_MESSAGE_SIZE];
    char expected_sop_class_uid[CN_DCM_UID_SIZE];
    char expected_sop_instance_uid[CN_DCM_UID_SIZE];

    /* Job side. */
    struct spool_buffer flight; /* bytes the job appends to the file */
    char part_path[CN_SPOOL_PATH_SIZE]; /* empty until the file exists */
    char name[SPOOL_NAME_SIZE];
    uv_file fd;          /* -1 until open */
    EVP_MD_CTX *hash;    /* sha256 of every byte written, in file order */
    uint64_t file_len;   /* bytes written to the file */
    int job_error;       /* first failure of a job, 0 if none */
    char job_message[CN_SPOOL_MESSAGE_SIZE];
    struct cn_spool_result result; /* filled by the last job */

    uv_work_t work;
};

/* dst = a "/" b; returns 0, or -1 (dst empty) when it does not fit in size. */
int cn_spool_join_path(char *dst, size_t size, const char *a, const char *b);

/* Job side (spool_io.c): creates STATE/spool and the .part file when not yet open, then
 * appends flight to it, hashes those bytes and starts their writeback. Returns 0, or -1
 * with job_error and job_message set (flight is then not, or only partly, on disk). */
int cn_spool_write_flight(struct cn_spool *spool);

/* Job side: fsyncs and closes the file when open. Returns 0, or -1 with errno set. */
int cn_spool_close_synced(struct cn_spool *spool);

/* Last jobs (spool_commit.c): they fill spool->result. */
void cn_spool_commit_work(struct cn_spool *spool);
void cn_spool_abandon_work(struct cn_spool *spool);
void cn_spool_discard_work(struct cn_spool *spool);

#endif
