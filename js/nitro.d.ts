// Types for nitro-wasm (the ESM entry and window.Nitro).
import type { Template, TemplateOptions } from './template.js';
export { Template } from './template.js';
import type { Sync, SyncOptions } from './sync-client/index.js';
export type { Sync, SyncOptions, SyncStatus, SyncStorage, SyncConflict, SyncEvents, PushResult } from './sync-client/index.js';
export type { TemplateOptions, TemplateData } from './template.js';

export type ErrorCode =
  | 'VALIDATION' | 'NOT_FOUND' | 'DUPLICATE' | 'SCHEMA' | 'QUERY' | 'TEMPLATE'
  | 'CANCELLED' | 'CONFLICT' | 'SYNC' | 'CORRUPT' | 'LIMIT' | 'CLOSED';

export type Rule =
  | 'required' | 'type' | 'min' | 'max' | 'minLength' | 'maxLength' | 'values'
  | 'unknown' | 'unique' | 'ref' | 'restrict' | 'validate'
  /** `__proto__`, `constructor` or `prototype` as an id, ref, json key, data
   * key or signal name (VALIDATION), or as a field or entity name (SCHEMA). */
  | 'reserved-key'
  /** A value nested deeper than the limit (VALIDATION for a field value, LIMIT elsewhere). */
  | 'depth' | string;

/** Every failure of a nitro-wasm call. */
export class NitroError extends Error {
  readonly name: 'NitroError';
  readonly code: ErrorCode;
  readonly entity?: string;
  readonly field?: string;
  readonly rule?: Rule;
  /** Position in a batch (insertMany): VALIDATION, DUPLICATE and CANCELLED. */
  readonly index?: number;
  /** 1-based, template errors only. */
  readonly line?: number;
  readonly column?: number;
  constructor(code: ErrorCode, message: string, details?: object);
}

export type FieldType = 'id' | 'string' | 'int' | 'float' | 'bool' | 'enum' | 'datetime' | 'list' | 'json' | 'ref' | 'decimal';

export interface FieldDef {
  type: FieldType;
  required?: boolean;
  optional?: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  /** enum values */
  values?: readonly string[];
  /** list element type */
  of?: 'string' | 'int' | 'float' | 'bool';
  /** ref target entity */
  entity?: string;
  onDelete?: 'restrict' | 'cascade' | 'nullify';
  /** decimal: total digits, 1-64 (default 38). A decimal is an exact decimal
   * string (`'-12.34'`; a number is taken in its shortest form, `12.5` ->
   * `'12.50'`): no exponent, '+' or spaces. It is stored with exactly
   * `scale` digits after the point (padded; no leading zeros, no `-0`),
   * read back as that string, and compared numerically in where, orderBy,
   * indexes and unique keys. More digits than `precision - scale` before the
   * point is VALIDATION rule `precision`; more non-zero digits than `scale`
   * after it is rule `scale` (nothing is rounded); `min`/`max` apply. */
  precision?: number;
  /** decimal: digits after the point, 0 to `precision` (default 0). */
  scale?: number;
}

/** Refused with SCHEMA: two `id` fields, duplicate enum values, `min > max`,
 * `minLength > maxLength`, NaN bounds, non-function `validate`/`computed`/
 * `methods`, field or computed names that are reserved (`__proto__`,
 * `constructor`, `prototype`) or hide a record method (`save`, `update`,
 * `delete`, `toJSON`, the Object.prototype methods), methods named like a
 * field, a computed value or `save`/`update`/`delete`/`toJSON`. A refused
 * definition leaves nothing behind. A `ref` may name an entity defined later;
 * writing a ref value before that entity exists is SCHEMA (rule `ref`). */
export interface EntityDef<R = any> {
  fields: Record<string, FieldDef>;
  /** Ordered indexes: a field, or fields compared in turn; a leading `-`
   * sorts that key descending (`['status', '-priority', 'id']` serves
   * `where({ status }).orderBy('-priority', 'id').limit(n)` without a sort). */
  indexes?: Array<string | string[]>;
  unique?: Array<string | string[]>;
  /** Fields of the full-text index behind `search()`; their string fields
   * also get a trigram index (built on the first `contains`/`startsWith`
   * of 3+ bytes) that answers those operators without a scan. */
  search?: string[];
  ttl?: number;
  /** Sync: records visible to (and writable by) every user. */
  shared?: boolean;
  /** Sync: 'lww' (default, field-level last writer wins) or 'reject' (refuse writes made on an old version). */
  conflict?: 'lww' | 'reject';
  /** Sync: false keeps the entity local (never in the outbox). */
  sync?: boolean;
  validate?: (rec: R) => string | null | undefined | false;
  methods?: Record<string, (this: R & RecordMethods<R>, ...args: any[]) => any>;
  computed?: Record<string, (rec: R) => unknown>;
}

export interface RecordMethods<R> {
  save(): R & RecordMethods<R>;
  update(patch: Partial<R>): R & RecordMethods<R>;
  delete(): boolean;
  toJSON(): R;
}

export type Rec<R = Record<string, any>> = R & RecordMethods<R> & Record<string, any>;

export interface WriteOptions { ttl?: number }

export type Scalar = string | number | boolean | null | Date;

/** Operators of a where clause on one field. */
export interface FieldOps {
  eq?: unknown; ne?: unknown; lt?: unknown; lte?: unknown; gt?: unknown; gte?: unknown;
  in?: readonly unknown[]; nin?: readonly unknown[];
  contains?: unknown; startsWith?: string; exists?: boolean;
}

/** `{ field: value }` is equality; several fields are AND. */
export type Where<R = Record<string, any>> =
  | ({ [K in keyof R]?: R[K] | FieldOps } & Record<string, unknown>)
  | { $or: Where<R>[] } | { $and: Where<R>[] } | { $not: Where<R> };

/** A lazy, immutable query: nothing runs until a terminal call, and each
 * terminal call is one crossing into WebAssembly. Pass it to a template to
 * render its records inside WebAssembly. */
export declare class Query<R = Record<string, any>> {
  readonly entity: Entity<R>;
  where(more: Where<R>): Query<R>;
  /** Field names; a leading `-` sorts descending. */
  orderBy(...keys: string[]): Query<R>;
  /** A non-negative integer (else QUERY). Values above 2^32 - 1 (more
   * records than a table holds, e.g. `1e20`) mean no limit. */
  limit(n: number): Query<R>;
  /** A non-negative integer (else QUERY); values above 2^32 - 1 skip everything. */
  offset(n: number): Query<R>;
  all(): Rec<R>[];
  first(): Rec<R> | null;
  /** Ignores limit and offset. */
  count(): number;
  ids(): string[];
  /** Patches every match; returns how many were updated. */
  update(patch: Partial<R>): number;
  /** Deletes every match; returns how many were deleted. */
  delete(): number;
  /** A live query: `fn` runs once per committed write batch (a write, a
   * transaction, a sync pull) that changed the result. C keeps the result
   * current from each batch without re-running the query. */
  subscribe(fn: (change: LiveChange<R>) => void): LiveSubscription<R>;
  /** Runs the query once (limit and offset apply) and reports how the
   * planner ran it. */
  explain(): QueryPlan;
}

/** What `query.explain()` reports. */
export interface QueryPlan {
  /** The index used: its declaration with `-` on descending keys
   * (`'status,-priority,id'`), `'id'` for primary-key lookups or the id
   * order, `'trigram:title'` (`'trigram:title|notes'` for an `$or`) for the
   * substring index of `search` fields; `null` for a full scan. */
  readonly index: string | null;
  /** `'index'`: the index walk yields the orderBy order (then the id);
   * `'sort'`: the matches are sorted (a bounded heap under a limit). */
  readonly order: 'index' | 'sort';
  /** True when the walk stops once offset + limit matches are found. */
  readonly stopsEarly: boolean;
  /** Records tested against the where clause. */
  readonly scanned: number;
  /** Records returned (after offset and limit). */
  readonly results: number;
}

export interface LiveChange<R = Record<string, any>> {
  /** Ids that entered the result, in result order. */
  readonly added: string[];
  /** Ids that left it. */
  readonly removed: string[];
  /** Ids that stayed but changed place (the fewest such). */
  readonly moved: string[];
  /** Ids that stayed and were written. */
  readonly updated: string[];
  /** The result as it stands now. */
  result(): Rec<R>[];
}

export interface LiveSubscription<R = Record<string, any>> {
  readonly closed: boolean;
  result(): Rec<R>[];
  unsubscribe(): void;
}

export interface SearchOptions<R = Record<string, any>> { limit?: number; where?: Where<R> }

export interface Entity<R = Record<string, any>> {
  readonly name: string;
  /** `rec instanceof Task`: records are instances of their entity. */
  [Symbol.hasInstance](value: unknown): value is Rec<R>;
  create(data: Partial<R>, options?: WriteOptions): Rec<R>;
  /** One crossing; all or nothing (the error's `index` names the bad item).
   * `returning: 'ids'` gives the new ids, `'count'` their number: neither
   * copies nor decodes the records (faster for big batches). */
  insertMany(data: Partial<R>[], options?: WriteOptions & { returning?: 'records' }): Rec<R>[];
  insertMany(data: Partial<R>[], options: WriteOptions & { returning: 'ids' }): string[];
  insertMany(data: Partial<R>[], options: WriteOptions & { returning: 'count' }): number;
  get(id: string): Rec<R> | null;
  /** QUERY when `ids` is not an array; non-string ids give null. */
  getMany(ids: string[]): (Rec<R> | null)[];
  update(id: string, patch: Partial<R>, options?: WriteOptions): Rec<R>;
  upsert(data: Partial<R>, options?: WriteOptions): Rec<R>;
  delete(id: string): boolean;
  /** Records in primary-key order. */
  all(): Rec<R>[];
  count(where?: Where<R>): number;
  where(where: Where<R>): Query<R>;
  query(): Query<R>;
  findBy(where: Where<R>): Rec<R> | null;
  /** Ranked full-text search over the entity's `search` fields. */
  search(text: string, options?: SearchOptions<R>): Rec<R>[];
  /** The record a ref field points at, or null. */
  related(rec: Partial<R>, field: string): Rec | null;
  /** Records of `child` whose ref `field` points at `rec`. */
  children<C>(rec: Partial<R>, child: Entity<C>, field: string): Rec<C>[];
  /** Removes records whose TTL has passed; returns how many. */
  expire(now?: number): number;
}

export interface NitroEvent<R = Record<string, any>> {
  type: string;
  entity: string;
  id: string;
  record: Rec<R> | null;
  /** The record before the write: null on create; on `deleted`, `expired`
   * and `beforeDelete` the removed record (as `record`). */
  previous: Rec<R> | null;
  changes: Partial<R>;
  source: 'local' | 'sync';
  /** Cancels the write of a `beforeSave` / `beforeDelete` while its handlers
   * run (default reason `'cancelled'`); does nothing on other events or later. */
  cancel(reason?: string): void;
}

export interface OnOptions {
  priority?: number;
  once?: boolean;
  signal?: AbortSignal;
  filter?: (e: any) => boolean;
  /** The handler takes the payload only, `handler(payload, type)` (a domain
   * event passes the event itself): an emit to such handlers allocates nothing. */
  payload?: boolean;
}

export interface EventCounts { emitted: number; delivered: number; failed: number; cancelled: number }

export interface Stats {
  memoryBytes: number;
  heapBytes: number;
  entities: Record<string, { records: number; indexes: number; bytes: number }>;
  events: Record<string, EventCounts>;
}

export interface Nitro {
  entity<R = Record<string, any>>(name: string, def: EntityDef<R>): Entity<R>;
  on(pattern: 'error', handler: (err: unknown, event: any) => void, options?: OnOptions): () => void;
  on(pattern: string, handler: (e: any) => any, options?: OnOptions): () => void;
  /** Handler results in delivery order (a shared frozen array when all returned undefined). */
  emit(type: string, payload?: unknown): readonly unknown[];
  emitAsync(type: string, payload?: unknown): Promise<unknown[]>;
  /** `fn` is synchronous (VALIDATION otherwise, as for a non-function). */
  transaction<T>(fn: () => T): T;
  /** Compiles a Mustache template; render() accepts data, records and queries. */
  template(src: string, options?: TemplateOptions): Template;
  /** The whole store as bytes (versioned, checksummed). */
  snapshot(): Uint8Array;
  /** Replaces the store with a snapshot (CORRUPT / SCHEMA errors leave it as it was). */
  restore(bytes: Uint8Array | ArrayBuffer): void;
  stats(): Stats;
  /** Keeps the store in sync with a server (docs/sync.md). One at a time per instance. */
  sync(options: SyncOptions): Sync;
  /** Resolves when every write made so far is in the sync storage: appended
   * and fsync'ed (Node file), committed (IndexedDB) or saved (your own
   * { load, save }); at once when there is no storage. */
  flush(): Promise<void>;
  /** Defines every entity of a schema module ({ Name: definition }). */
  define<S extends Record<string, EntityDef<any>>>(schema: S): { [K in keyof S]: Entity<Record<string, any>> };
  close(): void;
}

export interface CreateOptions {
  /** Where to find nitro.wasm: URL, path or URL string, bytes, a compiled module or a Response.
   * Default: nitro.wasm next to the module; in Node, the path in env NITRO_WASM when set
   * (another build of the same exports, such as the Emscripten one: docs/toolchains.md). */
  wasm?: URL | string | ArrayBuffer | ArrayBufferView | WebAssembly.Module | Response;
  /** false: do not record writes in the outbox (a store that never syncs). */
  outbox?: boolean;
}

export function createNitro(options?: CreateOptions): Promise<Nitro>;
