/* node/audit/message: PS3.15 A.5 audit messages in RFC 5424 syslog messages (message.h). */
#include "audit/message.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/event.h"

/* RFC 5424 section 6: field lengths and the NILVALUE. */
#define HOSTNAME_MAX_LEN 255
#define APP_NAME_MAX_LEN 48
#define PROCID_MAX_LEN 128
#define TIMESTAMP_MAX_LEN 32
#define NILVALUE "-"
#define UTF8_BOM "\xEF\xBB\xBF"

/* PS3.15 A.5.1 / RFC 3881 participant object codes used here. */
#define OBJECT_TYPE_PERSON "1"
#define OBJECT_TYPE_SYSTEM "2"
#define OBJECT_ROLE_PATIENT "1"
#define OBJECT_ROLE_REPORT "3"
#define OBJECT_ROLE_RESOURCE "4"
#define OBJECT_ROLE_JOB "20"
/* RFC 3881 NetworkAccessPointTypeCode */
#define NAP_HOST_NAME "1"
#define NAP_IP_ADDRESS "2"
/* PS3.15 A.5.2: Application Server process tier in a multi-tier system */
#define AUDIT_SOURCE_TYPE_APPLICATION_SERVER "4"

/* An append buffer with a hard cap: on overflow or allocation failure it frees itself
 * and later appends do nothing (failed set). */
struct buf {
    char *data;
    size_t len, cap;
    int failed;
};

static void put_n(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > CN_AUDIT_MESSAGE_MAX_LEN - b->len) {
        b->failed = 1;
        free(b->data);
        b->data = NULL;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (data == NULL) {
            b->failed = 1;
            free(b->data);
            b->data = NULL;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put(struct buf *b, const char *s)
{
    put_n(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct buf *b, const char *fmt, ...)
{
    char text[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof text)
        b->failed = 1;
    else
        put_n(b, text, (size_t)n);
}

/* XML 1.0 section 2.4 and 3.3.3: markup characters as entities; tab, newline and
 * carriage return as character references so that attribute normalisation keeps them;
 * other control characters (not allowed in XML 1.0) as '?'. */
static void put_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            put(b, "&amp;");
            break;
        case '<':
            put(b, "&lt;");
            break;
        case '>':
            put(b, "&gt;");
            break;
        case '"':
            put(b, "&quot;");
            break;
        case '\'':
            put(b, "&apos;");
            break;
        case '\t':
            put(b, "&#9;");
            break;
        case '\n':
            put(b, "&#10;");
            break;
        case '\r':
            put(b, "&#13;");
            break;
        default:
            if (c < 0x20)
                put(b, "?");
            else
                put_n(b, s, 1);
        }
    }
}

static void put_attr(struct buf *b, const char *name, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return;
    put(b, " ");
    put(b, name);
    put(b, "=\"");
    put_escaped(b, value);
    put(b, "\"");
}

/* PS3.15 A.5.1 CodedValueType: csd-code, codeSystemName, originalText. */
static void put_code(struct buf *b, const char *element, const struct cn_audit_code *code)
{
    put(b, "<");
    put(b, element);
    put_attr(b, "csd-code", code->code);
    put_attr(b, "codeSystemName", code->scheme);
    put_attr(b, "originalText", code->meaning);
    put(b, "/>");
}

/* What the message needs from the row's detail. Strings point into the JSON object. */
struct detail {
    const char *address, *called_ae, *reason, *error, *user;
    const char *study, *patient, *sop_class;
    json_int_t instances_stored, status;
    int has_instances_stored, has_status;
};

static const char *text_of(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static int int_of(json_t *obj, const char *key, json_int_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return 0;
    *out = json_integer_value(v);
    return 1;
}

static void read_detail(json_t *obj, struct detail *d)
{
    memset(d, 0, sizeof *d);
    if (obj == NULL)
        return;
    d->address = text_of(obj, "address");
    d->called_ae = text_of(obj, "called_ae");
    d->reason = text_of(obj, "reason");
    d->error = text_of(obj, "error");
    d->user = text_of(obj, "user");
    d->study = text_of(obj, "study_instance_uid");
    d->patient = text_of(obj, "patient_id");
    d->sop_class = text_of(obj, "sop_class_uid");
    d->has_instances_stored = int_of(obj, "instances_stored", &d->instances_stored);
    d->has_status = int_of(obj, "status", &d->status);
}

/* The host part of a peer address as node/net formats it ("host:port", the port after
 * the last colon, IPv6 included) or "[v6]:port", into out. */
static void host_of(const char *address, char *out, size_t out_len)
{
    out[0] = '\0';
    if (address == NULL)
        return;
    const char *start = address;
    size_t len = strlen(address);
    const char *last = strrchr(address, ':');
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        start = address + 1;
        len = close != NULL ? (size_t)(close - start) : len - 1;
    } else if (last != NULL && last[1] != '\0' &&
               strspn(last + 1, "0123456789") == strlen(last + 1)) {
        len = (size_t)(last - address);
    }
    if (len >= out_len)
        len = out_len - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

struct participant {
    const char *user_id;
    const char *ae_title; /* AlternativeUserID "AETITLES=" (PS3.15 A.5.2.1), NULL: none */
    int requestor;
    const char *nap; /* NetworkAccessPointID */
    const char *nap_type;
    const struct cn_audit_code *role; /* NULL: none */
};

static void put_participant(struct buf *b, const struct participant *p)
{
    put(b, "<ActiveParticipant");
    put_attr(b, "UserID", p->user_id && p->user_id[0] ? p->user_id : "unknown");
    if (p->ae_title != NULL && p->ae_title[0] != '\0') {
        put(b, " AlternativeUserID=\"AETITLES=");
        put_escaped(b, p->ae_title);
        put(b, "\"");
    }
    put(b, p->requestor ? " UserIsRequestor=\"true\"" : " UserIsRequestor=\"false\"");
    if (p->nap != NULL && p->nap[0] != '\0') {
        put_attr(b, "NetworkAccessPointID", p->nap);
        put_attr(b, "NetworkAccessPointTypeCode", p->nap_type);
    }
    if (p->role != NULL) {
        put(b, ">");
        put_code(b, "RoleIDCode", p->role);
        put(b, "</ActiveParticipant>");
    } else {
        put(b, "/>");
    }
}

/* PS3.15 A.5.3.7: the study (with its SOP class and instance) and the patient. */
static void put_study_and_patient(struct buf *b, const struct detail *d, const char *sop_instance)
{
    if (d->study != NULL) {
        put(b, "<ParticipantObjectIdentification");
        put_attr(b, "ParticipantObjectID", d->study);
        put_attr(b, "ParticipantObjectTypeCode", OBJECT_TYPE_SYSTEM);
        put_attr(b, "ParticipantObjectTypeCodeRole", OBJECT_ROLE_REPORT);
        put(b, ">");
        put_code(b, "ParticipantObjectIDTypeCode", &cn_audit_id_study);
        if (d->sop_class != NULL) {
            put(b, "<SOPClass");
            put_attr(b, "UID", d->sop_class);
            put(b, " NumberOfInstances=\"1\">");
            if (sop_instance != NULL && sop_instance[0] != '\0') {
                put(b, "<Instance");
                put_attr(b, "UID", sop_instance);
                put(b, "/>");
            }
            put(b, "</SOPClass>");
        }
        put(b, "</ParticipantObjectIdentification>");
    }
    if (d->patient != NULL) {
        put(b, "<ParticipantObjectIdentification");
        put_attr(b, "ParticipantObjectID", d->patient);
        put_attr(b, "ParticipantObjectTypeCode", OBJECT_TYPE_PERSON);
        put_attr(b, "ParticipantObjectTypeCodeRole", OBJECT_ROLE_PATIENT);
        put(b, ">");
        put_code(b, "ParticipantObjectIDTypeCode", &cn_audit_id_patient);
        put(b, "</ParticipantObjectIdentification>");
    }
}

/* An operator's command: the study it concerns, or the queue row / resource it named. */
static void put_operator_object(struct buf *b, const struct cn_audit_event *ev,
                                const struct detail *d, const char *object)
{
    if (d->study != NULL) {
        put_study_and_patient(b, d, NULL);
        return;
    }
    if (object == NULL || object[0] == '\0')
        return;
    put(b, "<ParticipantObjectIdentification");
    put_attr(b, "ParticipantObjectID", object);
    put_attr(b, "ParticipantObjectTypeCode", OBJECT_TYPE_SYSTEM);
    put_attr(b, "ParticipantObjectTypeCodeRole",
             ev->event_type != NULL && strcmp(ev->event_type->code, "110132") == 0
                 ? OBJECT_ROLE_JOB
                 : OBJECT_ROLE_RESOURCE);
    put(b, ">");
    put_code(b, "ParticipantObjectIDTypeCode", &cn_audit_id_node_object);
    put(b, "</ParticipantObjectIdentification>");
}

static void put_outcome_description(struct buf *b, const struct cn_audit_record *rec,
                                    const struct cn_audit_event *ev, const struct detail *d)
{
    char text[64];
    const char *description = d->reason != NULL ? d->reason : d->error;
    if (description == NULL && d->has_instances_stored) {
        snprintf(text, sizeof text, "%lld instances stored", (long long)d->instances_stored);
        description = text;
    } else if (description == NULL && d->has_status) {
        snprintf(text, sizeof text, "C-STORE status %04llX", (unsigned long long)d->status);
        description = text;
    } else if (description == NULL && ev->action == NULL) {
        description = rec->action; /* an action this version does not know */
    }
    if (description == NULL)
        return;
    put(b, "<EventOutcomeDescription>");
    put_escaped(b, description);
    put(b, "</EventOutcomeDescription>");
}

int cn_audit_outcome_indicator(const char *outcome)
{
    static const struct {
        const char *outcome;
        int indicator;
    } table[] = {
        {"success", 0},        {"minor failure", 4}, {"serious failure", 8},
        {"major failure", 12}, {"done", 0},          {"refused", 4},
    };
    if (outcome != NULL)
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (strcmp(outcome, table[i].outcome) == 0)
                return table[i].indicator;
    return 8;
}

static void put_participants(struct buf *b, const struct cn_audit_record *rec,
                             const struct cn_audit_event *ev, const struct detail *d,
                             const struct cn_audit_source *src)
{
    char peer_host[256];
    host_of(d->address, peer_host, sizeof peer_host);
    struct participant node = {src->ae_title, src->ae_title, 0, src->hostname, NAP_HOST_NAME, NULL};
    struct participant other = {rec->actor, NULL, 1, peer_host, NAP_IP_ADDRESS, NULL};
    switch (ev->shape) {
    case CN_AUDIT_SHAPE_ASSOCIATION:
        other.ae_title = rec->actor;
        break;
    case CN_AUDIT_SHAPE_RECEIVED:
        other.ae_title = rec->actor;
        other.role = &cn_audit_role_source;
        node.role = &cn_audit_role_destination;
        break;
    case CN_AUDIT_SHAPE_SENT:
        other.ae_title = rec->actor;
        other.requestor = 0;
        other.role = &cn_audit_role_destination;
        node.requestor = 1;
        node.role = &cn_audit_role_source;
        break;
    case CN_AUDIT_SHAPE_APPLICATION:
        node.role = &cn_audit_role_application;
        other.user_id = d->user != NULL ? d->user : "unknown";
        other.nap = NULL;
        other.role = &cn_audit_role_launcher;
        break;
    case CN_AUDIT_SHAPE_OPERATOR:
        other.nap = NULL;
        break;
    }
    put_participant(b, &other);
    put_participant(b, &node);
}

int cn_audit_message_xml(const struct cn_audit_record *rec, const struct cn_audit_source *src,
                         char **out, size_t *out_len, char *err, size_t err_len)
{
    json_t *detail_obj = NULL;
    if (rec->detail_json != NULL && rec->detail_json[0] != '\0') {
        json_error_t jerr;
        detail_obj = json_loads(rec->detail_json, 0, &jerr);
        if (!json_is_object(detail_obj)) {
            json_decref(detail_obj);
            snprintf(err, err_len, "audit row %lld: detail is not a JSON object: %s",
                     (long long)rec->id, jerr.text);
            return -1;
        }
    }
    struct detail d;
    read_detail(detail_obj, &d);
    const struct cn_audit_event *ev = cn_audit_event_of(rec->action);
    struct buf b = {0};

    put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><AuditMessage>");
    /* PS3.15 A.5.1 EventIdentification */
    put(&b, "<EventIdentification");
    char action_code[2] = {ev->action_code, '\0'};
    put_attr(&b, "EventActionCode", action_code);
    put_attr(&b, "EventDateTime", rec->at);
    putf(&b, " EventOutcomeIndicator=\"%d\">", cn_audit_outcome_indicator(rec->outcome));
    put_code(&b, "EventID", ev->event_id);
    if (ev->event_type != NULL)
        put_code(&b, "EventTypeCode", ev->event_type);
    put_outcome_description(&b, rec, ev, &d);
    put(&b, "</EventIdentification>");
    put_participants(&b, rec, ev, &d, src);
    /* PS3.15 A.5.1 AuditSourceIdentification */
    put(&b, "<AuditSourceIdentification");
    put_attr(&b, "AuditSourceID", src->ae_title);
    put(&b, "><AuditSourceTypeCode csd-code=\"" AUDIT_SOURCE_TYPE_APPLICATION_SERVER
            "\" codeSystemName=\"DCM\" originalText=\"Application Server process tier in a "
            "multi-tier system\"/></AuditSourceIdentification>");
    if (ev->shape == CN_AUDIT_SHAPE_RECEIVED || ev->shape == CN_AUDIT_SHAPE_SENT)
        put_study_and_patient(&b, &d, rec->object);
    else if (ev->shape == CN_AUDIT_SHAPE_OPERATOR)
        put_operator_object(&b, ev, &d, rec->object);
    put(&b, "</AuditMessage>");
    json_decref(detail_obj);

    if (b.failed) {
        snprintf(err, err_len,
                 "audit row %lld: the message is longer than %u bytes or memory "
                 "ran out",
                 (long long)rec->id, CN_AUDIT_MESSAGE_MAX_LEN);
        return -1;
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

/* RFC 5424 section 6.2: HOSTNAME, APP-NAME and PROCID are PRINTUSASCII (33-126) with a
 * length cap; anything else becomes '-' (or the field the NILVALUE when empty). */
static void header_field(const char *value, size_t max_len, char *out, size_t out_len)
{
    size_t n = 0;
    for (; value != NULL && value[n] != '\0' && n < max_len && n + 1 < out_len; n++) {
        unsigned char c = (unsigned char)value[n];
        out[n] = c >= 33 && c <= 126 ? (char)c : '-';
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, out_len, "%s", NILVALUE);
}

/* RFC 5424 section 6.2.3: FULL-DATE "T" PARTIAL-TIME (fraction of at most 6 digits)
 * TIME-OFFSET. The row's time is kept when it has that form; otherwise the NILVALUE. */
static void timestamp_field(const char *at, char *out, size_t out_len)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t n = at != NULL ? strlen(at) : 0;
    int ok = n >= sizeof shape && n <= TIMESTAMP_MAX_LEN && at[n - 1] == 'Z';
    for (size_t i = 0; ok && i < sizeof shape - 1; i++)
        ok = shape[i] == 'd' ? (at[i] >= '0' && at[i] <= '9') : at[i] == shape[i];
    if (ok && n > sizeof shape) {
        size_t digits = n - sizeof shape - 1; /* between the '.' and the 'Z' */
        ok = at[sizeof shape - 1] == '.' && digits >= 1 && digits <= 6 &&
             strspn(at + sizeof shape, "0123456789") == digits;
    }
    snprintf(out, out_len, "%s", ok ? at : NILVALUE);
}

int cn_audit_syslog_message(const struct cn_audit_record *rec, const struct cn_audit_source *src,
                            char **out, size_t *out_len, char *err, size_t err_len)
{
    char *xml;
    size_t xml_len;
    if (cn_audit_message_xml(rec, src, &xml, &xml_len, err, err_len) != 0)
        return -1;
    char hostname[HOSTNAME_MAX_LEN + 1], app[APP_NAME_MAX_LEN + 1], procid[PROCID_MAX_LEN + 1];
    char timestamp[TIMESTAMP_MAX_LEN + 1], pid_text[24];
    header_field(src->hostname, HOSTNAME_MAX_LEN, hostname, sizeof hostname);
    header_field(CN_AUDIT_SYSLOG_APP_NAME, APP_NAME_MAX_LEN, app, sizeof app);
    snprintf(pid_text, sizeof pid_text, "%ld", src->pid);
    header_field(pid_text, PROCID_MAX_LEN, procid, sizeof procid);
    timestamp_field(rec->at, timestamp, sizeof timestamp);
    int severity = cn_audit_outcome_indicator(rec->outcome) == 0 ? CN_AUDIT_SYSLOG_SEVERITY_NOTICE
                                                                 : CN_AUDIT_SYSLOG_SEVERITY_WARNING;
    struct buf b = {0};
    /* RFC 5424 section 6: HEADER SP STRUCTURED-DATA [SP MSG]; VERSION 1; no SD */
    putf(&b, "<%d>1 ", CN_AUDIT_SYSLOG_FACILITY * 8 + severity);
    put(&b, timestamp);
    put(&b, " ");
    put(&b, hostname);
    put(&b, " ");
    put(&b, app);
    put(&b, " ");
    put(&b, procid);
    put(&b, " " CN_AUDIT_SYSLOG_MSGID " " NILVALUE " " UTF8_BOM);
    put_n(&b, xml, xml_len);
    free(xml);
    if (b.failed) {
        snprintf(err, err_len,
                 "audit row %lld: the syslog message is longer than %u bytes or "
                 "memory ran out",
                 (long long)rec->id, CN_AUDIT_MESSAGE_MAX_LEN);
        return -1;
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

int cn_audit_octet_count_prefix(size_t msg_len, char *prefix, size_t prefix_len)
{
    int n = snprintf(prefix, prefix_len, "%zu ", msg_len);
    return n < 0 || (size_t)n >= prefix_len ? -1 : n;
}
