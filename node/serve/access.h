/* node/serve: who may open an association, and when (access control and limits).
 * Pure functions over caller-owned objects: no I/O, no clock, no global state; any
 * thread. The server gathers the facts (AE titles, peer address, association counts,
 * free disk) and applies the verdict; this module alone decides.
 *
 * Rules, in the order they are applied (the first that fails decides, so a peer that
 * can never succeed learns it at once instead of retrying a transient refusal):
 *   1. called AE title is not ours         -> permanent, service user, reason 7
 *   2. calling AE title not in the allowed list (when there is a list)
 *                                          -> permanent, service user, reason 3
 *   3. peer address not among the calling AE's allowed addresses (when it has any)
 *                                          -> permanent, service user, reason 3
 *   4. the server is shutting down         -> transient, service provider
 *                                             (presentation), reason 2
 *   5. max_associations already open       -> the same
 *   6. max_associations_per_ae already open for this calling AE title -> the same
 *   7. known free disk below min_free_disk -> the same
 * (PS3.8 Table 9-21: result 1 rejected-permanent / 2 rejected-transient; source 1 service
 * user, 3 service provider (presentation related); reasons 3 calling-AE-title-not-
 * recognized, 7 called-AE-title-not-recognized, 2 local-limit-exceeded.)
 *
 * Rule 1 is also the first check of cn_negotiate (node/ul), which stays the Upper Layer's
 * own contract; both compare with cn_ae_title_equal, and the server applies this module
 * first, so its answer is the one a peer sees. Free disk is that of the file system
 * holding the state directory itself (spool/ and store/ are expected on it).
 *
 * AE titles compare as in cn_ae_title_equal (leading and trailing spaces are not
 * significant, case is). Addresses are IPv4 or IPv6 literals; a rule may carry a /prefix
 * length (none: the whole address). An IPv4-mapped IPv6 peer (::ffff:10.0.0.5) is the
 * IPv4 peer 10.0.0.5 for IPv4 rules, and an IPv4 peer is ::ffff:a.b.c.d for IPv6 rules. */
#ifndef CN_SERVE_ACCESS_H
#define CN_SERVE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "serve/server.h"
#include "ul/pdu.h"

/* The facts about one A-ASSOCIATE-RQ. Strings borrowed for the call. */
struct cn_access_request {
    const char *calling_ae; /* as received (spaces allowed) */
    const char *called_ae;
    const char *peer_address;     /* an IPv4 or IPv6 literal, no port */
    uint32_t open_count;          /* associations open now, this one not included */
    uint32_t open_for_calling_ae; /* of those, with the same calling AE title */
    int free_disk_known;          /* 0: no sample yet, the disk rule is skipped */
    uint64_t free_disk;           /* bytes available under the state directory */
    int stopping;                 /* the server is shutting down */
};

#define CN_ACCESS_REASON_SIZE 160

struct cn_access_decision {
    struct cn_assoc_rj rj;              /* the A-ASSOCIATE-RJ fields when refused */
    char reason[CN_ACCESS_REASON_SIZE]; /* one line for the administrator; "" if accepted */
};

/* Applies the rules above with config's ae_title, allowed_callers,
 * allowed_caller_count, max_associations, max_associations_per_ae and min_free_disk
 * (config borrowed for the call). Returns 0 (accept; *out's reason empty) or 1 (refuse:
 * out->rj and out->reason filled). */
int cn_access_check(const struct cn_server_config *config, const struct cn_access_request *rq,
                    struct cn_access_decision *out);

/* Whether address lies in rule ("10.0.0.0/8", "10.0.0.5", "fd00::/8", "::1"): 1 yes,
 * 0 no, -1 when rule is not a valid address with an optional prefix length in range,
 * -2 when address is not a valid address. An IPv6 zone ("fe80::1%eth0") on address is
 * ignored. */
int cn_access_address_in(const char *rule, const char *address);

/* The address part of a "host:port" peer name as node/net writes it ("10.0.0.5:4242",
 * "::1:4242", "::ffff:10.0.0.5:4242"): everything before the last colon, copied into
 * out[out_size]. Returns 0, or -1 when there is no colon or it does not fit. */
int cn_access_peer_address(const char *peer_name, char *out, size_t out_size);

#endif
