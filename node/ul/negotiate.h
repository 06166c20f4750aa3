/* Presentation context negotiation (PS3.8 9.3.2.2, 9.3.3.2; PS3.7 D.3.3.4).
 * Pure functions over caller-owned objects; any thread. */
#ifndef CN_UL_NEGOTIATE_H
#define CN_UL_NEGOTIATE_H

#include <stddef.h>

#include "ul/assoc.h"
#include "ul/pdu.h"

/* Acceptor: answer an A-ASSOCIATE-RQ with our tables (ul/sop.h).
 * - Called AE title other than config->ae_title: reject, result 1
 *   (permanent), source 1 (service user), reason 7 (called AE title not
 *   recognized) (PS3.8 Table 9-21).
 * - Application context other than CN_APPLICATION_CONTEXT_NAME: reject,
 *   result 1, source 1, reason 2.
 * - Otherwise each presentation context gets result 0 with the first of the
 *   peer's transfer syntaxes (in the peer's order) found in our table,
 *   3 when the abstract syntax is not ours, 4 when none of its transfer
 *   syntaxes is (PS3.8 Table 9-18). SCP/SCU role selection items for
 *   accepted abstract syntaxes are answered: the requestor may be SCU when
 *   it proposed so, never SCP (we do not act as SCU on its association).
 *   Our maximum length, implementation class UID and version name are set.
 * rq is borrowed; *ac and *rj are overwritten.
 * Returns 0 (accept: *ac filled) or 1 (reject: *rj filled). */
int cn_negotiate(const struct cn_assoc_config *config, const struct cn_assoc_rq *rq,
                 struct cn_assoc_ac *ac, struct cn_assoc_rj *rj);

/* A proposed context for the requestor: one abstract syntax with its
 * transfer syntaxes in order of preference. Strings are borrowed. */
struct cn_proposal {
    const char *abstract_syntax;
    const char *const *transfer_syntaxes;
    size_t ts_count;
};

/* Requestor: fill *rq (overwritten) with the application context, the
 * called AE title, our AE title as calling, our maximum length and
 * implementation identity, and one presentation context per proposal with
 * IDs 1, 3, 5, ... Returns 0, or CN_UL_E_TOO_MANY (more than
 * CN_PDU_MAX_PC_COUNT proposals or CN_PDU_MAX_TS_PER_PC transfer
 * syntaxes), CN_UL_E_UID_LENGTH, CN_UL_E_ARGUMENT (no proposal, or one
 * without transfer syntaxes). */
int cn_negotiate_build_rq(const struct cn_assoc_config *config, const char *called_ae,
                          const struct cn_proposal *proposals, size_t count,
                          struct cn_assoc_rq *rq);

/* The accepted context for pc_id in ac, or NULL when absent or not
 * accepted. */
const struct cn_pc_ac *cn_negotiate_find_accepted(const struct cn_assoc_ac *ac,
                                                  unsigned pc_id);

#endif
