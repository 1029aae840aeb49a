// config.js - the sync server's settings from command-line flags and
// environment variables, one table for both (and for `--help` and the docs).
//
// Precedence: flag > environment variable > default. Values are checked and
// converted here (sizes like `1mb`, durations like `10s`), so the server
// never starts half-configured: a bad value is a ConfigError naming the flag
// and the variable.

export class ConfigError extends Error {
  constructor(message) { super(message); this.name = 'ConfigError'; }
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'];

/** Every setting: key in the result, flag, environment variables (first set
 * wins), type, default, one line of help. */
export const OPTIONS = [
  { key: 'port', flag: '--port', env: ['PORT', 'NITRO_PORT'], type: 'port', default: 8787, help: 'TCP port (0 picks a free one)' },
  { key: 'host', flag: '--host', env: ['HOST', 'NITRO_HOST'], type: 'string', default: '127.0.0.1', help: 'interface to listen on (0.0.0.0 in containers)' },
  { key: 'db', flag: '--db', env: ['DATABASE_URL', 'NITRO_DB'], type: 'string', default: './nitro.db', help: 'SQLite file path, or postgres://user:pass@host:5432/db' },
  { key: 'secret', flag: '--secret', env: ['NITRO_SECRET'], type: 'string', default: null, secret: true, help: 'token signing secret (prefer the variable: flags show in `ps`)' },
  { key: 'jwksUrl', flag: '--jwks-url', env: ['NITRO_JWKS_URL'], type: 'string', default: null, help: "accept an identity provider's JWTs: its JWKS URL (instead of the secret)" },
  { key: 'issuer', flag: '--jwt-issuer', env: ['NITRO_JWT_ISSUER'], type: 'string', default: null, help: 'required `iss` of tokens' },
  { key: 'audience', flag: '--jwt-audience', env: ['NITRO_JWT_AUDIENCE'], type: 'string', default: null, help: 'required `aud` of tokens' },
  { key: 'schema', flag: '--schema', env: ['NITRO_SCHEMA'], type: 'string', default: null, help: 'module whose default export maps entity names to definitions' },
  { key: 'base', flag: '--base', env: ['NITRO_BASE'], type: 'string', default: '/sync', help: 'path prefix of the sync routes' },
  { key: 'cors', flag: '--cors', env: ['NITRO_CORS'], type: 'string', bare: '*', default: null, help: 'allowed browser origin (`--cors` alone: any)' },
  { key: 'logLevel', flag: '--log-level', env: ['LOG_LEVEL', 'NITRO_LOG_LEVEL'], type: 'enum', values: LOG_LEVELS, default: 'info', help: 'debug | info | warn | error | silent' },
  { key: 'maxBody', flag: '--max-body', env: ['NITRO_MAX_BODY'], type: 'bytes', default: 1024 * 1024, help: 'largest request body (e.g. 512kb, 1mb)' },
  { key: 'maxBatch', flag: '--max-batch', env: ['NITRO_MAX_BATCH'], type: 'int', min: 1, default: 1000, help: 'most mutations in one push' },
  { key: 'authLimit', flag: '--auth-limit', env: ['NITRO_AUTH_LIMIT'], type: 'int', min: 0, default: 30, help: 'failed authentications per client address before 429 (0: no limit)' },
  { key: 'authWindow', flag: '--auth-window', env: ['NITRO_AUTH_WINDOW'], type: 'duration', default: 60_000, help: 'time in which an address earns back all --auth-limit attempts' },
  { key: 'poolSize', flag: '--pool-size', env: ['NITRO_POOL_SIZE'], type: 'int', min: 1, default: 10, help: 'PostgreSQL connections per instance' },
  { key: 'shutdownTimeout', flag: '--shutdown-timeout', env: ['NITRO_SHUTDOWN_TIMEOUT'], type: 'duration', default: 10_000, help: 'how long SIGTERM waits for in-flight requests (e.g. 10s)' },
  { key: 'sseRetry', flag: '--sse-retry', env: ['NITRO_SSE_RETRY'], type: 'duration', default: 1000, help: 'reconnect delay sent to live clients on shutdown' },
  { key: 'exitWithStdin', flag: '--exit-with-stdin', env: [], type: 'bool', default: false, help: 'shut down when stdin closes (a parent process supervises)' },
];

const UNITS = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };
const TIME = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function convert(opt, raw, where) {
  const bad = (why) => new ConfigError(`${where}: ${why} (got ${JSON.stringify(raw)})`);
  const s = String(raw).trim();
  switch (opt.type) {
    case 'string':
      if (s === '') throw bad('must not be empty');
      return s;
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(s)) return true;
      if (/^(0|false|no|off)$/i.test(s)) return false;
      throw bad('must be true or false');
    case 'enum':
      if (!opt.values.includes(s.toLowerCase())) throw bad(`must be one of ${opt.values.join(', ')}`);
      return s.toLowerCase();
    case 'port': {
      if (!/^\d+$/.test(s) || Number(s) > 65535) throw bad('must be a port number 0-65535');
      return Number(s);
    }
    case 'int': {
      if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw bad('must be a whole number');
      const n = Number(s);
      if (opt.min != null && n < opt.min) throw bad(`must be at least ${opt.min}`);
      return n;
    }
    case 'bytes': {
      const m = /^(\d+(?:\.\d+)?)\s*([kmg]?b?)?$/i.exec(s);
      if (!m) throw bad('must be a size like 65536, 512kb or 1mb');
      const n = Math.floor(Number(m[1]) * UNITS[(m[2] || 'b').toLowerCase()]);
      if (n < 1) throw bad('must be at least 1 byte');
      return n;
    }
    case 'duration': {
      const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(s);
      if (!m) throw bad('must be a duration like 500ms, 10s or 1m');
      return Math.round(Number(m[1]) * TIME[(m[2] || 'ms').toLowerCase()]);
    }
    default:
      throw new Error(`unknown option type ${opt.type}`);
  }
}

/**
 * Parses flags and environment.
 * @param {string[]} [argv] arguments after the command (e.g. after `serve`)
 * @param {Record<string, string|undefined>} [env]
 * @returns {{ config: object, rest: string[], help: boolean }} `rest` holds
 *   positional arguments; `help` is true when --help/-h was given.
 */
export function parseConfig(argv = process.argv.slice(2), env = process.env) {
  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  const fromFlags = {};
  const rest = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') { help = true; continue; }
    if (arg === '--') { rest.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('--')) { rest.push(arg); continue; }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const opt = byFlag.get(name);
    if (!opt) throw new ConfigError(`unknown flag ${name} (try --help)`);
    let value;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (opt.type === 'bool') value = 'true';
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
    else if (opt.bare !== undefined) value = opt.bare;
    else throw new ConfigError(`${name} needs a value`);
    fromFlags[opt.key] = convert(opt, value, name);
  }

  const config = {};
  for (const opt of OPTIONS) {
    if (opt.key in fromFlags) { config[opt.key] = fromFlags[opt.key]; continue; }
    const name = opt.env.find((e) => env[e] != null && env[e] !== '');
    config[opt.key] = name ? convert(opt, env[name], `$${name}`) : opt.default;
  }
  config.backend = backendOf(config.db);
  return { config, rest, help };
}

/** 'postgres' for postgres:// and postgresql:// URLs, 'memory' for memory:,
 * else 'sqlite' (storage/index.js opens them by scheme). */
export function backendOf(db) {
  const s = String(db || '');
  if (/^postgres(ql)?:\/\//i.test(s)) return 'postgres';
  return /^memory:/i.test(s) ? 'memory' : 'sqlite';
}

/** The config with secrets and database passwords masked, for logs. */
export function redactConfig(config) {
  const out = { ...config };
  for (const opt of OPTIONS) if (opt.secret && out[opt.key] != null) out[opt.key] = '***';
  if (typeof out.db === 'string' && backendOf(out.db) === 'postgres') {
    try {
      const u = new URL(out.db);
      if (u.password) u.password = '***';
      out.db = u.toString();
    } catch { out.db = 'postgres://***'; }
  }
  return out;
}

/** `--help` text generated from OPTIONS. */
export function usage(command = 'nitro-wasm serve') {
  const lines = [`Usage: ${command} [flags]`, '', 'Flags (environment variable in brackets; flags win):'];
  for (const o of OPTIONS) {
    const def = o.default == null || o.type === 'bool' ? '' : ` (default ${o.type === 'bytes' ? `${o.default} bytes` : o.type === 'duration' ? `${o.default}ms` : o.default})`;
    const env = o.env.length ? `[${o.env.join(', ')}] ` : '';
    lines.push(`  ${o.flag.padEnd(20)} ${env}${o.help}${def}`);
  }
  return lines.join('\n');
}
