/* Training data from CSV (format and errors in dataset.h). */
#include "risk/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calc/features.h"

#define FEATURES CA_CLUSTER_FEATURE_COUNT
#define TRUTH_PREFIX "truth_"
#define GROUP_COLUMN "sop_instance_uid"

static const char *const metadata_columns[] = {
    "source", GROUP_COLUMN, "cluster", "x", "y", "x0", "y0", "x1", "y1", "count",
};

enum column_kind { COLUMN_METADATA, COLUMN_FEATURE, COLUMN_LABEL, COLUMN_GROUP };

struct column {
    enum column_kind kind;
    size_t feature; /* COLUMN_FEATURE: index in the table */
};

struct parser {
    const char *name;
    char *cursor, *end;
    size_t line;
    char *fields[CN_RISK_CSV_MAX_COLUMNS];
    size_t field_count;
    char *err;
    size_t err_len;
};

/* Splits the next non-empty line into p->fields (NUL-terminated in place, quotes
 * removed). Returns 1 with a line, 0 at the end, or a negative error. */
static int next_record(struct parser *p)
{
    while (p->cursor < p->end && (*p->cursor == '\n' || *p->cursor == '\r')) {
        if (*p->cursor == '\n')
            p->line++;
        p->cursor++;
    }
    if (p->cursor >= p->end)
        return 0;
    p->line++;
    p->field_count = 0;
    char *c = p->cursor;
    for (;;) {
        if (p->field_count == CN_RISK_CSV_MAX_COLUMNS)
            return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                "\"%s\" line %zu has more than %u columns", p->name, p->line,
                                CN_RISK_CSV_MAX_COLUMNS);
        char *field = c, *out = c;
        if (c < p->end && *c == '"') {
            c++;
            for (;;) {
                if (c >= p->end || *c == '\n' || *c == '\r')
                    return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                        "\"%s\" line %zu: unterminated quoted field", p->name,
                                        p->line);
                if (*c == '"') {
                    if (c + 1 < p->end && c[1] == '"') {
                        *out++ = '"';
                        c += 2;
                        continue;
                    }
                    c++;
                    break;
                }
                *out++ = *c++;
            }
            if (c < p->end && *c != ',' && *c != '\n' && *c != '\r')
                return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                    "\"%s\" line %zu: text after a closing quote", p->name,
                                    p->line);
        } else {
            while (c < p->end && *c != ',' && *c != '\n' && *c != '\r') {
                if (*c == '"')
                    return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                        "\"%s\" line %zu: quote inside an unquoted field", p->name,
                                        p->line);
                c++;
            }
            out = c;
        }
        p->fields[p->field_count++] = field;
        char sep = c < p->end ? *c : '\n';
        if (c < p->end)
            c++;
        *out = '\0';
        if (sep != ',') {
            if (sep == '\r' && c < p->end && *c == '\n')
                c++;
            else if (sep == '\r')
                return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                    "\"%s\" line %zu: carriage return without a line feed", p->name,
                                    p->line);
            break;
        }
    }
    p->cursor = c;
    return 1;
}

static int is_metadata(const char *name)
{
    if (strncmp(name, TRUTH_PREFIX, strlen(TRUTH_PREFIX)) == 0)
        return 1;
    for (size_t i = 0; i < sizeof metadata_columns / sizeof metadata_columns[0]; i++)
        if (strcmp(name, metadata_columns[i]) == 0)
            return 1;
    return 0;
}

static int classify_header(struct parser *p, const char *label_column, struct column *cols,
                           size_t *label_at, size_t *group_at)
{
    size_t seen[FEATURES];
    for (size_t j = 0; j < FEATURES; j++)
        seen[j] = SIZE_MAX;
    *label_at = SIZE_MAX;
    *group_at = SIZE_MAX;
    size_t last_feature = SIZE_MAX, last_at = 0;
    for (size_t c = 0; c < p->field_count; c++) {
        const char *name = p->fields[c];
        size_t j = 0;
        while (j < FEATURES && strcmp(name, ca_cluster_feature_name(j)) != 0)
            j++;
        if (j < FEATURES) {
            if (seen[j] != SIZE_MAX)
                return cn_risk_fail(CN_RISK_ERR_FEATURES, p->err, p->err_len,
                                    "\"%s\": feature \"%s\" appears twice (columns %zu and %zu)",
                                    p->name, name, seen[j] + 1, c + 1);
            if (last_feature != SIZE_MAX && j < last_feature)
                return cn_risk_fail(CN_RISK_ERR_FEATURES, p->err, p->err_len,
                                    "\"%s\": feature \"%s\" (column %zu) comes after \"%s\" "
                                    "(column %zu); the feature order differs from this build's",
                                    p->name, name, c + 1, ca_cluster_feature_name(last_feature),
                                    last_at + 1);
            seen[j] = c;
            last_feature = j;
            last_at = c;
            cols[c] = (struct column){COLUMN_FEATURE, j};
        } else if (strcmp(name, label_column) == 0) {
            if (*label_at != SIZE_MAX)
                return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                    "\"%s\": label column \"%s\" appears twice", p->name, name);
            *label_at = c;
            cols[c] = (struct column){COLUMN_LABEL, 0};
        } else if (strcmp(name, GROUP_COLUMN) == 0) {
            *group_at = c;
            cols[c] = (struct column){COLUMN_GROUP, 0};
        } else if (is_metadata(name)) {
            cols[c] = (struct column){COLUMN_METADATA, 0};
        } else {
            return cn_risk_fail(CN_RISK_ERR_FEATURES, p->err, p->err_len,
                                "\"%s\": unknown column \"%s\" (column %zu): not a feature of "
                                "this build, the label column \"%s\" or a known metadata column",
                                p->name, name, c + 1, label_column);
        }
    }
    for (size_t j = 0; j < FEATURES; j++)
        if (seen[j] == SIZE_MAX)
            return cn_risk_fail(CN_RISK_ERR_FEATURES, p->err, p->err_len,
                                "\"%s\": feature \"%s\" is missing", p->name,
                                ca_cluster_feature_name(j));
    if (*label_at == SIZE_MAX)
        return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                            "\"%s\": label column \"%s\" is missing", p->name, label_column);
    return 0;
}

struct group_key {
    const char *uid;
    size_t row;
};

static int by_uid(const void *a, const void *b)
{
    const struct group_key *x = a, *y = b;
    int c = strcmp(x->uid, y->uid);
    if (c != 0)
        return c;
    return (x->row > y->row) - (x->row < y->row);
}

/* Group ids: rows with equal uid share one, numbered in order of first appearance.
 * uids NULL: one group per row. */
static int assign_groups(struct cn_risk_dataset *ds, char **uids)
{
    if (!uids) {
        for (size_t i = 0; i < ds->rows; i++)
            ds->group[i] = i;
        ds->group_count = ds->rows;
        return 0;
    }
    struct group_key *keys = malloc(ds->rows * sizeof *keys);
    size_t *first = malloc(ds->rows * sizeof *first);
    size_t *renumber = malloc(ds->rows * sizeof *renumber);
    if (!keys || !first || !renumber) {
        free(keys);
        free(first);
        free(renumber);
        return CN_RISK_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < ds->rows; i++)
        keys[i] = (struct group_key){uids[i], i};
    qsort(keys, ds->rows, sizeof *keys, by_uid);
    /* Provisional ids in uid order, then renumbered by first row. */
    size_t groups = 0;
    for (size_t i = 0; i < ds->rows; i++) {
        if (i == 0 || strcmp(keys[i].uid, keys[i - 1].uid) != 0) {
            first[groups] = keys[i].row;
            renumber[groups] = SIZE_MAX;
            groups++;
        }
        ds->group[keys[i].row] = groups - 1;
    }
    size_t next = 0;
    for (size_t i = 0; i < ds->rows; i++) {
        size_t g = ds->group[i];
        if (renumber[g] == SIZE_MAX)
            renumber[g] = next++;
        ds->group[i] = renumber[g];
    }
    ds->group_count = groups;
    free(keys);
    free(first);
    free(renumber);
    return 0;
}

static int parse_rows(struct parser *p, const struct column *cols, size_t columns,
                      const char *label_column, size_t group_at, struct cn_risk_dataset *ds,
                      char ***uids_out)
{
    size_t cap = 0;
    char **uids = NULL;
    int rc;
    while ((rc = next_record(p)) == 1) {
        if (p->field_count != columns)
            return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                "\"%s\" line %zu has %zu fields, the header has %zu", p->name,
                                p->line, p->field_count, columns);
        if (ds->rows == CN_RISK_CSV_MAX_ROWS)
            return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                "\"%s\" has more than %u rows", p->name, CN_RISK_CSV_MAX_ROWS);
        if (ds->rows == cap) {
            size_t ncap = cap ? 2 * cap : 256;
            double *x = realloc(ds->x, ncap * FEATURES * sizeof *x);
            if (x)
                ds->x = x;
            int *label = realloc(ds->label, ncap * sizeof *label);
            if (label)
                ds->label = label;
            size_t *group = realloc(ds->group, ncap * sizeof *group);
            if (group)
                ds->group = group;
            char **u = realloc(uids, ncap * sizeof *u);
            if (u)
                uids = u;
            *uids_out = uids;
            if (!x || !label || !group || !u)
                return cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, p->err, p->err_len, "out of memory");
            cap = ncap;
        }
        double *row = ds->x + ds->rows * FEATURES;
        for (size_t c = 0; c < columns; c++) {
            const char *text = p->fields[c];
            if (cols[c].kind == COLUMN_METADATA)
                continue;
            if (cols[c].kind == COLUMN_GROUP) {
                uids[ds->rows] = p->fields[c];
                continue;
            }
            char *end = NULL;
            errno = 0;
            double v = strtod(text, &end);
            if (text[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
                return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                    "\"%s\" line %zu, column %zu: \"%s\" is not a finite number",
                                    p->name, p->line, c + 1, text);
            if (cols[c].kind == COLUMN_FEATURE) {
                row[cols[c].feature] = v;
            } else {
                if (v != 0.0 && v != 1.0)
                    return cn_risk_fail(CN_RISK_ERR_FORMAT, p->err, p->err_len,
                                        "\"%s\" line %zu: label \"%s\" in column \"%s\" is "
                                        "neither 0 nor 1",
                                        p->name, p->line, text, label_column);
                ds->label[ds->rows] = v == 1.0;
                ds->positives += v == 1.0;
            }
        }
        ds->rows++;
    }
    if (rc < 0)
        return rc;
    if (group_at == SIZE_MAX) {
        free(uids);
        *uids_out = NULL;
    }
    return 0;
}

int cn_risk_dataset_parse(const char *name, const char *text, size_t len, const char *label_column,
                          struct cn_risk_dataset *out, char *err, size_t err_len)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!name || !text || !out)
        return cn_risk_fail(CN_RISK_ERR_INVALID_ARGUMENT, err, err_len, "invalid argument");
    if (!label_column)
        label_column = CN_RISK_DEFAULT_LABEL_COLUMN;
    char *copy = malloc(len + 1);
    struct parser *p = calloc(1, sizeof *p);
    struct column *cols = malloc(CN_RISK_CSV_MAX_COLUMNS * sizeof *cols);
    char **uids = NULL;
    int rc = 0;
    if (!copy || !p || !cols) {
        rc = cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
        goto done;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    *p = (struct parser){
        .name = name, .cursor = copy, .end = copy + len, .err = err, .err_len = err_len};
    rc = next_record(p);
    if (rc == 0)
        rc = cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len, "\"%s\" is empty", name);
    if (rc < 0)
        goto done;
    size_t columns = p->field_count, label_at, group_at;
    rc = classify_header(p, label_column, cols, &label_at, &group_at);
    if (rc == 0)
        rc = parse_rows(p, cols, columns, label_column, group_at, out, &uids);
    if (rc == 0 && out->rows == 0)
        rc = cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len, "\"%s\" has no data rows", name);
    if (rc == 0 && assign_groups(out, uids) != 0)
        rc = cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
done:
    free(uids);
    free(cols);
    free(p);
    free(copy);
    if (rc != 0)
        cn_risk_dataset_free(out);
    return rc;
}

int cn_risk_dataset_read_csv(const char *path, const char *label_column,
                             struct cn_risk_dataset *out, char *err, size_t err_len)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out)
        return cn_risk_fail(CN_RISK_ERR_INVALID_ARGUMENT, err, err_len, "invalid argument");
    FILE *f = fopen(path, "rb");
    if (!f)
        return cn_risk_fail(CN_RISK_ERR_IO, err, err_len, "could not open \"%s\": %s", path,
                            strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int rc = 0;
    while (buf) {
        if (len == cap) {
            if (cap >= CN_RISK_CSV_MAX_LEN) {
                rc = cn_risk_fail(CN_RISK_ERR_FORMAT, err, err_len,
                                  "\"%s\" is larger than the cap of %u bytes", path,
                                  CN_RISK_CSV_MAX_LEN);
                break;
            }
            char *bigger = realloc(buf, 2 * cap);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                rc = cn_risk_fail(CN_RISK_ERR_IO, err, err_len, "could not read \"%s\": %s", path,
                                  strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!buf)
        return cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
    if (rc == 0)
        rc = cn_risk_dataset_parse(path, buf, len, label_column, out, err, err_len);
    free(buf);
    return rc;
}

void cn_risk_dataset_free(struct cn_risk_dataset *dataset)
{
    if (!dataset)
        return;
    free(dataset->x);
    free(dataset->label);
    free(dataset->group);
    memset(dataset, 0, sizeof *dataset);
}
