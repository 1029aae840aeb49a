// Types for the sync client (js/sync-client/index.js); see docs/sync.md.
import type { NitroError, Entity, Rec } from '../nitro.js';

/** Where store and outbox are saved: a file path (Node), an IndexedDB key
 * (browsers), or your own load/save pair. */
export type SyncStorage = string | {
  load(): Promise<Uint8Array | ArrayBuffer | null>;
  save(bytes: Uint8Array): Promise<void>;
};

export interface SyncOptions {
  /** Base URL of the endpoints (POST {url}/push, GET {url}/pull, GET {url}/events). */
  url: string;
  /** Entities (or names) exchanged; default: all without `sync: false`. */
  entities?: Array<Entity<any> | string>;
  /** Bearer token, or a function returning one. */
  token?: string | (() => string | Promise<string>);
  /** Follow the server's event stream when started. */
  live?: boolean;
  storage?: SyncStorage;
  /** Mutations per push request (default 500). */
  batchSize?: number;
  /** Changes per pull page (default 5000). */
  pullLimit?: number;
  /** ms between pulls when started without live (default 30000; 0 = never). */
  interval?: number;
  /** ms per request (default 15000). */
  timeout?: number;
  /** Backoff in ms (default { base: 500, max: 30000 }). */
  retry?: { base?: number; max?: number };
  /** ms from a change the storage log does not carry (acknowledgements,
   * pulled checkpoints) to writing a new snapshot; with your own
   * { load, save }, from any write to saving (default 50). */
  persistDelay?: number;
  /** ms of silence on the event stream before reconnecting (default 45000). */
  streamIdle?: number;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export interface SyncStatus {
  /** Mutations in the outbox (conflicted ones included). */
  pending: number;
  /** Epoch ms of the last successful pull, or null. */
  lastPulledAt: number | null;
  /** The server answered the last attempt. */
  online: boolean;
  /** The last failure (code SYNC), or null after a success. */
  error: NitroError | null;
}

export interface PushResult { applied: number; rejected: number; conflicts: number }

export interface SyncConflict {
  entity: string;
  id: string;
  seq: number;
  op: 'create' | 'update' | 'delete';
  fields: Record<string, unknown> | null;
  /** The record as this store has it (the local change applied). */
  local: Rec | null;
  /** The server's record, when known in this session. */
  server?: Record<string, unknown> | null;
  version?: number;
}

/** Payloads of the sync.* events (handlers get { type, payload }). */
export interface SyncEvents {
  'sync.pushed': PushResult & { pending: number };
  'sync.pulled': { count: number; checkpoint: string; live?: boolean };
  'sync.rejected': { entity: string; id: string; seq: number; op: string; fields: Record<string, unknown> | null; error: NitroError };
  'sync.conflict': SyncConflict & { server: Record<string, unknown> | null; version: number };
  'sync.error': { error: NitroError; entity?: string; id?: string };
}

export declare class Sync {
  readonly status: SyncStatus;
  /** Resolves when the stored state has been loaded. */
  readonly ready: Promise<void>;
  /** The id the server dedupes this store's mutations by. */
  readonly clientId: string;
  readonly entities: Entity<any>[];
  /** Sends the outbox until it is empty. Rejects with NitroError code SYNC. */
  push(): Promise<PushResult>;
  /** Applies server changes since the checkpoint; resolves with their number. */
  pull(): Promise<number>;
  /** Syncs continuously (after writes, on live events or every `interval`), retrying with backoff. */
  start(): this;
  stop(): this;
  /** Stops, waits for the running exchange, saves. */
  close(): Promise<void>;
  /** Resolves when everything written so far is in storage (file: appended
   * and fsync'ed; IndexedDB: committed; { load, save }: saved whole). */
  flush(): Promise<void>;
  conflicts(): SyncConflict[];
  /** 'server' drops the local change; 'local' sends it again; an object becomes a new local write. */
  resolve(entity: Entity<any> | string, id: string, choice?: 'server' | 'local' | Record<string, unknown>): Promise<boolean>;
}

/** Writes server state into a store (not logged, no reference checks). Used by the server. */
export function applyServerState(nitro: unknown, states: Array<{ entity: Entity<any>; id: string; version: number; record: Record<string, unknown> | null }>,
  flags?: number, onSkip?: ((error: NitroError, state: unknown) => void) | null): void;

/** Node storage: one file, replaced atomically. */
export function fileStorage(path: string): Exclude<SyncStorage, string>;
/** Browser storage: one value in IndexedDB database "nitro-wasm". */
export function indexedDbStorage(name: string): Exclude<SyncStorage, string>;
