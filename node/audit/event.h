/* node/audit/event: which PS3.15 A.5.3 audit event each action of the audit table is
 * (the actions are listed in sql/004_audit.sql and node/db/audit.h), and the coded
 * values of the DICOM audit vocabulary (PS3.16 CID 400-404, DCM codes). Pure data, any
 * thread. */
#ifndef CN_AUDIT_EVENT_H
#define CN_AUDIT_EVENT_H

/* A coded value of the audit schema (PS3.15 A.5.1 CodedValueType). */
struct cn_audit_code {
    const char *code;
    const char *scheme;  /* codeSystemName */
    const char *meaning; /* originalText */
};

/* What the message says, beyond the event's codes: who the participants are. */
enum cn_audit_shape {
    CN_AUDIT_SHAPE_ASSOCIATION, /* a calling peer (requestor) and this node */
    CN_AUDIT_SHAPE_RECEIVED,    /* a peer sent us instances: source peer, destination us */
    CN_AUDIT_SHAPE_SENT,        /* we sent instances: source us, destination peer */
    CN_AUDIT_SHAPE_APPLICATION, /* this node (application) and who started it */
    CN_AUDIT_SHAPE_OPERATOR,    /* an operator's command acting on this node */
};

struct cn_audit_event {
    const char *action; /* the audit row's action */
    enum cn_audit_shape shape;
    const struct cn_audit_code *event_id;   /* EventID (CID 400) */
    const struct cn_audit_code *event_type; /* EventTypeCode (CID 401), NULL: none */
    char action_code;                       /* EventActionCode: C, R, U, D or E */
};

/* The event of an action. An action this version does not know (written by a newer
 * version, or by hand) is reported as a Security Alert by an operator, with no type. */
const struct cn_audit_event *cn_audit_event_of(const char *action);

/* PS3.16 CID 402 Audit Active Participant Role ID Codes. */
extern const struct cn_audit_code cn_audit_role_application;
extern const struct cn_audit_code cn_audit_role_launcher;
extern const struct cn_audit_code cn_audit_role_destination;
extern const struct cn_audit_code cn_audit_role_source;

/* PS3.15 A.5.2.4 / CID 404 Participant Object ID Type Codes. */
extern const struct cn_audit_code cn_audit_id_study;       /* 110180 Study Instance UID */
extern const struct cn_audit_code cn_audit_id_patient;     /* RFC 3881 2 Patient Number */
extern const struct cn_audit_code cn_audit_id_node_object; /* a row of this node's queues */

#endif
