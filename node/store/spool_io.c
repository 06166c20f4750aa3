/* The threadpool side of the spool's writes: create the .part file, append a buffer,
 * hash it, and start its writeback early so that the fsync at the end finds little
 * left to do. Runs in libuv's threadpool, one job per spool at a time (see
 * spool_internal.h), so the writes and the hash proceed in file order. */
#define _GNU_SOURCE /* sync_file_range (Linux) */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/spool_internal.h"

#define SPOOL_DIR_MODE 0750
#define SPOOL_FILE_MODE 0640
#define SPOOL_NAME_RANDOM_LEN 16
/* Random names collide only by accident (or a copied state folder): a few retries. */
#define SPOOL_OPEN_MAX_ATTEMPTS 4

static int job_fail(struct cn_spool *spool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int job_fail(struct cn_spool *spool, const char *fmt, ...)
{
    if (spool->job_error == 0) {
        spool->job_error = CN_SPOOL_EIO;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(spool->job_message, sizeof spool->job_message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int random_name(char *name, size_t size)
{
    unsigned char bytes[SPOOL_NAME_RANDOM_LEN];
    static const char hex[] = "0123456789abcdef";
    if (size < 2 * sizeof bytes + sizeof ".part" || RAND_bytes(bytes, (int)sizeof bytes) != 1)
        return -1;
    for (size_t i = 0; i < sizeof bytes; i++) {
        name[2 * i] = hex[bytes[i] >> 4];
        name[2 * i + 1] = hex[bytes[i] & 0x0Fu];
    }
    memcpy(name + 2 * sizeof bytes, ".part", sizeof ".part");
    return 0;
}

/* STATE/spool itself needs no fsync here: a .part file only has to be durable under its
 * final name, and that name's folder is fsync'd at commit. */
static int open_part(struct cn_spool *spool)
{
    if (mkdir(spool->spool_dir, SPOOL_DIR_MODE) != 0 && errno != EEXIST)
        return job_fail(spool, "could not create directory \"%s\": %s", spool->spool_dir,
                        strerror(errno));
    for (int attempt = 0; attempt < SPOOL_OPEN_MAX_ATTEMPTS; attempt++) {
        if (random_name(spool->name, sizeof spool->name) < 0)
            return job_fail(spool, "could not generate a spool file name");
        if (cn_spool_join_path(spool->part_path, sizeof spool->part_path, spool->spool_dir,
                               spool->name) < 0)
            return job_fail(spool, "spool file path too long");
        int fd = open(spool->part_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, SPOOL_FILE_MODE);
        if (fd >= 0) {
            spool->fd = fd;
            return 0;
        }
        if (errno != EEXIST)
            break;
    }
    int saved = errno;
    char path[CN_SPOOL_PATH_SIZE];
    memcpy(path, spool->part_path, sizeof path);
    spool->part_path[0] = '\0'; /* no file of ours exists */
    return job_fail(spool, "could not create spool file \"%s\": %s", path, strerror(saved));
}

static int write_all(int fd, const uint8_t *data, size_t len, uint64_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, data, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        data += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int cn_spool_write_flight(struct cn_spool *spool)
{
    if (spool->fd < 0 && open_part(spool) != 0)
        return -1;
    if (spool->flight.len == 0)
        return 0;
    if (write_all(spool->fd, spool->flight.data, spool->flight.len, spool->file_len) != 0)
        return job_fail(spool, "could not write spool file \"%s\": %s", spool->part_path,
                        strerror(errno));
    if (EVP_DigestUpdate(spool->hash, spool->flight.data, spool->flight.len) != 1)
        return job_fail(spool, "could not hash spool file \"%s\"", spool->part_path);
#ifdef SYNC_FILE_RANGE_WRITE
    /* Start writing these pages to the device now, while the rest of the object is still
     * arriving. Only an optimisation: it promises no durability (the fsync at commit
     * does), so a file system that refuses it changes nothing. */
    (void)sync_file_range(spool->fd, (off64_t)spool->file_len, (off64_t)spool->flight.len,
                          SYNC_FILE_RANGE_WRITE);
#endif
    spool->file_len += spool->flight.len;
    return 0;
}

int cn_spool_close_synced(struct cn_spool *spool)
{
    if (spool->fd < 0)
        return 0;
    /* fdatasync: the file's size and blocks are written too (what reading it back needs);
     * only timestamps may be older after a crash. */
    int rc = fdatasync(spool->fd);
    int saved = errno;
    if (close(spool->fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    spool->fd = -1;
    errno = saved;
    return rc;
}
