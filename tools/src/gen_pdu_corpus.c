/* Writes the seed corpora of tests/fuzz/corpus/pdu and corpus/assoc from
 * our own PDU encoder, plus a few hand-built hostile inputs.
 * usage: gen_pdu_corpus FUZZ_CORPUS_DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ul/assoc.h"
#include "ul/negotiate.h"
#include "ul/pdu.h"
#include "ul/sop.h"

#define OUT_CAP (CN_PDU_HEADER_LEN + CN_PDU_ASSOCIATE_MAX_BODY_LEN)

static int write_file(const char *dir, const char *sub, const char *name, uint8_t prefix0,
                      int has_prefix1, uint8_t prefix1, const uint8_t *bytes, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "could not open \"%s\": %s\n", path, strerror(errno));
        return -1;
    }
    int ok = fwrite(&prefix0, 1, 1, f) == 1;
    if (has_prefix1)
        ok = ok && fwrite(&prefix1, 1, 1, f) == 1;
    ok = ok && fwrite(bytes, 1, len, f) == len;
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "could not write \"%s\"\n", path);
        return -1;
    }
    return 0;
}

/* pdu corpus: mode byte 0 (framed); assoc corpus: chunk size and timer. */
static int emit(const char *dir, const char *name, const uint8_t *bytes, size_t len)
{
    if (write_file(dir, "pdu", name, 0, 0, 0, bytes, len) != 0)
        return -1;
    return write_file(dir, "assoc", name, 0xff, 1, 0, bytes, len);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FUZZ_CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    static uint8_t out[OUT_CAP];
    static uint8_t conv[2 * OUT_CAP];
    size_t n, m;
    struct cn_assoc_config config;
    cn_assoc_config_init(&config);
    const char *const ts[] = {CN_UID_EXPLICIT_VR_LE, CN_UID_IMPLICIT_VR_LE,
                              "1.2.840.10008.1.2.4.70"};
    struct cn_proposal props[] = {
        {CN_UID_VERIFICATION, ts, 1},
        {"1.2.840.10008.5.1.4.1.1.1.2", ts, 3},
        {"1.2.840.10008.5.1.4.1.1.2", ts, 2},
    };
    struct cn_assoc_rq *rq = cn_assoc_rq_new();
    struct cn_assoc_ac *ac = cn_assoc_ac_new();
    struct cn_assoc_rj rj;
    if (rq == NULL || ac == NULL)
        return 1;
    int rc = cn_negotiate_build_rq(&config, "CALCNODE", props, 3, rq);
    rq->user.role_count = 1;
    snprintf(rq->user.roles[0].sop_class, sizeof(cn_uid), "1.2.840.10008.5.1.4.1.1.1.2");
    rq->user.roles[0].scu_role = 1;
    rq->user.has_async_ops = 1;
    rq->user.max_ops_invoked = 1;
    rq->user.has_user_identity = 1;
    rq->user.user_identity_type = 2;
    rq->user.user_identity_primary_len = 4;
    memcpy(rq->user.user_identity_primary, "user", 4);
    rq->user.user_identity_secondary_len = 4;
    memcpy(rq->user.user_identity_secondary, "pass", 4);
    rq->user.ext_neg_count = 1;
    snprintf(rq->user.ext_negs[0].sop_class, sizeof(cn_uid), "1.2.840.10008.5.1.4.1.1.1.2");
    rq->user.ext_negs[0].info_len = 2;
    rq->user.common_ext_neg_count = 1;
    snprintf(rq->user.common_ext_negs[0].sop_class, sizeof(cn_uid), "1.2.3");
    snprintf(rq->user.common_ext_negs[0].service_class, sizeof(cn_uid), "1.2.4");
    rq->user.common_ext_negs[0].related_count = 1;
    snprintf(rq->user.common_ext_negs[0].related[0], sizeof(cn_uid), "1.2.5");
    rc = rc || cn_pdu_encode_rq(rq, out, sizeof out, &n);
    rc = rc || emit(dir, "associate_rq", out, n);
    rc = rc || cn_negotiate(&config, rq, ac, &rj);
    rc = rc || cn_pdu_encode_ac(ac, out, sizeof out, &m);
    rc = rc || write_file(dir, "pdu", "associate_ac", 0, 0, 0, out, m);
    /* an RQ body alone for mode 1, an AC body for mode 2 */
    rc = rc || cn_pdu_encode_rq(rq, out, sizeof out, &n);
    rc = rc || write_file(dir, "pdu", "rq_body", 1, 0, 0, out + 6, n - 6);
    rc = rc || cn_pdu_encode_ac(ac, out, sizeof out, &m);
    rc = rc || write_file(dir, "pdu", "ac_body", 2, 0, 0, out + 6, m - 6);

    /* a whole conversation for the acceptor: RQ, command, data, release */
    size_t c = 0;
    rc = rc || cn_pdu_encode_rq(rq, conv, sizeof conv, &n);
    c += n;
    static const uint8_t cmd[] = {0, 0, 0, 0, 4, 0, 0, 0, 0x38, 0, 0, 0};
    rc = rc || cn_pdu_encode_pdata(1, CN_PDV_COMMAND | CN_PDV_LAST, cmd, sizeof cmd, conv + c,
                                   sizeof conv - c, &n);
    c += n;
    rc = rc || cn_pdu_encode_pdata(3, 0, cmd, sizeof cmd, conv + c, sizeof conv - c, &n);
    c += n;
    rc = rc || cn_pdu_encode_pdata(3, CN_PDV_LAST, cmd, 4, conv + c, sizeof conv - c, &n);
    c += n;
    rc = rc || cn_pdu_encode_release(CN_PDU_RELEASE_RQ, conv + c, sizeof conv - c, &n);
    c += n;
    rc = rc || write_file(dir, "assoc", "conversation", 0xff, 1, 0, conv, c);
    rc = rc || write_file(dir, "assoc", "conversation_small_chunks", 6, 1, 3, conv, c);

    rc = rc || cn_pdu_encode_pdata(1, CN_PDV_COMMAND | CN_PDV_LAST, cmd, sizeof cmd, out,
                                   sizeof out, &n);
    rc = rc || emit(dir, "p_data_tf", out, n);
    rc = rc || write_file(dir, "pdu", "p_data_body", 3, 0, 0, out + 6, n - 6);
    rj = (struct cn_assoc_rj){1, 1, 7};
    rc = rc || cn_pdu_encode_rj(&rj, out, sizeof out, &n);
    rc = rc || emit(dir, "associate_rj", out, n);
    rc = rc || cn_pdu_encode_release(CN_PDU_RELEASE_RP, out, sizeof out, &n);
    rc = rc || emit(dir, "release_rp", out, n);
    rc = rc || cn_pdu_encode_abort(2, 6, out, sizeof out, &n);
    rc = rc || emit(dir, "abort", out, n);

    /* hostile inputs */
    static const uint8_t huge[] = {1, 0, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t short_pdv[] = {4, 0, 0, 0, 0, 5, 0, 0, 0, 1, 1};
    static const uint8_t even_pc[] = {4, 0, 0, 0, 0, 7, 0, 0, 0, 3, 2, 3, 0};
    static const uint8_t garbage[] = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'};
    rc = rc || emit(dir, "hostile_4gb_length", huge, sizeof huge);
    rc = rc || emit(dir, "hostile_short_pdv", short_pdv, sizeof short_pdv);
    rc = rc || emit(dir, "hostile_even_pc_id", even_pc, sizeof even_pc);
    rc = rc || emit(dir, "hostile_garbage", garbage, sizeof garbage);
    free(rq);
    free(ac);
    if (rc != 0) {
        fprintf(stderr, "could not build the corpus\n");
        return 1;
    }
    return 0;
}
