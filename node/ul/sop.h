/* The abstract and transfer syntaxes calcnode accepts (PS3.4 Annex A and
 * B.5, PS3.5 Section 10 and Annex A). Constant tables; any thread. */
#ifndef CN_UL_SOP_H
#define CN_UL_SOP_H

#include <stddef.h>

#define CN_UID_VERIFICATION "1.2.840.10008.1.1"
#define CN_UID_IMPLICIT_VR_LE "1.2.840.10008.1.2"
#define CN_UID_EXPLICIT_VR_LE "1.2.840.10008.1.2.1"
#define CN_UID_DEFLATED_EXPLICIT_VR_LE "1.2.840.10008.1.2.1.99"
#define CN_UID_EXPLICIT_VR_BE "1.2.840.10008.1.2.2"
#define CN_UID_SEGMENTATION_STORAGE "1.2.840.10008.5.1.4.1.1.66.4"
#define CN_UID_COMPREHENSIVE_SR_STORAGE "1.2.840.10008.5.1.4.1.1.88.33"
#define CN_UID_MAMMOGRAPHY_CAD_SR_STORAGE "1.2.840.10008.5.1.4.1.1.88.50"
#define CN_UID_GSPS_STORAGE "1.2.840.10008.5.1.4.1.1.11.1"

/* A named UID (static strings). */
struct cn_named_uid {
    const char *uid;
    const char *name;
};

/* Every abstract syntax we accept as SCP: Verification first, then the
 * storage SOP classes. *count receives the number of entries. */
const struct cn_named_uid *cn_sop_abstract_syntaxes(size_t *count);
/* Every transfer syntax we accept (stored as sent). */
const struct cn_named_uid *cn_sop_transfer_syntaxes(size_t *count);

/* The storage SOP classes whose images are analysed (as calcnode_is_analysable in
 * sql/003_work.sql, which tests/db checks against this table). */
const struct cn_named_uid *cn_sop_analysed_classes(size_t *count);
int cn_sop_is_analysed_class(const char *uid);

/* The SOP classes of the result objects calcnode creates and sends back as SCU, all in
 * Explicit VR Little Endian (the only transfer syntax proposed for them). */
const struct cn_named_uid *cn_sop_result_classes(size_t *count);
#define CN_SOP_RESULT_TRANSFER_SYNTAX CN_UID_EXPLICIT_VR_LE

/* The table entry for uid, or NULL when we do not accept it. uid may be
 * NULL (returns NULL). */
const struct cn_named_uid *cn_sop_find_abstract(const char *uid);
const struct cn_named_uid *cn_sop_find_transfer(const char *uid);

#endif
