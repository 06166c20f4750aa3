/* node/serve/access: every rule of the association policy, the address rules (IPv4,
 * IPv6, prefixes, IPv4-mapped peers) against a bit-by-bit reference, and the peer name
 * parsing. Pure: no loop, no database. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "serve/access.h"

#define OUR_AE "CALCNODE"
#define RANDOM_ROUNDS 20000

static struct cn_server_caller callers[3];

/* A node with MODALITY (anywhere), PACS (10.0.0.0/8 and fd00::/8 only) and ONEHOST
 * (192.168.1.7 only) allowed; 4 associations at most, 2 per AE, 100 bytes of disk. */
static void make_config(struct cn_server_config *config)
{
    memset(config, 0, sizeof *config);
    memset(callers, 0, sizeof callers);
    snprintf(callers[0].ae_title, sizeof callers[0].ae_title, "MODALITY");
    snprintf(callers[1].ae_title, sizeof callers[1].ae_title, "PACS");
    snprintf(callers[1].addresses[0], sizeof callers[1].addresses[0], "10.0.0.0/8");
    snprintf(callers[1].addresses[1], sizeof callers[1].addresses[1], "fd00::/8");
    callers[1].address_count = 2;
    snprintf(callers[2].ae_title, sizeof callers[2].ae_title, "ONEHOST");
    snprintf(callers[2].addresses[0], sizeof callers[2].addresses[0], "192.168.1.7");
    callers[2].address_count = 1;
    config->ae_title = OUR_AE;
    config->max_associations = 4;
    config->max_associations_per_ae = 2;
    config->min_free_disk = 100;
    config->allowed_callers = callers;
    config->allowed_caller_count = 3;
}

static struct cn_access_request request(const char *calling_ae, const char *address)
{
    struct cn_access_request rq = {
        .calling_ae = calling_ae,
        .called_ae = OUR_AE,
        .peer_address = address,
        .free_disk_known = 1,
        .free_disk = 1000,
    };
    return rq;
}

static void assert_accepted(const struct cn_server_config *config,
                            const struct cn_access_request *rq)
{
    struct cn_access_decision d;
    assert_int_equal(cn_access_check(config, rq, &d), 0);
    assert_string_equal(d.reason, "");
}

static void assert_refused(const struct cn_server_config *config,
                           const struct cn_access_request *rq, uint8_t result, uint8_t source,
                           uint8_t reason)
{
    struct cn_access_decision d;
    assert_int_equal(cn_access_check(config, rq, &d), 1);
    assert_int_equal(d.rj.result, result);
    assert_int_equal(d.rj.source, source);
    assert_int_equal(d.rj.reason, reason);
    assert_true(d.reason[0] != '\0');
}

static void assert_not_recognized(const struct cn_server_config *config,
                                  const struct cn_access_request *rq)
{
    assert_refused(config, rq, CN_RJ_PERMANENT, CN_RJ_SOURCE_USER,
                   CN_RJ_USER_CALLING_AE_NOT_RECOGNIZED);
}

static void assert_over_limit(const struct cn_server_config *config,
                              const struct cn_access_request *rq)
{
    assert_refused(config, rq, CN_RJ_TRANSIENT, CN_RJ_SOURCE_PROVIDER_PRESENTATION,
                   CN_RJ_PRESENTATION_LOCAL_LIMIT_EXCEEDED);
}

/* ---- AE titles ---- */

static void test_access_accepts_any_calling_ae_without_a_list(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    config.allowed_callers = NULL;
    config.allowed_caller_count = 0;
    struct cn_access_request rq = request("ANYONE", "203.0.113.9");
    assert_accepted(&config, &rq);
}

static void test_access_refuses_called_ae_title_not_ours_permanently(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("MODALITY", "10.1.2.3");
    rq.called_ae = "OTHER";
    assert_refused(&config, &rq, CN_RJ_PERMANENT, CN_RJ_SOURCE_USER,
                   CN_RJ_USER_CALLED_AE_NOT_RECOGNIZED);
    rq.called_ae = "calcnode"; /* AE titles are case sensitive */
    assert_refused(&config, &rq, CN_RJ_PERMANENT, CN_RJ_SOURCE_USER,
                   CN_RJ_USER_CALLED_AE_NOT_RECOGNIZED);
}

static void test_access_ignores_padding_spaces_of_ae_titles(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("MODALITY        ", "10.1.2.3");
    rq.called_ae = "CALCNODE        ";
    assert_accepted(&config, &rq);
    rq.calling_ae = "  MODALITY";
    assert_accepted(&config, &rq);
}

static void test_access_refuses_calling_ae_not_in_the_list_permanently(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("NOBODY", "10.1.2.3");
    assert_not_recognized(&config, &rq);
    rq.calling_ae = "modality";
    assert_not_recognized(&config, &rq);
    rq.calling_ae = "MODALITY";
    assert_accepted(&config, &rq);
}

static void test_access_accepts_a_listed_caller_without_addresses_from_anywhere(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    const char *addresses[] = {"127.0.0.1", "203.0.113.9", "::1", "2001:db8::5"};
    for (size_t i = 0; i < sizeof addresses / sizeof addresses[0]; i++) {
        struct cn_access_request rq = request("MODALITY", addresses[i]);
        assert_accepted(&config, &rq);
    }
}

/* ---- addresses ---- */

static void test_access_restricts_a_caller_to_its_addresses(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("PACS", "10.200.3.4");
    assert_accepted(&config, &rq);
    rq.peer_address = "11.0.0.1";
    assert_not_recognized(&config, &rq);
    rq.peer_address = "fd12:3456::1";
    assert_accepted(&config, &rq);
    rq.peer_address = "fe80::1";
    assert_not_recognized(&config, &rq);
    rq.peer_address = "";
    assert_not_recognized(&config, &rq);
    rq.peer_address = NULL;
    assert_not_recognized(&config, &rq);

    struct cn_access_request one = request("ONEHOST", "192.168.1.7");
    assert_accepted(&config, &one);
    one.peer_address = "192.168.1.8";
    assert_not_recognized(&config, &one);
    /* another caller's addresses are not this one's */
    one.peer_address = "10.0.0.1";
    assert_not_recognized(&config, &one);
}

static void test_access_matches_an_ipv4_mapped_peer_with_ipv4_rules(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("PACS", "::ffff:10.0.0.5");
    assert_accepted(&config, &rq);
    rq.peer_address = "::FFFF:0a00:0005";
    assert_accepted(&config, &rq);
    rq.peer_address = "::ffff:11.0.0.5";
    assert_not_recognized(&config, &rq);
    struct cn_access_request one = request("ONEHOST", "::ffff:192.168.1.7");
    assert_accepted(&config, &one);

    assert_int_equal(cn_access_address_in("127.0.0.0/8", "::ffff:127.0.0.1"), 1);
    /* ::1 is IPv6 loopback, not 127.0.0.1; an IPv4-compatible (not mapped) address is
     * not an IPv4 one either */
    assert_int_equal(cn_access_address_in("127.0.0.0/8", "::1"), 0);
    assert_int_equal(cn_access_address_in("10.0.0.5", "::10.0.0.5"), 0);
    /* and the converse: an IPv4 peer against IPv4-mapped IPv6 rules */
    assert_int_equal(cn_access_address_in("::ffff:10.0.0.0/104", "10.9.8.7"), 1);
    assert_int_equal(cn_access_address_in("::ffff:10.0.0.0/104", "11.9.8.7"), 0);
    assert_int_equal(cn_access_address_in("::ffff:0:0/96", "198.51.100.1"), 1);
    assert_int_equal(cn_access_address_in("::/0", "198.51.100.1"), 1);
    /* 0.0.0.0/0 is every IPv4 address and no IPv6 one */
    assert_int_equal(cn_access_address_in("0.0.0.0/0", "198.51.100.1"), 1);
    assert_int_equal(cn_access_address_in("0.0.0.0/0", "2001:db8::1"), 0);
}

static void test_access_address_prefixes_cut_inside_a_byte(void **state)
{
    (void)state;
    assert_int_equal(cn_access_address_in("10.0.0.0/9", "10.127.255.255"), 1);
    assert_int_equal(cn_access_address_in("10.0.0.0/9", "10.128.0.0"), 0);
    assert_int_equal(cn_access_address_in("10.0.0.5/32", "10.0.0.5"), 1);
    assert_int_equal(cn_access_address_in("10.0.0.5/32", "10.0.0.4"), 0);
    assert_int_equal(cn_access_address_in("10.0.0.5/31", "10.0.0.4"), 1);
    assert_int_equal(cn_access_address_in("10.0.0.5", "10.0.0.4"), 0);
    assert_int_equal(cn_access_address_in("2001:db8::/33", "2001:db8:7fff::1"), 1);
    assert_int_equal(cn_access_address_in("2001:db8::/33", "2001:db8:8000::1"), 0);
    assert_int_equal(cn_access_address_in("::1", "::1"), 1);
    assert_int_equal(cn_access_address_in("::1/128", "::2"), 0);
    assert_int_equal(cn_access_address_in("::/0", "fe80::1"), 1);
}

static void test_access_ignores_the_zone_of_a_peer_address(void **state)
{
    (void)state;
    assert_int_equal(cn_access_address_in("fe80::/10", "fe80::1%eth0"), 1);
    /* a rule names no interface */
    assert_int_equal(cn_access_address_in("fe80::1%eth0", "fe80::1"), -1);
}

static void test_access_address_rules_reject_malformed_text(void **state)
{
    (void)state;
    const char *bad_rules[] = {
        "10.0.0.0/33", "::/129",      "10.0.0.0/",    "10.0.0/8",
        "x",           "10.0.0.0/8a", "/8",           "",
        "10.0.0.0/-1", "10.0.0.0/ 8", "10.0.0.0/8/8", "10.0.0.0/0000000000000000009",
        "[::1]",       "10.0.0.1:104"};
    for (size_t i = 0; i < sizeof bad_rules / sizeof bad_rules[0]; i++) {
        if (cn_access_address_in(bad_rules[i], "10.0.0.1") != -1)
            fail_msg("rule \"%s\" accepted", bad_rules[i]);
    }
    assert_int_equal(cn_access_address_in(NULL, "10.0.0.1"), -1);
    assert_int_equal(cn_access_address_in("10.0.0.0/8", "10.0.0"), -2);
    assert_int_equal(cn_access_address_in("10.0.0.0/8", "10.0.0.1:104"), -2);
    assert_int_equal(cn_access_address_in("10.0.0.0/8", ""), -2);
    assert_int_equal(cn_access_address_in("10.0.0.0/8", NULL), -2);
    /* a list entry that does not parse matches nothing (conf refuses it beforehand) */
    struct cn_server_config config;
    make_config(&config);
    snprintf(callers[2].addresses[0], sizeof callers[2].addresses[0], "192.168.1.7/40");
    struct cn_access_request rq = request("ONEHOST", "192.168.1.7");
    assert_not_recognized(&config, &rq);
}

/* The reference: the first prefix_bits bits of two 16-byte addresses, one at a time. */
static int reference_in(const uint8_t *rule, unsigned prefix_bits, const uint8_t *address)
{
    for (unsigned bit = 0; bit < prefix_bits; bit++) {
        unsigned byte = bit / 8u, shift = 7u - bit % 8u;
        if (((rule[byte] >> shift) & 1u) != ((address[byte] >> shift) & 1u))
            return 0;
    }
    return 1;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

static void test_access_address_in_agrees_with_a_bitwise_reference(void **state)
{
    (void)state;
    for (int round = 0; round < RANDOM_ROUNDS; round++) {
        uint8_t rule[16], address[16];
        for (int i = 0; i < 16; i++)
            rule[i] = (uint8_t)next_random();
        memcpy(address, rule, sizeof address);
        /* flip one bit at a random place so prefixes around it are exercised */
        unsigned flip = next_random() % 128u;
        address[flip / 8u] ^= (uint8_t)(1u << (7u - flip % 8u));
        unsigned prefix_bits = next_random() % 129u;
        int ipv4 = round % 2;
        char rule_text[80], address_text[INET6_ADDRSTRLEN];
        if (ipv4) {
            /* IPv4: bytes 12..15, prefix 0..32 */
            prefix_bits %= 33u;
            memcpy(rule, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
            memcpy(address, rule, 12);
            char text[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, rule + 12, text, sizeof text);
            snprintf(rule_text, sizeof rule_text, "%s/%u", text, prefix_bits);
            inet_ntop(AF_INET, address + 12, address_text, sizeof address_text);
        } else {
            char text[INET6_ADDRSTRLEN];
            inet_ntop(AF_INET6, rule, text, sizeof text);
            snprintf(rule_text, sizeof rule_text, "%s/%u", text, prefix_bits);
            inet_ntop(AF_INET6, address, address_text, sizeof address_text);
        }
        unsigned bits = ipv4 ? prefix_bits + 96u : prefix_bits;
        int expected = reference_in(rule, bits, address);
        int got = cn_access_address_in(rule_text, address_text);
        if (got != expected)
            fail_msg("%s in %s: %d, reference %d", address_text, rule_text, got, expected);
    }
}

static void test_access_peer_address_drops_the_port(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(cn_access_peer_address("10.0.0.5:4242", out, sizeof out), 0);
    assert_string_equal(out, "10.0.0.5");
    assert_int_equal(cn_access_peer_address("::1:4242", out, sizeof out), 0);
    assert_string_equal(out, "::1");
    assert_int_equal(cn_access_peer_address("::ffff:10.0.0.5:104", out, sizeof out), 0);
    assert_string_equal(out, "::ffff:10.0.0.5");
    assert_int_equal(cn_access_address_in("10.0.0.0/8", out), 1);
    assert_int_equal(cn_access_peer_address("noport", out, sizeof out), -1);
    assert_int_equal(cn_access_peer_address(NULL, out, sizeof out), -1);
    char small[8];
    assert_int_equal(cn_access_peer_address("10.0.0.5:4242", small, sizeof small), -1);
    assert_int_equal(cn_access_peer_address("1.2.3.4:1", small, sizeof small), 0);
    assert_string_equal(small, "1.2.3.4");
}

/* ---- limits ---- */

static void test_access_refuses_transiently_while_shutting_down(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("MODALITY", "10.1.2.3");
    rq.stopping = 1;
    assert_over_limit(&config, &rq);
}

static void test_access_global_limit_is_exact(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    config.max_associations_per_ae = 0; /* only the global limit */
    struct cn_access_request rq = request("MODALITY", "10.1.2.3");
    for (uint32_t open = 0; open < config.max_associations; open++) {
        rq.open_count = open;
        rq.open_for_calling_ae = open;
        assert_accepted(&config, &rq);
    }
    rq.open_count = config.max_associations;
    rq.open_for_calling_ae = 0;
    assert_over_limit(&config, &rq);
    rq.open_count = config.max_associations + 1;
    assert_over_limit(&config, &rq);
}

static void test_access_per_calling_ae_limit_is_exact(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("MODALITY", "10.1.2.3");
    rq.open_count = 2;
    rq.open_for_calling_ae = 1;
    assert_accepted(&config, &rq);
    rq.open_for_calling_ae = 2;
    assert_over_limit(&config, &rq);
    /* the same server load, another AE title with none open */
    rq.calling_ae = "PACS";
    rq.open_for_calling_ae = 0;
    assert_accepted(&config, &rq);
    /* 0: no per-AE limit */
    config.max_associations_per_ae = 0;
    rq.calling_ae = "MODALITY";
    rq.open_for_calling_ae = 3;
    rq.open_count = 3;
    assert_accepted(&config, &rq);
}

static void test_access_refuses_transiently_below_min_free_disk(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("MODALITY", "10.1.2.3");
    rq.free_disk = 99;
    assert_over_limit(&config, &rq);
    rq.free_disk = 100;
    assert_accepted(&config, &rq);
    /* no sample yet: the rule waits for one rather than refusing everybody */
    rq.free_disk = 0;
    rq.free_disk_known = 0;
    assert_accepted(&config, &rq);
    /* min_free_disk 0: no check */
    rq.free_disk_known = 1;
    config.min_free_disk = 0;
    assert_accepted(&config, &rq);
}

static void test_access_permanent_refusals_come_before_transient_ones(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("NOBODY", "10.1.2.3");
    rq.stopping = 1;
    rq.open_count = 100;
    rq.open_for_calling_ae = 100;
    rq.free_disk = 0;
    assert_not_recognized(&config, &rq);
    rq.calling_ae = "PACS";
    rq.peer_address = "11.0.0.1";
    assert_not_recognized(&config, &rq);
    rq.called_ae = "ELSEWHERE";
    assert_refused(&config, &rq, CN_RJ_PERMANENT, CN_RJ_SOURCE_USER,
                   CN_RJ_USER_CALLED_AE_NOT_RECOGNIZED);
}

static void test_access_reason_names_the_limit_reached(void **state)
{
    (void)state;
    struct cn_server_config config;
    make_config(&config);
    struct cn_access_request rq = request("MODALITY", "10.1.2.3");
    struct cn_access_decision d;
    rq.open_for_calling_ae = 2;
    rq.open_count = 2;
    assert_int_equal(cn_access_check(&config, &rq, &d), 1);
    assert_non_null(strstr(d.reason, "max_associations_per_ae 2"));
    rq.open_count = 4;
    assert_int_equal(cn_access_check(&config, &rq, &d), 1);
    assert_non_null(strstr(d.reason, "max_associations 4"));
    rq = request("PACS", "11.0.0.1");
    assert_int_equal(cn_access_check(&config, &rq, &d), 1);
    assert_non_null(strstr(d.reason, "11.0.0.1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_accepts_any_calling_ae_without_a_list),
        cmocka_unit_test(test_access_refuses_called_ae_title_not_ours_permanently),
        cmocka_unit_test(test_access_ignores_padding_spaces_of_ae_titles),
        cmocka_unit_test(test_access_refuses_calling_ae_not_in_the_list_permanently),
        cmocka_unit_test(test_access_accepts_a_listed_caller_without_addresses_from_anywhere),
        cmocka_unit_test(test_access_restricts_a_caller_to_its_addresses),
        cmocka_unit_test(test_access_matches_an_ipv4_mapped_peer_with_ipv4_rules),
        cmocka_unit_test(test_access_address_prefixes_cut_inside_a_byte),
        cmocka_unit_test(test_access_ignores_the_zone_of_a_peer_address),
        cmocka_unit_test(test_access_address_rules_reject_malformed_text),
        cmocka_unit_test(test_access_address_in_agrees_with_a_bitwise_reference),
        cmocka_unit_test(test_access_peer_address_drops_the_port),
        cmocka_unit_test(test_access_refuses_transiently_while_shutting_down),
        cmocka_unit_test(test_access_global_limit_is_exact),
        cmocka_unit_test(test_access_per_calling_ae_limit_is_exact),
        cmocka_unit_test(test_access_refuses_transiently_below_min_free_disk),
        cmocka_unit_test(test_access_permanent_refusals_come_before_transient_ones),
        cmocka_unit_test(test_access_reason_names_the_limit_reached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
