/* User information item codec, internal to node/ul (used by pdu_assoc.c). */
#ifndef CN_UL_PDU_USER_H
#define CN_UL_PDU_USER_H

#include <stddef.h>

#include "ul/pdu.h"
#include "ul/wire.h"

/* Decode the value of a user information item (p[0..n), after its 4-byte
 * header) into *u (overwritten). is_rq selects the A-ASSOCIATE-RQ flavour
 * (user identity 0x58) or the AC flavour (user identity 0x59). Unknown sub-items are skipped.
 * Returns 0 or a negative enum cn_ul_error. */
int cn_pdu_decode_user_info(const uint8_t *p, size_t n, struct cn_user_info *u, int is_rq);

/* Append the whole user information item (header included) to w.
 * Returns 0 or a negative enum cn_ul_error (CN_UL_E_BUFFER on overflow). */
int cn_pdu_encode_user_info(struct cn_wr *w, const struct cn_user_info *u, int is_rq);

#endif
