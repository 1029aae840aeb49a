// Types for nitro-wasm (the ESM entry and window.Nitro).

export type ErrorCode =
  | 'VALIDATION' | 'NOT_FOUND' | 'DUPLICATE' | 'SCHEMA' | 'QUERY' | 'TEMPLATE'
  | 'CANCELLED' | 'CONFLICT' | 'SYNC' | 'CORRUPT' | 'LIMIT' | 'CLOSED';

export type Rule =
  | 'required' | 'type' | 'min' | 'max' | 'minLength' | 'maxLength' | 'values'
  | 'unknown' | 'unique' | 'ref' | 'restrict' | 'validate' | string;

/** Every failure of a nitro-wasm call. */
export class NitroError extends Error {
  readonly name: 'NitroError';
  readonly code: ErrorCode;
  readonly entity?: string;
  readonly field?: string;
  readonly rule?: Rule;
  /** Position in a batch (insertMany). */
  readonly index?: number;
  /** 1-based, template errors only. */
  readonly line?: number;
  readonly column?: number;
  constructor(code: ErrorCode, message: string, details?: object);
}

export type FieldType = 'id' | 'string' | 'int' | 'float' | 'bool' | 'enum' | 'datetime' | 'list' | 'json' | 'ref';

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
}

export interface EntityDef<R = any> {
  fields: Record<string, FieldDef>;
  indexes?: Array<string | string[]>;
  unique?: Array<string | string[]>;
  search?: string[];
  ttl?: number;
  shared?: boolean;
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

export interface Entity<R = Record<string, any>> {
  readonly name: string;
  create(data: Partial<R>, options?: WriteOptions): Rec<R>;
  insertMany(data: Partial<R>[], options?: WriteOptions): Rec<R>[];
  get(id: string): Rec<R> | null;
  getMany(ids: string[]): (Rec<R> | null)[];
  update(id: string, patch: Partial<R>, options?: WriteOptions): Rec<R>;
  upsert(data: Partial<R>, options?: WriteOptions): Rec<R>;
  delete(id: string): boolean;
  all(): Rec<R>[];
  count(where?: object): number;
  expire(now?: number): number;
}

export interface NitroEvent<R = Record<string, any>> {
  type: string;
  entity: string;
  id: string;
  record: Rec<R> | null;
  previous: Rec<R> | null;
  changes: Partial<R>;
  source: 'local' | 'sync';
  cancel?(reason?: string): void;
}

export interface OnOptions {
  priority?: number;
  once?: boolean;
  signal?: AbortSignal;
  filter?: (e: any) => boolean;
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
  emit(type: string, payload?: unknown): unknown[];
  emitAsync(type: string, payload?: unknown): Promise<unknown[]>;
  transaction<T>(fn: () => T): T;
  stats(): Stats;
  close(): void;
}

export interface CreateOptions {
  /** Where to find nitro.wasm: URL, path or URL string, bytes, a compiled module or a Response. */
  wasm?: URL | string | ArrayBuffer | ArrayBufferView | WebAssembly.Module | Response;
}

export function createNitro(options?: CreateOptions): Promise<Nitro>;
