/* Access control and association limits: see access.h. */
#include "serve/access.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define IPV6_LEN 16
#define IPV6_BITS 128u
#define IPV4_BITS 32u
/* An IPv4 address a.b.c.d is compared as the IPv4-mapped IPv6 address ::ffff:a.b.c.d
 * (RFC 4291 2.5.5.2): its first 96 bits are this prefix. */
#define IPV4_MAPPED_PREFIX_BITS 96u
static const uint8_t IPV4_MAPPED_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
/* Longest literal we parse: a full IPv6 address with an embedded IPv4 one and a zone. */
#define ADDRESS_TEXT_SIZE 64
#define PREFIX_MAX_DIGITS 3 /* "/128" */
#define MIB_SHIFT 20        /* bytes to MiB, the unit of min_free_disk_mb */

/* An address as 16 bytes (IPv4 mapped) with the number of significant leading bits. */
struct address {
    uint8_t bytes[IPV6_LEN];
    unsigned prefix_bits;
};

/* Parses an IPv4 or IPv6 literal of len characters into *out (all bits significant);
 * allow_zone: an IPv6 "%zone" suffix is ignored. Returns 1 (IPv4), 0 (IPv6) or -1. */
static int parse_literal(const char *text, size_t len, int allow_zone, struct address *out)
{
    char buf[ADDRESS_TEXT_SIZE];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *zone = strchr(buf, '%');
    if (zone) {
        if (!allow_zone)
            return -1;
        *zone = '\0';
    }
    uint8_t v4[4];
    if (!zone && inet_pton(AF_INET, buf, v4) == 1) {
        memcpy(out->bytes, IPV4_MAPPED_PREFIX, sizeof IPV4_MAPPED_PREFIX);
        memcpy(out->bytes + sizeof IPV4_MAPPED_PREFIX, v4, sizeof v4);
        out->prefix_bits = IPV6_BITS;
        return 1;
    }
    if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
        out->prefix_bits = IPV6_BITS;
        return 0;
    }
    return -1;
}

/* "ADDRESS[/BITS]" with BITS at most 32 for IPv4 and 128 for IPv6. Returns 0 or -1. */
static int parse_rule(const char *text, struct address *out)
{
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    int rc = parse_literal(text, len, 0, out);
    if (rc < 0)
        return -1;
    int is_ipv4 = rc == 1;
    if (!slash)
        return 0;
    const char *p = slash + 1;
    unsigned bits = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits == PREFIX_MAX_DIGITS)
            return -1;
        bits = bits * 10u + (unsigned)(*p - '0');
    }
    if (bits > IPV6_BITS)
        return -1;
    if (digits == 0 || *p != '\0')
        return -1;
    if (is_ipv4) {
        if (bits > IPV4_BITS)
            return -1;
        bits += IPV4_MAPPED_PREFIX_BITS;
    }
    out->prefix_bits = bits;
    return 0;
}

static int in_prefix(const struct address *rule, const struct address *a)
{
    unsigned full = rule->prefix_bits / 8u;
    unsigned rest = rule->prefix_bits % 8u;
    if (memcmp(rule->bytes, a->bytes, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xffu << (8u - rest));
    return (rule->bytes[full] & mask) == (a->bytes[full] & mask);
}

int cn_access_address_in(const char *rule, const char *address)
{
    struct address r, a;
    if (!rule || parse_rule(rule, &r) != 0)
        return -1;
    if (!address || parse_literal(address, strlen(address), 1, &a) < 0)
        return -2;
    return in_prefix(&r, &a);
}

int cn_access_peer_address(const char *peer_name, char *out, size_t out_size)
{
    const char *colon = peer_name ? strrchr(peer_name, ':') : NULL;
    if (!colon || out_size == 0)
        return -1;
    size_t len = (size_t)(colon - peer_name);
    if (len >= out_size)
        return -1;
    memcpy(out, peer_name, len);
    out[len] = '\0';
    return 0;
}

static const struct cn_server_caller *find_caller(const struct cn_server_config *config,
                                                  const char *calling_ae)
{
    for (size_t i = 0; i < config->allowed_caller_count; i++)
        if (cn_ae_title_equal(config->allowed_callers[i].ae_title, calling_ae))
            return &config->allowed_callers[i];
    return NULL;
}

static int address_allowed(const struct cn_server_caller *caller, const char *address)
{
    if (caller->address_count == 0)
        return 1;
    for (size_t i = 0; i < caller->address_count && i < CN_SERVER_MAX_CALLER_ADDRESSES; i++)
        if (cn_access_address_in(caller->addresses[i], address) == 1)
            return 1;
    return 0;
}

static int refuse(struct cn_access_decision *out, uint8_t result, uint8_t source, uint8_t reason)
{
    /* PS3.8 Table 9-21 */
    out->rj.result = result;
    out->rj.source = source;
    out->rj.reason = reason;
    return 1;
}

static int refuse_permanently(struct cn_access_decision *out, uint8_t reason)
{
    return refuse(out, CN_RJ_PERMANENT, CN_RJ_SOURCE_USER, reason);
}

static int refuse_for_now(struct cn_access_decision *out)
{
    return refuse(out, CN_RJ_TRANSIENT, CN_RJ_SOURCE_PROVIDER_PRESENTATION,
                  CN_RJ_PRESENTATION_LOCAL_LIMIT_EXCEEDED);
}

int cn_access_check(const struct cn_server_config *config, const struct cn_access_request *rq,
                    struct cn_access_decision *out)
{
    memset(out, 0, sizeof *out);
    const char *address = rq->peer_address ? rq->peer_address : "";
    if (!cn_ae_title_equal(rq->called_ae, config->ae_title)) {
        snprintf(out->reason, sizeof out->reason, "called AE title is not ours (%s)",
                 config->ae_title);
        return refuse_permanently(out, CN_RJ_USER_CALLED_AE_NOT_RECOGNIZED);
    }
    if (config->allowed_callers) {
        const struct cn_server_caller *caller = find_caller(config, rq->calling_ae);
        if (!caller) {
            snprintf(out->reason, sizeof out->reason, "calling AE title is not an allowed caller");
            return refuse_permanently(out, CN_RJ_USER_CALLING_AE_NOT_RECOGNIZED);
        }
        if (!address_allowed(caller, address)) {
            snprintf(out->reason, sizeof out->reason,
                     "address %s is not allowed for this calling AE title", address);
            return refuse_permanently(out, CN_RJ_USER_CALLING_AE_NOT_RECOGNIZED);
        }
    }
    if (rq->stopping) {
        snprintf(out->reason, sizeof out->reason, "shutting down");
        return refuse_for_now(out);
    }
    if (rq->open_count >= config->max_associations) {
        snprintf(out->reason, sizeof out->reason,
                 "too many associations (max_associations %u reached)", config->max_associations);
        return refuse_for_now(out);
    }
    if (config->max_associations_per_ae > 0 &&
        rq->open_for_calling_ae >= config->max_associations_per_ae) {
        snprintf(out->reason, sizeof out->reason,
                 "too many associations from this calling AE title "
                 "(max_associations_per_ae %u reached)",
                 config->max_associations_per_ae);
        return refuse_for_now(out);
    }
    if (config->min_free_disk > 0 && rq->free_disk_known && rq->free_disk < config->min_free_disk) {
        snprintf(out->reason, sizeof out->reason, "free disk %llu MiB below min_free_disk_mb %llu",
                 (unsigned long long)(rq->free_disk >> MIB_SHIFT),
                 (unsigned long long)(config->min_free_disk >> MIB_SHIFT));
        return refuse_for_now(out);
    }
    return 0;
}
