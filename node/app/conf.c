#include "app/conf.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
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
#define MAX_QUIET_PERIOD_S 86400u

void cn_conf_defaults(struct cn_conf *conf)
{
    memset(conf, 0, sizeof *conf);
    snprintf(conf->listen_host, sizeof conf->listen_host, "0.0.0.0");
    conf->port = DEFAULT_PORT;
    snprintf(conf->ae_title, sizeof conf->ae_title, "%s", DEFAULT_AE_TITLE);
    snprintf(conf->state_dir, sizeof conf->state_dir, "%s", DEFAULT_STATE_DIR);
    snprintf(conf->sql_dir, sizeof conf->sql_dir, "%s/sql", CALCNODE_SOURCE_DIR);
    conf->artim_timeout_ms = DEFAULT_ARTIM_TIMEOUT_MS;
    conf->max_pdu_length = DEFAULT_MAX_PDU_LENGTH;
    conf->max_associations = DEFAULT_MAX_ASSOCIATIONS;
    conf->quiet_period_ms = DEFAULT_QUIET_PERIOD_MS;
    conf->log_level = 2;
    conf->duplicate_policy = CN_DUPLICATE_KEEP_FIRST;
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

struct load_state {
    struct cn_conf *conf;
    char *err;
    size_t err_len;
    int failed;
};

static int set_node_key(struct cn_conf *conf, const char *key, const char *value)
{
    unsigned long n;
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
    } else if (strcmp(key, "workers") == 0) {
        if (parse_uint(value, 0, 256, &n) != 0)
            return -1;
        conf->workers = (int)n;
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
    return -2;
}

static int handle_ini_entry(void *user, const char *section, const char *key, const char *value)
{
    struct load_state *st = user;
    int rc;
    if (strcmp(section, "node") == 0) {
        rc = set_node_key(st->conf, key, value);
    } else if (strncmp(section, "peer ", 5) == 0) {
        const char *name = section + 5;
        if (!cn_conf_ae_title_is_valid(name)) {
            snprintf(st->err, st->err_len, "invalid peer name \"%s\"", name);
            st->failed = 1;
            return 0;
        }
        struct cn_peer *peer = peer_slot(st->conf, name);
        if (!peer) {
            snprintf(st->err, st->err_len, "too many peers (at most %d)", CN_CONF_MAX_PEERS);
            st->failed = 1;
            return 0;
        }
        rc = set_peer_key(peer, key, value);
    } else {
        snprintf(st->err, st->err_len, "unknown section [%s]", section);
        st->failed = 1;
        return 0;
    }
    if (rc == -2)
        snprintf(st->err, st->err_len, "unknown key \"%s\" in [%s]", key, section);
    else if (rc != 0)
        snprintf(st->err, st->err_len, "invalid value \"%s\" for \"%s\" in [%s]", value, key,
                 section);
    if (rc != 0) {
        st->failed = 1;
        return 0;
    }
    return 1;
}

int cn_conf_load_stream(struct cn_conf *conf, FILE *f, const char *name, char *err,
                        size_t err_len)
{
    char detail[512] = "";
    struct load_state st = {conf, detail, sizeof detail, 0};
    int line = ini_parse_file(f, handle_ini_entry, &st);
    if (line != 0 || st.failed) {
        snprintf(err, err_len, "invalid configuration in \"%s\" at line %d: %s", name, line,
                 detail[0] ? detail : "syntax error");
        return -1;
    }
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
    memcpy(peer->host, eq + 1, host_len);
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
