/* The spool on a real libuv loop in a temporary state folder: streamed writes, durable
 * commit, duplicate, conflict, mismatch, invalid UIDs, abandon, discard and backpressure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <uv.h>

#include "dimse/command.h"
#include "store/spool.h"

#define SOP_CLASS "1.2.840.10008.5.1.4.1.1.1.2"
#define SOP_INSTANCE "1.2.826.0.1.3680043.10.999.3.1"
#define STUDY "1.2.826.0.1.3680043.10.999.1"
#define SERIES "1.2.826.0.1.3680043.10.999.2"
#define EXPLICIT_LE "1.2.840.10008.1.2.1"
#define FRAGMENT_LEN 7
#define BIG_PIXEL_LEN (3u * 1024u * 1024u)

struct fixture {
    uv_loop_t loop;
    char state_dir[256];
};

struct done {
    int called;
    int drains;
    struct cn_spool_result result;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(f->state_dir, sizeof f->state_dir, "/tmp/cn_spool_XXXXXX");
    assert_non_null(mkdtemp(f->state_dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->state_dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Explicit VR Little Endian element with a 2-byte length. */
static size_t put_short(uint8_t *p, uint16_t group, uint16_t element, const char vr[2],
                        const char *value, char pad)
{
    size_t n = strlen(value), padded = n + (n & 1u);
    p[0] = (uint8_t)group;
    p[1] = (uint8_t)(group >> 8);
    p[2] = (uint8_t)element;
    p[3] = (uint8_t)(element >> 8);
    p[4] = (uint8_t)vr[0];
    p[5] = (uint8_t)vr[1];
    p[6] = (uint8_t)padded;
    p[7] = (uint8_t)(padded >> 8);
    memcpy(p + 8, value, n);
    if (padded > n)
        p[8 + n] = (uint8_t)pad;
    return 8 + padded;
}

/* A minimal data set; pixel_len > 0 appends (7FE0,0010) OB of that many bytes. */
static size_t build_data_set(uint8_t *buf, const char *study, const char *sop_instance,
                             const char *patient_name, size_t pixel_len)
{
    size_t n = 0;
    n += put_short(buf + n, 0x0008, 0x0016, "UI", SOP_CLASS, '\0');
    n += put_short(buf + n, 0x0008, 0x0018, "UI", sop_instance, '\0');
    n += put_short(buf + n, 0x0008, 0x0060, "CS", "MG", ' ');
    n += put_short(buf + n, 0x0010, 0x0010, "PN", patient_name, ' ');
    n += put_short(buf + n, 0x0010, 0x0020, "LO", "PID1", ' ');
    n += put_short(buf + n, 0x0020, 0x000D, "UI", study, '\0');
    n += put_short(buf + n, 0x0020, 0x000E, "UI", SERIES, '\0');
    if (pixel_len > 0) {
        const uint8_t header[] = {0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0,
                                  (uint8_t)pixel_len, (uint8_t)(pixel_len >> 8),
                                  (uint8_t)(pixel_len >> 16), (uint8_t)(pixel_len >> 24)};
        memcpy(buf + n, header, sizeof header);
        n += sizeof header;
        for (size_t i = 0; i < pixel_len; i++)
            buf[n + i] = (uint8_t)(i * 7u);
        n += pixel_len;
    }
    return n;
}

static const struct cn_part10_meta META = {
    .media_storage_sop_class_uid = SOP_CLASS,
    .media_storage_sop_instance_uid = SOP_INSTANCE,
    .transfer_syntax_uid = EXPLICIT_LE,
    .implementation_class_uid = "1.2.826.0.1.3680043.10.999",
    .implementation_version_name = "CALCNODE",
    .source_ae_title = "MODALITY",
};

static void on_done(struct cn_spool *spool, void *user, const struct cn_spool_result *result)
{
    struct done *d = user;
    (void)spool;
    d->called++;
    d->result = *result;
}

static void on_drain(struct cn_spool *spool, void *user)
{
    struct done *d = user;
    (void)spool;
    d->drains++;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static size_t count_files(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "find %s -type f 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned long n = 0;
    assert_int_equal(fscanf(p, "%lu", &n), 1);
    pclose(p);
    return (size_t)n;
}

/* Sends data in FRAGMENT_LEN pieces, then finishes with the command's UIDs; runs the loop
 * until the done callback. */
static void store(struct fixture *f, const uint8_t *data, size_t len, const char *sop_instance,
                  struct done *d)
{
    struct cn_spool *spool = NULL;
    struct cn_part10_meta meta = META;
    meta.media_storage_sop_instance_uid = sop_instance;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &meta, NULL, d, &spool), 0);
    for (size_t off = 0; off < len; off += FRAGMENT_LEN) {
        size_t n = len - off < FRAGMENT_LEN ? len - off : FRAGMENT_LEN;
        assert_true(cn_spool_write(spool, data + off, n) >= 0);
        if (off % (FRAGMENT_LEN * 4) == 0)
            uv_run(&f->loop, UV_RUN_NOWAIT); /* let some writes land in between */
    }
    cn_spool_finish(spool, SOP_CLASS, sop_instance, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d->called, 1);
}

static void expect_file(const char *path, const uint8_t *meta, size_t meta_len,
                        const uint8_t *data, size_t len)
{
    size_t file_len = 0;
    uint8_t *bytes = read_file(path, &file_len);
    assert_non_null(bytes);
    assert_int_equal(file_len, meta_len + len);
    assert_memory_equal(bytes, meta, meta_len);
    assert_memory_equal(bytes + meta_len, data, len);
    free(bytes);
}

static void test_spool_stores_then_detects_duplicate_then_keeps_conflict(void **state)
{
    struct fixture *f = *state;
    uint8_t data[1024], meta[CN_PART10_META_MAX_LEN];
    int meta_len = cn_part10_encode_meta(&META, meta, sizeof meta);
    assert_true(meta_len > 0);
    size_t len = build_data_set(data, STUDY, SOP_INSTANCE, "Doe^Jane", 0);

    struct done d = {0};
    store(f, data, len, SOP_INSTANCE, &d);
    if (d.result.outcome != CN_SPOOL_STORED)
        fail_msg("outcome %d: %s", d.result.outcome, d.result.message);
    char expected_path[512];
    snprintf(expected_path, sizeof expected_path, "%s/store/%s/%s/%s.dcm", f->state_dir, STUDY,
             SERIES, SOP_INSTANCE);
    assert_string_equal(d.result.path, expected_path);
    assert_int_equal(d.result.size_len, (uint64_t)meta_len + len);
    assert_int_equal(strlen(d.result.sha256_hex), 64);
    assert_string_equal(d.result.header.study_instance_uid, STUDY);
    assert_string_equal(d.result.header.transfer_syntax_uid, EXPLICIT_LE);
    expect_file(expected_path, meta, (size_t)meta_len, data, len);
    struct stat st;
    assert_int_equal(stat(expected_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    char spool_dir[300];
    snprintf(spool_dir, sizeof spool_dir, "%s/spool", f->state_dir);
    assert_int_equal(count_files(spool_dir), 0);
    char first_sha[65];
    memcpy(first_sha, d.result.sha256_hex, sizeof first_sha);

    struct done dup = {0};
    store(f, data, len, SOP_INSTANCE, &dup);
    assert_int_equal(dup.result.outcome, CN_SPOOL_DUPLICATE);
    assert_string_equal(dup.result.path, expected_path);
    assert_string_equal(dup.result.sha256_hex, first_sha);
    assert_int_equal(count_files(spool_dir), 0);

    uint8_t other[1024];
    size_t other_len = build_data_set(other, STUDY, SOP_INSTANCE, "Doe^John", 0);
    struct done conflict = {0};
    store(f, other, other_len, SOP_INSTANCE, &conflict);
    assert_int_equal(conflict.result.outcome, CN_SPOOL_CONFLICT);
    assert_string_equal(conflict.result.existing_path, expected_path);
    char conflict_path[512];
    snprintf(conflict_path, sizeof conflict_path, "%s/conflicts/%s.%.16s.dcm", f->state_dir,
             SOP_INSTANCE, conflict.result.sha256_hex);
    assert_string_equal(conflict.result.path, conflict_path);
    assert_string_not_equal(conflict.result.sha256_hex, first_sha);
    /* the new bytes are kept, the stored ones untouched */
    expect_file(conflict_path, meta, (size_t)meta_len, other, other_len);
    expect_file(expected_path, meta, (size_t)meta_len, data, len);
    assert_int_equal(count_files(spool_dir), 0);
}

static void test_spool_reports_mismatching_sop_instance_as_a900(void **state)
{
    struct fixture *f = *state;
    uint8_t data[1024];
    size_t len = build_data_set(data, STUDY, "1.2.3.999", "Doe^Jane", 0);
    struct done d = {0};
    store(f, data, len, SOP_INSTANCE, &d);
    assert_int_equal(d.result.outcome, CN_SPOOL_FAILED);
    assert_int_equal(d.result.error, CN_SPOOL_EMISMATCH);
    assert_int_equal(cn_spool_error_status(d.result.error), 0xA900);
    assert_non_null(strstr(d.result.message, "1.2.3.999"));
    char store_dir[300];
    snprintf(store_dir, sizeof store_dir, "%s/store", f->state_dir);
    assert_int_equal(count_files(store_dir), 0);
}

static void test_spool_refuses_invalid_study_uid_as_c000(void **state)
{
    struct fixture *f = *state;
    uint8_t data[1024];
    size_t len = build_data_set(data, "1.02.3", SOP_INSTANCE, "Doe^Jane", 0);
    struct done d = {0};
    store(f, data, len, SOP_INSTANCE, &d);
    assert_int_equal(d.result.outcome, CN_SPOOL_FAILED);
    assert_int_equal(d.result.error, CN_SPOOL_EINVALID);
    assert_int_equal(cn_spool_error_status(d.result.error), 0xC000);
    assert_non_null(strstr(d.result.message, "invalid Study Instance UID \"1.02.3\""));
}

static void test_spool_refuses_bytes_that_are_not_dicom_as_c000(void **state)
{
    struct fixture *f = *state;
    const uint8_t junk[] = "this is not a data set at all, just text";
    struct done d = {0};
    store(f, junk, sizeof junk, SOP_INSTANCE, &d);
    assert_int_equal(d.result.outcome, CN_SPOOL_FAILED);
    assert_int_equal(cn_spool_error_status(d.result.error), 0xC000);
}

static void test_spool_abandon_keeps_partial_bytes(void **state)
{
    struct fixture *f = *state;
    uint8_t data[1024], meta[CN_PART10_META_MAX_LEN];
    int meta_len = cn_part10_encode_meta(&META, meta, sizeof meta);
    size_t len = build_data_set(data, STUDY, SOP_INSTANCE, "Doe^Jane", 0);
    size_t partial = len / 2;
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &META, NULL, &d, &spool), 0);
    assert_int_equal(cn_spool_write(spool, data, partial), 0);
    cn_spool_abandon(spool, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    assert_int_equal(d.result.outcome, CN_SPOOL_ABANDONED);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/aborted/", f->state_dir);
    assert_memory_equal(d.result.path, prefix, strlen(prefix));
    assert_int_equal(d.result.size_len, (uint64_t)meta_len + partial);
    expect_file(d.result.path, meta, (size_t)meta_len, data, partial);
}

/* 3 MiB of pixel data in 16 KiB writes, honouring CN_SPOOL_PAUSED: the caller pauses,
 * the drain callback resumes it, and everything lands. */
static void test_spool_applies_backpressure_and_resumes_on_drain(void **state)
{
    struct fixture *f = *state;
    enum { WRITE_LEN = 16384 };
    uint8_t *data = malloc(BIG_PIXEL_LEN + 1024);
    assert_non_null(data);
    size_t len = build_data_set(data, STUDY, SOP_INSTANCE, "Doe^Jane", BIG_PIXEL_LEN);
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &META, on_drain, &d, &spool), 0);
    int pauses = 0;
    for (size_t off = 0; off < len; off += WRITE_LEN) {
        size_t n = len - off < WRITE_LEN ? len - off : WRITE_LEN;
        int rc = cn_spool_write(spool, data + off, n);
        assert_true(rc == 0 || rc == CN_SPOOL_PAUSED);
        if (rc == CN_SPOOL_PAUSED) {
            pauses++;
            int drains = d.drains;
            while (d.drains == drains)
                assert_true(uv_run(&f->loop, UV_RUN_ONCE) != 0);
        }
    }
    assert_true(pauses > 0);
    assert_int_equal(d.drains, pauses);
    assert_true(cn_spool_bytes(spool) > len);
    cn_spool_finish(spool, SOP_CLASS, SOP_INSTANCE, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    if (d.result.outcome != CN_SPOOL_STORED)
        fail_msg("outcome %d: %s", d.result.outcome, d.result.message);
    uint8_t meta[CN_PART10_META_MAX_LEN];
    int meta_len = cn_part10_encode_meta(&META, meta, sizeof meta);
    expect_file(d.result.path, meta, (size_t)meta_len, data, len);
    free(data);
}

static void test_spool_write_past_the_hard_cap_fails_without_losing_the_callback(void **state)
{
    struct fixture *f = *state;
    enum { WRITE_LEN = 65536 };
    static uint8_t chunk[WRITE_LEN];
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &META, on_drain, &d, &spool), 0);
    /* a caller that ignores CN_SPOOL_PAUSED and never lets the loop run */
    int rc = 0;
    size_t written = 0;
    while (rc >= 0 && written <= 2u * CN_SPOOL_BUFFER_MAX_LEN) {
        rc = cn_spool_write(spool, chunk, sizeof chunk);
        written += sizeof chunk;
    }
    assert_int_equal(rc, CN_SPOOL_ENOBUFS);
    assert_true(written <= CN_SPOOL_BUFFER_MAX_LEN + sizeof chunk);
    assert_int_equal(cn_spool_write(spool, chunk, 1), CN_SPOOL_ENOBUFS);
    cn_spool_finish(spool, SOP_CLASS, SOP_INSTANCE, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    assert_int_equal(d.result.error, CN_SPOOL_ENOBUFS);
    assert_int_equal(cn_spool_error_status(d.result.error), 0xA700);
}

static void test_spool_reports_unwritable_state_dir_as_a700(void **state)
{
    struct fixture *f = *state;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/does/not/exist", f->state_dir);
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, missing, &META, NULL, &d, &spool), 0);
    const uint8_t a[] = {1, 2};
    assert_int_equal(cn_spool_write(spool, a, sizeof a), 0);
    cn_spool_finish(spool, SOP_CLASS, SOP_INSTANCE, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    assert_int_equal(d.result.outcome, CN_SPOOL_FAILED);
    assert_int_equal(cn_spool_error_status(d.result.error), 0xA700);
    assert_non_null(strstr(d.result.message, "could not create directory"));
}

/* The reference: sha256 of the whole file read back, in one call. */
static void sha256_hex_of_file(const char *path, char hex[65])
{
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    assert_non_null(bytes);
    unsigned char digest[32];
    unsigned int digest_len = 0;
    assert_int_equal(EVP_Digest(bytes, len, digest, &digest_len, EVP_sha256(), NULL), 1);
    assert_int_equal(digest_len, 32);
    for (unsigned int i = 0; i < digest_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    free(bytes);
}

/* Writes of pseudo-random sizes (1 byte to 96 KiB), the loop run at pseudo-random
 * moments: the hash kept while writing equals the hash of the file read back. */
static void test_spool_hash_kept_while_writing_equals_hash_of_the_file(void **state)
{
    struct fixture *f = *state;
    enum { PIXEL_LEN = 1536 * 1024, MAX_WRITE_LEN = 96 * 1024 };
    uint8_t *data = malloc(PIXEL_LEN + 1024);
    assert_non_null(data);
    size_t len = build_data_set(data, STUDY, SOP_INSTANCE, "Doe^Jane", PIXEL_LEN);
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &META, on_drain, &d, &spool), 0);
    uint32_t rng = 12345u;
    for (size_t off = 0; off < len;) {
        rng = rng * 1103515245u + 12345u;
        size_t n = 1 + (rng >> 8) % MAX_WRITE_LEN;
        if (n > len - off)
            n = len - off;
        int rc = cn_spool_write(spool, data + off, n);
        assert_true(rc == 0 || rc == CN_SPOOL_PAUSED);
        off += n;
        if (rc == CN_SPOOL_PAUSED) {
            int drains = d.drains;
            while (d.drains == drains)
                assert_true(uv_run(&f->loop, UV_RUN_ONCE) != 0);
        } else if ((rng >> 4) % 3 == 0) {
            uv_run(&f->loop, UV_RUN_NOWAIT);
        }
    }
    cn_spool_finish(spool, SOP_CLASS, SOP_INSTANCE, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    if (d.result.outcome != CN_SPOOL_STORED)
        fail_msg("outcome %d: %s", d.result.outcome, d.result.message);
    uint8_t meta[CN_PART10_META_MAX_LEN];
    int meta_len = cn_part10_encode_meta(&META, meta, sizeof meta);
    expect_file(d.result.path, meta, (size_t)meta_len, data, len);
    assert_int_equal(d.result.size_len, (uint64_t)meta_len + len);
    char reference[65];
    sha256_hex_of_file(d.result.path, reference);
    assert_string_equal(d.result.sha256_hex, reference);
    free(data);
}

/* Everything written and finished before the loop ever runs: the last job writes what
 * the first did not. */
static void test_spool_finish_before_the_loop_runs_stores_every_byte(void **state)
{
    struct fixture *f = *state;
    uint8_t data[4096], meta[CN_PART10_META_MAX_LEN];
    int meta_len = cn_part10_encode_meta(&META, meta, sizeof meta);
    size_t len = build_data_set(data, STUDY, SOP_INSTANCE, "Doe^Jane", 2048);
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &META, NULL, &d, &spool), 0);
    assert_int_equal(cn_spool_write(spool, data, len / 2), 0);
    assert_int_equal(cn_spool_write(spool, data + len / 2, len - len / 2), 0);
    cn_spool_finish(spool, SOP_CLASS, SOP_INSTANCE, on_done);
    assert_int_equal(cn_spool_write(spool, data, 1), CN_SPOOL_ESTATE);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    if (d.result.outcome != CN_SPOOL_STORED)
        fail_msg("outcome %d: %s", d.result.outcome, d.result.message);
    expect_file(d.result.path, meta, (size_t)meta_len, data, len);
    char reference[65];
    sha256_hex_of_file(d.result.path, reference);
    assert_string_equal(d.result.sha256_hex, reference);
    struct stat st;
    assert_int_equal(stat(d.result.path, &st), 0);
    assert_int_equal(st.st_nlink, 1); /* the .part name is gone */
}

/* Abandoned before the loop ever ran: the meta header alone is kept. */
static void test_spool_abandon_before_the_loop_runs_keeps_the_meta_header(void **state)
{
    struct fixture *f = *state;
    uint8_t meta[CN_PART10_META_MAX_LEN];
    int meta_len = cn_part10_encode_meta(&META, meta, sizeof meta);
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &META, NULL, &d, &spool), 0);
    cn_spool_abandon(spool, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    assert_int_equal(d.result.outcome, CN_SPOOL_ABANDONED);
    assert_int_equal(d.result.size_len, (uint64_t)meta_len);
    expect_file(d.result.path, meta, (size_t)meta_len, meta, 0);
}

/* A refused object: bytes already on disk and bytes still in flight are all gone, no
 * file is left under spool/, aborted/ or store/, and the callback says how many had
 * reached the file. */
static void test_spool_discard_leaves_no_file(void **state)
{
    struct fixture *f = *state;
    uint8_t data[1024], meta[CN_PART10_META_MAX_LEN];
    int meta_len = cn_part10_encode_meta(&META, meta, sizeof meta);
    size_t len = build_data_set(data, STUDY, SOP_INSTANCE, "Doe^Jane", 512);
    size_t first = len / 2;
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &META, NULL, &d, &spool), 0);
    assert_int_equal(cn_spool_write(spool, data, first), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0); /* the first half lands */
    assert_int_equal(count_files(f->state_dir), 1);
    assert_int_equal(cn_spool_write(spool, data + first, len - first), 0);
    cn_spool_discard(spool, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    assert_int_equal(d.result.outcome, CN_SPOOL_DISCARDED);
    assert_int_equal(d.result.error, 0);
    /* the second half may have been taken by a write job before the discard */
    assert_true(d.result.size_len >= (uint64_t)meta_len + first);
    assert_true(d.result.size_len <= (uint64_t)meta_len + len);
    assert_int_equal(count_files(f->state_dir), 0);
}

static void test_spool_discard_before_the_loop_runs_leaves_no_file(void **state)
{
    struct fixture *f = *state;
    struct done d = {0};
    struct cn_spool *spool = NULL;
    assert_int_equal(cn_spool_open(&f->loop, f->state_dir, &META, NULL, &d, &spool), 0);
    cn_spool_discard(spool, on_done);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.called, 1);
    assert_int_equal(d.result.outcome, CN_SPOOL_DISCARDED);
    assert_int_equal(count_files(f->state_dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_spool_stores_then_detects_duplicate_then_keeps_conflict,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_reports_mismatching_sop_instance_as_a900, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_spool_refuses_invalid_study_uid_as_c000, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_spool_refuses_bytes_that_are_not_dicom_as_c000, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_spool_abandon_keeps_partial_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_applies_backpressure_and_resumes_on_drain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_spool_write_past_the_hard_cap_fails_without_losing_the_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_reports_unwritable_state_dir_as_a700, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_spool_hash_kept_while_writing_equals_hash_of_the_file,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_finish_before_the_loop_runs_stores_every_byte,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_spool_abandon_before_the_loop_runs_keeps_the_meta_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_discard_leaves_no_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_discard_before_the_loop_runs_leaves_no_file,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
