/* The state machine table against an independent transcription of PS3.8
 * Table 9-10, typed here one line per event (the standard's rows) with one
 * column per state Sta1..Sta13; "." is an empty cell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ul/fsm.h"

static const char *const table_9_10[CN_FSM_EVENT_COUNT] = {
    /*            Sta1  Sta2  Sta3  Sta4  Sta5  Sta6  Sta7  Sta8  Sta9  Sta10 Sta11 Sta12 Sta13 */
    /* Evt1  */ "AE-1 .    .    .    .    .    .    .    .    .     .     .     .",
    /* Evt2  */ ".    .    .    AE-2 .    .    .    .    .    .     .     .     .",
    /* Evt3  */ ".    AA-1 AA-8 .    AE-3 AA-8 AA-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-6",
    /* Evt4  */ ".    AA-1 AA-8 .    AE-4 AA-8 AA-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-6",
    /* Evt5  */ "AE-5 .    .    .    .    .    .    .    .    .     .     .     .",
    /* Evt6  */ ".    AE-6 AA-8 .    AA-8 AA-8 AA-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-7",
    /* Evt7  */ ".    .    AE-7 .    .    .    .    .    .    .     .     .     .",
    /* Evt8  */ ".    .    AE-8 .    .    .    .    .    .    .     .     .     .",
    /* Evt9  */ ".    .    .    .    .    DT-1 .    AR-7 .    .     .     .     .",
    /* Evt10 */ ".    AA-1 AA-8 .    AA-8 DT-2 AR-6 AA-8 AA-8 AA-8  AA-8  AA-8  AA-6",
    /* Evt11 */ ".    .    .    .    .    AR-1 .    .    .    .     .     .     .",
    /* Evt12 */ ".    AA-1 AA-8 .    AA-8 AR-2 AR-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-6",
    /* Evt13 */ ".    AA-1 AA-8 .    AA-8 AA-8 AR-3 AA-8 AA-8 AR-10 AR-3  AA-8  AA-6",
    /* Evt14 */ ".    .    .    .    .    .    .    AR-4 AR-9 .     .     AR-4  .",
    /* Evt15 */ ".    .    AA-1 AA-2 AA-1 AA-1 AA-1 AA-1 AA-1 AA-1  AA-1  AA-1  .",
    /* Evt16 */ ".    AA-2 AA-3 .    AA-3 AA-3 AA-3 AA-3 AA-3 AA-3  AA-3  AA-3  AA-2",
    /* Evt17 */ ".    AA-5 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4  AA-4  AA-4  AR-5",
    /* Evt18 */ ".    AA-2 .    .    .    .    .    .    .    .     .     .     AR-5",
    /* Evt19 */ ".    AA-1 AA-8 .    AA-8 AA-8 AA-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-7",
};

/* Tables 9-6 to 9-9, as "ACTION:NEXT" words; AE-6 and AR-8 list both. */
static const char *const next_states =
    "AE-1:4 AE-2:5 AE-3:6 AE-4:1 AE-5:2 AE-6:3/13 AE-7:6 AE-8:13 DT-1:6 DT-2:6 "
    "AR-1:7 AR-2:8 AR-3:1 AR-4:13 AR-5:1 AR-6:7 AR-7:8 AR-8:9/10 AR-9:11 AR-10:12 "
    "AA-1:13 AA-2:1 AA-3:1 AA-4:1 AA-5:1 AA-6:13 AA-7:13 AA-8:13";

static void test_fsm_table_matches_every_cell_of_table_9_10(void **state)
{
    (void)state;
    for (int e = EVT1; e <= EVT19; e++) {
        char row[256];
        snprintf(row, sizeof row, "%s", table_9_10[e - 1]);
        char *save = NULL;
        int s = STA1;
        for (char *cell = strtok_r(row, " ", &save); cell != NULL;
             cell = strtok_r(NULL, " ", &save), s++) {
            assert_true(s <= STA13);
            const char *got = cn_fsm_action_name(cn_fsm_lookup(s, e));
            const char *want = strcmp(cell, ".") == 0 ? "-" : cell;
            if (strcmp(got, want) != 0)
                fail_msg("%s %s: table has %s, standard %s", cn_fsm_state_name(s),
                         cn_fsm_event_name(e), got, want);
        }
        assert_int_equal(s, STA13 + 1);
    }
}

static void test_fsm_next_state_of_every_action(void **state)
{
    (void)state;
    char words[1024];
    snprintf(words, sizeof words, "%s", next_states);
    char *save = NULL;
    int count = 0;
    for (char *w = strtok_r(words, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(w, ':');
        assert_non_null(colon);
        *colon = '\0';
        int first = 0, second = 0;
        assert_true(sscanf(colon + 1, "%d/%d", &first, &second) >= 1);
        int action = 0;
        for (int a = AE_1; a < CN_FSM_ACTION_COUNT; a++)
            if (strcmp(cn_fsm_action_name(a), w) == 0)
                action = a;
        assert_int_not_equal(action, 0);
        if (action == AE_6) {
            assert_int_equal(cn_fsm_next_state(action, 1, 0), first);
            assert_int_equal(cn_fsm_next_state(action, 0, 0), second);
        } else if (action == AR_8) {
            assert_int_equal(cn_fsm_next_state(action, 0, 1), first);
            assert_int_equal(cn_fsm_next_state(action, 0, 0), second);
        } else {
            assert_int_equal(cn_fsm_next_state(action, 0, 0), first);
            assert_int_equal(cn_fsm_next_state(action, 1, 1), first);
        }
        count++;
    }
    assert_int_equal(count, CN_FSM_ACTION_COUNT - 1);
}

static void test_fsm_lookup_out_of_range_is_empty(void **state)
{
    (void)state;
    assert_int_equal(cn_fsm_lookup(0, EVT1), CN_FSM_NONE);
    assert_int_equal(cn_fsm_lookup(STA1, 0), CN_FSM_NONE);
    assert_int_equal(cn_fsm_lookup(14, EVT1), CN_FSM_NONE);
    assert_int_equal(cn_fsm_lookup(STA1, 20), CN_FSM_NONE);
    assert_int_equal(cn_fsm_next_state(CN_FSM_NONE, 0, 0), 0);
    assert_string_equal(cn_fsm_state_name(14), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fsm_table_matches_every_cell_of_table_9_10),
        cmocka_unit_test(test_fsm_next_state_of_every_action),
        cmocka_unit_test(test_fsm_lookup_out_of_range_is_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
