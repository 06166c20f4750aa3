/* node/risk: training data, read from the CSV that `calcnode analyze --dump-features`
 * writes with a label column added (tools/make-training-set).
 *
 * CSV (RFC 4180: comma separated, fields optionally in double quotes with "" for a
 * quote, no line breaks inside a field, LF or CRLF line ends), a header row, then one
 * row per cluster. Columns:
 *   - every cluster feature of this build by its ca_cluster_feature_name, in table
 *     order (other columns may sit between them), each a finite number;
 *   - the label column (name chosen by the caller, default "label"): 0 or 1;
 *   - metadata, ignored except for grouping: source, sop_instance_uid, cluster, x, y,
 *     x0, y0, x1, y1, count, and any column whose name starts with "truth_".
 * Rows with the same sop_instance_uid form a group (one image): cross-validation keeps a
 * group in one fold. Without that column every row is its own group.
 * Anything else is an error that names the problem, its line and column: a missing or
 * duplicated feature, features in another order, an unknown column (a feature of another
 * build), a field count that differs from the header, a value that is not a finite
 * number, a label other than 0 or 1, more than the caps below.
 * Main thread or any one thread; no global state.
 */
#ifndef CN_RISK_DATASET_H
#define CN_RISK_DATASET_H

#include <stddef.h>

#include "risk/risk.h"

#define CN_RISK_CSV_MAX_LEN (512u * 1024u * 1024u) /* bytes of one CSV file */
#define CN_RISK_CSV_MAX_ROWS 1000000u
#define CN_RISK_CSV_MAX_COLUMNS 4096u
#define CN_RISK_DEFAULT_LABEL_COLUMN "label"

struct cn_risk_dataset {
    size_t rows;
    double *x;     /* rows * CA_CLUSTER_FEATURE_COUNT, row major, owned */
    int *label;    /* rows values, 0 or 1, owned */
    size_t *group; /* rows group ids in [0, group_count), owned */
    size_t group_count;
    size_t positives; /* rows labelled 1 */
};

/* Parses CSV text[len] (name is used in messages). On success returns 0 and fills *out
 * (free with cn_risk_dataset_free); otherwise returns CN_RISK_ERR_FORMAT,
 * CN_RISK_ERR_FEATURES (missing, unknown or reordered features) or
 * CN_RISK_ERR_OUT_OF_MEMORY with the reason in err, and *out is zeroed. */
int cn_risk_dataset_parse(const char *name, const char *text, size_t len, const char *label_column,
                          struct cn_risk_dataset *out, char *err, size_t err_len);

/* Reads the file at path (at most CN_RISK_CSV_MAX_LEN bytes) and parses it; also
 * CN_RISK_ERR_IO. */
int cn_risk_dataset_read_csv(const char *path, const char *label_column,
                             struct cn_risk_dataset *out, char *err, size_t err_len);

/* Frees what *dataset owns and zeroes it; safe on a zeroed struct and NULL. */
void cn_risk_dataset_free(struct cn_risk_dataset *dataset);

#endif
