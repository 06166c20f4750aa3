/* conformance: writes the DICOM Conformance Statement (PS3.2 Annex A layout) from its
 * template, filling every table that the code also uses from the code's own tables, so
 * that the document cannot drift from what calcnode negotiates:
 *   @@SCP_ABSTRACT_SYNTAXES@@   the abstract syntaxes accepted (node/ul/sop.c)
 *   @@SCP_TRANSFER_SYNTAXES@@   the transfer syntaxes accepted for each of them
 *   @@ANALYSED_CLASSES@@        the classes whose images are analysed
 *   @@SCU_PRESENTATION_CONTEXTS@@ the result objects sent and their transfer syntax
 *   @@DEFAULTS@@                the configuration defaults (node/app/conf.c)
 * and the scalars @@IMPLEMENTATION_CLASS_UID@@, @@IMPLEMENTATION_VERSION_NAME@@,
 * @@APPLICATION_CONTEXT_NAME@@, @@MAX_PC_COUNT@@.
 *
 * usage: conformance TEMPLATE OUTPUT   (OUTPUT "-": standard output)
 * tests/integration/conformance_statement.sh checks that the committed statement is
 * what this tool writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/conf.h"
#include "ul/assoc.h"
#include "ul/pdu.h"
#include "ul/sop.h"

#define MAX_LINE_LEN 4096

static void write_uid_table(FILE *out, const struct cn_named_uid *table, size_t count,
                            const char *first_header)
{
    fprintf(out, "| %s | UID |\n|---|---|\n", first_header);
    for (size_t i = 0; i < count; i++)
        fprintf(out, "| %s | `%s` |\n", table[i].name, table[i].uid);
}

/* PS3.2 Table A.4.2-1 style: one row per abstract syntax, the transfer syntaxes listed
 * once below (every accepted abstract syntax is accepted in each of them). */
static void write_scp_abstract_syntaxes(FILE *out)
{
    size_t count;
    const struct cn_named_uid *table = cn_sop_abstract_syntaxes(&count);
    fprintf(out, "| Abstract Syntax | UID | Transfer Syntaxes | Role | Extended Negotiation |\n"
                 "|---|---|---|---|---|\n");
    for (size_t i = 0; i < count; i++)
        fprintf(out, "| %s | `%s` | Table 4.2-3 | SCP | None |\n", table[i].name, table[i].uid);
}

static void write_scu_contexts(FILE *out)
{
    size_t count;
    const struct cn_named_uid *table = cn_sop_result_classes(&count);
    const struct cn_named_uid *ts = cn_sop_find_transfer(CN_SOP_RESULT_TRANSFER_SYNTAX);
    fprintf(out, "| Abstract Syntax | UID | Transfer Syntax | UID | Role | Extended Negotiation |\n"
                 "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < count; i++)
        fprintf(out, "| %s | `%s` | %s | `%s` | SCU | None |\n", table[i].name, table[i].uid,
                ts ? ts->name : CN_SOP_RESULT_TRANSFER_SYNTAX, CN_SOP_RESULT_TRANSFER_SYNTAX);
}

static void write_defaults(FILE *out)
{
    struct cn_conf d;
    cn_conf_defaults(&d);
    fprintf(out, "| Parameter | Configuration key | Default |\n|---|---|---|\n");
    fprintf(out, "| AE title | `ae_title` | %s |\n", d.ae_title);
    fprintf(out, "| Listening port | `port` | %u |\n", (unsigned)d.port);
    fprintf(out, "| TLS port | `tls_port` | %s |\n", d.tls_port ? "set" : "0 (off)");
    fprintf(out, "| Maximum PDU length received | `max_pdu_length` | %u bytes |\n",
            (unsigned)d.max_pdu_length);
    fprintf(out, "| ARTIM timeout | `artim_timeout_s` | %u s |\n",
            (unsigned)(d.artim_timeout_ms / 1000u));
    fprintf(out, "| Simultaneous associations accepted | `max_associations` | %u |\n",
            (unsigned)d.max_associations);
    fprintf(out, "| Simultaneous associations per calling AE | `max_associations_per_ae` | %u |\n",
            (unsigned)d.max_associations_per_ae);
    fprintf(out, "| Largest data set accepted | `max_object_size_mb` | %llu MiB |\n",
            (unsigned long long)(d.max_object_size / (1024u * 1024u)));
    fprintf(out, "| Free disk below which associations are refused | `min_free_disk_mb` | %llu MiB |\n",
            (unsigned long long)(d.min_free_disk / (1024u * 1024u)));
    fprintf(out, "| Calling AE titles accepted | `allowed_callers` | %s |\n",
            d.allowed_callers == CN_CALLERS_ANY ? "any" : "peers");
    fprintf(out, "| Study complete after silence | `quiet_period_s` | %u s |\n",
            (unsigned)(d.quiet_period_ms / 1000u));
}

/* Replaces each scalar token of line; returns 0 or -1 when the line is too long. */
static int expand_scalars(const char *line, char *out, size_t out_len)
{
    static const struct {
        const char *token;
        const char *value;
    } scalars[] = {
        {"@@IMPLEMENTATION_CLASS_UID@@", CN_IMPLEMENTATION_CLASS_UID},
        {"@@IMPLEMENTATION_VERSION_NAME@@", CN_IMPLEMENTATION_VERSION_NAME},
        {"@@APPLICATION_CONTEXT_NAME@@", CN_APPLICATION_CONTEXT_NAME},
    };
    char max_pc[16];
    snprintf(max_pc, sizeof max_pc, "%u", (unsigned)CN_PDU_MAX_PC_COUNT);
    size_t used = 0;
    const char *p = line;
    while (*p) {
        const char *value = NULL;
        size_t token_len = 0;
        for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
            size_t n = strlen(scalars[i].token);
            if (strncmp(p, scalars[i].token, n) == 0) {
                value = scalars[i].value;
                token_len = n;
            }
        }
        if (strncmp(p, "@@MAX_PC_COUNT@@", 16) == 0) {
            value = max_pc;
            token_len = 16;
        }
        const char *piece = value ? value : p;
        size_t piece_len = value ? strlen(value) : 1;
        if (used + piece_len + 1 > out_len)
            return -1;
        memcpy(out + used, piece, piece_len);
        used += piece_len;
        p += value ? token_len : 1;
    }
    out[used] = '\0';
    return 0;
}

static int expand(FILE *in, FILE *out)
{
    char line[MAX_LINE_LEN], expanded[2 * MAX_LINE_LEN];
    size_t count;
    const struct cn_named_uid *table;
    while (fgets(line, sizeof line, in)) {
        if (strcmp(line, "@@SCP_ABSTRACT_SYNTAXES@@\n") == 0) {
            write_scp_abstract_syntaxes(out);
        } else if (strcmp(line, "@@SCP_TRANSFER_SYNTAXES@@\n") == 0) {
            table = cn_sop_transfer_syntaxes(&count);
            write_uid_table(out, table, count, "Transfer Syntax");
        } else if (strcmp(line, "@@ANALYSED_CLASSES@@\n") == 0) {
            table = cn_sop_analysed_classes(&count);
            write_uid_table(out, table, count, "SOP Class");
        } else if (strcmp(line, "@@SCU_PRESENTATION_CONTEXTS@@\n") == 0) {
            write_scu_contexts(out);
        } else if (strcmp(line, "@@DEFAULTS@@\n") == 0) {
            write_defaults(out);
        } else if (strncmp(line, "@@", 2) == 0 && strstr(line + 2, "@@\n")) {
            fprintf(stderr, "conformance: unknown table %s", line);
            return -1;
        } else {
            if (expand_scalars(line, expanded, sizeof expanded) != 0) {
                fprintf(stderr, "conformance: template line too long\n");
                return -1;
            }
            fputs(expanded, out);
        }
    }
    return ferror(in) ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: conformance TEMPLATE OUTPUT\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    FILE *out = strcmp(argv[2], "-") == 0 ? stdout : fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        fclose(in);
        return 1;
    }
    int rc = expand(in, out);
    fclose(in);
    if (out != stdout && fclose(out) != 0)
        rc = -1;
    return rc == 0 ? 0 : 1;
}
