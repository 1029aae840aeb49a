// The event bus behind nitro.on / emit / emitAsync and the store's domain events.

/** What handlers of custom events (`emit`, `emitAsync`) receive. */
export interface BusEvent<P = unknown> {
  type: string;
  payload: P;
}

/** A domain event built by the store shim. */
export interface DomainEvent<R = Record<string, unknown>> {
  /** Full name, e.g. `'Task.created'`; `'sync.pushed'` etc. for sync events. */
  type: string;
  /** `'Task'`. */
  entity?: string;
  id?: unknown;
  record?: R | null;
  /** The record before the write; `null` on create. */
  previous?: R | null;
  /** `{ field: newValue }` for the fields that changed. */
  changes?: Partial<R>;
  source?: 'local' | 'sync';
  /** On entity events: cancels the write of a `beforeSave` / `beforeDelete` while its
   * handlers run (default reason `'cancelled'`); does nothing on other events or later. */
  cancel?(reason?: string): void;
  [key: string]: unknown;
}

export type Handler = (event: any) => unknown;
export type ErrorHandler = (err: unknown, event: BusEvent | DomainEvent) => unknown;

export interface OnOptions {
  /** Higher runs first; equal priorities run in subscription order. Default 0. */
  priority?: number;
  /** Remove the handler just before its first run. */
  once?: boolean;
  /** Already aborted: nothing is subscribed. Aborted later: unsubscribed. */
  signal?: AbortSignal;
  /** Returning false skips the handler for that event (it gets no result slot).
   * 'error' handlers' filters receive `(err, event)`. */
  filter?: (event: any, ...rest: any[]) => unknown;
  /** The handler takes the payload only: called as `handler(payload, type)`
   * (a domain event passes the event itself as the payload), so an emit to
   * such handlers builds no event object. Ignored for 'error' handlers. */
  payload?: boolean;
}

export interface EventBusOptions {
  /** Rounds of events caused by events allowed in one drain before LIMIT. Default 32. */
  maxDepth?: number;
  /** Builds the LIMIT error; called as a plain function. Default: an Error with `code = 'LIMIT'`. */
  errorFactory?: (code: 'LIMIT', message: string) => Error;
  /** Checks a type the first time emit/emitAsync meet it (throws for a bad one). */
  checkType?: (type: unknown) => void;
}

export interface EventStats {
  /** Events emitted or dispatched. */
  emitted: number;
  /** Handler calls. */
  delivered: number;
  /** Handlers or filters that threw or rejected. */
  failed: number;
  /** Cancellable events that were cancelled. */
  cancelled: number;
}

export declare class EventBus {
  constructor(options?: EventBusOptions);

  /**
   * Patterns: `'Task.created'`, `'Task.*'`, `'*.deleted'`, `'*'` (all but 'error'), `'sync.*'`, `'error'`.
   * Returns an idempotent unsubscribe function. A running dispatch calls the
   * handlers subscribed when it started (`once` handlers still run at most once).
   */
  on(pattern: 'error', handler: ErrorHandler, options?: OnOptions): () => void;
  on(pattern: string, handler: Handler, options?: OnOptions): () => void;

  /** True when a handler would receive an event of `type`. */
  hasListeners(type: string): boolean;

  /** Handlers get `{ type, payload }` (or `(payload, type)` with `payload: true`);
   * returns their results in delivery order, as a shared frozen array when every
   * handler returned undefined. */
  emit<P = unknown>(type: string, payload?: P): unknown[];

  /** Starts every handler without awaiting the previous one; resolves with the
   * results in delivery order (`undefined` for a handler that threw or rejected). */
  emitAsync<P = unknown>(type: string, payload?: P): Promise<unknown[]>;

  /** Delivers an after-commit event; queued when called from inside a handler. */
  dispatch(event: DomainEvent): void;

  /** Delivers events in order; queued when called from inside a handler.
   * Throws a LIMIT error when events keep causing events for more than `maxDepth` rounds. */
  dispatchBatch(events: readonly DomainEvent[]): void;

  /** Delivers a `beforeSave` / `beforeDelete` entity event, its `cancel()` open
   * while the handlers run; returns null, or the reason of the first cancel.
   * Stops at the first cancel. */
  dispatchCancellable(event: DomainEvent & { _openCancel(): void; _cancelReason(): string | null; _closeCancel(): string | null }): string | null;

  /** Reports a failure of a callback run outside the bus to the 'error' handlers
   * as (err, event), or to console.error when there are none. */
  reportError(err: unknown, event: BusEvent | DomainEvent | { type: string; [key: string]: unknown }): void;

  /** Counters per event type (a copy). */
  stats(): Record<string, EventStats>;
}
