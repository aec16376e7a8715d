/* test_template: the shipped catalogue (services/outreach/templates.conf) covers every
 * template id staging's strategy files name, on the channel each uses it on, in en and
 * zh, each with a gentle variant; every sms and e-mail text carries an opt-out
 * instruction and no text holds banned language; only late_notice_v1 speaks of legal
 * action. Then picking (language fallbacks, the gentle variant), rendering (every
 * placeholder, amounts by ISO 4217 exponent, literal braces, the exact length boundary)
 * and malformed catalogues refused at load with "name:line: why". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <glob.h>

#include "conf.h"
#include "template.h"

#define ERR_LEN 512
#define SMS 0
#define EMAIL 1
#define LETTER 2
#define CALL 3
#define VISIT 4
#define USES_MAX 64

/* The repository root, from this file's own path (CMake compiles with absolute source
 * paths), so the test runs from any directory: "<dir of __FILE__>/../../../". */
static const char *root_path(const char *rel)
{
    static char path[1024];
    const char *slash = strrchr(__FILE__, '/');
    assert_non_null(slash);
    snprintf(path, sizeof path, "%.*s/../../../%s", (int)(slash - __FILE__), __FILE__, rel);
    return path;
}

static template_book_t *shipped(void)
{
    char err[ERR_LEN] = "";
    template_book_t *b = template_book_load(root_path("services/outreach/templates.conf"), err,
                                            sizeof err);
    if (!b)
        fail_msg("shipped catalogue refused: %s", err);
    return b;
}

/* ---------------------------------------------------------------- the shipped catalogue */

typedef struct {
    char id[TEMPLATE_ID_MAX + 1];
    int channel;
} use_t;

typedef struct {
    use_t items[USES_MAX];
    size_t count;
} uses_t;

static int channel_index(const char *name)
{
    static const char *const names[] = {"sms", "email", "letter", "call", "visit"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    fail_msg("staging names an unknown channel \"%s\"", name);
    return -1;
}

static void add_use(uses_t *u, const char *id, int channel)
{
    for (size_t i = 0; i < u->count; i++)
        if (strcmp(u->items[i].id, id) == 0 && u->items[i].channel == channel)
            return;
    size_t n = strlen(id);
    assert_true(u->count < USES_MAX && n <= TEMPLATE_ID_MAX);
    memcpy(u->items[u->count].id, id, n + 1);
    u->items[u->count++].channel = channel;
}

/* Every group with a string template and a string channel, at any depth. */
static void collect(const config_setting_t *s, uses_t *u)
{
    if (config_setting_is_group(s)) {
        const char *id = NULL, *channel = NULL;
        if (config_setting_lookup_string(s, "template", &id)
            && config_setting_lookup_string(s, "channel", &channel))
            add_use(u, id, channel_index(channel));
    }
    if (!config_setting_is_aggregate(s))
        return;
    for (int i = 0; i < config_setting_length(s); i++)
        collect(config_setting_get_elem(s, (unsigned)i), u);
}

static void collect_files(const char *pattern, uses_t *u, size_t *files)
{
    glob_t g;
    if (glob(root_path(pattern), 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char err[ERR_LEN] = "";
        conf_t *c = conf_load(g.gl_pathv[i], err, sizeof err);
        if (!c)
            fail_msg("%s", err);
        collect(conf_lookup(c, ""), u);
        conf_destroy(&c);
        (*files)++;
    }
    globfree(&g);
}

static void assert_variant(const template_book_t *b, const char *id, int channel,
                           const char *lang, bool gentle)
{
    const template_t *t = template_book_pick(b, id, channel, lang, gentle);
    if (!t || strcmp(t->language, lang) != 0 || t->gentle != gentle || t->channel != channel
        || !t->vetted || t->version < 1)
        fail_msg("no vetted %s %s template %s for channel %d", lang,
                 gentle ? "gentle" : "standard", id, channel);
    assert_string_equal(t->id, id);
}

/* What staging's strategy files name (read from them now, so a new template id there
 * fails here first), and the set known when this test was written. */
static void test_covers_every_template_staging_names(void **state)
{
    (void)state;
    uses_t u = {0};
    size_t files = 0;
    collect_files("services/staging/strategy*.conf", &u, &files);
    collect_files("tests/integration/conf/*strategy*.conf", &u, &files);
    assert_true(files >= 5);
    static const use_t known[] = {
        {"reminder_sms_v1", SMS},        {"reminder_email_v1", EMAIL},
        {"early_sms_v1", SMS},           {"early_email_v1", EMAIL},
        {"early_call_v1", CALL},         {"middle_call_v1", CALL},
        {"middle_letter_v1", LETTER},    {"late_call_v1", CALL},
        {"late_notice_v1", LETTER},      {"late_visit_v1", VISIT},
        {"charged_off_letter_v1", LETTER},
        /* Named by staging itself (account.h ACCOUNT_NOTICE_OF_ASSIGNMENT), on a sale. */
        {"notice_of_assignment_v1", LETTER},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        add_use(&u, known[i].id, known[i].channel);
    assert_int_equal(u.count, sizeof known / sizeof known[0]);   /* the walk found them */
    template_book_t *b = shipped();
    for (size_t i = 0; i < u.count; i++)
        for (int lang = 0; lang < 2; lang++)
            for (int gentle = 0; gentle < 2; gentle++)
                assert_variant(b, u.items[i].id, u.items[i].channel, lang ? "zh" : "en",
                               gentle);
    assert_int_equal(template_book_count(b), u.count * 4);
    template_book_destroy(&b);
    assert_null(b);
}

static void test_every_sms_and_email_has_an_opt_out(void **state)
{
    (void)state;
    template_book_t *b = shipped();
    size_t checked = 0;
    for (size_t i = 0; i < template_book_count(b); i++) {
        const template_t *t = template_book_at(b, i);
        if (t->channel != SMS && t->channel != EMAIL)
            continue;
        const char *phrase = strcmp(t->language, "zh") == 0 ? "回复TD退订"
                             : t->channel == SMS           ? "Reply STOP to opt out"
                                                           : "To opt out, reply to this e-mail";
        if (!strstr(t->text, phrase))
            fail_msg("%s (%s%s) has no \"%s\"", t->id, t->language, t->gentle ? ", gentle" : "",
                     phrase);
        checked++;
    }
    assert_int_equal(checked, 4 * 4);
    template_book_destroy(&b);
}

/* The conduct gate's kind of list; ASCII case folded by strcasestr. */
static void test_no_banned_language_in_the_catalogue(void **state)
{
    (void)state;
    static const char *const banned[] = {"arrest", "jail", "prison", "police", "criminal",
                                         "threat", "fraud", "shame", "坐牢", "拘留", "曝光",
                                         "老赖", "黑名单", "通讯录", "起诉"};
    template_book_t *b = shipped();
    for (size_t i = 0; i < template_book_count(b); i++) {
        const template_t *t = template_book_at(b, i);
        for (size_t k = 0; k < sizeof banned / sizeof banned[0]; k++)
            if (strcasestr(t->text, banned[k]) || strcasestr(t->subject, banned[k]))
                fail_msg("%s (%s) holds \"%s\"", t->id, t->language, banned[k]);
    }
    template_book_destroy(&b);
}

/* Only late_notice_v1 speaks of legal action, flagged, and only to say the lender may
 * consider it. */
static void test_only_the_late_notice_mentions_legal(void **state)
{
    (void)state;
    template_book_t *b = shipped();
    size_t notices = 0;
    for (size_t i = 0; i < template_book_count(b); i++) {
        const template_t *t = template_book_at(b, i);
        bool notice = strcmp(t->id, "late_notice_v1") == 0;
        assert_int_equal(t->mentions_legal, notice);
        bool zh = strcmp(t->language, "zh") == 0;
        bool says = strstr(t->text, zh ? "可能会考虑通过法律途径" : "may consider legal options");
        assert_int_equal(says, notice);
        assert_int_equal(strcasestr(t->text, zh ? "法律" : "legal") != NULL, notice);
        notices += notice;
    }
    assert_int_equal(notices, 4);
    template_book_destroy(&b);
}

/* ---------------------------------------------------------------- picking */

static void test_pick_language_fallbacks(void **state)
{
    (void)state;
    template_book_t *b = shipped();
    const char *const to_en[] = {"en", "en-GB", "EN-us", "en_GB", "fr", "fr-FR", "", NULL};
    for (size_t i = 0; i < sizeof to_en / sizeof to_en[0]; i++) {
        const template_t *t = template_book_pick(b, "early_sms_v1", SMS, to_en[i], false);
        assert_non_null(t);
        assert_string_equal(t->language, "en");
        assert_false(t->gentle);
    }
    const char *const to_zh[] = {"zh", "zh-CN", "zh-Hans-CN", "ZH_cn"};
    for (size_t i = 0; i < sizeof to_zh / sizeof to_zh[0]; i++) {
        const template_t *t = template_book_pick(b, "early_sms_v1", SMS, to_zh[i], false);
        assert_non_null(t);
        assert_string_equal(t->language, "zh");
    }
    const template_t *g = template_book_pick(b, "late_notice_v1", LETTER, "zh-CN", true);
    assert_non_null(g);
    assert_true(g->gentle);
    assert_string_equal(g->language, "zh");
    g = template_book_pick(b, "early_email_v1", EMAIL, "en-GB", true);
    assert_true(g->gentle);
    assert_string_equal(g->language, "en");
    assert_null(template_book_pick(b, "early_sms_v1", LETTER, "en", false));
    assert_null(template_book_pick(b, "no_such_template_v1", SMS, "en", false));
    template_book_destroy(&b);
}

/* Language before variant, an exact tag before its primary subtag, the book's own
 * default language, and the first of the id when no language fits. */
static void test_pick_rules_on_a_small_book(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    template_book_t *b = template_book_parse(
        "default_language = \"zh\";\n"
        "templates = (\n"
        " { id = \"a\"; version = 1; channel = \"sms\"; language = \"en\"; gentle = true;\n"
        "   text = \"en gentle\"; },\n"
        " { id = \"a\"; version = 1; channel = \"sms\"; language = \"zh\"; text = \"zh\"; },\n"
        " { id = \"a\"; version = 2; channel = \"sms\"; language = \"en-GB\";\n"
        "   text = \"en-GB\"; },\n"
        " { id = \"b\"; version = 1; channel = \"call\"; language = \"ja\"; text = \"ja\"; },\n"
        " { id = \"b\"; version = 1; channel = \"call\"; language = \"ko\"; text = \"ko\"; }\n"
        ");\n",
        "<small>", err, sizeof err);
    if (!b)
        fail_msg("%s", err);
    assert_int_equal(template_book_count(b), 5);
    assert_string_equal(template_book_pick(b, "a", SMS, "zh-TW", true)->text, "zh");
    assert_string_equal(template_book_pick(b, "a", SMS, "en", false)->text, "en gentle");
    assert_string_equal(template_book_pick(b, "a", SMS, "en-US", true)->text, "en gentle");
    assert_string_equal(template_book_pick(b, "a", SMS, "en-GB", false)->text, "en-GB");
    assert_string_equal(template_book_pick(b, "a", SMS, "en-gb", true)->text, "en-GB");
    assert_string_equal(template_book_pick(b, "a", SMS, "de", false)->text, "zh");
    assert_string_equal(template_book_pick(b, "a", SMS, NULL, false)->text, "zh");
    assert_string_equal(template_book_pick(b, "b", CALL, "fr", false)->text, "ja");
    assert_string_equal(template_book_pick(b, "b", CALL, "ko-KR", false)->text, "ko");
    assert_false(template_book_at(b, 1)->vetted);   /* loaded, for the gate to refuse */
    assert_int_equal(template_book_at(b, 2)->version, 2);
    assert_string_equal(template_book_at(b, 0)->subject, "");
    template_book_destroy(&b);
}

/* ---------------------------------------------------------------- rendering */

static const template_vars_t vars = {
    .name = "Li Wei", .platform = "QuickLoan", .account_ref = "ACC-42",
    .outstanding_minor = 123456, .currency = "USD", .days_past_due = 17, .stage = "early",
    .contact_id = "ACC-42#3",
};

static void assert_renders(const char *text, const template_vars_t *v, const char *want)
{
    char out[256];
    int rc = template_render(text, v, out, sizeof out);
    if (rc != TEMPLATE_OK)
        fail_msg("render \"%s\": %s", text, template_strerror(rc));
    assert_string_equal(out, want);
}

static void test_render_each_placeholder(void **state)
{
    (void)state;
    assert_renders("{name}", &vars, "Li Wei");
    assert_renders("{platform}", &vars, "QuickLoan");
    assert_renders("{account}", &vars, "ACC-42");
    assert_renders("{amount}", &vars, "USD 1,234.56");
    assert_renders("{currency}", &vars, "USD");
    assert_renders("{dpd}", &vars, "17");
    assert_renders("{stage}", &vars, "early");
    assert_renders("{reference}", &vars, "ACC-42#3");
    assert_renders("{name}, {account} owes {amount} ({dpd} days, {stage}). Ref {reference}.",
                   &vars, "Li Wei, ACC-42 owes USD 1,234.56 (17 days, early). Ref ACC-42#3.");
    assert_renders("", &vars, "");
    assert_renders("{name}您好，回复TD退订", &vars, "Li Wei您好，回复TD退订");
    template_vars_t empty = {.currency = "CNY"};
    assert_renders("[{name}|{platform}|{account}|{stage}|{reference}|{dpd}]", &empty,
                   "[|||||0]");
}

static void assert_amount(int64_t minor, const char *currency, const char *want)
{
    template_vars_t v = vars;
    v.outstanding_minor = minor;
    v.currency = currency;
    assert_renders("{amount}", &v, want);
}

static void test_render_amounts_by_currency(void **state)
{
    (void)state;
    assert_amount(123456, "USD", "USD 1,234.56");
    assert_amount(0, "USD", "USD 0.00");
    assert_amount(5, "USD", "USD 0.05");
    assert_amount(99999, "USD", "USD 999.99");
    assert_amount(100000, "USD", "USD 1,000.00");
    assert_amount(123456789, "CNY", "CNY 1,234,567.89");
    assert_amount(12345, "CNY", "CNY 123.45");
    assert_amount(1234567, "JPY", "JPY 1,234,567");
    assert_amount(999, "JPY", "JPY 999");
    assert_amount(1000, "JPY", "JPY 1,000");
    assert_amount(1234567, "KWD", "KWD 1,234.567");
    assert_amount(250075, "GBP", "GBP 2,500.75");
    assert_amount(INT64_MAX, "USD", "USD 92,233,720,368,547,758.07");
    assert_amount(INT64_MAX, "JPY", "JPY 9,223,372,036,854,775,807");
    const char *const bad[] = {"XXX", "usd", "US", "", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        template_vars_t v = vars;
        v.currency = bad[i];
        char out[64] = "junk";
        assert_int_equal(template_render("Owed: {amount}", &v, out, sizeof out),
                         TEMPLATE_ECURRENCY);
        assert_string_equal(out, "");
        /* Without {amount} the currency is not needed. */
        assert_int_equal(template_render("{name}", &v, out, sizeof out), TEMPLATE_OK);
    }
}

static void test_render_literal_braces(void **state)
{
    (void)state;
    assert_renders("{{name}}", &vars, "{name}");
    assert_renders("{{{name}}}", &vars, "{Li Wei}");
    assert_renders("a {{ b }} c", &vars, "a { b } c");
    char out[64];
    const char *const bad[] = {"{nope}", "{name", "{}", "name}", "{na{me}", "{ name }",
                               "tail {"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(out, "junk");
        assert_int_equal(template_render(bad[i], &vars, out, sizeof out),
                         TEMPLATE_EPLACEHOLDER);
        assert_string_equal(out, "");
    }
}

/* A buffer of exactly the rendered length has no room for the NUL: too long, and
 * nothing half-written is left in it. One byte more fits. */
static void test_render_too_long_at_the_exact_boundary(void **state)
{
    (void)state;
    const char *text = "Hi {name}, {amount} {{ok}}";
    const char *want = "Hi Li Wei, USD 1,234.56 {ok}";
    size_t len = strlen(want);
    char out[64];
    for (size_t cap = 1; cap <= len; cap++) {
        memset(out, 'x', sizeof out);
        assert_int_equal(template_render(text, &vars, out, cap), TEMPLATE_ETOO_LONG);
        assert_string_equal(out, "");
    }
    assert_int_equal(template_render(text, &vars, NULL, 0), TEMPLATE_ETOO_LONG);
    assert_int_equal(template_render("", &vars, NULL, 0), TEMPLATE_ETOO_LONG);
    assert_int_equal(template_render(text, &vars, out, len + 1), TEMPLATE_OK);
    assert_string_equal(out, want);

    /* The same on a shipped letter, in Chinese. */
    template_book_t *b = shipped();
    const template_t *t = template_book_pick(b, "late_notice_v1", LETTER, "zh-CN", false);
    static char full[TEMPLATE_TEXT_MAX * 2], again[TEMPLATE_TEXT_MAX * 2];
    assert_int_equal(template_render(t->text, &vars, full, sizeof full), TEMPLATE_OK);
    assert_non_null(strstr(full, "USD 1,234.56"));
    assert_null(strchr(full, '{'));
    size_t n = strlen(full);
    assert_int_equal(template_render(t->text, &vars, again, n), TEMPLATE_ETOO_LONG);
    assert_int_equal(template_render(t->text, &vars, again, n + 1), TEMPLATE_OK);
    assert_string_equal(again, full);
    template_book_destroy(&b);
}

/* Every shipped subject and text renders with no placeholder left over. */
static void test_every_shipped_template_renders(void **state)
{
    (void)state;
    template_book_t *b = shipped();
    static char out[TEMPLATE_TEXT_MAX * 2];
    for (size_t i = 0; i < template_book_count(b); i++) {
        const template_t *t = template_book_at(b, i);
        assert_int_equal(template_render(t->text, &vars, out, sizeof out), TEMPLATE_OK);
        assert_null(strpbrk(out, "{}"));
        assert_int_equal(template_render(t->subject, &vars, out, sizeof out), TEMPLATE_OK);
        assert_null(strpbrk(out, "{}"));
        assert_int_equal(t->subject[0] != '\0', t->channel == EMAIL || t->channel == LETTER);
    }
    template_book_destroy(&b);
}

/* ---------------------------------------------------------------- malformed catalogues */

#define OK_ENTRY "{ id = \"a\"; version = 1; channel = \"sms\"; language = \"en\"; text = \"hi\"; }"

typedef struct {
    const char *text;
    const char *prefix;   /* "<bad>:line:" */
    const char *word;     /* a word of the reason */
} bad_case_t;

static void test_malformed_catalogues_refused(void **state)
{
    (void)state;
    static const bad_case_t cases[] = {
        {"templates = (\n" OK_ENTRY ",\n{ id = \"b\"; version = = 1; }\n);\n", "<bad>:3:",
         "syntax"},
        {"templates = (\n" OK_ENTRY ",\n{ id = \"b\"; version = 1; channel = \"sms\";\n"
         "  language = \"en\"; colour = \"red\"; text = \"x\"; }\n);\n",
         "<bad>:4:", "colour"},
        {"default_language = \"en\";\nlanguages = 2;\ntemplates = (\n" OK_ENTRY "\n);\n",
         "<bad>:2:", "not a known setting"},
        {"templates = (\n" OK_ENTRY ",\n{ id = \"b\"; version = 0; channel = \"sms\";"
         " language = \"en\"; text = \"x\"; }\n);\n",
         "<bad>:3:", "version"},
        {"templates = (\n\n{ id = \"b\"; version = 1; channel = \"sms\"; language = \"en\"; }\n"
         ");\n",
         "<bad>:3:", "needs text"},
        {"templates = (\n{ id = \"b\"; version = 1; channel = \"fax\"; language = \"en\";"
         " text = \"x\"; }\n);\n",
         "<bad>:2:", "channel"},
        {"templates = (\n{ id = \"b\"; version = 1; channel = \"sms\"; language = \"en\";\n"
         "  text = \"You owe {balance}.\"; }\n);\n",
         "<bad>:3:", "unknown placeholder {balance}"},
        {"templates = (\n{ id = \"b\"; version = 1; channel = \"sms\"; language = \"en\";\n"
         "  subject = \"Hello {name\"; text = \"x\"; }\n);\n",
         "<bad>:3:", "unbalanced"},
        {"templates = (\n{ id = \"b\"; version = 1; channel = \"sms\"; language = \"en\";\n"
         "  text = \"50% off } today\"; }\n);\n",
         "<bad>:3:", "unbalanced '}'"},
        {"templates = (\n" OK_ENTRY ",\n\n" OK_ENTRY "\n);\n", "<bad>:4:", "duplicate"},
        {"templates = (\n" OK_ENTRY ",\n{ id = \"a\"; version = 2; channel = \"sms\";"
         " language = \"EN\"; text = \"x\"; }\n);\n",
         "<bad>:3:", "first at line 2"},
        {"templates = (\n{ id = \"b\"; version = 1; channel = \"sms\";\n"
         "  language = \"english!\"; text = \"x\"; }\n);\n",
         "<bad>:3:", "language"},
        {"templates = (\n{ id = \"b c\"; version = 1; channel = \"sms\"; language = \"en\";"
         " text = \"x\"; }\n);\n",
         "<bad>:2:", "id must be"},
        {"templates = (\n{ id = \"b\"; version = \"1\"; channel = \"sms\"; language = \"en\";"
         " text = \"x\"; }\n);\n",
         "<bad>:2:", "integer"},
        {"templates = (\n{ id = \"b\"; version = 1; channel = \"sms\"; language = \"en\";"
         " text = \"\"; }\n);\n",
         "<bad>:2:", "empty"},
        {"templates = (\n\"just text\" );\n", "<bad>:2:", "group"},
        {"default_language = \"en\";\n\ntemplates = ();\n", "<bad>:3:", "1 to 1024"},
        {"default_language = \"en\";\n", "<bad>:", "needs templates"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[ERR_LEN] = "";
        template_book_t *b = template_book_parse(cases[i].text, "<bad>", err, sizeof err);
        if (b)
            fail_msg("case %zu loaded", i);
        if (strncmp(err, cases[i].prefix, strlen(cases[i].prefix)) != 0
            || !strstr(err, cases[i].word))
            fail_msg("case %zu: \"%s\" wants prefix \"%s\" and \"%s\"", i, err,
                     cases[i].prefix, cases[i].word);
    }
}

/* A text of exactly TEMPLATE_TEXT_MAX bytes loads; one byte more is refused. */
static void test_text_length_limit(void **state)
{
    (void)state;
    static char text[TEMPLATE_TEXT_MAX + 512];
    for (int extra = 0; extra < 2; extra++) {
        int n = snprintf(text, sizeof text,
                         "templates = (\n{ id = \"b\"; version = 1; channel = \"letter\";\n"
                         "  language = \"en\"; text = \"%0*d\"; }\n);\n",
                         TEMPLATE_TEXT_MAX + extra, 0);
        assert_true(n > 0 && (size_t)n < sizeof text);
        char err[ERR_LEN] = "";
        template_book_t *b = template_book_parse(text, "<long>", err, sizeof err);
        if (extra == 0) {
            if (!b)
                fail_msg("%s", err);
            assert_int_equal(strlen(template_book_at(b, 0)->text), TEMPLATE_TEXT_MAX);
            template_book_destroy(&b);
        } else {
            assert_null(b);
            assert_non_null(strstr(err, "<long>:3:"));
            assert_non_null(strstr(err, "at most 4096 bytes"));
        }
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    assert_null(template_book_load("/nonexistent/templates.conf", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/templates.conf"));
    assert_non_null(strstr(err, "cannot open"));
    template_book_t *none = NULL;
    template_book_destroy(&none);
    assert_string_equal(template_strerror(TEMPLATE_ETOO_LONG), "rendered template does not fit");
    assert_string_equal(template_strerror(12345), "unknown template error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_covers_every_template_staging_names),
        cmocka_unit_test(test_every_sms_and_email_has_an_opt_out),
        cmocka_unit_test(test_no_banned_language_in_the_catalogue),
        cmocka_unit_test(test_only_the_late_notice_mentions_legal),
        cmocka_unit_test(test_pick_language_fallbacks),
        cmocka_unit_test(test_pick_rules_on_a_small_book),
        cmocka_unit_test(test_render_each_placeholder),
        cmocka_unit_test(test_render_amounts_by_currency),
        cmocka_unit_test(test_render_literal_braces),
        cmocka_unit_test(test_render_too_long_at_the_exact_boundary),
        cmocka_unit_test(test_every_shipped_template_renders),
        cmocka_unit_test(test_malformed_catalogues_refused),
        cmocka_unit_test(test_text_length_limit),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
