/* Two associations, requestor and acceptor, wired back to back in memory:
 * establishment, P-DATA both ways with fragmentation, release, release
 * collision, abort, ARTIM expiry, rejection and bad PDUs in each state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ul/assoc.h"
#include "ul/negotiate.h"
#include "ul/sop.h"

#define QUEUE_CAP (1u << 20)
#define MESSAGE_CAP (64u * 1024u)

struct peer {
    struct cn_assoc *a;
    struct cn_assoc_config config;
    uint8_t *queue; /* bytes sent, not yet delivered */
    size_t queue_len;
    uint8_t last_pdu[16];
    size_t last_pdu_len;
    int transport_closed;
    int timer_running;
    int closed_count;
    int accepted, rejected;
    struct cn_assoc_rj rj;
    int release_indications, release_confirms;
    int aborts, abort_source, abort_reason;
    int auto_release_response;
    int echo_data;          /* send every complete message back */
    int free_on_closed;
    uint8_t message[MESSAGE_CAP];
    size_t message_len;
    int messages, pdvs, last_flags;
    uint8_t echo_pc;
};

static void on_send(void *user, const uint8_t *bytes, size_t len)
{
    struct peer *p = user;
    assert_true(p->queue_len + len <= QUEUE_CAP);
    memcpy(p->queue + p->queue_len, bytes, len);
    p->queue_len += len;
    p->last_pdu_len = len < sizeof p->last_pdu ? len : sizeof p->last_pdu;
    memcpy(p->last_pdu, bytes, p->last_pdu_len);
}

static void on_close(void *user) { ((struct peer *)user)->transport_closed = 1; }
static void on_timer_start(void *user, uint32_t ms)
{
    assert_true(ms > 0);
    ((struct peer *)user)->timer_running = 1;
}
static void on_timer_stop(void *user) { ((struct peer *)user)->timer_running = 0; }

static int on_associate(void *user, const struct cn_assoc_rq *rq, struct cn_assoc_ac *ac,
                        struct cn_assoc_rj *rj)
{
    struct peer *p = user;
    return cn_negotiate(&p->config, rq, ac, rj);
}

static void on_confirm(void *user, const struct cn_assoc_ac *ac, const struct cn_assoc_rj *rj)
{
    struct peer *p = user;
    assert_true((ac == NULL) != (rj == NULL));
    if (ac != NULL)
        p->accepted++;
    else {
        p->rejected++;
        p->rj = *rj;
    }
}

static int on_pdv(void *user, uint8_t pc_id, int is_command, int is_last, const uint8_t *data,
                  size_t len)
{
    struct peer *p = user;
    assert_true(p->message_len + len <= MESSAGE_CAP);
    memcpy(p->message + p->message_len, data, len);
    p->message_len += len;
    p->pdvs++;
    p->last_flags = (is_command ? 1 : 0) | (is_last ? 2 : 0);
    if (is_last) {
        p->messages++;
        if (p->echo_data) /* reentrant send from inside the callback */
            assert_int_equal(
                cn_assoc_send_pdata(p->a, pc_id, is_command, p->message, p->message_len), 0);
    }
    return 0;
}

static void on_release_indication(void *user)
{
    struct peer *p = user;
    p->release_indications++;
    if (p->auto_release_response)
        assert_int_equal(cn_assoc_release_response(p->a), 0);
}

static void on_release_confirm(void *user) { ((struct peer *)user)->release_confirms++; }

static void on_abort(void *user, int source, int reason)
{
    struct peer *p = user;
    p->aborts++;
    p->abort_source = source;
    p->abort_reason = reason;
}

static void on_closed(void *user)
{
    struct peer *p = user;
    p->closed_count++;
    if (p->free_on_closed) {
        cn_assoc_free(p->a);
        p->a = NULL;
    }
}

static const struct cn_assoc_ops ops = {
    on_send, on_close, on_timer_start, on_timer_stop, on_associate, on_confirm, on_pdv,
    on_release_indication, on_release_confirm, on_abort, on_closed,
};

static struct peer scu, scp;

static void make_peer(struct peer *p, enum cn_assoc_role role, const char *ae, uint32_t max_pdu)
{
    uint8_t *queue = p->queue;
    memset(p, 0, sizeof *p);
    p->queue = queue != NULL ? queue : malloc(QUEUE_CAP);
    assert_non_null(p->queue);
    cn_assoc_config_init(&p->config);
    cn_ae_title_set(p->config.ae_title, ae);
    p->config.max_pdu_len = max_pdu;
    p->a = cn_assoc_new(role, &p->config, &ops, p);
    assert_non_null(p->a);
    p->auto_release_response = 1;
}

static int setup(void **state)
{
    (void)state;
    make_peer(&scu, CN_ASSOC_REQUESTOR, "SCU", CN_ASSOC_MIN_PDU_LEN);
    make_peer(&scp, CN_ASSOC_ACCEPTOR, "CALCNODE", CN_ASSOC_MIN_PDU_LEN);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cn_assoc_free(scu.a);
    cn_assoc_free(scp.a);
    free(scu.queue);
    free(scp.queue);
    memset(&scu, 0, sizeof scu);
    memset(&scp, 0, sizeof scp);
    return 0;
}

/* Deliver queued bytes both ways, chunk bytes at a time, then report a
 * closed transport to the other side, until nothing moves. */
static void pump(size_t chunk)
{
    int moved = 1;
    while (moved) {
        moved = 0;
        struct peer *pair[2][2] = {{&scu, &scp}, {&scp, &scu}};
        for (int i = 0; i < 2; i++) {
            struct peer *from = pair[i][0], *to = pair[i][1];
            if (from->queue_len > 0) {
                size_t len = from->queue_len;
                uint8_t *copy = malloc(len);
                memcpy(copy, from->queue, len);
                from->queue_len = 0;
                for (size_t off = 0; off < len && to->a != NULL; off += chunk) {
                    size_t n = len - off < chunk ? len - off : chunk;
                    assert_int_equal(cn_assoc_receive(to->a, copy + off, n), 0);
                }
                free(copy);
                moved = 1;
            }
            if (from->transport_closed == 1 && to->a != NULL) {
                from->transport_closed = 2;
                cn_assoc_transport_closed(to->a);
                if (to->transport_closed == 0)
                    to->transport_closed = 2;
                moved = 1;
            }
        }
    }
}

static const char *const ts_list[] = {CN_UID_EXPLICIT_VR_LE, CN_UID_IMPLICIT_VR_LE};

static void request(const char *called)
{
    struct cn_proposal props[] = {
        {CN_UID_VERIFICATION, ts_list, 2},
        {"1.2.840.10008.5.1.4.1.1.1.2", ts_list, 2},
        {"1.2.3.4.5.6", ts_list, 2},
    };
    struct cn_assoc_rq *rq = cn_assoc_rq_new();
    assert_int_equal(cn_negotiate_build_rq(&scu.config, called, props, 3, rq), 0);
    assert_int_equal(cn_assoc_request(scu.a, rq), 0);
    free(rq);
    assert_int_equal(cn_assoc_state(scu.a), STA4);
    assert_int_equal(cn_assoc_transport_connected(scp.a), 0);
    assert_int_equal(cn_assoc_state(scp.a), STA2);
    assert_true(scp.timer_running);
    assert_int_equal(cn_assoc_transport_connected(scu.a), 0);
    assert_int_equal(cn_assoc_state(scu.a), STA5);
}

static void establish(size_t chunk)
{
    request("CALCNODE");
    pump(chunk);
    assert_int_equal(scu.accepted, 1);
    assert_int_equal(cn_assoc_state(scu.a), STA6);
    assert_int_equal(cn_assoc_state(scp.a), STA6);
    assert_false(scp.timer_running);
}

static void test_assoc_establishes_and_negotiates_contexts(void **state)
{
    (void)state;
    establish(1); /* one byte at a time: framing across calls */
    const struct cn_assoc_ac *ac = cn_assoc_accepted(scu.a);
    assert_non_null(ac);
    assert_int_equal(ac->pc_count, 3);
    assert_int_equal(ac->pcs[0].result, CN_PC_ACCEPTANCE);
    assert_string_equal(ac->pcs[0].transfer_syntax, CN_UID_EXPLICIT_VR_LE);
    assert_int_equal(ac->pcs[2].result, CN_PC_ABSTRACT_SYNTAX_NOT_SUPPORTED);
    assert_int_equal(cn_assoc_peer_max_pdu_len(scu.a), CN_ASSOC_MIN_PDU_LEN);
    assert_string_equal(ac->user.implementation_class_uid, CN_IMPLEMENTATION_CLASS_UID);
}

static void fill_pattern(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 31u + 7u);
}

static void test_assoc_fragments_pdata_both_ways_at_small_max_pdu(void **state)
{
    (void)state;
    establish(4096);
    static uint8_t msg[5000];
    fill_pattern(msg, sizeof msg);
    scp.echo_data = 1;
    assert_int_equal(cn_assoc_send_pdata(scu.a, 3, 0, msg, sizeof msg), 0);
    pump(700);
    /* fragments carry at most max - 6 bytes of data: ceil(5000 / 1018) */
    size_t per = CN_ASSOC_MIN_PDU_LEN - 6;
    int expected = (int)((sizeof msg + per - 1) / per);
    assert_int_equal(scp.pdvs, expected);
    assert_int_equal(scp.messages, 1);
    assert_int_equal(scp.message_len, sizeof msg);
    assert_memory_equal(scp.message, msg, sizeof msg);
    assert_int_equal(scp.last_flags, 2);
    assert_int_equal(scu.pdvs, expected);
    assert_int_equal(scu.message_len, sizeof msg);
    assert_memory_equal(scu.message, msg, sizeof msg);
    /* an empty command is one last fragment */
    assert_int_equal(cn_assoc_send_pdata(scu.a, 1, 1, NULL, 0), 0);
    scp.echo_data = 0;
    pump(4096);
    assert_int_equal(scp.messages, 2);
    assert_int_equal(scp.last_flags, 3);
}

static void test_assoc_refuses_pdata_on_unaccepted_context(void **state)
{
    (void)state;
    establish(4096);
    uint8_t b = 0;
    assert_int_equal(cn_assoc_send_pdata(scu.a, 5, 0, &b, 1), CN_UL_E_ARGUMENT);
    assert_int_equal(cn_assoc_send_pdata(scu.a, 9, 0, &b, 1), CN_UL_E_ARGUMENT);
}

static void test_assoc_releases_and_closes(void **state)
{
    (void)state;
    establish(4096);
    assert_int_equal(cn_assoc_release_request(scu.a), 0);
    assert_int_equal(cn_assoc_state(scu.a), STA7);
    pump(4096);
    assert_int_equal(scp.release_indications, 1);
    assert_int_equal(scu.release_confirms, 1);
    assert_int_equal(cn_assoc_state(scu.a), STA1);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
    assert_int_equal(scu.closed_count, 1);
    assert_int_equal(scp.closed_count, 1);
    assert_int_equal(scu.aborts + scp.aborts, 0);
}

static void test_assoc_release_collision_completes_on_both_sides(void **state)
{
    (void)state;
    establish(4096);
    assert_int_equal(cn_assoc_release_request(scu.a), 0);
    assert_int_equal(cn_assoc_release_request(scp.a), 0);
    pump(4096);
    assert_int_equal(scu.release_indications, 1);
    assert_int_equal(scp.release_indications, 1);
    assert_int_equal(scu.release_confirms, 1);
    assert_int_equal(scp.release_confirms, 1);
    assert_int_equal(cn_assoc_state(scu.a), STA1);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
    assert_int_equal(scu.aborts + scp.aborts, 0);
    assert_int_equal(scu.closed_count + scp.closed_count, 2);
}

static void test_assoc_release_collision_with_late_responses(void **state)
{
    (void)state;
    establish(4096);
    scu.auto_release_response = 0;
    scp.auto_release_response = 0;
    assert_int_equal(cn_assoc_release_request(scu.a), 0);
    assert_int_equal(cn_assoc_release_request(scp.a), 0);
    pump(4096);
    assert_int_equal(cn_assoc_state(scu.a), STA9);
    assert_int_equal(cn_assoc_state(scp.a), STA10);
    assert_int_equal(cn_assoc_release_response(scu.a), 0);
    assert_int_equal(cn_assoc_state(scu.a), STA11);
    pump(4096);
    assert_int_equal(cn_assoc_state(scp.a), STA12);
    assert_int_equal(cn_assoc_release_response(scp.a), 0);
    pump(4096);
    assert_int_equal(cn_assoc_state(scu.a), STA1);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
    assert_int_equal(scu.release_confirms + scp.release_confirms, 2);
}

static void test_assoc_abort_reaches_peer(void **state)
{
    (void)state;
    establish(4096);
    assert_int_equal(cn_assoc_abort(scu.a, 0), 0);
    assert_int_equal(cn_assoc_state(scu.a), STA13);
    assert_true(scu.timer_running);
    pump(4096);
    assert_int_equal(scp.aborts, 1);
    assert_int_equal(scp.abort_source, CN_ABORT_SOURCE_USER);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
    assert_int_equal(cn_assoc_state(scu.a), STA1);
    assert_int_equal(scu.closed_count, 1);
}

static void test_assoc_artim_expiry_closes_idle_connection(void **state)
{
    (void)state;
    assert_int_equal(cn_assoc_transport_connected(scp.a), 0);
    assert_true(scp.timer_running);
    assert_int_equal(cn_assoc_timer_expired(scp.a), 0);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
    assert_int_equal(scp.transport_closed, 1);
    assert_int_equal(scp.closed_count, 1);
    assert_int_equal(scp.queue_len, 0);
}

static void test_assoc_rejects_unknown_called_ae_title(void **state)
{
    (void)state;
    request("SOMEONE");
    pump(4096);
    assert_int_equal(scu.rejected, 1);
    assert_int_equal(scu.rj.result, CN_RJ_PERMANENT);
    assert_int_equal(scu.rj.source, CN_RJ_SOURCE_USER);
    assert_int_equal(scu.rj.reason, CN_RJ_USER_CALLED_AE_NOT_RECOGNIZED);
    assert_int_equal(cn_assoc_state(scu.a), STA1);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
}

/* The acceptor's answer to bytes fed in Sta2: the A-ABORT it sends. */
static void expect_abort_sent(struct peer *p, uint8_t reason)
{
    assert_int_equal(p->last_pdu_len, 10);
    assert_int_equal(p->last_pdu[0], CN_PDU_ABORT);
    assert_int_equal(p->last_pdu[8], CN_ABORT_SOURCE_PROVIDER);
    assert_int_equal(p->last_pdu[9], reason);
}

static void test_assoc_aborts_on_garbage_before_association(void **state)
{
    (void)state;
    assert_int_equal(cn_assoc_transport_connected(scp.a), 0);
    const uint8_t http[] = "GET / HTTP/1.1\r\n";
    assert_int_equal(cn_assoc_receive(scp.a, http, sizeof http - 1), 0);
    expect_abort_sent(&scp, CN_ABORT_UNRECOGNIZED_PDU);
    assert_int_equal(cn_assoc_state(scp.a), STA13);
    assert_int_equal(cn_assoc_last_error(scp.a), CN_UL_E_PDU_TYPE);
    assert_int_equal(cn_assoc_timer_expired(scp.a), 0);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
}

static void test_assoc_aborts_on_4gb_length_at_once(void **state)
{
    (void)state;
    assert_int_equal(cn_assoc_transport_connected(scp.a), 0);
    const uint8_t hdr[] = {CN_PDU_ASSOCIATE_RQ, 0, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(cn_assoc_receive(scp.a, hdr, sizeof hdr), 0);
    expect_abort_sent(&scp, CN_ABORT_INVALID_PDU_PARAMETER_VALUE);
    assert_int_equal(cn_assoc_state(scp.a), STA13);
}

static void test_assoc_aborts_on_pdata_before_association(void **state)
{
    (void)state;
    assert_int_equal(cn_assoc_transport_connected(scp.a), 0);
    const uint8_t pdata[] = {4, 0, 0, 0, 0, 7, 0, 0, 0, 3, 1, 3, 0xaa};
    assert_int_equal(cn_assoc_receive(scp.a, pdata, sizeof pdata), 0);
    expect_abort_sent(&scp, CN_ABORT_UNEXPECTED_PDU);
    assert_int_equal(cn_assoc_state(scp.a), STA13);
    assert_int_equal(scp.aborts, 0);
}

static void test_assoc_aborts_on_invalid_pdu_during_data_transfer(void **state)
{
    (void)state;
    establish(4096);
    /* a PDV of length 1 */
    const uint8_t pdata[] = {4, 0, 0, 0, 0, 5, 0, 0, 0, 1, 1};
    assert_int_equal(cn_assoc_receive(scp.a, pdata, sizeof pdata), 0);
    expect_abort_sent(&scp, CN_ABORT_INVALID_PDU_PARAMETER_VALUE);
    assert_int_equal(scp.aborts, 1);
    assert_int_equal(scp.abort_source, CN_ABORT_SOURCE_PROVIDER);
    assert_int_equal(cn_assoc_state(scp.a), STA13);
    /* further bytes are discarded */
    assert_int_equal(cn_assoc_receive(scp.a, pdata, sizeof pdata), 0);
    assert_int_equal(scp.aborts, 1);
    scp.queue_len = 0;
    pump(4096);
}

static void test_assoc_aborts_on_unexpected_pdu_in_each_established_state(void **state)
{
    (void)state;
    /* an A-ASSOCIATE-RJ after establishment, in Sta6 and Sta7 */
    const uint8_t rj[] = {3, 0, 0, 0, 0, 4, 0, 1, 1, 1};
    for (int round = 0; round < 2; round++) {
        teardown(state);
        setup(state);
        establish(4096);
        if (round == 1) {
            assert_int_equal(cn_assoc_release_request(scp.a), 0);
            assert_int_equal(cn_assoc_state(scp.a), STA7);
        }
        assert_int_equal(cn_assoc_receive(scp.a, rj, sizeof rj), 0);
        expect_abort_sent(&scp, CN_ABORT_UNEXPECTED_PDU);
        assert_int_equal(cn_assoc_state(scp.a), STA13);
        assert_int_equal(cn_assoc_last_error(scp.a), CN_UL_E_UNEXPECTED_PDU);
    }
}

static void test_assoc_aborts_pdata_on_unaccepted_context(void **state)
{
    (void)state;
    establish(4096);
    const uint8_t pdata[] = {4, 0, 0, 0, 0, 7, 0, 0, 0, 3, 5, 3, 0xaa};
    assert_int_equal(cn_assoc_receive(scp.a, pdata, sizeof pdata), 0);
    expect_abort_sent(&scp, CN_ABORT_INVALID_PDU_PARAMETER_VALUE);
    assert_int_equal(scp.pdvs, 0);
}

static void test_assoc_aborts_peer_stalled_mid_pdu(void **state)
{
    (void)state;
    establish(4096);
    const uint8_t part[] = {4, 0, 0, 0};
    assert_int_equal(cn_assoc_receive(scp.a, part, sizeof part), 0);
    assert_true(scp.timer_running);
    assert_int_equal(cn_assoc_timer_expired(scp.a), 0);
    expect_abort_sent(&scp, CN_ABORT_REASON_NOT_SPECIFIED);
    assert_int_equal(cn_assoc_state(scp.a), STA13);
    assert_true(scp.timer_running);
    assert_int_equal(cn_assoc_timer_expired(scp.a), 0);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
    assert_int_equal(scp.transport_closed, 1);
}

static void test_assoc_may_be_freed_from_closed_callback(void **state)
{
    (void)state;
    establish(4096);
    scu.free_on_closed = 1;
    scp.free_on_closed = 1;
    assert_int_equal(cn_assoc_release_request(scu.a), 0);
    pump(4096);
    assert_null(scu.a);
    assert_null(scp.a);
}

static void test_assoc_refuses_requests_in_wrong_state(void **state)
{
    (void)state;
    uint8_t b = 0;
    assert_int_equal(cn_assoc_send_pdata(scp.a, 1, 0, &b, 1), CN_UL_E_STATE);
    assert_int_equal(cn_assoc_release_request(scp.a), CN_UL_E_STATE);
    assert_int_equal(cn_assoc_release_response(scp.a), CN_UL_E_STATE);
    assert_int_equal(cn_assoc_abort(scp.a, 0), CN_UL_E_STATE);
    assert_int_equal(cn_assoc_transport_connected(scu.a), CN_UL_E_STATE);
    /* bytes before the transport is up are ignored */
    assert_int_equal(cn_assoc_receive(scp.a, &b, 1), 0);
    assert_int_equal(cn_assoc_state(scp.a), STA1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_assoc_establishes_and_negotiates_contexts),
        T(test_assoc_fragments_pdata_both_ways_at_small_max_pdu),
        T(test_assoc_refuses_pdata_on_unaccepted_context),
        T(test_assoc_releases_and_closes),
        T(test_assoc_release_collision_completes_on_both_sides),
        T(test_assoc_release_collision_with_late_responses),
        T(test_assoc_abort_reaches_peer),
        T(test_assoc_artim_expiry_closes_idle_connection),
        T(test_assoc_rejects_unknown_called_ae_title),
        T(test_assoc_aborts_on_garbage_before_association),
        T(test_assoc_aborts_on_4gb_length_at_once),
        T(test_assoc_aborts_on_pdata_before_association),
        T(test_assoc_aborts_on_invalid_pdu_during_data_transfer),
        T(test_assoc_aborts_on_unexpected_pdu_in_each_established_state),
        T(test_assoc_aborts_pdata_on_unaccepted_context),
        T(test_assoc_aborts_peer_stalled_mid_pdu),
        T(test_assoc_may_be_freed_from_closed_callback),
        T(test_assoc_refuses_requests_in_wrong_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
