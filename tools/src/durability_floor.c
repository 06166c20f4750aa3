/*
 * durability_floor: what the durability contract of a C-STORE Success costs on this file
 * system, with no network and no DICOM. For each of COUNT objects of BYTES bytes it does
 * what calcnode's spool does before it may answer Success (node/store/spool_io.c,
 * spool_commit.c): write the object in buffers of CN_SPOOL_BUFFER_LEN, start each
 * buffer's writeback at once (sync_file_range), fdatasync, link the file under its final
 * name and fsync that folder. Prints the mean time per object of the writes alone and
 * of the whole sequence, and the tail no receiver can avoid: the fdatasync of an object
 * whose name was made durable and whose data was written back in full before its last
 * byte "arrived" (the device cache flush and the journal commit of its size). Every
 * object a sender waits for (storescu sends the next only after the response) pays at
 * least that tail after its last byte.
 *
 * usage: durability_floor DIR [COUNT=400] [BYTES=524288]
 * DIR must be on the file system being measured; it is created and emptied again.
 */
#define _GNU_SOURCE /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/spool.h"

#define MAX_COUNT 100000
#define MAX_BYTES (256u * 1024u * 1024u)
/* Longest DIR; the formats' precisions below bound every path built from it, so that
 * PATH_LEN holds them all. */
#define MAX_DIR_LEN 1024
#define PATH_LEN 1100

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int parse_size(const char *text, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || v == 0 || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* What run measures. */
enum mode {
    PAGE_CACHE, /* writes, link: no durability */
    DURABLE,    /* what the spool does before a Success */
    TAIL,       /* tail_one's fdatasync alone */
};

/* Writes one object to part in spool-sized buffers; with durable, also what the contract
 * adds: writeback started per buffer, fdatasync, a link under final and a folder fsync. */
static int store_one(const char *part, const char *final, const char *final_dir,
                     const uint8_t *data, size_t bytes, int durable)
{
    int fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    for (size_t off = 0; off < bytes; off += CN_SPOOL_BUFFER_LEN) {
        size_t len = bytes - off < CN_SPOOL_BUFFER_LEN ? bytes - off : CN_SPOOL_BUFFER_LEN;
        if (write_all(fd, data + off, len) != 0) {
            close(fd);
            return -1;
        }
        if (durable)
            (void)sync_file_range(fd, (off64_t)off, (off64_t)len, SYNC_FILE_RANGE_WRITE);
    }
    if ((durable && fdatasync(fd) != 0) || close(fd) != 0)
        return -1;
    if (link(part, final) != 0 || unlink(part) != 0)
        return -1;
    return durable ? fsync_dir(final_dir) : 0;
}

/* The unavoidable tail of one object: created under its final name, that folder fsync'd
 * and the data written back in full first (none of it timed), then fdatasync (timed). */
static int tail_one(const char *final, const char *final_dir, const uint8_t *data, size_t bytes,
                    double *tail_s)
{
    int fd = open(final, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || fsync_dir(final_dir) != 0 || write_all(fd, data, bytes) != 0 ||
        sync_file_range(fd, 0, (off64_t)bytes,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    double start = now_s();
    int rc = fdatasync(fd);
    *tail_s += now_s() - start;
    return close(fd) != 0 ? -1 : rc;
}

/* Stores count objects; returns the seconds taken (TAIL: of tail_one's timed part
 * alone), or a negative number on error. */
static double run(const char *dir, const char *label, size_t count, const uint8_t *data,
                  size_t bytes, enum mode mode)
{
    char spool[PATH_LEN], store[PATH_LEN], part[PATH_LEN], final[PATH_LEN];
    snprintf(spool, sizeof(spool), "%.1024s/%.16s-spool", dir, label);
    snprintf(store, sizeof(store), "%.1024s/%.16s-store", dir, label);
    if (mkdir(spool, 0755) != 0 || mkdir(store, 0755) != 0)
        return -1.0;
    double start = now_s(), tail_total = 0.0;
    for (size_t i = 0; i < count; i++) {
        snprintf(part, sizeof(part), "%.1060s/%zu.part", spool, i);
        snprintf(final, sizeof(final), "%.1060s/%zu.dcm", store, i);
        double tail_s = 0.0;
        if (mode == TAIL ? tail_one(final, store, data, bytes, &tail_s) != 0
                         : store_one(part, final, store, data, bytes, mode == DURABLE) != 0) {
            fprintf(stderr, "durability_floor: could not store \"%s\": %s\n", final,
                    strerror(errno));
            return -1.0;
        }
        tail_total += tail_s;
    }
    double seconds = mode == TAIL ? tail_total : now_s() - start;
    for (size_t i = 0; i < count; i++) {
        snprintf(final, sizeof(final), "%.1060s/%zu.dcm", store, i);
        unlink(final);
    }
    rmdir(spool);
    rmdir(store);
    return seconds;
}

int main(int argc, char **argv)
{
    size_t count = 400, bytes = 512u * 1024u;
    if (argc < 2 || argc > 4 || (argc > 2 && parse_size(argv[2], MAX_COUNT, &count) != 0) ||
        (argc > 3 && parse_size(argv[3], MAX_BYTES, &bytes) != 0)) {
        fprintf(stderr, "usage: durability_floor DIR [COUNT=400] [BYTES=524288]\n");
        return 2;
    }
    const char *dir = argv[1];
    if (strlen(dir) > MAX_DIR_LEN) {
        fprintf(stderr, "durability_floor: DIR longer than %d characters\n", MAX_DIR_LEN);
        return 2;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "durability_floor: could not create \"%s\": %s\n", dir, strerror(errno));
        return 1;
    }
    uint8_t *data = malloc(bytes);
    if (!data) {
        fprintf(stderr, "durability_floor: out of memory\n");
        return 1;
    }
    /* pixel-like content, so that no layer below can skip or compress it away */
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < bytes; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        data[i] = (uint8_t)x;
    }
    double plain = run(dir, "plain", count, data, bytes, PAGE_CACHE);
    double durable = plain < 0.0 ? -1.0 : run(dir, "durable", count, data, bytes, DURABLE);
    double tail = durable < 0.0 ? -1.0 : run(dir, "tail", count, data, bytes, TAIL);
    free(data);
    if (plain < 0.0 || durable < 0.0 || tail < 0.0)
        return 1;
    printf("%zu objects of %zu bytes: to the page cache %.3f ms each, durably %.3f ms each, "
           "fdatasync after complete writeback %.3f ms each\n",
           count, bytes, plain * 1e3 / (double)count, durable * 1e3 / (double)count,
           tail * 1e3 / (double)count);
    return 0;
}
