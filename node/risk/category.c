#include "risk/category.h"

static const char *const category_names[CN_RISK_CATEGORY_COUNT] = {
    [CN_RISK_CATEGORY_2] = "2",   [CN_RISK_CATEGORY_3] = "3",   [CN_RISK_CATEGORY_4A] = "4A",
    [CN_RISK_CATEGORY_4B] = "4B", [CN_RISK_CATEGORY_4C] = "4C", [CN_RISK_CATEGORY_5] = "5",
};

enum cn_risk_category cn_risk_category_of(double p, int clearly_benign)
{
    if (!(p >= 0.0 && p <= 1.0))
        return CN_RISK_CATEGORY_5;
    if (p <= CN_RISK_CATEGORY_3_MAX)
        return clearly_benign ? CN_RISK_CATEGORY_2 : CN_RISK_CATEGORY_3;
    if (p <= CN_RISK_CATEGORY_4A_MAX)
        return CN_RISK_CATEGORY_4A;
    if (p <= CN_RISK_CATEGORY_4B_MAX)
        return CN_RISK_CATEGORY_4B;
    if (p < CN_RISK_CATEGORY_5_MIN)
        return CN_RISK_CATEGORY_4C;
    return CN_RISK_CATEGORY_5;
}

const char *cn_risk_category_name(int category)
{
    if (category < 0 || category >= CN_RISK_CATEGORY_COUNT)
        return "unknown";
    return category_names[category];
}
