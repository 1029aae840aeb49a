/* text.h - text and value helpers the store and the schema share
 * (implemented in record.c): ISO dates, reserved keys, UTF-8 counts,
 * hashing, short value descriptions for messages. */
#ifndef NW_TEXT_H
#define NW_TEXT_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Parses an ISO 8601 date or date-time (UTC when no offset is given) into
 * epoch ms. Returns false if it is not one. */
bool nw_parse_iso_date(const char *s, size_t len, double *ms);

/* True for the names that would reach an object's prototype when a JS
 * program uses them as keys: `__proto__`, `constructor`, `prototype`. They
 * are refused as record ids, ref values, json object keys, data keys and
 * field or entity names (VALIDATION / SCHEMA, rule "reserved-key"), so no
 * record, signal or decoded object can carry them (issue 15). */
bool nw_reserved_key(const char *s, size_t n);

/* Number of Unicode code points in UTF-8 text. */
uint32_t nw_utf8_count(const uint8_t *s, size_t len);

/* 32-bit hash of bytes (for the primary key table). */
uint32_t nw_hash_bytes(const uint8_t *p, size_t n);

/* Appends a short human form of an NVAL value for messages: numbers as JS
 * prints them, strings quoted and cut at 40 characters, "null", "true",
 * "an array", "an object". */
void nw_describe_value(const uint8_t *v, char *out, size_t cap);

#endif
