/* The HTML pages and the URL rules: every database value escaped, image URLs only from
 * valid UIDs, and nothing but a valid UID reaching the queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/pages.h"
#include "http/route.h"

static void test_html_escape_replaces_the_five_special_characters(void **state)
{
    (void)state;
    struct cn_buf b;
    cn_buf_init(&b, 1024);
    assert_int_equal(cn_html_escape(&b, "a<b>&\"c'd"), 0);
    assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;c&#39;d");
    cn_buf_free(&b);
    assert_int_equal(cn_html_escape(&b, ""), 0);
    assert_int_equal(b.len, 0);
    cn_buf_free(&b);
}

static const struct cn_status_study HOSTILE = {
    .study_uid = "1.2.840.99",
    .patient_name = "Doe^<script>alert(1)</script>",
    .patient_id = "ID\"><img src=x onerror=alert(2)>",
    .study_date = "20240101",
    .calling_ae = "MODALITY&CO",
    .study_state = "done",
    .instance_count = "4",
    .job_state = "done",
    .job_error = NULL,
    .category = "4B",
    .score = "0.812",
    .sent = "5",
    .pending = "0",
    .dead = "1",
    .last_error = "peer said <bad>",
    .images = "1.2.3.1 1.2.3.2 ../../etc/passwd 1.2..3",
};

static void test_status_page_escapes_database_values_and_links_valid_uids_only(void **state)
{
    (void)state;
    struct cn_metrics_loop loop = {.listening = 1, .instances_stored = 4};
    struct cn_status_node node = {
        .version = "1.0", .loop_answered = 1, .loop = &loop, .database_up = 1};
    struct cn_buf b;
    cn_buf_init(&b, 1u << 20);
    assert_int_equal(cn_pages_status(&b, &node, &HOSTILE, 1, 1, 160), 0);
    const char *html = b.data;
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img src=x"));
    assert_null(strstr(html, "<bad>"));
    assert_non_null(strstr(html, "Doe^&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "MODALITY&amp;CO"));
    assert_non_null(strstr(html, "peer said &lt;bad&gt;"));
    assert_non_null(strstr(html, "<a href=\"/study/1.2.840.99\">"));
    assert_non_null(strstr(html, "src=\"/image/1.2.3.1.png?rows=160\""));
    assert_non_null(strstr(html, "src=\"/image/1.2.3.2.png?rows=160\""));
    assert_null(strstr(html, "passwd"));
    assert_null(strstr(html, "1.2..3"));
    assert_non_null(strstr(html, "category 4B, score 0.812"));
    assert_non_null(strstr(html, "class=\"dead\""));
    cn_buf_free(&b);
}

static void test_status_page_says_when_the_database_is_down(void **state)
{
    (void)state;
    struct cn_status_node node = {.version = "1.0",
                                  .loop_answered = 0,
                                  .database_up = 0,
                                  .database_error = "could not <connect>"};
    struct cn_buf b;
    cn_buf_init(&b, 1u << 20);
    assert_int_equal(cn_pages_status(&b, &node, NULL, 0, 0, 160), 0);
    assert_non_null(strstr(b.data, "database: could not &lt;connect&gt;"));
    assert_non_null(strstr(b.data, "the event loop did not answer"));
    assert_non_null(strstr(b.data, "No study received yet."));
    cn_buf_free(&b);
}

static void test_study_page_shows_every_image_at_the_given_height(void **state)
{
    (void)state;
    struct cn_buf b;
    cn_buf_init(&b, 1u << 20);
    assert_int_equal(cn_pages_study(&b, &HOSTILE, 512), 0);
    assert_non_null(strstr(b.data, "src=\"/image/1.2.3.1.png?rows=512\" height=\"512\""));
    assert_non_null(strstr(b.data, "src=\"/image/1.2.3.2.png?rows=512\""));
    assert_null(strstr(b.data, "<script"));
    cn_buf_free(&b);
}

static void test_route_accepts_the_pages_and_valid_uids(void **state)
{
    (void)state;
    struct cn_http_route r;
    assert_int_equal(cn_http_route_parse("/", &r), CN_HTTP_PAGE_STATUS);
    assert_int_equal(cn_http_route_parse("/metrics", &r), CN_HTTP_PAGE_METRICS);
    assert_int_equal(cn_http_route_parse("/healthz", &r), CN_HTTP_PAGE_HEALTHZ);
    assert_int_equal(cn_http_route_parse("/study/1.2.840.10008.1", &r), CN_HTTP_PAGE_STUDY);
    assert_string_equal(r.uid, "1.2.840.10008.1");
    assert_int_equal(cn_http_route_parse("/image/1.2.3.4.png", &r), CN_HTTP_PAGE_IMAGE);
    assert_string_equal(r.uid, "1.2.3.4");
}

static void test_route_rejects_anything_but_a_valid_uid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "/image/../../etc/passwd.png",
        "/image/1.2.3",
        "/image/.png",
        "/image/1..2.png",
        "/image/1.2.3.png/x",
        "/image/1.2.%2e.png",
        "/image/1.2.3.PNG",
        "/image/01.2.png",
        "/study/",
        "/study/1.2/../3",
        "/study/1.2.3 ",
        "/study/a.b",
        "/study/1.22222222222222222222222222222222222222222222222222222222222222222",
        "/metrics/",
        "//",
        "/index.html",
        "",
        "/healthz?x"};
    struct cn_http_route r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cn_http_route_parse(bad[i], &r) != CN_HTTP_PAGE_NOT_FOUND)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_string_equal(r.uid, "");
    }
    assert_int_equal(cn_http_route_parse(NULL, &r), CN_HTTP_PAGE_NOT_FOUND);
}

static void test_rows_parameter_is_digits_within_the_caps(void **state)
{
    (void)state;
    unsigned rows = 0;
    assert_int_equal(cn_http_parse_rows(NULL, 512, &rows), 0);
    assert_int_equal(rows, 512);
    assert_int_equal(cn_http_parse_rows("160", 512, &rows), 0);
    assert_int_equal(rows, 160);
    assert_int_equal(cn_http_parse_rows("2048", 512, &rows), 0);
    static const char *const bad[] = {"", "15", "2049", "99999", "-16", "16 ", "0x20", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cn_http_parse_rows(bad[i], 512, &rows), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escape_replaces_the_five_special_characters),
        cmocka_unit_test(test_status_page_escapes_database_values_and_links_valid_uids_only),
        cmocka_unit_test(test_status_page_says_when_the_database_is_down),
        cmocka_unit_test(test_study_page_shows_every_image_at_the_given_height),
        cmocka_unit_test(test_route_accepts_the_pages_and_valid_uids),
        cmocka_unit_test(test_route_rejects_anything_but_a_valid_uid),
        cmocka_unit_test(test_rows_parameter_is_digits_within_the_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
