/* test_types.c - the type table (types.c): every type has its row, names
 * resolve both ways; decimals: parsing, the canonical stored form, numeric
 * order, the precision and scale rules, queries, stored values from outside,
 * and allocation failures while defining and converting. */
#include "check.h"
#include "types.h"
#include "record.h"
#include "schema.h"
#include "alloc.h"
#include "textval.h"


static void test_table_complete(void) {
    for (int t = 1; t < NW_T_COUNT; t++) {
        const nw_type_ops *o = nw_type_of((nw_type)t);
        CHECK(o->name && o->convert && o->qconv && o->expects && o->span && o->cmp);
        CHECK_EQ(nw_type_lookup(o->name, strlen(o->name)), t);
        CHECK(strcmp(nw_type_name((nw_type)t), o->name) == 0);
        if (o->flags & NW_TF_ITEM) CHECK(o->item != NULL);
        if (o->flags & NW_TF_OPAQUE) CHECK(o->unstored != NULL);
    }
    CHECK_EQ(nw_type_lookup("decimal", 7), NW_T_DECIMAL);
    CHECK_EQ(nw_type_lookup("money", 5), NW_T_NONE);
    CHECK_EQ(nw_type_lookup("in", 2), NW_T_NONE);
    char names[200];
    nw_type_names(names, sizeof names, NW_TF_ITEM);
    CHECK(strcmp(names, "string, int, float, bool") == 0);
    nw_type_names(names, sizeof names, 0);
    CHECK(strstr(names, "id, string") == names && strstr(names, "decimal"));
    nw_type_names(names, 12, 0);                    /* cut, still terminated */
    CHECK(strlen(names) < 12);
}

/* canonical text of s with `scale`, or "!" when it is no decimal */
static char canon_buf[256];
static const char *canon(const char *s, uint32_t scale) {
    nw_decimal d;
    if (!nw_decimal_scan(s, strlen(s), &d)) return "!";
    nw_buf b;
    nw_buf_init(&b);
    nw_decimal_write(&b, &d, scale);
    size_t n = b.len < sizeof canon_buf - 1 ? b.len : sizeof canon_buf - 1;
    memcpy(canon_buf, b.p, n);
    canon_buf[n] = 0;
    nw_buf_free(&b);
    return canon_buf;
}

static void test_decimal_scan(void) {
    CHECK(strcmp(canon("12.5", 2), "12.50") == 0);
    CHECK(strcmp(canon("0012.3400", 2), "12.34") == 0);   /* leading zeros go, zeros past the scale too */
    CHECK(strcmp(canon("007", 0), "7") == 0);
    CHECK(strcmp(canon("0", 0), "0") == 0);
    CHECK(strcmp(canon("000", 2), "0.00") == 0);
    CHECK(strcmp(canon("-0", 2), "0.00") == 0);            /* no negative zero */
    CHECK(strcmp(canon("-0.000", 0), "0") == 0);
    CHECK(strcmp(canon("-0.5", 0), "-0.5") == 0);          /* digits past the scale stay (queries) */
    CHECK(strcmp(canon("-12.0", 3), "-12.000") == 0);
    CHECK(strcmp(canon("0.05", 1), "0.05") == 0);
    const char *bad[] = { "", "-", "+1", "1.", ".5", "-.5", "1e5", "1E5", "1e-2", " 1", "1 ", "1.2.3", "--1", "0x10",
                          "Infinity", "NaN", "1,5", "1_000", "\xD9\xA1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (strcmp(canon(bad[i], 2), "!") != 0) fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK(strcmp(canon(bad[i], 2), "!") == 0);
    }
    nw_decimal d;
    CHECK(nw_decimal_scan("-0.00", 5, &d) && !d.neg && d.il == 0 && d.fl == 0);
    CHECK(nw_decimal_scan("-00120.0500", 11, &d) && d.neg && d.il == 3 && d.fl == 2);
}

static int dcmp(const char *a, const char *b) {
    nw_decimal x, y;
    CHECK(nw_decimal_scan(a, strlen(a), &x));
    CHECK(nw_decimal_scan(b, strlen(b), &y));
    return nw_decimal_cmp(&x, &y);
}

static void test_decimal_order(void) {
    CHECK_EQ(dcmp("9.5", "10.25"), -1);                /* numeric, not text order */
    CHECK_EQ(dcmp("10.25", "9.5"), 1);
    CHECK_EQ(dcmp("-10", "-9.5"), -1);
    CHECK_EQ(dcmp("-9.5", "-10"), 1);
    CHECK_EQ(dcmp("-0", "0"), 0);
    CHECK_EQ(dcmp("1.10", "1.1"), 0);
    CHECK_EQ(dcmp("007", "7.000"), 0);
    CHECK_EQ(dcmp("0.001", "0.01"), -1);
    CHECK_EQ(dcmp("-0.5", "0"), -1);
    CHECK_EQ(dcmp("0", "0.0001"), -1);
    CHECK_EQ(dcmp("-0.0001", "-0.001"), 1);
    CHECK_EQ(dcmp("123456789012345678901234567890.12", "123456789012345678901234567890.13"), -1);
    CHECK_EQ(dcmp("99999999999999999999", "100000000000000000000"), -1);
    /* transitive over a sorted list */
    const char *sorted[] = { "-100", "-99.99", "-1", "-0.5", "0", "0.001", "0.5", "1", "9.5", "10.25", "100" };
    size_t n = sizeof sorted / sizeof sorted[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) CHECK_EQ(dcmp(sorted[i], sorted[j]), i < j ? -1 : i > j);
}

static nw_entity_def def;
enum { F_ID, F_P, F_Q, F_R };

static void make_def(void) {
    nw_error err;
    CHECK_EQ(nw_schema_parse(val("{name: M, fields: {price: {type: decimal, precision: 5, scale: 2},"
        " qty: {type: decimal}, rate: {type: decimal, precision: 4, scale: 4, min: 0, max: 0.5}}}"), &def, &err), NW_OK);
    CHECK_EQ(def.nfields, 4);
    CHECK_EQ(def.fields[F_Q].tparam[0], 38);           /* precision 38, scale 0 unless given */
    CHECK_EQ(def.fields[F_Q].tparam[1], 0);
    CHECK_EQ(nw_field_hint(&def.fields[F_P]), NW_HINT_TOKEN);
}

static nw_buf out;
static nw_error cerr;
static nw_code conv(uint32_t fi, const char *text) {
    nw_buf_reset(&out);
    nw_error_clear(&cerr);
    return nw_field_convert(&def, fi, val(text), &out, &cerr);
}

#define STORED(fi, text, want) do { CHECK_EQ(conv(fi, text), NW_OK); CHECK(out.p[0] == NVAL_STR); \
    CHECK_MEM(out.p + 5, nw_rd_u32(out.p + 1), want); CHECK_EQ(out.len, 5 + strlen(want)); } while (0)
#define BAD(fi, text, rule_) do { CHECK_EQ(conv(fi, text), NW_E_VALIDATION); CHECK(strcmp(cerr.entity, "M") == 0); \
    CHECK(strcmp(cerr.field, def.fields[fi].name) == 0); \
    if (strcmp(cerr.rule, rule_)) fprintf(stderr, "  rule %s: %s\n", cerr.rule, cerr.message); CHECK(strcmp(cerr.rule, rule_) == 0); } while (0)

static void test_decimal_convert(void) {
    STORED(F_P, "\"123.45\"", "123.45");
    STORED(F_P, "\"5\"", "5.00");                       /* padded to the scale */
    STORED(F_P, "\"-5.1\"", "-5.10");
    STORED(F_P, "\"-0\"", "0.00");
    STORED(F_P, "\"000999.990\"", "999.99");             /* zeros are no digits */
    STORED(F_P, "12.5", "12.50");                        /* numbers in their shortest form */
    STORED(F_P, "-0.1", "-0.10");
    STORED(F_Q, "\"12345678901234567890123456789012345678\"", "12345678901234567890123456789012345678");
    BAD(F_P, "\"1234.5\"", "precision");                 /* 4 digits before the point, 3 allowed */
    BAD(F_P, "\"1.234\"", "scale");
    BAD(F_Q, "\"1.5\"", "scale");
    BAD(F_Q, "\"123456789012345678901234567890123456789\"", "precision");
    BAD(F_P, "\"1e2\"", "type");                         /* no exponent */
    BAD(F_P, "1e21", "type");                            /* a number whose form has one */
    BAD(F_P, "\" 1\"", "type");
    BAD(F_P, "\"+1\"", "type");
    BAD(F_P, "\"\"", "type");
    BAD(F_P, "true", "type");
    BAD(F_P, "Infinity", "type");
    BAD(F_P, "[1]", "type");
    STORED(F_R, "\"0.5\"", "0.5000");
    BAD(F_R, "\"0.5001\"", "max");
    BAD(F_R, "\"-0.0001\"", "min");
    CHECK(strstr(cerr.message, "must be >= 0") != NULL);
    CHECK_EQ(conv(F_P, "null"), NW_OK);
    CHECK(out.len == 1 && out.p[0] == NVAL_NULL);
    conv(F_P, "\"1.234\"");
    CHECK(strstr(cerr.message, "1.234") != NULL);       /* the message shows the value */
}

static void test_decimal_schema(void) {
    const char *bad[] = {
        "{name: M, fields: {p: {type: decimal, precision: 0}}}",
        "{name: M, fields: {p: {type: decimal, precision: 65}}}",
        "{name: M, fields: {p: {type: decimal, precision: 2.5}}}",
        "{name: M, fields: {p: {type: decimal, precision: \"9\"}}}",
        "{name: M, fields: {p: {type: decimal, precision: 4, scale: 5}}}",
        "{name: M, fields: {p: {type: decimal, precision: 4, scale: -1}}}",
        "{name: M, fields: {p: {type: decimal, precision: 4, scale: 2, default: \"123\"}}}",
        "{name: M, fields: {p: {type: list, of: decimal}}}",
        "{name: M, fields: {p: {type: decimal}}, search: [p]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nw_entity_def d;
        nw_error err;
        CHECK_EQ(nw_schema_parse(val(bad[i]), &d, &err), NW_E_SCHEMA);
        CHECK(strcmp(err.field, "p") == 0 || i == 8);
    }
    nw_entity_def d;
    nw_error err;
    CHECK_EQ(nw_schema_parse(val("{name: M, fields: {p: {type: decimal, precision: 4, scale: 2, default: \"1.5\"}}}"), &d, &err), NW_OK);
    CHECK_MEM(d.fields[1].def + 5, nw_rd_u32(d.fields[1].def + 1), "1.50");
    nw_schema_free(&d);
    CHECK_EQ(nw_schema_parse(val("{name: M, fields: {p: {type: money}}}"), &d, &err), NW_E_SCHEMA);
    CHECK(strstr(err.message, "decimal") != NULL);      /* the message lists the types */
}

/* stored values compared by the field, as queries, indexes and orderBy do */
static int fcmp(const char *a, const char *b) {
    uint8_t x[64], y[64];
    CHECK_EQ(conv(F_P, a), NW_OK);
    memcpy(x, out.p, out.len);
    CHECK_EQ(conv(F_P, b), NW_OK);
    memcpy(y, out.p, out.len);
    return nw_field_cmp(&def.fields[F_P], x, y);
}

static void test_decimal_field_order(void) {
    CHECK_EQ(fcmp("\"9.5\"", "\"10.25\""), -1);
    CHECK_EQ(fcmp("\"-1\"", "\"-0.5\""), -1);
    CHECK_EQ(fcmp("\"0\"", "\"-0\""), 0);
    CHECK_EQ(fcmp("null", "\"-999\""), -1);             /* null first */
    /* a query bound is compared in the field's form, past-scale digits kept */
    const nw_type_ops *o = nw_type_of(NW_T_DECIMAL);
    nw_buf q;
    nw_buf_init(&q);
    CHECK_EQ(o->qconv(&def.fields[F_P], val("\"10.5\""), &q), NW_QC_OK);
    CHECK_MEM(q.p + 5, nw_rd_u32(q.p + 1), "10.50");    /* equal bytes to the stored form: eq is bytewise */
    nw_buf_reset(&q);
    CHECK_EQ(o->qconv(&def.fields[F_P], val("\"10.255\""), &q), NW_QC_OK);
    CHECK_MEM(q.p + 5, nw_rd_u32(q.p + 1), "10.255");
    CHECK_EQ(conv(F_P, "\"10.25\""), NW_OK);
    CHECK_EQ(nw_field_cmp(&def.fields[F_P], out.p, q.p), -1);
    nw_buf_reset(&q);
    CHECK_EQ(o->qconv(&def.fields[F_P], val("\"1e3\""), &q), NW_QC_TYPE);
    CHECK_EQ(o->qconv(&def.fields[F_P], val("true"), &q), NW_QC_TYPE);
    nw_buf_free(&q);
}

static void test_decimal_stored(void) {
    nw_buf scratch;
    nw_buf_init(&scratch);
    nw_error err;
    CHECK_EQ(conv(F_P, "\"12.5\""), NW_OK);
    CHECK_EQ(nw_field_check_stored(&def, F_P, out.p, &scratch, &err), NW_OK);
    CHECK_EQ(nw_field_check_stored(&def, F_P, val("\"12.5\""), &scratch, &err), NW_E_VALIDATION);   /* not padded */
    CHECK_EQ(nw_field_check_stored(&def, F_P, val("\"012.50\""), &scratch, &err), NW_E_VALIDATION);
    CHECK_EQ(nw_field_check_stored(&def, F_P, val("\"-0.00\""), &scratch, &err), NW_E_VALIDATION);
    CHECK_EQ(nw_field_check_stored(&def, F_P, val("12.5"), &scratch, &err), NW_E_VALIDATION);       /* a number */
    CHECK_EQ(nw_field_check_stored(&def, F_P, val("\"1234.00\""), &scratch, &err), NW_E_VALIDATION);
    CHECK(strcmp(err.rule, "precision") == 0);
    const uint8_t *s = val("\"1.00\"");
    CHECK_EQ(nw_type_of(NW_T_DECIMAL)->span(&def.fields[F_P], s, 9), 9);
    CHECK_EQ(nw_type_of(NW_T_DECIMAL)->span(&def.fields[F_P], s, 8), 0);   /* cut short */
    nw_buf_free(&scratch);
}

static void test_alloc_failures(void) {
    const char *schema = "{name: M, fields: {p: {type: decimal, precision: 6, scale: 2, default: \"1\"},"
                         " e: {type: enum, values: [a, b]}, r: {type: ref, entity: M}, l: {type: list, of: string}}}";
    const uint8_t *v = val(schema);
    nw_buf copy;
    nw_buf_init(&copy);
    nw_buf_append(&copy, v, nval_span(v));
    for (long n = 0; n < 200; n++) {
        nw_entity_def d;
        nw_error err;
        nw_alloc_fail_after(n);
        nw_code rc = nw_schema_parse(copy.p, &d, &err);
        nw_alloc_fail_reset();
        CHECK(rc == NW_OK || rc == NW_E_LIMIT);
        if (rc == NW_OK) { CHECK_MEM(d.fields[1].def + 5, nw_rd_u32(d.fields[1].def + 1), "1.00"); nw_schema_free(&d); break; }
    }
    for (long n = 0; n < 8; n++) {
        nw_buf o;
        nw_buf_init(&o);
        nw_error err;
        nw_alloc_fail_after(n);
        nw_code rc = nw_field_convert(&def, F_R, val("\"0.25\""), &o, &err);
        nw_alloc_fail_reset();
        CHECK(rc == NW_OK || rc == NW_E_LIMIT);          /* LIMIT, or the buffer records OOM for the caller */
        if (rc == NW_OK && !o.oom) CHECK_MEM(o.p + 5, nw_rd_u32(o.p + 1), "0.2500");
        nw_buf_free(&o);
    }
    nw_buf_free(&copy);
}

int main(void) {
    RUN(test_table_complete);
    RUN(test_decimal_scan);
    RUN(test_decimal_order);
    make_def();
    RUN(test_decimal_convert);
    RUN(test_decimal_schema);
    RUN(test_decimal_field_order);
    RUN(test_decimal_stored);
    RUN(test_alloc_failures);
    nw_schema_free(&def);
    nw_buf_free(&out);
    nw_buf_free(&tb);
    return check_summary("types");
}
