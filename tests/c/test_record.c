/* test_record.c - stored field values (record.c): conversion with the type
 * and value rules and the errors that name entity, field and rule; ISO 8601
 * dates; the sort order of stored values; value descriptions. */
#include "check.h"
#include "record.h"
#include "schema.h"
#include "alloc.h"
#include "textval.h"


static nw_entity_def def;
enum { F_ID, F_S, F_N, F_X, F_B, F_E, F_D, F_L, F_J, F_R };

static void make_def(void) {
    nw_error err;
    CHECK_EQ(nw_schema_parse(val("{name: T, fields: {s: {type: string, minLength: 2, maxLength: 4}, n: {type: int, min: -1, max: 10},"
        " x: {type: float, min: 0.5}, b: {type: bool}, e: {type: enum, values: [lo, mid, hi]}, d: {type: datetime, min: 0},"
        " l: {type: list, of: int, maxLength: 2}, j: {type: json}, r: {type: ref, entity: U}}}"), &def, &err), NW_OK);
    CHECK_EQ(def.nfields, 10);
}

static nw_buf out;
static nw_error cerr;
static nw_code conv(uint32_t fi, const char *text) {
    nw_buf_reset(&out);
    nw_error_clear(&cerr);
    return nw_field_convert(&def, fi, val(text), &out, &cerr);
}

#define BAD(fi, text, rule_, msg) do { CHECK_EQ(conv(fi, text), NW_E_VALIDATION); CHECK(strcmp(cerr.entity, "T") == 0); \
    CHECK(strcmp(cerr.field, def.fields[fi].name) == 0); CHECK(strcmp(cerr.rule, rule_) == 0); \
    if (strcmp(cerr.message, msg)) fprintf(stderr, "  message: %s\n", cerr.message); CHECK(strcmp(cerr.message, msg) == 0); } while (0)

static void test_convert_accepts(void) {
    CHECK_EQ(conv(F_S, "\"h\xC3\xA9llo\""), NW_E_VALIDATION);     /* 5 characters */
    CHECK_EQ(conv(F_S, "\"h\xC3\xA9l\""), NW_OK);                 /* 3 characters, 4 bytes */
    CHECK_EQ(out.len, 9);
    CHECK_EQ(conv(F_N, "10"), NW_OK);
    CHECK(out.p[0] == NVAL_NUM && nw_rd_f64(out.p + 1) == 10);
    CHECK_EQ(conv(F_X, "0.5"), NW_OK);
    CHECK_EQ(conv(F_B, "false"), NW_OK);
    CHECK(out.len == 1 && out.p[0] == NVAL_FALSE);
    CHECK_EQ(conv(F_E, "hi"), NW_OK);
    CHECK(out.len == 2 && out.p[0] == NW_ROW_ENUM && out.p[1] == 2);
    CHECK_EQ(nw_field_span(out.p), 2);
    CHECK_EQ(conv(F_D, "\"1970-01-02\""), NW_OK);
    CHECK(out.p[0] == NVAL_NUM && nw_rd_f64(out.p + 1) == 86400000.0);
    CHECK_EQ(conv(F_D, "@1234.9"), NW_OK);                      /* dates keep whole ms */
    CHECK(nw_rd_f64(out.p + 1) == 1234.0);
    CHECK_EQ(conv(F_D, "5.5"), NW_OK);
    CHECK_EQ(conv(F_L, "[1, 2]"), NW_OK);
    CHECK_EQ(conv(F_L, "[]"), NW_OK);
    CHECK_EQ(conv(F_J, "{a: [1, null, true, \"s\", {b: @5}]}"), NW_OK);
    CHECK_EQ(conv(F_R, "u1"), NW_OK);
    CHECK_EQ(conv(F_ID, "k"), NW_OK);
    CHECK_EQ(conv(F_N, "null"), NW_OK);                         /* null is stored; `required` is the store's */
    CHECK(out.len == 1 && out.p[0] == NVAL_NULL);
}

static void test_convert_refuses(void) {
    BAD(F_S, "3", "type", "must be a string (got 3)");
    BAD(F_S, "a", "minLength", "must have at least 2 characters (got 1)");
    BAD(F_S, "abcde", "maxLength", "must have at most 4 characters (got 5)");
    BAD(F_ID, "\"\"", "type", "must be a non-empty string (got \"\")");
    BAD(F_R, "\"\"", "type", "must be a non-empty string (got \"\")");
    BAD(F_N, "1.5", "type", "must be an integer (got 1.5)");
    BAD(F_N, "9007199254740992", "type", "must be an integer (got 9007199254740992)");
    BAD(F_N, "Infinity", "type", "must be an integer (got Infinity)");
    BAD(F_N, "\"3\"", "type", "must be an integer (got \"3\")");
    BAD(F_N, "11", "max", "must be <= 10 (got 11)");
    BAD(F_N, "-2", "min", "must be >= -1 (got -2)");
    BAD(F_X, "NaN", "type", "must be a finite number (got NaN)");
    BAD(F_X, "0.25", "min", "must be >= 0.5 (got 0.25)");
    BAD(F_B, "1", "type", "must be a boolean (got 1)");
    BAD(F_E, "top", "values", "must be one of lo, mid, hi (got \"top\")");
    BAD(F_E, "[lo]", "type", "must be a string (got an array)");
    BAD(F_D, "\"2024-02-30\"", "type", "must be an ISO 8601 date (got \"2024-02-30\")");
    BAD(F_D, "Infinity", "type", "must be a valid date (got Infinity)");
    BAD(F_D, "@9e15", "type", "must be a valid date (got 9000000000000000)");
    BAD(F_D, "true", "type", "must be a date (ISO string, Date or epoch ms) (got true)");
    BAD(F_D, "\"1969-12-31\"", "min", "must be >= 0 (got \"1969-12-31\")");
    BAD(F_L, "{a: 1}", "type", "must be an array (got an object)");
    BAD(F_L, "[1, x]", "type", "item 1 must be a int (got \"x\")");
    BAD(F_L, "[1, 2, 3]", "maxLength", "must have at most 2 items (got 3)");
    BAD(F_J, "[1, NaN]", "type", "must be JSON data (got an array)");
    BAD(F_J, "{a: {b: Infinity}}", "type", "must be JSON data (got an object)");
    /* a long string is cut at 40 bytes, on a code point, in the message */
    BAD(F_S, "\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9x\xC3\xA9\"",
        "maxLength", "must have at most 4 characters (got 22)");
    nw_buf_reset(&out);
    CHECK_EQ(nw_field_convert(&def, F_N, val("\"0123456789012345678901234567890123456789\xC3\xA9\""), &out, &cerr), NW_E_VALIDATION);
    CHECK(strcmp(cerr.message, "must be an integer (got \"0123456789012345678901234567890123456789...\")") == 0);
    nw_buf_reset(&out);
    CHECK_EQ(nw_field_convert(&def, F_N, val("\"012345678901234567890123456789012345678\xC3\xA9\""), &out, &cerr), NW_E_VALIDATION);
    CHECK(strcmp(cerr.message, "must be an integer (got \"012345678901234567890123456789012345678...\")") == 0);
}

static bool date(const char *s, double *ms) { return nw_parse_iso_date(s, strlen(s), ms); }

static void test_iso_dates(void) {
    double ms = 0;
    CHECK(date("1970-01-01", &ms) && ms == 0);
    CHECK(date("2024", &ms) && ms == 1704067200000.0);
    CHECK(date("2024-02", &ms) && ms == 1706745600000.0);
    CHECK(date("2024-02-29T12:30:15.5Z", &ms) && ms == 1709209815500.0);
    CHECK(date("2024-02-29t12:30:15,123456z", &ms) && ms == 1709209815123.0);
    CHECK(date("2024-02-29 12:30", &ms) && ms == 1709209800000.0);
    CHECK(date("2024-02-29T12:30+02:00", &ms) && ms == 1709202600000.0);
    CHECK(date("2024-02-29T12:30-0130", &ms) && ms == 1709215200000.0);
    CHECK(date("2024-01-01T24:00:00Z", &ms) && ms == 1704153600000.0);
    CHECK(date("+002024-01-01", &ms) && ms == 1704067200000.0);
    CHECK(date("-000001-01-01", &ms) && ms == -62198755200000.0);
    CHECK(date("2000-02-29", &ms));                    /* leap: divisible by 400 */
    static const char *const bad[] = {
        "", "24", "2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-1-01",
        "2024-01-01T25:00", "2024-01-01T24:00:01", "2024-01-01T12:60", "2024-01-01T12:00:60", "2024-01-01T12",
        "2024-01-01T12:00:00.", "2024-01-01T12:00Zjunk", "2024-01-01T12:00+5", "2024-01-01T12:00+05:", "+2024-01-01",
        "2024-01-01X", "-275760-09-14", "2024/01/01", "abcd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (date(bad[i], &ms)) fprintf(stderr, "  accepted %s\n", bad[i]);
        CHECK(!date(bad[i], &ms));
    }
}

static void test_field_order(void) {
    uint8_t a[64], b[64];
    const nw_field *f = &def.fields[F_N];
    nw_buf_reset(&out); conv(F_N, "2"); memcpy(a, out.p, out.len);
    nw_buf_reset(&out); conv(F_N, "-1"); memcpy(b, out.p, out.len);
    CHECK(nw_field_cmp(f, a, b) > 0 && nw_field_cmp(f, b, a) < 0 && nw_field_cmp(f, a, a) == 0);
    uint8_t null1[1] = { NVAL_NULL };
    CHECK(nw_field_cmp(f, null1, b) < 0 && nw_field_cmp(f, b, null1) > 0 && nw_field_cmp(f, null1, null1) == 0);
    conv(F_S, "ab"); memcpy(a, out.p, out.len);
    conv(F_S, "abc"); memcpy(b, out.p, out.len);
    CHECK(nw_field_cmp(&def.fields[F_S], a, b) < 0);
    conv(F_S, "\"b\xC3\xA9\""); memcpy(b, out.p, out.len);
    CHECK(nw_field_cmp(&def.fields[F_S], a, b) < 0);           /* code point order */
    conv(F_E, "hi"); memcpy(a, out.p, out.len);
    conv(F_E, "lo"); memcpy(b, out.p, out.len);
    CHECK(nw_field_cmp(&def.fields[F_E], a, b) > 0);           /* declaration order, not alphabetical */
    conv(F_B, "true"); memcpy(a, out.p, out.len);
    conv(F_B, "false"); memcpy(b, out.p, out.len);
    CHECK(nw_field_cmp(&def.fields[F_B], a, b) > 0);
    conv(F_L, "[1, 2]"); memcpy(a, out.p, out.len);
    conv(F_L, "[1]"); memcpy(b, out.p, out.len);
    CHECK(nw_field_cmp(&def.fields[F_L], a, b) != 0 && nw_field_cmp(&def.fields[F_L], a, a) == 0);
    CHECK((nw_field_cmp(&def.fields[F_L], a, b) > 0) == (nw_field_cmp(&def.fields[F_L], b, a) < 0));
    conv(F_J, "{k: 1}"); memcpy(a, out.p, out.len);
    conv(F_J, "\"s\""); memcpy(b, out.p, out.len);
    CHECK(nw_field_cmp(&def.fields[F_J], a, b) != 0);
}

static void test_rows_and_helpers(void) {
    /* a row: u32 length, then the fields */
    nw_buf row;
    nw_buf_init(&row);
    nw_buf_u32(&row, 0);
    conv(F_ID, "k1"); nw_buf_append(&row, out.p, out.len);
    conv(F_E, "mid"); nw_buf_append(&row, out.p, out.len);
    conv(F_L, "[4, 5]"); nw_buf_append(&row, out.p, out.len);
    nw_buf_byte(&row, NVAL_TRUE);
    nw_buf_patch_u32(&row, 0, (uint32_t)row.len - 4);
    CHECK_EQ(nw_row_len(row.p), row.len - 4);
    CHECK(nw_row_fields(row.p) == row.p + 4);
    CHECK(nw_row_field(row.p, 1)[0] == NW_ROW_ENUM && nw_row_field(row.p, 1)[1] == 1);
    CHECK(nw_row_field(row.p, 2)[0] == NVAL_ARR);
    CHECK(nw_field_is_null(val("null")) && !nw_field_is_null(nw_row_field(row.p, 3)));
    CHECK(nw_row_field(row.p, 3)[0] == NVAL_TRUE);
    nw_buf_free(&row);
    CHECK_EQ(nw_utf8_count((const uint8_t *)"a\xC3\xA9\xE6\x9D\xB1\xF0\x9F\x98\x80", 10), 4);
    CHECK(nw_hash_bytes((const uint8_t *)"a", 1) != nw_hash_bytes((const uint8_t *)"b", 1));
    CHECK_EQ(nw_hash_bytes((const uint8_t *)"abc", 3), nw_hash_bytes((const uint8_t *)"abc", 3));
    char d[64];
    static const char *const cases[][2] = {
        { "null", "null" }, { "true", "true" }, { "false", "false" }, { "-1.5", "-1.5" }, { "@1e3", "1000" },
        { "[1]", "an array" }, { "{a: 1}", "an object" }, { "\"q\"", "\"q\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nw_describe_value(val(cases[i][0]), d, sizeof d);
        CHECK(strcmp(d, cases[i][1]) == 0);
    }
    nw_describe_value(val("false"), d, 3);                 /* cut to the room given */
    CHECK(strcmp(d, "fa") == 0);
    uint8_t fields[1] = { NVAL_QUERY };
    nw_describe_value(fields, d, sizeof d);
    CHECK(strcmp(d, "a value") == 0);
}

int main(void) {
    nw_buf_init(&tb);
    nw_buf_init(&out);
    make_def();
    RUN(test_convert_accepts);
    RUN(test_convert_refuses);
    RUN(test_iso_dates);
    RUN(test_field_order);
    RUN(test_rows_and_helpers);
    nw_schema_free(&def);
    nw_buf_free(&out);
    nw_buf_free(&tb);
    return check_summary("record");
}
