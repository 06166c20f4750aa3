/* UID syntax, PS3.5 9.1: a table of valid and invalid UIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "store/uid.h"

static void test_uid_is_valid_follows_ps3_5_9_1(void **state)
{
    (void)state;
    static const struct {
        const char *uid;
        int valid;
    } table[] = {
        {"1.2.840.10008.1.1", 1},
        {"0", 1},
        {"1", 1},
        {"1.0.3", 1},
        {"2.25.329800735698586629295641978511506172918", 1},
        {"1.2.392.200036.9116.2.6.1.48.1215709044.1459316254.522441", 1},
        {"", 0},
        {".", 0},
        {"1.", 0},
        {".1", 0},
        {"1..2", 0},
        {"1.02", 0},
        {"01.2", 0},
        {"1.2.a", 0},
        {"1.2 ", 0},
        {"1.2/3", 0},
        {"../1", 0},
        {"1.-2", 0},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (cn_uid_is_valid(table[i].uid) != table[i].valid)
            fail_msg("\"%s\": expected %d", table[i].uid, table[i].valid);
    assert_int_equal(cn_uid_is_valid(NULL), 0);
}

static void test_uid_is_valid_accepts_64_characters_and_rejects_65(void **state)
{
    (void)state;
    char uid[66];
    memset(uid, '1', sizeof uid);
    uid[1] = '.';
    uid[64] = '\0';
    assert_int_equal(cn_uid_is_valid(uid), 1);
    uid[64] = '1';
    uid[65] = '\0';
    assert_int_equal(cn_uid_is_valid(uid), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uid_is_valid_follows_ps3_5_9_1),
        cmocka_unit_test(test_uid_is_valid_accepts_64_characters_and_rejects_65),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
