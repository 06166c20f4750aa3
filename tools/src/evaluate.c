/* evaluate: scores calcification findings against phantom truth (rules in
 * tools/phantom/eval.h).
 *
 *   evaluate --truth-dir DIR --findings FILE [--masks-dir DIR] [--match-mm 0.5]
 *            [--cluster-match-mm 5] [--json]
 *
 * Prints a table (or JSON with --json) on standard output. Exit status 0 success,
 * 1 unreadable or malformed input, 2 usage error. */
#include "phantom/eval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_SIZE 1024

static void usage(FILE *to)
{
    fprintf(to, "usage: evaluate --truth-dir DIR --findings FILE [--masks-dir DIR]\n"
                "                [--match-mm MM] [--cluster-match-mm MM] [--json]\n");
}

static int parse_positive(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v > 0))
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    struct cn_eval_options opts;
    cn_eval_options_default(&opts);
    const char *truth_dir = NULL, *findings = NULL;
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(opt, "--json") == 0) {
            as_json = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "evaluate: option \"%s\" needs a value\n", opt);
            usage(stderr);
            return 2;
        }
        const char *val = argv[++i];
        int bad = 0;
        if (strcmp(opt, "--truth-dir") == 0)
            truth_dir = val;
        else if (strcmp(opt, "--findings") == 0)
            findings = val;
        else if (strcmp(opt, "--masks-dir") == 0)
            opts.masks_dir = val;
        else if (strcmp(opt, "--match-mm") == 0)
            bad = parse_positive(val, &opts.match_mm);
        else if (strcmp(opt, "--cluster-match-mm") == 0)
            bad = parse_positive(val, &opts.cluster_match_mm);
        else {
            fprintf(stderr, "evaluate: unknown option \"%s\"\n", opt);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "evaluate: invalid value \"%s\" for %s\n", val, opt);
            return 2;
        }
    }
    if (!truth_dir || !findings) {
        fprintf(stderr, "evaluate: --truth-dir and --findings are required\n");
        usage(stderr);
        return 2;
    }
    struct cn_eval_result res;
    char err[ERR_SIZE] = "";
    if (cn_eval_run(truth_dir, findings, &opts, &res, stderr, err, sizeof err) != 0) {
        fprintf(stderr, "evaluate: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (as_json)
        rc = cn_eval_print_json(&res, &opts, stdout);
    else
        cn_eval_print_table(&res, &opts, stdout);
    cn_eval_result_free(&res);
    if (rc != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "evaluate: could not write the report\n");
        return 1;
    }
    return 0;
}
