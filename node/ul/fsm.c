/* PS3.8 section 9.2: the Upper Layer state machine as constant data. */
#include "ul/fsm.h"

#define S(n) [(n) - 1]
#define E(n) [(n) - 1]

/* PS3.8 Table 9-10, one row per state; cells not listed are empty. */
static const unsigned char transition[CN_FSM_STATE_COUNT][CN_FSM_EVENT_COUNT] = {
    S(STA1) = {E(EVT1) = AE_1, E(EVT5) = AE_5},
    S(STA2) = {E(EVT3) = AA_1, E(EVT4) = AA_1, E(EVT6) = AE_6, E(EVT10) = AA_1,
               E(EVT12) = AA_1, E(EVT13) = AA_1, E(EVT16) = AA_2, E(EVT17) = AA_5,
               E(EVT18) = AA_2, E(EVT19) = AA_1},
    S(STA3) = {E(EVT3) = AA_8, E(EVT4) = AA_8, E(EVT6) = AA_8, E(EVT7) = AE_7,
               E(EVT8) = AE_8, E(EVT10) = AA_8, E(EVT12) = AA_8, E(EVT13) = AA_8,
               E(EVT15) = AA_1, E(EVT16) = AA_3, E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA4) = {E(EVT2) = AE_2, E(EVT15) = AA_2, E(EVT17) = AA_4},
    S(STA5) = {E(EVT3) = AE_3, E(EVT4) = AE_4, E(EVT6) = AA_8, E(EVT10) = AA_8,
               E(EVT12) = AA_8, E(EVT13) = AA_8, E(EVT15) = AA_1, E(EVT16) = AA_3,
               E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA6) = {E(EVT3) = AA_8, E(EVT4) = AA_8, E(EVT6) = AA_8, E(EVT9) = DT_1,
               E(EVT10) = DT_2, E(EVT11) = AR_1, E(EVT12) = AR_2, E(EVT13) = AA_8,
               E(EVT15) = AA_1, E(EVT16) = AA_3, E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA7) = {E(EVT3) = AA_8, E(EVT4) = AA_8, E(EVT6) = AA_8, E(EVT10) = AR_6,
               E(EVT12) = AR_8, E(EVT13) = AR_3, E(EVT15) = AA_1, E(EVT16) = AA_3,
               E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA8) = {E(EVT3) = AA_8, E(EVT4) = AA_8, E(EVT6) = AA_8, E(EVT9) = AR_7,
               E(EVT10) = AA_8, E(EVT12) = AA_8, E(EVT13) = AA_8, E(EVT14) = AR_4,
               E(EVT15) = AA_1, E(EVT16) = AA_3, E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA9) = {E(EVT3) = AA_8, E(EVT4) = AA_8, E(EVT6) = AA_8, E(EVT10) = AA_8,
               E(EVT12) = AA_8, E(EVT13) = AA_8, E(EVT14) = AR_9, E(EVT15) = AA_1,
               E(EVT16) = AA_3, E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA10) = {E(EVT3) = AA_8, E(EVT4) = AA_8, E(EVT6) = AA_8, E(EVT10) = AA_8,
                E(EVT12) = AA_8, E(EVT13) = AR_10, E(EVT15) = AA_1, E(EVT16) = AA_3,
                E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA11) = {E(EVT3) = AA_8, E(EVT4) = AA_8, E(EVT6) = AA_8, E(EVT10) = AA_8,
                E(EVT12) = AA_8, E(EVT13) = AR_3, E(EVT15) = AA_1, E(EVT16) = AA_3,
                E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA12) = {E(EVT3) = AA_8, E(EVT4) = AA_8, E(EVT6) = AA_8, E(EVT10) = AA_8,
                E(EVT12) = AA_8, E(EVT13) = AA_8, E(EVT14) = AR_4, E(EVT15) = AA_1,
                E(EVT16) = AA_3, E(EVT17) = AA_4, E(EVT19) = AA_8},
    S(STA13) = {E(EVT3) = AA_6, E(EVT4) = AA_6, E(EVT6) = AA_7, E(EVT10) = AA_6,
                E(EVT12) = AA_6, E(EVT13) = AA_6, E(EVT16) = AA_2, E(EVT17) = AR_5,
                E(EVT18) = AR_5, E(EVT19) = AA_7},
};

/* PS3.8 Tables 9-6 to 9-9: the next state of each action. AE_6 and AR_8
 * hold their first alternative; cn_fsm_next_state picks the other. */
static const unsigned char next_state[CN_FSM_ACTION_COUNT] = {
    [AE_1] = STA4,  [AE_2] = STA5,  [AE_3] = STA6,   [AE_4] = STA1,  [AE_5] = STA2,
    [AE_6] = STA3,  [AE_7] = STA6,  [AE_8] = STA13,  [DT_1] = STA6,  [DT_2] = STA6,
    [AR_1] = STA7,  [AR_2] = STA8,  [AR_3] = STA1,   [AR_4] = STA13, [AR_5] = STA1,
    [AR_6] = STA7,  [AR_7] = STA8,  [AR_8] = STA9,   [AR_9] = STA11, [AR_10] = STA12,
    [AA_1] = STA13, [AA_2] = STA1,  [AA_3] = STA1,   [AA_4] = STA1,  [AA_5] = STA1,
    [AA_6] = STA13, [AA_7] = STA13, [AA_8] = STA13,
};

enum cn_fsm_action cn_fsm_lookup(enum cn_fsm_state state, enum cn_fsm_event event)
{
    if (state < STA1 || state > STA13 || event < EVT1 || event > EVT19)
        return CN_FSM_NONE;
    return (enum cn_fsm_action)transition[state - 1][event - 1];
}

enum cn_fsm_state cn_fsm_next_state(enum cn_fsm_action action, int accepted, int is_requestor)
{
    if (action <= CN_FSM_NONE || action >= CN_FSM_ACTION_COUNT)
        return 0;
    if (action == AE_6 && !accepted)
        return STA13; /* AE-6: A-ASSOCIATE-RJ PDU sent, ARTIM started */
    if (action == AR_8 && !is_requestor)
        return STA10; /* AR-8: release collision, acceptor side */
    return (enum cn_fsm_state)next_state[action];
}

static const char *const state_names[] = {"Sta1", "Sta2", "Sta3",  "Sta4",  "Sta5",
                                          "Sta6", "Sta7", "Sta8",  "Sta9",  "Sta10",
                                          "Sta11", "Sta12", "Sta13"};
static const char *const event_names[] = {
    "Evt1",  "Evt2",  "Evt3",  "Evt4",  "Evt5",  "Evt6",  "Evt7",  "Evt8",  "Evt9", "Evt10",
    "Evt11", "Evt12", "Evt13", "Evt14", "Evt15", "Evt16", "Evt17", "Evt18", "Evt19"};
static const char *const action_names[] = {
    "-",    "AE-1", "AE-2", "AE-3", "AE-4", "AE-5", "AE-6", "AE-7", "AE-8", "DT-1",
    "DT-2", "AR-1", "AR-2", "AR-3", "AR-4", "AR-5", "AR-6", "AR-7", "AR-8", "AR-9",
    "AR-10", "AA-1", "AA-2", "AA-3", "AA-4", "AA-5", "AA-6", "AA-7", "AA-8"};

const char *cn_fsm_state_name(enum cn_fsm_state state)
{
    return state >= STA1 && state <= STA13 ? state_names[state - 1] : "?";
}

const char *cn_fsm_event_name(enum cn_fsm_event event)
{
    return event >= EVT1 && event <= EVT19 ? event_names[event - 1] : "?";
}

const char *cn_fsm_action_name(enum cn_fsm_action action)
{
    return action >= CN_FSM_NONE && action < CN_FSM_ACTION_COUNT ? action_names[action] : "?";
}
