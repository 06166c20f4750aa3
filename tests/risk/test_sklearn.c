/* Cross-check against an independent implementation: scikit-learn's
 * HistGradientBoostingClassifier trained on the same table with the same folds
 * (sklearn_cv.py) must reach a mean per-fold AUC within 0.02 of ours. Skipped (77) when
 * /usr/bin/python3 or scikit-learn is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "risk/dataset.h"
#include "risk/train.h"
#include "synth.h"

#define AUC_TOLERANCE 0.02
#define PYTHON "/usr/bin/python3"

static void test_cross_validated_auc_matches_scikit_learn(void **state)
{
    (void)state;
    char dir[] = "/tmp/risk-sklearn-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char data_path[128], folds_path[128], command[512];
    snprintf(data_path, sizeof data_path, "%s/data.csv", dir);
    snprintf(folds_path, sizeof folds_path, "%s/folds.csv", dir);

    size_t len;
    char *csv = synth_csv(300, 4, 0.15, 2024, &len);
    FILE *f = fopen(data_path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(csv, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    struct cn_risk_dataset d;
    char err[512] = "";
    assert_int_equal(cn_risk_dataset_read_csv(data_path, NULL, &d, err, sizeof err), 0);
    struct cn_risk_train_options o;
    cn_risk_train_options_default(&o);
    o.bootstrap_reps = 100;
    struct cn_risk_train_result r;
    assert_int_equal(cn_risk_train(&d, &o, &r, err, sizeof err), 0);
    f = fopen(folds_path, "w");
    assert_non_null(f);
    fputs("row,fold\n", f);
    for (size_t i = 0; i < d.rows; i++)
        fprintf(f, "%zu,%u\n", i, r.fold_of_row[i]);
    assert_int_equal(fclose(f), 0);

    snprintf(command, sizeof command, PYTHON " %s/sklearn_cv.py %s %s", CALCNODE_TEST_SOURCE_DIR,
             data_path, folds_path);
    FILE *p = popen(command, "r");
    assert_non_null(p);
    double theirs = -1.0;
    int got = fscanf(p, "%lf", &theirs);
    int status = pclose(p);
    unlink(data_path);
    unlink(folds_path);
    rmdir(dir);
    free(csv);
    assert_int_equal(got, 1);
    assert_int_equal(status, 0);
    print_message("mean per-fold AUC: calcnode %.4f, scikit-learn %.4f\n", r.mean_fold_auc, theirs);
    /* Not a trivial table: both must have something to learn. */
    assert_true(r.mean_fold_auc > 0.75 && r.mean_fold_auc < 0.99);
    assert_true(fabs(r.mean_fold_auc - theirs) <= AUC_TOLERANCE);
    cn_risk_train_result_free(&r);
    cn_risk_dataset_free(&d);
}

int main(void)
{
    if (access(PYTHON, X_OK) != 0 || system(PYTHON " -c 'import sklearn' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "skipped: " PYTHON " with scikit-learn is not available\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cross_validated_auc_matches_scikit_learn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
