/* The last job of a spool: fsync, header check, and the durable move under the final name
 * (DESIGN.md section 4), the move of a partial object to STATE/aborted, or the removal
 * of a refused one. Runs in
 * libuv's threadpool; touches only the spool's own state, which the loop side leaves
 * alone while the job is queued.
 *
 * Durability of a STORED instance: the file is fdatasync'd, linked under its final name,
 * and that name's folder is fsync'd. The unlink of the .part name is not made durable
 * (no fsync of STATE/spool): after a crash the .part name may come back as a second link
 * to the stored file, which cn_spool_sweep removes at the next start. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/spool_internal.h"
#include "store/uid.h"

#define STORE_SUBDIR "store"
#define CONFLICTS_SUBDIR "conflicts"
#define ABORTED_SUBDIR "aborted"
#define DIR_MODE 0750
#define HASH_READ_LEN (64u * 1024u)
#define SHA256_LEN 32
#define CONFLICT_PREFIX_LEN 16 /* hex characters of the sha256 in a conflict file name */
/* Distinct conflicting versions kept under one sha256 prefix before giving up. */
#define CONFLICT_MAX_SUFFIX 100
/* ".", the prefix, ".NN", ".dcm" */
#define CONFLICT_NAME_EXTRA_LEN (1 + CONFLICT_PREFIX_LEN + 4 + 4 + 1)

int cn_spool_join_path(char *dst, size_t size, const char *a, const char *b)
{
    int n = snprintf(dst, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            dst[0] = '\0';
        return -1;
    }
    return 0;
}

static int fail(struct cn_spool *spool, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct cn_spool *spool, int err, const char *fmt, ...)
{
    struct cn_spool_result *r = &spool->result;
    r->outcome = CN_SPOOL_FAILED;
    r->error = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return err;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* mkdir of one level; when it is new, the parent is fsync'd so the entry is durable. */
static int make_dir(const char *path, const char *parent)
{
    if (mkdir(path, DIR_MODE) == 0)
        return fsync_dir(parent);
    return errno == EEXIST ? 0 : -1;
}

static void to_hex(const unsigned char *digest, unsigned int digest_len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < digest_len; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0Fu];
    }
    hex[2 * digest_len] = '\0';
}

static int sha256_file(const char *path, char hex[65], uint64_t *size_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    uint8_t buf[HASH_READ_LEN];
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
            errno = EIO;
            rc = -1;
            break;
        }
    }
    unsigned char digest[SHA256_LEN];
    unsigned int digest_len = 0;
    if (rc == 0 && EVP_DigestFinal_ex(ctx, digest, &digest_len) != 1) {
        errno = EIO;
        rc = -1;
    }
    int saved = errno;
    EVP_MD_CTX_free(ctx);
    close(fd);
    errno = saved;
    if (rc < 0)
        return -1;
    to_hex(digest, digest_len, hex);
    if (size_len != NULL)
        *size_len = total;
    return 0;
}

/* The sha256 of the bytes written, kept while writing: no second read of the file. */
static int finish_hash(struct cn_spool *spool)
{
    unsigned char digest[SHA256_LEN];
    unsigned int digest_len = 0;
    if (EVP_DigestFinal_ex(spool->hash, digest, &digest_len) != 1 || digest_len != SHA256_LEN)
        return -1;
    to_hex(digest, digest_len, spool->result.sha256_hex);
    spool->result.size_len = spool->file_len;
    return 0;
}

/* Removes the .part name of a file that now has another. ENOENT is fine: a start-up
 * sweep of another receiver sharing the state folder may have removed it already. */
static int drop_part_name(struct cn_spool *spool)
{
    return unlink(spool->part_path) == 0 || errno == ENOENT ? 0 : -1;
}

/* mkdir -p STATE/store/<study>/<series>, each new entry made durable in its parent.
 * The usual case (the series folder exists) costs one mkdir call. */
static int make_series_dir(const char *store, const char *study, const char *series,
                           const char *state_dir)
{
    if (mkdir(series, DIR_MODE) == 0)
        return fsync_dir(study);
    if (errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -1;
    if (make_dir(store, state_dir) != 0 || make_dir(study, store) != 0)
        return -1;
    return make_dir(series, study);
}

/* The bytes already stored under the same SOP Instance UID differ: keep the new ones under
 * STATE/conflicts/<sop>.<sha256 prefix>[.N].dcm, never overwriting anything. */
static int keep_conflict(struct cn_spool *spool, const char *sop)
{
    struct cn_spool_result *r = &spool->result;
    char dir[CN_SPOOL_PATH_SIZE];
    if (cn_spool_join_path(dir, sizeof dir, spool->state_dir, CONFLICTS_SUBDIR) < 0 ||
        make_dir(dir, spool->state_dir) < 0)
        return fail(spool, CN_SPOOL_EIO, "could not create directory \"%s\": %s", dir,
                    strerror(errno));
    for (int suffix = 0; suffix < CONFLICT_MAX_SUFFIX; suffix++) {
        char name[CN_DCM_UID_SIZE + CONFLICT_NAME_EXTRA_LEN];
        char path[CN_SPOOL_PATH_SIZE];
        int n = suffix == 0 ? snprintf(name, sizeof name, "%s.%.*s.dcm", sop,
                                       CONFLICT_PREFIX_LEN, r->sha256_hex)
                            : snprintf(name, sizeof name, "%s.%.*s.%d.dcm", sop,
                                       CONFLICT_PREFIX_LEN, r->sha256_hex, suffix);
        if (n < 0 || (size_t)n >= sizeof name || cn_spool_join_path(path, sizeof path, dir, name) < 0)
            return fail(spool, CN_SPOOL_EIO, "conflict file path too long");
        if (link(spool->part_path, path) == 0) {
            if (fsync_dir(dir) != 0 || drop_part_name(spool) != 0)
                return fail(spool, CN_SPOOL_EIO, "could not keep conflicting file \"%s\": %s",
                            path, strerror(errno));
            memcpy(r->path, path, sizeof r->path);
            return 0;
        }
        if (errno != EEXIST)
            return fail(spool, CN_SPOOL_EIO, "could not link \"%s\" to \"%s\": %s",
                        spool->part_path, path, strerror(errno));
        char other[65];
        if (sha256_file(path, other, NULL) == 0 && strcmp(other, r->sha256_hex) == 0) {
            /* These very bytes were kept already. */
            drop_part_name(spool);
            memcpy(r->path, path, sizeof r->path);
            return 0;
        }
    }
    return fail(spool, CN_SPOOL_EIO, "could not keep conflicting file for \"%s\": too many "
                "versions", sop);
}

static int commit(struct cn_spool *spool)
{
    struct cn_spool_result *r = &spool->result;
    struct cn_dcm_header *h = &r->header;
    if (spool->error != 0) {
        cn_spool_close_synced(spool);
        return fail(spool, spool->error, "%s", spool->message);
    }
    if (cn_spool_close_synced(spool) != 0)
        return fail(spool, CN_SPOOL_EIO, "could not fsync spool file \"%s\": %s",
                    spool->part_path, strerror(errno));

    char err[CN_SPOOL_MESSAGE_SIZE];
    if (cn_dcm_read_header(spool->part_path, h, err, sizeof err) != 0)
        return fail(spool, CN_SPOOL_EINVALID, "could not read the data set header: %s", err);
    /* PS3.4 B.2.3: A900 when the data set does not match the SOP Class. */
    if (strcmp(h->sop_class_uid, spool->expected_sop_class_uid) != 0)
        return fail(spool, CN_SPOOL_EMISMATCH,
                    "data set SOP Class UID \"%s\" differs from the command's \"%s\"",
                    h->sop_class_uid, spool->expected_sop_class_uid);
    if (strcmp(h->sop_instance_uid, spool->expected_sop_instance_uid) != 0)
        return fail(spool, CN_SPOOL_EMISMATCH,
                    "data set SOP Instance UID \"%s\" differs from the command's \"%s\"",
                    h->sop_instance_uid, spool->expected_sop_instance_uid);
    /* DESIGN.md section 4: paths are built from validated UIDs only. */
    const char *names[] = {"Study Instance UID", "Series Instance UID", "SOP Instance UID"};
    const char *uids[] = {h->study_instance_uid, h->series_instance_uid, h->sop_instance_uid};
    for (size_t i = 0; i < sizeof uids / sizeof uids[0]; i++)
        if (!cn_uid_is_valid(uids[i]))
            return fail(spool, CN_SPOOL_EINVALID, "invalid %s \"%s\"", names[i], uids[i]);

    if (finish_hash(spool) != 0)
        return fail(spool, CN_SPOOL_EIO, "could not hash spool file \"%s\"", spool->part_path);

    char store[CN_SPOOL_PATH_SIZE], study[CN_SPOOL_PATH_SIZE], series[CN_SPOOL_PATH_SIZE];
    char file_name[CN_DCM_UID_SIZE + sizeof ".dcm"];
    snprintf(file_name, sizeof file_name, "%s.dcm", h->sop_instance_uid);
    if (cn_spool_join_path(store, sizeof store, spool->state_dir, STORE_SUBDIR) < 0 ||
        cn_spool_join_path(study, sizeof study, store, h->study_instance_uid) < 0 ||
        cn_spool_join_path(series, sizeof series, study, h->series_instance_uid) < 0 ||
        cn_spool_join_path(r->path, sizeof r->path, series, file_name) < 0)
        return fail(spool, CN_SPOOL_EIO, "storage path too long");
    if (make_series_dir(store, study, series, spool->state_dir) != 0)
        return fail(spool, CN_SPOOL_EIO, "could not create directory \"%s\": %s", series,
                    strerror(errno));

    /* link() rather than rename(): it never replaces an existing file, so two receivers
     * storing the same instance at once cannot overwrite each other. */
    if (link(spool->part_path, r->path) == 0) {
        if (fsync_dir(series) != 0 || drop_part_name(spool) != 0)
            return fail(spool, CN_SPOOL_EIO, "could not make \"%s\" durable: %s", r->path,
                        strerror(errno));
        r->outcome = CN_SPOOL_STORED;
        return 0;
    }
    if (errno != EEXIST)
        return fail(spool, CN_SPOOL_EIO, "could not link \"%s\" to \"%s\": %s", spool->part_path,
                    r->path, strerror(errno));

    char existing[65];
    if (sha256_file(r->path, existing, NULL) != 0)
        return fail(spool, CN_SPOOL_EIO, "could not read stored file \"%s\": %s", r->path,
                    strerror(errno));
    if (strcmp(existing, r->sha256_hex) == 0) {
        if (drop_part_name(spool) != 0)
            return fail(spool, CN_SPOOL_EIO, "could not remove spool file \"%s\": %s",
                        spool->part_path, strerror(errno));
        r->outcome = CN_SPOOL_DUPLICATE;
        return 0;
    }
    memcpy(r->existing_path, r->path, sizeof r->existing_path);
    int rc = keep_conflict(spool, h->sop_instance_uid);
    if (rc < 0)
        return rc;
    r->outcome = CN_SPOOL_CONFLICT;
    return 0;
}

void cn_spool_commit_work(struct cn_spool *spool)
{
    memset(&spool->result, 0, sizeof spool->result);
    commit(spool);
}

void cn_spool_abandon_work(struct cn_spool *spool)
{
    struct cn_spool_result *r = &spool->result;
    memset(r, 0, sizeof *r);
    if (spool->fd < 0) {
        /* The file was never created: there are no bytes to keep. */
        fail(spool, spool->error != 0 ? spool->error : CN_SPOOL_EIO, "%s",
             spool->message[0] ? spool->message : "spool file was never created");
        return;
    }
    if (cn_spool_close_synced(spool) != 0) {
        fail(spool, CN_SPOOL_EIO, "could not fsync spool file \"%s\": %s", spool->part_path,
             strerror(errno));
        return;
    }
    char dir[CN_SPOOL_PATH_SIZE];
    if (cn_spool_join_path(dir, sizeof dir, spool->state_dir, ABORTED_SUBDIR) < 0 ||
        make_dir(dir, spool->state_dir) != 0) {
        fail(spool, CN_SPOOL_EIO, "could not create directory \"%s\": %s", dir, strerror(errno));
        return;
    }
    if (cn_spool_join_path(r->path, sizeof r->path, dir, spool->name) < 0) {
        fail(spool, CN_SPOOL_EIO, "aborted file path too long");
        return;
    }
    r->size_len = spool->file_len;
    if (rename(spool->part_path, r->path) != 0 || fsync_dir(dir) != 0 ||
        fsync_dir(spool->spool_dir) != 0) {
        fail(spool, CN_SPOOL_EIO, "could not move spool file \"%s\" to \"%s\": %s",
             spool->part_path, r->path, strerror(errno));
        return;
    }
    r->outcome = CN_SPOOL_ABANDONED;
}

void cn_spool_discard_work(struct cn_spool *spool)
{
    struct cn_spool_result *r = &spool->result;
    memset(r, 0, sizeof *r);
    r->size_len = spool->file_len;
    if (spool->fd >= 0) {
        close(spool->fd);
        spool->fd = -1;
    }
    if (spool->part_path[0] != '\0' && unlink(spool->part_path) != 0 && errno != ENOENT) {
        memcpy(r->path, spool->part_path, sizeof r->path);
        fail(spool, CN_SPOOL_EIO, "could not remove spool file \"%s\": %s", spool->part_path,
             strerror(errno));
        return;
    }
    r->outcome = CN_SPOOL_DISCARDED;
}
