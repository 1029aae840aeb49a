// keys.js - the one guard for keys that come from data (issue 15): record
// ids, json object keys, signal paths. `__proto__`, `constructor` and
// `prototype` would reach an object's prototype when a program assigns or
// merges by them, so they are refused everywhere a key from data is written
// (src/record.h nw_reserved_key is the same rule in C).

/** The keys no record id, field name, json key or signal path may be. */
export const RESERVED_KEYS = Object.freeze(['__proto__', 'constructor', 'prototype']);

/** True for `__proto__`, `constructor` and `prototype`. */
export function isReservedKey(k) {
  return k === '__proto__' || k === 'constructor' || k === 'prototype';
}

/** The first reserved key anywhere inside a plain JSON value (own keys of
 * objects at any depth), or null. */
export function findReservedKey(v, depth = 0) {
  if (v === null || typeof v !== 'object' || depth > 256) return null;
  if (Array.isArray(v)) {
    for (const x of v) { const k = findReservedKey(x, depth + 1); if (k !== null) return k; }
    return null;
  }
  for (const k of Object.keys(v)) {
    if (isReservedKey(k)) return k;
    const inner = findReservedKey(v[k], depth + 1);
    if (inner !== null) return inner;
  }
  return null;
}
