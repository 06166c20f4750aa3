#include "risk/risk.h"

#include <stdio.h>

static const struct {
    int code;
    const char *message;
} risk_errors[] = {
    {CN_RISK_OK, "success"},
    {CN_RISK_ERR_INVALID_ARGUMENT, "invalid argument"},
    {CN_RISK_ERR_IO, "input/output error"},
    {CN_RISK_ERR_FORMAT, "malformed file"},
    {CN_RISK_ERR_VERSION, "unsupported format version"},
    {CN_RISK_ERR_FEATURES, "feature names or order differ from this build"},
    {CN_RISK_ERR_XGBOOST, "xgboost error"},
    {CN_RISK_ERR_OUT_OF_MEMORY, "out of memory"},
    {CN_RISK_ERR_DATA, "unusable training data"},
};

const char *cn_risk_strerror(int code)
{
    for (size_t i = 0; i < sizeof risk_errors / sizeof risk_errors[0]; i++)
        if (risk_errors[i].code == code)
            return risk_errors[i].message;
    return "unknown error";
}

int cn_risk_fail(int code, char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}
