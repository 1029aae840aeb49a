// Types for js/sync-protocol.js: what the sync client and the server share.
import type { NitroError, Entity } from './nitro.js';

/** Writes server state into a store (not logged, no reference checks). Used by the client and the server. */
export function applyServerState(nitro: unknown, states: Array<{ entity: Entity<any>; id: string; version: number; record: Record<string, unknown> | null }>,
  flags?: number, onSkip?: ((error: NitroError, state: unknown) => void) | null): void;
