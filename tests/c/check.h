/* check.h - a minimal test harness for the native C tests.
 * Each test file defines test functions and a main() that calls RUN(fn) for
 * each and returns check_summary(). Output ends with "N passed, N failed". */
#ifndef NW_CHECK_H
#define NW_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_failed_in_test;
static int check_passed, check_failed;

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
    check_failed_in_test = 1; } } while (0)

#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { \
    fprintf(stderr, "  %s:%d: %s == %s failed (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, _a, _b); \
    check_failed_in_test = 1; } } while (0)

#define CHECK_MEM(p, n, lit) do { size_t _n = (n); const char *_l = (lit); \
    if (_n != strlen(_l) || memcmp((p), _l, _n) != 0) { \
    fprintf(stderr, "  %s:%d: got \"%.*s\", want \"%s\"\n", __FILE__, __LINE__, (int)_n, (const char *)(p), _l); \
    check_failed_in_test = 1; } } while (0)

#define RUN(fn) do { check_failed_in_test = 0; fn(); \
    if (check_failed_in_test) { check_failed++; fprintf(stderr, "not ok - %s\n", #fn); } \
    else { check_passed++; printf("ok - %s\n", #fn); } } while (0)

static inline int check_summary(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
    return check_failed ? 1 : 0;
}
#endif
