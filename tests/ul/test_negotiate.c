/* Presentation context negotiation and the accepted syntax tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ul/negotiate.h"
#include "ul/sop.h"

#define DCMTK_UID_HEADER "/usr/include/dcmtk/dcmdata/dcuid.h"

static struct cn_assoc_config config;
static struct cn_assoc_rq *rq;
static struct cn_assoc_ac *ac;

static int setup(void **state)
{
    (void)state;
    cn_assoc_config_init(&config);
    rq = cn_assoc_rq_new();
    ac = cn_assoc_ac_new();
    return rq == NULL || ac == NULL;
}

static int teardown(void **state)
{
    (void)state;
    free(rq);
    free(ac);
    return 0;
}

static void build(const struct cn_proposal *props, size_t count, const char *called)
{
    assert_int_equal(cn_negotiate_build_rq(&config, called, props, count, rq), 0);
}

static void test_negotiate_accepts_first_supported_transfer_syntax_in_peer_order(void **state)
{
    (void)state;
    const char *const ts[] = {"1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.70",
                              CN_UID_EXPLICIT_VR_LE};
    const char *const bad_ts[] = {"1.2.840.10008.1.2.4.100"};
    struct cn_proposal props[] = {
        {"1.2.840.10008.5.1.4.1.1.1.2", ts, 3},
        {"1.2.840.10008.5.1.4.1.1.2", ts, 3}, /* CT: not ours */
        {CN_UID_SEGMENTATION_STORAGE, bad_ts, 1},
    };
    build(props, 3, "CALCNODE");
    struct cn_assoc_rj rj;
    assert_int_equal(cn_negotiate(&config, rq, ac, &rj), 0);
    assert_int_equal(ac->pc_count, 3);
    assert_int_equal(ac->pcs[0].id, 1);
    assert_int_equal(ac->pcs[0].result, CN_PC_ACCEPTANCE);
    assert_string_equal(ac->pcs[0].transfer_syntax, "1.2.840.10008.1.2.4.70");
    assert_int_equal(ac->pcs[1].id, 3);
    assert_int_equal(ac->pcs[1].result, CN_PC_ABSTRACT_SYNTAX_NOT_SUPPORTED);
    assert_int_equal(ac->pcs[2].result, CN_PC_TRANSFER_SYNTAXES_NOT_SUPPORTED);
    assert_int_equal(ac->user.max_length_received, CN_ASSOC_DEFAULT_MAX_PDU_LEN);
    assert_non_null(cn_negotiate_find_accepted(ac, 1));
    assert_null(cn_negotiate_find_accepted(ac, 3));
}

static void test_negotiate_rejects_unknown_called_ae_title(void **state)
{
    (void)state;
    const char *const ts[] = {CN_UID_IMPLICIT_VR_LE};
    struct cn_proposal props[] = {{CN_UID_VERIFICATION, ts, 1}};
    build(props, 1, "OTHER");
    struct cn_assoc_rj rj;
    assert_int_equal(cn_negotiate(&config, rq, ac, &rj), 1);
    assert_int_equal(rj.result, 1);
    assert_int_equal(rj.source, 1);
    assert_int_equal(rj.reason, 7);
}

static void test_negotiate_rejects_other_application_context(void **state)
{
    (void)state;
    const char *const ts[] = {CN_UID_IMPLICIT_VR_LE};
    struct cn_proposal props[] = {{CN_UID_VERIFICATION, ts, 1}};
    build(props, 1, "CALCNODE");
    snprintf(rq->application_context, sizeof rq->application_context, "1.2.3");
    struct cn_assoc_rj rj;
    assert_int_equal(cn_negotiate(&config, rq, ac, &rj), 1);
    assert_int_equal(rj.result, 1);
    assert_int_equal(rj.source, 1);
    assert_int_equal(rj.reason, 2);
}

static void test_negotiate_answers_role_selection_for_accepted_classes(void **state)
{
    (void)state;
    const char *const ts[] = {CN_UID_IMPLICIT_VR_LE};
    struct cn_proposal props[] = {{"1.2.840.10008.5.1.4.1.1.1.2", ts, 1}};
    build(props, 1, "CALCNODE");
    rq->user.role_count = 2;
    snprintf(rq->user.roles[0].sop_class, sizeof(cn_uid), "1.2.840.10008.5.1.4.1.1.1.2");
    rq->user.roles[0].scu_role = 1;
    rq->user.roles[0].scp_role = 1;
    snprintf(rq->user.roles[1].sop_class, sizeof(cn_uid), "1.2.840.10008.5.1.4.1.1.2");
    rq->user.roles[1].scu_role = 1;
    struct cn_assoc_rj rj;
    assert_int_equal(cn_negotiate(&config, rq, ac, &rj), 0);
    assert_int_equal(ac->user.role_count, 1);
    assert_string_equal(ac->user.roles[0].sop_class, "1.2.840.10008.5.1.4.1.1.1.2");
    assert_int_equal(ac->user.roles[0].scu_role, 1);
    assert_int_equal(ac->user.roles[0].scp_role, 0);
}

static void test_negotiate_build_rq_numbers_contexts_odd(void **state)
{
    (void)state;
    const char *const ts[] = {CN_UID_IMPLICIT_VR_LE};
    struct cn_proposal props[3] = {{CN_UID_VERIFICATION, ts, 1},
                                   {CN_UID_COMPREHENSIVE_SR_STORAGE, ts, 1},
                                   {CN_UID_SEGMENTATION_STORAGE, ts, 1}};
    build(props, 3, "PACS");
    assert_int_equal(rq->pcs[0].id, 1);
    assert_int_equal(rq->pcs[1].id, 3);
    assert_int_equal(rq->pcs[2].id, 5);
    assert_string_equal(rq->called_ae, "PACS            ");
    assert_int_equal(cn_negotiate_build_rq(&config, "PACS", props, 0, rq), CN_UL_E_ARGUMENT);
    struct cn_proposal none = {CN_UID_VERIFICATION, ts, 0};
    assert_int_equal(cn_negotiate_build_rq(&config, "PACS", &none, 1, rq), CN_UL_E_ARGUMENT);
}

/* Storage classes standardised after DCMTK 3.6.7's list was made (PS3.4 B.5, 2022):
 * checked here against the standard's text instead. */
static const char *const newer_than_dcmtk[] = {
    "1.2.840.10008.5.1.4.1.1.66.7", /* Label Map Segmentation Storage (Sup 243) */
};

static int is_newer_than_dcmtk(const char *uid)
{
    for (size_t i = 0; i < sizeof newer_than_dcmtk / sizeof newer_than_dcmtk[0]; i++)
        if (strcmp(uid, newer_than_dcmtk[i]) == 0)
            return 1;
    return 0;
}

/* Every UID in our tables is spelled as in DCMTK's independent list. */
static void test_sop_tables_match_dcmtk_uid_list(void **state)
{
    (void)state;
    FILE *f = fopen(DCMTK_UID_HEADER, "r");
    if (f == NULL) {
        print_message("skipped: %s not installed\n", DCMTK_UID_HEADER);
        skip();
    }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t count;
    const struct cn_named_uid *tables[2];
    size_t counts[2];
    tables[0] = cn_sop_abstract_syntaxes(&counts[0]);
    tables[1] = cn_sop_transfer_syntaxes(&counts[1]);
    for (int t = 0; t < 2; t++) {
        count = counts[t];
        assert_true(count > 10);
        for (size_t i = 0; i < count; i++) {
            char quoted[80];
            snprintf(quoted, sizeof quoted, "\"%s\"", tables[t][i].uid);
            if (strstr(text, quoted) == NULL && !is_newer_than_dcmtk(tables[t][i].uid))
                fail_msg("%s (%s) not in DCMTK's list", tables[t][i].uid, tables[t][i].name);
        }
    }
}

static void test_sop_tables_hold_the_mammography_classes(void **state)
{
    (void)state;
    const char *const must[] = {
        "1.2.840.10008.5.1.4.1.1.1.2",    "1.2.840.10008.5.1.4.1.1.1.2.1",
        "1.2.840.10008.5.1.4.1.1.13.1.3", "1.2.840.10008.5.1.4.1.1.13.1.4",
        "1.2.840.10008.5.1.4.1.1.13.1.5", "1.2.840.10008.5.1.4.1.1.88.50",
        "1.2.840.10008.5.1.4.1.1.66.4",   "1.2.840.10008.5.1.4.1.1.11.1",
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        assert_non_null(cn_sop_find_abstract(must[i]));
    assert_null(cn_sop_find_abstract("1.2.840.10008.5.1.4.1.1.1.3")); /* intra-oral */
    assert_non_null(cn_sop_find_transfer("1.2.840.10008.1.2.4.90"));
    assert_null(cn_sop_find_transfer("1.2.840.10008.1.2.4.52"));
    assert_null(cn_sop_find_abstract(NULL));
}

static void test_sop_result_and_analysed_classes_are_accepted_abstract_syntaxes(void **state)
{
    (void)state;
    size_t count;
    const struct cn_named_uid *results = cn_sop_result_classes(&count);
    assert_int_equal(count, 4);
    for (size_t i = 0; i < count; i++)
        assert_non_null(cn_sop_find_abstract(results[i].uid));
    assert_non_null(cn_sop_find_transfer(CN_SOP_RESULT_TRANSFER_SYNTAX));
    const struct cn_named_uid *analysed = cn_sop_analysed_classes(&count);
    assert_true(count >= 2);
    for (size_t i = 0; i < count; i++) {
        assert_non_null(cn_sop_find_abstract(analysed[i].uid));
        assert_true(cn_sop_is_analysed_class(analysed[i].uid));
    }
    /* our own results are never analysed: no feedback loop through a routing PACS */
    for (size_t i = 0; i < 4; i++)
        assert_false(cn_sop_is_analysed_class(results[i].uid));
    assert_false(cn_sop_is_analysed_class(CN_UID_VERIFICATION));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_negotiate_accepts_first_supported_transfer_syntax_in_peer_order),
        T(test_negotiate_rejects_unknown_called_ae_title),
        T(test_negotiate_rejects_other_application_context),
        T(test_negotiate_answers_role_selection_for_accepted_classes),
        T(test_negotiate_build_rq_numbers_contexts_odd),
        T(test_sop_tables_match_dcmtk_uid_list),
        T(test_sop_tables_hold_the_mammography_classes),
        T(test_sop_result_and_analysed_classes_are_accepted_abstract_syntaxes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
