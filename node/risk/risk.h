/* node/risk: malignancy risk of calcification clusters (DESIGN.md section 7, step 7).
 *
 * Shared by the layer's modules: the error codes. Every function of the layer returns 0
 * on success or a negative enum cn_risk_error, and writes what failed, PostgreSQL style
 * (lower case, no trailing period, naming the file and the reason), into the caller's
 * err[err_len] buffer when one is given. */
#ifndef CN_RISK_RISK_H
#define CN_RISK_RISK_H

#include <stdarg.h>
#include <stddef.h>

/* Append only. */
enum cn_risk_error {
    CN_RISK_OK = 0,
    CN_RISK_ERR_INVALID_ARGUMENT = -1, /* a NULL pointer or an option out of its range */
    CN_RISK_ERR_IO = -2,               /* a file could not be read or written */
    CN_RISK_ERR_FORMAT = -3,           /* malformed or truncated model file or CSV */
    CN_RISK_ERR_VERSION = -4,          /* a model file of another format version */
    CN_RISK_ERR_FEATURES = -5,         /* feature names or order differ from this build */
    CN_RISK_ERR_XGBOOST = -6,          /* XGBoost refused a call */
    CN_RISK_ERR_OUT_OF_MEMORY = -7,
    CN_RISK_ERR_DATA = -8, /* training data unusable (NaN, one class, ...) */
};

/* Static lower-case description of a cn_risk_error ("unknown error" otherwise). */
const char *cn_risk_strerror(int code);

/* Formats into err[err_len] (when err is not NULL and err_len > 0) and returns code.
 * For the layer's own modules. */
__attribute__((format(printf, 4, 5))) int cn_risk_fail(int code, char *err, size_t err_len,
                                                       const char *fmt, ...);

#endif
