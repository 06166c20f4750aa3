/* PDU codec fuzz target: decode, re-encode, decode again, and require the
 * same result. The first byte selects the entry point: 0 a framed PDU,
 * 1 an A-ASSOCIATE-RQ body, 2 an A-ASSOCIATE-AC body, 3 a P-DATA-TF body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ul/pdu.h"

#define MODE_COUNT 4
#define FUZZ_MAX_BODY_LEN (256u * 1024u)
#define OUT_CAP (CN_PDU_HEADER_LEN + CN_PDU_ASSOCIATE_MAX_BODY_LEN)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[OUT_CAP];

static void round_trip_rq(const uint8_t *body, size_t len)
{
    struct cn_assoc_rq *a = cn_assoc_rq_new(), *b = cn_assoc_rq_new();
    size_t n;
    if (a == NULL || b == NULL)
        abort();
    if (cn_pdu_decode_rq(body, len, a) == 0) {
        if (cn_pdu_encode_rq(a, out, sizeof out, &n) != 0)
            abort();
        if (cn_pdu_decode_rq(out + CN_PDU_HEADER_LEN, n - CN_PDU_HEADER_LEN, b) != 0)
            abort();
        if (memcmp(a, b, sizeof *a) != 0)
            abort();
    }
    free(a);
    free(b);
}

static void round_trip_ac(const uint8_t *body, size_t len)
{
    struct cn_assoc_ac *a = cn_assoc_ac_new(), *b = cn_assoc_ac_new();
    size_t n;
    if (a == NULL || b == NULL)
        abort();
    if (cn_pdu_decode_ac(body, len, a) == 0) {
        if (cn_pdu_encode_ac(a, out, sizeof out, &n) != 0)
            abort();
        if (cn_pdu_decode_ac(out + CN_PDU_HEADER_LEN, n - CN_PDU_HEADER_LEN, b) != 0)
            abort();
        if (memcmp(a, b, sizeof *a) != 0)
            abort();
    }
    free(a);
    free(b);
}

static void round_trip_pdata(const uint8_t *body, size_t len)
{
    if (cn_pdu_check_pdata(body, len) != 0)
        return;
    size_t off = 0;
    struct cn_pdv pdv, again;
    while (cn_pdu_next_pdv(body, len, &off, &pdv) > 0) {
        size_t n, o2 = 0;
        if (pdv.len > OUT_CAP - 12)
            continue;
        if (cn_pdu_encode_pdata(pdv.pc_id, pdv.control, pdv.data, pdv.len, out, sizeof out, &n))
            abort();
        if (cn_pdu_next_pdv(out + CN_PDU_HEADER_LEN, n - CN_PDU_HEADER_LEN, &o2, &again) != 1)
            abort();
        if (again.pc_id != pdv.pc_id || again.control != pdv.control || again.len != pdv.len ||
            memcmp(again.data, pdv.data, pdv.len) != 0)
            abort();
    }
}

static void framed(const uint8_t *data, size_t size)
{
    uint8_t type, source, reason;
    uint32_t body_len;
    long r = cn_pdu_frame(data, size, FUZZ_MAX_BODY_LEN, &type, &body_len);
    if (r <= 0)
        return;
    const uint8_t *body = data + CN_PDU_HEADER_LEN;
    struct cn_assoc_rj rj;
    switch (type) {
    case CN_PDU_ASSOCIATE_RQ:
        round_trip_rq(body, body_len);
        break;
    case CN_PDU_ASSOCIATE_AC:
        round_trip_ac(body, body_len);
        break;
    case CN_PDU_ASSOCIATE_RJ:
        (void)cn_pdu_decode_rj(body, body_len, &rj);
        break;
    case CN_PDU_P_DATA_TF:
        round_trip_pdata(body, body_len);
        break;
    case CN_PDU_ABORT:
        (void)cn_pdu_decode_abort(body, body_len, &source, &reason);
        break;
    default:
        (void)cn_pdu_decode_release(body, body_len);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *rest = data + 1;
    size_t len = size - 1;
    switch (data[0] % MODE_COUNT) {
    case 0:
        framed(rest, len);
        break;
    case 1:
        round_trip_rq(rest, len);
        break;
    case 2:
        round_trip_ac(rest, len);
        break;
    default:
        round_trip_pdata(rest, len);
        break;
    }
    return 0;
}
