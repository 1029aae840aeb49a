import type { IncomingMessage, ServerResponse, Server } from 'node:http';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LEVELS: Record<LogLevel, number>;

export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** One JSON object per line: `{ time, level, msg, ...fields }`. */
export function createLogger(opts?: {
  level?: LogLevel;
  stream?: { write(s: string): unknown };
  fields?: Record<string, unknown>;
  clock?: () => Date;
}): Logger;

/** Logs each answered request (method, path without query, status, ms). */
export function logRequests(server: Server, logger: Logger): void;

export interface Health {
  ready(): Promise<{ status: number; body: { status: string; error?: string } }>;
  /** Answers GET/HEAD /health (liveness) and /ready (readiness); true when it did. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}
export function createHealth(opts?: {
  check?: () => unknown;
  isDraining?: () => boolean;
  timeoutMs?: number;
}): Health;

export interface Shutdown {
  readonly draining: boolean;
  readonly inFlight: number;
  readonly streams: number;
  /** Watches an http.Server's requests (when not given as `server`). */
  attach(server: Server): Shutdown;
  /** Runs fn during shutdown after in-flight requests finished. */
  addCloseHook(fn: () => unknown): Shutdown;
  trackStream(res: ServerResponse): void;
  rejectIfDraining(req: IncomingMessage, res: ServerResponse): boolean;
  shutdown(reason?: string): Promise<{ clean: boolean }>;
  install(opts?: { signals?: NodeJS.Signals[]; exit?: (code: number) => void }): Shutdown;
}
export function createShutdown(opts: {
  server?: Server;
  logger?: Logger;
  timeoutMs?: number;
  retryMs?: number;
  onClose?: Array<() => unknown>;
}): Shutdown;
