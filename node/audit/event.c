/* node/audit/event: the PS3.15 A.5.3 event of each audit action (event.h). */
#include "audit/event.h"

#include <stddef.h>
#include <string.h>

#include "db/audit.h"

#define DCM "DCM"

/* PS3.16 CID 400 Audit Event ID */
static const struct cn_audit_code application_activity = {"110100", DCM, "Application Activity"};
static const struct cn_audit_code instances_transferred = {"110104", DCM,
                                                           "DICOM Instances Transferred"};
static const struct cn_audit_code security_alert = {"110113", DCM, "Security Alert"};
static const struct cn_audit_code user_authentication = {"110114", DCM, "User Authentication"};

/* PS3.16 CID 401 Audit Event Type Code */
static const struct cn_audit_code application_start = {"110120", DCM, "Application Start"};
static const struct cn_audit_code application_stop = {"110121", DCM, "Application Stop"};
static const struct cn_audit_code login = {"110122", DCM, "Login"};
static const struct cn_audit_code logout = {"110123", DCM, "Logout"};
static const struct cn_audit_code node_authentication = {"110126", DCM, "Node Authentication"};
static const struct cn_audit_code software_configuration = {"110131", DCM,
                                                            "Software Configuration"};
static const struct cn_audit_code restricted_function = {"110132", DCM,
                                                         "Use of Restricted Function"};

const struct cn_audit_code cn_audit_role_application = {"110150", DCM, "Application"};
const struct cn_audit_code cn_audit_role_launcher = {"110151", DCM, "Application Launcher"};
const struct cn_audit_code cn_audit_role_destination = {"110152", DCM, "Destination Role ID"};
const struct cn_audit_code cn_audit_role_source = {"110153", DCM, "Source Role ID"};

const struct cn_audit_code cn_audit_id_study = {"110180", DCM, "Study Instance UID"};
const struct cn_audit_code cn_audit_id_patient = {"2", "RFC-3881", "Patient Number"};
/* A local code (PS3.16 8.2: private coding schemes start with 99). */
const struct cn_audit_code cn_audit_id_node_object = {"queue-row", "99CALCNODE",
                                                      "calcnode catalogue or queue row"};

static const struct cn_audit_event events[] = {
    /* PS3.15 A.5.3.12 User Authentication: an association is the calling node logging on;
     * its release or abort is the log off. */
    {"association accepted", CN_AUDIT_SHAPE_ASSOCIATION, &user_authentication, &login, 'E'},
    {"association released", CN_AUDIT_SHAPE_ASSOCIATION, &user_authentication, &logout, 'E'},
    {"association aborted", CN_AUDIT_SHAPE_ASSOCIATION, &user_authentication, &logout, 'E'},
    {"association rejected", CN_AUDIT_SHAPE_ASSOCIATION, &security_alert, &node_authentication,
     'E'},
    /* PS3.15 A.5.3.11 Security Alert, Node Authentication: a node refused */
    {CN_DB_AUDIT_ASSOCIATION_REFUSED, CN_AUDIT_SHAPE_ASSOCIATION, &security_alert,
     &node_authentication, 'E'},
    /* PS3.15 A.5.3.7 DICOM Instances Transferred: C when the receiver did not hold the
     * instance; R for the sender's side */
    {"instance stored", CN_AUDIT_SHAPE_RECEIVED, &instances_transferred, NULL, 'C'},
    {"result sent", CN_AUDIT_SHAPE_SENT, &instances_transferred, NULL, 'R'},
    {"result dead", CN_AUDIT_SHAPE_SENT, &instances_transferred, NULL, 'R'},
    /* PS3.15 A.5.3.1 Application Activity */
    {CN_DB_AUDIT_APPLICATION_START, CN_AUDIT_SHAPE_APPLICATION, &application_activity,
     &application_start, 'E'},
    {CN_DB_AUDIT_APPLICATION_STOP, CN_AUDIT_SHAPE_APPLICATION, &application_activity,
     &application_stop, 'E'},
    /* PS3.15 A.5.3.11 Security Alert: an operator changed the queues or the schema */
    {CN_DB_AUDIT_RETRY_JOB, CN_AUDIT_SHAPE_OPERATOR, &security_alert, &restricted_function, 'E'},
    {CN_DB_AUDIT_CANCEL_JOB, CN_AUDIT_SHAPE_OPERATOR, &security_alert, &restricted_function, 'E'},
    {CN_DB_AUDIT_REQUEUE_STUDY, CN_AUDIT_SHAPE_OPERATOR, &security_alert, &restricted_function,
     'E'},
    {CN_DB_AUDIT_RETRY_OUTBOUND, CN_AUDIT_SHAPE_OPERATOR, &security_alert, &restricted_function,
     'E'},
    {CN_DB_AUDIT_CANCEL_OUTBOUND, CN_AUDIT_SHAPE_OPERATOR, &security_alert, &restricted_function,
     'E'},
    {CN_DB_AUDIT_MIGRATE_DATABASE, CN_AUDIT_SHAPE_OPERATOR, &security_alert,
     &software_configuration, 'E'},
};

static const struct cn_audit_event unknown_event = {NULL, CN_AUDIT_SHAPE_OPERATOR, &security_alert,
                                                    NULL, 'E'};

const struct cn_audit_event *cn_audit_event_of(const char *action)
{
    if (action != NULL)
        for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
            if (strcmp(action, events[i].action) == 0)
                return &events[i];
    return &unknown_event;
}
