/* node/audit/message and event: the RFC 5424 framing, the PS3.15 A.5 codes of each
 * event kind, XML escaping and the caps. The XML is parsed by a real parser in
 * tests/integration/audit_trail.sh (Python's xml.etree); here its content is checked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/event.h"
#include "audit/forward.h"
#include "audit/message.h"

#define BOM "\xEF\xBB\xBF"
#define AT "2026-03-01T10:20:30.123456Z"

static const struct cn_audit_source source = {"CALCNODE", "node1.example.org", 4242};

static char *build(const char *action, const char *actor, const char *object, const char *outcome,
                   const char *detail, size_t *len)
{
    struct cn_audit_record rec = {17, AT, actor, action, object, outcome, detail};
    char *msg = NULL, err[256] = "";
    size_t n = 0;
    int rc = cn_audit_syslog_message(&rec, &source, &msg, &n, err, sizeof err);
    if (rc != 0)
        fail_msg("cn_audit_syslog_message: %s", err);
    if (len != NULL)
        *len = n;
    return msg;
}

static const char *xml_of(const char *msg)
{
    const char *bom = strstr(msg, BOM);
    assert_non_null(bom);
    return bom + strlen(BOM);
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("\"%s\" not found in:\n%s", part, text);
}

static void assert_lacks(const char *text, const char *part)
{
    if (strstr(text, part) != NULL)
        fail_msg("\"%s\" unexpectedly found in:\n%s", part, text);
}

static void test_syslog_header_is_rfc5424_with_authpriv_notice_for_success(void **state)
{
    (void)state;
    size_t len;
    char *msg = build("instance stored", "MODALITY", "1.2.3.4", "success", NULL, &len);
    const char *expected =
        "<85>1 " AT " node1.example.org calcnode 4242 DICOM+RFC3881 - " BOM "<?xml";
    assert_memory_equal(msg, expected, strlen(expected));
    assert_int_equal(len, strlen(msg));
    assert_true(len < CN_AUDIT_MESSAGE_MAX_LEN);
    free(msg);
}

static void test_syslog_severity_is_warning_for_failures(void **state)
{
    (void)state;
    static const char *const failures[] = {"minor failure", "serious failure", "major failure"};
    for (size_t i = 0; i < 3; i++) {
        char *msg = build("result dead", "PACS", "1.2.3", failures[i], NULL, NULL);
        assert_memory_equal(msg, "<84>1 ", 6); /* 10 * 8 + 4 */
        free(msg);
    }
}

static void test_outcome_indicator_follows_ps3_15(void **state)
{
    (void)state;
    assert_int_equal(cn_audit_outcome_indicator("success"), 0);
    assert_int_equal(cn_audit_outcome_indicator("minor failure"), 4);
    assert_int_equal(cn_audit_outcome_indicator("serious failure"), 8);
    assert_int_equal(cn_audit_outcome_indicator("major failure"), 12);
    assert_int_equal(cn_audit_outcome_indicator("done"), 0);
    assert_int_equal(cn_audit_outcome_indicator("refused"), 4);
    assert_int_equal(cn_audit_outcome_indicator("whatever"), 8);
    assert_int_equal(cn_audit_outcome_indicator(NULL), 8);
}

static void test_malformed_timestamp_becomes_nilvalue(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "2026-03-01 10:20:30Z", "2026-03-01T10:20:30",
                                      "2026-03-01T10:20:30.1234567Z", "2026-03-01T10:20:30.Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cn_audit_record rec = {1, bad[i], "A", "application start", NULL, "success", NULL};
        char *msg, err[128];
        size_t len;
        assert_int_equal(cn_audit_syslog_message(&rec, &source, &msg, &len, err, sizeof err), 0);
        assert_memory_equal(msg, "<85>1 - node1", 13);
        free(msg);
    }
    struct cn_audit_record whole = {
        1, "2026-03-01T10:20:30Z", "A", "application start", NULL, "success", NULL};
    char *msg, err[128];
    size_t len;
    assert_int_equal(cn_audit_syslog_message(&whole, &source, &msg, &len, err, sizeof err), 0);
    assert_memory_equal(msg, "<85>1 2026-03-01T10:20:30Z node1", 32);
    free(msg);
}

static void test_header_fields_keep_only_printable_ascii(void **state)
{
    (void)state;
    struct cn_audit_source odd = {"CALCNODE", "bad host\tname", 1};
    struct cn_audit_source none = {"CALCNODE", "", 1};
    struct cn_audit_record rec = {1, AT, "A", "application start", NULL, "success", NULL};
    char *msg, err[128];
    size_t len;
    assert_int_equal(cn_audit_syslog_message(&rec, &odd, &msg, &len, err, sizeof err), 0);
    assert_contains(msg, " bad-host-name calcnode 1 DICOM+RFC3881 - ");
    free(msg);
    assert_int_equal(cn_audit_syslog_message(&rec, &none, &msg, &len, err, sizeof err), 0);
    assert_contains(msg, AT " - calcnode 1 ");
    free(msg);
}

static void test_instance_stored_is_instances_transferred_create(void **state)
{
    (void)state;
    char *msg = build("instance stored", "MODALITY", "1.2.3.4.5", "success",
                      "{\"sop_class_uid\": \"1.2.840.10008.5.1.4.1.1.1.2\", "
                      "\"study_instance_uid\": \"1.2.3\", \"patient_id\": \"P1\", "
                      "\"address\": \"10.1.2.3:5104\", \"size_bytes\": 1000}",
                      NULL);
    const char *xml = xml_of(msg);
    assert_contains(xml, "<EventIdentification EventActionCode=\"C\" EventDateTime=\"" AT
                         "\" EventOutcomeIndicator=\"0\">");
    assert_contains(xml, "<EventID csd-code=\"110104\" codeSystemName=\"DCM\" "
                         "originalText=\"DICOM Instances Transferred\"/>");
    assert_contains(xml, "<ActiveParticipant UserID=\"MODALITY\" "
                         "AlternativeUserID=\"AETITLES=MODALITY\" UserIsRequestor=\"true\" "
                         "NetworkAccessPointID=\"10.1.2.3\" NetworkAccessPointTypeCode=\"2\">"
                         "<RoleIDCode csd-code=\"110153\"");
    assert_contains(xml, "<ActiveParticipant UserID=\"CALCNODE\" "
                         "AlternativeUserID=\"AETITLES=CALCNODE\" UserIsRequestor=\"false\" "
                         "NetworkAccessPointID=\"node1.example.org\" "
                         "NetworkAccessPointTypeCode=\"1\"><RoleIDCode csd-code=\"110152\"");
    assert_contains(xml, "<AuditSourceIdentification AuditSourceID=\"CALCNODE\">");
    assert_contains(xml, "<ParticipantObjectIdentification ParticipantObjectID=\"1.2.3\" "
                         "ParticipantObjectTypeCode=\"2\" ParticipantObjectTypeCodeRole=\"3\">"
                         "<ParticipantObjectIDTypeCode csd-code=\"110180\"");
    assert_contains(xml, "<SOPClass UID=\"1.2.840.10008.5.1.4.1.1.1.2\" NumberOfInstances=\"1\">"
                         "<Instance UID=\"1.2.3.4.5\"/></SOPClass>");
    assert_contains(xml, "<ParticipantObjectIdentification ParticipantObjectID=\"P1\" "
                         "ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\">");
    assert_lacks(xml, "EventTypeCode");
    free(msg);
}

static void test_result_sent_has_us_as_source_and_the_pacs_as_destination(void **state)
{
    (void)state;
    char *msg = build("result dead", "PACS", "1.9", "serious failure",
                      "{\"sop_class_uid\": \"1.2.840.10008.5.1.4.1.1.66.4\", "
                      "\"study_instance_uid\": \"1.2.3\", \"status\": 42752, "
                      "\"error\": \"no route\"}",
                      NULL);
    const char *xml = xml_of(msg);
    assert_contains(xml, "EventActionCode=\"R\"");
    assert_contains(xml, "EventOutcomeIndicator=\"8\"");
    assert_contains(xml, "<EventOutcomeDescription>no route</EventOutcomeDescription>");
    assert_contains(xml, "<ActiveParticipant UserID=\"PACS\" AlternativeUserID=\"AETITLES=PACS\" "
                         "UserIsRequestor=\"false\"><RoleIDCode csd-code=\"110152\"");
    assert_contains(xml, "UserID=\"CALCNODE\" AlternativeUserID=\"AETITLES=CALCNODE\" "
                         "UserIsRequestor=\"true\"");
    assert_contains(xml, "csd-code=\"110153\"");
    free(msg);
}

static void test_refused_association_is_security_alert_node_authentication(void **state)
{
    (void)state;
    char *msg = build("association refused", "INTRUDER", "10.0.0.9:4000", "minor failure",
                      "{\"called_ae\": \"WRONG\", \"address\": \"10.0.0.9:4000\", "
                      "\"reason\": \"called AE title not recognised\"}",
                      NULL);
    const char *xml = xml_of(msg);
    assert_contains(xml, "<EventID csd-code=\"110113\" codeSystemName=\"DCM\" "
                         "originalText=\"Security Alert\"/>");
    assert_contains(xml, "<EventTypeCode csd-code=\"110126\" codeSystemName=\"DCM\" "
                         "originalText=\"Node Authentication\"/>");
    assert_contains(xml, "EventOutcomeIndicator=\"4\"");
    assert_contains(xml, "<EventOutcomeDescription>called AE title not recognised"
                         "</EventOutcomeDescription>");
    assert_contains(xml, "UserID=\"INTRUDER\"");
    assert_contains(xml, "NetworkAccessPointID=\"10.0.0.9\"");
    free(msg);
}

static void test_association_events_are_user_authentication_login_and_logout(void **state)
{
    (void)state;
    char *msg =
        build("association accepted", "MOD", "5", "success", "{\"address\": \"[::1]:5000\"}", NULL);
    assert_contains(msg, "csd-code=\"110114\"");
    assert_contains(msg, "<EventTypeCode csd-code=\"110122\"");
    assert_contains(msg, "NetworkAccessPointID=\"::1\"");
    free(msg);
    msg = build("association aborted", "MOD", "5", "minor failure",
                "{\"address\": \"::1:5000\", \"instances_stored\": 3}", NULL);
    assert_contains(msg, "<EventTypeCode csd-code=\"110123\"");
    assert_contains(msg, "EventOutcomeIndicator=\"4\"");
    assert_contains(msg, "<EventOutcomeDescription>3 instances stored</EventOutcomeDescription>");
    assert_contains(msg, "NetworkAccessPointID=\"::1\"");
    free(msg);
}

static void test_application_start_and_stop_are_application_activity(void **state)
{
    (void)state;
    char *msg =
        build("application start", "CALCNODE", NULL, "success", "{\"user\": \"pacsadmin\"}", NULL);
    assert_contains(msg, "<EventID csd-code=\"110100\"");
    assert_contains(msg, "<EventTypeCode csd-code=\"110120\"");
    assert_contains(msg, "<ActiveParticipant UserID=\"pacsadmin\" UserIsRequestor=\"true\">"
                         "<RoleIDCode csd-code=\"110151\"");
    assert_contains(msg, "<RoleIDCode csd-code=\"110150\"");
    assert_lacks(msg, "ParticipantObjectIdentification");
    free(msg);
    msg = build("application stop", "CALCNODE", NULL, "success", NULL, NULL);
    assert_contains(msg, "<EventTypeCode csd-code=\"110121\"");
    assert_contains(msg, "UserID=\"unknown\"");
    free(msg);
}

static void test_operator_actions_are_security_alerts_naming_their_object(void **state)
{
    (void)state;
    char *msg = build("cancel outbound", "alice", "outbound 12", "success", NULL, NULL);
    assert_contains(msg, "<EventID csd-code=\"110113\"");
    assert_contains(msg, "<EventTypeCode csd-code=\"110132\"");
    assert_contains(msg, "<ActiveParticipant UserID=\"alice\" UserIsRequestor=\"true\"/>");
    assert_contains(msg, "<ParticipantObjectIdentification ParticipantObjectID=\"outbound 12\" "
                         "ParticipantObjectTypeCode=\"2\" ParticipantObjectTypeCodeRole=\"20\">");
    free(msg);
    msg = build("requeue study", "alice", "1.2.3", "minor failure",
                "{\"study_instance_uid\": \"1.2.3\"}", NULL);
    assert_contains(msg, "ParticipantObjectID=\"1.2.3\"");
    assert_contains(msg, "csd-code=\"110180\"");
    free(msg);
    msg = build("migrate database", "root", "schema version 4", "success", NULL, NULL);
    assert_contains(msg, "<EventTypeCode csd-code=\"110131\"");
    assert_contains(msg, "ParticipantObjectTypeCodeRole=\"4\"");
    free(msg);
}

static void test_unknown_action_is_reported_with_its_name(void **state)
{
    (void)state;
    const struct cn_audit_event *ev = cn_audit_event_of("frobnicate");
    assert_null(ev->action);
    assert_string_equal(ev->event_id->code, "110113");
    char *msg = build("frobnicate", "bob", NULL, "success", NULL, NULL);
    assert_contains(msg, "<EventOutcomeDescription>frobnicate</EventOutcomeDescription>");
    free(msg);
}

static void test_values_are_xml_escaped(void **state)
{
    (void)state;
    char *msg = build("cancel job", "a<b>&\"c'", "job \x01 7\ttab\nline", "success",
                      "{\"reason\": \"x]]>y\"}", NULL);
    const char *xml = xml_of(msg);
    assert_contains(xml, "UserID=\"a&lt;b&gt;&amp;&quot;c&apos;\"");
    assert_contains(xml, "ParticipantObjectID=\"job ? 7&#9;tab&#10;line\"");
    assert_contains(xml, "<EventOutcomeDescription>x]]&gt;y</EventOutcomeDescription>");
    assert_lacks(xml, "\x01");
    free(msg);
}

static void test_malformed_detail_is_an_error(void **state)
{
    (void)state;
    struct cn_audit_record rec = {9, AT, "A", "instance stored", "1", "success", "{not json"};
    char *msg = NULL, err[256] = "";
    size_t len;
    assert_int_equal(cn_audit_syslog_message(&rec, &source, &msg, &len, err, sizeof err), -1);
    assert_null(msg);
    assert_non_null(strstr(err, "audit row 9"));
    rec.detail_json = "[1, 2]";
    assert_int_equal(cn_audit_message_xml(&rec, &source, &msg, &len, err, sizeof err), -1);
}

static void test_message_over_the_cap_is_an_error(void **state)
{
    (void)state;
    size_t big = CN_AUDIT_MESSAGE_MAX_LEN;
    char *object = malloc(big + 1);
    assert_non_null(object);
    memset(object, 'x', big);
    object[big] = '\0';
    struct cn_audit_record rec = {3, AT, "A", "cancel job", object, "success", NULL};
    char *msg = NULL, err[256] = "";
    size_t len;
    assert_int_equal(cn_audit_syslog_message(&rec, &source, &msg, &len, err, sizeof err), -1);
    assert_null(msg);
    assert_non_null(strstr(err, "longer than"));
    /* escaping multiplies: 13000 '&' become 65000 bytes of "&amp;" */
    memset(object, '&', big / 5);
    object[big / 5] = '\0';
    assert_int_equal(cn_audit_syslog_message(&rec, &source, &msg, &len, err, sizeof err), -1);
    free(object);
}

static void test_octet_count_prefix_is_length_and_space(void **state)
{
    (void)state;
    char prefix[24];
    assert_int_equal(cn_audit_octet_count_prefix(1234, prefix, sizeof prefix), 5);
    assert_string_equal(prefix, "1234 ");
    assert_int_equal(cn_audit_octet_count_prefix(0, prefix, sizeof prefix), 2);
    assert_string_equal(prefix, "0 ");
    assert_int_equal(cn_audit_octet_count_prefix(123456, prefix, 4), -1);
}

static void test_target_parse_accepts_udp_tcp_and_bracketed_ipv6(void **state)
{
    (void)state;
    enum cn_audit_transport t;
    char host[CN_AUDIT_HOST_SIZE];
    uint16_t port;
    assert_int_equal(cn_audit_target_parse("udp:127.0.0.1:514", &t, host, sizeof host, &port), 0);
    assert_int_equal(t, CN_AUDIT_UDP);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 514);
    assert_int_equal(
        cn_audit_target_parse("tcp:arr.example.org:6514", &t, host, sizeof host, &port), 0);
    assert_int_equal(t, CN_AUDIT_TCP);
    assert_string_equal(host, "arr.example.org");
    assert_int_equal(port, 6514);
    assert_int_equal(cn_audit_target_parse("tls:arr.example.org:6514", &t, host, sizeof host,
                                           &port), 0);
    assert_int_equal(t, CN_AUDIT_TLS);
    assert_int_equal(cn_audit_target_parse("udp:[::1]:514", &t, host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    static const char *const bad[] = {
        NULL,           "",           "udp:",           "udp:host",     "udp::514",
        "ftp:host:514", "udp:host:0", "udp:host:65536", "udp:host:51x", "udp:host:+514",
        "udp:::1:514",  "udp:[]:514", "udp:host:",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cn_audit_target_parse(bad[i], &t, host, sizeof host, &port) != -1)
            fail_msg("accepted \"%s\"", bad[i] ? bad[i] : "(null)");
    assert_int_equal(cn_audit_target_parse("udp:abcdef:1", &t, host, 4, &port), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syslog_header_is_rfc5424_with_authpriv_notice_for_success),
        cmocka_unit_test(test_syslog_severity_is_warning_for_failures),
        cmocka_unit_test(test_outcome_indicator_follows_ps3_15),
        cmocka_unit_test(test_malformed_timestamp_becomes_nilvalue),
        cmocka_unit_test(test_header_fields_keep_only_printable_ascii),
        cmocka_unit_test(test_instance_stored_is_instances_transferred_create),
        cmocka_unit_test(test_result_sent_has_us_as_source_and_the_pacs_as_destination),
        cmocka_unit_test(test_refused_association_is_security_alert_node_authentication),
        cmocka_unit_test(test_association_events_are_user_authentication_login_and_logout),
        cmocka_unit_test(test_application_start_and_stop_are_application_activity),
        cmocka_unit_test(test_operator_actions_are_security_alerts_naming_their_object),
        cmocka_unit_test(test_unknown_action_is_reported_with_its_name),
        cmocka_unit_test(test_values_are_xml_escaped),
        cmocka_unit_test(test_malformed_detail_is_an_error),
        cmocka_unit_test(test_message_over_the_cap_is_an_error),
        cmocka_unit_test(test_octet_count_prefix_is_length_and_space),
        cmocka_unit_test(test_target_parse_accepts_udp_tcp_and_bracketed_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
