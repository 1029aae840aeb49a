export class ConfigError extends Error {}

export interface ServerConfig {
  port: number;
  host: string;
  /** Storage URL: a SQLite file path, sqlite:, memory: or postgres:// (storage/index.js). */
  db: string;
  backend: 'sqlite' | 'postgres' | 'memory';
  secret: string | null;
  /** An identity provider's JWKS URL: its tokens are accepted instead of the secret's. */
  jwksUrl: string | null;
  /** Required `iss` of tokens. */
  issuer: string | null;
  /** Required `aud` of tokens. */
  audience: string | null;
  schema: string | null;
  /** path prefix of the routes, default '/sync' */
  base: string;
  /** allowed origin ('*' = any), or null for no CORS headers */
  cors: string | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** bytes */
  maxBody: number;
  maxBatch: number;
  poolSize: number;
  /** ms */
  shutdownTimeout: number;
  /** ms */
  sseRetry: number;
  exitWithStdin: boolean;
}

export interface OptionSpec {
  key: keyof ServerConfig;
  flag: string;
  env: string[];
  type: 'string' | 'enum' | 'port' | 'int' | 'bytes' | 'duration' | 'bool';
  default: unknown;
  help: string;
  values?: string[];
  min?: number;
  secret?: boolean;
  /** value of the flag given without one */
  bare?: string;
}

export const OPTIONS: OptionSpec[];

/** Flags win over environment variables, which win over defaults. Throws ConfigError. */
export function parseConfig(
  argv?: string[],
  env?: Record<string, string | undefined>,
): { config: ServerConfig; rest: string[]; help: boolean };

export function backendOf(db: string | null | undefined): 'sqlite' | 'postgres';
export function redactConfig(config: ServerConfig): ServerConfig;
export function usage(command?: string): string;
