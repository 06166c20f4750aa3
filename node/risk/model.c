/* The risk model file: load with every check (model.h), save, calibrated scoring. */
#include "risk/model.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include "calc/analysis.h"
#include "calc/features.h"

struct cn_risk_model {
    BoosterHandle booster;
    pthread_mutex_t lock;
    json_t *document; /* owns the strings of info */
    struct cn_risk_model_info info;
};

double cn_risk_platt(double a, double b, double margin)
{
    double t = a * margin + b;
    if (t >= 0.0) {
        double e = exp(-t);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(t));
}

static int read_file(const char *path, char **out, size_t *out_len, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cn_risk_fail(CN_RISK_ERR_IO, err, err_len, "could not open risk model \"%s\": %s",
                            path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cn_risk_fail(CN_RISK_ERR_IO, err, err_len,
                            "could not read risk model \"%s\": not a regular file", path);
    }
    if ((uint64_t)st.st_size > CN_RISK_MODEL_MAX_LEN) {
        close(fd);
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" is %" PRIu64 " bytes, more than the cap of %u", path,
                            (uint64_t)st.st_size, CN_RISK_MODEL_MAX_LEN);
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    if (!buf) {
        close(fd);
        return cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return cn_risk_fail(CN_RISK_ERR_IO, err, err_len,
                                "could not read risk model \"%s\": %s", path, strerror(e));
        }
        got += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static int get_number(const json_t *obj, const char *key, double *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

static const char *get_string(const json_t *obj, const char *key, const char *fallback)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : fallback;
}

/* The feature list must equal the build's table, name by name. */
static int check_features(const char *path, const json_t *features, char *err, size_t err_len)
{
    if (!json_is_array(features))
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" has no \"features\" array", path);
    size_t n = json_array_size(features);
    size_t common = n < CA_CLUSTER_FEATURE_COUNT ? n : CA_CLUSTER_FEATURE_COUNT;
    for (size_t i = 0; i < common; i++) {
        const char *name = json_string_value(json_array_get(features, i));
        const char *ours = ca_cluster_feature_name(i);
        if (!name || strcmp(name, ours) != 0)
            return cn_risk_fail(CN_RISK_ERR_FEATURES, err, err_len,
                                "risk model \"%s\" was trained on other features: feature %zu "
                                "is \"%s\" in the model but \"%s\" in this build",
                                path, i, name ? name : "(not a string)", ours);
    }
    if (n != CA_CLUSTER_FEATURE_COUNT)
        return cn_risk_fail(CN_RISK_ERR_FEATURES, err, err_len,
                            "risk model \"%s\" was trained on other features: %zu features in "
                            "the model, %d in this build",
                            path, n, (int)CA_CLUSTER_FEATURE_COUNT);
    return 0;
}

static int check_metadata(const char *path, const json_t *doc, struct cn_risk_model_info *info,
                          char *err, size_t err_len)
{
    const char *format = get_string(doc, "format", NULL);
    if (!format || strcmp(format, CN_RISK_MODEL_FORMAT) != 0)
        return cn_risk_fail(CN_RISK_ERR_VERSION, err, err_len,
                            "\"%s\" is not a calcnode risk model (format \"%s\", expected \"%s\")",
                            path, format ? format : "", CN_RISK_MODEL_FORMAT);
    const json_t *version = json_object_get(doc, "format_version");
    if (!json_is_integer(version))
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" has no integer \"format_version\"", path);
    if (json_integer_value(version) != CN_RISK_MODEL_FORMAT_VERSION)
        return cn_risk_fail(CN_RISK_ERR_VERSION, err, err_len,
                            "risk model \"%s\" has format version %" JSON_INTEGER_FORMAT
                            ", this build reads version %d",
                            path, json_integer_value(version), CN_RISK_MODEL_FORMAT_VERSION);
    int rc = check_features(path, json_object_get(doc, "features"), err, err_len);
    if (rc != 0)
        return rc;

    const json_t *cal = json_object_get(doc, "calibration");
    const char *method = get_string(cal, "method", "");
    const char *input = get_string(cal, "input", "");
    if (strcmp(method, CN_RISK_MODEL_CALIBRATION) != 0 || strcmp(input, "margin") != 0 ||
        get_number(cal, "a", &info->platt_a) != 0 || get_number(cal, "b", &info->platt_b) != 0)
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" needs a \"calibration\" with method \"platt\", "
                            "input \"margin\" and finite \"a\" and \"b\"",
                            path);
    const json_t *op = json_object_get(doc, "operating_point");
    if (get_number(op, "threshold", &info->threshold) != 0 || !(info->threshold > 0.0) ||
        !(info->threshold < 1.0) ||
        get_number(op, "target_sensitivity", &info->target_sensitivity) != 0 ||
        !(info->target_sensitivity > 0.0) || info->target_sensitivity > 1.0)
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" needs an \"operating_point\" with a threshold "
                            "in (0, 1) and a target_sensitivity in (0, 1]",
                            path);

    const json_t *training = json_object_get(doc, "training");
    double rows, positives;
    if (!json_is_object(training) || get_number(training, "rows", &rows) != 0 ||
        get_number(training, "positives", &positives) != 0 || rows < 1 || positives < 0 ||
        positives > rows)
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" needs a \"training\" object with rows and "
                            "positives",
                            path);
    info->training_rows = (size_t)rows;
    info->training_positives = (size_t)positives;
    info->training_source = get_string(training, "source", "");
    info->training_date = get_string(training, "date", "");
    info->description = get_string(training, "description", "");

    const json_t *synthetic = json_object_get(doc, "synthetic");
    if (!json_is_boolean(synthetic))
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" has no boolean \"synthetic\"", path);
    info->synthetic = json_is_true(synthetic);
    info->notice = get_string(doc, "notice", "");
    if (info->synthetic && strcmp(info->notice, CN_RISK_MODEL_SYNTHETIC_NOTICE) != 0)
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" is synthetic but lacks the notice \"%s\"", path,
                            CN_RISK_MODEL_SYNTHETIC_NOTICE);
    return 0;
}

static int load_booster(const char *path, const json_t *doc, BoosterHandle *out, char *err,
                        size_t err_len)
{
    const json_t *xgb = json_object_get(doc, "xgboost");
    if (!json_is_object(xgb))
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "risk model \"%s\" has no \"xgboost\" object", path);
    char *text = json_dumps(xgb, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!text)
        return cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
    BoosterHandle booster = NULL;
    bst_ulong features = 0;
    int rc = 0;
    if (XGBoosterCreate(NULL, 0, &booster) != 0 ||
        XGBoosterLoadModelFromBuffer(booster, text, strlen(text)) != 0 ||
        XGBoosterSetParam(booster, "nthread", "1") != 0 ||
        XGBoosterGetNumFeature(booster, &features) != 0)
        rc = cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len,
                          "could not load the booster of risk model \"%s\": %s", path,
                          XGBGetLastError());
    else if (features != CA_CLUSTER_FEATURE_COUNT)
        rc = cn_risk_fail(CN_RISK_ERR_FEATURES, err, err_len,
                          "the booster of risk model \"%s\" takes %" PRIu64
                          " features, this build has %d",
                          path, (uint64_t)features, (int)CA_CLUSTER_FEATURE_COUNT);
    free(text);
    if (rc != 0) {
        if (booster)
            XGBoosterFree(booster);
        return rc;
    }
    *out = booster;
    return 0;
}

int cn_risk_model_load(const char *path, struct cn_risk_model **model, char *err, size_t err_len)
{
    if (model)
        *model = NULL;
    if (!path || !model)
        return cn_risk_fail(CN_RISK_ERR_INVALID_ARGUMENT, err, err_len, "invalid argument");
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, &buf, &len, err, err_len);
    if (rc != 0)
        return rc;
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!doc)
        return cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                            "could not parse risk model \"%s\" (truncated or not JSON): %s at "
                            "line %d, column %d",
                            path, jerr.text, jerr.line, jerr.column);
    struct cn_risk_model *m = calloc(1, sizeof *m);
    if (!m) {
        json_decref(doc);
        return cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
    }
    m->document = doc;
    if (!json_is_object(doc))
        rc = cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                          "risk model \"%s\" is not a JSON object", path);
    if (rc == 0)
        rc = check_metadata(path, doc, &m->info, err, err_len);
    if (rc == 0)
        rc = load_booster(path, doc, &m->booster, err, err_len);
    if (rc == 0 && pthread_mutex_init(&m->lock, NULL) != 0) {
        XGBoosterFree(m->booster);
        rc = cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "could not create a mutex");
    }
    if (rc != 0) {
        json_decref(doc);
        free(m);
        return rc;
    }
    /* The booster now holds its own copy; keep only the metadata. */
    json_object_del(doc, "xgboost");
    *model = m;
    return 0;
}

void cn_risk_model_free(struct cn_risk_model *model)
{
    if (!model)
        return;
    XGBoosterFree(model->booster);
    pthread_mutex_destroy(&model->lock);
    json_decref(model->document);
    free(model);
}

const struct cn_risk_model_info *cn_risk_model_info(const struct cn_risk_model *model)
{
    return &model->info;
}

int cn_risk_score_margin(const struct cn_risk_model *model, const double *features, size_t count,
                         double *margin)
{
    if (!model || !features || !margin || count != CA_CLUSTER_FEATURE_COUNT)
        return CN_RISK_ERR_INVALID_ARGUMENT;
    float row[CA_CLUSTER_FEATURE_COUNT];
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(features[i]))
            return CN_RISK_ERR_INVALID_ARGUMENT;
        row[i] = (float)features[i];
    }
    /* numpy __array_interface__ version 3: one row of float32, address as an integer. */
    char values[160];
    snprintf(values, sizeof values,
             "{\"data\": [%" PRIuPTR ", true], \"shape\": [1, %d], \"typestr\": \"<f4\", "
             "\"version\": 3}",
             (uintptr_t)row, (int)CA_CLUSTER_FEATURE_COUNT);
    static const char config[] = "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, "
                                 "\"iteration_end\": 0, \"strict_shape\": false, "
                                 "\"missing\": NaN, \"cache_id\": 0}";
    struct cn_risk_model *m = (struct cn_risk_model *)model;
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *result = NULL;
    pthread_mutex_lock(&m->lock);
    int rc = XGBoosterPredictFromDense(m->booster, values, config, NULL, &shape, &dim, &result);
    double value = rc == 0 && result ? (double)result[0] : NAN;
    pthread_mutex_unlock(&m->lock);
    if (rc != 0 || !isfinite(value))
        return CN_RISK_ERR_XGBOOST;
    *margin = value;
    return 0;
}

int cn_risk_score(const struct cn_risk_model *model, const double *features, size_t count,
                  double *probability)
{
    double margin;
    if (!probability)
        return CN_RISK_ERR_INVALID_ARGUMENT;
    int rc = cn_risk_score_margin(model, features, count, &margin);
    if (rc != 0)
        return rc;
    *probability = cn_risk_platt(model->info.platt_a, model->info.platt_b, margin);
    return 0;
}

static json_t *build_document(const struct cn_risk_model_meta *meta, json_t *xgb)
{
    json_t *features = json_array();
    for (size_t i = 0; i < CA_CLUSTER_FEATURE_COUNT; i++)
        json_array_append_new(features, json_string(ca_cluster_feature_name(i)));
    json_t *training = json_object();
    if (meta->report)
        json_object_update(training, (json_t *)meta->report);
    json_object_set_new(training, "rows", json_integer((json_int_t)meta->training_rows));
    json_object_set_new(training, "positives", json_integer((json_int_t)meta->training_positives));
    json_object_set_new(training, "source", json_string(meta->training_source));
    json_object_set_new(training, "date", json_string(meta->training_date));
    json_object_set_new(training, "description",
                        json_string(meta->description ? meta->description : ""));
    return json_pack("{s:s, s:i, s:s, s:s, s:o, s:{s:s, s:s, s:f, s:f}, s:{s:f, s:f}, s:o, "
                     "s:b, s:s, s:o}",
                     "format", CN_RISK_MODEL_FORMAT, "format_version", CN_RISK_MODEL_FORMAT_VERSION,
                     "calcnode_version", CALCNODE_VERSION, "analysis_version", CA_VERSION_STRING,
                     "features", features, "calibration", "method", CN_RISK_MODEL_CALIBRATION,
                     "input", "margin", "a", meta->platt_a, "b", meta->platt_b, "operating_point",
                     "threshold", meta->threshold, "target_sensitivity", meta->target_sensitivity,
                     "training", training, "synthetic", meta->synthetic, "notice",
                     meta->synthetic ? CN_RISK_MODEL_SYNTHETIC_NOTICE : "", "xgboost", xgb);
}

int cn_risk_model_save(const char *path, const struct cn_risk_model_meta *meta,
                       const char *xgboost_json, size_t xgboost_json_len, char *err, size_t err_len)
{
    if (!path || !meta || !xgboost_json || !meta->training_source || !meta->training_date)
        return cn_risk_fail(CN_RISK_ERR_INVALID_ARGUMENT, err, err_len, "invalid argument");
    json_error_t jerr;
    json_t *xgb = json_loadb(xgboost_json, xgboost_json_len, 0, &jerr);
    if (!json_is_object(xgb)) {
        json_decref(xgb);
        return cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len,
                            "the booster's JSON model does not parse: %s", jerr.text);
    }
    json_t *doc = build_document(meta, xgb);
    if (!doc)
        return cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len,
                            "could not build the model document");
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        json_decref(doc);
        return cn_risk_fail(CN_RISK_ERR_INVALID_ARGUMENT, err, err_len,
                            "model path \"%s\" is too long", path);
    }
    int rc = 0;
    FILE *f = fopen(tmp, "w");
    if (!f)
        rc = cn_risk_fail(CN_RISK_ERR_IO, err, err_len, "could not create \"%s\": %s", tmp,
                          strerror(errno));
    else {
        int bad =
            json_dumpf(doc, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0;
        bad |= fputc('\n', f) == EOF;
        bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
        int e = errno;
        bad |= fclose(f) != 0;
        if (bad) {
            unlink(tmp);
            rc = cn_risk_fail(CN_RISK_ERR_IO, err, err_len, "could not write \"%s\": %s", tmp,
                              strerror(e));
        } else if (rename(tmp, path) != 0) {
            e = errno;
            unlink(tmp);
            rc = cn_risk_fail(CN_RISK_ERR_IO, err, err_len, "could not rename \"%s\": %s", tmp,
                              strerror(e));
        }
    }
    json_decref(doc);
    return rc;
}
