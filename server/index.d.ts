// Types for nitro-wasm/server (server/index.js); see docs/sync.md.
import type { EntityDef } from '../js/nitro.js';

// node:http's IncomingMessage and ServerResponse, kept structural so these
// types need no @types/node.
type IncomingMessage = any;
type ServerResponse = any;

/** A stored record row (storage/index.js documents the interface), keyed by
 * (entity, scope, id): each user has their own ids of private entities. */
export interface RecordRow {
  entity: string;
  id: string;
  owner: string;
  /** The owner's user id, or '*' for records of shared entities. */
  scope: string;
  version: number;
  writer: string;
  deleted: boolean;
  /** The record as JSON text, null when deleted. */
  data: string | null;
}

export interface ChangeRow { entity: string; id: string; version: number; deleted: boolean; data: string | null }

/** The durable storage behind the server (SQLite by default, PostgreSQL). */
export interface SyncStorageBackend {
  open(): Promise<void>;
  close(): Promise<void>;
  head(): Promise<number>;
  loadRecords(onRecord: (row: RecordRow) => void): Promise<void>;
  watermark(user: string, client: string): Promise<number>;
  receipts(user: string, client: string, from: number, to: number): Promise<Map<number, string>>;
  commitPush(push: { user: string; client: string; done: number; head: number; records: RecordRow[]; receipts: Array<{ seq: number; result: string }> }): Promise<void>;
  changesSince(query: { scope: string; since: number; limit: number }): Promise<ChangeRow[]>;
  // Optional (withDefaults() fills them in):
  /** True when commitPushes commits several clients' pushes in one transaction (default false). */
  groupCommit?: boolean;
  /** Group commit (default: commitPush of the one client). */
  commitPushes?(push: { head: number; records: RecordRow[]; clients: Array<{ user: string; client: string; done: number; receipts: Array<{ seq: number; result: string }> }> }): Promise<void>;
  /** Watermarks and receipts of several clients (default: watermark() and receipts() each). */
  clientStates?(asks: Array<{ user: string; client: string; from: number; to: number }>): Promise<Array<{ done: number; receipts: Map<number, string> }>>;
  /** Several instances on one database: open the push transaction under the write lock; rows others committed above knownHead (default: none). */
  beginPush?(knownHead: number): Promise<{ head: number; rows: RecordRow[] }>;
  abortPush?(): Promise<void>;
  /** Commits of other instances (default: none). */
  subscribe?(fn: (e: { head: number; scopes: Set<string> }) => void): () => void;
  /** Readiness (default: head()). */
  ping?(): Promise<void>;
  /** A pull page of `scope` and '*' formatted as the response's change objects (default: changesSince() of both, merged). */
  pullJson?(query: { scope: string; since: number; limit: number; entities: string[] | null }): Promise<{ count: number; last: number; json: string }>;
}

export interface SyncServerOptions {
  /** Entity name -> definition, or the schema module (its default export). */
  schema: Record<string, EntityDef<any>> | { default: Record<string, EntityDef<any>> };
  /** SQLite file (default ':memory:') or postgres:// URL. */
  db?: string;
  /** An unopened storage backend instead of `db`. */
  storage?: SyncStorageBackend;
  /** HS256 token secret, at least 8 characters (default: env NITRO_SECRET). */
  secret?: string;
  /** Accept an identity provider's JWTs, verified with the keys at this JWKS URL, instead of the secret's (default: env NITRO_JWKS_URL). */
  jwksUrl?: string;
  /** Required `iss` claim. */
  issuer?: string;
  /** Required `aud` claim. */
  audience?: string | string[];
  /** JWT algorithms accepted (default ['HS256'] with a secret; RS*, PS*, ES*, EdDSA with a JWKS). */
  algorithms?: string[];
  /** Maps a request to a user id instead of checking tokens. */
  authenticate?: (req: IncomingMessage) => string | null | Promise<string | null>;
  /** Path prefix of the routes (default '/sync'). */
  base?: string;
  /** Allowed origin for CORS ('*' or true for any). */
  cors?: string | boolean;
  /** Bytes of a push body (default 1 MiB). */
  maxBody?: number;
  /** Mutations per push (default 1000). */
  maxBatch?: number;
  /** Changes per pull page at most (default 10000). */
  maxPull?: number;
  /** Page size when the client names none (default 1000). */
  pullLimit?: number;
  /** ms between keep-alive comments on event streams (default 15000). */
  ping?: number;
  /** Commits up to this many records go out inline on event streams (default 200). */
  liveChanges?: number;
  /** Failed authentications allowed per client address in a burst before 429 (default 30; 0: no limit). */
  authLimit?: number;
  /** ms in which an address earns back all `authLimit` attempts (default 60000). */
  authWindow?: number;
  /** The client address the rate limit counts by (default the socket's remote address; behind a proxy, e.g. the first X-Forwarded-For hop you trust). */
  clientAddress?: (req: IncomingMessage) => string;
  /** Structured logger for refused authentications (`warn(msg, fields)`); default: a line on `log`. */
  logger?: { warn(msg: string, fields?: Record<string, unknown>): void };
  /** Where unexpected errors are logged (default console.error); false for none. */
  log?: false | ((...args: unknown[]) => void);
}

export interface SyncServer {
  /** The request handler; with `next`, requests outside the base path go to it. */
  handler(req: IncomingMessage, res: ServerResponse, next?: () => void): Promise<void>;
  listen(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>;
  close(): Promise<void>;
  /** A bearer token (an HS256 JWT) for `user`, signed with this server's secret. */
  token(user: string, ttl?: string | number): string;
  /** The highest committed version. */
  readonly head: number;
}

export function createSyncServer(options: SyncServerOptions): Promise<SyncServer>;
/** An unopened storage for a storage URL, by scheme: a SQLite file path, sqlite:FILE, memory:, postgres:// (or one registerStorage added); with withDefaults() applied. */
export function openStorage(db?: string, options?: Record<string, unknown>): Promise<SyncStorageBackend>;
/** Makes `scheme:` URLs open with `factory`. */
export function registerStorage(scheme: string, factory: (url: string, options: Record<string, unknown>) => SyncStorageBackend | Promise<SyncStorageBackend>): void;
/** `storage` with the defaults of the optional methods it lacks (changed in place). Throws when a required method is missing. */
export function withDefaults<S extends SyncStorageBackend>(storage: S): S;
export function sqliteStorage(file: string, options?: { synchronous?: 'NORMAL' | 'FULL' }): SyncStorageBackend;
/** An HS256 JWT for `user` (claims sub, iat, exp), valid for `ttl` (seconds, or '45s', '30m', '1h', '7d'; default 1h). */
export function createToken(options: { user: string; secret: string; ttl?: string | number; now?: number }): string;
/** The user id of a valid HS256 token; rejects (with the reason) otherwise. */
export function verifyToken(token: string, secret: string, now?: number): Promise<string>;
/** A token verifier: HS256 with `secret`, or an identity provider's keys at `jwksUrl`; resolves with the user id (`sub`) or rejects saying why. */
export function createVerifier(options: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string | string[]; algorithms?: string[]; now?: () => number }): (token: string) => Promise<string>;
/** Why `user` cannot be a user id (reserved: empty, "*", over 200 characters, control characters, leading/trailing white space, unpaired surrogates), or null. */
export function reservedUserReason(user: string): string | null;
export function parseTtl(ttl: string | number): number;
