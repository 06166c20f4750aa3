/* calcnode configuration: an INI file whose keys the command line overrides.
 *
 * File layout (see conf/calcnode.conf, annotated):
 *   [node]        port, listen_host, ae_title, state_dir, database_url, sql_dir, workers,
 *                 artim_timeout_s, max_pdu_length, max_associations, quiet_period_s,
 *                 log_level, duplicate_policy, model, report_probability_min, report_rule,
 *                 report_small_group_probability_min, gsps, worker_lease_s,
 *                 tls_port, tls_cert, tls_key, tls_ca, allowed_callers,
 *                 max_associations_per_ae, max_object_size_mb, min_free_disk_mb,
 *                 http_port, http_host, audit_syslog
 *   [peer AE]     host, port, quiet_period_s, tls, allowed_addresses: where results for
 *                 studies sent by calling AE title AE go, how long such a study may stay
 *                 silent, whether results go over TLS, and from which addresses AE may call
 *
 * Main thread only. Functions return 0 on success or -1 with a message in err. */
#ifndef CN_APP_CONF_H
#define CN_APP_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CN_CONF_AE_SIZE 17        /* PS3.5 Table 6.2-1 AE: 16 characters */
#define CN_CONF_HOST_SIZE 256
#define CN_CONF_PATH_SIZE 4096
#define CN_CONF_URL_SIZE 1024
#define CN_CONF_MAX_PEERS 64
#define CN_CONF_MAX_ADDRESSES 16 /* allowed_addresses entries per peer */
#define CN_CONF_DEFAULT_PATH "conf/calcnode.conf"

struct cn_peer {
    char ae_title[CN_CONF_AE_SIZE];
    char host[CN_CONF_HOST_SIZE];
    uint16_t port;
    uint32_t quiet_period_ms; /* 0: the node's quiet_period_s */
    int tls;                  /* results are sent over TLS (the node's cert, key and CA) */
    /* Addresses this AE may call from: IPv4/IPv6 literals, optionally /prefix. None: any. */
    char allowed_addresses[CN_CONF_MAX_ADDRESSES][64];
    size_t allowed_address_count;
};

enum cn_allowed_callers {
    CN_CALLERS_ANY = 0,    /* any calling AE title */
    CN_CALLERS_PEERS = 1,  /* only AE titles with a [peer] section (and its addresses) */
};

enum cn_duplicate_policy {
    CN_DUPLICATE_KEEP_FIRST = 0, /* differing bytes kept aside under STATE/conflicts, Success */
    CN_DUPLICATE_REJECT = 1,     /* differing bytes answered with a failure status */
};

struct cn_conf {
    char source_path[CN_CONF_PATH_SIZE]; /* the file read, empty when none */
    char listen_host[CN_CONF_HOST_SIZE];
    uint16_t port;
    char ae_title[CN_CONF_AE_SIZE];
    char state_dir[CN_CONF_PATH_SIZE];
    char database_url[CN_CONF_URL_SIZE]; /* empty: embedded cluster in STATE/pg */
    char sql_dir[CN_CONF_PATH_SIZE];
    char model_path[CN_CONF_PATH_SIZE];  /* risk model file; "none": no scores */
    double report_probability_min;       /* with a model: a reported cluster's least
                                            probability of malignancy, in (0, 1] */
    int report_needs_rule;               /* report_rule: the analysis rule must hold too */
    double report_small_group_probability_min; /* with a model and the rule: a reported
                                            small group's least probability, in (0, 1] */
    int write_gsps;                      /* a GSPS per analysed image beside the SRs */
    int workers;                         /* 0: the number of cores; -1: none (receive only) */
    uint32_t worker_lease_s;             /* how long a job stays with a silent worker */
    uint32_t artim_timeout_ms;
    uint32_t max_pdu_length;
    uint32_t max_associations;
    uint32_t quiet_period_ms;            /* study complete after this long without an instance */
    int log_level;                       /* 0 error, 1 warning, 2 info, 3 debug */
    enum cn_duplicate_policy duplicate_policy;
    /* DICOM TLS (PS3.15 Annex B.9, BCP 195): tls_port 0 is off. tls_ca set: client
     * certificates signed by it are required, and peers' server certificates checked. */
    uint16_t tls_port;
    char tls_cert[CN_CONF_PATH_SIZE];
    char tls_key[CN_CONF_PATH_SIZE];
    char tls_ca[CN_CONF_PATH_SIZE];
    /* Access control and limits */
    enum cn_allowed_callers allowed_callers;
    uint32_t max_associations_per_ae;    /* 0: only the global max_associations */
    uint64_t max_object_size;            /* bytes of one data set; 0: no limit */
    uint64_t min_free_disk;              /* bytes free under state_dir to accept associations */
    /* Operations */
    uint16_t http_port;                  /* 0: no HTTP server */
    char http_host[CN_CONF_HOST_SIZE];
    char audit_syslog[CN_CONF_HOST_SIZE]; /* "udp:", "tls:" or "tcp:" HOST:PORT; empty: off */
    struct cn_peer peers[CN_CONF_MAX_PEERS];
    size_t peer_count;
};

/* Fills *conf with the built-in defaults (port 11112, AE CALCNODE, state ./var, ...). */
void cn_conf_defaults(struct cn_conf *conf);

/* Reads an INI file over *conf. A missing file is an error only when required is set
 * (an explicit -c); unknown sections or keys and bad values are errors naming the line. */
int cn_conf_load(struct cn_conf *conf, const char *path, int required, char *err, size_t err_len);

/* Sets one key of a section ("node" or "peer AE") from its text, with the checks of the
 * file. Returns 0, or -1 with err filled. */
int cn_conf_set(struct cn_conf *conf, const char *section, const char *key, const char *value,
                char *err, size_t err_len);

/* The same from an open stream; name is used in messages. */
int cn_conf_load_stream(struct cn_conf *conf, FILE *f, const char *name, char *err,
                        size_t err_len);

/* Adds or replaces a peer from "AE=HOST:PORT" (the --peer option). */
int cn_conf_add_peer_spec(struct cn_conf *conf, const char *spec, char *err, size_t err_len);

/* Finds the peer whose AE title is ae_title; NULL when none. Borrowed pointer. */
const struct cn_peer *cn_conf_find_peer(const struct cn_conf *conf, const char *ae_title);

/* The quiet period for studies sent by calling_ae: its peer's, else the node's. */
uint32_t cn_conf_quiet_period_ms(const struct cn_conf *conf, const char *calling_ae);

/* Checks an allowed_addresses entry: an IPv4 or IPv6 literal with an optional /prefix. */
int cn_conf_address_is_valid(const char *text);

/* Checks the value of an AE title: 1..16 characters of the default repertoire without
 * backslash or control characters, not all spaces (PS3.5 Table 6.2-1). */
int cn_conf_ae_title_is_valid(const char *ae_title);

#endif
