/* node/store: state shared by the loop side of the spool (spool.c) and its threadpool
 * side (spool_commit.c). Not part of the public API. */
#ifndef CN_STORE_SPOOL_INTERNAL_H
#define CN_STORE_SPOOL_INTERNAL_H

#include "store/spool.h"

#define SPOOL_NAME_SIZE 40 /* 32 hex characters + ".part" + NUL */

struct spool_buffer {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t written; /* bytes of data already on disk (flight buffer only) */
};

enum spool_end { SPOOL_END_NONE = 0, SPOOL_END_FINISH, SPOOL_END_ABANDON };

struct cn_spool {
    uv_loop_t *loop;
    void *user;
    cn_spool_drain_cb drain;
    cn_spool_done_cb done;

    char state_dir[CN_SPOOL_PATH_SIZE];
    char spool_dir[CN_SPOOL_PATH_SIZE];
    char part_path[CN_SPOOL_PATH_SIZE];
    char name[SPOOL_NAME_SIZE];

    /* Loop side only. */
    uv_fs_t control_req; /* mkdir, then open: one at a time */
    uv_fs_t write_req;
    int opening;         /* control_req in flight */
    int write_in_flight;
    int open_attempts;
    int paused;          /* we returned CN_SPOOL_PAUSED and owe a drain call */
    int work_queued;
    struct spool_buffer fill;
    struct spool_buffer flight;
    uint64_t accepted_len;
    uint64_t file_offset; /* bytes handed to completed writes */

    /* Read by the threadpool side once work is queued (loop side no longer touches it). */
    uv_file fd;          /* -1 until open */
    enum spool_end end;
    int error;           /* sticky first error, 0 if none */
    char message[CN_SPOOL_MESSAGE_SIZE];
    char expected_sop_class_uid[CN_DCM_UID_SIZE];
    char expected_sop_instance_uid[CN_DCM_UID_SIZE];

    uv_work_t work;
    struct cn_spool_result result; /* filled by the threadpool side */
};

/* dst = a "/" b; returns 0, or -1 (dst empty) when it does not fit in size. */
int cn_spool_join_path(char *dst, size_t size, const char *a, const char *b);

/* Threadpool entry points (spool_commit.c): they fill spool->result. */
void cn_spool_commit_work(struct cn_spool *spool);
void cn_spool_abandon_work(struct cn_spool *spool);

#endif
