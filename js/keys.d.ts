/** The keys no record id, field name, json key or signal path may be:
 * `__proto__`, `constructor`, `prototype` (refused with rule `reserved-key`). */
export declare const RESERVED_KEYS: readonly ['__proto__', 'constructor', 'prototype'];
/** True for `__proto__`, `constructor` and `prototype`. */
export declare function isReservedKey(k: unknown): boolean;
/** The first reserved key anywhere inside a plain JSON value, or null. */
export declare function findReservedKey(v: unknown): string | null;
