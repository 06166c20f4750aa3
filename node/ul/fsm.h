/* The DICOM Upper Layer state machine as data (PS3.8 section 9.2).
 *
 * States (Table 9-1), events (Table 9-2), actions (Tables 9-6 to 9-9) and the
 * state transition table (Table 9-10). Pure constant data: any thread.
 */
#ifndef CN_UL_FSM_H
#define CN_UL_FSM_H

/* PS3.8 Table 9-1. Numbered as in the standard (1..13). */
enum cn_fsm_state {
    STA1 = 1, /* idle */
    STA2,     /* transport connection open (awaiting A-ASSOCIATE-RQ PDU) */
    STA3,     /* awaiting local A-ASSOCIATE response primitive */
    STA4,     /* awaiting transport connection opening to complete */
    STA5,     /* awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU */
    STA6,     /* association established and ready for data transfer */
    STA7,     /* awaiting A-RELEASE-RP PDU */
    STA8,     /* awaiting local A-RELEASE response primitive */
    STA9,     /* release collision requestor side: awaiting A-RELEASE response */
    STA10,    /* release collision acceptor side: awaiting A-RELEASE-RP PDU */
    STA11,    /* release collision requestor side: awaiting A-RELEASE-RP PDU */
    STA12,    /* release collision acceptor side: awaiting A-RELEASE response */
    STA13     /* awaiting transport connection close indication */
};
#define CN_FSM_STATE_COUNT 13

/* PS3.8 Table 9-2. Numbered as in the standard (1..19). */
enum cn_fsm_event {
    EVT1 = 1, /* A-ASSOCIATE request (local user) */
    EVT2,     /* transport connect confirmation (local transport service) */
    EVT3,     /* A-ASSOCIATE-AC PDU (received on transport connection) */
    EVT4,     /* A-ASSOCIATE-RJ PDU (received) */
    EVT5,     /* transport connection indication (local transport service) */
    EVT6,     /* A-ASSOCIATE-RQ PDU (received) */
    EVT7,     /* A-ASSOCIATE response primitive (accept) */
    EVT8,     /* A-ASSOCIATE response primitive (reject) */
    EVT9,     /* P-DATA request primitive */
    EVT10,    /* P-DATA-TF PDU (received) */
    EVT11,    /* A-RELEASE request primitive */
    EVT12,    /* A-RELEASE-RQ PDU (received) */
    EVT13,    /* A-RELEASE-RP PDU (received) */
    EVT14,    /* A-RELEASE response primitive */
    EVT15,    /* A-ABORT request primitive */
    EVT16,    /* A-ABORT PDU (received) */
    EVT17,    /* transport connection closed indication */
    EVT18,    /* ARTIM timer expired */
    EVT19     /* unrecognized or invalid PDU received */
};
#define CN_FSM_EVENT_COUNT 19

/* PS3.8 Tables 9-6 to 9-9. CN_FSM_NONE marks a cell the table leaves empty
 * (the event is not applicable in that state). */
enum cn_fsm_action {
    CN_FSM_NONE = 0,
    AE_1, AE_2, AE_3, AE_4, AE_5, AE_6, AE_7, AE_8,
    DT_1, DT_2,
    AR_1, AR_2, AR_3, AR_4, AR_5, AR_6, AR_7, AR_8, AR_9, AR_10,
    AA_1, AA_2, AA_3, AA_4, AA_5, AA_6, AA_7, AA_8
};
#define CN_FSM_ACTION_COUNT 29

/* The action of Table 9-10 for (state, event); CN_FSM_NONE for an empty cell
 * or for a state or event out of range. */
enum cn_fsm_action cn_fsm_lookup(enum cn_fsm_state state, enum cn_fsm_event event);

/* The next state an action leads to (Tables 9-6 to 9-9). Two actions
 * depend on context, which the caller passes:
 *   AE_6: accepted != 0 (the A-ASSOCIATE-RQ is acceptable to the service
 *         provider) -> STA3, otherwise -> STA13;
 *   AR_8: is_requestor != 0 -> STA9, otherwise -> STA10.
 * Other actions ignore both flags. Returns 0 for CN_FSM_NONE or out of range. */
enum cn_fsm_state cn_fsm_next_state(enum cn_fsm_action action, int accepted,
                                    int is_requestor);

/* Names as the standard writes them ("Sta6", "Evt19", "AA-8"); "?" when out
 * of range; "-" for CN_FSM_NONE. Static strings. */
const char *cn_fsm_state_name(enum cn_fsm_state state);
const char *cn_fsm_event_name(enum cn_fsm_event event);
const char *cn_fsm_action_name(enum cn_fsm_action action);

#endif
