/* node/audit/message: one audit row as a DICOM audit message (PS3.15 A.5, the XML schema
 * of A.5.1 derived from RFC 3881) inside an RFC 5424 syslog message, as the Audit Trail
 * Message Transmission Profiles expect (PS3.15 A.6 SYSLOG-TLS, A.7 SYSLOG-UDP: MSGID
 * "DICOM+RFC3881", the XML as MSG after a UTF-8 BOM; facility 10 authpriv as IHE ATNA
 * asks).
 *
 * Pure functions: no I/O, any thread. Every value taken from the row is XML-escaped; the
 * header fields of RFC 5424 are reduced to the characters it allows. */
#ifndef CN_AUDIT_MESSAGE_H
#define CN_AUDIT_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

/* Largest message built: fits one UDP datagram over IPv4 or IPv6 (RFC 5426 section 3.2;
 * 65535 less the IP and UDP headers) with room for TCP's octet count. */
#define CN_AUDIT_MESSAGE_MAX_LEN 65000u

/* RFC 5424 section 6.2: facility 10 (security/authorization), severities used. */
#define CN_AUDIT_SYSLOG_FACILITY 10
#define CN_AUDIT_SYSLOG_SEVERITY_WARNING 4
#define CN_AUDIT_SYSLOG_SEVERITY_NOTICE 5
#define CN_AUDIT_SYSLOG_APP_NAME "calcnode"
#define CN_AUDIT_SYSLOG_MSGID "DICOM+RFC3881"

/* One row of the audit table (sql/004_audit.sql); all strings borrowed. at is the event
 * time in UTC as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"; object and detail_json may be NULL or
 * "" (detail_json otherwise a JSON object text). */
struct cn_audit_record {
    int64_t id;
    const char *at;
    const char *actor;
    const char *action;
    const char *object;
    const char *outcome;
    const char *detail_json;
};

/* Who reports: our AE title (AuditSourceID and our participant's UserID), the host name
 * (our NetworkAccessPointID and the syslog HOSTNAME) and our process id (PROCID). */
struct cn_audit_source {
    const char *ae_title;
    const char *hostname;
    long pid;
};

/* PS3.15 A.5.2 EventOutcomeIndicator of an audit outcome: "success" 0, "minor failure"
 * 4, "serious failure" 8, "major failure" 12 (also "done" 0 and "refused" 4, written by
 * earlier versions); anything else 8. */
int cn_audit_outcome_indicator(const char *outcome);

/* Builds the AuditMessage XML of rec (with the XML declaration, no BOM). Returns 0 and a
 * new string in *out (free with free), its length in *out_len; or -1 with err filled
 * (malformed detail JSON, out of memory, longer than CN_AUDIT_MESSAGE_MAX_LEN). */
int cn_audit_message_xml(const struct cn_audit_record *rec, const struct cn_audit_source *src,
                         char **out, size_t *out_len, char *err, size_t err_len);

/* Builds the whole RFC 5424 message: "<PRI>1 TIMESTAMP HOSTNAME calcnode PROCID
 * DICOM+RFC3881 - " then the BOM and the XML. PRI is 10 * 8 + 5 (notice) for a success,
 * + 4 (warning) otherwise. TIMESTAMP is the event's time. Same returns as above; the
 * result is not NUL-free in general (use out_len). */
int cn_audit_syslog_message(const struct cn_audit_record *rec, const struct cn_audit_source *src,
                            char **out, size_t *out_len, char *err, size_t err_len);

/* RFC 6587 section 3.4.1 octet counting: writes "LEN " for a message of msg_len bytes
 * into prefix[prefix_len]. Returns the prefix length, or -1 when it does not fit. */
int cn_audit_octet_count_prefix(size_t msg_len, char *prefix, size_t prefix_len);

#endif
