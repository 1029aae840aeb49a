// Datastar 1.0 server-sent events for Node (server half of nitro-wasm/datastar).

/** `outer` (default, morph), `inner` (morph), `replace`, `prepend`, `append`, `before`, `after`, `remove`. */
export type PatchMode = 'outer' | 'inner' | 'replace' | 'prepend' | 'append' | 'before' | 'after' | 'remove';
export type Namespace = 'html' | 'svg' | 'mathml';

export declare const MODES: readonly PatchMode[];
export declare const NAMESPACES: readonly Namespace[];

/** Options every event takes. */
export interface EventOptions {
  /** SSE `id`; omitted when absent or ''. Must not contain a line break or NUL (TypeError). */
  eventId?: string | number;
  /** SSE `retry` in ms (integer >= 0); omitted when 1000, the default. */
  retryDuration?: number;
}

export interface PatchElementsOptions extends EventOptions {
  /** CSS selector; required by every mode but `outer` and `replace` (TypeError otherwise). No line breaks. */
  selector?: string;
  /** Default `outer`; anything else outside {@link MODES} throws a TypeError. */
  mode?: PatchMode;
  /** Default `html`. */
  namespace?: Namespace;
  useViewTransition?: boolean;
  /** Sent only together with `useViewTransition: true`. */
  viewTransitionSelector?: string;
}

export interface PatchSignalsOptions extends EventOptions {
  onlyIfMissing?: boolean;
}

export interface ExecuteScriptOptions extends EventOptions {
  /** Extra `<script>` attributes: strings/numbers are quoted and escaped, `true` is bare, `false`/`null` skipped. */
  attributes?: Record<string, string | number | boolean | null | undefined>;
  /** Adds `data-effect="el.remove()"` so the tag removes itself. Default true. */
  autoRemove?: boolean;
}

export interface RemoveElementsOptions extends EventOptions {
  useViewTransition?: boolean;
  viewTransitionSelector?: string;
}

export interface SseOptions {
  /** Interval in ms of `: keep-alive` comments (unref'd timer, stopped on close). Default 15000; 0 disables. */
  keepAlive?: number;
  /** Sent once at the start as `retry: N` (reconnect hint, ms). */
  retry?: number;
}

/**
 * A Datastar event writer. Every write returns `true` when it was handed to
 * the response and `false` (never throws) once the client has gone or
 * `close()` was called. Invalid arguments throw a TypeError either way.
 */
export interface SseWriter {
  /** `html` may be a string or anything printable (e.g. an `Html` from nitro-wasm/html); it may be empty only with a selector. */
  patchElements(html: string | { toString(): string } | null | undefined, options?: PatchElementsOptions): boolean;
  /** An object is sent as compact JSON (an RFC 7386 merge patch: null deletes); a string is sent as is, one `signals` line per line. */
  patchSignals(signals: object | string, options?: PatchSignalsOptions): boolean;
  /** A `mode remove` patch for every element matching `selector`. */
  removeElements(selector: string, options?: RemoveElementsOptions): boolean;
  /** `'a.b'` or `['a.b', 'c']` -> patch `{"a":{"b":null},"c":null}`. */
  removeSignals(paths: string | readonly string[], options?: PatchSignalsOptions): boolean;
  /** Appends `<script>code</script>` to body (a `</script` inside `code` is written `<\/script`). */
  executeScript(code: string, options?: ExecuteScriptOptions): boolean;
  /** An SSE comment (`: text`), ignored by clients. */
  comment(text?: string): boolean;
  /** Ends the response; idempotent. */
  close(): void;
  /** True after the client disconnected or close() was called. */
  readonly closed: boolean;
  /** Aborted when the stream closes: pass it to `nitro.on(type, fn, { signal })` to unsubscribe. */
  readonly signal: AbortSignal;
}

/** A minimal response: a Node `http.ServerResponse` satisfies it. */
export interface SseResponse {
  writeHead?(status: number, headers: Record<string, string>): unknown;
  setHeader?(name: string, value: string): unknown;
  flushHeaders?(): void;
  write(chunk: string): unknown;
  end(): unknown;
  on?(event: 'close' | 'error', listener: (...args: any[]) => void): unknown;
  headersSent?: boolean;
  destroyed?: boolean;
  writableEnded?: boolean;
}

/**
 * Writes status 200 and the SSE headers (`Content-Type: text/event-stream`,
 * `Cache-Control: no-cache`, `Connection: keep-alive` on HTTP/1.x), flushes
 * them, and returns the writer. Headers set on `res` beforehand are kept.
 * Throws if the headers were already sent.
 */
export declare function sse(res: SseResponse, options?: SseOptions): SseWriter;

/** The error `readSignals` rejects with: `status` 400 (malformed/aborted) or 413 (over the limit). */
export interface ReadSignalsError extends Error {
  status: 400 | 413;
}

export interface ReadSignalsOptions {
  /** Body size limit in bytes; default 1 MiB (1048576). */
  limit?: number;
}

/**
 * Signals sent by a Datastar action: GET, HEAD and DELETE read the `datastar`
 * query parameter, other methods the JSON body (a framework-parsed `req.body`
 * is used when present). Resolves `{}` when nothing was sent; rejects with a
 * {@link ReadSignalsError} on malformed or non-object JSON (400) or an
 * oversize body (413). Accepts a Node `IncomingMessage` or a fetch `Request`.
 */
/** What readSignals needs of a Node `http.IncomingMessage` (structural, so no @types/node is required). */
export interface NodeRequestLike {
  method?: string;
  url?: string;
  headers?: Record<string, string | string[] | undefined>;
  /** A body already parsed by a framework (express.json() and the like). */
  body?: unknown;
  readableEnded?: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  resume(): unknown;
}

/** What readSignals needs of a fetch `Request`. */
export interface FetchRequestLike {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
  body: { getReader(): any } | null;
  text(): Promise<string>;
}

export declare function readSignals(
  req: NodeRequestLike | FetchRequestLike,
  options?: ReadSignalsOptions,
): Promise<Record<string, unknown>>;

/** Event text builders used by `sse()`, for framing into other transports. */
export declare function formatPatchElements(html: string | { toString(): string } | null | undefined, options?: PatchElementsOptions): string;
export declare function formatPatchSignals(signals: object | string, options?: PatchSignalsOptions): string;
export declare function formatExecuteScript(code: string, options?: ExecuteScriptOptions): string;
export declare function formatComment(text?: string): string;
/** The merge patch `removeSignals` sends. */
export declare function removalPatch(paths: string | readonly string[]): Record<string, unknown>;
