/* node/risk: the risk model file and calibrated scoring of one cluster.
 *
 * A model file is one JSON document (format "calcnode-risk-model", format_version
 * CN_RISK_MODEL_FORMAT_VERSION):
 *   {"format": "calcnode-risk-model", "format_version": 1,
 *    "calcnode_version": "0.1.0", "analysis_version": CA_VERSION_STRING,
 *    "features": ["calc_num", ...],           cluster features, in input order
 *    "calibration": {"method": "platt", "input": "margin", "a": A, "b": B},
 *                                             probability = 1 / (1 + exp(A * margin + B))
 *    "operating_point": {"threshold": T, "target_sensitivity": S},
 *                                             probability >= T is called positive
 *    "training": {"rows", "positives", "source", "date", "description", ...report},
 *    "synthetic": true|false, "notice": "synthetic data, not for clinical use" | "",
 *    "xgboost": { XGBoost's own JSON model (binary:logistic) }}
 * The margin is the booster's raw output (log-odds before calibration).
 *
 * cn_risk_model_load checks everything before it returns a model, and names what is
 * wrong: a truncated or malformed file (CN_RISK_ERR_FORMAT), another format or format
 * version (CN_RISK_ERR_VERSION), a feature list that differs in length, name or order
 * from this build's ca_cluster_feature_name table (CN_RISK_ERR_FEATURES: the first
 * difference is named), a calibration other than Platt or with non-finite
 * coefficients, a threshold outside (0, 1), a synthetic model without its notice
 * (CN_RISK_ERR_FORMAT), and a booster XGBoost refuses or whose feature count differs
 * (CN_RISK_ERR_XGBOOST, CN_RISK_ERR_FEATURES). There is no fallback model.
 *
 * Threads: load and free from one thread; cn_risk_score and the accessors may be
 * called from any number of threads at once on the same model. The booster is used
 * through XGBoosterPredictFromDense under a mutex held by the model (microseconds per
 * cluster), with XGBoost's own threading set to one thread per call.
 */
#ifndef CN_RISK_MODEL_H
#define CN_RISK_MODEL_H

#include <stddef.h>

#include "risk/risk.h"

#define CN_RISK_MODEL_FORMAT "calcnode-risk-model"
#define CN_RISK_MODEL_FORMAT_VERSION 1
#define CN_RISK_MODEL_CALIBRATION "platt"
#define CN_RISK_MODEL_SYNTHETIC_NOTICE "synthetic data, not for clinical use"
/* Largest model file read, in bytes. */
#define CN_RISK_MODEL_MAX_LEN (64u * 1024u * 1024u)

struct cn_risk_model;

/* What the file says about itself; the strings are owned by the model. */
struct cn_risk_model_info {
    double threshold;          /* operating point on the calibrated probability */
    double target_sensitivity; /* the sensitivity the threshold was chosen for */
    double platt_a, platt_b;
    size_t training_rows, training_positives;
    const char *training_source;
    const char *training_date;
    const char *description;
    int synthetic;      /* nonzero: trained on phantoms */
    const char *notice; /* CN_RISK_MODEL_SYNTHETIC_NOTICE when synthetic, else "" */
};

/* Loads and checks the model file at path. On success returns 0 and sets *model (free
 * with cn_risk_model_free); otherwise returns a negative cn_risk_error, sets *model to
 * NULL and explains in err. */
int cn_risk_model_load(const char *path, struct cn_risk_model **model, char *err, size_t err_len);

/* Frees the model; NULL is a no-op. No cn_risk_score may be running on it. */
void cn_risk_model_free(struct cn_risk_model *model);

/* Borrowed view of the model's metadata, valid until cn_risk_model_free. */
const struct cn_risk_model_info *cn_risk_model_info(const struct cn_risk_model *model);

/* Scores one cluster: features are count values in ca_cluster_feature_name order, count
 * must be CA_CLUSTER_FEATURE_COUNT. Sets *probability to the calibrated probability of
 * malignancy in [0, 1]. Returns 0, CN_RISK_ERR_INVALID_ARGUMENT (NULL, wrong count, a
 * non-finite feature) or CN_RISK_ERR_XGBOOST. Any thread. */
int cn_risk_score(const struct cn_risk_model *model, const double *features, size_t count,
                  double *probability);

/* The booster's raw margin (log-odds before calibration) for one cluster; same contract
 * as cn_risk_score. */
int cn_risk_score_margin(const struct cn_risk_model *model, const double *features, size_t count,
                         double *margin);

/* Platt's calibration: 1 / (1 + exp(a * margin + b)), computed without overflow. */
double cn_risk_platt(double a, double b, double margin);

/* What cn_risk_model_save writes besides the booster. Strings and report borrowed;
 * report (may be NULL) is a jansson object merged into "training". */
struct cn_risk_model_meta {
    double platt_a, platt_b;
    double threshold, target_sensitivity;
    size_t training_rows, training_positives;
    const char *training_source; /* the CSV it was trained on */
    const char *training_date;   /* ISO 8601 */
    const char *description;     /* may be NULL */
    int synthetic;
    void *report; /* json_t * object or NULL */
};

/* Writes a model file: meta plus XGBoost's JSON model (xgboost_json[xgboost_json_len],
 * as XGBoosterSaveModelToBuffer with {"format": "json"} returns it). Written to a
 * temporary file, flushed and renamed over path. Returns 0 or a negative cn_risk_error. */
int cn_risk_model_save(const char *path, const struct cn_risk_model_meta *meta,
                       const char *xgboost_json, size_t xgboost_json_len, char *err,
                       size_t err_len);

#endif
