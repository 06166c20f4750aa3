#include "app/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_PORT 11112
#define DEFAULT_AE_TITLE "CALCNODE"
#define DEFAULT_STATE_DIR "./var"
#define DEFAULT_ARTIM_TIMEOUT_MS 30000u
#define DEFAULT_MAX_PDU_LENGTH (256u * 1024u)
#define MIN_MAX_PDU_LENGTH 4096u          /* small enough to test fragmentation */
#define MAX_MAX_PDU_LENGTH (4u * 1024u * 1024u)
#define DEFAULT_MAX_ASSOCIATIONS 64u
#define DEFAULT_QUIET_PERIOD_MS 5000u
#define DEFAULT_WORKER_LEASE_S 120u
/* the lower bound of BI-RADS 4B (risk/category.h); work/pipeline.c has the figures */
#define DEFAULT_REPORT_PROBABILITY_MIN 0.10
/* small groups (ca_cluster.small_group): above the shipped model's 0.44-0.56 for the
   benign small groups of the real GE image (README, "Detection accuracy") */
#define DEFAULT_REPORT_SMALL_GROUP_PROBABILITY_MIN 0.70
#define MAX_QUIET_PERIOD_S 86400u
#define DEFAULT_MAX_ASSOCIATIONS_PER_AE 16u
#define DEFAULT_MAX_OBJECT_SIZE_MB 2048u    /* a DBT volume fits; a runaway stream does not */
#define DEFAULT_MIN_FREE_DISK_MB 1024u
#define MB (1024ull * 1024ull)

void cn_conf_defaults(struct cn_conf *conf)
{
    memset(conf, 0, sizeof *conf);
    snprintf(conf->listen_host, sizeof conf->listen_host, "0.0.0.0");
    conf->port = DEFAULT_PORT;
    snprintf(conf->ae_title, sizeof conf->ae_title, "%s", DEFAULT_AE_TITLE);
    snprintf(conf->state_dir, sizeof conf->state_dir, "%s", DEFAULT_STATE_DIR);
    snprintf(conf->sql_dir, sizeof conf->sql_dir, "%s/sql", CALCNODE_SOURCE_DIR);
    snprintf(conf->model_path, sizeof conf->model_path, "%s/conf/models/calc-risk-default.json",
             CALCNODE_SOURCE_DIR);
    conf->artim_timeout_ms = DEFAULT_ARTIM_TIMEOUT_MS;
    conf->max_pdu_length = DEFAULT_MAX_PDU_LENGTH;
    conf->max_associations = DEFAULT_MAX_ASSOCIATIONS;
    conf->quiet_period_ms = DEFAULT_QUIET_PERIOD_MS;
    conf->report_probability_min = DEFAULT_REPORT_PROBABILITY_MIN;
    conf->report_needs_rule = 1;
    conf->report_small_group_probability_min = DEFAULT_REPORT_SMALL_GROUP_PROBABILITY_MIN;
    conf->write_gsps = 1;
    conf->worker_lease_s = DEFAULT_WORKER_LEASE_S;
    conf->log_level = 2;
    conf->duplicate_policy = CN_DUPLICATE_KEEP_FIRST;
    conf->allowed_callers = CN_CALLERS_ANY;
    conf->max_associations_per_ae = DEFAULT_MAX_ASSOCIATIONS_PER_AE;
    conf->max_object_size = DEFAULT_MAX_OBJECT_SIZE_MB * MB;
    conf->min_free_disk = DEFAULT_MIN_FREE_DISK_MB * MB;
    snprintf(conf->http_host, sizeof conf->http_host, "127.0.0.1");
}

int cn_conf_ae_title_is_valid(const char *ae_title)
{
    size_t len = strlen(ae_title);
    if (len == 0 || len > CN_CONF_AE_SIZE - 1)
        return 0;
    int non_space = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)ae_title[i];
        if (c < 0x20 || c > 0x7e || c == '\\')
            return 0;
        if (c != ' ')
            non_space = 1;
    }
    return non_space;
}

/* Parses a whole decimal number in [min, max]; 0 on success. */
static int parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!text || !*text)
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || text[0] == '-' || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

int cn_conf_address_is_valid(const char *text)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
    if (host_len == 0 || host_len >= sizeof host)
        return 0;
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    unsigned char addr[16];
    unsigned long max_prefix;
    if (inet_pton(AF_INET, host, addr) == 1)
        max_prefix = 32;
    else if (inet_pton(AF_INET6, host, addr) == 1)
        max_prefix = 128;
    else
        return 0;
    unsigned long prefix;
    return !slash || parse_uint(slash + 1, 0, max_prefix, &prefix) == 0;
}

static int copy_value(char *dst, size_t dst_size, const char *value)
{
    size_t len = strlen(value);
    if (len >= dst_size)
        return -1;
    memcpy(dst, value, len + 1);
    return 0;
}

static struct cn_peer *peer_slot(struct cn_conf *conf, const char *ae_title)
{
    for (size_t i = 0; i < conf->peer_count; i++) {
        if (strcmp(conf->peers[i].ae_title, ae_title) == 0)
            return &conf->peers[i];
    }
    if (conf->peer_count >= CN_CONF_MAX_PEERS)
        return NULL;
    struct cn_peer *peer = &conf->peers[conf->peer_count++];
    memset(peer, 0, sizeof *peer);
    snprintf(peer->ae_title, sizeof peer->ae_title, "%s", ae_title);
    return peer;
}

/* A number in (0, 1]. */
static int parse_probability(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v > 0.0) || !(v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

static int parse_on_off(const char *value, int *out)
{
    if (strcmp(value, "on") == 0 || strcmp(value, "true") == 0)
        *out = 1;
    else if (strcmp(value, "off") == 0 || strcmp(value, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* The keys for a hospital network: TLS, access control, limits, HTTP and audit. Returns 0, -1 (bad value) or -2 (not one of these keys). */
static int set_security_key(struct cn_conf *conf, const char *key, const char *value)
{
    unsigned long n;
    if (strcmp(key, "tls_port") == 0) {
        if (parse_uint(value, 0, 65535, &n) != 0)
            return -1;
        conf->tls_port = (uint16_t)n;
    } else if (strcmp(key, "tls_cert") == 0) {
        return copy_value(conf->tls_cert, sizeof conf->tls_cert, value);
    } else if (strcmp(key, "tls_key") == 0) {
        return copy_value(conf->tls_key, sizeof conf->tls_key, value);
    } else if (strcmp(key, "tls_ca") == 0) {
        return copy_value(conf->tls_ca, sizeof conf->tls_ca, value);
    } else if (strcmp(key, "allowed_callers") == 0) {
        if (strcmp(value, "any") == 0)
            conf->allowed_callers = CN_CALLERS_ANY;
        else if (strcmp(value, "peers") == 0)
            conf->allowed_callers = CN_CALLERS_PEERS;
        else
            return -1;
    } else if (strcmp(key, "max_associations_per_ae") == 0) {
        if (parse_uint(value, 0, 4096, &n) != 0)
            return -1;
        conf->max_associations_per_ae = (uint32_t)n;
    } else if (strcmp(key, "max_object_size_mb") == 0) {
        if (parse_uint(value, 0, 1024ul * 1024ul, &n) != 0)
            return -1;
        conf->max_object_size = (uint64_t)n * MB;
    } else if (strcmp(key, "min_free_disk_mb") == 0) {
        if (parse_uint(value, 0, 1024ul * 1024ul * 1024ul, &n) != 0)
            return -1;
        conf->min_free_disk = (uint64_t)n * MB;
    } else if (strcmp(key, "http_port") == 0) {
        if (parse_uint(value, 0, 65535, &n) != 0)
            return -1;
        conf->http_port = (uint16_t)n;
    } else if (strcmp(key, "http_host") == 0) {
        return copy_value(conf->http_host, sizeof conf->http_host, value);
    } else if (strcmp(key, "audit_syslog") == 0) {
        if (value[0] != '\0' && strncmp(value, "udp:", 4) != 0 &&
            strncmp(value, "tcp:", 4) != 0 && strncmp(value, "tls:", 4) != 0)
            return -1;
        return copy_value(conf->audit_syslog, sizeof conf->audit_syslog, value);
    } else {
        return -2;
    }
    return 0;
}

static int set_node_key(struct cn_conf *conf, const char *key, const char *value)
{
    unsigned long n;
    int security = set_security_key(conf, key, value);
    if (security != -2)
        return security;
    if (strcmp(key, "port") == 0) {
        if (parse_uint(value, 1, 65535, &n) != 0)
            return -1;
        conf->port = (uint16_t)n;
    } else if (strcmp(key, "listen_host") == 0) {
        return copy_value(conf->listen_host, sizeof conf->listen_host, value);
    } else if (strcmp(key, "ae_title") == 0) {
        if (!cn_conf_ae_title_is_valid(value))
            return -1;
        return copy_value(conf->ae_title, sizeof conf->ae_title, value);
    } else if (strcmp(key, "state_dir") == 0) {
        return copy_value(conf->state_dir, sizeof conf->state_dir, value);
    } else if (strcmp(key, "database_url") == 0) {
        return copy_value(conf->database_url, sizeof conf->database_url, value);
    } else if (strcmp(key, "sql_dir") == 0) {
        return copy_value(conf->sql_dir, sizeof conf->sql_dir, value);
    } else if (strcmp(key, "gsps") == 0) {
        return parse_on_off(value, &conf->write_gsps);
    } else if (strcmp(key, "model") == 0) {
        return copy_value(conf->model_path, sizeof conf->model_path, value);
    } else if (strcmp(key, "report_probability_min") == 0) {
        return parse_probability(value, &conf->report_probability_min);
    } else if (strcmp(key, "report_rule") == 0) {
        return parse_on_off(value, &conf->report_needs_rule);
    } else if (strcmp(key, "report_small_group_probability_min") == 0) {
        return parse_probability(value, &conf->report_small_group_probability_min);
    } else if (strcmp(key, "workers") == 0) {
        if (strcmp(value, "none") == 0) {
            conf->workers = -1;
            return 0;
        }
        if (parse_uint(value, 0, 256, &n) != 0)
            return -1;
        conf->workers = (int)n;
    } else if (strcmp(key, "worker_lease_s") == 0) {
        if (parse_uint(value, 5, 86400, &n) != 0)
            return -1;
        conf->worker_lease_s = (uint32_t)n;
    } else if (strcmp(key, "artim_timeout_s") == 0) {
        if (parse_uint(value, 1, 3600, &n) != 0)
            return -1;
        conf->artim_timeout_ms = (uint32_t)n * 1000u;
    } else if (strcmp(key, "max_pdu_length") == 0) {
        if (parse_uint(value, MIN_MAX_PDU_LENGTH, MAX_MAX_PDU_LENGTH, &n) != 0)
            return -1;
        conf->max_pdu_length = (uint32_t)n;
    } else if (strcmp(key, "max_associations") == 0) {
        if (parse_uint(value, 1, 4096, &n) != 0)
            return -1;
        conf->max_associations = (uint32_t)n;
    } else if (strcmp(key, "quiet_period_s") == 0) {
        if (parse_uint(value, 0, MAX_QUIET_PERIOD_S, &n) != 0)
            return -1;
        conf->quiet_period_ms = (uint32_t)n * 1000u;
    } else if (strcmp(key, "log_level") == 0) {
        static const char *const levels[] = {"error", "warning", "info", "debug"};
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(value, levels[i]) == 0) {
                conf->log_level = i;
                return 0;
            }
        }
        return -1;
    } else if (strcmp(key, "duplicate_policy") == 0) {
        if (strcmp(value, "keep-first") == 0)
            conf->duplicate_policy = CN_DUPLICATE_KEEP_FIRST;
        else if (strcmp(value, "reject") == 0)
            conf->duplicate_policy = CN_DUPLICATE_REJECT;
        else
            return -1;
    } else {
        return -2;
    }
    return 0;
}

/* "10.0.0.5, 10.1.0.0/16 ::1": addresses separated by commas or spaces. Each is checked
 * as an IPv4 or IPv6 literal with an optional prefix length. */
static int parse_address_list(struct cn_peer *peer, const char *value)
{
    peer->allowed_address_count = 0;
    const char *p = value;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ", \t");
        if (peer->allowed_address_count >= CN_CONF_MAX_ADDRESSES ||
            len >= sizeof peer->allowed_addresses[0])
            return -1;
        char *dst = peer->allowed_addresses[peer->allowed_address_count];
        memcpy(dst, p, len);
        dst[len] = '\0';
        if (!cn_conf_address_is_valid(dst))
            return -1;
        peer->allowed_address_count++;
        p += len;
    }
    return 0;
}

static int set_peer_key(struct cn_peer *peer, const char *key, const char *value)
{
    unsigned long n;
    if (strcmp(key, "host") == 0)
        return copy_value(peer->host, sizeof peer->host, value);
    if (strcmp(key, "port") == 0) {
        if (parse_uint(value, 1, 65535, &n) != 0)
            return -1;
        peer->port = (uint16_t)n;
        return 0;
    }
    if (strcmp(key, "quiet_period_s") == 0) {
        if (parse_uint(value, 1, MAX_QUIET_PERIOD_S, &n) != 0)
            return -1;
        peer->quiet_period_ms = (uint32_t)n * 1000u;
        return 0;
    }
    if (strcmp(key, "tls") == 0)
        return parse_on_off(value, &peer->tls);
    if (strcmp(key, "allowed_addresses") == 0)
        return parse_address_list(peer, value);
    return -2;
}

int cn_conf_set(struct cn_conf *conf, const char *section, const char *key, const char *value,
                char *err, size_t err_len)
{
    int rc;
    if (strcmp(section, "node") == 0) {
        rc = set_node_key(conf, key, value);
    } else if (strncmp(section, "peer ", 5) == 0) {
        const char *name = section + 5;
        if (!cn_conf_ae_title_is_valid(name)) {
            snprintf(err, err_len, "invalid peer name \"%s\"", name);
            return -1;
        }
        struct cn_peer *peer = peer_slot(conf, name);
        if (!peer) {
            snprintf(err, err_len, "too many peers (at most %d)", CN_CONF_MAX_PEERS);
            return -1;
        }
        rc = set_peer_key(peer, key, value);
    } else {
        snprintf(err, err_len, "unknown section [%s]", section);
        return -1;
    }
    if (rc == -2)
        snprintf(err, err_len, "unknown key \"%s\" in [%s]", key, section);
    else if (rc != 0)
        snprintf(err, err_len, "invalid value \"%s\" for \"%s\" in [%s]", value, key, section);
    return rc == 0 ? 0 : -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* The configuration's INI dialect: "[section]" lines, "key = value" lines, blank lines,
 * and comments: whole lines starting with ';' or '#', or the rest of a line after
 * whitespace followed by ';'. Lines of any length up to CONF_MAX_LINE_LEN (paths and
 * database URLs can be long; Debian's inih cuts lines at 199 characters). */
#define CONF_MAX_LINE_LEN (64u * 1024u)

int cn_conf_load_stream(struct cn_conf *conf, FILE *f, const char *name, char *err,
                        size_t err_len)
{
    char section[64 + CN_CONF_AE_SIZE] = "";
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int line_number = 0;
    int rc = 0;
    char detail[512];
    while ((len = getline(&line, &cap, f)) >= 0) {
        line_number++;
        if ((size_t)len > CONF_MAX_LINE_LEN) {
            snprintf(err, err_len, "invalid configuration in \"%s\" at line %d: line longer "
                     "than %u characters", name, line_number, CONF_MAX_LINE_LEN);
            rc = -1;
            break;
        }
        char *text = trim(line);
        if (*text == '\0' || *text == ';' || *text == '#')
            continue;
        if (*text == '[') {
            char *end = strchr(text, ']');
            if (!end || end[1] != '\0' || (size_t)(end - text - 1) >= sizeof section) {
                snprintf(err, err_len, "invalid configuration in \"%s\" at line %d: %s", name,
                         line_number, end ? "section name too long" : "syntax error");
                rc = -1;
                break;
            }
            *end = '\0';
            snprintf(section, sizeof section, "%s", trim(text + 1));
            continue;
        }
        char *eq = strchr(text, '=');
        if (!eq) {
            snprintf(err, err_len, "invalid configuration in \"%s\" at line %d: syntax error",
                     name, line_number);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(text);
        char *value = eq + 1;
        for (char *p = value; *p; p++) {
            if (*p == ';' && (p == value || p[-1] == ' ' || p[-1] == '\t')) {
                *p = '\0';
                break;
            }
        }
        value = trim(value);
        if (cn_conf_set(conf, section, key, value, detail, sizeof detail) != 0) {
            snprintf(err, err_len, "invalid configuration in \"%s\" at line %d: %s", name,
                     line_number, detail);
            rc = -1;
            break;
        }
    }
    free(line);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < conf->peer_count; i++) {
        if (conf->peers[i].host[0] == '\0' || conf->peers[i].port == 0) {
            snprintf(err, err_len, "peer \"%s\" in \"%s\" needs host and port",
                     conf->peers[i].ae_title, name);
            return -1;
        }
    }
    return 0;
}

int cn_conf_load(struct cn_conf *conf, const char *path, int required, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!required && errno == ENOENT)
            return 0;
        snprintf(err, err_len, "could not open configuration file \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }
    int rc = cn_conf_load_stream(conf, f, path, err, err_len);
    fclose(f);
    if (rc == 0)
        snprintf(conf->source_path, sizeof conf->source_path, "%s", path);
    return rc;
}

int cn_conf_add_peer_spec(struct cn_conf *conf, const char *spec, char *err, size_t err_len)
{
    const char *eq = strchr(spec, '=');
    const char *colon = strrchr(spec, ':');
    if (!eq || !colon || colon < eq) {
        snprintf(err, err_len, "invalid peer \"%s\": expected AE=HOST:PORT", spec);
        return -1;
    }
    char ae[CN_CONF_AE_SIZE];
    size_t ae_len = (size_t)(eq - spec);
    size_t host_len = (size_t)(colon - eq - 1);
    if (ae_len == 0 || ae_len >= sizeof ae || host_len == 0 || host_len >= CN_CONF_HOST_SIZE) {
        snprintf(err, err_len, "invalid peer \"%s\": expected AE=HOST:PORT", spec);
        return -1;
    }
    memcpy(ae, spec, ae_len);
    ae[ae_len] = '\0';
    unsigned long port;
    if (!cn_conf_ae_title_is_valid(ae) || parse_uint(colon + 1, 1, 65535, &port) != 0) {
        snprintf(err, err_len, "invalid peer \"%s\": bad AE title or port", spec);
        return -1;
    }
    struct cn_peer *peer = peer_slot(conf, ae);
    if (!peer) {
        snprintf(err, err_len, "too many peers (at most %d)", CN_CONF_MAX_PEERS);
        return -1;
    }
    const char *host = eq + 1;
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++; /* RFC 3986 3.2.2: an IPv6 literal in brackets */
        host_len -= 2;
    } else if (memchr(host, '[', host_len) || memchr(host, ']', host_len)) {
        snprintf(err, err_len, "invalid peer \"%s\": unbalanced brackets in the host", spec);
        return -1;
    }
    memcpy(peer->host, host, host_len);
    peer->host[host_len] = '\0';
    peer->port = (uint16_t)port;
    return 0;
}

const struct cn_peer *cn_conf_find_peer(const struct cn_conf *conf, const char *ae_title)
{
    for (size_t i = 0; i < conf->peer_count; i++) {
        if (strcmp(conf->peers[i].ae_title, ae_title) == 0)
            return &conf->peers[i];
    }
    return NULL;
}

uint32_t cn_conf_quiet_period_ms(const struct cn_conf *conf, const char *calling_ae)
{
    const struct cn_peer *peer = cn_conf_find_peer(conf, calling_ae);
    return peer && peer->quiet_period_ms ? peer->quiet_period_ms : conf->quiet_period_ms;
}
