/* node/risk: BI-RADS assessment categories from a calibrated probability of malignancy.
 *
 * ACR BI-RADS Atlas, 5th edition, likelihood of malignancy per category:
 *   "3"  probably benign        p <= 2 %
 *   "4A" low suspicion          2 %  < p <= 10 %
 *   "4B" moderate suspicion     10 % < p <= 50 %
 *   "4C" high suspicion         50 % < p <  95 %
 *   "5"  highly suggestive      p >= 95 %
 *   "2"  benign: a cluster whose descriptors are clearly benign (calc/descriptors.h)
 *        AND whose probability is in the "3" bin. Descriptors only ever lower a "3" to a
 *        "2"; they never lower a suspicious probability (sensitivity first).
 * A probability that is NaN or outside [0, 1] gets the most suspicious category, "5",
 * never a benign one. Pure functions, any thread.
 */
#ifndef CN_RISK_CATEGORY_H
#define CN_RISK_CATEGORY_H

#define CN_RISK_CATEGORY_3_MAX 0.02
#define CN_RISK_CATEGORY_4A_MAX 0.10
#define CN_RISK_CATEGORY_4B_MAX 0.50
#define CN_RISK_CATEGORY_5_MIN 0.95

enum cn_risk_category {
    CN_RISK_CATEGORY_2,
    CN_RISK_CATEGORY_3,
    CN_RISK_CATEGORY_4A,
    CN_RISK_CATEGORY_4B,
    CN_RISK_CATEGORY_4C,
    CN_RISK_CATEGORY_5,
    CN_RISK_CATEGORY_COUNT
};

/* The category of a probability; clearly_benign nonzero allows "2" (see above). */
enum cn_risk_category cn_risk_category_of(double probability, int clearly_benign);

/* "2", "3", "4A", "4B", "4C", "5"; "unknown" out of range. Never NULL. */
const char *cn_risk_category_name(int category);

#endif
