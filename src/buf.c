/* buf.c - growable byte buffer and JS-compatible number formatting. */
#include "buf.h"
#include "alloc.h"
#include <string.h>
#include <stdlib.h>
#include <math.h>

void nw_buf_init(nw_buf *b) { b->p = NULL; b->len = 0; b->cap = 0; b->oom = false; }

void nw_buf_free(nw_buf *b) { nw_free(b->p); nw_buf_init(b); }

void nw_buf_reset(nw_buf *b) { b->len = 0; b->oom = false; }

bool nw_buf_reserve(nw_buf *b, size_t extra) {
    if (b->oom) return false;
    if (extra <= b->cap - b->len) return true;
    if (extra > SIZE_MAX / 2 - b->len) { b->oom = true; return false; }
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    uint8_t *p = nw_realloc(b->p, cap);
    if (!p) { b->oom = true; return false; }
    b->p = p;
    b->cap = cap;
    return true;
}

void nw_buf_hint(nw_buf *b, size_t extra) {
    if (b->oom || extra <= b->cap - b->len || extra > SIZE_MAX / 2 - b->len) return;
    uint8_t *p = nw_realloc(b->p, b->len + extra);
    if (!p) return;
    b->p = p;
    b->cap = b->len + extra;
}

void nw_buf_append(nw_buf *b, const void *data, size_t n) {
    if (!n || !nw_buf_reserve(b, n)) return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void nw_buf_byte(nw_buf *b, uint8_t c) {
    if (b->len < b->cap && !b->oom) { b->p[b->len++] = c; return; }
    if (!nw_buf_reserve(b, 1)) return;
    b->p[b->len++] = c;
}

void nw_buf_str(nw_buf *b, const char *s) { nw_buf_append(b, s, strlen(s)); }

void nw_buf_u32(nw_buf *b, uint32_t v) {
    uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    nw_buf_append(b, t, 4);
}

void nw_buf_i32(nw_buf *b, int32_t v) { nw_buf_u32(b, (uint32_t)v); }

void nw_buf_f64(nw_buf *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(u >> (8 * i));
    nw_buf_append(b, t, 8);
}

double nw_rd_f64(const uint8_t *p) {
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = (u << 8) | p[i];
    double v;
    memcpy(&v, &u, 8);
    return v;
}

void nw_buf_patch_u32(nw_buf *b, size_t at, uint32_t v) {
    if (b->oom || at + 4 > b->len) return;
    b->p[at] = (uint8_t)v; b->p[at + 1] = (uint8_t)(v >> 8);
    b->p[at + 2] = (uint8_t)(v >> 16); b->p[at + 3] = (uint8_t)(v >> 24);
}

static int fmt_uint(char *t, uint64_t u) {
    char r[24];
    int i = 24, n = 0;
    do { r[--i] = (char)('0' + u % 10); u /= 10; } while (u);
    while (i < 24) t[n++] = r[i++];
    return n;
}

/* Exact decimal expansion of a finite positive double: writes its digits
 * (no leading zeros) into out and returns their count; *exp10 receives the
 * decimal exponent of the first digit. v = mant * 2^e2 is mant * 2^e2 when
 * e2 >= 0 and mant * 5^-e2 / 10^-e2 otherwise, so one big integer in base
 * 1e9 carries it. 800 digits cover every double (the longest has 767). */
#define EXACT_LIMBS 96
static int exact_digits(double v, char *out, int *exp10) {
    int e2;
    double fr = frexp(v, &e2);
    uint64_t mant = (uint64_t)ldexp(fr, 53);
    e2 -= 53;
    while ((mant & 1) == 0) { mant >>= 1; e2++; }
    uint32_t limb[EXACT_LIMBS]; /* little-endian, base 1e9 */
    int nl = 0;
    while (mant) { limb[nl++] = (uint32_t)(mant % 1000000000u); mant /= 1000000000u; }
    int shift = e2 >= 0 ? e2 : -e2;
    while (shift > 0) {
        uint32_t f;
        int step;
        if (e2 >= 0) { step = shift < 29 ? shift : 29; f = (uint32_t)1 << step; }
        else { step = shift < 13 ? shift : 13; f = 1; for (int i = 0; i < step; i++) f *= 5; }
        uint64_t carry = 0;
        for (int i = 0; i < nl; i++) {
            uint64_t t = (uint64_t)limb[i] * f + carry;
            limb[i] = (uint32_t)(t % 1000000000u);
            carry = t / 1000000000u;
        }
        while (carry && nl < EXACT_LIMBS) { limb[nl++] = (uint32_t)(carry % 1000000000u); carry /= 1000000000u; }
        shift -= step;
    }
    int n = 0;
    char t[10];
    for (int i = nl - 1; i >= 0; i--) {
        uint32_t x = limb[i];
        for (int j = 8; j >= 0; j--) { t[j] = (char)('0' + x % 10); x /= 10; }
        int j = 0;
        if (i == nl - 1) while (j < 8 && t[j] == '0') j++;
        for (; j < 9; j++) out[n++] = t[j];
    }
    *exp10 = n - 1 - (e2 < 0 ? -e2 : 0);
    return n;
}

/* Writes m * 10^ce as "<m>e<ce>" for strtod; returns the length of <m>. */
static int digits_try(uint64_t m, int ce, char *tmp) {
    int n = fmt_uint(tmp, m);
    int k = n;
    tmp[k++] = 'e';
    if (ce < 0) { tmp[k++] = '-'; ce = -ce; }
    k += fmt_uint(tmp + k, (uint64_t)ce);
    tmp[k] = 0;
    return n;
}

/* Shortest decimal digits that round-trip, as ECMA-262 Number::toString
 * chooses them: the fewest significant digits p that parse back to v and,
 * among p-digit candidates, the closest to v (ties to even). The closest
 * p-digit decimal comes from rounding the exact expansion; when it does not
 * round-trip (the interval is lopsided at a power of two) its neighbours
 * are tried too. strtod is correctly rounded, so an accepted answer is
 * exact. */
static int shortest_digits(double v, char *digits, int *exp10) {
    char ex[800];
    char tmp[48];
    int e, len = exact_digits(v, ex, &e);
    for (int p = 1; p <= 17; p++) {
        uint64_t m = 0;
        for (int i = 0; i < p; i++) m = m * 10 + (uint64_t)(i < len ? ex[i] - '0' : 0);
        int up = 0;
        if (p < len) {
            if (ex[p] > '5') up = 1;
            else if (ex[p] == '5') {
                up = (int)(m & 1); /* exact half: to even */
                for (int i = p + 1; i < len; i++) if (ex[i] != '0') { up = 1; break; }
            }
        }
        if (up) m++;
        int ce = e - p + 1;
        uint64_t cands[3] = { m, up ? m - 1 : m + 1, up ? m + 1 : m - 1 };
        for (int d = 0; d < 3; d++) {
            if (cands[d] == 0) continue;
            int n = digits_try(cands[d], ce, tmp);
            if (strtod(tmp, NULL) == v) {
                memcpy(digits, tmp, (size_t)n);
                *exp10 = ce + n - 1;
                while (n > 1 && digits[n - 1] == '0') n--;
                return n;
            }
        }
    }
    /* unreachable for finite doubles: 17 digits always round-trip */
    digits[0] = '0';
    *exp10 = 0;
    return 1;
}

int nw_fmt_num(char *out, double v) {
    int o = 0;
    if (isnan(v)) { memcpy(out, "NaN", 3); return 3; }
    if (v == 0) { out[0] = '0'; return 1; }
    if (v < 0) { out[o++] = '-'; v = -v; }
    if (isinf(v)) { memcpy(out + o, "Infinity", 8); return o + 8; }
    if (v < 9007199254740992.0 && v == floor(v)) return o + fmt_uint(out + o, (uint64_t)v);
    char digits[24];
    int e, k = shortest_digits(v, digits, &e);
    int n = e + 1; /* ECMA-262 Number::toString layout */
    if (k <= n && n <= 21) {
        memcpy(out + o, digits, (size_t)k); o += k;
        for (int i = k; i < n; i++) out[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + o, digits, (size_t)n); o += n;
        out[o++] = '.';
        memcpy(out + o, digits + n, (size_t)(k - n)); o += k - n;
    } else if (-6 < n && n <= 0) {
        out[o++] = '0'; out[o++] = '.';
        for (int i = 0; i < -n; i++) out[o++] = '0';
        memcpy(out + o, digits, (size_t)k); o += k;
    } else {
        out[o++] = digits[0];
        if (k > 1) { out[o++] = '.'; memcpy(out + o, digits + 1, (size_t)(k - 1)); o += k - 1; }
        out[o++] = 'e';
        out[o++] = n - 1 >= 0 ? '+' : '-';
        o += fmt_uint(out + o, (uint64_t)(n - 1 >= 0 ? n - 1 : -(n - 1)));
    }
    return o;
}

void nw_buf_num(nw_buf *b, double v) {
    char t[NW_NUM_MAX];
    nw_buf_append(b, t, (size_t)nw_fmt_num(t, v));
}

/* Date.prototype.toISOString into out[32]; returns the length. The same
 * result as nv_write_iso_date, written without a buffer round trip because
 * dates are common in rows and this is the render hot path. */
size_t nw_fmt_iso(char *o, double ms) {
    if (!(ms >= -8.64e15 && ms <= 8.64e15)) { memcpy(o, "Invalid Date", 12); return 12; }
    int64_t total = (int64_t)ms;
    if ((double)total > ms) total--;                  /* floor */
    int64_t days = total / 86400000, rem = total % 86400000;
    if (rem < 0) { rem += 86400000; days--; }
    /* civil_from_days (H. Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    if (m <= 2) y++;
    size_t n = 0;
    int64_t ay = y < 0 ? -y : y;
    int yd = 4;
    if (y < 0 || y > 9999) { o[n++] = y < 0 ? '-' : '+'; yd = 6; }
    for (int i = yd - 1; i >= 0; i--) { o[n + (size_t)i] = (char)('0' + ay % 10); ay /= 10; }
    n += (size_t)yd;
    int ms3 = (int)(rem % 1000), sec = (int)(rem / 1000 % 60), min = (int)(rem / 60000 % 60), hr = (int)(rem / 3600000);
    char *q = o + n;
    q[0] = '-'; q[1] = (char)('0' + m / 10); q[2] = (char)('0' + m % 10);
    q[3] = '-'; q[4] = (char)('0' + d / 10); q[5] = (char)('0' + d % 10);
    q[6] = 'T'; q[7] = (char)('0' + hr / 10); q[8] = (char)('0' + hr % 10);
    q[9] = ':'; q[10] = (char)('0' + min / 10); q[11] = (char)('0' + min % 10);
    q[12] = ':'; q[13] = (char)('0' + sec / 10); q[14] = (char)('0' + sec % 10);
    q[15] = '.'; q[16] = (char)('0' + ms3 / 100); q[17] = (char)('0' + ms3 / 10 % 10); q[18] = (char)('0' + ms3 % 10);
    q[19] = 'Z';
    return n + 20;
}
