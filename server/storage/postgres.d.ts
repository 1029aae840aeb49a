import type { RecordRow } from '../index.js';
export type { RecordRow };

export interface ClientCommit {
  user: string;
  client: string;
  done: number;
  receipts: Array<{ seq: number; result: string }>;
}

export interface PostgresStorage {
  readonly kind: 'postgres';
  /** this process's id in NOTIFY payloads */
  readonly instance: string;
  open(): Promise<void>;
  close(): Promise<void>;
  /** the database answers and the LISTEN connection is up */
  ping(): Promise<void>;
  head(): Promise<number>;
  loadRecords(onRecord: (row: RecordRow) => void): Promise<void>;
  watermark(user: string, client: string): Promise<number>;
  receipts(user: string, client: string, from: number, to: number): Promise<Map<number, string>>;
  /** watermarks and receipts of several clients in one round trip */
  clientStates(queries: Array<{ user: string; client: string; from: number; to: number }>): Promise<Array<{ done: number; receipts: Map<number, string> }>>;
  /** opens the push transaction under the global write lock; rows: what other instances committed above knownHead */
  beginPush(knownHead?: number): Promise<{ head: number; rows: RecordRow[] }>;
  abortPush(): Promise<void>;
  commitPush(push: ClientCommit & { head: number; records: RecordRow[] }): Promise<void>;
  /** group commit: several clients' pushes in one transaction */
  commitPushes(group: { head: number; records: RecordRow[]; clients: ClientCommit[] }): Promise<void>;
  changesSince(q: { scope: string; since: number; limit: number }): Promise<Array<Pick<RecordRow, 'entity' | 'id' | 'version' | 'deleted' | 'data'>>>;
  /** commits of other instances (LISTEN/NOTIFY); scopes holds '*' when every stream should pull */
  subscribe(fn: (e: { head: number; scopes: Set<string> }) => void): () => void;
  /** the pg Pool (tests and tools) */
  readonly pool: unknown;
}

export class StaleHeadError extends Error {
  readonly code: 'STALE';
}

/** Versioned schema migrations (SQL), applied in order on open(). */
export const MIGRATIONS: string[];

export function postgresStorage(url: string, options?: {
  poolSize?: number;
  channel?: string;
  logger?: { warn(msg: string, fields?: Record<string, unknown>): void };
}): PostgresStorage;
